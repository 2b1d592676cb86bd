//! Resources (`type:id`) and the parameters that scope a question or a membership to one.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `?resource=type:id`: scopes a membership write or read to a resource, or asks a question at one (global
/// memberships and those scoped to the resource or any of its ancestors count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// A resource as `type:id`, e.g. `document:42`.
    #[param(
        pattern = "^[A-Za-z0-9_.@+|-]{1,128}:[A-Za-z0-9_.:@+|-]{1,128}$",
        example = "folder:7"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// `?type=` on `GET /api/user_resources/{user}/{permission}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceTypeQuery {
    /// The resource type to list (required), e.g. `document`.
    #[param(pattern = "^[A-Za-z0-9_.@+|-]{1,128}$", example = "document")]
    #[serde(rename = "type")]
    pub kind: String,
}

/// The optional body of `PUT /api/resources/{type}/{id}`. A PUT states the resource whole: a field left out is
/// cleared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    /// The parent resource (`type:id`, which must exist); absent or `null` for a root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = "^[A-Za-z0-9_.@+|-]{1,128}:[A-Za-z0-9_.:@+|-]{1,128}$",
        example = "folder:7"
    )]
    pub parent: Option<String>,
    /// Any JSON object of at most 16 KiB (as compact JSON), kept with the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A resource as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceView {
    /// `type:id`.
    pub resource: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// The parent (`type:id`), or `null` for a root.
    pub parent: Option<String>,
    /// The properties object (`{}` when none were given).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A resource write's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResourceWritten {
    /// Whether this call created the resource (`false`: it existed and now holds what was sent).
    pub created: bool,
    /// Whether this call changed anything.
    pub changed: bool,
    /// The tenant's revision after the write.
    pub revision: i64,
}

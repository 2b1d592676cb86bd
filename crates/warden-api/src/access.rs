//! `POST /api/access/check` (the seed's `user_access_check`) and the request history it records.

use serde::{Deserialize, Serialize};

use crate::numbers::whole;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// A chat or message id: text or, as Telegram sends it, a number; both are recorded as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TextOrNumber {
    /// At most 255 characters, without control characters.
    Text(String),
    /// Any integer.
    Number(i64),
}

impl<'de> Deserialize<'de> for TextOrNumber {
    /// Text, or a whole number (JSON Schema counts `42.0` as the integer 42).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Ok(Self::Text(text)),
            serde_json::Value::Number(number) => {
                whole(&number).map(Self::Number).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "expected text or a whole number, found {number}"
                    ))
                })
            }
            other => Err(serde::de::Error::custom(format!(
                "expected text or a whole number, found {other}"
            ))),
        }
    }
}

impl utoipa::PartialSchema for TextOrNumber {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[^\\x00-\\x1F\\x7F-\\x9F]{0,255}$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            )
            .into()
    }
}

impl ToSchema for TextOrNumber {}

/// The schema of `user_id`: a user name or, as Telegram bots send it, an integer (its decimal text is the name).
#[derive(Debug)]
pub struct UserIdSchema;

impl utoipa::PartialSchema for UserIdSchema {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(crate::Name::schema())
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            )
            .into()
    }
}

impl ToSchema for UserIdSchema {}

impl TextOrNumber {
    /// The id as it is recorded.
    pub fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(n) => n.to_string(),
        }
    }
}

impl From<String> for TextOrNumber {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for TextOrNumber {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl Default for TextOrNumber {
    /// Empty text.
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl From<i64> for TextOrNumber {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

/// The body of `POST /api/access/check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// The user asking: a name, or an integer whose decimal text is the name.
    #[schema(value_type = UserIdSchema)]
    pub user_id: TextOrNumber,
    /// With a role, `permissions` says whether the user is a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::Name>)]
    pub role_id: Option<String>,
    /// Free text, recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<TextOrNumber>,
    /// Free text, recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<TextOrNumber>,
}

impl AccessRequest {
    /// A check of `user` without a role.
    pub fn user(user: impl Into<String>) -> Self {
        Self {
            user_id: TextOrNumber::Text(user.into()),
            ..Self::default()
        }
    }
}

/// `allowed` or `denied`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Access (or membership) allowed.
    Allowed,
    /// Access (or membership) denied.
    Denied,
}

impl Verdict {
    /// `Allowed` when `allowed`.
    pub fn from_allowed(allowed: bool) -> Self {
        if allowed {
            Self::Allowed
        } else {
            Self::Denied
        }
    }
}

/// The answer of an access check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessDecision {
    /// Whether access is allowed.
    pub access: Verdict,
    /// With a role: `allowed` when access is allowed and the user is in the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Verdict>,
    /// The end of the quota limit in force, if one is (RFC 3339).
    #[serde(default)]
    pub rate_limits: Option<String>,
}

impl AccessDecision {
    /// Whether access is allowed.
    pub fn is_allowed(&self) -> bool {
        self.access == Verdict::Allowed
    }
}

/// One recorded access check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessRecord {
    /// The record's id.
    pub id: i64,
    /// As sent.
    pub chat_id: Option<String>,
    /// As sent.
    pub message_id: Option<String>,
    /// As sent.
    pub role_id: Option<String>,
    /// The outcome.
    pub access: Verdict,
    /// The role outcome, if a role was asked about.
    pub permissions: Option<Verdict>,
    /// The limit in force, if any.
    pub rate_limits: Option<String>,
    /// When.
    pub created_at: String,
}

/// The order of a request-history listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first (the default).
    #[default]
    Desc,
}

/// `?limit=&cursor=&order=` on `GET /api/users/{user}/requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestsQuery {
    /// 1 to 500; 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, listed in the same order.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// `desc` (newest first, the default) or `asc` (oldest first), as users-package's `get_user_requests` takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub order: Option<Order>,
}

/// `GET /api/users/{user}/requests/counters`: users-package's `get_user_request_counters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestCounters {
    /// Access checks recorded in the last hour.
    pub requests_per_hour: i64,
    /// Access checks recorded in the last 24 hours.
    pub requests_per_day: i64,
}

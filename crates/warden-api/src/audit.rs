//! `GET /api/audit`: the caller's own audit entries, newest first.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Filters and paging of `GET /api/audit`; each is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1 to 500; 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Only this action, e.g. `role.create`.
    #[param(pattern = "^[a-z._]{1,64}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    #[param(format = DateTime)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// One audit entry: the chain links each entry to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Its place in the tenant's chain.
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// E.g. `role.create`.
    pub action: String,
    /// What it acted on.
    pub target: String,
    /// The outcome.
    pub outcome: String,
    /// The request's id.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The caller's address.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// The caller's user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

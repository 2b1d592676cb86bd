//! The answers of `/ping`, `/livez`, `/readyz` and `/health`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"status": "ok", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` while healthy.
    pub status: String,
    /// `/readyz` only: `sqlite` or `postgresql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// `/readyz` with Vault only: `ok`, `unreachable` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
}

/// The answer of `/health`, the seed's probe: the envelope with the seed's top-level `status` beside it, so that a
/// probe written for the seed (`{"status": "healthy"}`, 200 or 503) and one written for the envelope both read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthCheck {
    /// Whether the service is healthy.
    pub success: bool,
    /// The HTTP status, repeated: 200 or 503.
    pub code: u16,
    pub message: String,
    /// `healthy` or `unhealthy`, as the seed answers.
    pub status: String,
    /// When healthy: `status` again and the backend's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Health>,
    /// When unhealthy: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339 UTC with microseconds.
    pub timestamp: String,
}

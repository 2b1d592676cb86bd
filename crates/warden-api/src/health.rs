//! The answer of `/ping`, `/livez` and `/readyz`.

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

//! Activation: `POST /api/users/{user}/activation` issues a one-time code, `POST /api/users/{user}/activate` uses it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::numbers::optional_whole;

/// The optional body of `POST /api/users/{user}/activation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TtlMinutes {
    /// How long the code lives: 1 to 43 200 minutes (30 days); 1440 when absent.
    #[serde(
        default,
        deserialize_with = "optional_whole",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1, maximum = 43_200)]
    pub ttl_minutes: Option<i64>,
}

/// The body of `POST /api/users/{user}/activate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationCode {
    /// The code as issued; a wrong, expired or used code is the same 400.
    pub code: String,
}

/// A one-time activation code, shown only once, and when it expires (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CodeIssued {
    pub code: String,
    pub expires_at: String,
}

/// The answer of a successful activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Activated {
    pub activated_at: String,
}

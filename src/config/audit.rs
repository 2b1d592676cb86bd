//! Audit and in-memory model settings.
//!
//! Variables:
//! - `AUTH_ENABLE_AUDIT_LOGGING` (true): write an audit entry for every change, in the change's transaction.
//! - `AUTH_ENABLE_DECISION_LOGGING` (false): also record every check decision and every refused credential,
//!   written in batches off the request path (a full queue drops decisions rather than slowing checks).
//! - `AUTH_MODEL_MEMORY_MB` (512): memory budget of the in-memory tenant models; idle tenants beyond it are
//!   evicted and reloaded on their next request.

use super::{parse_bool, parse_number, ConfigError};

#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub changes: bool,
    pub decisions: bool,
}

#[derive(Debug, Clone)]
pub struct ModelSettings {
    pub memory_budget_bytes: u64,
}

pub(super) fn audit_from(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<AuditSettings, ConfigError> {
    Ok(AuditSettings {
        changes: parse_bool(get, "AUTH_ENABLE_AUDIT_LOGGING", true)?,
        decisions: parse_bool(get, "AUTH_ENABLE_DECISION_LOGGING", false)?,
    })
}

pub(super) fn model_from(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<ModelSettings, ConfigError> {
    let megabytes = parse_number(get, "AUTH_MODEL_MEMORY_MB", 512, 1, 1 << 20)?;
    Ok(ModelSettings {
        memory_budget_bytes: megabytes * 1024 * 1024,
    })
}

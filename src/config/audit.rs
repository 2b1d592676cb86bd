//! Audit and in-memory model settings.
//!
//! Variables:
//! - `AUTH_ENABLE_AUDIT_LOGGING` (true): write an audit entry for every change, in the change's transaction.
//! - `AUTH_ENABLE_DECISION_LOGGING` (false): also record every check decision and every refused credential,
//!   written in batches off the request path (a full queue drops decisions rather than slowing checks).
//! - `AUTH_MODEL_MEMORY_MB` (512): memory budget of the in-memory tenant models (each loaded tenant counts a fixed
//!   overhead plus its model, growth included); the least recently used beyond it are evicted and reloaded on
//!   their next request.
//! - `AUTH_MAX_ROLES_PER_TENANT` (50 000), `AUTH_MAX_GRANTS_PER_TENANT` (1 000 000),
//!   `AUTH_MAX_MEMBERSHIPS_PER_TENANT` (5 000 000): per-tenant row quotas; a write that would add a row beyond
//!   one is refused (409) and writes nothing.

use super::{parse_bool, parse_number, ConfigError};

#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub changes: bool,
    pub decisions: bool,
}

#[derive(Debug, Clone)]
pub struct ModelSettings {
    pub memory_budget_bytes: u64,
    pub quotas: TenantQuotas,
}

/// The most rows of each kind one tenant may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantQuotas {
    pub roles: usize,
    pub grants: usize,
    pub memberships: usize,
    pub resources: usize,
}

impl Default for TenantQuotas {
    /// Generous: the large benchmark dataset (10 000 roles, 110 000 grants, 1 000 000 memberships in one tenant)
    /// fits with room to spare.
    fn default() -> Self {
        Self {
            roles: 50_000,
            grants: 1_000_000,
            memberships: 5_000_000,
            resources: 5_000_000,
        }
    }
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
    let defaults = TenantQuotas::default();
    let quota = |var, default: usize| -> Result<usize, ConfigError> {
        Ok(parse_number(get, var, default as u64, 1, 1 << 40)? as usize)
    };
    Ok(ModelSettings {
        memory_budget_bytes: megabytes * 1024 * 1024,
        quotas: TenantQuotas {
            roles: quota("AUTH_MAX_ROLES_PER_TENANT", defaults.roles)?,
            grants: quota("AUTH_MAX_GRANTS_PER_TENANT", defaults.grants)?,
            memberships: quota("AUTH_MAX_MEMBERSHIPS_PER_TENANT", defaults.memberships)?,
            resources: quota("AUTH_MAX_RESOURCES_PER_TENANT", defaults.resources)?,
        },
    })
}

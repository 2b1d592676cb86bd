//! Who may be a tenant.
//!
//! Variables:
//! - `AUTH_TENANT_MODE`: `open` (default: any version-4 UUID is its own tenant, as in the seed) or `registered`
//!   (only keys made with `warden tenant create` and not revoked with `warden tenant revoke` are accepted; the
//!   check is one primary-key read per request, so a revoke takes effect on every instance at once).

use super::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TenantMode {
    #[default]
    Open,
    Registered,
}

pub(super) fn tenant_mode(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<TenantMode, ConfigError> {
    match get("AUTH_TENANT_MODE")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("open") => Ok(TenantMode::Open),
        Some("registered") => Ok(TenantMode::Registered),
        Some(other) => Err(super::invalid(
            "AUTH_TENANT_MODE",
            format!("expected `open` or `registered`, got `{other}`"),
        )),
    }
}

//! Protective limits beyond the server basics.
//!
//! Variables:
//! - `AUTH_RATE_LIMIT_PER_SECOND`: when set (a whole number ≥ 1), each tenant may make at most this many `/api`
//!   requests per one-second window; more are answered 429 with `Retry-After`. For a tenant with data the count
//!   lives in the database, so it holds across every instance sharing it; a tenant without data is counted in
//!   memory, per instance. Unset (the default): no limit.

use super::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
}

pub(super) fn rate_limit(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<RateLimit>, ConfigError> {
    if get("AUTH_RATE_LIMIT_PER_SECOND").is_none() {
        return Ok(None);
    }
    let per_second = super::parse_number(get, "AUTH_RATE_LIMIT_PER_SECOND", 0, 1, 1_000_000)?;
    Ok(Some(RateLimit {
        per_second: per_second as u32,
    }))
}

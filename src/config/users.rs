//! Settings for users, access checks, tokens and sessions.
//!
//! Variables:
//! - `AUTH_REQUEST_HISTORY_RETENTION_DAYS` (30, 1–3650): access-check history older than this is pruned by the
//!   background maintenance task. It must cover the longest quota window (24 h), so the minimum is one day.
//! - `AUTH_MAINTENANCE_INTERVAL_SECONDS` (60, 1–86400): how often the background task removes expired sessions,
//!   expired tokens and activation codes, history past its retention, finished refresh families and tokens, past
//!   rate windows and idle tenants' key rows (see `service::maintenance`).

use std::time::Duration;

use super::{parse_number, ConfigError};

#[derive(Debug, Clone)]
pub struct UsersSettings {
    pub request_history_retention: Duration,
    pub maintenance_interval: Duration,
}

impl UsersSettings {
    pub(super) fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let days = parse_number(get, "AUTH_REQUEST_HISTORY_RETENTION_DAYS", 30, 1, 3650)?;
        let interval = parse_number(get, "AUTH_MAINTENANCE_INTERVAL_SECONDS", 60, 1, 86_400)?;
        Ok(Self {
            request_history_retention: Duration::from_secs(days * 86_400),
            maintenance_interval: Duration::from_secs(interval),
        })
    }
}

impl Default for UsersSettings {
    fn default() -> Self {
        Self {
            request_history_retention: Duration::from_secs(30 * 86_400),
            maintenance_interval: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let s = UsersSettings::from_lookup(&|_: &str| None).unwrap();
        assert_eq!(
            s.request_history_retention,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(s.maintenance_interval, Duration::from_secs(60));
        let err = UsersSettings::from_lookup(&|name: &str| {
            (name == "AUTH_REQUEST_HISTORY_RETENTION_DAYS").then(|| "0".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("AUTH_REQUEST_HISTORY_RETENTION_DAYS"),
            "{err}"
        );
    }
}

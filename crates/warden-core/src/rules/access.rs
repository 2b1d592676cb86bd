//! The rules of an access check with quotas (seed 000): who gets access, and when a request limit starts.

use crate::domain::UserStatus;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// What the rules need to know to answer an access check, read inside its transaction.
#[derive(Debug, Clone)]
pub struct AccessFacts {
    pub status: UserStatus,
    pub enabled: bool,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
    /// The user's recorded checks in the last hour and the last 24 hours, not counting this one.
    pub last_hour: i64,
    pub last_day: i64,
    /// The end of the limit in force, if one is.
    pub active_limit: Option<i64>,
    /// Whether the user is a member of the requested role (`None` when no role was asked about).
    pub is_member: Option<bool>,
}

/// The rate-limit part of an access check's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    None,
    /// The limit already in force; nothing to write.
    Active(i64),
    /// Start a limit ending at this time (only if none is in force when the write happens).
    Start(i64),
}

/// The rules' answer to an access check.
#[derive(Debug, Clone, Copy)]
pub struct AccessDecision {
    pub access: bool,
    pub permissions: Option<bool>,
    pub rate_limit: RateLimit,
}

/// The recorded outcome: the decision with the limit end that is actually in force.
#[derive(Debug, Clone, Copy)]
pub struct AccessOutcome {
    pub access: bool,
    pub permissions: Option<bool>,
    pub rate_limited_until: Option<i64>,
}

/// The quota rules of an access check. Access is allowed only to an `allowed`, enabled user; the role
/// permission only to a member. For an allowed user: a limit in force is reported unchanged; otherwise a full day
/// window starts a 24 h limit, else a full hour window a 1 h limit plus a random shift of 1..=shift minutes.
pub fn decide(facts: &AccessFacts, now: i64, shift_ms: impl FnOnce(i64) -> i64) -> AccessDecision {
    let access = facts.status == UserStatus::Allowed && facts.enabled;
    let permissions = facts.is_member.map(|member| access && member);
    let rate_limit = if !access {
        RateLimit::None
    } else if let Some(end) = facts.active_limit {
        RateLimit::Active(end)
    } else if facts.requests_per_day.is_some_and(|n| facts.last_day >= n) {
        RateLimit::Start(now + DAY_MS)
    } else if facts
        .requests_per_hour
        .is_some_and(|n| facts.last_hour >= n)
    {
        RateLimit::Start(now + HOUR_MS + shift_ms(facts.random_shift_minutes))
    } else {
        RateLimit::None
    };
    AccessDecision {
        access,
        permissions,
        rate_limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(hour: i64, day: i64) -> AccessFacts {
        AccessFacts {
            status: UserStatus::Allowed,
            enabled: true,
            requests_per_hour: Some(3),
            requests_per_day: Some(10),
            random_shift_minutes: 5,
            last_hour: hour,
            last_day: day,
            active_limit: None,
            is_member: None,
        }
    }

    #[test]
    fn quota_boundaries_day_wins_and_active_limits_stay() {
        let now = 1_000_000;
        assert_eq!(decide(&facts(2, 2), now, |_| 0).rate_limit, RateLimit::None);
        assert_eq!(
            decide(&facts(3, 3), now, |m| m * MINUTE_MS).rate_limit,
            RateLimit::Start(now + HOUR_MS + 5 * MINUTE_MS)
        );
        assert_eq!(
            decide(&facts(3, 10), now, |_| 0).rate_limit,
            RateLimit::Start(now + DAY_MS)
        );
        let mut active = facts(9, 10);
        active.active_limit = Some(now + 5);
        assert_eq!(
            decide(&active, now, |_| 0).rate_limit,
            RateLimit::Active(now + 5)
        );
    }

    #[test]
    fn only_exactly_allowed_enabled_users_get_access() {
        let mut f = facts(0, 0);
        f.is_member = Some(true);
        assert!(decide(&f, 0, |_| 0).access);
        for status in ["Allowed", "allowed ", "not allowed", "denied"] {
            f.status = UserStatus::from_stored(status);
            let d = decide(&f, 0, |_| 0);
            assert!(!d.access && d.permissions == Some(false), "{status}");
        }
        f.status = UserStatus::Allowed;
        f.enabled = false;
        assert!(!decide(&f, 0, |_| 0).access);
        assert!(UserStatus::parse("allowed ").is_none() && UserStatus::parse("xallowed").is_none());
    }
}

//! Optional password credentials (websauna accounts): Argon2id PHC strings, set with `PUT …/password` and used
//! by `POST …/login`.
//!
//! A login does the same work whatever is wrong: an unknown user, a user without a password and a wrong password
//! all verify against an Argon2id hash (a fixed dummy one when there is none) and get the same
//! [`UsersError::InvalidCredentials`]. Repeated failures back off per (tenant, user name), known or not, so the
//! back-off tells nothing about who exists either. Hashing runs off the async workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::*;

/// The shortest and longest password accepted by `PUT …/password`, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Failures allowed before the back-off starts; each further failure doubles the wait, up to the longest.
const FREE_FAILURES: u32 = 5;
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// Failure records idle this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// Recent login failures per (tenant, user name), on this instance.
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<(TenantId, String), Failures>>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantId, String), Failures>> {
        // Plain counters: one left by a panicking holder is still usable.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long the user must still wait before a login is tried, if at all.
    fn wait(&self, tenant: &TenantId, user: &Name) -> Option<Duration> {
        let key = (tenant.clone(), user.as_str().to_owned());
        let until = self.lock().get(&key)?.blocked_until?;
        until.checked_duration_since(Instant::now())
    }

    fn failed(&self, tenant: &TenantId, user: &Name) {
        let now = Instant::now();
        let mut failures = self.lock();
        failures.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        let entry = failures
            .entry((tenant.clone(), user.as_str().to_owned()))
            .or_insert(Failures {
                count: 0,
                last: now,
                blocked_until: None,
            });
        entry.count += 1;
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(20);
            let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT);
            entry.blocked_until = Some(now + wait);
        }
    }

    fn succeeded(&self, tenant: &TenantId, user: &Name) {
        self.lock()
            .remove(&(tenant.clone(), user.as_str().to_owned()));
    }
}

/// A hash to verify against when the user has none, so that every failed login costs one Argon2id verification.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("warden-dummy-password").unwrap_or_default())
}

fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Runs Argon2 work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UsersError> {
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        UsersError::Service(ServiceError::Internal(anyhow::anyhow!(
            "password hashing: {err}"
        )))
    })
}

impl UsersService {
    /// Sets the user's password (8 to 1024 characters): a sensitive change that voids the user's tokens, sessions
    /// and JWTs. Returns the time of the change.
    pub async fn set_password(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        password: String,
    ) -> Result<i64, UsersError> {
        let chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            return Err(invalid(format!(
                "`password` must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
            )));
        }
        let phc = blocking(move || hash_password(&password))
            .await?
            .map_err(|err| {
                UsersError::Service(ServiceError::Internal(anyhow::anyhow!(
                    "password hashing: {err}"
                )))
            })?;
        let now = now_millis();
        let audit = self.user_draft(actions::USER_PASSWORD, tenant, user, context);
        if self
            .store
            .set_password(tenant, user, Some(&phc), now, audit)
            .await?
        {
            Ok(now)
        } else {
            Err(UsersError::UserNotFound(user.clone()))
        }
    }

    /// Checks a login: the password matches and the user is allowed, enabled and, when the tenant requires it,
    /// activated. Records the login (time and client address). Every failure of the password (or an unknown
    /// user) is [`UsersError::InvalidCredentials`] after one Argon2id verification; a user backing off gets
    /// [`UsersError::LoginBackoff`] without any.
    pub async fn login(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        password: String,
    ) -> Result<(), UsersError> {
        if let Some(wait) = self.logins.wait(tenant, user) {
            return Err(UsersError::LoginBackoff(wait));
        }
        let facts = self.store.login_facts(tenant, user).await?;
        let phc = facts
            .as_ref()
            .and_then(|f| f.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let has_password = facts.as_ref().is_some_and(|f| f.password_hash.is_some());
        let matched = blocking(move || verify_password(&password, &phc)).await? && has_password;
        let target = || self.audit.user_target(tenant, user.as_str());
        let Some(facts) = facts.filter(|_| matched) else {
            self.logins.failed(tenant, user);
            self.audit
                .decision(tenant, actions::USER_LOGIN, target, false, context);
            return Err(UsersError::InvalidCredentials);
        };
        self.logins.succeeded(tenant, user);
        if !(facts.status == UserStatus::Allowed && facts.enabled) {
            self.audit
                .decision(tenant, actions::USER_LOGIN, target, false, context);
            return Err(UsersError::UserNotAllowed(user.clone()));
        }
        if facts.activated_at.is_none()
            && self.store.tenant_settings(tenant).await?.require_activation
        {
            self.audit
                .decision(tenant, actions::USER_LOGIN, target, false, context);
            return Err(UsersError::NotActivated(user.clone()));
        }
        let audit = self.user_draft(actions::USER_LOGIN, tenant, user, context);
        self.store
            .record_login(
                tenant,
                user,
                context.client_ip.as_deref(),
                now_millis(),
                audit,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify_only_their_password() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsE", &phc));
        assert!(!verify_password("correct horse", "not a phc string"));
        assert_ne!(phc, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn the_back_off_starts_after_five_failures_and_doubles() {
        let throttle = LoginThrottle::default();
        let tenant = TenantId::from_stored("ab".repeat(32));
        let user = Name::parse(warden_core::domain::NameKind::User, "ann").unwrap();
        for _ in 0..4 {
            throttle.failed(&tenant, &user);
        }
        assert_eq!(throttle.wait(&tenant, &user), None);
        throttle.failed(&tenant, &user);
        let first = throttle.wait(&tenant, &user).unwrap();
        assert!(first <= FIRST_WAIT && first > FIRST_WAIT / 2, "{first:?}");
        throttle.failed(&tenant, &user);
        assert!(throttle.wait(&tenant, &user).unwrap() > FIRST_WAIT);
        let other = Name::parse(warden_core::domain::NameKind::User, "bob").unwrap();
        assert_eq!(throttle.wait(&tenant, &other), None, "per user");
        throttle.succeeded(&tenant, &user);
        assert_eq!(throttle.wait(&tenant, &user), None);
    }
}

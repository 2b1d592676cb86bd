//! Changing PostgreSQL credentials under a running pool, for credentials that rotate (Vault's dynamic ones).
//!
//! [`Store::connect_rotating`] opens the pool with two hooks: a connection opened before the latest
//! [`CredentialRotator::set_credentials`] (plus a short grace for connects that were already under way) is
//! closed when it is returned to the pool and never handed out again. New connections use the new credentials
//! (`Pool::set_connect_options`); a request that holds a connection keeps it until it is done, so a rotation
//! fails no request, and no connection outlives the credentials it was opened with for long.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{Backend, DatabaseSettings, DatabaseUrl};
use super::{Store, StoreError};

/// Connections opened within this long after a rotation may still have started with the old credentials.
const CONNECT_GRACE: Duration = Duration::from_secs(1);

/// Swaps the credentials of a rotating pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct CredentialRotator {
    pool: PgPool,
    epoch: Arc<Epoch>,
}

/// When the credentials last changed, as milliseconds after `base` (0: never).
#[derive(Debug)]
struct Epoch {
    base: Instant,
    rotated_at_ms: AtomicU64,
}

impl Epoch {
    /// True when a connection of this age was opened before the latest rotation (plus the grace).
    fn is_stale(&self, meta: &PoolConnectionMetadata) -> bool {
        let rotated = self.rotated_at_ms.load(Ordering::Acquire);
        if rotated == 0 {
            return false;
        }
        let opened = self.base.elapsed().saturating_sub(meta.age);
        opened < Duration::from_millis(rotated) + CONNECT_GRACE
    }
}

impl Store {
    /// Opens a PostgreSQL store that logs in as `username`/`password` instead of the URL's user, and returns the
    /// handle that changes them later.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect_rotating(
        settings: &DatabaseSettings,
        username: &str,
        password: &str,
    ) -> Result<(Self, CredentialRotator), StoreError> {
        let DatabaseUrl::Postgres(url) = &settings.url else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "rotating credentials need a PostgreSQL database"
            )));
        };
        let options = PgConnectOptions::from_str(url.expose_secret())?
            .username(username)
            .password(password);
        let epoch = Arc::new(Epoch {
            base: Instant::now(),
            rotated_at_ms: AtomicU64::new(0),
        });
        let (on_acquire, on_release) = (epoch.clone(), epoch.clone());
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size)
            .acquire_timeout(settings.acquire_timeout)
            .before_acquire(move |_, meta| {
                let fresh = !on_acquire.is_stale(&meta);
                Box::pin(async move { Ok(fresh) })
            })
            .after_release(move |_, meta| {
                let fresh = !on_release.is_stale(&meta);
                Box::pin(async move { Ok(fresh) })
            })
            .connect_with(options)
            .await?;
        let rotator = CredentialRotator {
            pool: pool.clone(),
            epoch,
        };
        Ok((Self::from_backend(Backend::Postgres(pool)), rotator))
    }
}

impl CredentialRotator {
    /// New connections log in with these credentials from now on; older ones are retired as they come back.
    pub fn set_credentials(&self, username: &str, password: &str) {
        let options = (*self.pool.connect_options())
            .clone()
            .username(username)
            .password(password);
        self.pool.set_connect_options(options);
        // At least 1 ms, since 0 means "never rotated".
        let now = (self.epoch.base.elapsed().as_millis() as u64).max(1);
        self.epoch.rotated_at_ms.store(now, Ordering::Release);
    }
}

//! The background task that removes expired sessions, tokens and activation codes, request history past its
//! retention, finished refresh tokens and families, past rate windows and the key rows of idle tenants. Started with
//! the server and stopped with it (see `startup`).

use std::time::Duration;

use crate::config::UsersSettings;
use warden_store::{Store, StoreError};

/// Margin kept on rate windows, in seconds: instances whose clocks differ a little still count in the same window.
const RATE_WINDOW_MARGIN_SECONDS: i64 = 60;
/// A tenant's key row is pruned only when at least this old (milliseconds): a new tenant's row is written when it
/// first authenticates, just before its first data.
const IDLE_TENANT_KEY_GRACE_MS: i64 = 3_600_000;

/// The longest reuse grace the settings allow (`AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS` ≤ 60).
const MAX_REUSE_GRACE_MS: i64 = 60_000;

/// Runs forever: one pass right away, then one every `maintenance_interval`. Failures are logged and retried at
/// the next tick. `access_ttl` is the access-token lifetime: refresh families outlive their last access token.
pub async fn run_maintenance(store: Store, settings: UsersSettings, access_ttl: Duration) {
    let mut interval = tokio::time::interval(settings.maintenance_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = chrono::Utc::now().timestamp_millis();
        match maintenance_pass(&store, &settings, access_ttl, now).await {
            Ok(removed) if removed > 0 => {
                tracing::debug!(removed, "maintenance removed expired rows");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "maintenance pass failed"),
        }
        // The sealed successor pairs of refresh rotations outlive their reuse grace (at most a minute) only until
        // here, for rotations whose family never refreshed again.
        match store
            .clear_refresh_successors(now.saturating_sub(MAX_REUSE_GRACE_MS))
            .await
        {
            Ok(cleared) if cleared > 0 => {
                tracing::debug!(cleared, "maintenance cleared refresh successors");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "maintenance pass failed"),
        }
    }
}

/// One maintenance pass as of `now` (Unix milliseconds); returns how many rows it removed. Public so tests (and
/// tools) can run one at a chosen time.
pub async fn maintenance_pass(
    store: &Store,
    settings: &UsersSettings,
    access_ttl: Duration,
    now: i64,
) -> Result<u64, StoreError> {
    let retention =
        i64::try_from(settings.request_history_retention.as_millis()).unwrap_or(i64::MAX);
    let access_cutoff =
        now.saturating_sub(i64::try_from(access_ttl.as_millis()).unwrap_or(i64::MAX));
    let mut removed = store
        .prune_expired(now, now.saturating_sub(retention))
        .await?;
    removed += store.prune_refresh_tokens(now, access_cutoff).await?;
    removed += store.prune_token_families(access_cutoff).await?;
    removed += store
        .prune_rate_windows(now / 1000 - RATE_WINDOW_MARGIN_SECONDS)
        .await?;
    removed += store
        .prune_idle_tenant_keys(now.saturating_sub(IDLE_TENANT_KEY_GRACE_MS))
        .await?;
    Ok(removed)
}

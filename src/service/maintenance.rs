//! The background task that removes expired sessions, tokens and activation codes, and request history past its
//! retention. Started with the server and stopped with it (see `startup`).

use crate::config::UsersSettings;
use crate::store::Store;

/// The longest reuse grace the settings allow (`AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS` ≤ 60).
const MAX_REUSE_GRACE_MS: i64 = 60_000;

/// Runs forever: one pass right away, then one every `maintenance_interval`. Failures are logged and retried at
/// the next tick.
pub async fn run_maintenance(store: Store, settings: UsersSettings) {
    let mut interval = tokio::time::interval(settings.maintenance_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = chrono::Utc::now().timestamp_millis();
        let retention =
            i64::try_from(settings.request_history_retention.as_millis()).unwrap_or(i64::MAX);
        match store
            .prune_expired(now, now.saturating_sub(retention))
            .await
        {
            Ok(removed) if removed > 0 => {
                tracing::debug!(removed, "maintenance removed expired rows")
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
                tracing::debug!(cleared, "maintenance cleared refresh successors")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "maintenance pass failed"),
        }
    }
}

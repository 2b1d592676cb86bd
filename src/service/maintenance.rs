//! The background task that removes expired sessions, tokens and activation codes, and request history past its
//! retention. Started with the server and stopped with it (see `startup`).

use crate::config::UsersSettings;
use crate::store::Store;

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
    }
}

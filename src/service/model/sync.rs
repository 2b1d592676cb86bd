//! Keeps loaded models current with changes other instances commit: PostgreSQL notifications for promptness,
//! and a periodic sweep of the loaded tenants' revisions for anything missed (or on SQLite, which has no
//! notifications). The sweep reads only the tenants loaded here, in chunked `IN (…)` lists, so its cost follows
//! this instance's cache, not the number of tenants in the database.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use super::Models;
use crate::domain::TenantId;
use crate::store::Store;

const SWEEP_EVERY: Duration = Duration::from_secs(2);
const PRUNE_EVERY: Duration = Duration::from_secs(300);
/// Change-log entries older than this are pruned; an instance further behind reloads the tenant instead.
const CHANGE_LOG_KEEP: Duration = Duration::from_secs(3600);
const CHANNEL: &str = "warden_changes";

/// Starts the background sync; abort the handle to stop it.
pub fn spawn_sync(models: Models) -> JoinHandle<()> {
    tokio::spawn(async move {
        let listener = match models.store() {
            Store::Postgres(pool) => listen(pool).await,
            Store::Sqlite { .. } => None,
        };
        run(models, listener).await;
    })
}

async fn listen(pool: &sqlx::PgPool) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for changes; relying on the periodic sweep");
            return None;
        }
    };
    if let Err(err) = listener.listen(CHANNEL).await {
        tracing::warn!(error = %err, "cannot listen for changes; relying on the periodic sweep");
        return None;
    }
    Some(listener)
}

async fn run(models: Models, mut listener: Option<PgListener>) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    loop {
        tokio::select! {
            notification = next_notification(&mut listener) => match notification {
                Some(payload) => {
                    if let Some((tenant, revision)) = parse(&payload) {
                        if let Err(err) = models.observed(&tenant, revision).await {
                            tracing::warn!(error = %err, "catch-up after notification failed");
                        }
                    }
                }
                // The connection dropped and was re-established: notifications may have been missed.
                None => sweep_all(&models).await,
            },
            _ = sweep.tick() => sweep_all(&models).await,
            _ = prune.tick() => {
                let before = crate::store::now_millis() - CHANGE_LOG_KEEP.as_millis() as i64;
                if let Err(err) = models.store().prune_changes(before).await {
                    tracing::warn!(error = %err, "pruning the change log failed");
                }
            }
        }
    }
}

/// The next notification's payload, `None` after a reconnect; pends forever without a listener.
async fn next_notification(listener: &mut Option<PgListener>) -> Option<String> {
    let Some(active) = listener.as_mut() else {
        return std::future::pending().await;
    };
    match active.try_recv().await {
        Ok(Some(notification)) => Some(notification.payload().to_owned()),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(error = %err, "change listener failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            None
        }
    }
}

fn parse(payload: &str) -> Option<(TenantId, i64)> {
    let (tenant, revision) = payload.rsplit_once(':')?;
    Some((
        TenantId::from_stored(tenant.to_owned()),
        revision.parse().ok()?,
    ))
}

async fn sweep_all(models: &Models) {
    let loaded = models.loaded_ids();
    if loaded.is_empty() {
        return;
    }
    match models.store().revisions_of(&loaded).await {
        Ok(revisions) => {
            for (tenant, revision) in revisions {
                if let Err(err) = models.observed(&tenant, revision).await {
                    tracing::warn!(error = %err, "catch-up during sweep failed");
                }
            }
        }
        Err(err) => tracing::debug!(error = %err, "revision sweep failed"),
    }
}

//! Keeps loaded models current with changes other instances commit: PostgreSQL notifications for promptness,
//! and a periodic sweep of the loaded tenants' revisions for anything missed (or on SQLite, which has no
//! notifications). The sweep reads only the tenants loaded here, in chunked `IN (…)` lists, so its cost follows
//! this instance's cache, not the number of tenants in the database.

use std::time::Duration;

use tokio::task::JoinHandle;
use warden_store::{ChangeFeed, FeedEvent};

use super::Models;
use crate::service::Tenants;

const SWEEP_EVERY: Duration = Duration::from_secs(2);
const PRUNE_EVERY: Duration = Duration::from_secs(300);
/// Change-log entries older than this are pruned; an instance further behind reloads the tenant instead.
const CHANGE_LOG_KEEP: Duration = Duration::from_secs(3600);

/// Starts the background sync (which also keeps `tenants`' view of rotated client keys current); abort the
/// handle to stop it.
pub fn spawn_sync(models: Models, tenants: Tenants) -> JoinHandle<()> {
    tokio::spawn(async move {
        let feed = models.store().change_feed().await;
        run(models, tenants, feed).await;
    })
}

async fn run(models: Models, tenants: Tenants, mut feed: ChangeFeed) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    loop {
        tokio::select! {
            event = feed.next() => match event {
                FeedEvent::Changed(tenant, revision) => {
                    if let Err(err) = models.observed(&tenant, revision).await {
                        tracing::warn!(error = %err, "catch-up after notification failed");
                    }
                }
                // The connection dropped and was re-established: notifications may have been missed.
                FeedEvent::Gap => sweep_all(&models).await,
            },
            _ = sweep.tick() => {
                sweep_all(&models).await;
                tenants.sync_client_keys().await;
            }
            _ = prune.tick() => {
                let before = warden_store::now_millis() - CHANGE_LOG_KEEP.as_millis() as i64;
                if let Err(err) = models.store().prune_changes(before).await {
                    tracing::warn!(error = %err, "pruning the change log failed");
                }
            }
        }
    }
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

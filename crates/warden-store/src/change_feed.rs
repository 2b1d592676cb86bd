//! The change feed: other instances' commits, announced as they happen.
//!
//! On PostgreSQL every RBAC commit sends `pg_notify('warden_changes', '<tenant>:<revision>')` in its transaction;
//! a [`ChangeFeed`] listens on that channel. SQLite has no notifications: its feed is empty and readers rely on the
//! periodic revision sweep, as they also do after a dropped connection.

use std::time::Duration;

use sqlx::postgres::PgListener;
use warden_core::domain::TenantId;

use super::{Backend, Store};

/// The channel every RBAC commit notifies.
pub(crate) const CHANNEL: &str = "warden_changes";

/// What the feed saw next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// The tenant's head moved to this revision.
    Changed(TenantId, i64),
    /// The connection dropped (and is being re-established): announcements may have been missed.
    Gap,
}

/// A live subscription to other instances' commits; see the module docs.
#[derive(Debug)]
pub struct ChangeFeed {
    listener: Option<PgListener>,
}

impl Store {
    /// Subscribes to commits. On SQLite, or when PostgreSQL refuses the subscription (logged), the feed never
    /// yields: callers keep their periodic sweep either way.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_feed(&self) -> ChangeFeed {
        let listener = match &self.backend {
            Backend::Postgres(pool) => listen(pool).await,
            Backend::Sqlite { .. } => None,
        };
        ChangeFeed { listener }
    }
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

impl ChangeFeed {
    /// Whether anything can ever arrive (a PostgreSQL subscription is open).
    pub fn is_live(&self) -> bool {
        self.listener.is_some()
    }

    /// The next event; pends forever on a feed that is not live. Malformed payloads are skipped.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn next(&mut self) -> FeedEvent {
        let Some(listener) = self.listener.as_mut() else {
            return std::future::pending().await;
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some((tenant, revision)) = parse(notification.payload()) {
                        return FeedEvent::Changed(tenant, revision);
                    }
                }
                Ok(None) => return FeedEvent::Gap,
                Err(err) => {
                    tracing::warn!(error = %err, "change listener failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    return FeedEvent::Gap;
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_a_tenant_and_a_revision_and_anything_else_is_skipped() {
        let (tenant, revision) = parse("t-1:42").unwrap();
        assert_eq!((tenant.as_str(), revision), ("t-1", 42));
        assert_eq!(parse("no-revision"), None);
        assert_eq!(parse("t:x"), None);
    }

    #[test]
    fn writers_notify_the_channel_the_feed_listens_on() {
        assert!(crate::change_log::NOTIFY.contains(CHANNEL));
    }
}

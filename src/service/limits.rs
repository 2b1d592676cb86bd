//! The per-tenant request rate limit (`AUTH_RATE_LIMIT_PER_SECOND`).
//!
//! A tenant with data (a head row: it has written something) is counted in the database, so its limit holds
//! across every instance sharing it, at one upsert per request. A tenant without data is counted in memory, per
//! instance, so a flood of random keys costs no database write: each such key still gets at most N requests per
//! second *per instance*. The in-memory count keeps only the current second (at most [`MAX_LOCAL_TENANTS`]
//! tenants; beyond that, further new tenants are refused for the rest of the second), so its memory is bounded.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::config::RateLimit;
use warden_core::domain::TenantId;
use warden_store::{now_millis, Store};

use super::ServiceError;

/// Tenants without data counted in one second on one instance; beyond it, new ones wait for the next second.
const MAX_LOCAL_TENANTS: usize = 100_000;
/// Tenants remembered as having data (so they skip the head read); beyond it the set starts over.
const MAX_KNOWN_TENANTS: usize = 100_000;

#[derive(Debug, Default)]
struct LocalWindow {
    start: i64,
    counts: HashMap<TenantId, i64>,
}

/// Cheap to clone: the counts are shared.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    store: Store,
    per_second: i64,
    /// Tenants seen with a head row. A tenant never loses its head row, so a positive answer stays true.
    known: Arc<RwLock<HashSet<TenantId>>>,
    local: Arc<Mutex<LocalWindow>>,
}

impl RateLimiter {
    pub fn new(store: Store, limit: RateLimit) -> Self {
        Self {
            store,
            per_second: i64::from(limit.per_second),
            known: Arc::default(),
            local: Arc::default(),
        }
    }

    pub fn per_second(&self) -> i64 {
        self.per_second
    }

    /// Counts one request; `Some(seconds)` to wait when it is over the limit, `None` when it may go ahead.
    /// Windows are fixed seconds of the wall clock, so `Retry-After` is always 1.
    pub async fn hit(&self, tenant: &TenantId) -> Result<Option<u64>, ServiceError> {
        let window = now_millis().div_euclid(1000);
        let count = if self.has_data(tenant).await? {
            self.store.count_request(tenant, window).await?
        } else {
            self.count_locally(tenant, window)
        };
        Ok((count > self.per_second).then_some(1))
    }

    async fn has_data(&self, tenant: &TenantId) -> Result<bool, ServiceError> {
        if self.known.read().contains(tenant) {
            return Ok(true);
        }
        if self.store.head_revision(tenant).await?.is_none() {
            return Ok(false);
        }
        let mut known = self.known.write();
        if known.len() >= MAX_KNOWN_TENANTS {
            known.clear();
        }
        known.insert(tenant.clone());
        Ok(true)
    }

    /// The tenant's count in this second on this instance, including this request.
    fn count_locally(&self, tenant: &TenantId, window: i64) -> i64 {
        let mut local = self.local.lock();
        if local.start != window {
            local.start = window;
            local.counts.clear();
        }
        if local.counts.len() >= MAX_LOCAL_TENANTS && !local.counts.contains_key(tenant) {
            return i64::MAX;
        }
        let count = local.counts.entry(tenant.clone()).or_insert(0);
        *count += 1;
        *count
    }
}

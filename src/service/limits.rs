//! The per-tenant request rate limit (`AUTH_RATE_LIMIT_PER_SECOND`), counted in the database so that it holds
//! across every instance sharing it.

use crate::config::RateLimit;
use crate::domain::TenantId;
use crate::store::{now_millis, Store};

use super::ServiceError;

#[derive(Clone, Debug)]
pub struct RateLimiter {
    store: Store,
    per_second: i64,
}

impl RateLimiter {
    pub fn new(store: Store, limit: RateLimit) -> Self {
        Self {
            store,
            per_second: i64::from(limit.per_second),
        }
    }

    pub fn per_second(&self) -> i64 {
        self.per_second
    }

    /// Counts one request; `Some(seconds)` to wait when it is over the limit, `None` when it may go ahead.
    /// Windows are fixed seconds of the wall clock, so `Retry-After` is always 1.
    pub async fn hit(&self, tenant: &TenantId) -> Result<Option<u64>, ServiceError> {
        let window = now_millis().div_euclid(1000);
        let count = self.store.count_request(tenant, window).await?;
        Ok((count > self.per_second).then_some(1))
    }
}

//! Per-tenant request counts in one-second windows, shared by every instance on the database.

use super::{with_writer, Store, StoreError};
use warden_core::domain::TenantId;

impl Store {
    /// Counts one request of `tenant` in the window starting at `window_start` (Unix seconds) and returns the
    /// count including it. The upsert is atomic on both backends; when it opens a new window, the tenant's older
    /// windows are deleted so the table stays small.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn count_request(
        &self,
        tenant: &TenantId,
        window_start: i64,
    ) -> Result<i64, StoreError> {
        let (count,): (i64,) = with_writer!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO rate_windows (tenant, window_start, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (tenant, window_start) DO UPDATE SET count = rate_windows.count + 1 \
                 RETURNING count",
            )
            .bind(tenant.as_str())
            .bind(window_start)
            .fetch_one(pool)
            .await?
        });
        if count == 1 {
            with_writer!(self, |pool| {
                sqlx::query("DELETE FROM rate_windows WHERE tenant = $1 AND window_start < $2")
                    .bind(tenant.as_str())
                    .bind(window_start)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(count)
    }
}

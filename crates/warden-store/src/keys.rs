//! Stored tenant key material (current and retired) and the bulk re-encryption behind `warden encrypt` /
//! `rotate-encryption-key`.

use std::collections::HashMap;

use super::BeginWrite;
use super::{now_millis, with_reader, with_writer, Store, StoreError};
use warden_core::crypto::{FieldCodec, TenantCipher};
use warden_core::domain::TenantId;

/// Rows per re-sealing UPDATE: five parameters each stays far below both backends' limits.
const RESEAL_ROWS_PER_UPDATE: usize = 500;

/// How one tenant's sealed fields change in a bulk conversion.
#[derive(Debug)]
pub struct Reseal {
    /// How the fields are stored now.
    pub from: FieldCodec,
    /// The tenant's new cipher.
    pub to: TenantCipher,
    /// `to`, wrapped for storage.
    pub wrapped: String,
}

/// Key material a rotation retired, kept so that audit targets sealed with it still open.
#[derive(Debug, Clone)]
pub struct RetiredKey {
    pub tenant: TenantId,
    /// Wrapped under the current encryption key.
    pub wrapped: String,
    pub retired_at: i64,
}

/// How many values a bulk conversion rewrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResealReport {
    pub tenants: usize,
    pub values: u64,
}

fn broken(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "{what} cannot be opened with the current key"
    ))
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tenant_key(&self, tenant: &TenantId) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT wrapped FROM tenant_keys WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(w,)| w))
    }

    /// Stores `wrapped` — the tenant's key derived from its client key — unless the tenant has key material
    /// already; returns what is stored now.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tenant_key_get_or_insert(
        &self,
        tenant: &TenantId,
        wrapped: &str,
    ) -> Result<String, StoreError> {
        let stored: (String,) = with_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO tenant_keys (tenant, wrapped, created_at, derived) VALUES ($1, $2, $3, TRUE) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(wrapped)
            .bind(now_millis())
            .execute(pool)
            .await?;
            sqlx::query_as("SELECT wrapped FROM tenant_keys WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(stored.0)
    }

    /// The tenant's retired key material, wrapped, newest first (see `tenant_retired_keys`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn retired_tenant_keys(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT wrapped FROM tenant_retired_keys WHERE tenant = $1 ORDER BY retired_at DESC",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(w,)| w).collect())
    }

    /// Every retired key: tenant, wrapped material and when it was retired.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_retired_tenant_keys(&self) -> Result<Vec<RetiredKey>, StoreError> {
        let rows: Vec<(String, String, i64)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT tenant, wrapped, retired_at FROM tenant_retired_keys")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(tenant, wrapped, retired_at)| RetiredKey {
                tenant: TenantId::from_stored(tenant),
                wrapped,
                retired_at,
            })
            .collect())
    }

    /// Every stored tenant key, wrapped.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_tenant_keys(&self) -> Result<HashMap<TenantId, String>, StoreError> {
        let rows: Vec<(String, String)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT tenant, wrapped FROM tenant_keys")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(t, w)| (TenantId::from_stored(t), w))
            .collect())
    }

    /// Every tenant that has fields which may be sealed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tenants_with_fields(&self) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT tenant FROM roles UNION SELECT tenant FROM role_permissions \
                 UNION SELECT tenant FROM memberships UNION SELECT tenant FROM model_changes \
                 UNION SELECT tenant FROM resources UNION SELECT tenant FROM scoped_memberships \
                 UNION SELECT tenant FROM api_keys WHERE label IS NOT NULL UNION SELECT tenant FROM tenant_keys",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(t,)| TenantId::from_stored(t))
            .collect())
    }

    /// Whether any field that encryption covers holds a value (so switching encryption on needs a conversion).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn has_sealable_values(&self) -> Result<bool, StoreError> {
        let (found,): (bool,) = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM role_permissions) OR EXISTS (SELECT 1 FROM memberships) \
                 OR EXISTS (SELECT 1 FROM resources) \
                 OR EXISTS (SELECT 1 FROM roles WHERE description IS NOT NULL) \
                 OR EXISTS (SELECT 1 FROM api_keys WHERE label IS NOT NULL)",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(found)
    }

    /// Rewrites every sealed field of every tenant in `plan` (open with `from`, seal with `to`), replaces the
    /// stored tenant keys and the retired ones, and sets the given meta values — all in one transaction, so a failure
    /// changes nothing. Audit targets are not rewritten: the audit chain hashes them, so `retired` must hold every
    /// key they were sealed with.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reseal_all(
        &self,
        plan: &HashMap<TenantId, Reseal>,
        retired: &[RetiredKey],
        meta: &[(&str, String)],
    ) -> Result<ResealReport, StoreError> {
        let mut report = ResealReport {
            tenants: plan.len(),
            values: 0,
        };
        // (select, table, sealed column, how a row of the table matches a row of the VALUES list): each row's
        // sealed value is replaced, a few hundred rows per `UPDATE … FROM (VALUES …)`, whose columns are named
        // column1 (new value), column2 (tenant), column3 and column4 (the other keys), column5 (old value) on both
        // backends.
        let columns: [(&str, &str, &str, &str); 9] = [
            (
                "SELECT tenant, name, '', description FROM roles WHERE description IS NOT NULL",
                "roles",
                "description",
                "roles.name = v.column3",
            ),
            (
                "SELECT tenant, role, '', permission FROM role_permissions",
                "role_permissions",
                "permission",
                "role_permissions.role = v.column3",
            ),
            (
                "SELECT tenant, role, '', user_name FROM memberships",
                "memberships",
                "user_name",
                "memberships.role = v.column3",
            ),
            (
                // An inheritance edge's item is a role name, stored as given (see `rbac::item_is_sealed`).
                "SELECT tenant, CAST(revision AS TEXT), op, item FROM model_changes \
                 WHERE item IS NOT NULL AND op NOT LIKE 'inheritance.%'",
                "model_changes",
                "item",
                "CAST(model_changes.revision AS TEXT) = v.column3 AND model_changes.op = v.column4",
            ),
            (
                // A resource's new id reaches its children and scoped memberships by ON UPDATE CASCADE.
                "SELECT tenant, resource_type, '', resource_id FROM resources",
                "resources",
                "resource_id",
                "resources.resource_type = v.column3",
            ),
            (
                "SELECT tenant, resource_type, '', properties FROM resources WHERE properties IS NOT NULL",
                "resources",
                "properties",
                "resources.resource_type = v.column3",
            ),
            (
                "SELECT tenant, role, '', user_name FROM scoped_memberships",
                "scoped_memberships",
                "user_name",
                "scoped_memberships.role = v.column3",
            ),
            (
                "SELECT tenant, CAST(revision AS TEXT), op, scope_id FROM model_changes \
                 WHERE scope_id IS NOT NULL",
                "model_changes",
                "scope_id",
                "CAST(model_changes.revision AS TEXT) = v.column3 AND model_changes.op = v.column4",
            ),
            (
                "SELECT tenant, key_id, '', label FROM api_keys WHERE label IS NOT NULL",
                "api_keys",
                "label",
                "api_keys.key_id = v.column3",
            ),
        ];
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for (select, table, column, matches) in columns {
                let rows: Vec<(String, String, String, String)> =
                    sqlx::query_as(select).fetch_all(&mut *tx).await?;
                let mut changes = Vec::with_capacity(rows.len());
                for (tenant, key1, key2, old) in rows {
                    let Some(step) = plan.get(&TenantId::from_stored(tenant.clone())) else {
                        continue;
                    };
                    let plain = step
                        .from
                        .open(old.clone())
                        .map_err(|_| broken("a stored field"))?;
                    let new = step.to.seal(&plain);
                    changes.push([new, tenant, key1, key2, old]);
                }
                report.values += changes.len() as u64;
                for chunk in changes.chunks(RESEAL_ROWS_PER_UPDATE) {
                    let mut update = sqlx::QueryBuilder::new(format!(
                        "UPDATE {table} SET {column} = v.column1 FROM ("
                    ));
                    update.push_values(chunk, |mut row, values| {
                        for value in values {
                            row.push_bind(value);
                        }
                    });
                    update.push(format!(
                        ") AS v WHERE {table}.tenant = v.column2 AND {matches} AND {table}.{column} = v.column5"
                    ));
                    update.build().execute(&mut *tx).await?;
                }
            }
            sqlx::query("DELETE FROM tenant_keys")
                .execute(&mut *tx)
                .await?;
            for (tenant, step) in plan {
                sqlx::query(
                    "INSERT INTO tenant_keys (tenant, wrapped, created_at) VALUES ($1, $2, $3)",
                )
                .bind(tenant.as_str())
                .bind(&step.wrapped)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("DELETE FROM tenant_retired_keys")
                .execute(&mut *tx)
                .await?;
            for key in retired {
                sqlx::query(
                    "INSERT INTO tenant_retired_keys (tenant, wrapped, retired_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(key.tenant.as_str())
                .bind(&key.wrapped)
                .bind(key.retired_at)
                .execute(&mut *tx)
                .await?;
            }
            for (key, value) in meta {
                sqlx::query(
                    "INSERT INTO warden_meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(report)
    }
}

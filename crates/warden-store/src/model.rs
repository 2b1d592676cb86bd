//! Reading a tenant's whole RBAC model (to build the in-memory copy) and the changes since a revision.

use super::resources::opened_resource;
use super::{with_reader, with_writer, Store, StoreError};
use futures_util::TryStreamExt;
use warden_core::crypto::CipherError;
use warden_core::domain::{Change, Description, Name, NameKind, Resource, TenantId, TenantScope};
use warden_core::model::{ModelSink, ModelSnapshot};

fn opened(scope: &TenantScope, stored: String) -> Result<String, StoreError> {
    scope.codec.open(stored).map_err(undecryptable)
}

fn undecryptable(err: CipherError) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored field cannot be opened: {err}"))
}

/// PostgreSQL only: the snapshot's statements must all see one point in time. (SQLite's read transaction already
/// does: WAL readers keep the snapshot of their first read.)
const REPEATABLE_READ: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";

/// The change-log op of a write the model cannot replay (an API key or the `strict_users` setting changed):
/// instances reload the tenant's model when they reach it.
pub(crate) const RELOAD_OP: &str = "model.reload";

/// Tenants per `IN (…)` list of the sweep: far below SQLite's 32 766 and PostgreSQL's 65 535 parameters.
const REVISIONS_PER_QUERY: usize = 500;

impl Store {
    /// Loads everything the in-memory model needs for one tenant, as of one revision.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load_model(&self, scope: &TenantScope) -> Result<ModelSnapshot, StoreError> {
        let mut snapshot = ModelSnapshot::default();
        self.load_model_into(scope, &mut snapshot).await?;
        Ok(snapshot)
    }

    /// Streams one tenant's rows, as of one revision, into `sink` in the order [`ModelSink`] states, opening
    /// sealed fields on the way: with a [`warden_core::model::ModelBuilder`] no more than one row is held as text
    /// at a time.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load_model_into<S: ModelSink + Send>(
        &self,
        scope: &TenantScope,
        sink: &mut S,
    ) -> Result<(), StoreError> {
        let tenant = scope.id.as_str();
        let isolation = self.is_postgres().then_some(REPEATABLE_READ);
        let now = super::now_millis();
        with_reader!(self, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(sql) = isolation {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            let revision: Option<(i64,)> =
                sqlx::query_as("SELECT revision FROM tenant_heads WHERE tenant = $1")
                    .bind(tenant)
                    .fetch_optional(&mut *tx)
                    .await?;
            sink.revision(revision.map_or(0, |(r,)| r));
            let strict: Option<(bool,)> =
                sqlx::query_as("SELECT strict_users FROM tenant_settings WHERE tenant = $1")
                    .bind(tenant)
                    .fetch_optional(&mut *tx)
                    .await?;
            let strict = strict.is_some_and(|(on,)| on);
            sink.strict_users(strict);
            {
                let mut rows = sqlx::query_as::<_, (String, Option<String>)>(
                    "SELECT name, description FROM roles WHERE tenant = $1",
                )
                .bind(tenant)
                .fetch(&mut *tx);
                while let Some((name, description)) = rows.try_next().await? {
                    sink.role(name, description.map(|d| opened(scope, d)).transpose()?);
                }
            }
            {
                let mut rows = sqlx::query_as::<_, (String, String)>(
                    "SELECT role, permission FROM role_permissions WHERE tenant = $1",
                )
                .bind(tenant)
                .fetch(&mut *tx);
                while let Some((role, permission)) = rows.try_next().await? {
                    sink.grant(&role, &opened(scope, permission)?);
                }
            }
            {
                let mut rows = sqlx::query_as::<_, (String, String, Option<i64>)>(
                    "SELECT role, user_name, expires_at FROM memberships WHERE tenant = $1",
                )
                .bind(tenant)
                .fetch(&mut *tx);
                while let Some((role, user, expires_at)) = rows.try_next().await? {
                    sink.member(&role, &opened(scope, user)?, expires_at);
                }
            }
            {
                // Role names are stored as given.
                let mut rows = sqlx::query_as::<_, (String, String)>(
                    "SELECT role, parent FROM role_inherits WHERE tenant = $1",
                )
                .bind(tenant)
                .fetch(&mut *tx);
                while let Some((role, parent)) = rows.try_next().await? {
                    sink.inherit(&role, &parent);
                }
            }
            {
                type Row = (String, String, Option<String>, Option<String>);
                let mut rows = sqlx::query_as::<_, Row>(
                    "SELECT resource_type, resource_id, parent_type, parent_id FROM resources \
                     WHERE tenant = $1",
                )
                .bind(tenant)
                .fetch(&mut *tx);
                while let Some((kind, id, parent_kind, parent_id)) = rows.try_next().await? {
                    let parent = match (parent_kind, parent_id) {
                        (Some(k), Some(i)) => Some(opened_resource(scope, &k, i)?.to_string()),
                        _ => None,
                    };
                    let resource = opened_resource(scope, &kind, id)?.to_string();
                    sink.resource(&resource, parent.as_deref());
                }
            }
            {
                type Row = (String, String, String, String, Option<i64>);
                let mut rows = sqlx::query_as::<_, Row>(
                    "SELECT role, user_name, resource_type, resource_id, expires_at \
                     FROM scoped_memberships WHERE tenant = $1",
                )
                .bind(tenant)
                .fetch(&mut *tx);
                while let Some((role, user, kind, id, expires_at)) = rows.try_next().await? {
                    let resource = opened_resource(scope, &kind, id)?.to_string();
                    sink.scoped_member(&role, &opened(scope, user)?, &resource, expires_at);
                }
            }
            // Only a strict tenant needs to know who holds a key. API keys name their user as given (like the
            // users table), not sealed.
            if strict {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT user_name, MAX(COALESCE(expires_at, 9223372036854775807)) FROM api_keys \
                     WHERE tenant = $1 AND revoked_at IS NULL \
                       AND (expires_at IS NULL OR expires_at > $2) GROUP BY user_name",
                )
                .bind(tenant)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                for (user, until) in rows {
                    sink.key_backed(user, until);
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The changes after `revision`, in order; `None` for one the model cannot replay, which needs a reload. Revisions are gap-free per tenant; a gap at the start means the log
    /// was pruned and the caller must reload.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn changes_since(
        &self,
        scope: &TenantScope,
        revision: i64,
    ) -> Result<Vec<(i64, Option<Change>)>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT revision, op, role, item, expires_at, scope_type, scope_id FROM model_changes \
                 WHERE tenant = $1 AND revision > $2 ORDER BY revision",
            )
            .bind(scope.id.as_str())
            .bind(revision)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(revision, op, role, item, expires_at, scope_type, scope_id)| {
                    if op == RELOAD_OP {
                        return Ok((revision, None));
                    }
                    let item = if super::rbac::item_is_sealed(&op) {
                        item.map(|i| opened(scope, i)).transpose()?
                    } else {
                        item
                    };
                    let resource = match (scope_type, scope_id) {
                        (Some(kind), Some(id)) => Some(opened_resource(scope, &kind, id)?),
                        _ => None,
                    };
                    Ok((
                        revision,
                        Some(decode_change(&op, &role, item, expires_at, resource)?),
                    ))
                },
            )
            .collect()
    }

    /// The tenant's current revision (0 before its first change).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revision(&self, scope: &TenantScope) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = with_writer!(self, |pool| {
            sqlx::query_as("SELECT revision FROM tenant_heads WHERE tenant = $1")
                .bind(scope.id.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map_or(0, |(r,)| r))
    }

    /// The tenant's head revision as any reader sees it, `None` when the tenant has never written anything (no
    /// head row). One primary-key read on a reader connection: what an unloaded tenant's read costs.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn head_revision(&self, tenant: &TenantId) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT revision FROM tenant_heads WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(r,)| r))
    }

    /// The current revisions of the given tenants (those without a head row are left out), read in chunks of
    /// `REVISIONS_PER_QUERY`, for the periodic consistency sweep: its cost follows the tenants loaded here, not
    /// the tenants in the database.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revisions_of(
        &self,
        tenants: &[TenantId],
    ) -> Result<Vec<(TenantId, i64)>, StoreError> {
        let mut found = Vec::with_capacity(tenants.len());
        for chunk in tenants.chunks(REVISIONS_PER_QUERY) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT tenant, revision FROM tenant_heads WHERE tenant IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<(String, i64)> = with_reader!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for tenant in chunk {
                    query = query.bind(tenant.as_str());
                }
                query.fetch_all(pool).await?
            });
            found.extend(rows.into_iter().map(|(t, r)| (TenantId::from_stored(t), r)));
        }
        Ok(found)
    }

    /// Forgets change-log entries older than `before` (Unix milliseconds); returns how many.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prune_changes(&self, before: i64) -> Result<u64, StoreError> {
        let affected = with_writer!(self, |pool| {
            sqlx::query("DELETE FROM model_changes WHERE created_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected)
    }
}

fn decode_change(
    op: &str,
    role: &str,
    item: Option<String>,
    expires_at: Option<i64>,
    scope: Option<Resource>,
) -> Result<Change, StoreError> {
    let bad = || StoreError::Other(anyhow::anyhow!("malformed change-log entry `{op}`"));
    if let Some(op) = op.strip_prefix("resource.") {
        // Filed under the resource's type, with its opened id as the item.
        let resource = Resource::new(role, item.as_deref().ok_or_else(bad)?).map_err(|_| bad())?;
        return Ok(match op {
            "put" => Change::PutResource {
                resource,
                parent: scope,
                properties: None,
            },
            "delete" => Change::DeleteResource { resource },
            _ => return Err(bad()),
        });
    }
    let name = |kind: NameKind, raw: &str| Name::parse(kind, raw).map_err(|_| bad());
    let role = name(NameKind::Role, role)?;
    let item_name = |kind| {
        item.as_deref()
            .ok_or_else(bad)
            .and_then(|raw| name(kind, raw))
    };
    Ok(match op {
        "role.create" => Change::CreateRole {
            role,
            description: item
                .clone()
                .map(Description::parse)
                .transpose()
                .map_err(|_| bad())?,
        },
        "role.delete" => Change::DeleteRole { role },
        "permission.grant" => Change::Grant {
            permission: item_name(NameKind::GrantedPermission)?,
            role,
        },
        "permission.revoke" => Change::Revoke {
            permission: item_name(NameKind::GrantedPermission)?,
            role,
        },
        "membership.add" => Change::AddMember {
            user: item_name(NameKind::User)?,
            role,
            expires_at,
            scope,
        },
        "membership.expired" => Change::ExpireMember {
            user: item_name(NameKind::User)?,
            role,
            at: expires_at.ok_or_else(bad)?,
            scope,
        },
        "membership.remove" => Change::RemoveMember {
            user: item_name(NameKind::User)?,
            role,
            scope,
        },
        "inheritance.add" => Change::Inherit {
            parent: item_name(NameKind::Role)?,
            role,
        },
        "inheritance.remove" => Change::Disinherit {
            parent: item_name(NameKind::Role)?,
            role,
        },
        _ => return Err(bad()),
    })
}

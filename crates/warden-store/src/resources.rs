//! Resources and scoped memberships: the statements the RBAC write path (`rbac.rs`) runs for them, and the
//! reads the model does not answer (a resource's properties and times).
//!
//! A resource's id is sealed with the tenant's codec (deterministically, so look-ups compare ciphertexts); its
//! type is stored as given. Its properties are sealed too.

use super::{with_reader, Store, StoreError};
use warden_core::domain::{Resource, TenantScope};

pub(crate) const RESOURCE_EXISTS: &str =
    "SELECT 1 FROM resources WHERE tenant = $1 AND resource_type = $2 AND resource_id = $3";
pub(crate) const RESOURCE_ROW: &str = "SELECT parent_type, parent_id, properties FROM resources \
     WHERE tenant = $1 AND resource_type = $2 AND resource_id = $3";
pub(crate) const INSERT_RESOURCE: &str = "INSERT INTO resources \
     (tenant, resource_type, resource_id, parent_type, parent_id, properties, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
pub(crate) const UPDATE_RESOURCE: &str =
    "UPDATE resources SET parent_type = $4, parent_id = $5, properties = $6, updated_at = $7 \
     WHERE tenant = $1 AND resource_type = $2 AND resource_id = $3";
pub(crate) const HAS_CHILDREN: &str =
    "SELECT 1 FROM resources WHERE tenant = $1 AND parent_type = $2 AND parent_id = $3 LIMIT 1";
pub(crate) const DELETE_SCOPED_AT: &str = "DELETE FROM scoped_memberships \
     WHERE tenant = $1 AND resource_type = $2 AND resource_id = $3";
pub(crate) const DELETE_RESOURCE: &str =
    "DELETE FROM resources WHERE tenant = $1 AND resource_type = $2 AND resource_id = $3";
/// The resource `($2, $3)` and its ancestors, nearest first, one row each (bounded well past the depth limit,
/// so even a corrupt cycle ends).
pub(crate) const PATH: &str = "WITH RECURSIVE up (t, i, depth) AS ( \
       SELECT CAST($2 AS TEXT), CAST($3 AS TEXT), 1 \
       UNION ALL \
       SELECT r.parent_type, r.parent_id, up.depth + 1 FROM resources r JOIN up \
         ON r.tenant = $1 AND r.resource_type = up.t AND r.resource_id = up.i \
       WHERE r.parent_type IS NOT NULL AND up.depth < 64) \
     SELECT t, i FROM up ORDER BY depth";
/// How many levels lie below the resource `($2, $3)` (0 for a leaf).
pub(crate) const HEIGHT: &str = "WITH RECURSIVE down (t, i, depth) AS ( \
       SELECT resource_type, resource_id, 1 FROM resources \
         WHERE tenant = $1 AND parent_type = $2 AND parent_id = $3 \
       UNION ALL \
       SELECT r.resource_type, r.resource_id, down.depth + 1 FROM resources r JOIN down \
         ON r.tenant = $1 AND r.parent_type = down.t AND r.parent_id = down.i \
       WHERE down.depth < 64) \
     SELECT CAST(COALESCE(MAX(depth), 0) AS BIGINT) FROM down";

pub(crate) const SCOPED_EXPIRY: &str = "SELECT expires_at FROM scoped_memberships \
     WHERE tenant = $1 AND role = $2 AND user_name = $3 AND resource_type = $4 AND resource_id = $5";
pub(crate) const ADD_SCOPED: &str = "INSERT INTO scoped_memberships \
     (tenant, role, user_name, resource_type, resource_id, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const SET_SCOPED_EXPIRY: &str = "UPDATE scoped_memberships SET expires_at = $6 \
     WHERE tenant = $1 AND role = $2 AND user_name = $3 AND resource_type = $4 AND resource_id = $5";
pub(crate) const REMOVE_SCOPED: &str = "DELETE FROM scoped_memberships \
     WHERE tenant = $1 AND role = $2 AND user_name = $3 AND resource_type = $4 AND resource_id = $5";
/// Removes a scoped membership only when it expired as of `$6`.
pub(crate) const EXPIRE_SCOPED: &str = "DELETE FROM scoped_memberships \
     WHERE tenant = $1 AND role = $2 AND user_name = $3 AND resource_type = $4 AND resource_id = $5 \
     AND expires_at IS NOT NULL AND expires_at <= $6";

/// A resource as stored, with its fields opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRecord {
    pub parent: Option<Resource>,
    /// The JSON object as text.
    pub properties: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A resource's type with its id sealed, as its rows store it.
pub(crate) fn sealed_resource(scope: &TenantScope, resource: &Resource) -> (String, String) {
    (
        resource.kind().as_str().to_owned(),
        scope.codec.seal(resource.id().as_str()).into_owned(),
    )
}

/// The resource a stored (type, sealed id) pair names.
pub(crate) fn opened_resource(
    scope: &TenantScope,
    kind: &str,
    sealed_id: String,
) -> Result<Resource, StoreError> {
    let id = scope.codec.open(sealed_id).map_err(|err| {
        StoreError::Other(anyhow::anyhow!("stored field cannot be opened: {err}"))
    })?;
    Resource::new(kind, &id)
        .map_err(|_| StoreError::Other(anyhow::anyhow!("malformed stored resource")))
}

impl Store {
    /// One resource with its parent and properties; `None` when it does not exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn resource(
        &self,
        scope: &TenantScope,
        resource: &Resource,
    ) -> Result<Option<ResourceRecord>, StoreError> {
        let (kind, id) = sealed_resource(scope, resource);
        type Row = (Option<String>, Option<String>, Option<String>, i64, i64);
        let row: Option<Row> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT parent_type, parent_id, properties, created_at, updated_at FROM resources \
                 WHERE tenant = $1 AND resource_type = $2 AND resource_id = $3",
            )
            .bind(scope.id.as_str())
            .bind(&kind)
            .bind(&id)
            .fetch_optional(pool)
            .await?
        });
        let Some((parent_type, parent_id, properties, created_at, updated_at)) = row else {
            return Ok(None);
        };
        let parent = match (parent_type, parent_id) {
            (Some(kind), Some(id)) => Some(opened_resource(scope, &kind, id)?),
            _ => None,
        };
        let properties = properties
            .map(|p| scope.codec.open(p))
            .transpose()
            .map_err(|err| {
                StoreError::Other(anyhow::anyhow!("stored field cannot be opened: {err}"))
            })?;
        Ok(Some(ResourceRecord {
            parent,
            properties,
            created_at,
            updated_at,
        }))
    }
}

//! Roles, grants (role → permission) and memberships (user → role), per tenant.
//!
//! Results come back unsorted; the service layer orders them, so both backends answer byte-for-byte alike
//! whatever their collations.

use super::{now_millis, with_reader, with_writer, Store, StoreError};
use crate::domain::{Description, Name, TenantId};

/// A role as listed: its name and optional description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub name: String,
    pub description: Option<String>,
}

/// The outcome of a write that depends on a role existing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleWrite {
    /// A row was inserted or deleted.
    Changed,
    /// The row was already there (insert) or already gone (delete).
    Unchanged,
    /// The role does not exist; nothing was written.
    RoleMissing,
}

type RoleTuple = (String, Option<String>);

fn role_rows(rows: Vec<RoleTuple>) -> Vec<RoleRow> {
    rows.into_iter()
        .map(|(name, description)| RoleRow { name, description })
        .collect()
}

fn strings(rows: Vec<(String,)>) -> Vec<String> {
    rows.into_iter().map(|(s,)| s).collect()
}

impl Store {
    pub async fn list_roles(&self, tenant: &TenantId) -> Result<Vec<RoleRow>, StoreError> {
        let rows: Vec<RoleTuple> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT name, description FROM roles WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_all(pool)
                .await?
        });
        Ok(role_rows(rows))
    }

    pub async fn role_exists(&self, tenant: &TenantId, role: &Name) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT 1 FROM roles WHERE tenant = $1 AND name = $2")
                .bind(tenant.as_str())
                .bind(role.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }

    /// Inserts the role unless it exists; returns whether it was created.
    pub async fn create_role(
        &self,
        tenant: &TenantId,
        role: &Name,
        description: Option<&Description>,
    ) -> Result<bool, StoreError> {
        let affected = with_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO roles (tenant, name, description, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(role.as_str())
            .bind(description.map(Description::as_str))
            .bind(now_millis())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Deletes the role with its grants and memberships in one transaction; returns whether it existed.
    pub async fn delete_role(&self, tenant: &TenantId, role: &Name) -> Result<bool, StoreError> {
        let affected = with_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for sql in [
                "DELETE FROM memberships WHERE tenant = $1 AND role = $2",
                "DELETE FROM role_permissions WHERE tenant = $1 AND role = $2",
            ] {
                sqlx::query(sql)
                    .bind(tenant.as_str())
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let affected = sqlx::query("DELETE FROM roles WHERE tenant = $1 AND name = $2")
                .bind(tenant.as_str())
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            affected
        });
        Ok(affected > 0)
    }

    /// Grants `permission` to `role`, if the role exists.
    pub async fn add_grant(
        &self,
        tenant: &TenantId,
        role: &Name,
        permission: &Name,
    ) -> Result<RoleWrite, StoreError> {
        let insert = "INSERT INTO role_permissions (tenant, role, permission, created_at) \
                      SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
                      ON CONFLICT DO NOTHING";
        self.insert_under_role(insert, tenant, role, permission)
            .await
    }

    /// Revokes `permission` from `role`.
    pub async fn remove_grant(
        &self,
        tenant: &TenantId,
        role: &Name,
        permission: &Name,
    ) -> Result<RoleWrite, StoreError> {
        let delete =
            "DELETE FROM role_permissions WHERE tenant = $1 AND role = $2 AND permission = $3";
        self.delete_under_role(delete, tenant, role, permission)
            .await
    }

    /// Makes `user` a member of `role`, if the role exists.
    pub async fn add_membership(
        &self,
        tenant: &TenantId,
        user: &Name,
        role: &Name,
    ) -> Result<RoleWrite, StoreError> {
        let insert = "INSERT INTO memberships (tenant, role, user_name, created_at) \
                      SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
                      ON CONFLICT DO NOTHING";
        self.insert_under_role(insert, tenant, role, user).await
    }

    pub async fn remove_membership(
        &self,
        tenant: &TenantId,
        user: &Name,
        role: &Name,
    ) -> Result<RoleWrite, StoreError> {
        let delete = "DELETE FROM memberships WHERE tenant = $1 AND role = $2 AND user_name = $3";
        self.delete_under_role(delete, tenant, role, user).await
    }

    /// Runs an `INSERT … SELECT $1, $2, $3, $4 WHERE <role $2 exists>`; when nothing was inserted, tells an
    /// existing row from a missing role.
    async fn insert_under_role(
        &self,
        sql: &str,
        tenant: &TenantId,
        role: &Name,
        item: &Name,
    ) -> Result<RoleWrite, StoreError> {
        let result = with_writer!(self, |pool| {
            sqlx::query(sql)
                .bind(tenant.as_str())
                .bind(role.as_str())
                .bind(item.as_str())
                .bind(now_millis())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        });
        let affected = match result.map_err(StoreError::from) {
            Ok(affected) => affected,
            // The role was deleted between the EXISTS check and the insert: the foreign key refused the row.
            Err(StoreError::Conflict) => return Ok(RoleWrite::RoleMissing),
            Err(e) => return Err(e),
        };
        self.role_write_outcome(affected, tenant, role).await
    }

    /// Runs a `DELETE … WHERE tenant = $1 AND role = $2 AND … = $3`; when nothing was deleted, tells a missing
    /// row from a missing role.
    async fn delete_under_role(
        &self,
        sql: &str,
        tenant: &TenantId,
        role: &Name,
        item: &Name,
    ) -> Result<RoleWrite, StoreError> {
        let affected = with_writer!(self, |pool| {
            sqlx::query(sql)
                .bind(tenant.as_str())
                .bind(role.as_str())
                .bind(item.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        self.role_write_outcome(affected, tenant, role).await
    }

    /// Tells "nothing to do" from "no such role" when a write touched no row. Asked of the writer, so the
    /// answer cannot lag behind the write.
    async fn role_write_outcome(
        &self,
        affected: u64,
        tenant: &TenantId,
        role: &Name,
    ) -> Result<RoleWrite, StoreError> {
        if affected > 0 {
            return Ok(RoleWrite::Changed);
        }
        let row: Option<(i32,)> = with_writer!(self, |pool| {
            sqlx::query_as("SELECT 1 FROM roles WHERE tenant = $1 AND name = $2")
                .bind(tenant.as_str())
                .bind(role.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(if row.is_some() {
            RoleWrite::Unchanged
        } else {
            RoleWrite::RoleMissing
        })
    }

    /// Whether `role` has `permission`; `None` when the role does not exist.
    pub async fn role_has_permission(
        &self,
        tenant: &TenantId,
        role: &Name,
        permission: &Name,
    ) -> Result<Option<bool>, StoreError> {
        let (role_exists, granted): (bool, bool) = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2), \
                        EXISTS (SELECT 1 FROM role_permissions WHERE tenant = $1 AND role = $2 AND permission = $3)",
            )
            .bind(tenant.as_str())
            .bind(role.as_str())
            .bind(permission.as_str())
            .fetch_one(pool)
            .await?
        });
        Ok(role_exists.then_some(granted))
    }

    /// Whether `user` is a member of `role`; `None` when the role does not exist.
    pub async fn is_member(
        &self,
        tenant: &TenantId,
        user: &Name,
        role: &Name,
    ) -> Result<Option<bool>, StoreError> {
        let (role_exists, member): (bool, bool) = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2), \
                        EXISTS (SELECT 1 FROM memberships WHERE tenant = $1 AND role = $2 AND user_name = $3)",
            )
            .bind(tenant.as_str())
            .bind(role.as_str())
            .bind(user.as_str())
            .fetch_one(pool)
            .await?
        });
        Ok(role_exists.then_some(member))
    }

    /// Whether any of `user`'s roles grants `permission`.
    pub async fn user_has_permission(
        &self,
        tenant: &TenantId,
        user: &Name,
        permission: &Name,
    ) -> Result<bool, StoreError> {
        let (granted,): (bool,) = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM memberships m JOIN role_permissions p \
                   ON p.tenant = m.tenant AND p.role = m.role \
                 WHERE m.tenant = $1 AND m.user_name = $2 AND p.permission = $3)",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(permission.as_str())
            .fetch_one(pool)
            .await?
        });
        Ok(granted)
    }

    pub async fn user_permissions(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT p.permission FROM memberships m JOIN role_permissions p \
                   ON p.tenant = m.tenant AND p.role = m.role \
                 WHERE m.tenant = $1 AND m.user_name = $2",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(strings(rows))
    }

    pub async fn user_roles(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<RoleRow>, StoreError> {
        let rows: Vec<RoleTuple> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT r.name, r.description FROM memberships m JOIN roles r \
                   ON r.tenant = m.tenant AND r.name = m.role \
                 WHERE m.tenant = $1 AND m.user_name = $2",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(role_rows(rows))
    }

    /// The permissions granted to `role`; `None` when the role does not exist.
    pub async fn role_permissions(
        &self,
        tenant: &TenantId,
        role: &Name,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let sql = "SELECT permission FROM role_permissions WHERE tenant = $1 AND role = $2";
        self.list_under_role(sql, tenant, role).await
    }

    /// The members of `role`; `None` when the role does not exist.
    pub async fn role_members(
        &self,
        tenant: &TenantId,
        role: &Name,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let sql = "SELECT user_name FROM memberships WHERE tenant = $1 AND role = $2";
        self.list_under_role(sql, tenant, role).await
    }

    async fn list_under_role(
        &self,
        sql: &str,
        tenant: &TenantId,
        role: &Name,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as(sql)
                .bind(tenant.as_str())
                .bind(role.as_str())
                .fetch_all(pool)
                .await?
        });
        // An empty answer may mean a missing role or an empty one; only then is the extra look-up needed.
        if rows.is_empty() && !self.role_exists(tenant, role).await? {
            return Ok(None);
        }
        Ok(Some(strings(rows)))
    }

    pub async fn roles_with_permission(
        &self,
        tenant: &TenantId,
        permission: &Name,
    ) -> Result<Vec<RoleRow>, StoreError> {
        let rows: Vec<RoleTuple> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT r.name, r.description FROM role_permissions p JOIN roles r \
                   ON r.tenant = p.tenant AND r.name = p.role \
                 WHERE p.tenant = $1 AND p.permission = $2",
            )
            .bind(tenant.as_str())
            .bind(permission.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(role_rows(rows))
    }

    pub async fn users_with_permission(
        &self,
        tenant: &TenantId,
        permission: &Name,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT m.user_name FROM role_permissions p JOIN memberships m \
                   ON m.tenant = p.tenant AND m.role = p.role \
                 WHERE p.tenant = $1 AND p.permission = $2",
            )
            .bind(tenant.as_str())
            .bind(permission.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(strings(rows))
    }
}

//! RBAC writes. Each write is one transaction that changes the data, advances the tenant's revision, records the
//! change for other instances, appends the audit entry and (on PostgreSQL) notifies the other instances.
//!
//! Sensitive fields (permission names, user names, role descriptions) are sealed with the tenant's codec before
//! they reach SQL, so equality look-ups compare ciphertexts.
//!
//! A membership removal or role deletion that leaves a user without any role revokes that user's JWT families in
//! the same transaction (only the affected users are looked at, through indexes).

use super::audit::{audit_in_tx, AuditDraft};
use super::change_log::{log_changes, LoggedChange};
use super::resources::{
    sealed_resource, ADD_SCOPED, DELETE_RESOURCE, DELETE_SCOPED_AT, EXPIRE_SCOPED, HAS_CHILDREN,
    HEIGHT, INSERT_RESOURCE, PATH, REMOVE_SCOPED, RESOURCE_EXISTS, RESOURCE_ROW, SCOPED_EXPIRY,
    SET_SCOPED_EXPIRY, UPDATE_RESOURCE,
};
use super::tokens::{revoke_if_roleless, revoke_members_left_roleless};
use super::BeginWrite;
use super::{now_millis, with_writer, Store, StoreError};
use warden_core::domain::{Change, TenantScope};
use warden_core::rules::inheritance::{check_new_edge, EdgeRefusal};
use warden_core::rules::resources::MAX_RESOURCE_DEPTH;

/// The outcome of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleWrite {
    /// A row was inserted or deleted.
    Changed,
    /// The row was already there (insert) or already gone (delete).
    Unchanged,
    /// An existing membership was given another expiry.
    Updated,
    /// The role does not exist; nothing was written.
    RoleMissing,
    /// An inheritance edge names a parent role that does not exist; nothing was written.
    ParentMissing,
    /// An inheritance edge would close a cycle; nothing was written.
    Cycle,
    /// An inheritance edge would make a chain longer than `MAX_INHERITANCE_DEPTH`; nothing was written.
    TooDeep,
    /// The resource a membership is scoped to, or a resource's parent, does not exist.
    ResourceMissing,
    /// A resource's parent is the resource or lies below it.
    ResourceCycle,
    /// A resource's new place would make a path deeper than `MAX_RESOURCE_DEPTH`.
    ResourceTooDeep,
    /// A resource to delete still has children.
    ResourceHasChildren,
}

/// A committed write: what it did and the tenant's revision afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub outcome: RoleWrite,
    pub revision: i64,
}

pub(crate) const CREATE_ROLE: &str =
    "INSERT INTO roles (tenant, name, description, created_at) VALUES ($1, $2, $3, $4) \
                           ON CONFLICT DO NOTHING";
pub(crate) const GRANT: &str = "INSERT INTO role_permissions (tenant, role, permission, created_at) \
                     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
                     ON CONFLICT DO NOTHING";
pub(crate) const ADD_MEMBER: &str = "INSERT INTO memberships (tenant, role, user_name, created_at) \
                          SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
                          ON CONFLICT DO NOTHING";
const REVOKE: &str =
    "DELETE FROM role_permissions WHERE tenant = $1 AND role = $2 AND permission = $3";
const REMOVE_MEMBER: &str =
    "DELETE FROM memberships WHERE tenant = $1 AND role = $2 AND user_name = $3";
const DELETE_ROLE: [&str; 3] = [
    "DELETE FROM memberships WHERE tenant = $1 AND role = $2",
    "DELETE FROM role_permissions WHERE tenant = $1 AND role = $2",
    "DELETE FROM roles WHERE tenant = $1 AND name = $2",
];
const ROLE_EXISTS: &str = "SELECT 1 FROM roles WHERE tenant = $1 AND name = $2";
const MEMBERSHIP_EXPIRY: &str =
    "SELECT expires_at FROM memberships WHERE tenant = $1 AND role = $2 AND user_name = $3";
const ADD_TIMED_MEMBER: &str =
    "INSERT INTO memberships (tenant, role, user_name, created_at, expires_at) \
     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
     ON CONFLICT DO NOTHING";
const SET_EXPIRY: &str =
    "UPDATE memberships SET expires_at = $4 WHERE tenant = $1 AND role = $2 AND user_name = $3";
/// Removes a membership only when it expired as of `$4`: one extended meanwhile stays.
const EXPIRE_MEMBER: &str =
    "DELETE FROM memberships WHERE tenant = $1 AND role = $2 AND user_name = $3 \
     AND expires_at IS NOT NULL AND expires_at <= $4";
const INHERIT: &str =
    "INSERT INTO role_inherits (tenant, role, parent, created_at) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT DO NOTHING";
const DISINHERIT: &str =
    "DELETE FROM role_inherits WHERE tenant = $1 AND role = $2 AND parent = $3";
const EDGE_EXISTS: &str =
    "SELECT 1 FROM role_inherits WHERE tenant = $1 AND role = $2 AND parent = $3";
const EDGES: &str = "SELECT role, parent FROM role_inherits WHERE tenant = $1";
/// PostgreSQL only: serialises a tenant's batches that add inheritance edges or delete roles, from their first
/// statement, so each one's cycle and depth check sees every edge committed before it and no edge can be added
/// to a role a concurrent batch is deleting. (SQLite has one writer at a time anyway.) Taken before any other
/// statement, so a batch waiting for it holds no row a holder of it could wait for.
const HIERARCHY_LOCK: &str = "SELECT pg_advisory_xact_lock(1461, hashtext($1))";
/// One change of a batch, with its audit entry (when change logging is on).
#[derive(Debug, Clone)]
pub struct PendingChange {
    pub change: Change,
    pub audit: Option<AuditDraft>,
}

/// The sealed item (permission or user) or description a change stores; `None` for a role deletion.
pub(crate) fn sealed_item<'a>(
    scope: &'a TenantScope,
    change: &'a Change,
) -> Option<std::borrow::Cow<'a, str>> {
    match change {
        Change::CreateRole { description, .. } => {
            description.as_ref().map(|d| scope.codec.seal(d.as_str()))
        }
        Change::Grant { permission, .. } | Change::Revoke { permission, .. } => {
            Some(scope.codec.seal(permission.as_str()))
        }
        Change::AddMember { user, .. }
        | Change::RemoveMember { user, .. }
        | Change::ExpireMember { user, .. } => Some(scope.codec.seal(user.as_str())),
        Change::Inherit { parent, .. } | Change::Disinherit { parent, .. } => {
            Some(std::borrow::Cow::Borrowed(parent.as_str()))
        }
        Change::PutResource { resource, .. } | Change::DeleteResource { resource } => {
            Some(scope.codec.seal(resource.id().as_str()))
        }
        Change::DeleteRole { .. } => None,
    }
}

/// The resource a change's log row names besides its item, sealed: a membership's scope or a resource's parent.
pub(crate) fn sealed_scope(scope: &TenantScope, change: &Change) -> Option<(String, String)> {
    match change {
        Change::PutResource { parent, .. } => parent.as_ref(),
        Change::DeleteResource { .. } => None,
        _ => change.scope(),
    }
    .map(|resource| sealed_resource(scope, resource))
}

/// Whether a change-log op's item is sealed: a permission, member or description is; the parent role of an
/// inheritance edge is a role name, stored as given like every role name.
pub(crate) fn item_is_sealed(op: &str) -> bool {
    !op.starts_with("inheritance.")
}

/// What one statement of a batch did: rows touched, to be read as an outcome, or the outcome itself.
enum Step {
    Rows(u64),
    Outcome(RoleWrite),
}

/// Whether any change of the batch takes the hierarchy lock (see [`HIERARCHY_LOCK`]).
fn touches_hierarchy(batch: &[PendingChange]) -> bool {
    batch.iter().any(|p| {
        matches!(
            p.change,
            Change::Inherit { .. }
                | Change::DeleteRole { .. }
                | Change::PutResource { .. }
                | Change::DeleteResource { .. }
                | Change::AddMember { scope: Some(_), .. }
        )
    })
}

impl Store {
    /// Applies one change in one transaction (see the module doc).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn apply_change(
        &self,
        scope: &TenantScope,
        change: &Change,
        audit: Option<AuditDraft>,
    ) -> Result<Applied, StoreError> {
        let batch = [PendingChange {
            change: change.clone(),
            audit,
        }];
        match self.apply_changes(scope, &batch).await {
            Ok(mut applied) => Ok(applied.remove(0)),
            // The role was deleted between the existence check and the insert: the foreign key refused the row
            // and the transaction was rolled back.
            Err(StoreError::Conflict) => Ok(Applied {
                outcome: RoleWrite::RoleMissing,
                revision: self.revision(scope).await?,
            }),
            Err(err) => Err(err),
        }
    }

    /// Applies a tenant's changes in order in one transaction, so that they share one commit (group commit). Each
    /// change that did something gets its own revision and change-log row, and each audit draft its own chained
    /// entry with the outcome filled in. The tenant's head row is locked only after every data statement, and
    /// nothing after it waits on another row, so concurrent batches cannot deadlock; it stays locked through the
    /// commit, which makes revision order the commit order. Either all of the batch commits or none of it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn apply_changes(
        &self,
        scope: &TenantScope,
        batch: &[PendingChange],
    ) -> Result<Vec<Applied>, StoreError> {
        let tenant = scope.id.as_str();
        let sealed: Vec<_> = batch
            .iter()
            .map(|p| sealed_item(scope, &p.change))
            .collect();
        let scopes: Vec<Option<(String, String)>> = batch
            .iter()
            .map(|p| sealed_scope(scope, &p.change))
            .collect();
        let properties: Vec<Option<String>> = batch
            .iter()
            .map(|p| match &p.change {
                Change::PutResource { properties, .. } => properties
                    .as_ref()
                    .map(|p| scope.codec.seal(p).into_owned()),
                _ => None,
            })
            .collect();
        let now = now_millis();
        let postgres = self.is_postgres();

        let hierarchy_lock = postgres && touches_hierarchy(batch);

        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if hierarchy_lock {
                sqlx::query(HIERARCHY_LOCK)
                    .bind(tenant)
                    .execute(&mut *tx)
                    .await?;
            }
            // The tenant's edges, read on the batch's first new edge and kept current through the batch.
            let mut edges: Option<Vec<(String, String)>> = None;
            let mut outcomes = Vec::with_capacity(batch.len());
            for (i, (pending, sealed)) in batch.iter().zip(&sealed).enumerate() {
                let change = &pending.change;
                let role = change.role().as_str();
                let sealed = sealed.as_deref();
                let scoped = scopes[i].as_ref().map(|(k, id)| (k.as_str(), id.as_str()));
                let resource_exists = |kind: &str, id: &str| {
                    sqlx::query_as::<_, (i32,)>(RESOURCE_EXISTS)
                        .bind(tenant)
                        .bind(kind.to_owned())
                        .bind(id.to_owned())
                };
                if matches!(change, Change::DeleteRole { .. }) {
                    // Its edges go with it (the foreign keys' cascade).
                    edges = None;
                }
                let step = match change {
                    Change::AddMember {
                        expires_at,
                        scope: Some(_),
                        ..
                    } => {
                        let (kind, id) = scoped.unwrap_or_default();
                        if resource_exists(kind, id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .is_none()
                        {
                            Step::Outcome(RoleWrite::ResourceMissing)
                        } else {
                            let existing: Option<(Option<i64>,)> = sqlx::query_as(SCOPED_EXPIRY)
                                .bind(tenant)
                                .bind(role)
                                .bind(sealed)
                                .bind(kind)
                                .bind(id)
                                .fetch_optional(&mut *tx)
                                .await?;
                            match existing {
                                Some((current,)) if current == *expires_at => {
                                    Step::Outcome(RoleWrite::Unchanged)
                                }
                                Some((current,)) => {
                                    let expired = current.is_some_and(|at| at <= now);
                                    sqlx::query(SET_SCOPED_EXPIRY)
                                        .bind(tenant)
                                        .bind(role)
                                        .bind(sealed)
                                        .bind(kind)
                                        .bind(id)
                                        .bind(*expires_at)
                                        .execute(&mut *tx)
                                        .await?;
                                    Step::Outcome(if expired {
                                        RoleWrite::Changed
                                    } else {
                                        RoleWrite::Updated
                                    })
                                }
                                None => {
                                    let role_exists: Option<(i32,)> = sqlx::query_as(ROLE_EXISTS)
                                        .bind(tenant)
                                        .bind(role)
                                        .fetch_optional(&mut *tx)
                                        .await?;
                                    if role_exists.is_none() {
                                        Step::Outcome(RoleWrite::RoleMissing)
                                    } else {
                                        sqlx::query(ADD_SCOPED)
                                            .bind(tenant)
                                            .bind(role)
                                            .bind(sealed)
                                            .bind(kind)
                                            .bind(id)
                                            .bind(now)
                                            .bind(*expires_at)
                                            .execute(&mut *tx)
                                            .await?;
                                        Step::Outcome(RoleWrite::Changed)
                                    }
                                }
                            }
                        }
                    }
                    Change::RemoveMember { scope: Some(_), .. }
                    | Change::ExpireMember { scope: Some(_), .. } => {
                        let (kind, id) = scoped.unwrap_or_default();
                        let (sql, at) = match change {
                            Change::ExpireMember { at, .. } => (EXPIRE_SCOPED, Some(*at)),
                            _ => (REMOVE_SCOPED, None),
                        };
                        let mut query = sqlx::query(sql)
                            .bind(tenant)
                            .bind(role)
                            .bind(sealed)
                            .bind(kind)
                            .bind(id);
                        if let Some(at) = at {
                            query = query.bind(at);
                        }
                        let affected = query.execute(&mut *tx).await?.rows_affected();
                        if at.is_some() {
                            Step::Outcome(if affected > 0 {
                                RoleWrite::Changed
                            } else {
                                RoleWrite::Unchanged
                            })
                        } else {
                            Step::Rows(affected)
                        }
                    }
                    Change::PutResource { .. } => {
                        let id = sealed.unwrap_or_default();
                        let mut refused = None;
                        if let Some((parent_kind, parent_id)) = scoped {
                            if resource_exists(parent_kind, parent_id)
                                .fetch_optional(&mut *tx)
                                .await?
                                .is_none()
                            {
                                refused = Some(RoleWrite::ResourceMissing);
                            } else {
                                let path: Vec<(String, String)> = sqlx::query_as(PATH)
                                    .bind(tenant)
                                    .bind(parent_kind)
                                    .bind(parent_id)
                                    .fetch_all(&mut *tx)
                                    .await?;
                                if path.iter().any(|(k, i)| k == role && i == id) {
                                    refused = Some(RoleWrite::ResourceCycle);
                                } else {
                                    let (below,): (i64,) = sqlx::query_as(HEIGHT)
                                        .bind(tenant)
                                        .bind(role)
                                        .bind(id)
                                        .fetch_one(&mut *tx)
                                        .await?;
                                    let levels =
                                        path.len() + 1 + usize::try_from(below).unwrap_or(0);
                                    if levels > MAX_RESOURCE_DEPTH {
                                        refused = Some(RoleWrite::ResourceTooDeep);
                                    }
                                }
                            }
                        }
                        if let Some(refused) = refused {
                            Step::Outcome(refused)
                        } else {
                            type Row = (Option<String>, Option<String>, Option<String>);
                            let existing: Option<Row> = sqlx::query_as(RESOURCE_ROW)
                                .bind(tenant)
                                .bind(role)
                                .bind(id)
                                .fetch_optional(&mut *tx)
                                .await?;
                            let wanted = (
                                scoped.map(|(k, _)| k.to_owned()),
                                scoped.map(|(_, i)| i.to_owned()),
                                properties[i].clone(),
                            );
                            match existing {
                                Some(row) if row == wanted => Step::Outcome(RoleWrite::Unchanged),
                                found => {
                                    let sql = if found.is_some() {
                                        UPDATE_RESOURCE
                                    } else {
                                        INSERT_RESOURCE
                                    };
                                    sqlx::query(sql)
                                        .bind(tenant)
                                        .bind(role)
                                        .bind(id)
                                        .bind(wanted.0)
                                        .bind(wanted.1)
                                        .bind(wanted.2)
                                        .bind(now)
                                        .execute(&mut *tx)
                                        .await?;
                                    Step::Outcome(if found.is_some() {
                                        RoleWrite::Updated
                                    } else {
                                        RoleWrite::Changed
                                    })
                                }
                            }
                        }
                    }
                    Change::DeleteResource { .. } => {
                        let id = sealed.unwrap_or_default();
                        let child: Option<(i32,)> = sqlx::query_as(HAS_CHILDREN)
                            .bind(tenant)
                            .bind(role)
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if child.is_some() {
                            Step::Outcome(RoleWrite::ResourceHasChildren)
                        } else {
                            let mut affected = 0;
                            for sql in [DELETE_SCOPED_AT, DELETE_RESOURCE] {
                                affected = sqlx::query(sql)
                                    .bind(tenant)
                                    .bind(role)
                                    .bind(id)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                            }
                            // Removing is idempotent, as for roles: an absent resource is `removed: false`.
                            Step::Outcome(if affected > 0 {
                                RoleWrite::Changed
                            } else {
                                RoleWrite::Unchanged
                            })
                        }
                    }
                    Change::AddMember { expires_at, .. } => {
                        let existing: Option<(Option<i64>,)> = sqlx::query_as(MEMBERSHIP_EXPIRY)
                            .bind(tenant)
                            .bind(role)
                            .bind(sealed)
                            .fetch_optional(&mut *tx)
                            .await?;
                        match existing {
                            Some((current,)) if current == *expires_at => {
                                Step::Outcome(RoleWrite::Unchanged)
                            }
                            Some((current,)) => {
                                // An expired row not yet removed is no membership: this adds one.
                                let expired = current.is_some_and(|at| at <= now);
                                sqlx::query(SET_EXPIRY)
                                    .bind(tenant)
                                    .bind(role)
                                    .bind(sealed)
                                    .bind(*expires_at)
                                    .execute(&mut *tx)
                                    .await?;
                                Step::Outcome(if expired {
                                    RoleWrite::Changed
                                } else {
                                    RoleWrite::Updated
                                })
                            }
                            None => Step::Rows(
                                sqlx::query(ADD_TIMED_MEMBER)
                                    .bind(tenant)
                                    .bind(role)
                                    .bind(sealed)
                                    .bind(now)
                                    .bind(*expires_at)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected(),
                            ),
                        }
                    }
                    Change::ExpireMember { at, .. } => {
                        let affected = sqlx::query(EXPIRE_MEMBER)
                            .bind(tenant)
                            .bind(role)
                            .bind(sealed)
                            .bind(*at)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if affected > 0 {
                            // A user left without a role loses every JWT family in this transaction.
                            revoke_if_roleless!(tx, tenant, sealed, now);
                            Step::Outcome(RoleWrite::Changed)
                        } else {
                            Step::Outcome(RoleWrite::Unchanged)
                        }
                    }
                    Change::CreateRole { .. } | Change::Grant { .. } => {
                        let sql = match change {
                            Change::CreateRole { .. } => CREATE_ROLE,
                            _ => GRANT,
                        };
                        Step::Rows(
                            sqlx::query(sql)
                                .bind(tenant)
                                .bind(role)
                                .bind(sealed)
                                .bind(now)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected(),
                        )
                    }
                    Change::Revoke { .. } | Change::RemoveMember { .. } => {
                        let sql = if matches!(change, Change::Revoke { .. }) {
                            REVOKE
                        } else {
                            REMOVE_MEMBER
                        };
                        let affected = sqlx::query(sql)
                            .bind(tenant)
                            .bind(role)
                            .bind(sealed)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if affected > 0 && matches!(change, Change::RemoveMember { .. }) {
                            // A user left without a role loses every JWT family in this transaction.
                            revoke_if_roleless!(tx, tenant, sealed, now);
                        }
                        Step::Rows(affected)
                    }
                    Change::Inherit { parent, .. } | Change::Disinherit { parent, .. } => {
                        let parent = parent.as_str();
                        let exists = |name: &str| {
                            sqlx::query_as::<_, (i32,)>(ROLE_EXISTS)
                                .bind(tenant)
                                .bind(name.to_owned())
                        };
                        Step::Outcome(if exists(role).fetch_optional(&mut *tx).await?.is_none() {
                            RoleWrite::RoleMissing
                        } else if exists(parent).fetch_optional(&mut *tx).await?.is_none() {
                            RoleWrite::ParentMissing
                        } else if matches!(change, Change::Disinherit { .. }) {
                            let affected = sqlx::query(DISINHERIT)
                                .bind(tenant)
                                .bind(role)
                                .bind(parent)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            if let Some(edges) = edges.as_mut() {
                                edges.retain(|(r, p)| !(r == role && p == parent));
                            }
                            if affected > 0 {
                                RoleWrite::Changed
                            } else {
                                RoleWrite::Unchanged
                            }
                        } else if sqlx::query_as::<_, (i32,)>(EDGE_EXISTS)
                            .bind(tenant)
                            .bind(role)
                            .bind(parent)
                            .fetch_optional(&mut *tx)
                            .await?
                            .is_some()
                        {
                            RoleWrite::Unchanged
                        } else {
                            if edges.is_none() {
                                edges = Some(
                                    sqlx::query_as(EDGES)
                                        .bind(tenant)
                                        .fetch_all(&mut *tx)
                                        .await?,
                                );
                            }
                            let known = edges.get_or_insert_with(Vec::new);
                            match check_new_edge(
                                known.iter().map(|(r, p)| (r.as_str(), p.as_str())),
                                role,
                                parent,
                            ) {
                                Err(EdgeRefusal::Cycle) => RoleWrite::Cycle,
                                Err(EdgeRefusal::TooDeep) => RoleWrite::TooDeep,
                                Ok(()) => {
                                    sqlx::query(INHERIT)
                                        .bind(tenant)
                                        .bind(role)
                                        .bind(parent)
                                        .bind(now)
                                        .execute(&mut *tx)
                                        .await?;
                                    known.push((role.to_owned(), parent.to_owned()));
                                    RoleWrite::Changed
                                }
                            }
                        })
                    }
                    Change::DeleteRole { .. } => {
                        // Members whose only role this is lose every JWT family in this transaction.
                        revoke_members_left_roleless!(tx, tenant, role, now);
                        let mut affected = 0;
                        for sql in DELETE_ROLE {
                            affected = sqlx::query(sql)
                                .bind(tenant)
                                .bind(role)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                        }
                        Step::Rows(affected)
                    }
                };
                let outcome = match step {
                    Step::Outcome(outcome) => outcome,
                    Step::Rows(affected) if affected > 0 => RoleWrite::Changed,
                    Step::Rows(_) => {
                        if matches!(
                            change,
                            Change::CreateRole { .. } | Change::DeleteRole { .. }
                        ) {
                            RoleWrite::Unchanged
                        } else {
                            let exists: Option<(i32,)> = sqlx::query_as(ROLE_EXISTS)
                                .bind(tenant)
                                .bind(role)
                                .fetch_optional(&mut *tx)
                                .await?;
                            if exists.is_some() {
                                RoleWrite::Unchanged
                            } else {
                                RoleWrite::RoleMissing
                            }
                        }
                    }
                };
                outcomes.push(outcome);
            }

            let logged: Vec<LoggedChange<'_>> = batch
                .iter()
                .zip(&sealed)
                .zip(&scopes)
                .zip(&outcomes)
                .filter(|(_, outcome)| changes_model(**outcome))
                .map(|(((pending, sealed), scope), _)| LoggedChange {
                    op: pending.change.op(),
                    role: pending.change.role().as_str(),
                    item: sealed.as_deref(),
                    expires_at: match pending.change {
                        Change::AddMember { expires_at, .. } => expires_at,
                        Change::ExpireMember { at, .. } => Some(at),
                        _ => None,
                    },
                    scope: scope.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
                })
                .collect();
            let changed = logged.len() as i64;
            let last_revision = log_changes!(tx, tenant, &logged, now, postgres);
            let drafts = batch
                .iter()
                .zip(&outcomes)
                .filter_map(|(pending, outcome)| {
                    let expiry = matches!(pending.change, Change::ExpireMember { .. });
                    // Another instance removed the expired membership first and wrote its entry.
                    if expiry && *outcome != RoleWrite::Changed {
                        return None;
                    }
                    let name = if expiry {
                        "expired"
                    } else {
                        outcome_name(*outcome)
                    };
                    pending.audit.clone().map(|draft| draft.with_outcome(name))
                });
            audit_in_tx!(tx, tenant, drafts, now);

            // The changed entries took the revisions up to `last_revision`, in batch order.
            let mut revision = last_revision - changed;
            let applied = outcomes
                .iter()
                .map(|outcome| {
                    if changes_model(*outcome) {
                        revision += 1;
                    }
                    Applied {
                        outcome: *outcome,
                        revision,
                    }
                })
                .collect();
            tx.commit().await?;
            Ok(applied)
        })
    }
}

/// Whether a write's outcome changed the model: it then has a revision and a change-log row of its own.
pub fn changes_model(outcome: RoleWrite) -> bool {
    matches!(outcome, RoleWrite::Changed | RoleWrite::Updated)
}

/// How the audit trail names a write's outcome.
pub fn outcome_name(outcome: RoleWrite) -> &'static str {
    match outcome {
        RoleWrite::Changed => "changed",
        RoleWrite::Unchanged => "unchanged",
        RoleWrite::Updated => "updated",
        RoleWrite::RoleMissing => "role_not_found",
        RoleWrite::ParentMissing => "parent_not_found",
        RoleWrite::Cycle => "cycle",
        RoleWrite::TooDeep => "too_deep",
        RoleWrite::ResourceMissing => "resource_not_found",
        RoleWrite::ResourceCycle => "resource_cycle",
        RoleWrite::ResourceTooDeep => "resource_too_deep",
        RoleWrite::ResourceHasChildren => "resource_has_children",
    }
}

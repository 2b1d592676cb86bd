//! Role-based access control: writes go to the database (with their audit entry), reads come from the tenant's
//! in-memory model.
//!
//! A tenant's first write stores its encryption key material (when encryption is on); a write that would add a
//! row beyond a per-tenant quota is refused before anything is written. The quota is checked against this
//! instance's model, so writes in flight at once (on this or other instances) can pass it together: a tenant can
//! exceed a quota by at most the number of its concurrent writers, never grow without bound. Checks of a tenant
//! without data record no decision.
//!
//! Strict users (`auth` 3.7.1's, a tenant setting): decisions about a user without an active API key are
//! negative and such a user cannot be given a role. The model holds the setting and who is key-backed, so this
//! too is answered without I/O.

use crate::config::TenantQuotas;
use warden_core::domain::{Change, Name, RequestContext, Resource, TenantScope};
use warden_store::{now_millis, PendingChange, ResourceRecord, RoleWrite};

use super::audit::AuditLog;
use super::group_commit::GroupCommit;
use super::model::{Listed, ModelRef, Models, PageRequest, Reach, RoleInfo};
use super::{ServiceError, Tenants};
use warden_core::model::Explanation;
use warden_core::rules::inheritance::MAX_INHERITANCE_DEPTH;
use warden_core::rules::resources::MAX_RESOURCE_DEPTH;

/// Expired memberships one pass removes per tenant at most; the rest wait for the next pass.
const EXPIRIES_PER_PASS: usize = 256;

/// The `reason` of a decision refused under strict users, as `auth` names it.
pub const NOT_KEY_BACKED: &str = "user_not_key_backed";

/// What a write did, and the tenant's revision after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// A row was added or removed.
    pub changed: bool,
    /// An existing membership was given another expiry.
    pub updated: bool,
    pub revision: i64,
}

/// Answers and changes tenants' RBAC models. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RbacService {
    models: Models,
    audit: AuditLog,
    commits: GroupCommit,
    quotas: TenantQuotas,
    /// Stores a tenant's key material before its first write (field encryption).
    tenants: Option<Tenants>,
}

impl RbacService {
    pub fn new(models: Models, audit: AuditLog) -> Self {
        let commits = GroupCommit::new(models.clone());
        Self {
            models,
            audit,
            commits,
            quotas: TenantQuotas::default(),
            tenants: None,
        }
    }

    /// Applies the per-tenant row quotas.
    pub fn with_quotas(mut self, quotas: TenantQuotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// Stores each tenant's key material before its first write, when field encryption is on.
    pub fn with_tenants(mut self, tenants: Tenants) -> Self {
        self.tenants = Some(tenants);
        self
    }

    /// Refuses a change that would add a row beyond the tenant's quota; changes that add nothing always pass.
    async fn within_quota(&self, scope: &TenantScope, change: &Change) -> Result<(), ServiceError> {
        if matches!(
            change,
            Change::DeleteRole { .. }
                | Change::Revoke { .. }
                | Change::RemoveMember { .. }
                | Change::ExpireMember { .. }
                | Change::Disinherit { .. }
                | Change::DeleteResource { .. }
        ) {
            return Ok(());
        }
        let quotas = self.quotas;
        let model = self.model(scope, None).await?;
        let refused = model.read(|m| {
            let counts = m.counts();
            match change {
                Change::CreateRole { role, .. } => (!m.has_role(role.as_str())
                    && counts.roles >= quotas.roles)
                    .then_some(("role", quotas.roles)),
                Change::Grant { role, permission } => {
                    (m.role_has_permission(role.as_str(), permission.as_str(), Reach::Direct)
                        == Some(false)
                        && counts.grants >= quotas.grants)
                        .then_some(("grant", quotas.grants))
                }
                Change::AddMember {
                    user, role, scope, ..
                } => (m.is_member(
                    user.as_str(),
                    role.as_str(),
                    Reach::Direct,
                    scope.as_ref().map(ToString::to_string).as_deref(),
                ) == Some(false)
                    && counts.memberships >= quotas.memberships)
                    .then_some(("membership", quotas.memberships)),
                Change::PutResource { resource, .. } => (!m.has_resource(&resource.to_string())
                    && counts.resources >= quotas.resources)
                    .then_some(("resource", quotas.resources)),
                Change::Inherit { .. } => (m.counts().inheritance_edges >= quotas.grants)
                    .then_some(("inheritance edge", quotas.grants)),
                Change::DeleteRole { .. }
                | Change::Revoke { .. }
                | Change::RemoveMember { .. }
                | Change::ExpireMember { .. }
                | Change::Disinherit { .. }
                | Change::DeleteResource { .. } => None,
            }
        });
        match refused {
            Some((what, limit)) => Err(ServiceError::QuotaExceeded { what, limit }),
            None => Ok(()),
        }
    }

    /// Bounds each tenant's writes waiting to commit (`AUTH_WRITE_QUEUE_PER_TENANT`).
    pub fn with_write_queue_limit(mut self, limit: usize) -> Self {
        self.commits = self.commits.with_queue_limit(limit);
        self
    }

    /// Under strict users, refuses a membership for a user without an active API key. The model answers first;
    /// a refusal is confirmed against the database's head revision, so a key just created on another instance
    /// is not refused for this instance's lag. (A key revoked while the membership commits can still let it
    /// through, as in `auth`; checks stay negative for that user either way.)
    async fn key_backed_member(
        &self,
        scope: &TenantScope,
        change: &Change,
    ) -> Result<(), ServiceError> {
        let Change::AddMember { user, .. } = change else {
            return Ok(());
        };
        let refused =
            |model: &ModelRef| model.read(|m| m.not_key_backed(user.as_str(), now_millis()));
        if !refused(&self.model(scope, None).await?) {
            return Ok(());
        }
        if refused(&self.current_model(scope).await?) {
            return Err(ServiceError::UserNotKeyBacked(user.clone()));
        }
        Ok(())
    }

    /// The tenant's model caught up to the database's head revision (one primary-key read, then a catch-up only
    /// when behind).
    async fn current_model(&self, scope: &TenantScope) -> Result<ModelRef, ServiceError> {
        let head = self.models.store().head_revision(&scope.id).await?;
        self.model(scope, head.filter(|&h| h > 0)).await
    }

    /// Brings this instance's model of the tenant to the database's head after a write that changed who holds
    /// an API key or the `strict_users` setting, so this instance reads its own write at once; a failure only
    /// delays it to the next sweep.
    pub async fn refresh(&self, scope: &TenantScope) {
        if let Err(err) = self.current_model(scope).await {
            tracing::warn!(error = %err, "model refresh after a key or settings write failed");
        }
    }

    /// Why decisions about `user` are negative regardless of roles: `user_not_key_backed` under strict users
    /// when the user holds no active API key.
    pub async fn refusal_reason(
        &self,
        scope: &TenantScope,
        user: &Name,
        min_revision: Option<i64>,
    ) -> Result<Option<&'static str>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model
            .read(|m| m.not_key_backed(user.as_str(), now_millis()))
            .then_some(NOT_KEY_BACKED))
    }

    /// Commits a change (grouped with concurrent writes to the tenant), then applies it to this instance's model.
    /// A change under a missing role is refused (and audited as such) without writing anything else.
    pub async fn write(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        change: Change,
    ) -> Result<Written, ServiceError> {
        self.within_quota(scope, &change).await?;
        self.key_backed_member(scope, &change).await?;
        if let Some(tenants) = &self.tenants {
            tenants.ensure_key_stored(scope).await?;
        }
        let audit = self.audit.change_draft(scope, &change, context);
        let applied = self
            .commits
            .submit(
                scope,
                PendingChange {
                    change: change.clone(),
                    audit,
                },
            )
            .await?;
        match applied.outcome {
            RoleWrite::RoleMissing => Err(ServiceError::RoleNotFound(change.role().clone())),
            RoleWrite::ResourceMissing => Err(ServiceError::ResourceNotFound(
                match &change {
                    Change::PutResource {
                        parent: Some(parent),
                        ..
                    } => parent,
                    _ => change.scope().ok_or_else(|| {
                        ServiceError::Internal(anyhow::anyhow!("a resource outcome without one"))
                    })?,
                }
                .to_string(),
            )),
            RoleWrite::ResourceCycle | RoleWrite::ResourceTooDeep => {
                let Change::PutResource {
                    resource,
                    parent: Some(parent),
                    ..
                } = &change
                else {
                    return Err(ServiceError::Internal(anyhow::anyhow!(
                        "a resource placement outcome for another change"
                    )));
                };
                let (resource, parent) = (resource.to_string(), parent.to_string());
                Err(if applied.outcome == RoleWrite::ResourceCycle {
                    ServiceError::ResourceCycle { resource, parent }
                } else {
                    ServiceError::ResourceTooDeep {
                        resource,
                        parent,
                        limit: MAX_RESOURCE_DEPTH,
                    }
                })
            }
            RoleWrite::ResourceHasChildren => Err(ServiceError::ResourceHasChildren(
                change.scope().map(ToString::to_string).unwrap_or_default(),
            )),
            RoleWrite::ParentMissing | RoleWrite::Cycle | RoleWrite::TooDeep => {
                let (Change::Inherit { role, parent } | Change::Disinherit { role, parent }) =
                    change
                else {
                    return Err(ServiceError::Internal(anyhow::anyhow!(
                        "an edge outcome for a change that is no edge"
                    )));
                };
                Err(match applied.outcome {
                    RoleWrite::ParentMissing => ServiceError::RoleNotFound(parent),
                    RoleWrite::Cycle => ServiceError::InheritanceCycle { role, parent },
                    _ => ServiceError::InheritanceTooDeep {
                        role,
                        parent,
                        limit: MAX_INHERITANCE_DEPTH,
                    },
                })
            }
            RoleWrite::Unchanged => Ok(Written {
                changed: false,
                updated: false,
                revision: applied.revision,
            }),
            RoleWrite::Updated => Ok(Written {
                changed: false,
                updated: true,
                revision: applied.revision,
            }),
            RoleWrite::Changed => Ok(Written {
                changed: true,
                updated: false,
                revision: applied.revision,
            }),
        }
    }

    /// Removes the memberships that expired at `now` from the tenants loaded here, each through the write path
    /// (its own revision, change-log row and `membership.expired` audit entry). A membership extended meanwhile
    /// stays, and a removal another instance made first is not repeated. Returns how many were removed.
    pub async fn expire_due(&self, now: i64) -> usize {
        let mut removed = 0;
        for (scope, due) in self.models.due_expiries(now, EXPIRIES_PER_PASS) {
            for due in due {
                let (Ok(user), Ok(role)) = (
                    Name::parse(warden_core::domain::NameKind::User, &due.user),
                    Name::parse(warden_core::domain::NameKind::Role, &due.role),
                ) else {
                    continue;
                };
                let Ok(resource) = due.scope.as_deref().map(Resource::parse).transpose() else {
                    continue;
                };
                let change = Change::ExpireMember {
                    user,
                    role,
                    at: due.at,
                    scope: resource,
                };
                match self.write(&scope, &RequestContext::default(), change).await {
                    Ok(written) if written.changed => removed += 1,
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "removing an expired membership failed");
                        break;
                    }
                }
            }
        }
        removed
    }

    /// Brings this instance's model of `tenant` up to `revision` after a write made outside this service (e.g.
    /// a user deletion that removed memberships); a failure only delays it to the next sweep.
    pub async fn observed(&self, tenant: &warden_core::domain::TenantId, revision: i64) {
        if let Err(err) = self.models.observed(tenant, revision).await {
            tracing::warn!(error = %err, "model catch-up after a user deletion failed");
        }
    }

    /// The tenant's model, no older than `min_revision` when given.
    pub async fn model(
        &self,
        scope: &TenantScope,
        min_revision: Option<i64>,
    ) -> Result<ModelRef, ServiceError> {
        Ok(self.models.get(scope, min_revision).await?)
    }

    /// Whether any of the user's roles grants the permission; an unknown user simply has none, and under strict
    /// users neither has one without an active API key.
    pub async fn user_has_permission(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
        permission: &Name,
        asked: Asked<'_>,
    ) -> Result<bool, ServiceError> {
        self.decide(scope, context, user, permission, asked, true)
            .await
    }

    /// [`Self::user_has_permission`] for the holder of an API key just validated: key-backed by construction,
    /// so strict users does not apply (this instance's model may not know the key yet).
    pub async fn key_holder_has_permission(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
        permission: &Name,
    ) -> Result<bool, ServiceError> {
        self.decide(scope, context, user, permission, Asked::default(), false)
            .await
    }

    async fn decide(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
        permission: &Name,
        asked: Asked<'_>,
        strict: bool,
    ) -> Result<bool, ServiceError> {
        let Asked {
            resource,
            min_revision,
        } = asked;
        let model = self.model(scope, min_revision).await?;
        let at = resource.map(ToString::to_string);
        let allowed = model.read(|m| {
            !(strict && m.not_key_backed(user.as_str(), now_millis()))
                && m.user_has_permission_on(user.as_str(), permission.as_str(), at.as_deref())
        });
        if model.is_dataless() {
            // A key that never wrote anything leaves no trace, so random keys cannot fill the trail.
            return Ok(allowed);
        }
        self.audit.decision(
            &scope.id,
            "check.user_permission",
            || {
                let target = format!(
                    "user={} permission={}",
                    self.audit.user_ref(&scope.id, user),
                    self.audit.permission_ref(scope, permission)
                );
                match resource {
                    Some(resource) => {
                        format!("{target} {}", self.audit.resource_ref(scope, resource))
                    }
                    None => target,
                }
            },
            allowed,
            context,
        );
        Ok(allowed)
    }

    pub async fn role_has_permission(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        role: &Name,
        permission: &Name,
        reach: Reach,
        min_revision: Option<i64>,
    ) -> Result<bool, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        let allowed = model
            .read(|m| m.role_has_permission(role.as_str(), permission.as_str(), reach))
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))?;
        self.audit.decision(
            &scope.id,
            "check.role_permission",
            || {
                format!(
                    "role={role} permission={}",
                    self.audit.permission_ref(scope, permission)
                )
            },
            allowed,
            context,
        );
        Ok(allowed)
    }

    pub async fn is_member(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
        role: &Name,
        reach: Reach,
        asked: Asked<'_>,
    ) -> Result<bool, ServiceError> {
        let Asked {
            resource,
            min_revision,
        } = asked;
        let model = self.model(scope, min_revision).await?;
        let at = resource.map(ToString::to_string);
        let member = model
            .read(|m| {
                m.is_member(user.as_str(), role.as_str(), reach, at.as_deref())
                    .map(|member| member && !m.not_key_backed(user.as_str(), now_millis()))
            })
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))?;
        self.audit.decision(
            &scope.id,
            "check.membership",
            || format!("role={role} user={}", self.audit.user_ref(&scope.id, user)),
            member,
            context,
        );
        Ok(member)
    }

    pub async fn user_permissions(
        &self,
        scope: &TenantScope,
        user: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<String>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model.read(|m| {
            if m.not_key_backed(user.as_str(), now_millis()) {
                Vec::new()
            } else {
                m.user_permissions(user.as_str())
            }
        }))
    }

    pub async fn user_roles(
        &self,
        scope: &TenantScope,
        user: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<RoleInfo>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model.read(|m| m.user_roles(user.as_str())))
    }

    /// One page of a sorted listing of names (see [`NameListing`]); a role-scoped listing of a missing role is
    /// [`ServiceError::RoleNotFound`]. The page is picked under the model's read lock without sorting the rest.
    pub async fn names(
        &self,
        scope: &TenantScope,
        listing: NameListing<'_>,
        page: PageRequest<'_>,
        min_revision: Option<i64>,
    ) -> Result<Listed<String>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        let missing = |role: &Name| ServiceError::RoleNotFound(role.clone());
        model.read(|m| match listing {
            NameListing::UserPermissions(user, _) | NameListing::UserResources(user, ..)
                if m.not_key_backed(user.as_str(), now_millis()) =>
            {
                Ok(Listed {
                    items: Vec::new(),
                    more: false,
                })
            }
            NameListing::UserPermissions(user, resource) => Ok(m.user_permissions_page(
                user.as_str(),
                resource.map(ToString::to_string).as_deref(),
                page,
            )),
            NameListing::RolePermissions(role, reach) => m
                .role_permissions_page(role.as_str(), reach, page)
                .ok_or_else(|| missing(role)),
            NameListing::Members(role, reach, resource) => m
                .role_members_page(
                    role.as_str(),
                    reach,
                    resource.map(ToString::to_string).as_deref(),
                    page,
                )
                .ok_or_else(|| missing(role)),
            NameListing::WhichUsersCan(permission, resource) => Ok(m.which_users_can_page(
                permission.as_str(),
                resource.map(ToString::to_string).as_deref(),
                page,
            )),
            NameListing::UserResources(user, permission, kind) => {
                Ok(m.user_resources_page(user.as_str(), permission.as_str(), kind.as_str(), page))
            }
            NameListing::Resources(kind) => Ok(m.resources_page(kind.as_str(), page)),
        })
    }

    /// The path that makes `user` hold `permission` now: the membership, the inheritance chain and the grant;
    /// `None` when nothing does (or strict users refuses the user). Off the decision path, for `?explain=true`.
    pub async fn explain(
        &self,
        scope: &TenantScope,
        user: &Name,
        permission: &Name,
        resource: Option<&Resource>,
        min_revision: Option<i64>,
    ) -> Result<Option<Explanation>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        let now = now_millis();
        let at = resource.map(ToString::to_string);
        Ok(model.read(|m| {
            if m.not_key_backed(user.as_str(), now) {
                None
            } else {
                m.explain(user.as_str(), permission.as_str(), at.as_deref(), now)
            }
        }))
    }

    /// A resource with its parent and properties, as stored; `None` when it does not exist.
    pub async fn resource(
        &self,
        scope: &TenantScope,
        resource: &Resource,
    ) -> Result<Option<ResourceRecord>, ServiceError> {
        Ok(self.models.store().resource(scope, resource).await?)
    }

    /// When each (user, role) membership of the role itself expires (Unix ms), `None` for one that does not
    /// (or is absent): for the listings that show expiries. At a resource, see
    /// [`warden_core::model::TenantModel::membership_expiry`].
    pub async fn membership_expiries(
        &self,
        scope: &TenantScope,
        pairs: &[(&str, &str)],
        resource: Option<&Resource>,
        reach: Reach,
    ) -> Result<Vec<Option<i64>>, ServiceError> {
        let model = self.model(scope, None).await?;
        let at = resource.map(ToString::to_string);
        Ok(model.read(|m| {
            pairs
                .iter()
                .map(|(user, role)| m.membership_expiry(user, role, at.as_deref(), reach))
                .collect()
        }))
    }

    /// One page of a sorted listing of roles (see [`RoleListing`]).
    pub async fn role_listing(
        &self,
        scope: &TenantScope,
        listing: RoleListing<'_>,
        page: PageRequest<'_>,
        min_revision: Option<i64>,
    ) -> Result<Listed<RoleInfo>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        model.read(|m| match listing {
            RoleListing::All => Ok(m.roles_page(page)),
            RoleListing::OfUser(user, reach, resource) => Ok(m.user_roles_page(
                user.as_str(),
                reach,
                resource.map(ToString::to_string).as_deref(),
                page,
            )),
            RoleListing::Granting(permission) => {
                Ok(m.which_roles_can_page(permission.as_str(), page))
            }
            RoleListing::Inherited(role, reach) => m
                .inherited_page(role.as_str(), reach, page)
                .ok_or_else(|| ServiceError::RoleNotFound(role.clone())),
        })
    }
}

/// Where a question is asked and how fresh its answer must be: at a resource (memberships scoped to it or an
/// ancestor count too) or everywhere, from a model at least at `min_revision`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    pub resource: Option<&'a Resource>,
    pub min_revision: Option<i64>,
}

/// The listings of names, sorted by byte order.
#[derive(Debug, Clone, Copy)]
pub enum NameListing<'a> {
    /// A user's permissions through all their roles, each once; at a resource, through the memberships scoped
    /// to it or an ancestor too.
    UserPermissions(&'a Name, Option<&'a Resource>),
    /// A role's permissions (the role must exist); with [`Reach::Effective`] those of the roles it inherits too.
    RolePermissions(&'a Name, Reach),
    /// A role's members (the role must exist); with [`Reach::Effective`] those of the roles inheriting it too.
    /// At a resource, members by a membership scoped to it or an ancestor count too.
    Members(&'a Name, Reach, Option<&'a Resource>),
    /// The users holding a permission through any role, each once (at a resource: scoped ones too).
    WhichUsersCan(&'a Name, Option<&'a Resource>),
    /// The resources (`type:id`) of a type a user may act on with a permission, paged by id.
    UserResources(&'a Name, &'a Name, &'a Name),
    /// The resources of a type, paged by id.
    Resources(&'a Name),
}

/// The listings of roles, sorted by name.
#[derive(Debug, Clone, Copy)]
pub enum RoleListing<'a> {
    All,
    /// A user's roles; with [`Reach::Effective`] the roles those inherit too.
    /// At a resource, roles held by a membership scoped to it or an ancestor count too.
    OfUser(&'a Name, Reach, Option<&'a Resource>),
    /// The roles granting a permission, directly or through inheritance.
    Granting(&'a Name),
    /// The roles a role inherits (the role must exist): its own edges, or with [`Reach::Effective`] every role
    /// reached through them.
    Inherited(&'a Name, Reach),
}

//! Read-only questions: who can do what, and the listings around it.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::optional_time;
use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Effective, Scope, Tenant};
use super::paging::Paging;
use super::views;
use super::{ApiError, ApiResult, AppState};
use crate::metrics::Check;
use crate::service::{Asked, NameListing, Reach, RoleListing};
use warden_api::Name as WireName;
use warden_api::{
    DecisionPath, EffectiveQuery, Envelope, ExplainQuery, Failures, HasPermission, ListingQuery,
    PageEnvelope, PathGrant, PathMembership, Permission, ReadQuery, ResourceQuery, Role, UserName,
};
use warden_core::domain::{NameKind, RequestContext, TenantScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(has_permission))
        .routes(routes!(user_permissions))
        .routes(routes!(user_roles))
        .routes(routes!(role_permissions))
        .routes(routes!(members))
        .routes(routes!(which_roles_can))
        .routes(routes!(which_users_can))
}

#[utoipa::path(
    get,
    path = "/api/has_permission/{user}/{name}",
    tag = "checks",
    params(("user" = WireName, Path, description = "user name"), ("name" = WireName, Path, description = "permission name"), ReadQuery, ExplainQuery, ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "whether any of the user's roles grants it", body = Envelope<HasPermission>),
        Failures,
    )
)]
async fn has_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath((user, permission)): ApiPath<(String, String)>,
    consistency: Consistency,
    explain: Explain,
    Scope(resource): Scope,
) -> ApiResult {
    let (has_permission, reason) = user_permission(
        &state,
        &tenant,
        &context,
        &user,
        &permission,
        resource.as_ref(),
        &consistency,
    )
    .await?;
    let explanation = if explain.0 && has_permission {
        let (user, permission) = (
            name(NameKind::User, &user)?,
            name(NameKind::Permission, &permission)?,
        );
        state
            .rbac
            .explain(
                &tenant,
                &user,
                &permission,
                resource.as_ref(),
                consistency.min_revision,
            )
            .await?
            .map(decision_path)
    } else {
        None
    };
    Ok(ok(
        "permission checked",
        HasPermission {
            has_permission,
            reason: reason.map(str::to_owned),
            explanation,
        },
    ))
}

/// `?explain=true`: a positive answer says why.
#[derive(Debug, Clone, Copy, Default)]
struct Explain(bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Explain {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let axum::extract::Query(query) =
            axum::extract::Query::<ExplainQuery>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::bad_request("explain must be true or false"))?;
        Ok(Self(query.explain == Some(true)))
    }
}

fn decision_path(why: warden_core::model::Explanation) -> DecisionPath {
    DecisionPath {
        grant: PathGrant {
            role: why.chain.last().cloned().unwrap_or_default(),
            permission: why.granted,
            pattern: why.pattern,
        },
        membership: PathMembership {
            role: why.member_of,
            scope: why.scope,
            expires_at: optional_time(why.expires_at),
        },
        inheritance: why.chain,
    }
}

/// Whether one of the user's roles grants the permission (names as the path gives them), counted in the decision
/// metrics: the seed's `has_permission` and the workflow route's `can_run` ask the same question. A negative
/// answer comes with the seed's `reason` when strict users made it so.
pub(super) async fn user_permission(
    state: &AppState,
    tenant: &TenantScope,
    context: &RequestContext,
    user: &str,
    permission: &str,
    resource: Option<&warden_core::domain::Resource>,
    consistency: &Consistency,
) -> Result<(bool, Option<&'static str>), ApiError> {
    let user = name(NameKind::User, user)?;
    let permission = name(NameKind::Permission, permission)?;
    let has_permission = state
        .rbac
        .user_has_permission(
            tenant,
            context,
            &user,
            &permission,
            Asked {
                resource,
                min_revision: consistency.min_revision,
            },
        )
        .await?;
    state
        .metrics
        .decision(Check::UserPermission, has_permission);
    let reason = if has_permission {
        None
    } else {
        state
            .rbac
            .refusal_reason(tenant, &user, consistency.min_revision)
            .await?
    };
    Ok((has_permission, reason))
}

#[utoipa::path(
    get,
    path = "/api/user_permissions/{user}",
    tag = "checks",
    params(("user" = WireName, Path, description = "user name"), ListingQuery, ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's permissions, sorted", body = PageEnvelope<Vec<Permission>>),
        Failures,
    )
)]
async fn user_permissions(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
    consistency: Consistency,
    Scope(resource): Scope,
    paging: Paging,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let listing = NameListing::UserPermissions(&user, resource.as_ref());
    let page = state
        .rbac
        .names(&tenant, listing, paging.request(), consistency.min_revision)
        .await?;
    Ok(paging.answer(
        "user permissions listed",
        page,
        String::as_str,
        views::permissions,
    ))
}

#[utoipa::path(
    get,
    path = "/api/user_roles/{user}",
    tag = "checks",
    params(("user" = WireName, Path, description = "user name"), ListingQuery, EffectiveQuery, ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's roles, sorted", body = PageEnvelope<Vec<Role>>),
        Failures,
    )
)]
async fn user_roles(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
    consistency: Consistency,
    Effective(reach): Effective,
    Scope(resource): Scope,
    paging: Paging,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let page = state
        .rbac
        .role_listing(
            &tenant,
            RoleListing::OfUser(&user, reach, resource.as_ref()),
            paging.request(),
            consistency.min_revision,
        )
        .await?;
    let pairs: Vec<(&str, &str)> = page
        .items
        .iter()
        .map(|r| (user.as_str(), r.name.as_str()))
        .collect();
    let expiries = state
        .rbac
        .membership_expiries(&tenant, &pairs, resource.as_ref(), Reach::Effective)
        .await?;
    Ok(
        paging.answer("user roles listed", page, role_name, |roles| {
            views::roles(roles)
                .into_iter()
                .zip(expiries)
                .map(|(role, expires_at)| Role {
                    expires_at: optional_time(expires_at),
                    ..role
                })
                .collect::<Vec<_>>()
        }),
    )
}

#[utoipa::path(
    get,
    path = "/api/role_permissions/{role}",
    tag = "checks",
    params(("role" = WireName, Path, description = "role name"), ListingQuery, EffectiveQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the role's permissions, sorted", body = PageEnvelope<Vec<Permission>>),
        Failures,
    )
)]
async fn role_permissions(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
    Effective(reach): Effective,
    paging: Paging,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let listing = NameListing::RolePermissions(&role, reach);
    let page = state
        .rbac
        .names(&tenant, listing, paging.request(), consistency.min_revision)
        .await?;
    Ok(paging.answer(
        "role permissions listed",
        page,
        String::as_str,
        views::permissions,
    ))
}

#[utoipa::path(
    get,
    path = "/api/members/{role}",
    tag = "checks",
    params(("role" = WireName, Path, description = "role name"), ListingQuery, EffectiveQuery, ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the role's members, sorted", body = PageEnvelope<Vec<UserName>>),
        Failures,
    )
)]
async fn members(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
    Effective(reach): Effective,
    Scope(resource): Scope,
    paging: Paging,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let listing = NameListing::Members(&role, reach, resource.as_ref());
    let page = state
        .rbac
        .names(&tenant, listing, paging.request(), consistency.min_revision)
        .await?;
    let pairs: Vec<(&str, &str)> = page
        .items
        .iter()
        .map(|u| (u.as_str(), role.as_str()))
        .collect();
    let expiries = state
        .rbac
        .membership_expiries(&tenant, &pairs, resource.as_ref(), Reach::Effective)
        .await?;
    Ok(
        paging.answer("role members listed", page, String::as_str, |users| {
            users
                .into_iter()
                .zip(expiries)
                .map(|(user, expires_at)| UserName {
                    user,
                    expires_at: optional_time(expires_at),
                })
                .collect::<Vec<_>>()
        }),
    )
}

#[utoipa::path(
    get,
    path = "/api/which_roles_can/{name}",
    tag = "checks",
    params(("name" = WireName, Path, description = "permission name"), ListingQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "roles granting the permission", body = PageEnvelope<Vec<Role>>),
        Failures,
    )
)]
async fn which_roles_can(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(permission): ApiPath<String>,
    consistency: Consistency,
    paging: Paging,
) -> ApiResult {
    let permission = name(NameKind::Permission, &permission)?;
    let page = state
        .rbac
        .role_listing(
            &tenant,
            RoleListing::Granting(&permission),
            paging.request(),
            consistency.min_revision,
        )
        .await?;
    Ok(paging.answer(
        "roles with permission listed",
        page,
        role_name,
        views::roles,
    ))
}

#[utoipa::path(
    get,
    path = "/api/which_users_can/{name}",
    tag = "checks",
    params(("name" = WireName, Path, description = "permission name"), ListingQuery, ResourceQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "users holding the permission", body = PageEnvelope<Vec<UserName>>),
        Failures,
    )
)]
async fn which_users_can(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(permission): ApiPath<String>,
    consistency: Consistency,
    Scope(resource): Scope,
    paging: Paging,
) -> ApiResult {
    let permission = name(NameKind::Permission, &permission)?;
    let listing = NameListing::WhichUsersCan(&permission, resource.as_ref());
    let page = state
        .rbac
        .names(&tenant, listing, paging.request(), consistency.min_revision)
        .await?;
    Ok(paging.answer(
        "users with permission listed",
        page,
        String::as_str,
        views::users,
    ))
}

/// A role's sort key, for the next page's cursor.
fn role_name(role: &crate::service::RoleInfo) -> &str {
    &role.name
}

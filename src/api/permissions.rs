//! `GET|POST|DELETE /api/permission/{role}/{name}`: a role's grants.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Effective, Tenant};
use super::views;
use super::{ApiError, ApiResult, AppState};
use crate::metrics::Check;
use warden_api::EffectiveQuery;
use warden_api::GrantedName;
use warden_api::Name as WireName;
use warden_api::{Created, Envelope, Failures, HasPermission, ReadQuery, Removed};
use warden_core::domain::{Change, Name, NameKind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(role_has_permission, grant, revoke))
}

fn role_and_permission((role, permission): (String, String)) -> Result<(Name, Name), ApiError> {
    Ok((
        name(NameKind::Role, &role)?,
        name(NameKind::GrantedPermission, &permission)?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/permission/{role}/{name}",
    tag = "roles",
    params(("role" = WireName, Path, description = "role name"), ("name" = GrantedName, Path, description = "permission name; `*` matches any run of characters"), ReadQuery, EffectiveQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "whether the role grants the permission", body = Envelope<HasPermission>),
        Failures,
    )
)]
async fn role_has_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    consistency: Consistency,
    Effective(reach): Effective,
) -> ApiResult {
    let (role, permission) = role_and_permission(path)?;
    let has_permission = state
        .rbac
        .role_has_permission(
            &tenant,
            &context,
            &role,
            &permission,
            reach,
            consistency.min_revision,
        )
        .await?;
    state
        .metrics
        .decision(Check::RolePermission, has_permission);
    Ok(ok(
        "permission checked",
        HasPermission {
            has_permission,
            reason: None,
            explanation: None,
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/permission/{role}/{name}",
    tag = "roles",
    params(("role" = WireName, Path, description = "role name"), ("name" = GrantedName, Path, description = "permission name; `*` matches any run of characters")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "granted, or `created: false`", body = Envelope<Created>),
        Failures,
    )
)]
async fn grant(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let (role, permission) = role_and_permission(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::Grant { role, permission })
        .await?;
    let message = if written.changed {
        "permission granted"
    } else {
        "permission was already granted"
    };
    Ok(ok(message, views::created(written)))
}

#[utoipa::path(
    delete,
    path = "/api/permission/{role}/{name}",
    tag = "roles",
    params(("role" = WireName, Path, description = "role name"), ("name" = GrantedName, Path, description = "permission name; `*` matches any run of characters")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "revoked, or `removed: false`", body = Envelope<Removed>),
        Failures,
    )
)]
async fn revoke(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let (role, permission) = role_and_permission(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::Revoke { role, permission })
        .await?;
    let message = if written.changed {
        "permission revoked"
    } else {
        "permission was not granted"
    };
    Ok(ok(message, views::removed(written)))
}

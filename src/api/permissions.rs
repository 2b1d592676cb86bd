//! `GET|POST|DELETE /api/permission/{role}/{name}`: a role's grants.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::envelope::ok;
use super::extract::{name, ApiPath, Tenant};
use super::views::{Created, HasPermission, Removed};
use super::{ApiResult, AppState};
use crate::domain::NameKind;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/permission/{role}/{name}",
        get(role_has_permission).post(grant).delete(revoke),
    )
}

async fn role_has_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((role, permission)): ApiPath<(String, String)>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let permission = name(NameKind::Permission, &permission)?;
    let has_permission = state
        .rbac
        .role_has_permission(&tenant, &role, &permission)
        .await?;
    Ok(ok("permission checked", HasPermission { has_permission }))
}

async fn grant(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((role, permission)): ApiPath<(String, String)>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let permission = name(NameKind::Permission, &permission)?;
    let created = state.rbac.grant(&tenant, &role, &permission).await?;
    let message = if created {
        "permission granted"
    } else {
        "permission was already granted"
    };
    Ok(ok(message, Created { created }))
}

async fn revoke(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((role, permission)): ApiPath<(String, String)>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let permission = name(NameKind::Permission, &permission)?;
    let removed = state.rbac.revoke(&tenant, &role, &permission).await?;
    let message = if removed {
        "permission revoked"
    } else {
        "permission was not granted"
    };
    Ok(ok(message, Removed { removed }))
}

//! `GET|POST|DELETE /api/permission/{role}/{name}`: a role's grants.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Tenant};
use super::views::{Created, HasPermission, Removed};
use super::{ApiError, ApiResult, AppState};
use crate::domain::{Change, Name, NameKind};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/permission/{role}/{name}",
        get(role_has_permission).post(grant).delete(revoke),
    )
}

fn role_and_permission((role, permission): (String, String)) -> Result<(Name, Name), ApiError> {
    Ok((
        name(NameKind::Role, &role)?,
        name(NameKind::Permission, &permission)?,
    ))
}

async fn role_has_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    consistency: Consistency,
) -> ApiResult {
    let (role, permission) = role_and_permission(path)?;
    let has_permission = state
        .rbac
        .role_has_permission(
            &tenant,
            &context,
            &role,
            &permission,
            consistency.min_revision,
        )
        .await?;
    Ok(ok("permission checked", HasPermission { has_permission }))
}

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
    Ok(ok(message, Created::from(written)))
}

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
    Ok(ok(message, Removed::from(written)))
}

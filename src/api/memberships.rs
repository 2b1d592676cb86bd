//! `GET|POST|DELETE /api/membership/{user}/{role}`: users' memberships in roles.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::envelope::ok;
use super::extract::{name, ApiPath, Tenant};
use super::views::{Created, IsMember, Removed};
use super::{ApiResult, AppState};
use crate::domain::NameKind;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/membership/{user}/{role}",
        get(is_member).post(add_member).delete(remove_member),
    )
}

async fn is_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((user, role)): ApiPath<(String, String)>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let role = name(NameKind::Role, &role)?;
    let is_member = state.rbac.is_member(&tenant, &user, &role).await?;
    Ok(ok("membership checked", IsMember { is_member }))
}

async fn add_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((user, role)): ApiPath<(String, String)>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let role = name(NameKind::Role, &role)?;
    let created = state.rbac.add_member(&tenant, &user, &role).await?;
    let message = if created {
        "membership added"
    } else {
        "membership already exists"
    };
    Ok(ok(message, Created { created }))
}

async fn remove_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((user, role)): ApiPath<(String, String)>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let role = name(NameKind::Role, &role)?;
    let removed = state.rbac.remove_member(&tenant, &user, &role).await?;
    let message = if removed {
        "membership removed"
    } else {
        "membership did not exist"
    };
    Ok(ok(message, Removed { removed }))
}

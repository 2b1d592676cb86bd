//! Read-only questions: who can do what, and the listings around it.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Tenant};
use super::views::{self, HasPermission};
use super::{ApiResult, AppState};
use crate::domain::NameKind;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/has_permission/{user}/{name}", get(has_permission))
        .route("/api/user_permissions/{user}", get(user_permissions))
        .route("/api/user_roles/{user}", get(user_roles))
        .route("/api/role_permissions/{role}", get(role_permissions))
        .route("/api/members/{role}", get(members))
        .route("/api/which_roles_can/{name}", get(which_roles_can))
        .route("/api/which_users_can/{name}", get(which_users_can))
}

async fn has_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath((user, permission)): ApiPath<(String, String)>,
    consistency: Consistency,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let permission = name(NameKind::Permission, &permission)?;
    let has_permission = state
        .rbac
        .user_has_permission(
            &tenant,
            &context,
            &user,
            &permission,
            consistency.min_revision,
        )
        .await?;
    Ok(ok("permission checked", HasPermission { has_permission }))
}

async fn user_permissions(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let permissions = state
        .rbac
        .user_permissions(&tenant, &user, consistency.min_revision)
        .await?;
    Ok(ok(
        "user permissions listed",
        views::permissions(permissions),
    ))
}

async fn user_roles(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let roles = state
        .rbac
        .user_roles(&tenant, &user, consistency.min_revision)
        .await?;
    Ok(ok("user roles listed", views::roles(roles)))
}

async fn role_permissions(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let permissions = state
        .rbac
        .role_permissions(&tenant, &role, consistency.min_revision)
        .await?;
    Ok(ok(
        "role permissions listed",
        views::permissions(permissions),
    ))
}

async fn members(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let members = state
        .rbac
        .role_members(&tenant, &role, consistency.min_revision)
        .await?;
    Ok(ok("role members listed", views::users(members)))
}

async fn which_roles_can(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(permission): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let permission = name(NameKind::Permission, &permission)?;
    let roles = state
        .rbac
        .which_roles_can(&tenant, &permission, consistency.min_revision)
        .await?;
    Ok(ok("roles with permission listed", views::roles(roles)))
}

async fn which_users_can(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(permission): ApiPath<String>,
    consistency: Consistency,
) -> ApiResult {
    let permission = name(NameKind::Permission, &permission)?;
    let users = state
        .rbac
        .which_users_can(&tenant, &permission, consistency.min_revision)
        .await?;
    Ok(ok("users with permission listed", views::users(users)))
}

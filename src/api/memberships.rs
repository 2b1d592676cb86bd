//! `GET|POST|DELETE /api/membership/{user}/{role}`: users' memberships in roles.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Tenant};
use super::views::{Created, IsMember, Removed};
use super::{ApiError, ApiResult, AppState};
use crate::domain::{Change, Name, NameKind};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/membership/{user}/{role}",
        get(is_member).post(add_member).delete(remove_member),
    )
}

fn user_and_role((user, role): (String, String)) -> Result<(Name, Name), ApiError> {
    Ok((name(NameKind::User, &user)?, name(NameKind::Role, &role)?))
}

async fn is_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    consistency: Consistency,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let is_member = state
        .rbac
        .is_member(&tenant, &context, &user, &role, consistency.min_revision)
        .await?;
    Ok(ok("membership checked", IsMember { is_member }))
}

async fn add_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::AddMember { user, role })
        .await?;
    let message = if written.changed {
        "membership added"
    } else {
        "membership already exists"
    };
    Ok(ok(message, Created::from(written)))
}

async fn remove_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::RemoveMember { user, role })
        .await?;
    let message = if written.changed {
        "membership removed"
    } else {
        "membership did not exist"
    };
    Ok(ok(message, Removed::from(written)))
}

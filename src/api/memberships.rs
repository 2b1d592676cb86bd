//! `GET|POST|DELETE /api/membership/{user}/{role}`: users' memberships in roles.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Effective, Tenant};
use super::views;
use super::{ApiError, ApiResult, AppState};
use crate::metrics::Check;
use warden_api::EffectiveQuery;
use warden_api::Name as WireName;
use warden_api::{Created, Envelope, Failures, IsMember, ReadQuery, Removed};
use warden_core::domain::{Change, Name, NameKind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(is_member, add_member, remove_member))
}

fn user_and_role((user, role): (String, String)) -> Result<(Name, Name), ApiError> {
    Ok((name(NameKind::User, &user)?, name(NameKind::Role, &role)?))
}

#[utoipa::path(
    get,
    path = "/api/membership/{user}/{role}",
    tag = "roles",
    params(("user" = WireName, Path, description = "user name"), ("role" = WireName, Path, description = "role name"), ReadQuery, EffectiveQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "whether the user is in the role", body = Envelope<IsMember>),
        Failures,
    )
)]
async fn is_member(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    consistency: Consistency,
    Effective(reach): Effective,
) -> ApiResult {
    let (user, role) = user_and_role(path)?;
    let is_member = state
        .rbac
        .is_member(
            &tenant,
            &context,
            &user,
            &role,
            reach,
            consistency.min_revision,
        )
        .await?;
    state.metrics.decision(Check::Membership, is_member);
    let reason = if is_member {
        None
    } else {
        state
            .rbac
            .refusal_reason(&tenant, &user, consistency.min_revision)
            .await?
    };
    Ok(ok(
        "membership checked",
        IsMember {
            is_member,
            reason: reason.map(str::to_owned),
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/membership/{user}/{role}",
    tag = "roles",
    params(("user" = WireName, Path, description = "user name"), ("role" = WireName, Path, description = "role name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "added, or `created: false`", body = Envelope<Created>),
        Failures,
    )
)]
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
    Ok(ok(message, views::created(written)))
}

#[utoipa::path(
    delete,
    path = "/api/membership/{user}/{role}",
    tag = "roles",
    params(("user" = WireName, Path, description = "user name"), ("role" = WireName, Path, description = "role name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "removed, or `removed: false`", body = Envelope<Removed>),
        Failures,
    )
)]
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
    Ok(ok(message, views::removed(written)))
}

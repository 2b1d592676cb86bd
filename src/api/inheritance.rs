//! `POST|DELETE /api/role/{role}/inherits/{other}` and `GET /api/role/{role}/inherits`: role hierarchy. A role
//! gains everything the roles it inherits grant.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Tenant, Transitive};
use super::paging::Paging;
use super::views;
use super::{ApiError, ApiResult, AppState};
use crate::service::RoleListing;
use warden_api::Name as WireName;
use warden_api::{
    Created, Envelope, Failures, ListingQuery, PageEnvelope, Removed, Role, TransitiveQuery,
};
use warden_core::domain::{Change, Name, NameKind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inherit, disinherit))
        .routes(routes!(inherited))
}

fn role_and_other((role, other): (String, String)) -> Result<(Name, Name), ApiError> {
    Ok((name(NameKind::Role, &role)?, name(NameKind::Role, &other)?))
}

#[utoipa::path(
    post,
    path = "/api/role/{role}/inherits/{other}",
    tag = "roles",
    params(
        ("role" = WireName, Path, description = "the role that gains what `other` grants"),
        ("other" = WireName, Path, description = "the role inherited")
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "added, or `created: false` when the edge exists", body = Envelope<Created>),
        Failures,
    )
)]
/// `role` gains everything `other` grants, directly or through what `other` inherits. 404 when either role does
/// not exist; 409 when the edge would form a cycle (`reason: inheritance_cycle`) or a chain of more than 16 edges
/// (`reason: inheritance_too_deep`).
async fn inherit(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let (role, parent) = role_and_other(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::Inherit { role, parent })
        .await?;
    let message = if written.changed {
        "inheritance added"
    } else {
        "role already inherits it"
    };
    Ok(ok(message, views::created(written)))
}

#[utoipa::path(
    delete,
    path = "/api/role/{role}/inherits/{other}",
    tag = "roles",
    params(
        ("role" = WireName, Path, description = "the inheriting role"),
        ("other" = WireName, Path, description = "the role inherited")
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "removed, or `removed: false` when there was no such edge", body = Envelope<Removed>),
        Failures,
    )
)]
/// Removes the edge; what `role` held only through it is gone from the answer on. 404 when either role does not
/// exist.
async fn disinherit(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let (role, parent) = role_and_other(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::Disinherit { role, parent })
        .await?;
    let message = if written.changed {
        "inheritance removed"
    } else {
        "role did not inherit it"
    };
    Ok(ok(message, views::removed(written)))
}

#[utoipa::path(
    get,
    path = "/api/role/{role}/inherits",
    tag = "roles",
    params(("role" = WireName, Path, description = "role name"), ListingQuery, TransitiveQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the roles it inherits, sorted: its own edges, or with `transitive=true` every role reached through them", body = PageEnvelope<Vec<Role>>),
        Failures,
    )
)]
async fn inherited(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    consistency: Consistency,
    Transitive(reach): Transitive,
    paging: Paging,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let page = state
        .rbac
        .role_listing(
            &tenant,
            RoleListing::Inherited(&role, reach),
            paging.request(),
            consistency.min_revision,
        )
        .await?;
    Ok(paging.answer(
        "inherited roles listed",
        page,
        |role| role.name.as_str(),
        views::roles,
    ))
}

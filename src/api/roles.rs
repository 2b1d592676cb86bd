//! `GET /api/roles`, `POST|DELETE /api/role/{role}`.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, OptionalJson, Tenant};
use super::paging::Paging;
use super::views;
use super::{ApiError, ApiResult, AppState};
use crate::service::RoleListing;
use warden_api::Name as WireName;
use warden_api::{Created, Envelope, Failures, ListingQuery, NewRole, PageEnvelope, Removed, Role};
use warden_core::domain::{Change, Description, NameKind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles))
        .routes(routes!(create_role, delete_role))
}

#[utoipa::path(
    get,
    path = "/api/roles",
    tag = "roles",
    params(ListingQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's roles, sorted", body = PageEnvelope<Vec<Role>>),
        Failures,
    )
)]
async fn list_roles(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    consistency: Consistency,
    paging: Paging,
) -> ApiResult {
    let page = state
        .rbac
        .role_listing(
            &tenant,
            RoleListing::All,
            paging.request(),
            consistency.min_revision,
        )
        .await?;
    Ok(paging.answer(
        "roles listed",
        page,
        |role| role.name.as_str(),
        views::roles,
    ))
}

#[utoipa::path(
    post,
    path = "/api/role/{role}",
    tag = "roles",
    params(("role" = WireName, Path, description = "role name")),
    request_body(content = Option<NewRole>, description = "optional description", content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "created, or `created: false` when it exists", body = Envelope<Created>),
        Failures,
    )
)]
async fn create_role(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(role): ApiPath<String>,
    OptionalJson(body): OptionalJson<NewRole>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let description = body
        .and_then(|b| b.description)
        .map(Description::parse)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::CreateRole { role, description })
        .await?;
    let message = if written.changed {
        "role created"
    } else {
        "role already exists"
    };
    Ok(ok(message, views::created(written)))
}

#[utoipa::path(
    delete,
    path = "/api/role/{role}",
    tag = "roles",
    params(("role" = WireName, Path, description = "role name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "removed with its grants and memberships, or `removed: false`", body = Envelope<Removed>),
        Failures,
    )
)]
async fn delete_role(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(role): ApiPath<String>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::DeleteRole { role })
        .await?;
    let message = if written.changed {
        "role deleted"
    } else {
        "role did not exist"
    };
    Ok(ok(message, views::removed(written)))
}

//! Workflow routes (seed 003): a workflow is a permission name. The answers are the seed's shapes inside the
//! envelope; the questions are the same ones `which_users_can` and `has_permission` answer.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::{name, ApiPath, Consistency, Context, Tenant};
use super::paging::Paging;
use super::queries::user_permission;
use super::{ApiResult, AppState};
use crate::service::NameListing;
use warden_api::Name as WireName;
use warden_api::{
    CanRun, Envelope, Failures, ListingQuery, PageEnvelope, ReadQuery, WorkflowUsers,
};
use warden_core::domain::NameKind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(workflow_users))
        .routes(routes!(can_run))
}

#[utoipa::path(
    get,
    path = "/api/workflow/users/{workflow}",
    tag = "checks",
    params(("workflow" = WireName, Path, description = "the workflow's permission name"), ListingQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "users who may run the workflow (one page; follow `next_cursor`)", body = PageEnvelope<WorkflowUsers>),
        Failures,
    )
)]
async fn workflow_users(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(workflow): ApiPath<String>,
    consistency: Consistency,
    paging: Paging,
) -> ApiResult {
    let permission = name(NameKind::Permission, &workflow)?;
    let listing = NameListing::WhichUsersCan(&permission, None);
    let page = state
        .rbac
        .names(&tenant, listing, paging.request(), consistency.min_revision)
        .await?;
    let message = format!("Retrieved users who can run workflow '{workflow}'");
    Ok(
        paging.answer(&message, page, String::as_str, |members| WorkflowUsers {
            count: members.len(),
            members,
        }),
    )
}

#[utoipa::path(
    get,
    path = "/api/workflow/user/{user}/can_run/{workflow}",
    tag = "checks",
    params(("user" = WireName, Path, description = "user name"), ("workflow" = WireName, Path, description = "the workflow's permission name"), ReadQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "whether the user may run the workflow", body = Envelope<CanRun>),
        Failures,
    )
)]
async fn can_run(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath((user, workflow)): ApiPath<(String, String)>,
    consistency: Consistency,
) -> ApiResult {
    let (has_permission, reason) = user_permission(
        &state,
        &tenant,
        &context,
        &user,
        &workflow,
        None,
        &consistency,
    )
    .await?;
    Ok(ok(
        "workflow permission checked",
        CanRun {
            has_permission,
            reason: reason.map(str::to_owned),
        },
    ))
}

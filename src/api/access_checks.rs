//! Access checks with quotas: `POST /api/access/check` (the seed's `user_access_check`) and the history it
//! records, `GET /api/users/{user}/requests` and `…/requests/counters`.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{optional_time, page, time, ApiQuery, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, Tenant};
use super::{ApiResult, AppState};
use crate::service::{AccessInput, RequestListing};
use warden_api::Name as WireName;
use warden_api::{
    AccessDecision, AccessRecord, AccessRequest, Envelope, Failures, Order, Page, RequestCounters,
    RequestsQuery, TextOrNumber, Verdict,
};
use warden_core::domain::{NameKind, TenantScope};
use warden_store::RequestRecord;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(requests))
        .routes(routes!(request_counters))
}

#[utoipa::path(
    post,
    path = "/api/access/check",
    tag = "access",
    request_body = AccessRequest,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "`access` is `allowed` or `denied`; `rate_limits` is when a quota in force ends", body = Envelope<AccessDecision>),
        Failures,
    )
)]
async fn check(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<AccessRequest>,
) -> ApiResult {
    let input = AccessInput {
        user: name(NameKind::User, &body.user_id.into_text())?,
        role: body
            .role_id
            .as_deref()
            .map(|role| name(NameKind::Role, role))
            .transpose()?,
        chat_id: body.chat_id.map(TextOrNumber::into_text),
        message_id: body.message_id.map(TextOrNumber::into_text),
    };
    let outcome = state.users.access_check(&tenant, &context, input).await?;
    Ok(ok(
        "access checked",
        AccessDecision {
            access: Verdict::from_allowed(outcome.access),
            permissions: outcome.permissions.map(Verdict::from_allowed),
            rate_limits: optional_time(outcome.rate_limited_until),
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}/requests",
    tag = "users",
    params(("user" = WireName, Path, description = "user name"), RequestsQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's access-check history, newest first (or oldest first with `order=asc`)", body = Envelope<Page<AccessRecord>>),
        Failures,
    )
)]
async fn requests(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(user): ApiPath<String>,
    ApiQuery(query): ApiQuery<RequestsQuery>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let listing = RequestListing {
        limit: query.limit.map(i64::from),
        cursor: query.cursor.as_deref(),
        oldest_first: query.order == Some(Order::Asc),
    };
    let history = state.users.requests(&tenant, &user, listing).await?;
    Ok(ok(
        "requests listed",
        page(history, |r: RequestRecord| AccessRecord {
            id: r.id,
            chat_id: r.chat_id,
            message_id: r.message_id,
            role_id: r.role_id,
            access: Verdict::from_allowed(r.access == "allowed"),
            permissions: r.permissions.map(|p| Verdict::from_allowed(p == "allowed")),
            rate_limits: optional_time(r.rate_limited_until),
            created_at: time(r.created_at),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/users/{user}/requests/counters",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's access checks in the last hour and the last day", body = Envelope<RequestCounters>),
        Failures,
    )
)]
async fn request_counters(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let (requests_per_hour, requests_per_day) =
        state.users.request_counters(&tenant, &user).await?;
    Ok(ok(
        "request counters",
        RequestCounters {
            requests_per_hour,
            requests_per_day,
        },
    ))
}

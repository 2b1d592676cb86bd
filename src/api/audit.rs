//! `GET /api/audit`: the caller's own audit entries, newest first, with cursor pagination.

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::extract::Tenant;
use super::openapi::{Envelope, Failure};
use super::{ApiError, ApiResult, AppState};
use warden_core::domain::AuditEntry;
use warden_store::AuditQuery;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_entries))
}

/// Query parameters, all optional; taken as text so every malformed value gets the same clear 400.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    limit: Option<String>,
    cursor: Option<String>,
    action: Option<String>,
    since: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
struct EntryView {
    seq: i64,
    at: String,
    action: String,
    target: String,
    outcome: String,
    request_id: Option<String>,
    client_ip: Option<String>,
    user_agent: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<AuditEntry> for EntryView {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: millis_to_rfc3339(e.at),
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            request_id: e.request_id,
            client_ip: e.client_ip,
            user_agent: e.user_agent,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuditPage)]
struct Page {
    entries: Vec<EntryView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<String>,
}

pub fn millis_to_rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse(params: Params) -> Result<AuditQuery, ApiError> {
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let before_seq = params
        .cursor
        .as_deref()
        .map(|raw| {
            raw.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::bad_request("cursor is not one this endpoint returned"))
        })
        .transpose()?;
    let action = params
        .action
        .map(|action| {
            let valid = !action.is_empty()
                && action.len() <= 64
                && action
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
            if valid {
                Ok(action)
            } else {
                Err(ApiError::bad_request(
                    "action must be an action name such as `role.create`",
                ))
            }
        })
        .transpose()?;
    let since = params
        .since
        .as_deref()
        .map(|raw| {
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.timestamp_millis())
                .map_err(|_| ApiError::bad_request("since must be an RFC 3339 time"))
        })
        .transpose()?;
    Ok(AuditQuery {
        before_seq,
        action,
        since,
        limit,
    })
}

#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "audit",
    params(Params),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's audit entries, newest first", body = Envelope<Page>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn list_entries(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(params) = params.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let query = parse(params)?;
    let entries = state
        .audit
        .page(&tenant, &query)
        .await
        .map_err(crate::service::ServiceError::from)?;
    let next_cursor = (entries.len() == query.limit as usize)
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(ok(
        "audit entries listed",
        Page {
            entries: entries.into_iter().map(EntryView::from).collect(),
            next_cursor,
        },
    ))
}

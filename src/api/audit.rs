//! `GET /api/audit`: the caller's own audit entries, newest first, with cursor pagination.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::ApiQuery;
use super::envelope::ok;
use super::extract::Tenant;
use super::{ApiError, ApiResult, AppState};
use warden_api::params::MAX_PAGE_LIMIT as MAX_LIMIT;
use warden_api::{AuditEntry, AuditPage, AuditQuery, Envelope, Failures};
use warden_core::domain::AuditEntry as DomainAuditEntry;
use warden_store::AuditQuery as StoreQuery;

const DEFAULT_LIMIT: u32 = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_entries))
}

fn entry_view(e: DomainAuditEntry) -> AuditEntry {
    AuditEntry {
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

pub fn millis_to_rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse(params: AuditQuery) -> Result<StoreQuery, ApiError> {
    let limit = match params.limit {
        None => DEFAULT_LIMIT,
        Some(n) => Some(n)
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
    Ok(StoreQuery {
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
    params(AuditQuery),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's audit entries, newest first", body = Envelope<AuditPage>),
        Failures,
    )
)]
async fn list_entries(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiQuery(params): ApiQuery<AuditQuery>,
) -> ApiResult {
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
        AuditPage {
            entries: entries.into_iter().map(entry_view).collect(),
            next_cursor,
        },
    ))
}

//! Liveness and readiness: `/ping` and `/health` (the seed's), `/livez` and `/readyz`.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::{json_response, ok, timestamp};
use super::{ApiError, ApiResult, AppState};
use warden_api::{Envelope, Failure, Health, HealthCheck};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ping))
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(health))
}

/// The seed's health check: answers while the process is up.
#[utoipa::path(get, path = "/ping", tag = "operations",
    responses((status = 200, description = "`data.status` is `ok`", body = Envelope<Health>)))]
async fn ping() -> ApiResult {
    Ok(ok("pong", healthy()))
}

/// The process is up.
#[utoipa::path(get, path = "/livez", tag = "operations",
    responses((status = 200, description = "`data.status` is `ok`", body = Envelope<Health>)))]
async fn livez() -> ApiResult {
    Ok(ok("alive", healthy()))
}

/// Ready when the database answers. With Vault, `data.vault` says whether it is reachable (`ok`, `unreachable`,
/// `error`); an unreachable Vault alone does not make Warden unready, since it serves with the secrets and
/// credentials it holds (when those expire, the database check fails and the answer is 503).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "the database answers; `data` also names the backend and, with Vault, its state", body = Envelope<Health>),
        (status = 503, description = "the database is unreachable", body = Failure),
    ))]
async fn readyz(State(state): State<AppState>) -> ApiResult {
    match state.store.ping().await {
        Ok(()) => {
            let data = Health {
                database: Some(state.store.backend_name().to_owned()),
                vault: state.vault.as_ref().map(|vault| vault.status().to_owned()),
                ..healthy()
            };
            Ok(ok("ready", data))
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            ))
        }
    }
}

/// The seed's probe (`auth` 3.7.1): 200 `healthy` when the database answers, 503 `unhealthy` when it does not. The
/// body is the envelope with the seed's top-level `status` beside it.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "`status` is `healthy`; `data` names the backend", body = HealthCheck),
        (status = 503, description = "`status` is `unhealthy`; `error` says why", body = HealthCheck),
    ))]
async fn health(State(state): State<AppState>) -> axum::response::Response {
    let (code, status, data, error) = match state.store.ping().await {
        Ok(()) => {
            let data = Health {
                status: "healthy".to_owned(),
                database: Some(state.store.backend_name().to_owned()),
                vault: None,
            };
            (StatusCode::OK, "healthy", Some(data), None)
        }
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            let error = Some("the database is unavailable".to_owned());
            (StatusCode::SERVICE_UNAVAILABLE, "unhealthy", None, error)
        }
    };
    let body = HealthCheck {
        success: code.is_success(),
        code: code.as_u16(),
        message: status.to_owned(),
        status: status.to_owned(),
        data,
        error,
        timestamp: timestamp(),
    };
    json_response(code, &body)
}

fn healthy() -> Health {
    Health {
        status: "ok".to_owned(),
        database: None,
        vault: None,
    }
}

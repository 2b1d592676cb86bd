//! Liveness and readiness: `/ping` (the seed's), `/livez` and `/readyz`.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::{ApiError, ApiResult, AppState};
use warden_api::{Envelope, Failure, Health};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ping))
        .routes(routes!(livez))
        .routes(routes!(readyz))
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

fn healthy() -> Health {
    Health {
        status: "ok".to_owned(),
        database: None,
        vault: None,
    }
}

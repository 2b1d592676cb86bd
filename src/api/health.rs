//! Liveness and readiness: `/ping` (the seed's), `/livez` and `/readyz`.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::envelope::ok;
use super::openapi::{Envelope, Failure, StatusData};
use super::{ApiError, ApiResult, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ping))
        .routes(routes!(livez))
        .routes(routes!(readyz))
}

/// The seed's health check: answers while the process is up.
#[utoipa::path(get, path = "/ping", tag = "operations",
    responses((status = 200, description = "`data.status` is `ok`", body = Envelope<StatusData>)))]
async fn ping() -> ApiResult {
    Ok(ok("pong", json!({ "status": "ok" })))
}

/// The process is up.
#[utoipa::path(get, path = "/livez", tag = "operations",
    responses((status = 200, description = "`data.status` is `ok`", body = Envelope<StatusData>)))]
async fn livez() -> ApiResult {
    Ok(ok("alive", json!({ "status": "ok" })))
}

/// Ready when the database answers. With Vault, `data.vault` says whether it is reachable (`ok`, `unreachable`,
/// `error`); an unreachable Vault alone does not make Warden unready, since it serves with the secrets and
/// credentials it holds (when those expire, the database check fails and the answer is 503).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "the database answers; `data` also names the backend and, with Vault, its state", body = Envelope<StatusData>),
        (status = 503, description = "the database is unreachable", body = Failure),
    ))]
async fn readyz(State(state): State<AppState>) -> ApiResult {
    match state.store.ping().await {
        Ok(()) => {
            let mut data = json!({ "status": "ok", "database": state.store.backend_name() });
            if let Some(vault) = &state.vault {
                data["vault"] = vault.readiness();
            }
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

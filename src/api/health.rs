//! Liveness and readiness: `/ping` (the seed's), `/livez` and `/readyz`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::envelope::ok;
use super::{ApiError, ApiResult, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ping", get(ping))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
}

/// The seed's health check: answers while the process is up.
async fn ping() -> ApiResult {
    Ok(ok("pong", json!({ "status": "ok" })))
}

async fn livez() -> ApiResult {
    Ok(ok("alive", json!({ "status": "ok" })))
}

/// Ready when the database answers. With Vault, `data.vault` says whether it is reachable (`ok`, `unreachable`,
/// `error`); an unreachable Vault alone does not make Warden unready, since it serves with the secrets and
/// credentials it holds (when those expire, the database check fails and the answer is 503).
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

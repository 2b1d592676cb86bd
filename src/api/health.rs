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

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> ApiResult {
    match state.store.ping().await {
        Ok(()) => Ok(ok(
            "ready",
            json!({ "status": "ok", "database": state.store.backend_name() }),
        )),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            ))
        }
    }
}

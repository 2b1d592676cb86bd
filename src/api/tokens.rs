//! `POST /api/token/{user}`, `POST /api/token/refresh`, `POST /api/token/verify` and `GET /.well-known/jwks.json`.
//!
//! The static paths win over `{user}`, so users named `refresh` or `verify` cannot be issued tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::envelope::ok;
use super::extract::{name, ApiPath, OptionalJson, Tenant};
use super::{ApiError, ApiResult, AppState};
use crate::domain::NameKind;
use crate::service::{AccessClaims, IssuedTokens};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/token/refresh", post(refresh))
        .route("/api/token/verify", post(verify))
        .route("/api/token/{user}", post(issue))
        .route("/.well-known/jwks.json", get(jwks))
}

#[derive(Serialize)]
struct TokenPair {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
    refresh_expires_in: u64,
}

impl From<IssuedTokens> for TokenPair {
    fn from(issued: IssuedTokens) -> Self {
        Self {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: issued.refresh_token,
            refresh_expires_in: issued.refresh_expires_in,
        }
    }
}

async fn issue(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let issued = state.tokens.issue(&tenant, &user).await?;
    Ok(ok("token issued", TokenPair::from(issued)))
}

#[derive(Deserialize)]
struct RefreshRequest {
    refresh_token: String,
}

async fn refresh(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> ApiResult {
    let body = body.ok_or_else(|| required("refresh_token"))?;
    let issued = state.tokens.refresh(&tenant, &body.refresh_token).await?;
    Ok(ok("token refreshed", TokenPair::from(issued)))
}

#[derive(Deserialize)]
struct VerifyRequest {
    token: String,
}

#[derive(Serialize)]
struct Verified {
    valid: bool,
    claims: AccessClaims,
}

async fn verify(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    OptionalJson(body): OptionalJson<VerifyRequest>,
) -> ApiResult {
    let body = body.ok_or_else(|| required("token"))?;
    let claims = state.tokens.verify(&tenant, &body.token).await?;
    Ok(ok(
        "token verified",
        Verified {
            valid: true,
            claims,
        },
    ))
}

/// The public signing keys as an RFC 7517 JWK Set, bare (not in the envelope) so that JWT libraries can read it.
async fn jwks(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.tokens.jwks())
}

fn required(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("a JSON body with `{field}` is required"),
    )
}

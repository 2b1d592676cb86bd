//! `POST /api/token/{user}`, `POST /api/token/refresh`, `POST /api/token/verify`, `DELETE /api/users/{user}/jwt` and
//! `GET /.well-known/jwks.json?tenant=`.
//!
//! The static paths win over `{user}`, so users named `refresh` or `verify` cannot be issued tokens.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::ApiQuery;
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, OptionalJson, Tenant};
use super::openapi::{Envelope, Failure, Revoked};
use super::{ApiError, ApiResult, AppState};
use crate::service::{AccessClaims, IssuedTokens};
use warden_core::domain::NameKind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(refresh))
        .routes(routes!(verify))
        .routes(routes!(issue))
        .routes(routes!(jwks))
        .routes(routes!(revoke_user))
}

#[derive(Serialize, utoipa::ToSchema)]
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

#[utoipa::path(
    post,
    path = "/api/token/{user}",
    tag = "jwt",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "an access JWT and a refresh token; 404 for a user without roles", body = Envelope<TokenPair>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn issue(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let issued = state.tokens.issue(&tenant, &context, &user).await?;
    Ok(ok("token issued", TokenPair::from(issued)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct RefreshRequest {
    refresh_token: String,
}

#[utoipa::path(
    post,
    path = "/api/token/refresh",
    tag = "jwt",
    request_body = RefreshRequest,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a new pair; the old refresh token stops working (reusing it revokes the family)", body = Envelope<TokenPair>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> ApiResult {
    let body = body.ok_or_else(|| required("refresh_token"))?;
    let issued = state
        .tokens
        .refresh(&tenant, &context, &body.refresh_token)
        .await?;
    Ok(ok("token refreshed", TokenPair::from(issued)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct VerifyRequest {
    token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Verified {
    valid: bool,
    /// `sub`, `tid`, `roles`, `permissions`, `iss`, `aud`, `iat`, `exp`, `jti`, `fam`.
    #[schema(value_type = Object)]
    claims: AccessClaims,
}

#[utoipa::path(
    post,
    path = "/api/token/verify",
    tag = "jwt",
    request_body = VerifyRequest,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the token is valid; 401 otherwise", body = Envelope<Verified>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn verify(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    OptionalJson(body): OptionalJson<VerifyRequest>,
) -> ApiResult {
    let body = body.ok_or_else(|| required("token"))?;
    let claims = state.tokens.verify(&tenant, &context, &body.token).await?;
    Ok(ok(
        "token verified",
        Verified {
            valid: true,
            claims,
        },
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct JwksQuery {
    /// The tenant id: the `tid` claim of its tokens (64 hex digits).
    tenant: Option<String>,
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "jwt", params(JwksQuery),
    responses(
        (status = 200, description = "an RFC 7517 JWK Set, not in the envelope: the public key of `?tenant=` (EdDSA); empty with HS256 or without `tenant`", body = Object),
        (status = 400, description = "`tenant` is not a tenant id", body = Failure),
    ))]
/// A tenant's public signing key as an RFC 7517 JWK Set, bare (not in the envelope) so that JWT libraries can read
/// it. Without `tenant` the set is empty: every tenant has its own key, and a verifier must pin one.
async fn jwks(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JwksQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    Ok(axum::Json(state.tokens.jwks(query.tenant.as_deref())?))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}/jwt",
    tag = "jwt",
    params(("user" = String, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "every refresh family of the user revoked, with every access token issued from them; `revoked` counts the families", body = Envelope<Revoked>),
        (status = "4XX", description = "refused: bad name (400), bad key (401), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn revoke_user(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let revoked = state
        .tokens
        .revoke_user(&tenant.id, &context, &user)
        .await?;
    Ok(ok("jwt families revoked", json!({ "revoked": revoked })))
}

fn required(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("a JSON body with `{field}` is required"),
    )
}

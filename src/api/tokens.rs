//! `POST /api/token/{user}`, `POST /api/token/refresh`, `POST /api/token/verify`, `DELETE /api/users/{user}/jwt` and
//! `GET /.well-known/jwks.json?tenant=`.
//!
//! The static paths win over `{user}`, so users named `refresh` or `verify` cannot be issued tokens.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::ApiQuery;
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, OptionalJson, Tenant};
use super::{ApiError, ApiResult, AppState};
use crate::service::IssuedTokens;
use warden_api::Name as WireName;
use warden_api::{
    Claims, Envelope, Failure, Failures, JwkSet, JwksQuery, RefreshRequest, Revoked, TokenPair,
    Verified, VerifyRequest,
};
use warden_core::domain::NameKind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(refresh))
        .routes(routes!(verify))
        .routes(routes!(issue))
        .routes(routes!(jwks))
        .routes(routes!(revoke_user))
}

pub(super) fn token_pair(issued: IssuedTokens) -> TokenPair {
    TokenPair {
        access_token: issued.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: issued.expires_in,
        refresh_token: issued.refresh_token,
        refresh_expires_in: issued.refresh_expires_in,
    }
}

#[utoipa::path(
    post,
    path = "/api/token/{user}",
    tag = "jwt",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "an access JWT and a refresh token; 404 for a user without roles", body = Envelope<TokenPair>),
        Failures,
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
    Ok(ok("token issued", token_pair(issued)))
}

#[utoipa::path(
    post,
    path = "/api/token/refresh",
    tag = "jwt",
    request_body = RefreshRequest,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a new pair; the old refresh token stops working (reusing it revokes the family)", body = Envelope<TokenPair>),
        Failures,
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
    Ok(ok("token refreshed", token_pair(issued)))
}

#[utoipa::path(
    post,
    path = "/api/token/verify",
    tag = "jwt",
    request_body = VerifyRequest,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the token is valid; 401 otherwise", body = Envelope<Verified>),
        Failures,
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
            claims: Claims {
                sub: claims.sub,
                tid: claims.tid,
                roles: claims.roles,
                permissions: claims.permissions,
                iss: claims.iss,
                aud: claims.aud,
                iat: claims.iat,
                exp: claims.exp,
                jti: claims.jti,
                fam: claims.fam,
            },
        },
    ))
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "jwt", params(JwksQuery),
    responses(
        (status = 200, description = "an RFC 7517 JWK Set, not in the envelope: the public key of `?tenant=` (EdDSA); empty with HS256 or without `tenant`", body = JwkSet),
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
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "every refresh family of the user revoked, with every access token issued from them; `revoked` counts the families", body = Envelope<Revoked>),
        Failures,
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
    Ok(ok("jwt families revoked", Revoked { revoked }))
}

fn required(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("a JSON body with `{field}` is required"),
    )
}

//! Single-use tokens: `POST|DELETE /api/users/{user}/tokens` issue and revoke them, `POST /api/tokens/validate`
//! uses one.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{time, wire_status, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, OptionalJson, Tenant};
use super::{ApiResult, AppState};
use warden_api::Name as WireName;
use warden_api::{Envelope, Failures, Revoked, TokenIssued, TokenOwner, TokenToUse, TokenTtl};
use warden_core::domain::{NameKind, TenantScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, revoke_tokens))
        .routes(routes!(validate))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/tokens",
    tag = "tokens",
    params(("user" = WireName, Path, description = "user name")),
    request_body(content = Option<TokenTtl>, content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a single-use token", body = Envelope<TokenIssued>),
        Failures,
    )
)]
async fn issue_token(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    OptionalJson(body): OptionalJson<TokenTtl>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let ttl = body.and_then(|b| b.ttl_minutes);
    let (token, expires_at) = state
        .users
        .issue_token(&tenant, &context, &user, ttl)
        .await?;
    Ok(ok(
        "token issued",
        TokenIssued {
            token,
            expires_at: time(expires_at),
        },
    ))
}

#[utoipa::path(
    delete,
    path = "/api/users/{user}/tokens",
    tag = "tokens",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "every unused token revoked", body = Envelope<Revoked>),
        Failures,
    )
)]
async fn revoke_tokens(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let revoked = state.users.revoke_tokens(&tenant, &context, &user).await?;
    Ok(ok("tokens revoked", Revoked { revoked }))
}

/// Every failure answers the same 401 envelope (only its timestamp differs).
#[utoipa::path(
    post,
    path = "/api/tokens/validate",
    tag = "tokens",
    request_body = TokenToUse,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the token was valid and is now used; every failure is the same 401", body = Envelope<TokenOwner>),
        Failures,
    )
)]
async fn validate(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<TokenToUse>,
) -> ApiResult {
    let owner = state
        .users
        .validate_token(&tenant, &context, &body.token)
        .await?;
    Ok(ok(
        "token valid",
        TokenOwner {
            user_id: owner.user,
            status: wire_status(owner.status),
            roles: owner.roles,
        },
    ))
}

//! Activation: `POST /api/users/{user}/activation` issues a one-time code, `POST /api/users/{user}/activate` uses it.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, OptionalJson, Tenant};
use super::{ApiResult, AppState};
use warden_api::Name as WireName;
use warden_api::{Activated, ActivationCode, CodeIssued, Envelope, Failures, TtlMinutes};
use warden_core::domain::{NameKind, TenantScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_activation))
        .routes(routes!(activate))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/activation",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    request_body(content = Option<TtlMinutes>, content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a new one-time activation code, replacing the old one", body = Envelope<CodeIssued>),
        Failures,
    )
)]
async fn issue_activation(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    OptionalJson(body): OptionalJson<TtlMinutes>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let ttl = body.and_then(|b| b.ttl_minutes);
    let (code, expires_at) = state
        .users
        .issue_activation_code(&tenant, &context, &user, ttl)
        .await?;
    Ok(ok(
        "activation code issued",
        CodeIssued {
            code,
            expires_at: time(expires_at),
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/activate",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    request_body = ActivationCode,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "activated; any wrong, expired or used code is the same 400", body = Envelope<Activated>),
        Failures,
    )
)]
async fn activate(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    RequiredJson(body): RequiredJson<ActivationCode>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let at = state
        .users
        .activate(&tenant, &context, &user, &body.code)
        .await?;
    Ok(ok(
        "user activated",
        Activated {
            activated_at: time(at),
        },
    ))
}

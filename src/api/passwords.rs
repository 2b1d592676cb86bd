//! Password credentials (websauna accounts): `PUT /api/users/{user}/password` and `POST /api/users/{user}/login`,
//! which answers a JWT pair like `POST /api/token/{user}`.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, Tenant};
use super::tokens::token_pair;
use super::{ApiError, ApiResult, AppState};
use crate::service::ServiceError;
use axum::http::StatusCode;
use warden_api::Name as WireName;
use warden_api::{Envelope, Failures, LoginBody, NewPassword, PasswordSet, TokenPair};
use warden_core::domain::NameKind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_password))
        .routes(routes!(login))
}

#[utoipa::path(
    put,
    path = "/api/users/{user}/password",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    request_body = NewPassword,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the password is set (Argon2id); a sensitive change: the user's tokens, sessions and JWTs issued so far are void", body = Envelope<PasswordSet>),
        Failures,
    )
)]
async fn set_password(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    RequiredJson(body): RequiredJson<NewPassword>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let at = state
        .users
        .set_password(&tenant.id, &context, &user, body.password)
        .await?;
    state.rbac.refresh(&tenant).await;
    Ok(ok(
        "password set",
        PasswordSet {
            password_set: true,
            sensitive_changed_at: time(at),
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/{user}/login",
    tag = "users",
    params(("user" = WireName, Path, description = "user name")),
    request_body = LoginBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "a JWT pair for an allowed, enabled user (activated, when the tenant requires it) who holds a role; a wrong password and an unknown user get the same 401; repeated failures answer 429 with `Retry-After`", body = Envelope<TokenPair>),
        Failures,
    )
)]
async fn login(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    RequiredJson(body): RequiredJson<LoginBody>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    state
        .users
        .login(&tenant.id, &context, &user, body.password)
        .await?;
    // The password was right: saying the user holds no role tells the caller nothing it could not know.
    let issued = match state.tokens.issue(&tenant, &context, &user).await {
        Err(ServiceError::UserNotFound(_)) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("user `{user}` holds no role"),
            ))
        }
        other => other?,
    };
    Ok(ok("logged in", token_pair(issued)))
}

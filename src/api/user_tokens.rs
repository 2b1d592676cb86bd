//! `POST /api/tokens/validate`: uses a single-use token. (Issuing and revoking live under `/api/users/{user}`.)

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::RequiredJson;
use super::envelope::ok;
use super::extract::{Context, Tenant};
use super::openapi::{Envelope, Failure, TokenOwner};
use super::{ApiResult, AppState};
use warden_core::domain::TenantScope;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(validate))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

/// Every failure answers the same 401 envelope (only its timestamp differs).
#[utoipa::path(
    post,
    path = "/api/tokens/validate",
    tag = "tokens",
    request_body = TokenBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the token was valid and is now used; every failure is the same 401", body = Envelope<TokenOwner>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn validate(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<TokenBody>,
) -> ApiResult {
    let owner = state
        .users
        .validate_token(&tenant, &context, &body.token)
        .await?;
    Ok(ok(
        "token valid",
        json!({ "user_id": owner.user, "status": owner.status.as_str(), "roles": owner.roles }),
    ))
}

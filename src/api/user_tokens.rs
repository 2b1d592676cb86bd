//! `POST /api/tokens/validate`: uses a single-use token. (Issuing and revoking live under `/api/users/{user}`.)

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::accounts::RequiredJson;
use super::envelope::ok;
use super::extract::Tenant;
use super::{ApiResult, AppState};
use crate::domain::TenantScope;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tokens/validate", post(validate))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

/// Every failure answers the same 401 envelope (only its timestamp differs).
async fn validate(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    RequiredJson(body): RequiredJson<TokenBody>,
) -> ApiResult {
    let owner = state.users.validate_token(&tenant, &body.token).await?;
    Ok(ok(
        "token valid",
        json!({ "user_id": owner.user, "status": owner.status, "roles": owner.roles }),
    ))
}

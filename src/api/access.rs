//! `POST /api/access/check`: the seed's `user_access_check`, with request quotas.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{optional_time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, Context, Tenant};
use super::openapi::{Envelope, Failure};
use super::{ApiResult, AppState};
use crate::service::AccessInput;
use warden_core::domain::NameKind;
use warden_core::domain::TenantScope;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}

/// Chat and message ids arrive as text or, from Telegram, as numbers; both are recorded as text.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
enum TextOrNumber {
    Text(String),
    Number(i64),
}

impl TextOrNumber {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    user_id: String,
    role_id: Option<String>,
    chat_id: Option<TextOrNumber>,
    message_id: Option<TextOrNumber>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct CheckView {
    access: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<&'static str>,
    rate_limits: Option<String>,
}

fn label(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
}

#[utoipa::path(
    post,
    path = "/api/access/check",
    tag = "access",
    request_body = CheckBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "`access` is `allowed` or `denied`; `rate_limits` is when a quota in force ends", body = Envelope<CheckView>),
        (status = "4XX", description = "refused: bad name or body (400, 422), bad key (401), unknown role (404), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn check(
    State(state): State<AppState>,
    Tenant(TenantScope { id: tenant, .. }): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<CheckBody>,
) -> ApiResult {
    let input = AccessInput {
        user: name(NameKind::User, &body.user_id)?,
        role: body
            .role_id
            .as_deref()
            .map(|role| name(NameKind::Role, role))
            .transpose()?,
        chat_id: body.chat_id.map(TextOrNumber::into_text),
        message_id: body.message_id.map(TextOrNumber::into_text),
    };
    let outcome = state.users.access_check(&tenant, &context, input).await?;
    Ok(ok(
        "access checked",
        CheckView {
            access: label(outcome.access),
            permissions: outcome.permissions.map(label),
            rate_limits: optional_time(outcome.rate_limited_until),
        },
    ))
}

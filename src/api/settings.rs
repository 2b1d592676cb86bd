//! `GET|PUT /api/settings`: the tenant's settings object. `PUT` changes the fields present in the body and leaves
//! absent ones as they are; `null` puts a field back to its default.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::RequiredJson;
use super::envelope::ok;
use super::extract::{Context, Tenant};
use super::{ApiResult, AppState};
use warden_api::{Envelope, Failures, Settings, SettingsChange};
use warden_core::domain::TenantId;
use warden_store::TenantSettingsRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

fn view(tenant: &TenantId, row: TenantSettingsRow) -> Settings {
    Settings {
        jwt_audience_is_default: row.jwt_audience.is_none(),
        jwt_audience: row
            .jwt_audience
            .unwrap_or_else(|| tenant.as_str().to_owned()),
        auto_register_users: row.auto_register_users,
        require_activation: row.require_activation,
        strict_users: row.strict_users,
    }
}

#[utoipa::path(
    get,
    path = "/api/settings",
    tag = "settings",
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's settings", body = Envelope<Settings>),
        Failures,
    )
)]
async fn get_settings(State(state): State<AppState>, Tenant(tenant): Tenant) -> ApiResult {
    let row = state.tokens.settings(&tenant.id).await?;
    Ok(ok("settings", view(&tenant.id, row)))
}

#[utoipa::path(
    put,
    path = "/api/settings",
    tag = "settings",
    request_body = SettingsChange,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's settings after the change (audited)", body = Envelope<Settings>),
        Failures,
    )
)]
async fn put_settings(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<SettingsChange>,
) -> ApiResult {
    let mut row = state.tokens.settings(&tenant.id).await?;
    if let Some(audience) = body.jwt_audience {
        row.jwt_audience = audience;
    }
    if let Some(auto_register) = body.auto_register_users {
        row.auto_register_users = auto_register.unwrap_or(false);
    }
    if let Some(require_activation) = body.require_activation {
        row.require_activation = require_activation.unwrap_or(false);
    }
    if let Some(strict_users) = body.strict_users {
        row.strict_users = strict_users.unwrap_or(false);
    }
    let row = state.tokens.put_settings(&tenant.id, &context, row).await?;
    state.rbac.refresh(&tenant).await;
    Ok(ok("settings saved", view(&tenant.id, row)))
}

//! `GET|PUT /api/settings`: the tenant's settings object. `PUT` changes the fields present in the body and leaves
//! absent ones as they are; `null` puts a field back to its default.

use axum::extract::State;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::RequiredJson;
use super::envelope::ok;
use super::extract::{Context, Tenant};
use super::openapi::{Envelope, Failure};
use super::{ApiResult, AppState};
use warden_core::domain::TenantId;
use warden_store::TenantSettingsRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

/// The tenant's settings, with their effective values.
#[derive(Serialize, utoipa::ToSchema)]
struct SettingsView {
    /// The `aud` claim of the tenant's access tokens, which verification requires.
    jwt_audience: String,
    /// Whether `jwt_audience` is the default (the tenant id).
    jwt_audience_is_default: bool,
}

fn view(tenant: &TenantId, row: TenantSettingsRow) -> SettingsView {
    SettingsView {
        jwt_audience_is_default: row.jwt_audience.is_none(),
        jwt_audience: row
            .jwt_audience
            .unwrap_or_else(|| tenant.as_str().to_owned()),
    }
}

/// Absent fields stay as they are; `null` resets to the default.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    /// 1 to 255 characters; `null` for the default (the tenant id). Access tokens issued under another audience
    /// stop verifying.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    jwt_audience: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`, by `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[utoipa::path(
    get,
    path = "/api/settings",
    tag = "settings",
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's settings", body = Envelope<SettingsView>),
        (status = "4XX", description = "refused: bad key (401), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
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
    request_body = SettingsBody,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's settings after the change (audited)", body = Envelope<SettingsView>),
        (status = "4XX", description = "refused: bad value (400), bad key (401), bad body (422), rate limited (429)", body = Failure),
        (status = "5XX", description = "internal error, or the database is unavailable (503)", body = Failure),
    )
)]
async fn put_settings(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<SettingsBody>,
) -> ApiResult {
    let mut row = state.tokens.settings(&tenant.id).await?;
    if let Some(audience) = body.jwt_audience {
        row.jwt_audience = audience;
    }
    let row = state.tokens.put_settings(&tenant.id, &context, row).await?;
    Ok(ok("settings saved", view(&tenant.id, row)))
}

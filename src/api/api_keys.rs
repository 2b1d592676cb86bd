//! Per-user API keys (as `auth` 3.7.1 has them), in its paths and field names. Secrets travel only in bodies,
//! never in a URL.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::{optional_time, time, RequiredJson};
use super::envelope::ok;
use super::extract::{name, ApiPath, Context, OptionalJson, Tenant};
use super::{ApiError, ApiResult, AppState};
use crate::metrics::Check;
use crate::service::{is_key_shaped, ApiKeyInfo};
use warden_api::Name as WireName;
use warden_api::{
    ApiKeyCreated, ApiKeyExpiry, ApiKeyList, ApiKeyMeta, ApiKeyPermission, ApiKeyRevoked,
    ApiKeyToCheck, ApiKeyValidity, Envelope, Failures, NewApiKey,
};
use warden_core::domain::NameKind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(shorten_key, revoke_key))
        .routes(routes!(validate_key))
        .routes(routes!(check_key_permission))
}

fn meta(info: ApiKeyInfo) -> ApiKeyMeta {
    ApiKeyMeta {
        key_id: info.key_id,
        key_prefix: info.key_prefix,
        label: info.label,
        is_active: info.revoked_at.is_none(),
        created: time(info.created_at),
        revoked_at: optional_time(info.revoked_at),
        expires_at: optional_time(info.expires_at),
        last_used_at: optional_time(info.last_used_at),
    }
}

/// A key id as a path names it: any hyphenated UUID (ours are UUID4; another is simply not found).
fn key_id(raw: &str) -> Result<String, ApiError> {
    match uuid::Uuid::parse_str(raw) {
        Ok(id) if raw.len() == 36 => Ok(id.to_string()),
        _ => Err(ApiError::bad_request("`key_id` must be a UUID")),
    }
}

fn presented(key: &str) -> Result<(), ApiError> {
    if is_key_shaped(key) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "`api_key` must match rak_[0-9A-Za-z]{43}",
        ))
    }
}

#[utoipa::path(
    post,
    path = "/api/apikeys/user/{user}",
    tag = "api keys",
    params(("user" = WireName, Path, description = "user name")),
    request_body(content = Option<NewApiKey>, description = "optional: a label and an expiry"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the key (shown only now) and its metadata; 409 when the user holds 25 active keys", body = Envelope<ApiKeyCreated>),
        Failures,
    )
)]
async fn create_key(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(user): ApiPath<String>,
    OptionalJson(body): OptionalJson<NewApiKey>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let body = body.unwrap_or_default();
    let (key, info) = state
        .users
        .create_api_key(&tenant.id, &context, &user, body.label, body.expires_at)
        .await?;
    state.rbac.refresh(&tenant).await;
    Ok(ok(
        "API key created; the api_key value is shown only once",
        ApiKeyCreated {
            api_key: key,
            key_id: info.key_id,
            user: info.user,
            label: info.label,
            key_prefix: info.key_prefix,
            created: time(info.created_at),
            expires_at: optional_time(info.expires_at),
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/apikeys/user/{user}",
    tag = "api keys",
    params(("user" = WireName, Path, description = "user name")),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the user's keys, revoked ones included (metadata only); none for an unknown user", body = Envelope<ApiKeyList>),
        Failures,
    )
)]
async fn list_keys(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(user): ApiPath<String>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let keys: Vec<ApiKeyMeta> = state
        .users
        .api_keys(&tenant.id, &user)
        .await?
        .into_iter()
        .map(meta)
        .collect();
    Ok(ok(
        "API keys listed",
        ApiKeyList {
            count: keys.len(),
            keys,
        },
    ))
}

#[utoipa::path(
    patch,
    path = "/api/apikeys/user/{user}/{key_id}",
    tag = "api keys",
    params(
        ("user" = WireName, Path, description = "user name"),
        ("key_id" = uuid::Uuid, Path, description = "the key's id"),
    ),
    request_body = ApiKeyExpiry,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the key with its earlier expiry", body = Envelope<ApiKeyMeta>),
        Failures,
    )
)]
async fn shorten_key(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath((user, key)): ApiPath<(String, String)>,
    RequiredJson(body): RequiredJson<ApiKeyExpiry>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let key = key_id(&key)?;
    let info = state
        .users
        .shorten_api_key(&tenant.id, &context, &user, &key, &body.expires_at)
        .await?;
    state.rbac.refresh(&tenant).await;
    Ok(ok("API key expiry set", meta(info)))
}

#[utoipa::path(
    delete,
    path = "/api/apikeys/user/{user}/{key_id}",
    tag = "api keys",
    params(
        ("user" = WireName, Path, description = "user name"),
        ("key_id" = uuid::Uuid, Path, description = "the key's id"),
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the key is revoked (idempotent); 404 for a key the user does not have", body = Envelope<ApiKeyRevoked>),
        Failures,
    )
)]
async fn revoke_key(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath((user, key)): ApiPath<(String, String)>,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let key = key_id(&key)?;
    let already_revoked = state
        .users
        .revoke_api_key(&tenant.id, &context, &user, &key)
        .await?;
    state.rbac.refresh(&tenant).await;
    Ok(ok(
        "API key revoked",
        ApiKeyRevoked {
            revoked: true,
            already_revoked,
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/apikeys/validate",
    tag = "api keys",
    request_body = ApiKeyToCheck,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "`valid` with the key's user, id, label and expiry, or `valid: false` with `reason` (`revoked`, `expired`, `unknown_key`)", body = Envelope<ApiKeyValidity>),
        Failures,
    )
)]
async fn validate_key(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<ApiKeyToCheck>,
) -> ApiResult {
    presented(&body.api_key)?;
    let answer = state
        .users
        .validate_api_key(&tenant.id, &context, &body.api_key)
        .await?;
    let validity = match answer {
        Ok(info) => ApiKeyValidity {
            valid: true,
            reason: None,
            user: Some(info.user),
            key_id: Some(info.key_id),
            label: info.label,
            expires_at: Some(optional_time(info.expires_at)),
            has_permission: None,
        },
        Err(refusal) => refused(refusal.as_str()),
    };
    Ok(ok("API key validation completed", validity))
}

fn refused(reason: &str) -> ApiKeyValidity {
    ApiKeyValidity {
        valid: false,
        reason: Some(reason.to_owned()),
        user: None,
        key_id: None,
        label: None,
        expires_at: None,
        has_permission: None,
    }
}

#[utoipa::path(
    post,
    path = "/api/apikeys/check_permission",
    tag = "api keys",
    request_body = ApiKeyPermission,
    security(("client_key" = [])),
    responses(
        (status = 200, description = "an invalid key answers as `validate`; a valid one adds `has_permission` for its user", body = Envelope<ApiKeyValidity>),
        Failures,
    )
)]
async fn check_key_permission(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    RequiredJson(body): RequiredJson<ApiKeyPermission>,
) -> ApiResult {
    presented(&body.api_key)?;
    let permission = name(NameKind::Permission, &body.permission)?;
    let answer = state
        .users
        .validate_api_key(&tenant.id, &context, &body.api_key)
        .await?;
    let validity = match answer {
        Err(refusal) => refused(refusal.as_str()),
        Ok(info) => {
            // A stored key's user name was valid when the key was made.
            let user = name(NameKind::User, &info.user)?;
            let has_permission = state
                .rbac
                .key_holder_has_permission(&tenant, &context, &user, &permission)
                .await?;
            state
                .metrics
                .decision(Check::UserPermission, has_permission);
            ApiKeyValidity {
                valid: true,
                reason: None,
                user: Some(info.user),
                key_id: Some(info.key_id),
                label: None,
                expires_at: None,
                has_permission: Some(has_permission),
            }
        }
    };
    Ok(ok("API key permission checked", validity))
}

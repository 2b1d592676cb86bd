//! Client-key rotation and recovery, in `auth` 3.7.1's paths and field names. `POST /api/keys/recover` carries no
//! client key (the gate lets it through); the recovery key in its body is the credential.

use axum::extract::State;
use axum::http::HeaderMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::RequiredJson;
use super::envelope::ok;
use super::extract::{bearer_key, Context, Tenant};
use super::{ApiError, ApiResult, AppState};
use warden_api::{Envelope, Failures, Migrated, RecoverRequest, Recovered, RecoveryKey, Rotated};
use warden_core::domain::{actions, ClientKey};
use warden_store::NamespaceCounts;

/// The one `/api` route outside the client-key gate.
pub const RECOVER_PATH: &str = "/api/keys/recover";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rotate))
        .routes(routes!(get_rotate_key))
        .routes(routes!(recover))
}

fn migrated(counts: NamespaceCounts) -> Migrated {
    Migrated {
        roles: counts.roles,
        permissions: counts.permissions,
        memberships: counts.memberships,
        users: counts.users,
        api_keys: counts.api_keys,
        settings: counts.settings,
        sessions: counts.sessions,
        tokens: counts.tokens,
        audit_entries: counts.audit_entries,
    }
}

fn fresh_key() -> ClientKey {
    // A v4 UUID in canonical form always parses.
    ClientKey::parse(&uuid::Uuid::new_v4().to_string()).expect("a v4 UUID is a client key")
}

#[utoipa::path(
    post,
    path = "/api/keys/rotate",
    tag = "client keys",
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's new client key (shown only now) and what answers to it; from the commit on, the key that asked gets 401 (audited)", body = Envelope<Rotated>),
        Failures,
    )
)]
async fn rotate(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    headers: HeaderMap,
) -> ApiResult {
    let presented = bearer_key(&headers)?;
    let new_key = fresh_key();
    let audit = state.audit.draft(
        actions::CLIENT_KEY_ROTATE,
        state.tenants.move_target(Some(&presented), &new_key),
        &context,
    );
    let rotation = state
        .tenants
        .rotate_client_key(&tenant, &presented, new_key, audit)
        .await?;
    Ok(ok(
        "Client key rotated",
        Rotated {
            new_key: rotation.new_key.as_str().to_owned(),
            migrated: migrated(rotation.moved),
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/keys/get_rotate_key",
    tag = "client keys",
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the tenant's recovery key, shown only now; 409 `rotate_key_already_issued` while one is outstanding (audited)", body = Envelope<RecoveryKey>),
        Failures,
    )
)]
async fn get_rotate_key(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
) -> ApiResult {
    let audit = state
        .audit
        .draft(actions::RECOVERY_KEY_ISSUE, String::new(), &context);
    let rotate_key = state.tenants.issue_recovery_key(&tenant, audit).await?;
    Ok(ok(
        "Rotate key issued. This is the only time it is shown; store it separately from the client key.",
        RecoveryKey { rotate_key },
    ))
}

#[utoipa::path(
    post,
    path = "/api/keys/recover",
    tag = "client keys",
    request_body = RecoverRequest,
    responses(
        (status = 200, description = "the tenant now answers to the new client key; both values are shown only now and the presented recovery key is spent (audited). 401 for a wrong, malformed or spent recovery key; 409 `client_key_in_use` when `new_client_key` names a tenant with data", body = Envelope<Recovered>),
        Failures,
    )
)]
async fn recover(
    State(state): State<AppState>,
    Context(context): Context,
    RequiredJson(body): RequiredJson<RecoverRequest>,
) -> ApiResult {
    let new_key = match body.new_client_key.as_deref() {
        None => fresh_key(),
        Some(raw) => ClientKey::parse(raw)
            .map_err(|_| ApiError::bad_request("new_client_key must be a valid UUID4"))?,
    };
    let audit = state.audit.draft(
        actions::CLIENT_KEY_RECOVER,
        state.tenants.move_target(None, &new_key),
        &context,
    );
    let recovery = match state
        .tenants
        .recover(&body.rotate_key, new_key, audit)
        .await
    {
        Ok(recovery) => recovery,
        Err(err) => {
            // No tenant to file it under: the refusal goes to the log (never the presented key).
            tracing::warn!(ip = ?context.client_ip, error = %err, "client key recovery refused");
            return Err(err.into());
        }
    };
    Ok(ok(
        "Namespace recovered. Both values are shown only once; the previous rotate key is now invalid.",
        Recovered {
            client_key: recovery.client_key.as_str().to_owned(),
            rotate_key: recovery.recovery_key,
            migrated: migrated(recovery.moved),
        },
    ))
}

//! Issuing and revoking client keys for `AUTH_TENANT_MODE=registered` (the `warden tenant` commands).

use super::{ServiceError, Tenants};
use warden_core::domain::ClientKey;
use warden_store::Store;

/// Makes a new client key and registers its tenant; the key is returned once and never stored.
pub async fn create_tenant(store: &Store, tenants: &Tenants) -> Result<ClientKey, ServiceError> {
    let raw = uuid::Uuid::new_v4().to_string();
    // A fresh v4 UUID in hyphenated form always parses.
    let key = ClientKey::parse(&raw).map_err(|e| ServiceError::Internal(e.into()))?;
    store.register_tenant(&tenants.tenant_of(&key)).await?;
    Ok(key)
}

/// Revokes a registered key; `false` when it was not registered or already revoked.
pub async fn revoke_tenant(
    store: &Store,
    tenants: &Tenants,
    key: &ClientKey,
) -> Result<bool, ServiceError> {
    Ok(store.revoke_tenant(&tenants.tenant_of(key)).await?)
}

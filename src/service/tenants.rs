//! Turns client keys into tenant ids, with the secret agreed with the database at start-up.

use rand::RngCore;
use secrecy::ExposeSecret;

use crate::domain::{ClientKey, TenantId, TenantSecret};
use crate::store::{Store, StoreError};

const SECRET_KEY: &str = "tenant_secret";
const CHECK_KEY: &str = "tenant_secret_check";

/// Why start-up could not settle the tenant secret.
#[derive(Debug, thiserror::Error)]
pub enum TenantSetupError {
    #[error(
        "AUTH_TENANT_SECRET differs from the secret this database was set up with; \
         every tenant's data would become unreachable, so Warden refuses to start"
    )]
    SecretMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves client keys to tenants.
#[derive(Clone, Debug)]
pub struct Tenants {
    secret: TenantSecret,
}

impl Tenants {
    /// Uses the configured secret, or the one kept in the database (made on first start) when none is configured.
    /// Either way the database records a check value, so a changed secret is refused instead of silently
    /// orphaning every tenant.
    pub async fn setup(
        store: &Store,
        configured: Option<&secrecy::SecretString>,
    ) -> Result<Self, TenantSetupError> {
        let secret = match configured {
            Some(secret) => TenantSecret::new(secret.expose_secret().as_bytes().to_vec()),
            None => {
                let mut fresh = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut fresh);
                let stored = store
                    .meta_get_or_insert(SECRET_KEY, &hex::encode(fresh))
                    .await?;
                let bytes = hex::decode(&stored)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!("stored tenant secret: {e}")))?;
                TenantSecret::new(bytes)
            }
        };
        let check = secret.check_value();
        let stored_check = store.meta_get_or_insert(CHECK_KEY, &check).await?;
        // Check values are public by design, so an ordinary comparison leaks nothing.
        if stored_check != check {
            return Err(TenantSetupError::SecretMismatch);
        }
        Ok(Self { secret })
    }

    /// A resolver with a fixed secret, for tests and tools.
    pub fn with_secret(secret: TenantSecret) -> Self {
        Self { secret }
    }

    /// A purpose-specific key derived from the tenant secret (see [`TenantSecret::derive_key`]).
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        self.secret.derive_key(purpose)
    }

    pub fn tenant_of(&self, key: &ClientKey) -> TenantId {
        self.secret.tenant_of(key)
    }
}

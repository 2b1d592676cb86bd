//! Turns client keys into tenant ids, with the secret agreed with the database at start-up.

use secrecy::ExposeSecret;

use crate::config::TenantMode;
use warden_core::crypto::FieldCodec;
use warden_core::domain::{ClientKey, TenantId, TenantScope, TenantSecret};
use warden_store::{Store, StoreError};

use super::server_secrets::{server_secret, SecretHome, ServerSecret, ServerSecretError};
use super::ServiceError;

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
    Secret(#[from] ServerSecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves client keys to tenants.
#[derive(Clone, Debug)]
pub struct Tenants {
    secret: TenantSecret,
    /// In registered mode, where the registry lives; `None` in open mode.
    pub(super) registry: Option<Store>,
    /// Field encryption, when on: gives each tenant its codec.
    encryption: Option<super::Encryption>,
    /// Which client keys stand for which tenant after rotations; `None` for a resolver without a store (every key
    /// stands for the tenant of its own fingerprint).
    pub(super) keys: Option<std::sync::Arc<super::client_keys::KeyDirectory>>,
}

impl Tenants {
    /// Uses the configured secret, or a generated one kept outside the database (see [`super::server_secrets`]).
    /// Either way the database records a check value, so a changed secret is refused instead of silently
    /// orphaning every tenant.
    pub async fn setup(
        store: &Store,
        home: &SecretHome,
        configured: Option<&secrecy::SecretString>,
    ) -> Result<Self, TenantSetupError> {
        let secret = server_secret(store, home, ServerSecret::Tenant, configured).await?;
        let secret = TenantSecret::new(secret.expose_secret().to_vec());
        let check = secret.check_value();
        let stored_check = store.meta_get_or_insert(CHECK_KEY, &check).await?;
        // Check values are public by design, so an ordinary comparison leaks nothing.
        if stored_check != check {
            return Err(TenantSetupError::SecretMismatch);
        }
        Ok(Self {
            secret,
            registry: None,
            encryption: None,
            keys: Some(super::client_keys::KeyDirectory::new(store.clone())),
        })
    }

    /// A resolver with a fixed secret, for tests and tools.
    pub fn with_secret(secret: TenantSecret) -> Self {
        Self {
            secret,
            registry: None,
            encryption: None,
            keys: None,
        }
    }

    /// Applies `AUTH_TENANT_MODE`: in registered mode only registered, unrevoked tenants are accepted.
    pub fn with_mode(mut self, mode: TenantMode, store: &Store) -> Self {
        self.registry = match mode {
            TenantMode::Open => None,
            TenantMode::Registered => Some(store.clone()),
        };
        self
    }

    /// The tenant of a key, if the key is accepted: in open mode any key not retired by a rotation or recovery
    /// (`ClientKeyRetired`); in registered mode only a registered, unrevoked one (one primary-key read, so a
    /// revoke — and a rotation, which revokes the old key's registration — holds on every instance at once).
    pub async fn authenticate(&self, key: &ClientKey) -> Result<Option<TenantScope>, ServiceError> {
        let fingerprint = self.tenant_of(key);
        if let Some(store) = &self.registry {
            if !store.tenant_is_active(&fingerprint).await? {
                return Ok(None);
            }
        }
        let id = match &self.keys {
            None => fingerprint,
            Some(keys) => keys
                .resolve(fingerprint)
                .await?
                .ok_or(ServiceError::ClientKeyRetired)?,
        };
        Ok(Some(self.scope_for(id, key).await?))
    }

    /// How an authenticated tenant's sensitive fields are stored (its codec is cached from authentication).
    pub async fn field_codec(&self, tenant: &TenantId) -> Result<FieldCodec, ServiceError> {
        match &self.encryption {
            None => Ok(FieldCodec::Plain),
            Some(encryption) => encryption
                .stored_codec(tenant)
                .await
                .map_err(|err| match err {
                    super::encryption::EncryptionError::Store(store) => ServiceError::from(store),
                    other => ServiceError::Internal(other.into()),
                }),
        }
    }

    /// Makes sure the tenant's key material is stored before a sealed value is written under `scope`'s codec
    /// (a no-op without encryption, and a cache look-up once stored).
    pub async fn ensure_key_stored(&self, scope: &TenantScope) -> Result<(), ServiceError> {
        let Some(encryption) = &self.encryption else {
            return Ok(());
        };
        encryption
            .ensure_stored(&scope.id, &scope.codec)
            .await
            .map_err(|err| match err {
                super::encryption::EncryptionError::Store(store) => ServiceError::from(store),
                other => ServiceError::Internal(other.into()),
            })
    }

    /// Switches field encryption on for the tenants this resolver hands out.
    pub fn with_encryption(mut self, encryption: Option<super::Encryption>) -> Self {
        self.encryption = encryption;
        self
    }

    /// A server sub-key for one purpose, derived from the tenant secret.
    pub fn derive_key(&self, purpose: &str) -> secrecy::SecretSlice<u8> {
        self.secret.derive_key(purpose)
    }

    pub fn tenant_of(&self, key: &ClientKey) -> TenantId {
        self.secret.tenant_of(key)
    }

    /// The tenant a client key stands for, with the codec for its sensitive fields.
    async fn scope_for(&self, id: TenantId, key: &ClientKey) -> Result<TenantScope, ServiceError> {
        let codec = match &self.encryption {
            None => FieldCodec::Plain,
            Some(encryption) => encryption
                .codec_for(&id, key)
                .await
                .map_err(|err| match err {
                    super::encryption::EncryptionError::Store(store) => ServiceError::from(store),
                    other => ServiceError::Internal(other.into()),
                })?,
        };
        Ok(TenantScope { id, codec })
    }
}

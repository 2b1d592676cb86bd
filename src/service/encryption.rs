//! Field encryption's rules: the start-up safety checks, per-tenant codecs, and the offline conversions.
//!
//! The database records whether it is encrypted and a check value of the key. Warden refuses to start with the
//! wrong key, with encryption off over encrypted data, or on over plaintext data, so rows are never mixed.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use secrecy::{ExposeSecret, SecretString};

use crate::config::EncryptionSettings;
use warden_core::crypto::{FieldCodec, MasterKey, TenantCipher};
use warden_core::domain::{ClientKey, TenantId};
use warden_store::{Reseal, ResealReport, RetiredKey, Store, StoreError};

const MODE_KEY: &str = "encryption";
const CHECK_KEY: &str = "encryption_key_check";
/// Tenant codecs kept in memory; beyond this the cache starts over (each entry is re-read on next use).
const MAX_CACHED_TENANTS: usize = 100_000;
/// How long a cached codec is used before its stored key row is read again. Maintenance prunes the key rows of idle
/// tenants when they hold the derivation from the client key; the re-read puts such a row back (the same key) if a
/// tenant this instance still serves from memory was pruned meanwhile.
const CODEC_RECHECK: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error(
        "this database holds unencrypted data but AUTH_ENABLE_ENCRYPTION is true; \
         run `warden encrypt` (with Warden stopped) to convert it first"
    )]
    PlaintextDatabase,
    #[error(
        "this database is encrypted but AUTH_ENABLE_ENCRYPTION is false; \
         start with encryption on and the database's AUTH_ENCRYPTION_KEY"
    )]
    EncryptedDatabase,
    #[error(
        "AUTH_ENCRYPTION_KEY is not the key this database was encrypted with \
         (use `warden rotate-encryption-key` to change keys)"
    )]
    WrongKey,
    #[error(
        "AUTH_ENCRYPTION_KEY {0} (accepted only to rotate away from it: run `warden rotate-encryption-key` with a \
         strong AUTH_NEW_ENCRYPTION_KEY, then start with that key)"
    )]
    WeakKey(&'static str),
    #[error("{0}")]
    Usage(&'static str),
    #[error("stored tenant key material cannot be opened with AUTH_ENCRYPTION_KEY")]
    BrokenTenantKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The master key and the cache of tenant ciphers. Cheap to clone.
#[derive(Clone)]
pub struct Encryption {
    inner: Arc<Inner>,
}

struct Inner {
    master: MasterKey,
    wrapping: TenantCipher,
    store: Store,
    codecs: RwLock<HashMap<TenantId, (FieldCodec, std::time::Instant)>>,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Encryption([REDACTED])")
    }
}

/// PBKDF2 (100 000 rounds) runs once, off the async threads.
async fn derive(key: &SecretString) -> MasterKey {
    let key = key.expose_secret().to_owned();
    match tokio::task::spawn_blocking(move || MasterKey::derive(&key)).await {
        Ok(master) => master,
        Err(_) => unreachable_derive(),
    }
}

#[cold]
fn unreachable_derive() -> MasterKey {
    // spawn_blocking only fails if the closure panicked, and PBKDF2 over a string does not panic.
    panic!("key derivation task failed")
}

impl Encryption {
    /// Checks the database against the settings (see the module doc) and, when encryption is on, derives the
    /// master key. `None` when encryption is off.
    pub async fn setup(
        store: &Store,
        settings: &EncryptionSettings,
    ) -> Result<Option<Self>, EncryptionError> {
        let stored_mode = store.meta_get(MODE_KEY).await?;
        let key = match (&settings.key, settings.enabled) {
            (Some(key), true) => Some(key),
            (None, true) => {
                return Err(EncryptionError::Usage(
                    "AUTH_ENABLE_ENCRYPTION is true but no AUTH_ENCRYPTION_KEY (or `encryption_key` in Vault) is set",
                ))
            }
            (_, false) => None,
        };
        if let (Some(reason), Some(_)) = (settings.weak_key, key) {
            return Err(EncryptionError::WeakKey(reason));
        }
        let Some(key) = key else {
            return match stored_mode.as_deref() {
                Some("on") => Err(EncryptionError::EncryptedDatabase),
                Some(_) => Ok(None),
                None => match store.meta_get_or_insert(MODE_KEY, "off").await?.as_str() {
                    "on" => Err(EncryptionError::EncryptedDatabase),
                    _ => Ok(None),
                },
            };
        };
        let master = derive(key).await;
        let check = master.key_check_value();
        match stored_mode.as_deref() {
            Some("on") => {}
            Some(_) => return Err(EncryptionError::PlaintextDatabase),
            None => {
                if store.has_sealable_values().await? {
                    return Err(EncryptionError::PlaintextDatabase);
                }
                if store.meta_get_or_insert(MODE_KEY, "on").await? != "on" {
                    return Err(EncryptionError::PlaintextDatabase);
                }
            }
        }
        // Check values are public by design, so an ordinary comparison leaks nothing.
        if store.meta_get_or_insert(CHECK_KEY, &check).await? != check {
            return Err(EncryptionError::WrongKey);
        }
        Ok(Some(Self {
            inner: Arc::new(Inner {
                wrapping: master.wrapping_cipher(),
                master,
                store: store.clone(),
                codecs: RwLock::default(),
            }),
        }))
    }

    /// The codec of a tenant known by id only. A tenant without stored key material has never stored a sealed
    /// value (the row is written before its first sealed value, see [`Self::ensure_stored`]), so any cipher
    /// serves its look-ups equally: a random one, whose ciphertexts match nothing stored.
    pub async fn stored_codec(&self, tenant: &TenantId) -> Result<FieldCodec, EncryptionError> {
        if let Some((codec, _)) = self.inner.codecs.read().get(tenant) {
            return Ok(codec.clone());
        }
        let Some(wrapped) = self.inner.store.tenant_key(tenant).await? else {
            return Ok(FieldCodec::Sealed(TenantCipher::random()));
        };
        let cipher = TenantCipher::unwrap_with(&wrapped, &self.inner.wrapping)
            .map_err(|_| EncryptionError::BrokenTenantKey)?;
        Ok(FieldCodec::Sealed(cipher))
    }

    /// The tenant's codec: its stored key material, or (before its first sealed value) the seed's derivation
    /// from the client key, which is *not* stored here: a key that only reads costs no row and no write. Only
    /// stored codecs are cached, so a flood of new keys cannot churn the cache of real tenants.
    pub async fn codec_for(
        &self,
        tenant: &TenantId,
        key: &ClientKey,
    ) -> Result<FieldCodec, EncryptionError> {
        if let Some((codec, cached_at)) = self.inner.codecs.read().get(tenant) {
            if cached_at.elapsed() < CODEC_RECHECK {
                return Ok(codec.clone());
            }
        }
        match self.inner.store.tenant_key(tenant).await? {
            Some(stored) => self.cache(tenant, &stored),
            None => Ok(FieldCodec::Sealed(
                self.inner.master.tenant_cipher(key.as_str()),
            )),
        }
    }

    /// Stores the tenant's key material (wrapped) unless it is stored already, so offline tools can open what is
    /// about to be sealed with it. Called before a tenant's first sealed value is written; afterwards a cache
    /// look-up.
    pub async fn ensure_stored(
        &self,
        tenant: &TenantId,
        codec: &FieldCodec,
    ) -> Result<(), EncryptionError> {
        if self.inner.codecs.read().contains_key(tenant) {
            return Ok(());
        }
        let FieldCodec::Sealed(cipher) = codec else {
            return Ok(());
        };
        let stored = self
            .inner
            .store
            .tenant_key_get_or_insert(tenant, &cipher.wrap(&self.inner.wrapping))
            .await?;
        self.cache(tenant, &stored).map(drop)
    }

    /// Opens stored key material and caches the codec.
    fn cache(&self, tenant: &TenantId, stored: &str) -> Result<FieldCodec, EncryptionError> {
        let cipher = TenantCipher::unwrap_with(stored, &self.inner.wrapping)
            .map_err(|_| EncryptionError::BrokenTenantKey)?;
        let codec = FieldCodec::Sealed(cipher);
        let mut codecs = self.inner.codecs.write();
        if codecs.len() >= MAX_CACHED_TENANTS {
            codecs.clear();
        }
        codecs.insert(tenant.clone(), (codec.clone(), std::time::Instant::now()));
        Ok(codec)
    }
}

impl Encryption {
    /// The tenant's retired ciphers, newest first, for audit targets sealed before a key rotation. Material that
    /// does not open under the current key is skipped (and logged): its entries stay sealed rather than failing.
    pub async fn retired_codecs(&self, tenant: &TenantId) -> Result<Vec<FieldCodec>, StoreError> {
        let mut codecs = Vec::new();
        for wrapped in self.inner.store.retired_tenant_keys(tenant).await? {
            match TenantCipher::unwrap_with(&wrapped, &self.inner.wrapping) {
                Ok(cipher) => codecs.push(FieldCodec::Sealed(cipher)),
                Err(_) => {
                    tracing::warn!("a retired tenant key does not open with AUTH_ENCRYPTION_KEY");
                }
            }
        }
        Ok(codecs)
    }
}

/// `warden encrypt`: converts a plaintext database to encrypted, in one transaction. Run with Warden stopped.
pub async fn encrypt_database(
    store: &Store,
    settings: &EncryptionSettings,
) -> Result<ResealReport, EncryptionError> {
    let key = settings
        .key
        .as_ref()
        .filter(|_| settings.enabled)
        .ok_or(EncryptionError::Usage(
            "set AUTH_ENABLE_ENCRYPTION=true and AUTH_ENCRYPTION_KEY to encrypt",
        ))?;
    if let Some(reason) = settings.weak_key {
        return Err(EncryptionError::WeakKey(reason));
    }
    if store.meta_get(MODE_KEY).await?.as_deref() == Some("on") {
        return Err(EncryptionError::Usage("the database is already encrypted"));
    }
    let master = derive(key).await;
    let wrapping = master.wrapping_cipher();
    let mut plan = HashMap::new();
    for tenant in store.tenants_with_fields().await? {
        let to = TenantCipher::random();
        let wrapped = to.wrap(&wrapping);
        plan.insert(
            tenant,
            Reseal {
                from: FieldCodec::Plain,
                to,
                wrapped,
            },
        );
    }
    let meta = [
        (MODE_KEY, "on".to_owned()),
        (CHECK_KEY, master.key_check_value()),
    ];
    // A plaintext database's audit targets are plaintext: there is no key to retire.
    Ok(store.reseal_all(&plan, &[], &meta).await?)
}

/// `warden rotate-encryption-key`: re-encrypts every tenant under fresh key material wrapped with
/// `AUTH_NEW_ENCRYPTION_KEY`, in one transaction. Run with Warden stopped, then restart with the new key.
///
/// Audit targets are the exception: the audit chain hashes each stored target, so re-sealing them would break
/// `warden audit verify`. Instead each audited tenant's old key material is kept as a retired key (wrapped under the
/// new key, like the current one), and the audit trail opens old entries with it.
pub async fn rotate_key(
    store: &Store,
    settings: &EncryptionSettings,
) -> Result<ResealReport, EncryptionError> {
    let (Some(old_key), Some(new_key), true) = (&settings.key, &settings.new_key, settings.enabled)
    else {
        return Err(EncryptionError::Usage(
            "set AUTH_ENABLE_ENCRYPTION=true, AUTH_ENCRYPTION_KEY (current) and AUTH_NEW_ENCRYPTION_KEY",
        ));
    };
    if store.meta_get(MODE_KEY).await?.as_deref() != Some("on") {
        return Err(EncryptionError::Usage(
            "the database is not encrypted; use `warden encrypt`",
        ));
    }
    let old = derive(old_key).await;
    if store.meta_get(CHECK_KEY).await?.as_deref() != Some(old.key_check_value().as_str()) {
        return Err(EncryptionError::WrongKey);
    }
    let new = derive(new_key).await;
    let (old_wrapping, new_wrapping) = (old.wrapping_cipher(), new.wrapping_cipher());
    let stored = store.all_tenant_keys().await?;
    let audited: std::collections::HashSet<TenantId> =
        store.audited_tenants().await?.into_iter().collect();
    let now = warden_store::now_millis();
    // Keys retired by earlier rotations move to the new key; each audited tenant's current key joins them, since
    // its audit targets keep their ciphertext (the chain hashes them).
    let mut retired = Vec::new();
    for key in store.all_retired_tenant_keys().await? {
        let cipher = TenantCipher::unwrap_with(&key.wrapped, &old_wrapping)
            .map_err(|_| EncryptionError::BrokenTenantKey)?;
        retired.push(RetiredKey {
            wrapped: cipher.wrap(&new_wrapping),
            ..key
        });
    }
    let mut plan = HashMap::new();
    for tenant in store.tenants_with_fields().await? {
        let from = match stored.get(&tenant) {
            Some(wrapped) => FieldCodec::Sealed(
                TenantCipher::unwrap_with(wrapped, &old_wrapping)
                    .map_err(|_| EncryptionError::BrokenTenantKey)?,
            ),
            // A tenant with fields but no key can only hold values written before encryption: impossible in an
            // encrypted database, so refuse rather than guess.
            None => return Err(EncryptionError::BrokenTenantKey),
        };
        if let (FieldCodec::Sealed(current), true) = (&from, audited.contains(&tenant)) {
            retired.push(RetiredKey {
                tenant: tenant.clone(),
                wrapped: current.wrap(&new_wrapping),
                retired_at: now,
            });
        }
        let to = TenantCipher::random();
        let wrapped = to.wrap(&new_wrapping);
        plan.insert(tenant, Reseal { from, to, wrapped });
    }
    let meta = [(CHECK_KEY, new.key_check_value())];
    Ok(store.reseal_all(&plan, &retired, &meta).await?)
}

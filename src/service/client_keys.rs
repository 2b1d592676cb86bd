//! Client-key rotation and recovery, and which client keys stand for which tenant.
//!
//! A tenant keeps the id derived from its first client key; a rotation or recovery records that a new key's
//! fingerprint stands for it and retires the old one (see `warden_store::client_keys`). Nothing else moves, so
//! every keyed hash, JWT key, audit chain and sealed value stays valid, and a request sees either the whole
//! namespace (before the commit) or 401 (after it).
//!
//! Each instance caches what it has looked up, per fingerprint: the first request with a key costs one
//! primary-key read, later ones none. The instance that rotates updates its cache at the commit; the others learn
//! of new and retired keys from a look at the recently changed rows every sync sweep (in registered mode they
//! refuse a retired key at once, since its registration is revoked in the same transaction).

use std::collections::HashMap;
use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use warden_core::crypto::{base62_secret, is_base62_secret, KeyedHasher};
use warden_core::domain::{ClientKey, TenantId, TenantScope};
use warden_store::{AuditDraft, KeyAlias, KeyMove, NamespaceCounts, Store, StoreError};

use super::{ServiceError, Tenants};

/// Fingerprints remembered per instance (about 64 bytes each); beyond this the cache starts over (each entry is
/// re-read on next use), so a flood of new keys costs reads, not memory.
const MAX_CACHED_KEYS: usize = 100_000;
/// How far back each sweep looks, beyond its previous one: instances' clocks may differ by this much.
const CLOCK_SKEW_MARGIN_MS: i64 = 60_000;
const RECOVERY_KEY_PREFIX: &str = "rrk_";

/// What a client key's fingerprint stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    /// The tenant of the same id (every key never rotated away): nothing to copy per request.
    Own,
    /// Another tenant, whose key this became by a rotation or recovery.
    Alias(TenantId),
    Retired,
}

impl Standing {
    fn of(fingerprint: &TenantId, alias: Option<KeyAlias>) -> Self {
        match alias {
            None => Self::Own,
            Some(KeyAlias {
                retired_at: Some(_),
                ..
            }) => Self::Retired,
            Some(KeyAlias { tenant, .. }) if tenant == *fingerprint => Self::Own,
            Some(KeyAlias { tenant, .. }) => Self::Alias(tenant),
        }
    }

    /// Whether this standing, cached under `slot`, names `tenant` (as its own or as an alias).
    fn names(&self, slot: Slot, tenant: &TenantId) -> bool {
        match self {
            Self::Own => slot == Slot::of(tenant),
            Self::Alias(aliased) => aliased == tenant,
            Self::Retired => false,
        }
    }
}

/// A fingerprint's first 128 bits, which key the cache: a third of the memory of the hex string, and no
/// allocation per look-up. Fingerprints are HMACs under the server's secret, so nobody can choose a key whose
/// fingerprint shares them with another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Slot(u128);

impl Slot {
    fn of(fingerprint: &TenantId) -> Self {
        let hex = fingerprint.as_str();
        Self(u128::from_str_radix(hex.get(..32).unwrap_or(hex), 16).unwrap_or_default())
    }
}

/// The per-instance cache of key standings, and the store behind it.
#[derive(Debug)]
pub(super) struct KeyDirectory {
    store: Store,
    standings: RwLock<HashMap<Slot, Standing>>,
    /// Advanced by every change to `standings` that a database read may not have seen (a move committed here, a
    /// sweep): a read that started before it does not write its answer back.
    generation: AtomicU64,
    /// When the last sweep started (milliseconds).
    swept_at: Mutex<i64>,
}

impl KeyDirectory {
    pub(super) fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            store,
            standings: RwLock::default(),
            generation: AtomicU64::new(0),
            swept_at: Mutex::new(warden_store::now_millis()),
        })
    }

    /// The tenant a fingerprint stands for, or `None` when its key was retired.
    pub(super) async fn resolve(
        &self,
        fingerprint: TenantId,
    ) -> Result<Option<TenantId>, StoreError> {
        let slot = Slot::of(&fingerprint);
        let cached = self.standings.read().get(&slot).cloned();
        let standing = match cached {
            Some(standing) => standing,
            None => {
                let generation = self.generation.load(Ordering::Acquire);
                let standing =
                    Standing::of(&fingerprint, self.store.key_alias(&fingerprint).await?);
                self.remember(slot, standing.clone(), generation);
                standing
            }
        };
        Ok(match standing {
            Standing::Own => Some(fingerprint),
            Standing::Alias(tenant) => Some(tenant),
            Standing::Retired => None,
        })
    }

    /// Caches a standing read from the database, unless a move or sweep happened since the read began (the read
    /// may predate a retirement this instance already knows of).
    fn remember(&self, slot: Slot, standing: Standing, read_at_generation: u64) {
        let mut standings = self.standings.write();
        if self.generation.load(Ordering::Acquire) != read_at_generation {
            return;
        }
        if standings.len() >= MAX_CACHED_KEYS {
            standings.clear();
        }
        standings.insert(slot, standing);
    }

    /// After this instance committed a move of `tenant` to `to`: every key it knew for the tenant is forgotten
    /// (a retired one is read again, as retired) and the new one is known.
    fn moved(&self, tenant: &TenantId, retired: Option<&TenantId>, to: &TenantId) {
        let mut standings = self.standings.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        standings.retain(|slot, standing| !standing.names(*slot, tenant));
        if let Some(retired) = retired {
            standings.insert(Slot::of(retired), Standing::Retired);
        }
        standings.insert(Slot::of(to), Standing::Alias(tenant.clone()));
    }

    /// Learns the keys other instances created or retired since the previous sweep.
    pub(super) async fn sweep(&self) -> Result<(), StoreError> {
        let started = warden_store::now_millis();
        let since = *self.swept_at.lock() - CLOCK_SKEW_MARGIN_MS;
        let changed = self.store.key_aliases_changed_since(since).await?;
        if !changed.is_empty() {
            let mut standings = self.standings.write();
            self.generation.fetch_add(1, Ordering::AcqRel);
            for (fingerprint, alias) in changed {
                let standing = Standing::of(&fingerprint, Some(alias));
                standings.insert(Slot::of(&fingerprint), standing);
            }
        }
        *self.swept_at.lock() = started;
        Ok(())
    }
}

/// A committed rotation: the new key (shown once) and what answers to it.
#[derive(Debug)]
pub struct KeyRotation {
    pub new_key: ClientKey,
    pub moved: NamespaceCounts,
}

/// A committed recovery: the new client key and the next recovery key (both shown once).
pub struct Recovery {
    pub client_key: ClientKey,
    pub recovery_key: String,
    pub moved: NamespaceCounts,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("client_key", &self.client_key)
            .field("recovery_key", &"********")
            .field("moved", &self.moved)
            .finish()
    }
}

/// Whether text has the shape of a recovery key (`rrk_` + 43 base62 characters).
fn is_recovery_key_shaped(text: &str) -> bool {
    is_base62_secret(text, RECOVERY_KEY_PREFIX)
}

/// A short, public reference to a fingerprint for audit targets (never the key).
fn reference(fingerprint: &TenantId) -> &str {
    &fingerprint.as_str()[..fingerprint.as_str().len().min(12)]
}

impl Tenants {
    fn key_directory(&self) -> Result<&KeyDirectory, ServiceError> {
        self.keys
            .as_deref()
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("client keys need the store")))
    }

    /// The hasher of recovery keys (also used by `warden import-auth` for the keys `auth` issued).
    pub(crate) fn recovery_hasher(&self) -> KeyedHasher {
        KeyedHasher::new(self.derive_key("recovery-keys"))
    }

    /// The audit target of a key move: public references of the retired and the new fingerprint.
    pub fn move_target(&self, from: Option<&ClientKey>, to: &ClientKey) -> String {
        let to = self.tenant_of(to);
        match from {
            Some(from) => format!(
                "from={} to={}",
                reference(&self.tenant_of(from)),
                reference(&to)
            ),
            None => format!("to={}", reference(&to)),
        }
    }

    /// Moves the tenant of `scope`, which `presented` authenticated, to a fresh client key. `ClientKeyRetired`
    /// when a concurrent rotation retired `presented` first.
    pub async fn rotate_client_key(
        &self,
        scope: &TenantScope,
        presented: &ClientKey,
        new_key: ClientKey,
        audit: Option<AuditDraft>,
    ) -> Result<KeyRotation, ServiceError> {
        let directory = self.key_directory()?;
        // The tenant's field key stays what it is; a key derived from the old client key must be on record
        // before that key stops presenting itself.
        self.ensure_key_stored(scope).await?;
        let from = self.tenant_of(presented);
        let to = self.tenant_of(&new_key);
        let key_move = KeyMove {
            tenant: &scope.id,
            from: Some(&from),
            to: &to,
        };
        let moved = directory
            .store
            .rotate_client_key(key_move, audit)
            .await
            .map_err(|err| match err {
                StoreError::NotFound => ServiceError::ClientKeyRetired,
                StoreError::Conflict => ServiceError::ClientKeyTaken,
                other => other.into(),
            })?;
        directory.moved(&scope.id, Some(&from), &to);
        Ok(KeyRotation { new_key, moved })
    }

    /// Issues the tenant's recovery key, once: `RecoveryKeyOutstanding` while one is.
    pub async fn issue_recovery_key(
        &self,
        scope: &TenantScope,
        audit: Option<AuditDraft>,
    ) -> Result<String, ServiceError> {
        let directory = self.key_directory()?;
        // The last moment a field key derived from the client key can still be derived: store it.
        self.ensure_key_stored(scope).await?;
        let secret = base62_secret(RECOVERY_KEY_PREFIX);
        let hash = self.recovery_hasher().hash_unscoped(&secret);
        if directory
            .store
            .issue_recovery_key(&scope.id, &hash, audit)
            .await?
        {
            Ok(secret)
        } else {
            Err(ServiceError::RecoveryKeyOutstanding)
        }
    }

    /// Moves the tenant whose recovery key `presented` is to `new_key` and issues its next recovery key. A wrong,
    /// malformed or spent key is `InvalidRecoveryKey` after the same work: one keyed hash and one indexed read.
    pub async fn recover(
        &self,
        presented: &str,
        new_key: ClientKey,
        audit: Option<AuditDraft>,
    ) -> Result<Recovery, ServiceError> {
        let directory = self.key_directory()?;
        let hasher = self.recovery_hasher();
        // Warden's own keys are found under the keyed hash of the key, keys imported from `auth` under the keyed
        // hash of its SHA-256 digest (what `auth` stored).
        let hashes = [
            hasher.hash_unscoped(presented),
            hasher.hash_unscoped(&super::users::auth_digest_of(presented)),
        ];
        // Read even for a malformed key, so every refusal costs the same.
        let outstanding = directory.store.recovery_key_exists(&hashes).await?;
        if !is_recovery_key_shaped(presented) || !outstanding {
            return Err(ServiceError::InvalidRecoveryKey);
        }
        let to = self.tenant_of(&new_key);
        let next = base62_secret(RECOVERY_KEY_PREFIX);
        let recovered = directory
            .store
            .recover_tenant(
                &hashes,
                &to,
                &hasher.hash_unscoped(&next),
                self.registry.is_some(),
                audit,
            )
            .await
            .map_err(|err| match err {
                StoreError::Conflict => ServiceError::ClientKeyTaken,
                other => other.into(),
            })?;
        // Spent between the look-up and the write (by a concurrent recovery with the same key), or, in registered
        // mode, a tenant an operator revoked.
        let Some((tenant, moved)) = recovered else {
            return Err(ServiceError::InvalidRecoveryKey);
        };
        directory.moved(&tenant, None, &to);
        Ok(Recovery {
            client_key: new_key,
            recovery_key: next,
            moved,
        })
    }

    /// Learns the client keys other instances rotated or recovered (run by the sync sweep).
    pub async fn sync_client_keys(&self) {
        if let Some(directory) = &self.keys {
            if let Err(err) = directory.sweep().await {
                tracing::debug!(error = %err, "client key sweep failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_keys_have_the_seed_shape() {
        let key = base62_secret(RECOVERY_KEY_PREFIX);
        assert!(is_recovery_key_shaped(&key));
        assert!(!is_recovery_key_shaped(&key.replacen("rrk_", "rak_", 1)));
        assert!(!is_recovery_key_shaped(&key[..key.len() - 1]));
        assert!(!is_recovery_key_shaped(&format!(
            "{}!",
            &key[..key.len() - 1]
        )));
    }

    /// A read of a key's row that began before this instance committed the key's retirement must not put the key
    /// back as active when it lands after the commit.
    #[tokio::test]
    async fn a_read_that_predates_a_retirement_does_not_revive_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&warden_store::DatabaseSettings {
            url: warden_store::DatabaseUrl::Sqlite(dir.path().join("warden.sqlite3")),
            pool_size: 2,
            acquire_timeout: std::time::Duration::from_secs(10),
        })
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let directory = KeyDirectory::new(store);
        let (old, new) = (
            TenantId::from_stored("ab".repeat(32)),
            TenantId::from_stored("cd".repeat(32)),
        );
        // The read began (the row said: its own tenant), then the rotation committed, then the read lands.
        let read_began = directory.generation.load(Ordering::Acquire);
        directory.moved(&old, Some(&old), &new);
        directory.remember(Slot::of(&old), Standing::Own, read_began);
        assert_eq!(
            directory.standings.read().get(&Slot::of(&old)),
            Some(&Standing::Retired)
        );
        assert_eq!(
            directory.standings.read().get(&Slot::of(&new)),
            Some(&Standing::Alias(old.clone()))
        );
        // A read that began afterwards is cached.
        let fresh = TenantId::from_stored("ef".repeat(32));
        directory.remember(
            Slot::of(&fresh),
            Standing::Own,
            directory.generation.load(Ordering::Acquire),
        );
        assert_eq!(directory.resolve(fresh.clone()).await.unwrap(), Some(fresh));
    }

    #[test]
    fn slots_are_the_first_128_bits() {
        let fp = TenantId::from_stored(format!("{}{}", "0f".repeat(16), "ab".repeat(16)));
        assert_eq!(
            Slot::of(&fp),
            Slot(u128::from_str_radix(&"0f".repeat(16), 16).unwrap())
        );
        assert!(Standing::Own.names(Slot::of(&fp), &fp));
        assert!(!Standing::Retired.names(Slot::of(&fp), &fp));
    }

    #[test]
    fn a_fingerprint_without_a_row_stands_for_its_own_tenant() {
        let fp = TenantId::from_stored("ab".repeat(32));
        let other = TenantId::from_stored("cd".repeat(32));
        assert_eq!(Standing::of(&fp, None), Standing::Own);
        let alias = KeyAlias {
            tenant: other.clone(),
            retired_at: None,
        };
        assert_eq!(
            Standing::of(&fp, Some(alias)),
            Standing::Alias(other.clone())
        );
        let original = KeyAlias {
            tenant: fp.clone(),
            retired_at: None,
        };
        assert_eq!(Standing::of(&fp, Some(original)), Standing::Own);
        let retired = KeyAlias {
            tenant: other,
            retired_at: Some(1),
        };
        assert_eq!(Standing::of(&fp, Some(retired)), Standing::Retired);
    }
}

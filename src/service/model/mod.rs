//! The in-memory models of the tenants in use, kept current with the database.
//!
//! A tenant's model is loaded on first use and then answers every RBAC read without database I/O. Writes commit
//! to the database first and are applied here only afterwards, in revision order; changes made by other
//! instances arrive by PostgreSQL notification (and a periodic sweep, which also covers missed notifications and
//! SQLite) and are replayed from the change log. Idle tenants are evicted when the memory budget is exceeded.

mod sync;
mod tenant_model;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

pub use sync::spawn_sync;
pub use tenant_model::{Listed, PageRequest, RoleInfo, TenantModel};

use crate::domain::{Change, TenantId, TenantScope};
use crate::store::{Store, StoreError};

/// How long a read with `min_revision` waits for that revision to arrive before giving up.
const MIN_REVISION_WAIT: Duration = Duration::from_secs(2);

/// One tenant's slot: its model once loaded, and a lock that serialises loads and catch-ups.
struct Slot {
    scope: TenantScope,
    model: RwLock<Option<TenantModel>>,
    syncing: tokio::sync::Mutex<()>,
    last_used: AtomicU64,
    bytes: AtomicU64,
}

impl Slot {
    fn revision(&self) -> Option<i64> {
        self.model.read().as_ref().map(TenantModel::revision)
    }
}

/// The cache of tenant models. Cheap to clone.
#[derive(Clone)]
pub struct Models {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    slots: RwLock<HashMap<TenantId, Arc<Slot>>>,
    budget_bytes: u64,
    clock: AtomicU64,
    /// Reads answered by a model already in memory, and reads that had to load one (for the cache hit rate).
    hits: AtomicU64,
    loads: AtomicU64,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("tenants", &self.inner.slots.read().len())
            .finish()
    }
}

/// A loaded model, ready to answer.
pub struct ModelRef(Arc<Slot>);

impl ModelRef {
    /// Runs `read` against the model.
    pub fn read<T>(&self, read: impl FnOnce(&TenantModel) -> T) -> T {
        let guard = self.0.model.read();
        match guard.as_ref() {
            Some(model) => read(model),
            // Dropped after a failed catch-up between `get` and now: answer as an empty model, so checks fail
            // closed rather than from stale data.
            None => read(&TenantModel::default()),
        }
    }

    pub fn revision(&self) -> i64 {
        self.0.revision().unwrap_or(0)
    }
}

/// Why a model could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("revision {wanted} is not visible yet (this instance is at {current})")]
    RevisionNotReached { wanted: i64, current: i64 },
}

impl Models {
    pub fn new(store: Store, budget_bytes: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                slots: RwLock::default(),
                budget_bytes,
                clock: AtomicU64::new(0),
                hits: AtomicU64::new(0),
                loads: AtomicU64::new(0),
            }),
        }
    }

    fn slot(&self, scope: &TenantScope) -> Arc<Slot> {
        let tick = self.inner.clock.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = self.inner.slots.read().get(&scope.id) {
            slot.last_used.store(tick, Ordering::Relaxed);
            return slot.clone();
        }
        self.inner
            .slots
            .write()
            .entry(scope.id.clone())
            .or_insert_with(|| {
                Arc::new(Slot {
                    scope: scope.clone(),
                    model: RwLock::new(None),
                    syncing: tokio::sync::Mutex::new(()),
                    last_used: AtomicU64::new(tick),
                    bytes: AtomicU64::new(0),
                })
            })
            .clone()
    }

    /// The tenant's model, loaded if need be; with `min_revision`, never older than that revision.
    pub async fn get(
        &self,
        scope: &TenantScope,
        min_revision: Option<i64>,
    ) -> Result<ModelRef, ModelError> {
        let slot = self.slot(scope);
        if slot.revision().is_none() {
            self.inner.loads.fetch_add(1, Ordering::Relaxed);
            self.load(&slot).await?;
        } else {
            self.inner.hits.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(wanted) = min_revision {
            let deadline = tokio::time::Instant::now() + MIN_REVISION_WAIT;
            while slot.revision().unwrap_or(0) < wanted {
                self.catch_up(&slot).await?;
                if slot.revision().unwrap_or(0) >= wanted {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(ModelError::RevisionNotReached {
                        wanted,
                        current: slot.revision().unwrap_or(0),
                    });
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        Ok(ModelRef(slot))
    }

    /// Loads (or reloads) a slot's model from the database.
    async fn load(&self, slot: &Arc<Slot>) -> Result<(), StoreError> {
        let _sync = slot.syncing.lock().await;
        if slot.revision().is_some() {
            return Ok(());
        }
        self.reload_locked(slot).await
    }

    /// Replaces the model with a fresh snapshot; the caller holds `syncing`.
    async fn reload_locked(&self, slot: &Arc<Slot>) -> Result<(), StoreError> {
        let snapshot = self.inner.store.load_model(&slot.scope).await?;
        let model = TenantModel::from_snapshot(snapshot);
        slot.bytes
            .store(model.approx_bytes() as u64, Ordering::Relaxed);
        {
            let mut guard = slot.model.write();
            if guard
                .as_ref()
                .is_none_or(|m| m.revision() <= model.revision())
            {
                *guard = Some(model);
            }
        }
        self.evict_over_budget(&slot.scope.id);
        Ok(())
    }

    /// Brings a loaded model up to the database's revision by replaying the change log (reloading if the log no
    /// longer reaches back far enough).
    async fn catch_up(&self, slot: &Arc<Slot>) -> Result<(), StoreError> {
        let _sync = slot.syncing.lock().await;
        let Some(current) = slot.revision() else {
            return self.reload_locked(slot).await;
        };
        let changes = self.inner.store.changes_since(&slot.scope, current).await?;
        let complete = {
            let mut guard = slot.model.write();
            let Some(model) = guard.as_mut() else {
                return Ok(());
            };
            let mut complete = true;
            for (revision, change) in &changes {
                if *revision <= model.revision {
                    continue;
                }
                if *revision != model.revision + 1 {
                    complete = false;
                    break;
                }
                model.apply(change);
                model.revision = *revision;
            }
            complete
        };
        if !complete {
            self.reload_locked(slot).await?;
        }
        Ok(())
    }

    /// Applies a change this instance just committed at `revision`. If the model missed an earlier revision
    /// (written by another instance), it catches up first, so a caller always reads its own writes.
    pub async fn committed(&self, scope: &TenantScope, revision: i64, change: &Change) {
        let Some(slot) = self.inner.slots.read().get(&scope.id).cloned() else {
            return;
        };
        let behind = {
            let mut guard = slot.model.write();
            match guard.as_mut() {
                None => false,
                Some(model) if model.revision >= revision => false,
                Some(model) if model.revision + 1 == revision => {
                    model.apply(change);
                    model.revision = revision;
                    false
                }
                Some(_) => true,
            }
        };
        if behind {
            if let Err(err) = self.catch_up(&slot).await {
                // Never serve a model that lacks an acknowledged write: drop it, the next read reloads.
                tracing::warn!(error = %err, "catch-up after write failed; model dropped");
                *slot.model.write() = None;
            }
        }
    }

    /// Catches up one tenant if its model is loaded and older than `revision` (from a notification or sweep).
    pub async fn observed(&self, tenant: &TenantId, revision: i64) -> Result<(), StoreError> {
        let Some(slot) = self.inner.slots.read().get(tenant).cloned() else {
            return Ok(());
        };
        match slot.revision() {
            Some(current) if current < revision => self.catch_up(&slot).await,
            _ => Ok(()),
        }
    }

    /// Drops the least recently used models until the total is within budget (never the one just loaded).
    fn evict_over_budget(&self, keep: &TenantId) {
        let mut slots = self.inner.slots.write();
        let mut total: u64 = slots
            .values()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum();
        if total <= self.inner.budget_bytes {
            return;
        }
        let mut by_age: Vec<(u64, TenantId)> = slots
            .iter()
            .filter(|(id, _)| *id != keep)
            .map(|(id, slot)| (slot.last_used.load(Ordering::Relaxed), id.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, id) in by_age {
            if total <= self.inner.budget_bytes {
                break;
            }
            if let Some(slot) = slots.remove(&id) {
                total = total.saturating_sub(slot.bytes.load(Ordering::Relaxed));
                tracing::debug!(tenant = %id, "evicted idle tenant model");
            }
        }
    }

    /// (reads answered from memory, reads that loaded a model) since start, for the cache hit rate.
    pub fn cache_counts(&self) -> (u64, u64) {
        (
            self.inner.hits.load(Ordering::Relaxed),
            self.inner.loads.load(Ordering::Relaxed),
        )
    }

    /// How many tenant models are loaded (for metrics and tests).
    pub fn loaded_tenants(&self) -> usize {
        self.inner.slots.read().len()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
}

//! The in-memory models of the tenants in use, kept current with the database.
//!
//! A tenant's model is loaded on first use and then answers every RBAC read without database I/O. Writes commit
//! to the database first and are applied here only afterwards, in revision order; changes made by other
//! instances arrive by PostgreSQL notification (and a periodic sweep of the tenants loaded here, which also covers
//! missed notifications and SQLite) and are replayed from the change log.
//!
//! A tenant that has never written anything (no head row, or head revision 0) gets no slot: its reads are
//! answered from a shared empty model after one primary-key read, so a flood of random client keys holds no
//! memory here.
//!
//! Memory: each slot counts a fixed overhead plus its model's estimated bytes, updated whenever a write or a
//! catch-up changes the model. Over the budget (`AUTH_MODEL_MEMORY_MB`) the least recently used slots are
//! evicted. Recency costs one relaxed atomic store on the read path; the eviction order is an ordered index of
//! (tick, slot) entries that is corrected lazily: a popped entry whose slot was used since is re-inserted at its
//! newer tick instead of evicted, so each eviction costs O(log n) amortised and never scans all slots.

mod sync;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

pub use sync::spawn_sync;
pub use warden_core::model::{Listed, ModelCounts, PageRequest, Reach, RoleInfo, TenantModel};

use warden_core::domain::{Change, TenantId, TenantScope};
use warden_store::{Store, StoreError};

/// How long a read with `min_revision` waits for an existing revision to be applied before giving up.
const MIN_REVISION_WAIT: Duration = Duration::from_secs(2);

/// What a slot costs besides its model: the slot itself, its map and index entries, the tenant id, the codec
/// and the notification channel (a deliberate over-estimate, so many tiny tenants still respect the budget).
pub const SLOT_OVERHEAD_BYTES: u64 = 2048;

pub use warden_core::model::DueExpiry;

/// The model every tenant without data answers from.
static EMPTY_MODEL: LazyLock<TenantModel> = LazyLock::new(TenantModel::default);

/// One tenant's slot: its model once loaded, and a lock that serialises loads and catch-ups.
struct Slot {
    scope: TenantScope,
    model: RwLock<Option<TenantModel>>,
    syncing: tokio::sync::Mutex<()>,
    /// The latest tick at which the slot was used (written on every read, without a lock).
    last_used: AtomicU64,
    /// What the slot counts against the budget; changed only under the `Lru` lock.
    bytes: AtomicU64,
    /// Set (under the `Lru` lock) when the slot leaves the cache, so later growth is no longer counted.
    evicted: AtomicBool,
    /// The model's revision, for readers waiting on `min_revision`.
    advanced: tokio::sync::watch::Sender<i64>,
}

impl Slot {
    fn revision(&self) -> Option<i64> {
        self.model.read().as_ref().map(TenantModel::revision)
    }

    /// Tells waiting readers the model's current revision.
    fn announce(&self, revision: i64) {
        self.advanced.send_if_modified(|seen| {
            let newer = revision > *seen;
            if newer {
                *seen = revision;
            }
            newer
        });
    }
}

/// The eviction order and the byte total, behind one lock taken on loads, writes and evictions, never on reads.
#[derive(Default)]
struct Lru {
    /// Slots by the tick they were last indexed at; an entry may be older than the slot's `last_used`.
    order: BTreeMap<u64, Arc<Slot>>,
    total_bytes: u64,
}

/// The cache of tenant models. Cheap to clone.
#[derive(Clone)]
pub struct Models {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    slots: RwLock<HashMap<TenantId, Arc<Slot>>>,
    lru: Mutex<Lru>,
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

/// A model ready to answer: a loaded tenant's, or the shared empty one of a tenant without data.
pub struct ModelRef(Option<Arc<Slot>>);

impl std::fmt::Debug for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRef")
            .field("revision", &self.revision())
            .finish()
    }
}

impl ModelRef {
    /// Runs `read` against the model.
    pub fn read<T>(&self, read: impl FnOnce(&TenantModel) -> T) -> T {
        let Some(slot) = &self.0 else {
            return read(&EMPTY_MODEL);
        };
        let guard = slot.model.read();
        match guard.as_ref() {
            Some(model) => read(model),
            // Dropped after a failed catch-up between `get` and now: answer as an empty model, so checks fail
            // closed rather than from stale data.
            None => read(&EMPTY_MODEL),
        }
    }

    pub fn revision(&self) -> i64 {
        self.0.as_ref().and_then(|s| s.revision()).unwrap_or(0)
    }

    /// Whether the tenant has no data at all (nothing was ever written): its answers come from the empty model.
    pub fn is_dataless(&self) -> bool {
        self.0.is_none()
    }
}

/// Why a model could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("revision {wanted} is not visible yet (this instance is at {current})")]
    RevisionNotReached { wanted: i64, current: i64 },
    #[error("revision {wanted} does not exist (the tenant is at {head})")]
    RevisionNotFound { wanted: i64, head: i64 },
}

impl Models {
    pub fn new(store: Store, budget_bytes: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                slots: RwLock::default(),
                lru: Mutex::default(),
                budget_bytes,
                clock: AtomicU64::new(0),
                hits: AtomicU64::new(0),
                loads: AtomicU64::new(0),
            }),
        }
    }

    fn tick(&self) -> u64 {
        self.inner.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The tenant's slot if it is loaded here, marked as used now.
    fn existing(&self, tenant: &TenantId) -> Option<Arc<Slot>> {
        let slot = self.inner.slots.read().get(tenant).cloned()?;
        slot.last_used.store(self.tick(), Ordering::Relaxed);
        Some(slot)
    }

    /// The tenant's slot, created (empty, counted at its overhead) if need be.
    fn slot(&self, scope: &TenantScope) -> Arc<Slot> {
        if let Some(slot) = self.existing(&scope.id) {
            return slot;
        }
        let tick = self.tick();
        let (slot, created) = {
            let mut slots = self.inner.slots.write();
            match slots.get(&scope.id) {
                Some(slot) => (slot.clone(), false),
                None => {
                    let slot = Arc::new(Slot {
                        scope: scope.clone(),
                        model: RwLock::new(None),
                        syncing: tokio::sync::Mutex::new(()),
                        last_used: AtomicU64::new(tick),
                        bytes: AtomicU64::new(SLOT_OVERHEAD_BYTES),
                        evicted: AtomicBool::new(false),
                        advanced: tokio::sync::watch::Sender::new(0),
                    });
                    slots.insert(scope.id.clone(), slot.clone());
                    (slot, true)
                }
            }
        };
        if created {
            let mut lru = self.inner.lru.lock();
            lru.total_bytes += SLOT_OVERHEAD_BYTES;
            lru.order.insert(tick, slot.clone());
        }
        slot
    }

    /// The tenant's model, loaded if need be; with `min_revision`, never older than that revision.
    ///
    /// A tenant that is not loaded here costs one primary-key read of its head: without data (no head row or
    /// revision 0) it is answered from the shared empty model and gets no slot. A `min_revision` beyond the
    /// head is answered [`ModelError::RevisionNotFound`] at once; one that exists is caught up to, waiting (on
    /// the slot's notification, for at most `MIN_REVISION_WAIT`) only if another task is applying it.
    pub async fn get(
        &self,
        scope: &TenantScope,
        min_revision: Option<i64>,
    ) -> Result<ModelRef, ModelError> {
        let slot = match self.existing(&scope.id) {
            Some(slot) => slot,
            None => {
                let head = self
                    .inner
                    .store
                    .head_revision(&scope.id)
                    .await?
                    .unwrap_or(0);
                if head == 0 {
                    return match min_revision {
                        Some(wanted) if wanted > 0 => {
                            Err(ModelError::RevisionNotFound { wanted, head })
                        }
                        _ => Ok(ModelRef(None)),
                    };
                }
                self.slot(scope)
            }
        };
        if slot.revision().is_none() {
            self.inner.loads.fetch_add(1, Ordering::Relaxed);
            self.load(&slot).await?;
        } else {
            self.inner.hits.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(wanted) = min_revision {
            if slot.revision().unwrap_or(0) < wanted {
                self.reach(&slot, wanted).await?;
            }
        }
        Ok(ModelRef(Some(slot)))
    }

    /// Brings a slot to `wanted`: refused at once when the database's head is older, otherwise caught up.
    async fn reach(&self, slot: &Arc<Slot>, wanted: i64) -> Result<(), ModelError> {
        let head = self
            .inner
            .store
            .head_revision(&slot.scope.id)
            .await?
            .unwrap_or(0);
        if wanted > head {
            return Err(ModelError::RevisionNotFound { wanted, head });
        }
        let mut advanced = slot.advanced.subscribe();
        self.catch_up(slot, Some(head)).await?;
        if slot.revision().unwrap_or(0) >= wanted {
            return Ok(());
        }
        // Another task holds a newer model than it has published yet; wait for it rather than poll.
        let reached = tokio::time::timeout(
            MIN_REVISION_WAIT,
            advanced.wait_for(|revision| *revision >= wanted),
        )
        .await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ModelError::RevisionNotReached {
                wanted,
                current: slot.revision().unwrap_or(0),
            }),
        }
    }

    /// Loads (or reloads) a slot's model from the database.
    async fn load(&self, slot: &Arc<Slot>) -> Result<(), StoreError> {
        let _sync = slot.syncing.lock().await;
        if slot.revision().is_some() {
            return Ok(());
        }
        self.reload_locked(slot).await
    }

    /// Replaces the model with a fresh one, built from the tenant's rows as they stream in (so a load holds the
    /// model and one row, not every row at once); the caller holds `syncing`.
    async fn reload_locked(&self, slot: &Arc<Slot>) -> Result<(), StoreError> {
        let mut builder = warden_core::model::ModelBuilder::new();
        self.inner
            .store
            .load_model_into(&slot.scope, &mut builder)
            .await?;
        self.install(slot, builder.finish());
        Ok(())
    }

    /// Puts a freshly loaded model in the slot unless the slot already holds a newer one; the caller holds
    /// `syncing`.
    fn install(&self, slot: &Arc<Slot>, model: TenantModel) {
        let (revision, bytes) = {
            let mut guard = slot.model.write();
            if guard
                .as_ref()
                .is_none_or(|m| m.revision() <= model.revision())
            {
                *guard = Some(model);
            }
            let current = guard.as_ref().map_or(0, TenantModel::approx_bytes);
            (guard.as_ref().map_or(0, TenantModel::revision), current)
        };
        slot.announce(revision);
        self.account(slot, bytes);
    }

    /// Brings a loaded model up to the database's revision by replaying the change log. It reloads instead when
    /// the log has a gap (it was pruned) or when, after the replay, the model is still behind `told` (the head
    /// revision a notification, sweep, write or reader reported): an empty replay of a pruned log is not "up to
    /// date".
    async fn catch_up(&self, slot: &Arc<Slot>, told: Option<i64>) -> Result<(), StoreError> {
        let _sync = slot.syncing.lock().await;
        let Some(current) = slot.revision() else {
            return self.reload_locked(slot).await;
        };
        if told.is_some_and(|told| told <= current) {
            return Ok(());
        }
        let changes = self.inner.store.changes_since(&slot.scope, current).await?;
        let (complete, revision, bytes) = {
            let mut guard = slot.model.write();
            let Some(model) = guard.as_mut() else {
                return Ok(());
            };
            let mut complete = true;
            for (revision, change) in &changes {
                if *revision <= model.revision() {
                    continue;
                }
                // A gap, or a change only a reload shows (an API key or `strict_users`).
                let Some(change) = change
                    .as_ref()
                    .filter(|_| *revision == model.revision() + 1)
                else {
                    complete = false;
                    break;
                };
                model.apply_at(*revision, change);
            }
            if told.is_some_and(|told| model.revision() < told) {
                complete = false;
            }
            (complete, model.revision(), model.approx_bytes())
        };
        slot.announce(revision);
        self.account(slot, bytes);
        if !complete {
            tracing::debug!(tenant = %slot.scope.id, "change log does not reach back; reloading the model");
            self.reload_locked(slot).await?;
        }
        Ok(())
    }

    /// Applies a change this instance just committed at `revision`. If the model missed an earlier revision
    /// (written by another instance), it catches up first, so a caller always reads its own writes. A slot whose
    /// model is not loaded yet may have a load under way that read its snapshot before this commit: the write
    /// waits for that load and catches up behind it, so the model never settles without the write.
    pub async fn committed(&self, scope: &TenantScope, revision: i64, change: &Change) {
        let Some(slot) = self.inner.slots.read().get(&scope.id).cloned() else {
            return;
        };
        let (behind, applied) = {
            let mut guard = slot.model.write();
            match guard.as_mut() {
                None => (true, None),
                Some(model) if model.revision() >= revision => (false, None),
                Some(model) if model.revision() + 1 == revision => {
                    model.apply_at(revision, change);
                    (false, Some(model.approx_bytes()))
                }
                Some(_) => (true, None),
            }
        };
        if let Some(bytes) = applied {
            slot.announce(revision);
            self.account(&slot, bytes);
        }
        if behind {
            if let Err(err) = self.catch_up(&slot, Some(revision)).await {
                // Never serve a model that lacks an acknowledged write: drop it, the next read reloads.
                tracing::warn!(error = %err, "catch-up after write failed; model dropped");
                *slot.model.write() = None;
                self.account(&slot, 0);
            }
        }
    }

    /// Catches up one tenant if its model is loaded and older than `revision` (from a notification or sweep).
    pub async fn observed(&self, tenant: &TenantId, revision: i64) -> Result<(), StoreError> {
        let Some(slot) = self.inner.slots.read().get(tenant).cloned() else {
            return Ok(());
        };
        match slot.revision() {
            Some(current) if current < revision => self.catch_up(&slot, Some(revision)).await,
            _ => Ok(()),
        }
    }

    /// Records that a slot's model now takes `model_bytes`, then evicts over budget (never this slot).
    fn account(&self, slot: &Arc<Slot>, model_bytes: usize) {
        let bytes = SLOT_OVERHEAD_BYTES + model_bytes as u64;
        let mut evicted = Vec::new();
        {
            let mut lru = self.inner.lru.lock();
            let old = slot.bytes.swap(bytes, Ordering::Relaxed);
            if slot.evicted.load(Ordering::Relaxed) {
                return;
            }
            lru.total_bytes = lru.total_bytes.saturating_sub(old) + bytes;
            evict_over_budget(&mut lru, self.inner.budget_bytes, slot, &mut evicted);
        }
        if !evicted.is_empty() {
            let mut slots = self.inner.slots.write();
            for victim in &evicted {
                // Only this very slot: the tenant may already have a new one.
                if slots
                    .get(&victim.scope.id)
                    .is_some_and(|s| Arc::ptr_eq(s, victim))
                {
                    slots.remove(&victim.scope.id);
                }
            }
        }
        for victim in evicted {
            tracing::debug!(tenant = %victim.scope.id, "evicted idle tenant model");
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

    /// The bytes the loaded models count against the budget (for metrics and tests).
    pub fn counted_bytes(&self) -> u64 {
        self.inner.lru.lock().total_bytes
    }

    /// The memberships expired at `now` in the models loaded here, at most `limit` per tenant: (tenant, [(user,
    /// role, expiry)]). A model without any expiring membership costs one comparison.
    pub fn due_expiries(&self, now: i64, limit: usize) -> Vec<(TenantScope, Vec<DueExpiry>)> {
        let slots: Vec<Arc<Slot>> = self.inner.slots.read().values().cloned().collect();
        slots
            .into_iter()
            .filter_map(|slot| {
                let due = slot.model.read().as_ref().and_then(|model| {
                    model
                        .next_expiry()
                        .filter(|&first| first <= now)
                        .map(|_| model.due_expiries(now, limit))
                })?;
                Some((slot.scope.clone(), due))
            })
            .collect()
    }

    /// The tenants loaded here (for the sweep).
    fn loaded_ids(&self) -> Vec<TenantId> {
        self.inner.slots.read().keys().cloned().collect()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// Pops least recently indexed slots until the total is within budget. A popped slot used since it was
/// indexed goes back at its newer tick (paid for by that use); `keep` is never evicted.
fn evict_over_budget(lru: &mut Lru, budget: u64, keep: &Arc<Slot>, evicted: &mut Vec<Arc<Slot>>) {
    let mut kept = None;
    // Each entry is re-queued at most once per pass unless it is used meanwhile; the bound only guards
    // against a pass chasing slots that are being used as fast as it looks at them.
    let mut budget_steps = 2 * lru.order.len() + 2;
    while lru.total_bytes > budget && budget_steps > 0 {
        budget_steps -= 1;
        let Some((indexed, slot)) = lru.order.pop_first() else {
            break;
        };
        if Arc::ptr_eq(&slot, keep) {
            kept = Some((indexed, slot));
            continue;
        }
        let used = slot.last_used.load(Ordering::Relaxed);
        if used > indexed {
            lru.order.insert(used, slot);
            continue;
        }
        slot.evicted.store(true, Ordering::Relaxed);
        lru.total_bytes = lru
            .total_bytes
            .saturating_sub(slot.bytes.load(Ordering::Relaxed));
        evicted.push(slot);
    }
    if let Some((indexed, slot)) = kept {
        lru.order.insert(indexed, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(tick: u64, bytes: u64) -> Arc<Slot> {
        Arc::new(Slot {
            scope: TenantScope {
                id: TenantId::from_stored(format!("t{tick}")),
                codec: warden_core::crypto::FieldCodec::Plain,
            },
            model: RwLock::new(None),
            syncing: tokio::sync::Mutex::new(()),
            last_used: AtomicU64::new(tick),
            bytes: AtomicU64::new(bytes),
            evicted: AtomicBool::new(false),
            advanced: tokio::sync::watch::Sender::new(0),
        })
    }

    #[test]
    fn eviction_takes_the_least_recently_used_and_requeues_slots_used_since() {
        let mut lru = Lru::default();
        let slots: Vec<_> = (0..5).map(|t| slot(t, 100)).collect();
        for s in &slots {
            lru.order
                .insert(s.last_used.load(Ordering::Relaxed), s.clone());
            lru.total_bytes += 100;
        }
        // Slot 0 was used after it was indexed: it must survive, and 1 and 2 go instead.
        slots[0].last_used.store(10, Ordering::Relaxed);
        let mut evicted = Vec::new();
        evict_over_budget(&mut lru, 300, &slots[4], &mut evicted);
        let gone: Vec<_> = evicted.iter().map(|s| s.scope.id.to_string()).collect();
        assert_eq!(gone, ["t1", "t2"]);
        assert_eq!(lru.total_bytes, 300);
        assert!(slots[1].evicted.load(Ordering::Relaxed));
        assert!(!slots[0].evicted.load(Ordering::Relaxed));
        assert_eq!(lru.order.len(), 3);
        assert!(lru.order.contains_key(&10));
    }

    /// The race behind a role deletion answered 200 while its role stayed listed: a reader's first load reads
    /// its snapshot, the deletion commits (a deletion checks no quota, so it does not wait for the load), and the
    /// load then installs the older snapshot. The committed write must end up in the model all the same.
    #[tokio::test]
    async fn a_write_committed_while_the_first_load_reads_its_snapshot_is_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&warden_store::DatabaseSettings {
            url: warden_store::DatabaseUrl::Sqlite(dir.path().join("warden.sqlite3")),
            pool_size: 4,
            acquire_timeout: Duration::from_secs(10),
        })
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let scope = TenantScope {
            id: TenantId::from_stored("t".repeat(64)),
            codec: warden_core::crypto::FieldCodec::Plain,
        };
        let role = warden_core::domain::Name::parse(warden_core::domain::NameKind::Role, "doomed")
            .unwrap();
        let create = Change::CreateRole {
            role: role.clone(),
            description: None,
        };
        store.apply_change(&scope, &create, None).await.unwrap();
        let models = Models::new(store.clone(), u64::MAX);

        // A reader's first load holds the slot and has read its snapshot; then the deletion commits.
        let slot = models.slot(&scope);
        let loading = slot.syncing.lock().await;
        let stale = TenantModel::from_snapshot(store.load_model(&scope).await.unwrap());
        let delete = Change::DeleteRole { role };
        let deleted = store.apply_change(&scope, &delete, None).await.unwrap();
        let mut committed = std::pin::pin!(models.committed(&scope, deleted.revision, &delete));
        let answered = futures::poll!(committed.as_mut()).is_ready();
        models.install(&slot, stale);
        drop(loading);
        if !answered {
            committed.await;
        }

        let model = models.get(&scope, None).await.unwrap();
        assert_eq!(model.revision(), deleted.revision);
        assert!(
            !model.read(|m| m.has_role("doomed")),
            "the deletion was lost"
        );
        store.close().await;
    }

    #[test]
    fn the_slot_being_accounted_is_never_evicted_even_alone_over_budget() {
        let mut lru = Lru::default();
        let only = slot(1, 100);
        lru.order.insert(1, only.clone());
        lru.total_bytes = 100;
        let mut evicted = Vec::new();
        evict_over_budget(&mut lru, 10, &only, &mut evicted);
        assert!(evicted.is_empty());
        assert_eq!(lru.order.len(), 1);
    }
}

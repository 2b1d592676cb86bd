//! The audit trail's rules: what an entry says, user fingerprints, batched decision logging and chain checks.

use std::collections::HashMap;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use warden_core::crypto::FieldCodec;
use warden_core::domain::{
    AuditEntry, Change, Name, RequestContext, Resource, TenantId, TenantScope, GENESIS_HASH,
};
use warden_store::{AuditDraft, AuditQuery, Store, StoreError};

/// Decisions waiting to be written; beyond this many, new ones are dropped (and counted) rather than slowing
/// checks down.
const DECISION_QUEUE: usize = 20_000;
/// Decisions one tenant may have waiting: a tenant flooding checks fills its own share, not the queue, so another
/// tenant's decisions are dropped only when at least ten tenants flood at once.
const DECISION_QUEUE_PER_TENANT: usize = DECISION_QUEUE / 10;
const DECISION_BATCH: usize = 5_000;

/// The decision queue with a share per tenant. The counts cover entries sent and not yet received by the writer.
#[derive(Debug)]
struct DecisionQueue {
    sender: mpsc::Sender<(TenantId, AuditDraft)>,
    queued: parking_lot::Mutex<HashMap<TenantId, usize>>,
    per_tenant: usize,
}

impl DecisionQueue {
    /// Queues an entry unless its tenant's share or the whole queue is full; `false` when dropped.
    fn offer(&self, tenant: &TenantId, draft: AuditDraft) -> bool {
        let mut queued = self.queued.lock();
        let count = queued.get(tenant).copied().unwrap_or(0);
        if count >= self.per_tenant {
            return false;
        }
        if self.sender.try_send((tenant.clone(), draft)).is_err() {
            return false;
        }
        queued.insert(tenant.clone(), count + 1);
        true
    }

    /// The writer took these entries off the queue: their places are free again.
    fn taken<'a>(&self, tenants: impl Iterator<Item = &'a TenantId>) {
        let mut queued = self.queued.lock();
        for tenant in tenants {
            if let Some(count) = queued.get_mut(tenant) {
                *count -= 1;
                if *count == 0 {
                    queued.remove(tenant);
                }
            }
        }
    }
}

/// Records changes and decisions. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    changes: bool,
    decisions: Option<Arc<DecisionQueue>>,
    fingerprint_key: Arc<secrecy::SecretSlice<u8>>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
    /// Field encryption, when on: its retired keys open targets sealed before a key rotation.
    encryption: Option<super::Encryption>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("changes", &self.changes)
            .field("decisions", &self.decisions.is_some())
            .finish()
    }
}

impl AuditLog {
    /// Builds the log; when decision logging is on, also starts the task that writes decisions in batches (it ends
    /// after every `AuditLog` clone is dropped and the queue is flushed).
    pub fn new(
        store: Store,
        changes: bool,
        decisions: bool,
        fingerprint_key: secrecy::SecretSlice<u8>,
    ) -> (Self, Option<JoinHandle<()>>) {
        let (sender, writer) = if decisions {
            let (sender, receiver) = mpsc::channel(DECISION_QUEUE);
            let queue = Arc::new(DecisionQueue {
                sender,
                queued: parking_lot::Mutex::default(),
                per_tenant: DECISION_QUEUE_PER_TENANT,
            });
            // The writer holds the queue weakly: it ends once every `AuditLog` (and so every sender) is gone.
            let counts = Arc::downgrade(&queue);
            (
                Some(queue),
                Some(tokio::spawn(write_decisions(
                    store.clone(),
                    receiver,
                    counts,
                ))),
            )
        } else {
            (None, None)
        };
        let log = Self {
            store,
            changes,
            decisions: sender,
            fingerprint_key: Arc::new(fingerprint_key),
            dropped: Arc::default(),
            encryption: None,
        };
        (log, writer)
    }

    /// Lets the trail open targets sealed under keys that `warden rotate-encryption-key` retired.
    pub fn with_encryption(mut self, encryption: Option<super::Encryption>) -> Self {
        self.encryption = encryption;
        self
    }

    /// A user's fingerprint for the audit trail: HMAC of tenant and name, so the trail never holds the name.
    pub fn user_ref(&self, tenant: &TenantId, user: &Name) -> String {
        self.fingerprint(tenant, user.as_str())
    }

    /// `user=<fingerprint>`, the target part naming a user; takes the name as stored or presented.
    pub fn user_target(&self, tenant: &TenantId, user: &str) -> String {
        format!("user={}", self.fingerprint(tenant, user))
    }

    fn fingerprint(&self, tenant: &TenantId, user: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(secrecy::ExposeSecret::expose_secret(
            self.fingerprint_key.as_ref(),
        ))
        .expect("HMAC takes keys of any length");
        mac.update(tenant.as_str().as_bytes());
        mac.update(b"|");
        mac.update(user.as_bytes());
        format!("#{}", &hex::encode(mac.finalize().into_bytes())[..32])
    }

    /// The entry a write records in its own transaction, which fills in the outcome; `None` when change logging is
    /// off. `target` names what was written: fingerprints and public references only, never a secret.
    pub fn draft(
        &self,
        action: &str,
        target: String,
        context: &RequestContext,
    ) -> Option<AuditDraft> {
        self.changes.then(|| AuditDraft {
            action: action.to_owned(),
            target,
            outcome: String::new(),
            context: context.clone(),
            at: None,
        })
    }

    /// The entry an RBAC change writes, in its own transaction; `None` when change logging is off.
    pub fn change_draft(
        &self,
        scope: &TenantScope,
        change: &Change,
        context: &RequestContext,
    ) -> Option<AuditDraft> {
        if !self.changes {
            return None;
        }
        let role = change.role();
        let target = match change {
            Change::CreateRole { .. } | Change::DeleteRole { .. } => format!("role={role}"),
            Change::Grant { permission, .. } | Change::Revoke { permission, .. } => format!(
                "role={role} permission={}",
                scope.codec.seal(permission.as_str())
            ),
            Change::AddMember { user, .. }
            | Change::RemoveMember { user, .. }
            | Change::ExpireMember { user, .. } => {
                let target = format!("role={role} user={}", self.user_ref(&scope.id, user));
                match change.scope() {
                    Some(resource) => format!("{target} {}", self.resource_ref(scope, resource)),
                    None => target,
                }
            }
            Change::Inherit { parent, .. } | Change::Disinherit { parent, .. } => {
                format!("role={role} parent={parent}")
            }
            Change::PutResource { resource, .. } | Change::DeleteResource { resource } => {
                self.resource_ref(scope, resource)
            }
        };
        self.draft(change.op(), target, context)
    }

    /// `resource=type:id` with the id sealed as the store seals it (so the trail holds no plain resource ids
    /// under encryption).
    pub fn resource_ref(&self, scope: &TenantScope, resource: &Resource) -> String {
        format!(
            "resource={}:{}",
            resource.kind(),
            scope.codec.seal(resource.id().as_str())
        )
    }

    /// Queues a decision for the trail without waiting; a no-op when decision logging is off. `target` is only
    /// built (fingerprints and sealed names cost an HMAC or a cipher) when the decision is recorded.
    pub fn decision(
        &self,
        tenant: &TenantId,
        action: &str,
        target: impl FnOnce() -> String,
        allowed: bool,
        context: &RequestContext,
    ) {
        let Some(queue) = &self.decisions else {
            return;
        };
        let draft = AuditDraft {
            action: action.to_owned(),
            target: target(),
            outcome: if allowed { "allowed" } else { "denied" }.to_owned(),
            context: context.clone(),
            at: Some(warden_store::now_millis()),
        };
        if !queue.offer(tenant, draft) {
            let dropped = self
                .dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if dropped % 1000 == 0 {
                tracing::warn!(
                    dropped = dropped + 1,
                    "decision audit queue (or this tenant's share of it) full; decisions dropped"
                );
            }
        }
    }

    /// Seals a permission name the way targets hold it.
    pub fn permission_ref(&self, scope: &TenantScope, permission: &Name) -> String {
        scope.codec.seal(permission.as_str()).into_owned()
    }

    /// A page of the tenant's trail, newest first, with sealed permission names opened for display.
    pub async fn page(
        &self,
        scope: &TenantScope,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = self.store.audit_page(&scope.id, query).await?;
        if !scope.codec.is_sealed() {
            return Ok(entries);
        }
        let mut missed = false;
        for entry in &mut entries {
            let (opened, all) = open_target(std::slice::from_ref(&scope.codec), &entry.target);
            entry.target = opened;
            missed |= !all;
        }
        // Entries older than a key rotation: try the tenant's retired keys (read only when needed).
        if let (true, Some(encryption)) = (missed, &self.encryption) {
            let retired = encryption.retired_codecs(&scope.id).await?;
            if !retired.is_empty() {
                for entry in &mut entries {
                    entry.target = open_target(&retired, &entry.target).0;
                }
            }
        }
        Ok(entries)
    }
}

/// Opens the sealed `permission=` parts of a target with the first codec that opens each (the SIV check rejects a
/// wrong key); a part none opens is shown as stored. Also says whether every sealed part opened.
fn open_target(codecs: &[FieldCodec], target: &str) -> (String, bool) {
    let mut all = true;
    let opened = target
        .split(' ')
        .map(|part| match part.split_once('=') {
            Some(("permission", sealed))
                if sealed.starts_with(warden_core::crypto::field_cipher::STORED_PREFIX) =>
            {
                match codecs
                    .iter()
                    .find_map(|codec| codec.open(sealed.to_owned()).ok())
                {
                    Some(plain) => format!("permission={plain}"),
                    None => {
                        all = false;
                        part.to_owned()
                    }
                }
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    (opened, all)
}

async fn write_decisions(
    store: Store,
    mut receiver: mpsc::Receiver<(TenantId, AuditDraft)>,
    queue: std::sync::Weak<DecisionQueue>,
) {
    let mut batch = Vec::with_capacity(DECISION_BATCH);
    // Whatever queued while the previous batch was being written goes in the next one: one decision per
    // transaction when checks are rare, thousands when they are not.
    while receiver.recv_many(&mut batch, DECISION_BATCH).await > 0 {
        if let Some(queue) = queue.upgrade() {
            queue.taken(batch.iter().map(|(tenant, _)| tenant));
        }
        let mut by_tenant: HashMap<TenantId, Vec<AuditDraft>> = HashMap::new();
        for (tenant, draft) in batch.drain(..) {
            by_tenant.entry(tenant).or_default().push(draft);
        }
        for (tenant, drafts) in by_tenant {
            let count = drafts.len();
            match store.append_decisions(&tenant, drafts).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::trace!(count, "decisions of a tenant without data not recorded");
                }
                Err(err) => {
                    tracing::warn!(error = %err, count, "writing decision audit entries failed");
                }
            }
        }
    }
}

/// The result of checking one tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub tenant: TenantId,
    pub entries: usize,
    /// `None` when the chain is intact; otherwise the first problem found.
    pub problem: Option<String>,
}

/// Recomputes a tenant's chain: every hash, every link, gap-free sequence numbers, and the head the database
/// recorded (so deleting the newest entries is caught too).
pub async fn verify_chain(store: &Store, tenant: &TenantId) -> Result<ChainReport, StoreError> {
    let (entries, head) = store.audit_chain(tenant).await?;
    let mut prev = GENESIS_HASH.to_owned();
    let mut problem = None;
    for (i, entry) in entries.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if entry.seq != expected_seq {
            problem = Some(format!("entry {expected_seq} is missing"));
            break;
        }
        if entry.prev_hash != prev {
            problem = Some(format!(
                "entry {} does not link to entry {}",
                entry.seq,
                entry.seq - 1
            ));
            break;
        }
        if entry.compute_hash(tenant.as_str()) != entry.hash {
            problem = Some(format!("entry {} was altered", entry.seq));
            break;
        }
        prev = entry.hash.clone();
    }
    if problem.is_none() {
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
        if head_seq != entries.len() as i64 || head_hash != prev {
            problem = Some(format!(
                "the chain ends at entry {} but the head records entry {head_seq}",
                entries.len()
            ));
        }
    }
    Ok(ChainReport {
        tenant: tenant.clone(),
        entries: entries.len(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AuditDraft {
        AuditDraft {
            action: "check".into(),
            target: String::new(),
            outcome: "allowed".into(),
            context: RequestContext::default(),
            at: None,
        }
    }

    #[test]
    fn one_tenants_flood_cannot_drop_another_tenants_decisions() {
        let (sender, mut receiver) = mpsc::channel(10);
        let queue = DecisionQueue {
            sender,
            queued: parking_lot::Mutex::default(),
            per_tenant: 3,
        };
        let flooding = TenantId::from_stored("a".repeat(64));
        let quiet = TenantId::from_stored("b".repeat(64));
        let accepted = (0..100).filter(|_| queue.offer(&flooding, draft())).count();
        assert_eq!(accepted, 3, "the flooding tenant fills its own share only");
        assert!(queue.offer(&quiet, draft()), "another tenant still gets in");
        // Once the writer takes entries off, the flooding tenant may queue again.
        let mut taken = Vec::new();
        receiver.try_recv().map(|e| taken.push(e)).unwrap();
        queue.taken(taken.iter().map(|(tenant, _)| tenant));
        assert!(queue.offer(&flooding, draft()));
        assert!(!queue.offer(&flooding, draft()));
    }
}

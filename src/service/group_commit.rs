//! Group commit for RBAC writes: concurrent writes to one tenant share a transaction, and so one commit (one disk
//! flush). Each tenant's writes are serialised by its head row anyway, so without this, throughput would be one
//! commit latency per write; with it, a batch forms while the previous one commits.
//!
//! A write is answered only after its batch has committed and this instance's model has applied it, so nothing
//! acknowledged is lost and a caller reads its own writes.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::domain::{TenantId, TenantScope};
use crate::store::{Applied, PendingChange, RoleWrite, StoreError};

use super::model::Models;

/// Most changes one transaction takes, so a flood of writes still commits (and answers) in steady steps.
const MAX_BATCH: usize = 256;

struct Job {
    pending: PendingChange,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
}

/// Queues writes per tenant; a tenant with queued writes has exactly one task committing them. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    models: Models,
    /// A tenant is present while its committing task runs; its list holds the writes waiting for the next batch.
    queues: Arc<Mutex<HashMap<TenantId, Vec<Job>>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    pub fn new(models: Models) -> Self {
        Self {
            models,
            queues: Arc::default(),
        }
    }

    /// Commits one change (with others that arrive meanwhile) and applies it to this instance's model.
    pub async fn submit(
        &self,
        scope: &TenantScope,
        pending: PendingChange,
    ) -> Result<Applied, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { pending, reply };
        let start_task = {
            let mut queues = self.queues.lock();
            match queues.get_mut(&scope.id) {
                Some(waiting) => {
                    waiting.push(job);
                    false
                }
                None => {
                    queues.insert(scope.id.clone(), vec![job]);
                    true
                }
            }
        };
        if start_task {
            // A task of its own, so that a caller who goes away cannot strand the others' writes.
            tokio::spawn(self.clone().drain(scope.clone()));
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Other(anyhow::anyhow!(
                "the group-commit task ended without answering"
            )))
        })
    }

    /// Commits the tenant's queued writes batch by batch until none are left.
    async fn drain(self, scope: TenantScope) {
        let mut abandon = AbandonOnUnwind {
            queues: self.queues.clone(),
            tenant: scope.id.clone(),
            armed: true,
        };
        loop {
            let batch = {
                let mut queues = self.queues.lock();
                let Some(waiting) = queues.get_mut(&scope.id) else {
                    abandon.armed = false;
                    return;
                };
                if waiting.is_empty() {
                    queues.remove(&scope.id);
                    abandon.armed = false;
                    return;
                }
                let take = waiting.len().min(MAX_BATCH);
                waiting.drain(..take).collect::<Vec<_>>()
            };
            self.commit(&scope, batch).await;
        }
    }

    async fn commit(&self, scope: &TenantScope, batch: Vec<Job>) {
        let (pending, replies): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|job| (job.pending, job.reply))
            .unzip();
        let store = self.models.store();
        let results: Vec<Result<Applied, StoreError>> = if pending.len() == 1 {
            vec![
                store
                    .apply_change(scope, &pending[0].change, pending[0].audit.clone())
                    .await,
            ]
        } else {
            match store.apply_changes(scope, &pending).await {
                Ok(applied) => applied.into_iter().map(Ok).collect(),
                // One change can fail the whole transaction (a role deleted by another instance under it, a lost
                // connection): retry them one by one so that each gets its own answer.
                Err(_) => {
                    let mut results = Vec::with_capacity(pending.len());
                    for one in &pending {
                        results.push(
                            store
                                .apply_change(scope, &one.change, one.audit.clone())
                                .await,
                        );
                    }
                    results
                }
            }
        };
        for ((one, result), reply) in pending.iter().zip(results).zip(replies) {
            if let Ok(applied) = &result {
                if applied.outcome == RoleWrite::Changed {
                    self.models
                        .committed(scope, applied.revision, &one.change)
                        .await;
                }
            }
            // The caller may have gone away; its write stands regardless.
            let _ = reply.send(result);
        }
    }
}

/// If a committing task ends abnormally (a panic, or the runtime shutting down), the writes still queued for its
/// tenant are dropped, so that their callers get an error instead of waiting forever, and the next write starts a
/// new task.
struct AbandonOnUnwind {
    queues: Arc<Mutex<HashMap<TenantId, Vec<Job>>>>,
    tenant: TenantId,
    armed: bool,
}

impl Drop for AbandonOnUnwind {
    fn drop(&mut self) {
        if self.armed {
            let abandoned = self.queues.lock().remove(&self.tenant);
            drop(abandoned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Change, Name, NameKind};

    fn queued_job(
        queues: &Arc<Mutex<HashMap<TenantId, Vec<Job>>>>,
        tenant: &TenantId,
    ) -> oneshot::Receiver<Result<Applied, StoreError>> {
        let (reply, answer) = oneshot::channel();
        let change = Change::AddMember {
            user: Name::parse(NameKind::User, "alice").unwrap(),
            role: Name::parse(NameKind::Role, "reader").unwrap(),
        };
        let job = Job {
            pending: PendingChange {
                change,
                audit: None,
            },
            reply,
        };
        queues.lock().entry(tenant.clone()).or_default().push(job);
        answer
    }

    #[test]
    fn an_abandoned_tenant_queue_answers_its_callers_and_frees_the_tenant() {
        let queues: Arc<Mutex<HashMap<TenantId, Vec<Job>>>> = Arc::default();
        let tenant = TenantId::from_stored("t".repeat(64));
        let mut answer = queued_job(&queues, &tenant);
        drop(AbandonOnUnwind {
            queues: queues.clone(),
            tenant: tenant.clone(),
            armed: true,
        });
        assert!(
            answer.try_recv().is_err(),
            "the caller is told, not left waiting"
        );
        assert!(queues.lock().is_empty(), "the next write starts a new task");
    }

    #[test]
    fn a_disarmed_guard_leaves_a_newer_queue_alone() {
        let queues: Arc<Mutex<HashMap<TenantId, Vec<Job>>>> = Arc::default();
        let tenant = TenantId::from_stored("t".repeat(64));
        let mut answer = queued_job(&queues, &tenant);
        drop(AbandonOnUnwind {
            queues: queues.clone(),
            tenant: tenant.clone(),
            armed: false,
        });
        assert_eq!(queues.lock().get(&tenant).map(Vec::len), Some(1));
        assert!(matches!(
            answer.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
    }
}

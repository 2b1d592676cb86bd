//! Group commit for RBAC writes: concurrent writes to one tenant share a transaction, and so one commit (one disk
//! flush). Each tenant's writes are serialised by its head row anyway, so without this, throughput would be one
//! commit latency per write; with it, a batch forms while the previous one commits.
//!
//! A write is answered only after its batch has committed and this instance's model has applied it, so nothing
//! acknowledged is lost and a caller reads its own writes.
//!
//! Each tenant's queue is bounded (`AUTH_WRITE_QUEUE_PER_TENANT`): beyond it a write is refused at once with
//! [`ServiceError::Overloaded`] (503 with `Retry-After`), so one tenant's flood cannot make memory grow; other
//! tenants have queues (and committing tasks) of their own. A write whose caller has gone (answered 408 by the
//! request timeout, or disconnected) is dropped before its batch starts; once its batch has started, its caller
//! is sure to hear the outcome (see [`super::answer`]). So a write answered 408 never commits.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use warden_core::domain::{TenantId, TenantScope};
use warden_store::{Applied, PendingChange, StoreError};

use super::answer::Answer;
use super::model::Models;
use super::ServiceError;

/// Most changes one transaction takes, so a flood of writes still commits (and answers) in steady steps.
const MAX_BATCH: usize = 256;

/// Writes one tenant may have waiting by default (four full batches).
pub const DEFAULT_QUEUE_PER_TENANT: usize = 4 * MAX_BATCH;

struct Job {
    pending: PendingChange,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
    /// The caller's answer, when its request runs under the request timeout.
    answer: Option<Answer>,
}

impl Job {
    /// Whether the caller will hear this write's outcome; if not, it must not be committed.
    fn claim(&self) -> bool {
        !self.reply.is_closed() && self.answer.as_ref().is_none_or(Answer::claim)
    }
}

/// Queues writes per tenant; a tenant with queued writes has exactly one task committing them. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    models: Models,
    /// Most writes one tenant may have waiting.
    queue_limit: usize,
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
            queue_limit: DEFAULT_QUEUE_PER_TENANT,
            queues: Arc::default(),
        }
    }

    /// Bounds each tenant's waiting writes (at least one).
    pub fn with_queue_limit(mut self, limit: usize) -> Self {
        self.queue_limit = limit.max(1);
        self
    }

    /// Commits one change (with others that arrive meanwhile) and applies it to this instance's model.
    pub async fn submit(
        &self,
        scope: &TenantScope,
        pending: PendingChange,
    ) -> Result<Applied, ServiceError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pending,
            reply,
            answer: Answer::current(),
        };
        let start_task = {
            let mut queues = self.queues.lock();
            match queues.get_mut(&scope.id) {
                Some(waiting) => {
                    if waiting.len() >= self.queue_limit {
                        // Callers that gave up free their places first.
                        waiting.retain(|job| !job.reply.is_closed());
                        if waiting.len() >= self.queue_limit {
                            return Err(ServiceError::Overloaded);
                        }
                    }
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
        let outcome = answer.await.unwrap_or_else(|_| {
            Err(StoreError::Other(anyhow::anyhow!(
                "the group-commit task ended without answering"
            )))
        });
        Ok(outcome?)
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
                // A job whose caller has gone is dropped here, before anything of it is written.
                waiting.drain(..take).filter(Job::claim).collect::<Vec<_>>()
            };
            if !batch.is_empty() {
                self.commit(&scope, batch).await;
            }
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
                if warden_store::changes_model(applied.outcome) {
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
    use warden_core::domain::{Change, Name, NameKind};

    fn queued_job(
        queues: &Arc<Mutex<HashMap<TenantId, Vec<Job>>>>,
        tenant: &TenantId,
    ) -> oneshot::Receiver<Result<Applied, StoreError>> {
        let (reply, answer) = oneshot::channel();
        let change = Change::AddMember {
            user: Name::parse(NameKind::User, "alice").unwrap(),
            role: Name::parse(NameKind::Role, "reader").unwrap(),
            expires_at: None,
            scope: None,
        };
        let job = Job {
            pending: PendingChange {
                change,
                audit: None,
            },
            reply,
            answer: None,
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

#[cfg(test)]
mod claim_tests {
    use super::*;
    use warden_core::domain::{Change, Name, NameKind};

    fn job(answer: Option<Answer>) -> (Job, oneshot::Receiver<Result<Applied, StoreError>>) {
        let (reply, receiver) = oneshot::channel();
        let change = Change::CreateRole {
            role: Name::parse(NameKind::Role, "reader").unwrap(),
            description: None,
        };
        let pending = PendingChange {
            change,
            audit: None,
        };
        (
            Job {
                pending,
                reply,
                answer,
            },
            receiver,
        )
    }

    #[test]
    fn a_write_whose_caller_timed_out_is_not_claimed() {
        let answer = Answer::default();
        assert!(answer.time_out());
        let (job, _receiver) = job(Some(answer));
        assert!(!job.claim());
    }

    #[test]
    fn a_write_whose_caller_went_away_is_not_claimed() {
        let (job, receiver) = job(Some(Answer::default()));
        drop(receiver);
        assert!(!job.claim());
    }

    #[test]
    fn a_claimed_write_keeps_its_caller_waiting_past_the_timeout() {
        let answer = Answer::default();
        let (job, _receiver) = job(Some(answer.clone()));
        assert!(job.claim());
        assert!(!answer.time_out(), "the caller waits for the outcome");
    }
}

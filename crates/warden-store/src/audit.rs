//! The audit trail: appending to a tenant's hash chain, paging through it and reading it back for verification.

use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::domain::{AuditEntry, RequestContext, TenantId};

/// An audit entry before it is placed in the chain. `outcome` may be left empty for the store to fill in.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub context: RequestContext,
    /// Unix milliseconds; `None` means "when written".
    pub at: Option<i64>,
}

impl AuditDraft {
    /// Sets the outcome the write's transaction arrived at.
    pub(super) fn with_outcome(mut self, outcome: &str) -> Self {
        outcome.clone_into(&mut self.outcome);
        self
    }

    /// Adds `key=value` to the target, for what only the write's transaction finds out (a session's reference,
    /// how many rows it removed).
    pub(super) fn noting(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        if !self.target.is_empty() {
            self.target.push(' ');
        }
        self.target.push_str(&format!("{key}={value}"));
        self
    }
}

/// `changed` when a write touched rows, `unchanged` when there was nothing to do.
pub(super) fn changed_or_not(rows: u64) -> &'static str {
    if rows > 0 {
        "changed"
    } else {
        "unchanged"
    }
}

/// Turns drafts into chained entries. Their sequence numbers end at `last_seq` (what the head bump returned), and
/// each links to the hash of the one before, the first to `prev_hash`.
pub(super) fn chain_entries(
    tenant: &str,
    last_seq: i64,
    prev_hash: &str,
    now: i64,
    drafts: Vec<AuditDraft>,
) -> Vec<AuditEntry> {
    let first_seq = last_seq - drafts.len() as i64 + 1;
    let mut prev = prev_hash.to_owned();
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, draft)| {
            let mut entry = AuditEntry {
                seq: first_seq + i as i64,
                at: draft.at.unwrap_or(now),
                action: draft.action,
                target: draft.target,
                outcome: draft.outcome,
                request_id: draft.context.request_id,
                client_ip: draft.context.client_ip,
                user_agent: draft.context.user_agent,
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            entry.hash = entry.compute_hash(tenant);
            prev = entry.hash.clone();
            entry
        })
        .collect()
}

pub(super) const INSERT_ENTRIES: &str = "INSERT INTO audit_log \
     (tenant, seq, at, action, target, outcome, request_id, client_ip, user_agent, prev_hash, hash) ";
/// Rows per INSERT: 11 parameters each stays far below SQLite's 32 766 and PostgreSQL's 65 535.
pub(super) const ROWS_PER_INSERT: usize = 500;
pub(super) const SET_HEAD: &str = "UPDATE tenant_heads SET audit_hash = $2 WHERE tenant = $1";

/// Inserts chained entries (a few hundred rows per statement, so a large batch of decisions costs a few round
/// trips, not one per entry) and moves the tenant's chain head to the last one, inside the transaction `$tx`
/// (whose head row the caller has already locked by bumping `audit_seq`). A macro so one text serves both
/// backends' transaction types.
macro_rules! write_chained {
    ($tx:ident, $tenant:expr, $entries:expr) => {
        for chunk in $entries.chunks($crate::audit::ROWS_PER_INSERT) {
            sqlx::QueryBuilder::new($crate::audit::INSERT_ENTRIES)
                .push_values(chunk, |mut row, entry| {
                    row.push_bind($tenant)
                        .push_bind(entry.seq)
                        .push_bind(entry.at)
                        .push_bind(&entry.action)
                        .push_bind(&entry.target)
                        .push_bind(&entry.outcome)
                        .push_bind(&entry.request_id)
                        .push_bind(&entry.client_ip)
                        .push_bind(&entry.user_agent)
                        .push_bind(&entry.prev_hash)
                        .push_bind(&entry.hash);
                })
                .build()
                .execute(&mut *$tx)
                .await?;
        }
        if let Some(last) = $entries.last() {
            sqlx::query($crate::audit::SET_HEAD)
                .bind($tenant)
                .bind(&last.hash)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

pub(super) use write_chained;

/// Advances a tenant's audit sequence by `$2` (creating its head row on first use); returns the new last sequence
/// number and the chain hash before it.
pub(super) const BUMP_AUDIT_SEQ: &str =
    "INSERT INTO tenant_heads (tenant, revision, audit_seq, audit_hash) VALUES ($1, 0, $2, $3) \
     ON CONFLICT (tenant) DO UPDATE SET audit_seq = tenant_heads.audit_seq + $2 \
     RETURNING audit_seq, audit_hash";

/// Appends `$drafts` (any iterator of [`AuditDraft`], an `Option` included) to the tenant's chain inside the
/// transaction `$tx`, so the entries commit or roll back with the write. Bumping the sequence locks the tenant's
/// head row until the transaction ends, which serialises the tenant's audited writes: the price of a gap-free
/// chain in commit order. Callers do it after taking their own row locks, so the head lock is always taken last
/// and no transaction holding it waits for another.
macro_rules! audit_in_tx {
    ($tx:ident, $tenant:expr, $drafts:expr, $now:expr) => {{
        let drafts: Vec<$crate::AuditDraft> = $drafts.into_iter().collect();
        if !drafts.is_empty() {
            let tenant: &str = $tenant;
            let (last_seq, prev_hash): (i64, String) =
                sqlx::query_as($crate::audit::BUMP_AUDIT_SEQ)
                    .bind(tenant)
                    .bind(drafts.len() as i64)
                    .bind(warden_core::domain::GENESIS_HASH)
                    .fetch_one(&mut *$tx)
                    .await?;
            let entries = $crate::audit::chain_entries(tenant, last_seq, &prev_hash, $now, drafts);
            $crate::audit::write_chained!($tx, tenant, entries);
        }
    }};
}

pub(super) use audit_in_tx;

/// The ending every audited write shares: appends `$drafts` to the tenant's chain in `$tx` (see [`audit_in_tx`]),
/// then commits, so the write and its audit entries land together or not at all.
macro_rules! commit_audited {
    ($tx:ident, $tenant:expr, $drafts:expr, $now:expr) => {{
        $crate::audit::audit_in_tx!($tx, $tenant, $drafts, $now);
        $tx.commit().await?;
    }};
}

pub(super) use commit_audited;

/// A tenant's whole chain in order, and the head it should end at: `(sequence number, hash)`, if any.
pub type AuditChain = (Vec<AuditEntry>, Option<(i64, String)>);

type EntryRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn entry(row: EntryRow) -> AuditEntry {
    let (seq, at, action, target, outcome, request_id, client_ip, user_agent, prev_hash, hash) =
        row;
    AuditEntry {
        seq,
        at,
        action,
        target,
        outcome,
        request_id,
        client_ip,
        user_agent,
        prev_hash,
        hash,
    }
}

const COLUMNS: &str =
    "seq, at, action, target, outcome, request_id, client_ip, user_agent, prev_hash, hash";

/// One page of the audit trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries with `seq` below this (the cursor).
    pub before_seq: Option<i64>,
    pub action: Option<String>,
    /// Only entries at or after this Unix-millisecond time.
    pub since: Option<i64>,
    pub limit: u32,
}

/// Whether a tenant has written anything: a head row (every RBAC or audited write makes one) or a user.
const TENANT_HAS_DATA: &str = "SELECT EXISTS (SELECT 1 FROM tenant_heads WHERE tenant = $1) \
     OR EXISTS (SELECT 1 FROM users WHERE tenant = $1)";

impl Store {
    /// Appends several entries (batched decisions) to a tenant's chain in one transaction, but only for a tenant
    /// that has written something: decisions of a client key without data (in open mode, anyone's random key)
    /// would otherwise create rows for it. `false` when they were not written for that reason.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn append_decisions(
        &self,
        tenant: &TenantId,
        drafts: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        if drafts.is_empty() {
            return Ok(true);
        }
        let now = super::now_millis();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let (has_data,): (bool,) = sqlx::query_as(TENANT_HAS_DATA)
                .bind(tenant.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if !has_data {
                tx.rollback().await?;
                return Ok(false);
            }
            commit_audited!(tx, tenant.as_str(), drafts, now);
        });
        Ok(true)
    }

    /// A page of a tenant's audit entries, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_page(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE tenant = $1 AND seq < $2 \
             AND ($3 IS NULL OR action = $3) AND at >= $4 ORDER BY seq DESC LIMIT $5"
        );
        let rows: Vec<EntryRow> = with_reader!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(query.before_seq.unwrap_or(i64::MAX))
                .bind(query.action.as_deref())
                .bind(query.since.unwrap_or(i64::MIN))
                .bind(i64::from(query.limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(entry).collect())
    }

    /// A tenant's whole chain in order, and the head hash it should end at, for verification.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_chain(&self, tenant: &TenantId) -> Result<AuditChain, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE tenant = $1 ORDER BY seq");
        let postgres = self.is_postgres();
        let (rows, head): (Vec<EntryRow>, Option<(i64, String)>) = with_reader!(self, |pool| {
            // One snapshot for the entries and the head, so a write committed between the two reads cannot look
            // like a broken chain. PostgreSQL's default (READ COMMITTED) takes a snapshot per statement; a SQLite
            // read transaction (WAL) keeps the one from its first read.
            let mut tx = pool.begin().await?;
            if postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let rows = sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .fetch_all(&mut *tx)
                .await?;
            let head =
                sqlx::query_as("SELECT audit_seq, audit_hash FROM tenant_heads WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.commit().await?;
            (rows, head)
        });
        Ok((rows.into_iter().map(entry).collect(), head))
    }

    /// Every tenant with an audit chain, for `warden audit verify` over the whole database.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audited_tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT tenant FROM tenant_heads WHERE audit_seq > 0 ORDER BY tenant")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(t,)| TenantId::from_stored(t))
            .collect())
    }
}

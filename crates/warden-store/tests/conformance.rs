//! The store's contract, pinned below HTTP and run on both backends: every scenario is one generic function over a
//! [`Store`], run once on a fresh SQLite file and once on a fresh PostgreSQL database (as atuin's
//! `crates/tests-database/tests/db_story.rs`). It attacks what concurrency can break: contiguous revisions, an
//! intact audit chain, single-use tokens consumed once, access checks counted exactly, a user's deletion logged as
//! changes, and tenants kept apart.
//!
//! PostgreSQL databases are created from `TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`) and
//! dropped afterwards; without it the PostgreSQL half is skipped, except under `CI=true`, where that is a failure.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use tokio::task::JoinSet;
use warden_core::crypto::FieldCodec;
use warden_core::domain::{actions, Change, Name, NameKind, RequestContext};
use warden_core::domain::{TenantId, TenantScope, UserStatus, GENESIS_HASH};
use warden_core::rules::access::{decide, HOUR_MS, MINUTE_MS};
use warden_store::{now_millis, AccessRequest, Applied, AuditDraft, DatabaseSettings, DatabaseUrl};
use warden_store::{IssuedToken, RoleWrite, Store, UserGate, UserWrite};

/// How many tasks race in each concurrent scenario.
const RACERS: usize = 64;

/// Runs each scenario on both backends, as `<scenario>::sqlite` and `<scenario>::postgres`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::TestDatabase::sqlite().await.run(super::$scenario).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(db) = super::TestDatabase::postgres().await {
                    db.run(super::$scenario).await;
                }
            }
        }
    )*};
}

on_both_backends!(
    revisions_are_contiguous_under_concurrent_writers,
    the_audit_chain_stays_intact_under_concurrent_audited_writes,
    a_single_use_token_is_consumed_exactly_once,
    concurrent_access_checks_are_counted_exactly,
    deleting_a_user_logs_the_removed_memberships_as_changes,
    tenants_do_not_see_each_other,
);

async fn revisions_are_contiguous_under_concurrent_writers(store: Store) {
    // Arrange: a role to grant to (revision 1).
    let scope = plain_scope("revisions");
    let base = write(&store, &scope, create("base"), None).await;
    assert_eq!((base.outcome, base.revision), (RoleWrite::Changed, 1));

    // Act: even writers create 16 roles, each twice (one of each pair changes nothing); odd writers grant 32
    // distinct permissions to `base`.
    let applied = concurrently(RACERS, |i| {
        let (store, scope) = (store.clone(), scope.clone());
        async move {
            let change = if i % 2 == 0 {
                create(&format!("role-{}", i / 2 % 16))
            } else {
                grant("base", &format!("perm-{}", i / 2))
            };
            write(&store, &scope, change, None).await
        }
    })
    .await;

    // Assert: the changed writes took exactly the revisions after 1, with no gap and no duplicate; the duplicate
    // role creations took none.
    assert_eq!(count(&applied, |a| a.outcome == RoleWrite::Unchanged), 16);
    let changed = applied.iter().filter(|a| a.outcome == RoleWrite::Changed);
    let mut revisions: Vec<i64> = changed.map(|a| a.revision).chain([1]).collect();
    revisions.sort_unstable();
    let last = 1 + 16 + 32;
    assert_eq!(revisions, one_to(last));
    let log = store.changes_since(&scope, 0).await.expect("change log");
    let logged: Vec<i64> = log.iter().map(|(r, _)| *r).collect();
    assert_eq!(logged, one_to(last), "one log row per revision");
    let model = store.load_model(&scope).await.expect("load model");
    assert_eq!(model.revision, last);
    let roles: BTreeSet<String> = model.roles.into_iter().map(|(role, _)| role).collect();
    let mut expected: BTreeSet<String> = (0..16).map(|k| format!("role-{k}")).collect();
    expected.insert("base".to_owned());
    assert_eq!(roles, expected);
    let grants: BTreeSet<(String, String)> = model.grants.into_iter().collect();
    let expected = (0..32).map(|k| pair("base", &format!("perm-{k}")));
    assert_eq!(grants, expected.collect());
}

async fn the_audit_chain_stays_intact_under_concurrent_audited_writes(store: Store) {
    // Arrange: an audited first write, so the tenant has data and decisions are kept.
    let scope = plain_scope("audit");
    let seed = Some(draft("role.create", "seed"));
    write(&store, &scope, create("seed"), seed).await;

    // Act: even tasks make audited RBAC writes (one entry each), odd tasks append two decisions each.
    let appended = concurrently(RACERS, |i| {
        let (store, scope) = (store.clone(), scope.clone());
        async move {
            if i % 2 == 0 {
                let audit = Some(draft("role.create", &format!("role-{i}")));
                let applied = write(&store, &scope, create(&format!("role-{i}")), audit).await;
                assert_eq!(applied.outcome, RoleWrite::Changed);
                1
            } else {
                let target = |part| format!("check-{i}-{part}");
                let drafts = ["a", "b"].map(|part| draft(actions::CHECK_ACCESS, &target(part)));
                let kept = store.append_decisions(&scope.id, drafts.to_vec()).await;
                assert!(kept.expect("decisions"), "a tenant with data keeps them");
                2
            }
        }
    })
    .await;

    // Assert: sequence numbers 1..=N; each entry hashes to itself and links to the one before; the head is the
    // last; every write's entry is there once, with the outcome its transaction found.
    let expected = 1 + appended.iter().sum::<i64>();
    let (entries, head) = store.audit_chain(&scope.id).await.expect("audit chain");
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, one_to(expected));
    let mut prev = GENESIS_HASH.to_owned();
    for entry in &entries {
        assert_eq!(entry.prev_hash, prev, "entry {} is not linked", entry.seq);
        let hash = entry.compute_hash(scope.id.as_str());
        assert_eq!(hash, entry.hash, "entry {} is altered", entry.seq);
        let decision = entry.action == actions::CHECK_ACCESS;
        let outcome = if decision { "allowed" } else { "changed" };
        assert_eq!(entry.outcome, outcome, "entry {}", entry.seq);
        prev.clone_from(&entry.hash);
    }
    assert_eq!(head, Some((expected, prev)), "the head is the last entry");
    let targets: BTreeSet<&str> = entries.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets.len() as i64, expected);
}

async fn a_single_use_token_is_consumed_exactly_once(store: Store) {
    // Arrange: an allowed user holding one single-use token.
    let scope = plain_scope("tokens");
    let user = name(NameKind::User, "alice");
    let now = allowed_user(&store, &scope.id, &user, None).await;
    let (hash, expires_at) = ("keyed-hash-of-the-single-use-token", now + HOUR_MS);
    let gate_checked_elsewhere = false;
    let issued = IssuedToken {
        hash,
        now,
        expires_at,
        gate_checked_elsewhere,
    };
    let audit = Some(draft(actions::USER_TOKEN_ISSUE, "alice"));
    let gate = store.issue_token(&scope.id, &user, &issued, audit).await;
    assert_eq!(gate.expect("issue"), UserGate::Open);

    // Act
    let uses = concurrently(RACERS, |i| {
        let (store, tenant) = (store.clone(), scope.id.clone());
        async move {
            let audit = Some(draft(actions::USER_TOKEN_USE, &format!("use-{i}")));
            let consumed = store.consume_token(&tenant, hash, now, &FieldCodec::Plain, audit);
            consumed.await.expect("consume")
        }
    })
    .await;

    // Assert: one winner, and only the winner's use was audited.
    let winners: Vec<_> = uses.into_iter().flatten().collect();
    assert_eq!(winners.len(), 1, "exactly one use succeeds: {winners:?}");
    let (owner, status, roles) = &winners[0];
    assert_eq!((owner.as_str(), *status), ("alice", UserStatus::Allowed));
    assert!(roles.is_empty());
    let (entries, _) = store.audit_chain(&scope.id).await.expect("audit chain");
    let used = count(&entries, |e| e.action == actions::USER_TOKEN_USE);
    assert_eq!(used, 1, "one audited use");
}

async fn concurrent_access_checks_are_counted_exactly(store: Store) {
    // Arrange: ten checks an hour, a five-minute shift (taken whole, so the limit's end is known).
    let scope = plain_scope("access");
    let user = name(NameKind::User, "bob");
    let now = allowed_user(&store, &scope.id, &user, Some(10)).await;

    // Act
    let outcomes = concurrently(RACERS, |_| {
        let (store, tenant, user) = (store.clone(), scope.id.clone(), user.clone());
        async move {
            let (codec, role, chat_id, message_id) = (&FieldCodec::Plain, None, None, None);
            let user = &user;
            let request = AccessRequest {
                user,
                codec,
                role,
                chat_id,
                message_id,
                now,
            };
            let shift = |minutes| minutes * MINUTE_MS;
            let check = store.record_access_check(&tenant, &request, |f| decide(f, now, shift));
            check.await.expect("check").expect("a known user")
        }
    })
    .await;

    // Assert: the first ten run free; the eleventh starts one limit, which the other 53 report unchanged (access
    // itself is not refused by a limit: the caller reads the limit).
    assert!(outcomes.iter().all(|o| o.access));
    assert_eq!(count(&outcomes, |o| o.rate_limited_until.is_none()), 10);
    let limit_end = now + HOUR_MS + 5 * MINUTE_MS;
    // One limit, never moved.
    let ends = outcomes.iter().filter_map(|o| o.rate_limited_until);
    assert_eq!(ends.collect::<BTreeSet<_>>(), BTreeSet::from([limit_end]));
    let stored = store.get_user(&scope.id, &user).await.expect("get user");
    let stored = stored.expect("the user");
    assert_eq!(stored.rate_limited_until, Some(limit_end));
    let history = store.list_requests(&scope.id, &user, i64::MAX, false, 1_000);
    let history = history.await.expect("history");
    assert_eq!(history.len(), RACERS, "every check is recorded");
    assert_eq!(count(&history, |r| r.rate_limited_until.is_none()), 10);
}

async fn deleting_a_user_logs_the_removed_memberships_as_changes(store: Store) {
    // Arrange: bob in three roles; carol, who stays, in one of them.
    let scope = plain_scope("deletion");
    let bob = name(NameKind::User, "bob");
    allowed_user(&store, &scope.id, &bob, None).await;
    for role in ["r0", "r1", "r2"] {
        apply(&store, &scope, create(role)).await;
        apply(&store, &scope, add_member(role, "bob")).await;
    }
    apply(&store, &scope, add_member("r0", "carol")).await;
    let before = store.revision(&scope).await.expect("revision");
    assert_eq!(before, 7);

    // Act
    let deleted = store.delete_user(&scope.id, &bob, &scope.codec, None).await;

    // Assert: three revisions, each a logged removal of one of bob's memberships, and a model without them.
    assert_eq!(deleted.expect("delete"), (true, before + 3));
    assert_eq!(store.revision(&scope).await.expect("revision"), before + 3);
    let log = store.changes_since(&scope, before).await;
    let log = log.expect("change log");
    let revisions: Vec<i64> = log.iter().map(|(r, _)| *r).collect();
    assert_eq!(revisions, [before + 1, before + 2, before + 3]);
    let removed: Vec<Change> = log.into_iter().filter_map(|(_, change)| change).collect();
    let expected = ["r0", "r1", "r2"].map(|role| remove_member(role, "bob"));
    assert!(expected.iter().all(|c| removed.contains(c)), "{removed:?}");
    let model = store.load_model(&scope).await.expect("load model");
    assert_eq!(model.revision, before + 3);
    assert_eq!(model.members, [("r0".to_owned(), "carol".to_owned(), None)]);
    assert_eq!(model.roles.len(), 3, "the roles stay");
}

async fn tenants_do_not_see_each_other(store: Store) {
    // Arrange: tenant A has a role, a grant, a member and an audit trail.
    let (a, b) = (plain_scope("tenant-a"), plain_scope("tenant-b"));
    let audited = || Some(draft("rbac", "a"));
    write(&store, &a, create("shared"), audited()).await;
    write(&store, &a, grant("shared", "read"), audited()).await;
    write(&store, &a, add_member("shared", "alice"), audited()).await;

    // Act / Assert: B sees nothing of it.
    let model_b = store.load_model(&b).await.expect("load B");
    assert_eq!(model_b.revision, 0);
    assert!(model_b.roles.is_empty() && model_b.grants.is_empty() && model_b.members.is_empty());
    assert_eq!(store.head_revision(&b.id).await.expect("head of B"), None);
    let (chain_b, _) = store.audit_chain(&b.id).await.expect("chain of B");
    assert!(chain_b.is_empty());
    let log_b = store.changes_since(&b, 0).await.expect("log of B");
    assert!(log_b.is_empty());
    let alice_in_b = store.member_roles(&b.id, "alice", &b.codec).await;
    assert!(alice_in_b.expect("member roles").is_empty());

    // Act / Assert: the same names in B are B's own, with B's own revisions, and leave A as it was.
    let created = write(&store, &b, create("shared"), None).await;
    assert_eq!((created.outcome, created.revision), (RoleWrite::Changed, 1));
    apply(&store, &b, grant("shared", "write")).await;
    let model_a = store.load_model(&a).await.expect("load A");
    assert_eq!(model_a.revision, 3);
    assert_eq!(model_a.grants, [pair("shared", "read")]);
    assert_eq!(
        model_a.members,
        [("shared".to_owned(), "alice".to_owned(), None)]
    );
    let model_b = store.load_model(&b).await.expect("load B");
    assert_eq!(model_b.grants, [pair("shared", "write")]);
    assert!(model_b.members.is_empty());
    let (chain_a, _) = store.audit_chain(&a.id).await.expect("chain of A");
    assert_eq!(chain_a.len(), 3);
}

// ---- Helpers -------------------------------------------------------------------------------------------------

/// Spawns `count` tasks that all start together (behind a barrier) and collects their results, in no set order.
async fn concurrently<T, Fut>(count: usize, task: impl Fn(usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let start = Arc::new(Barrier::new(count));
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let (start, work) = (Arc::clone(&start), task(i));
        tasks.spawn(async move {
            start.wait().await;
            work.await
        });
    }
    let mut results = Vec::with_capacity(count);
    while let Some(result) = tasks.join_next().await {
        results.push(result.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic())));
    }
    results
}

fn count<T>(items: &[T], matches: impl Fn(&T) -> bool) -> usize {
    items.iter().filter(|item| matches(item)).count()
}

fn one_to(last: i64) -> Vec<i64> {
    (1..=last).collect()
}

fn pair(role: &str, item: &str) -> (String, String) {
    (role.to_owned(), item.to_owned())
}

fn plain_scope(tenant: &str) -> TenantScope {
    let (id, codec) = (TenantId::from_stored(tenant.to_owned()), FieldCodec::Plain);
    TenantScope { id, codec }
}

fn name(kind: NameKind, raw: &str) -> Name {
    Name::parse(kind, raw).expect("a valid name")
}

fn create(role: &str) -> Change {
    let (role, description) = (name(NameKind::Role, role), None);
    Change::CreateRole { role, description }
}

fn grant(role: &str, permission: &str) -> Change {
    let role = name(NameKind::Role, role);
    let permission = name(NameKind::Permission, permission);
    Change::Grant { role, permission }
}

fn add_member(role: &str, user: &str) -> Change {
    let (role, user) = (name(NameKind::Role, role), name(NameKind::User, user));
    Change::AddMember {
        user,
        role,
        expires_at: None,
        scope: None,
    }
}

fn remove_member(role: &str, user: &str) -> Change {
    let (role, user) = (name(NameKind::Role, role), name(NameKind::User, user));
    Change::RemoveMember {
        user,
        role,
        scope: None,
    }
}

async fn write(
    store: &Store,
    scope: &TenantScope,
    change: Change,
    audit: Option<AuditDraft>,
) -> Applied {
    let applied = store.apply_change(scope, &change, audit).await;
    applied.unwrap_or_else(|err| panic!("{change:?}: {err}"))
}

/// Applies a change that must take effect.
async fn apply(store: &Store, scope: &TenantScope, change: Change) {
    let applied = write(store, scope, change.clone(), None).await;
    assert_eq!(applied.outcome, RoleWrite::Changed, "{change:?}");
}

/// An audit draft. Writes replace its outcome with their own; decisions keep it (`allowed`).
fn draft(action: &str, target: &str) -> AuditDraft {
    let (action, target, outcome) = (action.to_owned(), target.to_owned(), "allowed".to_owned());
    AuditDraft {
        action,
        target,
        outcome,
        context: RequestContext::default(),
        at: None,
    }
}

/// Creates an allowed, enabled user; returns when (its sensitive-change time).
async fn allowed_user(store: &Store, tenant: &TenantId, user: &Name, hour: Option<i64>) -> i64 {
    let now = now_millis();
    let write = UserWrite {
        status: UserStatus::Allowed,
        enabled: true,
        profile: "{}".to_owned(),
        requests_per_hour: hour,
        requests_per_day: None,
        random_shift_minutes: 5,
    };
    let new_uuid = uuid::Uuid::new_v4().to_string();
    let put = store.put_user(tenant, user, &write, &new_uuid, now, None);
    assert!(put.await.expect("put user").0, "the user is new");
    now
}

// ---- Databases -----------------------------------------------------------------------------------------------

/// A fresh, migrated database for one test.
struct TestDatabase {
    store: Store,
    location: Location,
}

enum Location {
    Sqlite(tempfile::TempDir),
    /// The admin URL and the database's name, dropped after the test.
    Postgres(String, String),
}

impl TestDatabase {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = DatabaseUrl::Sqlite(dir.path().join("warden.sqlite3"));
        Self::open(url, Location::Sqlite(dir)).await
    }

    /// `None` (skipped) when `TEST_POSTGRES_URL` is not set outside CI.
    async fn postgres() -> Option<Self> {
        let Some(admin_url) = postgres_admin_url() else {
            eprintln!("skipped: TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("warden_conf_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&admin_url).await;
        let admin = admin.expect("TEST_POSTGRES_URL must point at a reachable PostgreSQL");
        let create = format!("CREATE DATABASE \"{name}\"");
        let created = sqlx::query(&create).execute(&admin).await;
        created.expect("create a test database");
        admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        let url = DatabaseUrl::parse("TEST_POSTGRES_URL", url.as_str()).expect("a PostgreSQL URL");
        Some(Self::open(url, Location::Postgres(admin_url, name)).await)
    }

    async fn open(url: DatabaseUrl, location: Location) -> Self {
        let acquire_timeout = Duration::from_secs(30);
        let settings = DatabaseSettings {
            url,
            pool_size: 8,
            acquire_timeout,
        };
        let store = Store::connect(&settings).await.expect("connect");
        store.migrate().await.expect("migrate");
        Self { store, location }
    }

    /// Runs a scenario in its own task, removes the database whatever happened, then passes any panic on.
    async fn run<Fut>(self, scenario: impl FnOnce(Store) -> Fut)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(scenario(self.store.clone())).await;
        self.store.close().await;
        match self.location {
            Location::Sqlite(dir) => dir.close().expect("remove the test folder"),
            Location::Postgres(admin_url, name) => {
                let admin = sqlx::PgPool::connect(&admin_url).await.expect("reconnect");
                let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let dropped = sqlx::query(&drop).execute(&admin).await;
                dropped.expect("drop the test database");
                admin.close().await;
            }
        }
        if let Err(err) = outcome {
            std::panic::resume_unwind(err.into_panic());
        }
    }
}

/// The PostgreSQL server to create test databases on; the same rule as `warden-testkit`.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL half must run in CI")
        }
        _ => None,
    }
}

//! The decision function on the large dataset, in process: Warden's `TenantModel::user_has_permission` next to
//! casbin-rs with the usual RBAC model (`p, role, permission` and `g, user, role`) on the same data.
//!
//! `cargo bench --bench decision` prints criterion's per-call times, then a `MICRO …` line per engine with the
//! mean, p50, p99 and p99.9 of individually timed calls on random queries (criterion reports no percentiles), and
//! a `MICRO-MEMORY …` line with the bytes the model holds (counted by this binary's allocator, and by the model's
//! own `heap_bytes`). `warden-hierarchy` is the same data plus inheritance chains ten edges deep: role 11c+k
//! inherits role 11c+k+1 for k < 10. `warden-full` adds the resources of the issue's full dataset: 100 000
//! resources in a tree four levels deep (100 orgs › 1 000 folders › 10 000 subfolders › 88 900 documents) and
//! 100 000 scoped memberships (user u holds role (7u mod 10 000) at subfolder u mod 10 000, or for odd u at folder
//! u mod 1 000); it is timed on global checks and on checks at a random document.
//! The data follow bench/dataset.py: role r grants perm((11r + j) % 1000) for j < 11; user u is a member of
//! role((10u + k) % 10000) for k < 10. `DECISION_CASBIN_USERS` (default 100000) shrinks casbin's user count if
//! its build is too slow; the line it prints says which size it measured.

use std::alloc::System;
use std::hint::black_box;
use std::time::{Duration, Instant};

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use criterion::Criterion;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use warden_core::model::ModelSnapshot;
use warden_core::model::TenantModel;

/// Counts the bytes on the heap, so the model's footprint is measured rather than estimated.
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed (a reallocation's growth or shrinkage is already in these two).
fn live_bytes() -> isize {
    let stats = ALLOCATOR.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

const ROLES: usize = 10_000;
const PERMISSIONS: usize = 1_000;
const GRANTS_PER_ROLE: usize = 11;
const USERS: usize = 100_000;
const ROLES_PER_USER: usize = 10;

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj
"#;

fn grants() -> Vec<(String, String)> {
    (0..ROLES)
        .flat_map(|r| {
            (0..GRANTS_PER_ROLE).map(move |j| {
                (
                    format!("role{r}"),
                    format!("perm{}", (r * GRANTS_PER_ROLE + j) % PERMISSIONS),
                )
            })
        })
        .collect()
}

/// (role, user) pairs for the first `users` users.
fn members(users: usize) -> Vec<(String, String)> {
    (0..users)
        .flat_map(|u| {
            (0..ROLES_PER_USER).map(move |k| {
                (
                    format!("role{}", (u * ROLES_PER_USER + k) % ROLES),
                    format!("user{u}"),
                )
            })
        })
        .collect()
}

/// The large dataset, with chains of ten inheritance edges when `hierarchy`.
fn warden_snapshot(hierarchy: bool) -> ModelSnapshot {
    let inherits = if hierarchy {
        (0..ROLES / 11)
            .flat_map(|c| {
                (0..10).map(move |k| {
                    (
                        format!("role{}", 11 * c + k),
                        format!("role{}", 11 * c + k + 1),
                    )
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    ModelSnapshot {
        revision: 1,
        roles: (0..ROLES).map(|r| (format!("role{r}"), None)).collect(),
        grants: grants(),
        members: members(USERS)
            .into_iter()
            .map(|(role, user)| (role, user, None))
            .collect(),
        inherits,
        ..ModelSnapshot::default()
    }
}

const ORGS: usize = 100;
const FOLDERS: usize = 1_000;
const SUBFOLDERS: usize = 10_000;
const DOCUMENTS: usize = 88_900;

/// The resource tree and the scoped memberships of `warden-full`.
fn with_resources(mut snapshot: ModelSnapshot) -> ModelSnapshot {
    let mut resources = Vec::with_capacity(ORGS + FOLDERS + SUBFOLDERS + DOCUMENTS);
    resources.extend((0..ORGS).map(|o| (format!("org:{o}"), None)));
    resources
        .extend((0..FOLDERS).map(|f| (format!("folder:{f}"), Some(format!("org:{}", f % ORGS)))));
    resources.extend((0..SUBFOLDERS).map(|s| {
        (
            format!("folder:s{s}"),
            Some(format!("folder:{}", s % FOLDERS)),
        )
    }));
    resources.extend((0..DOCUMENTS).map(|d| {
        (
            format!("document:{d}"),
            Some(format!("folder:s{}", d % SUBFOLDERS)),
        )
    }));
    snapshot.resources = resources;
    snapshot.scoped_members = (0..USERS)
        .map(|u| {
            let at = if u % 2 == 0 {
                format!("folder:s{}", u % SUBFOLDERS)
            } else {
                format!("folder:{}", u % FOLDERS)
            };
            (
                format!("role{}", (7 * u) % ROLES),
                format!("user{u}"),
                at,
                None,
            )
        })
        .collect();
    snapshot
}

/// Builds the model from its snapshot; prints the build time and the bytes the model holds once built.
fn warden_model(engine: &str, hierarchy: bool) -> TenantModel {
    build_model(engine, || warden_snapshot(hierarchy))
}

/// Builds the model from the snapshot `make` gives, counting the bytes from before the snapshot exists.
fn build_model(engine: &str, make: impl FnOnce() -> ModelSnapshot) -> TenantModel {
    let before = live_bytes();
    let snapshot = make();
    let started = Instant::now();
    let model = TenantModel::from_snapshot(snapshot);
    let seconds = started.elapsed().as_secs_f64();
    // The snapshot was consumed and dropped by the build: what remains since `before` is the model.
    let held = live_bytes() - before;
    let counts = model.counts();
    println!("MICRO-BUILD engine={engine} seconds={seconds:.2} users={USERS}");
    println!(
        "MICRO-MEMORY engine={engine} allocated_mib={:.1} heap_bytes_mib={:.1} roles={} grants={} memberships={} edges={} resources={}",
        held as f64 / 1048576.0,
        model.heap_bytes() as f64 / 1048576.0,
        counts.roles,
        counts.grants,
        counts.memberships,
        counts.inheritance_edges,
        counts.resources
    );
    model
}

fn casbin_enforcer(users: usize) -> Enforcer {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    runtime.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL)
            .await
            .expect("the RBAC model parses");
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .expect("an enforcer over an empty adapter");
        let policies = grants().into_iter().map(|(r, p)| vec![r, p]).collect();
        enforcer.add_policies(policies).await.expect("policies");
        let groupings = members(users)
            .into_iter()
            .map(|(r, u)| vec![u, r])
            .collect();
        enforcer
            .add_grouping_policies(groupings)
            .await
            .expect("groupings");
        enforcer
    })
}

/// Random (user, permission) queries over the first `users` users.
fn queries(count: usize, users: usize) -> Vec<(String, String)> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..count)
        .map(|_| {
            (
                format!("user{}", rng.gen_range(0..users)),
                format!("perm{}", rng.gen_range(0..PERMISSIONS)),
            )
        })
        .collect()
}

/// Random documents of `warden-full`, for scoped checks.
fn documents(count: usize) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(11);
    (0..count)
        .map(|_| format!("document:{}", rng.gen_range(0..DOCUMENTS)))
        .collect()
}

/// Times each call on its own; prints mean and percentiles in nanoseconds.
fn percentiles(
    engine: &str,
    note: &str,
    queries: &[(String, String)],
    mut decide: impl FnMut(&str, &str) -> bool,
) {
    let mut times: Vec<u64> = Vec::with_capacity(queries.len());
    let mut granted = 0usize;
    for (user, permission) in queries {
        let started = Instant::now();
        let answer = black_box(decide(black_box(user), black_box(permission)));
        times.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        granted += usize::from(answer);
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let mean = times.iter().sum::<u64>() as f64 / times.len() as f64;
    println!(
        "MICRO engine={engine} calls={} granted={granted} mean_ns={mean:.0} p50_ns={} p99_ns={} p999_ns={} {note}",
        times.len(),
        at(0.50),
        at(0.99),
        at(0.999)
    );
}

fn main() {
    let casbin_users = std::env::var("DECISION_CASBIN_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(USERS);

    let model = warden_model("warden", false);
    let hierarchy = warden_model("warden-hierarchy", true);
    let full = build_model("warden-full", || with_resources(warden_snapshot(true)));
    let started = Instant::now();
    let enforcer = casbin_enforcer(casbin_users);
    println!(
        "MICRO-BUILD engine=casbin seconds={:.2} users={casbin_users}",
        started.elapsed().as_secs_f64()
    );

    // Timer overhead, so the per-call figures below can be read net of it.
    let calls = queries(1_000_000, USERS);
    percentiles(
        "timer-only",
        "(Instant::now pair, no call)",
        &calls,
        |_, _| false,
    );
    percentiles("warden", "users=100000", &calls, |u, p| {
        model.user_has_permission(u, p)
    });
    percentiles(
        "warden-hierarchy",
        "users=100000 depth=10",
        &calls,
        |u, p| hierarchy.user_has_permission(u, p),
    );
    percentiles(
        "warden-full",
        "users=100000 depth=10 resources=100000 scoped=100000 (global checks)",
        &calls,
        |u, p| full.user_has_permission(u, p),
    );
    let documents = documents(calls.len());
    let mut at = documents.iter().cycle();
    percentiles(
        "warden-full-scoped",
        "users=100000 depth=10 resources=100000 scoped=100000 (checks at a random document)",
        &calls,
        |u, p| full.user_has_permission_on(u, p, at.next().map(String::as_str)),
    );
    // casbin scans its policies on every call: a few hundred calls give stable percentiles.
    let casbin_calls = queries(300, casbin_users);
    percentiles(
        "casbin",
        &format!("users={casbin_users}"),
        &casbin_calls,
        |u, p| enforcer.enforce((u, p)).expect("enforce"),
    );

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("decision");
    let mut next = 0usize;
    group.bench_function("warden_large", |b| {
        b.iter(|| {
            next = (next + 1) % calls.len();
            let (user, permission) = &calls[next];
            model.user_has_permission(black_box(user), black_box(permission))
        });
    });
    let mut next = 0usize;
    group.bench_function("warden_hierarchy_large", |b| {
        b.iter(|| {
            next = (next + 1) % calls.len();
            let (user, permission) = &calls[next];
            hierarchy.user_has_permission(black_box(user), black_box(permission))
        });
    });
    let mut next = 0usize;
    group.bench_function("warden_full_scoped", |b| {
        b.iter(|| {
            next = (next + 1) % calls.len();
            let (user, permission) = &calls[next];
            full.user_has_permission_on(
                black_box(user),
                black_box(permission),
                Some(black_box(documents[next].as_str())),
            )
        });
    });
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut next = 0usize;
    group.bench_function("casbin_large", |b| {
        b.iter(|| {
            next = (next + 1) % casbin_calls.len();
            let (user, permission) = &casbin_calls[next];
            enforcer
                .enforce((black_box(user.as_str()), black_box(permission.as_str())))
                .expect("enforce")
        });
    });
    group.finish();
    criterion.final_summary();
}

//! The model's unit tests: decisions and listings, counts, strict users, and the inheritance indexes checked
//! against a from-scratch rebuild after random changes.

use super::*;
use crate::domain::{Name, NameKind};
use crate::model::{Listed, PageRequest, Reach};

fn name(kind: NameKind, s: &str) -> Name {
    Name::parse(kind, s).unwrap()
}

fn model() -> TenantModel {
    let mut m = TenantModel::default();
    for (role, perms, users) in [
        ("admin", vec!["manage", "edit", "view"], vec!["alice"]),
        ("editor", vec!["edit", "view"], vec!["bob", "alice"]),
    ] {
        m.apply(&Change::CreateRole {
            role: name(NameKind::Role, role),
            description: None,
        });
        for p in perms {
            m.apply(&Change::Grant {
                role: name(NameKind::Role, role),
                permission: name(NameKind::Permission, p),
            });
        }
        for u in users {
            m.apply(&Change::AddMember {
                user: name(NameKind::User, u),
                role: name(NameKind::Role, role),
                expires_at: None,
                scope: None,
            });
        }
    }
    m
}

#[test]
fn answers_checks_and_listings_from_both_indexes() {
    let m = model();
    assert!(m.user_has_permission("alice", "manage"));
    assert!(m.user_has_permission("bob", "edit"));
    assert!(!m.user_has_permission("bob", "manage"));
    assert!(!m.user_has_permission("nobody", "edit"));
    assert_eq!(m.user_permissions("alice"), ["edit", "manage", "view"]);
    assert_eq!(m.which_users_can("edit"), ["alice", "bob"]);
    assert_eq!(m.which_roles_can("view").len(), 2);
    assert_eq!(m.role_members("ghost"), None);
    assert_eq!(
        m.is_member("bob", "editor", Reach::Direct, None),
        Some(true)
    );
}

#[test]
fn deleting_a_role_cleans_both_indexes() {
    let mut m = model();
    m.apply(&Change::DeleteRole {
        role: name(NameKind::Role, "editor"),
    });
    assert!(!m.user_has_permission("bob", "edit"));
    assert!(m.user_roles("bob").is_empty());
    assert_eq!(m.which_roles_can("edit").len(), 1);
    assert!(m.user_has_permission("alice", "edit"));
    assert_eq!(
        m.counts(),
        ModelCounts {
            roles: 1,
            resources: 0,
            grants: 3,
            memberships: 1,
            inheritance_edges: 0,
        }
    );
}

#[test]
fn counts_follow_every_change_and_repeats_count_once() {
    let mut m = model();
    assert_eq!(
        m.counts(),
        ModelCounts {
            roles: 2,
            resources: 0,
            grants: 5,
            memberships: 3,
            inheritance_edges: 0,
        }
    );
    let before = m.approx_bytes();
    m.apply(&Change::Grant {
        role: name(NameKind::Role, "admin"),
        permission: name(NameKind::Permission, "manage"),
    });
    assert_eq!(m.counts().grants, 5);
    m.apply(&Change::AddMember {
        user: name(NameKind::User, "carol"),
        role: name(NameKind::Role, "admin"),
        expires_at: None,
        scope: None,
    });
    assert_eq!(m.counts().memberships, 4);
    assert!(m.approx_bytes() > before);
    m.apply(&Change::RemoveMember {
        user: name(NameKind::User, "carol"),
        role: name(NameKind::Role, "admin"),
        scope: None,
    });
    m.apply(&Change::Revoke {
        role: name(NameKind::Role, "admin"),
        permission: name(NameKind::Permission, "manage"),
    });
    assert_eq!(m.counts().grants, 4);
    assert_eq!(m.counts().memberships, 3);
}

#[test]
fn pages_walk_a_listing_without_duplicates_or_gaps() {
    let m = model();
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let page = m.user_permissions_page(
            "alice",
            None,
            PageRequest {
                after: after.as_deref(),
                limit: 2,
            },
        );
        seen.extend(page.items.iter().cloned());
        if !page.more {
            break;
        }
        after = page.items.last().cloned();
    }
    assert_eq!(seen, ["edit", "manage", "view"]);
    let last = m.role_members_page(
        "editor",
        Reach::Direct,
        None,
        PageRequest {
            after: Some("alice"),
            limit: 5,
        },
    );
    assert_eq!(
        last,
        Some(Listed {
            items: vec!["bob".to_owned()],
            more: false
        })
    );
}

#[test]
fn changes_under_a_missing_role_are_ignored() {
    let mut m = model();
    m.apply(&Change::AddMember {
        user: name(NameKind::User, "eve"),
        role: name(NameKind::Role, "ghost"),
        expires_at: None,
        scope: None,
    });
    assert!(m.user_roles("eve").is_empty());
    assert!(m.which_users_can("edit").iter().all(|u| u != "eve"));
}

fn strict_model(strict_users: bool, key_backed: &[(&str, i64)]) -> TenantModel {
    TenantModel::from_snapshot(ModelSnapshot {
        revision: 1,
        roles: vec![("editor".to_owned(), None)],
        grants: vec![("editor".to_owned(), "edit".to_owned())],
        inherits: Vec::new(),
        members: vec![("editor".to_owned(), "ann".to_owned(), None)],
        strict_users,
        key_backed: key_backed
            .iter()
            .map(|(user, until)| ((*user).to_owned(), *until))
            .collect(),
        ..ModelSnapshot::default()
    })
}

#[test]
fn strict_users_refuses_only_users_without_a_key_active_at_the_moment_asked() {
    let now = 1_000;
    // Off: nobody is refused, key or not.
    assert!(!strict_model(false, &[]).not_key_backed("ann", now));
    let strict = strict_model(true, &[("ann", now + 1), ("bob", i64::MAX), ("old", now)]);
    assert!(strict.strict_users());
    assert!(
        !strict.not_key_backed("ann", now),
        "a key valid a little longer"
    );
    assert!(
        strict.not_key_backed("ann", now + 1),
        "its expiry is the end"
    );
    assert!(
        !strict.not_key_backed("bob", i64::MAX - 1),
        "a key without expiry"
    );
    assert!(
        strict.not_key_backed("old", now),
        "expired at this very moment"
    );
    assert!(strict.not_key_backed("carol", now), "never had a key");
    // The roles are untouched: the refusal is the caller's to combine with them.
    assert!(strict.user_has_permission("ann", "edit"));
}

fn role(s: &str) -> Name {
    name(NameKind::Role, s)
}

fn apply_all(m: &mut TenantModel, changes: &[Change]) {
    for change in changes {
        m.apply(change);
    }
}

fn create(r: &str) -> Change {
    Change::CreateRole {
        role: role(r),
        description: None,
    }
}

fn inherit(r: &str, parent: &str) -> Change {
    Change::Inherit {
        role: role(r),
        parent: role(parent),
    }
}

fn grant(r: &str, p: &str) -> Change {
    Change::Grant {
        role: role(r),
        permission: name(NameKind::GrantedPermission, p),
    }
}

fn member(u: &str, r: &str) -> Change {
    Change::AddMember {
        user: name(NameKind::User, u),
        role: role(r),
        expires_at: None,
        scope: None,
    }
}

/// Every permission's holders as a from-scratch rebuild finds them, and the counters as a recount finds them.
fn assert_consistent(m: &TenantModel) {
    let holders = |model: &TenantModel| -> Vec<(String, Vec<String>)> {
        let mut all: Vec<(String, Vec<String>)> = (0..model.holders.len() as Id)
            .filter(|&p| !model.holders[p as usize].is_empty())
            .map(|p| {
                let mut roles: Vec<String> = model.holders[p as usize]
                    .iter()
                    .map(|r| model.role_names.name(r).to_owned())
                    .collect();
                roles.sort();
                (model.permission_names.name(p).to_owned(), roles)
            })
            .collect();
        all.sort();
        all
    };
    let snapshot = ModelSnapshot {
        revision: 0,
        roles: m
            .roles()
            .into_iter()
            .map(|r| (r.name, r.description))
            .collect(),
        grants: m
            .live_roles()
            .flat_map(|(id, n)| {
                n.permissions.iter().map(move |p| {
                    (
                        m.role_names.name(id).to_owned(),
                        m.permission_names.name(p).to_owned(),
                    )
                })
            })
            .collect(),
        members: m
            .live_roles()
            .flat_map(|(id, n)| {
                n.members
                    .iter()
                    .chain(n.timed_members.iter())
                    .map(move |u| {
                        (
                            m.role_names.name(id).to_owned(),
                            m.user_names.name(u).to_owned(),
                            m.timed_expiry(u, id),
                        )
                    })
            })
            .collect(),
        inherits: m
            .live_roles()
            .flat_map(|(id, n)| {
                n.parents.iter().map(move |p| {
                    (
                        m.role_names.name(id).to_owned(),
                        m.role_names.name(p).to_owned(),
                    )
                })
            })
            .collect(),
        ..ModelSnapshot::default()
    };
    let fresh = TenantModel::from_snapshot(snapshot);
    assert_eq!(holders(m), holders(&fresh));
    assert_eq!(m.counts(), fresh.counts());
    assert_eq!(m.holdings, fresh.holdings);
    let named = |model: &TenantModel| -> Vec<(i64, String, String)> {
        model
            .expiries
            .iter()
            .map(|&(at, u, r, _)| {
                (
                    at,
                    model.user_names.name(u).to_owned(),
                    model.role_names.name(r).to_owned(),
                )
            })
            .collect()
    };
    let patterns = |model: &TenantModel| -> Vec<String> {
        let mut all: Vec<String> = model
            .patterns
            .iter()
            .map(|p| model.permission_names.name(p).to_owned())
            .collect();
        all.sort();
        all
    };
    assert_eq!(patterns(m), patterns(&fresh));
    let (mut mine, mut theirs) = (named(m), named(&fresh));
    mine.sort();
    theirs.sort();
    assert_eq!(mine, theirs);

    // Every user id in use has roles, and every membership is indexed both ways.
    for (user, roles) in m.users.iter().enumerate() {
        for r in roles.iter() {
            assert!(m.node(r).unwrap().members.contains(user as Id));
        }
    }
}

#[test]
fn a_grant_reaches_down_a_chain_of_ten_and_leaves_with_its_edge() {
    let mut m = TenantModel::default();
    let chain: Vec<String> = (0..=10).map(|i| format!("level{i}")).collect();
    for r in &chain {
        m.apply(&create(r));
    }
    // level0 inherits level1 … level9 inherits level10: ten edges.
    for pair in chain.windows(2) {
        m.apply(&inherit(&pair[0], &pair[1]));
    }
    apply_all(
        &mut m,
        &[
            grant("level10", "deploy"),
            member("alice", "level0"),
            member("bob", "level5"),
        ],
    );
    assert!(m.user_has_permission("alice", "deploy"));
    assert!(m.user_has_permission("bob", "deploy"));
    assert_eq!(
        m.role_has_permission("level0", "deploy", Reach::Direct),
        Some(false)
    );
    assert_eq!(
        m.role_has_permission("level0", "deploy", Reach::Effective),
        Some(true)
    );
    assert_eq!(m.which_users_can("deploy"), ["alice", "bob"]);
    assert_eq!(m.which_roles_can("deploy").len(), 11);
    assert_eq!(
        m.is_member("alice", "level10", Reach::Effective, None),
        Some(true)
    );
    assert_eq!(
        m.is_member("alice", "level10", Reach::Direct, None),
        Some(false)
    );
    assert_eq!(
        m.is_member("bob", "level0", Reach::Effective, None),
        Some(false)
    );
    assert_eq!(
        m.inherited_page("level8", Reach::Effective, PageRequest::ALL)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.name)
            .collect::<Vec<_>>(),
        ["level10", "level9"]
    );
    assert_eq!(
        m.inherited_page("level8", Reach::Direct, PageRequest::ALL)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.name)
            .collect::<Vec<_>>(),
        ["level9"]
    );
    assert_eq!(m.user_permissions("alice"), ["deploy"]);
    let why = m
        .explain("alice", "deploy", None, 0)
        .expect("an explanation");
    assert_eq!(why.member_of, "level0");
    assert_eq!(why.chain.len(), 11);
    assert_eq!(why.chain.last().map(String::as_str), Some("level10"));
    assert_eq!((why.granted.as_str(), why.pattern), ("deploy", false));
    assert_eq!(m.explain("alice", "nothing", None, 0), None);
    assert_consistent(&m);
    // Cut the chain between level4 and level5: alice loses it, bob keeps it.
    m.apply(&Change::Disinherit {
        role: role("level4"),
        parent: role("level5"),
    });
    assert!(!m.user_has_permission("alice", "deploy"));
    assert!(m.user_has_permission("bob", "deploy"));
    assert_eq!(m.which_users_can("deploy"), ["bob"]);
    assert_consistent(&m);
}

#[test]
fn a_holder_with_two_paths_keeps_the_grant_when_one_goes() {
    let mut m = TenantModel::default();
    apply_all(
        &mut m,
        &[
            create("admin"),
            create("editor"),
            create("viewer"),
            inherit("admin", "editor"),
            inherit("admin", "viewer"),
            inherit("editor", "viewer"),
            grant("viewer", "read"),
            grant("editor", "read"),
            member("ann", "admin"),
        ],
    );
    m.apply(&Change::Revoke {
        role: role("viewer"),
        permission: name(NameKind::Permission, "read"),
    });
    assert!(
        m.user_has_permission("ann", "read"),
        "editor still grants it"
    );
    m.apply(&Change::Disinherit {
        role: role("admin"),
        parent: role("editor"),
    });
    assert!(!m.user_has_permission("ann", "read"));
    assert_consistent(&m);
    m.apply(&Change::DeleteRole {
        role: role("viewer"),
    });
    assert_eq!(m.counts().inheritance_edges, 0);
    assert_consistent(&m);
}

#[test]
fn a_cycle_or_missing_role_in_a_replayed_change_is_ignored() {
    let mut m = TenantModel::default();
    apply_all(
        &mut m,
        &[
            create("a"),
            create("b"),
            inherit("a", "b"),
            inherit("b", "a"),
            inherit("a", "ghost"),
            inherit("a", "a"),
        ],
    );
    assert_eq!(m.counts().inheritance_edges, 1);
    assert_consistent(&m);
}

#[test]
fn random_changes_keep_every_index_equal_to_a_rebuild() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let mut m = TenantModel::default();
    let roles: Vec<String> = (0..12).map(|i| format!("r{i}")).collect();
    for step in 0..3_000 {
        let r = &roles[rng.gen_range(0..roles.len())];
        let other = &roles[rng.gen_range(0..roles.len())];
        let p = match rng.gen_range(0..8) {
            6 => "p*".to_owned(),
            7 => "*1".to_owned(),
            n => format!("p{n}"),
        };
        let u = format!("u{}", rng.gen_range(0..8));
        let change = match rng.gen_range(0..10) {
            0 => create(r),
            9 => Change::AddMember {
                user: name(NameKind::User, &u),
                role: role(r),
                expires_at: Some(rng.gen_range(0..3)),
                scope: None,
            },
            1 if rng.gen_range(0..4) == 0 => Change::DeleteRole { role: role(r) },
            2 => grant(r, &p),
            3 => Change::Revoke {
                role: role(r),
                permission: name(NameKind::GrantedPermission, &p),
            },
            4 => member(&u, r),
            5 => Change::RemoveMember {
                user: name(NameKind::User, &u),
                role: role(r),
                scope: None,
            },
            6 | 7 => {
                // Only edges the store would accept: acyclic, within the depth limit.
                let edges: Vec<(String, String)> = m
                    .live_roles()
                    .flat_map(|(id, n)| n.parents.iter().map(move |p| (id, p)).collect::<Vec<_>>())
                    .map(|(a, b)| {
                        (
                            m.role_names.name(a).to_owned(),
                            m.role_names.name(b).to_owned(),
                        )
                    })
                    .collect();
                let allowed = crate::rules::inheritance::check_new_edge(
                    edges.iter().map(|(a, b)| (a.as_str(), b.as_str())),
                    r,
                    other,
                );
                if allowed.is_err() {
                    continue;
                }
                inherit(r, other)
            }
            _ => Change::Disinherit {
                role: role(r),
                parent: role(other),
            },
        };
        m.apply(&change);
        if step % 50 == 0 {
            assert_consistent(&m);
        }
    }
    assert_consistent(&m);
    // Every decision agrees with a walk over the stored rows.
    for u in 0..8 {
        for p in 0..6 {
            let (u, p) = (format!("u{u}"), format!("p{p}"));
            let walked = m.user_roles(&u).iter().any(|r| {
                m.role_permissions_page(&r.name, Reach::Effective, PageRequest::ALL)
                    .unwrap()
                    .items
                    .iter()
                    .any(|granted| crate::rules::wildcard::permission_matches(granted, &p))
            });
            assert_eq!(m.user_has_permission(&u, &p), walked, "{u} {p}");
        }
    }
}

#[test]
fn an_expiring_membership_grants_until_its_instant_and_no_longer() {
    let mut m = TenantModel::default();
    apply_all(
        &mut m,
        &[
            create("oncall"),
            grant("oncall", "page"),
            create("staff"),
            grant("staff", "read"),
        ],
    );
    let timed = |at: i64| Change::AddMember {
        user: name(NameKind::User, "ann"),
        role: role("oncall"),
        expires_at: Some(at),
        scope: None,
    };
    m.apply(&timed(1_000));
    assert!(m.user_has_permission_at("ann", "page", 999));
    assert!(
        !m.user_has_permission_at("ann", "page", 1_000),
        "expired at its instant"
    );
    assert_eq!(
        m.membership_expiry("ann", "oncall", None, Reach::Direct),
        Some(1_000)
    );
    assert_eq!(m.next_expiry(), Some(1_000));
    assert_eq!(m.due_expiries(999, 10), vec![]);
    assert_eq!(
        m.due_expiries(1_000, 10),
        vec![DueExpiry {
            user: "ann".to_owned(),
            role: "oncall".to_owned(),
            scope: None,
            at: 1_000
        }]
    );
    // Long expired: every listing leaves it out, whether or not it was removed yet.
    assert!(m.user_roles("ann").is_empty());
    assert!(m.which_users_can("page").is_empty());
    assert_eq!(
        m.is_member("ann", "oncall", Reach::Direct, None),
        Some(false)
    );
    // Re-adding for good replaces the expiry; re-adding with one replaces it again.
    m.apply(&member("ann", "oncall"));
    assert_eq!(
        m.membership_expiry("ann", "oncall", None, Reach::Direct),
        None
    );
    assert!(m.user_has_permission_at("ann", "page", 5_000));
    assert_eq!(m.next_expiry(), None);
    m.apply(&timed(i64::MAX));
    assert!(m.user_has_permission("ann", "page"));
    assert_eq!(m.which_users_can("page"), ["ann"]);
    assert_eq!(m.role_members("oncall").unwrap(), ["ann"]);
    m.apply(&timed(2_000));
    assert!(!m.user_has_permission_at("ann", "page", 2_000));
    assert_eq!(m.counts().memberships, 1);
    // An expiry removal for an earlier instant than the membership's leaves it (it was extended).
    m.apply(&Change::ExpireMember {
        user: name(NameKind::User, "ann"),
        role: role("oncall"),
        at: 1_500,
        scope: None,
    });
    assert_eq!(m.counts().memberships, 1);
    assert_consistent(&m);
    m.apply(&Change::ExpireMember {
        user: name(NameKind::User, "ann"),
        role: role("oncall"),
        at: 2_000,
        scope: None,
    });
    assert_eq!(m.counts().memberships, 0);
    assert_eq!(
        m.user_names.get("ann"),
        None,
        "a user without memberships is forgotten"
    );
    assert_consistent(&m);
}

#[test]
fn a_pattern_grant_answers_for_every_permission_it_matches() {
    let mut m = TenantModel::default();
    apply_all(
        &mut m,
        &[
            create("writer"),
            create("lead"),
            inherit("lead", "writer"),
            Change::Grant {
                role: role("writer"),
                permission: name(NameKind::GrantedPermission, "docs:*"),
            },
            grant("lead", "deploy"),
            member("ann", "lead"),
            member("bob", "writer"),
        ],
    );
    assert!(m.user_has_permission("ann", "docs:read"));
    assert!(m.user_has_permission("bob", "docs:"));
    assert!(!m.user_has_permission("bob", "doc:read"));
    assert!(!m.user_has_permission("bob", "deploy"));
    assert_eq!(m.which_users_can("docs:write"), ["ann", "bob"]);
    assert_eq!(m.which_roles_can("docs:x").len(), 2);
    assert_eq!(
        m.role_has_permission("lead", "docs:read", Reach::Effective),
        Some(true)
    );
    assert_eq!(
        m.role_has_permission("writer", "docs:read", Reach::Direct),
        Some(false)
    );
    assert_eq!(
        m.role_has_permission("writer", "docs:*", Reach::Direct),
        Some(true)
    );
    assert_eq!(m.user_permissions("bob"), ["docs:*"]);
    let why = m.explain("ann", "docs:read", None, 0).unwrap();
    assert_eq!(why.chain, ["lead", "writer"]);
    assert_eq!((why.granted.as_str(), why.pattern), ("docs:*", true));
    assert_consistent(&m);
    m.apply(&Change::Revoke {
        role: role("writer"),
        permission: name(NameKind::GrantedPermission, "docs:*"),
    });
    assert!(!m.user_has_permission("ann", "docs:read"));
    assert!(m.patterns.is_empty());
    assert_consistent(&m);
}

#[test]
fn a_user_loaded_with_only_an_expiring_membership_is_forgotten_with_it() {
    let mut m = TenantModel::from_snapshot(ModelSnapshot {
        revision: 1,
        roles: vec![("oncall".to_owned(), None)],
        members: vec![("oncall".to_owned(), "zed".to_owned(), Some(5))],
        ..ModelSnapshot::default()
    });
    assert_eq!(m.counts().memberships, 1);
    assert_eq!(m.due_expiries(5, 10).len(), 1);
    m.apply(&Change::ExpireMember {
        user: name(NameKind::User, "zed"),
        role: role("oncall"),
        at: 5,
        scope: None,
    });
    assert_eq!(m.counts().memberships, 0);
    assert_eq!(m.user_names.get("zed"), None);
    assert_consistent(&m);
}

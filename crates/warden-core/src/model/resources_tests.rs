use super::*;
use crate::domain::{Change, Name, NameKind, Resource};
use crate::model::{ModelSnapshot, PageRequest, Reach};

fn role(name: &str) -> Name {
    Name::parse(NameKind::Role, name).unwrap()
}

fn resource(raw: &str) -> Resource {
    Resource::parse(raw).unwrap()
}

fn put(m: &mut TenantModel, raw: &str, parent: Option<&str>) {
    m.apply(&Change::PutResource {
        resource: resource(raw),
        parent: parent.map(resource),
        properties: None,
    });
}

fn scoped(user: &str, role_name: &str, at: &str, expires_at: Option<i64>) -> Change {
    Change::AddMember {
        user: Name::parse(NameKind::User, user).unwrap(),
        role: role(role_name),
        expires_at,
        scope: Some(resource(at)),
    }
}

/// org:1 › folder:7 › folder:8 › folder:9 › document:42, and document:43 beside folder:7; `editor` grants
/// `docs:edit`, `viewer` grants `docs:read`.
fn tree() -> TenantModel {
    let mut m = TenantModel::default();
    for (name, permission) in [("editor", "docs:edit"), ("viewer", "docs:read")] {
        m.apply(&Change::CreateRole {
            role: role(name),
            description: None,
        });
        m.apply(&Change::Grant {
            role: role(name),
            permission: Name::parse(NameKind::GrantedPermission, permission).unwrap(),
        });
    }
    put(&mut m, "org:1", None);
    put(&mut m, "folder:7", Some("org:1"));
    put(&mut m, "folder:8", Some("folder:7"));
    put(&mut m, "folder:9", Some("folder:8"));
    put(&mut m, "document:42", Some("folder:9"));
    put(&mut m, "document:43", Some("org:1"));
    m
}

#[test]
fn a_membership_on_a_folder_reaches_three_levels_down_and_not_a_sibling() {
    let mut m = tree();
    m.apply(&scoped("alice", "editor", "folder:7", None));
    let on = |m: &TenantModel, at: Option<&str>| m.user_has_permission_on("alice", "docs:edit", at);
    assert!(on(&m, Some("document:42")));
    assert!(on(&m, Some("folder:7")));
    assert!(!on(&m, Some("document:43")), "a sibling of the folder");
    assert!(!on(&m, Some("org:1")), "the folder's parent");
    assert!(
        !on(&m, None),
        "without a resource only global memberships count"
    );
    assert!(!on(&m, Some("document:999")), "an unknown resource");
    assert!(!m.user_has_permission_on("alice", "docs:read", Some("document:42")));
    // A global membership answers everywhere.
    m.apply(&Change::AddMember {
        user: Name::parse(NameKind::User, "bob").unwrap(),
        role: role("viewer"),
        expires_at: None,
        scope: None,
    });
    assert!(m.user_has_permission_on("bob", "docs:read", Some("document:43")));
}

#[test]
fn moving_a_resource_moves_what_reaches_it() {
    let mut m = tree();
    m.apply(&scoped("alice", "editor", "folder:7", None));
    put(&mut m, "document:42", Some("document:43"));
    assert!(!m.user_has_permission_on("alice", "docs:edit", Some("document:42")));
    put(&mut m, "document:43", Some("folder:8"));
    assert!(m.user_has_permission_on("alice", "docs:edit", Some("document:42")));
}

#[test]
fn scoped_memberships_expire_by_the_clock_and_are_listed_by_resource() {
    let mut m = tree();
    m.apply(&scoped("alice", "editor", "folder:8", Some(2_000)));
    m.apply(&scoped("carol", "viewer", "org:1", None));
    assert!(m.user_has_permission_on_at("alice", "docs:edit", Some("document:42"), 1_999));
    assert!(!m.user_has_permission_on_at("alice", "docs:edit", Some("document:42"), 2_000));
    let due = m.due_expiries(2_000, 10);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].scope.as_deref(), Some("folder:8"));
    m.apply(&Change::ExpireMember {
        user: Name::parse(NameKind::User, "alice").unwrap(),
        role: role("editor"),
        at: 2_000,
        scope: Some(resource("folder:8")),
    });
    assert_eq!(m.counts().memberships, 1);
    assert_eq!(m.next_expiry(), None);
    assert_eq!(
        m.which_users_can_page("docs:read", Some("document:42"), PageRequest::ALL)
            .items,
        ["carol"]
    );
    assert!(m
        .which_users_can_page("docs:read", None, PageRequest::ALL)
        .items
        .is_empty());
    assert_eq!(
        m.user_resources_page("carol", "docs:read", "document", PageRequest::ALL)
            .items,
        ["document:42", "document:43"]
    );
    assert_eq!(
        m.user_resources_page(
            "carol",
            "docs:read",
            "folder",
            PageRequest {
                after: Some("7"),
                limit: 1
            }
        )
        .items,
        ["folder:8"]
    );
    assert_eq!(
        m.is_member("carol", "viewer", Reach::Direct, Some("org:1")),
        Some(true)
    );
    assert_eq!(
        m.is_member("carol", "viewer", Reach::Direct, Some("folder:7")),
        Some(false)
    );
    assert_eq!(
        m.is_member("carol", "viewer", Reach::Effective, Some("folder:7")),
        Some(true)
    );
    let why = m
        .explain("carol", "docs:read", Some("document:42"), 0)
        .expect("an explanation");
    assert_eq!(
        (why.member_of.as_str(), why.scope.as_deref()),
        ("viewer", Some("org:1"))
    );
}

#[test]
fn deleting_a_resource_or_a_role_takes_the_scoped_memberships_with_it() {
    let mut m = tree();
    m.apply(&scoped("alice", "editor", "document:42", None));
    m.apply(&scoped("alice", "viewer", "folder:9", None));
    m.apply(&Change::DeleteResource {
        resource: resource("document:42"),
    });
    assert!(!m.has_resource("document:42"));
    assert_eq!(m.counts().memberships, 1);
    m.apply(&Change::DeleteRole {
        role: role("viewer"),
    });
    assert_eq!(m.counts().memberships, 0);
    assert!(m.scoped.is_empty() && m.scoped_at.is_empty());
    assert_eq!(m.user_names.get("alice"), None, "the name is released");
    assert_eq!(
        m.resources_page("folder", PageRequest::ALL).items,
        ["folder:7", "folder:8", "folder:9"]
    );
}

#[test]
fn a_model_built_from_a_snapshot_answers_as_the_one_built_by_changes() {
    let mut m = tree();
    m.apply(&scoped("alice", "editor", "folder:7", Some(i64::MAX - 1)));
    let fresh = TenantModel::from_snapshot(ModelSnapshot {
        roles: vec![("editor".into(), None)],
        grants: vec![("editor".into(), "docs:edit".into())],
        // Children before their parents: the load must not depend on row order.
        resources: vec![
            ("document:42".into(), Some("folder:9".into())),
            ("folder:9".into(), Some("folder:8".into())),
            ("folder:8".into(), Some("folder:7".into())),
            ("folder:7".into(), None),
        ],
        scoped_members: vec![(
            "editor".into(),
            "alice".into(),
            "folder:7".into(),
            Some(i64::MAX - 1),
        )],
        ..ModelSnapshot::default()
    });
    for model in [&m, &fresh] {
        assert!(model.user_has_permission_on("alice", "docs:edit", Some("document:42")));
    }
    assert_eq!(fresh.counts().memberships, 1);
    assert_eq!(fresh.next_expiry(), Some(i64::MAX - 1));
}

//! The client against a real Warden, started in-process on a random port with a fresh SQLite file per test.

mod support;

use support::Warden;

use warden_client::{Client, Error, Permission, Role, UserName};

fn roles(list: Vec<Role>) -> Vec<String> {
    list.into_iter().map(|r| r.role).collect()
}

fn users(list: Vec<UserName>) -> Vec<String> {
    list.into_iter().map(|u| u.user).collect()
}

fn permissions(list: Vec<Permission>) -> Vec<String> {
    list.into_iter().map(|p| p.name).collect()
}

#[tokio::test]
async fn health_endpoints_answer_without_a_key() {
    let warden = Warden::start().await;
    let client = Client::builder(&warden.address).build().unwrap();

    assert_eq!(client.ping().await.unwrap().status, "ok");
    assert_eq!(client.livez().await.unwrap().status, "ok");
    let ready = client.readyz().await.unwrap();
    assert_eq!(ready.status, "ok");
    assert_eq!(ready.database.as_deref(), Some("sqlite"));
}

#[tokio::test]
async fn every_core_method_does_what_the_readme_says() {
    let warden = Warden::start().await;
    let client = warden.client();

    // Roles.
    assert!(
        client
            .create_role("admin", Some("Administrator role"))
            .await
            .unwrap()
            .created
    );
    assert!(client.create_role("editor", None).await.unwrap().created);
    assert!(client.create_role("viewer", None).await.unwrap().created);
    assert!(!client.create_role("admin", None).await.unwrap().created);
    let listed = client.list_roles().await.unwrap();
    assert_eq!(roles(listed.clone()), ["admin", "editor", "viewer"]);
    assert_eq!(listed[0].description.as_deref(), Some("Administrator role"));
    assert_eq!(listed[1].description, None);

    // Permissions.
    for (role, permission) in [
        ("admin", "manage_users"),
        ("admin", "edit_content"),
        ("editor", "edit_content"),
        ("editor", "view_content"),
        ("viewer", "view_content"),
    ] {
        assert!(
            client
                .add_permission(role, permission)
                .await
                .unwrap()
                .created
        );
    }
    assert!(
        !client
            .add_permission("admin", "manage_users")
            .await
            .unwrap()
            .created
    );
    assert!(
        client
            .role_has_permission("admin", "manage_users")
            .await
            .unwrap()
            .has_permission
    );
    assert!(
        !client
            .role_has_permission("viewer", "manage_users")
            .await
            .unwrap()
            .has_permission
    );
    assert_eq!(
        permissions(client.get_role_permissions("editor").await.unwrap()),
        ["edit_content", "view_content"]
    );

    // Memberships.
    for (user, role) in [
        ("alice@example.com", "admin"),
        ("alice@example.com", "editor"),
        ("bob@example.com", "editor"),
        ("charlie@example.com", "viewer"),
    ] {
        assert!(client.add_membership(user, role).await.unwrap().created);
    }
    assert!(
        client
            .has_membership("bob@example.com", "editor")
            .await
            .unwrap()
            .is_member
    );
    assert!(
        !client
            .has_membership("bob@example.com", "admin")
            .await
            .unwrap()
            .is_member
    );
    assert_eq!(
        users(client.get_role_members("editor").await.unwrap()),
        ["alice@example.com", "bob@example.com"]
    );

    // Checks and look-ups.
    assert!(
        client
            .user_has_permission("alice@example.com", "manage_users")
            .await
            .unwrap()
            .has_permission
    );
    assert!(
        !client
            .user_has_permission("charlie@example.com", "edit_content")
            .await
            .unwrap()
            .has_permission
    );
    assert_eq!(
        permissions(
            client
                .get_user_permissions("alice@example.com")
                .await
                .unwrap()
        ),
        ["edit_content", "manage_users", "view_content"]
    );
    assert_eq!(
        roles(client.get_user_roles("alice@example.com").await.unwrap()),
        ["admin", "editor"]
    );
    assert_eq!(
        roles(client.which_roles_can("edit_content").await.unwrap()),
        ["admin", "editor"]
    );
    assert_eq!(
        users(client.which_users_can("edit_content").await.unwrap()),
        ["alice@example.com", "bob@example.com"]
    );

    // Removals, each idempotent.
    assert!(
        client
            .remove_permission("editor", "edit_content")
            .await
            .unwrap()
            .removed
    );
    assert!(
        !client
            .remove_permission("editor", "edit_content")
            .await
            .unwrap()
            .removed
    );
    assert_eq!(
        users(client.which_users_can("edit_content").await.unwrap()),
        ["alice@example.com"]
    );
    assert!(
        client
            .remove_membership("charlie@example.com", "viewer")
            .await
            .unwrap()
            .removed
    );
    assert!(
        !client
            .remove_membership("charlie@example.com", "viewer")
            .await
            .unwrap()
            .removed
    );
    assert!(client.delete_role("viewer").await.unwrap().removed);
    assert!(!client.delete_role("viewer").await.unwrap().removed);
    assert_eq!(
        roles(client.list_roles().await.unwrap()),
        ["admin", "editor"]
    );
    assert!(client
        .which_roles_can("view_content")
        .await
        .unwrap()
        .iter()
        .all(|r| r.role != "viewer"));
}

#[tokio::test]
async fn names_with_reserved_url_characters_arrive_intact() {
    let warden = Warden::start().await;
    let client = warden.client();
    let (role, permission, user) = ("team|ops+on-call", "docs:read", "dana+ops@example.com");

    assert!(client.create_role(role, None).await.unwrap().created);
    assert!(
        client
            .add_permission(role, permission)
            .await
            .unwrap()
            .created
    );
    assert!(client.add_membership(user, role).await.unwrap().created);

    assert_eq!(roles(client.list_roles().await.unwrap()), [role]);
    assert_eq!(
        permissions(client.get_user_permissions(user).await.unwrap()),
        [permission]
    );
    assert_eq!(
        users(client.which_users_can(permission).await.unwrap()),
        [user]
    );
    assert!(
        client
            .user_has_permission(user, permission)
            .await
            .unwrap()
            .has_permission
    );
}

#[tokio::test]
async fn tenants_are_separated_by_client_key() {
    let warden = Warden::start().await;
    let (mine, theirs) = (warden.client(), warden.client());

    mine.create_role("admin", None).await.unwrap();

    assert!(theirs.list_roles().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_rotated_or_recovered_tenant_answers_only_to_its_new_key() {
    let warden = Warden::start().await;
    let client = warden.client();
    client.create_role("admin", None).await.unwrap();

    let rotated = client.rotate_client_key().await.unwrap();
    assert_eq!(rotated.migrated.roles, 1);
    assert_eq!(client.list_roles().await.unwrap_err().status(), Some(401));
    let rotated_client = Client::new(&warden.address, &rotated.new_key).unwrap();
    assert_eq!(roles(rotated_client.list_roles().await.unwrap()), ["admin"]);

    let recovery = rotated_client.get_rotate_key().await.unwrap().rotate_key;
    assert!(recovery.starts_with("rrk_"));
    let again = rotated_client.get_rotate_key().await.unwrap_err();
    assert_eq!(again.status(), Some(409));
    let keyless = Client::builder(&warden.address).build().unwrap();
    let wrong = keyless
        .recover_client_key(&format!("rrk_{}", "0".repeat(43)), None)
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(401));
    let recovered = keyless.recover_client_key(&recovery, None).await.unwrap();
    assert_ne!(recovered.rotate_key, recovery);
    assert_eq!(
        rotated_client.list_roles().await.unwrap_err().status(),
        Some(401)
    );
    let recovered_client = Client::new(&warden.address, &recovered.client_key).unwrap();
    assert_eq!(
        roles(recovered_client.list_roles().await.unwrap()),
        ["admin"]
    );
    let spent = keyless
        .recover_client_key(&recovery, None)
        .await
        .unwrap_err();
    assert_eq!(spent.status(), Some(401));
}

#[tokio::test]
async fn a_bad_key_is_refused_with_401() {
    let warden = Warden::start().await;
    let client = Client::new(&warden.address, "not-a-uuid").unwrap();

    match client.list_roles().await {
        Err(Error::Refused { status, error, .. }) => {
            assert_eq!(status, 401);
            assert!(!error.is_empty());
        }
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
    let keyless = Client::builder(&warden.address).build().unwrap();
    let err = keyless.list_roles().await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn an_unknown_role_is_refused_with_the_servers_message() {
    let warden = Warden::start().await;
    let client = warden.client();

    match client.get_role_members("ghost").await {
        Err(Error::Refused {
            status,
            message,
            error,
        }) => {
            assert_eq!((status, message.as_str()), (404, "Not Found"));
            assert_eq!(error, "role `ghost` not found");
        }
        other => panic!("expected a 404 refusal, got {other:?}"),
    }
    let err = client.add_membership("alice", "ghost").await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("role `ghost` not found"), "{err}");
}

#[tokio::test]
async fn a_bad_name_is_refused_with_400() {
    let warden = Warden::start().await;
    let client = warden.client();

    let err = client.create_role("has space", None).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 400, .. }), "{err:?}");
    let err = client.create_role("..", None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[tokio::test]
async fn a_writes_revision_makes_at_least_reads_see_it_and_a_future_revision_is_refused_with_409() {
    let warden = Warden::start().await;
    let client = warden.client();

    // Every write answers the tenant's revision after it, and revisions grow.
    let created = client.create_role("editor", None).await.unwrap();
    let granted = client.add_permission("editor", "publish").await.unwrap();
    let added = client
        .add_membership("bob@example.com", "editor")
        .await
        .unwrap();
    assert!(created.created && granted.created && added.created);
    assert!(created.revision > 0, "{created:?}");
    assert!(granted.revision > created.revision, "{granted:?}");
    assert!(added.revision > granted.revision, "{added:?}");

    // Reads at the write's revision see it: every check and every listing.
    let fresh = client.at_least(added.revision);
    assert_eq!(fresh.min_revision(), Some(added.revision));
    assert!(
        fresh
            .has_membership("bob@example.com", "editor")
            .await
            .unwrap()
            .is_member
    );
    assert!(
        fresh
            .user_has_permission("bob@example.com", "publish")
            .await
            .unwrap()
            .has_permission
    );
    assert!(
        fresh
            .role_has_permission("editor", "publish")
            .await
            .unwrap()
            .has_permission
    );
    assert_eq!(roles(fresh.list_roles().await.unwrap()), ["editor"]);
    assert_eq!(
        permissions(fresh.get_role_permissions("editor").await.unwrap()),
        ["publish"]
    );
    assert_eq!(
        users(fresh.get_role_members("editor").await.unwrap()),
        ["bob@example.com"]
    );
    assert_eq!(
        roles(fresh.get_user_roles("bob@example.com").await.unwrap()),
        ["editor"]
    );
    assert_eq!(
        permissions(fresh.get_user_permissions("bob@example.com").await.unwrap()),
        ["publish"]
    );
    assert_eq!(
        roles(fresh.which_roles_can("publish").await.unwrap()),
        ["editor"]
    );
    assert_eq!(
        users(fresh.which_users_can("publish").await.unwrap()),
        ["bob@example.com"]
    );

    // A removal answers a newer revision too, and reads at it see the removal.
    let removed = client
        .remove_membership("bob@example.com", "editor")
        .await
        .unwrap();
    assert!(removed.removed);
    assert!(removed.revision > added.revision, "{removed:?}");
    let after = fresh.at_least(removed.revision);
    assert!(
        !after
            .has_membership("bob@example.com", "editor")
            .await
            .unwrap()
            .is_member
    );
    assert!(after.which_users_can("publish").await.unwrap().is_empty());

    // A revision that does not exist is refused with 409, by every read: so the parameter is sent.
    let future = client.at_least(added.revision + 1_000_000);
    let refusals = [
        future
            .has_membership("bob@example.com", "editor")
            .await
            .map(drop),
        future
            .user_has_permission("bob@example.com", "publish")
            .await
            .map(drop),
        future
            .role_has_permission("editor", "publish")
            .await
            .map(drop),
        future.list_roles().await.map(drop),
        future.get_role_permissions("editor").await.map(drop),
        future.get_role_members("editor").await.map(drop),
        future.get_user_roles("bob@example.com").await.map(drop),
        future
            .get_user_permissions("bob@example.com")
            .await
            .map(drop),
        future.which_roles_can("publish").await.map(drop),
        future.which_users_can("publish").await.map(drop),
    ];
    for (i, refusal) in refusals.into_iter().enumerate() {
        match refusal {
            Err(err @ Error::Refused { status: 409, .. }) => assert!(!err.is_retryable()),
            other => panic!("read {i}: expected a 409 refusal, got {other:?}"),
        }
    }
    // Writes through an `at_least` client carry no `min_revision` and succeed.
    assert!(future.create_role("viewer", None).await.unwrap().created);
}

#[tokio::test]
async fn a_listing_longer_than_one_page_comes_whole() {
    let warden = Warden::start().await;
    let client = warden.client();
    client.create_role("reader", None).await.unwrap();
    let mut last = None;
    // One more than Warden's page without `limit` (1000).
    for n in 0..1001 {
        last = Some(
            client
                .add_permission("reader", &format!("doc:{n:04}"))
                .await
                .unwrap(),
        );
    }

    let all = permissions(
        client
            .at_least(last.unwrap().revision)
            .get_role_permissions("reader")
            .await
            .unwrap(),
    );

    assert_eq!(all.len(), 1001);
    assert_eq!(all.first().map(String::as_str), Some("doc:0000"));
    assert_eq!(all.last().map(String::as_str), Some("doc:1000"));
    assert!(
        all.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted, no repeats"
    );
}

#[tokio::test]
async fn role_hierarchy_is_written_read_and_followed() {
    let warden = Warden::start().await;
    let client = warden.client();
    for role in ["admin", "editor", "viewer"] {
        client.create_role(role, None).await.unwrap();
    }
    client.add_permission("viewer", "read").await.unwrap();
    client.add_permission("editor", "write").await.unwrap();
    client.add_membership("ann", "admin").await.unwrap();
    assert!(
        client
            .add_inheritance("admin", "editor")
            .await
            .unwrap()
            .created
    );
    assert!(
        client
            .add_inheritance("editor", "viewer")
            .await
            .unwrap()
            .created
    );
    assert!(
        !client
            .add_inheritance("editor", "viewer")
            .await
            .unwrap()
            .created
    );

    let cycle = client.add_inheritance("viewer", "admin").await.unwrap_err();
    assert_eq!(cycle.status(), Some(409), "{cycle}");
    let missing = client.add_inheritance("admin", "ghost").await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");

    assert!(
        client
            .user_has_permission("ann", "read")
            .await
            .unwrap()
            .has_permission
    );
    assert_eq!(
        roles(client.get_inherited_roles("admin", false).await.unwrap()),
        ["editor"]
    );
    assert_eq!(
        roles(client.get_inherited_roles("admin", true).await.unwrap()),
        ["editor", "viewer"]
    );
    assert_eq!(
        permissions(
            client
                .get_effective_role_permissions("admin")
                .await
                .unwrap()
        ),
        ["read", "write"]
    );
    assert!(permissions(client.get_role_permissions("admin").await.unwrap()).is_empty());
    assert_eq!(
        users(client.get_effective_role_members("viewer").await.unwrap()),
        ["ann"]
    );
    assert_eq!(
        roles(client.get_effective_user_roles("ann").await.unwrap()),
        ["admin", "editor", "viewer"]
    );
    assert!(
        client
            .has_effective_membership("ann", "viewer")
            .await
            .unwrap()
            .is_member
    );
    assert!(
        !client
            .has_membership("ann", "viewer")
            .await
            .unwrap()
            .is_member
    );
    assert!(
        client
            .role_has_effective_permission("admin", "read")
            .await
            .unwrap()
            .has_permission
    );

    assert!(
        client
            .remove_inheritance("admin", "editor")
            .await
            .unwrap()
            .removed
    );
    assert!(
        !client
            .remove_inheritance("admin", "editor")
            .await
            .unwrap()
            .removed
    );
    assert!(
        !client
            .user_has_permission("ann", "read")
            .await
            .unwrap()
            .has_permission
    );
}

#[tokio::test]
async fn an_expiring_membership_shows_its_expiry_and_ends() {
    let warden = Warden::start().await;
    let client = warden.client();
    client.create_role("oncall", None).await.unwrap();
    client.add_permission("oncall", "page").await.unwrap();
    let created = client
        .add_expiring_membership("ann", "oncall", warden_client::Expiry::After(1))
        .await
        .unwrap();
    assert!(created.created);
    let expires_at = created.expires_at.expect("the expiry is answered");
    let members = client.get_role_members("oncall").await.unwrap();
    assert_eq!(members[0].expires_at.as_deref(), Some(expires_at.as_str()));
    assert!(
        client
            .user_has_permission("ann", "page")
            .await
            .unwrap()
            .has_permission
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(
        !client
            .user_has_permission("ann", "page")
            .await
            .unwrap()
            .has_permission
    );
    let past = client
        .add_expiring_membership(
            "ann",
            "oncall",
            warden_client::Expiry::At("2001-01-01T00:00:00Z".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(past.status(), Some(400), "{past}");
    // Made permanent again.
    let again = client.add_membership("ann", "oncall").await.unwrap();
    assert_eq!(again.expires_at, None);
    assert!(
        client
            .user_has_permission("ann", "page")
            .await
            .unwrap()
            .has_permission
    );
}

#[tokio::test]
async fn pattern_grants_and_explanations_reach_the_client() {
    let warden = Warden::start().await;
    let client = warden.client();
    client.create_role("writer", None).await.unwrap();
    client.create_role("lead", None).await.unwrap();
    assert!(
        client
            .add_permission("writer", "docs:*")
            .await
            .unwrap()
            .created
    );
    client.add_inheritance("lead", "writer").await.unwrap();
    client.add_membership("ann", "lead").await.unwrap();
    assert!(
        client
            .user_has_permission("ann", "docs:read")
            .await
            .unwrap()
            .has_permission
    );
    let why = client
        .explain_user_permission("ann", "docs:read")
        .await
        .unwrap()
        .explanation
        .expect("an explanation");
    assert_eq!(why.inheritance, ["lead", "writer"]);
    assert_eq!(why.grant.permission, "docs:*");
    assert!(why.grant.pattern);
    assert_eq!(why.membership.role, "lead");
    let denied = client
        .explain_user_permission("ann", "other")
        .await
        .unwrap();
    assert!(!denied.has_permission && denied.explanation.is_none());
    let starred = client
        .user_has_permission("ann", "docs:*")
        .await
        .unwrap_err();
    assert_eq!(starred.status(), Some(400), "{starred}");
}

#[tokio::test]
async fn resources_and_scoped_memberships_reach_the_client() {
    let warden = Warden::start().await;
    let client = warden.client();
    let root = warden_client::NewResource::default();
    assert!(
        client
            .put_resource("folder", "7", &root)
            .await
            .unwrap()
            .created
    );
    let under = |parent: &str| warden_client::NewResource {
        parent: Some(parent.to_owned()),
        properties: None,
    };
    client
        .put_resource("folder", "8", &under("folder:7"))
        .await
        .unwrap();
    client
        .put_resource("document", "a+b|c", &under("folder:8"))
        .await
        .unwrap();
    client.put_resource("document", "43", &root).await.unwrap();
    let stored = client.get_resource("document", "a+b|c").await.unwrap();
    assert_eq!(
        (stored.resource.as_str(), stored.parent.as_deref()),
        ("document:a+b|c", Some("folder:8"))
    );
    assert_eq!(
        client.list_resources("document").await.unwrap(),
        ["document:43", "document:a+b|c"]
    );
    let cycle = client
        .put_resource("folder", "7", &under("document:a+b|c"))
        .await
        .unwrap_err();
    assert_eq!(cycle.status(), Some(409), "{cycle}");

    client.create_role("editor", None).await.unwrap();
    client.add_permission("editor", "docs:edit").await.unwrap();
    assert!(
        client
            .add_scoped_membership("ann", "editor", "folder:7", None)
            .await
            .unwrap()
            .created
    );
    let missing = client
        .add_scoped_membership("ann", "editor", "folder:404", None)
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");
    let at = |resource: &'static str| client.user_has_permission_on("ann", "docs:edit", resource);
    assert!(at("document:a+b|c").await.unwrap().has_permission);
    assert!(!at("document:43").await.unwrap().has_permission);
    let why = client
        .explain_user_permission_on("ann", "docs:edit", "document:a+b|c")
        .await
        .unwrap()
        .explanation
        .expect("an explanation");
    assert_eq!(why.membership.scope.as_deref(), Some("folder:7"));
    assert_eq!(
        client
            .get_user_resources("ann", "docs:edit", "document")
            .await
            .unwrap(),
        ["document:a+b|c"]
    );
    assert_eq!(
        client
            .which_users_can_on("docs:edit", "folder:8")
            .await
            .unwrap()[0]
            .user,
        "ann"
    );
    assert!(client
        .which_users_can("docs:edit")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        client
            .get_user_permissions_on("ann", "folder:8")
            .await
            .unwrap()[0]
            .name,
        "docs:edit"
    );
    assert_eq!(
        client.get_user_roles_on("ann", "folder:8").await.unwrap()[0].role,
        "editor"
    );
    assert_eq!(
        client
            .get_role_members_on("editor", "folder:7")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        client
            .has_scoped_membership("ann", "editor", "folder:8", true)
            .await
            .unwrap()
            .is_member
    );
    assert!(
        !client
            .has_scoped_membership("ann", "editor", "folder:8", false)
            .await
            .unwrap()
            .is_member
    );
    assert!(
        client
            .remove_scoped_membership("ann", "editor", "folder:7")
            .await
            .unwrap()
            .removed
    );
    assert!(!at("document:a+b|c").await.unwrap().has_permission);
    let busy = client.delete_resource("folder", "8").await.unwrap_err();
    assert_eq!(busy.status(), Some(409), "{busy}");
    assert!(
        client
            .delete_resource("document", "a+b|c")
            .await
            .unwrap()
            .removed
    );
}

//! Roles, grants, memberships and the questions asked of them.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

async fn creating_a_role_twice_reports_created_false(app: TestApp) {
    assert_eq!(
        app.write(Method::POST, "/api/role/admin").await,
        json!({"created": true})
    );
    assert_eq!(
        app.write(Method::POST, "/api/role/admin").await,
        json!({"created": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/roles").await,
        json!([{"role": "admin", "description": null}])
    );
}

async fn a_role_keeps_its_description(app: TestApp) {
    let (status, _) = app
        .post_json(
            "/api/role/editor",
            &json!({"description": "Content editor role"}),
        )
        .await;
    assert_eq!(status, 200);
    // A second create with another description neither fails nor overwrites.
    let (_, body) = app
        .post_json("/api/role/editor", &json!({"description": "other"}))
        .await;
    assert_eq!(
        crate::helpers::without_revision(body["data"].clone()),
        json!({"created": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/roles").await,
        json!([{"role": "editor", "description": "Content editor role"}])
    );
}

async fn grants_can_be_added_checked_listed_and_revoked(app: TestApp) {
    app.write(Method::POST, "/api/role/editor").await;
    assert_eq!(
        app.write(Method::POST, "/api/permission/editor/docs:write")
            .await,
        json!({"created": true})
    );
    assert_eq!(
        app.write(Method::POST, "/api/permission/editor/docs:write")
            .await,
        json!({"created": false})
    );
    app.write(Method::POST, "/api/permission/editor/docs:read")
        .await;
    assert_eq!(
        app.data(Method::GET, "/api/permission/editor/docs:write")
            .await,
        json!({"has_permission": true})
    );
    assert_eq!(
        app.data(Method::GET, "/api/permission/editor/docs:delete")
            .await,
        json!({"has_permission": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/editor").await,
        json!([{"name": "docs:read"}, {"name": "docs:write"}])
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/permission/editor/docs:write")
            .await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/permission/editor/docs:write")
            .await,
        json!({"removed": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/editor").await,
        json!([{"name": "docs:read"}])
    );
}

async fn memberships_can_be_added_checked_listed_and_removed(app: TestApp) {
    app.write(Method::POST, "/api/role/viewer").await;
    assert_eq!(
        app.write(Method::POST, "/api/membership/bob@example.com/viewer")
            .await,
        json!({"created": true})
    );
    assert_eq!(
        app.write(Method::POST, "/api/membership/bob@example.com/viewer")
            .await,
        json!({"created": false})
    );
    app.write(Method::POST, "/api/membership/alice@example.com/viewer")
        .await;
    assert_eq!(
        app.data(Method::GET, "/api/membership/bob@example.com/viewer")
            .await,
        json!({"is_member": true})
    );
    assert_eq!(
        app.data(Method::GET, "/api/membership/carol/viewer").await,
        json!({"is_member": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/members/viewer").await,
        json!([{"user": "alice@example.com"}, {"user": "bob@example.com"}])
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/membership/bob@example.com/viewer")
            .await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/membership/bob@example.com/viewer")
            .await,
        json!({"removed": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/members/viewer").await,
        json!([{"user": "alice@example.com"}])
    );
}

async fn a_user_reached_through_two_roles_is_listed_once(app: TestApp) {
    for role in ["a", "b"] {
        app.write(Method::POST, &format!("/api/role/{role}")).await;
        app.write(Method::POST, &format!("/api/permission/{role}/shared"))
            .await;
        app.write(Method::POST, &format!("/api/membership/u1/{role}"))
            .await;
    }
    app.write(Method::POST, "/api/permission/b/only_b").await;
    assert_eq!(
        app.data(Method::GET, "/api/which_users_can/shared").await,
        json!([{"user": "u1"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_permissions/u1").await,
        json!([{"name": "only_b"}, {"name": "shared"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_roles_can/shared").await,
        json!([{"role": "a", "description": null}, {"role": "b", "description": null}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_roles/u1").await,
        json!([{"role": "a", "description": null}, {"role": "b", "description": null}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/u1/only_b").await,
        json!({"has_permission": true})
    );
}

async fn writes_under_a_missing_role_are_404_and_write_nothing(app: TestApp) {
    for (method, path) in [
        (Method::POST, "/api/permission/ghost/read"),
        (Method::DELETE, "/api/permission/ghost/read"),
        (Method::POST, "/api/membership/alice/ghost"),
        (Method::DELETE, "/api/membership/alice/ghost"),
    ] {
        let (status, body) = app.call(method.clone(), path).await;
        let detail = crate::helpers::assert_error_envelope(status, &body, 404);
        assert_eq!(detail, "role `ghost` not found", "{method} {path}");
    }
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
    assert_eq!(
        app.data(Method::GET, "/api/user_roles/alice").await,
        json!([])
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_roles_can/read").await,
        json!([])
    );
}

async fn role_scoped_reads_of_a_missing_role_are_404(app: TestApp) {
    for path in [
        "/api/members/ghost",
        "/api/role_permissions/ghost",
        "/api/permission/ghost/read",
        "/api/membership/alice/ghost",
    ] {
        let (status, body) = app.get(path).await;
        crate::helpers::assert_error_envelope(status, &body, 404);
    }
}

async fn an_existing_but_empty_role_lists_nothing(app: TestApp) {
    app.write(Method::POST, "/api/role/empty").await;
    assert_eq!(app.data(Method::GET, "/api/members/empty").await, json!([]));
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/empty").await,
        json!([])
    );
}

async fn user_scoped_reads_of_an_unknown_user_are_empty(app: TestApp) {
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/nobody/read")
            .await,
        json!({"has_permission": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_permissions/nobody").await,
        json!([])
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_roles/nobody").await,
        json!([])
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_users_can/read").await,
        json!([])
    );
}

async fn deleting_a_role_removes_its_grants_and_memberships(app: TestApp) {
    app.write(Method::POST, "/api/role/admin").await;
    app.write(Method::POST, "/api/permission/admin/manage")
        .await;
    app.write(Method::POST, "/api/membership/alice/admin").await;
    assert_eq!(
        app.write(Method::DELETE, "/api/role/admin").await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/role/admin").await,
        json!({"removed": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_roles/alice").await,
        json!([])
    );
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/alice/manage")
            .await,
        json!({"has_permission": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_roles_can/manage").await,
        json!([])
    );
    // Re-creating the role does not bring the old grants or members back.
    app.write(Method::POST, "/api/role/admin").await;
    assert_eq!(app.data(Method::GET, "/api/members/admin").await, json!([]));
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/admin").await,
        json!([])
    );
}

async fn names_are_percent_decoded_from_the_path(app: TestApp) {
    app.write(Method::POST, "/api/role/ops").await;
    app.write(Method::POST, "/api/membership/alice%40example.com/ops")
        .await;
    assert_eq!(
        app.data(Method::GET, "/api/members/ops").await,
        json!([{"user": "alice@example.com"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/membership/alice@example.com/ops")
            .await,
        json!({"is_member": true})
    );
}

async fn concurrent_duplicate_creates_end_with_exactly_one_row(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let attempts = 24;
    let run = |path: &'static str| {
        let tasks: Vec<_> = (0..attempts)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { app.post(path).await })
            })
            .collect();
        async move {
            let mut created = 0;
            for task in tasks {
                let (status, body) = task.await.expect("task");
                assert_eq!(status, 200, "{body}");
                if body["data"]["created"] == true {
                    created += 1;
                }
            }
            created
        }
    };
    assert_eq!(run("/api/role/racer").await, 1);
    assert_eq!(run("/api/permission/racer/go").await, 1);
    assert_eq!(run("/api/membership/zed/racer").await, 1);
    assert_eq!(
        app.data(Method::GET, "/api/roles").await,
        json!([{"role": "racer", "description": null}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/members/racer").await,
        json!([{"user": "zed"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/racer").await,
        json!([{"name": "go"}])
    );
}

async fn data_survives_a_restart_on_the_same_database(app: TestApp) {
    app.write(Method::POST, "/api/role/durable").await;
    app.write(Method::POST, "/api/membership/dora/durable")
        .await;
    // A second instance on the same database (as after a restart) sees the same tenant and data.
    let other = app.spawn_another(&[]).await;
    let response = app
        .client
        .get(format!("{other}/api/members/durable"))
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request");
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([{"user": "dora"}]));
}

crate::on_both_backends!(
    creating_a_role_twice_reports_created_false,
    a_role_keeps_its_description,
    grants_can_be_added_checked_listed_and_revoked,
    memberships_can_be_added_checked_listed_and_removed,
    a_user_reached_through_two_roles_is_listed_once,
    writes_under_a_missing_role_are_404_and_write_nothing,
    role_scoped_reads_of_a_missing_role_are_404,
    an_existing_but_empty_role_lists_nothing,
    user_scoped_reads_of_an_unknown_user_are_empty,
    deleting_a_role_removes_its_grants_and_memberships,
    names_are_percent_decoded_from_the_path,
    concurrent_duplicate_creates_end_with_exactly_one_row,
    data_survives_a_restart_on_the_same_database,
);

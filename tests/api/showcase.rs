//! The seed's showcase flow, end to end.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

async fn the_seed_showcase_flow_answers_as_documented(app: TestApp) {
    for (role, description) in [
        ("admin", "Administrator role"),
        ("editor", "Content editor role"),
        ("viewer", "Read-only role"),
    ] {
        let (status, body) = app
            .post_json(
                &format!("/api/role/{role}"),
                &json!({"description": description}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            crate::helpers::without_revision(body["data"].clone()),
            json!({"created": true})
        );
    }
    for (role, permission) in [
        ("admin", "manage_users"),
        ("admin", "edit_content"),
        ("admin", "view_content"),
        ("editor", "edit_content"),
        ("editor", "view_content"),
        ("viewer", "view_content"),
    ] {
        app.data(
            Method::POST,
            &format!("/api/permission/{role}/{permission}"),
        )
        .await;
    }
    for (user, role) in [
        ("alice@example.com", "admin"),
        ("bob@example.com", "editor"),
        ("charlie@example.com", "viewer"),
    ] {
        app.write(Method::POST, &format!("/api/membership/{user}/{role}"))
            .await;
    }

    let check = |path: &'static str| app.data(Method::GET, path);
    assert_eq!(
        check("/api/has_permission/alice@example.com/manage_users").await,
        json!({"has_permission": true})
    );
    assert_eq!(
        check("/api/has_permission/charlie@example.com/edit_content").await,
        json!({"has_permission": false})
    );
    assert_eq!(
        check("/api/membership/bob@example.com/editor").await,
        json!({"is_member": true})
    );
    assert_eq!(
        check("/api/permission/viewer/view_content").await,
        json!({"has_permission": true})
    );
    assert_eq!(
        check("/api/user_permissions/alice@example.com").await,
        json!([{"name": "edit_content"}, {"name": "manage_users"}, {"name": "view_content"}])
    );
    assert_eq!(
        check("/api/user_roles/bob@example.com").await,
        json!([{"role": "editor", "description": "Content editor role"}])
    );
    assert_eq!(
        check("/api/which_users_can/edit_content").await,
        json!([{"user": "alice@example.com"}, {"user": "bob@example.com"}])
    );
    assert_eq!(
        check("/api/which_roles_can/manage_users").await,
        json!([{"role": "admin", "description": "Administrator role"}])
    );
    assert_eq!(
        check("/api/members/admin").await,
        json!([{"user": "alice@example.com"}])
    );
    assert_eq!(
        check("/api/role_permissions/editor").await,
        json!([{"name": "edit_content"}, {"name": "view_content"}])
    );
    assert_eq!(
        check("/api/roles").await,
        json!([
            {"role": "admin", "description": "Administrator role"},
            {"role": "editor", "description": "Content editor role"},
            {"role": "viewer", "description": "Read-only role"},
        ])
    );

    assert_eq!(
        app.write(Method::DELETE, "/api/permission/editor/edit_content")
            .await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/membership/charlie@example.com/viewer")
            .await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/role/viewer").await,
        json!({"removed": true})
    );
    assert_eq!(
        check("/api/which_users_can/edit_content").await,
        json!([{"user": "alice@example.com"}])
    );
    assert_eq!(
        check("/api/which_roles_can/view_content").await,
        json!([
            {"role": "admin", "description": "Administrator role"},
            {"role": "editor", "description": "Content editor role"},
        ])
    );
}

crate::on_both_backends!(the_seed_showcase_flow_answers_as_documented);

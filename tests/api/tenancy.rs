//! Client keys: who may call, and that each key sees only its own data.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error_envelope, new_key, read, TestApp};

async fn one_tenant_cannot_see_or_change_another_tenants_data(app: TestApp) {
    app.write(Method::POST, "/api/role/admin").await;
    app.write(Method::POST, "/api/permission/admin/secret:read")
        .await;
    app.write(Method::POST, "/api/membership/alice/admin").await;

    let intruder = new_key();
    let as_intruder = |method: Method, path: &'static str| {
        let app = &app;
        let intruder = intruder.clone();
        async move { app.call_as(&intruder, method, path).await }
    };
    // Reads: nothing of the first tenant is visible, by any endpoint.
    for (path, expected) in [
        ("/api/roles", json!([])),
        ("/api/user_roles/alice", json!([])),
        ("/api/user_permissions/alice", json!([])),
        ("/api/which_roles_can/secret:read", json!([])),
        ("/api/which_users_can/secret:read", json!([])),
        (
            "/api/has_permission/alice/secret:read",
            json!({"has_permission": false}),
        ),
    ] {
        let (status, body) = as_intruder(Method::GET, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["data"], expected, "{path}");
    }
    for path in [
        "/api/members/admin",
        "/api/role_permissions/admin",
        "/api/permission/admin/secret:read",
        "/api/membership/alice/admin",
    ] {
        let (status, body) = as_intruder(Method::GET, path).await;
        assert_error_envelope(status, &body, 404);
    }
    // Writes: the other tenant's role is not there to change.
    let (status, body) = as_intruder(Method::DELETE, "/api/role/admin").await;
    assert_eq!(status, 200);
    assert_eq!(
        crate::helpers::without_revision(body["data"].clone()),
        json!({"removed": false})
    );
    for (method, path) in [
        (Method::POST, "/api/permission/admin/evil"),
        (Method::DELETE, "/api/permission/admin/secret:read"),
        (Method::POST, "/api/membership/mallory/admin"),
        (Method::DELETE, "/api/membership/alice/admin"),
    ] {
        let (status, body) = as_intruder(method, path).await;
        assert_error_envelope(status, &body, 404);
    }
    // Creating a role of the same name makes the intruder's own role, separate from the first tenant's.
    let (_, body) = as_intruder(Method::POST, "/api/role/admin").await;
    assert_eq!(
        crate::helpers::without_revision(body["data"].clone()),
        json!({"created": true})
    );

    // The first tenant's data is untouched.
    assert_eq!(
        app.data(Method::GET, "/api/members/admin").await,
        json!([{"user": "alice"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/admin").await,
        json!([{"name": "secret:read"}])
    );
}

async fn the_same_key_in_upper_case_is_the_same_tenant(app: TestApp) {
    app.write(Method::POST, "/api/role/shouty").await;
    let upper = app.key.to_uppercase();
    let (status, body) = app.call_as(&upper, Method::GET, "/api/roles").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"],
        json!([{"role": "shouty", "description": null}])
    );
}

async fn requests_without_a_valid_v4_key_are_401(app: TestApp) {
    let url = app.url("/api/roles");
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("basic scheme", Some(format!("Basic {}", app.key))),
        ("bare key", Some(app.key.clone())),
        ("empty bearer", Some("Bearer ".into())),
        (
            "nil uuid",
            Some("Bearer 00000000-0000-0000-0000-000000000000".into()),
        ),
        (
            "version 1",
            Some("Bearer 6ba7b810-9dad-11d1-80b4-00c04fd430c8".into()),
        ),
        ("not a uuid", Some("Bearer hello".into())),
        ("sql in key", Some("Bearer ' OR '1'='1".into())),
        (
            "uuid without hyphens",
            Some(format!("Bearer {}", app.key.replace('-', ""))),
        ),
        (
            "two keys",
            Some(format!("Bearer {} {}", app.key, new_key())),
        ),
    ];
    for (case, header) in cases {
        let mut request = app.client.post(format!("{}/api/role/x", app.address));
        if let Some(header) = &header {
            request = request.header("Authorization", header);
        }
        let (status, body) = read(request.send().await.expect("sent")).await;
        assert_error_envelope(status, &body, 401);
        let _ = case;
    }
    // Nothing was written by any of them.
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
    let response = app.client.get(url).send().await.expect("sent");
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

async fn ping_needs_no_key(app: TestApp) {
    let (status, body) = read(app.client.get(app.url("/ping")).send().await.expect("sent")).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["code"], 200);
}

crate::on_both_backends!(
    one_tenant_cannot_see_or_change_another_tenants_data,
    the_same_key_in_upper_case_is_the_same_tenant,
    requests_without_a_valid_v4_key_are_401,
    ping_needs_no_key,
);

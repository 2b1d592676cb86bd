//! Strict users (`auth` 3.7.1's, `PUT /api/settings {"strict_users": true}`): a user without an active API key
//! cannot be given a role (409 `user_not_key_backed`) and every check about them answers `false` with that
//! `reason`, on every instance, as keys are created, expire and are revoked.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, TestApp};
use crate::user_support::{ok, put_user, send};

async fn strict(app: &TestApp, on: bool) {
    let settings = ok(
        app,
        Method::PUT,
        "/api/settings",
        Some(&json!({ "strict_users": on })),
    )
    .await;
    assert_eq!(settings["strict_users"], on);
}

async fn new_key_for(app: &TestApp, user: &str, body: Option<Value>) -> (String, String) {
    let created = ok(
        app,
        Method::POST,
        &format!("/api/apikeys/user/{user}"),
        body.as_ref(),
    )
    .await;
    (
        created["api_key"].as_str().unwrap().to_owned(),
        created["key_id"].as_str().unwrap().to_owned(),
    )
}

async fn editor_role(app: &TestApp) {
    app.data(Method::POST, "/api/role/editor").await;
    app.data(Method::POST, "/api/permission/editor/edit").await;
}

async fn get_data_on(app: &TestApp, base: &str, path: &str) -> Value {
    let (status, body) = app.call_on(base, Method::GET, path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn off_by_default_and_a_setting_that_round_trips(app: TestApp) {
    let settings = ok(&app, Method::GET, "/api/settings", None).await;
    assert_eq!(settings["strict_users"], false);
    editor_role(&app).await;
    // Off: the seed document's behaviour, no key needed.
    app.data(Method::POST, "/api/membership/ann/editor").await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(answer, json!({"has_permission": true}));

    strict(&app, true).await;
    let settings = ok(&app, Method::GET, "/api/settings", None).await;
    assert_eq!(settings["strict_users"], true);
    // `null` puts it back to the default; a non-boolean is refused.
    let reset = ok(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"strict_users": null})),
    )
    .await;
    assert_eq!(reset["strict_users"], false);
    let (status, body) = send(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"strict_users": "yes"})),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(
        ok(&app, Method::GET, "/api/settings", None).await["strict_users"],
        false
    );
}

async fn users_without_a_key_get_no_role_and_negative_checks(app: TestApp) {
    editor_role(&app).await;
    app.data(Method::POST, "/api/membership/old/editor").await;
    strict(&app, true).await;

    // A membership for a user without a key: 409 with the reason, and nothing written.
    let (status, body) = send(&app, Method::POST, "/api/membership/ann/editor", None).await;
    let detail = assert_error_envelope(status, &body, 409);
    assert_eq!(body["reason"], "user_not_key_backed");
    assert!(detail.contains("/api/apikeys/user/ann"), "{detail}");
    let members = app.data(Method::GET, "/api/members/editor").await;
    assert!(!members.to_string().contains("ann"), "{members}");

    // A member from before strict mode, without a key: negative answers with the reason.
    let answer = app.data(Method::GET, "/api/has_permission/old/edit").await;
    assert_eq!(
        answer,
        json!({"has_permission": false, "reason": "user_not_key_backed"})
    );
    let can_run = app
        .data(Method::GET, "/api/workflow/user/old/can_run/edit")
        .await;
    assert_eq!(
        can_run,
        json!({"has_permission": false, "reason": "user_not_key_backed"})
    );
    let permissions = app.data(Method::GET, "/api/user_permissions/old").await;
    assert_eq!(permissions, json!([]));
    let membership = app.data(Method::GET, "/api/membership/old/editor").await;
    assert_eq!(
        membership,
        json!({"is_member": false, "reason": "user_not_key_backed"})
    );
    // Removal is never gated, so revocation always works.
    app.data(Method::DELETE, "/api/membership/old/editor").await;

    // With a key: the membership is accepted and checks answer from the roles, without a reason.
    let (key, key_id) = new_key_for(&app, "ann", None).await;
    app.data(Method::POST, "/api/membership/ann/editor").await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(answer, json!({"has_permission": true}));
    let membership = app.data(Method::GET, "/api/membership/ann/editor").await;
    assert_eq!(membership, json!({"is_member": true}));
    // A genuine denial has no reason.
    let answer = app
        .data(Method::GET, "/api/has_permission/ann/publish")
        .await;
    assert_eq!(answer, json!({"has_permission": false}));
    let checked = ok(
        &app,
        Method::POST,
        "/api/apikeys/check_permission",
        Some(&json!({"api_key": key, "permission": "edit"})),
    )
    .await;
    assert_eq!(checked["has_permission"], true);

    // Revoking the key makes the same checks negative at once.
    ok(
        &app,
        Method::DELETE,
        &format!("/api/apikeys/user/ann/{key_id}"),
        None,
    )
    .await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(
        answer,
        json!({"has_permission": false, "reason": "user_not_key_backed"})
    );

    // Turning strict users off restores the roles' answer.
    strict(&app, false).await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(answer, json!({"has_permission": true}));
}

async fn a_key_that_expires_stops_backing_its_user(app: TestApp) {
    editor_role(&app).await;
    strict(&app, true).await;
    let (_, key_id) = new_key_for(&app, "ann", None).await;
    app.data(Method::POST, "/api/membership/ann/editor").await;
    // Shorten the only key to a moment from now; once it passes, the user is no longer key-backed.
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    ok(
        &app,
        Method::PATCH,
        &format!("/api/apikeys/user/ann/{key_id}"),
        Some(&json!({ "expires_at": soon })),
    )
    .await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(answer, json!({"has_permission": true}));
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(
        answer,
        json!({"has_permission": false, "reason": "user_not_key_backed"})
    );
}

async fn a_sensitive_change_voids_the_keys_and_with_them_the_checks(app: TestApp) {
    editor_role(&app).await;
    strict(&app, true).await;
    put_user(&app, "ann", json!({})).await;
    new_key_for(&app, "ann", None).await;
    app.data(Method::POST, "/api/membership/ann/editor").await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(answer, json!({"has_permission": true}));
    ok(&app, Method::POST, "/api/users/ann/sensitive-change", None).await;
    let answer = app.data(Method::GET, "/api/has_permission/ann/edit").await;
    assert_eq!(
        answer,
        json!({"has_permission": false, "reason": "user_not_key_backed"})
    );
}

async fn another_instance_follows_keys_and_the_setting(app: TestApp) {
    let other = app.spawn_another(&[]).await;
    editor_role(&app).await;
    app.data(Method::POST, "/api/membership/ann/editor").await;
    // The other instance has the tenant loaded before strict mode is turned on.
    let answer = get_data_on(&app, &other, "/api/has_permission/ann/edit").await;
    assert_eq!(answer, json!({"has_permission": true}));

    strict(&app, true).await;
    let refused = json!({"has_permission": false, "reason": "user_not_key_backed"});
    let mut seen = false;
    for _ in 0..100 {
        if get_data_on(&app, &other, "/api/has_permission/ann/edit").await == refused {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the other instance never applied strict users");

    // A key made here lets the other instance add a membership at once (its refusal is confirmed against the
    // database), and its checks follow.
    new_key_for(&app, "bob", None).await;
    let (status, body) = app
        .call_on(&other, Method::POST, "/api/membership/bob/editor")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut seen = false;
    for _ in 0..100 {
        let answer = get_data_on(&app, &other, "/api/has_permission/bob/edit").await;
        if answer == json!({"has_permission": true}) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the other instance never saw bob's key");
}

async fn racing_memberships_and_key_creation_never_500(app: TestApp) {
    editor_role(&app).await;
    strict(&app, true).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let client = app.client.clone();
        let key = app.key.clone();
        let base = app.url("");
        tasks.push(tokio::spawn(async move {
            // Each user gets both a key creation and a membership, racing each other.
            let user = format!("u{}", (i / 2) % 8);
            let path = if i % 2 == 0 {
                format!("{base}/api/apikeys/user/{user}")
            } else {
                format!("{base}/api/membership/{user}/editor")
            };
            let response = client
                .post(path)
                .bearer_auth(key)
                .send()
                .await
                .expect("request");
            response.status()
        }));
    }
    for task in tasks {
        let status = task.await.expect("task");
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status}"
        );
    }
    // Every user has a key now, so a membership settles; and every member holds a key.
    app.data(Method::POST, "/api/membership/u0/editor").await;
    let members = app.data(Method::GET, "/api/members/editor").await;
    let members = members.as_array().expect("members").clone();
    assert!(!members.is_empty());
    for member in members {
        let user = member["user"].as_str().expect("member name").to_owned();
        let keys = ok(
            &app,
            Method::GET,
            &format!("/api/apikeys/user/{user}"),
            None,
        )
        .await;
        assert!(keys["count"].as_u64().unwrap_or(0) > 0, "{user} has no key");
    }
}

crate::on_both_backends!(
    off_by_default_and_a_setting_that_round_trips,
    users_without_a_key_get_no_role_and_negative_checks,
    a_key_that_expires_stops_backing_its_user,
    a_sensitive_change_voids_the_keys_and_with_them_the_checks,
    another_instance_follows_keys_and_the_setting,
    racing_memberships_and_key_creation_never_500,
);

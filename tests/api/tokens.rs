//! Single-use tokens and sensitive changes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{ok, parse_time, put_user, run_sql, send, send_as, without_timestamp};

async fn issue(app: &TestApp, user: &str) -> String {
    ok(
        app,
        Method::POST,
        &format!("/api/users/{user}/tokens"),
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn validate(app: &TestApp, token: &str) -> (StatusCode, Value) {
    send(
        app,
        Method::POST,
        "/api/tokens/validate",
        Some(&json!({"token": token})),
    )
    .await
}

async fn a_token_validates_exactly_once(app: TestApp) {
    put_user(&app, "amy.b", json!({})).await;
    ok(&app, Method::POST, "/api/role/viewer", None).await;
    ok(&app, Method::POST, "/api/membership/amy.b/viewer", None).await;
    let answer = ok(
        &app,
        Method::POST,
        "/api/users/amy.b/tokens",
        Some(&json!({"ttl_minutes": 15})),
    )
    .await;
    let token = answer["token"].as_str().unwrap();
    let (user, secret) = token.rsplit_once('.').unwrap();
    assert_eq!(user, "amy.b");
    assert!(secret.len() >= 43, "256 bits");
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let expires = parse_time(&answer["expires_at"]);
    assert!(((expires - chrono::Utc::now()).num_seconds() - 15 * 60).abs() < 30);
    let (status, body) = validate(&app, token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"user_id": "amy.b", "status": "allowed", "roles": ["viewer"]})
    );
    let (status, body) = validate(&app, token).await;
    assert_error_envelope(status, &body, 401);
    for ttl in [0, 1441, -1] {
        let (code, body) = send(
            &app,
            Method::POST,
            "/api/users/amy.b/tokens",
            Some(&json!({"ttl_minutes": ttl})),
        )
        .await;
        assert_error_envelope(code, &body, 400);
    }
}

async fn concurrent_validations_of_one_token_let_exactly_one_through(app: TestApp) {
    put_user(&app, "bo", json!({})).await;
    let second = app.spawn_another(&[]).await;
    for _ in 0..3 {
        let token = issue(&app, "bo").await;
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let client = app.client.clone();
                let key = app.key.clone();
                let token = token.clone();
                let base = if i % 2 == 0 {
                    app.address.clone()
                } else {
                    second.clone()
                };
                tokio::spawn(async move {
                    client
                        .post(format!("{base}/api/tokens/validate"))
                        .bearer_auth(key)
                        .json(&json!({"token": token}))
                        .send()
                        .await
                        .expect("sent")
                        .status()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.expect("task"));
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 401),
            "{statuses:?}"
        );
    }
}

async fn used_expired_revoked_wrong_and_foreign_tokens_get_the_same_answer(app: TestApp) {
    put_user(&app, "cy", json!({})).await;
    let mut failures = Vec::new();
    // Used.
    let used = issue(&app, "cy").await;
    assert_eq!(validate(&app, &used).await.0, 200);
    failures.push(validate(&app, &used).await);
    // Revoked by a newer token, then by DELETE.
    let replaced = issue(&app, "cy").await;
    let revoked = issue(&app, "cy").await;
    failures.push(validate(&app, &replaced).await);
    assert_eq!(
        ok(&app, Method::DELETE, "/api/users/cy/tokens", None).await,
        json!({"revoked": 1})
    );
    failures.push(validate(&app, &revoked).await);
    // Expired.
    let expired = issue(&app, "cy").await;
    run_sql(&app, "UPDATE user_tokens SET expires_at = 1").await;
    failures.push(validate(&app, &expired).await);
    // Wrong: altered secret, another user's name, garbage, empty.
    let fresh = issue(&app, "cy").await;
    let mut altered = fresh.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    failures.push(validate(&app, &altered).await);
    failures.push(validate(&app, &fresh.replacen("cy.", "zz.", 1)).await);
    failures.push(validate(&app, "' OR '1'='1").await);
    failures.push(validate(&app, "").await);
    // Another tenant presenting this tenant's valid token.
    let other = new_key();
    failures.push(
        send_as(
            &app,
            &other,
            Method::POST,
            "/api/tokens/validate",
            Some(&json!({"token": fresh})),
        )
        .await,
    );
    let reference = without_timestamp(failures[0].1.clone());
    for (status, body) in failures {
        assert_error_envelope(status, &body, 401);
        assert_eq!(without_timestamp(body), reference);
    }
    // The other tenant's attempt did not spend it.
    assert_eq!(validate(&app, &fresh).await.0, 200);
}

async fn only_allowed_enabled_users_get_tokens(app: TestApp) {
    put_user(&app, "den", json!({"status": "denied"})).await;
    put_user(&app, "dis", json!({"enabled": false})).await;
    for user in ["den", "dis"] {
        let (code, body) = send(
            &app,
            Method::POST,
            &format!("/api/users/{user}/tokens"),
            None,
        )
        .await;
        assert_error_envelope(code, &body, 403);
    }
    let (code, body) = send(&app, Method::POST, "/api/users/ghost/tokens", None).await;
    assert_error_envelope(code, &body, 404);
}

async fn a_sensitive_change_voids_earlier_tokens_and_sessions(app: TestApp) {
    put_user(&app, "eve", json!({})).await;
    let session = |perm: &'static str| {
        let app = &app;
        async move {
            ok(
                app,
                Method::POST,
                "/api/sessions",
                Some(&json!({"user_id": "eve", "permissions": [perm]})),
            )
            .await["session_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // The explicit endpoint.
    let token = issue(&app, "eve").await;
    let id = session("a").await;
    let answer = ok(&app, Method::POST, "/api/users/eve/sensitive-change", None).await;
    parse_time(&answer["sensitive_changed_at"]);
    assert_error_envelope(
        validate(&app, &token).await.0,
        &validate(&app, &token).await.1,
        401,
    );
    let (code, body) = send(&app, Method::GET, &format!("/api/sessions/{id}"), None).await;
    assert_error_envelope(code, &body, 404);
    // New ones work after it.
    let token = issue(&app, "eve").await;
    let id = session("b").await;
    ok(&app, Method::GET, &format!("/api/sessions/{id}"), None).await;
    // Disabling is a sensitive change too; re-enabling does not bring anything back.
    put_user(&app, "eve", json!({"enabled": false})).await;
    put_user(&app, "eve", json!({"enabled": true})).await;
    assert_eq!(validate(&app, &token).await.0, 401);
    let (code, body) = send(&app, Method::GET, &format!("/api/sessions/{id}"), None).await;
    assert_error_envelope(code, &body, 404);
    // A profile-only change is not sensitive.
    let token = issue(&app, "eve").await;
    put_user(&app, "eve", json!({"profile": {"x": 1}})).await;
    assert_eq!(validate(&app, &token).await.0, 200);
    let (code, body) = send(
        &app,
        Method::POST,
        "/api/users/ghost/sensitive-change",
        None,
    )
    .await;
    assert_error_envelope(code, &body, 404);
}

crate::on_both_backends!(
    a_token_validates_exactly_once,
    concurrent_validations_of_one_token_let_exactly_one_through,
    used_expired_revoked_wrong_and_foreign_tokens_get_the_same_answer,
    only_allowed_enabled_users_get_tokens,
    a_sensitive_change_voids_earlier_tokens_and_sessions,
);

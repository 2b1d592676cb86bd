//! Password credentials (websauna accounts): set with `PUT /api/users/{user}/password`, used by
//! `POST /api/users/{user}/login` for a JWT pair.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{ok, put_user, send, send_as, without_timestamp};

const PASSWORD: &str = "correct horse battery";

/// An allowed user in role `staff` with a password.
async fn member_with_password(app: &TestApp, user: &str) {
    put_user(app, user, json!({})).await;
    app.write(Method::POST, "/api/role/staff").await;
    app.write(Method::POST, &format!("/api/membership/{user}/staff"))
        .await;
    let set = ok(
        app,
        Method::PUT,
        &format!("/api/users/{user}/password"),
        Some(&json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(set["password_set"], true);
}

async fn login(app: &TestApp, user: &str, password: &str) -> (StatusCode, Value) {
    send(
        app,
        Method::POST,
        &format!("/api/users/{user}/login"),
        Some(&json!({ "password": password })),
    )
    .await
}

async fn a_password_login_answers_a_jwt_pair_and_is_recorded(app: TestApp) {
    member_with_password(&app, "ann").await;
    let (status, body) = login(&app, "ann", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["data"]["access_token"].as_str().unwrap();
    assert!(body["data"]["refresh_token"].is_string());
    let verified = ok(
        &app,
        Method::POST,
        "/api/token/verify",
        Some(&json!({ "token": token })),
    )
    .await;
    assert_eq!(verified["claims"]["sub"], "ann");
    let user = ok(&app, Method::GET, "/api/users/ann", None).await;
    assert_eq!(user["has_password"], true);
    assert!(user["last_login_at"].is_string());
    assert_eq!(user["last_login_ip"], "127.0.0.1");
    // Only a PHC string is stored, never the password.
    let stored = app.raw_strings("SELECT password_hash FROM users").await;
    assert!(stored[0].starts_with("$argon2id$v=19$"), "{}", stored[0]);
    assert!(!stored[0].contains(PASSWORD));
    let trail = app
        .raw_strings("SELECT action FROM audit_log")
        .await
        .join(" ");
    assert!(
        trail.contains("user.password") && trail.contains("user.login"),
        "{trail}"
    );
    assert!(!trail.contains(PASSWORD));
}

async fn wrong_passwords_and_unknown_users_get_one_answer(app: TestApp) {
    member_with_password(&app, "ann").await;
    put_user(&app, "nopass", json!({})).await;
    let (s1, wrong) = login(&app, "ann", "not it at all").await;
    let (s2, unknown) = login(&app, "ghost", PASSWORD).await;
    let (s3, without) = login(&app, "nopass", PASSWORD).await;
    for (status, body) in [(s1, &wrong), (s2, &unknown), (s3, &without)] {
        assert_error_envelope(status, body, 401);
    }
    assert_eq!(without_timestamp(wrong.clone()), without_timestamp(unknown));
    assert_eq!(without_timestamp(wrong), without_timestamp(without));
    // Another tenant does not know ann.
    let (status, body) = send_as(
        &app,
        &new_key(),
        Method::POST,
        "/api/users/ann/login",
        Some(&json!({ "password": PASSWORD })),
    )
    .await;
    assert_error_envelope(status, &body, 401);
}

async fn repeated_failures_back_off_per_user(app: TestApp) {
    member_with_password(&app, "ann").await;
    member_with_password(&app, "bob").await;
    for _ in 0..5 {
        let (status, _) = login(&app, "ann", "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app
        .client
        .post(app.url("/api/users/ann/login"))
        .bearer_auth(&app.key)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    // Others are not held up, and unknown names back off alike.
    let (status, _) = login(&app, "bob", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..5 {
        login(&app, "ghost", "guess").await;
    }
    let (status, _) = login(&app, "ghost", "guess").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // After the wait, the right password works and clears the record.
    tokio::time::sleep(std::time::Duration::from_millis(1100 * wait)).await;
    let (status, body) = login(&app, "ann", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_password_change_is_a_sensitive_change(app: TestApp) {
    member_with_password(&app, "ann").await;
    let session = ok(
        &app,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "ann", "permissions": ["read"]})),
    )
    .await;
    let (_, pair) = login(&app, "ann", PASSWORD).await;
    let refresh = pair["data"]["refresh_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    ok(
        &app,
        Method::PUT,
        "/api/users/ann/password",
        Some(&json!({"password": "a brand new secret"})),
    )
    .await;
    let id = session["session_id"].as_str().unwrap();
    let (status, _) = send(&app, Method::GET, &format!("/api/sessions/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "sessions are void");
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/token/refresh",
        Some(&json!({ "refresh_token": refresh })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "JWT families are revoked");
    let (status, _) = login(&app, "ann", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password is gone");
    let (status, _) = login(&app, "ann", "a brand new secret").await;
    assert_eq!(status, StatusCode::OK);
}

async fn only_allowed_enabled_and_if_required_activated_users_log_in(app: TestApp) {
    member_with_password(&app, "ann").await;
    put_user(&app, "ann", json!({"status": "denied"})).await;
    // Denying is a sensitive change too, but the password stays.
    let (status, body) = login(&app, "ann", PASSWORD).await;
    assert_error_envelope(status, &body, 403);
    put_user(&app, "ann", json!({})).await;
    let settings = ok(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"require_activation": true})),
    )
    .await;
    assert_eq!(settings["require_activation"], true);
    let (status, body) = login(&app, "ann", PASSWORD).await;
    let detail = assert_error_envelope(status, &body, 403);
    assert!(detail.contains("not activated"), "{detail}");
    let code = ok(&app, Method::POST, "/api/users/ann/activation", None).await;
    ok(
        &app,
        Method::POST,
        "/api/users/ann/activate",
        Some(&json!({"code": code["code"]})),
    )
    .await;
    let (status, body) = login(&app, "ann", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A user without a role gets no JWT.
    put_user(&app, "solo", json!({})).await;
    ok(
        &app,
        Method::PUT,
        "/api/users/solo/password",
        Some(&json!({"password": PASSWORD})),
    )
    .await;
    ok(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"require_activation": false})),
    )
    .await;
    let (status, body) = login(&app, "solo", PASSWORD).await;
    assert_error_envelope(status, &body, 403);
}

async fn password_input_is_validated(app: TestApp) {
    put_user(&app, "ann", json!({})).await;
    for bad in [
        json!({"password": "short"}),
        json!({"password": "x".repeat(1025)}),
        json!({"password": 12345678}),
        json!({}),
    ] {
        let (status, body) = send(&app, Method::PUT, "/api/users/ann/password", Some(&bad)).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {status} {body}"
        );
    }
    let (status, body) = send(
        &app,
        Method::PUT,
        "/api/users/ghost/password",
        Some(&json!({"password": PASSWORD})),
    )
    .await;
    assert_error_envelope(status, &body, 404);
    let user = ok(&app, Method::GET, "/api/users/ann", None).await;
    assert_eq!(user["has_password"], false);
}

crate::on_both_backends!(
    a_password_login_answers_a_jwt_pair_and_is_recorded,
    wrong_passwords_and_unknown_users_get_one_answer,
    repeated_failures_back_off_per_user,
    a_password_change_is_a_sensitive_change,
    only_allowed_enabled_and_if_required_activated_users_log_in,
    password_input_is_validated,
);

//! Session permission checks cost time linear in each (pattern, permission) pair, and a request's pairs are
//! bounded, so no check can hold the server.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error_envelope, TestApp};
use crate::user_support::{ok, put_user, send};

/// Creates a session for a new user with `permissions`; returns its id.
async fn session_with(app: &TestApp, permissions: &[String]) -> String {
    put_user(app, "pat", json!({})).await;
    let session = ok(
        app,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "pat", "permissions": permissions})),
    )
    .await;
    session["session_id"].as_str().unwrap().to_owned()
}

async fn a_240_by_240_pathological_check_is_answered_correctly(app: TestApp) {
    // The worst shape for a backtracking matcher: many stars before a suffix the permission almost has.
    let patterns: Vec<String> = (0..240)
        .map(|i| format!("{}*b{i:03}", "*a".repeat(120)))
        .collect();
    let mut requested: Vec<String> = (0..239)
        .map(|i| format!("{}{i:03}", "a".repeat(250)))
        .collect();
    let granted = format!("{}b007", "a".repeat(120));
    requested.push(granted.clone());
    let id = session_with(&app, &patterns).await;

    let answers = ok(
        &app,
        Method::POST,
        &format!("/api/sessions/{id}/check"),
        Some(&json!({ "permissions": requested })),
    )
    .await;
    let answers = answers.as_object().unwrap();
    assert_eq!(answers.len(), 240);
    for (permission, answer) in answers {
        assert_eq!(answer, &json!(permission == &granted), "{permission}");
    }
}

async fn a_check_comparing_more_pairs_than_the_bound_is_refused_with_400(app: TestApp) {
    let patterns: Vec<String> = (0..1000).map(|i| format!("docs:{i}:*")).collect();
    let id = session_with(&app, &patterns).await;
    let path = format!("/api/sessions/{id}/check");

    // 1000 × 101 pairs is over the bound of 100 000.
    let too_many: Vec<String> = (0..101).map(|i| format!("docs:{i}:read")).collect();
    let (status, body) = send(
        &app,
        Method::POST,
        &path,
        Some(&json!({ "permissions": too_many })),
    )
    .await;
    let error = assert_error_envelope(status, &body, 400);
    assert!(error.contains("100000"), "{error}");

    // 1000 × 100 is within it.
    let allowed: Vec<String> = (0..100).map(|i| format!("docs:{i}:read")).collect();
    let answers = ok(
        &app,
        Method::POST,
        &path,
        Some(&json!({ "permissions": allowed })),
    )
    .await;
    assert!(answers
        .as_object()
        .unwrap()
        .values()
        .all(|granted| granted == true));
}

crate::on_both_backends!(
    a_240_by_240_pathological_check_is_answered_correctly,
    a_check_comparing_more_pairs_than_the_bound_is_refused_with_400,
);

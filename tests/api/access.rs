//! `POST /api/access/check`: access, role permissions, request history and quotas.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, TestApp};
use crate::user_support::{ok, parse_time, put_user, send};

async fn check(app: &TestApp, body: Value) -> Value {
    ok(app, Method::POST, "/api/access/check", Some(&body)).await
}

async fn access_follows_status_enabled_and_membership(app: TestApp) {
    ok(&app, Method::POST, "/api/role/admin", None).await;
    put_user(&app, "ann", json!({})).await;
    put_user(&app, "ben", json!({"status": "denied"})).await;
    put_user(&app, "cat", json!({"enabled": false})).await;
    ok(&app, Method::POST, "/api/membership/ann/admin", None).await;
    ok(&app, Method::POST, "/api/membership/ben/admin", None).await;
    assert_eq!(
        check(
            &app,
            json!({"user_id": "ann", "role_id": "admin", "chat_id": 42, "message_id": "m1"})
        )
        .await,
        json!({"access": "allowed", "permissions": "allowed", "rate_limits": null})
    );
    assert_eq!(
        check(&app, json!({"user_id": "ann", "role_id": "other"})).await,
        json!({"access": "allowed", "permissions": "denied", "rate_limits": null})
    );
    assert_eq!(
        check(&app, json!({"user_id": "ann"})).await,
        json!({"access": "allowed", "rate_limits": null})
    );
    for user in ["ben", "cat", "nobody"] {
        assert_eq!(
            check(&app, json!({"user_id": user, "role_id": "admin"})).await,
            json!({"access": "denied", "permissions": "denied", "rate_limits": null}),
            "{user}"
        );
    }
    let history = ok(&app, Method::GET, "/api/users/ann/requests", None).await;
    let first = &history["items"][2];
    assert_eq!(first["chat_id"], "42");
    assert_eq!(first["message_id"], "m1");
    assert_eq!(first["role_id"], "admin");
    assert_eq!(first["access"], "allowed");
    assert_eq!(first["permissions"], "allowed");
    parse_time(&first["created_at"]);
    let denied = ok(&app, Method::GET, "/api/users/ben/requests", None).await;
    assert_eq!(denied["items"][0]["access"], "denied");
    let (code, body) = send(&app, Method::POST, "/api/access/check", Some(&json!({}))).await;
    assert_error_envelope(code, &body, 422);
    let (code, body) = send(&app, Method::POST, "/api/access/check", None).await;
    assert_error_envelope(code, &body, 400);
}

async fn the_hour_quota_limits_request_n_plus_one_and_the_end_never_moves(app: TestApp) {
    put_user(
        &app,
        "hal",
        json!({"quotas": {"requests_per_hour": 3, "random_shift_minutes": 5}}),
    )
    .await;
    for n in 1..=3 {
        let answer = check(&app, json!({"user_id": "hal"})).await;
        assert_eq!(answer["rate_limits"], Value::Null, "request {n}");
        assert_eq!(answer["access"], "allowed");
    }
    let before = chrono::Utc::now();
    let limited = check(&app, json!({"user_id": "hal"})).await;
    assert_eq!(limited["access"], "allowed", "the limit is advisory");
    let end = parse_time(&limited["rate_limits"]);
    let shift = end - before - chrono::Duration::hours(1);
    assert!(
        shift >= chrono::Duration::seconds(55) && shift <= chrono::Duration::seconds(5 * 60 + 5),
        "1..5 minutes of shift: {shift}"
    );
    for _ in 0..3 {
        let again = check(&app, json!({"user_id": "hal"})).await;
        assert_eq!(
            again["rate_limits"], limited["rate_limits"],
            "the end does not move"
        );
    }
    let user = ok(&app, Method::GET, "/api/users/hal", None).await;
    assert_eq!(user["rate_limits"], limited["rate_limits"]);
    let history = ok(&app, Method::GET, "/api/users/hal/requests", None).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 7);
    assert_eq!(history["items"][0]["rate_limits"], limited["rate_limits"]);
}

async fn the_day_quota_wins_over_the_hour_quota(app: TestApp) {
    put_user(
        &app,
        "ivy",
        json!({"quotas": {"requests_per_hour": 2, "requests_per_day": 2}}),
    )
    .await;
    check(&app, json!({"user_id": "ivy"})).await;
    check(&app, json!({"user_id": "ivy"})).await;
    let before = chrono::Utc::now();
    let limited = check(&app, json!({"user_id": "ivy"})).await;
    let end = parse_time(&limited["rate_limits"]);
    let length = end - before;
    assert!(
        (length - chrono::Duration::hours(24)).num_seconds().abs() < 5,
        "24 h: {length}"
    );
}

async fn without_quotas_a_user_is_never_limited(app: TestApp) {
    put_user(&app, "jo", json!({})).await;
    put_user(&app, "zed", json!({"quotas": {"requests_per_hour": 0}})).await;
    for _ in 0..30 {
        assert_eq!(
            check(&app, json!({"user_id": "jo"})).await["rate_limits"],
            Value::Null
        );
    }
    // A zero quota limits from the first request.
    assert!(check(&app, json!({"user_id": "zed"})).await["rate_limits"].is_string());
}

async fn concurrent_checks_on_two_instances_are_counted_exactly(app: TestApp) {
    put_user(&app, "kim", json!({"quotas": {"requests_per_hour": 10}})).await;
    let second = app.spawn_another(&[]).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = app.client.clone();
            let key = app.key.clone();
            let base = if i % 2 == 0 {
                app.address.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                let response = client
                    .post(format!("{base}/api/access/check"))
                    .bearer_auth(key)
                    .json(&json!({"user_id": "kim", "message_id": i.to_string()}))
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(response.status(), 200);
                response.json::<Value>().await.expect("json")["data"]["rate_limits"].clone()
            })
        })
        .collect();
    let mut limits = Vec::new();
    for task in tasks {
        limits.push(task.await.expect("task"));
    }
    let unlimited = limits.iter().filter(|l| l.is_null()).count();
    assert_eq!(
        unlimited, 10,
        "exactly N requests pass before the limit: {limits:?}"
    );
    let ends: std::collections::HashSet<String> = limits
        .iter()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ends.len(), 1, "one limit end for all: {ends:?}");
    let history = ok(&app, Method::GET, "/api/users/kim/requests?limit=100", None).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 20);
}

async fn the_request_history_pages_newest_first(app: TestApp) {
    put_user(&app, "lee", json!({})).await;
    for i in 0..5 {
        check(&app, json!({"user_id": "lee", "message_id": i.to_string()})).await;
    }
    let first = ok(&app, Method::GET, "/api/users/lee/requests?limit=3", None).await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), ["4", "3", "2"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(
        &app,
        Method::GET,
        &format!("/api/users/lee/requests?limit=3&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(ids(&second), ["1", "0"]);
    assert_eq!(second["next_cursor"], Value::Null);
    let (code, body) = send(
        &app,
        Method::GET,
        "/api/users/lee/requests?cursor=abc",
        None,
    )
    .await;
    assert_error_envelope(code, &body, 400);
    let (code, body) = send(&app, Method::GET, "/api/users/nobody/requests", None).await;
    assert_error_envelope(code, &body, 404);
}

crate::on_both_backends!(
    access_follows_status_enabled_and_membership,
    the_hour_quota_limits_request_n_plus_one_and_the_end_never_moves,
    the_day_quota_wins_over_the_hour_quota,
    without_quotas_a_user_is_never_limited,
    concurrent_checks_on_two_instances_are_counted_exactly,
    the_request_history_pages_newest_first,
);

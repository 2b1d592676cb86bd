//! Sessions with permission sets and wildcards.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{ok, parse_time, put_user, run_sql, send, send_as, without_timestamp};

async fn create(app: &TestApp, body: Value) -> Value {
    ok(app, Method::POST, "/api/sessions", Some(&body)).await
}

async fn a_session_can_be_read_checked_extended_changed_and_deleted(app: TestApp) {
    put_user(&app, "ann", json!({})).await;
    let created = create(
        &app,
        json!({"user_id": "ann", "permissions": ["read", "write"], "metadata": {"ip": "10.0.0.1"}}),
    )
    .await;
    let id = created["session_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 43, "256 bits, URL-safe base64");
    let remaining = created["ttl_remaining"].as_i64().unwrap();
    assert!(
        (3570..=3600).contains(&remaining),
        "default one hour: {remaining}"
    );
    let path = format!("/api/sessions/{id}");
    let shown = ok(&app, Method::GET, &path, None).await;
    assert_eq!(shown["user_id"], "ann");
    assert_eq!(shown["permissions"], json!(["read", "write"]));
    assert_eq!(shown["metadata"], json!({"ip": "10.0.0.1"}));
    assert!(
        shown.get("session_id").is_none(),
        "the id is shown only once"
    );
    let expires = parse_time(&shown["expires_at"]);
    assert_eq!(
        ok(
            &app,
            Method::POST,
            &format!("{path}/check"),
            Some(&json!({"permissions": ["read", "delete"]}))
        )
        .await,
        json!({"read": true, "delete": false})
    );
    let extended = ok(
        &app,
        Method::PUT,
        &format!("{path}/ttl"),
        Some(&json!({"ttl_seconds": 7200})),
    )
    .await;
    assert!(extended["ttl_remaining"].as_i64().unwrap() > 7100);
    let extended_expiry = parse_time(&extended["expires_at"]);
    assert!(extended_expiry > expires);
    let changed = ok(
        &app,
        Method::PUT,
        &format!("{path}/permissions"),
        Some(&json!({"permissions": ["admin"]})),
    )
    .await;
    assert_eq!(changed["permissions"], json!(["admin"]));
    assert_eq!(
        parse_time(&changed["expires_at"]),
        extended_expiry,
        "permissions keep the expiry"
    );
    assert_eq!(
        ok(&app, Method::DELETE, &path, None).await,
        json!({"removed": true})
    );
    let (code, body) = send(&app, Method::GET, &path, None).await;
    assert_error_envelope(code, &body, 404);
    let (code, body) = send(&app, Method::DELETE, &path, None).await;
    assert_error_envelope(code, &body, 404);
}

async fn wildcards_grant_exactly_what_the_table_says(app: TestApp) {
    put_user(&app, "wil", json!({})).await;
    let id = create(
        &app,
        json!({"user_id": "wil", "permissions": ["admin:*", "docs:*:own", "report"]}),
    )
    .await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asked = [
        ("admin:read", true),
        ("admin:read:all", true),
        ("admin", false),
        ("Admin:read", false),
        ("xadmin:read", false),
        ("docs:edit:own", true),
        ("docs:edit:all", false),
        ("report", true),
        ("reports", false),
        ("Report", false),
    ];
    let permissions: Vec<&str> = asked.iter().map(|(p, _)| *p).collect();
    let answer = ok(
        &app,
        Method::POST,
        &format!("/api/sessions/{id}/check"),
        Some(&json!({"permissions": permissions})),
    )
    .await;
    for (permission, expected) in asked {
        assert_eq!(answer[permission], expected, "{permission}");
    }
}

async fn expired_voided_and_unknown_sessions_answer_alike(app: TestApp) {
    put_user(&app, "bea", json!({})).await;
    let expired = create(
        &app,
        json!({"user_id": "bea", "permissions": ["a"], "ttl_seconds": 60}),
    )
    .await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_sql(&app, "UPDATE sessions SET expires_at = 1").await;
    let voided = create(&app, json!({"user_id": "bea", "permissions": ["a"]})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Moving the sensitive change after the session's creation voids it without deleting the row.
    run_sql(
        &app,
        "UPDATE users SET sensitive_changed_at = 99999999999999",
    )
    .await;
    let mut answers = Vec::new();
    for id in [
        expired.as_str(),
        voided.as_str(),
        "unknown",
        &"x".repeat(300),
    ] {
        answers.push(send(&app, Method::GET, &format!("/api/sessions/{id}"), None).await);
        answers.push(
            send(
                &app,
                Method::POST,
                &format!("/api/sessions/{id}/check"),
                Some(&json!({"permissions": ["a"]})),
            )
            .await,
        );
        answers.push(
            send(
                &app,
                Method::PUT,
                &format!("/api/sessions/{id}/ttl"),
                Some(&json!({"ttl_seconds": 10})),
            )
            .await,
        );
        answers.push(send(&app, Method::DELETE, &format!("/api/sessions/{id}"), None).await);
    }
    let reference = without_timestamp(answers[0].1.clone());
    for (status, body) in answers {
        assert_error_envelope(status, &body, 404);
        assert_eq!(without_timestamp(body), reference);
    }
    run_sql(&app, "UPDATE users SET sensitive_changed_at = 0").await;
    assert_eq!(
        ok(&app, Method::GET, "/api/users/bea/sessions", None)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Cleanup removes the expired one.
    assert_eq!(
        ok(&app, Method::POST, "/api/sessions/cleanup", None).await,
        json!({"removed": 1})
    );
}

async fn listing_shows_refs_not_ids_and_logout_catches_every_session(app: TestApp) {
    put_user(&app, "cal", json!({})).await;
    put_user(&app, "dee", json!({})).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            create(&app, json!({"user_id": "cal", "permissions": ["p"]})).await["session_id"]
                .clone(),
        );
    }
    let other =
        create(&app, json!({"user_id": "dee", "permissions": ["p"]})).await["session_id"].clone();
    let listed = ok(&app, Method::GET, "/api/users/cal/sessions", None).await;
    let listed_text = listed.to_string();
    assert_eq!(listed.as_array().unwrap().len(), 5);
    for id in &ids {
        assert!(
            !listed_text.contains(id.as_str().unwrap()),
            "ids never listed"
        );
    }
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["session_ref"].is_string()));
    assert_eq!(
        ok(&app, Method::DELETE, "/api/users/cal/sessions", None).await,
        json!({"removed": 5})
    );
    for id in &ids {
        let (code, body) = send(
            &app,
            Method::GET,
            &format!("/api/sessions/{}", id.as_str().unwrap()),
            None,
        )
        .await;
        assert_error_envelope(code, &body, 404);
    }
    ok(
        &app,
        Method::GET,
        &format!("/api/sessions/{}", other.as_str().unwrap()),
        None,
    )
    .await;
}

async fn session_input_is_validated(app: TestApp) {
    put_user(&app, "eli", json!({})).await;
    put_user(&app, "off", json!({"enabled": false})).await;
    for (body, expected) in [
        (
            json!({"user_id": "eli", "permissions": ["a"], "ttl_seconds": 0}),
            400,
        ),
        (
            json!({"user_id": "eli", "permissions": ["a"], "ttl_seconds": 31_536_001}),
            400,
        ),
        (
            json!({"user_id": "eli", "permissions": ["x".repeat(256)]}),
            400,
        ),
        (json!({"user_id": "eli", "permissions": [""]}), 400),
        (
            json!({"user_id": "eli", "permissions": ["a"], "metadata": [1]}),
            400,
        ),
        (json!({"user_id": "eli", "permissions": "a"}), 422),
        (json!({"user_id": "x y", "permissions": ["a"]}), 400),
        (json!({"user_id": "ghost", "permissions": ["a"]}), 404),
        (json!({"user_id": "off", "permissions": ["a"]}), 403),
    ] {
        let (code, answer) = send(&app, Method::POST, "/api/sessions", Some(&body)).await;
        assert_error_envelope(code, &answer, expected);
    }
    let ok_long = create(
        &app,
        json!({"user_id": "eli", "permissions": ["x".repeat(255)], "ttl_seconds": 31_536_000}),
    )
    .await;
    assert!(ok_long["ttl_remaining"].as_i64().unwrap() > 31_535_000);
}

async fn sessions_are_isolated_between_tenants(app: TestApp) {
    put_user(&app, "fay", json!({})).await;
    let id = create(&app, json!({"user_id": "fay", "permissions": ["a"]})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = new_key();
    let path = format!("/api/sessions/{id}");
    let (code, body) = send_as(&app, &other, Method::GET, &path, None).await;
    assert_error_envelope(code, &body, 404);
    let (code, body) = send_as(&app, &other, Method::DELETE, &path, None).await;
    assert_error_envelope(code, &body, 404);
    let (_, body) = send_as(
        &app,
        &other,
        Method::DELETE,
        "/api/users/fay/sessions",
        None,
    )
    .await;
    assert_eq!(body["data"], json!({"removed": 0}));
    let (_, body) = send_as(
        &app,
        &other,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "fay", "permissions": ["a"]})),
    )
    .await;
    assert_eq!(body["code"], 404, "the other tenant has no user fay");
    ok(&app, Method::GET, &path, None).await;
}

/// The background task (here on a second instance ticking every second) removes expired sessions and history past
/// its retention.
async fn the_background_task_removes_expired_sessions_and_old_history(app: TestApp) {
    put_user(&app, "gus", json!({})).await;
    create(&app, json!({"user_id": "gus", "permissions": ["a"]})).await;
    let live = create(&app, json!({"user_id": "gus", "permissions": ["b"]})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &app,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "gus"})),
    )
    .await;
    ok(
        &app,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "gus"})),
    )
    .await;
    run_sql(
        &app,
        "UPDATE sessions SET expires_at = 1 WHERE permissions = '[\"a\"]'",
    )
    .await;
    run_sql(
        &app,
        "UPDATE user_requests SET created_at = 1 WHERE id = (SELECT MIN(id) FROM user_requests)",
    )
    .await;
    app.spawn_another(&[("AUTH_MAINTENANCE_INTERVAL_SECONDS", "1")])
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        ok(&app, Method::POST, "/api/sessions/cleanup", None).await,
        json!({"removed": 0})
    );
    ok(&app, Method::GET, &format!("/api/sessions/{live}"), None).await;
    let history = ok(&app, Method::GET, "/api/users/gus/requests", None).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
}

crate::on_both_backends!(
    a_session_can_be_read_checked_extended_changed_and_deleted,
    wildcards_grant_exactly_what_the_table_says,
    expired_voided_and_unknown_sessions_answer_alike,
    listing_shows_refs_not_ids_and_logout_catches_every_session,
    session_input_is_validated,
    sessions_are_isolated_between_tenants,
    the_background_task_removes_expired_sessions_and_old_history,
);

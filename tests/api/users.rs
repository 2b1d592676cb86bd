//! Users: create, update, list, delete, sensitive changes and activation codes.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{ok, parse_time, put_user, run_sql, send, send_as, without_timestamp};

async fn putting_a_user_creates_then_replaces_it(app: TestApp) {
    let first = put_user(
        &app,
        "alice@example.com",
        json!({"profile": {"name": "Alice"}, "quotas": {"requests_per_hour": 5}}),
    )
    .await;
    assert_eq!(first["created"], true);
    let user = &first["user"];
    assert_eq!(user["user_id"], "alice@example.com");
    assert_eq!(user["status"], "allowed");
    assert_eq!(user["enabled"], true);
    assert_eq!(user["profile"], json!({"name": "Alice"}));
    assert_eq!(
        user["quotas"],
        json!({"requests_per_hour": 5, "requests_per_day": null, "random_shift_minutes": 0})
    );
    assert!(uuid::Uuid::parse_str(user["uuid"].as_str().unwrap()).is_ok());
    parse_time(&user["created_at"]);
    assert_eq!(user["last_seen_at"], Value::Null);
    assert_eq!(user["activated_at"], Value::Null);

    let second = put_user(&app, "alice@example.com", json!({"enabled": false})).await;
    assert_eq!(second["created"], false);
    assert_eq!(
        second["user"]["uuid"], user["uuid"],
        "the public id is stable"
    );
    assert_eq!(second["user"]["enabled"], false);
    assert_eq!(
        second["user"]["profile"],
        json!({}),
        "PUT replaces the whole user"
    );
    assert_eq!(second["user"]["created_at"], user["created_at"]);

    // Roles come from memberships.
    ok(&app, Method::POST, "/api/role/editor", None).await;
    ok(
        &app,
        Method::POST,
        "/api/membership/alice@example.com/editor",
        None,
    )
    .await;
    let shown = ok(&app, Method::GET, "/api/users/alice@example.com", None).await;
    assert_eq!(shown["roles"], json!(["editor"]));
}

async fn a_status_other_than_exactly_allowed_or_denied_is_refused(app: TestApp) {
    for status in [
        "Allowed",
        "allowed ",
        "xallowed",
        "not allowed",
        "denied' OR '1'='1",
        "",
    ] {
        let (code, body) = send(
            &app,
            Method::PUT,
            "/api/users/bob",
            Some(&json!({"status": status})),
        )
        .await;
        let error = assert_error_envelope(code, &body, 400);
        assert!(error.contains("status"), "{error}");
    }
    let (code, body) = send(&app, Method::GET, "/api/users/bob", None).await;
    assert_error_envelope(code, &body, 404);
    let (code, body) = send(&app, Method::GET, "/api/users?status=Allowed", None).await;
    assert_error_envelope(code, &body, 400);
}

async fn profiles_over_16_kib_and_bad_quotas_are_refused(app: TestApp) {
    let big = "x".repeat(16 * 1024);
    for (body, expected) in [
        (json!({"status": "allowed", "profile": {"bio": big}}), 400),
        (json!({"status": "allowed", "profile": [1, 2]}), 400),
        (json!({"status": "allowed", "profile": "text"}), 400),
        (
            json!({"status": "allowed", "quotas": {"requests_per_hour": -1}}),
            400,
        ),
        (
            json!({"status": "allowed", "quotas": {"random_shift_minutes": -5}}),
            400,
        ),
        (
            json!({"status": "allowed", "quotas": {"requests_per_day": 1.5}}),
            422,
        ),
        (json!({"status": "allowed", "surprise": true}), 422),
        (json!({"enabled": true}), 422),
    ] {
        let (code, answer) = send(&app, Method::PUT, "/api/users/carol", Some(&body)).await;
        assert_error_envelope(code, &answer, expected);
    }
    let (code, body) = send(&app, Method::GET, "/api/users/carol", None).await;
    assert_error_envelope(code, &body, 404);
    // Just under the limit is fine.
    put_user(
        &app,
        "carol",
        json!({"profile": {"bio": "x".repeat(16 * 1024 - 20)}}),
    )
    .await;
}

async fn injection_strings_are_stored_verbatim_and_harmless(app: TestApp) {
    let nasty = [
        "'; DROP TABLE users; --",
        "\" OR \"1\"=\"1",
        "Robert'); DELETE FROM memberships WHERE ('1'='1",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "ünïcødé 🚀 \\ %s %n",
    ];
    let profile: Value = nasty
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i}{s}"), json!(s)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    put_user(&app, "mallory", json!({"profile": profile})).await;
    put_user(&app, "victim", json!({})).await;
    let shown = ok(&app, Method::GET, "/api/users/mallory", None).await;
    assert_eq!(shown["profile"], profile);

    for s in nasty {
        ok(
            &app,
            Method::POST,
            "/api/access/check",
            Some(&json!({"user_id": "mallory", "chat_id": s, "message_id": s})),
        )
        .await;
    }
    let history = ok(&app, Method::GET, "/api/users/mallory/requests", None).await;
    let mut chats: Vec<String> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["chat_id"].as_str().unwrap().to_owned())
        .collect();
    chats.reverse();
    assert_eq!(chats, nasty);
    assert!(history["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["chat_id"] == r["message_id"]));

    let session = ok(
        &app,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "mallory", "permissions": nasty, "metadata": {"note": nasty[0]}})),
    )
    .await;
    let id = session["session_id"].as_str().unwrap();
    let shown = ok(&app, Method::GET, &format!("/api/sessions/{id}"), None).await;
    assert_eq!(shown["permissions"], json!(nasty));
    assert_eq!(shown["metadata"], json!({"note": nasty[0]}));

    // Nothing else was touched.
    let users = ok(&app, Method::GET, "/api/users", None).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 2);
    ok(&app, Method::GET, "/api/users/victim", None).await;
    // Control characters are refused rather than stored.
    let (code, body) = send(
        &app,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "mallory", "chat_id": "a\u{0}b"})),
    )
    .await;
    assert_error_envelope(code, &body, 400);
    // An injection in a user name is refused by name validation.
    let (code, body) = send(
        &app,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "x' OR '1'='1"})),
    )
    .await;
    assert_error_envelope(code, &body, 400);
}

async fn users_are_listed_in_pages_and_filtered_by_status(app: TestApp) {
    for name in ["d", "a", "c", "b", "e"] {
        put_user(&app, name, json!({})).await;
    }
    ok(
        &app,
        Method::PUT,
        "/api/users/c",
        Some(&json!({"status": "denied"})),
    )
    .await;
    let first = ok(&app, Method::GET, "/api/users?limit=2", None).await;
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["a", "b"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(
        &app,
        Method::GET,
        &format!("/api/users?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(names(&second), ["c", "d"]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = ok(
        &app,
        Method::GET,
        &format!("/api/users?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(names(&third), ["e"]);
    assert_eq!(third["next_cursor"], Value::Null);
    let denied = ok(&app, Method::GET, "/api/users?status=denied", None).await;
    assert_eq!(names(&denied), ["c"]);
    for bad in [
        "/api/users?limit=0",
        "/api/users?limit=x",
        "/api/users?other=1",
    ] {
        let (code, body) = send(&app, Method::GET, bad, None).await;
        assert_error_envelope(code, &body, 400);
    }
}

async fn deleting_a_user_removes_memberships_tokens_sessions_and_history(app: TestApp) {
    put_user(&app, "dave", json!({})).await;
    ok(&app, Method::POST, "/api/role/ops", None).await;
    ok(&app, Method::POST, "/api/membership/dave/ops", None).await;
    let token = ok(&app, Method::POST, "/api/users/dave/tokens", None).await["token"].clone();
    let session = ok(
        &app,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "dave", "permissions": ["read"]})),
    )
    .await;
    ok(&app, Method::POST, "/api/users/dave/activation", None).await;
    ok(
        &app,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "dave"})),
    )
    .await;

    assert_eq!(
        crate::helpers::without_revision(ok(&app, Method::DELETE, "/api/users/dave", None).await),
        json!({"removed": true})
    );
    assert_eq!(
        crate::helpers::without_revision(ok(&app, Method::DELETE, "/api/users/dave", None).await),
        json!({"removed": false})
    );
    assert_eq!(
        ok(&app, Method::GET, "/api/members/ops", None).await,
        json!([])
    );
    let (code, body) = send(
        &app,
        Method::POST,
        "/api/tokens/validate",
        Some(&json!({"token": token})),
    )
    .await;
    assert_error_envelope(code, &body, 401);
    let id = session["session_id"].as_str().unwrap();
    let (code, body) = send(&app, Method::GET, &format!("/api/sessions/{id}"), None).await;
    assert_error_envelope(code, &body, 404);

    // A new user of the same name starts clean: no history, no sessions.
    put_user(&app, "dave", json!({})).await;
    let history = ok(&app, Method::GET, "/api/users/dave/requests", None).await;
    assert_eq!(history["items"], json!([]));
    assert_eq!(
        ok(&app, Method::GET, "/api/users/dave/sessions", None).await,
        json!([])
    );
    assert_eq!(
        ok(&app, Method::GET, "/api/users/dave", None).await["roles"],
        json!([])
    );
}

async fn activation_codes_work_once_and_every_failure_looks_the_same(app: TestApp) {
    put_user(&app, "erin", json!({})).await;
    put_user(&app, "frank", json!({})).await;
    let issued = ok(&app, Method::POST, "/api/users/erin/activation", None).await;
    let code = issued["code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 22, "at least 128 bits: {code}");
    let expires = parse_time(&issued["expires_at"]);
    let in_a_day = chrono::Utc::now() + chrono::Duration::hours(24);
    assert!(
        (expires - in_a_day).num_seconds().abs() < 60,
        "default 24 h"
    );

    let mut failures = Vec::new();
    let attempt = |user: &'static str, code: String| {
        let app = &app;
        async move {
            send(
                app,
                Method::POST,
                &format!("/api/users/{user}/activate"),
                Some(&json!({"code": code})),
            )
            .await
        }
    };
    // Wrong code, right code for another user, unknown user.
    failures.push(attempt("erin", "wrong".into()).await);
    failures.push(attempt("frank", code.clone()).await);
    failures.push(attempt("ghost", code.clone()).await);
    // The right one works once...
    let (status, body) = attempt("erin", code.clone()).await;
    assert_eq!(status, 200, "{body}");
    parse_time(&body["data"]["activated_at"]);
    // ...and is then spent.
    failures.push(attempt("erin", code.clone()).await);
    // A replaced code no longer works; an expired one neither.
    let old = ok(&app, Method::POST, "/api/users/frank/activation", None).await["code"].clone();
    let new = ok(
        &app,
        Method::POST,
        "/api/users/frank/activation",
        Some(&json!({"ttl_minutes": 5})),
    )
    .await["code"]
        .clone();
    failures.push(attempt("frank", old.as_str().unwrap().into()).await);
    run_sql(&app, "UPDATE user_activation_codes SET expires_at = 0").await;
    failures.push(attempt("frank", new.as_str().unwrap().into()).await);

    let first = without_timestamp(failures[0].1.clone());
    for (status, body) in failures {
        assert_error_envelope(status, &body, 400);
        assert_eq!(without_timestamp(body), first);
    }
    let frank = ok(&app, Method::GET, "/api/users/frank", None).await;
    assert_eq!(frank["activated_at"], Value::Null);
    let erin = ok(&app, Method::GET, "/api/users/erin", None).await;
    parse_time(&erin["activated_at"]);
}

async fn users_of_one_tenant_are_invisible_to_another(app: TestApp) {
    put_user(&app, "grace", json!({"profile": {"secret": "mine"}})).await;
    let other = new_key();
    let (code, body) = send_as(&app, &other, Method::GET, "/api/users/grace", None).await;
    assert_error_envelope(code, &body, 404);
    let (_, body) = send_as(&app, &other, Method::GET, "/api/users", None).await;
    assert_eq!(body["data"]["items"], json!([]));
    let (_, body) = send_as(&app, &other, Method::DELETE, "/api/users/grace", None).await;
    assert_eq!(
        crate::helpers::without_revision(body["data"].clone()),
        json!({"removed": false})
    );
    let (_, body) = send_as(
        &app,
        &other,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "grace"})),
    )
    .await;
    assert_eq!(body["data"]["access"], "denied");
    ok(&app, Method::GET, "/api/users/grace", None).await;
}

crate::on_both_backends!(
    putting_a_user_creates_then_replaces_it,
    a_status_other_than_exactly_allowed_or_denied_is_refused,
    profiles_over_16_kib_and_bad_quotas_are_refused,
    injection_strings_are_stored_verbatim_and_harmless,
    users_are_listed_in_pages_and_filtered_by_status,
    deleting_a_user_removes_memberships_tokens_sessions_and_history,
    activation_codes_work_once_and_every_failure_looks_the_same,
    users_of_one_tenant_are_invisible_to_another,
);

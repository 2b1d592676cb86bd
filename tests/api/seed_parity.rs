//! Seed behaviours beyond the seed's REST document: `auth` 3.7.1's `/health` and workflow routes,
//! users-package's numeric ids, request order and counters and auto-registration, and
//! permission-storage-manager's own session ids and non-empty permission lists.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{ok, put_user, send, send_as};

/// `editor` may `deploy`; ann and bob are editors, carl is not.
async fn deployers(app: &TestApp) {
    app.write(Method::POST, "/api/role/editor").await;
    app.write(Method::POST, "/api/permission/editor/deploy")
        .await;
    app.write(Method::POST, "/api/membership/bob/editor").await;
    app.write(Method::POST, "/api/membership/ann/editor").await;
}

async fn workflow_routes_answer_in_the_seed_shapes(app: TestApp) {
    deployers(&app).await;
    let users = ok(&app, Method::GET, "/api/workflow/users/deploy", None).await;
    assert_eq!(users, json!({"count": 2, "members": ["ann", "bob"]}));
    let nobody = ok(&app, Method::GET, "/api/workflow/users/unknown", None).await;
    assert_eq!(nobody, json!({"count": 0, "members": []}));
    // One page at a time, like every listing.
    let (status, page) = send(
        &app,
        Method::GET,
        "/api/workflow/users/deploy?limit=1",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"], json!({"count": 1, "members": ["ann"]}));
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = ok(
        &app,
        Method::GET,
        &format!("/api/workflow/users/deploy?limit=1&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(rest, json!({"count": 1, "members": ["bob"]}));

    let can = |user: &str| format!("/api/workflow/user/{user}/can_run/deploy");
    assert_eq!(
        ok(&app, Method::GET, &can("ann"), None).await,
        json!({"has_permission": true})
    );
    assert_eq!(
        ok(&app, Method::GET, &can("carl"), None).await,
        json!({"has_permission": false})
    );
    // Another tenant sees none of it; bad names and a missing key are refused.
    let other = new_key();
    let (status, body) = send_as(&app, &other, Method::GET, &can("ann"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!({"has_permission": false}));
    let (status, body) = send(
        &app,
        Method::GET,
        "/api/workflow/user/a%20b/can_run/deploy",
        None,
    )
    .await;
    assert_error_envelope(status, &body, 400);
    let (status, body) = app
        .call_as("", Method::GET, "/api/workflow/users/deploy")
        .await;
    assert_error_envelope(status, &body, 401);
}

async fn health_answers_as_the_seed_and_in_the_envelope(app: TestApp) {
    let (status, body) = app.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["success"], true);
    assert_eq!(body["code"], 200);
    assert_eq!(body["data"]["status"], "healthy");
    let backend = match app.backend() {
        warden_testkit::Backend::Sqlite => "sqlite",
        warden_testkit::Backend::Postgres => "postgresql",
    };
    assert_eq!(body["data"]["database"], backend);
    assert!(body["timestamp"].is_string());
}

async fn numeric_telegram_ids_are_accepted_in_access_checks(app: TestApp) {
    put_user(&app, "123456789", json!({})).await;
    let body = json!({"user_id": 123456789, "chat_id": -100987, "message_id": 42});
    let decision = ok(&app, Method::POST, "/api/access/check", Some(&body)).await;
    assert_eq!(decision["access"], "allowed");
    let history = ok(&app, Method::GET, "/api/users/123456789/requests", None).await;
    assert_eq!(history["items"][0]["chat_id"], "-100987");
    assert_eq!(history["items"][0]["message_id"], "42");
    // A fraction, a boolean or an object is not an id.
    for user_id in [json!(1.5), json!(true), json!({"id": 1}), json!(null)] {
        let body = json!({"user_id": user_id});
        let (status, answer) = send(&app, Method::POST, "/api/access/check", Some(&body)).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{user_id}: {status} {answer}"
        );
        assert_eq!(answer["success"], false);
    }
}

async fn request_history_lists_in_either_order_and_counts_per_hour_and_day(app: TestApp) {
    put_user(&app, "dora", json!({})).await;
    for n in 1..=5 {
        let body = json!({"user_id": "dora", "message_id": n});
        ok(&app, Method::POST, "/api/access/check", Some(&body)).await;
    }
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["message_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let newest = ok(&app, Method::GET, "/api/users/dora/requests?limit=3", None).await;
    assert_eq!(ids(&newest), ["5", "4", "3"]);
    let oldest = ok(
        &app,
        Method::GET,
        "/api/users/dora/requests?order=asc&limit=3",
        None,
    )
    .await;
    assert_eq!(ids(&oldest), ["1", "2", "3"]);
    let cursor = oldest["next_cursor"].as_str().unwrap();
    let rest = ok(
        &app,
        Method::GET,
        &format!("/api/users/dora/requests?order=asc&limit=3&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(ids(&rest), ["4", "5"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let (status, body) = send(&app, Method::GET, "/api/users/dora/requests?order=up", None).await;
    assert_error_envelope(status, &body, 400);

    let counters = ok(&app, Method::GET, "/api/users/dora/requests/counters", None).await;
    assert_eq!(
        counters,
        json!({"requests_per_hour": 5, "requests_per_day": 5})
    );
    // Two checks moved back 2 hours leave the hour, one moved back 2 days leaves both windows.
    let hour = 3_600_000i64;
    crate::user_support::run_sql(
        &app,
        &format!(
            "UPDATE user_requests SET created_at = created_at - {} WHERE message_id IN ('1', '2')",
            2 * hour
        ),
    )
    .await;
    crate::user_support::run_sql(
        &app,
        &format!(
            "UPDATE user_requests SET created_at = created_at - {} WHERE message_id = '3'",
            48 * hour
        ),
    )
    .await;
    let counters = ok(&app, Method::GET, "/api/users/dora/requests/counters", None).await;
    assert_eq!(
        counters,
        json!({"requests_per_hour": 2, "requests_per_day": 4})
    );
    let (status, body) = send(
        &app,
        Method::GET,
        "/api/users/nobody/requests/counters",
        None,
    )
    .await;
    assert_error_envelope(status, &body, 404);
    let (status, body) = send_as(
        &app,
        &new_key(),
        Method::GET,
        "/api/users/dora/requests/counters",
        None,
    )
    .await;
    assert_error_envelope(status, &body, 404);
}

async fn unknown_users_are_registered_only_when_the_tenant_asks(app: TestApp) {
    let check = json!({"user_id": "newcomer"});
    let decision = ok(&app, Method::POST, "/api/access/check", Some(&check)).await;
    assert_eq!(decision["access"], "denied", "off by default");
    let (status, _) = send(&app, Method::GET, "/api/users/newcomer", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was registered");

    let settings = ok(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"auto_register_users": true})),
    )
    .await;
    assert_eq!(settings["auto_register_users"], true);
    // 16 first checks of one new user at once: one registration, every check counted and allowed.
    let checks = (0..16).map(|_| {
        let app = &app;
        async move {
            let (status, body) = send(
                app,
                Method::POST,
                "/api/access/check",
                Some(&json!({"user_id": "racer"})),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["data"]["access"].as_str().unwrap().to_owned()
        }
    });
    let answers = futures::future::join_all(checks).await;
    assert!(answers.iter().all(|a| a == "allowed"), "{answers:?}");
    let racer = ok(&app, Method::GET, "/api/users/racer", None).await;
    assert_eq!(racer["status"], "allowed");
    let counters = ok(
        &app,
        Method::GET,
        "/api/users/racer/requests/counters",
        None,
    )
    .await;
    assert_eq!(counters["requests_per_hour"], 16);
    let created = app
        .raw_strings("SELECT action FROM audit_log WHERE action = 'user.put'")
        .await;
    assert_eq!(created.len(), 1, "one registration is audited");

    // A denied user stays denied: registration never changes an existing user.
    put_user(&app, "mallory", json!({"status": "denied"})).await;
    let decision = ok(
        &app,
        Method::POST,
        "/api/access/check",
        Some(&json!({"user_id": "mallory"})),
    )
    .await;
    assert_eq!(decision["access"], "denied");
    // Other tenants keep the default.
    let other = new_key();
    let (status, body) = send_as(
        &app,
        &other,
        Method::POST,
        "/api/access/check",
        Some(&check),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["access"], "denied");
    // `null` puts the default back.
    let settings = ok(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"auto_register_users": null})),
    )
    .await;
    assert_eq!(settings["auto_register_users"], false);
}

async fn callers_may_bring_their_own_session_ids(app: TestApp) {
    put_user(&app, "user_456", json!({})).await;
    let body = json!({"user_id": "user_456", "permissions": ["read"], "session_id": "session_123"});
    let created = ok(&app, Method::POST, "/api/sessions", Some(&body)).await;
    assert_eq!(created["session_id"], "session_123");
    let shown = ok(&app, Method::GET, "/api/sessions/session_123", None).await;
    assert_eq!(shown["permissions"], json!(["read"]));
    // Only a keyed hash is stored.
    let stored = app.raw_strings("SELECT id_hash FROM sessions").await;
    assert!(stored.iter().all(|hash| !hash.contains("session_123")));
    // Taken while live, also by 8 racing requests; another tenant has its own namespace.
    let (status, answer) = send(&app, Method::POST, "/api/sessions", Some(&body)).await;
    assert_error_envelope(status, &answer, 409);
    let fresh = json!({"user_id": "user_456", "permissions": ["read"], "session_id": "raced"});
    let racers = (0..8).map(|_| send(&app, Method::POST, "/api/sessions", Some(&fresh)));
    let codes: Vec<StatusCode> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == StatusCode::OK).count(),
        1,
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| *c == StatusCode::OK || *c == StatusCode::CONFLICT),
        "{codes:?}"
    );
    let other = new_key();
    send_as(
        &app,
        &other,
        Method::PUT,
        "/api/users/user_456",
        Some(&json!({"status": "allowed"})),
    )
    .await;
    let (status, _) = send_as(&app, &other, Method::POST, "/api/sessions", Some(&body)).await;
    assert_eq!(status, StatusCode::OK);
    // An ended session gives its id up.
    ok(&app, Method::DELETE, "/api/sessions/session_123", None).await;
    ok(&app, Method::POST, "/api/sessions", Some(&body)).await;
    // Bad ids.
    for id in [json!(""), json!("a\nb"), json!("x".repeat(256)), json!(7)] {
        let bad = json!({"user_id": "user_456", "permissions": ["read"], "session_id": id});
        let (status, answer) = send(&app, Method::POST, "/api/sessions", Some(&bad)).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status} {answer}"
        );
    }
}

async fn an_empty_permission_list_is_refused_as_the_seed_does(app: TestApp) {
    put_user(&app, "ann", json!({})).await;
    let body = json!({"user_id": "ann", "permissions": []});
    let (status, answer) = send(&app, Method::POST, "/api/sessions", Some(&body)).await;
    let detail = assert_error_envelope(status, &answer, 400);
    assert!(detail.contains("at least one"), "{detail}");
    let listed = ok(&app, Method::GET, "/api/users/ann/sessions", None).await;
    assert_eq!(listed, json!([]), "nothing was written");
}

async fn a_listed_session_can_be_ended_by_its_ref(app: TestApp) {
    put_user(&app, "ann", json!({})).await;
    put_user(&app, "bob", json!({})).await;
    let body = json!({"user_id": "ann", "permissions": ["read"]});
    let first = ok(&app, Method::POST, "/api/sessions", Some(&body)).await;
    let second = ok(&app, Method::POST, "/api/sessions", Some(&body)).await;
    let session_ref = first["session_ref"].as_str().unwrap();
    // Not through another user, nor another tenant.
    let (status, answer) = send(
        &app,
        Method::DELETE,
        &format!("/api/users/bob/sessions/{session_ref}"),
        None,
    )
    .await;
    assert_error_envelope(status, &answer, 404);
    let (status, answer) = send_as(
        &app,
        &new_key(),
        Method::DELETE,
        &format!("/api/users/ann/sessions/{session_ref}"),
        None,
    )
    .await;
    assert_error_envelope(status, &answer, 404);
    let path = format!("/api/users/ann/sessions/{session_ref}");
    assert_eq!(
        ok(&app, Method::DELETE, &path, None).await,
        json!({"removed": true})
    );
    let (status, answer) = send(&app, Method::DELETE, &path, None).await;
    assert_error_envelope(status, &answer, 404);
    let first_id = first["session_id"].as_str().unwrap();
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("/api/sessions/{first_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the session is gone");
    let listed = ok(&app, Method::GET, "/api/users/ann/sessions", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["session_ref"], second["session_ref"]);
    let trail = app
        .raw_strings("SELECT action FROM audit_log WHERE action = 'session.delete'")
        .await;
    assert_eq!(trail.len(), 1);
}

crate::on_both_backends!(
    workflow_routes_answer_in_the_seed_shapes,
    health_answers_as_the_seed_and_in_the_envelope,
    numeric_telegram_ids_are_accepted_in_access_checks,
    request_history_lists_in_either_order_and_counts_per_hour_and_day,
    unknown_users_are_registered_only_when_the_tenant_asks,
    callers_may_bring_their_own_session_ids,
    an_empty_permission_list_is_refused_as_the_seed_does,
    a_listed_session_can_be_ended_by_its_ref,
);

//! Per-user API keys, as `auth` 3.7.1 has them: shown once, stored as keyed hashes, validated per tenant, capped,
//! expiring, revoked by a sensitive change or the user's deletion, audited.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{ok, put_user, send, send_as};

async fn create(app: &TestApp, user: &str, body: Option<Value>) -> Value {
    ok(
        app,
        Method::POST,
        &format!("/api/apikeys/user/{user}"),
        body.as_ref(),
    )
    .await
}

async fn validate(app: &TestApp, key: &str) -> Value {
    ok(
        app,
        Method::POST,
        "/api/apikeys/validate",
        Some(&json!({ "api_key": key })),
    )
    .await
}

async fn keys_are_shown_once_stored_hashed_and_validated(app: TestApp) {
    let in_a_month = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let created = create(
        &app,
        "ann",
        Some(json!({"label": "ci bot", "expires_at": in_a_month})),
    )
    .await;
    let key = created["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("rak_") && key.len() == 47, "{key}");
    assert_eq!(created["key_prefix"], &key[..12]);
    assert_eq!(created["user"], "ann");
    assert_eq!(created["label"], "ci bot");
    let key_id = created["key_id"].as_str().unwrap().to_owned();
    // A body-less create works too.
    let plain = create(&app, "ann", None).await;
    assert_eq!(plain["label"], Value::Null);
    assert_eq!(plain["expires_at"], Value::Null);

    let valid = validate(&app, &key).await;
    assert_eq!(valid["valid"], true);
    assert_eq!(valid["user"], "ann");
    assert_eq!(valid["key_id"], key_id.as_str());
    assert_eq!(valid["label"], "ci bot");
    assert!(valid["expires_at"].is_string());

    // Metadata only, never the key or its hash.
    let listed = ok(&app, Method::GET, "/api/apikeys/user/ann", None).await;
    assert_eq!(listed["count"], 2);
    let first = &listed["keys"][0];
    assert_eq!(first["key_id"], key_id.as_str());
    assert_eq!(first["is_active"], true);
    assert!(first["last_used_at"].is_string(), "validation touched it");
    assert!(!listed.to_string().contains(&key[12..]));
    let stored = app.raw_strings("SELECT key_hash FROM api_keys").await;
    assert!(stored.iter().all(|hash| !hash.contains(&key[4..])));
    // Another tenant cannot see or use it.
    let other = new_key();
    let (_, body) = send_as(
        &app,
        &other,
        Method::POST,
        "/api/apikeys/validate",
        Some(&json!({ "api_key": key })),
    )
    .await;
    assert_eq!(
        body["data"],
        json!({"valid": false, "reason": "unknown_key"})
    );
    let (_, body) = send_as(&app, &other, Method::GET, "/api/apikeys/user/ann", None).await;
    assert_eq!(body["data"]["count"], 0);
    // An unknown key of the right shape; a wrong shape is 400.
    let unknown = format!("rak_{}", "A".repeat(43));
    assert_eq!(
        validate(&app, &unknown).await,
        json!({"valid": false, "reason": "unknown_key"})
    );
    for bad in [
        json!({"api_key": "rak_short"}),
        json!({"api_key": 7}),
        json!({}),
    ] {
        let (status, body) = send(&app, Method::POST, "/api/apikeys/validate", Some(&bad)).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {status} {body}"
        );
    }
    let trail = app
        .raw_strings("SELECT action FROM audit_log")
        .await
        .join(" ");
    assert!(trail.contains("api_key.create"), "{trail}");
    assert!(!app
        .raw_strings("SELECT target FROM audit_log")
        .await
        .join(" ")
        .contains(&key[4..]));
}

async fn revoked_and_expired_keys_say_why(app: TestApp) {
    let created = create(&app, "ann", None).await;
    let key = created["api_key"].as_str().unwrap().to_owned();
    let path = format!(
        "/api/apikeys/user/ann/{}",
        created["key_id"].as_str().unwrap()
    );
    assert_eq!(
        ok(&app, Method::DELETE, &path, None).await,
        json!({"revoked": true, "already_revoked": false})
    );
    assert_eq!(
        ok(&app, Method::DELETE, &path, None).await,
        json!({"revoked": true, "already_revoked": true})
    );
    assert_eq!(
        validate(&app, &key).await,
        json!({"valid": false, "reason": "revoked"})
    );
    // Another user's path, an unknown id, a malformed id.
    let other_user = format!(
        "/api/apikeys/user/bob/{}",
        created["key_id"].as_str().unwrap()
    );
    let (status, body) = send(&app, Method::DELETE, &other_user, None).await;
    assert_error_envelope(status, &body, 404);
    let (status, body) = send(
        &app,
        Method::DELETE,
        &format!("/api/apikeys/user/ann/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_error_envelope(status, &body, 404);
    let (status, body) = send(
        &app,
        Method::DELETE,
        "/api/apikeys/user/ann/not-a-uuid",
        None,
    )
    .await;
    assert_error_envelope(status, &body, 400);

    let expiring = create(&app, "ann", None).await;
    let key = expiring["api_key"].as_str().unwrap().to_owned();
    let id = expiring["key_id"].as_str().unwrap();
    crate::user_support::run_sql(
        &app,
        &format!("UPDATE api_keys SET expires_at = 1000 WHERE key_id = '{id}'"),
    )
    .await;
    assert_eq!(
        validate(&app, &key).await,
        json!({"valid": false, "reason": "expired"})
    );
    let (_, body) = send(
        &app,
        Method::POST,
        "/api/apikeys/check_permission",
        Some(&json!({"api_key": key, "permission": "read"})),
    )
    .await;
    assert_eq!(body["data"], json!({"valid": false, "reason": "expired"}));
}

async fn expiry_only_moves_earlier_and_within_a_year(app: TestApp) {
    let in_days = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let created = create(&app, "ann", Some(json!({"expires_at": in_days(30)}))).await;
    let path = format!(
        "/api/apikeys/user/ann/{}",
        created["key_id"].as_str().unwrap()
    );
    let shorter = ok(
        &app,
        Method::PATCH,
        &path,
        Some(&json!({"expires_at": in_days(10)})),
    )
    .await;
    assert!(shorter["expires_at"].is_string());
    for bad in [in_days(20), in_days(-1), "soon".to_owned()] {
        let (status, body) = send(
            &app,
            Method::PATCH,
            &path,
            Some(&json!({"expires_at": bad})),
        )
        .await;
        assert_error_envelope(status, &body, 400);
    }
    for bad in [
        json!({"expires_at": in_days(366)}),
        json!({"label": "x!"}),
        json!({"colour": "red"}),
    ] {
        let (status, body) = send(&app, Method::POST, "/api/apikeys/user/ann", Some(&bad)).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {status} {body}"
        );
    }
}

async fn check_permission_answers_for_the_keys_user(app: TestApp) {
    app.write(Method::POST, "/api/role/deployer").await;
    app.write(Method::POST, "/api/permission/deployer/deploy")
        .await;
    app.write(Method::POST, "/api/membership/ann/deployer")
        .await;
    let key = create(&app, "ann", None).await["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let check = |permission: &str| json!({"api_key": key, "permission": permission});
    let yes = ok(
        &app,
        Method::POST,
        "/api/apikeys/check_permission",
        Some(&check("deploy")),
    )
    .await;
    assert_eq!(yes["valid"], true);
    assert_eq!(yes["user"], "ann");
    assert_eq!(yes["has_permission"], true);
    let no = ok(
        &app,
        Method::POST,
        "/api/apikeys/check_permission",
        Some(&check("delete")),
    )
    .await;
    assert_eq!(no["has_permission"], false);
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/apikeys/check_permission",
        Some(&check("a b")),
    )
    .await;
    assert_error_envelope(status, &body, 400);
}

async fn at_most_25_active_keys_even_when_64_race(app: TestApp) {
    let racers = (0..64).map(|_| send(&app, Method::POST, "/api/apikeys/user/ann", None));
    let codes: Vec<StatusCode> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == StatusCode::OK).count(),
        25,
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| *c == StatusCode::OK || *c == StatusCode::CONFLICT),
        "{codes:?}"
    );
    let listed = ok(&app, Method::GET, "/api/apikeys/user/ann", None).await;
    assert_eq!(listed["count"], 25);
    // Revoking one makes room for one.
    let id = listed["keys"][0]["key_id"].as_str().unwrap();
    ok(
        &app,
        Method::DELETE,
        &format!("/api/apikeys/user/ann/{id}"),
        None,
    )
    .await;
    create(&app, "ann", None).await;
    let (status, body) = send(&app, Method::POST, "/api/apikeys/user/ann", None).await;
    assert_error_envelope(status, &body, 409);
}

async fn a_sensitive_change_or_deleting_the_user_revokes_the_keys(app: TestApp) {
    put_user(&app, "ann", json!({})).await;
    put_user(&app, "bob", json!({})).await;
    let ann = create(&app, "ann", None).await["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = create(&app, "bob", None).await["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&app, Method::POST, "/api/users/ann/sensitive-change", None).await;
    assert_eq!(validate(&app, &ann).await["reason"], "revoked");
    assert_eq!(validate(&app, &bob).await["valid"], true);
    ok(&app, Method::DELETE, "/api/users/bob", None).await;
    assert_eq!(validate(&app, &bob).await["reason"], "revoked");
}

crate::on_both_backends!(
    keys_are_shown_once_stored_hashed_and_validated,
    revoked_and_expired_keys_say_why,
    expiry_only_moves_earlier_and_within_a_year,
    check_permission_answers_for_the_keys_user,
    at_most_25_active_keys_even_when_64_race,
    a_sensitive_change_or_deleting_the_user_revokes_the_keys,
);

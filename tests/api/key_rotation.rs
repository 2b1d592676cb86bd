//! Client-key rotation and recovery (`auth` 3.7.1's `/api/keys/*`): the whole namespace answers to the new key,
//! the old one gets 401 from the commit on (never a mix, also under racing requests and on another instance),
//! recovery keys are shown once, single-use and refused alike when wrong, spent or malformed.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};
use crate::user_support::{put_user, send_as};

/// `data` of a call with `key` that must answer 200.
async fn ok_as(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Value {
    let (status, answer) = send_as(app, key, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer["data"].clone()
}

async fn rotate(app: &TestApp, key: &str) -> Value {
    ok_as(app, key, Method::POST, "/api/keys/rotate", None).await
}

/// `POST /api/keys/recover` without a client key.
async fn recover(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/api/keys/recover"))
        .json(body)
        .send()
        .await
        .expect("request sent");
    crate::helpers::read(response).await
}

/// A tenant with some of everything: a role with a description, a grant, a member who is a user with an API
/// key, a session, a single-use token and a JWT. Returns (api key, session id, single-use token, access token).
async fn populate(app: &TestApp, key: &str) -> (String, String, String, String) {
    ok_as(
        app,
        key,
        Method::POST,
        "/api/role/editor",
        Some(&json!({"description": "Edits docs"})),
    )
    .await;
    ok_as(
        app,
        key,
        Method::POST,
        "/api/permission/editor/docs:write",
        None,
    )
    .await;
    put_user(app, "ann", json!({})).await;
    ok_as(app, key, Method::POST, "/api/membership/ann/editor", None).await;
    let api_key = ok_as(
        app,
        key,
        Method::POST,
        "/api/apikeys/user/ann",
        Some(&json!({"label": "laptop"})),
    )
    .await["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = ok_as(
        app,
        key,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "ann", "permissions": ["docs:*"]})),
    )
    .await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = ok_as(app, key, Method::POST, "/api/users/ann/tokens", None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let jwt = ok_as(app, key, Method::POST, "/api/token/ann", None).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    ok_as(
        app,
        key,
        Method::PUT,
        "/api/settings",
        Some(&json!({"auto_register_users": true})),
    )
    .await;
    (api_key, session, token, jwt)
}

/// Everything `populate` wrote, read with `key`.
async fn assert_namespace(
    app: &TestApp,
    key: &str,
    (api_key, session, token, jwt): &(String, String, String, String),
) {
    let roles = ok_as(app, key, Method::GET, "/api/roles", None).await;
    assert_eq!(roles[0]["role"], "editor", "{roles}");
    assert_eq!(roles[0]["description"], "Edits docs", "{roles}");
    let answer = ok_as(
        app,
        key,
        Method::GET,
        "/api/has_permission/ann/docs:write",
        None,
    )
    .await;
    assert_eq!(answer["has_permission"], true);
    let user = ok_as(app, key, Method::GET, "/api/users/ann", None).await;
    assert_eq!(user["user_id"], "ann", "{user}");
    let keys = ok_as(app, key, Method::GET, "/api/apikeys/user/ann", None).await;
    assert_eq!(keys["keys"][0]["label"], "laptop", "{keys}");
    let valid = ok_as(
        app,
        key,
        Method::POST,
        "/api/apikeys/validate",
        Some(&json!({"api_key": api_key})),
    )
    .await;
    assert_eq!(valid["valid"], true, "{valid}");
    let check = ok_as(
        app,
        key,
        Method::POST,
        &format!("/api/sessions/{session}/check"),
        Some(&json!({"permissions": ["docs:read"]})),
    )
    .await;
    assert_eq!(check["docs:read"], true, "{check}");
    let verified = ok_as(
        app,
        key,
        Method::POST,
        "/api/token/verify",
        Some(&json!({"token": jwt})),
    )
    .await;
    assert_eq!(verified["valid"], true, "{verified}");
    let settings = ok_as(app, key, Method::GET, "/api/settings", None).await;
    assert_eq!(settings["auto_register_users"], true);
    // The single-use token is last: validating it spends it.
    let used = ok_as(
        app,
        key,
        Method::POST,
        "/api/tokens/validate",
        Some(&json!({"token": token})),
    )
    .await;
    assert_eq!(used["user_id"], "ann", "{used}");
}

async fn assert_refused(app: &TestApp, key: &str) {
    for (method, path) in [
        (Method::GET, "/api/roles"),
        (Method::POST, "/api/role/intruder"),
        (Method::GET, "/api/has_permission/ann/docs:write"),
        (Method::POST, "/api/keys/rotate"),
        (Method::POST, "/api/keys/get_rotate_key"),
    ] {
        let (status, body) = app.call_as(key, method, path).await;
        assert_error_envelope(status, &body, 401);
    }
}

async fn rotation_moves_the_whole_namespace_and_retires_the_old_key(app: TestApp) {
    let old = app.key.clone();
    let written = populate(&app, &old).await;
    let rotated = rotate(&app, &old).await;
    let new = rotated["new_key"].as_str().expect("new_key").to_owned();
    let parsed = uuid::Uuid::parse_str(&new).expect("a UUID");
    assert_eq!(parsed.get_version_num(), 4);
    assert_ne!(new, old);
    let migrated = &rotated["migrated"];
    assert_eq!(
        (
            migrated["roles"].as_u64(),
            migrated["permissions"].as_u64(),
            migrated["memberships"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{rotated}"
    );
    assert_eq!(migrated["api_keys"], 1);
    assert_eq!(migrated["settings"], 1);
    assert_eq!(migrated["users"], 1);
    assert_eq!(migrated["sessions"], 1);

    assert_refused(&app, &old).await;
    let (_, body) = app.call_as(&old, Method::GET, "/api/roles").await;
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("rotation"),
        "{body}"
    );
    assert_namespace(&app, &new, &written).await;
    // Nothing the refused requests tried was written.
    let roles = ok_as(&app, &new, Method::GET, "/api/roles", None).await;
    assert_eq!(roles.as_array().map(Vec::len), Some(1), "{roles}");

    // The audit trail continues under the new key, chain intact, with the rotation in it.
    let audit = ok_as(
        &app,
        &new,
        Method::GET,
        "/api/audit?action=client_key.rotate",
        None,
    )
    .await;
    let entries = audit["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(!entries[0].to_string().contains(&old) && !entries[0].to_string().contains(&new));
    let (count, broken) = app.audit_chain().await;
    assert!(count > 0);
    assert_eq!(broken, None);

    // Rotating again retires the second key too; the first stays retired.
    let third = rotate(&app, &new).await["new_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_refused(&app, &new).await;
    assert_refused(&app, &old).await;
    let answer = ok_as(
        &app,
        &third,
        Method::GET,
        "/api/has_permission/ann/docs:write",
        None,
    )
    .await;
    assert_eq!(answer["has_permission"], true);
}

async fn racing_requests_with_the_old_key_see_everything_or_401(app: TestApp) {
    let old = app.key.clone();
    ok_as(&app, &old, Method::POST, "/api/role/editor", None).await;
    ok_as(
        &app,
        &old,
        Method::POST,
        "/api/permission/editor/edit",
        None,
    )
    .await;
    ok_as(&app, &old, Method::POST, "/api/membership/ann/editor", None).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let client = app.client.clone();
        let key = old.clone();
        let (method, path) = match i % 4 {
            0 => (Method::POST, format!("/api/role/r{i}")),
            1 => (Method::POST, "/api/keys/rotate".to_owned()),
            _ => (Method::GET, "/api/has_permission/ann/edit".to_owned()),
        };
        let url = app.url(&path);
        tasks.push(tokio::spawn(async move {
            let response = client
                .request(method, url)
                .bearer_auth(key)
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body: Value = response.json().await.expect("JSON");
            (i, status, body)
        }));
    }
    let mut created = Vec::new();
    let mut new_keys = Vec::new();
    for task in tasks {
        let (i, status, body) = task.await.expect("task");
        assert!(
            status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
            "{i}: {status} {body}"
        );
        if status != StatusCode::OK {
            continue;
        }
        match i % 4 {
            0 => created.push(format!("r{i}")),
            1 => new_keys.push(body["data"]["new_key"].as_str().unwrap().to_owned()),
            // Before the commit an old-key check sees the whole model.
            _ => assert_eq!(body["data"]["has_permission"], true, "{body}"),
        }
    }
    // Sixteen rotations raced with one key: exactly one won.
    assert_eq!(new_keys.len(), 1, "{new_keys:?}");
    let new = &new_keys[0];
    assert_refused(&app, &old).await;
    let roles = ok_as(&app, new, Method::GET, "/api/roles", None).await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["role"].as_str())
        .collect();
    for role in &created {
        assert!(
            names.contains(&role.as_str()),
            "{role} acknowledged but missing: {names:?}"
        );
    }
    let answer = ok_as(&app, new, Method::GET, "/api/has_permission/ann/edit", None).await;
    assert_eq!(answer["has_permission"], true);
}

async fn a_recovery_key_is_shown_once_and_recovers_the_tenant_once(app: TestApp) {
    let old = app.key.clone();
    let written = populate(&app, &old).await;
    let issued = ok_as(&app, &old, Method::POST, "/api/keys/get_rotate_key", None).await;
    let rotate_key = issued["rotate_key"]
        .as_str()
        .expect("rotate_key")
        .to_owned();
    assert!(
        rotate_key.starts_with("rrk_") && rotate_key.len() == 47,
        "{rotate_key}"
    );
    assert!(rotate_key[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    let (status, body) = app
        .call_as(&old, Method::POST, "/api/keys/get_rotate_key")
        .await;
    assert_error_envelope(status, &body, 409);
    assert_eq!(body["reason"], "rotate_key_already_issued", "{body}");
    assert!(!body.to_string().contains(&rotate_key));

    // Wrong, malformed and absent keys: one 401 answer, nothing changes.
    let wrong = format!("rrk_{}", "A".repeat(43));
    let mut refusals = Vec::new();
    for body in [
        json!({"rotate_key": wrong}),
        json!({"rotate_key": "rrk_short"}),
        json!({"rotate_key": ""}),
    ] {
        let (status, answer) = recover(&app, &body).await;
        refusals.push(assert_error_envelope(status, &answer, 401));
    }
    assert!(refusals.iter().all(|r| r == &refusals[0]), "{refusals:?}");
    assert_eq!(refusals[0], "Invalid rotate key");
    // Bodies that are not a recovery request: 422, like every other malformed body.
    for bad in [
        json!({}),
        json!({"rotate_key": 5}),
        json!({"rotate_key": "x", "extra": 1}),
    ] {
        let (status, answer) = recover(&app, &bad).await;
        assert_error_envelope(status, &answer, 422);
    }
    let not_a_key = json!({"rotate_key": rotate_key, "new_client_key": "not-a-uuid"});
    let (status, answer) = recover(&app, &not_a_key).await;
    assert_error_envelope(status, &answer, 400);
    // A target that already names a tenant with data is refused, and the recovery key is not spent by it.
    let other = new_key();
    ok_as(&app, &other, Method::POST, "/api/role/theirs", None).await;
    let (status, answer) = recover(
        &app,
        &json!({"rotate_key": rotate_key, "new_client_key": other}),
    )
    .await;
    assert_error_envelope(status, &answer, 409);
    assert_eq!(answer["reason"], "client_key_in_use");
    let theirs = ok_as(&app, &other, Method::GET, "/api/roles", None).await;
    assert_eq!(theirs.as_array().map(Vec::len), Some(1), "{theirs}");
    ok_as(&app, &old, Method::GET, "/api/roles", None).await;

    // The right key recovers the tenant onto the caller's new key, even with a stale bearer header sent along.
    let chosen = new_key();
    let response = app
        .client
        .post(app.url("/api/keys/recover"))
        .bearer_auth(new_key())
        .json(&json!({"rotate_key": rotate_key, "new_client_key": chosen}))
        .send()
        .await
        .expect("sent");
    let (status, answer) = crate::helpers::read(response).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let data = &answer["data"];
    assert_eq!(data["client_key"], chosen.as_str());
    let next = data["rotate_key"].as_str().unwrap().to_owned();
    assert!(next.starts_with("rrk_") && next != rotate_key);
    assert_eq!(data["migrated"]["roles"], 1, "{answer}");
    assert_refused(&app, &old).await;
    assert_namespace(&app, &chosen, &written).await;
    let audit = ok_as(
        &app,
        &chosen,
        Method::GET,
        "/api/audit?action=client_key.recover",
        None,
    )
    .await;
    assert_eq!(
        audit["entries"].as_array().map(Vec::len),
        Some(1),
        "{audit}"
    );

    // Spent: the used key is refused like a wrong one; the new one is outstanding and works (generating a key).
    let (status, answer) = recover(&app, &json!({"rotate_key": rotate_key})).await;
    assert_eq!(assert_error_envelope(status, &answer, 401), refusals[0]);
    let (status, body) = app
        .call_as(&chosen, Method::POST, "/api/keys/get_rotate_key")
        .await;
    assert_error_envelope(status, &body, 409);
    let (status, answer) = recover(&app, &json!({"rotate_key": next})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let latest = answer["data"]["client_key"].as_str().unwrap().to_owned();
    assert_refused(&app, &chosen).await;
    let roles = ok_as(&app, &latest, Method::GET, "/api/roles", None).await;
    assert_eq!(roles[0]["role"], "editor");
}

async fn racing_recoveries_with_one_key_recover_once(app: TestApp) {
    let rotate_key = ok_as(
        &app,
        &app.key,
        Method::POST,
        "/api/keys/get_rotate_key",
        None,
    )
    .await["rotate_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = app.client.clone();
        let url = app.url("/api/keys/recover");
        let body = json!({"rotate_key": rotate_key});
        tasks.push(tokio::spawn(async move {
            let response = client.post(url).json(&body).send().await.expect("sent");
            response.status()
        }));
    }
    let mut won = 0;
    for task in tasks {
        let status = task.await.expect("task");
        assert!(
            status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
            "{status}"
        );
        won += usize::from(status == StatusCode::OK);
    }
    assert_eq!(won, 1);
}

async fn another_instance_follows_a_rotation(app: TestApp) {
    let second = app.spawn_another(&[]).await;
    let old = app.key.clone();
    ok_as(&app, &old, Method::POST, "/api/role/editor", None).await;
    // The other instance has seen (and cached) the old key.
    let (status, _) = app.call_on(&second, Method::GET, "/api/roles").await;
    assert_eq!(status, StatusCode::OK);
    let new = rotate(&app, &old).await["new_key"]
        .as_str()
        .unwrap()
        .to_owned();
    // The new key works there at once (its first use reads its standing)…
    let response = app
        .client
        .get(format!("{second}/api/roles"))
        .bearer_auth(&new)
        .send()
        .await
        .expect("sent");
    let (status, roles) = crate::helpers::read(response).await;
    assert_eq!(status, StatusCode::OK, "{roles}");
    assert_eq!(roles["data"][0]["role"], "editor");
    // …and the old key is refused there within a sync sweep.
    let mut refused = false;
    for _ in 0..50 {
        let (status, _) = app.call_on(&second, Method::GET, "/api/roles").await;
        if status == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "the other instance still accepts the rotated-away key"
    );
}

async fn rotation_with_encryption_keeps_sealed_values_readable(app: TestApp) {
    let app = TestApp::spawn_with(
        app.backend(),
        &[
            ("AUTH_ENABLE_ENCRYPTION", "true"),
            ("AUTH_ENCRYPTION_KEY", "9d3f6a1c8e2b7f40d5a9c3e6b1f8a2d7"),
        ],
    )
    .await
    .unwrap();
    let old = app.key.clone();
    let written = populate(&app, &old).await;
    let new = rotate(&app, &old).await["new_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_refused(&app, &old).await;
    assert_namespace(&app, &new, &written).await;
    // Writes under the new key seal with the same tenant key: old and new values are found together.
    ok_as(&app, &new, Method::POST, "/api/membership/bo/editor", None).await;
    let members = ok_as(&app, &new, Method::GET, "/api/members/editor", None).await;
    assert_eq!(members.as_array().map(Vec::len), Some(2), "{members}");
    // And a restart (cold caches) still opens everything.
    let app = app
        .respawn(&[
            ("AUTH_ENABLE_ENCRYPTION", "true"),
            ("AUTH_ENCRYPTION_KEY", "9d3f6a1c8e2b7f40d5a9c3e6b1f8a2d7"),
        ])
        .await;
    let roles = ok_as(&app, &new, Method::GET, "/api/roles", None).await;
    assert_eq!(roles[0]["description"], "Edits docs");
    assert_refused(&app, &old).await;
}

crate::on_both_backends!(
    rotation_moves_the_whole_namespace_and_retires_the_old_key,
    racing_requests_with_the_old_key_see_everything_or_401,
    a_recovery_key_is_shown_once_and_recovers_the_tenant_once,
    racing_recoveries_with_one_key_recover_once,
    another_instance_follows_a_rotation,
    rotation_with_encryption_keeps_sealed_values_readable,
);

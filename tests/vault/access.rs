//! The user-access features with `AUTH_USER_CONFIG_SOURCE=vault`: status, roles and quotas from Vault's
//! `configuration/users/{user_id}`, request history and limits in the database.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{new_key, Backend, TestApp};
use crate::standin::{StandIn, TokenPolicy};

const ROOT: TokenPolicy = TokenPolicy {
    ttl: Duration::ZERO,
    renewable: false,
};

/// A stand-in Vault holding the users package's kind of user configuration.
async fn vault_with_users() -> StandIn {
    let vault = StandIn::start(None).await;
    vault.add_token("hvs.access", ROOT);
    let user = |name: &str, config: Value| {
        vault.put_secret("secret", &format!("configuration/users/{name}"), config)
    };
    user(
        "alice",
        json!({ "status": "allowed", "roles": ["admin_role", "additional_role"] }),
    );
    user(
        "bob",
        json!({ "status": "denied", "roles": ["admin_role"] }),
    );
    user(
        "carol",
        json!({ "status": "Allowed", "roles": ["admin_role"] }),
    );
    user(
        "hal",
        json!({ "status": "allowed", "roles": [],
                "requests": { "requests_per_hour": 2, "requests_per_day": 100, "random_shift_minutes": 0 } }),
    );
    user(
        "ivy",
        json!({ "status": "allowed", "roles": [],
                "requests": { "requests_per_hour": 5, "requests_per_day": 2 } }),
    );
    user(
        "kim",
        json!({ "status": "allowed", "roles": [],
                "requests": { "requests_per_hour": 10, "requests_per_day": 100 } }),
    );
    vault
}

fn vars<'a>(vault: &'a StandIn, ttl: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("AUTH_VAULT_ADDR", vault.address.as_str()),
        ("AUTH_VAULT_TOKEN", "hvs.access"),
        ("AUTH_USER_CONFIG_SOURCE", "vault"),
        ("AUTH_VAULT_CACHE_TTL_SECONDS", ttl),
    ]
}

async fn call(
    address: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{address}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn check(address: &str, key: &str, body: Value) -> Value {
    let (status, answer) = call(
        address,
        key,
        reqwest::Method::POST,
        "/api/access/check",
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["data"].clone()
}

fn end_of(limit: &Value) -> chrono::DateTime<chrono::Utc> {
    limit.as_str().expect("a limit").parse().expect("RFC 3339")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_roles_come_from_vault() {
    let vault = vault_with_users().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let address = TestApp::start(&url, &vars(&vault, "30")).await;
    let key = new_key();
    // A user only the database knows, allowed and a member there: Vault is the source, so denied.
    let (status, _) = call(
        &address,
        &key,
        reqwest::Method::PUT,
        "/api/users/dan",
        Some(json!({"status": "allowed"})),
    )
    .await;
    assert_eq!(status, 200);
    call(
        &address,
        &key,
        reqwest::Method::POST,
        "/api/role/admin_role",
        None,
    )
    .await;
    call(
        &address,
        &key,
        reqwest::Method::POST,
        "/api/membership/dan/admin_role",
        None,
    )
    .await;

    assert_eq!(
        check(
            &address,
            &key,
            json!({"user_id": "alice", "role_id": "admin_role", "chat_id": 7})
        )
        .await,
        json!({"access": "allowed", "permissions": "allowed", "rate_limits": null})
    );
    assert_eq!(
        check(
            &address,
            &key,
            json!({"user_id": "alice", "role_id": "other_role"})
        )
        .await,
        json!({"access": "allowed", "permissions": "denied", "rate_limits": null})
    );
    for user in ["bob", "carol", "nobody", "dan"] {
        assert_eq!(
            check(
                &address,
                &key,
                json!({"user_id": user, "role_id": "admin_role"})
            )
            .await,
            json!({"access": "denied", "permissions": "denied", "rate_limits": null}),
            "{user}"
        );
    }
    // History stays in the database, for users Vault knows (no `users` row needed).
    let (status, history) = call(
        &address,
        &key,
        reqwest::Method::GET,
        "/api/users/alice/requests",
        None,
    )
    .await;
    assert_eq!(status, 200, "{history}");
    let items = history["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["chat_id"], "7");
    assert_eq!(items[1]["permissions"], "allowed");
    let (_, denied) = call(
        &address,
        &key,
        reqwest::Method::GET,
        "/api/users/bob/requests",
        None,
    )
    .await;
    assert_eq!(denied["data"]["items"][0]["access"], "denied");
    let (status, _) = call(
        &address,
        &key,
        reqwest::Method::GET,
        "/api/users/nobody/requests",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_from_vault_limit_as_documented() {
    let vault = vault_with_users().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let address = TestApp::start(&url, &vars(&vault, "30")).await;
    let key = new_key();

    for n in 1..=2 {
        let answer = check(&address, &key, json!({"user_id": "hal"})).await;
        assert_eq!(answer["rate_limits"], Value::Null, "request {n}");
    }
    let before = chrono::Utc::now();
    let limited = check(&address, &key, json!({"user_id": "hal"})).await;
    assert_eq!(limited["access"], "allowed", "the limit is advisory");
    let length = end_of(&limited["rate_limits"]) - before;
    assert!(
        (length - chrono::Duration::hours(1)).num_seconds().abs() < 5,
        "1 h, no shift: {length}"
    );
    for _ in 0..2 {
        let again = check(&address, &key, json!({"user_id": "hal"})).await;
        assert_eq!(
            again["rate_limits"], limited["rate_limits"],
            "the end does not move"
        );
    }

    check(&address, &key, json!({"user_id": "ivy"})).await;
    check(&address, &key, json!({"user_id": "ivy"})).await;
    let before = chrono::Utc::now();
    let limited = check(&address, &key, json!({"user_id": "ivy"})).await;
    let length = end_of(&limited["rate_limits"]) - before;
    assert!(
        (length - chrono::Duration::hours(24)).num_seconds().abs() < 5,
        "the day quota wins: {length}"
    );

    // Alice has no `requests`: never limited.
    for _ in 0..5 {
        assert_eq!(
            check(&address, &key, json!({"user_id": "alice"})).await["rate_limits"],
            Value::Null
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_down_while_serving_answers_503_except_from_the_cache() {
    let vault = vault_with_users().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let address = TestApp::start(&url, &vars(&vault, "30")).await;
    let key = new_key();
    check(&address, &key, json!({"user_id": "alice"})).await;

    vault.cut();
    // Alice's configuration is cached: still answered.
    assert_eq!(
        check(&address, &key, json!({"user_id": "alice"})).await["access"],
        "allowed"
    );
    // Bob's is not: Vault must be asked, and it is away.
    let (status, body) = call(
        &address,
        &key,
        reqwest::Method::POST,
        "/api/access/check",
        Some(json!({"user_id": "bob"})),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["error"], "user configuration is unavailable, try again shortly",
        "{body}"
    );
    let (status, _) = call(
        &address,
        &key,
        reqwest::Method::POST,
        "/api/users/bob/tokens",
        None,
    )
    .await;
    assert_eq!(status, 503);
    // Nothing was recorded for the unanswered check.
    vault.restore();
    let (_, history) = call(
        &address,
        &key,
        reqwest::Method::GET,
        "/api/users/bob/requests",
        None,
    )
    .await;
    assert_eq!(
        history["data"]["items"].as_array().unwrap().len(),
        0,
        "{history}"
    );
    assert_eq!(
        check(&address, &key, json!({"user_id": "bob"})).await["access"],
        "denied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_use_tokens_follow_vault() {
    let vault = vault_with_users().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let address = TestApp::start(&url, &vars(&vault, "0")).await;
    let key = new_key();
    let post = |path: &'static str, body: Option<Value>| {
        let (address, key) = (address.clone(), key.clone());
        async move { call(&address, &key, reqwest::Method::POST, path, body).await }
    };

    let (status, issued) = post("/api/users/alice/tokens", None).await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(post("/api/users/bob/tokens", None).await.0, 403);
    assert_eq!(post("/api/users/carol/tokens", None).await.0, 403);
    assert_eq!(post("/api/users/nobody/tokens", None).await.0, 404);

    // Vault away: 503, and the token is not used up.
    vault.cut();
    assert_eq!(
        post("/api/tokens/validate", Some(json!({"token": token})))
            .await
            .0,
        503
    );
    vault.restore();
    let (status, owner) = post("/api/tokens/validate", Some(json!({"token": token}))).await;
    assert_eq!(status, 200, "{owner}");
    assert_eq!(
        owner["data"],
        json!({"user_id": "alice", "status": "allowed", "roles": ["additional_role", "admin_role"]})
    );
    assert_eq!(
        post("/api/tokens/validate", Some(json!({"token": token})))
            .await
            .0,
        401
    );

    // Denied in Vault after issue: the token is refused (and used up).
    let (_, issued) = post("/api/users/alice/tokens", None).await;
    let token = issued["data"]["token"].as_str().unwrap().to_owned();
    vault.put_secret(
        "secret",
        "configuration/users/alice",
        json!({ "status": "denied", "roles": [] }),
    );
    assert_eq!(
        post("/api/tokens/validate", Some(json!({"token": token})))
            .await
            .0,
        401
    );
}

/// Concurrent checks of one Vault user on two instances sharing PostgreSQL are counted exactly, with no `users`
/// row to lock (an advisory lock serialises them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_of_a_vault_user_on_two_instances_are_counted_exactly() {
    let vault = vault_with_users().await;
    let Some(app) = TestApp::spawn_with(Backend::Postgres, &vars(&vault, "30")).await else {
        return;
    };
    let second = app.spawn_another(&vars(&vault, "30")).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let key = app.key.clone();
            let base = if i % 2 == 0 {
                app.address.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                check(
                    &base,
                    &key,
                    json!({"user_id": "kim", "message_id": i.to_string()}),
                )
                .await["rate_limits"]
                    .clone()
            })
        })
        .collect();
    let mut limits = Vec::new();
    for task in tasks {
        limits.push(task.await.unwrap());
    }
    assert_eq!(
        limits.iter().filter(|l| l.is_null()).count(),
        10,
        "{limits:?}"
    );
    let ends: std::collections::HashSet<String> = limits
        .iter()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ends.len(), 1, "one limit end for all: {ends:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_gated_by_vault_without_user_rows() {
    let vault = vault_with_users().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let address = TestApp::start(&url, &vars(&vault, "0")).await;
    let key = new_key();
    let create = |user: &'static str| {
        let (address, key) = (address.clone(), key.clone());
        async move {
            let body = json!({"user_id": user, "permissions": ["docs:*"]});
            call(
                &address,
                &key,
                reqwest::Method::POST,
                "/api/sessions",
                Some(body),
            )
            .await
        }
    };
    let (status, created) = create("alice").await;
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["session_id"]
        .as_str()
        .or_else(|| created["data"]["id"].as_str())
        .unwrap_or_else(|| panic!("no session id in {created}"))
        .to_owned();
    let (status, checked) = call(
        &address,
        &key,
        reqwest::Method::POST,
        &format!("/api/sessions/{id}/check"),
        Some(json!({"permissions": ["docs:read", "admin"]})),
    )
    .await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["data"]["docs:read"], true, "{checked}");
    assert_eq!(checked["data"]["admin"], false, "{checked}");
    assert_eq!(create("bob").await.0, 403);
    assert_eq!(create("carol").await.0, 403);
    assert_eq!(create("nobody").await.0, 404);
    vault.cut();
    assert_eq!(create("kim").await.0, 503);
}

/// Uses of a Vault user's single-use token are audited in their transaction: `allowed` while Vault allows the
/// user, `denied` once Vault denies them (the token is used up either way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_uses_of_vault_users_are_audited_with_vaults_answer() {
    let vault = vault_with_users().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let address = TestApp::start(&url, &vars(&vault, "0")).await;
    let key = new_key();
    let post = |path: &'static str, body: Option<Value>| {
        let (address, key) = (address.clone(), key.clone());
        async move { call(&address, &key, reqwest::Method::POST, path, body).await }
    };
    let issue = || async {
        let (status, issued) = post("/api/users/alice/tokens", None).await;
        assert_eq!(status, 200, "{issued}");
        issued["data"]["token"].as_str().unwrap().to_owned()
    };
    let use_token = |token: String| post("/api/tokens/validate", Some(json!({ "token": token })));

    assert_eq!(use_token(issue().await).await.0, 200);
    let token = issue().await;
    vault.put_secret(
        "secret",
        "configuration/users/alice",
        json!({ "status": "denied", "roles": [] }),
    );
    assert_eq!(use_token(token.clone()).await.0, 401);
    // Used up: a second try matches nothing and writes nothing (decision logging is off).
    assert_eq!(use_token(token).await.0, 401);

    let (status, page) = call(
        &address,
        &key,
        reqwest::Method::GET,
        "/api/audit?action=user_token.use",
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let outcomes: Vec<&str> = page["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["denied", "allowed"]);
    assert!(!page.to_string().contains("alice"), "{page}");
}

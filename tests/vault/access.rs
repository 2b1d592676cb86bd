//! The user-access features with `AUTH_USER_CONFIG_SOURCE=vault`: status, roles and quotas from Vault's
//! `configuration/users/{tenant id}/{user_id}`, request history and limits in the database.

use std::time::Duration;

use serde_json::{json, Value};

use warden_core::domain::{ClientKey, TenantSecret};

use crate::helpers::{new_key, Backend, TestApp};
use crate::standin::{StandIn, TokenPolicy};

const ROOT: TokenPolicy = TokenPolicy {
    ttl: Duration::ZERO,
    renewable: false,
};

/// The tenant secret of these tests, so they know the tenant ids of their client keys.
const TENANT_SECRET: &str = "vault-access-tests-tenant-secret-0123456789";
/// The client key whose users [`vault_with_users`] holds.
const KEY: &str = "5f0c6c1e-8a4b-4c3d-9e2f-1a2b3c4d5e6f";

/// The tenant id of `key` under [`TENANT_SECRET`].
fn tenant_id(key: &str) -> String {
    TenantSecret::new(TENANT_SECRET.as_bytes().to_vec())
        .tenant_of(&ClientKey::parse(key).unwrap())
        .as_str()
        .to_owned()
}

/// Where `key`'s tenant's user `name` lives in Vault.
fn user_path(key: &str, name: &str) -> String {
    format!("configuration/users/{}/{name}", tenant_id(key))
}

/// A stand-in Vault holding the users package's kind of user configuration, for the tenant of [`KEY`].
async fn vault_with_users() -> StandIn {
    let vault = StandIn::start(None).await;
    vault.add_token("hvs.access", ROOT);
    let user =
        |name: &str, config: Value| vault.put_secret("secret", &user_path(KEY, name), config);
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

fn vars<'a>(vault: &'a StandIn, ttl: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("AUTH_TENANT_SECRET", TENANT_SECRET),
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
    let key = KEY.to_owned();
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
    let key = KEY.to_owned();

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
    let key = KEY.to_owned();
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
    let key = KEY.to_owned();
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
        &user_path(KEY, "alice"),
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
    let Some(mut app) = TestApp::spawn_with(Backend::Postgres, &vars(&vault, "30")).await else {
        return;
    };
    app.key = KEY.to_owned();
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
    let key = KEY.to_owned();
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
    let key = KEY.to_owned();
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
        &user_path(KEY, "alice"),
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

/// Runs `test` on a fresh Warden (Vault as the user directory, no cache) on `backend`, with [`KEY`] as its key;
/// skipped on PostgreSQL when it is not configured.
async fn vault_app(backend: Backend, vault: &StandIn) -> Option<TestApp> {
    let mut app = TestApp::spawn_with(backend, &vars(vault, "0")).await?;
    app.key = KEY.to_owned();
    Some(app)
}

/// Creates a session for `user` with `key`; returns the status and the session id, if one was made.
async fn new_session(app: &TestApp, key: &str, user: &str) -> (u16, Option<String>) {
    let body = json!({"user_id": user, "permissions": ["docs:*"]});
    let (status, answer) = call(
        &app.address,
        key,
        reqwest::Method::POST,
        "/api/sessions",
        Some(body),
    )
    .await;
    let id = answer["data"]["session_id"].as_str().map(str::to_owned);
    (status, id)
}

async fn session_get(app: &TestApp, id: &str) -> u16 {
    let path = format!("/api/sessions/{id}");
    call(&app.address, KEY, reqwest::Method::GET, &path, None)
        .await
        .0
}

async fn another_tenant_cannot_read_a_tenants_vault_users(backend: Backend) {
    let vault = vault_with_users().await;
    let Some(app) = vault_app(backend, &vault).await else {
        return;
    };
    let intruder = new_key();
    // Tenant A's alice is allowed; to tenant B she is nobody, in every feature that reads the directory.
    assert_eq!(
        check(&app.address, KEY, json!({"user_id": "alice"})).await["access"],
        "allowed"
    );
    assert_eq!(
        check(&app.address, &intruder, json!({"user_id": "alice"})).await["access"],
        "denied"
    );
    assert_eq!(new_session(&app, &intruder, "alice").await.0, 404);
    let (status, _) = call(
        &app.address,
        &intruder,
        reqwest::Method::POST,
        "/api/users/alice/tokens",
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Tenant B's own alice is B's alone, and does not leak back to A.
    vault.put_secret(
        "secret",
        &user_path(&intruder, "alice"),
        json!({ "status": "denied", "roles": [] }),
    );
    assert_eq!(new_session(&app, &intruder, "alice").await.0, 403);
    assert_eq!(new_session(&app, KEY, "alice").await.0, 200);
}

async fn cleanup_keeps_live_vault_mode_sessions(backend: Backend) {
    let vault = vault_with_users().await;
    let Some(app) = vault_app(backend, &vault).await else {
        return;
    };
    let (status, id) = new_session(&app, KEY, "alice").await;
    assert_eq!(status, 200);
    let id = id.unwrap();
    // The session has no `users` row behind it (Vault is the directory), and is live.
    let (status, removed) = call(
        &app.address,
        KEY,
        reqwest::Method::POST,
        "/api/sessions/cleanup",
        None,
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["data"], json!({"removed": 0}));
    assert_eq!(session_get(&app, &id).await, 200);
}

async fn a_session_of_a_user_vault_denies_after_its_creation_is_refused_on_use(backend: Backend) {
    let vault = vault_with_users().await;
    let Some(app) = vault_app(backend, &vault).await else {
        return;
    };
    let (_, first) = new_session(&app, KEY, "alice").await;
    let (_, second) = new_session(&app, KEY, "alice").await;
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(session_get(&app, &first).await, 200);

    vault.put_secret(
        "secret",
        &user_path(KEY, "alice"),
        json!({ "status": "denied", "roles": [] }),
    );
    assert_eq!(session_get(&app, &first).await, 404);
    let check_path = format!("/api/sessions/{second}/check");
    let (status, _) = call(
        &app.address,
        KEY,
        reqwest::Method::POST,
        &check_path,
        Some(json!({"permissions": ["docs:read"]})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app.address,
        KEY,
        reqwest::Method::PUT,
        &format!("/api/sessions/{second}/ttl"),
        Some(json!({"ttl_seconds": 60})),
    )
    .await;
    assert_eq!(status, 404);

    // Ended, not suspended: allowing alice again does not bring them back.
    vault.put_secret(
        "secret",
        &user_path(KEY, "alice"),
        json!({ "status": "allowed", "roles": [] }),
    );
    assert_eq!(session_get(&app, &first).await, 404);
    assert_eq!(session_get(&app, &second).await, 404);
    // A user whose configuration Vault now holds in the wrong shape (denied, failing closed) likewise.
    let (_, third) = new_session(&app, KEY, "alice").await;
    let third = third.unwrap();
    vault.put_secret("secret", &user_path(KEY, "alice"), json!({}));
    assert_eq!(session_get(&app, &third).await, 404);
}

/// One `#[tokio::test]` per backend for each listed `async fn name(backend: Backend)`.
macro_rules! on_both_backends_with_vault {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends_with_vault!(
    another_tenant_cannot_read_a_tenants_vault_users,
    cleanup_keeps_live_vault_mode_sessions,
    a_session_of_a_user_vault_denies_after_its_creation_is_refused_on_use,
);

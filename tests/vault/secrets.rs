//! Start-up with Vault: secrets, fallback to the environment, AppRole, token renewal, Vault going away.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use warden::config::Settings;
use warden::startup::Application;

use crate::helpers::TestApp;
use crate::standin::{StandIn, TokenPolicy};

const TENANT_SECRET: &str = "tenant-secret-from-vault-0123456789abcdef";
/// An HS256 secret good enough for the settings' checks.
const JWT_SECRET: &str = "vA7kQ2mX9pL4wZ8rT1yB6nC3dF0gH5jS";
const ROOT: TokenPolicy = TokenPolicy {
    ttl: Duration::ZERO,
    renewable: false,
};

fn sqlite_url(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}", dir.path().join(name).display())
}

async fn roles(address: &str, key: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(format!("{address}/api/roles"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<serde_json::Value>().await.unwrap()["data"].clone()
}

async fn create_role(address: &str, key: &str, role: &str) {
    let response = reqwest::Client::new()
        .post(format!("{address}/api/role/{role}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn send(
    address: &str,
    key: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{address}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn build(vars: &[(&str, &str)]) -> anyhow::Result<Application> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let settings =
        Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    Application::build(settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_vault_win_over_the_environment() {
    let vault = StandIn::start(None).await;
    vault.add_token("hvs.warden-token", ROOT);
    let dir = tempfile::tempdir().unwrap();
    let from_vault = sqlite_url(&dir, "from-vault.sqlite3");
    vault.put_secret(
        "secret",
        "warden",
        json!({ "tenant_secret": TENANT_SECRET, "database_url": from_vault, "jwt_secret": JWT_SECRET }),
    );
    let key = helpers_key();

    let address = TestApp::start(
        &sqlite_url(&dir, "from-env.sqlite3"),
        &[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_TOKEN", "hvs.warden-token"),
        ],
    )
    .await;
    create_role(&address, &key, "editor").await;

    // The data went to Vault's database, under Vault's tenant secret: a Warden without Vault that is given the
    // same URL and secret sees it.
    assert!(!dir.path().join("from-env.sqlite3").exists());
    let plain = TestApp::start(&from_vault, &[("AUTH_TENANT_SECRET", TENANT_SECRET)]).await;
    assert_eq!(roles(&plain, &key).await[0]["role"], "editor");
    assert_eq!(vault.count("GET", "v1/secret/data/warden"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_is_the_fallback_for_secrets_vault_does_not_hold() {
    let vault = StandIn::start(None).await;
    vault.add_token("hvs.warden-token", ROOT);
    vault.put_secret("kv", "apps/warden", json!({ "jwt_secret": JWT_SECRET }));
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "env.sqlite3");
    let env_secret = "tenant-secret-from-the-environment-0123456789";
    let key = helpers_key();

    let address = TestApp::start(
        &url,
        &[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_TOKEN", "hvs.warden-token"),
            ("AUTH_VAULT_MOUNT", "kv"),
            ("AUTH_VAULT_SECRETS_PATH", "apps/warden"),
            ("AUTH_TENANT_SECRET", env_secret),
        ],
    )
    .await;
    create_role(&address, &key, "viewer").await;
    let plain = TestApp::start(&url, &[("AUTH_TENANT_SECRET", env_secret)]).await;
    assert_eq!(roles(&plain, &key).await[0]["role"], "viewer");

    // No secret at the path at all: the environment applies too.
    let address = TestApp::start(
        &sqlite_url(&dir, "other.sqlite3"),
        &[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_TOKEN", "hvs.warden-token"),
            ("AUTH_VAULT_SECRETS_PATH", "nothing/here"),
        ],
    )
    .await;
    create_role(&address, &key, "viewer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approle_login_in_a_namespace_gets_the_token_that_reads_the_secrets() {
    let vault = StandIn::start(None).await;
    vault.require_namespace("team-a");
    vault.enable_approle(
        "warden-role-id",
        "warden-secret-id",
        TokenPolicy {
            ttl: Duration::from_secs(3600),
            renewable: true,
        },
    );
    vault.put_secret(
        "secret",
        "warden",
        json!({ "tenant_secret": TENANT_SECRET }),
    );
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "approle.sqlite3");
    let key = helpers_key();

    let address = TestApp::start(
        &url,
        &[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_ROLE_ID", "warden-role-id"),
            ("AUTH_VAULT_SECRET_ID", "warden-secret-id"),
            ("AUTH_VAULT_NAMESPACE", "team-a"),
        ],
    )
    .await;
    create_role(&address, &key, "ops").await;

    assert_eq!(vault.count("POST", "v1/auth/approle/login"), 1);
    assert_eq!(vault.count("GET", "v1/secret/data/warden"), 1);
    let plain = TestApp::start(&url, &[("AUTH_TENANT_SECRET", TENANT_SECRET)]).await;
    assert_eq!(roles(&plain, &key).await[0]["role"], "ops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_approle_login_stops_start_up_without_showing_the_secret_id() {
    let vault = StandIn::start(None).await;
    vault.enable_approle("warden-role-id", "the-right-one", ROOT);
    let dir = tempfile::tempdir().unwrap();
    let err = build(&[
        ("AUTH_DATABASE_URL", &sqlite_url(&dir, "x.sqlite3")),
        ("AUTH_SERVER_PORT", "0"),
        ("AUTH_VAULT_ADDR", &vault.address),
        ("AUTH_VAULT_ROLE_ID", "warden-role-id"),
        ("AUTH_VAULT_SECRET_ID", "a-wrong-secret-id"),
    ])
    .await
    .expect_err("start-up fails");
    let message = format!("{err:#}");
    assert!(message.contains("auth/approle/login"), "{message}");
    assert!(message.contains("invalid role or secret ID"), "{message}");
    assert!(!message.contains("a-wrong-secret-id"), "{message}");
    assert!(!dir.path().join("x.sqlite3").exists(), "no database opened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_vault_at_start_is_a_clear_error() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let err = build(&[
        ("AUTH_DATABASE_URL", &sqlite_url(&dir, "x.sqlite3")),
        ("AUTH_SERVER_PORT", "0"),
        ("AUTH_VAULT_ADDR", &address),
        ("AUTH_VAULT_TOKEN", "hvs.do-not-print-me"),
    ])
    .await
    .expect_err("start-up fails");
    let message = format!("{err:#}");
    assert!(
        message.starts_with("vault at http://127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("is unreachable"), "{message}");
    assert!(!message.contains("do-not-print-me"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_vault_goes_away_warden_keeps_serving_and_readyz_says_so() {
    let vault = StandIn::start(None).await;
    vault.add_token(
        "hvs.short-lived",
        TokenPolicy {
            ttl: Duration::from_secs(6),
            renewable: true,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let address = TestApp::start(
        &sqlite_url(&dir, "x.sqlite3"),
        &[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_TOKEN", "hvs.short-lived"),
        ],
    )
    .await;
    let key = helpers_key();
    assert_eq!(readyz(&address).await, (200, "ok".to_owned()));

    // The token's renewal (due at about 4 s of its 6 s) finds Vault gone.
    vault.cut();
    assert!(
        wait_for_vault_status(&address, "unreachable").await,
        "readyz reports vault unreachable"
    );
    create_role(&address, &key, "still-serving").await;
    assert_eq!(readyz(&address).await.0, 200);

    vault.restore();
    assert!(
        wait_for_vault_status(&address, "ok").await,
        "readyz reports vault back"
    );
    // It came back in time for the token to be renewed (the attempts while it was cut never reached it).
    assert!(vault.count("POST", "v1/auth/token/renew-self") >= 1);
}

async fn readyz(address: &str) -> (u16, String) {
    let response = reqwest::get(format!("{address}/readyz")).await.unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["data"]["vault"].as_str().unwrap_or("-").to_owned(),
    )
}

async fn wait_for_vault_status(address: &str, wanted: &str) -> bool {
    for _ in 0..100 {
        if readyz(address).await.1 == wanted {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn helpers_key() -> String {
    crate::helpers::new_key()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_has_no_vault_entry_without_vault() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let data = app.data(Method::GET, "/readyz").await;
    assert!(data.get("vault").is_none(), "{data}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_secret_from_vault_signs_tokens() {
    let vault = StandIn::start(None).await;
    vault.add_token("hvs.warden-token", ROOT);
    vault.put_secret(
        "secret",
        "warden",
        json!({ "tenant_secret": TENANT_SECRET, "jwt_secret": JWT_SECRET }),
    );
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir, "jwt.sqlite3");
    let key = helpers_key();
    let other = "Mq3Wz8Xr1Tp6Ys4Vn9Kb2Hc7Jd0Lf5Ga";

    // The environment's JWT secret loses to Vault's.
    let address = TestApp::start(
        &url,
        &[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_TOKEN", "hvs.warden-token"),
            ("AUTH_JWT_SECRET_KEY", other),
        ],
    )
    .await;
    create_role(&address, &key, "editor").await;
    let (status, _) = send(&address, &key, "/api/membership/ann/editor", None).await;
    assert_eq!(status, 200);
    let (status, issued) = send(&address, &key, "/api/token/ann", None).await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["data"]["access_token"].as_str().unwrap().to_owned();
    let verify = |address: String| {
        let (key, token) = (key.clone(), token.clone());
        async move {
            send(
                &address,
                &key,
                "/api/token/verify",
                Some(json!({ "token": token })),
            )
            .await
            .0
        }
    };
    assert_eq!(verify(address.clone()).await, 200);

    // A Warden without Vault given the same secret in the environment accepts the token; one with the
    // environment's other secret does not.
    let same = TestApp::start(
        &url,
        &[
            ("AUTH_TENANT_SECRET", TENANT_SECRET),
            ("AUTH_JWT_SECRET_KEY", JWT_SECRET),
        ],
    )
    .await;
    assert_eq!(verify(same).await, 200);
    let different = TestApp::start(
        &url,
        &[
            ("AUTH_TENANT_SECRET", TENANT_SECRET),
            ("AUTH_JWT_SECRET_KEY", other),
        ],
    )
    .await;
    assert_eq!(verify(different).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_jwt_secret_in_vault_stops_start_up() {
    let vault = StandIn::start(None).await;
    vault.add_token("hvs.warden-token", ROOT);
    vault.put_secret("secret", "warden", json!({ "jwt_secret": "too-weak" }));
    let dir = tempfile::tempdir().unwrap();
    let err = build(&[
        ("AUTH_DATABASE_URL", &sqlite_url(&dir, "x.sqlite3")),
        ("AUTH_SERVER_PORT", "0"),
        ("AUTH_VAULT_ADDR", &vault.address),
        ("AUTH_VAULT_TOKEN", "hvs.warden-token"),
    ])
    .await
    .expect_err("start-up fails");
    let message = format!("{err:#}");
    assert!(message.contains("jwt_secret"), "{message}");
    assert!(!message.contains("too-weak"), "{message}");
}

//! Warden's test kit (dev-only): `TestApp`, a real Warden on a random port with a fresh database, driven over
//! HTTP; every integration suite of the workspace starts its servers here.
//!
//! SQLite tests get a file in a temporary folder. PostgreSQL tests get a new database, created from
//! `TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`) and dropped afterwards; without that
//! variable they are skipped, except under `CI=true`, where a missing PostgreSQL is a failure.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use warden::config::Settings;
use warden::startup::Application;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test's database lives, and how to get rid of it.
#[derive(Debug)]
enum DbGuard {
    Sqlite(
        #[expect(dead_code, reason = "held for its Drop, which removes the folder")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime, which cannot be blocked on; a helper thread with its own runtime
            // removes the database and is waited for, so databases never pile up.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&pool)
                        .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh database no Warden has touched yet (for start-up tests); removed when dropped.
#[derive(Debug)]
pub struct EmptyDatabase {
    pub url: String,
    guard: DbGuard,
}

impl EmptyDatabase {
    /// `None` when PostgreSQL is not configured outside CI.
    pub async fn create(backend: Backend) -> Option<Self> {
        let (url, guard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("warden.sqlite3").display());
                (url, DbGuard::Sqlite(dir))
            }
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url() else {
                    eprintln!("skipped: TEST_POSTGRES_URL is not set");
                    return None;
                };
                let name = format!("warden_test_{}", uuid::Uuid::new_v4().simple());
                let pool = sqlx::PgPool::connect(&admin_url)
                    .await
                    .expect("TEST_POSTGRES_URL must point at a reachable PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&pool)
                    .await
                    .expect("create a test database");
                pool.close().await;
                let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                (url.to_string(), DbGuard::Postgres { admin_url, name })
            }
        };
        Some(Self { url, guard })
    }
}

#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// A fresh client key: this test's tenant.
    pub key: String,
    database_url: String,
    _db: DbGuard,
}

/// The server secrets PostgreSQL requires outside debug mode: random-looking, and the same for every instance on one
/// database (derived from the database's name, fresh per test, so a proxied URL gets the same). SQLite needs none:
/// its generated secrets live in the file beside the database.
pub fn server_secrets_for(database_url: &str) -> Vec<(String, String)> {
    use sha2::Digest;
    if !database_url.starts_with("postgres") {
        return Vec::new();
    }
    let name = url::Url::parse(database_url)
        .map(|url| url.path().to_owned())
        .unwrap_or_else(|_| database_url.to_owned());
    let derive =
        |label: &str| hex::encode(sha2::Sha256::digest(format!("{label}|{name}").as_bytes()));
    vec![
        ("AUTH_TENANT_SECRET".into(), derive("tenant")),
        ("AUTH_JWT_SECRET_KEY".into(), derive("jwt")),
    ]
}

/// A fresh random client key.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        warden::telemetry::init(warden::config::LogFormat::Text, "debug");
    }
}

/// A change to the settings a [`TestAppBuilder`] applies after reading its variables.
type Tweak = Box<dyn FnOnce(&mut Settings) + Send>;

/// Builds a [`TestApp`]: `TestApp::on(Backend::Postgres).with(|s| s.audit.decisions = true).start()`.
#[must_use = "a builder does nothing until `start`"]
pub struct TestAppBuilder {
    backend: Backend,
    vars: Vec<(String, String)>,
    tweaks: Vec<Tweak>,
}

impl std::fmt::Debug for TestAppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAppBuilder")
            .field("backend", &self.backend)
            .field("tweaks", &self.tweaks.len())
            .finish_non_exhaustive()
    }
}

impl TestAppBuilder {
    /// Sets an `AUTH_*` variable, as the environment would (parsed and validated like in production).
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Changes the typed settings after the variables are read.
    pub fn with(mut self, tweak: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Starts Warden; `None` when PostgreSQL is not configured outside CI.
    pub async fn start(self) -> Option<TestApp> {
        init_logs();
        let EmptyDatabase {
            url: database_url,
            guard,
        } = EmptyDatabase::create(self.backend).await?;
        let mut settings = TestApp::settings(&database_url, &self.vars);
        for tweak in self.tweaks {
            tweak(&mut settings);
        }
        let address = TestApp::start_with(settings).await;
        Some(TestApp {
            address,
            client: reqwest::Client::new(),
            key: new_key(),
            database_url,
            _db: guard,
        })
    }
}

impl TestApp {
    /// A builder for a Warden on `backend`, with typed settings.
    pub fn on(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            vars: Vec::new(),
            tweaks: Vec::new(),
        }
    }

    /// Starts Warden on `backend`; `None` when PostgreSQL is not configured outside CI.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::on(backend).start().await
    }

    /// Starts Warden with extra `AUTH_*` settings.
    pub async fn spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Option<Self> {
        vars.iter()
            .fold(Self::on(backend), |builder, (name, value)| {
                builder.var(name, value)
            })
            .start()
            .await
    }

    /// Starts one more Warden on this test's database (another instance, as in a multi-instance deployment).
    pub async fn spawn_another(&self, vars: &[(&str, &str)]) -> String {
        Self::start(&self.database_url, vars).await
    }

    /// Replaces this test's server with one started with `vars` on the same database (the first one keeps
    /// running, idle), for tests that need settings `on_both_backends!` does not pass.
    pub async fn respawn(self, vars: &[(&str, &str)]) -> Self {
        let address = Self::start(&self.database_url, vars).await;
        Self { address, ..self }
    }

    /// POSTs a JSON body with any key.
    pub async fn post_json_as(&self, key: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// Which backend this test runs on.
    pub fn backend(&self) -> Backend {
        if self.database_url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// A store opened directly on this test's database (to look at what is stored); close it when done.
    pub async fn open_store(&self) -> warden_store::Store {
        let url = self.database_url.clone();
        let settings =
            Settings::from_lookup(|name| (name == "AUTH_DATABASE_URL").then(|| url.clone()))
                .expect("settings");
        warden_store::Store::connect(&settings.database)
            .await
            .expect("store")
    }

    /// Recomputes the (only) audited tenant's chain straight from the database: its entry count and the first
    /// problem found, if any.
    pub async fn audit_chain(&self) -> (usize, Option<String>) {
        let store = self.open_store().await;
        let tenants = store.audited_tenants().await.expect("tenants");
        assert_eq!(tenants.len(), 1, "one audited tenant");
        let report = warden::service::audit::verify_chain(&store, &tenants[0])
            .await
            .expect("chain");
        store.close().await;
        (report.entries, report.problem)
    }

    /// Runs a query returning one text column directly against this test's database (to look at what is stored).
    pub async fn raw_strings(&self, sql: &str) -> Vec<String> {
        let store = self.open_store().await;
        let rows = store.raw_strings(sql).await.expect("query");
        store.close().await;
        rows
    }

    /// This test's database URL.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Starts a Warden on any database URL; returns its base address.
    pub async fn start(database_url: &str, vars: &[(&str, &str)]) -> String {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::start_with(Self::settings(database_url, &vars)).await
    }

    /// The settings of a test server on `database_url`: a random port, the server secrets the database needs,
    /// then `vars`.
    pub fn settings(database_url: &str, vars: &[(String, String)]) -> Settings {
        let mut map: HashMap<String, String> = HashMap::from([
            ("AUTH_DATABASE_URL".into(), database_url.to_owned()),
            ("AUTH_SERVER_PORT".into(), "0".into()),
        ]);
        map.extend(server_secrets_for(database_url));
        map.extend(vars.iter().cloned());
        Settings::from_lookup(|name| map.get(name).cloned()).expect("valid test settings")
    }

    /// Starts a Warden with these settings; returns its base address. It runs until the test ends.
    pub async fn start_with(settings: Settings) -> String {
        let app = Application::build(settings).await.expect("Warden starts");
        let address = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until(std::future::pending()));
        address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request with this test's key; returns the status and the JSON body.
    pub async fn call(&self, method: Method, path: &str) -> (StatusCode, Value) {
        self.call_as(&self.key, method, path).await
    }

    pub async fn call_as(&self, key: &str, method: Method, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(key)
            .header("Content-Type", "application/json")
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// `method path` as this app's tenant, sent to another instance at `base` (from [`Self::spawn_another`]).
    pub async fn call_on(&self, base: &str, method: Method, path: &str) -> (StatusCode, Value) {
        self.call_on_as(base, &self.key, method, path).await
    }

    /// `method path` with client key `key`, sent to the instance at `base`.
    pub async fn call_on_as(
        &self,
        base: &str,
        key: &str,
        method: Method,
        path: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path).await
    }

    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::POST, path).await
    }

    /// POSTs a JSON body with this test's key.
    pub async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// `data` of a 200 write answer without its `revision` (checked to be a positive number), for comparisons.
    pub async fn write(&self, method: Method, path: &str) -> Value {
        without_revision(self.data(method, path).await)
    }

    /// `data` of a 200 answer, after checking the envelope.
    pub async fn data(&self, method: Method, path: &str) -> Value {
        let (status, body) = self.call(method, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_success_envelope(&body);
        body["data"].clone()
    }
}

/// Removes a write answer's `revision` after checking it is a positive number.
pub fn without_revision(mut data: Value) -> Value {
    let revision = data
        .as_object_mut()
        .and_then(|o| o.remove("revision"))
        .unwrap_or_else(|| panic!("write answers carry a revision: {data}"));
    assert!(revision.as_i64().is_some_and(|r| r >= 0), "{revision}");
    data
}

fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL half must run in CI")
        }
        _ => None,
    }
}

/// Reads a response as JSON; a non-JSON body fails the test (every answer must be the envelope).
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body read");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text:?}"));
    (status, body)
}

pub fn assert_success_envelope(body: &Value) {
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["code"], 200, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body.get("data").is_some(), "{body}");
    assert_timestamp(body);
}

/// Checks the error envelope and its code; returns the `error` detail.
pub fn assert_error_envelope(status: StatusCode, body: &Value, expected: u16) -> String {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], expected, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_timestamp(body);
    body["error"].as_str().expect("error detail").to_owned()
}

fn assert_timestamp(body: &Value) {
    let ts = body["timestamp"].as_str().expect("timestamp");
    let parsed = chrono::DateTime::parse_from_rfc3339(ts).expect("RFC 3339 timestamp");
    assert_eq!(parsed.offset().local_minus_utc(), 0, "UTC: {ts}");
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite)
                        .await
                        .expect("SQLite always runs");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

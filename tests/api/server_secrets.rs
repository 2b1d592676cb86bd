//! Server secrets never live next to the data: PostgreSQL refuses to start without them outside debug mode, and
//! SQLite keeps generated ones in an owner-only file beside the database, never in it.

use reqwest::Method;
use warden::config::Settings;
use warden::startup::Application;
use warden_store::Store;

use crate::helpers::{Backend, EmptyDatabase, TestApp};

const TENANT_SECRET: &str = "6f1c9a4e2b7d8053c1e9f4a7b2d6c8e0";
const JWT_SECRET: &str = "b3e8d1a6f9c2047e5d8a1c4f7b0e3d96";

fn settings(url: &str, vars: &[(&str, &str)]) -> Settings {
    let url = url.to_owned();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(move |name| match name {
        "AUTH_DATABASE_URL" => Some(url.clone()),
        "AUTH_SERVER_PORT" => Some("0".into()),
        _ => vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
    })
    .expect("valid settings")
}

/// Builds (without serving) a Warden; the start-up error, if any.
async fn start_error(url: &str, vars: &[(&str, &str)]) -> Option<String> {
    Application::build(settings(url, vars))
        .await
        .err()
        .map(|e| format!("{e:#}"))
}

async fn open(url: &str) -> Store {
    Store::connect(&settings(url, &[]).database)
        .await
        .expect("store")
}

/// A value of `warden_meta`, read directly.
async fn meta(url: &str, key: &str) -> Option<String> {
    let store = open(url).await;
    let value = store.meta_get(key).await.expect("meta");
    store.close().await;
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_to_start_without_server_secrets_outside_debug_mode() {
    let Some(db) = EmptyDatabase::create(Backend::Postgres).await else {
        return;
    };
    let err = start_error(&db.url, &[]).await.expect("refused");
    assert!(
        err.contains("AUTH_TENANT_SECRET") && err.contains("PostgreSQL"),
        "{err}"
    );
    let err = start_error(&db.url, &[("AUTH_TENANT_SECRET", TENANT_SECRET)])
        .await
        .expect("refused");
    assert!(err.contains("AUTH_JWT_SECRET_KEY"), "{err}");
    assert!(!err.contains(TENANT_SECRET), "{err}");
    // Neither refusal left a secret behind.
    assert_eq!(meta(&db.url, "tenant_secret").await, None);
    assert_eq!(meta(&db.url, "jwt_hs256_secret").await, None);

    assert_eq!(
        start_error(
            &db.url,
            &[
                ("AUTH_TENANT_SECRET", TENANT_SECRET),
                ("AUTH_JWT_SECRET_KEY", JWT_SECRET),
            ],
        )
        .await,
        None
    );
    assert_eq!(meta(&db.url, "tenant_secret").await, None);
    assert_eq!(meta(&db.url, "jwt_hs256_secret").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_in_debug_mode_still_generates_and_an_upgrade_is_told_how_to_keep_its_secrets() {
    let Some(db) = EmptyDatabase::create(Backend::Postgres).await else {
        return;
    };
    assert_eq!(
        start_error(&db.url, &[("AUTH_DEBUG_MODE", "true")]).await,
        None
    );
    let tenant = meta(&db.url, "tenant_secret").await.expect("generated");
    let jwt = meta(&db.url, "jwt_hs256_secret").await.expect("generated");

    // Outside debug mode the stored secrets are not used, and the refusal says how to keep them.
    let err = start_error(&db.url, &[]).await.expect("refused");
    assert!(
        err.contains("AUTH_TENANT_SECRET") && err.contains("hex:"),
        "{err}"
    );
    assert!(!err.contains(&tenant), "{err}");

    // Configured as `hex:` + the stored value, they are the same secrets (the tenant check passes), and the
    // database's copies are erased.
    let (tenant_var, jwt_var) = (format!("hex:{tenant}"), format!("hex:{jwt}"));
    assert_eq!(
        start_error(
            &db.url,
            &[
                ("AUTH_TENANT_SECRET", tenant_var.as_str()),
                ("AUTH_JWT_SECRET_KEY", jwt_var.as_str()),
            ],
        )
        .await,
        None
    );
    assert_eq!(meta(&db.url, "tenant_secret").await, None);
    assert_eq!(meta(&db.url, "jwt_hs256_secret").await, None);
    // A different tenant secret is refused by the check value.
    let err = start_error(
        &db.url,
        &[
            ("AUTH_TENANT_SECRET", TENANT_SECRET),
            ("AUTH_JWT_SECRET_KEY", jwt_var.as_str()),
        ],
    )
    .await
    .expect("refused");
    assert!(err.contains("AUTH_TENANT_SECRET differs"), "{err}");
}

/// The file beside an SQLite database.
fn sqlite_path(app: &TestApp) -> std::path::PathBuf {
    std::path::PathBuf::from(app.database_url().strip_prefix("sqlite://").unwrap())
}

/// The secrets file's values, as raw bytes.
fn secrets_in_file(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let file = warden::service::server_secrets::secrets_file_of(&sqlite_path(app));
    std::fs::read_to_string(file)
        .expect("the secrets file exists")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (key, value) = line.split_once('=').unwrap();
            let bytes = hex::decode(value.strip_prefix("hex:").unwrap()).unwrap();
            (key.to_owned(), bytes)
        })
        .collect()
}

/// Every byte of the database's files (main file and write-ahead log).
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let path = sqlite_path(app);
    let mut bytes = std::fs::read(&path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(std::path::PathBuf::from(wal)).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_generated_secrets_in_an_owner_only_file_and_never_in_the_database() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.write(Method::POST, "/api/role/admin").await;
    app.write(Method::POST, "/api/membership/alice/admin").await;
    let issued = app.data(Method::POST, "/api/token/alice").await;
    assert!(issued["access_token"].is_string(), "{issued}");

    let file = warden::service::server_secrets::secrets_file_of(&sqlite_path(&app));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let secrets = secrets_in_file(&app);
    let names: Vec<&str> = secrets.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["AUTH_JWT_SECRET_KEY", "AUTH_TENANT_SECRET"]);
    let stored = database_bytes(&app);
    for (name, secret) in &secrets {
        assert_eq!(secret.len(), 32, "{name}");
        assert!(!contains(&stored, secret), "{name} is in the database");
        assert!(
            !contains(&stored, hex::encode(secret).as_bytes()),
            "{name} is in the database as hex"
        );
    }

    // Another instance on the same database reads the same secrets: same tenant, same token key.
    let other = app.spawn_another(&[]).await;
    let response = app
        .client
        .post(format!("{other}/api/token/verify"))
        .bearer_auth(&app.key)
        .json(&serde_json::json!({ "token": issued["access_token"] }))
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, 200, "{body}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_sqlite_database_moves_its_secrets_out_and_keeps_its_tenants() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.write(Method::POST, "/api/role/admin").await;
    // Make this database look like one set up before the secrets file: secrets in warden_meta, no file.
    let secrets = secrets_in_file(&app);
    let file = warden::service::server_secrets::secrets_file_of(&sqlite_path(&app));
    std::fs::remove_file(&file).unwrap();
    let store = app.open_store().await;
    for (name, secret) in &secrets {
        let key = match name.as_str() {
            "AUTH_TENANT_SECRET" => "tenant_secret",
            _ => "jwt_hs256_secret",
        };
        store
            .meta_get_or_insert(key, &hex::encode(secret))
            .await
            .unwrap();
    }
    store.close().await;

    let other = app.spawn_another(&[]).await;
    // The same tenant: its role is there.
    let response = app
        .client
        .get(format!("{other}/api/roles"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["role"], "admin", "{body}");
    // Moved: the file holds the same values, the database none.
    assert_eq!(secrets_in_file(&app), secrets);
    let store = app.open_store().await;
    assert_eq!(store.meta_get("tenant_secret").await.unwrap(), None);
    assert_eq!(store.meta_get("jwt_hs256_secret").await.unwrap(), None);
    store.close().await;
    let stored = database_bytes(&app);
    for (name, secret) in &secrets {
        assert!(
            !contains(&stored, hex::encode(secret).as_bytes()),
            "{name} is still in the database files"
        );
    }
}

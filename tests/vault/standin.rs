//! An in-process stand-in for the few Vault endpoints Warden uses, answering with Vault's documented JSON:
//! token lookup-self / renew-self, AppRole login, KV v2 read, database creds and lease renewal. It checks
//! `X-Vault-Token` (403 `permission denied` otherwise) and, when configured, `X-Vault-Namespace`.
//!
//! With a PostgreSQL database attached, `GET /v1/<mount>/creds/<role>` creates a real login role with a random
//! password, granted on that database, and revokes it (terminating its sessions, then `DROP ROLE`) when its lease
//! expires, as Vault's database engine does.
//!
//! It sits behind a TCP proxy that [`StandIn::cut`] can cut, so Warden sees a real network failure.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Clone, Copy)]
pub struct TokenPolicy {
    pub ttl: Duration,
    pub renewable: bool,
}

pub struct DbEngine {
    pub admin: sqlx::PgPool,
    pub ttl: Duration,
    pub max_ttl: Duration,
    pub renewable: bool,
}

struct Token {
    policy: TokenPolicy,
    expires: Instant,
}

struct Lease {
    role: String,
    issued: Instant,
    expires: Instant,
    revoked: bool,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Token>,
    kv: HashMap<String, Value>,
    approle: Option<(String, String, TokenPolicy)>,
    namespace: Option<String>,
    leases: HashMap<String, Lease>,
    /// (method, path) of every request, in order.
    log: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
    db: Arc<Option<DbEngine>>,
    pub address: String,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl StandIn {
    pub async fn start(db: Option<DbEngine>) -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let db = Arc::new(db);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((inner.clone(), db.clone()));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        // The proxy Warden talks to.
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", front.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = front.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });

        let standin = Self {
            inner,
            db,
            address,
            up,
            links,
        };
        if standin.db.is_some() {
            let reaper = standin.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    reaper.revoke_expired(false).await;
                }
            });
        }
        standin
    }

    pub fn add_token(&self, token: &str, policy: TokenPolicy) {
        self.inner.lock().unwrap().tokens.insert(
            token.to_owned(),
            Token {
                policy,
                expires: Instant::now() + policy.ttl,
            },
        );
    }

    pub fn enable_approle(&self, role_id: &str, secret_id: &str, policy: TokenPolicy) {
        self.inner.lock().unwrap().approle =
            Some((role_id.to_owned(), secret_id.to_owned(), policy));
    }

    pub fn require_namespace(&self, namespace: &str) {
        self.inner.lock().unwrap().namespace = Some(namespace.to_owned());
    }

    /// Writes a KV v2 secret at `<mount>/<path>`.
    pub fn put_secret(&self, mount: &str, path: &str, data: Value) {
        self.inner
            .lock()
            .unwrap()
            .kv
            .insert(format!("{mount}/{path}"), data);
    }

    /// How many requests matched `method` and a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(m, p)| m == method && p.starts_with(prefix))
            .count()
    }

    /// (leases issued, leases revoked).
    pub fn leases(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap();
        let revoked = inner.leases.values().filter(|l| l.revoked).count();
        (inner.leases.len(), revoked)
    }

    /// Cuts every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Revokes expired leases (all of them with `all`): terminates their sessions and drops their roles.
    pub async fn revoke_expired(&self, all: bool) {
        let Some(db) = self.db.as_ref() else { return };
        let due: Vec<(String, String)> = {
            let mut inner = self.inner.lock().unwrap();
            let now = Instant::now();
            inner
                .leases
                .iter_mut()
                .filter(|(_, l)| !l.revoked && (all || l.expires <= now))
                .map(|(id, l)| {
                    l.revoked = true;
                    (id.clone(), l.role.clone())
                })
                .collect()
        };
        for (_, role) in due {
            let _ = sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            )
            .bind(&role)
            .execute(&db.admin)
            .await;
            let _ = sqlx::query(&format!("DROP OWNED BY \"{role}\""))
                .execute(&db.admin)
                .await;
            sqlx::query(&format!("DROP ROLE IF EXISTS \"{role}\""))
                .execute(&db.admin)
                .await
                .expect("drop a revoked role");
        }
    }
}

type AppState = (Arc<Mutex<Inner>>, Arc<Option<DbEngine>>);

fn error(status: StatusCode, message: &str) -> Response {
    let errors: Vec<&str> = if message.is_empty() {
        vec![]
    } else {
        vec![message]
    };
    (status, Json(json!({ "errors": errors }))).into_response()
}

/// Vault's response envelope.
fn envelope(
    data: Value,
    auth: Value,
    lease_id: &str,
    lease_duration: u64,
    renewable: bool,
) -> Response {
    Json(json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "lease_id": lease_id,
        "renewable": renewable,
        "lease_duration": lease_duration,
        "data": data,
        "wrap_info": null,
        "warnings": null,
        "auth": auth,
    }))
    .into_response()
}

fn auth_block(token: &str, policy: TokenPolicy) -> Value {
    json!({
        "client_token": token,
        "accessor": format!("accessor-{}", uuid::Uuid::new_v4().simple()),
        "policies": ["default", "warden"],
        "token_policies": ["default", "warden"],
        "metadata": {},
        "lease_duration": policy.ttl.as_secs(),
        "renewable": policy.renewable,
        "entity_id": "",
        "token_type": "service",
        "orphan": true,
    })
}

async fn handle(
    State((inner, db)): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/').to_owned();
    inner
        .lock()
        .unwrap()
        .log
        .push((method.to_string(), path.clone()));
    let Some(path) = path.strip_prefix("v1/").map(str::to_owned) else {
        return error(StatusCode::NOT_FOUND, "");
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };

    if let Some(expected) = inner.lock().unwrap().namespace.clone() {
        if header("x-vault-namespace").as_deref() != Some(expected.as_str()) {
            // Outside the namespace nothing Warden asks for exists.
            return error(StatusCode::FORBIDDEN, "permission denied");
        }
    }

    // AppRole login needs no token.
    if method == Method::POST && path.starts_with("auth/") && path.ends_with("/login") {
        let inner_ref = &mut *inner.lock().unwrap();
        let Some((role_id, secret_id, policy)) = inner_ref.approle.clone() else {
            return error(StatusCode::NOT_FOUND, "no handler for route");
        };
        if body["role_id"] != role_id.as_str() || body["secret_id"] != secret_id.as_str() {
            return error(StatusCode::BAD_REQUEST, "invalid role or secret ID");
        }
        let token = format!("hvs.{}", uuid::Uuid::new_v4().simple());
        inner_ref.tokens.insert(
            token.clone(),
            Token {
                policy,
                expires: Instant::now() + policy.ttl,
            },
        );
        return envelope(Value::Null, auth_block(&token, policy), "", 0, false);
    }

    let Some(token) = header("x-vault-token") else {
        return error(StatusCode::FORBIDDEN, "permission denied");
    };
    let policy = {
        let inner = inner.lock().unwrap();
        match inner.tokens.get(&token) {
            Some(t) if t.policy.ttl.is_zero() || t.expires > Instant::now() => t.policy,
            _ => return error(StatusCode::FORBIDDEN, "permission denied"),
        }
    };

    match (method.as_str(), path.as_str()) {
        ("GET", "auth/token/lookup-self") => {
            let ttl = {
                let inner = inner.lock().unwrap();
                let t = &inner.tokens[&token];
                if policy.ttl.is_zero() {
                    0
                } else {
                    t.expires
                        .saturating_duration_since(Instant::now())
                        .as_secs()
                }
            };
            envelope(
                json!({
                    "accessor": "8609694a-cdbc-db9b-d345-e782dbb562ed",
                    "creation_time": 1523979354,
                    "creation_ttl": policy.ttl.as_secs(),
                    "display_name": "token",
                    "entity_id": "",
                    "expire_time": null,
                    "explicit_max_ttl": 0,
                    "id": token,
                    "identity_policies": [],
                    "issue_time": "2018-04-17T11:35:54.466476215-04:00",
                    "meta": null,
                    "num_uses": 0,
                    "orphan": false,
                    "path": "auth/token/create",
                    "policies": ["default", "warden"],
                    "renewable": policy.renewable,
                    "ttl": ttl,
                }),
                Value::Null,
                "",
                0,
                false,
            )
        }
        ("POST", "auth/token/renew-self") => {
            if !policy.renewable {
                return error(StatusCode::BAD_REQUEST, "lease is not renewable");
            }
            inner
                .lock()
                .unwrap()
                .tokens
                .get_mut(&token)
                .unwrap()
                .expires = Instant::now() + policy.ttl;
            envelope(Value::Null, auth_block(&token, policy), "", 0, false)
        }
        ("PUT", "sys/leases/renew") | ("POST", "sys/leases/renew") => {
            let Some(engine) = db.as_ref() else {
                return error(StatusCode::BAD_REQUEST, "lease not found");
            };
            let lease_id = body["lease_id"].as_str().unwrap_or_default().to_owned();
            let increment = body["increment"].as_u64().unwrap_or(engine.ttl.as_secs());
            let mut inner = inner.lock().unwrap();
            let Some(lease) = inner.leases.get_mut(&lease_id) else {
                return error(StatusCode::BAD_REQUEST, "lease not found");
            };
            if lease.revoked || !engine.renewable {
                return error(StatusCode::BAD_REQUEST, "lease is not renewable");
            }
            let now = Instant::now();
            let cap = (lease.issued + engine.max_ttl).saturating_duration_since(now);
            let granted = Duration::from_secs(increment).min(cap);
            lease.expires = now + granted;
            Json(json!({
                "request_id": uuid::Uuid::new_v4().to_string(),
                "lease_id": lease_id,
                "renewable": true,
                "lease_duration": granted.as_secs(),
                "data": null,
                "wrap_info": null,
                "warnings": null,
                "auth": null,
            }))
            .into_response()
        }
        ("GET", p) if p.contains("/creds/") => {
            let Some(engine) = db.as_ref() else {
                return error(StatusCode::NOT_FOUND, "no handler for route");
            };
            let role = format!(
                "v_warden_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let password = format!("A1a-{}", uuid::Uuid::new_v4().simple());
            for statement in [
                format!("CREATE ROLE \"{role}\" WITH LOGIN PASSWORD '{password}'"),
                format!("GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO \"{role}\""),
                format!("GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public TO \"{role}\""),
                format!("GRANT USAGE, CREATE ON SCHEMA public TO \"{role}\""),
            ] {
                sqlx::query(&statement)
                    .execute(&engine.admin)
                    .await
                    .expect("create a dynamic role");
            }
            let lease_id = format!("{p}/{}", uuid::Uuid::new_v4().simple());
            let now = Instant::now();
            inner.lock().unwrap().leases.insert(
                lease_id.clone(),
                Lease {
                    role: role.clone(),
                    issued: now,
                    expires: now + engine.ttl,
                    revoked: false,
                },
            );
            envelope(
                json!({ "username": role, "password": password }),
                Value::Null,
                &lease_id,
                engine.ttl.as_secs(),
                engine.renewable,
            )
        }
        ("GET", p) => {
            // KV v2: <mount>/data/<path>
            let Some((mount, secret)) = p.split_once("/data/") else {
                return error(StatusCode::NOT_FOUND, "no handler for route");
            };
            let found = inner
                .lock()
                .unwrap()
                .kv
                .get(&format!("{mount}/{secret}"))
                .cloned();
            match found {
                Some(data) => envelope(
                    json!({
                        "data": data,
                        "metadata": {
                            "created_time": "2018-03-22T02:24:06.945319214Z",
                            "custom_metadata": null,
                            "deletion_time": "",
                            "destroyed": false,
                            "version": 1,
                        },
                    }),
                    Value::Null,
                    "",
                    0,
                    false,
                ),
                None => error(StatusCode::NOT_FOUND, ""),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "no handler for route"),
    }
}

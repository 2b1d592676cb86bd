//! Builds the application (store, services, router and layers), binds it, and runs it until a signal stops it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::api::{self, AppState, Services};
use crate::config::{CorsOrigins, Settings, UsersSettings};
use crate::service::model::spawn_sync;
use crate::service::{
    run_maintenance, AuditLog, Encryption, Models, RateLimiter, RbacService, SecretHome,
    SessionsService, Tenants, TokenService, UserDirectory, UsersService,
};
use crate::vault::VaultRuntime;
use warden_store::Store;

/// The largest request body accepted; larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long in-flight requests may take to finish once a shutdown signal arrives.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often the metrics recorder folds the latency samples it holds into their buckets.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A bound, ready-to-run Warden.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    limits: crate::serve::Limits,
    store: Store,
    /// Keeps tenant models current; aborted at shutdown.
    sync: tokio::task::JoinHandle<()>,
    /// Removes expired memberships from the loaded models' tenants.
    expiry: tokio::task::JoinHandle<()>,
    /// Writes batched decision entries; drained at shutdown.
    decision_writer: Option<tokio::task::JoinHandle<()>>,
    users: UsersSettings,
    /// Access-token lifetime: maintenance keeps refresh families until their last access token has expired.
    access_ttl: Duration,
    /// Vault's background tasks (token and lease upkeep), when Vault is configured; they stop with it.
    vault: Option<VaultRuntime>,
    /// The recorder, whose latency samples are folded into buckets periodically.
    metrics: crate::metrics::Metrics,
}

impl Application {
    /// Connects to the database, migrates it, settles the tenant secret and binds the listener (port 0 picks a
    /// free port, as tests do).
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        // With Vault: secrets overlaid on `settings` and, with a database role, dynamic credentials.
        let mut vault = VaultRuntime::start(&mut settings).await?;
        let store = match vault.as_mut() {
            Some(vault) => vault.connect_store(&settings).await?,
            None => Store::connect(&settings.database).await?,
        };
        refuse_auth_database(&store).await?;
        store.migrate().await?;
        announce_auth_tables(&store).await;
        let secret_home = SecretHome::for_settings(&settings);
        let tenants = Tenants::setup(&store, &secret_home, settings.tenant_secret.as_ref())
            .await?
            .with_mode(settings.tenant_mode, &store);
        let encryption = Encryption::setup(&store, &settings.encryption).await?;
        let tenants = tenants.with_encryption(encryption.clone());
        let (audit, decision_writer) = AuditLog::new(
            store.clone(),
            settings.audit.changes,
            settings.audit.decisions,
            tenants.derive_key("audit-user-fingerprint"),
        );
        let audit = audit.with_encryption(encryption);
        let models = Models::new(store.clone(), settings.model.memory_budget_bytes);
        let metrics = crate::metrics::Metrics::new();
        let sync = spawn_sync(models.clone(), tenants.clone());
        let rbac = RbacService::new(models.clone(), audit.clone())
            .with_quotas(settings.model.quotas)
            .with_tenants(tenants.clone())
            .with_write_queue_limit(settings.server.write_queue_per_tenant);
        let expiry = tokio::spawn(remove_expired_memberships(rbac.clone()));
        let tokens = TokenService::setup(
            &store,
            &tenants,
            rbac.clone(),
            audit.clone(),
            &settings.jwt,
            &secret_home,
        )
        .await?;
        let directory = match vault.as_ref().and_then(VaultRuntime::user_config) {
            Some(reader) => UserDirectory::Vault(reader),
            None => UserDirectory::Database,
        };
        let users = UsersService::new(store.clone(), &tenants, audit.clone())
            .with_directory(directory.clone());
        let sessions =
            SessionsService::new(store.clone(), &tenants, audit.clone()).with_directory(directory);
        let state = AppState::new(Services {
            rbac,
            audit,
            users,
            sessions,
            tenants,
            store: store.clone(),
            tokens,
            limiter: settings
                .rate_limit
                .map(|limit| RateLimiter::new(store.clone(), limit)),
            vault: vault.as_ref().map(VaultRuntime::health),
            metrics: metrics.clone(),
            models,
        });
        let router = with_layers(api::routes(state), &settings, metrics.clone());
        let address = SocketAddr::new(settings.server.host, settings.server.port);
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        Ok(Self {
            listener,
            router,
            limits: crate::serve::Limits {
                header_read_timeout: settings.server.header_read_timeout,
                keep_alive_timeout: settings.server.keep_alive_timeout,
                max_connections: settings.server.max_connections,
            },
            store,
            sync,
            expiry,
            decision_writer,
            users: settings.users.clone(),
            access_ttl: settings.jwt.access_ttl,
            vault,
            metrics,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has a local address.
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight requests finish (for at most
    /// `SHUTDOWN_GRACE`) and closes the database pools.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes; the same shutdown sequence as [`Self::run_until_stopped`].
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            limits,
            store,
            sync,
            expiry,
            decision_writer,
            users,
            access_ttl,
            vault,
            metrics,
        } = self;
        // Removes expired sessions, tokens and old request history; aborted below when the server stops.
        let maintenance = AbortOnDrop(tokio::spawn(run_maintenance(
            store.clone(),
            users,
            access_ttl,
        )));
        // Folds latency samples into buckets, so memory stays flat between scrapes (or with none at all).
        let metrics_upkeep = AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval(METRICS_UPKEEP_EVERY);
            loop {
                every.tick().await;
                metrics.run_upkeep();
            }
        }));
        tracing::info!(address = %listener.local_addr()?, database = store.backend_name(), "warden listening");
        let (begin_shutdown, shutdown) = tokio::sync::watch::channel(false);
        let mut server = tokio::spawn(crate::serve::serve(listener, router, limits, shutdown));
        tokio::select! {
            finished = &mut server => finished?,
            () = stop => {
                tracing::info!("shutting down: finishing in-flight requests");
                let _ = begin_shutdown.send(true);
                match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
                    Ok(finished) => finished?,
                    Err(_) => tracing::warn!("in-flight requests did not finish in time"),
                }
            }
        }
        drop(maintenance);
        drop(metrics_upkeep);
        sync.abort();
        expiry.abort();
        if let Some(writer) = decision_writer {
            // The router (and with it every sender) is gone, so the writer flushes what is queued and ends.
            if tokio::time::timeout(SHUTDOWN_GRACE, writer).await.is_err() {
                tracing::warn!("decision audit entries still queued at shutdown were dropped");
            }
        }
        drop(vault);
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// How often loaded models are looked at for expired memberships. An expired membership grants nothing from its
/// instant on regardless; this only bounds how long its row, unanswered, stays.
const EXPIRY_PASS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs forever: removes the memberships expired in the tenants loaded here, each with a change-log row and a
/// `membership.expired` audit entry.
async fn remove_expired_memberships(rbac: RbacService) {
    let mut every = tokio::time::interval(EXPIRY_PASS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let removed = rbac.expire_due(warden_store::now_millis()).await;
        if removed > 0 {
            tracing::debug!(removed, "removed expired memberships");
        }
    }
}

/// Stops a background task when dropped, however the server stops (signal or error).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Wraps the routes in the cross-cutting layers, outermost first.
fn with_layers(routes: Router, settings: &Settings, metrics: crate::metrics::Metrics) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // The route template only: paths hold user names and session ids, query strings may hold tokens.
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        tracing::info_span!("request", id = %request_id, method = %crate::metrics::method_label(request.method()), route)
    });
    let inner = ServiceBuilder::new()
        // Outermost of the per-route layers: it sees the route template and the final status (408, 413 included).
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            api::track_requests,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // `/docs` sets its own, which allows its inline script and style by hash; every other answer gets this one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(axum::middleware::from_fn(api::envelope_errors))
        .layer(axum::middleware::from_fn_with_state(
            settings.server.request_timeout,
            answer_in_time,
        ))
        .layer(axum::middleware::from_fn(reject_oversized_bodies))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let mut router = routes.layer(inner);
    if let Some(cors) = cors_layer(&settings.cors) {
        router = router.layer(cors);
    }
    let outer = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(sanitize_request_id))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID));
    router.layer(outer)
}

fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow_origin = match origins {
        CorsOrigins::Disabled => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(Any)
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
            .expose_headers([REQUEST_ID])
            .max_age(Duration::from_secs(600)),
    )
}

/// Answers 413 as soon as a declared `Content-Length` is over the limit, whether or not the route reads the body;
/// bodies without a declared length are cut off at the same size by `DefaultBodyLimit` when read.
async fn reject_oversized_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return api::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {} KiB", MAX_BODY_BYTES / 1024),
        )
        .into_response();
    }
    next.run(request).await
}

/// Answers 408 when a request takes longer than `limit`, unless a write has already started committing on its
/// behalf: then the caller waits for that write's real outcome (see [`crate::service::answer`]).
async fn answer_in_time(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let answer = crate::service::answer::Answer::default();
    let mut handling = std::pin::pin!(answer.clone().scope(next.run(request)));
    tokio::select! {
        response = &mut handling => response,
        () = tokio::time::sleep(limit) => {
            if answer.time_out() {
                StatusCode::REQUEST_TIMEOUT.into_response()
            } else {
                handling.await
            }
        }
    }
}

/// Drops an incoming request id that is too long or holds characters other than `[A-Za-z0-9._-]`, so a caller
/// cannot inject text into log lines; a fresh id is generated instead.
async fn sanitize_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let acceptable = request.headers().get(&REQUEST_ID).map(|v| {
        let bytes = v.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 128
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    if acceptable == Some(false) {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The meta key `warden import-auth` sets once it has imported a database.
pub const AUTH_IMPORTED_KEY: &str = "auth_imported_at";

/// Refuses to set Warden up in a database of the `auth` service (its default SQLite file is the same
/// `~/.auth.sqlite3`): their table names overlap, so migrating would fail half-way. The message names the fix.
pub async fn refuse_auth_database(store: &Store) -> anyhow::Result<()> {
    if store.is_foreign_auth_database().await? {
        anyhow::bail!(
            "the database at AUTH_DATABASE_URL (or AUTH_SQLITE_PATH) is an auth service database (it holds \
             auth_group, auth_membership, audit_log, ...) and Warden cannot keep its own tables beside them: point \
             AUTH_DATABASE_URL at a new database and move the data over with `warden import-auth <this database's \
             path or URL>` (`--dry-run` first to see what it would do)"
        );
    }
    Ok(())
}

/// Says so when the database also holds the `auth` service's tables, which Warden does not read, instead of
/// ignoring them silently: a warning naming the import command until an import has run, a note afterwards.
async fn announce_auth_tables(store: &Store) {
    match store.holds_auth_tables().await {
        Ok(true) => match store.meta_get(AUTH_IMPORTED_KEY).await {
            Ok(Some(at)) => tracing::info!(
                imported_at = %at,
                "this database also holds the auth service's tables; they were imported with `warden import-auth`"
            ),
            _ => tracing::warn!(
                "this database also holds the auth service's tables (auth_group, auth_membership, ...), which \
                 Warden does not read: import them with `warden import-auth <auth database path or URL>` \
                 (`--dry-run` first to see what it would do)"
            ),
        },
        Ok(false) => {}
        Err(err) => tracing::debug!(error = %err, "could not look for auth tables"),
    }
}

//! Prometheus metrics, one recorder per [`crate::startup::Application`].
//!
//! The recorder is not installed globally: tests start many servers in one process, and each must count only its
//! own requests. Everything is recorded through [`Metrics`], which `AppState` carries.
//!
//! Series (all prefixed `warden_`):
//! - `http_requests_total{method, route, status}` and `http_request_duration_seconds{method, route}` (histogram).
//!   `method` is one of the nine standard methods or `other`.
//!   `route` is the route template (`/api/membership/{user}/{role}`), never the requested path, which holds user
//!   names; requests no route takes count as `route="unmatched"`.
//! - `decisions_total{check, outcome}`: answers of the permission and membership checks, `allowed` or `denied`.
//! - `db_pool_connections{pool, state}`: connections in use and idle, read at scrape time.
//! - `tenant_models_loaded`: tenant models held in memory, read at scrape time.
//! - `model_cache_total{result="hit"|"load"}`: model reads answered from memory vs. ones that loaded the tenant
//!   (the cache hit rate is hit / (hit + load)).
//! - `vault_up`: 1 while Vault answers, when Vault is configured.

use std::sync::Arc;
use std::time::Duration;

use metrics::{counter, gauge, histogram, with_local_recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::service::Models;
use warden_store::{PoolStats, Store};

const REQUEST_DURATION: &str = "warden_http_request_duration_seconds";

/// Latency buckets in seconds: a permission check served from memory takes well under a millisecond; a write
/// to a remote PostgreSQL a few milliseconds; anything near the request timeout is an incident.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Which kind of check answered a decision.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// `GET /api/has_permission/{user}/{name}`
    UserPermission,
    /// `GET /api/permission/{role}/{name}`
    RolePermission,
    /// `GET /api/membership/{user}/{role}`
    Membership,
}

impl Check {
    fn label(self) -> &'static str {
        match self {
            Self::UserPermission => "has_permission",
            Self::RolePermission => "role_permission",
            Self::Membership => "membership",
        }
    }
}

/// A request method as a label: the standard methods by name, anything else as `other`, so that callers cannot
/// create a series (or a log field) per invented method.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// This server's recorder and the handle that renders it. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), LATENCY_BUCKETS)
            // The matcher and the buckets are constants: an empty bucket list is the only error, and this one is not.
            .expect("latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        Self {
            recorder: Arc::new(recorder),
            handle,
        }
    }

    /// Folds the latency samples recorded since the last fold into their buckets. The recorder keeps every
    /// sample until then, so without this a server nobody scrapes grows by each request it answers.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        with_local_recorder(self.recorder.as_ref(), f)
    }

    /// One answered HTTP request. `route` must be a route template, never a raw path.
    pub fn request(
        &self,
        method: &axum::http::Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let (method, route) = (method_label(method), route.to_owned());
        self.with(|| {
            counter!("warden_http_requests_total", "method" => method, "route" => route.clone(), "status" => status.to_string())
                .increment(1);
            histogram!(REQUEST_DURATION, "method" => method, "route" => route)
                .record(elapsed.as_secs_f64());
        });
    }

    /// One check answered: `allowed` or `denied`.
    pub fn decision(&self, check: Check, allowed: bool) {
        let outcome = if allowed { "allowed" } else { "denied" };
        self.with(|| {
            counter!("warden_decisions_total", "check" => check.label(), "outcome" => outcome)
                .increment(1);
        });
    }

    /// The text exposition, after reading the gauges that are sampled at scrape time.
    pub fn render(&self, store: &Store, models: &Models, vault_up: Option<bool>) -> String {
        self.with(|| {
            for PoolStats {
                name: pool,
                size,
                idle,
            } in store.pool_stats()
            {
                gauge!("warden_db_pool_connections", "pool" => pool, "state" => "in_use")
                    .set(f64::from(size - idle));
                gauge!("warden_db_pool_connections", "pool" => pool, "state" => "idle")
                    .set(f64::from(idle));
            }
            // Exact below 2^53 tenants.
            gauge!("warden_tenant_models_loaded").set(models.loaded_tenants() as f64);
            let (hits, loads) = models.cache_counts();
            counter!("warden_model_cache_total", "result" => "hit").absolute(hits);
            counter!("warden_model_cache_total", "result" => "load").absolute(loads);
            if let Some(up) = vault_up {
                gauge!("warden_vault_up").set(if up { 1.0 } else { 0.0 });
            }
        });
        self.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency_count(metrics: &Metrics) -> String {
        let text = metrics.handle.render();
        text.lines()
            .find(|line| line.starts_with("warden_http_request_duration_seconds_count"))
            .unwrap_or_else(|| panic!("no latency count in {text}"))
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn upkeep_folds_latency_samples_into_buckets_without_losing_any() {
        let metrics = Metrics::new();
        let answer = |m: &Metrics| {
            m.request(
                &axum::http::Method::GET,
                "/ping",
                200,
                Duration::from_micros(300),
            );
        };
        for _ in 0..1000 {
            answer(&metrics);
        }
        metrics.run_upkeep();
        for _ in 0..500 {
            answer(&metrics);
        }
        metrics.run_upkeep();
        assert_eq!(latency_count(&metrics), "1500");
    }
}

//! `/metrics`, `/openapi.json` and `/docs`.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

/// The value of the one sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        if metric != name
            || !labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        {
            continue;
        }
        assert!(
            found.is_none(),
            "more than one {name} {labels:?} in:\n{text}"
        );
        found = Some(value.parse::<f64>().expect("a number"));
    }
    found
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scraped");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    response.text().await.expect("text")
}

async fn metrics_count_requests_by_route_template_and_decisions_without_names(app: TestApp) {
    let user = "alice.metrics@example.com";
    app.data(Method::POST, "/api/role/admin").await;
    app.data(Method::POST, "/api/permission/admin/manage_users")
        .await;
    app.data(Method::POST, &format!("/api/membership/{user}/admin"))
        .await;
    let allowed = app
        .data(
            Method::GET,
            &format!("/api/has_permission/{user}/manage_users"),
        )
        .await;
    assert_eq!(allowed, json!({"has_permission": true}));
    let denied = app
        .data(
            Method::GET,
            &format!("/api/has_permission/{user}/delete_all"),
        )
        .await;
    assert_eq!(denied, json!({"has_permission": false}));
    app.data(Method::GET, &format!("/api/membership/{user}/admin"))
        .await;
    app.data(Method::GET, "/api/permission/admin/delete_all")
        .await;
    let (status, _) = app.get(&format!("/api/members/{user}-role")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&format!("/nowhere/{user}")).await;
    assert_eq!(status, 404);

    let text = scrape(&app).await;

    let route = "/api/has_permission/{user}/{name}";
    let requests = |route: &str, status: &str| {
        sample(
            &text,
            "warden_http_requests_total",
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests(route, "200"), Some(2.0), "{text}");
    assert_eq!(requests("/api/members/{role}", "404"), Some(1.0), "{text}");
    assert_eq!(requests("unmatched", "404"), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "warden_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/role/{role}"),
                ("status", "200")
            ]
        ),
        Some(1.0)
    );
    let latency = |suffix: &str, extra: &[(&str, &str)]| {
        let mut labels = vec![("method", "GET"), ("route", route)];
        labels.extend_from_slice(extra);
        sample(
            &text,
            &format!("warden_http_request_duration_seconds{suffix}"),
            &labels,
        )
    };
    assert_eq!(latency("_count", &[]), Some(2.0), "{text}");
    assert_eq!(latency("_bucket", &[("le", "+Inf")]), Some(2.0), "{text}");
    assert!(latency("_sum", &[]).is_some_and(|s| s > 0.0));

    let decisions = |check: &str, outcome: &str| {
        sample(
            &text,
            "warden_decisions_total",
            &[("check", check), ("outcome", outcome)],
        )
    };
    assert_eq!(decisions("has_permission", "allowed"), Some(1.0), "{text}");
    assert_eq!(decisions("has_permission", "denied"), Some(1.0), "{text}");
    assert_eq!(decisions("membership", "allowed"), Some(1.0), "{text}");
    assert_eq!(decisions("role_permission", "denied"), Some(1.0), "{text}");

    assert!(
        text.contains("warden_db_pool_connections{") && text.contains("state=\"idle\""),
        "{text}"
    );
    assert!(sample(&text, "warden_tenant_models_loaded", &[]).is_some_and(|n| n >= 1.0));
    // The tenant was loaded once; every later read was a cache hit.
    assert_eq!(
        sample(&text, "warden_model_cache_total", &[("result", "load")]),
        Some(1.0)
    );
    assert!(
        sample(&text, "warden_model_cache_total", &[("result", "hit")]).is_some_and(|n| n >= 1.0)
    );
    assert!(
        !text.contains("alice"),
        "a user name leaked into /metrics:\n{text}"
    );
    assert!(
        !text.contains(&app.key),
        "the client key leaked into /metrics"
    );
}

/// Fills every `{param}` of a documented path with a harmless value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "sample"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_documented_operation_is_served(app: TestApp) {
    let (status, document) = app.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            operations += 1;
            assert!(
                operation["responses"]["200"].is_object(),
                "{method} {path} documents no 200 answer"
            );
            if path == "/api/keys/recover" {
                // Recovery is the one /api route without a client key: the recovery key in its body is the
                // credential.
                assert!(
                    operation["security"].is_null(),
                    "{method} {path} must not ask for a client key"
                );
            } else if path.starts_with("/api/") {
                assert_eq!(
                    operation["security"],
                    json!([{"client_key": []}]),
                    "{method} {path} must name the client key"
                );
            }
            let response = app
                .client
                .request(method.clone(), app.url(&concrete(path)))
                .bearer_auth(&app.key)
                .json(&json!({}))
                .send()
                .await
                .expect("request sent");
            let status = response.status();
            let body: Value =
                serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            assert_ne!(
                body["error"], "no such route",
                "{method} {path} is documented but not routed"
            );
        }
    }
    // The issues' endpoints: 46 operations at the time of writing; fewer means a route lost its annotation.
    assert!(operations >= 46, "only {operations} documented operations");
}

/// The other direction: a route can only be registered through `routes!(handler)`, which adds the handler's
/// `#[utoipa::path]` to the document in the same call; a plain `.route(` would be served undocumented. Only
/// `docs.rs` (which serves the document itself) may use one.
#[test]
fn every_route_is_registered_through_the_documented_router() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/api") {
        let path = entry.expect("an entry").path();
        if path.file_name().is_some_and(|n| n == "docs.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file");
        if text.contains(".route(") || text.contains(".route_service(") || text.contains(".nest(") {
            offenders.push(path.display().to_string());
        }
    }
    assert!(offenders.is_empty(), "undocumented routes in {offenders:?}");
}

async fn the_docs_page_is_self_contained_and_allowed_by_its_own_policy(app: TestApp) {
    let response = app.client.get(app.url("/docs")).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    let inline = |open: &str, close: &str| {
        let start = page.find(open).expect("inline element") + open.len();
        let end = start + page[start..].find(close).expect("closed");
        let digest = Sha256::digest(&page.as_bytes()[start..end]);
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    assert!(
        policy.contains(&format!("script-src {}", inline("<script>", "</script>"))),
        "{policy}"
    );
    assert!(
        policy.contains(&format!("style-src {}", inline("<style>", "</style>"))),
        "{policy}"
    );
    assert!(policy.contains("connect-src 'self'") && policy.contains("default-src 'none'"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    assert!(page.contains("/openapi.json"));

    // Every other answer keeps the strict policy.
    let response = app.client.get(app.url("/livez")).send().await.unwrap();
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
}

crate::on_both_backends!(
    metrics_count_requests_by_route_template_and_decisions_without_names,
    every_documented_operation_is_served,
    the_docs_page_is_self_contained_and_allowed_by_its_own_policy,
);

//! Open mode under a flood of strangers: keys without data cost no memory and no row, quotas cap a tenant's rows,
//! stale replicas reload, `min_revision` beyond the head is refused at once, and eviction keeps answers exact.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, read, TestApp};

/// Runs a statement directly against the test's database (to simulate what another instance or an operator did).
async fn execute(app: &TestApp, sql: &str) {
    let store = app.open_store().await;
    store.raw_execute(sql).await.expect("statement");
    store.close().await;
}

/// Every table of the schema with its row count.
async fn row_counts(app: &TestApp) -> Vec<(String, String)> {
    let tables = match app.backend() {
        crate::helpers::Backend::Sqlite => {
            app.raw_strings(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .await
        }
        crate::helpers::Backend::Postgres => {
            app.raw_strings(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
            )
            .await
        }
    };
    assert!(tables.len() > 10, "{tables:?}");
    let mut counts = Vec::new();
    for table in tables {
        let count = app
            .raw_strings(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
            .await;
        counts.push((table, count[0].clone()));
    }
    counts
}

async fn models_loaded(app: &TestApp, base: &str) -> usize {
    let text = app
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|line| line.strip_prefix("warden_tenant_models_loaded "))
        .and_then(|n| n.trim().parse::<f64>().ok())
        .expect("the gauge is exported") as usize
}

async fn get_on(app: &TestApp, base: &str, key: &str, path: &str) -> (reqwest::StatusCode, Value) {
    let response = app
        .client
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    read(response).await
}

const FLOOD_VARS: [(&str, &str); 5] = [
    ("AUTH_ENABLE_ENCRYPTION", "true"),
    (
        "AUTH_ENCRYPTION_KEY",
        "f1ood-t3st-9c4e-7b2a-k3y-0001-a8d5e6",
    ),
    ("AUTH_ENABLE_DECISION_LOGGING", "true"),
    ("AUTH_RATE_LIMIT_PER_SECOND", "1000"),
    ("AUTH_ENABLE_AUDIT_LOGGING", "true"),
];

async fn a_flood_of_new_keys_reading_leaves_no_model_and_no_row(app: TestApp) {
    // Encryption must be on from the database's first start.
    let app = TestApp::spawn_with(app.backend(), &FLOOD_VARS)
        .await
        .expect("the backend under test runs");
    // A real tenant with data, whose model is loaded.
    app.data(Method::POST, "/api/role/editor").await;
    app.data(Method::POST, "/api/permission/editor/edit").await;
    app.data(Method::POST, "/api/membership/bob/editor").await;
    let loaded = models_loaded(&app, &app.address).await;
    let before = row_counts(&app).await;

    let keys: Vec<String> = (0..2000).map(|_| new_key()).collect();
    let answers: Vec<(reqwest::StatusCode, Value)> = futures::stream::iter(keys.iter())
        .map(|key| {
            let app = &app;
            async move {
                let path = match key.as_bytes()[0] % 4 {
                    0 => "/api/has_permission/bob/edit",
                    1 => "/api/user_permissions/bob",
                    2 => "/api/roles",
                    _ => "/api/members/editor",
                };
                get_on(app, &app.address, key, path).await
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for (status, body) in &answers {
        match status.as_u16() {
            200 => assert!(
                body["data"] == json!({"has_permission": false}) || body["data"] == json!([]),
                "{body}"
            ),
            404 => {
                let reason = assert_error_envelope(*status, body, 404);
                assert!(reason.contains("editor"), "{reason}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // Strangers' access checks and refused credentials are decisions too; a key without data records none of them.
    let posts: Vec<(reqwest::StatusCode, Value)> = futures::stream::iter(keys.iter().take(300))
        .map(|key| {
            let app = &app;
            async move {
                let (path, body) = match key.as_bytes()[1] % 3 {
                    0 => ("/api/access/check", json!({"user_id": "bob"})),
                    1 => ("/api/token/verify", json!({"token": "a.b.c"})),
                    _ => ("/api/tokens/validate", json!({"token": "bob.c2VjcmV0"})),
                };
                app.post_json_as(key, path, &body).await
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for (status, body) in &posts {
        assert!(
            matches!(status.as_u16(), 200 | 401),
            "a stranger's check or credential is answered, never an error: {status} {body}"
        );
    }
    // A check by the real tenant is recorded; once its decision is in the trail, any flood decision would be too.
    app.data(Method::GET, "/api/has_permission/bob/edit").await;
    let mut recorded = false;
    for _ in 0..100 {
        let entries = app
            .raw_strings("SELECT action FROM audit_log WHERE action = 'check.user_permission'")
            .await;
        if !entries.is_empty() {
            assert_eq!(entries.len(), 1, "only the real tenant's check is recorded");
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recorded, "the real tenant's decision was never written");

    assert_eq!(models_loaded(&app, &app.address).await, loaded);
    let mut after = row_counts(&app).await;
    // The one decision entry (and its head update) is the only difference.
    for (table, count) in after.iter_mut() {
        if table == "audit_log" {
            *count = (count.parse::<i64>().unwrap() - 1).to_string();
        }
    }
    assert_eq!(before, after);

    // A new key that writes gets its row, its model and its answers.
    let writer = new_key();
    let (status, _) = app.call_as(&writer, Method::POST, "/api/role/admin").await;
    assert_eq!(status, 200);
    app.call_as(&writer, Method::POST, "/api/permission/admin/manage")
        .await;
    app.call_as(&writer, Method::POST, "/api/membership/ann/admin")
        .await;
    let (_, body) = get_on(
        &app,
        &app.address,
        &writer,
        "/api/has_permission/ann/manage",
    )
    .await;
    assert_eq!(body["data"], json!({"has_permission": true}));
    assert_eq!(
        app.raw_strings("SELECT tenant FROM tenant_keys")
            .await
            .len(),
        2
    );
    assert_eq!(models_loaded(&app, &app.address).await, loaded + 1);
}

async fn random_keys_are_still_rate_limited_without_a_database_write(app: TestApp) {
    let app = app.respawn(&[("AUTH_RATE_LIMIT_PER_SECOND", "3")]).await;
    let key = new_key();
    let mut limited = false;
    for _ in 0..4 {
        let requests = (0..12).map(|_| get_on(&app, &app.address, &key, "/api/roles"));
        let answers = futures::future::join_all(requests).await;
        if answers.iter().any(|(status, _)| *status == 429) {
            limited = true;
            break;
        }
    }
    assert!(limited, "a key without data was never limited");
    assert!(app
        .raw_strings("SELECT tenant FROM rate_windows")
        .await
        .is_empty());
    // Once the tenant has data its count is shared through the database again.
    app.write(Method::POST, "/api/role/r").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.get("/api/roles").await;
    assert!(!app
        .raw_strings("SELECT tenant FROM rate_windows")
        .await
        .is_empty());
}

async fn writes_over_a_quota_are_refused_with_409_and_write_nothing(app: TestApp) {
    let app = app
        .respawn(&[
            ("AUTH_MAX_ROLES_PER_TENANT", "2"),
            ("AUTH_MAX_GRANTS_PER_TENANT", "2"),
            ("AUTH_MAX_MEMBERSHIPS_PER_TENANT", "2"),
            ("AUTH_MAX_RESOURCES_PER_TENANT", "2"),
        ])
        .await;
    for path in [
        "/api/role/r1",
        "/api/role/r2",
        "/api/permission/r1/p1",
        "/api/permission/r1/p2",
        "/api/membership/u1/r1",
        "/api/membership/u2/r2",
    ] {
        app.write(Method::POST, path).await;
    }
    for path in ["/api/resources/doc/1", "/api/resources/doc/2"] {
        app.write(Method::PUT, path).await;
    }
    let before = row_counts(&app).await;
    for (method, path, what) in [
        (Method::POST, "/api/role/r3", "role"),
        (Method::POST, "/api/permission/r2/p3", "grant"),
        (Method::POST, "/api/membership/u3/r1", "membership"),
        (
            Method::POST,
            "/api/membership/u3/r1?resource=doc:1",
            "membership",
        ),
        (Method::PUT, "/api/resources/doc/3", "resource"),
    ] {
        let (status, body) = app.call(method, path).await;
        let reason = assert_error_envelope(status, &body, 409);
        assert!(reason.contains(&format!("{what} quota of 2")), "{reason}");
    }

    assert_eq!(
        row_counts(&app).await,
        before,
        "a refused write wrote something"
    );
    // Repeating an existing row adds nothing, so it is not refused.
    app.write(Method::PUT, "/api/resources/doc/2").await;
    assert_eq!(
        app.write(Method::POST, "/api/permission/r1/p1").await,
        json!({"created": false})
    );
    // Room made, the write goes in.
    app.write(Method::DELETE, "/api/membership/u2/r2").await;
    assert_eq!(
        app.write(Method::POST, "/api/membership/u3/r1").await,
        json!({"created": true})
    );
}

async fn a_replica_whose_change_log_was_pruned_reloads_and_stops_serving_a_revoked_grant(
    app: TestApp,
) {
    let replica = app.spawn_another(&[]).await;
    app.write(Method::POST, "/api/role/editor").await;
    app.write(Method::POST, "/api/permission/editor/edit").await;
    let added = app.data(Method::POST, "/api/membership/bob/editor").await;
    let revision = added["revision"].as_i64().unwrap();
    let path = "/api/has_permission/bob/edit";
    let (_, body) = get_on(
        &app,
        &replica,
        &app.key,
        &format!("{path}?min_revision={revision}"),
    )
    .await;
    assert_eq!(body["data"], json!({"has_permission": true}));

    // A revocation the replica can only learn from the head: its change-log row is already pruned.
    execute(
        &app,
        "DELETE FROM memberships; UPDATE tenant_heads SET revision = revision + 1; DELETE FROM model_changes;",
    )
    .await;
    // The sweep reports the newer head; an empty replay must not count as "up to date".
    let mut revoked = false;
    for _ in 0..200 {
        let (_, body) = get_on(&app, &replica, &app.key, path).await;
        if body["data"] == json!({"has_permission": false}) {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(revoked, "the replica kept serving the revoked grant");

    // The same through `min_revision`: the replica reloads at once instead of answering 409.
    let other = app.spawn_another(&[]).await;
    get_on(&app, &other, &app.key, path).await;
    execute(
        &app,
        &format!(
            "INSERT INTO memberships (tenant, role, user_name, created_at) \
             SELECT tenant, 'editor', 'bob', 0 FROM tenant_heads; \
             UPDATE tenant_heads SET revision = {} ;",
            revision + 2
        ),
    )
    .await;
    let (status, body) = get_on(
        &app,
        &other,
        &app.key,
        &format!("{path}?min_revision={}", revision + 2),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"has_permission": true}));
}

async fn a_min_revision_beyond_the_head_is_409_at_once(app: TestApp) {
    app.write(Method::POST, "/api/role/r").await;
    let started = Instant::now();
    let (status, body) = app.get("/api/roles?min_revision=1000000").await;
    let reason = assert_error_envelope(status, &body, 409);
    assert!(reason.contains("does not exist"), "{reason}");
    // Functional bound: the old code polled for 2 s before answering.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // A key without data: the same, and still no model held for it.
    let loaded = models_loaded(&app, &app.address).await;
    let (status, body) = app
        .call_as(&new_key(), Method::GET, "/api/roles?min_revision=3")
        .await;
    assert_error_envelope(status, &body, 409);
    assert_eq!(models_loaded(&app, &app.address).await, loaded);
    // A revision that exists is answered.
    assert_eq!(app.get("/api/roles?min_revision=1").await.0, 200);
}

async fn eviction_under_a_tiny_budget_keeps_every_answer_exact(app: TestApp) {
    let app = app.respawn(&[("AUTH_MODEL_MEMORY_MB", "1")]).await;
    let keys: Vec<String> = (0..600).map(|_| new_key()).collect();
    futures::stream::iter(keys.iter().enumerate())
        .for_each_concurrent(16, |(i, key)| {
            let app = &app;
            async move {
                for path in [
                    format!("/api/role/r{i}"),
                    format!("/api/permission/r{i}/p{i}"),
                    format!("/api/membership/u{i}/r{i}"),
                ] {
                    let (status, body) = app.call_as(key, Method::POST, &path).await;
                    assert_eq!(status, 200, "{body}");
                }
            }
        })
        .await;
    let loaded = models_loaded(&app, &app.address).await;
    assert!(
        loaded > 0 && loaded < 600,
        "{loaded} models held under a 1 MiB budget"
    );
    for (i, key) in keys.iter().enumerate() {
        let (_, own) = get_on(
            &app,
            &app.address,
            key,
            &format!("/api/has_permission/u{i}/p{i}"),
        )
        .await;
        assert_eq!(own["data"], json!({"has_permission": true}), "tenant {i}");
        let other = (i + 1) % keys.len();
        let (_, foreign) = get_on(
            &app,
            &app.address,
            key,
            &format!("/api/has_permission/u{other}/p{other}"),
        )
        .await;
        assert_eq!(
            foreign["data"],
            json!({"has_permission": false}),
            "tenant {i}"
        );
    }
    assert!(models_loaded(&app, &app.address).await < 600);
}

crate::on_both_backends!(
    a_flood_of_new_keys_reading_leaves_no_model_and_no_row,
    random_keys_are_still_rate_limited_without_a_database_write,
    writes_over_a_quota_are_refused_with_409_and_write_nothing,
    a_replica_whose_change_log_was_pruned_reloads_and_stops_serving_a_revoked_grant,
    a_min_revision_beyond_the_head_is_409_at_once,
    eviction_under_a_tiny_budget_keeps_every_answer_exact,
);

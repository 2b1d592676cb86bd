//! Maintenance prunes what no reader needs any more — finished refresh families and tokens, past rate windows, the
//! key rows of idle tenants — and keeps everything still in use. Passes run at chosen times, not by waiting.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use warden::config::Settings;
use warden::service::maintenance_pass;

use crate::helpers::{new_key, TestApp};

const HOUR_MS: i64 = 3_600_000;

async fn count(app: &TestApp, table: &str) -> usize {
    let rows = app
        .raw_strings(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await;
    rows[0].parse().unwrap()
}

/// Runs one maintenance pass `hours_ahead` hours from now, with the default settings.
async fn pass(app: &TestApp, hours_ahead: i64) -> u64 {
    let settings = Settings::from_lookup(|_| None).unwrap();
    let store = app.open_store().await;
    let now = chrono::Utc::now().timestamp_millis() + hours_ahead * HOUR_MS;
    let removed = maintenance_pass(&store, &settings.users, Duration::from_secs(86_400), now)
        .await
        .expect("maintenance pass");
    store.close().await;
    removed
}

async fn maintenance_prunes_finished_token_families_past_rate_windows_and_idle_tenant_keys(
    app: TestApp,
) {
    // Encryption (for tenant key rows) must be on from the database's first start.
    let app = TestApp::spawn_with(
        app.backend(),
        &[
            ("AUTH_ENABLE_ENCRYPTION", "true"),
            ("AUTH_ENCRYPTION_KEY", "e5a1c7f3b9d2046a8c1e3f5b7d9a2c4e"),
            ("AUTH_RATE_LIMIT_PER_SECOND", "1000"),
            // Without audit entries a refused write leaves the tenant nothing but its key row.
            ("AUTH_ENABLE_AUDIT_LOGGING", "false"),
            // Only the passes this test runs (the server's own runs once, at start).
            ("AUTH_MAINTENANCE_INTERVAL_SECONDS", "86400"),
        ],
    )
    .await
    .unwrap();
    // A tenant with data and a refresh family; another whose only write was refused (a key that only reads stores
    // nothing at all), which leaves just its key row.
    app.write(Method::POST, "/api/role/admin").await;
    app.write(Method::POST, "/api/permission/admin/payroll:read")
        .await;
    app.write(Method::POST, "/api/membership/alice/admin").await;
    let issued = app.data(Method::POST, "/api/token/alice").await;
    let idle = new_key();
    let (status, _) = app.call_as(&idle, Method::GET, "/api/roles").await;
    assert_eq!(status, 200);
    assert_eq!(count(&app, "tenant_keys").await, 1, "a read stores no key");
    let (status, _) = app
        .call_as(&idle, Method::POST, "/api/membership/bob/ghost")
        .await;
    assert_eq!(status, 404);
    assert_eq!(count(&app, "tenant_keys").await, 2);
    assert!(count(&app, "rate_windows").await >= 1);

    // Now: everything is in use or too new to prune.
    pass(&app, 0).await;
    assert_eq!(count(&app, "tenant_keys").await, 2);
    assert!(count(&app, "rate_windows").await >= 1);
    // Two hours on: the idle tenant's key row and the past windows go; the live family and the active tenant's key
    // stay.
    pass(&app, 2).await;
    assert_eq!(count(&app, "tenant_keys").await, 1);
    assert_eq!(count(&app, "token_families").await, 1);
    assert_eq!(count(&app, "refresh_tokens").await, 1);
    assert_eq!(count(&app, "rate_windows").await, 0);
    let (status, body) = app
        .post_json(
            "/api/token/verify",
            &json!({ "token": issued["access_token"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The idle tenant comes back with the same (derived) key.
    let (status, _) = app.call_as(&idle, Method::GET, "/api/roles").await;
    assert_eq!(status, 200);

    // Thirty days on: every token of the family has expired, so the family, its tokens and the windows go; the
    // active tenant's key and data stay, and it still answers.
    let removed = pass(&app, 30 * 24).await;
    assert!(removed >= 3, "{removed}");
    assert_eq!(count(&app, "token_families").await, 0);
    assert_eq!(count(&app, "refresh_tokens").await, 0);
    assert_eq!(count(&app, "rate_windows").await, 0);
    assert_eq!(count(&app, "tenant_keys").await, 1);
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/alice/payroll:read")
            .await,
        json!({"has_permission": true})
    );
}

async fn a_revoked_family_is_pruned_only_after_its_access_tokens_expired(app: TestApp) {
    app.write(Method::POST, "/api/role/admin").await;
    app.write(Method::POST, "/api/membership/alice/admin").await;
    let issued = app.data(Method::POST, "/api/token/alice").await;
    // Reusing a rotated refresh token revokes the family.
    let refresh = json!({ "refresh_token": issued["refresh_token"] });
    let (status, _) = app.post_json("/api/token/refresh", &refresh).await;
    assert_eq!(status, 200);
    crate::jwt::age_rotations(&app).await;
    let (status, _) = app.post_json("/api/token/refresh", &refresh).await;
    assert_eq!(status, 401);
    let (status, _) = app
        .post_json(
            "/api/token/verify",
            &json!({ "token": issued["access_token"] }),
        )
        .await;
    assert_eq!(status, 401);

    pass(&app, 0).await;
    assert_eq!(count(&app, "token_families").await, 1);
    pass(&app, 2 * 24).await;
    assert_eq!(count(&app, "token_families").await, 0);
    assert_eq!(count(&app, "refresh_tokens").await, 0);
    // A pruned family stays revoked: its tokens name a family that no longer exists.
    let (status, _) = app
        .post_json(
            "/api/token/verify",
            &json!({ "token": issued["access_token"] }),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app.post_json("/api/token/refresh", &refresh).await;
    assert_eq!(status, 401);
}

crate::on_both_backends!(
    maintenance_prunes_finished_token_families_past_rate_windows_and_idle_tenant_keys,
    a_revoked_family_is_pruned_only_after_its_access_tokens_expired,
);

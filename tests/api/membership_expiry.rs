//! Expiring memberships: `POST /api/membership/{user}/{role}` with `expires_at` or `ttl_seconds`, decided by the
//! clock at check time and removed in the background with a change-log row and a `membership.expired` entry.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, TestApp};

async fn has(app: &TestApp, base: &str, user: &str, permission: &str) -> bool {
    let (status, body) = app
        .call_on(
            base,
            Method::GET,
            &format!("/api/has_permission/{user}/{permission}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["has_permission"].as_bool().expect("a flag")
}

async fn oncall(app: &TestApp) {
    app.write(Method::POST, "/api/role/oncall").await;
    app.write(Method::POST, "/api/permission/oncall/page").await;
}

async fn a_membership_stops_granting_at_its_expiry_and_is_removed_once(app: TestApp) {
    oncall(&app).await;
    let second = app.spawn_another(&[]).await;
    let (status, body) = app
        .post_json("/api/membership/ann/oncall", &json!({"ttl_seconds": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["created"], true);
    let expires = body["data"]["expires_at"]
        .as_str()
        .expect("the expiry")
        .to_owned();
    let at = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
    let revision = body["data"]["revision"].as_i64().unwrap();
    assert!(has(&app, &app.address, "ann", "page").await);
    // The second instance, caught up, grants it too…
    let (_, caught_up) = app
        .call_on(
            &second,
            Method::GET,
            &format!("/api/has_permission/ann/page?min_revision={revision}"),
        )
        .await;
    assert_eq!(caught_up["data"]["has_permission"], true, "{caught_up}");
    // …until the instant: a second later neither does, whatever any sweep has done.
    let wait = (at.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    assert!(!has(&app, &app.address, "ann", "page").await);
    assert!(!has(&app, &second, "ann", "page").await);
    assert_eq!(
        app.data(Method::GET, "/api/members/oncall").await,
        json!([])
    );
    // The row goes in the background, with one `membership.expired` entry although both instances sweep.
    let mut gone = false;
    for _ in 0..50 {
        let rows = app
            .raw_strings("SELECT role FROM memberships WHERE role = 'oncall'")
            .await;
        if rows.is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the expired membership was removed");
    // Adding it again adds a membership.
    let (_, again) = app.call(Method::POST, "/api/membership/ann/oncall").await;
    assert_eq!(again["data"]["created"], true, "{again}");
    app.write(Method::DELETE, "/api/membership/ann/oncall")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let trail = app
        .data(Method::GET, "/api/audit?action=membership.expired")
        .await;
    let entries = trail["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(entries[0]["outcome"], "expired");
    assert!(entries[0]["target"]
        .as_str()
        .unwrap()
        .starts_with("role=oncall user=#"));
    let logged = app
        .raw_strings("SELECT op FROM model_changes WHERE op = 'membership.expired'")
        .await;
    assert_eq!(logged.len(), 1);
    let (_, broken) = app.audit_chain().await;
    assert_eq!(broken, None);
}

async fn listings_show_the_expiry_and_posting_again_restates_it(app: TestApp) {
    oncall(&app).await;
    let later = (chrono::Utc::now() + chrono::Duration::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, body) = app
        .post_json(
            "/api/membership/ann/oncall",
            &json!({ "expires_at": later }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["expires_at"], later);
    app.write(Method::POST, "/api/membership/bob/oncall").await;
    assert_eq!(
        app.data(Method::GET, "/api/members/oncall").await,
        json!([{"user": "ann", "expires_at": later}, {"user": "bob"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_roles/ann").await,
        json!([{"role": "oncall", "description": null, "expires_at": later}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/membership/ann/oncall").await,
        json!({"is_member": true, "expires_at": later})
    );
    assert_eq!(
        app.data(Method::GET, "/api/membership/bob/oncall").await,
        json!({"is_member": true})
    );
    // The same expiry again changes nothing; none makes it permanent; a new one replaces it.
    let (_, same) = app
        .post_json(
            "/api/membership/ann/oncall",
            &json!({ "expires_at": later }),
        )
        .await;
    assert_eq!(same["data"]["created"], false);
    assert_eq!(same["message"], "membership already exists");
    let (_, permanent) = app.call(Method::POST, "/api/membership/ann/oncall").await;
    assert_eq!(
        permanent["message"], "membership expiry updated",
        "{permanent}"
    );
    assert!(permanent["data"].get("expires_at").is_none());
    assert_eq!(
        app.data(Method::GET, "/api/membership/ann/oncall").await,
        json!({"is_member": true})
    );
    let (_, timed) = app
        .post_json("/api/membership/ann/oncall", &json!({"ttl_seconds": 3600}))
        .await;
    assert_eq!(timed["message"], "membership expiry updated");
    // It survives a restart with its expiry.
    let app = app.respawn(&[]).await;
    let listed = app.data(Method::GET, "/api/members/oncall").await;
    assert!(listed[0]["expires_at"].is_string(), "{listed}");
    assert!(has(&app, &app.address, "ann", "page").await);
}

async fn bad_expiries_are_refused_and_write_nothing(app: TestApp) {
    oncall(&app).await;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    for (body, status) in [
        (json!({ "expires_at": past }), 400),
        (json!({"expires_at": "tomorrow"}), 400),
        (json!({"ttl_seconds": 0}), 400),
        (json!({"ttl_seconds": 3_153_600_001_u64}), 400),
        (
            json!({"ttl_seconds": 60, "expires_at": "2999-01-01T00:00:00Z"}),
            400,
        ),
        (json!({"ttl_seconds": -5}), 400),
        (json!({"ttl_seconds": 1.5}), 422),
        (json!({"ttl_seconds": "60"}), 422),
    ] {
        let (got, answer): (StatusCode, Value) =
            app.post_json("/api/membership/ann/oncall", &body).await;
        assert_error_envelope(got, &answer, status);
    }
    assert_eq!(
        app.data(Method::GET, "/api/members/oncall").await,
        json!([])
    );
    // A whole number written as a float is the integer JSON Schema says it is.
    let (status, body) = app
        .post_json("/api/membership/ann/oncall", &json!({"ttl_seconds": 60.0}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_json("/api/membership/ann/ghost", &json!({"ttl_seconds": 60}))
        .await;
    assert_error_envelope(status, &body, 404);
}

crate::on_both_backends!(
    a_membership_stops_granting_at_its_expiry_and_is_removed_once,
    listings_show_the_expiry_and_posting_again_restates_it,
    bad_expiries_are_refused_and_write_nothing,
);

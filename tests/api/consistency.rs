//! Revisions, `min_revision`, and several instances over one database.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, read, TestApp};

async fn every_write_answers_the_tenants_new_revision(app: TestApp) {
    let first = app.data(Method::POST, "/api/role/r").await;
    assert_eq!(first, json!({"created": true, "revision": 1}));
    let again = app.data(Method::POST, "/api/role/r").await;
    assert_eq!(again, json!({"created": false, "revision": 1}));
    let grant = app.data(Method::POST, "/api/permission/r/p").await;
    assert_eq!(grant, json!({"created": true, "revision": 2}));
    let member = app.data(Method::POST, "/api/membership/u/r").await;
    assert_eq!(member, json!({"created": true, "revision": 3}));
    let removed = app.data(Method::DELETE, "/api/role/r").await;
    assert_eq!(removed, json!({"removed": true, "revision": 4}));
    // Another tenant counts its own revisions.
    let (_, body) = app
        .call_as(&crate::helpers::new_key(), Method::POST, "/api/role/r")
        .await;
    assert_eq!(body["data"]["revision"], 1);
}

async fn a_revision_that_never_arrives_is_409_and_bad_values_400(app: TestApp) {
    app.data(Method::POST, "/api/role/r").await;
    let (status, body) = app.get("/api/roles?min_revision=99").await;
    assert_error_envelope(status, &body, 409);
    for bad in ["-1", "x", "1.5"] {
        let (status, body) = app.get(&format!("/api/roles?min_revision={bad}")).await;
        assert_error_envelope(status, &body, 400);
    }
    let (status, _) = app.get("/api/roles?min_revision=1").await;
    assert_eq!(status, 200);
}

async fn a_write_on_one_instance_is_seen_by_another(app: TestApp) {
    let other = app.spawn_another(&[]).await;
    app.data(Method::POST, "/api/role/editor").await;
    app.data(Method::POST, "/api/permission/editor/edit").await;
    // The second instance loads the tenant now, then must follow later writes.
    let (_, body) = app
        .call_on(&other, Method::GET, "/api/has_permission/bob/edit")
        .await;
    assert_eq!(body["data"], json!({"has_permission": false}));

    let written = app.data(Method::POST, "/api/membership/bob/editor").await;
    let revision = written["revision"].as_i64().unwrap();
    // With min_revision the other instance never answers from an older model.
    let (status, body) = app
        .call_on(
            &other,
            Method::GET,
            &format!("/api/has_permission/bob/edit?min_revision={revision}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!({"has_permission": true}));

    // Without it, the change still arrives promptly (notification on PostgreSQL, sweep on SQLite).
    app.data(Method::DELETE, "/api/membership/bob/editor").await;
    let mut seen = false;
    for _ in 0..100 {
        let (_, body) = app
            .call_on(&other, Method::GET, "/api/has_permission/bob/edit")
            .await;
        if body["data"] == json!({"has_permission": false}) {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "the second instance never saw the revocation");
}

async fn writes_interleaved_across_instances_keep_both_models_exact(app: TestApp) {
    let other = app.spawn_another(&[]).await;
    app.data(Method::POST, "/api/role/r").await;
    let mut last = 0;
    for i in 0..20 {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            other.clone()
        };
        let response = app
            .client
            .post(format!("{base}/api/membership/user{i}/r"))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        last = body["data"]["revision"].as_i64().unwrap();
    }
    let mut expected: Vec<Value> = (0..20)
        .map(|i| json!({"user": format!("user{i}")}))
        .collect();
    expected.sort_by_key(|v| v["user"].as_str().unwrap().to_owned());
    for base in [&app.address, &other] {
        let path = format!("/api/members/r?min_revision={last}");
        let (_, body) = app.call_on(base, Method::GET, &path).await;
        assert_eq!(body["data"], Value::Array(expected.clone()), "{base}");
    }
}

crate::on_both_backends!(
    every_write_answers_the_tenants_new_revision,
    a_revision_that_never_arrives_is_409_and_bad_values_400,
    a_write_on_one_instance_is_seen_by_another,
    writes_interleaved_across_instances_keep_both_models_exact,
);

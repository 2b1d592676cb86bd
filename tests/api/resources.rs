//! Resources and scoped memberships: `PUT|GET|DELETE /api/resources/{type}/{id}`, `GET /api/resources/{type}`,
//! `?resource=` on memberships, checks and reverse look-ups, and `GET /api/user_resources/…`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, TestApp};
use crate::user_support::{ok, send};

async fn put(app: &TestApp, resource: &str, parent: Option<&str>) -> Value {
    let (kind, id) = resource.split_once(':').unwrap();
    let body = match parent {
        Some(parent) => json!({"parent": parent}),
        None => json!({}),
    };
    ok(
        app,
        Method::PUT,
        &format!("/api/resources/{kind}/{id}"),
        Some(&body),
    )
    .await
}

/// org:1 › folder:7 › folder:8 › folder:9 › document:42, with document:43 beside folder:7; `editor` grants
/// `docs:edit`; alice is an editor at folder:7.
async fn tree(app: &TestApp) {
    let created = put(app, "org:1", None).await;
    assert_eq!(created["created"], true, "{created}");
    put(app, "folder:7", Some("org:1")).await;
    put(app, "folder:8", Some("folder:7")).await;
    put(app, "folder:9", Some("folder:8")).await;
    put(app, "document:42", Some("folder:9")).await;
    put(app, "document:43", Some("org:1")).await;
    app.write(Method::POST, "/api/role/editor").await;
    app.write(Method::POST, "/api/permission/editor/docs:edit")
        .await;
    let added = app
        .write(
            Method::POST,
            "/api/membership/alice/editor?resource=folder:7",
        )
        .await;
    assert_eq!(added, json!({"created": true}));
}

async fn has(app: &TestApp, query: &str) -> Value {
    app.data(
        Method::GET,
        &format!("/api/has_permission/alice/docs:edit{query}"),
    )
    .await["has_permission"]
        .clone()
}

async fn a_folder_membership_reaches_three_levels_down_and_not_a_sibling(app: TestApp) {
    tree(&app).await;
    assert_eq!(has(&app, "?resource=document:42").await, true);
    assert_eq!(has(&app, "?resource=folder:7").await, true);
    assert_eq!(has(&app, "?resource=document:43").await, false);
    assert_eq!(has(&app, "?resource=org:1").await, false);
    assert_eq!(has(&app, "").await, false, "no resource: global only");
    assert_eq!(has(&app, "?resource=document:404").await, false);
    // The explanation names the scope.
    let why = app
        .data(
            Method::GET,
            "/api/has_permission/alice/docs:edit?resource=document:42&explain=true",
        )
        .await;
    assert_eq!(
        why["explanation"]["membership"]["scope"], "folder:7",
        "{why}"
    );
    // Reverse look-ups at a resource count scoped memberships; without one they do not.
    let users = |path: &'static str| {
        let app = &app;
        async move {
            app.data(Method::GET, path)
                .await
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["user"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        users("/api/which_users_can/docs:edit?resource=document:42").await,
        ["alice"]
    );
    assert!(users("/api/which_users_can/docs:edit").await.is_empty());
    assert_eq!(
        users("/api/members/editor?resource=folder:9").await,
        ["alice"]
    );
    assert!(users("/api/members/editor?resource=document:43")
        .await
        .is_empty());
    assert_eq!(
        app.data(Method::GET, "/api/user_permissions/alice?resource=folder:8")
            .await,
        json!([{"name": "docs:edit"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_permissions/alice").await,
        json!([])
    );
    assert_eq!(
        app.data(Method::GET, "/api/user_roles/alice?resource=document:42")
            .await[0]["role"],
        "editor"
    );
    // The scoped membership itself.
    let member = |query: &'static str| {
        let app = &app;
        async move {
            app.data(Method::GET, &format!("/api/membership/alice/editor{query}"))
                .await["is_member"]
                .clone()
        }
    };
    assert_eq!(member("?resource=folder:7").await, true);
    assert_eq!(member("?resource=document:42").await, false);
    assert_eq!(member("?resource=document:42&effective=true").await, true);
    assert_eq!(member("").await, false);
    // The resources alice may edit.
    assert_eq!(
        app.data(
            Method::GET,
            "/api/user_resources/alice/docs:edit?type=document"
        )
        .await,
        json!(["document:42"])
    );
    assert_eq!(
        app.data(
            Method::GET,
            "/api/user_resources/alice/docs:edit?type=folder&limit=2"
        )
        .await,
        json!(["folder:7", "folder:8"])
    );
    // A global membership reaches every resource of the type.
    app.write(Method::POST, "/api/membership/bob/editor").await;
    assert_eq!(
        app.data(
            Method::GET,
            "/api/user_resources/bob/docs:edit?type=document"
        )
        .await,
        json!(["document:42", "document:43"])
    );
    // Deleting a user takes their scoped memberships, on every instance.
    crate::user_support::put_user(&app, "erin", json!({})).await;
    app.write(
        Method::POST,
        "/api/membership/erin/editor?resource=folder:9",
    )
    .await;
    let erin = "/api/has_permission/erin/docs:edit?resource=document:42";
    assert_eq!(app.data(Method::GET, erin).await["has_permission"], true);
    ok(&app, Method::DELETE, "/api/users/erin", None).await;
    assert_eq!(app.data(Method::GET, erin).await["has_permission"], false);
    let app = app.respawn(&[]).await;
    assert_eq!(app.data(Method::GET, erin).await["has_permission"], false);
    // Removing the scoped membership takes it away.
    let removed = app
        .write(
            Method::DELETE,
            "/api/membership/alice/editor?resource=folder:7",
        )
        .await;
    assert_eq!(removed, json!({"removed": true}));
    assert_eq!(has(&app, "?resource=document:42").await, false);
}

async fn resources_are_stored_listed_and_refused_when_wrong(app: TestApp) {
    tree(&app).await;
    let (status, body) = send(
        &app,
        Method::PUT,
        "/api/resources/document/42",
        Some(&json!({"parent": "folder:9", "properties": {"owner": "alice", "size": 3}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["created"], false);
    assert_eq!(body["data"]["changed"], true);
    let stored = app.data(Method::GET, "/api/resources/document/42").await;
    assert_eq!(stored["resource"], "document:42");
    assert_eq!(stored["type"], "document");
    assert_eq!(stored["parent"], "folder:9");
    assert_eq!(stored["properties"], json!({"owner": "alice", "size": 3}));
    // The same PUT again changes nothing.
    let (_, again) = send(
        &app,
        Method::PUT,
        "/api/resources/document/42",
        Some(&json!({"parent": "folder:9", "properties": {"owner": "alice", "size": 3}})),
    )
    .await;
    assert_eq!(again["data"]["changed"], false, "{again}");
    // Listing by type, page by page.
    let mut seen = Vec::new();
    let mut path = "/api/resources/folder?limit=2".to_owned();
    loop {
        let (status, body) = app.call(Method::GET, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for item in body["data"].as_array().unwrap() {
            seen.push(item.as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/resources/folder?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["folder:7", "folder:8", "folder:9"]);
    // Refusals, each in the envelope, and none writes anything.
    let refused = [
        (
            "/api/resources/folder/7",
            json!({"parent": "document:42"}),
            409,
            Some("resource_cycle"),
        ),
        (
            "/api/resources/folder/7",
            json!({"parent": "folder:7"}),
            409,
            Some("resource_cycle"),
        ),
        (
            "/api/resources/folder/70",
            json!({"parent": "folder:404"}),
            404,
            Some("resource_not_found"),
        ),
        (
            "/api/resources/folder/70",
            json!({"parent": "folder"}),
            400,
            None,
        ),
        ("/api/resources/folder/70", json!({"parent": 7}), 422, None),
        (
            "/api/resources/folder/70",
            json!({"properties": [1]}),
            422,
            None,
        ),
        (
            "/api/resources/folder/70",
            json!({"properties": {"big": "x".repeat(17_000)}}),
            413,
            None,
        ),
        ("/api/resources/a:b/70", json!({}), 400, None),
        ("/api/resources/folder/b%20d", json!({}), 400, None),
    ];
    for (path, body, code, reason) in refused {
        let (status, answer) = send(&app, Method::PUT, path, Some(&body)).await;
        assert_error_envelope(status, &answer, code);
        if let Some(reason) = reason {
            assert_eq!(answer["reason"], reason, "{path} {body}: {answer}");
        }
    }
    let (status, body) = app.call(Method::GET, "/api/resources/folder/70").await;
    assert_error_envelope(status, &body, 404);
    assert_eq!(body["reason"], "resource_not_found");
    assert_eq!(
        app.data(Method::GET, "/api/resources/folder/7").await["parent"],
        "org:1"
    );
    // A membership scoped to a missing resource is 404; a malformed scope 400.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/membership/bob/editor?resource=folder:404",
        )
        .await;
    assert_error_envelope(status, &body, 404);
    assert_eq!(body["reason"], "resource_not_found");
    for bad in ["folder", "fo%20der:1", ":1"] {
        let (status, body) = app
            .call(
                Method::GET,
                &format!("/api/has_permission/alice/docs:edit?resource={bad}"),
            )
            .await;
        assert_error_envelope(status, &body, 400);
    }
    let (status, body) = app
        .call(Method::GET, "/api/user_resources/alice/docs:edit")
        .await;
    assert_error_envelope(status, &body, 400);
    // A resource with children stays; a leaf goes with its scoped memberships.
    let (status, body) = app.call(Method::DELETE, "/api/resources/folder/9").await;
    assert_error_envelope(status, &body, 409);
    assert_eq!(body["reason"], "resource_has_children");
    app.write(
        Method::POST,
        "/api/membership/carol/editor?resource=document:42",
    )
    .await;
    assert_eq!(
        app.write(Method::DELETE, "/api/resources/document/42")
            .await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/resources/document/42")
            .await,
        json!({"removed": false})
    );
    assert_eq!(
        app.raw_strings(
            "SELECT user_name FROM scoped_memberships WHERE resource_type = 'document'"
        )
        .await,
        Vec::<String>::new()
    );
    app.write(Method::DELETE, "/api/resources/folder/9").await;
}

async fn a_scoped_membership_expires_between_two_checks(app: TestApp) {
    tree(&app).await;
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/membership/dave/editor?resource=folder:8",
        Some(&json!({"ttl_seconds": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Listings at a resource show the expiry of the membership that applies there.
    let members = app
        .data(Method::GET, "/api/members/editor?resource=document:42")
        .await;
    let dave = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"] == "dave")
        .expect("dave listed");
    assert!(dave["expires_at"].is_string(), "{members}");
    let alice = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"] == "alice")
        .expect("alice listed");
    assert!(alice.get("expires_at").is_none(), "{members}");
    let effective = app
        .data(
            Method::GET,
            "/api/membership/dave/editor?resource=document:42&effective=true",
        )
        .await;
    assert!(effective["expires_at"].is_string(), "{effective}");
    let path = "/api/has_permission/dave/docs:edit?resource=document:42";
    assert_eq!(app.data(Method::GET, path).await["has_permission"], true);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.data(Method::GET, path).await["has_permission"], false);
    // The background pass removes it with a change-log row and an `expired` audit entry.
    let mut removed = false;
    for _ in 0..50 {
        if app
            .raw_strings("SELECT user_name FROM scoped_memberships")
            .await
            .len()
            == 1
        {
            removed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(removed, "the expired scoped membership was removed");
    let trail = app
        .data(Method::GET, "/api/audit?action=membership.expired")
        .await;
    let entries = trail["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(entries[0]["outcome"], "expired");
    let target = entries[0]["target"].as_str().unwrap();
    assert!(
        target.starts_with("role=editor user=#") && target.contains(" resource=folder:"),
        "{target}"
    );
    let logged = app
        .raw_strings("SELECT scope_type FROM model_changes WHERE op = 'membership.expired'")
        .await;
    assert_eq!(logged, ["folder"]);
    let (count, broken) = app.audit_chain().await;
    assert!(count > 10 && broken.is_none(), "{count} {broken:?}");
}

async fn a_second_instance_sees_resources_and_scoped_memberships(app: TestApp) {
    tree(&app).await;
    let second = app.spawn_another(&[]).await;
    let on_second = |path: &'static str| app.call_on(&second, Method::GET, path);
    let path = "/api/has_permission/alice/docs:edit?resource=document:42";
    assert_eq!(on_second(path).await.1["data"]["has_permission"], true);
    // Moving the document out of the folder's subtree, here, is seen there within the sweep.
    put(&app, "document:42", Some("document:43")).await;
    let mut seen = false;
    for _ in 0..60 {
        let (status, body) = on_second(path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["data"]["has_permission"] == false {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the second instance saw the move");
    // A scoped membership written there is read here at its revision.
    let (status, body) = app
        .call_on(
            &second,
            Method::POST,
            "/api/membership/alice/editor?resource=document:43",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let revision = body["data"]["revision"].as_i64().unwrap();
    assert_eq!(
        app.data(Method::GET, &format!("{path}&min_revision={revision}"))
            .await["has_permission"],
        true
    );
    // And everything survives a restart.
    let app = app.respawn(&[]).await;
    assert_eq!(app.data(Method::GET, path).await["has_permission"], true);
    assert_eq!(
        app.data(Method::GET, "/api/resources/document/42").await["parent"],
        "document:43"
    );
}

async fn racing_placements_never_form_a_cycle(app: TestApp) {
    put(&app, "folder:a", None).await;
    put(&app, "folder:b", None).await;
    let second = app.spawn_another(&[]).await;
    // a under b here, b under a there, 32 times over: at most one of each pair lands.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (first, other) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let client = app.client.clone();
        let key = app.key.clone();
        tasks.push(tokio::spawn(async move {
            client
                .put(format!("{base}/api/resources/folder/{first}"))
                .bearer_auth(key)
                .json(&json!({"parent": format!("folder:{other}")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        let status = task.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status}"
        );
    }
    let a = app.data(Method::GET, "/api/resources/folder/a").await;
    let b = app.data(Method::GET, "/api/resources/folder/b").await;
    assert!(
        !(a["parent"] == "folder:b" && b["parent"] == "folder:a"),
        "a cycle: {a} {b}"
    );
}

crate::on_both_backends!(
    a_folder_membership_reaches_three_levels_down_and_not_a_sibling,
    resources_are_stored_listed_and_refused_when_wrong,
    a_scoped_membership_expires_between_two_checks,
    a_second_instance_sees_resources_and_scoped_memberships,
    racing_placements_never_form_a_cycle,
);

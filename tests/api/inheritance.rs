//! Role hierarchy: `POST|DELETE /api/role/{role}/inherits/{other}`, `GET /api/role/{role}/inherits`, and every
//! decision and listing that follows inheritance.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, TestApp};

fn names(listing: &Value, field: &str) -> Vec<String> {
    listing
        .as_array()
        .unwrap_or_else(|| panic!("a listing: {listing}"))
        .iter()
        .map(|item| item[field].as_str().expect("a name").to_owned())
        .collect()
}

/// level0 inherits level1 … level9 inherits level10: a chain of ten edges; `deploy` is granted to level10 only.
async fn chain_of_ten(app: &TestApp) {
    for i in 0..=10 {
        app.write(Method::POST, &format!("/api/role/level{i}"))
            .await;
    }
    for i in 0..10 {
        assert_eq!(
            app.write(
                Method::POST,
                &format!("/api/role/level{i}/inherits/level{}", i + 1)
            )
            .await,
            json!({"created": true})
        );
    }
    app.write(Method::POST, "/api/permission/level10/deploy")
        .await;
    app.write(Method::POST, "/api/membership/alice/level0")
        .await;
}

async fn a_grant_reaches_through_a_chain_of_ten(app: TestApp) {
    chain_of_ten(&app).await;
    app.write(Method::POST, "/api/membership/bob/level9").await;
    let has = |user: &'static str| {
        let app = &app;
        async move {
            app.data(Method::GET, &format!("/api/has_permission/{user}/deploy"))
                .await["has_permission"]
                .clone()
        }
    };
    assert_eq!(has("alice").await, true);
    assert_eq!(has("bob").await, true);
    assert_eq!(has("carol").await, false);
    // Effective answers.
    assert_eq!(
        names(
            &app.data(Method::GET, "/api/user_permissions/alice").await,
            "name"
        ),
        ["deploy"]
    );
    assert_eq!(
        names(
            &app.data(Method::GET, "/api/which_users_can/deploy").await,
            "user"
        ),
        ["alice", "bob"]
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_roles_can/deploy")
            .await
            .as_array()
            .unwrap()
            .len(),
        11
    );
    // Structural reads are direct unless asked.
    let data = |path: &'static str| app.data(Method::GET, path);
    assert_eq!(data("/api/role_permissions/level0").await, json!([]));
    assert_eq!(
        names(
            &data("/api/role_permissions/level0?effective=true").await,
            "name"
        ),
        ["deploy"]
    );
    assert_eq!(data("/api/members/level10").await, json!([]));
    assert_eq!(
        names(&data("/api/members/level10?effective=true").await, "user"),
        ["alice", "bob"]
    );
    assert_eq!(
        names(&data("/api/user_roles/alice").await, "role"),
        ["level0"]
    );
    assert_eq!(
        data("/api/user_roles/alice?effective=true")
            .await
            .as_array()
            .unwrap()
            .len(),
        11
    );
    assert_eq!(
        data("/api/membership/alice/level10").await["is_member"],
        false
    );
    assert_eq!(
        data("/api/membership/alice/level10?effective=true").await["is_member"],
        true
    );
    assert_eq!(
        data("/api/permission/level0/deploy").await["has_permission"],
        false
    );
    assert_eq!(
        data("/api/permission/level0/deploy?effective=true").await["has_permission"],
        true
    );
    // The edges, direct and transitive.
    assert_eq!(
        names(&data("/api/role/level8/inherits").await, "role"),
        ["level9"]
    );
    assert_eq!(
        names(
            &data("/api/role/level8/inherits?transitive=true").await,
            "role"
        ),
        ["level10", "level9"]
    );
    assert_eq!(data("/api/role/level10/inherits").await, json!([]));
    // A page of the transitive listing links to the next page of the same listing.
    let response = app
        .client
        .get(app.url("/api/role/level0/inherits?transitive=true&limit=4"))
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("sent");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("a next link");
    assert!(next.contains("transitive=true"), "{link}");
    let rest = app.data(Method::GET, next).await;
    assert_eq!(rest.as_array().unwrap().len(), 4, "{rest}");
    // The access check's role_id and the JWT's permission claims follow inheritance too.
    crate::user_support::put_user(&app, "alice", json!({})).await;
    crate::user_support::put_user(&app, "bob", json!({})).await;
    let access = app
        .post_json(
            "/api/access/check",
            &json!({"user_id": "alice", "role_id": "level10"}),
        )
        .await;
    assert_eq!(access.0, StatusCode::OK, "{}", access.1);
    assert_eq!(access.1["data"]["permissions"], "allowed");
    let access = app
        .post_json(
            "/api/access/check",
            &json!({"user_id": "bob", "role_id": "level0"}),
        )
        .await;
    assert_eq!(access.1["data"]["permissions"], "denied");
    let tokens = app.data(Method::POST, "/api/token/alice").await;
    let claims = crate::jwt::payload_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["permissions"], json!(["deploy"]));
    assert_eq!(claims["roles"], json!(["level0"]));
}

async fn cutting_an_edge_takes_away_only_what_came_through_it(app: TestApp) {
    chain_of_ten(&app).await;
    app.write(Method::POST, "/api/membership/bob/level5").await;
    assert_eq!(
        app.write(Method::DELETE, "/api/role/level4/inherits/level5")
            .await,
        json!({"removed": true})
    );
    assert_eq!(
        app.write(Method::DELETE, "/api/role/level4/inherits/level5")
            .await,
        json!({"removed": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/alice/deploy")
            .await["has_permission"],
        false
    );
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/bob/deploy")
            .await["has_permission"],
        true
    );
    // A second path restores it.
    app.write(Method::POST, "/api/role/level0/inherits/level10")
        .await;
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/alice/deploy")
            .await["has_permission"],
        true
    );
}

async fn cycles_unknown_roles_and_overlong_chains_are_refused(app: TestApp) {
    for role in ["admin", "editor", "viewer"] {
        app.write(Method::POST, &format!("/api/role/{role}")).await;
    }
    app.write(Method::POST, "/api/role/admin/inherits/editor")
        .await;
    app.write(Method::POST, "/api/role/editor/inherits/viewer")
        .await;
    assert_eq!(
        app.write(Method::POST, "/api/role/admin/inherits/editor")
            .await,
        json!({"created": false})
    );
    for (path, expected) in [
        ("/api/role/viewer/inherits/admin", "inheritance_cycle"),
        ("/api/role/editor/inherits/admin", "inheritance_cycle"),
        ("/api/role/admin/inherits/admin", "inheritance_cycle"),
    ] {
        let (status, body) = app.call(Method::POST, path).await;
        assert_error_envelope(status, &body, 409);
        assert_eq!(body["reason"], expected, "{path}: {body}");
    }
    for path in [
        "/api/role/admin/inherits/ghost",
        "/api/role/ghost/inherits/admin",
        "/api/role/admin/inherits/ghost",
        "/api/role/ghost/inherits",
    ] {
        let method = if path.ends_with("inherits") {
            Method::GET
        } else {
            Method::POST
        };
        let (status, body) = app.call(method, path).await;
        let error = assert_error_envelope(status, &body, 404);
        assert!(error.contains("ghost"), "{error}");
    }
    let (status, body) = app
        .call(Method::DELETE, "/api/role/admin/inherits/ghost")
        .await;
    assert_error_envelope(status, &body, 404);
    let (status, body) = app
        .call(Method::POST, "/api/role/admin/inherits/b%20d")
        .await;
    assert_error_envelope(status, &body, 400);
    let (status, body) = app
        .call(Method::GET, "/api/role/admin/inherits?transitive=maybe")
        .await;
    assert_error_envelope(status, &body, 400);
    let (status, body) = app
        .call(Method::GET, "/api/members/admin?effective=2")
        .await;
    assert_error_envelope(status, &body, 400);
    // A chain of 16 edges is the limit.
    for i in 0..=17 {
        app.write(Method::POST, &format!("/api/role/deep{i}")).await;
    }
    for i in 0..16 {
        app.write(
            Method::POST,
            &format!("/api/role/deep{i}/inherits/deep{}", i + 1),
        )
        .await;
    }
    let (status, body) = app
        .call(Method::POST, "/api/role/deep16/inherits/deep17")
        .await;
    assert_error_envelope(status, &body, 409);
    assert_eq!(body["reason"], "inheritance_too_deep", "{body}");
    let (status, body) = app
        .call(Method::POST, "/api/role/deep17/inherits/deep0")
        .await;
    assert_error_envelope(status, &body, 409);
    assert_eq!(body["reason"], "inheritance_too_deep", "{body}");
    // Nothing refused was written: the graph is as it was.
    assert_eq!(
        names(
            &app.data(Method::GET, "/api/role/viewer/inherits?transitive=true")
                .await,
            "role"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        app.data(Method::GET, "/api/role/deep16/inherits").await,
        json!([])
    );
}

async fn deleting_a_role_removes_its_edges_for_good(app: TestApp) {
    for role in ["admin", "editor"] {
        app.write(Method::POST, &format!("/api/role/{role}")).await;
    }
    app.write(Method::POST, "/api/role/admin/inherits/editor")
        .await;
    app.write(Method::POST, "/api/permission/editor/edit").await;
    app.write(Method::POST, "/api/membership/ann/admin").await;
    app.write(Method::DELETE, "/api/role/editor").await;
    assert_eq!(
        app.data(Method::GET, "/api/role/admin/inherits").await,
        json!([])
    );
    // Re-creating the role does not bring the edge back, here or after a restart.
    app.write(Method::POST, "/api/role/editor").await;
    app.write(Method::POST, "/api/permission/editor/edit").await;
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/ann/edit").await["has_permission"],
        false
    );
    let app = app.respawn(&[]).await;
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/ann/edit").await["has_permission"],
        false
    );
    assert_eq!(
        app.data(Method::GET, "/api/role/admin/inherits").await,
        json!([])
    );
}

async fn edges_survive_a_restart_and_are_audited(app: TestApp) {
    chain_of_ten(&app).await;
    app.write(Method::DELETE, "/api/role/level0/inherits/level1")
        .await;
    app.write(Method::POST, "/api/role/level0/inherits/level1")
        .await;
    let app = app.respawn(&[]).await;
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/alice/deploy")
            .await["has_permission"],
        true
    );
    let trail = app
        .data(Method::GET, "/api/audit?action=inheritance.add&limit=50")
        .await;
    let entries = trail["entries"].as_array().expect("audit entries");
    assert_eq!(entries.len(), 11, "{trail}");
    assert!(entries
        .iter()
        .any(|e| e["target"] == "role=level0 parent=level1" && e["outcome"] == "changed"));
    let removed = app
        .data(Method::GET, "/api/audit?action=inheritance.remove")
        .await;
    assert_eq!(removed["entries"].as_array().unwrap().len(), 1, "{removed}");
    let (entries, broken) = app.audit_chain().await;
    assert!(entries > 0);
    assert_eq!(broken, None);
}

async fn a_second_instance_sees_a_revoked_edge(app: TestApp) {
    chain_of_ten(&app).await;
    let second = app.spawn_another(&[]).await;
    let on_second = |path: &'static str| app.call_on(&second, Method::GET, path);
    assert_eq!(
        on_second("/api/has_permission/alice/deploy").await.1["data"]["has_permission"],
        true
    );
    app.write(Method::DELETE, "/api/role/level3/inherits/level4")
        .await;
    let mut seen = false;
    for _ in 0..60 {
        let (status, body) = on_second("/api/has_permission/alice/deploy").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["data"]["has_permission"] == false {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the second instance saw the removal within the sweep");
    // An edge added there is seen here.
    let (status, body) = app
        .call_on(&second, Method::POST, "/api/role/level3/inherits/level10")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let revision = body["data"]["revision"].as_i64().unwrap();
    assert_eq!(
        app.data(
            Method::GET,
            &format!("/api/has_permission/alice/deploy?min_revision={revision}")
        )
        .await["has_permission"],
        true
    );
}

async fn racing_opposite_edges_on_two_instances_never_form_a_cycle(app: TestApp) {
    let second = app.spawn_another(&[]).await;
    for i in 0..9 {
        app.write(Method::POST, &format!("/api/role/r{i}")).await;
    }
    // 64 of the 72 ordered pairs of nine roles, at once, half on each instance: each pair's two directions race.
    let mut pairs = Vec::new();
    for a in 0..9 {
        for b in 0..9 {
            if a != b {
                pairs.push((a, b));
            }
        }
    }
    pairs.truncate(64);
    let requests = pairs.iter().enumerate().map(|(n, (a, b))| {
        let base = if n % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let path = format!("/api/role/r{a}/inherits/r{b}");
        let app = &app;
        async move { app.call_on(&base, Method::POST, &path).await }
    });
    let answers = futures::future::join_all(requests).await;
    let mut added = 0;
    for (status, body) in &answers {
        match status.as_u16() {
            200 => added += 1,
            409 => assert_eq!(body["reason"], "inheritance_cycle", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(added > 0);
    // No role reaches itself.
    for i in 0..9 {
        let reached = names(
            &app.data(
                Method::GET,
                &format!("/api/role/r{i}/inherits?transitive=true"),
            )
            .await,
            "role",
        );
        assert!(!reached.contains(&format!("r{i}")), "r{i} reaches itself");
    }
    // Every acknowledged edge is stored.
    let store_edges = app
        .raw_strings("SELECT role || '>' || parent FROM role_inherits")
        .await;
    assert_eq!(store_edges.len(), added, "{store_edges:?}");
}

crate::on_both_backends!(
    a_grant_reaches_through_a_chain_of_ten,
    cutting_an_edge_takes_away_only_what_came_through_it,
    cycles_unknown_roles_and_overlong_chains_are_refused,
    deleting_a_role_removes_its_edges_for_good,
    edges_survive_a_restart_and_are_audited,
    a_second_instance_sees_a_revoked_edge,
    racing_opposite_edges_on_two_instances_never_form_a_cycle,
);

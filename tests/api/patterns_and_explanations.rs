//! Pattern grants (`docs:*`) and `?explain=true` on `has_permission`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error_envelope, TestApp};

async fn a_pattern_grant_answers_for_what_it_matches_and_only_there(app: TestApp) {
    app.write(Method::POST, "/api/role/writer").await;
    assert_eq!(
        app.write(Method::POST, "/api/permission/writer/docs:*")
            .await,
        json!({"created": true})
    );
    app.write(Method::POST, "/api/membership/bob/writer").await;
    let has = |permission: &'static str| {
        let app = &app;
        async move {
            app.data(
                Method::GET,
                &format!("/api/has_permission/bob/{permission}"),
            )
            .await["has_permission"]
                .clone()
        }
    };
    assert_eq!(has("docs:read").await, true);
    assert_eq!(has("docs:").await, true);
    assert_eq!(has("doc:read").await, false);
    assert_eq!(has("xdocs:read").await, false);
    assert_eq!(
        app.data(Method::GET, "/api/which_users_can/docs:read")
            .await,
        json!([{"user": "bob"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_roles_can/docs:write")
            .await,
        json!([{"role": "writer", "description": null}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/role_permissions/writer").await,
        json!([{"name": "docs:*"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/permission/writer/docs:read")
            .await["has_permission"],
        false
    );
    assert_eq!(
        app.data(
            Method::GET,
            "/api/permission/writer/docs:read?effective=true"
        )
        .await["has_permission"],
        true
    );
    assert_eq!(
        app.data(Method::GET, "/api/permission/writer/docs:*").await["has_permission"],
        true
    );
    // `*` belongs in grants only.
    for path in [
        "/api/has_permission/bob/docs:*",
        "/api/which_users_can/docs:*",
        "/api/user_permissions/b*b",
        "/api/role/wr*ter",
        "/api/membership/b*b/writer",
    ] {
        let method = if path.starts_with("/api/role/") || path.starts_with("/api/membership/") {
            Method::POST
        } else {
            Method::GET
        };
        let (status, body) = app.call(method, path).await;
        assert_error_envelope(status, &body, 400);
    }
    // A second instance replays the pattern grant and its revocation.
    let second = app.spawn_another(&[]).await;
    let (_, seen) = app
        .call_on(&second, Method::GET, "/api/has_permission/bob/docs:edit")
        .await;
    assert_eq!(seen["data"]["has_permission"], true, "{seen}");
    assert_eq!(
        app.write(Method::DELETE, "/api/permission/writer/docs:*")
            .await,
        json!({"removed": true})
    );
    assert_eq!(has("docs:read").await, false);
    let mut revoked = false;
    for _ in 0..50 {
        let (_, seen) = app
            .call_on(&second, Method::GET, "/api/has_permission/bob/docs:edit")
            .await;
        if seen["data"]["has_permission"] == false {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(revoked, "the second instance saw the revocation");
}

async fn a_pathological_pattern_is_answered_quickly_and_correctly(app: TestApp) {
    app.write(Method::POST, "/api/role/odd").await;
    let pattern = "a*".repeat(60);
    app.write(Method::POST, &format!("/api/permission/odd/{pattern}"))
        .await;
    app.write(Method::POST, "/api/membership/eve/odd").await;
    let long_miss = format!("{}b", "a".repeat(59));
    let long_hit = "a".repeat(128);
    assert_eq!(
        app.data(Method::GET, &format!("/api/has_permission/eve/{long_miss}"))
            .await["has_permission"],
        false
    );
    assert_eq!(
        app.data(Method::GET, &format!("/api/has_permission/eve/{long_hit}"))
            .await["has_permission"],
        true
    );
}

async fn explain_gives_the_membership_chain_and_grant(app: TestApp) {
    for role in ["admin", "editor", "viewer"] {
        app.write(Method::POST, &format!("/api/role/{role}")).await;
    }
    app.write(Method::POST, "/api/role/admin/inherits/editor")
        .await;
    app.write(Method::POST, "/api/role/editor/inherits/viewer")
        .await;
    app.write(Method::POST, "/api/permission/viewer/deploy:*")
        .await;
    app.write(Method::POST, "/api/permission/editor/edit").await;
    let (status, body) = app
        .post_json("/api/membership/alice/admin", &json!({"ttl_seconds": 3600}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expires_at = body["data"]["expires_at"].clone();
    let data = app
        .data(
            Method::GET,
            "/api/has_permission/alice/deploy:prod?explain=true",
        )
        .await;
    assert_eq!(
        data,
        json!({
            "has_permission": true,
            "explanation": {
                "membership": {"role": "admin", "scope": null, "expires_at": expires_at},
                "inheritance": ["admin", "editor", "viewer"],
                "grant": {"role": "viewer", "permission": "deploy:*", "pattern": true}
            }
        })
    );
    // The shortest path wins, and an exact grant says so.
    app.write(Method::POST, "/api/membership/alice/editor")
        .await;
    let data = app
        .data(Method::GET, "/api/has_permission/alice/edit?explain=true")
        .await;
    assert_eq!(data["explanation"]["inheritance"], json!(["editor"]));
    assert_eq!(
        data["explanation"]["grant"],
        json!({"role": "editor", "permission": "edit", "pattern": false})
    );
    assert_eq!(data["explanation"]["membership"]["expires_at"], json!(null));
    // A denial carries no explanation; without the flag neither does a grant.
    assert_eq!(
        app.data(
            Method::GET,
            "/api/has_permission/alice/nothing?explain=true"
        )
        .await,
        json!({"has_permission": false})
    );
    assert_eq!(
        app.data(Method::GET, "/api/has_permission/alice/edit")
            .await,
        json!({"has_permission": true})
    );
    let (status, body) = app
        .call(
            Method::GET,
            "/api/has_permission/alice/edit?explain=perhaps",
        )
        .await;
    assert_error_envelope(status, &body, 400);
}

crate::on_both_backends!(
    a_pattern_grant_answers_for_what_it_matches_and_only_there,
    a_pathological_pattern_is_answered_quickly_and_correctly,
    explain_gives_the_membership_chain_and_grant,
);

//! Field encryption at rest: sealed storage, working queries, and the start-up safety checks.

use reqwest::Method;
use serde_json::json;
use warden::config::Settings;
use warden::startup::Application;

use crate::helpers::TestApp;

const KEY: &str = "9d3f6a1c8e2b7f40d5a9c3e6b1f8a2d7";
const OTHER_KEY: &str = "4b8e1d7a3f9c62e0b5d8a1f4c7e3b9d2";
const THIRD_KEY: &str = "a7c2e9f4b1d8063e5a2c7f9b4d1e8a36";

fn encrypted(key: &'static str) -> [(&'static str, &'static str); 2] {
    [
        ("AUTH_ENABLE_ENCRYPTION", "true"),
        ("AUTH_ENCRYPTION_KEY", key),
    ]
}

/// Builds (without serving) a Warden on the test's database; returns the start-up error, if any.
async fn start_error(app: &TestApp, vars: &[(&str, &str)]) -> Option<String> {
    let url = app.database_url().to_owned();
    let secrets = crate::helpers::server_secrets_for(&url);
    let settings = Settings::from_lookup(|name| {
        if name == "AUTH_DATABASE_URL" {
            return Some(url.clone());
        }
        if name == "AUTH_SERVER_PORT" {
            return Some("0".into());
        }
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| {
                secrets
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
    })
    .unwrap();
    Application::build(settings)
        .await
        .err()
        .map(|e| format!("{e:#}"))
}

async fn sealed_fields_are_unreadable_at_rest_and_queries_still_work(app: TestApp) {
    let app = TestApp::spawn_with(app.backend(), &encrypted(KEY))
        .await
        .unwrap();
    let (status, _) = app
        .post_json(
            "/api/role/admin",
            &json!({"description": "Top secret role"}),
        )
        .await;
    assert_eq!(status, 200);
    app.write(Method::POST, "/api/permission/admin/payroll:read")
        .await;
    app.write(Method::POST, "/api/membership/alice@example.com/admin")
        .await;

    assert_eq!(
        app.data(
            Method::GET,
            "/api/has_permission/alice@example.com/payroll:read"
        )
        .await,
        json!({"has_permission": true})
    );
    assert_eq!(
        app.data(Method::GET, "/api/which_users_can/payroll:read")
            .await,
        json!([{"user": "alice@example.com"}])
    );
    assert_eq!(
        app.data(Method::GET, "/api/membership/alice@example.com/admin")
            .await,
        json!({"is_member": true})
    );

    // A resource's id and properties, a scoped membership and their change-log rows are sealed too.
    let (status, body) = crate::user_support::send(
        &app,
        Method::PUT,
        "/api/resources/folder/secret-7",
        Some(&json!({"properties": {"owner": "alice@example.com"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.write(
        Method::POST,
        "/api/membership/bob@example.com/admin?resource=folder:secret-7",
    )
    .await;
    assert_eq!(
        app.data(
            Method::GET,
            "/api/has_permission/bob@example.com/payroll:read?resource=folder:secret-7"
        )
        .await,
        json!({"has_permission": true})
    );
    assert_eq!(
        app.data(Method::GET, "/api/resources/folder/secret-7")
            .await["properties"],
        json!({"owner": "alice@example.com"})
    );
    let sealed_resources = app
        .raw_strings(
            "SELECT resource_id FROM resources UNION ALL SELECT properties FROM resources \
             UNION ALL SELECT user_name FROM scoped_memberships \
             UNION ALL SELECT resource_id FROM scoped_memberships \
             UNION ALL SELECT scope_id FROM model_changes WHERE scope_id IS NOT NULL \
             UNION ALL SELECT item FROM model_changes WHERE op LIKE 'resource.%'",
        )
        .await;
    assert_eq!(sealed_resources.len(), 6, "{sealed_resources:?}");
    assert!(
        sealed_resources.iter().all(|v| v.starts_with("v2:")),
        "{sealed_resources:?}"
    );
    let trail = app.raw_strings("SELECT target FROM audit_log").await;
    assert!(!format!("{trail:?}").contains("secret-7"), "{trail:?}");

    let stored_users = app.raw_strings("SELECT user_name FROM memberships").await;
    let stored_permissions = app
        .raw_strings("SELECT permission FROM role_permissions")
        .await;
    let stored_descriptions = app.raw_strings("SELECT description FROM roles").await;
    for value in stored_users
        .iter()
        .chain(&stored_permissions)
        .chain(&stored_descriptions)
    {
        assert!(value.starts_with("v2:"), "{value}");
    }
    assert!(
        !format!("{stored_users:?}{stored_permissions:?}{stored_descriptions:?}").contains("alice")
    );

    // Removing by name works on ciphertexts too, and another instance (loading from the database) agrees.
    app.write(Method::DELETE, "/api/membership/alice@example.com/admin")
        .await;
    let other = app.spawn_another(&encrypted(KEY)).await;
    let response = app
        .client
        .get(format!("{other}/api/roles"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let (_, body) = crate::helpers::read(response).await;
    assert_eq!(
        body["data"],
        json!([{"role": "admin", "description": "Top secret role"}])
    );
    assert!(app
        .raw_strings("SELECT user_name FROM memberships")
        .await
        .is_empty());
}

async fn the_same_name_is_sealed_differently_for_each_tenant(app: TestApp) {
    let app = TestApp::spawn_with(app.backend(), &encrypted(KEY))
        .await
        .unwrap();
    let second = crate::helpers::new_key();
    for key in [app.key.clone(), second.clone()] {
        app.call_as(&key, Method::POST, "/api/role/r").await;
        let (status, _) = app
            .call_as(&key, Method::POST, "/api/membership/bob/r")
            .await;
        assert_eq!(status, 200);
    }
    let stored = app.raw_strings("SELECT user_name FROM memberships").await;
    assert_eq!(stored.len(), 2);
    assert_ne!(stored[0], stored[1]);
}

async fn a_wrong_key_or_a_switched_mode_is_refused_at_start(app: TestApp) {
    let app = TestApp::spawn_with(app.backend(), &encrypted(KEY))
        .await
        .unwrap();
    app.write(Method::POST, "/api/role/r").await;
    let wrong = start_error(&app, &encrypted(OTHER_KEY))
        .await
        .expect("refused");
    assert!(
        wrong.contains("not the key this database was encrypted with"),
        "{wrong}"
    );
    assert!(
        !wrong.contains(OTHER_KEY) && !wrong.contains(KEY),
        "{wrong}"
    );
    let off = start_error(&app, &[]).await.expect("refused");
    assert!(off.contains("this database is encrypted"), "{off}");
    assert_eq!(start_error(&app, &encrypted(KEY)).await, None);
}

async fn encryption_on_over_plaintext_data_is_refused_until_converted(app: TestApp) {
    app.write(Method::POST, "/api/role/r").await;
    app.write(Method::POST, "/api/permission/r/read").await;
    app.write(Method::POST, "/api/membership/carol/r").await;
    let (status, body) = app
        .post_json("/api/apikeys/user/carol", &json!({"label": "laptop"}))
        .await;
    assert_eq!(status, 200, "{body}");
    // An inheritance edge: its change-log item is a role name, stored as given and never re-sealed.
    app.write(Method::POST, "/api/role/lead").await;
    app.write(Method::POST, "/api/role/lead/inherits/r").await;
    app.write(Method::POST, "/api/membership/dave/lead").await;
    // Resources (a parent and a child, which follows its parent's new id) and a scoped membership.
    let (status, body) = crate::user_support::send(
        &app,
        Method::PUT,
        "/api/resources/folder/7",
        Some(&json!({"properties": {"team": "blue"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = crate::user_support::send(
        &app,
        Method::PUT,
        "/api/resources/doc/1",
        Some(&json!({"parent": "folder:7"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.write(Method::POST, "/api/membership/erin/r?resource=folder:7")
        .await;
    // More rows than one re-sealing statement takes.
    let extra = 520;
    for i in 0..extra {
        app.write(Method::POST, &format!("/api/membership/m{i}/r"))
            .await;
    }
    let refused = start_error(&app, &encrypted(KEY)).await.expect("refused");
    assert!(refused.contains("run `warden encrypt`"), "{refused}");

    // `warden encrypt`, then `warden rotate-encryption-key`, as the commands run them.
    let url = app.database_url().to_owned();
    let settings = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let url = url.clone();
        Settings::from_lookup(move |name| {
            if name == "AUTH_DATABASE_URL" {
                return Some(url.clone());
            }
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .unwrap()
    };
    let store = warden_store::Store::connect(&settings(&[]).database)
        .await
        .unwrap();
    let report = warden::service::encryption::encrypt_database(
        &store,
        &settings(&encrypted(KEY)).encryption,
    )
    .await
    .unwrap();
    assert_eq!(report.tenants, 1);
    // The grant and every membership, in their tables and in the change log, and the API key's label; two
    // resource ids, one properties object, the scoped member, and in the change log two resource ids, the
    // scoped member and two scopes (the child's parent, the membership's resource).
    assert_eq!(report.values, 2 * (3 + extra) + 1 + 9, "{report:?}");
    assert_eq!(
        app.raw_strings("SELECT item FROM model_changes WHERE op = 'inheritance.add'")
            .await,
        ["r"]
    );
    let labels = app.raw_strings("SELECT label FROM api_keys").await;
    assert!(
        labels.iter().all(|label| label.starts_with("v2:")),
        "{labels:?}"
    );
    let members = app.raw_strings("SELECT user_name FROM memberships").await;
    assert_eq!(members.len() as u64, 2 + extra);
    assert!(
        members.iter().all(|name| name.starts_with("v2:")),
        "{members:?}"
    );

    let mut rotate_vars = encrypted(KEY).to_vec();
    rotate_vars.push(("AUTH_NEW_ENCRYPTION_KEY", OTHER_KEY));
    warden::service::encryption::rotate_key(&store, &settings(&rotate_vars).encryption)
        .await
        .unwrap();
    store.close().await;

    // The old key is refused now; the new one serves the same answers.
    assert!(start_error(&app, &encrypted(KEY)).await.is_some());
    let address = TestApp::start(app.database_url(), &encrypted(OTHER_KEY)).await;
    let response = app
        .client
        .get(format!("{address}/api/has_permission/carol/read"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!({"has_permission": true}));
    let response = app
        .client
        .get(format!("{address}/api/has_permission/dave/read"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let (_, body) = crate::helpers::read(response).await;
    assert_eq!(
        body["data"],
        json!({"has_permission": true}),
        "through lead"
    );
    for (path, field, expected) in [
        (
            "/api/has_permission/erin/read?resource=doc:1",
            "has_permission",
            json!(true),
        ),
        ("/api/resources/doc/1", "parent", json!("folder:7")),
        (
            "/api/resources/folder/7",
            "properties",
            json!({"team": "blue"}),
        ),
    ] {
        let response = app
            .client
            .get(format!("{address}{path}"))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        let (status, body) = crate::helpers::read(response).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["data"][field], expected, "{path}: {body}");
    }
    let response = app
        .client
        .get(format!("{address}/api/members/r"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let (_, body) = crate::helpers::read(response).await;
    assert_eq!(body["data"].as_array().unwrap().len() as u64, 1 + extra);
    let response = app
        .client
        .get(format!("{address}/api/apikeys/user/carol"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["keys"][0]["label"], "laptop", "{body}");
}

async fn user_access_features_see_sealed_memberships(app: TestApp) {
    let app = TestApp::spawn_with(app.backend(), &encrypted(KEY))
        .await
        .unwrap();
    let put = app
        .client
        .put(app.url("/api/users/dora"))
        .bearer_auth(&app.key)
        .json(&json!({"status": "allowed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    app.write(Method::POST, "/api/role/ops").await;
    app.write(Method::POST, "/api/membership/dora/ops").await;

    let (_, check) = app
        .post_json(
            "/api/access/check",
            &json!({"user_id": "dora", "role_id": "ops"}),
        )
        .await;
    assert_eq!(check["data"]["permissions"], "allowed", "{check}");
    let (_, issued) = app.post_json("/api/users/dora/tokens", &json!({})).await;
    let token = issued["data"]["token"].as_str().unwrap().to_owned();
    let (status, owner) = app
        .post_json("/api/tokens/validate", &json!({"token": token}))
        .await;
    assert_eq!(status, 200, "{owner}");
    assert_eq!(owner["data"]["roles"], json!(["ops"]));

    let (status, _) = app.call(Method::DELETE, "/api/users/dora").await;
    assert_eq!(status, 200);
    assert_eq!(app.data(Method::GET, "/api/members/ops").await, json!([]));
    assert!(app
        .raw_strings("SELECT user_name FROM memberships")
        .await
        .is_empty());
}

async fn old_audit_entries_stay_readable_after_a_key_rotation_and_the_chain_still_verifies(
    app: TestApp,
) {
    let app = TestApp::spawn_with(app.backend(), &encrypted(KEY))
        .await
        .unwrap();
    app.write(Method::POST, "/api/role/payroll").await;
    app.write(Method::POST, "/api/permission/payroll/salaries:read")
        .await;
    let targets = |page: serde_json::Value| -> Vec<String> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["target"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = targets(app.data(Method::GET, "/api/audit").await);
    assert_eq!(
        before,
        ["role=payroll permission=salaries:read", "role=payroll"]
    );

    let url = app.database_url().to_owned();
    let secrets = crate::helpers::server_secrets_for(&url);
    let settings = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain(secrets.iter().cloned())
            .collect();
        let url = url.clone();
        Settings::from_lookup(move |name| {
            if name == "AUTH_DATABASE_URL" {
                return Some(url.clone());
            }
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .unwrap()
    };
    let mut rotate_vars = encrypted(KEY).to_vec();
    rotate_vars.push(("AUTH_NEW_ENCRYPTION_KEY", OTHER_KEY));
    // Twice: keys retired by an earlier rotation move to the new key too.
    for vars in [
        rotate_vars,
        vec![
            ("AUTH_ENABLE_ENCRYPTION", "true"),
            ("AUTH_ENCRYPTION_KEY", OTHER_KEY),
            ("AUTH_NEW_ENCRYPTION_KEY", THIRD_KEY),
        ],
    ] {
        let store = warden_store::Store::connect(&settings(&[]).database)
            .await
            .unwrap();
        warden::service::encryption::rotate_key(&store, &settings(&vars).encryption)
            .await
            .unwrap();
        store.close().await;
    }

    // Under the newest key, the old entries read as before, beside a new one.
    let rotated = app.respawn(&encrypted(THIRD_KEY)).await;
    rotated
        .write(Method::POST, "/api/permission/payroll/salaries:write")
        .await;
    let after = targets(rotated.data(Method::GET, "/api/audit").await);
    assert_eq!(
        after,
        [
            "role=payroll permission=salaries:write",
            "role=payroll permission=salaries:read",
            "role=payroll",
        ]
    );
    // Still sealed at rest, and the chain (which hashes the stored targets) is intact.
    let stored = rotated.raw_strings("SELECT target FROM audit_log").await;
    assert!(stored.iter().all(|t| !t.contains("salaries")), "{stored:?}");
    assert_eq!(rotated.audit_chain().await, (3, None));
}

crate::on_both_backends!(
    old_audit_entries_stay_readable_after_a_key_rotation_and_the_chain_still_verifies,
    user_access_features_see_sealed_memberships,
    sealed_fields_are_unreadable_at_rest_and_queries_still_work,
    the_same_name_is_sealed_differently_for_each_tenant,
    a_wrong_key_or_a_switched_mode_is_refused_at_start,
    encryption_on_over_plaintext_data_is_refused_until_converted,
);

//! The audit trail over HTTP and its hash chain.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error_envelope, new_key, Backend, TestApp};

async fn every_change_is_audited_newest_first_without_user_names(app: TestApp) {
    app.data(Method::POST, "/api/role/admin").await;
    app.data(Method::POST, "/api/permission/admin/manage").await;
    app.data(Method::POST, "/api/membership/alice@example.com/admin")
        .await;
    app.data(Method::POST, "/api/membership/alice@example.com/admin")
        .await;
    let (status, body) = app.post("/api/membership/bob/ghost").await;
    assert_error_envelope(status, &body, 404);

    let page = app.data(Method::GET, "/api/audit").await;
    let entries = page["entries"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("membership.add", "role_not_found"),
            ("membership.add", "unchanged"),
            ("membership.add", "changed"),
            ("permission.grant", "changed"),
            ("role.create", "changed"),
        ]
    );
    assert_eq!(entries[4]["target"], "role=admin");
    assert_eq!(entries[3]["target"], "role=admin permission=manage");
    let text = page.to_string();
    assert!(
        !text.contains("alice"),
        "user names must be fingerprints: {text}"
    );
    assert!(entries[2]["target"]
        .as_str()
        .unwrap()
        .starts_with("role=admin user=#"));
    assert!(entries[0]["request_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    assert!(entries[0]["client_ip"].as_str().is_some());
    // Each entry links to the previous one.
    assert_eq!(entries[0]["prev_hash"], entries[1]["hash"]);
}

async fn audit_pages_follow_the_cursor_and_filter(app: TestApp) {
    for i in 0..5 {
        app.data(Method::POST, &format!("/api/role/r{i}")).await;
    }
    app.data(Method::POST, "/api/permission/r0/p").await;
    let first = app.data(Method::GET, "/api/audit?limit=2").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .data(Method::GET, &format!("/api/audit?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        second["entries"][0]["seq"],
        first["entries"][1]["seq"].as_i64().unwrap() - 1
    );
    let creates = app
        .data(Method::GET, "/api/audit?action=role.create&limit=500")
        .await;
    assert_eq!(creates["entries"].as_array().unwrap().len(), 5);
    assert!(creates["next_cursor"].is_null());
    let later = app
        .data(Method::GET, "/api/audit?since=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(later["entries"], json!([]));
}

async fn audit_query_values_are_validated(app: TestApp) {
    for query in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "cursor=abc",
        "cursor=-5",
        "since=yesterday",
        "action=DROP%20TABLE",
    ] {
        let (status, body) = app.get(&format!("/api/audit?{query}")).await;
        assert_error_envelope(status, &body, 400);
    }
}

async fn a_tenant_sees_only_its_own_audit_entries(app: TestApp) {
    app.data(Method::POST, "/api/role/mine").await;
    let (status, body) = app.call_as(&new_key(), Method::GET, "/api/audit").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["entries"], json!([]));
}

async fn decisions_are_audited_when_switched_on(app: TestApp) {
    let backend = if app.database_url().starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    let app = TestApp::spawn_with(backend, &[("AUTH_ENABLE_DECISION_LOGGING", "true")])
        .await
        .unwrap();
    app.data(Method::POST, "/api/role/r").await;
    app.data(Method::POST, "/api/permission/r/read").await;
    app.data(Method::POST, "/api/membership/carol/r").await;
    app.data(Method::GET, "/api/has_permission/carol/read")
        .await;
    app.data(Method::GET, "/api/has_permission/carol/write")
        .await;
    let mut decisions = Vec::new();
    for _ in 0..50 {
        let page = app
            .data(Method::GET, "/api/audit?action=check.user_permission")
            .await;
        decisions = page["entries"].as_array().unwrap().clone();
        if decisions.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let outcomes: Vec<&str> = decisions
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["denied", "allowed"]);
    assert!(!decisions[0]["target"].as_str().unwrap().contains("carol"));
}

async fn verify_detects_an_edited_and_a_removed_entry(app: TestApp) {
    for i in 0..4 {
        app.data(Method::POST, &format!("/api/role/r{i}")).await;
    }
    let store = app.open_store().await;
    let tenants = store.audited_tenants().await.unwrap();
    assert_eq!(tenants.len(), 1);
    let verify = || warden::service::audit::verify_chain(&store, &tenants[0]);
    let report = verify().await.unwrap();
    assert_eq!((report.entries, report.problem.clone()), (4, None));

    let pool_exec = |sql: &'static str| {
        let store = store.clone();
        async move {
            store.raw_execute(sql).await.unwrap();
        }
    };
    pool_exec("UPDATE audit_log SET outcome = 'unchanged' WHERE seq = 2").await;
    let report = verify().await.unwrap();
    assert_eq!(report.problem.as_deref(), Some("entry 2 was altered"));
    pool_exec("UPDATE audit_log SET outcome = 'changed' WHERE seq = 2").await;
    assert_eq!(verify().await.unwrap().problem, None);
    pool_exec("DELETE FROM audit_log WHERE seq = 4").await;
    let report = verify().await.unwrap();
    assert!(report.problem.unwrap().contains("head records entry 4"));
    pool_exec("DELETE FROM audit_log WHERE seq = 2").await;
    assert_eq!(
        verify().await.unwrap().problem.as_deref(),
        Some("entry 2 is missing")
    );
    store.close().await;
}

/// Concurrent writes to one tenant are committed in groups; each still gets its own revision, change-log row and
/// chained audit entry.
async fn grouped_writes_keep_one_revision_and_one_entry_each(app: TestApp) {
    app.write(Method::POST, "/api/role/crowd").await;
    let base = app.data(Method::POST, "/api/permission/crowd/enter").await["revision"]
        .as_i64()
        .unwrap();
    let app = std::sync::Arc::new(app);
    let writers = 48;
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.post(&format!("/api/membership/u{i}/crowd")).await })
        })
        .collect();
    let mut revisions = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["created"], true, "{body}");
        revisions.push(body["data"]["revision"].as_i64().unwrap());
    }
    revisions.sort_unstable();
    assert_eq!(
        revisions,
        ((base + 1)..=(base + writers)).collect::<Vec<_>>()
    );
    let members = app.data(Method::GET, "/api/members/crowd").await;
    assert_eq!(members.as_array().unwrap().len(), writers as usize);
    let added = app
        .data(Method::GET, "/api/audit?action=membership.add&limit=500")
        .await;
    assert_eq!(added["entries"].as_array().unwrap().len(), writers as usize);
    // The model other instances replay from the change log agrees with this one.
    let other = app.spawn_another(&[]).await;
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{other}/api/members/crowd"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"], members);

    assert_eq!(app.audit_chain().await, (2 + writers as usize, None));
}

/// Adds racing a role's deletion: each is answered as done or as "role not found", never an error, and nothing
/// is left under the deleted role.
async fn grouped_writes_racing_a_role_deletion_answer_each_one(app: TestApp) {
    app.write(Method::POST, "/api/role/doomed").await;
    let app = std::sync::Arc::new(app);
    let mut tasks: Vec<_> = (0..32)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.post(&format!("/api/membership/m{i}/doomed")).await })
        })
        .collect();
    let deleter = app.clone();
    tasks.insert(
        16,
        tokio::spawn(async move { deleter.call(Method::DELETE, "/api/role/doomed").await }),
    );
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status == 200 || status == 404, "{status} {body}");
    }
    assert_eq!(app.get("/api/members/doomed").await.0, 404);
    let (status, _) = app.post("/api/membership/late/doomed").await;
    assert_eq!(status, 404);
}

/// A burst of checks reaches the trail whole: the decision writer takes what queued while it was writing, in
/// multi-row inserts, and the chain stays intact.
async fn a_burst_of_decisions_is_recorded_whole(app: TestApp) {
    let app = std::sync::Arc::new(
        TestApp::spawn_with(app.backend(), &[("AUTH_ENABLE_DECISION_LOGGING", "true")])
            .await
            .unwrap(),
    );
    app.data(Method::POST, "/api/role/r").await;
    app.data(Method::POST, "/api/permission/r/read").await;
    app.data(Method::POST, "/api/membership/dave/r").await;
    let checks = 1200;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                for _ in 0..checks / 8 {
                    app.data(Method::GET, "/api/has_permission/dave/read").await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let count = || async {
        let mut total = 0;
        let mut cursor = String::new();
        loop {
            let page = app
                .data(
                    Method::GET,
                    &format!("/api/audit?action=check.user_permission&limit=500{cursor}"),
                )
                .await;
            total += page["entries"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return total,
            }
        }
    };
    let mut recorded = 0;
    for _ in 0..100 {
        recorded = count().await;
        if recorded >= checks {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(recorded, checks);

    assert_eq!(app.audit_chain().await, (checks + 3, None));
}

crate::on_both_backends!(
    a_burst_of_decisions_is_recorded_whole,
    grouped_writes_keep_one_revision_and_one_entry_each,
    grouped_writes_racing_a_role_deletion_answer_each_one,
    verify_detects_an_edited_and_a_removed_entry,
    every_change_is_audited_newest_first_without_user_names,
    audit_pages_follow_the_cursor_and_filter,
    audit_query_values_are_validated,
    a_tenant_sees_only_its_own_audit_entries,
    decisions_are_audited_when_switched_on,
);

//! Writes under pressure: the request timeout racing a slow commit, a tenant's write queue over its bound, and
//! `warden audit verify` while the server writes.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::helpers::{read, TestApp};

/// One write that starts committing (and waits on the lock), then `count - 1` more that queue behind it.
async fn one_committing_then_queued(
    app: &TestApp,
    prefix: &str,
    count: usize,
) -> Vec<tokio::task::JoinHandle<Answer>> {
    let mut writes = create_roles(app, prefix, 0..1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    writes.extend(create_roles(app, prefix, 1..count));
    writes
}

/// The database's write lock, taken from outside Warden: every write waits until it is released.
struct WriteLock {
    held: warden_store::HeldWriteLock,
    store: warden_store::Store,
}

impl WriteLock {
    async fn take(app: &TestApp) -> Self {
        let store = app.open_store().await;
        let held = store.hold_write_lock().await.unwrap();
        Self { held, store }
    }

    async fn release(self) {
        self.held.release().await.unwrap();
        self.store.close().await;
    }
}

type Answer = (String, StatusCode, reqwest::header::HeaderMap);

/// Sends role creations (`{prefix}{i}` for each `i`) at once; returns each role with its answer.
fn create_roles(
    app: &TestApp,
    prefix: &str,
    numbers: std::ops::Range<usize>,
) -> Vec<tokio::task::JoinHandle<Answer>> {
    numbers
        .map(|i| {
            let role = format!("{prefix}{i}");
            let request = app
                .client
                .post(app.url(&format!("/api/role/{role}")))
                .bearer_auth(&app.key);
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                (role, response.status(), response.headers().clone())
            })
        })
        .collect()
}

async fn stored_roles(app: &TestApp) -> HashSet<String> {
    app.data(Method::GET, "/api/roles")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_write_answered_408_never_commits_later(app: TestApp) {
    let app = app.respawn(&[("AUTH_REQUEST_TIMEOUT_SECONDS", "1")]).await;
    app.data(Method::POST, "/api/role/before").await;

    // The database stalls past every caller's timeout while their writes are queued or committing.
    let lock = WriteLock::take(&app).await;
    let writes = one_committing_then_queued(&app, "r", 12).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    lock.release().await;

    let mut answers = Vec::new();
    for write in writes {
        answers.push(write.await.unwrap());
    }
    let stored = stored_roles(&app).await;
    let (mut ok, mut timed_out) = (0, 0);
    for (role, status, _) in &answers {
        match *status {
            StatusCode::OK => {
                ok += 1;
                assert!(
                    stored.contains(role),
                    "{role} was answered 200 but not stored"
                );
            }
            StatusCode::REQUEST_TIMEOUT => {
                timed_out += 1;
                assert!(
                    !stored.contains(role),
                    "{role} was answered 408 but committed later"
                );
            }
            other => panic!("{role}: {other}"),
        }
    }
    // Both sides of the race happened: the batch already committing answers late, the queued writes time out.
    assert!(ok >= 1, "{answers:?}");
    assert!(timed_out >= 1, "{answers:?}");
}

async fn a_tenants_write_queue_over_its_bound_answers_503_with_retry_after(app: TestApp) {
    let app = app.respawn(&[("AUTH_WRITE_QUEUE_PER_TENANT", "2")]).await;
    app.data(Method::POST, "/api/role/before").await;

    let lock = WriteLock::take(&app).await;
    let writes = one_committing_then_queued(&app, "q", 10).await;
    // Every write has arrived: one waits on the lock, two wait in the queue, the rest are refused.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Another tenant has a queue of its own.
    let other = crate::helpers::new_key();
    let other_write = {
        let request = app
            .client
            .post(app.url("/api/role/other"))
            .bearer_auth(&other);
        tokio::spawn(async move { read(request.send().await.unwrap()).await })
    };
    lock.release().await;

    let mut answers = Vec::new();
    for write in writes {
        answers.push(write.await.unwrap());
    }
    let stored = stored_roles(&app).await;
    let (mut ok, mut refused) = (0, 0);
    for (role, status, headers) in answers {
        match status {
            StatusCode::OK => {
                ok += 1;
                assert!(stored.contains(&role), "{role}");
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                assert_eq!(headers["retry-after"], "1");
                assert!(!stored.contains(&role), "{role} was refused but stored");
            }
            other => panic!("{role}: {other}"),
        }
    }
    assert_eq!(
        (ok, refused),
        (3, 7),
        "one committing, two queued, the rest refused"
    );
    let (status, body) = other_write.await.unwrap();
    assert_eq!(status, 200, "{body}");

    // The queue drains: the tenant writes again.
    let (status, body) = app.post("/api/role/after").await;
    assert_eq!(status, 200, "{body}");
}

async fn audit_verify_never_reports_a_broken_chain_while_the_server_writes(app: TestApp) {
    app.data(Method::POST, "/api/role/r0").await;
    let writer = {
        let (client, address, key) = (app.client.clone(), app.address.clone(), app.key.clone());
        tokio::spawn(async move {
            for i in 1..300 {
                let response = client
                    .post(format!("{address}/api/role/r{i}"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        })
    };
    let store = app.open_store().await;
    let mut verified = 0;
    while !writer.is_finished() {
        for tenant in store.audited_tenants().await.unwrap() {
            let report = warden::service::audit::verify_chain(&store, &tenant)
                .await
                .unwrap();
            assert_eq!(report.problem, None, "after {verified} verifications");
            verified += 1;
        }
    }
    writer.await.unwrap();
    store.close().await;
    assert!(verified > 0);
    let (entries, problem) = app.audit_chain().await;
    assert_eq!(problem, None);
    assert!(entries >= 300, "{entries}");
}

crate::on_both_backends!(
    a_write_answered_408_never_commits_later,
    a_tenants_write_queue_over_its_bound_answers_503_with_retry_after,
    audit_verify_never_reports_a_broken_chain_while_the_server_writes,
);

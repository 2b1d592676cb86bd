//! Dynamic PostgreSQL credentials rotating under load: real login roles, created and revoked by the stand-in,
//! and not one failed request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp};
use crate::standin::{DbEngine, StandIn, TokenPolicy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_rotate_under_load_without_a_failed_request() {
    // A plain Warden creates and migrates the test database as the admin user.
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = sqlx::PgPool::connect(app.database_url()).await.unwrap();
    // Leases of 3 s, renewable up to 5 s: Warden renews at about 2 s, then finds the renewal capped and rotates;
    // the stand-in revokes (terminates sessions, drops the role) each lease when it expires.
    let vault = StandIn::start(Some(DbEngine {
        admin: admin.clone(),
        ttl: Duration::from_secs(3),
        max_ttl: Duration::from_secs(5),
        renewable: true,
    }))
    .await;
    vault.add_token(
        "hvs.db",
        TokenPolicy {
            ttl: Duration::ZERO,
            renewable: false,
        },
    );
    let address = app
        .spawn_another(&[
            ("AUTH_VAULT_ADDR", &vault.address),
            ("AUTH_VAULT_TOKEN", "hvs.db"),
            ("AUTH_VAULT_DB_ROLE", "warden"),
        ])
        .await;

    let client = reqwest::Client::new();
    let key = crate::helpers::new_key();
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let until = Instant::now() + Duration::from_secs(9);
    let workers: Vec<_> = (0..6)
        .map(|worker| {
            let (client, key, address) = (client.clone(), key.clone(), address.clone());
            let (ok, failed) = (ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while Instant::now() < until {
                    i += 1;
                    let response = client
                        .post(format!("{address}/api/role/r{worker}-{i}"))
                        .bearer_auth(&key)
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                        Ok(r) => {
                            eprintln!(
                                "failed: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(e) => {
                            eprintln!("failed: {e}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }

    let (issued, revoked) = vault.leases();
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request failed");
    assert!(ok.load(Ordering::Relaxed) > 100, "the load ran");
    assert!(issued >= 3, "credentials rotated: {issued} leases issued");
    assert!(revoked >= 1, "old credentials were revoked: {revoked}");
    assert!(
        vault.count("PUT", "v1/sys/leases/renew") >= 1,
        "leases were renewed"
    );

    // Readiness stays green through it all, then the roles go.
    let ready = reqwest::get(format!("{address}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    vault.revoke_expired(true).await;
    admin.close().await;
}

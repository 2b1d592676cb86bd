//! The offline verification example (`examples/verify_jwt.rs`) against a real Warden in EdDSA mode: it accepts the
//! tenant's own tokens and refuses another tenant's, a tampered one and one for another issuer.

use warden_client::Client;
use warden_testkit::{Backend, TestApp};

#[path = "../examples/verify_jwt.rs"]
#[expect(dead_code, reason = "the example's `main` is not called here")]
mod example;

use example::{Refused, Verifier};

const ISSUER: &str = "https://warden.example";

/// A Warden signing with EdDSA (an ephemeral key: debug mode) under [`ISSUER`], from the test kit.
async fn start() -> TestApp {
    TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUTH_DEBUG_MODE", "true"),
            ("AUTH_JWT_ALGORITHM", "EdDSA"),
            ("AUTH_JWT_ISSUER", ISSUER),
        ],
    )
    .await
    .expect("SQLite always runs")
}

/// A fresh tenant where `alice` holds `editor`; returns its client, a token for alice, and the tenant id.
async fn tenant_with_alice(address: &str) -> (Client, String, String) {
    let client = Client::new(address, uuid::Uuid::new_v4().to_string()).expect("client");
    client.create_role("editor", None).await.unwrap();
    client.add_permission("editor", "docs:read").await.unwrap();
    client.add_membership("alice", "editor").await.unwrap();
    let token = client.issue_jwt("alice").await.unwrap().access_token;
    let tid = client.verify_jwt(&token).await.unwrap().claims.tid;
    (client, token, tid)
}

#[tokio::test]
async fn an_offline_verifier_pinning_issuer_audience_and_key_accepts_only_its_tenants_tokens() {
    let app = start().await;
    let address = app.address.clone();
    let (_a, token, tid) = tenant_with_alice(&address).await;
    let (_b, foreign, other_tid) = tenant_with_alice(&address).await;

    // The tenant's own token: every pinned value holds.
    let verifier = Verifier::fetch(&address, ISSUER, &tid, &tid).await.unwrap();
    let claims = verifier.verify(&token).unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, tid);
    assert_eq!(claims.permissions, ["docs:read"]);

    // Another tenant's token for the same user name: its key is not in this tenant's set.
    assert!(matches!(
        verifier.verify(&foreign),
        Err(Refused::UnknownKey)
    ));
    // Even given that tenant's key set, this tenant's audience refuses it.
    let other_keys = Verifier::fetch(&address, ISSUER, &other_tid, &tid)
        .await
        .unwrap();
    assert!(matches!(
        other_keys.verify(&foreign),
        Err(Refused::Invalid(_))
    ));

    // Another issuer pinned: refused.
    let elsewhere = Verifier::fetch(&address, "https://other.example", &tid, &tid)
        .await
        .unwrap();
    assert!(matches!(elsewhere.verify(&token), Err(Refused::Invalid(_))));

    // A tampered payload: refused.
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    assert!(verifier.verify(&tampered).is_err());
}

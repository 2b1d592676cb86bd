//! JWT access tokens, refresh tokens and the JWK Set: the happy paths and the attacks.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::Method;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, TestApp};

pub const SECRET: &str = "k3Q9vX2mP7wR4tY8uZ1aB6cD0eF5gH2j";

/// An Ed25519 private key as PKCS#8 PEM, with its raw public key.
fn ed25519_pem() -> (String, Vec<u8>) {
    let der = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).expect("key");
    let public = Ed25519KeyPair::from_pkcs8(der.as_ref())
        .expect("parse")
        .public_key()
        .as_ref()
        .to_vec();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der.as_ref())
    );
    (pem, public)
}

/// Gives `user` the role `editor` with two permissions, so a token can be issued.
pub async fn seed_user(app: &TestApp, user: &str) {
    app.data(Method::POST, "/api/role/editor").await;
    app.data(Method::POST, "/api/permission/editor/docs:write")
        .await;
    app.data(Method::POST, "/api/permission/editor/docs:read")
        .await;
    app.data(Method::POST, &format!("/api/membership/{user}/editor"))
        .await;
}

/// Issues tokens for `user`; returns `data`.
pub async fn issue(app: &TestApp, user: &str) -> Value {
    app.data(Method::POST, &format!("/api/token/{user}")).await
}

async fn verify(app: &TestApp, token: &str) -> (reqwest::StatusCode, Value) {
    app.post_json("/api/token/verify", &json!({ "token": token }))
        .await
}

async fn refresh(app: &TestApp, token: &str) -> (reqwest::StatusCode, Value) {
    app.post_json("/api/token/refresh", &json!({ "refresh_token": token }))
        .await
}

/// Asserts a verification is refused with 401 and returns the reason.
async fn refused(app: &TestApp, token: &str) -> String {
    let (status, body) = verify(app, token).await;
    assert_error_envelope(status, &body, 401)
}

fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn issuing_and_verifying_a_token_returns_the_users_claims(app: TestApp) {
    seed_user(&app, "alice@example.com").await;
    let data = issue(&app, "alice@example.com").await;
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 1440 * 60);
    assert_eq!(data["refresh_expires_in"], 7 * 86_400);
    let refresh_token = data["refresh_token"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(refresh_token).unwrap().len(), 32);
    let token = data["access_token"].as_str().unwrap();

    let (status, body) = verify(&app, token).await;
    assert_eq!(status, 200, "{body}");
    let claims = &body["data"]["claims"];
    assert_eq!(body["data"]["valid"], true);
    assert_eq!(claims["sub"], "alice@example.com");
    assert_eq!(claims["roles"], json!(["editor"]));
    assert_eq!(claims["permissions"], json!(["docs:read", "docs:write"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1440 * 60
    );
    assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
    // The tenant is a fingerprint, never the client key.
    assert_eq!(claims["tid"].as_str().unwrap().len(), 64);
    assert!(!token.contains(&app.key));
    assert!(!payload_of(token).to_string().contains(&app.key));
    // Each token is unique.
    let again = issue(&app, "alice@example.com").await;
    assert_ne!(again["access_token"], data["access_token"]);
}

async fn a_user_without_roles_gets_no_token(app: TestApp) {
    let (status, body) = app.post("/api/token/nobody").await;
    assert_error_envelope(status, &body, 404);
    let (status, body) = app.post("/api/token/bad%20name").await;
    assert_error_envelope(status, &body, 400);
}

async fn token_endpoints_need_a_client_key(app: TestApp) {
    for path in [
        "/api/token/alice",
        "/api/token/refresh",
        "/api/token/verify",
    ] {
        let response = app.client.post(app.url(path)).send().await.unwrap();
        let (status, body) = crate::helpers::read(response).await;
        assert_error_envelope(status, &body, 401);
    }
}

async fn verify_and_refresh_need_a_json_body(app: TestApp) {
    for path in ["/api/token/refresh", "/api/token/verify"] {
        let (status, body) = app.post(path).await;
        assert_error_envelope(status, &body, 422);
        let (status, body) = app.post_json(path, &json!({"other": 1})).await;
        assert_error_envelope(status, &body, 422);
    }
}

async fn an_expired_token_is_rejected(app: TestApp) {
    let app = app
        .respawn(&[
            ("AUTH_JWT_SECRET_KEY", SECRET),
            ("AUTH_JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "1"),
        ])
        .await;
    seed_user(&app, "alice").await;
    let token = issue(&app, "alice").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(&app, &token).await.0, 200);
    // The same claims, re-signed with the real secret, but expired a second ago.
    let mut claims = payload_of(&token);
    claims["iat"] = json!(now() - 120);
    claims["exp"] = json!(now() - 1);
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let reason = refused(&app, &expired).await;
    assert!(reason.contains("expired"), "{reason}");
    // Control: the same forgery with a future expiry passes, so it is the expiry that failed it.
    claims["exp"] = json!(now() + 60);
    let fresh = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(verify(&app, &fresh).await.0, 200);
}

async fn a_tampered_payload_or_signature_is_rejected(app: TestApp) {
    seed_user(&app, "mallory").await;
    let token = issue(&app, "mallory").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = token.split('.').collect();

    // Payload: grant oneself another permission, keep the signature.
    let mut claims = payload_of(&token);
    claims["permissions"] = json!(["admin:everything", "docs:read", "docs:write"]);
    let forged = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    let reason = refused(&app, &forged).await;
    assert!(reason.contains("signature"), "{reason}");

    // Signature: flip one character.
    let mut signature = parts[2].to_owned();
    let last = signature.pop().unwrap();
    signature.push(if last == 'A' { 'B' } else { 'A' });
    refused(&app, &format!("{}.{}.{signature}", parts[0], parts[1])).await;

    // Garbage and truncations.
    for bad in [
        "",
        "not-a-jwt",
        &format!("{}.{}", parts[0], parts[1]),
        &format!("{}.{}.", parts[0], parts[1]),
    ] {
        let reason = refused(&app, bad).await;
        assert!(!reason.contains(parts[1]), "the token is not echoed");
    }
}

async fn an_alg_none_token_is_rejected(app: TestApp) {
    seed_user(&app, "mallory").await;
    let token = issue(&app, "mallory").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = payload_of(&token);
    for alg in ["none", "None", "NONE"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT"}));
        for signature in ["", "AAAA"] {
            refused(&app, &format!("{header}.{}.{signature}", b64(&claims))).await;
        }
    }
}

async fn a_token_of_another_algorithm_is_rejected(app: TestApp) {
    let (pem, public) = ed25519_pem();
    let eddsa = app
        .respawn(&[
            ("AUTH_JWT_ALGORITHM", "EdDSA"),
            ("AUTH_JWT_PRIVATE_KEY", &pem),
        ])
        .await;
    seed_user(&eddsa, "mallory").await;
    let token = issue(&eddsa, "mallory").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(&eddsa, &token).await.0, 200);
    let claims = payload_of(&token);

    // Algorithm confusion: HS256 signed with the (public) Ed25519 key as the HMAC secret.
    for secret in [public.clone(), URL_SAFE_NO_PAD.encode(&public).into_bytes()] {
        let confused = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&secret),
        )
        .unwrap();
        let reason = refused(&eddsa, &confused).await;
        assert!(reason.contains("algorithm"), "{reason}");
    }

    // And the other way: an HS256 server refuses an EdDSA token (signed by a key of the attacker's).
    let hs = eddsa.respawn(&[("AUTH_JWT_SECRET_KEY", SECRET)]).await;
    let (attacker_pem, _) = ed25519_pem();
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims,
        &EncodingKey::from_ed_pem(attacker_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let reason = refused(&hs, &foreign).await;
    assert!(reason.contains("algorithm"), "{reason}");
    // The HS256 server's own tokens still verify there.
    let own = issue(&hs, "mallory").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(&hs, &own).await.0, 200);
}

async fn a_token_of_another_tenant_is_rejected(app: TestApp) {
    seed_user(&app, "alice").await;
    let token = issue(&app, "alice").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = new_key();
    let (status, body) = app
        .post_json_as(&other, "/api/token/verify", &json!({ "token": token }))
        .await;
    let reason = assert_error_envelope(status, &body, 401);
    assert!(reason.contains("tenant"), "{reason}");
    // Nor can the other tenant use this tenant's refresh token.
    let refresh_token = issue(&app, "alice").await["refresh_token"].clone();
    let (status, body) = app
        .post_json_as(
            &other,
            "/api/token/refresh",
            &json!({ "refresh_token": refresh_token }),
        )
        .await;
    assert_error_envelope(status, &body, 401);
    // ... and the failed attempt did not burn it for its owner.
    let (status, _) = refresh(&app, refresh_token.as_str().unwrap()).await;
    assert_eq!(status, 200);
}

async fn refreshing_rotates_and_the_old_refresh_token_stops_working(app: TestApp) {
    seed_user(&app, "alice").await;
    let first = issue(&app, "alice").await;
    let old = first["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&app, old).await;
    assert_eq!(status, 200, "{body}");
    let second = &body["data"];
    assert_eq!(second["token_type"], "Bearer");
    let new_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old);
    let new_access = second["access_token"].as_str().unwrap();
    let (status, body) = verify(&app, new_access).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["claims"]["sub"], "alice");
    // Same family, new token id.
    assert_eq!(
        payload_of(new_access)["fam"],
        payload_of(first["access_token"].as_str().unwrap())["fam"]
    );

    // The rotated token no longer works.
    let (status, body) = refresh(&app, old).await;
    assert_error_envelope(status, &body, 401);
    // An unknown one never did.
    let (status, body) = refresh(&app, &URL_SAFE_NO_PAD.encode([7u8; 32])).await;
    assert_error_envelope(status, &body, 401);
}

async fn reusing_a_rotated_refresh_token_revokes_the_family_and_its_access_tokens(app: TestApp) {
    seed_user(&app, "alice").await;
    let first = issue(&app, "alice").await;
    let stolen = first["refresh_token"].as_str().unwrap().to_owned();
    // The legitimate client rotates.
    let (_, body) = refresh(&app, &stolen).await;
    let current_refresh = body["data"]["refresh_token"].as_str().unwrap().to_owned();
    let current_access = body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(verify(&app, &current_access).await.0, 200);

    // The thief replays the old token: refused, and the whole family goes.
    let (status, body) = refresh(&app, &stolen).await;
    let reason = assert_error_envelope(status, &body, 401);
    assert!(reason.contains("already used"), "{reason}");
    let (status, body) = refresh(&app, &current_refresh).await;
    assert_error_envelope(status, &body, 401);
    let reason = refused(&app, &current_access).await;
    assert!(reason.contains("revoked"), "{reason}");
    refused(&app, first["access_token"].as_str().unwrap()).await;

    // Another family of the same user is untouched.
    let other = issue(&app, "alice").await;
    assert_eq!(
        verify(&app, other["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
}

async fn concurrent_refreshes_of_one_token_let_exactly_one_win(app: TestApp) {
    seed_user(&app, "alice").await;
    for _ in 0..3 {
        let token = issue(&app, "alice").await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let attempts = (0..8).map(|_| refresh(&app, &token));
        let results = futures::future::join_all(attempts).await;
        let winners: Vec<&Value> = results
            .iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
            .collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        for (status, body) in &results {
            if *status != 200 {
                assert_error_envelope(*status, body, 401);
            }
        }
    }
}

async fn an_eddsa_token_verifies_offline_with_the_jwks_key(app: TestApp) {
    let (pem, public) = ed25519_pem();
    let app = app
        .respawn(&[
            ("AUTH_JWT_ALGORITHM", "EdDSA"),
            ("AUTH_JWT_PRIVATE_KEY", &pem),
        ])
        .await;
    seed_user(&app, "alice").await;
    let token = issue(&app, "alice").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The JWKS needs no client key and is a bare RFC 7517 document.
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["x"], URL_SAFE_NO_PAD.encode(&public));
    assert!(jwk.get("d").is_none(), "no private part: {jwk}");

    // Offline: only the JWKS, no call to Warden.
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let decoded =
        jsonwebtoken::decode::<Value>(&token, &key, &Validation::new(Algorithm::EdDSA)).unwrap();
    assert_eq!(decoded.claims["sub"], "alice");
    // A tampered token fails offline too.
    let mut claims = payload_of(&token);
    claims["sub"] = json!("mallory");
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert!(
        jsonwebtoken::decode::<Value>(&forged, &key, &Validation::new(Algorithm::EdDSA)).is_err()
    );
}

async fn with_hs256_the_jwks_is_an_empty_set(app: TestApp) {
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks, json!({"keys": []}));
}

async fn instances_without_a_configured_secret_share_the_generated_one(app: TestApp) {
    seed_user(&app, "alice").await;
    let token = issue(&app, "alice").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app.respawn(&[]).await;
    assert_eq!(verify(&second, &token).await.0, 200);
    // A server configured with a different secret does not accept it.
    let third = second.respawn(&[("AUTH_JWT_SECRET_KEY", SECRET)]).await;
    refused(&third, &token).await;
}

crate::on_both_backends!(
    issuing_and_verifying_a_token_returns_the_users_claims,
    a_user_without_roles_gets_no_token,
    token_endpoints_need_a_client_key,
    verify_and_refresh_need_a_json_body,
    an_expired_token_is_rejected,
    a_tampered_payload_or_signature_is_rejected,
    an_alg_none_token_is_rejected,
    a_token_of_another_algorithm_is_rejected,
    a_token_of_another_tenant_is_rejected,
    refreshing_rotates_and_the_old_refresh_token_stops_working,
    reusing_a_rotated_refresh_token_revokes_the_family_and_its_access_tokens,
    concurrent_refreshes_of_one_token_let_exactly_one_win,
    an_eddsa_token_verifies_offline_with_the_jwks_key,
    with_hs256_the_jwks_is_an_empty_set,
    instances_without_a_configured_secret_share_the_generated_one,
);

/// Outside debug mode the real binary stops at start-up on a weak secret, naming the variable but not the value.
#[test]
fn the_server_refuses_to_start_with_a_weak_jwt_secret_outside_debug_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
    let run = |secret: &str, debug: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
            .arg("check-config")
            .env_clear()
            .env("AUTH_DATABASE_URL", &url)
            .env("AUTH_JWT_SECRET_KEY", secret)
            .env("AUTH_DEBUG_MODE", debug)
            .output()
            .unwrap()
    };
    for weak in ["tooshort", "your-jwt-secret-key-change-me-in-production"] {
        let output = run(weak, "false");
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("AUTH_JWT_SECRET_KEY"), "{stderr}");
        assert!(!stderr.contains(weak), "{stderr}");
        assert!(run(weak, "true").status.success());
    }
    let output = run(SECRET, "false");
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stdout).contains(SECRET));
}

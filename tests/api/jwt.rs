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

pub async fn verify(app: &TestApp, token: &str) -> (reqwest::StatusCode, Value) {
    app.post_json("/api/token/verify", &json!({ "token": token }))
        .await
}

pub async fn refresh(app: &TestApp, token: &str) -> (reqwest::StatusCode, Value) {
    app.post_json("/api/token/refresh", &json!({ "refresh_token": token }))
        .await
}

/// Moves every rotation 11 s into the past: beyond the default 10 s reuse grace.
pub async fn age_rotations(app: &TestApp) {
    crate::user_support::run_sql(
        app,
        "UPDATE refresh_tokens SET used_at = used_at - 11000 WHERE used_at IS NOT NULL",
    )
    .await;
}

/// Asserts a verification is refused with 401 and returns the reason.
async fn refused(app: &TestApp, token: &str) -> String {
    let (status, body) = verify(app, token).await;
    assert_error_envelope(status, &body, 401)
}

pub fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A tenant's HS256 key, derived here independently of the server: HKDF-SHA256 of the server secret with the
/// tenant id as `info` (see `service::jwt_keys`).
fn tenant_hs256_key(secret: &str, tid: &str) -> Vec<u8> {
    let mut key = vec![0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"warden-jwt-hs256-tenant-key-v1"), secret.as_bytes())
        .expand(tid.as_bytes(), &mut key)
        .unwrap();
    key
}

/// The JWK Set published for tenant `tid`.
async fn jwks_of(app: &TestApp, tid: &str) -> Value {
    app.client
        .get(app.url(&format!("/.well-known/jwks.json?tenant={tid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
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
    // The tenant is a fingerprint, never the client key; the audience defaults to it; the issuer is the server's.
    assert_eq!(claims["tid"].as_str().unwrap().len(), 64);
    assert_eq!(claims["aud"], claims["tid"]);
    assert_eq!(claims["iss"], "http://localhost:0");
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
    // The same claims, re-signed with the tenant's real key, but expired a second ago.
    let mut claims = payload_of(&token);
    let key = tenant_hs256_key(SECRET, claims["tid"].as_str().unwrap());
    claims["iat"] = json!(now() - 120);
    claims["exp"] = json!(now() - 1);
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&key),
    )
    .unwrap();
    let reason = refused(&app, &expired).await;
    assert!(reason.contains("expired"), "{reason}");
    // Control: the same forgery with a future expiry passes, so it is the expiry that failed it.
    claims["exp"] = json!(now() + 60);
    let fresh = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&key),
    )
    .unwrap();
    assert_eq!(verify(&app, &fresh).await.0, 200);
    // The server secret itself, the key every tenant shared before, signs nothing any tenant accepts.
    let with_root = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let reason = refused(&app, &with_root).await;
    assert!(reason.contains("signature"), "{reason}");
    // Nor does a token without the issuer or audience, or with others, signed with the right key.
    for (claim, value) in [
        ("iss", json!("https://evil.example")),
        ("aud", json!("another-audience")),
        ("iss", Value::Null),
        ("aud", Value::Null),
    ] {
        let mut forged = claims.clone();
        if value.is_null() {
            forged.as_object_mut().unwrap().remove(claim);
        } else {
            forged[claim] = value;
        }
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &forged,
            &EncodingKey::from_secret(&key),
        )
        .unwrap();
        refused(&app, &token).await;
    }
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

    // Within the reuse grace, presenting the rotated token again (a client's retry) gets the same pair.
    let (status, body) = refresh(&app, old).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["refresh_token"], new_refresh);
    // After it, the rotated token no longer works.
    age_rotations(&app).await;
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

    // The thief replays the old token after the reuse grace: refused, and the whole family goes.
    age_rotations(&app).await;
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

async fn an_eddsa_token_verifies_offline_with_its_tenants_jwks_key_pinning_issuer_and_audience(
    app: TestApp,
) {
    let (pem, public) = ed25519_pem();
    let app = app
        .respawn(&[
            ("AUTH_JWT_ALGORITHM", "EdDSA"),
            ("AUTH_JWT_PRIVATE_KEY", &pem),
            ("AUTH_JWT_ISSUER", "https://warden.example"),
        ])
        .await;
    seed_user(&app, "alice").await;
    let token = issue(&app, "alice").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tid = payload_of(&token)["tid"].as_str().unwrap().to_owned();

    // The JWKS needs no client key and is a bare RFC 7517 document with the tenant's own key.
    let jwks = jwks_of(&app, &tid).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    assert_ne!(
        jwk["x"],
        URL_SAFE_NO_PAD.encode(&public),
        "a tenant key, not the server's"
    );
    assert!(jwk.get("d").is_none(), "no private part: {jwk}");

    // Offline: only the JWKS, no call to Warden. Pin the key (by kid), the algorithm, the issuer and the audience.
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let pinned = |audience: &str| {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&["https://warden.example"]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation
    };
    let decoded = jsonwebtoken::decode::<Value>(&token, &key, &pinned(&tid)).unwrap();
    assert_eq!(decoded.claims["sub"], "alice");
    // A tampered token fails offline too.
    let mut claims = payload_of(&token);
    claims["sub"] = json!("mallory");
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert!(jsonwebtoken::decode::<Value>(&forged, &key, &pinned(&tid)).is_err());

    // Tenant B mints a token for the same user name: it fails offline with A's key and with A's audience, and at
    // A's verify endpoint.
    let other = new_key();
    for path in ["/api/role/editor", "/api/membership/alice/editor"] {
        let (status, _) = app.post_json_as(&other, path, &json!({})).await;
        assert_eq!(status, 200);
    }
    let (status, body) = app
        .post_json_as(&other, "/api/token/alice", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let foreign = body["data"]["access_token"].as_str().unwrap().to_owned();
    let other_tid = payload_of(&foreign)["tid"].as_str().unwrap().to_owned();
    assert_ne!(other_tid, tid);
    let other_jwks = jwks_of(&app, &other_tid).await;
    assert_ne!(other_jwks["keys"][0]["kid"], jwk["kid"]);
    let err = jsonwebtoken::decode::<Value>(&foreign, &key, &pinned(&tid)).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidSignature
    );
    let other_key =
        DecodingKey::from_ed_components(other_jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    // With B's own key but A's audience pinned, it fails too.
    let err = jsonwebtoken::decode::<Value>(&foreign, &other_key, &pinned(&tid)).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidAudience
    );
    jsonwebtoken::decode::<Value>(&foreign, &other_key, &pinned(&other_tid)).unwrap();
    let reason = refused(&app, &foreign).await;
    assert!(reason.contains("tenant"), "{reason}");

    // Without a tenant the set is empty (a verifier must pin one); a malformed tenant is a 400.
    let unfiltered: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unfiltered, json!({"keys": []}));
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json?tenant=not-a-tenant"))
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::read(response).await;
    assert_error_envelope(status, &body, 400);
}

async fn a_tenants_audience_is_configurable_and_old_tokens_stop_verifying(app: TestApp) {
    seed_user(&app, "alice").await;
    let before = issue(&app, "alice").await;
    let tid = payload_of(before["access_token"].as_str().unwrap())["tid"]
        .as_str()
        .unwrap()
        .to_owned();
    let settings = app.data(Method::GET, "/api/settings").await;
    assert_eq!(
        settings,
        json!({"jwt_audience": tid, "jwt_audience_is_default": true, "auto_register_users": false, "require_activation": false, "strict_users": false})
    );

    let (status, body) = crate::user_support::send(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"jwt_audience": "https://api.corp.example"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["jwt_audience"], "https://api.corp.example");
    let after = issue(&app, "alice").await;
    let access = after["access_token"].as_str().unwrap();
    assert_eq!(payload_of(access)["aud"], "https://api.corp.example");
    assert_eq!(verify(&app, access).await.0, 200);
    let reason = refused(&app, before["access_token"].as_str().unwrap()).await;
    assert!(reason.contains("audience"), "{reason}");
    // Refreshing an older family issues under the new audience.
    let (status, body) = refresh(&app, before["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        payload_of(body["data"]["access_token"].as_str().unwrap())["aud"],
        "https://api.corp.example"
    );

    // An absent field stays; `null` puts the default back; bad values and unknown fields are refused.
    let (status, body) =
        crate::user_support::send(&app, Method::PUT, "/api/settings", Some(&json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["jwt_audience"], "https://api.corp.example");
    for (bad, expected) in [
        (json!({"jwt_audience": ""}), 400),
        (json!({"jwt_audience": "x".repeat(256)}), 400),
        (json!({"jwt_audience": 7}), 422),
        (json!({"other": 1}), 422),
    ] {
        let (status, body) =
            crate::user_support::send(&app, Method::PUT, "/api/settings", Some(&bad)).await;
        assert_error_envelope(status, &body, expected);
    }
    // Another tenant's settings are its own.
    let (status, body) =
        crate::user_support::send_as(&app, &new_key(), Method::GET, "/api/settings", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["jwt_audience_is_default"], true);
    let (status, body) = crate::user_support::send(
        &app,
        Method::PUT,
        "/api/settings",
        Some(&json!({"jwt_audience": null})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["jwt_audience_is_default"], true);
    assert_eq!(
        verify(&app, before["access_token"].as_str().unwrap())
            .await
            .0,
        200
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
    assert_eq!(jwks_of(&app, &"a".repeat(64)).await, json!({"keys": []}));
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
    an_eddsa_token_verifies_offline_with_its_tenants_jwks_key_pinning_issuer_and_audience,
    a_tenants_audience_is_configurable_and_old_tokens_stop_verifying,
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

//! `AUTH_TENANT_MODE=registered` with keys issued and revoked by the real `warden tenant` commands.

use std::process::{Command, Stdio};

use reqwest::Method;

use crate::helpers::{assert_error_envelope, new_key, TestApp};

/// Runs `warden tenant …` against this test's database with `stdin` on standard input; returns stdout, or stderr
/// as the error.
fn warden_tenant_with(app: &TestApp, args: &[&str], stdin: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("tenant")
        .args(args)
        .env_clear()
        .env("AUTH_DATABASE_URL", app.database_url())
        .envs(crate::helpers::server_secrets_for(app.database_url()))
        .env("AUTH_LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("warden runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("stdin written");
    drop(input);
    let output = child.wait_with_output().expect("warden ends");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn warden_tenant(app: &TestApp, args: &[&str]) -> Result<String, String> {
    warden_tenant_with(app, args, "")
}

/// `warden tenant revoke` with the key on standard input, as operators run it.
fn revoke(app: &TestApp, key: &str) -> Result<String, String> {
    warden_tenant_with(app, &["revoke"], &format!("{key}\n"))
}

async fn registered_mode_accepts_created_keys_and_rejects_unknown_and_revoked_ones(app: TestApp) {
    let app = app.respawn(&[("AUTH_TENANT_MODE", "registered")]).await;
    let second = app
        .spawn_another(&[("AUTH_TENANT_MODE", "registered")])
        .await;

    // An unknown (well-formed) key is refused on every /api route, writing nothing.
    let unknown = new_key();
    let (status, body) = app.call_as(&unknown, Method::POST, "/api/role/x").await;
    let unknown_reason = assert_error_envelope(status, &body, 401);
    for (method, path) in [
        (Method::GET, "/api/roles"),
        (Method::POST, "/api/token/alice"),
        (Method::POST, "/api/token/verify"),
        (Method::GET, "/api/no/such/route"),
    ] {
        let (status, body) = app.call_as(&unknown, method, path).await;
        assert_error_envelope(status, &body, 401);
    }

    // A created key works, on both instances.
    let key = warden_tenant(&app, &["create"]).expect("tenant create");
    assert!(uuid::Uuid::parse_str(&key).is_ok(), "{key}");
    assert_eq!(key.len(), 36);
    let (status, body) = app.call_as(&key, Method::POST, "/api/role/admin").await;
    assert_eq!(status, 200, "{body}");
    let response = app
        .client
        .get(format!("{second}/api/roles"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Revoked: refused at once on both instances, with the same answer as an unknown key.
    assert_eq!(revoke(&app, &key).expect("revoke"), "client key revoked");
    let (status, body) = app.call_as(&key, Method::GET, "/api/roles").await;
    let revoked_reason = assert_error_envelope(status, &body, 401);
    assert_eq!(
        revoked_reason, unknown_reason,
        "no hint whether a key exists"
    );
    let response = app
        .client
        .get(format!("{second}/api/roles"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Revoking again, or revoking a key never issued, fails.
    assert!(revoke(&app, &key).is_err());
    assert!(revoke(&app, &unknown).is_err());
    assert!(revoke(&app, "not-a-key").is_err());
}

async fn tenant_revoke_refuses_a_key_on_the_command_line(app: TestApp) {
    let key = warden_tenant(&app, &["create"]).expect("tenant create");

    // The key as an argument (visible in `ps` and shell history) is refused before anything is done.
    let err = warden_tenant_with(&app, &["revoke", &key], "").unwrap_err();
    assert!(err.contains("standard input"), "{err}");
    assert!(
        !err.contains(&key),
        "the refusal does not echo the key: {err}"
    );
    // Nothing on standard input is refused too.
    let err = warden_tenant(&app, &["revoke"]).unwrap_err();
    assert!(err.contains("no client key on standard input"), "{err}");

    // The key is still valid, and revoking it through standard input works.
    let app = app.respawn(&[("AUTH_TENANT_MODE", "registered")]).await;
    let (status, _) = app.call_as(&key, Method::GET, "/api/roles").await;
    assert_eq!(status, 200);
    assert_eq!(revoke(&app, &key).expect("revoke"), "client key revoked");
    let (status, _) = app.call_as(&key, Method::GET, "/api/roles").await;
    assert_eq!(status, 401);
}

/// A rotation revokes the old key's registration and registers the new key in its transaction, so every instance
/// refuses the old key from the commit on; `warden tenant revoke` of the new key then holds as for any key.
async fn a_rotation_moves_the_registration_on_every_instance_at_once(app: TestApp) {
    let app = app.respawn(&[("AUTH_TENANT_MODE", "registered")]).await;
    let second = app
        .spawn_another(&[("AUTH_TENANT_MODE", "registered")])
        .await;
    let key = warden_tenant(&app, &["create"]).expect("tenant create");
    let (status, _) = app.call_as(&key, Method::POST, "/api/role/admin").await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call_on_as(&second, &key, Method::GET, "/api/roles")
        .await;
    assert_eq!(status, 200);

    let (status, body) = app.call_as(&key, Method::POST, "/api/keys/rotate").await;
    assert_eq!(status, 200, "{body}");
    let new = body["data"]["new_key"].as_str().unwrap().to_owned();
    for base in [app.address.as_str(), second.as_str()] {
        let (status, _) = app.call_on_as(base, &key, Method::GET, "/api/roles").await;
        assert_eq!(status, 401, "the old key on {base}");
        let (status, roles) = app.call_on_as(base, &new, Method::GET, "/api/roles").await;
        assert_eq!(status, 200, "{roles}");
        assert_eq!(roles["data"][0]["role"], "admin");
    }
    assert_eq!(revoke(&app, &new).expect("revoke"), "client key revoked");
    let (status, _) = app.call_as(&new, Method::GET, "/api/roles").await;
    assert_eq!(status, 401);
}

/// A tenant an operator revoked cannot come back through its recovery key: refused like a wrong key, with the key
/// left unspent and nothing registered.
async fn a_revoked_tenant_cannot_recover_itself(app: TestApp) {
    let app = app.respawn(&[("AUTH_TENANT_MODE", "registered")]).await;
    let key = warden_tenant(&app, &["create"]).expect("tenant create");
    let (status, body) = app
        .call_as(&key, Method::POST, "/api/keys/get_rotate_key")
        .await;
    assert_eq!(status, 200, "{body}");
    let rotate_key = body["data"]["rotate_key"].as_str().unwrap().to_owned();
    assert_eq!(revoke(&app, &key).expect("revoke"), "client key revoked");
    let chosen = new_key();
    let body = serde_json::json!({"rotate_key": rotate_key, "new_client_key": chosen});
    let response = app
        .client
        .post(app.url("/api/keys/recover"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, answer) = crate::helpers::read(response).await;
    assert_error_envelope(status, &answer, 401);
    let (status, _) = app.call_as(&chosen, Method::GET, "/api/roles").await;
    assert_eq!(status, 401, "the chosen key was not registered");
}

async fn open_mode_accepts_any_v4_key(app: TestApp) {
    let (status, _) = app.call_as(&new_key(), Method::GET, "/api/roles").await;
    assert_eq!(status, 200);
}

crate::on_both_backends!(
    tenant_revoke_refuses_a_key_on_the_command_line,
    registered_mode_accepts_created_keys_and_rejects_unknown_and_revoked_ones,
    open_mode_accepts_any_v4_key,
    a_rotation_moves_the_registration_on_every_instance_at_once,
    a_revoked_tenant_cannot_recover_itself,
);

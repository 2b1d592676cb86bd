//! The audit trail of users, single-use tokens, sessions and JWTs: every write records its entry in its own
//! transaction, without a user name or a secret; refusals and checks are decisions.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{read, TestApp};
use crate::user_support::run_sql;

/// A user name distinctive enough that finding it anywhere in the trail means it leaked.
const USER: &str = "zelda.quarry";

/// Sends a request tagged with `request_id`; returns the status and the body.
async fn send_tagged(
    app: &TestApp,
    request_id: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.key)
        .header("x-request-id", request_id);
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.expect("request sent")).await
}

/// `data` of a tagged request that must answer 200.
async fn tagged(
    app: &TestApp,
    request_id: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = send_tagged(app, request_id, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer["data"].clone()
}

/// The whole trail, newest first, and its text.
async fn trail(app: &TestApp) -> (Vec<Value>, String) {
    let page = app.data(Method::GET, "/api/audit?limit=500").await;
    let text = page.to_string();
    (page["entries"].as_array().unwrap().clone(), text)
}

/// The one entry written under `request_id` with `action`.
fn entry<'a>(entries: &'a [Value], request_id: &str, action: &str) -> &'a Value {
    let found: Vec<&Value> = entries
        .iter()
        .filter(|e| e["request_id"] == request_id && e["action"] == action)
        .collect();
    assert_eq!(found.len(), 1, "{request_id} {action}: {entries:?}");
    found[0]
}

/// Waits for the decision writer's batch to land: the entries with `action`, once there are `count`.
async fn decisions(app: &TestApp, action: &str, count: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..60 {
        let page = app
            .data(Method::GET, &format!("/api/audit?action={action}"))
            .await;
        found = page["entries"].as_array().unwrap().clone();
        if found.len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), count, "{action}: {found:?}");
    found
}

async fn user_token_session_and_jwt_writes_are_audited_without_names_or_secrets(app: TestApp) {
    let user_path = format!("/api/users/{USER}");
    let mut secrets: Vec<String> = Vec::new();

    // Users.
    tagged(
        &app,
        "put-1",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed"})),
    )
    .await;
    tagged(
        &app,
        "put-2",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed", "profile": {"team": "blue"}})),
    )
    .await;
    tagged(
        &app,
        "disable",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed", "enabled": false})),
    )
    .await;
    tagged(
        &app,
        "enable",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed"})),
    )
    .await;
    let code = tagged(
        &app,
        "code",
        Method::POST,
        &format!("{user_path}/activation"),
        None,
    )
    .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    tagged(
        &app,
        "activate",
        Method::POST,
        &format!("{user_path}/activate"),
        Some(json!({ "code": code })),
    )
    .await;
    secrets.push(code);
    tagged(
        &app,
        "sensitive",
        Method::POST,
        &format!("{user_path}/sensitive-change"),
        None,
    )
    .await;

    // Single-use tokens.
    let token = tagged(
        &app,
        "token-1",
        Method::POST,
        &format!("{user_path}/tokens"),
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    tagged(
        &app,
        "use",
        Method::POST,
        "/api/tokens/validate",
        Some(json!({ "token": token })),
    )
    .await;
    secrets.push(token);
    let unused = tagged(
        &app,
        "token-2",
        Method::POST,
        &format!("{user_path}/tokens"),
        None,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(unused);
    tagged(
        &app,
        "revoke",
        Method::DELETE,
        &format!("{user_path}/tokens"),
        None,
    )
    .await;

    // Sessions.
    let created = tagged(
        &app,
        "session",
        Method::POST,
        "/api/sessions",
        Some(json!({"user_id": USER, "permissions": ["read"]})),
    )
    .await;
    let session_ref = created["session_ref"].as_str().unwrap().to_owned();
    let session_id = created["session_id"].as_str().unwrap().to_owned();
    let session_path = format!("/api/sessions/{session_id}");
    secrets.push(session_id);
    tagged(
        &app,
        "ttl",
        Method::PUT,
        &format!("{session_path}/ttl"),
        Some(json!({"ttl_seconds": 600})),
    )
    .await;
    tagged(
        &app,
        "permissions",
        Method::PUT,
        &format!("{session_path}/permissions"),
        Some(json!({"permissions": ["read", "write"]})),
    )
    .await;
    tagged(&app, "end", Method::DELETE, &session_path, None).await;
    let other = tagged(
        &app,
        "session-2",
        Method::POST,
        "/api/sessions",
        Some(json!({"user_id": USER, "permissions": ["read"]})),
    )
    .await;
    secrets.push(other["session_id"].as_str().unwrap().to_owned());
    tagged(
        &app,
        "logout",
        Method::DELETE,
        &format!("{user_path}/sessions"),
        None,
    )
    .await;
    tagged(&app, "cleanup", Method::POST, "/api/sessions/cleanup", None).await;

    // JWTs: issue, refresh, then reuse the first refresh token.
    app.data(Method::POST, "/api/role/reader").await;
    app.data(Method::POST, &format!("/api/membership/{USER}/reader"))
        .await;
    let pair = tagged(
        &app,
        "jwt",
        Method::POST,
        &format!("/api/token/{USER}"),
        None,
    )
    .await;
    let first_refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = tagged(
        &app,
        "refresh",
        Method::POST,
        "/api/token/refresh",
        Some(json!({ "refresh_token": first_refresh })),
    )
    .await;
    // After the reuse grace (a retry inside it gets the same pair and revokes nothing).
    crate::jwt::age_rotations(&app).await;
    let (status, _) = send_tagged(
        &app,
        "reuse",
        Method::POST,
        "/api/token/refresh",
        Some(json!({ "refresh_token": first_refresh })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for secret in [&pair, &refreshed] {
        for field in ["access_token", "refresh_token"] {
            secrets.push(secret[field].as_str().unwrap().to_owned());
        }
    }

    tagged(&app, "delete", Method::DELETE, &user_path, None).await;

    let (entries, text) = trail(&app).await;
    let user = entry(&entries, "put-1", "user.put")["target"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(user.starts_with("user=#"), "{user}");
    let session = format!("session={session_ref}");
    for (request_id, action, outcome, target) in [
        ("put-1", "user.put", "created", user.clone()),
        ("put-2", "user.put", "changed", user.clone()),
        ("disable", "user.put", "credentials_voided", user.clone()),
        ("enable", "user.put", "credentials_voided", user.clone()),
        ("code", "user.activation_code", "created", user.clone()),
        ("activate", "user.activate", "allowed", user.clone()),
        (
            "sensitive",
            "user.sensitive_change",
            "credentials_voided",
            user.clone(),
        ),
        ("token-1", "user_token.issue", "created", user.clone()),
        ("use", "user_token.use", "allowed", user.clone()),
        (
            "revoke",
            "user_tokens.revoke",
            "changed",
            format!("{user} revoked=1"),
        ),
        (
            "session",
            "session.create",
            "created",
            format!("{session} {user}"),
        ),
        ("ttl", "session.ttl", "changed", session.clone()),
        (
            "permissions",
            "session.permissions",
            "changed",
            session.clone(),
        ),
        ("end", "session.delete", "changed", session.clone()),
        (
            "logout",
            "user_sessions.delete",
            "changed",
            format!("{user} removed=1"),
        ),
        (
            "cleanup",
            "sessions.cleanup",
            "unchanged",
            "removed=0".to_owned(),
        ),
        ("delete", "user.delete", "changed", user.clone()),
    ] {
        let found = entry(&entries, request_id, action);
        assert_eq!(found["outcome"], outcome, "{found}");
        assert_eq!(found["target"], target, "{found}");
    }
    // The JWT entries name the user and the family (the `fam` claim, no secret).
    let issued = entry(&entries, "jwt", "jwt.issue");
    assert_eq!(issued["outcome"], "created");
    let family = issued["target"].as_str().unwrap();
    assert!(family.starts_with(&format!("{user} family=")), "{family}");
    for (request_id, action, outcome) in [
        ("refresh", "jwt.refresh", "allowed"),
        ("reuse", "jwt.family_revoke", "changed"),
    ] {
        let found = entry(&entries, request_id, action);
        assert_eq!(
            (&found["outcome"], &found["target"]),
            (&json!(outcome), &json!(family))
        );
    }

    assert!(
        !text.contains(USER),
        "user names must be fingerprints: {text}"
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret leaked into the trail: {text}"
        );
    }
    // Decision logging is off: refusals leave no entry of their own.
    assert!(!text.contains("\"denied\""), "{text}");

    let (count, problem) = app.audit_chain().await;
    assert_eq!((count, problem), (entries.len(), None));
}

async fn refusals_and_checks_are_decisions_when_decision_logging_is_on(app: TestApp) {
    let app = app
        .respawn(&[("AUTH_ENABLE_DECISION_LOGGING", "true")])
        .await;
    tagged(
        &app,
        "put",
        Method::PUT,
        &format!("/api/users/{USER}"),
        Some(json!({"status": "allowed"})),
    )
    .await;
    tagged(
        &app,
        "check-ok",
        Method::POST,
        "/api/access/check",
        Some(json!({ "user_id": USER })),
    )
    .await;
    tagged(
        &app,
        "check-unknown",
        Method::POST,
        "/api/access/check",
        Some(json!({ "user_id": "nobody" })),
    )
    .await;
    let (status, _) = send_tagged(
        &app,
        "bad-token",
        Method::POST,
        "/api/tokens/validate",
        Some(json!({ "token": format!("{USER}.not-a-secret") })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send_tagged(
        &app,
        "bad-code",
        Method::POST,
        &format!("/api/users/{USER}/activate"),
        Some(json!({ "code": "guess" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let session = tagged(
        &app,
        "session",
        Method::POST,
        "/api/sessions",
        Some(json!({"user_id": USER, "permissions": ["docs:*"]})),
    )
    .await;
    let session_id = session["session_id"].as_str().unwrap();
    tagged(
        &app,
        "session-check",
        Method::POST,
        &format!("/api/sessions/{session_id}/check"),
        Some(json!({"permissions": ["docs:read", "admin"]})),
    )
    .await;
    let (status, _) = send_tagged(
        &app,
        "session-guess",
        Method::POST,
        "/api/sessions/guessed-id/check",
        Some(json!({"permissions": ["docs:read"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.data(Method::POST, "/api/role/reader").await;
    app.data(Method::POST, &format!("/api/membership/{USER}/reader"))
        .await;
    let pair = app.data(Method::POST, &format!("/api/token/{USER}")).await;
    tagged(
        &app,
        "verify",
        Method::POST,
        "/api/token/verify",
        Some(json!({ "token": pair["access_token"] })),
    )
    .await;
    let (status, _) = send_tagged(
        &app,
        "verify-bad",
        Method::POST,
        "/api/token/verify",
        Some(json!({ "token": "not.a.jwt" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send_tagged(
        &app,
        "refresh-bad",
        Method::POST,
        "/api/token/refresh",
        Some(json!({ "refresh_token": "unknown" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let checks = decisions(&app, "check.access", 2).await;
    assert_eq!(
        entry(&checks, "check-ok", "check.access")["outcome"],
        "allowed"
    );
    assert_eq!(
        entry(&checks, "check-unknown", "check.access")["outcome"],
        "denied"
    );
    let token_uses = decisions(&app, "user_token.use", 1).await;
    assert_eq!(token_uses[0]["request_id"], "bad-token");
    assert_eq!(token_uses[0]["outcome"], "denied");
    let activations = decisions(&app, "user.activate", 1).await;
    assert_eq!(activations[0]["request_id"], "bad-code");
    assert_eq!(activations[0]["outcome"], "denied");
    let session_checks = decisions(&app, "check.session_permissions", 2).await;
    let checked = entry(
        &session_checks,
        "session-check",
        "check.session_permissions",
    );
    assert_eq!(checked["outcome"], "denied");
    assert_eq!(
        checked["target"],
        format!(
            "session={} requested=2 granted=1",
            session["session_ref"].as_str().unwrap()
        )
    );
    assert_eq!(
        entry(
            &session_checks,
            "session-guess",
            "check.session_permissions"
        )["target"],
        "session=unknown requested=1"
    );
    let verified = decisions(&app, "check.jwt", 2).await;
    assert_eq!(
        entry(&verified, "verify", "check.jwt")["outcome"],
        "allowed"
    );
    assert_eq!(
        entry(&verified, "verify-bad", "check.jwt")["outcome"],
        "denied"
    );
    let refreshes = decisions(&app, "jwt.refresh", 1).await;
    assert_eq!(refreshes[0]["outcome"], "denied");
    assert_eq!(refreshes[0]["target"], "family=unknown");

    let (entries, text) = trail(&app).await;
    assert!(
        !text.contains(USER),
        "user names must be fingerprints: {text}"
    );
    assert!(!text.contains(session_id), "{text}");
    let (count, problem) = app.audit_chain().await;
    assert_eq!((count, problem), (entries.len(), None));
}

/// Makes every insert into `table` fail, as an injected database fault.
async fn refuse_inserts(app: &TestApp, table: &str) {
    if app.database_url().starts_with("sqlite") {
        run_sql(
            app,
            &format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            ),
        )
        .await;
    } else {
        run_sql(
            app,
            "CREATE OR REPLACE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
        )
        .await;
        run_sql(
            app,
            &format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_insert()"
            ),
        )
        .await;
    }
}

async fn allow_inserts(app: &TestApp, table: &str) {
    let sql = if app.database_url().starts_with("sqlite") {
        format!("DROP TRIGGER refuse_{table}")
    } else {
        format!("DROP TRIGGER refuse_{table} ON {table}")
    };
    run_sql(app, &sql).await;
}

async fn a_write_and_its_audit_entry_commit_together_or_not_at_all(app: TestApp) {
    let user_path = format!("/api/users/{USER}");
    // The audit entry cannot be written: the user is not created either.
    refuse_inserts(&app, "audit_log").await;
    let (status, body) = send_tagged(
        &app,
        "put",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed"})),
    )
    .await;
    assert!(status.is_server_error(), "{status}: {body}");
    let (status, _) = send_tagged(&app, "get", Method::GET, &user_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    allow_inserts(&app, "audit_log").await;

    // Nor is a session of an existing user.
    tagged(
        &app,
        "put-ok",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed"})),
    )
    .await;
    refuse_inserts(&app, "audit_log").await;
    let (status, body) = send_tagged(
        &app,
        "session",
        Method::POST,
        "/api/sessions",
        Some(json!({"user_id": USER, "permissions": ["read"]})),
    )
    .await;
    assert!(status.is_server_error(), "{status}: {body}");
    allow_inserts(&app, "audit_log").await;
    let sessions = tagged(
        &app,
        "list",
        Method::GET,
        &format!("{user_path}/sessions"),
        None,
    )
    .await;
    assert_eq!(sessions, json!([]));

    // The write itself fails: no entry is left behind.
    refuse_inserts(&app, "sessions").await;
    let (status, body) = send_tagged(
        &app,
        "session-2",
        Method::POST,
        "/api/sessions",
        Some(json!({"user_id": USER, "permissions": ["read"]})),
    )
    .await;
    assert!(status.is_server_error(), "{status}: {body}");
    allow_inserts(&app, "sessions").await;

    let (entries, _) = trail(&app).await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["request_id"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(actions, [("put-ok", "user.put")]);
    assert_eq!(app.audit_chain().await, (1, None));
}

async fn with_change_logging_off_user_session_and_jwt_writes_leave_no_entries(app: TestApp) {
    let app = app.respawn(&[("AUTH_ENABLE_AUDIT_LOGGING", "false")]).await;
    let user_path = format!("/api/users/{USER}");
    tagged(
        &app,
        "put",
        Method::PUT,
        &user_path,
        Some(json!({"status": "allowed"})),
    )
    .await;
    let token = tagged(
        &app,
        "token",
        Method::POST,
        &format!("{user_path}/tokens"),
        None,
    )
    .await;
    tagged(
        &app,
        "use",
        Method::POST,
        "/api/tokens/validate",
        Some(json!({ "token": token["token"] })),
    )
    .await;
    let session = tagged(
        &app,
        "session",
        Method::POST,
        "/api/sessions",
        Some(json!({"user_id": USER, "permissions": ["read"]})),
    )
    .await;
    tagged(
        &app,
        "end",
        Method::DELETE,
        &format!("/api/sessions/{}", session["session_id"].as_str().unwrap()),
        None,
    )
    .await;
    tagged(&app, "cleanup", Method::POST, "/api/sessions/cleanup", None).await;
    app.data(Method::POST, "/api/role/reader").await;
    app.data(Method::POST, &format!("/api/membership/{USER}/reader"))
        .await;
    let pair = tagged(
        &app,
        "jwt",
        Method::POST,
        &format!("/api/token/{USER}"),
        None,
    )
    .await;
    tagged(
        &app,
        "refresh",
        Method::POST,
        "/api/token/refresh",
        Some(json!({ "refresh_token": pair["refresh_token"] })),
    )
    .await;
    tagged(&app, "delete", Method::DELETE, &user_path, None).await;

    let (entries, _) = trail(&app).await;
    assert_eq!(entries, Vec::<Value>::new());
}

crate::on_both_backends!(
    user_token_session_and_jwt_writes_are_audited_without_names_or_secrets,
    refusals_and_checks_are_decisions_when_decision_logging_is_on,
    a_write_and_its_audit_entry_commit_together_or_not_at_all,
    with_change_logging_off_user_session_and_jwt_writes_leave_no_entries,
);

//! Protective limits: the shared rate limit, CORS, security headers, the request timeout, and secrets kept out
//! of the logs.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, new_key, read, TestApp};

const LIMIT: usize = 5;

/// Waits until just after a second boundary, so a short burst falls in one window.
async fn start_of_a_second() {
    let ms = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1000 - ms) + 5)).await;
}

/// Sends `per_instance` requests to each address at once; returns the statuses, the 429 bodies and headers,
/// and how many one-second windows the burst touched.
async fn burst(
    app: &TestApp,
    key: &str,
    addresses: &[String],
    per_instance: usize,
) -> (Vec<StatusCode>, Vec<(Value, Option<String>)>, i64) {
    let first_second = chrono::Utc::now().timestamp();
    let requests = addresses.iter().flat_map(|address| {
        (0..per_instance).map(move |_| {
            app.client
                .get(format!("{address}/api/roles"))
                .bearer_auth(key)
                .send()
        })
    });
    let responses = futures::future::join_all(requests).await;
    let last_second = chrono::Utc::now().timestamp();
    let mut statuses = Vec::new();
    let mut limited = Vec::new();
    for response in responses {
        let response = response.expect("sent");
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = read(response).await;
        if status == 429 {
            limited.push((body, retry_after));
        }
        statuses.push(status);
    }
    (statuses, limited, last_second - first_second + 1)
}

/// Bursts until one fits in a single window (a slow machine may straddle a boundary), then checks that exactly
/// `LIMIT` requests got through and the rest were 429 with `Retry-After`.
async fn assert_limited(app: &TestApp, key: &str, addresses: &[String], per_instance: usize) {
    for attempt in 0..4 {
        start_of_a_second().await;
        let (statuses, limited, windows) = burst(app, key, addresses, per_instance).await;
        let ok = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(ok + limited.len(), statuses.len(), "{statuses:?}");
        assert!(ok <= LIMIT * windows as usize, "{ok} got through");
        if windows > 1 && attempt < 3 {
            continue;
        }
        assert_eq!(ok, LIMIT, "{statuses:?}");
        for (body, retry_after) in &limited {
            let reason = assert_error_envelope(StatusCode::TOO_MANY_REQUESTS, body, 429);
            assert!(reason.contains("rate limit"), "{reason}");
            assert_eq!(retry_after.as_deref(), Some("1"));
        }
        return;
    }
}

async fn a_burst_over_the_limit_gets_429_with_retry_after(app: TestApp) {
    let limit = LIMIT.to_string();
    let app = app.respawn(&[("AUTH_RATE_LIMIT_PER_SECOND", &limit)]).await;
    let key = app.key.clone();
    assert_limited(&app, &key, std::slice::from_ref(&app.address), 3 * LIMIT).await;
    // Another tenant has its own budget, and the first gets its back in the next window.
    let (status, _) = app.call_as(&new_key(), Method::GET, "/api/roles").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get("/api/roles").await.0, 200);
    // Routes outside /api are not limited.
    for _ in 0..2 * LIMIT {
        let response = app.client.get(app.url("/ping")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
}

async fn the_limit_holds_across_two_instances_on_one_database(app: TestApp) {
    let limit = LIMIT.to_string();
    let vars = [("AUTH_RATE_LIMIT_PER_SECOND", limit.as_str())];
    let app = app.respawn(&vars).await;
    let second = app.spawn_another(&vars).await;
    // A tenant with data is counted in the database (one without data is counted per instance).
    app.write(Method::POST, "/api/role/r").await;
    // Per-process counting would let 2 × LIMIT through; the shared count lets LIMIT.
    let key = app.key.clone();
    assert_limited(&app, &key, &[app.address.clone(), second], 2 * LIMIT).await;
}

async fn without_a_limit_bursts_are_not_refused(app: TestApp) {
    let (statuses, limited, _) =
        burst(&app, &app.key, std::slice::from_ref(&app.address), 30).await;
    assert!(limited.is_empty());
    assert!(statuses.iter().all(|s| *s == 200));
}

async fn preflight(app: &TestApp, address: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{address}/api/roles"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

async fn cors_preflight_echoes_listed_origins_only(app: TestApp) {
    let app = app
        .respawn(&[(
            "AUTH_CORS_ORIGINS",
            "https://app.example.com, https://admin.example.com",
        )])
        .await;
    let response = preflight(&app, &app.address, "https://app.example.com").await;
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods == "*" || methods.contains("POST"), "{methods}");
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );

    for evil in [
        "https://evil.example.com",
        "https://app.example.com.evil.io",
        "null",
    ] {
        let response = preflight(&app, &app.address, evil).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{evil} was allowed"
        );
    }
    // A simple request from a listed origin gets the header; from another it does not.
    let response = app
        .client
        .get(app.url("/api/roles"))
        .bearer_auth(&app.key)
        .header("Origin", "https://admin.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://admin.example.com"
    );
}

async fn cors_defaults_to_any_origin_and_can_be_switched_off(app: TestApp) {
    let response = preflight(&app, &app.address, "https://anywhere.example").await;
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let off = app.spawn_another(&[("AUTH_ALLOW_CORS", "false")]).await;
    let response = preflight(&app, &off, "https://anywhere.example").await;
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

async fn security_headers_are_on_every_answer(app: TestApp) {
    let requests = [
        app.client.get(app.url("/ping")),
        app.client.get(app.url("/api/roles")).bearer_auth(&app.key),
        app.client.get(app.url("/api/roles")),
        app.client.get(app.url("/no/such/route")),
        app.client.get(app.url("/.well-known/jwks.json")),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
        assert!(headers.get("x-request-id").is_some());
    }
}

async fn a_request_that_takes_too_long_is_answered_408(app: TestApp) {
    let app = app.respawn(&[("AUTH_REQUEST_TIMEOUT_SECONDS", "1")]).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let key = app.key.clone();
    let started = std::time::Instant::now();
    // A client that promises a body and never sends it: the server must not wait for ever.
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST /api/role/slow HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .unwrap();
        let mut answer = String::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            answer.push_str(&String::from_utf8_lossy(&buffer[..n]));
            if answer.contains("\"timestamp\"") {
                break;
            }
        }
        answer
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":408"), "{answer}");
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // Nothing was written.
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
}

/// Starts the real binary with debug logging, drives it with every kind of secret, and greps its logs.
async fn secrets_never_reach_the_logs(app: TestApp) {
    // A database URL with a password (PostgreSQL ignores it under trust authentication; CI's URL has its own).
    let mut database_url = url::Url::parse(app.database_url()).unwrap();
    let db_password = match database_url.password() {
        Some(password) => Some(password.to_owned()),
        None if database_url.scheme().starts_with("postgres") => {
            database_url.set_password(Some("pw-Zx81qLr0")).unwrap();
            Some("pw-Zx81qLr0".to_owned())
        }
        None => None,
    };
    let jwt_secret = "Jm4Xq8Rv2Lp6Wn0Tz3Ys7Ku1Ha5Gd9Fb";
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .env_clear()
        .env("AUTH_DATABASE_URL", database_url.as_str())
        .env("AUTH_SERVER_PORT", "0")
        .env("AUTH_LOG_LEVEL", "trace")
        .env("AUTH_LOG_FORMAT", "json")
        .env("AUTH_JWT_SECRET_KEY", jwt_secret)
        .envs(
            crate::helpers::server_secrets_for(app.database_url())
                .into_iter()
                .filter(|(name, _)| name == "AUTH_TENANT_SECRET"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("warden starts");
    let logs = Arc::new(Mutex::new(Vec::<String>::new()));
    let (address_tx, address_rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let sink = logs.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str::<Value>(&line) {
                if event["message"] == "warden listening" {
                    let _ = address_tx.send(event["address"].as_str().unwrap_or("").to_owned());
                }
            }
            sink.lock().unwrap().push(line);
        }
    });
    let address = match address_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => format!("http://{address}"),
        Err(_) => {
            let _ = child.kill();
            panic!("no start-up line: {:?}", logs.lock().unwrap());
        }
    };

    // Drive it: a client key, a JWT, a refresh token, good and bad.
    let key = new_key();
    let client = &app.client;
    let post = |path: &str, body: Option<Value>| {
        let mut request = client.post(format!("{address}{path}")).bearer_auth(&key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    post("/api/role/editor", None).await.unwrap();
    post("/api/membership/alice/editor", None).await.unwrap();
    let (_, issued) = read(post("/api/token/alice", None).await.unwrap()).await;
    let access = issued["data"]["access_token"].as_str().unwrap().to_owned();
    let refresh_token = issued["data"]["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = read(
        post("/api/token/verify", Some(json!({ "token": access })))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, refreshed) = read(
        post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": refresh_token })),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let second_refresh = refreshed["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Failures log too: a replayed refresh token (revokes the family), a tampered JWT, a malformed key.
    // (Replayed after the reuse grace, which would otherwise answer a retry with the same pair.)
    crate::jwt::age_rotations(&app).await;
    let (status, body) = read(
        post(
            "/api/token/refresh",
            Some(json!({ "refresh_token": refresh_token })),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(!body.to_string().contains(&refresh_token));
    let (status, body) = read(
        post(
            "/api/token/verify",
            Some(json!({ "token": format!("{access}x") })),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(!body.to_string().contains(&access));
    let bad_key = format!("{key}-not-quite");
    let response = client
        .get(format!("{address}/api/roles?token={refresh_token}"))
        .bearer_auth(&bad_key)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 401);
    assert!(!body.to_string().contains(&key));

    // Users, activation codes, single-use tokens and sessions: secrets in bodies and in paths.
    let user = "qwilleran.yoshimoto";
    let send = |method: Method, path: String, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{address}{path}"))
            .bearer_auth(&key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let (status, body) = read(request.send().await.unwrap()).await;
            assert!(status.is_success(), "{status}: {body}");
            body["data"].clone()
        }
    };
    let user_path = format!("/api/users/{user}");
    send(
        Method::PUT,
        user_path.clone(),
        Some(json!({"status": "allowed"})),
    )
    .await;
    let code = send(Method::POST, format!("{user_path}/activation"), None).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        Method::POST,
        format!("{user_path}/activate"),
        Some(json!({ "code": code })),
    )
    .await;
    let single_use = send(Method::POST, format!("{user_path}/tokens"), None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        Method::POST,
        "/api/tokens/validate".to_owned(),
        Some(json!({ "token": single_use })),
    )
    .await;
    let session_id = send(
        Method::POST,
        "/api/sessions".to_owned(),
        Some(json!({"user_id": user, "permissions": ["read"]})),
    )
    .await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(Method::GET, format!("/api/sessions/{session_id}"), None).await;
    send(
        Method::POST,
        format!("/api/sessions/{session_id}/check"),
        Some(json!({"permissions": ["read"]})),
    )
    .await;
    send(
        Method::PUT,
        format!("/api/sessions/{session_id}/ttl"),
        Some(json!({"ttl_seconds": 600})),
    )
    .await;
    send(Method::DELETE, format!("/api/sessions/{session_id}"), None).await;
    // A path no route takes, holding a secret.
    let (status, _) = read(
        client
            .get(format!("{address}/api/no-such/{session_id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);

    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap();
    let logs = logs.lock().unwrap().join("\n");

    // The capture worked: requests were logged at debug level, under their route templates.
    assert!(logs.contains("/api/token/refresh"), "{logs}");
    assert!(logs.contains("/api/sessions/{id}/ttl"), "{logs}");
    assert!(logs.contains("unmatched"), "{logs}");
    assert!(logs.contains("warden listening"));
    let signature = access.rsplit('.').next().unwrap().to_owned();
    let mut secrets = vec![
        ("client key", key.clone()),
        ("client key (upper case)", key.to_uppercase()),
        ("access token signature", signature),
        ("refresh token", refresh_token),
        ("rotated refresh token", second_refresh),
        ("JWT secret", jwt_secret.to_owned()),
        ("session id", session_id),
        ("single-use token", single_use),
        ("activation code", code),
        ("user name in a path", user.to_owned()),
    ];
    if let Some(password) = db_password {
        secrets.push(("database password", password));
    }
    for (what, secret) in secrets {
        assert!(!logs.contains(&secret), "the {what} appears in the logs");
    }
}

crate::on_both_backends!(
    a_burst_over_the_limit_gets_429_with_retry_after,
    the_limit_holds_across_two_instances_on_one_database,
    without_a_limit_bursts_are_not_refused,
    cors_preflight_echoes_listed_origins_only,
    cors_defaults_to_any_origin_and_can_be_switched_off,
    security_headers_are_on_every_answer,
    a_request_that_takes_too_long_is_answered_408,
    secrets_never_reach_the_logs,
);

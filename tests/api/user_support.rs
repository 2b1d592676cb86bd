//! Helpers for the user, access-check, token and session tests.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_success_envelope, read, TestApp};

/// Sends `body` (if any) as JSON with `key` as the client key.
pub async fn send_as(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(body);
    }
    read(request.send().await.expect("request sent")).await
}

pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    send_as(app, &app.key, method, path, body).await
}

/// `data` of a call that must answer 200.
pub async fn ok(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Value {
    let (status, answer) = send(app, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    assert_success_envelope(&answer);
    answer["data"].clone()
}

/// Creates an allowed, enabled user with extra fields merged into the body.
pub async fn put_user(app: &TestApp, user: &str, extra: Value) -> Value {
    let mut body = serde_json::json!({"status": "allowed"});
    if let (Some(target), Some(fields)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in fields {
            target.insert(k.clone(), v.clone());
        }
    }
    ok(app, Method::PUT, &format!("/api/users/{user}"), Some(&body)).await
}

/// An error answer without its timestamp, to compare two failures byte for byte.
pub fn without_timestamp(mut body: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.remove("timestamp");
    }
    body
}

/// Runs one SQL statement directly on the test's database (to move times into the past).
pub async fn run_sql(app: &TestApp, statement: &str) {
    let url = app.database_url();
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("sql runs");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("sql runs");
        pool.close().await;
    }
}

/// Parses an RFC 3339 UTC time from an answer.
pub fn parse_time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("a time: {value}"));
    assert!(text.ends_with('Z'), "UTC: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

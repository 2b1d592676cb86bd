//! Error classification and retries, against small scripted servers that count the attempts they receive.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use warden_client::{Client, Error};

/// A server that answers its n-th request with the n-th status of its script (the last one repeats), in
/// Warden's envelope, and counts requests.
struct Scripted {
    address: String,
    attempts: Arc<AtomicUsize>,
}

struct Script {
    statuses: Vec<u16>,
    attempts: Arc<AtomicUsize>,
    /// Sent as `Retry-After` with every answer that is not a success.
    retry_after: Option<&'static str>,
}

async fn answer(State(script): State<Arc<Script>>) -> impl IntoResponse {
    let n = script.attempts.fetch_add(1, Ordering::SeqCst);
    let code = script.statuses[n.min(script.statuses.len() - 1)];
    let status = StatusCode::from_u16(code).unwrap();
    let body = if status.is_success() {
        serde_json::json!({"success": true, "code": code, "message": "ok",
            "data": [{"role": "admin", "description": null}], "timestamp": "2026-01-01T00:00:00Z"})
    } else {
        serde_json::json!({"success": false, "code": code,
            "message": status.canonical_reason(), "error": format!("scripted {code}"),
            "timestamp": "2026-01-01T00:00:00Z"})
    };
    let mut response = (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response();
    if let (Some(wait), false) = (script.retry_after, status.is_success()) {
        response
            .headers_mut()
            .insert("retry-after", wait.parse().unwrap());
    }
    response
}

impl Scripted {
    async fn start(statuses: &[u16]) -> Self {
        Self::start_with(statuses, None).await
    }

    async fn start_with(statuses: &[u16], retry_after: Option<&'static str>) -> Self {
        let attempts = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(Script {
            statuses: statuses.to_vec(),
            attempts: attempts.clone(),
            retry_after,
        });
        let router = axum::Router::new().fallback(answer).with_state(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { address, attempts }
    }

    fn client(&self) -> Client {
        Client::builder(&self.address)
            .client_key("0b7e3f3c-2a55-4c57-9d31-6f4a9f0c1e2d")
            .initial_backoff(Duration::from_millis(10))
            .build()
            .unwrap()
    }

    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_503_is_retried_until_the_server_answers() {
    let server = Scripted::start(&[503, 503, 200]).await;

    let roles = server.client().list_roles().await.unwrap();

    assert_eq!(roles[0].role, "admin");
    assert_eq!(server.attempts(), 3);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let server = Scripted::start_with(&[429, 200], Some("1")).await;
    let started = Instant::now();

    let roles = server.client().list_roles().await.unwrap();

    assert_eq!(roles[0].role, "admin");
    assert_eq!(server.attempts(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}, not the second Retry-After asked for",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_429_asking_for_a_long_wait_is_returned_at_once() {
    let server = Scripted::start_with(&[429, 200], Some("120")).await;

    let err = server.client().list_roles().await.unwrap_err();

    assert!(matches!(err, Error::Refused { status: 429, .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn a_429_on_a_call_that_is_not_idempotent_is_not_retried() {
    let server = Scripted::start_with(&[429, 200], Some("0")).await;

    let err = server
        .client()
        .issue_single_use_token("alice", None)
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(429));
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn idempotent_posts_and_deletes_are_retried_too() {
    // The scripted 200 carries a role list, so these calls end in a decode error; what counts is the attempts.
    let server = Scripted::start(&[503, 200]).await;
    let _ = server.client().add_permission("admin", "x").await;
    assert_eq!(server.attempts(), 2);

    let server = Scripted::start(&[503, 200]).await;
    let _ = server.client().delete_role("admin").await;
    assert_eq!(server.attempts(), 2);
}

#[tokio::test]
async fn retries_stop_after_max_retries_with_the_last_error() {
    let server = Scripted::start(&[503]).await;

    let err = server.client().list_roles().await.unwrap_err();

    assert!(
        matches!(err, Error::Server { status: 503, ref error, .. } if error == "scripted 503"),
        "{err:?}"
    );
    assert_eq!(server.attempts(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn max_retries_zero_means_one_attempt() {
    let server = Scripted::start(&[503, 200]).await;
    let client = Client::builder(&server.address)
        .max_retries(0)
        .build()
        .unwrap();

    assert!(client.list_roles().await.is_err());
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn a_400_is_returned_after_exactly_one_attempt() {
    let server = Scripted::start(&[400, 200]).await;

    let err = server.client().list_roles().await.unwrap_err();

    assert!(
        matches!(err, Error::Refused { status: 400, ref error, .. } if error == "scripted 400"),
        "{err:?}"
    );
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn repeated_4xx_answers_do_not_block_later_calls() {
    let server = Scripted::start(&[404, 404, 404, 404, 404, 404, 200]).await;
    let client = server.client();

    for _ in 0..6 {
        assert!(matches!(
            client.list_roles().await,
            Err(Error::Refused { status: 404, .. })
        ));
    }

    assert!(client.list_roles().await.is_ok(), "no circuit breaker");
    assert_eq!(server.attempts(), 7);
}

#[tokio::test]
async fn a_500_is_a_server_error_and_is_not_retried() {
    let server = Scripted::start(&[500, 200]).await;

    let err = server.client().list_roles().await.unwrap_err();

    assert!(matches!(err, Error::Server { status: 500, .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_is_a_decode_error() {
    let server = Scripted::start(&[200]).await;

    // The scripted 200 carries a list of roles, not `{"created": bool}`.
    let err = server
        .client()
        .create_role("admin", None)
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error_after_retries() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder(format!("http://127.0.0.1:{port}"))
        .initial_backoff(Duration::from_millis(10))
        .build()
        .unwrap();

    let started = Instant::now();
    let err = client.ping().await.unwrap_err();

    match &err {
        Error::Transport { source } => assert!(source.is_connect(), "{source:?}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
    // Two retries waited at least 5 ms and 10 ms (the lower ends of their jittered backoffs).
    assert!(started.elapsed() >= Duration::from_millis(15));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket); // read nothing, answer nothing
        }
    });
    let client = Client::builder(address)
        .timeout(Duration::from_millis(200))
        .max_retries(1)
        .initial_backoff(Duration::from_millis(10))
        .build()
        .unwrap();

    let err = client.livez().await.unwrap_err();

    match &err {
        Error::Transport { source } => assert!(source.is_timeout(), "{source:?}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "timeouts are retried");
}

//! Connection limits: a client that sends its request head slowly (slowloris) or not at all, idle keep-alive
//! connections, and the cap on connections served at once.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::helpers::TestApp;

/// The server's `host:port`.
fn socket(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection and returns what it sent; panics if it is still open after 30 s
/// (the limits under test are 1 s; the other timeouts are set to an hour).
fn read_until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset) => break,
            Err(e) => panic!(
                "the server kept the connection open ({e}); received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Sends one keep-alive request and reads its whole answer, leaving the connection open.
fn request_and_keep_open(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: warden\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).expect("an answer");
        assert!(n > 0, "closed before answering");
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("a content length");
            if body.len() >= length {
                return text;
            }
        }
    }
}

async fn a_client_that_trickles_its_request_head_is_disconnected_while_others_are_served(
    app: TestApp,
) {
    let app = app
        .respawn(&[
            ("AUTH_SERVER_HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("AUTH_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS", "3600"),
            ("AUTH_REQUEST_TIMEOUT_SECONDS", "3600"),
        ])
        .await;
    let address = socket(&app);
    // Half a request line, then one byte every 200 ms: each byte arrives well within any per-read timeout.
    let slow = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(b"GET /api/ro").unwrap();
        for byte in b"les HTTP/1.1\r\nHost: warden\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa" {
            std::thread::sleep(Duration::from_millis(200));
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
        }
        read_until_closed(&mut stream)
    });
    // Meanwhile other clients are served.
    for _ in 0..5 {
        let (status, _) = app.get("/api/roles").await;
        assert_eq!(status, 200);
    }
    let answer = slow.await.unwrap();
    assert!(
        !answer.contains(" 200 "),
        "the slow request was served: {answer}"
    );
    let (status, _) = app.get("/api/roles").await;
    assert_eq!(status, 200);
}

async fn an_idle_keep_alive_connection_is_closed(app: TestApp) {
    let app = app
        .respawn(&[
            ("AUTH_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS", "1"),
            ("AUTH_SERVER_HEADER_READ_TIMEOUT_SECONDS", "3600"),
        ])
        .await;
    let address = socket(&app);
    let (first, rest) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        let first = request_and_keep_open(&mut stream, "/livez");
        (first, read_until_closed(&mut stream))
    })
    .await
    .unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert_eq!(rest, "", "closed without another answer");
}

async fn connections_over_the_cap_wait_until_one_closes(app: TestApp) {
    let app = app
        .respawn(&[
            ("AUTH_SERVER_MAX_CONNECTIONS", "1"),
            ("AUTH_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS", "3600"),
            ("AUTH_SERVER_HEADER_READ_TIMEOUT_SECONDS", "3600"),
        ])
        .await;
    // One connection, served and kept open: it holds the only place.
    let mut held = TcpStream::connect(socket(&app)).unwrap();
    let first = tokio::task::block_in_place(|| request_and_keep_open(&mut held, "/livez"));
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");

    // A second client is not served while it is held...
    let client = reqwest::Client::new();
    let url = app.url("/livez");
    // `Connection: close`, so that once answered it gives the only place back.
    let mut waiting = tokio::spawn(async move {
        client
            .get(url)
            .header("Connection", "close")
            .send()
            .await
            .map(|r| r.status())
    });
    let served_early = tokio::time::timeout(Duration::from_millis(500), &mut waiting).await;
    assert!(
        served_early.is_err(),
        "served over the cap: {served_early:?}"
    );

    // ...and is served as soon as it goes away; the server keeps answering.
    drop(held);
    let status = waiting.await.unwrap().expect("answered");
    assert_eq!(status, 200);
    let (status, _) = app.get("/api/roles").await;
    assert_eq!(status, 200);
}

async fn made_up_methods_count_as_other_in_metrics(app: TestApp) {
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("BREW{i}").as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url("/api/roles"))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("BREW"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
}

crate::on_both_backends!(
    a_client_that_trickles_its_request_head_is_disconnected_while_others_are_served,
    an_idle_keep_alive_connection_is_closed,
    connections_over_the_cap_wait_until_one_closes,
    made_up_methods_count_as_other_in_metrics,
);

//! Malformed input gets a clear error in the envelope with the right status, and writes nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error_envelope, read, TestApp};

async fn bad_names_are_400_and_write_nothing(app: TestApp) {
    let long = "a".repeat(129);
    let bad = [
        "a%20b",
        "a%2Fb",
        "semi%3Bcolon",
        "quote%27",
        "%27%20OR%20%271%27%3D%271",
        "Robert%27)%3B%20DROP%20TABLE%20roles%3B--",
        "%3Cscript%3E",
        "caf%C3%A9",
        "nul%00byte",
        "new%0Aline",
        long.as_str(),
    ];
    for name in bad {
        for path in [
            format!("/api/role/{name}"),
            format!("/api/permission/{name}/read"),
            format!("/api/membership/{name}/r"),
            format!("/api/has_permission/{name}/read"),
            format!("/api/which_users_can/{name}"),
        ] {
            let method = if path.contains("has_permission") || path.contains("which") {
                Method::GET
            } else {
                Method::POST
            };
            let (status, body) = app.call(method, &path).await;
            assert_error_envelope(status, &body, 400);
        }
    }
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
}

async fn the_longest_allowed_name_is_accepted(app: TestApp) {
    let name = "r".repeat(128);
    assert_eq!(
        app.write(Method::POST, &format!("/api/role/{name}")).await,
        json!({"created": true})
    );
}

async fn empty_names_in_the_path_are_400(app: TestApp) {
    for path in [
        "/api/role/",
        "/api/permission//read",
        "/api/membership/alice/",
    ] {
        let (status, body) = app.post(path).await;
        assert_error_envelope(status, &body, 400);
    }
}

async fn malformed_json_is_400_and_a_wrong_shape_is_422(app: TestApp) {
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/role/j"))
            .bearer_auth(&app.key)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let (status, body) = read(send("{not json", "application/json").await.unwrap()).await;
    assert_error_envelope(status, &body, 400);
    let (status, body) = read(
        send("{\"description\": 5}", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_error_envelope(status, &body, 422);
    let (status, body) = read(
        send("{\"description\": \"x\"} trailing", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_error_envelope(status, &body, 400);
    let (status, body) = read(
        send("description=x", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_error_envelope(status, &body, 415);
    let too_long = format!("{{\"description\": \"{}\"}}", "d".repeat(1025));
    let response = app
        .client
        .post(app.url("/api/role/j"))
        .bearer_auth(&app.key)
        .json(&serde_json::from_str::<serde_json::Value>(&too_long).unwrap())
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_error_envelope(status, &body, 422);
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
}

async fn injection_strings_in_a_description_are_stored_verbatim(app: TestApp) {
    let evil = "'); DROP TABLE roles; -- <script>alert(1)</script> %s %00 ünïcødé\n";
    let (status, _) = app
        .post_json("/api/role/safe", &json!({"description": evil}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.data(Method::GET, "/api/roles").await,
        json!([{"role": "safe", "description": evil}])
    );
}

async fn control_characters_in_a_description_are_422(app: TestApp) {
    for evil in ["nul\u{0000}byte", "escape\u{001b}[2J"] {
        let (status, body) = app
            .post_json("/api/role/ctl", &json!({"description": evil}))
            .await;
        assert_error_envelope(status, &body, 422);
    }
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
}

/// Sends a raw HTTP/1.1 request and returns the whole answer. Write errors are ignored: the server may answer
/// (and close) before it has read a body it refuses, and the answer is what the test is about.
async fn raw_request(app: &TestApp, head: String, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn envelope_of(answer: &str) -> serde_json::Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not an envelope: {answer}"))
}

async fn bodies_over_64_kib_are_413(app: TestApp) {
    // A declared length over the limit is refused before anything is read, even on a route that ignores bodies.
    for path in ["/api/role/big", "/api/permission/big/read"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            app.key,
            70 * 1024
        );
        let answer = raw_request(&app, head, &[]).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert_eq!(envelope_of(&answer)["code"], 413);
    }
    // A chunked body with no declared length is cut off at the same size while it is read.
    let json = format!("{{\"description\": \"{}\"}}", "x".repeat(70 * 1024));
    let mut chunked = format!("{:x}\r\n", json.len()).into_bytes();
    chunked.extend_from_slice(json.as_bytes());
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let head = format!(
        "POST /api/role/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.key
    );
    let answer = raw_request(&app, head, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(envelope_of(&answer)["code"], 413);
    assert_eq!(app.data(Method::GET, "/api/roles").await, json!([]));
}

async fn unknown_routes_are_404_and_wrong_methods_405(app: TestApp) {
    let (status, body) = app.get("/api/nothing/here").await;
    assert_error_envelope(status, &body, 404);
    let (status, body) = app.get("/").await;
    assert_error_envelope(status, &body, 404);
    for (method, path) in [
        (Method::PUT, "/api/roles"),
        (Method::PATCH, "/api/role/x"),
        (Method::GET, "/api/role/x"),
        (Method::POST, "/api/has_permission/u/p"),
        (Method::DELETE, "/api/members/x"),
    ] {
        let (status, body) = app.call(method, path).await;
        assert_error_envelope(status, &body, 405);
    }
}

crate::on_both_backends!(
    bad_names_are_400_and_write_nothing,
    the_longest_allowed_name_is_accepted,
    empty_names_in_the_path_are_400,
    malformed_json_is_400_and_a_wrong_shape_is_422,
    injection_strings_in_a_description_are_stored_verbatim,
    control_characters_in_a_description_are_422,
    bodies_over_64_kib_are_413,
    unknown_routes_are_404_and_wrong_methods_405,
);

//! The OpenAPI document tells the truth: every operation refers to the one shared set of error responses, every
//! name carries the name pattern, the documented ranges are the ones the server applies (probed at their edges on
//! a live server), every cursor a listing hands out matches its documented pattern, and answers match their
//! schemas where they once did not (`removed` counts).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_envelope, read, TestApp};
use crate::user_support::send;
use warden_core::domain::Name;

fn document() -> Value {
    serde_json::to_value(warden::api::openapi_document()).expect("the document serialises")
}

/// Follows a local `$ref` once.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn operations(document: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.push((method.to_uppercase(), path.clone(), operation));
        }
    }
    found
}

#[test]
fn every_operation_refers_to_the_one_error_envelope() {
    let document = document();
    for (method, path, operation) in operations(&document) {
        if path == "/.well-known/jwks.json" || path == "/metrics" || !path.starts_with("/api/") {
            continue;
        }
        for class in ["4XX", "5XX"] {
            let schema = &operation["responses"][class]["content"]["application/json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/Failure",
                "{method} {path} {class}"
            );
        }
    }
    let failure = &document["components"]["schemas"]["Failure"];
    for field in ["success", "code", "message", "error", "timestamp"] {
        assert!(failure["properties"][field].is_object(), "Failure.{field}");
    }
}

#[test]
fn every_name_in_a_path_carries_the_name_pattern() {
    let document = document();
    let pattern = document["components"]["schemas"]["Name"]["pattern"]
        .as_str()
        .expect("Name has a pattern");
    assert_eq!(
        pattern,
        format!("^[A-Za-z0-9_.:@+|-]{{1,{}}}$", Name::MAX_LEN),
        "the pattern is the core's rule"
    );
    let mut names = 0;
    for (method, path, operation) in operations(&document) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let in_path = parameter["in"] == "path";
            let is_name = matches!(
                parameter["name"].as_str(),
                Some("user" | "role" | "name" | "permission")
            );
            if in_path && is_name {
                names += 1;
                // A granted permission may be a pattern: its own schema, the same rule plus `*`.
                let expected =
                    if path.starts_with("/api/permission/") && parameter["name"] == "name" {
                        "#/components/schemas/GrantedName"
                    } else {
                        "#/components/schemas/Name"
                    };
                assert_eq!(
                    parameter["schema"]["$ref"], expected,
                    "{method} {path} {}",
                    parameter["name"]
                );
            }
        }
    }
    assert!(names >= 30, "only {names} name parameters");
    assert_eq!(
        document["components"]["schemas"]["GrantedName"]["pattern"],
        format!("^[A-Za-z0-9_.:@+|*-]{{1,{}}}$", Name::MAX_LEN),
        "a granted name is a name that may hold `*`"
    );
}

#[test]
fn every_cursor_a_listing_hands_out_matches_the_documented_pattern() {
    let document = document();
    let roles = &document["paths"]["/api/roles"]["get"]["parameters"];
    let cursor = roles
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "cursor")
        .expect("a cursor parameter");
    let min_length = cursor["schema"]["minLength"].as_u64().expect("a minLength");
    let max_length = cursor["schema"]["maxLength"].as_u64().expect("a maxLength");
    let pattern = cursor["schema"]["pattern"].as_str().expect("a pattern");
    let pattern = regex::Regex::new(pattern).expect("a valid pattern");
    let documented = |text: &str| {
        let length = text.chars().count() as u64;
        (min_length..=max_length).contains(&length) && pattern.is_match(text)
    };
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@+|-";
    let mut samples: Vec<String> = alphabet.chars().map(String::from).collect();
    for length in 1..=Name::MAX_LEN {
        let start = length % alphabet.len();
        samples.push(alphabet.chars().cycle().skip(start).take(length).collect());
    }
    for name in samples {
        let issued = URL_SAFE_NO_PAD.encode(&name);
        assert!(documented(&issued), "{name} → {issued}");
    }
    // The server refuses these (400); the document does not allow them either.
    for refused in ["", "!!!", "_w", "/w", &URL_SAFE_NO_PAD.encode([0xff, 0xfe])] {
        assert!(!documented(refused), "{refused}");
    }
}

/// The documented `minimum`/`maximum` of a query parameter.
fn query_range(document: &Value, path: &str, name: &str) -> (i64, i64) {
    let parameter = document["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{path} has parameters"))
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{path} documents {name}"));
    let schema = resolve(document, &parameter["schema"]);
    (
        schema["minimum"].as_i64().expect("a minimum"),
        schema["maximum"].as_i64().expect("a maximum"),
    )
}

/// The documented range of a body field.
fn body_range(document: &Value, schema: &str, field: &str) -> (i64, i64) {
    let property = &document["components"]["schemas"][schema]["properties"][field];
    (
        property["minimum"]
            .as_i64()
            .unwrap_or_else(|| panic!("{schema}.{field} minimum")),
        property["maximum"]
            .as_i64()
            .unwrap_or_else(|| panic!("{schema}.{field} maximum")),
    )
}

/// Each documented range is the server's: both ends are accepted, one past either end is 400.
async fn documented_ranges_are_the_ones_the_server_applies(app: TestApp) {
    let document = document();
    let (status, _) = send(
        &app,
        Method::PUT,
        "/api/users/ann",
        Some(&json!({"status": "allowed"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(&app, Method::POST, "/api/role/r", None).await;
    assert_eq!(status, 200);

    for (path, name) in [
        ("/api/users", "limit"),
        ("/api/users/{user}/requests", "limit"),
        ("/api/audit", "limit"),
        ("/api/roles", "limit"),
        ("/api/members/{role}", "limit"),
    ] {
        let (min, max) = query_range(&document, path, name);
        let concrete = path.replace("{user}", "ann").replace("{role}", "r");
        for (value, accepted) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            let (status, body) = send(
                &app,
                Method::GET,
                &format!("{concrete}?{name}={value}"),
                None,
            )
            .await;
            if accepted {
                assert_eq!(status, 200, "{path}?{name}={value}: {body}");
            } else {
                assert_error_envelope(status, &body, 400);
            }
        }
    }

    type BodyOf = fn(i64) -> Value;
    let bodies: [(&str, &str, Method, &str, BodyOf); 5] = [
        (
            "TokenTtl",
            "ttl_minutes",
            Method::POST,
            "/api/users/ann/tokens",
            |n| json!({"ttl_minutes": n}),
        ),
        (
            "TtlMinutes",
            "ttl_minutes",
            Method::POST,
            "/api/users/ann/activation",
            |n| json!({"ttl_minutes": n}),
        ),
        (
            "Quotas",
            "requests_per_hour",
            Method::PUT,
            "/api/users/ann",
            |n| json!({"status": "allowed", "quotas": {"requests_per_hour": n}}),
        ),
        (
            "Quotas",
            "random_shift_minutes",
            Method::PUT,
            "/api/users/ann",
            |n| json!({"status": "allowed", "quotas": {"random_shift_minutes": n}}),
        ),
        (
            "NewSession",
            "ttl_seconds",
            Method::POST,
            "/api/sessions",
            |n| json!({"user_id": "ann", "permissions": ["read"], "ttl_seconds": n}),
        ),
    ];
    for (schema, field, method, path, body) in bodies {
        let (min, max) = body_range(&document, schema, field);
        for (value, accepted) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            let (status, answer) = send(&app, method.clone(), path, Some(&body(value))).await;
            if accepted {
                assert_eq!(status, 200, "{schema}.{field} = {value}: {answer}");
            } else {
                assert_error_envelope(status, &answer, 400);
            }
        }
    }
}

/// JSON Schema's integers include `60.0`; a fraction is still refused. A body that is not an object is 422, and
/// only a body without a byte is an absent one (white space alone is not JSON).
async fn bodies_are_read_as_the_document_describes_them(app: TestApp) {
    send(
        &app,
        Method::PUT,
        "/api/users/bo",
        Some(&json!({"status": "allowed"})),
    )
    .await;
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/users/bo/tokens",
        Some(&json!({"ttl_minutes": 60.0})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/users/bo/tokens",
        Some(&json!({"ttl_minutes": 1.5})),
    )
    .await;
    assert_error_envelope(status, &body, 422);
    for not_an_object in [json!([]), json!(["text"]), json!(7), json!("text")] {
        for (method, path) in [
            (Method::POST, "/api/role/r"),
            (Method::POST, "/api/users/bo/tokens"),
        ] {
            let (status, body) = send(&app, method.clone(), path, Some(&not_an_object)).await;
            assert_error_envelope(status, &body, 422);
        }
    }
    // Nested objects too.
    let (status, body) = send(
        &app,
        Method::PUT,
        "/api/users/bo",
        Some(&json!({"status": "allowed", "quotas": [null, null]})),
    )
    .await;
    assert_error_envelope(status, &body, 422);
    for blank in [" ", "\n", "\u{c}"] {
        let response = app
            .client
            .post(app.url("/api/role/r"))
            .bearer_auth(&app.key)
            .header("Content-Type", "application/json")
            .body(blank)
            .send()
            .await
            .expect("sent");
        let (status, body) = read(response).await;
        assert_error_envelope(status, &body, 400);
    }
    let response = app
        .client
        .post(app.url("/api/role/r"))
        .bearer_auth(&app.key)
        .header("Content-Type", "application/json")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200, "no body at all is no body");
}

/// `removed` is a count where sessions are counted, and a boolean where one session ends; each as documented.
async fn session_removals_answer_their_documented_shapes(app: TestApp) {
    let document = document();
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["RemovedCount"]["properties"]["removed"]["type"],
        "integer"
    );
    assert_eq!(
        schemas["SessionEnded"]["properties"]["removed"]["type"],
        "boolean"
    );
    send(
        &app,
        Method::PUT,
        "/api/users/cy",
        Some(&json!({"status": "allowed"})),
    )
    .await;
    let (_, created) = send(
        &app,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "cy", "permissions": ["a"]})),
    )
    .await;
    let id = created["data"]["session_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    send(
        &app,
        Method::POST,
        "/api/sessions",
        Some(&json!({"user_id": "cy", "permissions": ["b"]})),
    )
    .await;
    let (status, ended) = send(&app, Method::DELETE, &format!("/api/sessions/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(ended["data"], json!({"removed": true}));
    let (status, removed) = send(&app, Method::DELETE, "/api/users/cy/sessions", None).await;
    assert_eq!(status, 200);
    assert_eq!(removed["data"], json!({"removed": 1}));
    let (status, cleaned) = send(&app, Method::POST, "/api/sessions/cleanup", None).await;
    assert_eq!(status, 200);
    assert!(cleaned["data"]["removed"].is_u64(), "{cleaned}");
}

crate::on_both_backends!(
    documented_ranges_are_the_ones_the_server_applies,
    bodies_are_read_as_the_document_describes_them,
    session_removals_answer_their_documented_shapes,
);

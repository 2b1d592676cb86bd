//! Answers in the envelope every answer wears (`{success, code, message, data | error, timestamp}`, defined in
//! `warden-api`), as HTTP responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use warden_api::{Envelope, Failure, PageEnvelope};

/// RFC 3339 UTC with microseconds, e.g. `2026-11-25T10:39:41.123456Z`.
pub fn timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A 200 answer carrying `data`.
pub fn ok<T: Serialize>(message: &str, data: T) -> Response {
    json_response(
        StatusCode::OK,
        &Envelope {
            success: true,
            code: 200,
            message: message.to_owned(),
            data,
            timestamp: timestamp(),
        },
    )
}

/// A 200 answer carrying one page of a listing in `data`, the next page's cursor beside it (`null` after the last
/// page) and, when there is a next page, its URL in a `Link: <next>; rel="next"` header.
pub fn ok_page<T: Serialize>(
    message: &str,
    data: T,
    next_cursor: Option<&str>,
    next_link: Option<&str>,
) -> Response {
    let mut response = json_response(
        StatusCode::OK,
        &PageEnvelope {
            success: true,
            code: 200,
            message: message.to_owned(),
            data,
            next_cursor: next_cursor.map(str::to_owned),
            timestamp: timestamp(),
        },
    );
    // The link is built from the request's own path and base64url text, so it is always a valid header value.
    if let Some(Ok(link)) =
        next_link.map(|url| HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")))
    {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

/// An error answer: `message` is the status's short reason, `error` the detail.
pub fn failure(status: StatusCode, error: &str, reason: Option<&str>) -> Response {
    json_response(
        status,
        &Failure {
            success: false,
            code: status.as_u16(),
            message: status.canonical_reason().unwrap_or("Error").to_owned(),
            error: error.to_owned(),
            reason: reason.map(str::to_owned),
            timestamp: timestamp(),
        },
    )
}

pub(super) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        // Our envelopes hold only strings, numbers and plain structs, which always serialise.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

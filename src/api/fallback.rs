//! Answers for requests no route takes, and envelopes for errors produced below the handlers (405 from the
//! router, 413 from the body limit, 408 from the timeout), so that every response is the JSON envelope.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::envelope;
use super::ApiError;

/// Unknown routes. An `/api/` path with an empty segment is a request for a name that is empty, so it gets the
/// same 400 a bad name gets rather than a puzzling 404.
pub async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") && (path.ends_with('/') || path.contains("//")) {
        return ApiError::bad_request("names in the path must not be empty").into_response();
    }
    ApiError::not_found("no such route").into_response()
}

/// Wraps any error response that is not already JSON in the envelope, keeping its status and headers.
pub async fn envelope_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!("method {method} is not allowed on this path"),
        StatusCode::PAYLOAD_TOO_LARGE => "request body is too large".to_owned(),
        StatusCode::REQUEST_TIMEOUT => "request took too long".to_owned(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported content type".to_owned(),
        other => other
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    };
    let (mut parts, _) = response.into_parts();
    let fresh = envelope::failure(status, &detail, None);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, fresh.into_body())
}

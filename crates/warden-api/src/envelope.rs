//! The envelope every answer wears (`{success, code, message, data | error, timestamp}`), the error shape, and the
//! one set of error responses every operation of the document refers to.

use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

/// A successful answer: `data` holds the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `true`.
    pub success: bool,
    /// The HTTP status, repeated.
    pub code: u16,
    /// What happened, e.g. `role created`.
    pub message: String,
    pub data: T,
    /// RFC 3339 UTC with microseconds.
    pub timestamp: String,
}

/// One page of a listing: `data` holds the page, `next_cursor` the cursor of the next one (`null` after the last);
/// the same URL is in the `Link: <…>; rel="next"` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PageEnvelope<T> {
    /// Always `true`.
    pub success: bool,
    /// The HTTP status, repeated.
    pub code: u16,
    pub message: String,
    pub data: T,
    /// Pass as `?cursor=` for the next page; `null` when this page is the last.
    pub next_cursor: Option<String>,
    /// RFC 3339 UTC with microseconds.
    pub timestamp: String,
}

/// An error answer: `message` is the status's reason phrase, `error` the detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Failure {
    /// Always `false`.
    pub success: bool,
    /// The HTTP status, repeated.
    pub code: u16,
    /// The status's reason phrase, e.g. `Not Found`.
    pub message: String,
    /// The detail, e.g. ``role `ghost` not found``.
    pub error: String,
    /// A machine-readable reason where one failure status has several causes: `user_not_key_backed` (409, a
    /// membership refused under strict users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 3339 UTC with microseconds.
    pub timestamp: String,
}

/// The error answers any operation may give, in the envelope: named once, referred to by every operation.
#[derive(Debug, IntoResponses)]
pub enum Failures {
    /// A refused request.
    #[response(
        status = "4XX",
        description = "refused: a bad name, query or body (400, 413, 415, 422), a bad client key (401), a refused \
            credential or user (401, 403), not found (404), a conflict with the tenant's state (409), rate limited (429)"
    )]
    Refused(Failure),
    /// A failure on Warden's side.
    #[response(
        status = "5XX",
        description = "an internal error (500), or the database is unavailable or the server overloaded (503, with `Retry-After`)"
    )]
    ServerError(Failure),
}

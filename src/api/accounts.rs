//! Shared pieces of the user, access-check, token and session endpoints: a required JSON body, strict query
//! strings, RFC 3339 times, pages, statuses and the HTTP meaning of [`UsersError`].

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::extract::OptionalJson;
use super::ApiError;
use crate::service::{Page as ServicePage, UsersError};
use warden_api::Page;
use warden_core::domain::UserStatus;

/// A JSON body that must be present: the same 415 / 400 / 422 answers as [`OptionalJson`], and 400 when the
/// body is empty.
pub struct RequiredJson<T>(pub T);

impl<S, T> FromRequest<S> for RequiredJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let OptionalJson(value) = OptionalJson::<T>::from_request(req, state).await?;
        value
            .map(Self)
            .ok_or_else(|| ApiError::bad_request("a JSON body is required"))
    }
}

/// A query string, refused with a 400 envelope when it does not fit `T`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds, e.g. `2026-11-25T10:39:41.123Z`.
pub fn time(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn optional_time(ms: Option<i64>) -> Option<String> {
    ms.map(time)
}

/// A service page as the wire's, shaping each item with `view`.
pub fn page<R, T>(page: ServicePage<R>, view: impl Fn(R) -> T) -> Page<T> {
    Page {
        items: page.items.into_iter().map(view).collect(),
        next_cursor: page.next_cursor,
    }
}

/// A user status as the wire spells it.
pub fn wire_status(status: UserStatus) -> warden_api::UserStatus {
    match status {
        UserStatus::Allowed => warden_api::UserStatus::Allowed,
        UserStatus::Denied => warden_api::UserStatus::Denied,
    }
}

impl From<UsersError> for ApiError {
    fn from(err: UsersError) -> Self {
        match err {
            UsersError::Invalid(_) => Self::bad_request(err.to_string()),
            UsersError::UserNotFound(_) | UsersError::SessionNotFound => {
                Self::not_found(err.to_string())
            }
            UsersError::UserNotAllowed(_) => Self::new(StatusCode::FORBIDDEN, err.to_string()),
            UsersError::InvalidToken => Self::unauthorized(err.to_string()),
            UsersError::InvalidActivationCode => Self::bad_request(err.to_string()),
            UsersError::SessionIdTaken => Self::new(StatusCode::CONFLICT, err.to_string()),
            UsersError::InvalidCredentials => Self::unauthorized(err.to_string()),
            UsersError::TooManyKeys(_) => Self::new(StatusCode::CONFLICT, err.to_string()),
            UsersError::ApiKeyNotFound => Self::not_found(err.to_string()),
            UsersError::LoginBackoff(wait) => {
                Self::too_many_requests(err.to_string(), wait.as_secs().max(1))
            }
            UsersError::NotActivated(_) => Self::new(StatusCode::FORBIDDEN, err.to_string()),
            UsersError::UserConfigUnavailable => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
            }
            UsersError::Service(inner) => inner.into(),
        }
    }
}

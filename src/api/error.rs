//! `ApiError`: the HTTP face of every failure. 5xx answers are opaque; their cause is logged once, here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::envelope;
use crate::service::ServiceError;
use warden_core::domain::{ClientKeyError, NameError};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    /// Seconds for `Retry-After` on a 429.
    retry_after: Option<u64>,
    /// The envelope's machine-readable `reason`, where a status has several causes.
    reason: Option<&'static str>,
}

pub type ApiResult = Result<Response, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            retry_after: None,
            reason: None,
        }
    }

    /// 429 with `Retry-After: seconds`.
    pub fn too_many_requests(detail: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = envelope::failure(self.status, &self.detail, self.reason);
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match &err {
            ServiceError::RoleNotFound(_) => Self::not_found(err.to_string()),
            ServiceError::RevisionNotReached { .. } | ServiceError::RevisionNotFound { .. } => {
                Self::new(StatusCode::CONFLICT, err.to_string())
            }
            // 409: the write conflicts with the tenant's current state (it is full); unlike 429, waiting does not
            // help, removing rows does.
            ServiceError::QuotaExceeded { .. } => Self::new(StatusCode::CONFLICT, err.to_string()),
            ServiceError::UserNotKeyBacked(_) => Self {
                reason: Some(crate::service::NOT_KEY_BACKED),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::UserNotFound(_) => Self::not_found(err.to_string()),
            ServiceError::ResourceNotFound(_) => Self {
                reason: Some("resource_not_found"),
                ..Self::not_found(err.to_string())
            },
            ServiceError::ResourceCycle { .. } => Self {
                reason: Some("resource_cycle"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::ResourceTooDeep { .. } => Self {
                reason: Some("resource_too_deep"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::ResourceHasChildren(_) => Self {
                reason: Some("resource_has_children"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::InheritanceCycle { .. } => Self {
                reason: Some("inheritance_cycle"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::InheritanceTooDeep { .. } => Self {
                reason: Some("inheritance_too_deep"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::ClientKeyRetired | ServiceError::InvalidRecoveryKey => {
                Self::unauthorized(err.to_string())
            }
            ServiceError::ClientKeyTaken => Self {
                reason: Some("client_key_in_use"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::RecoveryKeyOutstanding => Self {
                reason: Some("rotate_key_already_issued"),
                ..Self::new(StatusCode::CONFLICT, err.to_string())
            },
            ServiceError::UserNotAllowed(_) => Self::new(StatusCode::FORBIDDEN, err.to_string()),
            ServiceError::Invalid(_) => Self::bad_request(err.to_string()),
            ServiceError::InvalidToken(_) => Self::unauthorized(err.to_string()),
            ServiceError::Overloaded => Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
            ServiceError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
            }
            ServiceError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl From<NameError> for ApiError {
    fn from(err: NameError) -> Self {
        Self::bad_request(err.to_string())
    }
}

impl From<ClientKeyError> for ApiError {
    fn from(err: ClientKeyError) -> Self {
        Self::unauthorized(err.to_string())
    }
}

//! The gate in front of every `/api` route: authenticates the tenant once (in registered mode, against the
//! registry) and applies the per-tenant rate limit, answering 429 with `Retry-After` when it is exceeded.
//!
//! `POST /api/keys/recover` is not gated (it carries no client key). A request whose key does not even parse passes
//! through untouched, so that the route (or the 404 fallback)
//! answers it exactly as before; the `Tenant` extractor refuses it there.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::extract::{bearer_key, Tenant};
use super::{ApiError, AppState};

pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Recovery authenticates with the recovery key in its body: the caller has lost (or had rotated away) the
    // client key this gate would demand.
    let path = request.uri().path();
    if !path.starts_with("/api/") || path == super::client_keys::RECOVER_PATH {
        return next.run(request).await;
    }
    let Ok(key) = bearer_key(request.headers()) else {
        return next.run(request).await;
    };
    let tenant = match state.tenants.authenticate(&key).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return super::extract::unrecognised_key().into_response(),
        Err(err) => return ApiError::from(err).into_response(),
    };
    if let Some(limiter) = &state.limiter {
        match limiter.hit(&tenant.id).await {
            Ok(None) => {}
            Ok(Some(retry_after)) => {
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "rate limit of {} requests per second exceeded; retry after {retry_after} s",
                        limiter.per_second()
                    ),
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                return response;
            }
            Err(err) => return ApiError::from(err).into_response(),
        }
    }
    request.extensions_mut().insert(Tenant(tenant));
    next.run(request).await
}

//! Request extractors that answer in the service's own envelope when the input is wrong.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};
use crate::service::Reach;
use warden_api::{EffectiveQuery, ReadQuery, ResourceQuery, TransitiveQuery};
use warden_core::domain::{ClientKey, Name, NameKind, RequestContext, TenantScope};

/// The calling tenant, from `Authorization: Bearer <UUID4 client key>`.
#[derive(Debug, Clone)]
pub struct Tenant(pub TenantScope);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Already authenticated (and counted) by the `/api` guard.
        if let Some(tenant) = parts.extensions.get::<Tenant>() {
            return Ok(tenant.clone());
        }
        let key = bearer_key(&parts.headers)?;
        state
            .tenants
            .authenticate(&key)
            .await?
            .map(Self)
            .ok_or_else(unrecognised_key)
    }
}

/// The request facts the audit trail records: request id, peer address and a cleaned user agent.
pub struct Context(pub RequestContext);

/// The longest user agent the audit trail keeps.
const MAX_USER_AGENT: usize = 200;

impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let user_agent = header("user-agent").map(|agent| {
            agent
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_USER_AGENT)
                .collect()
        });
        let client_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self(RequestContext {
            // Already checked (or replaced) by the request-id middleware.
            request_id: header("x-request-id"),
            client_ip,
            user_agent,
        }))
    }
}

/// `?min_revision=N`: answer from a model at least that new.
#[derive(Debug, Default)]
pub struct Consistency {
    pub min_revision: Option<i64>,
}

impl<S: Send + Sync> FromRequestParts<S> for Consistency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let not_a_revision = || ApiError::bad_request("min_revision must be a whole number from 0");
        let Query(query) = Query::<ReadQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_a_revision())?;
        if query.min_revision.is_some_and(|r| r < 0) {
            return Err(not_a_revision());
        }
        Ok(Self {
            min_revision: query.min_revision,
        })
    }
}

/// `?effective=true` on a structural read: follow role inheritance; otherwise the rows as written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Effective(pub Reach);

impl<S: Send + Sync> FromRequestParts<S> for Effective {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<EffectiveQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("effective must be true or false"))?;
        Ok(Self(reach(query.effective)))
    }
}

/// `?resource=type:id`: the resource a membership or a question is scoped to; `None` without one.
#[derive(Debug, Default, Clone)]
pub struct Scope(pub Option<warden_core::domain::Resource>);

impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<ResourceQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("resource must be written type:id"))?;
        query
            .resource
            .as_deref()
            .map(resource)
            .transpose()
            .map(Self)
    }
}

/// A resource reference (`type:id`) from the request; a malformed one is 400.
pub fn resource(raw: &str) -> Result<warden_core::domain::Resource, ApiError> {
    warden_core::domain::Resource::parse(raw).map_err(|err| ApiError::bad_request(err.to_string()))
}

/// `?transitive=true` on an inheritance listing: every role reached, not only the role's own edges.
#[derive(Debug, Default, Clone, Copy)]
pub struct Transitive(pub Reach);

impl<S: Send + Sync> FromRequestParts<S> for Transitive {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<TransitiveQuery>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("transitive must be true or false"))?;
        Ok(Self(reach(query.transitive)))
    }
}

fn reach(follow: Option<bool>) -> Reach {
    if follow == Some(true) {
        Reach::Effective
    } else {
        Reach::Direct
    }
}

/// An unknown or revoked key in registered mode: the same answer for both, so it reveals nothing.
pub fn unrecognised_key() -> ApiError {
    ApiError::unauthorized("client key is not recognised")
}

pub fn bearer_key(headers: &HeaderMap) -> Result<ClientKey, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("Authorization header is not ASCII"))?;
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "Authorization must use the Bearer scheme",
        ));
    }
    Ok(ClientKey::parse(credentials.trim())?)
}

/// Path parameters, percent-decoded by axum, refused with a 400 envelope when they do not decode.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// Validates a path segment as a name of the given kind.
pub fn name(kind: NameKind, raw: &str) -> Result<Name, ApiError> {
    Ok(Name::parse(kind, raw)?)
}

/// A JSON body that may be absent: an empty body (no bytes at all) is `None` (the seed's clients send
/// `Content-Type: application/json` with no body at all). A non-empty body must be JSON: a wrong content type is
/// 415, a syntax error 400, a well-formed body of the wrong shape 422.
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(is_json_content_type);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        // No body at all is no body; anything else, white space included, must be JSON.
        if bytes.is_empty() {
            return Ok(Self(None));
        }
        if is_json != Some(true) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request body must be JSON (Content-Type: application/json)",
            ));
        }
        // Every body Warden reads is an object, but serde also fills a struct from an array (`["x"]`).
        let first = bytes
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if first == Some(&b'[') {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid JSON body: expected a JSON object",
            ));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value: Option<T> = serde::Deserialize::deserialize(&mut deserializer)
            .and_then(|v| deserializer.end().map(|()| v))
            .map_err(|e| {
                let status = if e.is_data() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::BAD_REQUEST
                };
                ApiError::new(status, format!("invalid JSON body: {e}"))
            })?;
        Ok(Self(value))
    }
}

fn is_json_content_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

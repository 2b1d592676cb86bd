//! JWT access and refresh tokens: `POST /api/token/{user}`, `…/refresh`, `…/verify`, and the JWK Set.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An access JWT and its refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// The JWT.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
    /// Single use: refreshing rotates it (reusing it revokes the family).
    pub refresh_token: String,
    /// Seconds.
    pub refresh_expires_in: u64,
}

/// The body of `POST /api/token/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The body of `POST /api/token/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerifyRequest {
    /// An access JWT.
    pub token: String,
}

/// An access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The tenant's fingerprint (never the client key).
    pub tid: String,
    /// The user's roles at issue time.
    pub roles: Vec<String>,
    /// The user's permissions at issue time.
    pub permissions: Vec<String>,
    /// The issuer (`AUTH_JWT_ISSUER`); a verifier pins it.
    #[serde(default)]
    pub iss: String,
    /// The tenant's audience (its id unless set with `PUT /api/settings`); a verifier pins it.
    #[serde(default)]
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// The token's id.
    pub jti: String,
    /// Its refresh family; revoking the family revokes the token.
    pub fam: String,
}

/// The answer of a successful verification (a failed one is 401).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Verified {
    /// Always `true`.
    pub valid: bool,
    /// The token's claims.
    pub claims: Claims,
}

/// `?tenant=` on `GET /.well-known/jwks.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JwksQuery {
    /// The tenant id: the `tid` claim of its tokens (64 hex digits).
    #[param(pattern = "^[0-9a-f]{64}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// An RFC 7517 JWK Set, answered bare (not in the envelope) so that JWT libraries can read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JwkSet {
    /// The tenant's public signing key (`kty`, `crv`, `x`, `kid`, `alg`, `use`); empty with HS256 or without
    /// `tenant`.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

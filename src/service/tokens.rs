//! Access tokens (JWT) and refresh tokens (opaque, rotated, in families).
//!
//! An access token carries the user's roles and permissions at issue time, the tenant's fingerprint (`tid`) and
//! its refresh family (`fam`); verification checks signature, algorithm (only the configured one), expiry (no
//! leeway), tenant and that the family was not revoked. A refresh token is 32 random bytes, stored only as
//! HMAC-SHA256 under a server sub-key; using it rotates it, and using a rotated one again revokes its family.
//!
//! Issuing, rotating and revoking record their audit entry in their transaction; refused refreshes and every
//! verification are decisions. Entries name the user by fingerprint and the family by its id, which is no secret
//! (every access token carries it as `fam`, and it grants nothing).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::jwt_keys::SigningKeys;
use super::{AuditLog, RbacService, ServiceError, Tenants};
use crate::config::JwtSettings;
use crate::domain::{actions, Name, NameKind, RequestContext, TenantId, TenantScope};
use crate::store::{now_millis, NewRefreshToken, RefreshTokenRow, Rotation, Store, StoreError};

/// The claims of a Warden access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    /// The tenant's fingerprint (never the client key).
    pub tid: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The refresh family this token descends from; revoking the family revokes the token.
    pub fam: String,
}

/// A freshly issued pair. Debug hides both tokens.
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct TokenService {
    store: Store,
    rbac: RbacService,
    audit: AuditLog,
    keys: Arc<SigningKeys>,
    refresh_key: Arc<SecretSlice<u8>>,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("keys", &self.keys)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

fn invalid(reason: &'static str) -> ServiceError {
    ServiceError::InvalidToken(reason)
}

impl TokenService {
    pub async fn setup(
        store: &Store,
        tenants: &Tenants,
        rbac: RbacService,
        audit: AuditLog,
        settings: &JwtSettings,
        home: &super::SecretHome,
    ) -> Result<Self, StoreError> {
        let keys = SigningKeys::setup(store, home, settings).await?;
        Ok(Self {
            store: store.clone(),
            rbac,
            audit,
            keys: Arc::new(keys),
            refresh_key: Arc::new(tenants.derive_key("refresh-token")),
            access_ttl: settings.access_ttl,
            refresh_ttl: settings.refresh_ttl,
        })
    }

    /// The public keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// Issues an access token and a new refresh family for a user who holds at least one role.
    pub async fn issue(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
    ) -> Result<IssuedTokens, ServiceError> {
        let tenant = &scope.id;
        let roles = self.rbac.user_roles(scope, user, None).await?;
        if roles.is_empty() {
            return Err(ServiceError::UserNotFound(user.clone()));
        }
        let family = uuid::Uuid::new_v4().to_string();
        let now = now_millis();
        let (refresh_token, hash) = self.new_refresh_token();
        let row = NewRefreshToken {
            hash: &hash,
            family: &family,
            user: user.as_str(),
            issued_at: now,
            expires_at: now + self.refresh_ttl.as_millis() as i64,
        };
        let target = self.family_target(tenant, user.as_str(), &family);
        let audit = self.audit.draft(actions::JWT_ISSUE, target, context);
        self.store.create_token_family(tenant, &row, audit).await?;
        let access_token = self.sign(scope, user, &family, now).await?;
        Ok(self.pair(access_token, refresh_token))
    }

    /// Rotates a refresh token: the old one stops working and a new pair is returned. Reusing a rotated token
    /// revokes its family, with every access token issued from it. A refused refresh is a decision `denied`.
    pub async fn refresh(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        presented: &str,
    ) -> Result<IssuedTokens, ServiceError> {
        let tenant = &scope.id;
        let hash = self.hash_refresh(presented);
        let row = self.store.find_refresh_token(tenant, &hash).await?;
        let target = match &row {
            Some(row) => self.family_target(tenant, &row.user_name, &row.family),
            None => "family=unknown".to_owned(),
        };
        let result = match row {
            Some(row) => self.rotate(scope, context, &hash, row, &target).await,
            None => Err(invalid("refresh token is not valid")),
        };
        if let Err(ServiceError::InvalidToken(_)) = &result {
            self.audit
                .decision(tenant, actions::JWT_REFRESH, || target, false, context);
        }
        result
    }

    /// The refresh of a token that exists: refused when its family is revoked, it expired or it was used before
    /// (which revokes the family).
    async fn rotate(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        hash: &str,
        row: RefreshTokenRow,
        target: &str,
    ) -> Result<IssuedTokens, ServiceError> {
        let tenant = &scope.id;
        if row.family_revoked_at.is_some() {
            return Err(invalid("refresh token has been revoked"));
        }
        let now = now_millis();
        if row.used_at.is_some() {
            self.revoke_reused(tenant, context, &row.family, target, now)
                .await?;
            return Err(invalid(
                "refresh token was already used; its family is revoked",
            ));
        }
        if row.expires_at <= now {
            return Err(invalid("refresh token has expired"));
        }
        let user = Name::parse(NameKind::User, &row.user_name)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored user name: {e}")))?;
        let (refresh_token, next_hash) = self.new_refresh_token();
        let next = NewRefreshToken {
            hash: &next_hash,
            family: &row.family,
            user: user.as_str(),
            issued_at: now,
            expires_at: now + self.refresh_ttl.as_millis() as i64,
        };
        let audit = self
            .audit
            .draft(actions::JWT_REFRESH, target.to_owned(), context);
        match self
            .store
            .rotate_refresh_token(tenant, hash, &next, audit)
            .await?
        {
            Rotation::Rotated => {}
            Rotation::AlreadyUsed => {
                // Another refresh of the same token won the race (or the family was just revoked).
                self.revoke_reused(tenant, context, &row.family, target, now)
                    .await?;
                return Err(invalid(
                    "refresh token was already used; its family is revoked",
                ));
            }
        }
        let access_token = self.sign(scope, &user, &row.family, now).await?;
        Ok(self.pair(access_token, refresh_token))
    }

    /// Checks an access token for this tenant and returns its claims; a decision for the trail, naming the
    /// token's user and family when its signature holds.
    pub async fn verify(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        token: &str,
    ) -> Result<AccessClaims, ServiceError> {
        let tenant = &scope.id;
        let (target, result) = match self.decode(token) {
            Ok(claims) => {
                let target = self.family_target(tenant, &claims.sub, &claims.fam);
                (target, self.accept(tenant, claims).await)
            }
            Err(err) => ("family=unknown".to_owned(), Err(err)),
        };
        // A database failure decided nothing.
        if matches!(result, Ok(_) | Err(ServiceError::InvalidToken(_))) {
            self.audit.decision(
                tenant,
                actions::CHECK_JWT,
                || target,
                result.is_ok(),
                context,
            );
        }
        result
    }

    /// The claims of a token whose signature, algorithm and expiry hold.
    fn decode(&self, token: &str) -> Result<AccessClaims, ServiceError> {
        let mut validation = Validation::new(self.keys.algorithm);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.keys.decoding, &validation)
            .map_err(|e| {
                invalid(match e.kind() {
                    ErrorKind::ExpiredSignature => "token has expired",
                    ErrorKind::InvalidSignature => "token signature does not match",
                    ErrorKind::InvalidAlgorithm
                    | ErrorKind::InvalidAlgorithmName
                    | ErrorKind::MissingAlgorithm => "token algorithm is not accepted",
                    _ => "token is malformed",
                })
            })?;
        Ok(data.claims)
    }

    /// Claims that hold are accepted when they are this tenant's and their family is not revoked.
    async fn accept(
        &self,
        tenant: &TenantId,
        claims: AccessClaims,
    ) -> Result<AccessClaims, ServiceError> {
        if claims.tid != tenant.as_str() {
            return Err(invalid("token was not issued to this tenant"));
        }
        if self.store.token_family_revoked(tenant, &claims.fam).await? {
            return Err(invalid("token has been revoked"));
        }
        Ok(claims)
    }

    async fn revoke_reused(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        family: &str,
        target: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let audit = self
            .audit
            .draft(actions::JWT_FAMILY_REVOKE, target.to_owned(), context);
        if self
            .store
            .revoke_token_family(tenant, family, now, audit)
            .await?
        {
            tracing::warn!(tenant = %tenant, "refresh token reused: token family revoked");
        }
        Ok(())
    }

    /// `user=<fingerprint> family=<id>`.
    fn family_target(&self, tenant: &TenantId, user: &str, family: &str) -> String {
        format!("{} family={family}", self.audit.user_target(tenant, user))
    }

    async fn sign(
        &self,
        scope: &TenantScope,
        user: &Name,
        family: &str,
        now: i64,
    ) -> Result<String, ServiceError> {
        let tenant = &scope.id;
        let roles = self.rbac.user_roles(scope, user, None).await?;
        let permissions = self.rbac.user_permissions(scope, user, None).await?;
        let iat = now / 1000;
        let claims = AccessClaims {
            sub: user.as_str().to_owned(),
            tid: tenant.as_str().to_owned(),
            roles: roles.into_iter().map(|r| r.name).collect(),
            permissions,
            iat,
            exp: iat + self.access_ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
            fam: family.to_owned(),
        };
        let mut header = Header::new(self.keys.algorithm);
        header.kid = self.keys.kid.clone();
        jsonwebtoken::encode(&header, &claims, &self.keys.encoding)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("signing a token: {e}")))
    }

    fn pair(&self, access_token: String, refresh_token: String) -> IssuedTokens {
        IssuedTokens {
            access_token,
            expires_in: self.access_ttl.as_secs(),
            refresh_token,
            refresh_expires_in: self.refresh_ttl.as_secs(),
        }
    }

    /// 32 random bytes, URL-safe base64, and the keyed hash that is all the database keeps.
    fn new_refresh_token(&self) -> (String, String) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash_refresh(&token);
        (token, hash)
    }

    fn hash_refresh(&self, token: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.refresh_key.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

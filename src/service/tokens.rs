//! Access tokens (JWT) and refresh tokens (opaque, rotated, in families).
//!
//! An access token carries the user's roles and permissions at issue time, the tenant's fingerprint (`tid`), its
//! refresh family (`fam`), the issuer (`iss`, `AUTH_JWT_ISSUER`) and the tenant's audience (`aud`, the tenant id
//! unless `PUT /api/settings` set one). It is signed with the tenant's own key (see `jwt_keys`). Verification
//! checks signature under this tenant's key, algorithm (only the configured one), expiry (no leeway), issuer,
//! audience, tenant and that the family was not revoked. A refresh token is 32 random bytes, stored only as
//! HMAC-SHA256 under a server sub-key; using it rotates it, and using a rotated one again revokes its family.
//!
//! Revocation: a family is revoked by reuse, on demand (`DELETE /api/users/{user}/jwt`), and in the transaction of
//! every change that takes the user's right to tokens away (see `store::tokens`); every access token names its
//! family, so revoking the family fails them all at verification. A refresh re-reads the user (a denied, disabled,
//! deleted or role-less user gets 401), signs the user's current roles and permissions, and stops at the family's
//! absolute lifetime.
//!
//! Reuse grace: a rotation keeps the pair it returned beside the rotated token, sealed with AES-256-GCM under a
//! server sub-key, for `AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS`. A refresh of the rotated token within that window (a
//! client's retry, on any instance) gets the same pair and keeps the family; after it, a reuse revokes the family.
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
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::jwt_keys::SigningKeys;
use super::{AuditLog, RbacService, ServiceError, Tenants};
use crate::config::JwtSettings;
use warden_core::domain::{
    actions, Name, NameKind, RequestContext, TenantId, TenantScope, UserStatus,
};
use warden_store::{
    now_millis, NewRefreshToken, RefreshTokenRow, Rotation, Store, StoreError, TenantSettingsRow,
};

/// The claims of a Warden access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    /// The tenant's fingerprint (never the client key).
    pub tid: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    /// The issuer: `AUTH_JWT_ISSUER`.
    pub iss: String,
    /// The tenant's audience: its `jwt_audience` setting, else the tenant id.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The refresh family this token descends from; revoking the family revokes the token.
    pub fam: String,
}

/// A freshly issued pair. Debug hides both tokens.
#[derive(Serialize, Deserialize)]
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
    /// Seals the successor pair kept for the reuse grace.
    successor_key: Arc<LessSafeKey>,
    access_ttl: Duration,
    refresh_ttl: Duration,
    family_max_age: Duration,
    reuse_grace: Duration,
    issuer: String,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("keys", &self.keys)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("family_max_age", &self.family_max_age)
            .field("reuse_grace", &self.reuse_grace)
            .field("issuer", &self.issuer)
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
        let sub_key = tenants.derive_key("refresh-successor-v1");
        // The sub-key is an HMAC-SHA256 output: exactly the 32 bytes AES-256-GCM takes.
        let successor_key = UnboundKey::new(&AES_256_GCM, sub_key.expose_secret())
            .map_err(|_| StoreError::Other(anyhow::anyhow!("successor key length")))?;
        Ok(Self {
            store: store.clone(),
            rbac,
            audit,
            keys: Arc::new(keys),
            refresh_key: Arc::new(tenants.derive_key("refresh-token")),
            successor_key: Arc::new(LessSafeKey::new(successor_key)),
            access_ttl: settings.access_ttl,
            // No refresh token outlives its family.
            refresh_ttl: settings.refresh_ttl.min(settings.family_max_age),
            family_max_age: settings.family_max_age,
            reuse_grace: settings.reuse_grace,
            issuer: settings.issuer.clone(),
        })
    }

    /// The public key of the tenant `tid` (a fingerprint, as in the `tid` claim) as a JWK Set, for
    /// `/.well-known/jwks.json?tenant=`; empty without a tenant or with HS256 (see `jwt_keys`).
    pub fn jwks(&self, tid: Option<&str>) -> Result<serde_json::Value, ServiceError> {
        if let Some(tid) = tid {
            if tid.len() != 64 || !tid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(ServiceError::Invalid(
                    "`tenant` must be a tenant id: 64 lowercase hex digits (the `tid` claim)"
                        .to_owned(),
                ));
            }
        }
        self.keys.jwks(tid).map_err(ServiceError::Internal)
    }

    /// The issuer every access token names.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The tenant's settings as stored (defaults as `None`).
    pub async fn settings(&self, tenant: &TenantId) -> Result<TenantSettingsRow, ServiceError> {
        Ok(self.store.tenant_settings(tenant).await?)
    }

    /// The audience of the tenant's access tokens: its setting, else the tenant id.
    pub async fn audience(&self, tenant: &TenantId) -> Result<String, ServiceError> {
        Ok(self
            .settings(tenant)
            .await?
            .jwt_audience
            .unwrap_or_else(|| tenant.as_str().to_owned()))
    }

    /// Replaces the tenant's settings (audited). Tokens issued under an earlier audience stop verifying.
    pub async fn put_settings(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        settings: TenantSettingsRow,
    ) -> Result<TenantSettingsRow, ServiceError> {
        if let Some(audience) = &settings.jwt_audience {
            if audience.trim().is_empty()
                || audience.chars().count() > 255
                || audience.chars().any(char::is_control)
            {
                return Err(ServiceError::Invalid(
                    "`jwt_audience` must be 1 to 255 characters, not all white space, without control characters"
                        .to_owned(),
                ));
            }
        }
        let audit = self
            .audit
            .draft(actions::SETTINGS_PUT, "settings".to_owned(), context);
        Ok(self
            .store
            .put_tenant_settings(tenant, &settings, now_millis(), audit)
            .await?)
    }

    /// Revokes every refresh family of `user`, with every access token issued from them; returns how many.
    pub async fn revoke_user(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
    ) -> Result<u64, ServiceError> {
        let target = self.audit.user_target(tenant, user.as_str());
        let audit = self
            .audit
            .draft(actions::JWT_FAMILY_REVOKE, target, context);
        Ok(self
            .store
            .revoke_user_token_families(tenant, user.as_str(), now_millis(), audit)
            .await?)
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
        let member = scope.codec.seal(user.as_str());
        // The family is created only if, inside its transaction, the user still holds a role and is allowed.
        if !self
            .store
            .create_token_family(tenant, &row, &member, audit)
            .await?
        {
            return match self.store.get_user(tenant, user).await? {
                Some(record) if !(record.status == UserStatus::Allowed && record.enabled) => {
                    Err(ServiceError::UserNotAllowed(user.clone()))
                }
                _ => Err(ServiceError::UserNotFound(user.clone())),
            };
        }
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

    /// The refresh of a token that exists: refused when its family is revoked or past its absolute lifetime, it
    /// expired, the user may no longer have tokens, or it was used before (which revokes the family, unless the
    /// reuse grace answers with the pair it was rotated into).
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
            return self.reused(tenant, context, hash, &row, target, now).await;
        }
        if row.expires_at <= now {
            return Err(invalid("refresh token has expired"));
        }
        let family_end = row.family_created_at + self.family_max_age.as_millis() as i64;
        if family_end <= now {
            return Err(invalid(
                "refresh token family has reached its maximum lifetime; sign in again",
            ));
        }
        let user = Name::parse(NameKind::User, &row.user_name)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored user name: {e}")))?;
        // The user as they are now: a denied, disabled, deleted or role-less user gets nothing.
        if let Some(record) = self.store.get_user(tenant, &user).await? {
            if !(record.status == UserStatus::Allowed && record.enabled) {
                return Err(invalid("the user may no longer get tokens"));
            }
        }
        let access_token = self.sign(scope, &user, &row.family, now).await?;
        let (refresh_token, next_hash) = self.new_refresh_token();
        let next = NewRefreshToken {
            hash: &next_hash,
            family: &row.family,
            user: user.as_str(),
            issued_at: now,
            expires_at: (now + self.refresh_ttl.as_millis() as i64).min(family_end),
        };
        let pair = self.pair(access_token, refresh_token);
        let sealed = self.seal_pair(hash, &pair)?;
        let audit = self
            .audit
            .draft(actions::JWT_REFRESH, target.to_owned(), context);
        let grace_cutoff = now - self.reuse_grace.as_millis() as i64;
        match self
            .store
            .rotate_refresh_token(tenant, hash, &next, sealed.as_deref(), grace_cutoff, audit)
            .await?
        {
            Rotation::Rotated => Ok(pair),
            Rotation::AlreadyUsed => {
                // Another refresh of the same token won the race (a retry), or the family was just revoked: read
                // the row as that transaction left it.
                match self.store.find_refresh_token(tenant, hash).await? {
                    Some(row) if row.family_revoked_at.is_none() && row.used_at.is_some() => {
                        self.reused(tenant, context, hash, &row, target, now).await
                    }
                    _ => Err(invalid("refresh token has been revoked")),
                }
            }
        }
    }

    /// A rotated token presented again: within the reuse grace, the pair it was rotated into; after it, the
    /// family is revoked.
    async fn reused(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        hash: &str,
        row: &RefreshTokenRow,
        target: &str,
        now: i64,
    ) -> Result<IssuedTokens, ServiceError> {
        let within_grace = row
            .used_at
            .is_some_and(|used| now - used <= self.reuse_grace.as_millis() as i64);
        if let (true, Some(sealed)) = (within_grace, &row.successor) {
            if let Some(pair) = self.open_pair(hash, sealed) {
                self.audit.decision(
                    tenant,
                    actions::JWT_REFRESH,
                    || target.to_owned(),
                    true,
                    context,
                );
                return Ok(pair);
            }
        }
        self.revoke_reused(tenant, context, &row.family, target, now)
            .await?;
        Err(invalid(
            "refresh token was already used; its family is revoked",
        ))
    }

    /// The pair sealed with AES-256-GCM under the successor sub-key, bound to the rotated token's hash; `None`
    /// when the reuse grace is off (nothing is kept).
    fn seal_pair(&self, hash: &str, pair: &IssuedTokens) -> Result<Option<String>, ServiceError> {
        if self.reuse_grace.is_zero() {
            return Ok(None);
        }
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buffer = serde_json::to_vec(pair)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("encoding a pair: {e}")))?;
        self.successor_key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(hash.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| ServiceError::Internal(anyhow::anyhow!("sealing a pair")))?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&buffer);
        Ok(Some(URL_SAFE_NO_PAD.encode(stored)))
    }

    /// Opens a pair sealed by [`Self::seal_pair`] for the same token; `None` if it does not open (then the reuse
    /// counts as a reuse).
    fn open_pair(&self, hash: &str, sealed: &str) -> Option<IssuedTokens> {
        let mut bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let mut buffer = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
        let plain = self
            .successor_key
            .open_in_place(nonce, Aad::from(hash.as_bytes()), &mut buffer)
            .ok()?;
        serde_json::from_slice(plain).ok()
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
        let (target, result) = match self.decode(tenant, token).await {
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

    /// The claims of a token whose signature (under this tenant's key), algorithm, expiry, issuer and audience
    /// hold.
    async fn decode(&self, tenant: &TenantId, token: &str) -> Result<AccessClaims, ServiceError> {
        let key = self
            .keys
            .for_tenant(tenant.as_str())
            .map_err(ServiceError::Internal)?;
        let audience = self.audience(tenant).await?;
        let mut validation = Validation::new(self.keys.algorithm);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&audience]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map_err(|e| {
                invalid(match e.kind() {
                    ErrorKind::ExpiredSignature => "token has expired",
                    ErrorKind::InvalidSignature => {
                        "token signature does not match this tenant's key"
                    }
                    ErrorKind::InvalidIssuer => "token issuer is not accepted",
                    ErrorKind::InvalidAudience => "token audience is not this tenant's",
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
        if roles.is_empty() {
            return Err(invalid("the user holds no role any more"));
        }
        let iat = now / 1000;
        let claims = AccessClaims {
            sub: user.as_str().to_owned(),
            tid: tenant.as_str().to_owned(),
            roles: roles.into_iter().map(|r| r.name).collect(),
            permissions,
            iss: self.issuer.clone(),
            aud: self.audience(tenant).await?,
            iat,
            exp: iat + self.access_ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
            fam: family.to_owned(),
        };
        let key = self
            .keys
            .for_tenant(tenant.as_str())
            .map_err(ServiceError::Internal)?;
        let mut header = Header::new(self.keys.algorithm);
        header.kid = key.kid.clone();
        jsonwebtoken::encode(&header, &claims, &key.encoding)
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

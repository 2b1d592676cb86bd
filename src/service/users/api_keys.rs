//! Per-user API keys (as `auth` 3.7.1 has them): `rak_` + 43 base62 characters (256 random bits), shown once and
//! stored as a keyed hash; at most [`MAX_ACTIVE_KEYS`] active ones per user; expiry at most a year ahead and only
//! ever moved earlier. A sensitive change or the user's deletion revokes them (in the store).

use warden_core::crypto::{base62_secret, is_base62_secret};
use warden_store::{ApiKeyRecord, NewApiKey};

use super::*;

/// Active (unrevoked, unexpired) keys one user may hold, as in the seed.
pub const MAX_ACTIVE_KEYS: i64 = 25;
/// The furthest a key's expiry may be.
const MAX_LIFETIME_MS: i64 = 365 * 24 * 3_600_000;
/// `last_used_at` is written at most this often per key.
const TOUCH_EVERY_MS: i64 = 60_000;
const KEY_PREFIX: &str = "rak_";

/// Why a presented key is not valid, as the seed names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    Revoked,
    Expired,
    UnknownKey,
}

impl KeyRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::UnknownKey => "unknown_key",
        }
    }
}

/// A stored key, its label opened.
#[derive(Debug, Clone)]
pub struct ApiKeyInfo {
    pub key_id: String,
    pub user: String,
    pub key_prefix: String,
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// The hasher of API keys: HMAC under a sub-key of the tenant secret, so a copied table is useless without it.
pub fn key_hasher(tenants: &Tenants) -> KeyedHasher {
    KeyedHasher::new(tenants.derive_key("api-keys"))
}

/// What an imported key's stored hash covers: `auth` kept only the hex SHA-256 of each key, so Warden stores the
/// keyed hash of that digest (still never an unkeyed one) and a presented key is looked up under both forms.
pub fn imported_key_digest(auth_sha256_hex: &str) -> String {
    format!("auth-sha256:{}", auth_sha256_hex.to_ascii_lowercase())
}

/// [`imported_key_digest`] of a presented key (an API key or a recovery key).
pub fn auth_digest_of(key: &str) -> String {
    use sha2::{Digest, Sha256};
    imported_key_digest(&hex::encode(Sha256::digest(key.as_bytes())))
}

/// Whether text has the shape of a key: anything else is 400, as in the seed.
pub fn is_key_shaped(text: &str) -> bool {
    is_base62_secret(text, KEY_PREFIX)
}

fn label(raw: Option<String>) -> Result<Option<String>, UsersError> {
    match raw {
        None => Ok(None),
        Some(label)
            if (1..=64).contains(&label.len())
                && label.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'.' | b'-')
                }) =>
        {
            Ok(Some(label))
        }
        Some(_) => Err(invalid(
            "`label` must be 1 to 64 letters, digits, spaces, `_`, `.` or `-`",
        )),
    }
}

/// Parses an expiry (RFC 3339, or ISO 8601 without an offset as UTC) that lies in the future and at most a year
/// ahead; milliseconds since the epoch.
fn expiry(raw: &str, now: i64) -> Result<i64, UsersError> {
    let text = raw.trim();
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.timestamp_millis())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|at| at.and_utc().timestamp_millis())
        })
        .map_err(|_| invalid("`expires_at` must be an ISO 8601 date-time"))?;
    if at <= now {
        return Err(invalid("`expires_at` must be in the future"));
    }
    if at > now + MAX_LIFETIME_MS {
        return Err(invalid("`expires_at` may be at most 365 days from now"));
    }
    Ok(at)
}

impl UsersService {
    fn key_info(
        &self,
        codec: &warden_core::crypto::FieldCodec,
        record: ApiKeyRecord,
    ) -> Result<ApiKeyInfo, UsersError> {
        let label = record
            .label
            .map(|sealed| codec.open(sealed))
            .transpose()
            .map_err(|err| {
                UsersError::Service(ServiceError::Internal(anyhow::anyhow!(
                    "api key label: {err}"
                )))
            })?;
        Ok(ApiKeyInfo {
            key_id: record.key_id,
            user: record.user_name,
            key_prefix: record.key_prefix,
            label,
            created_at: record.created_at,
            revoked_at: record.revoked_at,
            expires_at: record.expires_at,
            last_used_at: record.last_used_at,
        })
    }

    /// Creates a key for `user` (any user name, as in the seed); returns the key, shown only now, and its
    /// metadata. 409 when the user holds [`MAX_ACTIVE_KEYS`] active keys.
    pub async fn create_api_key(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        raw_label: Option<String>,
        raw_expiry: Option<String>,
    ) -> Result<(String, ApiKeyInfo), UsersError> {
        let now = now_millis();
        let label = label(raw_label)?;
        let expires_at = raw_expiry.map(|raw| expiry(&raw, now)).transpose()?;
        let key = base62_secret(KEY_PREFIX);
        let hash = self.api_keys.hash(tenant, &key);
        let key_id = uuid::Uuid::new_v4().to_string();
        let prefix = &key[..12];
        let codec = self.codec(tenant).await?;
        let sealed = label.as_deref().map(|l| codec.seal(l).into_owned());
        let new = NewApiKey {
            key_id: &key_id,
            user,
            hash: &hash,
            prefix,
            label: sealed.as_deref(),
            now,
            expires_at,
        };
        let audit = self.user_draft(actions::API_KEY_CREATE, tenant, user, context);
        if !self
            .store
            .create_api_key(tenant, &new, MAX_ACTIVE_KEYS, audit)
            .await?
        {
            return Err(UsersError::TooManyKeys(user.clone()));
        }
        let info = ApiKeyInfo {
            key_id,
            user: user.as_str().to_owned(),
            key_prefix: prefix.to_owned(),
            label,
            created_at: now,
            revoked_at: None,
            expires_at,
            last_used_at: None,
        };
        Ok((key, info))
    }

    /// Every key of the user, revoked ones included, oldest first.
    pub async fn api_keys(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<ApiKeyInfo>, UsersError> {
        let codec = self.codec(tenant).await?;
        self.store
            .user_api_keys(tenant, user)
            .await?
            .into_iter()
            .map(|record| self.key_info(&codec, record))
            .collect()
    }

    /// Revokes one key; `Ok(true)` when it was revoked before. 404 for a key id the user does not have.
    pub async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        key_id: &str,
    ) -> Result<bool, UsersError> {
        let audit = self.user_draft(actions::API_KEY_REVOKE, tenant, user, context);
        match self
            .store
            .revoke_api_key(tenant, user, key_id, now_millis(), audit)
            .await?
        {
            None => Err(UsersError::ApiKeyNotFound),
            Some(revoked_now) => Ok(!revoked_now),
        }
    }

    /// Moves a key's expiry earlier (never later, never past a year, never on a revoked key).
    pub async fn shorten_api_key(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        key_id: &str,
        raw_expiry: &str,
    ) -> Result<ApiKeyInfo, UsersError> {
        let now = now_millis();
        let wanted = expiry(raw_expiry, now)?;
        let audit = self.user_draft(actions::API_KEY_EXPIRY, tenant, user, context);
        let shorten = |current: Option<i64>, revoked: Option<i64>| {
            if revoked.is_some() {
                return Err(invalid("the key is revoked"));
            }
            match current {
                Some(current) if wanted >= current => Err(invalid(
                    "`expires_at` may only move earlier than the key's current expiry",
                )),
                _ => Ok(wanted),
            }
        };
        let record = self
            .store
            .set_api_key_expiry(tenant, user, key_id, now, shorten, audit)
            .await?
            .ok_or(UsersError::ApiKeyNotFound)??;
        self.key_info(&self.codec(tenant).await?, record)
    }

    /// Resolves a presented key in this tenant: its metadata when valid, else why not. A key of another tenant
    /// is `unknown_key`. Refusals are decisions for the trail.
    pub async fn validate_api_key(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        key: &str,
    ) -> Result<Result<ApiKeyInfo, KeyRefusal>, UsersError> {
        let now = now_millis();
        let hash = self.api_keys.hash(tenant, key);
        let imported = self.api_keys.hash(tenant, &auth_digest_of(key));
        let found = self
            .store
            .find_api_key(tenant, [&hash, &imported], now, TOUCH_EVERY_MS)
            .await?;
        let answer = match found {
            None => Err(KeyRefusal::UnknownKey),
            Some(record) if record.revoked_at.is_some() => Err(KeyRefusal::Revoked),
            Some(record) if record.expires_at.is_some_and(|at| at <= now) => {
                Err(KeyRefusal::Expired)
            }
            Some(record) => Ok(self.key_info(&self.codec(tenant).await?, record)?),
        };
        let target = || match &answer {
            Ok(info) => format!("key={}", info.key_id),
            Err(refusal) => format!("key refused={}", refusal.as_str()),
        };
        self.audit.decision(
            tenant,
            actions::CHECK_API_KEY,
            target,
            answer.is_ok(),
            context,
        );
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_must_be_future_within_a_year_and_iso() {
        let now = chrono::Utc::now().timestamp_millis();
        let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
        assert!(expiry(&in_a_day.to_rfc3339(), now).is_ok());
        let naive = in_a_day.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
        assert!(expiry(&naive, now).is_ok(), "no offset reads as UTC");
        let past = chrono::Utc::now() - chrono::Duration::days(1);
        assert!(expiry(&past.to_rfc3339(), now).is_err());
        let far = chrono::Utc::now() + chrono::Duration::days(366);
        assert!(expiry(&far.to_rfc3339(), now).is_err());
        assert!(expiry("tomorrow", now).is_err());
    }

    #[test]
    fn only_rak_keys_of_43_base62_characters_are_key_shaped() {
        assert!(is_key_shaped(&base62_secret("rak_")));
        assert!(!is_key_shaped(&base62_secret("rrk_")));
        assert!(!is_key_shaped("rak_short"));
        assert!(!is_key_shaped(&format!("rak_{}", "é".repeat(22))));
    }
}

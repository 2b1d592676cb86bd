//! Client keys (the bearer credentials) and the tenant ids derived from them.

use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;
use uuid::Uuid;

/// A caller's client key: an RFC 4122 version-4 UUID, normalised to lower case. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientKeyError {
    #[error("client key must be a UUID in its 36-character hyphenated form")]
    Malformed,
    #[error("client key must be a version-4 (random) UUID")]
    NotVersion4,
}

impl ClientKey {
    pub fn parse(raw: &str) -> Result<Self, ClientKeyError> {
        // Only the canonical hyphenated form: one key, one spelling (up to case).
        if raw.len() != 36 {
            return Err(ClientKeyError::Malformed);
        }
        let uuid = Uuid::try_parse(raw).map_err(|_| ClientKeyError::Malformed)?;
        if uuid.get_version_num() != 4 || uuid.get_variant() != uuid::Variant::RFC4122 {
            return Err(ClientKeyError::NotVersion4);
        }
        Ok(Self(uuid.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey(********)")
    }
}

/// The tenant a client key stands for: hex HMAC-SHA256 of the key under the server's tenant secret. This is what
/// the database stores, so a copy of the database does not hand out working client keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps an id read back from storage.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant as the layers below the API see it: its id and how its sensitive fields are stored.
#[derive(Debug, Clone)]
pub struct TenantScope {
    pub id: TenantId,
    pub codec: crate::crypto::FieldCodec,
}

/// The server secret that keys tenant fingerprints.
#[derive(Clone)]
pub struct TenantSecret(SecretSlice<u8>);

impl TenantSecret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }

    pub fn tenant_of(&self, key: &ClientKey) -> TenantId {
        TenantId(hex::encode(self.mac(key.as_str().as_bytes())))
    }

    /// A value that identifies this secret without revealing it, so a database can refuse a different one.
    pub fn check_value(&self) -> String {
        hex::encode(self.mac(b"warden-tenant-secret-check-v1"))
    }

    /// A sub-key for one purpose (e.g. `refresh-token`): HMAC(secret, `warden-subkey-v1|` + purpose). Sub-keys
    /// are independent of each other and of tenant ids, so one purpose's hashes say nothing about another's.
    pub fn derive_key(&self, purpose: &str) -> SecretSlice<u8> {
        let mut message = b"warden-subkey-v1|".to_vec();
        message.extend_from_slice(purpose.as_bytes());
        SecretSlice::from(self.mac(&message).to_vec())
    }

    fn mac(&self, message: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for TenantSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantSecret(********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_v4_in_any_case_and_normalises_to_lower_case() {
        let key = ClientKey::parse("F66C1871-4E8B-4A4F-A181-086AB8347276").unwrap();
        assert_eq!(key.as_str(), "f66c1871-4e8b-4a4f-a181-086ab8347276");
    }

    #[test]
    fn refuses_other_versions_nil_and_garbage() {
        for (raw, err) in [
            (
                "00000000-0000-0000-0000-000000000000",
                ClientKeyError::NotVersion4,
            ),
            (
                "f66c1871-4e8b-1a4f-a181-086ab8347276",
                ClientKeyError::NotVersion4,
            ),
            // Version 4 but not the RFC 4122 variant.
            (
                "f66c1871-4e8b-4a4f-c181-086ab8347276",
                ClientKeyError::NotVersion4,
            ),
            (
                "f66c18714e8b4a4fa181086ab8347276",
                ClientKeyError::Malformed,
            ),
            ("not-a-uuid", ClientKeyError::Malformed),
            (
                "g66c1871-4e8b-4a4f-a181-086ab8347276",
                ClientKeyError::Malformed,
            ),
            ("", ClientKeyError::Malformed),
        ] {
            assert_eq!(ClientKey::parse(raw), Err(err), "{raw}");
        }
    }

    #[test]
    fn tenant_ids_depend_on_key_and_secret_and_hide_the_key() {
        let key = ClientKey::parse("f66c1871-4e8b-4a4f-a181-086ab8347276").unwrap();
        let other = ClientKey::parse("3b241101-e2bb-4255-8caf-4136c566a962").unwrap();
        let a = TenantSecret::new(vec![1; 32]);
        let b = TenantSecret::new(vec![2; 32]);
        assert_eq!(a.tenant_of(&key), a.tenant_of(&key));
        assert_ne!(a.tenant_of(&key), a.tenant_of(&other));
        assert_ne!(a.tenant_of(&key), b.tenant_of(&key));
        assert!(!a.tenant_of(&key).as_str().contains("f66c1871"));
        assert_eq!(format!("{key:?}"), "ClientKey(********)");
    }

    #[test]
    fn sub_keys_differ_by_purpose_and_secret() {
        let a = TenantSecret::new(vec![1; 32]);
        let b = TenantSecret::new(vec![2; 32]);
        let ka = a.derive_key("refresh-token");
        assert_eq!(
            ka.expose_secret(),
            a.derive_key("refresh-token").expose_secret()
        );
        assert_ne!(ka.expose_secret(), a.derive_key("other").expose_secret());
        assert_ne!(
            ka.expose_secret(),
            b.derive_key("refresh-token").expose_secret()
        );
        assert_eq!(ka.expose_secret().len(), 32);
    }
}

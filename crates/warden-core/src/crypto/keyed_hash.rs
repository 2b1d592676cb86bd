//! Keyed hashes of secrets (single-use tokens, activation codes, session ids) and fresh random secrets.
//!
//! A secret handed to a caller is 256 random bits, so a plain keyed hash is enough to store it: HMAC-SHA256 under a
//! server key, with the tenant id in the input so that one tenant's secret can never match another tenant's row.
//! Slow hashes (PBKDF2, Argon2) exist to protect low-entropy passwords and add only CPU cost here.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::domain::TenantId;

/// HMAC-SHA256 under one purpose-specific server key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct KeyedHasher {
    key: SecretSlice<u8>,
}

impl KeyedHasher {
    pub fn new(key: SecretSlice<u8>) -> Self {
        Self { key }
    }

    /// Hex HMAC of `tenant`, a separator and `secret`. The tenant id is fixed-length hex, so the encoding is
    /// unambiguous.
    pub fn hash(&self, tenant: &TenantId, secret: &str) -> String {
        self.hex_mac(&[tenant.as_str().as_bytes(), b"|", secret.as_bytes()])
    }

    /// Hex HMAC of `secret` alone, for a secret that must be found before its tenant is known (a recovery key).
    /// The purpose key keeps these hashes apart from every tenant-scoped one.
    pub fn hash_unscoped(&self, secret: &str) -> String {
        self.hex_mac(&[secret.as_bytes()])
    }

    fn hex_mac(&self, parts: &[&[u8]]) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHasher(********)")
    }
}

/// 256 random bits from the operating system, URL-safe base64 without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 256 random bits as exactly 43 base62 characters (`0-9A-Za-z`, most significant first, left-padded with `0`),
/// after `prefix`: the shape of `auth` 3.7.1's API keys (`rak_…`) and recovery keys (`rrk_…`).
pub fn base62_secret(prefix: &str) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut number = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut number);
    let mut digits = Vec::with_capacity(BASE62_DIGITS);
    // Long division of the 256-bit number by 62, one digit per pass.
    for _ in 0..BASE62_DIGITS {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 62) as u8;
            remainder = value % 62;
        }
        digits.push(ALPHABET[remainder as usize]);
    }
    digits.reverse();
    let mut secret = String::with_capacity(prefix.len() + BASE62_DIGITS);
    secret.push_str(prefix);
    secret.extend(digits.into_iter().map(char::from));
    secret
}

/// Whether `text` has the shape [`base62_secret`] gives it: `prefix` and then exactly 43 base62 characters.
pub fn is_base62_secret(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|digits| {
        digits.len() == BASE62_DIGITS && digits.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// 62^43 > 2^256: 43 digits hold any 256-bit number.
const BASE62_DIGITS: usize = 43;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_secrets_have_the_seed_shape_and_differ() {
        let a = base62_secret("rak_");
        let b = base62_secret("rak_");
        assert_eq!(a.len(), 47);
        assert!(a.starts_with("rak_"));
        assert!(a[4..].bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_are_43_url_safe_characters_and_never_repeat() {
        let a = random_secret();
        let b = random_secret();
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_depend_on_key_tenant_and_secret() {
        let h = KeyedHasher::new(SecretSlice::from(vec![7; 32]));
        let t1 = TenantId::from_stored("aa".repeat(32));
        let t2 = TenantId::from_stored("bb".repeat(32));
        assert_eq!(h.hash(&t1, "s"), h.hash(&t1, "s"));
        assert_ne!(h.hash(&t1, "s"), h.hash(&t2, "s"));
        assert_ne!(h.hash(&t1, "s"), h.hash(&t1, "t"));
        assert_ne!(
            h.hash(&t1, "s"),
            KeyedHasher::new(SecretSlice::from(vec![8; 32])).hash(&t1, "s")
        );
        assert_eq!(format!("{h:?}"), "KeyedHasher(********)");
    }
}

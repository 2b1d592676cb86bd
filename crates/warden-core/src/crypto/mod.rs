//! Cryptography: deterministic field encryption and the per-tenant codec built on it.

pub mod field_cipher;
mod keyed_hash;

use std::borrow::Cow;

pub use field_cipher::{CipherError, MasterKey, TenantCipher};
pub use keyed_hash::{base62_secret, is_base62_secret, random_secret, KeyedHasher};

/// How one tenant's sensitive fields are stored: as they are, or sealed with the tenant's deterministic cipher
/// (equal plaintexts give equal ciphertexts, so equality look-ups still work in SQL).
#[derive(Clone, Debug)]
pub enum FieldCodec {
    Plain,
    Sealed(TenantCipher),
}

impl FieldCodec {
    pub fn seal<'a>(&self, plaintext: &'a str) -> Cow<'a, str> {
        match self {
            Self::Plain => Cow::Borrowed(plaintext),
            Self::Sealed(cipher) => Cow::Owned(cipher.seal(plaintext)),
        }
    }

    pub fn open(&self, stored: String) -> Result<String, CipherError> {
        match self {
            Self::Plain => Ok(stored),
            Self::Sealed(cipher) => cipher.open(&stored),
        }
    }

    pub fn is_sealed(&self) -> bool {
        matches!(self, Self::Sealed(_))
    }
}

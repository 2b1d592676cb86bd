//! The keys that sign access tokens: one per tenant, derived from the server's key material, and the public
//! halves as RFC 7517 JWK Sets.
//!
//! Each tenant's key is derived deterministically (HKDF-SHA256 with the tenant id as `info`) from the server's
//! key material: with HS256 an HMAC key from the server secret; with EdDSA an Ed25519 seed from the configured
//! private key. So no per-tenant key is stored, every instance derives the same key, a tenant nobody has used
//! costs nothing, and a token of one tenant never verifies under another's key. The tenant id is the tenant's
//! public fingerprint (the `tid` claim), so a tenant's public key can be served to anyone who names it.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::signature::{Ed25519KeyPair, KeyPair};
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::server_secrets::{server_secret, SecretHome, ServerSecret};
use crate::config::{jwt::weak_secret_reason, JwtAlgorithm, JwtSettings};
use warden_store::{Store, StoreError};

/// HKDF salts: one per algorithm, so the two derivations never share output.
const HS256_SALT: &[u8] = b"warden-jwt-hs256-tenant-key-v1";
const ED25519_SALT: &[u8] = b"warden-jwt-ed25519-tenant-seed-v1";

/// The PKCS#8 v1 (RFC 8410) DER prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The server's key material, from which every tenant's key is derived.
enum Root {
    Hs256(SecretSlice<u8>),
    /// A PKCS#8 DER Ed25519 private key.
    Ed25519(SecretSlice<u8>),
}

/// Signs and verifies with exactly one algorithm, with a key per tenant.
pub struct SigningKeys {
    pub(super) algorithm: Algorithm,
    root: Root,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// One tenant's key: what signs, what verifies, and (EdDSA) its id and public JWK.
pub(super) struct TenantKey {
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    /// The key id put in token headers and the JWK Set (EdDSA only).
    pub(super) kid: Option<String>,
    jwk: Option<Value>,
}

impl SigningKeys {
    /// Settles the server's key material: the configured one, else (HS256) a generated secret kept outside the
    /// database (see [`super::server_secrets`]), else (EdDSA, debug mode only — the settings refuse it otherwise) an
    /// ephemeral key pair.
    pub async fn setup(
        store: &Store,
        home: &SecretHome,
        settings: &JwtSettings,
    ) -> Result<Self, StoreError> {
        match settings.algorithm {
            JwtAlgorithm::Hs256 => Ok(Self::hs256(
                &hs256_server_secret(store, home, settings).await?,
            )),
            JwtAlgorithm::EdDsa => {
                let der = match &settings.private_key_der {
                    Some(der) => der.expose_secret().to_vec(),
                    None => {
                        tracing::warn!(
                            "AUTH_JWT_PRIVATE_KEY is not set: signing with an ephemeral Ed25519 key (debug mode); \
                             tokens stop verifying when this process stops"
                        );
                        Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                            .map_err(|_| {
                                StoreError::Other(anyhow::anyhow!("cannot generate an Ed25519 key"))
                            })?
                            .as_ref()
                            .to_vec()
                    }
                };
                Self::ed25519(&der).map_err(StoreError::Other)
            }
        }
    }

    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            algorithm: Algorithm::HS256,
            root: Root::Hs256(SecretSlice::from(secret.to_vec())),
        }
    }

    /// From a PKCS#8 DER Ed25519 private key.
    pub fn ed25519(pkcs8: &[u8]) -> anyhow::Result<Self> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|_| anyhow::anyhow!("not an Ed25519 PKCS#8 key"))?;
        Ok(Self {
            algorithm: Algorithm::EdDSA,
            root: Root::Ed25519(SecretSlice::from(pkcs8.to_vec())),
        })
    }

    /// The key of the tenant whose id (fingerprint) is `tenant`.
    pub(super) fn for_tenant(&self, tenant: &str) -> anyhow::Result<TenantKey> {
        match &self.root {
            Root::Hs256(secret) => {
                let key = derive(HS256_SALT, secret.expose_secret(), tenant)?;
                Ok(TenantKey {
                    encoding: EncodingKey::from_secret(key.expose_secret()),
                    decoding: DecodingKey::from_secret(key.expose_secret()),
                    kid: None,
                    jwk: None,
                })
            }
            Root::Ed25519(der) => {
                let seed = derive(ED25519_SALT, der.expose_secret(), tenant)?;
                let pair = Ed25519KeyPair::from_seed_unchecked(seed.expose_secret())
                    .map_err(|_| anyhow::anyhow!("cannot derive a tenant's Ed25519 key"))?;
                let public = pair.public_key().as_ref();
                let mut pkcs8 = ED25519_PKCS8_PREFIX.to_vec();
                pkcs8.extend_from_slice(seed.expose_secret());
                let pkcs8 = SecretSlice::from(pkcs8);
                let x = URL_SAFE_NO_PAD.encode(public);
                // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, no white space.
                let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
                let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
                Ok(TenantKey {
                    encoding: EncodingKey::from_ed_der(pkcs8.expose_secret()),
                    decoding: DecodingKey::from_ed_der(public),
                    jwk: Some(json!({
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": x,
                        "kid": kid,
                        "alg": "EdDSA",
                        "use": "sig",
                    })),
                    kid: Some(kid),
                })
            }
        }
    }

    /// The RFC 7517 JWK Set of `tenant`'s public key: empty for HS256, whose key is secret, and empty without a
    /// tenant, because keys are per tenant and a set that held any would invite a verifier not to pin one.
    pub fn jwks(&self, tenant: Option<&str>) -> anyhow::Result<Value> {
        let jwk = match tenant {
            Some(tenant) => self.for_tenant(tenant)?.jwk,
            None => None,
        };
        Ok(json!({ "keys": jwk.iter().collect::<Vec<_>>() }))
    }
}

/// HKDF-SHA256 of `ikm` under `salt`, with the tenant id as `info`: 32 bytes.
fn derive(salt: &[u8], ikm: &[u8], tenant: &str) -> anyhow::Result<SecretSlice<u8>> {
    let mut okm = vec![0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(tenant.as_bytes(), &mut okm)
        .map_err(|_| anyhow::anyhow!("HKDF output length"))?;
    Ok(SecretSlice::from(okm))
}

/// The server's HS256 secret: the configured one, else a random one generated on first start and kept in the
/// database (so instances sharing it agree). Every tenant's HS256 key is derived from it.
async fn hs256_server_secret(
    store: &Store,
    home: &SecretHome,
    settings: &JwtSettings,
) -> Result<Vec<u8>, StoreError> {
    if let Some(secret) = &settings.secret {
        if weak_secret_reason(secret.expose_secret()).is_some() {
            // Only reachable in debug mode: the settings refuse a weak secret otherwise.
            tracing::warn!(
                "AUTH_JWT_SECRET_KEY is weak; accepted only because AUTH_DEBUG_MODE is on"
            );
        }
    }
    let secret = server_secret(
        store,
        home,
        ServerSecret::JwtHs256,
        settings.secret.as_ref(),
    )
    .await
    .map_err(|e| StoreError::Other(e.into()))?;
    Ok(secret.expose_secret().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_gets_its_own_key_and_every_instance_derives_the_same() {
        let der = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let keys = SigningKeys::ed25519(der.as_ref()).unwrap();
        let again = SigningKeys::ed25519(der.as_ref()).unwrap();
        let a = keys.jwks(Some("a")).unwrap();
        assert_eq!(a, again.jwks(Some("a")).unwrap());
        assert_ne!(
            a["keys"][0]["x"],
            keys.jwks(Some("b")).unwrap()["keys"][0]["x"]
        );
        assert_eq!(keys.jwks(None).unwrap(), json!({"keys": []}));
        let hs = SigningKeys::hs256(b"0123456789abcdef0123456789abcdef");
        assert_eq!(hs.jwks(Some("a")).unwrap(), json!({"keys": []}));
    }
}

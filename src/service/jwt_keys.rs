//! The key that signs access tokens, and its public half as a JWK Set.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::signature::{Ed25519KeyPair, KeyPair};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::server_secrets::{server_secret, SecretHome, ServerSecret};
use crate::config::{jwt::weak_secret_reason, JwtAlgorithm, JwtSettings};
use crate::store::{Store, StoreError};

/// Signs and verifies with exactly one algorithm.
#[derive(Clone)]
pub struct SigningKeys {
    pub(super) algorithm: Algorithm,
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    /// The key id put in token headers and the JWK Set (EdDSA only).
    pub(super) kid: Option<String>,
    /// The public JWK (EdDSA only).
    jwk: Option<Value>,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Settles the signing key: the configured one, else (HS256) a generated secret kept outside the database (see
    /// [`super::server_secrets`]), else (EdDSA, debug mode only — the settings refuse it otherwise) an ephemeral key
    /// pair.
    pub async fn setup(
        store: &Store,
        home: &SecretHome,
        settings: &JwtSettings,
    ) -> Result<Self, StoreError> {
        match settings.algorithm {
            JwtAlgorithm::Hs256 => {
                if let Some(secret) = &settings.secret {
                    if weak_secret_reason(secret.expose_secret()).is_some() {
                        // Only reachable in debug mode: the settings refuse a weak secret otherwise.
                        tracing::warn!("AUTH_JWT_SECRET_KEY is weak; accepted only because AUTH_DEBUG_MODE is on");
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
                Ok(Self::hs256(secret.expose_secret()))
            }
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
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            kid: None,
            jwk: None,
        }
    }

    /// From a PKCS#8 DER Ed25519 private key.
    pub fn ed25519(pkcs8: &[u8]) -> anyhow::Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|_| anyhow::anyhow!("not an Ed25519 PKCS#8 key"))?;
        let public = pair.public_key().as_ref();
        let x = URL_SAFE_NO_PAD.encode(public);
        // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, no white space.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(Self {
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(pkcs8),
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

    /// The RFC 7517 JWK Set of public keys: empty for HS256, whose key is secret.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.jwk.iter().collect::<Vec<_>>() })
    }
}

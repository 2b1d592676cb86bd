//! JSON Web Token settings.
//!
//! Variables:
//! - `AUTH_JWT_ALGORITHM`: `HS256` (default) or `EdDSA` (Ed25519; the public key is served at
//!   `/.well-known/jwks.json`).
//! - `AUTH_JWT_SECRET_KEY`: the HS256 secret. Outside debug mode a configured secret shorter than 32 bytes, or one
//!   that looks like a placeholder (contains `change`, `secret`, `your`, `example`, …), stops start-up. When unset,
//!   a random secret is generated on first start and kept in the database (a warning says so), so that
//!   `cargo run` works with no configuration and several instances on one database agree.
//! - `AUTH_JWT_PRIVATE_KEY` (a PKCS#8 PEM, `-----BEGIN PRIVATE KEY-----`, e.g. from
//!   `openssl genpkey -algorithm ed25519`) or `AUTH_JWT_PRIVATE_KEY_PATH` (a file holding one): the EdDSA signing
//!   key. Required for EdDSA outside debug mode; in debug mode an ephemeral key is generated (tokens then die with
//!   the process).
//! - `AUTH_JWT_ACCESS_TOKEN_EXPIRE_MINUTES` (1440): lifetime of access tokens.
//! - `AUTH_JWT_REFRESH_TOKEN_EXPIRE_DAYS` (7): lifetime of refresh tokens (sliding: each refresh starts a new one).
//! - `AUTH_JWT_REFRESH_FAMILY_MAX_DAYS` (30): absolute lifetime of a refresh family, counted from the issue that
//!   started it; no refresh extends it.
//! - `AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS` (10, at most 60; 0 turns it off): how long a rotated refresh token still
//!   answers with the same new pair (a client's retry), instead of counting as a reuse that revokes the family.
//! - `AUTH_JWT_ISSUER` (`http://<AUTH_SERVER_HOST>:<AUTH_SERVER_PORT>`): the `iss` claim of every access token and
//!   the issuer verification requires; set it to the server's public URL.
//!
//! Every tenant signs with its own key, derived from the server's key material and the tenant id (HS256: an
//! HMAC key from the secret; EdDSA: an Ed25519 seed from the private key), so no per-tenant key is stored.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use super::ConfigError;

/// The signing algorithms Warden issues and accepts (exactly one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    EdDsa,
}

#[derive(Clone)]
pub struct JwtSettings {
    pub algorithm: JwtAlgorithm,
    /// The configured HS256 secret; `None` means "use the one kept in the database".
    pub secret: Option<SecretString>,
    /// The configured Ed25519 key as PKCS#8 DER (already checked to parse).
    pub private_key_der: Option<secrecy::SecretSlice<u8>>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// The absolute lifetime of a refresh family.
    pub family_max_age: Duration,
    /// How long a rotated refresh token answers with the pair it was rotated into.
    pub reuse_grace: Duration,
    /// The `iss` claim.
    pub issuer: String,
}

impl fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("algorithm", &self.algorithm)
            .field("secret", &self.secret.as_ref().map(|_| "********"))
            .field(
                "private_key",
                &self.private_key_der.as_ref().map(|_| "********"),
            )
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("family_max_age", &self.family_max_age)
            .field("reuse_grace", &self.reuse_grace)
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// Words that mark a secret copied from documentation rather than generated.
const PLACEHOLDER_WORDS: [&str; 8] = [
    "change",
    "secret",
    "your",
    "example",
    "placeholder",
    "default",
    "password",
    "replace",
];

/// Why a configured HS256 secret is not good enough, if it is not.
pub fn weak_secret_reason(secret: &str) -> Option<&'static str> {
    let lower = secret.to_ascii_lowercase();
    if secret.len() < 32 {
        return Some("must be at least 32 bytes long");
    }
    if PLACEHOLDER_WORDS.iter().any(|word| lower.contains(word)) {
        return Some("looks like a placeholder; generate one, e.g. `openssl rand -hex 32`");
    }
    let mut distinct: Vec<u8> = secret.bytes().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 8 {
        return Some("is too repetitive to be random");
    }
    None
}

impl JwtSettings {
    pub(super) fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        debug: bool,
    ) -> Result<Self, ConfigError> {
        let algorithm = match get("AUTH_JWT_ALGORITHM").as_deref() {
            None => JwtAlgorithm::Hs256,
            Some(raw) if raw.eq_ignore_ascii_case("hs256") => JwtAlgorithm::Hs256,
            Some(raw)
                if raw.eq_ignore_ascii_case("eddsa") || raw.eq_ignore_ascii_case("ed25519") =>
            {
                JwtAlgorithm::EdDsa
            }
            Some(other) => {
                return Err(super::invalid(
                    "AUTH_JWT_ALGORITHM",
                    format!("expected `HS256` or `EdDSA`, got `{other}`"),
                ))
            }
        };

        let secret = get("AUTH_JWT_SECRET_KEY").map(SecretString::from);
        if let (Some(secret), false) = (&secret, debug) {
            if let Some(reason) = weak_secret_reason(secret.expose_secret()) {
                return Err(super::invalid(
                    "AUTH_JWT_SECRET_KEY",
                    format!("{reason} (refused outside AUTH_DEBUG_MODE)"),
                ));
            }
        }

        let pem = match (
            get("AUTH_JWT_PRIVATE_KEY"),
            get("AUTH_JWT_PRIVATE_KEY_PATH"),
        ) {
            (Some(_), Some(_)) => {
                return Err(super::invalid(
                    "AUTH_JWT_PRIVATE_KEY_PATH",
                    "set either AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_PATH, not both",
                ))
            }
            (Some(pem), None) => Some(("AUTH_JWT_PRIVATE_KEY", SecretString::from(pem))),
            (None, Some(path)) => {
                let pem = std::fs::read_to_string(&path).map_err(|e| {
                    super::invalid(
                        "AUTH_JWT_PRIVATE_KEY_PATH",
                        format!("cannot read `{path}`: {e}"),
                    )
                })?;
                Some(("AUTH_JWT_PRIVATE_KEY_PATH", SecretString::from(pem)))
            }
            (None, None) => None,
        };
        let private_key_der = match pem {
            Some((var, pem)) => Some(
                ed25519_pkcs8_from_pem(pem.expose_secret())
                    .map_err(|reason| super::invalid(var, reason))?,
            ),
            None => None,
        };
        if algorithm == JwtAlgorithm::EdDsa && private_key_der.is_none() && !debug {
            return Err(super::invalid(
                "AUTH_JWT_PRIVATE_KEY",
                "EdDSA needs a signing key (AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_PATH) outside AUTH_DEBUG_MODE",
            ));
        }

        let issuer = match get("AUTH_JWT_ISSUER") {
            Some(issuer) if issuer.trim().is_empty() || issuer.len() > 255 => {
                return Err(super::invalid(
                    "AUTH_JWT_ISSUER",
                    "expected 1 to 255 characters (the server's public URL)",
                ))
            }
            Some(issuer) => issuer,
            None => format!(
                "http://{}:{}",
                get("AUTH_SERVER_HOST").unwrap_or_else(|| "localhost".to_owned()),
                get("AUTH_SERVER_PORT").unwrap_or_else(|| "8000".to_owned())
            ),
        };

        Ok(Self {
            algorithm,
            secret,
            private_key_der,
            access_ttl: Duration::from_secs(
                60 * super::parse_number(
                    get,
                    "AUTH_JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
                    1440,
                    1,
                    525_600,
                )?,
            ),
            refresh_ttl: Duration::from_secs(
                86_400
                    * super::parse_number(get, "AUTH_JWT_REFRESH_TOKEN_EXPIRE_DAYS", 7, 1, 3650)?,
            ),
            family_max_age: Duration::from_secs(
                86_400 * super::parse_number(get, "AUTH_JWT_REFRESH_FAMILY_MAX_DAYS", 30, 1, 3650)?,
            ),
            reuse_grace: Duration::from_secs(super::parse_number(
                get,
                "AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS",
                10,
                0,
                60,
            )?),
            issuer,
        })
    }
}

/// Decodes a PKCS#8 PEM and checks that it holds an Ed25519 private key.
fn ed25519_pkcs8_from_pem(pem: &str) -> Result<secrecy::SecretSlice<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|line| *line != "-----BEGIN PRIVATE KEY-----")
        .skip(1)
        .take_while(|line| *line != "-----END PRIVATE KEY-----")
        .collect();
    if body.is_empty() {
        return Err("expected a PEM `-----BEGIN PRIVATE KEY-----` block (PKCS#8)".into());
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "the PEM block is not valid base64".to_owned())?;
    ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|_| "the PEM block is not an Ed25519 private key".to_owned())?;
    Ok(secrecy::SecretSlice::from(der))
}

#[cfg(test)]
mod tests {
    use super::super::tests::settings;
    use super::*;

    const STRONG: &str = "9f0c2b7e4a1d8c3f6e5b0a9d2c7f4e1b";

    #[test]
    fn a_weak_secret_is_refused_outside_debug_mode_naming_the_variable() {
        for weak in [
            "short",
            "change-me-please-change-me-please-0",
            "your_secure_secret_key_0123456789abcdef",
            "an-example-value-that-is-long-enough-1234",
            "abababababababababababababababababab",
        ] {
            let err = settings(&[("AUTH_JWT_SECRET_KEY", weak)])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("AUTH_JWT_SECRET_KEY"), "{err}");
            assert!(!err.contains(weak), "the secret must not be echoed: {err}");
            // Debug mode lets it through (with a warning at start-up).
            settings(&[("AUTH_JWT_SECRET_KEY", weak), ("AUTH_DEBUG_MODE", "true")]).unwrap();
        }
        let s = settings(&[("AUTH_JWT_SECRET_KEY", STRONG)]).unwrap();
        assert!(!format!("{s:?}").contains(STRONG));
    }

    #[test]
    fn a_missing_secret_is_allowed_because_one_is_generated_and_kept() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.jwt.algorithm, JwtAlgorithm::Hs256);
        assert!(s.jwt.secret.is_none());
        assert_eq!(s.jwt.access_ttl, Duration::from_secs(1440 * 60));
        assert_eq!(s.jwt.refresh_ttl, Duration::from_secs(7 * 86_400));
        assert_eq!(s.jwt.family_max_age, Duration::from_secs(30 * 86_400));
        assert_eq!(s.jwt.reuse_grace, Duration::from_secs(10));
        assert_eq!(s.jwt.issuer, "http://localhost:8000");
    }

    #[test]
    fn the_issuer_is_configurable_and_never_empty() {
        let s = settings(&[("AUTH_JWT_ISSUER", "https://auth.example.com")]).unwrap();
        assert_eq!(s.jwt.issuer, "https://auth.example.com");
        // (A blank value counts as unset, like every variable: the default applies.)
        let long = "x".repeat(256);
        let err = settings(&[("AUTH_JWT_ISSUER", &long)])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("AUTH_JWT_ISSUER"), "{err}");
        let err = settings(&[("AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS", "61")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("AUTH_JWT_REFRESH_REUSE_GRACE_SECONDS"),
            "{err}"
        );
    }

    #[test]
    fn eddsa_needs_a_valid_key_outside_debug_mode() {
        let err = settings(&[("AUTH_JWT_ALGORITHM", "EdDSA")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("AUTH_JWT_PRIVATE_KEY"), "{err}");
        settings(&[("AUTH_JWT_ALGORITHM", "EdDSA"), ("AUTH_DEBUG_MODE", "true")]).unwrap();
        let err = settings(&[(
            "AUTH_JWT_PRIVATE_KEY",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        )])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("AUTH_JWT_PRIVATE_KEY"), "{err}");
        // An RFC 8410 example key (section 10.3).
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let s = settings(&[
            ("AUTH_JWT_ALGORITHM", "EdDSA"),
            ("AUTH_JWT_PRIVATE_KEY", pem),
        ])
        .unwrap();
        assert!(s.jwt.private_key_der.is_some());
        assert!(!format!("{s:?}").contains("MC4CAQAw"));
        let err = settings(&[("AUTH_JWT_ALGORITHM", "RS256")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("AUTH_JWT_ALGORITHM"), "{err}");
    }
}

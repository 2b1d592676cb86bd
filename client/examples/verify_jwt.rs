//! Verifying a Warden access token offline (EdDSA), the way a third-party service should: fetch the tenant's
//! JWK Set once, then pin the key (by `kid`), the algorithm, the issuer, the audience and the tenant. A token
//! of another tenant, another issuer or another audience fails, even if it is otherwise well formed.
//!
//! Offline verification cannot see revocation: a revoked token keeps verifying here until its `exp`. Keep access
//! tokens short-lived, or ask Warden (`Client::verify_jwt`) where revocation must count at once.
//!
//! ```text
//! cargo run -p warden-client --example verify_jwt -- <warden url> <issuer> <tenant id> <audience> <token>
//! ```

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use warden_client::Claims;

/// What a verifier pins for one tenant: Warden's issuer, the tenant's id and audience, and its published keys.
#[derive(Debug, Clone)]
pub struct Verifier {
    issuer: String,
    tenant: String,
    audience: String,
    keys: JwkSet,
}

/// Why a token was refused.
#[derive(Debug)]
pub enum Refused {
    /// Not EdDSA, or no `kid`.
    Header(String),
    /// The `kid` is not this tenant's key.
    UnknownKey,
    /// Signature, expiry, issuer or audience.
    Invalid(jsonwebtoken::errors::Error),
    /// The `tid` claim names another tenant.
    OtherTenant,
}

impl Verifier {
    /// Fetches `GET {warden}/.well-known/jwks.json?tenant={tenant}` (no client key needed). `audience` is the
    /// tenant's `jwt_audience` setting: its id unless changed with `PUT /api/settings`.
    pub async fn fetch(
        warden: &str,
        issuer: &str,
        tenant: &str,
        audience: &str,
    ) -> Result<Self, reqwest::Error> {
        let keys = reqwest::get(format!("{warden}/.well-known/jwks.json?tenant={tenant}"))
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await?;
        Ok(Self {
            issuer: issuer.to_owned(),
            tenant: tenant.to_owned(),
            audience: audience.to_owned(),
            keys,
        })
    }

    /// The claims of `token` if every pinned value holds.
    pub fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(Refused::Invalid)?;
        // Pin the algorithm before trusting anything else in the header.
        if header.alg != Algorithm::EdDSA {
            return Err(Refused::Header(format!("algorithm {:?}", header.alg)));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refused::Header("no kid".to_owned()))?;
        let jwk = self.keys.find(&kid).ok_or(Refused::UnknownKey)?;
        let key = DecodingKey::from_jwk(jwk).map_err(Refused::Invalid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = 0;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(Refused::Invalid)?
            .claims;
        if claims.tid != self.tenant {
            return Err(Refused::OtherTenant);
        }
        Ok(claims)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [warden, issuer, tenant, audience, token] = args.as_slice() else {
        eprintln!("usage: verify_jwt <warden url> <issuer> <tenant id> <audience> <token>");
        std::process::exit(2);
    };
    let verifier = Verifier::fetch(warden, issuer, tenant, audience).await?;
    match verifier.verify(token) {
        Ok(claims) => println!("valid: {} with {:?}", claims.sub, claims.permissions),
        Err(refused) => {
            println!("refused: {refused:?}");
            std::process::exit(1);
        }
    }
    Ok(())
}

//! The Vault client: authentication (token or AppRole), token upkeep, and errors that never carry a secret.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::RwLock;
use vaultrs::client::{Client, VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use super::health::VaultHealth;
use crate::config::{VaultAuth, VaultSettings};

/// How long one Vault call may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a token that needs no renewal (no TTL, or not renewable) is looked up, to keep `/readyz` honest.
const PROBE_INTERVAL: Duration = Duration::from_secs(30);

/// A Vault call that failed. Messages name the path and Vault's own error text, never a token, a secret id or a
/// response body (which may hold credentials).
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault at {address} is unreachable: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("vault refused `{path}` (HTTP {code}){}", errors_suffix(.errors))]
    Refused {
        path: String,
        code: u16,
        errors: Vec<String>,
    },
    #[error("vault answered `{path}` with an unexpected body: {reason}")]
    Malformed { path: String, reason: String },
}

fn errors_suffix(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}

impl VaultError {
    /// True when Vault could not be reached at all (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }

    /// True for a 404: the secret or role does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Refused { code: 404, .. })
    }

    pub(crate) fn classify(address: &url::Url, path: &str, err: ClientError) -> Self {
        use rustify::errors::ClientError as Rest;
        match err {
            ClientError::APIError { code, errors } => Self::Refused {
                path: path.to_owned(),
                code,
                errors,
            },
            ClientError::RestClientError { source } => match source {
                Rest::ServerResponseError { code, .. } => Self::Refused {
                    path: path.to_owned(),
                    code,
                    errors: Vec::new(),
                },
                Rest::RequestError { source, .. } | Rest::ResponseError { source } => {
                    Self::Unreachable {
                        address: address.to_string(),
                        // The innermost cause ("Connection refused (os error 111)", "operation timed out"): it
                        // describes the transport, not the payload.
                        reason: source.root_cause().to_string(),
                    }
                }
                // Parse errors may quote the body, which may hold credentials: name the kind only.
                other => Self::Malformed {
                    path: path.to_owned(),
                    reason: other.to_string(),
                },
            },
            other => Self::Malformed {
                path: path.to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

/// An authenticated Vault client, cheap to clone. Debug shows the address only.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    client: RwLock<VaultClient>,
    settings: VaultSettings,
    health: VaultHealth,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("address", &self.inner.settings.address.as_str())
            .finish_non_exhaustive()
    }
}

/// What Vault says about the token in use.
#[derive(Debug, Clone, Copy)]
pub struct TokenLease {
    /// Zero for a token that never expires (a root token).
    pub ttl: Duration,
    pub renewable: bool,
}

impl Vault {
    /// Builds the client and authenticates: looks the token up, or logs in with AppRole.
    #[tracing::instrument(name = "vault_connect", skip_all, fields(address = %settings.address))]
    pub async fn connect(settings: &VaultSettings) -> Result<(Self, TokenLease), VaultError> {
        let token = match &settings.auth {
            VaultAuth::Token(token) => token.expose_secret().to_owned(),
            VaultAuth::AppRole { .. } => String::new(),
        };
        let mut builder = VaultClientSettingsBuilder::default();
        builder
            .address(settings.address.as_str())
            .token(token)
            .timeout(Some(REQUEST_TIMEOUT))
            // Explicit, so that no VAULT_* variable of the environment changes what Warden does.
            .verify(true)
            .ca_certs(Vec::new());
        if let Some(namespace) = &settings.namespace {
            builder.namespace(Some(namespace.clone()));
        }
        let client_settings = builder.build().map_err(|e| VaultError::Malformed {
            path: String::new(),
            reason: e.to_string(),
        })?;
        let client = VaultClient::new(client_settings).map_err(|e| VaultError::Malformed {
            path: String::new(),
            reason: e.to_string(),
        })?;
        let vault = Self {
            inner: Arc::new(Inner {
                client: RwLock::new(client),
                settings: settings.clone(),
                health: VaultHealth::default(),
            }),
        };
        let lease = match &settings.auth {
            VaultAuth::Token(_) => vault.lookup_self().await?,
            VaultAuth::AppRole { .. } => vault.login().await?,
        };
        vault.inner.health.reachable();
        Ok((vault, lease))
    }

    pub fn settings(&self) -> &VaultSettings {
        &self.inner.settings
    }

    pub fn health(&self) -> VaultHealth {
        self.inner.health.clone()
    }

    /// Records the outcome of one vaultrs call (reachability for `/readyz`) and turns its error into a
    /// [`VaultError`] naming `path`. Used through [`vault_call!`].
    pub(crate) fn record<T>(
        &self,
        path: &str,
        outcome: Result<T, ClientError>,
    ) -> Result<T, VaultError> {
        match outcome {
            Ok(value) => {
                self.inner.health.reachable();
                Ok(value)
            }
            Err(err) => {
                let err = VaultError::classify(&self.inner.settings.address, path, err);
                if err.is_unreachable() {
                    self.inner.health.unreachable(&err);
                } else {
                    self.inner.health.reachable();
                }
                Err(err)
            }
        }
    }

    pub(crate) async fn client(&self) -> tokio::sync::RwLockReadGuard<'_, VaultClient> {
        self.inner.client.read().await
    }

    async fn lookup_self(&self) -> Result<TokenLease, VaultError> {
        let info = vault_call!(self, "auth/token/lookup-self", |c| c.lookup())?;
        Ok(TokenLease {
            ttl: Duration::from_secs(info.ttl),
            renewable: info.renewable,
        })
    }

    async fn renew_self(&self) -> Result<TokenLease, VaultError> {
        let auth = vault_call!(self, "auth/token/renew-self", |c| c.renew(None))?;
        Ok(TokenLease {
            ttl: Duration::from_secs(auth.lease_duration),
            renewable: auth.renewable,
        })
    }

    /// AppRole login; the new token replaces the old one for every later call.
    async fn login(&self) -> Result<TokenLease, VaultError> {
        let VaultAuth::AppRole {
            mount,
            role_id,
            secret_id,
        } = &self.inner.settings.auth
        else {
            return self.lookup_self().await;
        };
        let path = format!("auth/{mount}/login");
        let auth = vault_call!(self, &path, |c| vaultrs::auth::approle::login(
            c,
            mount,
            role_id,
            secret_id.expose_secret(),
        ))?;
        self.inner
            .client
            .write()
            .await
            .set_token(&auth.client_token);
        tracing::info!(
            ttl_seconds = auth.lease_duration,
            renewable = auth.renewable,
            "logged in to vault with approle"
        );
        Ok(TokenLease {
            ttl: Duration::from_secs(auth.lease_duration),
            renewable: auth.renewable,
        })
    }

    /// Keeps the token alive for as long as the process runs: renews it at about two thirds of its TTL, logs in
    /// again with AppRole when it can no longer be renewed (or its renewal is capped), and retries with backoff
    /// while Vault is unreachable.
    pub(crate) async fn maintain_token(self, mut lease: TokenLease) {
        let approle = matches!(self.inner.settings.auth, VaultAuth::AppRole { .. });
        let mut failures = 0u32;
        loop {
            let wait = if failures > 0 {
                super::backoff(failures - 1)
            } else if lease.ttl.is_zero() || (!lease.renewable && !approle) {
                PROBE_INTERVAL
            } else {
                (lease.ttl * 2 / 3).clamp(Duration::from_millis(500), PROBE_INTERVAL.max(lease.ttl))
            };
            tokio::time::sleep(wait).await;
            let previous = lease.ttl;
            let outcome = if lease.ttl.is_zero() {
                self.lookup_self().await
            } else if lease.renewable {
                match self.renew_self().await {
                    // Renewal capped by the token's max TTL: log in afresh before it runs out.
                    Ok(renewed) if approle && renewed.ttl < previous / 2 => self.login().await,
                    Ok(renewed) => Ok(renewed),
                    Err(err) if approle && !err.is_unreachable() => self.login().await,
                    Err(err) => Err(err),
                }
            } else if approle {
                self.login().await
            } else {
                self.lookup_self().await
            };
            match outcome {
                Ok(renewed) => {
                    if failures > 0 {
                        tracing::info!("vault is reachable again");
                    }
                    failures = 0;
                    lease = renewed;
                    tracing::debug!(ttl_seconds = lease.ttl.as_secs(), "vault token checked");
                }
                Err(err) => {
                    failures += 1;
                    tracing::warn!(error = %err, attempt = failures, "vault token upkeep failed; retrying with backoff");
                    if !err.is_unreachable() {
                        self.inner.health.failed(&err);
                    }
                }
            }
        }
    }
}

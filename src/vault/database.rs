//! Dynamic PostgreSQL credentials from Vault's database secrets engine, renewed and rotated in the background.
//!
//! `GET <mount>/creds/<role>` gives a username, a password and a lease. The lease is renewed
//! (`PUT sys/leases/renew`) at about two thirds of its duration; when it cannot be renewed, or Vault caps the
//! renewal (the role's max TTL is near), new credentials are fetched and put under the running pool with
//! [`CredentialRotator::set_credentials`], well before the old ones expire. While Vault is unreachable the
//! credentials held keep being used and the call is retried with backoff.

use std::fmt;
use std::time::Duration;

use rustify::endpoint::Endpoint;
use rustify_derive::Endpoint;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use vaultrs::api::database::requests::GenerateCredentialsRequest;
use vaultrs::api::database::responses::GenerateCredentialsResponse;
use vaultrs::api::EndpointResult;
use vaultrs::client::Client;

use super::{backoff, Vault, VaultError};
use warden_store::CredentialRotator;

/// The shortest wait between two renewals, whatever the lease says.
const MIN_WAIT: Duration = Duration::from_millis(200);

/// Credentials and the lease they live under. Debug hides the password.
pub struct DbCredentials {
    pub username: String,
    pub password: SecretString,
    pub lease_id: String,
    pub lease_duration: Duration,
    pub renewable: bool,
}

impl fmt::Debug for DbCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbCredentials")
            .field("username", &self.username)
            .field("password", &"********")
            .field("lease_id", &self.lease_id)
            .field("lease_duration", &self.lease_duration)
            .field("renewable", &self.renewable)
            .finish()
    }
}

/// `PUT /v1/sys/leases/renew`: <https://developer.hashicorp.com/vault/api-docs/system/leases#renew-lease>.
#[derive(Debug, Endpoint)]
#[endpoint(
    path = "sys/leases/renew",
    method = "PUT",
    response = "RenewLeaseResponse"
)]
struct RenewLeaseRequest {
    lease_id: String,
    /// Seconds.
    increment: u64,
}

/// The renewal answer: the documented body is these three fields at the top level.
#[derive(Debug, Deserialize)]
struct RenewLeaseResponse {
    lease_duration: u64,
    renewable: bool,
}

impl Vault {
    /// Fresh credentials for the configured role.
    #[tracing::instrument(name = "vault_database_creds", skip_all)]
    pub async fn database_credentials(&self) -> Result<DbCredentials, VaultError> {
        let settings = self.settings();
        let role = settings.db_role.as_deref().unwrap_or_default();
        let path = format!("{}/creds/{role}", settings.db_mount);
        let endpoint = GenerateCredentialsRequest::builder()
            .mount(settings.db_mount.as_str())
            .name(role)
            .build()
            .map_err(|e| VaultError::Malformed {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        // vaultrs' own `database::role::creds` drops the lease; run its endpoint and keep the envelope.
        let result: EndpointResult<GenerateCredentialsResponse> =
            super::vault_call!(self, &path, |c| async {
                let response = endpoint
                    .with_middleware(c.middle())
                    .exec(c.http())
                    .await
                    .map_err(vaultrs_error)?;
                response
                    .wrap::<EndpointResult<_>>()
                    .map_err(vaultrs::error::ClientError::from)
            })?;
        let data = result.data.ok_or_else(|| VaultError::Malformed {
            path: path.clone(),
            reason: "no `data`".into(),
        })?;
        Ok(DbCredentials {
            username: data.username,
            password: SecretString::from(data.password),
            lease_id: result.lease_id,
            lease_duration: Duration::from_secs(u64::from(result.lease_duration)),
            renewable: result.renewable,
        })
    }

    async fn renew_lease(
        &self,
        lease_id: &str,
        increment: Duration,
    ) -> Result<(Duration, bool), VaultError> {
        let endpoint = RenewLeaseRequest {
            lease_id: lease_id.to_owned(),
            increment: increment.as_secs().max(1),
        };
        let renewed = super::vault_call!(self, "sys/leases/renew", |c| {
            vaultrs::api::exec_with_no_result(c, endpoint)
        })?;
        Ok((
            Duration::from_secs(renewed.lease_duration),
            renewed.renewable,
        ))
    }

    /// Renews the lease of `current` and rotates the credentials before they expire, for as long as the process
    /// runs. `current` are the credentials the pool was opened with.
    pub(crate) async fn maintain_database_credentials(
        self,
        rotator: CredentialRotator,
        current: DbCredentials,
    ) {
        let full = current.lease_duration;
        let mut lease_id = current.lease_id;
        let mut renewable = current.renewable;
        let mut left = current.lease_duration;
        drop(current.password);
        let mut failures = 0u32;
        loop {
            let wait = if failures > 0 {
                backoff(failures - 1)
            } else {
                (left * 2 / 3).max(MIN_WAIT)
            };
            tokio::time::sleep(wait).await;
            left = left.saturating_sub(wait);

            if renewable && failures == 0 {
                match self.renew_lease(&lease_id, full).await {
                    Ok((granted, still_renewable)) if granted >= full / 2 => {
                        left = granted;
                        renewable = still_renewable;
                        tracing::debug!(
                            lease_seconds = granted.as_secs(),
                            "database lease renewed"
                        );
                        continue;
                    }
                    // Capped by the role's max TTL: rotate now, while the old credentials still work.
                    Ok(_) => {}
                    Err(err) if err.is_unreachable() => {
                        failures += 1;
                        tracing::warn!(error = %err, "cannot renew the database lease; retrying with backoff");
                        continue;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "the database lease cannot be renewed; rotating credentials");
                    }
                }
            }

            match self.database_credentials().await {
                Ok(fresh) => {
                    rotator.set_credentials(&fresh.username, fresh.password.expose_secret());
                    tracing::info!(
                        lease_seconds = fresh.lease_duration.as_secs(),
                        renewable = fresh.renewable,
                        "database credentials rotated"
                    );
                    if failures > 0 {
                        tracing::info!("vault is reachable again");
                    }
                    failures = 0;
                    lease_id = fresh.lease_id;
                    renewable = fresh.renewable;
                    left = fresh.lease_duration;
                }
                Err(err) => {
                    failures += 1;
                    if !err.is_unreachable() {
                        self.health().failed(&err);
                    }
                    tracing::warn!(
                        error = %err,
                        attempt = failures,
                        expires_in_seconds = left.as_secs(),
                        "cannot fetch new database credentials; keeping the current ones and retrying"
                    );
                }
            }
        }
    }
}

/// The same mapping vaultrs applies to its own calls: a Vault error body becomes `APIError`.
fn vaultrs_error(err: rustify::errors::ClientError) -> vaultrs::error::ClientError {
    if let rustify::errors::ClientError::ServerResponseError {
        code,
        content: Some(content),
    } = &err
    {
        if let Ok(body) = serde_json::from_str::<vaultrs::api::EndpointError>(content) {
            return vaultrs::error::ClientError::APIError {
                code: *code,
                errors: body.errors,
            };
        }
    }
    vaultrs::error::ClientError::from(err)
}

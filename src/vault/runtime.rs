//! Vault's part of start-up and its background tasks.

use secrecy::ExposeSecret;
use tokio::task::JoinHandle;

use super::{Vault, VaultHealth, VaultSecrets, VaultUserConfig};
use crate::config::{DatabaseUrl, Settings, UserConfigSource};
use warden_store::Store;

/// Vault for the life of the server: the client, the secrets read at start-up and the background tasks (token
/// and lease upkeep), which stop when this is dropped.
#[derive(Debug)]
pub struct VaultRuntime {
    vault: Vault,
    secrets: VaultSecrets,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for VaultRuntime {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl VaultRuntime {
    /// When Vault is configured: authenticates, reads Warden's secrets and puts them over `settings`, and starts
    /// the token upkeep. `Ok(None)` when it is not. Any failure is an error: Warden must not start half-configured.
    pub async fn start(settings: &mut Settings) -> anyhow::Result<Option<Self>> {
        let Some(vault_settings) = settings.vault.clone() else {
            return Ok(None);
        };
        let (vault, token) = Vault::connect(&vault_settings).await?;
        let secrets = VaultSecrets::read(&vault).await?;
        let path = format!(
            "{}/data/{}",
            vault_settings.mount, vault_settings.secrets_path
        );
        secrets.overlay(settings, &path)?;
        if vault_settings.db_role.is_some()
            && !matches!(settings.database.url, DatabaseUrl::Postgres(_))
        {
            anyhow::bail!(
                "AUTH_VAULT_DB_ROLE: dynamic database credentials need a PostgreSQL database URL"
            );
        }
        tracing::info!(
            address = %vault_settings.address,
            database_credentials = if vault_settings.db_role.is_some() { "vault" } else { "database url" },
            user_config = ?vault_settings.user_config_source,
            "vault configured"
        );
        let tasks = vec![tokio::spawn(vault.clone().maintain_token(token))];
        Ok(Some(Self {
            vault,
            secrets,
            tasks,
        }))
    }

    /// Opens the store: with dynamic credentials when a database role is configured (and starts their renewal
    /// and rotation), otherwise as usual.
    pub async fn connect_store(&mut self, settings: &Settings) -> anyhow::Result<Store> {
        if self.vault.settings().db_role.is_none() {
            return Ok(Store::connect(&settings.database).await?);
        }
        let credentials = self.vault.database_credentials().await?;
        let (store, rotator) = Store::connect_rotating(
            &settings.database,
            &credentials.username,
            credentials.password.expose_secret(),
        )
        .await?;
        tracing::info!(
            lease_seconds = credentials.lease_duration.as_secs(),
            renewable = credentials.renewable,
            "connected with database credentials from vault"
        );
        self.tasks.push(tokio::spawn(
            self.vault
                .clone()
                .maintain_database_credentials(rotator, credentials),
        ));
        Ok(store)
    }

    pub fn health(&self) -> VaultHealth {
        self.vault.health()
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The secrets read at start-up (for `jwt_secret` and `encryption_key`, which the settings do not hold yet).
    pub fn secrets(&self) -> &VaultSecrets {
        &self.secrets
    }

    /// The user-configuration reader, when `AUTH_USER_CONFIG_SOURCE=vault`.
    pub fn user_config(&self) -> Option<VaultUserConfig> {
        (self.vault.settings().user_config_source == UserConfigSource::Vault)
            .then(|| VaultUserConfig::new(self.vault.clone()))
    }
}

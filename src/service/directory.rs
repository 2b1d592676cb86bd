//! Where the user-access features read a user's status, roles and request quotas: the database (`users` rows and
//! memberships, the default) or Vault (`AUTH_USER_CONFIG_SOURCE=vault`: `configuration/users/{tenant id}/{user_id}`,
//! the users package's layout with a folder per tenant). Request history, limits and tokens stay in the database
//! either way.

use crate::vault::{UserConfig, UserConfigError, UserStatus, VaultUserConfig};
use warden_core::domain::{Name, TenantId};

use super::users::{UsersError, MAX_QUOTA, MAX_RANDOM_SHIFT_MINUTES};

/// The source of user configuration; cheap to clone.
#[derive(Clone, Debug, Default)]
pub enum UserDirectory {
    /// `users` rows and memberships.
    #[default]
    Database,
    /// Vault, through its short-TTL cache.
    Vault(VaultUserConfig),
}

/// A user as Vault describes them, validated.
#[derive(Debug, Clone)]
pub struct DirectoryUser {
    pub allowed: bool,
    pub roles: Vec<String>,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
}

impl DirectoryUser {
    fn from_config(config: UserConfig) -> Self {
        let quotas = config.requests;
        Self {
            allowed: config.status == UserStatus::Allowed,
            roles: config.roles,
            requests_per_hour: quotas.map(|q| i64::from(q.requests_per_hour).min(MAX_QUOTA)),
            requests_per_day: quotas.map(|q| i64::from(q.requests_per_day).min(MAX_QUOTA)),
            random_shift_minutes: quotas.map_or(0, |q| {
                i64::from(q.random_shift_minutes).min(MAX_RANDOM_SHIFT_MINUTES)
            }),
        }
    }

    /// A user whose configuration is unusable: denied, with no roles.
    fn denied() -> Self {
        Self {
            allowed: false,
            roles: Vec::new(),
            requests_per_hour: None,
            requests_per_day: None,
            random_shift_minutes: 0,
        }
    }

    pub fn status(&self) -> UserStatus {
        if self.allowed {
            UserStatus::Allowed
        } else {
            UserStatus::Denied
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

impl UserDirectory {
    pub fn is_vault(&self) -> bool {
        matches!(self, Self::Vault(_))
    }

    /// The tenant's user as Vault has them; `Ok(None)` for an unknown user, and always for [`UserDirectory::Database`]
    /// (callers read the database then). A configuration Vault holds in the wrong shape (the seed's
    /// `WrongUserConfiguration`) is logged as a warning and the user is **denied**: an authorization service fails
    /// closed. Vault not answering is [`UsersError::UserConfigUnavailable`] (503).
    pub async fn lookup(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Option<DirectoryUser>, UsersError> {
        let Self::Vault(reader) = self else {
            return Ok(None);
        };
        match reader.get(tenant, user.as_str()).await {
            Ok(config) => Ok(config.map(DirectoryUser::from_config)),
            // A name Vault cannot hold a secret under has no configuration there.
            Err(UserConfigError::InvalidUserId(_)) => Ok(None),
            Err(err @ UserConfigError::Wrong { .. }) => {
                tracing::warn!(error = %err, "user configuration in vault is unusable; the user is denied");
                Ok(Some(DirectoryUser::denied()))
            }
            Err(UserConfigError::Vault(err)) => {
                tracing::warn!(error = %err, "user configuration: vault unavailable");
                Err(UsersError::UserConfigUnavailable)
            }
        }
    }
}

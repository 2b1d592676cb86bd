//! `POST /api/keys/rotate`, `POST /api/keys/get_rotate_key` and `POST /api/keys/recover`: moving a tenant to a new
//! client key, with `auth` 3.7.1's field names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What answers to the new key: the whole namespace, counted (nothing is copied, so nothing can be left behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Migrated {
    pub roles: u64,
    /// Grants (`auth` 3.7.1 calls them permissions).
    pub permissions: u64,
    pub memberships: u64,
    pub users: u64,
    pub api_keys: u64,
    /// 1 when the tenant has stored settings.
    pub settings: u64,
    pub sessions: u64,
    /// Single-use tokens.
    pub tokens: u64,
    pub audit_entries: u64,
}

/// The answer of `POST /api/keys/rotate`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rotated {
    /// The tenant's new client key, shown only now; the key that asked no longer works.
    #[schema(pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    pub new_key: String,
    pub migrated: Migrated,
}

/// The answer of `POST /api/keys/get_rotate_key`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecoveryKey {
    /// `rrk_` + 43 base62 characters, shown only now: keep it apart from the client key.
    #[schema(pattern = "^rrk_[0-9A-Za-z]{43}$")]
    pub rotate_key: String,
}

/// The body of `POST /api/keys/recover`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    /// The tenant's outstanding recovery key.
    pub rotate_key: String,
    /// The new client key (a version-4 UUID, hyphenated, that names no tenant with data); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
    )]
    pub new_client_key: Option<String>,
}

/// The answer of `POST /api/keys/recover`: both secrets are shown only now, and the presented recovery key is spent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recovered {
    #[schema(pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    pub client_key: String,
    #[schema(pattern = "^rrk_[0-9A-Za-z]{43}$")]
    pub rotate_key: String,
    pub migrated: Migrated,
}

/// `Debug` of the types above: every key is a credential, so none is shown.
macro_rules! redacted_debug {
    ($type:ident { $($secret:ident),* } $(, $shown:ident)*) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($secret), &"********"))*
                    $(.field(stringify!($shown), &self.$shown))*
                    .finish()
            }
        }
    };
}
redacted_debug!(Rotated { new_key }, migrated);
redacted_debug!(RecoveryKey { rotate_key });
redacted_debug!(RecoverRequest {
    rotate_key,
    new_client_key
});
redacted_debug!(
    Recovered {
        client_key,
        rotate_key
    },
    migrated
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_reaches_debug() {
        let key = "6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f";
        let secret = format!("rrk_{}", "Z".repeat(43));
        let printed = format!(
            "{:?} {:?} {:?}",
            RecoveryKey {
                rotate_key: secret.clone()
            },
            RecoverRequest {
                rotate_key: secret.clone(),
                new_client_key: Some(key.into())
            },
            Rotated {
                new_key: key.into(),
                migrated: Migrated {
                    roles: 1,
                    permissions: 0,
                    memberships: 0,
                    users: 0,
                    api_keys: 0,
                    settings: 0,
                    sessions: 0,
                    tokens: 0,
                    audit_entries: 0,
                },
            },
        );
        assert!(
            !printed.contains(key) && !printed.contains(&secret),
            "{printed}"
        );
        assert!(printed.contains("roles: 1"), "{printed}");
    }
}

//! User configuration from Vault (`configuration/users/{user_id}`), as the seed keeps it, with its cache.

use std::time::Duration;

use serde_json::json;
use warden::config::{Settings, UserConfigSource};
use warden::vault::{RequestQuotas, UserConfigError, UserStatus, Vault, VaultUserConfig};

use crate::standin::{StandIn, TokenPolicy};

async fn reader(vault: &StandIn, ttl_seconds: &str) -> VaultUserConfig {
    let address = vault.address.clone();
    let ttl = ttl_seconds.to_owned();
    let settings = Settings::from_lookup(move |name| match name {
        "AUTH_VAULT_ADDR" => Some(address.clone()),
        "AUTH_VAULT_TOKEN" => Some("hvs.users".into()),
        "AUTH_USER_CONFIG_SOURCE" => Some("vault".into()),
        "AUTH_VAULT_CACHE_TTL_SECONDS" => Some(ttl.clone()),
        _ => None,
    })
    .unwrap()
    .vault
    .unwrap();
    assert_eq!(settings.user_config_source, UserConfigSource::Vault);
    let (client, _) = Vault::connect(&settings).await.unwrap();
    VaultUserConfig::new(client)
}

async fn standin() -> StandIn {
    let vault = StandIn::start(None).await;
    vault.add_token(
        "hvs.users",
        TokenPolicy {
            ttl: Duration::ZERO,
            renewable: false,
        },
    );
    vault.put_secret(
        "secret",
        "configuration/users/alice",
        json!({
            "status": "allowed",
            "roles": ["admin_role", "additional_role"],
            "requests": { "requests_per_day": 10, "requests_per_hour": 1, "random_shift_minutes": 15 }
        }),
    );
    vault.put_secret(
        "secret",
        "configuration/users/bob",
        json!({ "status": "denied", "roles": [] }),
    );
    vault.put_secret(
        "secret",
        "configuration/users/carol",
        json!({ "status": "Allowed", "roles": ["x"] }),
    );
    vault
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_configuration_is_read_as_the_seed_writes_it() {
    let vault = standin().await;
    let users = reader(&vault, "30").await;

    let alice = users.get("alice").await.unwrap().unwrap();
    assert_eq!(alice.status, UserStatus::Allowed);
    assert_eq!(alice.roles, ["admin_role", "additional_role"]);
    assert_eq!(
        alice.requests,
        Some(RequestQuotas {
            requests_per_hour: 1,
            requests_per_day: 10,
            random_shift_minutes: 15
        })
    );
    let bob = users.get("bob").await.unwrap().unwrap();
    assert_eq!(bob.status, UserStatus::Denied);
    assert_eq!(bob.requests, None);
    assert_eq!(users.get("nobody").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_must_match_exactly_and_user_ids_cannot_escape_the_path() {
    let vault = standin().await;
    let users = reader(&vault, "30").await;
    let err = users.get("carol").await.unwrap_err();
    assert!(matches!(err, UserConfigError::Wrong { .. }), "{err}");
    assert!(err.to_string().contains("`Allowed`"), "{err}");
    for bad in ["../warden", "a/b", "", ".."] {
        assert!(matches!(
            users.get(bad).await.unwrap_err(),
            UserConfigError::InvalidUserId(_)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached_for_the_ttl() {
    let vault = standin().await;
    let users = reader(&vault, "1").await;
    let path = "v1/secret/data/configuration/users/";
    users.get("alice").await.unwrap();
    users.get("alice").await.unwrap();
    users.get("nobody").await.unwrap();
    users.get("nobody").await.unwrap();
    assert_eq!(
        vault.count("GET", path),
        2,
        "one read per user while cached"
    );

    vault.put_secret(
        "secret",
        "configuration/users/alice",
        json!({ "status": "denied", "roles": [] }),
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        users.get("alice").await.unwrap().unwrap().status,
        UserStatus::Denied
    );
    assert_eq!(vault.count("GET", path), 3);
}

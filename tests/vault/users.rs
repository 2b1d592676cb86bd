//! User configuration from Vault (`configuration/users/{tenant id}/{user_id}`), as the seed keeps it with a folder
//! per tenant, and its cache.

use std::time::Duration;

use serde_json::json;
use warden::config::{Settings, UserConfigSource};
use warden::vault::{RequestQuotas, UserConfigError, UserStatus, Vault, VaultUserConfig};
use warden_core::domain::TenantId;

use crate::standin::{StandIn, TokenPolicy};

/// The tenant whose users [`standin`] holds, and another one.
fn tenant() -> TenantId {
    TenantId::from_stored("ab".repeat(32))
}

fn other_tenant() -> TenantId {
    TenantId::from_stored("cd".repeat(32))
}

async fn reader(vault: &StandIn, ttl_seconds: &str) -> VaultUserConfig {
    reader_with(vault, ttl_seconds, None).await
}

async fn reader_with(
    vault: &StandIn,
    ttl_seconds: &str,
    legacy_tenant: Option<String>,
) -> VaultUserConfig {
    let address = vault.address.clone();
    let ttl = ttl_seconds.to_owned();
    let settings = Settings::from_lookup(move |name| match name {
        "AUTH_VAULT_USER_CONFIG_LEGACY_TENANT" => legacy_tenant.clone(),
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
        &format!("configuration/users/{}/alice", tenant()),
        json!({
            "status": "allowed",
            "roles": ["admin_role", "additional_role"],
            "requests": { "requests_per_day": 10, "requests_per_hour": 1, "random_shift_minutes": 15 }
        }),
    );
    vault.put_secret(
        "secret",
        &format!("configuration/users/{}/bob", tenant()),
        json!({ "status": "denied", "roles": [] }),
    );
    // users-package's real data: `roles` and `requests` as JSON-encoded strings.
    vault.put_secret(
        "secret",
        &format!("configuration/users/{}/dave", tenant()),
        json!({
            "status": "allowed",
            "roles": "[\"admin_role\"]",
            "requests": "{\"requests_per_day\": 7, \"requests_per_hour\": 2, \"random_shift_time\": 3}"
        }),
    );
    vault.put_secret(
        "secret",
        &format!("configuration/users/{}/erin", tenant()),
        json!({ "status": "allowed", "roles": "not json" }),
    );
    vault.put_secret(
        "secret",
        &format!("configuration/users/{}/carol", tenant()),
        json!({ "status": "Allowed", "roles": ["x"] }),
    );
    vault
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_configuration_is_read_as_the_seed_writes_it() {
    let vault = standin().await;
    let users = reader(&vault, "30").await;

    let alice = users.get(&tenant(), "alice").await.unwrap().unwrap();
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
    let bob = users.get(&tenant(), "bob").await.unwrap().unwrap();
    assert_eq!(bob.status, UserStatus::Denied);
    assert_eq!(bob.requests, None);
    assert_eq!(users.get(&tenant(), "nobody").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_encoded_roles_and_requests_are_read_like_native_ones() {
    let vault = standin().await;
    let users = reader(&vault, "30").await;
    let dave = users.get(&tenant(), "dave").await.unwrap().unwrap();
    assert_eq!(dave.roles, ["admin_role"]);
    assert_eq!(
        dave.requests,
        Some(RequestQuotas {
            requests_per_hour: 2,
            requests_per_day: 7,
            random_shift_minutes: 3
        })
    );
    // A string that is not JSON of the right shape is a wrong configuration, not an empty one.
    let err = users.get(&tenant(), "erin").await.unwrap_err();
    assert!(matches!(err, UserConfigError::Wrong { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_must_match_exactly_and_user_ids_cannot_escape_the_path() {
    let vault = standin().await;
    let users = reader(&vault, "30").await;
    let err = users.get(&tenant(), "carol").await.unwrap_err();
    assert!(matches!(err, UserConfigError::Wrong { .. }), "{err}");
    assert!(err.to_string().contains("`Allowed`"), "{err}");
    for bad in ["../warden", "a/b", "", ".."] {
        assert!(matches!(
            users.get(&tenant(), bad).await.unwrap_err(),
            UserConfigError::InvalidUserId(_)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached_for_the_ttl() {
    let vault = standin().await;
    let users = reader(&vault, "1").await;
    let path = "v1/secret/data/configuration/users/";
    users.get(&tenant(), "alice").await.unwrap();
    users.get(&tenant(), "alice").await.unwrap();
    users.get(&tenant(), "nobody").await.unwrap();
    users.get(&tenant(), "nobody").await.unwrap();
    assert_eq!(
        vault.count("GET", path),
        2,
        "one read per user while cached"
    );

    vault.put_secret(
        "secret",
        &format!("configuration/users/{}/alice", tenant()),
        json!({ "status": "denied", "roles": [] }),
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        users.get(&tenant(), "alice").await.unwrap().unwrap().status,
        UserStatus::Denied
    );
    assert_eq!(vault.count("GET", path), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenant_reads_only_its_own_folder_and_cache_entries() {
    let vault = standin().await;
    let users = reader(&vault, "30").await;
    // Cached for the first tenant, and still unknown to the second.
    assert!(users.get(&tenant(), "alice").await.unwrap().is_some());
    assert_eq!(users.get(&other_tenant(), "alice").await.unwrap(), None);
    assert_eq!(
        users.path(&other_tenant(), "alice"),
        format!("configuration/users/{}/alice", other_tenant())
    );
    // The seed's unscoped secret is nobody's by default.
    vault.put_secret(
        "secret",
        "configuration/users/lee",
        json!({ "status": "allowed", "roles": [] }),
    );
    assert_eq!(users.get(&tenant(), "lee").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_unscoped_layout_belongs_to_the_one_tenant_named() {
    let vault = standin().await;
    vault.put_secret(
        "secret",
        "configuration/users/lee",
        json!({ "status": "allowed", "roles": ["r"] }),
    );
    let users = reader_with(&vault, "30", Some(other_tenant().to_string())).await;
    let lee = users.get(&other_tenant(), "lee").await.unwrap().unwrap();
    assert_eq!(lee.roles, ["r"]);
    assert_eq!(users.get(&tenant(), "lee").await.unwrap(), None);
    // The named tenant reads only the unscoped layout; the others keep their folders.
    assert!(users.get(&tenant(), "alice").await.unwrap().is_some());
    assert_eq!(users.get(&other_tenant(), "alice").await.unwrap(), None);
}

//! Warden as a library: answer permission checks in-process, from a Warden database, without HTTP.
//!
//! ```sh
//! # Against an existing database, as the tenant of one client key (settings from the `AUTH_*` environment, as
//! # the server reads them: the database, the tenant secret, field encryption):
//! echo "$CLIENT_KEY" | cargo run --example embedded_check -- alice@example.com manage_users
//! # Without a key on standard input it seeds a temporary SQLite database first, the way a server would have:
//! cargo run --example embedded_check < /dev/null
//! ```
//!
//! The path is the one the server takes for a check, minus HTTP: `warden-store` reads the tenant's roles, grants
//! and memberships as one consistent snapshot, `warden-core` builds the in-memory model from it and answers with a
//! few hash look-ups. The model is a plain value: keep it, and reload it when the tenant's revision moves
//! (`Store::change_feed` on PostgreSQL, or a periodic `Store::revisions_of`).

use std::io::Read;

use anyhow::Context;
use warden::config::Settings;
use warden::service::{Encryption, SecretHome, Tenants};
use warden_core::domain::{Change, ClientKey, Name, NameKind, TenantScope};
use warden_core::model::TenantModel;
use warden_store::{PendingChange, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let user = args.next().unwrap_or_else(|| "alice@example.com".into());
    let permission = args.next().unwrap_or_else(|| "manage_users".into());
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key)?;
    let key = key.trim().to_owned();

    // With no key given, a fresh database in a temporary folder stands in for a server's.
    let scratch = tempfile::tempdir()?;
    let settings = if key.is_empty() {
        let url = format!(
            "sqlite://{}",
            scratch.path().join("warden.sqlite3").display()
        );
        Settings::from_lookup(|name| (name == "AUTH_DATABASE_URL").then(|| url.clone()))?
    } else {
        Settings::from_env()?
    };

    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let tenants = Tenants::setup(
        &store,
        &SecretHome::for_settings(&settings),
        settings.tenant_secret.as_ref(),
    )
    .await?
    .with_encryption(Encryption::setup(&store, &settings.encryption).await?);

    let key = if key.is_empty() {
        let key = ClientKey::parse(&uuid::Uuid::new_v4().to_string())?;
        let scope = scope_of(&tenants, &key).await?;
        seed(&store, &scope, &user, &permission).await?;
        key
    } else {
        ClientKey::parse(&key).context("standard input holds no client key")?
    };

    let scope = scope_of(&tenants, &key).await?;
    let snapshot = store.load_model(&scope).await?;
    let model = TenantModel::from_snapshot(snapshot);
    let allowed = model.user_has_permission(&user, &permission);
    println!(
        "revision {}: {user} {} {permission}",
        model.revision(),
        if allowed { "may" } else { "may not" }
    );
    println!(
        "roles of {user}: {:?}",
        model
            .user_roles(&user)
            .into_iter()
            .map(|role| role.name)
            .collect::<Vec<_>>()
    );
    store.close().await;
    Ok(())
}

/// The tenant a client key selects, with how its fields are stored.
async fn scope_of(tenants: &Tenants, key: &ClientKey) -> anyhow::Result<TenantScope> {
    tenants
        .authenticate(key)
        .await?
        .context("that client key is not accepted by this database (registered mode)")
}

/// What a server would have written after `POST /api/role/admin`, `POST /api/permission/admin/<permission>` and
/// `POST /api/membership/<user>/admin`.
async fn seed(
    store: &Store,
    scope: &TenantScope,
    user: &str,
    permission: &str,
) -> anyhow::Result<()> {
    let role = Name::parse(NameKind::Role, "admin")?;
    let changes = [
        Change::CreateRole {
            role: role.clone(),
            description: None,
        },
        Change::Grant {
            role: role.clone(),
            permission: Name::parse(NameKind::Permission, permission)?,
        },
        Change::AddMember {
            user: Name::parse(NameKind::User, user)?,
            role,
            expires_at: None,
            scope: None,
        },
    ];
    let batch: Vec<PendingChange> = changes
        .into_iter()
        .map(|change| PendingChange {
            change,
            audit: None,
        })
        .collect();
    store.apply_changes(scope, &batch).await?;
    Ok(())
}

//! The `warden` command line: serve, migrate, check the configuration.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use warden::config::Settings;
use warden::startup::Application;
use warden_store::Store;

// Every request allocates a little (headers, the answer's body); mimalloc's per-thread free lists do that with far
// less contention than the system allocator on a busy check path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "Warden: a REST authorization service (RBAC, per-tenant client keys)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default)
    Serve,
    /// Create or upgrade the database schema, then exit
    Migrate,
    /// Validate the configuration and print it with secrets masked
    CheckConfig,
    /// Audit trail tools
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Encrypt a plaintext database in place (one transaction; run with Warden stopped)
    Encrypt,
    /// Re-encrypt every tenant under AUTH_NEW_ENCRYPTION_KEY (one transaction; run with Warden stopped)
    RotateEncryptionKey,
    /// Import an `auth` 3.x database (roles, grants, memberships, API keys, settings); its client keys keep working.
    /// Its encryption key, if it had one, is read from AUTH_IMPORT_ENCRYPTION_KEY (else AUTH_ENCRYPTION_KEY)
    ImportAuth {
        /// The auth database: a path to its SQLite file, or its AUTH_DATABASE_URL (sqlite:/// or postgresql://)
        database_url: String,
        /// PostgreSQL schema of the auth tables (default: auth_rbac when it has them, else public)
        #[arg(long)]
        schema: Option<String>,
        /// Count what would be imported and what would be skipped; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Issue or revoke client keys for AUTH_TENANT_MODE=registered
    Tenant {
        #[command(subcommand)]
        action: TenantCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every tenant's audit hash chain; exits non-zero if any entry was edited or removed
    Verify,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Make a new client key, register it and print it (once: only its fingerprint is stored)
    Create,
    /// Revoke a client key read from standard input (one line): it is refused from then on, on every instance
    Revoke {
        /// Refused: a key on the command line is visible to every local user (`ps`) and kept in shell history
        #[arg(hide = true)]
        key: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("warden: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::CheckConfig) = cli.command {
        println!("{settings:#?}");
        println!("configuration is valid");
        return ExitCode::SUCCESS;
    }
    warden::telemetry::init(settings.log_format, &settings.log_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("warden: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Migrate => {
                let store = Store::connect(&settings.database).await?;
                warden::startup::refuse_auth_database(&store).await?;
                store.migrate().await?;
                store.close().await;
                println!("database at {} is up to date", settings.database.url);
                Ok(())
            }
            Command::Audit(AuditCommand::Verify) => verify_audit(&settings).await,
            command @ (Command::Encrypt | Command::RotateEncryptionKey) => {
                let store = Store::connect(&settings.database).await?;
                store.migrate().await?;
                let report = if matches!(command, Command::Encrypt) {
                    warden::service::encryption::encrypt_database(&store, &settings.encryption)
                        .await
                } else {
                    warden::service::encryption::rotate_key(&store, &settings.encryption).await
                };
                store.close().await;
                let report = report?;
                println!(
                    "{} values of {} tenants re-encrypted",
                    report.values, report.tenants
                );
                Ok(())
            }
            Command::Tenant { action } => tenant_command(&settings, action).await,
            Command::ImportAuth {
                database_url,
                schema,
                dry_run,
            } => import_auth(&settings, &database_url, schema.as_deref(), dry_run).await,
            Command::Serve | Command::CheckConfig => {
                Application::build(settings)
                    .await?
                    .run_until_stopped()
                    .await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("warden: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Verifies every tenant's chain, printing one line per tenant (tenant ids are fingerprints, not keys).
async fn verify_audit(settings: &Settings) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let mut broken = 0;
    let tenants = store.audited_tenants().await?;
    for tenant in &tenants {
        let report = warden::service::audit::verify_chain(&store, tenant).await?;
        match &report.problem {
            None => println!("ok      {} ({} entries)", report.tenant, report.entries),
            Some(problem) => {
                broken += 1;
                println!("BROKEN  {}: {problem}", report.tenant);
            }
        }
    }
    store.close().await;
    if broken > 0 {
        anyhow::bail!("{broken} of {} audit chains are broken", tenants.len());
    }
    println!("{} audit chains verified", tenants.len());
    Ok(())
}

/// `warden tenant create|revoke`.
async fn tenant_command(settings: &Settings, action: TenantCommand) -> anyhow::Result<()> {
    use warden::service::{registry, SecretHome, Tenants};
    // Read (or refused) before anything connects, so a mistake costs nothing.
    let revoked_key = match &action {
        TenantCommand::Revoke { key: Some(_) } => anyhow::bail!(
            "the client key to revoke is read from standard input, not the command line \
             (where `ps` and shell history expose it): `warden tenant revoke < key.txt`"
        ),
        TenantCommand::Revoke { key: None } => Some(read_key_from_stdin()?),
        TenantCommand::Create => None,
    };
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let home = SecretHome::for_settings(settings);
    let tenants = Tenants::setup(&store, &home, settings.tenant_secret.as_ref()).await?;
    let outcome = match action {
        TenantCommand::Create => {
            let key = registry::create_tenant(&store, &tenants).await?;
            // The one place a client key is ever printed: to the operator who asked for it.
            println!("{}", key.as_str());
            Ok(())
        }
        TenantCommand::Revoke { .. } => {
            let line = revoked_key.unwrap_or_default();
            let key = warden_core::domain::ClientKey::parse(line.trim())?;
            if registry::revoke_tenant(&store, &tenants, &key).await? {
                println!("client key revoked");
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "that client key is not registered or was already revoked"
                ))
            }
        }
    };
    store.close().await;
    outcome
}

/// `warden import-auth`: reads the source, imports tenant by tenant, prints the report (tenants by fingerprint).
async fn import_auth(
    settings: &Settings,
    url: &str,
    schema: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    use warden::config::TenantMode;
    use warden::service::import_auth::{import_auth, ImportOptions};
    use warden::service::{Encryption, SecretHome, Tenants};
    let source = warden_store::AuthSource::open(url, schema).await?;
    let data = source.read().await;
    source.close().await;
    let data = data?;
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let home = SecretHome::for_settings(settings);
    let encryption = Encryption::setup(&store, &settings.encryption).await?;
    let tenants = Tenants::setup(&store, &home, settings.tenant_secret.as_ref())
        .await?
        .with_encryption(encryption);
    let auth_key = std::env::var("AUTH_IMPORT_ENCRYPTION_KEY")
        .ok()
        .filter(|key| !key.is_empty())
        .map(secrecy::SecretString::from)
        .or_else(|| settings.encryption.key.clone());
    // As `auth` 3.x reads it: a tenant without a settings row was strict unless this said otherwise.
    let strict_users_default = std::env::var("AUTH_STRICT_USERS_DEFAULT")
        .map(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "off"
            )
        })
        .unwrap_or(true);
    let options = ImportOptions {
        auth_key,
        strict_users_default,
        register: settings.tenant_mode == TenantMode::Registered,
        dry_run,
    };
    let report = import_auth(&store, &tenants, &data, &options).await;
    if report.is_ok() && !dry_run {
        let at = chrono::Utc::now().to_rfc3339();
        store
            .meta_get_or_insert(warden::startup::AUTH_IMPORTED_KEY, &at)
            .await?;
    }
    store.close().await;
    let report = report?;
    let verb = if dry_run { "would add" } else { "added" };
    for tenant in &report.tenants {
        let (a, o) = (tenant.added, tenant.offered);
        println!(
            "tenant {}: {verb} {}/{} roles, {}/{} grants, {}/{} memberships, {}/{} API keys, {}/{} settings",
            tenant.tenant,
            a.roles, o.roles, a.grants, o.grants, a.memberships, o.memberships, a.api_keys, o.api_keys,
            a.settings, o.settings
        );
    }
    for skipped in &report.skipped {
        match &skipped.tenant {
            Some(tenant) => println!(
                "skipped in tenant {tenant}: {}: {}",
                skipped.what, skipped.why
            ),
            None => println!("skipped: {}: {}", skipped.what, skipped.why),
        }
    }
    let (a, o) = (report.added(), report.offered());
    println!(
        "{} tenants{}: {verb} {} roles, {} grants, {} memberships, {} API keys, {} settings \
         (of {} roles, {} grants, {} memberships, {} API keys importable); {} skipped",
        report.tenants.len(),
        if dry_run {
            " (dry run, nothing written)"
        } else {
            ""
        },
        a.roles,
        a.grants,
        a.memberships,
        a.api_keys,
        a.settings,
        o.roles,
        o.grants,
        o.memberships,
        o.api_keys,
        report.skipped.len()
    );
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_key_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| anyhow::anyhow!("cannot read the client key from standard input: {e}"))?;
    let key = line.trim();
    if key.is_empty() {
        anyhow::bail!("no client key on standard input: `warden tenant revoke < key.txt`");
    }
    Ok(key.to_owned())
}

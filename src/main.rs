//! The `warden` command line: serve, migrate, check the configuration.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use warden::config::Settings;
use warden::startup::Application;
use warden::store::Store;

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
                store.migrate().await?;
                store.close().await;
                println!("database at {} is up to date", settings.database.url);
                Ok(())
            }
            _ => {
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

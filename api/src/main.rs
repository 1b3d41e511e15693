//! `aigne-hub`: parse the command line, load settings once, init tracing, run.

use aigne_hub::auth::Role;
use aigne_hub::auth::did;
use aigne_hub::auth::keys::{self, KeySpec};
use aigne_hub::cli::{Cli, Command, KeyRole, KeysCommand, StatsCommand};
use aigne_hub::config::{self, Settings};
use aigne_hub::{app, telemetry};
use clap::Parser;
use std::process::ExitCode;

// glibc's malloc was a fifth of the request path's profile (arena locks between workers).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = std::env::vars().collect();
    let settings = match config::load(cli.config.as_deref(), &env) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("aigne-hub: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => app::open_database(&settings).map(drop),
        Command::Keys {
            action:
                KeysCommand::Create {
                    name,
                    role,
                    user_did,
                },
        } => create_key(&settings, name, role, user_did),
        Command::Stats {
            action: StatsCommand::Rebuild,
        } => rebuild_stats(&settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("aigne-hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let prepared = app::prepare(settings)?;
    actix_web::rt::System::new().block_on(app::serve(prepared))
}

#[expect(clippy::print_stdout, reason = "the key is the command's output")]
fn create_key(
    settings: &Settings,
    name: String,
    role: KeyRole,
    user_did: Option<String>,
) -> anyhow::Result<()> {
    let name = name.trim().to_owned();
    if name.is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    let user_did = user_did
        .map(|d| {
            did::normalize(&d, did::DidRole::Account)
                .map_err(|e| anyhow::anyhow!("--user-did: {e}"))
        })
        .transpose()?;
    let role = match role {
        KeyRole::Admin => Role::Admin,
        KeyRole::Member => Role::Member,
    };
    let db = app::open_database(settings)?;
    let (row, plaintext) = db.run_sync(|conn| {
        keys::create(
            conn,
            KeySpec {
                name,
                role,
                user_did,
                expires_at: None,
                app_did: None,
            },
        )
    })?;
    eprintln!(
        "created {} key '{}' ({}) for {}",
        row.role, row.name, row.id, row.user_did
    );
    println!("{plaintext}");
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the summary is the command's output")]
fn rebuild_stats(settings: &Settings) -> anyhow::Result<()> {
    let db = app::open_database(settings)?;
    let (calls, rows) = aigne_hub::usage::rebuild::rebuild(&db)?;
    println!("rebuilt {rows} rollups from {calls} calls");
    Ok(())
}

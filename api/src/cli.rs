//! Command line (`aigne-hub --help`).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "aigne-hub",
    version,
    about = "AIGNE Hub: a self-hosted AI gateway",
    long_about = "AIGNE Hub: a self-hosted AI gateway.\n\n\
        Settings come from defaults < the TOML file (--config or AIGNE_HUB_CONFIG) < AIGNE_HUB_* \
        environment variables < the Blocklet environment. README.md lists every setting."
)]
pub struct Cli {
    /// TOML configuration file (also AIGNE_HUB_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage access keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Usage rollups (model_call_stats).
    Stats {
        #[command(subcommand)]
        action: StatsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Recompute every rollup from model_calls (after importing calls, or to repair them). Run
    /// it while no Hub serves this database.
    Rebuild,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an access key and print it once, alone on the last line of stdout.
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// The key's role.
        #[arg(long, value_enum)]
        role: KeyRole,
        /// The user the key belongs to (a DID); a new account DID is made when absent.
        #[arg(long, value_name = "DID")]
        user_did: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyRole {
    Admin,
    Member,
}

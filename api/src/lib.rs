//! AIGNE Hub: a self-hosted AI gateway. See ARCHITECTURE.md for the request path and modules.

pub use hub_blocklet as blocklet;
pub use hub_core::{billing, config, db, files, providers, routing, secrets, usage};

pub mod app;
pub mod auth;
pub mod cli;
pub mod dialects;
pub mod error;
pub mod http;
pub mod lifecycle;
pub mod notify;
pub mod pricing;
pub mod project_names;
pub mod routes;
pub mod state;
pub mod telemetry;

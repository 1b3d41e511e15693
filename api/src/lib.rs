//! AIGNE Hub: a self-hosted AI gateway. See ARCHITECTURE.md for the request path and modules.

pub mod app;
pub mod auth;
pub mod billing;
pub mod blocklet;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod files;
pub mod http;
pub mod lifecycle;
pub mod providers;
pub mod routes;
pub mod routing;
pub mod secrets;
pub mod state;
pub mod telemetry;
pub mod usage;

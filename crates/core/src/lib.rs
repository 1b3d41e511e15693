//! The AIGNE Hub gateway core, with no HTTP server in it: configuration, storage, secrets, the
//! providers' upstream wire formats, routing, billing, usage recording, the generated-file store
//! and the attempt engine that runs every call. The `api` crate puts HTTP around it: routes,
//! identity, client dialects and the one error shape per dialect. See ARCHITECTURE.md.

pub mod billing;
pub mod config;
pub mod db;
pub mod engine;
pub mod error;
pub mod files;
pub mod providers;
pub mod routing;
pub mod secrets;
pub mod usage;

//! Black-box tests: the real `aigne-hub` binary on port 0, a temp data dir, and a fresh SQLite or
//! PostgreSQL database per test. Database-backed tests run on both engines (`on_both_backends!`).

#![expect(
    clippy::expect_used,
    reason = "a test fails loudly on a broken expectation"
)]

mod support;

mod admin_flow;
mod aigne_chat;
mod aliases;
mod bad_input;
mod blocklet;
mod call_log;
mod cli;
mod config_errors;
mod connect;
mod console;
mod crash;
mod credits;
mod discovery;
mod gateway;
mod gemini;
mod http_basics;
mod identity;
mod interop;
mod ledger;
mod matrix;
mod media;
mod messages;
mod migrations;
mod model_health;
mod notifications;
mod payment_kit;
mod pricing;
mod projects;
mod providers;
mod refusals;
mod responses;
mod retention;
mod scale_out;
mod secrets;
mod shutdown;
mod startup;
mod usage_queries;
mod user_info;
mod v1;

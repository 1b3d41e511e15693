//! Counting a prompt's input tokens for the dialects' count endpoints (Anthropic's
//! `count_tokens`, Gemini's `countTokens`): the provider that would serve the model counts when
//! it can (Anthropic and Gemini have an endpoint for it; one of the Hub's keys, nothing billed);
//! otherwise, or when it cannot answer, the Hub estimates with OpenAI's `o200k_base` tokenizer.
//! [`COUNT_HEADER`] says which.

use crate::routing::ModelRef;
use crate::state::AppState;
use hub_core::providers::types::ChatRequest;
use hub_core::providers::{Provider, Target, token_count};
use secrecy::ExposeSecret;

/// The header that says how a count was made.
pub const COUNT_HEADER: &str = "x-aigne-hub-token-count";

/// [`COUNT_HEADER`] of a count the Hub made itself.
pub const ESTIMATED: &str = "estimated; tokenizer=o200k_base";

/// The input tokens of `chat` for `model`, and how they were counted.
pub async fn count(
    state: &AppState,
    http: &reqwest::Client,
    model: &ModelRef,
    chat: &ChatRequest,
) -> (u64, &'static str) {
    if let Ok(mut plan) = state.router.plan(model)
        && let Some(attempt) = state.router.next(&mut plan)
        && let Some(credential) = &attempt.credential
    {
        let target = Target {
            base_url: &attempt.provider.base_url,
            api_key: credential.secret.expose_secret(),
            region: None,
            chat_url: None,
        };
        let asked = match &attempt.implementation {
            Provider::Anthropic(p) => Some((
                p.count_tokens(http, &target, chat, &state.timeouts).await,
                "provider=anthropic",
            )),
            Provider::Gemini(p) => Some((
                p.count_tokens(http, &target, chat, &state.timeouts).await,
                "provider=google",
            )),
            _ => None,
        };
        match asked {
            Some((Ok(n), how)) => return (n, how),
            Some((Err(e), how)) => tracing::warn!("{how} could not count tokens; estimating: {e}"),
            None => {}
        }
    }
    (token_count::prompt_tokens(chat), ESTIMATED)
}

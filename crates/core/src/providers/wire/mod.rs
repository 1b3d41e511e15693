//! Upstream wire formats: what each provider's API takes and answers. Each module owns its serde
//! structs and the conversions to and from `providers::types`. (Client dialects live in the
//! `api` crate.)

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
pub mod openai_answer;
pub mod openai_body;
pub mod openai_responses;

use serde_json::Value;

/// Conversation turns for APIs that want roles to alternate (Anthropic, Gemini): content for the
/// same role as the previous turn joins that turn; empty content adds nothing.
#[derive(Default)]
pub struct Turns(pub Vec<(String, Vec<Value>)>);

impl Turns {
    pub fn push(&mut self, role: &str, mut content: Vec<Value>) {
        if content.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((r, existing)) if r == role => existing.append(&mut content),
            _ => self.0.push((role.to_owned(), content)),
        }
    }
}

//! What OpenAI-compatible upstreams answer (a `chat.completion` or its stream chunks), read into
//! the Hub's own types.

use crate::providers::types::{ChatResponse, StreamEvent, ToolCall, Usage};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct UpstreamResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub choices: Vec<UpstreamChoice>,
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamChoice {
    pub message: Option<UpstreamMessage>,
    pub delta: Option<UpstreamMessage>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamMessage {
    pub content: Option<String>,
    #[serde(alias = "reasoning")]
    pub reasoning_content: Option<String>,
    pub tool_calls: Option<Vec<UpstreamToolCall>>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamToolCall {
    #[serde(default)]
    pub index: u32,
    pub id: Option<String>,
    pub function: Option<UpstreamFunction>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamFunction {
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    pub prompt_tokens_details: Option<PromptDetails>,
    pub completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize, Default)]
pub struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

#[derive(Debug, Deserialize, Default)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cache_read_tokens: u.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
            cache_write_tokens: 0,
            reasoning_tokens: u
                .completion_tokens_details
                .map_or(0, |d| d.reasoning_tokens),
        }
    }
}

impl UpstreamResponse {
    pub fn into_internal(self) -> ChatResponse {
        let choice = self.choices.into_iter().next();
        let finish_reason = choice.as_ref().and_then(|c| c.finish_reason.clone());
        let message = choice.and_then(|c| c.message);
        let (content, reasoning, tool_calls) = match message {
            Some(m) => (
                m.content,
                m.reasoning_content,
                m.tool_calls
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        let f = c.function.unwrap_or(UpstreamFunction {
                            name: None,
                            arguments: None,
                        });
                        ToolCall {
                            id: c.id.unwrap_or_default(),
                            name: f.name.unwrap_or_default(),
                            arguments: f.arguments.unwrap_or_default(),
                        }
                    })
                    .collect(),
            ),
            None => (None, None, Vec::new()),
        };
        ChatResponse {
            raw: None,
            id: self.id,
            model: self.model,
            created: self.created,
            content,
            reasoning,
            tool_calls,
            finish_reason,
            usage: self.usage.map(Usage::from).unwrap_or_default(),
        }
    }

    /// The events of one upstream stream chunk.
    pub fn into_events(self, started: &mut bool, out: &mut Vec<StreamEvent>) {
        if !*started {
            *started = true;
            out.push(StreamEvent::Start {
                id: self.id.clone(),
                model: self.model.clone(),
                created: self.created,
            });
        }
        for choice in self.choices {
            if let Some(delta) = choice.delta {
                if let Some(r) = delta.reasoning_content.filter(|r| !r.is_empty()) {
                    out.push(StreamEvent::Reasoning(r));
                }
                if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::Text(t));
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    let f = call.function.unwrap_or(UpstreamFunction {
                        name: None,
                        arguments: None,
                    });
                    out.push(StreamEvent::ToolCall {
                        index: call.index,
                        id: call.id,
                        name: f.name,
                        arguments: f.arguments.unwrap_or_default(),
                    });
                }
            }
            if let Some(reason) = choice.finish_reason {
                out.push(StreamEvent::Finish { reason });
            }
        }
        if let Some(usage) = self.usage {
            out.push(StreamEvent::Usage(usage.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_keeps_cached_and_reasoning_tokens() {
        let wire: WireUsage = serde_json::from_value(serde_json::json!({
            "prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": {"reasoning_tokens": 50, "audio_tokens": 0}
        }))
        .expect("usage");
        let usage = Usage::from(wire);
        assert_eq!(usage.cache_read_tokens, 64);
        assert_eq!(usage.reasoning_tokens, 50);
        assert_eq!(
            usage.completion_tokens, 80,
            "reasoning is part of the completion"
        );
    }
}

//! Ollama's native API: `POST /api/chat` (JSON, or NDJSON lines when streaming) and
//! `POST /api/embed`. The base URL is the server's root; a configured `…/v1` (the OpenAI-style
//! endpoint older settings used) is accepted and trimmed. A key, if set, goes as a Bearer token
//! (Ollama behind a proxy, or ollama.com).

use super::error::UpstreamError;
use super::http::{send, send_json};
use super::media::{EmbeddingRequest, EmbeddingResponse};
use super::types::{
    ChatRequest, ChatResponse, Part, ResponseFormat, Role, StreamEvent, ToolCall, Usage,
};
use super::wire::openai_body::role_name;
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_util::codec::{FramedRead, LinesCodec};
use tokio_util::io::StreamReader;

const PROVIDER: &str = "ollama";
/// The longest NDJSON line accepted (a whole answer fits; a runaway line does not).
const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct Ollama;

fn root<'a>(target: &Target<'a>) -> &'a str {
    let base = target.base_url.trim_end_matches('/');
    base.strip_suffix("/v1").unwrap_or(base)
}

fn with_key(builder: reqwest::RequestBuilder, target: &Target<'_>) -> reqwest::RequestBuilder {
    if target.api_key.is_empty() {
        builder
    } else {
        builder.bearer_auth(target.api_key)
    }
}

/// Base64 of an image part (Ollama takes bare base64, no data URL, no web URLs).
fn image_data(part: &Part) -> Option<String> {
    match part {
        Part::Image { url, .. } => url
            .strip_prefix("data:")
            .and_then(|r| r.split_once(','))
            .map(|(_, d)| d.to_owned()),
        Part::File {
            data, mime_type, ..
        } if mime_type.starts_with("image/") => Some(data.clone()),
        _ => None,
    }
}

pub fn request_body(req: &ChatRequest, stream: bool) -> Value {
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| {
            let role = role_name(m.role);
            let mut msg = json!({"role": role, "content": m.text()});
            let images: Vec<String> = m.content.iter().filter_map(image_data).collect();
            if !images.is_empty() {
                msg["images"] = json!(images);
            }
            if !m.tool_calls.is_empty() {
                msg["tool_calls"] = m
                    .tool_calls
                    .iter()
                    .map(|c| {
                        let args: Value =
                            serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
                        json!({"function": {"name": c.name, "arguments": args}})
                    })
                    .collect();
            }
            if m.role == Role::Tool
                && let Some(name) = &m.name
            {
                msg["tool_name"] = json!(name);
            }
            msg
        })
        .collect();
    let mut body = json!({"model": req.model, "messages": messages, "stream": stream});
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name,
                    "description": t.description.clone().unwrap_or_default(),
                    "parameters": t.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                }})
            })
            .collect();
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => body["format"] = json!("json"),
        Some(ResponseFormat::JsonSchema { schema, .. }) => body["format"] = schema.clone(),
        _ => {}
    }
    let s = &req.sampling;
    let mut options = Map::new();
    for (k, v) in [
        ("temperature", s.temperature),
        ("top_p", s.top_p),
        ("presence_penalty", s.presence_penalty),
        ("frequency_penalty", s.frequency_penalty),
    ] {
        if let Some(v) = v {
            options.insert(k.into(), json!(v));
        }
    }
    if let Some(n) = s.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if let Some(seed) = s.seed {
        options.insert("seed".into(), json!(seed));
    }
    if !s.stop.is_empty() {
        options.insert("stop".into(), json!(s.stop));
    }
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    if let Some(effort) = &s.reasoning_effort {
        body["think"] = json!(effort != "none");
    }
    body
}

#[derive(Deserialize, Default)]
struct OllamaMessage {
    #[serde(default)]
    content: String,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    tool_calls: Vec<OllamaToolCall>,
}

#[derive(Deserialize)]
struct OllamaToolCall {
    function: OllamaFunction,
}

#[derive(Deserialize)]
struct OllamaFunction {
    name: String,
    #[serde(default)]
    arguments: Value,
}

#[derive(Deserialize)]
struct ChatLine {
    #[serde(default)]
    model: String,
    #[serde(default)]
    message: OllamaMessage,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: u64,
    #[serde(default)]
    eval_count: u64,
    #[serde(default)]
    error: Option<String>,
}

impl ChatLine {
    fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_eval_count,
            completion_tokens: self.eval_count,
            ..Usage::default()
        }
    }

    fn finish(&self, has_calls: bool) -> String {
        match self.done_reason.as_deref() {
            _ if has_calls => "tool_calls".into(),
            Some("length") => "length".into(),
            _ => "stop".into(),
        }
    }
}

fn tool_calls(calls: Vec<OllamaToolCall>, first: usize) -> Vec<ToolCall> {
    calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: format!("call_{}", first + i),
            name: c.function.name,
            arguments: if c.function.arguments.is_null() {
                "{}".into()
            } else {
                c.function.arguments.to_string()
            },
        })
        .collect()
}

impl Ollama {
    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        let builder = with_key(
            http.post(format!("{}/api/chat", root(target)))
                .json(&request_body(req, false)),
            target,
        );
        let line: ChatLine = send_json(PROVIDER, builder, timeouts).await?;
        if let Some(e) = line.error {
            return Err(UpstreamError::Protocol(PROVIDER, e));
        }
        let usage = line.usage();
        let calls = tool_calls(line.message.tool_calls, 0);
        let finish = if calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        };
        Ok(ChatResponse {
            raw: None,
            id: format!("ollama-{}", uuid::Uuid::new_v4().simple()),
            model: if line.model.is_empty() {
                req.model.clone()
            } else {
                line.model
            },
            created: chrono::Utc::now().timestamp(),
            content: Some(line.message.content),
            reasoning: line.message.thinking.filter(|t| !t.is_empty()),
            tool_calls: calls,
            finish_reason: Some(
                if line.done_reason.as_deref() == Some("length") {
                    "length"
                } else {
                    finish
                }
                .into(),
            ),
            usage,
        })
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        let builder = with_key(
            http.post(format!("{}/api/chat", root(target)))
                .json(&request_body(req, true)),
            target,
        );
        let response = send(PROVIDER, builder, timeouts).await?;
        let reader = StreamReader::new(
            response
                .bytes_stream()
                .map(|r| r.map_err(std::io::Error::other)),
        );
        let mut lines = FramedRead::new(reader, LinesCodec::new_with_max_length(MAX_LINE));
        let idle = timeouts.idle;
        let model = req.model.clone();
        Ok(Box::pin(async_stream::stream! {
            yield Ok(StreamEvent::Start {
                id: format!("ollama-{}", uuid::Uuid::new_v4().simple()),
                model: model.clone(),
                created: chrono::Utc::now().timestamp(),
            });
            let mut calls_seen = 0usize;
            loop {
                let line = match tokio::time::timeout(idle, lines.next()).await {
                    Err(_) => { yield Err(UpstreamError::Timeout(PROVIDER, idle)); return; }
                    Ok(None) => {
                        yield Err(UpstreamError::Protocol(PROVIDER, "stream ended before done".into()));
                        return;
                    }
                    Ok(Some(Err(e))) => { yield Err(UpstreamError::Protocol(PROVIDER, format!("stream broke: {e}"))); return; }
                    Ok(Some(Ok(line))) => line,
                };
                if line.trim().is_empty() {
                    continue;
                }
                let parsed: ChatLine = match serde_json::from_str(&line) {
                    Ok(p) => p,
                    Err(e) => { yield Err(UpstreamError::Protocol(PROVIDER, format!("unreadable line: {e}"))); return; }
                };
                if let Some(e) = parsed.error {
                    yield Err(UpstreamError::Protocol(PROVIDER, e));
                    return;
                }
                if let Some(t) = parsed.message.thinking.as_ref().filter(|t| !t.is_empty()) {
                    yield Ok(StreamEvent::Reasoning(t.clone()));
                }
                if !parsed.message.content.is_empty() {
                    yield Ok(StreamEvent::Text(parsed.message.content.clone()));
                }
                let done = parsed.done;
                let usage = parsed.usage();
                let new_calls = parsed.message.tool_calls.len();
                let finish = parsed.finish(calls_seen + new_calls > 0);
                for (i, call) in tool_calls(parsed.message.tool_calls, calls_seen).into_iter().enumerate() {
                    yield Ok(StreamEvent::ToolCall {
                        index: (calls_seen + i) as u32,
                        id: Some(call.id),
                        name: Some(call.name),
                        arguments: call.arguments,
                    });
                }
                calls_seen += new_calls;
                if done {
                    yield Ok(StreamEvent::Finish { reason: finish });
                    yield Ok(StreamEvent::Usage(usage));
                    return;
                }
            }
        }))
    }

    pub async fn embed(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &EmbeddingRequest,
        timeouts: &Timeouts,
    ) -> Result<EmbeddingResponse, UpstreamError> {
        let mut body = json!({"model": req.model, "input": req.input});
        if let Some(d) = req.dimensions {
            body["dimensions"] = json!(d);
        }
        let builder = with_key(
            http.post(format!("{}/api/embed", root(target))).json(&body),
            target,
        );
        let answer: EmbedAnswer = send_json(PROVIDER, builder, timeouts).await?;
        req.check_count(PROVIDER, answer.embeddings.len())?;
        Ok(EmbeddingResponse {
            vectors: answer.embeddings,
            model: req.model.clone(),
            usage: Usage {
                prompt_tokens: answer.prompt_eval_count,
                ..Usage::default()
            },
        })
    }

    /// The local model list (`GET /api/tags`).
    pub fn check_request(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
    ) -> reqwest::RequestBuilder {
        with_key(http.get(format!("{}/api/tags", root(target))), target)
    }
}

#[derive(Deserialize)]
struct EmbedAnswer {
    embeddings: Vec<super::media::Vector>,
    #[serde(default)]
    prompt_eval_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Message, Sampling};

    #[test]
    fn body_maps_images_tools_and_options() {
        let req = ChatRequest {
            native: None,
            model: "llama3.2".into(),
            messages: vec![Message {
                role: Role::User,
                content: vec![
                    Part::Text("what is this?".into()),
                    Part::Image {
                        url: "data:image/png;base64,AAAA".into(),
                        detail: None,
                    },
                ],
                tool_calls: vec![],
                tool_call_id: None,
                name: None,
            }],
            tools: vec![],
            tool_choice: None,
            response_format: Some(ResponseFormat::JsonObject),
            sampling: Sampling {
                max_tokens: Some(50),
                temperature: Some(0.2),
                ..Sampling::default()
            },
            extra: Map::new(),
        };
        let body = request_body(&req, true);
        assert_eq!(body["messages"][0]["images"], json!(["AAAA"]));
        assert_eq!(body["options"]["num_predict"], 50);
        assert_eq!(body["format"], "json");
        assert_eq!(body["stream"], true);
    }

    #[test]
    fn root_trims_v1() {
        let t = Target {
            base_url: "http://127.0.0.1:11434/v1/",
            api_key: "",
            region: None,
            chat_url: None,
        };
        assert_eq!(root(&t), "http://127.0.0.1:11434");
    }
}

//! Google Gemini `generateContent` / `streamGenerateContent` on the wire.
//!
//! Mapping: system messages → `systemInstruction`; assistant → role `model` with `functionCall`
//! parts; tool results → `functionResponse` parts (the function name is looked up from the call
//! id); images/files → `inlineData` (data URLs, base64) or `fileData` (http URLs). Gemini gives
//! calls no ids, so the Hub makes `call_<n>`.

use crate::providers::types::{
    ChatRequest, ChatResponse, Part, ResponseFormat, Role, StreamEvent, ToolCall, ToolChoice, Usage,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

fn parts(content: &[Part]) -> Vec<Value> {
    content
        .iter()
        .map(|p| match p {
            Part::Text(t) => json!({"text": t}),
            Part::Image { url, .. } => match url.strip_prefix("data:").and_then(|r| r.split_once(',')) {
                Some((meta, data)) => {
                    json!({"inlineData": {"mimeType": meta.split(';').next().unwrap_or("image/png"), "data": data}})
                }
                None => json!({"fileData": {"mimeType": guess_mime(url), "fileUri": url}}),
            },
            Part::File { data, mime_type, .. } => json!({"inlineData": {"mimeType": mime_type, "data": data}}),
        })
        .collect()
}

fn guess_mime(url: &str) -> &'static str {
    let lower = url.to_ascii_lowercase();
    if lower.ends_with(".png") {
        "image/png"
    } else if lower.ends_with(".webp") {
        "image/webp"
    } else if lower.ends_with(".gif") {
        "image/gif"
    } else if lower.ends_with(".pdf") {
        "application/pdf"
    } else {
        "image/jpeg"
    }
}

pub fn request_body(req: &ChatRequest) -> Value {
    let mut system: Vec<Value> = Vec::new();
    let mut contents = super::Turns::default();
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut push = |role: &str, p: Vec<Value>| contents.push(role, p);
    for m in &req.messages {
        match m.role {
            Role::System => system.extend(parts(&m.content)),
            Role::User => push("user", parts(&m.content)),
            Role::Assistant => {
                let mut p = parts(&m.content);
                for call in &m.tool_calls {
                    names.insert(&call.id, &call.name);
                    let args: Value =
                        serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                    p.push(json!({"functionCall": {"name": call.name, "args": args}}));
                }
                push("model", p);
            }
            Role::Tool => {
                let id = m.tool_call_id.as_deref().unwrap_or_default();
                let name = names.get(id).copied().or(m.name.as_deref()).unwrap_or(id);
                let text = m.text();
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(o)) => Value::Object(o),
                    Ok(other) => json!({"result": other}),
                    Err(_) => json!({"result": text}),
                };
                push(
                    "user",
                    vec![json!({"functionResponse": {"name": name, "response": response}})],
                );
            }
        }
    }
    let mut body = Map::new();
    body.insert(
        "contents".into(),
        Value::Array(
            contents
                .0
                .into_iter()
                .map(|(role, p)| json!({"role": role, "parts": p}))
                .collect(),
        ),
    );
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": system}));
    }
    if !req.tools.is_empty() {
        let declarations: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut d = json!({"name": t.name, "description": t.description.clone().unwrap_or_default()});
                if let Some(p) = &t.parameters {
                    d["parameters"] = p.clone();
                }
                d
            })
            .collect();
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = &req.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }
    let s = &req.sampling;
    let mut generation = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            generation.insert(k.into(), v);
        }
    };
    put("temperature", s.temperature.map(Value::from));
    put("topP", s.top_p.map(Value::from));
    put("maxOutputTokens", s.max_tokens.map(Value::from));
    put("seed", s.seed.map(Value::from));
    put("presencePenalty", s.presence_penalty.map(Value::from));
    put("frequencyPenalty", s.frequency_penalty.map(Value::from));
    if !s.stop.is_empty() {
        generation.insert("stopSequences".into(), json!(s.stop));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
            generation.insert("responseJsonSchema".into(), schema.clone());
        }
        _ => {}
    }
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    Value::Object(body)
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: u64,
    #[serde(default)]
    pub candidates_token_count: u64,
    #[serde(default)]
    pub thoughts_token_count: u64,
    #[serde(default)]
    pub cached_content_token_count: u64,
}

impl From<UsageMetadata> for Usage {
    fn from(u: UsageMetadata) -> Self {
        Usage {
            prompt_tokens: u.prompt_token_count,
            completion_tokens: u.candidates_token_count + u.thoughts_token_count,
            cache_read_tokens: u.cached_content_token_count,
            cache_write_tokens: 0,
            reasoning_tokens: u.thoughts_token_count,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResponse {
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub model_version: String,
    #[serde(default)]
    pub response_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub content: Option<CandidateContent>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CandidateContent {
    #[serde(default)]
    pub parts: Vec<Value>,
}

pub fn finish_reason(reason: &str, has_calls: bool) -> String {
    if has_calls {
        return "tool_calls".into();
    }
    match reason {
        "STOP" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => "content_filter",
        _ => "stop",
    }
    .to_owned()
}

/// Text, thoughts and calls of one candidate's parts; `next_call` numbers the calls.
fn read_parts(parts: &[Value], next_call: &mut u32) -> (String, String, Vec<ToolCall>) {
    let mut text = String::new();
    let mut thoughts = String::new();
    let mut calls = Vec::new();
    for p in parts {
        if let Some(call) = p.get("functionCall") {
            let id = call
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("call_{next_call}"));
            *next_call += 1;
            calls.push(ToolCall {
                id,
                name: call
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                arguments: call
                    .get("args")
                    .map_or_else(|| "{}".to_owned(), Value::to_string),
            });
        } else if let Some(t) = p.get("text").and_then(Value::as_str) {
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                thoughts.push_str(t);
            } else {
                text.push_str(t);
            }
        }
    }
    (text, thoughts, calls)
}

impl GenerateResponse {
    pub fn into_internal(self, model: &str) -> ChatResponse {
        let candidate = self.candidates.into_iter().next();
        let reason = candidate.as_ref().and_then(|c| c.finish_reason.clone());
        let parts = candidate
            .and_then(|c| c.content)
            .map(|c| c.parts)
            .unwrap_or_default();
        let mut next = 0;
        let (text, thoughts, tool_calls) = read_parts(&parts, &mut next);
        ChatResponse {
            raw: None,
            id: self.response_id,
            model: if self.model_version.is_empty() {
                model.to_owned()
            } else {
                self.model_version
            },
            created: chrono::Utc::now().timestamp(),
            content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
            reasoning: (!thoughts.is_empty()).then_some(thoughts),
            finish_reason: reason
                .as_deref()
                .map(|r| finish_reason(r, !tool_calls.is_empty())),
            tool_calls,
            usage: self.usage_metadata.map(Usage::from).unwrap_or_default(),
        }
    }
}

/// Stream chunks → events. Usage metadata is cumulative; the last one is reported at the end.
#[derive(Default)]
pub struct StreamState {
    started: bool,
    next_call: u32,
    saw_calls: bool,
    pub usage: Option<UsageMetadata>,
}

impl StreamState {
    pub fn on_chunk(&mut self, chunk: GenerateResponse, model: &str, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            let model = if chunk.model_version.is_empty() {
                model.to_owned()
            } else {
                chunk.model_version.clone()
            };
            out.push(StreamEvent::Start {
                id: chunk.response_id.clone(),
                model,
                created: chrono::Utc::now().timestamp(),
            });
        }
        if let Some(u) = chunk.usage_metadata {
            self.usage = Some(u);
        }
        for candidate in chunk.candidates {
            let parts = candidate.content.map(|c| c.parts).unwrap_or_default();
            let first = self.next_call;
            let (text, thoughts, calls) = read_parts(&parts, &mut self.next_call);
            if !thoughts.is_empty() {
                out.push(StreamEvent::Reasoning(thoughts));
            }
            if !text.is_empty() {
                out.push(StreamEvent::Text(text));
            }
            for (i, call) in calls.into_iter().enumerate() {
                self.saw_calls = true;
                out.push(StreamEvent::ToolCall {
                    index: first + i as u32,
                    id: Some(call.id),
                    name: Some(call.name),
                    arguments: call.arguments,
                });
            }
            if let Some(reason) = candidate.finish_reason {
                out.push(StreamEvent::Finish {
                    reason: finish_reason(&reason, self.saw_calls),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Message, Sampling, Tool};

    fn msg(role: Role, text: &str) -> Message {
        Message {
            role,
            content: vec![Part::Text(text.into())],
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
        }
    }

    #[test]
    fn builds_contents_tools_and_function_responses() {
        let mut assistant = msg(Role::Assistant, "");
        assistant.content.clear();
        assistant.tool_calls.push(ToolCall {
            id: "c1".into(),
            name: "weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        });
        let mut tool = msg(Role::Tool, r#"{"temp":20}"#);
        tool.tool_call_id = Some("c1".into());
        let req = ChatRequest {
            native: None,
            model: "gemini-2.5-flash".into(),
            messages: vec![
                msg(Role::System, "be brief"),
                msg(Role::User, "weather?"),
                assistant,
                tool,
            ],
            tools: vec![Tool {
                name: "weather".into(),
                description: None,
                parameters: Some(json!({"type": "object"})),
                strict: None,
            }],
            tool_choice: Some(ToolChoice::Auto),
            response_format: Some(ResponseFormat::JsonObject),
            sampling: Sampling {
                max_tokens: Some(50),
                ..Sampling::default()
            },
            extra: Map::new(),
        };
        let body = request_body(&req);
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], "be brief");
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(
            body["contents"][1]["parts"][0]["functionCall"],
            json!({"name": "weather", "args": {"city": "Paris"}})
        );
        assert_eq!(
            body["contents"][2]["parts"][0]["functionResponse"],
            json!({"name": "weather", "response": {"temp": 20}})
        );
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 50);
        assert_eq!(
            body["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert_eq!(
            body["tools"][0]["functionDeclarations"][0]["name"],
            "weather"
        );
        assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");
    }

    #[test]
    fn answers_and_stream_chunks() {
        let res: GenerateResponse = serde_json::from_value(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 4, "thoughtsTokenCount": 2, "totalTokenCount": 14},
            "modelVersion": "gemini-2.5-flash"
        }))
        .expect("response");
        let r = res.into_internal("x");
        assert_eq!(r.tool_calls[0].arguments, r#"{"a":1}"#);
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            r.usage,
            Usage {
                reasoning_tokens: 2,
                prompt_tokens: 8,
                completion_tokens: 6,
                cache_read_tokens: 0,
                cache_write_tokens: 0
            }
        );
    }
}

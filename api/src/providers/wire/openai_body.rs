//! The request body sent to OpenAI-compatible upstreams, serialized straight from the internal
//! request: no JSON tree is built, so the prompt's text is written once, not copied into a tree
//! of maps first (that tree was ~15 allocations and a copy of every message per call).

use crate::providers::types::{
    ChatRequest, Message, Part, ResponseFormat, Role, Tool, ToolCall, ToolChoice,
};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

/// Keys this body writes itself; a pass-through parameter of the same name is left out (the
/// Hub's value wins).
const OWN_KEYS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "response_format",
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "reasoning_effort",
    "user",
    "stop",
    "stream",
    "stream_options",
];

/// The upstream body. `stream` adds `stream_options.include_usage` so usage is always known.
pub fn upstream_body(req: &ChatRequest, stream: bool) -> UpstreamBody<'_> {
    UpstreamBody { req, stream }
}

pub struct UpstreamBody<'a> {
    req: &'a ChatRequest,
    stream: bool,
}

impl Serialize for UpstreamBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let req = self.req;
        let mut map = s.serialize_map(None)?;
        for (key, value) in &req.extra {
            if !OWN_KEYS.contains(&key.as_str()) {
                map.serialize_entry(key, value)?;
            }
        }
        map.serialize_entry("model", &req.model)?;
        map.serialize_entry("messages", &Each(&req.messages, MessageOut))?;
        if !req.tools.is_empty() {
            map.serialize_entry("tools", &Each(&req.tools, tool_out))?;
        }
        if let Some(choice) = &req.tool_choice {
            map.serialize_entry("tool_choice", &ToolChoiceOut(choice))?;
        }
        if let Some(format) = &req.response_format {
            map.serialize_entry("response_format", &FormatOut(format))?;
        }
        let s = &req.sampling;
        entry_if(&mut map, "temperature", &s.temperature)?;
        entry_if(&mut map, "top_p", &s.top_p)?;
        entry_if(&mut map, "max_tokens", &s.max_tokens)?;
        entry_if(&mut map, "presence_penalty", &s.presence_penalty)?;
        entry_if(&mut map, "frequency_penalty", &s.frequency_penalty)?;
        entry_if(&mut map, "seed", &s.seed)?;
        entry_if(&mut map, "reasoning_effort", &s.reasoning_effort)?;
        entry_if(&mut map, "user", &s.user)?;
        if !s.stop.is_empty() {
            map.serialize_entry("stop", &s.stop)?;
        }
        if self.stream {
            map.serialize_entry("stream", &true)?;
            map.serialize_entry(
                "stream_options",
                &IncludeUsage {
                    include_usage: true,
                },
            )?;
        }
        map.end()
    }
}

fn entry_if<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => map.serialize_entry(key, v),
        None => Ok(()),
    }
}

#[derive(Serialize)]
struct IncludeUsage {
    include_usage: bool,
}

/// A slice written as a JSON array, each item through `F`'s wrapper.
struct Each<'a, T, F>(&'a [T], F);

impl<'a, T, W: Serialize, F: Fn(&'a T) -> W> Serialize for Each<'a, T, F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

/// The role as OpenAI-style APIs name it (Ollama's native API uses the same names).
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

struct MessageOut<'a>(&'a Message);

impl Serialize for MessageOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("role", role_name(m.role))?;
        map.serialize_entry("content", &ContentOut(&m.content))?;
        if !m.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &Each(&m.tool_calls, tool_call_out))?;
        }
        entry_if(&mut map, "tool_call_id", &m.tool_call_id)?;
        entry_if(&mut map, "name", &m.name)?;
        map.end()
    }
}

/// One text part is a plain string, no parts is `null`, anything else the array of parts.
struct ContentOut<'a>(&'a [Part]);

impl Serialize for ContentOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [Part::Text(t)] => s.serialize_str(t),
            [] => s.serialize_none(),
            parts => Each(parts, PartOut).serialize(s),
        }
    }
}

struct PartOut<'a>(&'a Part);

impl Serialize for PartOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self.0 {
            Part::Text(text) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("text", text)?;
            }
            Part::Image { url, detail } => {
                #[derive(Serialize)]
                struct ImageUrl<'a> {
                    url: &'a str,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    detail: Option<&'a str>,
                }
                map.serialize_entry("type", "image_url")?;
                let detail = detail.as_deref();
                map.serialize_entry("image_url", &ImageUrl { url, detail })?;
            }
            Part::File {
                data,
                mime_type,
                filename,
            } => {
                #[derive(Serialize)]
                struct File<'a> {
                    file_data: std::fmt::Arguments<'a>,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    filename: Option<&'a str>,
                }
                map.serialize_entry("type", "file")?;
                let file = File {
                    file_data: format_args!("data:{mime_type};base64,{data}"),
                    filename: filename.as_deref(),
                };
                map.serialize_entry("file", &file)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCall<'a>,
}

fn tool_call_out(c: &ToolCall) -> ToolCallOut<'_> {
    ToolCallOut {
        id: &c.id,
        kind: "function",
        function: FunctionCall {
            name: &c.name,
            arguments: &c.arguments,
        },
    }
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

fn tool_out(t: &Tool) -> ToolOut<'_> {
    ToolOut {
        kind: "function",
        function: FunctionOut {
            name: &t.name,
            description: t.description.as_deref(),
            parameters: t.parameters.as_ref(),
            strict: t.strict,
        },
    }
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
}

struct ToolChoiceOut<'a>(&'a ToolChoice);

impl Serialize for ToolChoiceOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::None => s.serialize_str("none"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Function(name) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("type", "function")?;
                map.serialize_entry("function", &Named { name })?;
                map.end()
            }
        }
    }
}

struct FormatOut<'a>(&'a ResponseFormat);

impl Serialize for FormatOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct JsonSchema<'a> {
            name: &'a str,
            schema: &'a serde_json::Value,
            #[serde(skip_serializing_if = "Option::is_none")]
            strict: Option<bool>,
        }
        let mut map = s.serialize_map(None)?;
        match self.0 {
            ResponseFormat::Text => map.serialize_entry("type", "text")?,
            ResponseFormat::JsonObject => map.serialize_entry("type", "json_object")?,
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => {
                map.serialize_entry("type", "json_schema")?;
                let js = JsonSchema {
                    name,
                    schema,
                    strict: *strict,
                };
                map.serialize_entry("json_schema", &js)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::wire::openai::ChatCompletionRequest;
    use serde_json::{Value, json};

    fn internal(body: Value) -> ChatRequest {
        let wire: ChatCompletionRequest = serde_json::from_value(body).expect("wire");
        wire.into_internal("gpt-5-mini".into()).expect("valid")
    }

    /// Every branch of the body against what the earlier `serde_json::Value` builder wrote for the
    /// same requests (captured from it before it was replaced).
    #[test]
    fn writes_what_the_value_builder_wrote() {
        let cases = [
            (
                true,
                json!({
                    "model": "x",
                    "messages": [
                        {"role": "system", "content": "be brief"},
                        {"role": "user", "name": "ann", "content": [
                            {"type": "text", "text": "hi \"there\"\n"},
                            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"}},
                            {"type": "file", "file": {"file_data": "JVBE"}}
                        ]},
                        {"role": "assistant", "content": null, "tool_calls": [
                            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}}
                        ]},
                        {"role": "tool", "tool_call_id": "c1", "content": "42"},
                        {"role": "assistant", "content": []}
                    ],
                    "tools": [
                        {"type": "function", "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}, "strict": true}},
                        {"type": "function", "function": {"name": "g"}}
                    ],
                    "tool_choice": {"type": "function", "function": {"name": "f"}},
                    "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": false}},
                    "temperature": 0.7, "top_p": 0.25, "max_tokens": 100, "presence_penalty": -0.5,
                    "frequency_penalty": 1.5, "seed": -3, "reasoning_effort": "low", "user": "u1",
                    "stop": ["a", "b"], "logit_bias": {"1": 2}, "n": 1, "metadata": {"k": "v"}
                }),
                r#"{"frequency_penalty":1.5,"logit_bias":{"1":2},"max_tokens":100,"messages":[{"content":"be brief","role":"system"},{"content":[{"text":"hi \"there\"\n","type":"text"},{"image_url":{"detail":"low","url":"https://x/y.png"},"type":"image_url"},{"image_url":{"url":"data:image/png;base64,AAAA"},"type":"image_url"},{"file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"},"type":"file"},{"file":{"file_data":"data:application/octet-stream;base64,JVBE"},"type":"file"}],"name":"ann","role":"user"},{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"a\":1}","name":"f"},"id":"c1","type":"function"},{"function":{"arguments":"","name":"g"},"id":"c2","type":"function"}]},{"content":"42","role":"tool","tool_call_id":"c1"},{"content":null,"role":"assistant"}],"metadata":{"k":"v"},"model":"gpt-5-mini","n":1,"presence_penalty":-0.5,"reasoning_effort":"low","response_format":{"json_schema":{"name":"r","schema":{"type":"object"},"strict":false},"type":"json_schema"},"seed":-3,"stop":["a","b"],"stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"tool_choice":{"function":{"name":"f"},"type":"function"},"tools":[{"function":{"description":"does f","name":"f","parameters":{"type":"object"},"strict":true},"type":"function"},{"function":{"name":"g"},"type":"function"}],"top_p":0.25,"user":"u1"}"#,
            ),
            (
                false,
                json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "required", "response_format": {"type": "json_object"}, "stop": "x"}),
                r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-5-mini","response_format":{"type":"json_object"},"stop":["x"],"tool_choice":"required"}"#,
            ),
            (
                false,
                json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "none", "response_format": {"type": "text"}}),
                r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-5-mini","response_format":{"type":"text"},"tool_choice":"none"}"#,
            ),
            (
                true,
                json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "auto", "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {}}}}),
                r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-5-mini","response_format":{"json_schema":{"name":"r","schema":{}},"type":"json_schema"},"stream":true,"stream_options":{"include_usage":true},"tool_choice":"auto"}"#,
            ),
        ];
        for (stream, request, expected) in cases {
            let req = internal(request);
            let written = serde_json::to_string(&upstream_body(&req, stream)).expect("body");
            let written: Value = serde_json::from_str(&written).expect("json");
            let expected: Value = serde_json::from_str(expected).expect("expected");
            assert_eq!(written, expected);
        }
    }

    /// A pass-through parameter never duplicates a key the Hub writes; the Hub's value wins.
    #[test]
    fn own_keys_win_over_pass_through() {
        let mut req =
            internal(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}]}));
        req.extra.insert("model".into(), json!("other"));
        req.extra.insert("stream".into(), json!(false));
        req.extra.insert("logprobs".into(), json!(true));
        let written = serde_json::to_string(&upstream_body(&req, true)).expect("body");
        assert_eq!(written.matches("\"model\"").count(), 1, "{written}");
        assert_eq!(written.matches("\"stream\"").count(), 1, "{written}");
        let v: Value = serde_json::from_str(&written).expect("json");
        assert_eq!(v["model"], "gpt-5-mini");
        assert_eq!(v["stream"], true);
        assert_eq!(v["logprobs"], true);
    }
}

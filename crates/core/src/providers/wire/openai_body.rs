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

//! The Hub's own request/response/stream types. Wire formats (OpenAI, Anthropic, Gemini, AIGNE)
//! convert to and from these; providers and routes never share a wire struct.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// One piece of message content.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    /// An image by URL (`https://…` or `data:<mime>;base64,…`).
    Image {
        url: String,
        detail: Option<String>,
    },
    /// A file given inline (base64), e.g. a PDF.
    File {
        data: String,
        mime_type: String,
        filename: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// JSON text, as OpenAI sends it.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Part>,
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the call this answers.
    pub tool_call_id: Option<String>,
    pub name: Option<String>,
}

impl Message {
    /// A message of `role` with `content` and nothing else (no tool calls, no tool call id).
    pub fn new(role: Role, content: Vec<Part>) -> Message {
        Message {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        }
    }

    /// All text parts joined (for providers that take a plain string).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let Part::Text(t) = part {
                out.push_str(t);
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    Function(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        strict: Option<bool>,
    },
}

/// Sampling and limits; `None` means "provider default".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub seed: Option<i64>,
    pub reasoning_effort: Option<String>,
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The upstream model id (no provider prefix).
    pub model: String,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub response_format: Option<ResponseFormat>,
    pub sampling: Sampling,
    /// Parameters the Hub does not model, passed through to OpenAI-compatible upstreams.
    pub extra: Map<String, Value>,
    /// The request as the client wrote it for one provider family: an attempt on that family
    /// sends it unchanged but for the model, so nothing the Hub does not model is lost.
    pub native: Option<Native>,
}

/// A client's own request body for the provider family it speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Native {
    /// An Anthropic Messages body (JSON text) and the client's `anthropic-version` and
    /// `anthropic-beta` headers.
    Anthropic {
        body: bytes::Bytes,
        headers: Vec<(String, String)>,
    },
    /// A Gemini `generateContent` body (JSON text; the model is in the path).
    Gemini { body: bytes::Bytes },
    /// An OpenAI Responses body (JSON text) and the conversation to send as its `input`: the
    /// earlier stored turns' items and then this turn's; `include_reasoning`: ask for encrypted
    /// reasoning, so a stored turn can give it back to the same account later.
    OpenAiResponses {
        body: bytes::Bytes,
        input: Vec<Value>,
        include_reasoning: bool,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Of `completion_tokens`, those the model spent reasoning, when the provider says (OpenAI's
    /// `reasoning_tokens`, Gemini's thoughts); 0 when it does not.
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    pub id: String,
    /// The model the upstream says answered.
    pub model: String,
    pub created: i64,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Usage,
    /// The provider's answer as it wrote it, for a [`Native`] request.
    pub raw: Option<Value>,
}

/// One event of a streamed answer, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The first event: the upstream's id and model.
    Start {
        id: String,
        model: String,
        created: i64,
    },
    Text(String),
    Reasoning(String),
    /// A fragment of tool call `index`; `id`/`name` arrive with the first fragment.
    ToolCall {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    Finish {
        reason: String,
    },
    Usage(Usage),
    /// One event of the provider's own stream, for a [`Native`] request, as its wire has it
    /// (Anthropic: the `event:`/`data:` frame; Gemini: the chunk's JSON text): the dialect that
    /// sent the request forwards it as it is; every other dialect reads the events parsed from
    /// it, which follow it.
    Raw(String),
}

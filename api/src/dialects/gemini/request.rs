//! What Gemini clients (`@google/genai`, Gemini CLI) send to `models/{model}:generateContent`,
//! read into the Hub's internal request. A bad field is a 400 naming it
//! (`contents[2].parts[0].functionResponse`), before anything is sent.
//!
//! Mapping: `systemInstruction` → a system message; role `model` → the assistant, its
//! `functionCall` parts → tool calls (ids made up as `call_<turn>_<n>` when the client sent none);
//! `functionResponse` parts → tool messages, matched to their call by id, else by name in order;
//! `inlineData` → an image or file part; `parameters`/`responseSchema` (Gemini's OpenAPI subset)
//! → JSON Schema; `thinkingConfig` → a reasoning effort. Earlier turns' thoughts (`thought: true`)
//! and thought signatures belong to one Google account and are not forwarded. `safetySettings`
//! and `topK` have no counterpart elsewhere and are accepted without being forwarded.

use super::schema::to_json_schema;
use crate::error::ApiError;
use crate::providers::types::{
    ChatRequest, Message, Part, ResponseFormat, Role, Sampling, Tool, ToolCall, ToolChoice,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A `generateContent` body, or a `countTokens` one (which may wrap the request to count in
/// `generateContentRequest`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    pub contents: Option<Value>,
    pub system_instruction: Option<Value>,
    pub tools: Option<Value>,
    pub tool_config: Option<Value>,
    pub generation_config: Option<Value>,
    /// Google's own content filters; no other provider takes them.
    pub safety_settings: Option<Value>,
    pub cached_content: Option<String>,
    /// `countTokens` only.
    pub generate_content_request: Option<Box<GenerateRequest>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    temperature: Option<f64>,
    top_p: Option<f64>,
    /// Not offered by most providers; accepted and not forwarded.
    #[allow(dead_code)]
    top_k: Option<f64>,
    candidate_count: Option<u32>,
    max_output_tokens: Option<u64>,
    #[serde(default)]
    stop_sequences: Vec<String>,
    presence_penalty: Option<f64>,
    frequency_penalty: Option<f64>,
    seed: Option<i64>,
    response_mime_type: Option<String>,
    response_schema: Option<Value>,
    response_json_schema: Option<Value>,
    #[serde(rename = "_responseJsonSchema")]
    response_json_schema_legacy: Option<Value>,
    response_modalities: Option<Vec<String>>,
    thinking_config: Option<ThinkingConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThinkingConfig {
    thinking_budget: Option<i64>,
    thinking_level: Option<String>,
}

/// The Gemini tools that run inside Google (search, code execution, …): no other provider has
/// them and the internal request cannot carry them.
const BUILT_IN_TOOLS: [&str; 9] = [
    "googleSearch",
    "googleSearchRetrieval",
    "codeExecution",
    "urlContext",
    "retrieval",
    "googleMaps",
    "computerUse",
    "fileSearch",
    "enterpriseWebSearch",
];

impl GenerateRequest {
    /// The request a `countTokens` body counts: its `generateContentRequest`, else itself.
    pub fn counted(self) -> GenerateRequest {
        match self.generate_content_request {
            Some(inner) if self.contents.is_none() => *inner,
            _ => self,
        }
    }

    /// The client asked to see the model's thoughts (`thinkingConfig.includeThoughts`).
    pub fn wants_thoughts(&self) -> bool {
        self.generation_config
            .as_ref()
            .and_then(|c| c.get("thinkingConfig"))
            .and_then(|t| t.get("includeThoughts"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn into_internal(self, model: String) -> Result<ChatRequest, ApiError> {
        self.into_internal_for(model, false)
    }

    /// [`Self::into_internal`]; `native`: the model is Gemini's, so the request goes out as the
    /// client wrote it, and what only Gemini has — its built-in tools, code execution parts,
    /// cached contents — is left out of the internal copy instead of refused.
    pub fn into_internal_for(self, model: String, native: bool) -> Result<ChatRequest, ApiError> {
        if let Some(cached) = self.cached_content.filter(|_| !native) {
            return Err(ApiError::invalid(
                "cachedContent",
                format!(
                    "{cached} is a cache in one Google account, which the Hub cannot use for \
                     every provider; send the contents instead"
                ),
            ));
        }
        let mut messages = Vec::new();
        if let Some(system) = self.system_instruction {
            let parts = system_parts(system)?;
            if !parts.is_empty() {
                messages.push(Message::new(Role::System, parts));
            }
        }
        messages.extend(contents(self.contents, native)?);
        let (tools, builtin) = tools(self.tools)?;
        if let Some(field) = builtin.filter(|_| !native) {
            return Err(ApiError::invalid(
                field.clone(),
                format!(
                    "{} is a tool that runs inside Google; the Hub offers function \
                     declarations only",
                    field.rsplit('.').next().unwrap_or(&field)
                ),
            ));
        }
        let (tool_choice, tools) = tool_config(self.tool_config, tools)?;
        let config: GenerationConfig = match self.generation_config {
            Some(c) => {
                serde_json::from_value(c).map_err(|e| ApiError::invalid("generationConfig", e))?
            }
            None => GenerationConfig::default(),
        };
        if config.candidate_count.is_some_and(|n| n > 1) {
            return Err(ApiError::invalid(
                "generationConfig.candidateCount",
                "the Hub answers with one candidate",
            ));
        }
        if let Some(m) = config
            .response_modalities
            .iter()
            .flatten()
            .find(|m| !m.eq_ignore_ascii_case("text"))
        {
            return Err(ApiError::invalid(
                "generationConfig.responseModalities",
                format!("{m} output is not offered through generateContent on the Hub; only TEXT"),
            ));
        }
        let response_format = response_format(&config)?;
        let reasoning_effort = config.thinking_config.as_ref().and_then(effort);
        Ok(ChatRequest {
            native: None,
            model,
            messages,
            tools,
            tool_choice,
            response_format,
            sampling: Sampling {
                temperature: config.temperature,
                top_p: config.top_p,
                max_tokens: config.max_output_tokens,
                stop: config.stop_sequences,
                presence_penalty: config.presence_penalty,
                frequency_penalty: config.frequency_penalty,
                seed: config.seed,
                reasoning_effort,
                user: None,
            },
            extra: Map::new(),
        })
    }
}

/// `thinkingConfig` as an effort level: a level is taken as it is; a budget is bucketed as the
/// Anthropic dialect buckets its own; `-1` (let the model decide) and `0` (no thinking) leave
/// the provider's default.
fn effort(t: &ThinkingConfig) -> Option<String> {
    if let Some(level) = &t.thinking_level {
        return Some(level.to_ascii_lowercase());
    }
    match t.thinking_budget? {
        ..=0 => None,
        1..4096 => Some("low".into()),
        4096..16384 => Some("medium".into()),
        _ => Some("high".into()),
    }
}

fn response_format(config: &GenerationConfig) -> Result<Option<ResponseFormat>, ApiError> {
    let schema = config
        .response_json_schema
        .clone()
        .or_else(|| config.response_json_schema_legacy.clone())
        .or_else(|| config.response_schema.as_ref().map(to_json_schema));
    let mime = config.response_mime_type.as_deref().unwrap_or("text/plain");
    match (mime, schema) {
        ("application/json", None) => Ok(Some(ResponseFormat::JsonObject)),
        ("application/json" | "text/plain", Some(schema)) => Ok(Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema,
            strict: None,
        })),
        ("text/plain", None) => Ok(None),
        (other, _) => Err(ApiError::invalid(
            "generationConfig.responseMimeType",
            format!("{other} is not offered; use text/plain or application/json"),
        )),
    }
}

fn system_parts(system: Value) -> Result<Vec<Part>, ApiError> {
    match system {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![Part::Text(s)]),
        Value::Object(mut content) => {
            let parts = match content.remove("parts") {
                Some(Value::Array(parts)) => parts,
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "systemInstruction.parts",
                        "must be an array of parts",
                    ));
                }
            };
            parts
                .into_iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let at = format!("systemInstruction.parts[{i}]");
                    match read_part(&at, p, false) {
                        Ok(Piece::Content(Part::Text(t))) => Some(Ok(Part::Text(t))),
                        Ok(Piece::Thought) => None,
                        Ok(_) => Some(Err(ApiError::invalid(at, "must be a text part"))),
                        Err(e) => Some(Err(e)),
                    }
                })
                .collect()
        }
        _ => Err(ApiError::invalid(
            "systemInstruction",
            "must be a Content object or a string",
        )),
    }
}

/// One part, as the Hub reads it.
enum Piece {
    Content(Part),
    Thought,
    Call {
        id: Option<String>,
        name: String,
        args: Value,
    },
    Response {
        id: Option<String>,
        name: String,
        response: Value,
    },
}

fn read_part(at: &str, part: Value, native: bool) -> Result<Piece, ApiError> {
    let Value::Object(mut p) = part else {
        return Err(ApiError::invalid(at, "must be a Part object"));
    };
    let string = |v: Option<&Value>, field: &str| -> Result<String, ApiError> {
        v.and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::invalid(format!("{at}.{field}"), "must be a string"))
    };
    if let Some(text) = p.remove("text") {
        if p.get("thought").and_then(Value::as_bool) == Some(true) {
            return Ok(Piece::Thought);
        }
        return match text {
            Value::String(t) => Ok(Piece::Content(Part::Text(t))),
            _ => Err(ApiError::invalid(format!("{at}.text"), "must be a string")),
        };
    }
    if let Some(Value::Object(inline)) = p.remove("inlineData") {
        let mime = string(inline.get("mimeType"), "inlineData.mimeType")?;
        let data = string(inline.get("data"), "inlineData.data")?;
        return Ok(Piece::Content(if mime.starts_with("image/") {
            Part::Image {
                url: format!("data:{mime};base64,{data}"),
                detail: None,
            }
        } else {
            Part::File {
                data,
                mime_type: mime,
                filename: inline
                    .get("displayName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }
        }));
    }
    if let Some(Value::Object(file)) = p.remove("fileData") {
        let uri = string(file.get("fileUri"), "fileData.fileUri")?;
        let mime = file.get("mimeType").and_then(Value::as_str).unwrap_or("");
        let web = uri.starts_with("https://") || uri.starts_with("http://");
        if web && (mime.is_empty() || mime.starts_with("image/")) {
            return Ok(Piece::Content(Part::Image {
                url: uri,
                detail: None,
            }));
        }
        return Err(ApiError::invalid(
            format!("{at}.fileData"),
            "only http(s) image URLs can be forwarded to every provider; send the file as \
             inlineData",
        ));
    }
    if let Some(Value::Object(call)) = p.remove("functionCall") {
        return Ok(Piece::Call {
            id: call.get("id").and_then(Value::as_str).map(str::to_owned),
            name: string(call.get("name"), "functionCall.name")?,
            args: call
                .get("args")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
        });
    }
    if let Some(Value::Object(response)) = p.remove("functionResponse") {
        return Ok(Piece::Response {
            id: response
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            name: string(response.get("name"), "functionResponse.name")?,
            response: response
                .get("response")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
        });
    }
    if let Some(kind) = ["executableCode", "codeExecutionResult"]
        .into_iter()
        .find(|k| p.contains_key(*k))
    {
        if native {
            // Gemini's own code execution: only the native request carries it.
            return Ok(Piece::Thought);
        }
        return Err(ApiError::invalid(
            format!("{at}.{kind}"),
            "code execution runs inside Google; the Hub does not offer it",
        ));
    }
    Err(ApiError::invalid(
        at,
        "a part needs one of text, inlineData, fileData, functionCall or functionResponse",
    ))
}

/// Calls of the model not answered yet, in order: `(id, name)`.
#[derive(Default)]
struct Pending(Vec<(String, String)>);

impl Pending {
    /// The id of the call `response` answers, taken off the list.
    fn answer(&mut self, at: &str, id: Option<&str>, name: &str) -> Result<String, ApiError> {
        let found = match id {
            Some(id) => self.0.iter().position(|(i, _)| i == id),
            None => self.0.iter().position(|(_, n)| n == name),
        };
        match found {
            Some(i) => Ok(self.0.remove(i).0),
            None => Err(ApiError::invalid(
                format!("{at}.functionResponse"),
                match id {
                    Some(id) => format!("no functionCall with id {id} comes before it"),
                    None => format!("no functionCall of {name} comes before it"),
                },
            )),
        }
    }
}

fn contents(contents: Option<Value>, native: bool) -> Result<Vec<Message>, ApiError> {
    let list = match contents {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(ApiError::invalid("contents", "is required and not empty"));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "contents",
                "must be an array of Content objects",
            ));
        }
    };
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for (i, content) in list.into_iter().enumerate() {
        let at = format!("contents[{i}]");
        let Value::Object(mut content) = content else {
            return Err(ApiError::invalid(at, "must be a Content object"));
        };
        let role = match content.remove("role") {
            None | Some(Value::Null) => "user".to_owned(),
            Some(Value::String(r)) => r,
            Some(_) => return Err(ApiError::invalid(format!("{at}.role"), "must be a string")),
        };
        let parts = match content.remove("parts") {
            Some(Value::Array(parts)) => parts,
            _ => {
                return Err(ApiError::invalid(
                    format!("{at}.parts"),
                    "must be an array of parts",
                ));
            }
        };
        let mut pieces = Vec::with_capacity(parts.len());
        for (j, p) in parts.into_iter().enumerate() {
            let part_at = format!("{at}.parts[{j}]");
            pieces.push((read_part(&part_at, p, native)?, part_at));
        }
        match role.as_str() {
            "user" | "function" => user_turn(pieces, &mut pending, &mut out)?,
            "model" => out.push(model_turn(i, pieces, &mut pending)?),
            _ => {
                return Err(ApiError::invalid(
                    format!("{at}.role"),
                    format!("{role} is not a role; use user or model"),
                ));
            }
        }
    }
    Ok(out)
}

/// A user turn: its function responses first (each a tool message), then the rest.
fn user_turn(
    pieces: Vec<(Piece, String)>,
    pending: &mut Pending,
    out: &mut Vec<Message>,
) -> Result<(), ApiError> {
    let mut rest = Vec::new();
    for (piece, at) in pieces {
        match piece {
            Piece::Content(part) => rest.push(part),
            Piece::Thought => {}
            Piece::Response { id, name, response } => {
                let call_id = pending.answer(&at, id.as_deref(), &name)?;
                let mut tool = Message::new(Role::Tool, vec![Part::Text(response.to_string())]);
                tool.tool_call_id = Some(call_id);
                tool.name = Some(name);
                out.push(tool);
            }
            Piece::Call { .. } => {
                return Err(ApiError::invalid(
                    format!("{at}.functionCall"),
                    "only a model turn can call a function",
                ));
            }
        }
    }
    if !rest.is_empty() {
        out.push(Message::new(Role::User, rest));
    }
    Ok(())
}

fn model_turn(
    turn: usize,
    pieces: Vec<(Piece, String)>,
    pending: &mut Pending,
) -> Result<Message, ApiError> {
    let mut message = Message::new(Role::Assistant, Vec::new());
    for (piece, at) in pieces {
        match piece {
            Piece::Content(part) => message.content.push(part),
            Piece::Thought => {}
            Piece::Call { id, name, args } => {
                let id = id.unwrap_or_else(|| format!("call_{turn}_{}", message.tool_calls.len()));
                pending.0.push((id.clone(), name.clone()));
                message.tool_calls.push(ToolCall {
                    id,
                    name,
                    arguments: args.to_string(),
                });
            }
            Piece::Response { .. } => {
                return Err(ApiError::invalid(
                    format!("{at}.functionResponse"),
                    "a function response belongs in a user turn",
                ));
            }
        }
    }
    Ok(message)
}

/// The function declarations of `tools`, and the field of the first built-in tool if any.
fn tools(tools: Option<Value>) -> Result<(Vec<Tool>, Option<String>), ApiError> {
    let list = match tools {
        None | Some(Value::Null) => return Ok((Vec::new(), None)),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(ApiError::invalid(
                "tools",
                "must be an array of Tool objects",
            ));
        }
    };
    let mut out = Vec::new();
    let mut builtin = None;
    for (i, tool) in list.into_iter().enumerate() {
        let Value::Object(tool) = tool else {
            return Err(ApiError::invalid(
                format!("tools[{i}]"),
                "must be a Tool object",
            ));
        };
        if let Some(kind) = BUILT_IN_TOOLS.iter().find(|k| tool.contains_key(**k)) {
            builtin.get_or_insert_with(|| format!("tools[{i}].{kind}"));
            continue;
        }
        let declarations = match tool.get("functionDeclarations") {
            Some(Value::Array(d)) => d,
            None => continue,
            Some(_) => {
                return Err(ApiError::invalid(
                    format!("tools[{i}].functionDeclarations"),
                    "must be an array",
                ));
            }
        };
        for (j, d) in declarations.iter().enumerate() {
            let at = format!("tools[{i}].functionDeclarations[{j}]");
            let name = d
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::invalid(format!("{at}.name"), "is required"))?;
            let parameters = d
                .get("parametersJsonSchema")
                .cloned()
                .or_else(|| d.get("parameters").map(to_json_schema));
            out.push(Tool {
                name: name.to_owned(),
                description: d
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                parameters,
                strict: None,
            });
        }
    }
    Ok((out, builtin))
}

/// `toolConfig.functionCallingConfig` as a tool choice; `ANY` with allowed names keeps only
/// those tools (one name: that function).
fn tool_config(
    config: Option<Value>,
    mut tools: Vec<Tool>,
) -> Result<(Option<ToolChoice>, Vec<Tool>), ApiError> {
    let Some(calling) = config.as_ref().and_then(|c| c.get("functionCallingConfig")) else {
        return Ok((None, tools));
    };
    let mode = calling
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("AUTO");
    let allowed: Vec<&str> = calling
        .get("allowedFunctionNames")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let choice = match mode {
        "AUTO" | "VALIDATED" | "MODE_UNSPECIFIED" => ToolChoice::Auto,
        "NONE" => ToolChoice::None,
        "ANY" => {
            if let Some(unknown) = allowed
                .iter()
                .find(|n| !tools.iter().any(|t| t.name == **n))
            {
                return Err(ApiError::invalid(
                    "toolConfig.functionCallingConfig.allowedFunctionNames",
                    format!("{unknown} is not a declared function"),
                ));
            }
            if !allowed.is_empty() {
                tools.retain(|t| allowed.contains(&t.name.as_str()));
            }
            match allowed.as_slice() {
                [one] => ToolChoice::Function((*one).to_owned()),
                _ => ToolChoice::Required,
            }
        }
        other => {
            return Err(ApiError::invalid(
                "toolConfig.functionCallingConfig.mode",
                format!("{other} is not a mode; use AUTO, ANY, NONE or VALIDATED"),
            ));
        }
    };
    Ok((Some(choice), tools))
}

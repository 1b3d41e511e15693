//! The Gemini dialect: what `@google/genai` and Gemini CLI send to
//! `models/{model}:generateContent` and `:streamGenerateContent`, and the responses, stream
//! chunks and errors they get back, for any provider the Hub routes to. The model and the
//! method are in the path (`{model}:{method}`), not the body.

mod answer;
mod request;
mod schema;
mod stream;

pub use answer::answer_json;
pub use request::GenerateRequest;
pub use stream::GeminiEncoder;

use crate::auth::token::JsonBody;
use crate::error::ApiError;
use crate::providers::types::{ChatRequest, ChatResponse, Native, StreamEvent};
use actix_web::{HttpMessage, HttpRequest, ResponseError};
use hub_core::engine::Done;
use hub_core::engine::context::CallContext;
use hub_core::routing::ModelRef;
use serde_json::{Value, json};

/// The path parameter holding `{model}:{method}`.
pub const TARGET: &str = "target";

/// `(model, method)` of a path's `{model}:{method}`; the model may hold `/`
/// (`openai/gpt-5-mini`) and a leading `models/` is dropped.
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    let (model, method) = target.rsplit_once(':')?;
    let model = model.strip_prefix("models/").unwrap_or(model);
    (!model.is_empty()).then_some((model, method))
}

/// `POST …/models/{model}:generateContent` and `:streamGenerateContent`.
pub struct GeminiGenerate;

/// What the answer needs from the request.
pub struct Options {
    /// `thinkingConfig.includeThoughts`: reasoning goes out as `thought` parts.
    pub thoughts: bool,
    /// `alt=sse`: the stream is SSE, else one JSON array.
    pub sse: bool,
}

impl super::ChatDialect for GeminiGenerate {
    const NAME: &'static str = "gemini";
    type Body = GenerateRequest;
    type Options = Options;
    type Stream = GeminiEncoder;

    fn heading(body: &GenerateRequest, req: &HttpRequest) -> super::Heading<Options> {
        let target = split_target(req.match_info().get(TARGET).unwrap_or_default());
        let sse = url::form_urlencoded::parse(req.query_string().as_bytes())
            .any(|(k, v)| k == "alt" && v == "sse");
        super::Heading {
            model: target.map(|(model, _)| model.to_owned()),
            stream: target.is_some_and(|(_, method)| method == "streamGenerateContent"),
            options: Options {
                thoughts: body.wants_thoughts(),
                sse,
            },
        }
    }

    fn into_chat(
        body: GenerateRequest,
        model: &ModelRef,
        req: &HttpRequest,
    ) -> Result<ChatRequest, ApiError> {
        let google = model.provider == Some(crate::config::ProviderKind::Google);
        let mut chat = body.into_internal_for(model.model.clone(), google)?;
        // For an attempt on Gemini: the body as the client wrote it (thought signatures, safety
        // settings and every other field the Hub does not model kept).
        chat.native = native(req);
        Ok(chat)
    }

    fn answer(
        done: &Done<ChatResponse>,
        _chat: &ChatRequest,
        ctx: &CallContext,
        options: &Options,
    ) -> Vec<u8> {
        match &done.output.raw {
            Some(raw) => raw.to_string().into_bytes(),
            None => answer_json(&done.output, &ctx.requested_model, options.thoughts)
                .to_string()
                .into_bytes(),
        }
    }

    fn stream_content_type(options: &Options) -> &'static str {
        if options.sse {
            "text/event-stream"
        } else {
            "application/json"
        }
    }

    fn stream(
        first: &StreamEvent,
        _model_with_provider: &str,
        ctx: &CallContext,
        options: Options,
    ) -> GeminiEncoder {
        GeminiEncoder::new(first, &ctx.requested_model, options.thoughts, options.sse)
    }

    fn error(err: &ApiError) -> String {
        error_body(err)
    }
}

/// Google's canonical status name for an HTTP status, which its SDKs show.
pub fn status_name(status: u16) -> &'static str {
    match status {
        400 | 413 | 415 | 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        402 => "FAILED_PRECONDITION",
        403 => "PERMISSION_DENIED",
        404 | 405 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// `{"error": {"code", "message", "status", "details"?}}`; a purchase `link` goes in the message
/// (what clients show) and as a `google.rpc.Help` link.
pub fn error_value(status: u16, message: &str, link: Option<&str>) -> Value {
    let mut error = json!({"code": status, "message": message, "status": status_name(status)});
    if let Some(link) = link.filter(|l| !l.is_empty()) {
        if !message.contains(link) {
            error["message"] = json!(format!("{message} Buy credits: {link}"));
        }
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Buy credits", "url": link}],
        }]);
    }
    json!({ "error": error })
}

/// The body of `err` in Gemini's error shape.
pub fn error_body(err: &ApiError) -> String {
    if let ApiError::Internal(e) = err {
        tracing::error!(error = format!("{e:#}"), "internal error");
    }
    let link = match err {
        ApiError::PaymentRequired { link, .. } => Some(link.as_str()),
        _ => None,
    };
    error_value(err.status_code().as_u16(), &err.to_string(), link).to_string()
}

/// The client's own body, for an attempt on Gemini.
pub fn native(req: &HttpRequest) -> Option<Native> {
    req.extensions()
        .get::<JsonBody>()
        .map(|b| Native::Gemini { body: b.0.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Part, ResponseFormat, Role, ToolChoice, Usage};
    use hub_core::engine::relay::{Encoder, StreamEnd};
    use serde_json::{Value, json};

    fn request(body: Value) -> Result<ChatRequest, ApiError> {
        let wire: GenerateRequest = serde_json::from_value(body).expect("wire");
        wire.into_internal("gemini-2.5-pro".into())
    }

    use crate::dialects::field_of;

    #[test]
    fn splits_model_and_method() {
        assert_eq!(
            split_target("gemini-2.5-pro:generateContent"),
            Some(("gemini-2.5-pro", "generateContent"))
        );
        assert_eq!(
            split_target("models/openai/gpt-5-mini:streamGenerateContent"),
            Some(("openai/gpt-5-mini", "streamGenerateContent"))
        );
        assert_eq!(split_target(":countTokens"), None);
        assert_eq!(split_target("gemini-2.5-pro"), None);
    }

    #[test]
    fn converts_contents_calls_responses_and_config() {
        let req = request(json!({
            "systemInstruction": {"parts": [{"text": "be brief"}]},
            "contents": [
                {"role": "user", "parts": [
                    {"text": "weather in Paris?"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
                    {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}}
                ]},
                {"role": "model", "parts": [
                    {"text": "let me look", "thought": true, "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "weather", "args": {"city": "Paris"}}},
                    {"functionCall": {"id": "fc-2", "name": "weather", "args": {"city": "Lyon"}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"id": "fc-2", "name": "weather", "response": {"output": "18C"}}},
                    {"functionResponse": {"name": "weather", "response": {"output": "20C"}}},
                    {"text": "and tomorrow?"}
                ]}
            ],
            "tools": [{"functionDeclarations": [
                {"name": "weather", "description": "forecast", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}},
                {"name": "clock", "parametersJsonSchema": {"type": "object"}}
            ]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}},
            "generationConfig": {
                "temperature": 0.2, "topP": 0.9, "topK": 40, "maxOutputTokens": 256,
                "stopSequences": ["END"], "seed": 7,
                "responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"t": {"type": "NUMBER"}}},
                "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 8192}
            },
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
        }))
        .expect("valid");
        let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Tool,
                Role::User
            ]
        );
        assert_eq!(req.messages[0].text(), "be brief");
        assert_eq!(
            req.messages[1].content[1],
            Part::Image {
                url: "data:image/png;base64,iVBO".into(),
                detail: None
            }
        );
        assert!(
            matches!(&req.messages[1].content[2], Part::File { mime_type, .. } if mime_type == "application/pdf")
        );
        let assistant = &req.messages[2];
        assert!(assistant.content.is_empty(), "thoughts are not forwarded");
        assert_eq!(assistant.tool_calls[0].id, "call_1_0");
        assert_eq!(assistant.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
        assert_eq!(assistant.tool_calls[1].id, "fc-2");
        assert_eq!(req.messages[3].tool_call_id.as_deref(), Some("fc-2"));
        assert_eq!(req.messages[3].text(), r#"{"output":"18C"}"#);
        assert_eq!(
            req.messages[4].tool_call_id.as_deref(),
            Some("call_1_0"),
            "a response without an id answers the first open call of its name"
        );
        assert_eq!(req.tools.len(), 1, "ANY with allowed names keeps those");
        assert_eq!(
            req.tools[0].parameters,
            Some(json!({"type": "object", "properties": {"city": {"type": "string"}}}))
        );
        assert_eq!(
            req.tool_choice,
            Some(ToolChoice::Function("weather".into()))
        );
        assert_eq!(
            req.response_format,
            Some(ResponseFormat::JsonSchema {
                name: "response".into(),
                schema: json!({"type": "object", "properties": {"t": {"type": "number"}}}),
                strict: None
            })
        );
        assert_eq!(req.sampling.max_tokens, Some(256));
        assert_eq!(req.sampling.stop, ["END"]);
        assert_eq!(req.sampling.seed, Some(7));
        assert_eq!(req.sampling.reasoning_effort.as_deref(), Some("medium"));
    }

    #[test]
    fn bad_input_names_the_field() {
        let user = |parts: Value| json!({"contents": [{"role": "user", "parts": parts}]});
        assert_eq!(field_of(request(json!({})).unwrap_err()), "contents");
        assert_eq!(
            field_of(request(user(json!([{"hologram": {}}]))).unwrap_err()),
            "contents[0].parts[0]"
        );
        let orphan = request(user(
            json!([{"functionResponse": {"name": "weather", "response": {}}}]),
        ));
        assert_eq!(
            field_of(orphan.unwrap_err()),
            "contents[0].parts[0].functionResponse"
        );
        let role = request(json!({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}));
        assert_eq!(field_of(role.unwrap_err()), "contents[0].role");
        let mut search = user(json!([{"text": "x"}]));
        search["tools"] = json!([{"googleSearch": {}}]);
        let err = request(search).unwrap_err();
        assert!(err.to_string().contains("googleSearch"), "{err}");
        assert_eq!(field_of(err), "tools[0].googleSearch");
        let mut two = user(json!([{"text": "x"}]));
        two["generationConfig"] = json!({"candidateCount": 2});
        assert_eq!(
            field_of(request(two).unwrap_err()),
            "generationConfig.candidateCount"
        );
        let mut cached = user(json!([{"text": "x"}]));
        cached["cachedContent"] = json!("cachedContents/abc");
        assert_eq!(field_of(request(cached).unwrap_err()), "cachedContent");
        let mut mode = user(json!([{"text": "x"}]));
        mode["toolConfig"] = json!({"functionCallingConfig": {"mode": "SOMETIMES"}});
        assert_eq!(
            field_of(request(mode).unwrap_err()),
            "toolConfig.functionCallingConfig.mode"
        );
    }

    #[test]
    fn count_tokens_reads_the_wrapped_request() {
        let body: GenerateRequest = serde_json::from_value(json!({
            "generateContentRequest": {
                "model": "models/gemini-2.5-pro",
                "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "systemInstruction": {"parts": [{"text": "sys"}]}
            }
        }))
        .expect("wire");
        let chat = body.counted().into_internal("m".into()).expect("valid");
        assert_eq!(chat.messages.len(), 2);
    }

    fn usage() -> Usage {
        Usage {
            reasoning_tokens: 0,
            prompt_tokens: 30,
            completion_tokens: 9,
            cache_read_tokens: 10,
            cache_write_tokens: 0,
        }
    }

    fn encode(sse: bool, thoughts: bool, events: &[StreamEvent]) -> String {
        let first = StreamEvent::Start {
            id: "resp-1".into(),
            model: "gpt-5-mini".into(),
            created: 0,
        };
        let mut e = GeminiEncoder::new(&first, "gemini-2.5-pro", thoughts, sse);
        let mut out = e.start().concat();
        for ev in events {
            out.push_str(&e.event(ev).unwrap_or_default());
        }
        let u = usage();
        out.push_str(
            &e.finish(&StreamEnd {
                usage: &u,
                call_id: "c",
                credits: Default::default(),
            })
            .concat(),
        );
        out
    }

    fn events() -> Vec<StreamEvent> {
        crate::dialects::tool_stream()
    }

    #[test]
    fn streams_sse_chunks_with_calls_whole_at_the_end() {
        let out = encode(true, true, &events());
        let chunks: Vec<Value> = out
            .split("\r\n\r\n")
            .filter(|f| !f.is_empty())
            .map(|f| serde_json::from_str(f.strip_prefix("data: ").expect("data")).expect("json"))
            .collect();
        assert_eq!(chunks.len(), 4);
        assert_eq!(
            chunks[0]["candidates"][0]["content"]["parts"][0],
            json!({"text": "hmm", "thought": true})
        );
        assert_eq!(
            chunks[1]["candidates"][0]["content"]["parts"][0]["text"],
            "Hel"
        );
        let last = &chunks[3];
        assert_eq!(
            last["candidates"][0]["content"]["parts"][0]["functionCall"],
            json!({"id": "call_1", "name": "f", "args": {"a": 1}})
        );
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert_eq!(
            last["usageMetadata"],
            json!({"promptTokenCount": 30, "candidatesTokenCount": 9, "totalTokenCount": 39, "cachedContentTokenCount": 10})
        );
        assert_eq!(last["modelVersion"], "gemini-2.5-pro");
        assert_eq!(last["responseId"], "resp-1");
        let quiet = encode(true, false, &events());
        assert!(!quiet.contains("\"thought\""), "no thoughts unless asked");
    }

    #[test]
    fn streams_a_json_array_without_alt_sse() {
        let out = encode(false, false, &events());
        let chunks: Vec<Value> = serde_json::from_str(&out).expect("one JSON array");
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[2]["candidates"][0]["finishReason"], "STOP");
    }

    #[test]
    fn errors_in_google_shape_with_the_purchase_link() {
        let err = ApiError::PaymentRequired {
            kind: "NOT_ENOUGH",
            message: "not enough credits".into(),
            link: "https://hub/buy".into(),
        };
        let body: Value = serde_json::from_str(&error_body(&err)).expect("json");
        assert_eq!(body["error"]["code"], 402);
        assert_eq!(body["error"]["status"], "FAILED_PRECONDITION");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("https://hub/buy"))
        );
        assert_eq!(
            body["error"]["details"][0]["links"][0]["url"],
            "https://hub/buy"
        );
        let body: Value =
            serde_json::from_str(&error_body(&ApiError::Unauthorized("no key".into())))
                .expect("json");
        assert_eq!(
            body,
            json!({"error": {"code": 401, "message": "no key", "status": "UNAUTHENTICATED"}})
        );
    }
}

//! `POST /api/v1/chat/completions` and `/api/v1/completions`: the legacy AI-Kit format (SPEC
//! §5.4). In: camelCase (`messages` or `prompt`, `maxTokens`, `topP`, `tools`, `toolChoice`,
//! `responseFormat`). Out: `{role: "assistant", text, content, toolCalls?}`, or with
//! `Accept: text/event-stream` (or `stream: true`) frames `data: {"delta": {...}}` then
//! `data: {"usage": {...}}`, no `[DONE]`, and `data: {"error": {"message"}}` on failure.

use crate::auth::V1Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::providers::UpstreamError;
use crate::providers::types::{ChatResponse, StreamEvent, Usage};
use crate::providers::wire::openai::ChatCompletionRequest;
use crate::routes::v2::call::CallContext;
use crate::routes::v2::engine::{self, Encoder};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::http::header::ACCEPT;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

/// The legacy body as an OpenAI request: `prompt` becomes one user message.
fn to_openai(mut body: Map<String, Value>) -> ApiResult<ChatCompletionRequest> {
    body.remove("access_token");
    if !body.contains_key("messages") {
        match body.remove("prompt") {
            Some(Value::String(prompt)) if !prompt.trim().is_empty() => {
                body.insert(
                    "messages".into(),
                    json!([{ "role": "user", "content": prompt }]),
                );
            }
            Some(_) => return Err(ApiError::invalid("prompt", "must be a non-empty string")),
            None => {
                return Err(ApiError::invalid(
                    "messages",
                    "send `messages` (a list) or `prompt` (a string)",
                ));
            }
        }
    }
    let text = Value::Object(body).to_string();
    crate::http::json::parse(text.as_bytes())
}

fn tool_calls_json(calls: &[crate::providers::types::ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect(),
    )
}

pub fn answer_json(response: &ChatResponse) -> Value {
    let text = response.content.clone().unwrap_or_default();
    let mut answer = json!({"role": "assistant", "text": text, "content": text});
    if !response.tool_calls.is_empty() {
        answer["toolCalls"] = tool_calls_json(&response.tool_calls);
    }
    answer
}

pub async fn handle(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let wants_sse = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let body = to_openai(body)?;
    super::require_subscription(&req, &state, &caller).await?;
    let requested = model_name::requested_or_default(body.model.as_deref());
    let model = model_name::parse(&requested);
    let stream = wants_sse || body.wants_stream();
    let chat = body.into_internal(model.model.clone())?;
    let mut plan = state.router.plan(&model)?;
    let mut ctx = CallContext::new(
        &req,
        &caller.identity,
        requested,
        stream,
        &state.instance_id,
    );
    if let Some(app) = caller.app_did() {
        ctx.app_did.get_or_insert_with(|| app.to_owned());
    }
    if stream {
        let opened = engine::open_stream(&state, &http.0, &ctx, &chat, &mut plan).await?;
        return Ok(engine::sse_response().streaming(engine::relay(
            state,
            ctx,
            opened,
            LegacyEncoder,
        )));
    }
    let done = engine::complete(&state, &http.0, &ctx, &chat, &mut plan).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "server-timing",
            engine::server_timing(&ctx, done.upstream_ms),
        ))
        .body(crate::http::json_body(&answer_json(&done.response))))
}

fn frame(value: &Value) -> String {
    format!("data: {value}\n\n")
}

struct LegacyEncoder;

impl Encoder for LegacyEncoder {
    fn start(&mut self) -> Vec<String> {
        Vec::new()
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Text(text) if !text.is_empty() => Some(frame(
                &json!({"delta": {"role": "assistant", "content": text}}),
            )),
            StreamEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                let mut function = Map::new();
                if let Some(name) = name {
                    function.insert("name".into(), json!(name));
                }
                function.insert("arguments".into(), json!(arguments));
                let mut call = json!({"index": index, "type": "function", "function": function});
                if let Some(id) = id {
                    call["id"] = json!(id);
                }
                Some(frame(
                    &json!({"delta": {"role": "assistant", "toolCalls": [call]}}),
                ))
            }
            _ => None,
        }
    }

    fn finish(&mut self, usage: &Usage, _call_id: &str) -> Vec<String> {
        vec![frame(&json!({"usage": {
            "promptTokens": usage.prompt_tokens,
            "completionTokens": usage.completion_tokens,
            "totalTokens": usage.total(),
        }}))]
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        frame(&json!({"error": {"message": err.to_string()}}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_becomes_a_user_message_and_camel_case_is_read() {
        let body =
            json!({"prompt": "Hi", "maxTokens": 5, "topP": 0.5, "model": "openai/gpt-5-mini"});
        let Value::Object(map) = body else { panic!() };
        let req = to_openai(map).expect("ok");
        assert_eq!(req.max_tokens, Some(5));
        assert_eq!(req.top_p, Some(0.5));
        assert_eq!(req.messages.len(), 1);
        let Value::Object(empty) = json!({"model": "x"}) else {
            panic!()
        };
        assert!(to_openai(empty).is_err());
    }

    #[test]
    fn frames_match_the_legacy_shape() {
        let mut e = LegacyEncoder;
        assert_eq!(
            e.event(&StreamEvent::Text("he".into())).as_deref(),
            Some("data: {\"delta\":{\"content\":\"he\",\"role\":\"assistant\"}}\n\n")
        );
        let usage = Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
            ..Usage::default()
        };
        assert_eq!(
            e.finish(&usage, "id"),
            vec![
                "data: {\"usage\":{\"completionTokens\":4,\"promptTokens\":3,\"totalTokens\":7}}\n\n"
                    .to_owned()
            ]
        );
    }
}

//! `POST /api/v2/chat/completions` (and `/api/v2/completions`): OpenAI's wire format in and out.

use super::call::CallContext;
use super::engine::{self, Encoder};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::providers::UpstreamError;
use crate::providers::types::{StreamEvent, Usage};
use crate::providers::wire::openai::{self as wire, ChatCompletionRequest, ChunkWriter};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<ChatCompletionRequest>,
) -> ApiResult<HttpResponse> {
    let requested = model_name::requested_or_default(body.model.as_deref());
    let model = model_name::parse(&requested);
    let stream = body.wants_stream();
    let include_usage = body.include_usage();
    let chat = body.into_internal(model.model.clone())?;
    let mut plan = state.router.plan(&model)?;
    let ctx = CallContext::new(&req, &me, requested, stream, &state.instance_id);
    if stream {
        let opened = engine::open_stream(&state, &http.0, &ctx, &chat, &mut plan).await?;
        let (id, created) = match &opened.first {
            StreamEvent::Start { id, created, .. } if !id.is_empty() => (id.clone(), *created),
            _ => (
                format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
                chrono::Utc::now().timestamp(),
            ),
        };
        let encoder = OpenAiEncoder {
            writer: ChunkWriter {
                id,
                model: ctx.requested_model.clone(),
                created,
            },
            include_usage,
            started: matches!(opened.first, StreamEvent::Start { .. }),
        };
        return Ok(engine::sse_response().streaming(engine::relay(state, ctx, opened, encoder)));
    }
    let done = engine::complete(&state, &http.0, &ctx, &chat, &mut plan).await?;
    let body = crate::http::json_body(&wire::completion_json(&done.response, &ctx.requested_model));
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "server-timing",
            engine::server_timing(&ctx, done.upstream_ms),
        ))
        .body(body))
}

struct OpenAiEncoder {
    writer: ChunkWriter,
    include_usage: bool,
    /// Whether the stream opens with a `Start` event (which gives the role frame).
    started: bool,
}

impl Encoder for OpenAiEncoder {
    fn start(&mut self) -> Vec<String> {
        if self.started {
            return Vec::new();
        }
        let start = StreamEvent::Start {
            id: String::new(),
            model: String::new(),
            created: 0,
        };
        self.writer.event(&start).into_iter().collect()
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        self.writer.event(event)
    }

    fn finish(&mut self, usage: &Usage, _call_id: &str) -> Vec<String> {
        let mut frames = Vec::new();
        if self.include_usage {
            frames.push(self.writer.usage(usage));
        }
        frames.push(wire::DONE.to_owned());
        frames
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        let kind = if err.client_status() == 429 {
            "rate_limit_error"
        } else {
            "api_error"
        };
        wire::stream_error(&err.to_string(), kind)
    }
}

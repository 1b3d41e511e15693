//! `POST /api/v2/chat`: the AIGNE-native chat that `@aigne/aigne-hub` speaks (SPEC §5.3).

use super::call::CallContext;
use super::engine::{self, Encoder};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::providers::UpstreamError;
use crate::providers::types::{StreamEvent, Usage};
use crate::providers::wire::aigne::{AigneChatRequest, FrameWriter, answer_json};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<AigneChatRequest>,
) -> ApiResult<HttpResponse> {
    let requested = body
        .model()
        .unwrap_or_else(|| model_name::DEFAULT_CHAT_MODEL.to_owned());
    let model = model_name::parse(&requested);
    let stream = body.streaming();
    let wants_json = body.wants_json();
    let chat = body.into_internal(model.model.clone())?;
    let mut plan = state.router.plan(&model)?;
    let ctx = CallContext::new(&req, &me, requested, stream, &state.instance_id);
    if stream {
        let opened = engine::open_stream(&state, &http.0, &ctx, &chat, &mut plan).await?;
        let encoder = AigneEncoder(FrameWriter::new(
            opened.model_with_provider.clone(),
            wants_json,
        ));
        return Ok(engine::sse_response().streaming(engine::relay(state, ctx, opened, encoder)));
    }
    let done = engine::complete(&state, &http.0, &ctx, &chat, &mut plan).await?;
    let body = answer_json(
        &done.response,
        &chat.model,
        &done.model_with_provider,
        wants_json,
        &done.call_id,
    );
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "server-timing",
            engine::server_timing(&ctx, done.upstream_ms),
        ))
        .body(crate::http::json_body(&body)))
}

struct AigneEncoder(FrameWriter);

impl Encoder for AigneEncoder {
    fn start(&mut self) -> Vec<String> {
        vec![self.0.start()]
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        self.0.event(event)
    }

    fn finish(&mut self, usage: &Usage, call_id: &str) -> Vec<String> {
        self.0.finish(usage, call_id)
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        FrameWriter::error(&err.to_string())
    }
}

//! `POST /api/v2/video` (AIGNE-native, what `AIGNEHubVideoModel` sends): the provider's job is
//! created and polled by the Hub (bounded by `upstream.job_timeout_secs`), the video is stored
//! or linked, and `{videos, seconds, usage, model}` comes back. Headers go out early on a long
//! job (see [`super::early`]). Billed on seconds × the video rate.

use super::gateway as unary;
use super::images::aigne_usage;
use super::media_out::{self, Delivered};
use crate::auth::Authenticated;
use crate::dialects::media::AigneEnvelope;
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::providers::Modality;
use crate::providers::media::Measure;
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Seconds held at admission when the request names none (providers' usual default length).
const DEFAULT_SECONDS: u32 = 8;

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<AigneEnvelope>,
) -> ApiResult<HttpResponse> {
    let mut request = body.video_request()?;
    let requested =
        model_name::requested_or(body.model().as_deref(), model_name::DEFAULT_VIDEO_MODEL);
    let delivery = body.delivery();
    let ctx = super::gateway::context(&req, &me, requested, false, &state.instance_id)
        .of(Modality::Video);
    let model = state.router.resolve(&ctx.requested_model)?;
    let mut plan = state.router.plan_for(&model, Modality::Video)?;
    request.model = model.model.clone();
    let http = http.0.clone();
    let headers_after = state.settings.upstream.early_headers;
    let work = async move {
        let held = Decimal::from(request.seconds.unwrap_or(DEFAULT_SECONDS));
        let request = &request;
        let (state_ref, http_ref) = (&state, &http);
        let jobs = state.jobs;
        let done = unary::run(
            &state,
            &ctx,
            Modality::Video,
            &model.model,
            &mut plan,
            |r| held * r.output,
            |up| async move {
                let out = up
                    .provider
                    .video(http_ref, &up.target(), request, &state_ref.timeouts, &jobs)
                    .await?;
                let measure = Measure {
                    seconds: Some(out.seconds),
                    ..Measure::default()
                };
                Ok((out, measure))
            },
        )
        .await?;
        let usage = aigne_usage(&done);
        let seconds = done.output.seconds;
        let files: Vec<Delivered> =
            media_out::deliver(&state, &http, &req, done.output.videos, delivery).await?;
        let videos: Vec<Value> = files.iter().map(Delivered::aigne_json).collect();
        let body = json!({
            "videos": videos,
            "seconds": seconds.normalize().to_string().parse::<f64>().unwrap_or(0.0),
            "usage": usage,
            "model": done.model_with_provider,
        });
        Ok((body, super::gateway::server_timing(&ctx, done.upstream_ms)))
    };
    super::early::respond(work, headers_after).await
}

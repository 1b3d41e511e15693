//! Any chat dialect through the core engine: the body's model checked and planned, the call's
//! context read from the request, one answer or a stream, and errors in the dialect's shape.

use crate::auth::{Authenticated, Identity};
use crate::dialects::ChatDialect;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::routes::v2::gateway;
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

/// A route of dialect `D` whose every error — a missing key and a bad body included — is
/// answered in the dialect's shape, so its SDKs raise their own typed errors.
pub async fn handle<D: ChatDialect>(
    req: HttpRequest,
    auth: Result<Authenticated, ApiError>,
    body: Result<ApiJson<D::Body>, ApiError>,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
) -> HttpResponse
where
    D::Body: serde::de::DeserializeOwned,
{
    let checked = auth.and_then(|Authenticated(me)| body.map(|ApiJson(body)| (me, body)));
    match checked {
        Ok((me, body)) => serve::<D>(&req, &me, None, &state, &http.0, body).await,
        Err(e) => error::<D>(&e),
    }
}

/// `err` in dialect `D`'s shape.
pub fn error<D: ChatDialect>(err: &ApiError) -> HttpResponse {
    HttpResponse::build(err.status_code())
        .content_type("application/json")
        .body(D::error(err))
}

/// Serves one chat call of dialect `D` for `me`; `app_did` names the calling app when the
/// route's authentication knows it (signed component calls).
pub async fn serve<D: ChatDialect>(
    req: &HttpRequest,
    me: &Identity,
    app_did: Option<&str>,
    state: &AppState,
    http: &reqwest::Client,
    body: D::Body,
) -> HttpResponse {
    match run::<D>(req, me, app_did, state, http, body).await {
        Ok(answer) => answer,
        Err(e) => error::<D>(&e),
    }
}

async fn run<D: ChatDialect>(
    req: &HttpRequest,
    me: &Identity,
    app_did: Option<&str>,
    state: &AppState,
    http: &reqwest::Client,
    body: D::Body,
) -> ApiResult<HttpResponse> {
    let heading = D::heading(&body, req);
    let requested = model_name::requested_or_default(heading.model.as_deref());
    let model = state.router.resolve(&requested)?;
    let chat = D::into_chat(body, &model, req)?;
    let mut plan = state.router.plan(&model)?;
    let mut ctx = gateway::context(req, me, requested, heading.stream, &state.instance_id);
    ctx.dialect = D::NAME;
    if let Some(app) = app_did {
        ctx.app_did.get_or_insert_with(|| app.to_owned());
    }
    if heading.stream {
        let opened = gateway::open_stream(state, http, &ctx, &chat, &mut plan).await?;
        let content_type = D::stream_content_type(&heading.options);
        let encoder = D::stream(
            &opened.first,
            &opened.model_with_provider,
            &ctx,
            heading.options,
        );
        return Ok(gateway::sse_response()
            .insert_header((actix_web::http::header::CONTENT_TYPE, content_type))
            .streaming(gateway::relay(state, ctx, opened, encoder)));
    }
    let done = gateway::complete(state, http, &ctx, &chat, &mut plan).await?;
    let body = D::answer(&done, &chat, &ctx, &heading.options);
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "server-timing",
            gateway::server_timing(&ctx, done.upstream_ms),
        ))
        .body(body))
}

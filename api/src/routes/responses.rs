//! The OpenAI Responses API (`/v1/responses`, `/api/v2/responses`): a turn through the engine
//! like any chat call, stored per user unless `store: false`, and continued by
//! `previous_response_id` — the Hub rebuilds the conversation from its own rows and sends it to
//! whichever provider and key serve the turn, so a conversation survives key rotation, failover
//! and a change of provider.

use crate::auth::token::JsonBody;
use crate::auth::{Authenticated, Identity};
use crate::config::ProviderKind;
use crate::db::responses::{self as repo, StoredResponse};
use crate::dialects::responses::{
    FinalSlot, ResponsesEncoder, ResponsesRequest, Turn, adopt, output_items, response_json,
    status_of,
};
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::providers::types::{Native, StreamEvent};
use crate::routes::v2::gateway;
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no response with id '{id}' (or it is not yours)"))
}

/// `POST …/responses`.
pub async fn create(
    req: HttpRequest,
    auth: Result<Authenticated, ApiError>,
    body: Result<ApiJson<ResponsesRequest>, ApiError>,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
) -> HttpResponse {
    let checked = auth.and_then(|Authenticated(me)| body.map(|ApiJson(body)| (me, body)));
    let outcome = match checked {
        Ok((me, body)) => run(&req, &me, &state, &http.0, body).await,
        Err(e) => Err(e),
    };
    outcome.unwrap_or_else(|e| e.error_response())
}

async fn run(
    req: &HttpRequest,
    me: &Identity,
    state: &AppState,
    http: &reqwest::Client,
    body: ResponsesRequest,
) -> ApiResult<HttpResponse> {
    let requested = model_name::requested_or_default(body.model.as_deref());
    let model = state.router.resolve(&requested)?;
    let input = body.input_items()?;
    let previous = body.previous()?.map(str::to_owned);
    let user = me.user_did.clone();
    // The earlier turns' items, oldest first: each turn's input and then its output.
    let history: Vec<Value> = match previous.clone() {
        None => Vec::new(),
        Some(id) => {
            let user = user.clone();
            let turns = state
                .db
                .run(move |conn| {
                    repo::chain(conn, &user, &id)?.ok_or_else(|| {
                        ApiError::invalid(
                            "previous_response_id",
                            format!("no response with id '{id}' (or it is not yours)"),
                        )
                    })
                })
                .await?;
            let mut items = Vec::new();
            for turn in turns {
                for column in [&turn.input, &turn.output] {
                    let parsed: Vec<Value> = serde_json::from_str(column).map_err(|e| {
                        ApiError::Internal(anyhow::anyhow!("stored response {}: {e}", turn.id))
                    })?;
                    items.extend(parsed);
                }
            }
            items
        }
    };
    let stream = body.wants_stream();
    let store = body.stores();
    let echo = body.echo();
    // Encrypted reasoning is asked for when the Hub keeps the turn, so the next turn can give it
    // back (to the same account: see `providers::openai_responses`).
    let include_reasoning = store && body.reasoning.as_ref().is_some_and(|r| !r.is_null());
    let openai = model.provider == Some(ProviderKind::OpenAi);
    let mut chat = body.into_internal_for(model.model.clone(), &history, &input, openai)?;
    // An attempt on OpenAI sends the client's own body with the whole conversation as `input`
    // (a model prefixed with another provider never reaches OpenAI: no copy for it).
    let may_reach_openai = model.provider.is_none_or(|k| k == ProviderKind::OpenAi);
    if may_reach_openai && let Some(JsonBody(raw)) = req.extensions().get::<JsonBody>().cloned() {
        let mut conversation = history;
        conversation.extend(input.iter().cloned());
        chat.native = Some(Native::OpenAiResponses {
            body: raw,
            input: conversation,
            include_reasoning,
        });
    }
    let mut plan = state.router.plan(&model)?;
    let mut ctx = gateway::context(req, me, requested.clone(), stream, &state.instance_id);
    ctx.dialect = "responses";
    // A stored turn's write commits the call's row with it (one commit for both).
    ctx.row_committed_by_route = store;
    let (key, id) = repo::new_turn_id();
    let turn = Turn {
        id,
        created_at: chrono::Utc::now().timestamp(),
        model: requested,
    };
    let saver = store.then(|| Saver {
        recorder: state.recorder.clone(),
        key,
        user,
        id: turn.id.clone(),
        previous,
        input: input.clone(),
    });
    if stream {
        let opened = gateway::open_stream(state, http, &ctx, &chat, &mut plan).await?;
        let slot: FinalSlot = Arc::new(Mutex::new(None));
        let kept = saver.is_some().then(|| slot.clone());
        let encoder = match opened.first {
            StreamEvent::Raw(_) => ResponsesEncoder::native(turn, echo, kept),
            _ => ResponsesEncoder::new(turn, echo, kept),
        };
        let frames = gateway::relay(state, ctx, opened, encoder);
        return Ok(gateway::sse_response().streaming(save_before_the_end(frames, slot, saver)));
    }
    let mut done = gateway::complete(state, http, &ctx, &chat, &mut plan).await?;
    let mut response = match done.output.raw.take() {
        // OpenAI's own response, as it wrote it, made this turn.
        Some(mut raw) => {
            adopt(&mut raw, &turn, &echo);
            raw
        }
        None => {
            let answer = &done.output;
            let (status, incomplete) = status_of(answer.finish_reason.as_deref());
            let output = output_items(
                answer.content.as_deref(),
                answer.reasoning.as_deref(),
                &answer.tool_calls,
            );
            response_json(
                &turn,
                &echo,
                status,
                incomplete,
                output,
                Some(&answer.usage),
            )
        }
    };
    if let Some(saver) = saver {
        saver.save(&mut response).await?;
    }
    Ok(HttpResponse::Ok()
        .insert_header((
            "server-timing",
            gateway::server_timing(&ctx, done.upstream_ms),
        ))
        .json(response))
}

/// What storing one turn needs.
struct Saver {
    /// The usage writer: a turn commits with its batch, so storing it costs no transaction of
    /// its own (measured: a separate insert cost 40–60% of a stored turn's latency under load).
    recorder: std::sync::Arc<hub_core::usage::Recorder>,
    key: i64,
    user: String,
    id: String,
    previous: Option<String>,
    input: Vec<Value>,
}

impl Saver {
    async fn save(self, response: &mut Value) -> ApiResult<()> {
        let id = self.id.clone();
        // The output items are kept once, in `output`; the body holds the rest (`output: null`)
        // and `get` puts them back. They are taken out for writing and put back after (no copy
        // of the response: this runs for every stored turn).
        let (output, body) = match response.get_mut("output").map(Value::take) {
            Some(items) => {
                let body = response.to_string();
                let output = items.to_string();
                response["output"] = items;
                (output, body)
            }
            None => ("[]".to_owned(), response.to_string()),
        };
        let row = StoredResponse {
            turn_key: self.key,
            id: self.id,
            user_did: self.user,
            previous_response_id: self.previous,
            input: Value::Array(self.input).to_string(),
            output,
            body,
            created_at: chrono::Utc::now().naive_utc(),
        };
        self.recorder
            .store_response(row)
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("storing response {id}: {e}")))
    }
}

/// Passes a stream's frames on; once the encoder has left the final response in `slot` (just
/// before the `response.completed` frame), the turn is stored first, so a client that continues
/// the conversation the moment it reads that event finds it.
fn save_before_the_end(
    frames: impl futures_util::Stream<Item = Result<Bytes, ApiError>> + 'static,
    slot: FinalSlot,
    saver: Option<Saver>,
) -> impl futures_util::Stream<Item = Result<Bytes, ApiError>> + 'static {
    async_stream::stream! {
        let mut saver = saver;
        let mut frames = std::pin::pin!(frames);
        while let Some(frame) = frames.next().await {
            let last = match saver {
                Some(_) => slot.lock().ok().and_then(|mut s| s.take()),
                None => None,
            };
            if let Some(mut response) = last
                && let Some(s) = saver.take()
                && let Err(e) = s.save(&mut response).await
            {
                tracing::warn!("storing a streamed response failed: {e}");
            }
            yield frame;
        }
    }
}

/// `GET …/responses/{id}`: a stored response, as it was answered.
pub async fn get(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let row = stored(auth?, &state, id.into_inner()).await?;
    let mut body: Value = serde_json::from_str(&row.body)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored response {}: {e}", row.id)))?;
    // Turns stored before the output was kept apart hold it in the body already.
    if body.get("output").is_none_or(Value::is_null) {
        body["output"] = serde_json::from_str(&row.output)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored output {}: {e}", row.id)))?;
    }
    Ok(HttpResponse::Ok().json(body))
}

/// The caller's stored response `id` (another user's is as unknown as a missing one).
async fn stored(me: Authenticated, state: &AppState, id: String) -> ApiResult<StoredResponse> {
    let Authenticated(me) = me;
    state
        .db
        .run(move |conn| repo::get(conn, &me.user_did, &id)?.ok_or_else(|| not_found(&id)))
        .await
}

/// `DELETE …/responses/{id}` → `{id, object: "response.deleted", deleted: true}`.
pub async fn delete(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let Authenticated(me) = auth?;
    let id = id.into_inner();
    let gone = id.clone();
    state
        .db
        .run(move |conn| match repo::delete(conn, &me.user_did, &id)? {
            0 => Err(not_found(&id)),
            _ => Ok(()),
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"id": gone, "object": "response.deleted", "deleted": true})))
}

/// `GET …/responses/{id}/input_items`: the turn's input items, as a list page (`order=asc|desc`,
/// default `desc` as OpenAI answers).
pub async fn input_items(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let row = stored(auth?, &state, id.into_inner()).await?;
    let mut items: Vec<Value> = serde_json::from_str(&row.input)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored response {}: {e}", row.id)))?;
    for (i, item) in items.iter_mut().enumerate() {
        if item.get("id").is_none() {
            item["id"] = json!(format!("{}_in_{i}", row.id));
        }
        if item.get("type").is_none() {
            item["type"] = json!("message");
        }
    }
    match query.get("order").map(String::as_str) {
        None | Some("desc") => items.reverse(),
        Some("asc") => {}
        Some(_) => return Err(ApiError::invalid("order", "must be asc or desc")),
    }
    Ok(HttpResponse::Ok().json(json!({
        "object": "list",
        "data": items,
        "first_id": items.first().map(|i| i["id"].clone()),
        "last_id": items.last().map(|i| i["id"].clone()),
        "has_more": false,
    })))
}

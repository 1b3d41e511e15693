//! Public and discovery routes (SPEC §5.5): model lists, status, and `/__blocklet__.js`, which the
//! real `@aigne/aigne-hub` client reads to find the Hub.

use crate::auth::Authenticated;
use crate::config::Mode;
use crate::db::rates::{self as rates_repo, RateFilter, RateRow};
use crate::db::{DbError, Page};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::providers::known_models;
use crate::routing::{Catalog, model_name};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};

pub const HUB_DID: &str = "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ";

/// Public type names ↔ rate types.
fn public_type(rate_type: &str) -> &'static str {
    match rate_type {
        "embedding" => "embedding",
        "imageGeneration" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "chat",
    }
}

fn rate_type(public: &str) -> Result<&'static str, ApiError> {
    match public {
        "chat" | "chatCompletion" => Ok("chatCompletion"),
        "embedding" => Ok("embedding"),
        "image" | "imageGeneration" => Ok("imageGeneration"),
        "video" => Ok("video"),
        "audio" => Ok("audio"),
        other => Err(ApiError::invalid(
            "type",
            format!("'{other}' is not one of chat, image, video, embedding, audio"),
        )),
    }
}

/// One routable model.
struct Entry {
    provider: &'static str,
    provider_display: &'static str,
    provider_id: String,
    model: String,
    kind: String,
    input: String,
    output: String,
    metadata: Value,
    /// `{available, error?, lastChecked?, responseTime?}`.
    status: Value,
}

/// A model's public status: unavailable while its status row says so (a provider cooling down
/// is only tried last, not unavailable); the row's last check and error when there is one.
fn status_of(
    catalog: &Catalog,
    provider: &crate::routing::ProviderEntry,
    model: &str,
    kind: &str,
) -> Value {
    let row = catalog
        .model_statuses
        .iter()
        .find(|s| s.provider_id == provider.id && s.model == model && s.type_ == kind);
    let mut status = json!({"available": row.is_none_or(|r| r.available)});
    if let Some(r) = row {
        status["lastChecked"] = json!(crate::routes::time::iso(r.checked_at));
        if let Some(ms) = r.response_time {
            status["responseTime"] = json!(ms);
        }
        if let Some(error) = r.error.as_deref().filter(|_| !r.available) {
            status["error"] = serde_json::from_str(error).unwrap_or(json!({"message": error}));
        }
    }
    status
}

/// Models from rate rows of configured providers, and from the built-in catalog for configured
/// providers without rate rows.
async fn entries(state: &AppState, kind: Option<&'static str>) -> ApiResult<Vec<Entry>> {
    let catalog: std::sync::Arc<Catalog> = state.router.catalog();
    let rows: Vec<RateRow> = state
        .db
        .run(move |conn| {
            let page = Page {
                page: 1,
                page_size: 10_000,
            };
            Ok::<_, DbError>(rates_repo::list(conn, &RateFilter::default(), page)?.1)
        })
        .await?;
    let mut out = Vec::new();
    for provider in catalog.providers.iter().filter(|p| p.usable()) {
        let own: Vec<&RateRow> = rows
            .iter()
            .filter(|r| r.provider_id == provider.id && !r.deprecated)
            .collect();
        let base =
            |model: String, kind: String, input: String, output: String, metadata: Value| Entry {
                provider: provider.kind.name(),
                provider_display: provider.kind.display_name(),
                provider_id: provider.id.clone(),
                status: status_of(&catalog, provider, &model, &kind),
                model,
                kind,
                input,
                output,
                metadata,
            };
        if own.is_empty() {
            for m in known_models::for_provider(provider.kind) {
                let metadata = json!({"maxTokens": m.max_tokens, "features": m.features});
                out.push(base(
                    m.model.clone(),
                    m.kind.clone(),
                    "0".into(),
                    "0".into(),
                    metadata,
                ));
            }
        } else {
            for r in own {
                let metadata = r
                    .model_metadata
                    .as_deref()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or(json!({}));
                out.push(base(
                    r.model.clone(),
                    r.kind.clone(),
                    r.input_rate.clone(),
                    r.output_rate.clone(),
                    metadata,
                ));
            }
        }
    }
    if let Some(kind) = kind {
        out.retain(|e| e.kind == kind);
    }
    Ok(out)
}

/// `GET /api/ai/models` and `GET /api/ai-providers/models?type=`: the real Hub's public list.
pub async fn ai_models(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let kind = params.get("type").map(rate_type).transpose()?;
    let list: Vec<Value> = entries(&state, kind)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "key": format!("{}/{}", e.provider, e.model),
                "model": e.model,
                "type": public_type(&e.kind),
                "provider": e.provider,
                "providerId": e.provider_id,
                "input_credits_per_token": e.input,
                "output_credits_per_token": e.output,
                "modelMetadata": e.metadata,
                "status": e.status,
                "providerDisplayName": e.provider_display,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// The exact aliases whose target's provider can serve calls now, by name: `(alias, target,
/// provider)`. Glob aliases name no model, so lists cannot show them.
fn listed_aliases(state: &AppState) -> Vec<(String, String, &'static str)> {
    let catalog = state.router.catalog();
    let mut out: Vec<_> = catalog
        .aliases
        .exact()
        .filter_map(|(alias, target)| {
            let kind = model_name::parse(target).ok()?.provider?;
            catalog
                .get(kind)
                .filter(|p| p.usable())
                .map(|_| (alias.to_owned(), target.to_owned(), kind.name()))
        })
        .collect();
    out.sort();
    out
}

/// `GET /api/v2/models`: OpenAI's model list of every routable `provider/model`, then the
/// operator's exact aliases (each says what it stands for in `aigne_hub_alias_of`).
pub async fn v2_models(_: Authenticated, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let created = chrono::Utc::now().timestamp();
    let mut data: Vec<Value> = entries(&state, None)
        .await?
        .into_iter()
        .map(|e| json!({"id": format!("{}/{}", e.provider, e.model), "object": "model", "created": created, "owned_by": e.provider}))
        .collect();
    data.extend(listed_aliases(&state).into_iter().map(|(alias, target, provider)| {
        json!({"id": alias, "object": "model", "created": created, "owned_by": provider, "aigne_hub_alias_of": target})
    }));
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}

/// `GET /v1/models` (and `/api/v2/v1/models`): OpenAI's list, Anthropic's when the caller is
/// an Anthropic client (it sends `anthropic-version`), Gemini's when it is a Google one (it sends
/// `x-goog-api-client` or `x-goog-api-key`; `@google/genai` lists at `v1`), with errors in that
/// client's shape.
pub async fn v1_models(
    req: HttpRequest,
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
) -> HttpResponse {
    use crate::dialects::anthropic::AnthropicMessages;
    if ["x-goog-api-client", "x-goog-api-key"]
        .iter()
        .any(|h| req.headers().contains_key(*h))
    {
        return gemini_models(auth, state).await;
    }
    if !req.headers().contains_key("anthropic-version") {
        return match auth {
            Ok(me) => v2_models(me, state)
                .await
                .unwrap_or_else(|e| e.error_response()),
            Err(e) => e.error_response(),
        };
    }
    let listed = match auth {
        Ok(_) => entries(&state, Some("chatCompletion")).await,
        Err(e) => Err(e),
    };
    match listed {
        Ok(list) => {
            let mut data: Vec<Value> = list
                .iter()
                .map(|e| {
                    let id = format!("{}/{}", e.provider, e.model);
                    json!({"type": "model", "id": id, "display_name": id, "created_at": "1970-01-01T00:00:00Z"})
                })
                .collect();
            data.extend(listed_aliases(&state).into_iter().map(|(alias, target, _)| {
                json!({"type": "model", "id": alias, "display_name": format!("{alias} → {target}"), "created_at": "1970-01-01T00:00:00Z"})
            }));
            HttpResponse::Ok().json(json!({
                "first_id": data.first().map(|m| m["id"].clone()),
                "last_id": data.last().map(|m| m["id"].clone()),
                "has_more": false,
                "data": data,
            }))
        }
        Err(e) => crate::routes::chat::error::<AnthropicMessages>(&e),
    }
}

/// Gemini's model objects: every chat model as `models/{provider}/{model}`, then the exact
/// aliases as `models/{alias}`.
async fn gemini_list(state: &AppState) -> ApiResult<Vec<Value>> {
    const METHODS: [&str; 3] = ["generateContent", "streamGenerateContent", "countTokens"];
    let mut out: Vec<Value> = entries(state, Some("chatCompletion"))
        .await?
        .iter()
        .map(|e| {
            let id = format!("{}/{}", e.provider, e.model);
            json!({"name": format!("models/{id}"), "displayName": id, "version": "", "supportedGenerationMethods": METHODS})
        })
        .collect();
    out.extend(listed_aliases(state).into_iter().map(|(alias, target, _)| {
        json!({"name": format!("models/{alias}"), "displayName": format!("{alias} → {target}"), "version": "", "supportedGenerationMethods": METHODS})
    }));
    Ok(out)
}

/// `GET /v1beta/models`: Gemini's list (one page), errors in Gemini's shape.
pub async fn gemini_models(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
) -> HttpResponse {
    use crate::dialects::gemini::GeminiGenerate;
    let listed = match auth {
        Ok(_) => gemini_list(&state).await,
        Err(e) => Err(e),
    };
    match listed {
        Ok(models) => HttpResponse::Ok().json(json!({ "models": models })),
        Err(e) => crate::routes::chat::error::<GeminiGenerate>(&e),
    }
}

/// `GET /v1beta/models/{model}`: one of [`gemini_models`]' entries, or a 404 in Gemini's shape.
pub async fn gemini_model(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    use crate::dialects::gemini::GeminiGenerate;
    let wanted = format!("models/{}", path.trim_start_matches("models/"));
    let found = match auth {
        Ok(_) => gemini_list(&state).await.and_then(|list| {
            list.into_iter()
                .find(|m| m["name"] == wanted.as_str())
                .ok_or_else(|| ApiError::NotFound(format!("{wanted} is not a model of this hub")))
        }),
        Err(e) => Err(e),
    };
    match found {
        Ok(model) => HttpResponse::Ok().json(model),
        Err(e) => crate::routes::chat::error::<GeminiGenerate>(&e),
    }
}

/// `GET /api/enums`: the names the Hub accepts, for the console (one source, not copies): call
/// types, call statuses, provider kinds with their display names and default base URLs, and
/// the roles an access key can have.
pub async fn enums() -> HttpResponse {
    use crate::config::ProviderKind;
    use crate::usage::{CallStatus, CallType};
    let providers: Vec<Value> = ProviderKind::ALL
        .iter()
        .map(|k| json!({"name": k.name(), "displayName": k.display_name(), "defaultBaseUrl": k.default_base_url()}))
        .collect();
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(json!({
            "callTypes": CallType::names(),
            "callStatuses": CallStatus::ALL.map(CallStatus::as_str),
            "providers": providers,
            "keyRoles": crate::auth::Role::KEY_ROLES.map(crate::auth::Role::as_str),
        }))
}

/// `GET /api/v2/status[?model=p/m]`: always 200. With billing on, a caller who is signed in and
/// has no credits left sees `available: false` with `type: "NOT_ENOUGH"` and the purchase `link`
/// (what a call would answer with 402).
pub async fn v2_status(
    req: HttpRequest,
    me: Option<Authenticated>,
    state: web::Data<AppState>,
    params: Params,
) -> HttpResponse {
    let mut outcome = match params.get("model") {
        Some(model) => state
            .router
            .resolve(model)
            .map_err(ApiError::from)
            .and_then(|model| {
                let plan = state.router.plan(&model).map_err(ApiError::from)?;
                // Every provider that could serve it has it marked unavailable.
                if plan
                    .providers()
                    .iter()
                    .all(|p| p.is_down(&model.model, "chatCompletion"))
                {
                    return Err(ApiError::Unavailable(format!(
                        "model '{}' is not available: its last calls and checks failed",
                        model.model
                    )));
                }
                Ok(())
            }),
        None if state.router.catalog().providers.iter().any(|p| p.usable()) => Ok(()),
        None => Err(ApiError::Unavailable(
            "no provider is configured on this hub".into(),
        )),
    };
    if let (Ok(()), Some(Authenticated(me))) = (&outcome, me)
        && state.settings.billing.enabled
    {
        outcome =
            match crate::routes::user::credits::position(&state, me.user_did, me.role.as_str())
                .await
            {
                Ok(p) if p.balance() <= rust_decimal::Decimal::ZERO => {
                    Err(crate::error::not_enough(
                        &crate::billing::credits::text(p.balance()),
                        &crate::http::mount::under(
                            crate::http::mount::prefix(&req),
                            &state.settings.billing.payment_link,
                        ),
                    ))
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
    }
    match outcome {
        Ok(()) => HttpResponse::Ok().json(json!({"available": true})),
        Err(e) => {
            let mut body = json!({
                "available": false,
                "error": e.to_string(),
                "code": e.status_code().as_u16(),
                "type": e.kind(),
            });
            if let ApiError::PaymentRequired { link, .. } = &e {
                body["link"] = json!(link);
            }
            HttpResponse::Ok().json(body)
        }
    }
}

/// `GET /__blocklet__.js[?type=json]` (standalone only; Blocklet Server serves it otherwise).
pub async fn blocklet_js(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if state.settings.mode == Mode::Blocklet {
        return Err(ApiError::NotFound("served by Blocklet Server".into()));
    }
    let info = req.connection_info();
    let prefix = crate::http::mount::prefix(&req);
    let meta = json!({
        "appId": state.app_did,
        "appPid": state.app_did,
        "appName": "AIGNE Hub",
        "appUrl": format!("{}://{}", info.scheme(), info.host()),
        "componentMountPoints": [{
            "did": HUB_DID,
            "name": "ai-kit",
            "title": "AIGNE Hub",
            "mountPoint": if prefix.is_empty() { "/" } else { prefix },
            "status": "running",
        }],
    });
    if params.get("type") == Some("json") {
        return Ok(HttpResponse::Ok().json(meta));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/javascript")
        .body(format!("window.blocklet = {meta};")))
}

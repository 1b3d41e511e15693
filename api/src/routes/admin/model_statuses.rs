//! Model statuses (`ai_model_statuses`): how the health view shows them, and checking one now.

use crate::auth::Admin;
use crate::db::model_statuses::ModelStatusRow;
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// One status as the console and the health view show it.
pub fn view(row: &ModelStatusRow) -> Value {
    json!({
        "model": row.model,
        "type": row.type_,
        "available": row.available,
        "error": row.error.as_deref().map(|e| serde_json::from_str::<Value>(e).unwrap_or(json!({"message": e}))),
        "responseTime": row.response_time,
        "lastChecked": iso(row.checked_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CheckBody {
    provider_id: String,
    model: String,
}

/// `POST /api/ai-providers/model-statuses/check` `{providerId, model}`: a one-token chat call to
/// the model through one of the provider's keys, now. A failure that is the model's (it does
/// not exist, errors, times out) marks it unavailable; one that is the key's or the request's is
/// answered with `recorded: false` and changes nothing. Counted against the key-test limit.
pub async fn check(
    Admin(me): Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<HttpResponse> {
    let model = super::credentials::admit_test(&me.user_did, Some(&body.model))?
        .unwrap_or_default()
        .to_owned();
    let check = state.router.check_model(&body.provider_id, &model).await?;
    let mut answer = view(&check.row);
    answer["providerId"] = json!(body.provider_id);
    answer["recorded"] = json!(check.recorded);
    Ok(HttpResponse::Ok().json(answer))
}

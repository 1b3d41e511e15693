//! `POST /api/v2/chat`: the AIGNE-native chat that `@aigne/aigne-hub` speaks (SPEC §5.3;
//! `dialects::aigne`).

use crate::auth::Authenticated;
use crate::dialects::aigne::{AigneChat, AigneChatRequest};
use crate::http::ApiJson;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<AigneChatRequest>,
) -> HttpResponse {
    crate::routes::chat::serve::<AigneChat>(&req, &me, None, &state, &http.0, body).await
}

//! `GET /api/users`: everyone the Hub has seen.

use crate::auth::Admin;
use crate::db::users::{self as repo, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    did: String,
    name: Option<String>,
    role: String,
    created_at: String,
    starter_credits_granted: bool,
}

fn view(row: UserRow) -> UserView {
    UserView {
        did: row.did,
        name: row.name,
        role: row.role,
        created_at: iso(row.created_at),
        starter_credits_granted: row.starter_credits_granted,
    }
}

pub async fn list(_: Admin, state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let q = params.get("q").map(str::to_owned);
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::list(conn, q.as_deref(), page)?))
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(view).collect(),
        page,
    )))
}

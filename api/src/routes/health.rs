//! Liveness and readiness.

use crate::db::{DbError, has_pending_migrations};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and no migration is pending.
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let pending = state
        .db
        .run(|conn| {
            let pending =
                has_pending_migrations(conn).map_err(|e| DbError::Unavailable(e.to_string()))?;
            Ok::<_, DbError>(pending)
        })
        .await
        .map_err(|e| ApiError::Unavailable(format!("not ready: {e}")))?;
    if pending {
        return Err(ApiError::Unavailable(
            "not ready: database migrations are pending".into(),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}

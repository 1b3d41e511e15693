//! Profiles in standalone mode: `PUT /api/user/profile` (the caller's own) and
//! `PUT /api/users/{did}/profile` (an admin, anyone's). `fullName`, `email` and `avatar` are what
//! `/api/user/info` answers; on Blocklet Server they come from the login and Blocklet Server, so
//! these routes refuse there.

use crate::auth::{Admin, Authenticated};
use crate::config::Mode;
use crate::db::users::{self as repo, ProfileChanges};
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::routes::admin::double_option;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileBody {
    #[serde(default, with = "double_option")]
    full_name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    avatar: Option<Option<String>>,
}

/// A field's new value: trimmed, empty clears it, `check` says what is wrong with the rest.
fn field(
    name: &str,
    value: Option<Option<String>>,
    check: impl Fn(&str) -> Option<&'static str>,
) -> ApiResult<Option<Option<String>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Some(text) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(Some(None));
    };
    match check(&text) {
        Some(why) => Err(ApiError::invalid(name, why)),
        None => Ok(Some(Some(text))),
    }
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

fn changes(body: ProfileBody) -> ApiResult<ProfileChanges> {
    Ok(ProfileChanges {
        name: field("fullName", body.full_name, |t| {
            if t.chars().count() > 100 {
                Some("must be at most 100 characters")
            } else if t.chars().any(char::is_control) {
                Some("must not contain control characters")
            } else {
                None
            }
        })?,
        email: field("email", body.email, |t| {
            if t.len() > 254 || !is_email(t) {
                Some("must be an e-mail address (name@example.com)")
            } else {
                None
            }
        })?,
        avatar: field("avatar", body.avatar, |t| {
            let url_or_path = t.starts_with("https://")
                || t.starts_with("http://")
                || (t.starts_with('/') && !t.starts_with("//"));
            if t.len() > 1000 || !url_or_path || t.chars().any(|c| c.is_whitespace()) {
                Some("must be an http(s) URL or a path of this Hub, at most 1000 characters")
            } else {
                None
            }
        })?,
    })
}

async fn set(state: &AppState, did: String, body: ProfileBody) -> ApiResult<HttpResponse> {
    if state.settings.mode == Mode::Blocklet {
        return Err(ApiError::Conflict(
            "on Blocklet Server the profile is Blocklet Server's: edit it there".into(),
        ));
    }
    let changes = changes(body)?;
    let row = state
        .db
        .run(move |conn| {
            if repo::set_profile(conn, &did, &changes)? == 0 {
                return Err(ApiError::NotFound(format!("no user {did}")));
            }
            Ok(repo::get(conn, &did)?)
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("the user is gone".into()))?;
    Ok(HttpResponse::Ok().json(json!({
        "did": row.did,
        "fullName": row.name,
        "email": row.email,
        "avatar": row.avatar,
    })))
}

pub async fn set_own(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> ApiResult<HttpResponse> {
    set(&state, me.user_did, body).await
}

pub async fn set_any(
    _: Admin,
    state: web::Data<AppState>,
    did: web::Path<String>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> ApiResult<HttpResponse> {
    set(&state, did.into_inner(), body).await
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn e_mail_addresses() {
        for ok in ["a@b.co", "first.last+tag@mail.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.de", "a@b@c.de"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}

//! Query parameters with errors that name the parameter (`?page=x` → 400 naming `page`).

use crate::db::Page;
use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::collections::HashMap;
use std::future::{Ready, ready};

/// The query string as a map; typed accessors validate.
pub struct Params(HashMap<String, String>);

impl FromRequest for Params {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .map(|pairs| Params(pairs.into_iter().collect()))
                .map_err(|e| {
                    ApiError::bad_request("invalid_query", format!("malformed query string: {e}"))
                }),
        )
    }
}

impl Params {
    /// A non-empty trimmed value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(ApiError::invalid(
                name,
                format!("'{other}' is not true or false"),
            )),
        }
    }

    /// `page` (≥ 1, default 1) and `pageSize` (1–100, default 20).
    pub fn page(&self) -> Result<Page, ApiError> {
        let page = self.int("page", 1, 1, i64::from(i32::MAX))?;
        let page_size = self.int("pageSize", Page::DEFAULT_SIZE, 1, Page::MAX_SIZE)?;
        Ok(Page { page, page_size })
    }

    fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let value: i64 = raw
            .parse()
            .map_err(|_| ApiError::invalid(name, format!("'{raw}' is not an integer")))?;
        if !(min..=max).contains(&value) {
            return Err(ApiError::invalid(
                name,
                format!("must be between {min} and {max}"),
            ));
        }
        Ok(value)
    }
}

//! Shared application state, built once at start and handed to handlers as `web::Data<AppState>`.

use crate::auth::KeyCache;
use crate::config::Settings;
use crate::db::Db;
use crate::secrets::Cipher;
use std::sync::Arc;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub cipher: Arc<Cipher>,
    pub keys: KeyCache,
}

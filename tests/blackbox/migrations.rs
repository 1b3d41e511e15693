//! Migrations: up, down (every `down.sql`), and up again, on both engines.

use crate::support::{Backend, HubEnv};
use aigne_hub::config::{DatabaseSettings, DatabaseUrl};
use aigne_hub::db::{Db, has_pending_migrations, revert_all_migrations, run_migrations};
use std::path::PathBuf;

fn redo(backend: Backend) {
    let env = HubEnv::new(backend);
    let url = match env.database.url().strip_prefix("sqlite://") {
        Some(path) => DatabaseUrl::Sqlite(PathBuf::from(path)),
        None => DatabaseUrl::Postgres(env.database.url().to_owned()),
    };
    let db = Db::connect(&DatabaseSettings {
        url,
        pool_size: 2,
        busy_timeout_ms: 5000,
    })
    .expect("connect");
    db.run_sync(|conn| {
        assert!(has_pending_migrations(conn)?);
        let up = run_migrations(conn)?;
        assert!(!up.is_empty());
        assert!(!has_pending_migrations(conn)?);
        let down = revert_all_migrations(conn)?;
        assert_eq!(down.len(), up.len());
        assert!(has_pending_migrations(conn)?);
        let again = run_migrations(conn)?;
        assert_eq!(again, up);
        Ok::<_, anyhow::Error>(())
    })
    .expect("redo");
}

crate::on_both_backends!(redo);

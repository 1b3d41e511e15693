//! Generated media the Hub stores (issue 9): when a provider answers with bytes and the client
//! wants a URL, the bytes go to `<data dir>/files/` under an unguessable name that carries its
//! expiry, `<expires unix secs>-<32 random url-safe chars>.<ext>`, served by
//! `GET /api/files/{name}` until then. A sweep at start and every 10 minutes deletes expired
//! files; a request for one after its expiry is a 404 even before the sweep.

use base64::Engine as _;
use bytes::Bytes;
use rand::RngCore;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

pub struct FileStore {
    dir: PathBuf,
    ttl: Duration,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The file extension of a media type (what the name ends with and how it is served back).
pub fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "audio/mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/ogg" => "ogg",
        "audio/flac" => "flac",
        "audio/aac" => "aac",
        _ => "bin",
    }
}

/// A stored file's name, checked: `<expires>-<token>.<ext>` and nothing else (no path tricks).
struct Name {
    expires: u64,
}

fn parse_name(name: &str) -> Option<Name> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (expires, token) = stem.split_once('-')?;
    let ok_token = token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let ok_ext =
        !ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    if !ok_token || !ok_ext || expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Name {
        expires: expires.parse().ok()?,
    })
}

impl FileStore {
    pub fn new(data_dir: &Path, ttl: Duration) -> FileStore {
        FileStore {
            dir: data_dir.join("files"),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Stores `data` and returns its name.
    pub async fn save(&self, data: Bytes, mime: &str) -> std::io::Result<String> {
        let mut token = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut token);
        let name = format!(
            "{}-{}.{}",
            now_secs() + self.ttl.as_secs(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token),
            extension(mime)
        );
        tokio::fs::create_dir_all(&self.dir).await?;
        let tmp = self.dir.join(format!(".{name}.part"));
        tokio::fs::write(&tmp, &data).await?;
        tokio::fs::rename(&tmp, self.dir.join(&name)).await?;
        Ok(name)
    }

    /// The path of a stored, unexpired file; `None` for a bad, unknown or expired name (an
    /// expired file is deleted on the way).
    pub async fn open(&self, name: &str) -> Option<PathBuf> {
        let parsed = parse_name(name)?;
        let path = self.dir.join(name);
        if parsed.expires <= now_secs() {
            let _ = tokio::fs::remove_file(&path).await;
            return None;
        }
        tokio::fs::metadata(&path)
            .await
            .ok()
            .filter(|m| m.is_file())
            .map(|_| path)
    }

    /// Deletes expired files (and partial writes older than an hour); returns how many.
    pub async fn sweep(&self) -> std::io::Result<usize> {
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let now = now_secs();
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let expired = match parse_name(&name) {
                Some(n) => n.expires <= now,
                None => {
                    name.ends_with(".part")
                        && entry
                            .metadata()
                            .await
                            .ok()
                            .and_then(|m| m.modified().ok())
                            .and_then(|t| t.elapsed().ok())
                            .is_some_and(|age| age > Duration::from_secs(3600))
                }
            };
            if expired && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The sweep loop (runs until the server stops).
pub async fn run_sweeper(store: std::sync::Arc<FileStore>) {
    loop {
        match store.sweep().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "expired generated files deleted"),
            Err(e) => tracing::warn!("generated files sweep failed: {e}"),
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(parse_name("1700000000-abcdefghijklmnopqrstuvwxyzABCDEF.png").is_some());
        assert!(parse_name("1700000000-abcdefghijklmnopqrstuvwxyzABCDE.png").is_none());
        assert!(parse_name("../etc/passwd").is_none());
        assert!(parse_name("1700000000-abcdefghijklmnopqrstuvwxyz/BCDEF.png").is_none());
        assert!(parse_name("x-abcdefghijklmnopqrstuvwxyzABCDEF.png").is_none());
        assert!(parse_name(".1700000000-abcdefghijklmnopqrstuvwxyzABCDEF.png.part").is_none());
    }

    #[tokio::test]
    async fn save_open_expire_sweep() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FileStore::new(dir.path(), Duration::from_secs(60));
        let name = store
            .save(Bytes::from_static(b"\x89PNG...."), "image/png")
            .await
            .expect("save");
        assert!(name.ends_with(".png"));
        let path = store.open(&name).await.expect("open");
        assert_eq!(std::fs::read(path).expect("read"), b"\x89PNG....");
        // A name for the same token but already expired.
        let (_, rest) = name.split_once('-').expect("dash");
        let old = format!("{}-{rest}", now_secs() - 1);
        std::fs::write(dir.path().join("files").join(&old), b"x").expect("write");
        assert!(store.open(&old).await.is_none());
        assert!(!dir.path().join("files").join(&old).exists());
        std::fs::write(dir.path().join("files").join(&old), b"x").expect("write");
        assert_eq!(store.sweep().await.expect("sweep"), 1);
        assert!(store.open(&name).await.is_some());
    }
}

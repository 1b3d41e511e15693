//! Small secret files in the data dir (`secret.key`, `admin.key`), created 0600 exactly once.

use secrecy::SecretString;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct KeyFile {
    pub path: PathBuf,
    pub value: SecretString,
    /// True when this call wrote the file.
    pub created: bool,
}

/// Reads the file, or creates it (mode 0600, `create_new` so two starts never race) with
/// `generate()`.
pub fn read_or_create_key_file(
    path: &Path,
    generate: impl FnOnce() -> String,
) -> anyhow::Result<KeyFile> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            let value = generate();
            file.write_all(value.as_bytes())
                .and_then(|_| file.write_all(b"\n"))
                .and_then(|_| file.sync_all())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            Ok(KeyFile {
                path: absolute,
                value: SecretString::from(value),
                created: true,
            })
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let value = text.trim().to_owned();
            if value.is_empty() {
                anyhow::bail!(
                    "{} is empty; delete it to have it generated again",
                    path.display()
                );
            }
            Ok(KeyFile {
                path: absolute,
                value: SecretString::from(value),
                created: false,
            })
        }
        Err(e) => Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_once_with_0600() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("nested/admin.key");
        let first = read_or_create_key_file(&path, || "value-one".into()).expect("create");
        assert!(first.created);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = read_or_create_key_file(&path, || "value-two".into()).expect("read");
        assert!(!second.created);
        assert_eq!(second.value.expose_secret(), "value-one");
    }
}

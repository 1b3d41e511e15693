//! `BLOCKLET_MOUNT_POINTS`: the JSON list of the app's components that Blocklet Server gives
//! every component — `{did, name, title, mountPoint, port, status, …}`. A component is found by
//! its title, name or DID (as `@blocklet/sdk` finds it) and reached at `http://127.0.0.1:<port>`.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountPoint {
    pub did: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub mount_point: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// Blocklet Server's status code (6: running).
    #[serde(default)]
    pub status: Option<i64>,
}

/// Payment Kit's component DID.
pub const PAYMENT_KIT_DID: &str = "z2qaCNvKMv5GjouKdcDWexv6WqtHbpNPQDnAk";
/// `status` of a running component.
pub const RUNNING: i64 = 6;

impl MountPoint {
    /// Whether `keyword` names this component (title, name or DID).
    pub fn matches(&self, keyword: &str) -> bool {
        self.title.as_deref() == Some(keyword)
            || self.name.as_deref() == Some(keyword)
            || self.did == keyword
    }

    /// Where the component listens, when it has a port.
    pub fn endpoint(&self) -> Option<String> {
        self.port.map(|p| format!("http://127.0.0.1:{p}"))
    }
}

/// Parses the variable's value; an empty value is an empty list.
pub fn parse(text: &str) -> Result<Vec<MountPoint>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text)
        .map_err(|e| format!("BLOCKLET_MOUNT_POINTS is not a JSON list of components: {e}"))
}

/// The component `keyword` names.
pub fn find<'a>(points: &'a [MountPoint], keyword: &str) -> Option<&'a MountPoint> {
    points.iter().find(|p| p.matches(keyword))
}

/// Whether the component with `did` is listed as running.
pub fn is_running(points: &[MountPoint], did: &str) -> bool {
    points
        .iter()
        .any(|p| p.did == did && p.status == Some(RUNNING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_finds_by_title_name_or_did() {
        let points = parse(
            r#"[{"did":"z2qaCNvKMv5GjouKdcDWexv6WqtHbpNPQDnAk","name":"payment-kit","title":"Payment Kit","mountPoint":"/payment","port":8091,"status":6},
                {"did":"zNoPort","name":"x"}]"#,
        )
        .expect("parse");
        for k in [
            "Payment Kit",
            "payment-kit",
            "z2qaCNvKMv5GjouKdcDWexv6WqtHbpNPQDnAk",
        ] {
            let p = find(&points, k).expect(k);
            assert_eq!(p.endpoint().as_deref(), Some("http://127.0.0.1:8091"));
        }
        assert_eq!(find(&points, "x").and_then(MountPoint::endpoint), None);
        assert!(find(&points, "missing").is_none());
        assert!(is_running(&points, PAYMENT_KIT_DID));
        assert!(!is_running(&points, "zNoPort"));
        assert!(parse("").expect("empty").is_empty());
        assert!(parse("{").is_err());
    }
}

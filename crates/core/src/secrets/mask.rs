//! Masking for display: first 4 + `****` + last 4; values too short to hide anything → `***`.

/// Masks a secret for API answers. Values shorter than 12 characters show nothing.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 12 {
        return "***".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// `text` (an upstream's message) with every occurrence of `secret` masked: providers quote the
/// key they were given in their errors.
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.trim().len() < 4 {
        return text.to_owned();
    }
    text.replace(secret, &mask(secret))
}

#[cfg(test)]
mod tests {
    use super::{mask, scrub};

    #[test]
    fn scrub_masks_quoted_keys() {
        assert_eq!(
            scrub(
                "Incorrect API key provided: sk-abcdefghijklmnop.",
                "sk-abcdefghijklmnop"
            ),
            "Incorrect API key provided: sk-a****mnop."
        );
        assert_eq!(scrub("bad key mock-401", "mock-401"), "bad key ***");
        assert_eq!(scrub("nothing here", "abc"), "nothing here");
    }

    #[test]
    fn masks() {
        assert_eq!(mask("sk-abcdefghijklmnop"), "sk-a****mnop");
        assert_eq!(mask("short"), "***");
        assert_eq!(mask(""), "***");
        assert_eq!(mask("exactly12chr"), "exac****2chr");
        assert_eq!(mask("ключ-секрет-значение"), "ключ****ение");
    }
}

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

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks() {
        assert_eq!(mask("sk-abcdefghijklmnop"), "sk-a****mnop");
        assert_eq!(mask("short"), "***");
        assert_eq!(mask(""), "***");
        assert_eq!(mask("exactly12chr"), "exac****2chr");
        assert_eq!(mask("ключ-секрет-значение"), "ключ****ение");
    }
}

//! Human byte sizes such as `30mb`, `512kb`, `1048576`.

/// Parses a byte size: a plain number of bytes or a number with `b`, `kb`, `mb` or `gb`
/// (powers of 1024, case-insensitive).
pub fn parse_byte_size(input: &str) -> Result<usize, String> {
    let s = input.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let number: usize = digits
        .parse()
        .map_err(|_| format!("'{input}' is not a size such as 30mb or 1048576"))?;
    let factor: usize = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        other => {
            return Err(format!(
                "'{input}' has an unknown unit '{other}' (use b, kb, mb or gb)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{input}' is out of range"))
}

#[cfg(test)]
mod tests {
    use super::parse_byte_size;

    #[test]
    fn parses_units() {
        assert_eq!(parse_byte_size("30mb"), Ok(30 * 1024 * 1024));
        assert_eq!(parse_byte_size("30MB"), Ok(30 * 1024 * 1024));
        assert_eq!(parse_byte_size("512kb"), Ok(512 * 1024));
        assert_eq!(parse_byte_size("100"), Ok(100));
        assert_eq!(parse_byte_size("1 gb"), Ok(1 << 30));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_byte_size("lots").is_err());
        assert!(parse_byte_size("10tb").is_err());
        assert!(parse_byte_size("0").is_err());
        assert!(parse_byte_size("").is_err());
    }
}

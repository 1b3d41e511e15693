//! Values put into an upstream URL's path. A model name or job id is data, never structure: each
//! is percent-encoded as one path segment, so `..`, `?`, `#` or `/` in it cannot reach another
//! endpoint of the provider's API with the operator's key.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is encoded (`:` too: Bedrock's SigV4 and
/// Gemini's `{model}:verb` both need it escaped inside the segment).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` as one path segment. `.` and `..` would still be read as dot-segments by a URL
/// parser, so they are encoded too.
pub fn segment(value: &str) -> String {
    match value {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => utf8_percent_encode(value, SEGMENT).to_string(),
    }
}

/// A provider-issued resource name such as `models/veo/operations/abc`: its `/` stay, every
/// segment is encoded on its own.
pub fn segments(value: &str) -> String {
    value.split('/').map(segment).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_cannot_leave_its_place() {
        assert_eq!(segment("gemini-2.5-flash"), "gemini-2.5-flash");
        assert_eq!(segment("../files"), "..%2Ffiles");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("m?alt=x#"), "m%3Falt%3Dx%23");
        assert_eq!(segment("a b%"), "a%20b%25");
        assert_eq!(
            segment("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "anthropic.claude-3-5-haiku-20241022-v1%3A0"
        );
    }

    #[test]
    fn names_keep_their_slashes_but_not_dot_segments() {
        assert_eq!(
            segments("models/veo/operations/a1"),
            "models/veo/operations/a1"
        );
        assert_eq!(segments("models/../files"), "models/%2E%2E/files");
        assert_eq!(segments("ops/x?y"), "ops/x%3Fy");
    }
}

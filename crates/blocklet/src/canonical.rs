//! Canonical JSON exactly as the npm package `json-stable-stringify` writes it (what
//! `@blocklet/sdk` signs): object keys sorted by UTF-16 code units, no whitespace, strings escaped
//! like `JSON.stringify`, numbers formatted like JavaScript's `Number.prototype.toString`.
//!
//! Numbers: JavaScript holds every JSON number as a double, so an integer beyond 2^53 prints as the
//! double nearest to it (`12345678901234567890` → `12345678901234567000`), `1e21` and up and below
//! `1e-6` print with an exponent (`1e+21`, `1e-7`), and `-0` prints as `0`. `ryu-js` produces that
//! text; serde_json's `float_roundtrip` parses decimal text to the same double JavaScript does.
//! One deliberate difference: a number beyond the double range (`1e400`) is Infinity to
//! JavaScript, which signs it as `null`; the Hub's JSON parser refuses such a body instead.

use serde_json::{Number, Value};

/// The canonical text of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(128);
    write(&mut out, value);
    out
}

fn write(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    match n.as_f64() {
        // JSON.stringify writes non-finite numbers as null (serde_json never holds them).
        Some(f) if f.is_finite() => out.push_str(ryu_js::Buffer::new().format_finite(f)),
        _ => out.push_str("null"),
    }
}

/// JSON.stringify's string escaping: `"` `\` and the C0 controls (`\b \f \n \r \t`, others
/// `\u00xx`); everything else, U+2028/U+2029 included, as is. serde_json escapes the same set.
fn write_string(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::to_string;
    use serde_json::{Value, json};

    fn canon(text: &str) -> String {
        to_string(&serde_json::from_str::<Value>(text).expect("json"))
    }

    #[test]
    fn numbers_print_like_javascript() {
        for (input, js) in [
            ("1", "1"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("100.0", "100"),
            ("0.1", "0.1"),
            ("1e20", "100000000000000000000"),
            ("1e21", "1e+21"),
            ("1.5e300", "1.5e+300"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("123e-20", "1.23e-18"),
            ("9007199254740993", "9007199254740992"),
            ("12345678901234567890", "12345678901234567000"),
            ("-12345678901234567890", "-12345678901234567000"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("0.30000000000000004", "0.30000000000000004"),
        ] {
            assert_eq!(canon(input), js, "{input}");
        }
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+FF5E sorts after U+1F600 in UTF-8/code points but before it in UTF-16 (0xD83D…).
        let value = json!({"b": 1, "a": {"y": [3, {"d": null, "c": true}], "x": "é"}, "😀": 2, "～": 3, "A": 0});
        assert_eq!(
            to_string(&value),
            r#"{"A":0,"a":{"x":"é","y":[3,{"c":true,"d":null}]},"b":1,"😀":2,"～":3}"#
        );
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let value = json!(["\"\\/\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}\u{2028}é"]);
        assert_eq!(
            to_string(&value),
            "[\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\u{2028}é\"]"
        );
    }

    /// SPEC §7.3's vector (from `@blocklet/sdk`, interop-vectors/component-call.js).
    #[test]
    fn component_call_vector() {
        let signed = json!({"iat":1700000000,"exp":1700000300,"body":{"event_name":"aigne_hub_ai_usage","payload":{"customer_id":"z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP","value":"0.0042"},"identifier":"req-123","timestamp":1700000000},"query":{"livemode":"true"},"method":"post","url":"/api/meter-events"});
        assert_eq!(
            to_string(&signed),
            r#"{"body":{"event_name":"aigne_hub_ai_usage","identifier":"req-123","payload":{"customer_id":"z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP","value":"0.0042"},"timestamp":1700000000},"exp":1700000300,"iat":1700000000,"method":"post","query":{"livemode":"true"},"url":"/api/meter-events"}"#
        );
    }
}

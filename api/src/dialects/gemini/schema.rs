//! Gemini's `Schema` (an OpenAPI 3.0 subset: `type: "OBJECT"`, `nullable`, `propertyOrdering`)
//! as the JSON Schema every other provider reads. `parametersJsonSchema` and
//! `responseJsonSchema` are JSON Schema already and are not converted.

use serde_json::{Map, Value};

/// `schema` as JSON Schema: types lower-cased, `nullable: true` folded into the type, Gemini's
/// ordering hint dropped; every nested schema converted the same way.
pub fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(fields) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    let nullable = fields.get("nullable").and_then(Value::as_bool) == Some(true);
    for (key, value) in fields {
        let converted = match key.as_str() {
            "nullable" | "propertyOrdering" => continue,
            "type" => match value.as_str() {
                Some(t) => {
                    let t = Value::String(t.to_ascii_lowercase());
                    if nullable {
                        Value::Array(vec![t, Value::String("null".into())])
                    } else {
                        t
                    }
                }
                None => value.clone(),
            },
            "properties" | "$defs" | "definitions" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), to_json_schema(v)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "not" => to_json_schema(value),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => match value {
                Value::Array(list) => Value::Array(list.iter().map(to_json_schema).collect()),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_openapi_types_nullable_and_nesting() {
        let schema = json!({
            "type": "OBJECT",
            "properties": {
                "city": {"type": "STRING", "description": "where"},
                "days": {"type": "INTEGER", "nullable": true},
                "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}}
            },
            "required": ["city"],
            "propertyOrdering": ["city", "days", "tags"]
        });
        assert_eq!(
            to_json_schema(&schema),
            json!({
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "where"},
                    "days": {"type": ["integer", "null"]},
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
                },
                "required": ["city"]
            })
        );
    }
}

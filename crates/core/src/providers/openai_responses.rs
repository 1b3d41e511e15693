//! OpenAI's Responses API (`POST {base}/responses`) for a client that speaks it
//! ([`Native::OpenAiResponses`]): the client's body goes out as it wrote it — so built-in tools,
//! reasoning settings and fields the Hub does not model work — with the conversation the Hub
//! rebuilt as its `input`, the Hub's model and stream flag, and `store: false`: the Hub keeps the
//! conversation, not whichever pooled account served a turn. The answer and every stream event
//! come back as OpenAI wrote them.
//!
//! Encrypted reasoning (`reasoning.encrypted_content`) can be read only by the OpenAI account that
//! wrote it. On the way out the Hub seals each such item with a tag of the key that made it; on
//! the way in an item goes only to that same key and is left out for any other, so a
//! conversation moves between keys without OpenAI refusing it.

use super::error::UpstreamError;
use super::http::{send_json, send_sse_frames};
use super::types::{ChatRequest, ChatResponse, Native, StreamEvent};
use super::wire::openai_responses::{StreamState, answer_into_internal};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const PROVIDER: &str = "openai";
/// What starts a sealed `encrypted_content`: `aigne-hub:<tag>:<OpenAI's text>`.
const SEAL: &str = "aigne-hub:";

/// The tag of the account behind `api_key`: a short hash, so the key itself never leaves.
pub fn account_tag(api_key: &str) -> String {
    hex::encode(&Sha256::digest(api_key.as_bytes())[..6])
}

/// Seals `item`'s encrypted reasoning with `tag`; whether it changed.
fn seal_item(item: &mut Value, tag: &str) -> bool {
    if item["type"] != "reasoning" {
        return false;
    }
    match item.get_mut("encrypted_content") {
        Some(Value::String(text)) if !text.starts_with(SEAL) => {
            *text = format!("{SEAL}{tag}:{text}");
            true
        }
        _ => false,
    }
}

/// Seals the encrypted reasoning in an answer or a stream event (its `output` items, or its
/// `item`); whether anything changed.
pub fn seal(value: &mut Value, tag: &str) -> bool {
    let mut changed = false;
    if let Some(item) = value.get_mut("item") {
        changed |= seal_item(item, tag);
    }
    let response = match value.get_mut("response") {
        Some(r) => r,
        None => value,
    };
    if let Some(Value::Array(items)) = response.get_mut("output") {
        for item in items {
            changed |= seal_item(item, tag);
        }
    }
    changed
}

/// The conversation as account `tag` may be sent it: reasoning it sealed goes back unsealed;
/// reasoning another account sealed, or reasoning without encrypted content (which OpenAI could
/// only look up in an account's store, and the Hub stores nothing there), is left out. Messages
/// and function calls go without their ids, which OpenAI would match against stored items.
fn for_account(items: &[Value], tag: &str) -> Vec<Value> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut item = item.clone();
        match item["type"].as_str() {
            Some("reasoning") => match item.get_mut("encrypted_content") {
                Some(Value::String(text)) => match text.strip_prefix(SEAL) {
                    None => {}
                    Some(sealed) => match sealed.split_once(':') {
                        Some((by, content)) if by == tag => *text = content.to_owned(),
                        _ => continue,
                    },
                },
                _ => continue,
            },
            Some("message" | "function_call" | "function_call_output") | None => {
                if let Some(fields) = item.as_object_mut() {
                    fields.remove("id");
                }
            }
            _ => {}
        }
        out.push(item);
    }
    out
}

/// The body OpenAI is sent: the client's, with `input` the whole conversation for this account,
/// no `previous_response_id` (the Hub resolved it), `store: false`, the upstream model, the
/// Hub's stream flag, and encrypted reasoning asked for when the Hub keeps the turn.
fn native_body(
    body: &[u8],
    input: &[Value],
    include_reasoning: bool,
    model: &str,
    stream: bool,
    tag: &str,
) -> Result<Vec<u8>, UpstreamError> {
    let mut fields: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable request: {e}")))?;
    fields.insert("model".into(), Value::String(model.to_owned()));
    fields.insert("input".into(), Value::Array(for_account(input, tag)));
    fields.insert("store".into(), Value::Bool(false));
    fields.insert("stream".into(), Value::Bool(stream));
    fields.remove("previous_response_id");
    fields.remove("access_token");
    if !stream {
        fields.remove("stream_options");
    }
    if include_reasoning {
        const ENCRYPTED: &str = "reasoning.encrypted_content";
        let include = fields
            .entry("include")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = include
            && !list.iter().any(|v| v == ENCRYPTED)
        {
            list.push(Value::String(ENCRYPTED.into()));
        }
    }
    serde_json::to_vec(&fields)
        .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("request: {e}")))
}

fn request(
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &ChatRequest,
    stream: bool,
    tag: &str,
) -> Result<reqwest::RequestBuilder, UpstreamError> {
    let Some(Native::OpenAiResponses {
        body,
        input,
        include_reasoning,
    }) = &req.native
    else {
        return Err(UpstreamError::Protocol(
            PROVIDER,
            "not a Responses request".into(),
        ));
    };
    let body = native_body(body, input, *include_reasoning, &req.model, stream, tag)?;
    Ok(http
        .post(format!(
            "{}/responses",
            target.base_url.trim_end_matches('/')
        ))
        .bearer_auth(target.api_key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body))
}

pub async fn infer(
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &ChatRequest,
    timeouts: &Timeouts,
) -> Result<ChatResponse, UpstreamError> {
    let tag = account_tag(target.api_key);
    let builder = request(http, target, req, false, &tag)?;
    let mut raw: Value = send_json(PROVIDER, builder, timeouts).await?;
    if raw["status"] == "failed" {
        return Err(UpstreamError::Protocol(
            PROVIDER,
            super::wire::openai_responses::failure_of(&raw),
        ));
    }
    seal(&mut raw, &tag);
    let mut out = answer_into_internal(&raw);
    out.raw = Some(raw);
    Ok(out)
}

pub async fn infer_stream(
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &ChatRequest,
    timeouts: &Timeouts,
) -> Result<EventStream, UpstreamError> {
    let tag = account_tag(target.api_key);
    let builder = request(http, target, req, true, &tag)?;
    let mut frames = Box::pin(send_sse_frames(PROVIDER, builder, timeouts).await?);
    Ok(Box::pin(async_stream::stream! {
        let mut state = StreamState::default();
        let mut out = Vec::new();
        while let Some(item) = frames.next().await {
            let (text, mut data) = match item {
                Ok(v) => v,
                Err(e) => { yield Err(e); return; }
            };
            let done = match state.on_event(&data, &mut out) {
                Ok(done) => done,
                Err(message) => { yield Err(UpstreamError::Protocol(PROVIDER, message)); return; }
            };
            let kind = data["type"].as_str().unwrap_or("message").to_owned();
            // Only events that carry reasoning are rewritten; the rest go as they came.
            let text = if text.contains("encrypted_content") && seal(&mut data, &tag) {
                data.to_string()
            } else {
                text
            };
            yield Ok(StreamEvent::Raw(format!("event: {kind}\ndata: {text}\n\n")));
            for e in out.drain(..) {
                yield Ok(e);
            }
            if done {
                return;
            }
        }
        yield Err(UpstreamError::Protocol(PROVIDER, "stream ended before response.completed".into()));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reasoning_goes_back_only_to_the_account_that_wrote_it() {
        let (a, b) = (account_tag("sk-a"), account_tag("sk-b"));
        assert_ne!(a, b);
        let mut answer = json!({"output": [
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"},
            {"type": "message", "id": "msg_1", "role": "assistant", "content": []}
        ]});
        assert!(seal(&mut answer, &a));
        assert!(!seal(&mut answer, &a), "sealed once");
        let sealed = answer["output"][0]["encrypted_content"]
            .as_str()
            .expect("text");
        assert!(sealed.starts_with("aigne-hub:") && sealed.ends_with(":gAAA"));
        let mut items = answer["output"].as_array().expect("items").clone();
        items.push(json!({"type": "reasoning", "id": "rs_2", "summary": []}));
        items.push(json!({"type": "reasoning", "id": "rs_3", "encrypted_content": "client-own"}));
        items.push(json!({"role": "user", "id": "x", "content": "hi"}));
        items.push(json!({"type": "web_search_call", "id": "ws_1", "status": "completed"}));

        let same = for_account(&items, &a);
        assert_eq!(same[0]["encrypted_content"], "gAAA");
        assert!(same[1].get("id").is_none(), "{same:?}");
        assert_eq!(same[2]["encrypted_content"], "client-own");
        assert!(same[3].get("id").is_none());
        assert_eq!(same[4]["id"], "ws_1");
        assert_eq!(same.len(), 5);

        let other = for_account(&items, &b);
        let kinds: Vec<&str> = other.iter().filter_map(|i| i["type"].as_str()).collect();
        assert_eq!(kinds, ["message", "reasoning", "web_search_call"]);
        assert_eq!(other[1]["encrypted_content"], "client-own");

        let mut event = json!({"type": "response.output_item.done",
            "item": {"type": "reasoning", "encrypted_content": "gBBB"}});
        assert!(seal(&mut event, &b));
        assert!(
            event["item"]["encrypted_content"]
                .as_str()
                .is_some_and(|t| t.contains(&b))
        );
    }

    #[test]
    fn the_body_is_the_clients_with_the_hubs_conversation() {
        let client = json!({"model": "openai/gpt-5", "input": "ignored", "previous_response_id": "resp_1",
                            "store": true, "tools": [{"type": "web_search"}], "include": ["file_search_call.results"],
                            "stream_options": {"include_obfuscation": false}, "prompt_cache_key": "k"});
        let input = vec![json!({"role": "user", "content": "hi"})];
        let sent: Value = serde_json::from_slice(
            &native_body(
                client.to_string().as_bytes(),
                &input,
                true,
                "gpt-5",
                false,
                "t",
            )
            .expect("body"),
        )
        .expect("json");
        assert_eq!(sent["model"], "gpt-5");
        assert_eq!(sent["input"], json!([{"role": "user", "content": "hi"}]));
        assert_eq!(sent["store"], false);
        assert_eq!(sent["stream"], false);
        assert!(sent.get("previous_response_id").is_none());
        assert!(sent.get("stream_options").is_none());
        assert_eq!(sent["tools"], json!([{"type": "web_search"}]));
        assert_eq!(sent["prompt_cache_key"], "k");
        assert_eq!(
            sent["include"],
            json!(["file_search_call.results", "reasoning.encrypted_content"])
        );
        assert!(native_body(b"[]", &input, false, "m", true, "t").is_err());
    }
}

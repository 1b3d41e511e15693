//! Amazon Bedrock: Converse and ConverseStream for chat, InvokeModel for embeddings (Titan and
//! Cohere). Requests are signed with AWS Signature V4 by `aws-sigv4` (service `bedrock`, the
//! provider's region); credentials are `access_key_pair` values
//! `{access_key_id, secret_access_key, session_token?}`. ConverseStream answers in AWS's binary
//! event stream, unframed with `aws-smithy-eventstream` as the bytes arrive.

use super::error::UpstreamError;
use super::http::{send, send_json};
use super::media::{EmbeddingRequest, EmbeddingResponse};
use super::types::{ChatRequest, ChatResponse, StreamEvent, Usage};
use super::wire::bedrock::{self as wire, ConverseResponse};
use super::{EventStream, Target, Timeouts};
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::HeaderValue;
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::SystemTime;

const PROVIDER: &str = "bedrock";
const SERVICE: &str = "bedrock";
const DEFAULT_REGION: &str = "us-east-1";

#[derive(Clone)]
pub struct Bedrock;

/// An `access_key_pair` credential.
#[derive(Deserialize)]
struct KeyPair {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

fn key_pair(secret: &str) -> Result<KeyPair, UpstreamError> {
    serde_json::from_str(secret).map_err(|_| {
        // Never echo the value: it is the secret.
        UpstreamError::Status {
            provider: PROVIDER,
            status: 401,
            message: "the credential is not an access key pair {access_key_id, secret_access_key}"
                .into(),
            retry_after: None,
            cause: super::cause::Cause::Auth,
        }
    })
}

/// Who signs, for which region and service.
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
}

impl Signer<'_> {
    /// The headers that sign one request: `x-amz-date`, `authorization` (and
    /// `x-amz-security-token` for temporary credentials). `headers` are the request's own
    /// headers signed with it (host is taken from the URL).
    pub fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, String> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        use aws_sigv4::sign::v4;
        let identity = aws_credential_types::Credentials::new(
            self.access_key_id,
            self.secret_access_key,
            self.session_token.map(str::to_owned),
            None,
            "aigne-hub",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("signing parameters: {e}"))?
            .into();
        let request = SignableRequest::new(
            method,
            url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| format!("request cannot be signed: {e}"))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| format!("signing failed: {e}"))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }
}

impl KeyPair {
    fn signer<'a>(&'a self, region: &'a str) -> Signer<'a> {
        Signer {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: self.session_token.as_deref(),
            region,
            service: SERVICE,
        }
    }
}

/// The runtime endpoint: the configured base URL, or the default one moved to the region.
fn base(target: &Target<'_>) -> String {
    let base = target.base_url.trim_end_matches('/');
    match target.region {
        Some(region) if base == super::ProviderKind::Bedrock.default_base_url() => {
            format!("https://bedrock-runtime.{region}.amazonaws.com")
        }
        _ => base.to_owned(),
    }
}

fn signed_post(
    http: &reqwest::Client,
    target: &Target<'_>,
    url: &str,
    body: Vec<u8>,
    accept: &str,
) -> Result<reqwest::RequestBuilder, UpstreamError> {
    let keys = key_pair(target.api_key)?;
    let region = target.region.unwrap_or(DEFAULT_REGION);
    let signed = keys
        .signer(region)
        .sign(
            "POST",
            url,
            &[("content-type", "application/json"), ("accept", accept)],
            &body,
            SystemTime::now(),
        )
        .map_err(|e| UpstreamError::Protocol(PROVIDER, e))?;
    let mut builder = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body);
    for (k, v) in signed {
        builder = builder.header(k, v);
    }
    Ok(builder)
}

fn body_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

impl Bedrock {
    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        let url = format!(
            "{}/model/{}/converse",
            base(target),
            super::url_path::segment(&req.model)
        );
        let builder = signed_post(
            http,
            target,
            &url,
            body_of(&wire::request_body(req)),
            "application/json",
        )?;
        let answer: ConverseResponse = send_json(PROVIDER, builder, timeouts).await?;
        Ok(answer.into_internal(&req.model))
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        let url = format!(
            "{}/model/{}/converse-stream",
            base(target),
            super::url_path::segment(&req.model)
        );
        let builder = signed_post(
            http,
            target,
            &url,
            body_of(&wire::request_body(req)),
            "application/vnd.amazon.eventstream",
        )?;
        let response = send(PROVIDER, builder, timeouts).await?;
        let idle = timeouts.idle;
        let model = req.model.clone();
        let mut body = response.bytes_stream();
        Ok(Box::pin(async_stream::stream! {
            let mut buffer = BytesMut::new();
            let mut decoder = MessageFrameDecoder::new();
            let mut events = Vec::new();
            loop {
                // Every whole message in the buffer first, then more bytes.
                loop {
                    match decoder.decode_frame(&mut buffer) {
                        Ok(DecodedFrame::Complete(message)) => {
                            match unframe(&message, &model, &mut events) {
                                Ok(()) => {
                                    for e in events.drain(..) {
                                        yield Ok::<StreamEvent, UpstreamError>(e);
                                    }
                                }
                                Err(e) => { yield Err(e); return; }
                            }
                        }
                        Ok(DecodedFrame::Incomplete) => break,
                        Err(e) => {
                            yield Err(UpstreamError::Protocol(PROVIDER, format!("bad event stream: {e}")));
                            return;
                        }
                    }
                }
                match tokio::time::timeout(idle, body.next()).await {
                    Err(_) => { yield Err(UpstreamError::Timeout(PROVIDER, idle)); return; }
                    Ok(None) => return,
                    Ok(Some(Ok(chunk))) => buffer.extend_from_slice(&chunk),
                    Ok(Some(Err(e))) => {
                        yield Err(UpstreamError::Protocol(PROVIDER, format!("stream broke: {e}")));
                        return;
                    }
                }
            }
        }))
    }

    /// A signed model list (the control-plane endpoint beside the runtime one).
    pub async fn check(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        timeouts: &Timeouts,
    ) -> Result<(), UpstreamError> {
        let runtime = base(target);
        let url = format!(
            "{}/foundation-models",
            runtime.replacen("://bedrock-runtime.", "://bedrock.", 1)
        );
        let keys = key_pair(target.api_key)?;
        let signed = keys
            .signer(target.region.unwrap_or(DEFAULT_REGION))
            .sign("GET", &url, &[], b"", SystemTime::now())
            .map_err(|e| UpstreamError::Protocol(PROVIDER, e))?;
        let mut builder = http.get(url);
        for (k, v) in signed {
            builder = builder.header(k, v);
        }
        send(PROVIDER, builder, timeouts).await.map(drop)
    }

    /// Embeddings with InvokeModel: Cohere models take all texts at once, Titan one per call.
    pub async fn embed(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &EmbeddingRequest,
        timeouts: &Timeouts,
    ) -> Result<EmbeddingResponse, UpstreamError> {
        let url = format!(
            "{}/model/{}/invoke",
            base(target),
            super::url_path::segment(&req.model)
        );
        if req.model.contains("cohere.") {
            let body = json!({"texts": req.input, "input_type": "search_document"});
            let builder = signed_post(http, target, &url, body_of(&body), "application/json")?;
            let answer: CohereEmbeddings = send_json(PROVIDER, builder, timeouts).await?;
            req.check_count(PROVIDER, answer.embeddings.len())?;
            let vectors = answer.embeddings;
            let chars: usize = req.input.iter().map(String::len).sum();
            return Ok(EmbeddingResponse {
                vectors,
                model: req.model.clone(),
                usage: Usage {
                    // Cohere on Bedrock reports no tokens here: about 4 characters a token.
                    prompt_tokens: chars.div_ceil(4) as u64,
                    ..Usage::default()
                },
            });
        }
        let mut vectors = Vec::with_capacity(req.input.len());
        let mut tokens = 0u64;
        for text in &req.input {
            let mut body = json!({"inputText": text});
            if let Some(d) = req.dimensions {
                body["dimensions"] = json!(d);
            }
            let builder = signed_post(http, target, &url, body_of(&body), "application/json")?;
            let answer: TitanEmbedding = send_json(PROVIDER, builder, timeouts).await?;
            tokens += answer.input_text_token_count;
            vectors.push(answer.embedding);
        }
        Ok(EmbeddingResponse {
            vectors,
            model: req.model.clone(),
            usage: Usage {
                prompt_tokens: tokens,
                ..Usage::default()
            },
        })
    }
}

#[derive(Deserialize)]
struct CohereEmbeddings {
    embeddings: Vec<super::media::Vector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanEmbedding {
    embedding: super::media::Vector,
    #[serde(default)]
    input_text_token_count: u64,
}

fn header<'a>(message: &'a aws_smithy_types::event_stream::Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// One event-stream message: an event's internal events, or the exception it carries.
fn unframe(
    message: &aws_smithy_types::event_stream::Message,
    model: &str,
    out: &mut Vec<StreamEvent>,
) -> Result<(), UpstreamError> {
    let payload: Value = serde_json::from_slice(message.payload()).unwrap_or(Value::Null);
    match header(message, ":message-type") {
        Some("event") => {
            wire::stream_events(
                header(message, ":event-type").unwrap_or(""),
                &payload,
                model,
                out,
            );
            Ok(())
        }
        Some("exception") | Some("error") => {
            let kind = header(message, ":exception-type")
                .or_else(|| header(message, ":error-code"))
                .unwrap_or("exception");
            let text = payload
                .get("message")
                .or_else(|| payload.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or("error in stream");
            Err(UpstreamError::Protocol(PROVIDER, format!("{kind}: {text}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn example(
        region: &'static str,
        service: &'static str,
        token: Option<&'static str>,
    ) -> Signer<'static> {
        Signer {
            access_key_id: AKID,
            secret_access_key: SECRET,
            session_token: token,
            region,
            service,
        }
    }

    /// AWS's Signature V4 test suite, `get-vanilla`: GET / on example.amazonaws.com at
    /// 2015-08-30T12:36:00Z, service `service`, us-east-1.
    #[test]
    fn reproduces_the_aws_get_vanilla_vector() {
        let headers = example("us-east-1", "service", None)
            .sign(
                "GET",
                "https://example.amazonaws.com/",
                &[("host", "example.amazonaws.com")],
                b"",
                at(1_440_938_160),
            )
            .expect("signed");
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
            .expect("authorization");
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-amz-date" && v == "20150830T123600Z")
        );
    }

    /// The suite's `post-vanilla`: the same with POST.
    #[test]
    fn reproduces_the_aws_post_vanilla_vector() {
        let headers = example("us-east-1", "service", None)
            .sign(
                "POST",
                "https://example.amazonaws.com/",
                &[("host", "example.amazonaws.com")],
                b"",
                at(1_440_938_160),
            )
            .expect("signed");
        let auth = &headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("auth")
            .1;
        assert!(
            auth.ends_with(
                "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            ),
            "{auth}"
        );
    }

    #[test]
    fn temporary_credentials_add_the_token() {
        let headers = example("us-west-2", "bedrock", Some("session-token"))
            .sign(
                "POST",
                "https://bedrock-runtime.us-west-2.amazonaws.com/model/x/converse",
                &[("content-type", "application/json")],
                b"{}",
                at(1_700_000_000),
            )
            .expect("signed");
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "session-token")
        );
        let auth = &headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("auth")
            .1;
        assert!(auth.contains("/us-west-2/bedrock/aws4_request"), "{auth}");
        assert!(
            auth.contains("content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
    }

    #[test]
    fn model_ids_are_encoded_and_regions_move_the_default_endpoint() {
        assert_eq!(
            crate::providers::url_path::segment("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "anthropic.claude-3-5-haiku-20241022-v1%3A0"
        );
        let t = Target {
            base_url: super::super::ProviderKind::Bedrock.default_base_url(),
            api_key: "",
            region: Some("eu-west-1"),
            chat_url: None,
        };
        assert_eq!(base(&t), "https://bedrock-runtime.eu-west-1.amazonaws.com");
    }
}

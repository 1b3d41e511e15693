//! The engine driven with a fake provider (the operation's `send`) and a fake call log: no
//! process, no sockets. The catalog is real (seeded into a temporary SQLite file), so failover
//! order, cooldowns and disabled keys are the router's own.

use super::chat::Opened;
use super::relay::{Encoder, relay};
use super::*;
use crate::billing::funds::Funds;
use crate::billing::ledger_work::Hold;
use crate::config::{ProviderSeed, load};
use crate::db::rates::{self, RateRow};
use crate::providers::types::{StreamEvent, Usage};
use crate::routing::model_name;
use crate::secrets::Cipher;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

/// One row event, as the usage writer would have received it.
#[derive(Debug, Clone)]
enum Row {
    Start {
        id: String,
        credential: Option<String>,
    },
    End {
        id: String,
        status: String,
        credits: String,
        error: Option<String>,
        committed: bool,
        billed: bool,
        released: Option<Decimal>,
    },
}

#[derive(Default)]
struct FakeLog {
    rows: Mutex<Vec<Row>>,
    /// Admission answers "no credits" with this balance.
    refuse: Option<Decimal>,
    admitted: Mutex<Vec<Decimal>>,
    funds: Arc<Funds>,
}

impl FakeLog {
    fn rows(&self) -> Vec<Row> {
        self.rows.lock().unwrap().clone()
    }

    fn ends(&self) -> Vec<Row> {
        self.rows()
            .into_iter()
            .filter(|r| matches!(r, Row::End { .. }))
            .collect()
    }

    fn end(&self, id: String, f: CallFinish, bill: Option<Bill>, committed: bool) {
        self.rows.lock().unwrap().push(Row::End {
            id,
            status: f.status,
            credits: f.credits.to_string(),
            error: f.error_reason,
            committed,
            billed: bill.is_some(),
            released: bill.and_then(|b| b.release),
        });
    }
}

impl CallLog for FakeLog {
    fn start_call(&self, row: CallStart) {
        self.rows.lock().unwrap().push(Row::Start {
            id: row.id,
            credential: row.credential_id,
        });
    }
    fn finish_call(&self, id: String, finish: CallFinish, bill: Option<Bill>) {
        self.end(id, finish, bill, false);
    }
    fn finish_call_committed(
        &self,
        id: String,
        finish: CallFinish,
        bill: Option<Bill>,
    ) -> BoxFuture<'_, ()> {
        self.end(id, finish, bill, true);
        Box::pin(async {})
    }
    fn credential_used(&self, _id: String) {}
}

impl Admission for FakeLog {
    fn admit(&self, request: AdmitRequest) -> BoxFuture<'_, Result<Admitted, DbError>> {
        self.admitted.lock().unwrap().push(request.estimate);
        let answer = match self.refuse {
            Some(balance) => Admitted::No { balance },
            None => Admitted::Yes(Hold::new(
                request.user_did,
                request.estimate,
                self.funds.clone(),
            )),
        };
        Box::pin(async move { Ok(answer) })
    }
}

struct Rig {
    engine: Engine,
    log: Arc<FakeLog>,
    _dir: tempfile::TempDir,
}

/// An engine over one OpenAI provider holding `keys` (in the database, as an operator adds
/// them); with billing on, `gpt-x` costs 0.001 per prompt and 0.002 per completion token.
fn rig(keys: &[&str], billing: bool, refuse: Option<&str>) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::migrated_sqlite(dir.path());
    let cipher = Arc::new(Cipher::new(&SecretString::from("engine-test-secret-0123")));
    let seed = ProviderSeed {
        name: "openai".into(),
        display_name: None,
        base_url: Some("http://127.0.0.1:9/v1".into()),
        region: None,
        enabled: Some(true),
        keys: keys.iter().map(|k| SecretString::from(*k)).collect(),
    };
    let c2 = cipher.clone();
    db.run_sync(move |c| {
        crate::routing::seed::apply(c, &c2, &[seed])?;
        let provider = crate::db::providers::by_name(c, "openai")?.unwrap();
        let now = chrono::Utc::now().naive_utc();
        rates::insert(
            c,
            &RateRow {
                id: "rate-1".into(),
                provider_id: provider.id,
                model: "gpt-x".into(),
                model_display: None,
                description: None,
                kind: CHAT_KIND.as_str().into(),
                input_rate: "0.001".into(),
                output_rate: "0.002".into(),
                unit_costs: None,
                caching: None,
                model_metadata: None,
                deprecated: false,
                created_at: now,
                updated_at: now,
            },
            "system",
        )?;
        Ok::<_, DbError>(())
    })
    .unwrap();
    let mut settings = load(None, &HashMap::new()).unwrap();
    settings.billing.enabled = billing;
    let router = Router::new(
        db,
        cipher,
        vec![],
        reqwest::Client::new(),
        &settings.upstream,
    )
    .unwrap();
    let log = Arc::new(FakeLog {
        refuse: refuse.map(|b| Decimal::from_str(b).unwrap()),
        ..FakeLog::default()
    });
    Rig {
        engine: Engine {
            settings: Arc::new(settings),
            router: Arc::new(router),
            recorder: log.clone(),
            ledger: log.clone(),
            payment_kit: None,
            instance_id: "test".into(),
            cut: CancellationToken::new(),
        },
        log,
        _dir: dir,
    }
}

/// A plan for `model` (`provider/model`) on the rig's catalog.
fn plan_for(engine: &Engine, model: &str) -> Plan {
    engine
        .router
        .plan(&model_name::parse(model).unwrap())
        .unwrap()
}

fn ctx() -> CallContext {
    CallContext {
        row_committed_by_route: false,
        started: Instant::now(),
        auth_ms: 0.0,
        user_did: "z-user".into(),
        role: "member",
        app_did: None,
        request_id: "req-1".into(),
        trace_id: None,
        endpoint: "/api/v2/chat/completions".into(),
        requested_model: "openai/gpt-x".into(),
        stream: false,
        instance_id: "test".into(),
        kind: CHAT_KIND,
        dialect: "openai",
        mount: String::new(),
    }
}

const USAGE: Usage = Usage {
    reasoning_tokens: 0,
    prompt_tokens: 10,
    completion_tokens: 5,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
};

/// The fake provider: the attempt's key says how it answers.
fn answer(key: &str) -> Result<Answer<String>, UpstreamError> {
    let status = match key {
        "k-ok" => return Ok(Answer::Finished("hello".into(), Measure::tokens(USAGE))),
        "k-500" => 500,
        "k-429" => 429,
        "k-401" => 401,
        "k-400" => 400,
        other => panic!("no such fake key {other}"),
    };
    Err(UpstreamError::Status {
        provider: "openai",
        status,
        message: format!("fake {status} (key {key})"),
        retry_after: None,
        cause: crate::providers::cause::Cause::Unknown,
    })
}

/// One call; returns its result and the keys its attempts used, in order.
async fn call(engine: &Engine) -> (Result<Done<String>, CoreError>, Vec<String>) {
    call_in(engine, &ctx()).await
}

async fn call_in(
    engine: &Engine,
    ctx: &CallContext,
) -> (Result<Done<String>, CoreError>, Vec<String>) {
    let tried = Mutex::new(Vec::new());
    let mut plan = plan_for(engine, "openai/gpt-x");
    let op = Operation {
        modality: Modality::Chat,
        model: "gpt-x",
        estimate: |_: &Rate, _| Decimal::ONE,
        send: |up: Upstream| {
            let key = up.target().api_key.to_owned();
            tried.lock().unwrap().push(key.clone());
            async move { answer(&key) }
        },
    };
    let result = engine.run(ctx, &mut plan, op).await;
    (result, tried.into_inner().unwrap())
}

/// A route that commits the row with a write of its own gets it queued, not awaited, and
/// still billed.
#[tokio::test]
async fn a_row_the_route_commits_is_queued_not_awaited() {
    let rig = rig(&["k-ok"], true, None);
    let mut ctx = ctx();
    ctx.row_committed_by_route = true;
    let (result, _) = call_in(&rig.engine, &ctx).await;
    assert!(result.is_ok());
    let ends = rig.log.ends();
    assert!(
        matches!(&ends[..], [Row::End { status, committed: false, billed: true, .. }] if status == "success"),
        "{ends:?}"
    );
}

#[tokio::test]
async fn a_failed_attempt_fails_over_and_every_attempt_has_its_row() {
    let rig = rig(&["k-500", "k-ok"], false, None);
    for _ in 0..2 {
        let (result, tried) = call(&rig.engine).await;
        let done = result.unwrap();
        assert_eq!(done.output, "hello");
        assert_eq!(done.model_with_provider, "openai/gpt-x");
        assert_eq!(tried.last().map(String::as_str), Some("k-ok"));
    }
    let rows = rig.log.rows();
    let starts = rows
        .iter()
        .filter(|r| matches!(r, Row::Start { .. }))
        .count();
    let ends = rig.log.ends();
    assert_eq!(starts, ends.len(), "{rows:?}");
    // The 500 was tried once (on whichever call came first), then cooled down.
    let failed: Vec<_> = ends
        .iter()
        .filter(|r| matches!(r, Row::End { status, .. } if status == "failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert!(
        matches!(failed[0], Row::End { error: Some(e), committed: false, .. } if e.contains("fake 500"))
    );
    // Every row that ends was started, with the key of its attempt.
    for r in &ends {
        let Row::End { id, .. } = r else { continue };
        assert!(
            rows.iter().any(
                |s| matches!(s, Row::Start { id: started, credential: Some(_) } if started == id)
            ),
            "{rows:?}"
        );
    }
    // A success row is committed before the answer returns; billing off: priced, not billed.
    for r in ends
        .iter()
        .filter(|r| matches!(r, Row::End { status, .. } if status == "success"))
    {
        assert!(
            matches!(r, Row::End { committed: true, credits, billed: false, .. } if credits == "0.02"),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn a_429_cools_its_key_and_a_401_disables_its_key() {
    let rig = rig(&["k-429", "k-401", "k-ok"], false, None);
    let mut seen = Vec::new();
    for _ in 0..8 {
        let (result, tried) = call(&rig.engine).await;
        assert_eq!(result.unwrap().output, "hello");
        seen.extend(tried);
    }
    assert_eq!(seen.iter().filter(|k| *k == "k-ok").count(), 8, "{seen:?}");
    // Each failing key was tried (rotation reaches it) and then never again.
    assert_eq!(seen.iter().filter(|k| *k == "k-429").count(), 1, "{seen:?}");
    assert_eq!(seen.iter().filter(|k| *k == "k-401").count(), 1, "{seen:?}");
    // The rejected key is disabled in the catalog: a plan no longer offers it.
    let mut plan = plan_for(&rig.engine, "openai/gpt-x");
    let mut offered = Vec::new();
    while let Some(a) = rig.engine.router.next(&mut plan) {
        offered.push(a.credential.map(|c| c.secret.expose_secret().to_owned()));
    }
    assert!(!offered.contains(&Some("k-401".into())), "{offered:?}");
}

#[tokio::test]
async fn a_bad_request_is_not_retried_on_another_key() {
    let rig = rig(&["k-400", "k-400b"], false, None);
    let (result, tried) = call(&rig.engine).await;
    assert_eq!(tried.len(), 1, "{tried:?}");
    match result {
        Err(CoreError::Upstream(UpstreamError::Status { status: 400, .. })) => {}
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a 400 answered"),
    }
}

#[tokio::test]
async fn admission_refusal_is_a_402_before_any_attempt() {
    let rig = rig(&["k-ok"], true, Some("-0.5"));
    let (result, tried) = call(&rig.engine).await;
    assert!(tried.is_empty(), "{tried:?}");
    match result {
        Err(CoreError::PaymentRequired { balance, .. }) => {
            assert_eq!(balance, Decimal::from_str("-0.5").unwrap())
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("admitted"),
    }
    assert!(rig.log.rows().is_empty());
}

#[tokio::test]
async fn a_success_is_billed_at_its_rate_and_releases_the_hold() {
    let rig = rig(&["k-ok"], true, None);
    let (result, _) = call(&rig.engine).await;
    let done = result.unwrap();
    // 10 × 0.001 + 5 × 0.002
    assert_eq!(done.credits, Decimal::from_str("0.02").unwrap());
    assert_eq!(*rig.log.admitted.lock().unwrap(), [Decimal::ONE]);
    let ends = rig.log.ends();
    assert!(
        matches!(&ends[..], [Row::End { status, credits, billed: true, released: Some(held), committed: true, .. }]
            if status == "success" && credits == "0.02" && *held == Decimal::ONE),
        "{ends:?}"
    );
}

#[tokio::test]
async fn without_a_rate_billing_on_refuses_before_sending() {
    let rig = rig(&["k-ok"], true, None);
    let mut plan = plan_for(&rig.engine, "openai/unpriced");
    let op = Operation {
        modality: Modality::Chat,
        model: "unpriced",
        estimate: |_: &Rate, _| Decimal::ONE,
        send: |_: Upstream| async { panic!("sent without a rate") },
    };
    let result: Result<Done<String>, _> = rig.engine.run(&ctx(), &mut plan, op).await;
    assert!(matches!(result, Err(CoreError::Invalid { ref field, .. }) if field == "model"));
    assert!(rig.log.rows().is_empty());
}

#[tokio::test]
async fn the_stop_cuts_a_waiting_call_without_penalising_the_route() {
    let rig = rig(&["k-ok"], false, None);
    rig.engine.cut.cancel();
    let mut plan = plan_for(&rig.engine, "openai/gpt-x");
    let op = Operation {
        modality: Modality::Chat,
        model: "gpt-x",
        estimate: |_: &Rate, _| Decimal::ONE,
        send: |_: Upstream| std::future::pending::<Result<Answer<String>, UpstreamError>>(),
    };
    let result = rig.engine.run(&ctx(), &mut plan, op).await;
    assert!(matches!(
        result,
        Err(CoreError::Upstream(UpstreamError::Stopped))
    ));
    assert!(matches!(&rig.log.ends()[..], [Row::End { status, .. }] if status == "failed"));
    // Still offered: a stop says nothing about the key.
    let mut plan = plan_for(&rig.engine, "openai/gpt-x");
    assert!(rig.engine.router.next(&mut plan).is_some());
}

struct Frames;

impl Encoder for Frames {
    fn start(&mut self) -> Vec<String> {
        vec!["start".into()]
    }
    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Text(t) => Some(format!("text:{t}")),
            _ => None,
        }
    }
    fn finish(&mut self, end: &super::relay::StreamEnd<'_>) -> Vec<String> {
        vec![format!(
            "done:{}:{}",
            end.usage.total(),
            end.credits.normalize()
        )]
    }
    fn error(&mut self, err: &UpstreamError) -> String {
        format!("error:{err}")
    }
}

/// Opens a stream whose events after the first are `rest`.
async fn open(rig: &Rig, rest: Vec<Result<StreamEvent, UpstreamError>>) -> Opened {
    let mut plan = plan_for(&rig.engine, "openai/gpt-x");
    let op = Operation {
        modality: Modality::Chat,
        model: "gpt-x",
        estimate: |_: &Rate, _| Decimal::ONE,
        send: |_: Upstream| {
            let events: crate::providers::EventStream =
                Box::pin(futures_util::stream::iter(rest.clone()));
            async move { Ok(Answer::Streaming((StreamEvent::Text("a".into()), events))) }
        },
    };
    let done = rig.engine.run(&ctx(), &mut plan, op).await.unwrap();
    let (first, events) = done.output;
    Opened {
        call_id: done.call_id,
        first,
        events,
        provider_ttfb_ms: 1,
        model_with_provider: done.model_with_provider,
        row: done.open.unwrap(),
    }
}

#[tokio::test]
async fn a_stream_row_stays_open_until_the_stream_ends_then_bills_its_usage() {
    let rig = rig(&["k-ok"], true, None);
    let opened = open(
        &rig,
        vec![
            Ok(StreamEvent::Text("b".into())),
            Ok(StreamEvent::Usage(USAGE)),
        ],
    )
    .await;
    assert!(rig.log.ends().is_empty(), "the row ended before the stream");
    let frames: Vec<_> = relay(rig.engine.clone(), ctx(), opened, Frames)
        .collect()
        .await;
    assert_eq!(
        frames,
        ["start", "text:a", "text:b", "done:15:0.02"].map(bytes::Bytes::from)
    );
    assert!(
        matches!(&rig.log.ends()[..], [Row::End { status, credits, committed: true, released: Some(_), .. }]
        if status == "success" && credits == "0.02")
    );
}

#[tokio::test]
async fn a_stream_cut_by_the_provider_bills_what_was_seen() {
    let rig = rig(&["k-ok"], true, None);
    let opened = open(
        &rig,
        vec![
            Ok(StreamEvent::Text("b".into())),
            Err(UpstreamError::Protocol("openai", "connection reset".into())),
        ],
    )
    .await;
    let frames: Vec<_> = relay(rig.engine.clone(), ctx(), opened, Frames)
        .collect()
        .await;
    assert_eq!(frames.len(), 4, "{frames:?}");
    assert!(frames[3].starts_with(b"error:"), "{frames:?}");
    // Two deltas seen, no usage reported: estimated as 2 completion tokens × 0.002.
    assert!(
        matches!(&rig.log.ends()[..], [Row::End { status, credits, error: Some(e), billed: true, .. }]
        if status == "failed" && credits == "0.004" && e.contains("connection reset")),
        "{:?}",
        rig.log.ends()
    );
}

#[tokio::test]
async fn a_client_that_goes_away_mid_stream_leaves_a_failed_billed_row() {
    let rig = rig(&["k-ok"], true, None);
    let opened = open(&rig, vec![Ok(StreamEvent::Text("b".into()))]).await;
    let mut body = Box::pin(relay(rig.engine.clone(), ctx(), opened, Frames));
    // The client reads two frames and disconnects.
    body.next().await;
    body.next().await;
    drop(body);
    assert!(
        matches!(&rig.log.ends()[..], [Row::End { status, error: Some(e), billed: true, released: Some(_), .. }]
        if status == "failed" && e.contains("client disconnected")),
        "{:?}",
        rig.log.ends()
    );
}

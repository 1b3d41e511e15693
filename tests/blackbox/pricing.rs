//! Prices that stay right: the rate check flags rates sold below the provider's list price and
//! unit costs that drifted from it; `bulk-rate-update` `mode: "sync"` re-prices from the list
//! (dry run first); every rate change is in the rate history; an operator's LiteLLM pricing file
//! replaces list prices, survives a restart, and the check at start notifies what is below cost.

use crate::support::mock::MockUpstream;
use crate::support::webhook::Receiver;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, eventually, json};
use serde_json::{Value, json};

const K: Option<&str> = Some(ADMIN_KEY);

fn rate(hub: &Hub, pid: &str, body: Value) -> String {
    let (status, r) = json(hub.post(&format!("/api/ai-providers/{pid}/model-rates"), K, &body));
    assert_eq!(status, 201, "{r}");
    r["id"].as_str().expect("id").to_owned()
}

fn models(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key}: {list}"))
        .iter()
        .map(|f| f["model"].as_str().expect("model").to_owned())
        .collect();
    out.sort();
    out
}

fn history(hub: &Hub, q: &str) -> Vec<Value> {
    let (status, h) = json(hub.get(&format!("/api/ai-providers/rate-history?{q}"), K));
    assert_eq!(status, 200, "{h}");
    h["list"].as_array().expect("list").clone()
}

fn check(hub: &Hub) -> Value {
    let (status, report) = json(hub.get("/api/ai-providers/rate-check", K));
    assert_eq!(status, 200, "{report}");
    report
}

fn pricing(backend: Backend) {
    let mock = MockUpstream::start();
    let receiver = Receiver::start("pricing-secret");
    let env = HubEnv::new(backend)
        .var("AIGNE_HUB_PRICING__CREDIT_PRICE", "0.001")
        .var("AIGNE_HUB_NOTIFICATIONS__WEBHOOK_URLS", &receiver.url)
        .var("AIGNE_HUB_NOTIFICATIONS__WEBHOOK_SECRET", "pricing-secret");
    let hub = env.start();
    let (_, me) = json(hub.get("/api/user/info", K));
    let admin = me["user"]["did"].as_str().expect("did").to_owned();
    let pid = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    // gpt-5-mini lists at 0.00000025 / 0.000002 USD per token, gpt-4o at 0.0000025 / 0.00001;
    // a credit is worth 0.001 USD here.
    rate(
        &hub,
        &pid,
        json!({"model": "gpt-5-mini", "type": "chatCompletion", "inputRate": "0.0003",
        "outputRate": "0.0024", "unitCosts": {"input": "0.000000125", "output": "0.000002"}}),
    );
    let gpt4o = rate(
        &hub,
        &pid,
        json!({"model": "gpt-4o", "type": "chatCompletion",
        "inputRate": "0.001", "outputRate": "0.001"}),
    );
    let own = rate(
        &hub,
        &pid,
        json!({"model": "my-model", "type": "chatCompletion",
        "inputRate": "1", "outputRate": "1"}),
    );

    let report = check(&hub);
    assert_eq!(report["checked"], 3, "{report}");
    assert_eq!(models(&report, "belowCost"), ["gpt-4o"]);
    assert_eq!(models(&report, "drift"), ["gpt-5-mini"]);
    assert_eq!(models(&report, "unpriced"), ["my-model"]);
    let below = &report["belowCost"][0];
    assert_eq!(below["inputMargin"], "-60", "{below}");
    assert_eq!(below["outputMargin"], "-90", "{below}");
    assert_eq!(report["drift"][0]["driftPercent"], "50");

    // Sync, dry run: the preview, nothing written.
    let sync = |dry: bool| {
        json(hub.post(
            "/api/ai-providers/bulk-rate-update",
            K,
            &json!({"mode": "sync", "profitMargin": "20", "creditPrice": "0.001", "dryRun": dry}),
        ))
    };
    let (status, preview) = sync(true);
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["updated"], 0);
    let change = preview["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["model"] == "gpt-4o")
        .expect("gpt-4o")
        .clone();
    assert_eq!(
        (change["inputRate"].as_str(), change["outputRate"].as_str()),
        (Some("0.003"), Some("0.012"))
    );
    assert_eq!(
        change["unitCosts"],
        json!({"input": "0.0000025", "output": "0.00001"})
    );
    assert_eq!(preview["skipped"][0]["model"], "my-model");
    assert_eq!(preview["skipped"][0]["reason"], "not in the price list");
    assert_eq!(
        models(&check(&hub), "belowCost"),
        ["gpt-4o"],
        "a dry run wrote"
    );

    let (status, done) = sync(false);
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["updated"], 2);
    let report = check(&hub);
    assert!(
        models(&report, "belowCost").is_empty() && models(&report, "drift").is_empty(),
        "{report}"
    );

    // The history: who, when, before and after.
    let h = history(&hub, &format!("rateId={gpt4o}"));
    let changes: Vec<&str> = h
        .iter()
        .map(|e| e["change"].as_str().expect("change"))
        .collect();
    assert_eq!(changes, ["sync", "created"]);
    assert_eq!(h[0]["changedBy"], admin.as_str());
    assert_eq!(h[0]["previous"]["inputRate"], "0.001");
    assert_eq!(h[0]["current"]["inputRate"], "0.003");
    assert_eq!(h[0]["current"]["unitCosts"]["input"], "0.0000025");
    assert!(h[1]["previous"].is_null());
    let (status, _) = json(hub.put(
        &format!("/api/ai-providers/{pid}/model-rates/{gpt4o}"),
        K,
        &json!({"inputRate": "0.002"}),
    ));
    assert_eq!(status, 200);
    // A display name is not a price: no entry.
    let (status, _) = json(hub.put(
        &format!("/api/ai-providers/{pid}/model-rates/{gpt4o}"),
        K,
        &json!({"modelDisplay": "GPT-4o"}),
    ));
    assert_eq!(status, 200);
    let h = history(&hub, &format!("rateId={gpt4o}"));
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h[0]["change"], "updated");
    assert_eq!(h[0]["current"]["inputRate"], "0.002");

    // The operator's pricing file: gpt-4o costs twice as much now.
    let litellm = json!({
        "sample_spec": {"max_tokens": "set to max tokens", "input_cost_per_token": 0.0},
        "gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                   "input_cost_per_token": 5e-06, "output_cost_per_token": 2e-05},
        "some-other": {"litellm_provider": "cohere", "mode": "chat",
                   "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
    });
    let (status, summary) = json(hub.put("/api/ai-providers/pricing", K, &litellm));
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (summary["source"].as_str(), summary["fromFile"].as_u64()),
        (Some("file"), Some(1))
    );
    let err = error_of(hub.put("/api/ai-providers/pricing", K, &json!([1, 2])), 400);
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("object")),
        "{err}"
    );
    let report = check(&hub);
    assert_eq!(models(&report, "belowCost"), ["gpt-4o"]);
    assert_eq!(models(&report, "drift"), ["gpt-4o"]);
    assert_eq!(report["belowCost"][0]["listSource"], "file");
    let (_, listed) = json(hub.get("/api/ai-providers/pricing?provider=openai", K));
    let p = listed["prices"]
        .as_array()
        .expect("prices")
        .iter()
        .find(|p| p["model"] == "gpt-4o")
        .expect("gpt-4o")
        .clone();
    assert_eq!(
        (p["input"].as_str(), p["source"].as_str()),
        (Some("0.000005"), Some("file"))
    );
    // No pricing.url: a refresh reads the file again, nothing is downloaded.
    let (status, again) = json(hub.post("/api/ai-providers/pricing/refresh", K, &json!({})));
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["source"], "file");

    // After a restart: the same prices, and the check at start tells the operators.
    assert!(hub.stop().success());
    let hub = env.start();
    let (_, summary) = json(hub.get("/api/ai-providers/pricing", K));
    assert_eq!(summary["fromFile"], 1, "{summary}");
    let notice = eventually(|| receiver.of("rate_below_cost"));
    assert_eq!(notice["data"]["rates"][0]["model"], "gpt-4o", "{notice}");

    // A deleted rate keeps its history.
    assert_eq!(
        hub.delete(&format!("/api/ai-providers/{pid}/model-rates/{own}"), K)
            .status()
            .as_u16(),
        204
    );
    let h = history(&hub, &format!("rateId={own}"));
    assert_eq!(h[0]["change"], "deleted");
    assert!(h[0]["current"].is_null() && h[0]["previous"]["inputRate"] == "1");
    let err = error_of(
        hub.post(
            "/api/ai-providers/bulk-rate-update",
            K,
            &json!({"mode": "guess", "profitMargin": "20", "creditPrice": "1"}),
        ),
        400,
    );
    assert_eq!(err["param"], "mode");
}

crate::on_both_backends!(pricing);

//! The rate check: every stored rate compared with what its calls cost the operator. A rate
//! is *below cost* when a credit's worth of it (`pricing.credit_price`) is less than the
//! provider's list price (else the rate's own unit costs); its unit costs have *drifted* when
//! they differ from the list price by more than `pricing.drift_percent`.

use super::price_list::{ListPrice, PriceList};
use crate::db::rates::RateRow;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

/// One rate the check has something to say about.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rate_id: String,
    pub provider_id: String,
    pub provider: String,
    pub model: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub input_rate: String,
    pub output_rate: String,
    /// The cost basis per token (image, second): the list price, else the rate's unit costs.
    pub cost_input: Option<String>,
    pub cost_output: Option<String>,
    /// `list` (the price list, `listSource` says which) or `unitCosts`.
    pub cost_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_source: Option<&'static str>,
    /// (rate × credit price ÷ cost − 1) × 100, to two places; negative: sold below cost.
    pub input_margin: Option<String>,
    pub output_margin: Option<String>,
    /// The largest difference between stored unit costs and the list price, in percent.
    pub drift_percent: Option<String>,
}

/// What a check found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub checked: usize,
    pub below_cost: Vec<Finding>,
    pub drift: Vec<Finding>,
    /// Rates with neither a list price nor unit costs: nothing to compare with.
    pub unpriced: Vec<Finding>,
}

fn text(d: Decimal) -> String {
    d.normalize().to_string()
}

fn parse(s: &str) -> Option<Decimal> {
    Decimal::from_str_exact(s.trim()).ok()
}

/// The stored `unitCosts` `{input, output}` of a rate.
fn unit_costs(row: &RateRow) -> Option<(Decimal, Decimal)> {
    let v: serde_json::Value = serde_json::from_str(row.unit_costs.as_deref()?).ok()?;
    let get = |k: &str| match &v[k] {
        serde_json::Value::String(s) => parse(s),
        serde_json::Value::Number(n) => parse(&n.to_string()),
        _ => None,
    };
    Some((get("input")?, get("output")?))
}

/// Margin in percent of selling `rate` credits for what costs `cost` USD.
fn margin(rate: Decimal, cost: Decimal, credit_price: Decimal) -> Option<Decimal> {
    if cost.is_zero() {
        return None;
    }
    let sold = rate.checked_mul(credit_price)?;
    Some(((sold / cost - Decimal::ONE) * Decimal::ONE_HUNDRED).round_dp(2))
}

fn drift(stored: Decimal, list: Decimal) -> Option<Decimal> {
    if list.is_zero() {
        return (!stored.is_zero()).then_some(Decimal::ONE_HUNDRED);
    }
    Some((((stored - list) / list).abs() * Decimal::ONE_HUNDRED).round_dp(2))
}

/// Checks `rates` (of the providers in `provider_names`, by id) against `prices`.
pub fn check(
    rates: &[RateRow],
    provider_names: &HashMap<String, String>,
    prices: &PriceList,
    credit_price: Decimal,
    drift_threshold: Decimal,
) -> Report {
    let mut report = Report::default();
    for row in rates.iter().filter(|r| !r.deprecated) {
        let Some(provider) = provider_names.get(&row.provider_id) else {
            continue;
        };
        report.checked += 1;
        let list: Option<&ListPrice> = prices.get(provider, &row.model, &row.kind);
        let stored = unit_costs(row);
        let (cost, cost_source) = match (list, stored) {
            (Some(l), _) => (Some((l.input, l.output)), "list"),
            (None, Some(s)) => (Some(s), "unitCosts"),
            (None, None) => (None, "none"),
        };
        let (input_rate, output_rate) = (parse(&row.input_rate), parse(&row.output_rate));
        let margins = cost.map(|(ci, co)| {
            (
                input_rate.and_then(|r| margin(r, ci, credit_price)),
                output_rate.and_then(|r| margin(r, co, credit_price)),
            )
        });
        let drifted = match (list, stored) {
            (Some(l), Some((si, so))) => drift(si, l.input).max(drift(so, l.output)),
            _ => None,
        };
        let finding = Finding {
            rate_id: row.id.clone(),
            provider_id: row.provider_id.clone(),
            provider: provider.clone(),
            model: row.model.clone(),
            kind: row.kind.clone(),
            input_rate: row.input_rate.clone(),
            output_rate: row.output_rate.clone(),
            cost_input: cost.map(|c| text(c.0)),
            cost_output: cost.map(|c| text(c.1)),
            cost_source,
            list_source: list.map(|l| l.source),
            input_margin: margins.and_then(|m| m.0).map(text),
            output_margin: margins.and_then(|m| m.1).map(text),
            drift_percent: drifted.map(text),
        };
        let Some((mi, mo)) = margins else {
            report.unpriced.push(finding);
            continue;
        };
        let below = [mi, mo]
            .iter()
            .flatten()
            .any(|m| m.is_sign_negative() && !m.is_zero());
        let drifted_far = drifted.is_some_and(|d| d > drift_threshold);
        if below {
            report.below_cost.push(finding.clone());
        }
        if drifted_far {
            report.drift.push(finding);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(id: &str, model: &str, input: &str, output: &str, costs: Option<&str>) -> RateRow {
        let now = chrono::Utc::now().naive_utc();
        RateRow {
            id: id.into(),
            provider_id: "p1".into(),
            model: model.into(),
            model_display: None,
            description: None,
            kind: "chatCompletion".into(),
            input_rate: input.into(),
            output_rate: output.into(),
            unit_costs: costs.map(str::to_owned),
            caching: None,
            model_metadata: None,
            deprecated: false,
            created_at: now,
            updated_at: now,
        }
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    #[test]
    fn below_cost_drift_and_unpriced() {
        let names = HashMap::from([("p1".to_owned(), "openai".to_owned())]);
        let prices = PriceList::built_in();
        // gpt-5-mini lists at 0.00000025 / 0.000002 USD per token; one credit is 0.001 USD.
        let rates = vec![
            // 20% above cost on both sides.
            rate(
                "ok",
                "gpt-5-mini",
                "0.0003",
                "0.0024",
                Some(r#"{"input":"0.00000025","output":"0.000002"}"#),
            ),
            // Output sold at half its cost.
            rate("cheap", "gpt-5-mini", "0.0003", "0.001", None),
            // Stored unit costs 50% off the list.
            rate(
                "stale",
                "gpt-5-mini",
                "0.0003",
                "0.0024",
                Some(r#"{"input":"0.000000125","output":"0.000002"}"#),
            ),
            // Not in the list: compared with its own unit costs.
            rate(
                "own",
                "my-model",
                "0.0005",
                "0.0005",
                Some(r#"{"input":"0.000001","output":"0.0000001"}"#),
            ),
            rate("none", "my-model-2", "1", "1", None),
        ];
        let report = check(&rates, &names, &prices, d("0.001"), d("10"));
        assert_eq!(report.checked, 5);
        let ids = |v: &[Finding]| v.iter().map(|f| f.rate_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&report.below_cost), ["cheap", "own"]);
        assert_eq!(ids(&report.drift), ["stale"]);
        assert_eq!(ids(&report.unpriced), ["none"]);
        let cheap = &report.below_cost[0];
        assert_eq!(cheap.output_margin.as_deref(), Some("-50"));
        assert_eq!(cheap.input_margin.as_deref(), Some("20"));
        assert_eq!(cheap.cost_source, "list");
        assert_eq!(report.below_cost[1].cost_source, "unitCosts");
        assert_eq!(report.drift[0].drift_percent.as_deref(), Some("50"));
    }
}

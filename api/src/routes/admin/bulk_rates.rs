//! `POST /api/ai-providers/bulk-rate-update {mode, profitMargin, creditPrice, dryRun}` (SPEC
//! §5.6): rates re-priced as rate = unit cost × (1 + margin / 100) / credit price. `margin`
//! takes each rate's stored unit costs; `sync` takes the providers' list prices (the built-in
//! catalog and the operator's pricing file) and stores them as the rate's unit costs too. A dry
//! run answers the same preview and writes nothing. Rates without a cost are listed as skipped,
//! never guessed. Every change is kept in the rate history.

use super::decimal::{WireDecimal, text};
use crate::auth::Admin;
use crate::db::rates;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Decimal places of a computed rate (credits per token can be very small).
const RATE_SCALE: u32 = 15;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BulkRateUpdate {
    mode: String,
    profit_margin: WireDecimal,
    credit_price: WireDecimal,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
struct UnitCosts {
    input: String,
    output: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Change {
    id: String,
    provider_id: String,
    model: String,
    #[serde(rename = "type")]
    kind: String,
    old_input_rate: String,
    old_output_rate: String,
    input_rate: String,
    output_rate: String,
    /// `sync`: the list price now stored as the unit costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_costs: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Skipped {
    id: String,
    model: String,
    reason: String,
}

/// unit cost × (1 + margin / 100) / credit price, to [`RATE_SCALE`] places.
pub fn margin_rate(unit_cost: Decimal, margin: Decimal, credit_price: Decimal) -> Option<Decimal> {
    let factor = Decimal::ONE.checked_add(margin.checked_div(Decimal::ONE_HUNDRED)?)?;
    let rate = unit_cost.checked_mul(factor)?.checked_div(credit_price)?;
    Some(
        rate.round_dp_with_strategy(RATE_SCALE, RoundingStrategy::MidpointAwayFromZero)
            .normalize(),
    )
}

/// The rate's stored unit costs (`margin`).
fn stored_costs(row: &rates::RateRow) -> Result<(Decimal, Decimal), String> {
    let costs = row.unit_costs.as_deref().ok_or("no unit costs")?;
    let costs: UnitCosts =
        serde_json::from_str(costs).map_err(|e| format!("unreadable unit costs: {e}"))?;
    let cost = |t: &str| {
        Decimal::from_str_exact(t.trim()).map_err(|_| format!("unit cost '{t}' is not a decimal"))
    };
    Ok((cost(&costs.input)?, cost(&costs.output)?))
}

fn repriced(
    row: &rates::RateRow,
    (input_cost, output_cost): (Decimal, Decimal),
    margin: Decimal,
    price: Decimal,
    synced: bool,
) -> Result<Change, String> {
    let input = margin_rate(input_cost, margin, price).ok_or("rate out of range")?;
    let output = margin_rate(output_cost, margin, price).ok_or("rate out of range")?;
    Ok(Change {
        unit_costs: synced
            .then(|| serde_json::json!({"input": text(input_cost), "output": text(output_cost)})),
        id: row.id.clone(),
        provider_id: row.provider_id.clone(),
        model: row.model.clone(),
        kind: row.kind.clone(),
        old_input_rate: row.input_rate.clone(),
        old_output_rate: row.output_rate.clone(),
        input_rate: text(input),
        output_rate: text(output),
    })
}

pub async fn bulk_update(
    Admin(me): Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<BulkRateUpdate>,
) -> ApiResult<HttpResponse> {
    let synced = match body.mode.as_str() {
        "margin" => false,
        "sync" => true,
        other => {
            return Err(ApiError::invalid(
                "mode",
                format!("'{other}' is not supported: use 'margin' or 'sync'"),
            ));
        }
    };
    let price = body.credit_price.0;
    if price.is_zero() {
        return Err(ApiError::invalid("creditPrice", "must be greater than 0"));
    }
    let margin = body.profit_margin.0;
    let (rows, providers) = state
        .db
        .run(|conn| {
            Ok::<_, crate::db::DbError>((rates::all(conn)?, crate::db::providers::all(conn)?))
        })
        .await?;
    let names: std::collections::HashMap<String, String> =
        providers.into_iter().map(|p| (p.id, p.name)).collect();
    let prices = state.pricing.current();
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    for row in &rows {
        let costs = if synced {
            names
                .get(&row.provider_id)
                .and_then(|p| prices.list.get(p, &row.model, &row.kind))
                .map(|l| (l.input, l.output))
                .ok_or_else(|| "not in the price list".to_owned())
        } else {
            stored_costs(row)
        };
        match costs.and_then(|c| repriced(row, c, margin, price, synced)) {
            Ok(change) => changes.push(change),
            Err(reason) => skipped.push(Skipped {
                id: row.id.clone(),
                model: row.model.clone(),
                reason,
            }),
        }
    }
    if !body.dry_run && !changes.is_empty() {
        let writes: Vec<rates::NewPrices> = changes
            .iter()
            .map(|c| rates::NewPrices {
                id: c.id.clone(),
                input_rate: c.input_rate.clone(),
                output_rate: c.output_rate.clone(),
                unit_costs: c.unit_costs.as_ref().map(|v| v.to_string()),
            })
            .collect();
        let now = chrono::Utc::now().naive_utc();
        let mode = if synced { "sync" } else { "margin" };
        state
            .db
            .run(move |conn| {
                rates::set_rates(conn, &writes, now, mode, &me.user_did)
                    .map_err(crate::db::DbError::from)
            })
            .await?;
        super::routing_changed(&state).await;
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "mode": body.mode,
        "dryRun": body.dry_run,
        "updated": if body.dry_run { 0 } else { changes.len() },
        "changes": changes,
        "skipped": skipped,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    #[test]
    fn margin_formula() {
        // $2.50 per 1M input tokens, 20% margin, 1 credit = $0.001 → 0.003 credits per token.
        assert_eq!(
            margin_rate(d("0.0000025"), d("20"), d("0.001")),
            Some(d("0.003"))
        );
        assert_eq!(
            margin_rate(d("0.00001"), d("0"), d("1")),
            Some(d("0.00001"))
        );
        // Thirds are rounded to 15 places, halves away from zero.
        assert_eq!(
            margin_rate(d("1"), d("0"), d("3")),
            Some(d("0.333333333333333"))
        );
        assert_eq!(
            margin_rate(d("2"), d("0"), d("3")),
            Some(d("0.666666666666667"))
        );
    }
}

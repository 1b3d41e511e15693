//! `POST /api/ai-providers/bulk-rate-update {mode: "margin", profitMargin, creditPrice, dryRun}`
//! (SPEC §5.6): every rate that has provider unit costs is re-priced as
//! rate = unit cost × (1 + margin / 100) / credit price. A dry run answers the same preview and
//! writes nothing. Rates without unit costs are listed as skipped, never guessed.

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

fn repriced(row: &rates::RateRow, margin: Decimal, price: Decimal) -> Result<Change, String> {
    let costs = row.unit_costs.as_deref().ok_or("no unit costs")?;
    let costs: UnitCosts =
        serde_json::from_str(costs).map_err(|e| format!("unreadable unit costs: {e}"))?;
    let cost = |t: &str| {
        Decimal::from_str_exact(t.trim()).map_err(|_| format!("unit cost '{t}' is not a decimal"))
    };
    let input = margin_rate(cost(&costs.input)?, margin, price).ok_or("rate out of range")?;
    let output = margin_rate(cost(&costs.output)?, margin, price).ok_or("rate out of range")?;
    Ok(Change {
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
    _: Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<BulkRateUpdate>,
) -> ApiResult<HttpResponse> {
    if body.mode != "margin" {
        return Err(ApiError::invalid(
            "mode",
            format!(
                "'{}' is not supported; the only mode is 'margin'",
                body.mode
            ),
        ));
    }
    let price = body.credit_price.0;
    if price.is_zero() {
        return Err(ApiError::invalid("creditPrice", "must be greater than 0"));
    }
    let margin = body.profit_margin.0;
    let rows = state
        .db
        .run(|conn| rates::all(conn).map_err(crate::db::DbError::from))
        .await?;
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    for row in &rows {
        match repriced(row, margin, price) {
            Ok(change) => changes.push(change),
            Err(reason) => skipped.push(Skipped {
                id: row.id.clone(),
                model: row.model.clone(),
                reason,
            }),
        }
    }
    if !body.dry_run && !changes.is_empty() {
        let writes: Vec<(String, String, String)> = changes
            .iter()
            .map(|c| (c.id.clone(), c.input_rate.clone(), c.output_rate.clone()))
            .collect();
        let now = chrono::Utc::now().naive_utc();
        state
            .db
            .run(move |conn| rates::set_rates(conn, &writes, now).map_err(crate::db::DbError::from))
            .await?;
        super::routing_changed(&state).await;
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
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

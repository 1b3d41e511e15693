//! Payment Kit's API as the Hub uses it (SPEC §9), over signed component calls made like
//! `@blocklet/payment-js` makes them (`docs/payment-kit.md`): every query carries
//! `livemode=true`, customers are looked up by DID (`create: true`), the meter
//! `agent-hub-ai-meter` is looked up, or created, once.
//!
//! Amounts: Payment Kit answers balances in the currency's smallest unit (`decimal` places),
//! and takes meter event values and grant amounts as decimal strings of credits.

use crate::billing::credits;
use hub_blocklet::mount_points::PAYMENT_KIT_DID;
use hub_blocklet::{CallError, ComponentClient, component_call::Call};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::RwLock;

/// The meter the Hub reports usage to.
pub const METER_EVENT: &str = "agent-hub-ai-meter";
const METER_UNIT: &str = "AIGNE Hub Credits";

#[derive(Debug, thiserror::Error)]
pub enum PaymentKitError {
    /// Not reachable, or failing on its side (5xx): worth retrying later.
    #[error("Payment Kit is unavailable: {0}")]
    Down(String),
    /// Payment Kit refused the request (4xx).
    #[error("Payment Kit refused {what} ({status}): {message}")]
    Refused {
        what: String,
        status: u16,
        message: String,
    },
    #[error("Payment Kit answered {what} with an unexpected body: {detail}")]
    Unexpected { what: String, detail: String },
}

impl PaymentKitError {
    pub fn is_down(&self) -> bool {
        matches!(self, PaymentKitError::Down(_))
    }
}

type PkResult<T> = Result<T, PaymentKitError>;

/// The meter and its credit currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meter {
    pub id: String,
    pub event_name: String,
    pub currency_id: String,
    /// Decimal places of the currency's unit amounts.
    pub decimal: u32,
}

impl Meter {
    /// Unit amount (integer string, as balances are answered) → credits.
    pub fn credits_of_units(&self, units: &str) -> PkResult<Decimal> {
        let value: Decimal = units
            .trim()
            .parse()
            .map_err(|_| PaymentKitError::Unexpected {
                what: "an amount".into(),
                detail: format!("'{units}' is not a number"),
            })?;
        Ok(value / pow10(self.decimal))
    }

    /// Credits → unit amount (rounded up: what is asked about is never understated).
    pub fn units_of_credits(&self, amount: Decimal) -> String {
        (amount * pow10(self.decimal))
            .ceil()
            .normalize()
            .to_string()
    }
}

fn pow10(decimal: u32) -> Decimal {
    Decimal::from(10u64.pow(decimal.min(18)))
}

/// One aggregated usage report.
#[derive(Debug, Clone)]
pub struct MeterEvent<'a> {
    pub user_did: &'a str,
    pub app_did: Option<&'a str>,
    pub value: Decimal,
    pub identifier: &'a str,
    /// Unix seconds of the last call it covers.
    pub timestamp: i64,
    pub calls: usize,
}

pub struct PaymentKit {
    client: ComponentClient,
    meter: RwLock<Option<Meter>>,
    /// User DID → Payment Kit customer id (stable once created).
    customers: Mutex<HashMap<String, String>>,
}

impl PaymentKit {
    pub fn new(client: ComponentClient) -> PaymentKit {
        PaymentKit {
            client,
            meter: RwLock::new(None),
            customers: Mutex::new(HashMap::new()),
        }
    }

    async fn call(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> PkResult<Value> {
        let mut pairs: Vec<(&str, &str)> = query.to_vec();
        pairs.push(("livemode", "true"));
        let res = self
            .client
            .send(&Call {
                component: PAYMENT_KIT_DID,
                method,
                path,
                query: &pairs,
                body,
            })
            .await
            .map_err(|e| match e {
                CallError::Transport { source, .. } => PaymentKitError::Down(source.to_string()),
                other => PaymentKitError::Down(other.to_string()),
            })?;
        let status = res.status().as_u16();
        let text = res
            .text()
            .await
            .map_err(|e| PaymentKitError::Down(e.to_string()))?;
        if status >= 500 {
            return Err(PaymentKitError::Down(format!("{what}: HTTP {status}")));
        }
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| PaymentKitError::Unexpected {
                what: what.into(),
                detail: e.to_string(),
            })?
        };
        if status >= 400 {
            return Err(PaymentKitError::Refused {
                what: what.into(),
                status,
                message: error_message(&value, &text),
            });
        }
        Ok(value)
    }

    /// The meter (looked up once, created when Payment Kit has none).
    pub async fn meter(&self) -> PkResult<Meter> {
        if let Some(m) = self.meter.read().await.as_ref() {
            return Ok(m.clone());
        }
        let mut slot = self.meter.write().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let path = format!("/api/meters/{METER_EVENT}");
        let found = match self.call("the meter", Method::GET, &path, &[], None).await {
            Ok(v) if v.is_object() => v,
            Ok(_) | Err(PaymentKitError::Refused { status: 404, .. }) => {
                let body = json!({
                    "name": "AIGNE Hub AI Meter",
                    "description": "AIGNE Hub AI Meter",
                    "event_name": METER_EVENT,
                    "unit": METER_UNIT,
                    "aggregation_method": "sum",
                });
                self.call(
                    "creating the meter",
                    Method::POST,
                    "/api/meters",
                    &[],
                    Some(&body),
                )
                .await?
            }
            Err(e) => return Err(e),
        };
        let meter = parse_meter(&found)?;
        tracing::info!(meter = %meter.id, currency = %meter.currency_id, "Payment Kit meter ready");
        *slot = Some(meter.clone());
        Ok(meter)
    }

    /// The customer id of `user_did` (created by Payment Kit when new).
    pub async fn customer_id(&self, user_did: &str) -> PkResult<String> {
        if let Some(id) = self.lock_customers().get(user_did) {
            return Ok(id.clone());
        }
        let path = format!("/api/customers/{user_did}");
        let body = json!({"create": true});
        let v = self
            .call("the customer", Method::GET, &path, &[], Some(&body))
            .await?;
        let id = v["id"]
            .as_str()
            .ok_or_else(|| PaymentKitError::Unexpected {
                what: "the customer".into(),
                detail: "no id".into(),
            })?
            .to_owned();
        self.lock_customers()
            .insert(user_did.to_owned(), id.clone());
        Ok(id)
    }

    fn lock_customers(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // Inserts only: a panic elsewhere cannot leave the map torn.
        self.customers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the customer's grants have left, less what Payment Kit has not applied yet
    /// (credits).
    pub async fn balance(&self, meter: &Meter, customer_id: &str) -> PkResult<Decimal> {
        let q = [("customer_id", customer_id)];
        let (summary, pending) = tokio::try_join!(
            self.call(
                "the credit summary",
                Method::GET,
                "/api/credit-grants/summary",
                &q,
                None
            ),
            self.call(
                "the pending amount",
                Method::GET,
                "/api/meter-events/pending-amount",
                &q,
                None
            ),
        )?;
        let remaining = unit_text(&summary[&meter.currency_id]["remainingAmount"]);
        let pending = unit_text(&pending[&meter.currency_id]);
        Ok(meter.credits_of_units(&remaining)? - meter.credits_of_units(&pending)?)
    }

    /// Whether a user with nothing left may go on anyway (auto-recharge and the like).
    pub async fn can_continue(
        &self,
        meter: &Meter,
        user_did: &str,
        pending: Decimal,
    ) -> PkResult<bool> {
        let pending_units = meter.units_of_credits(pending.max(Decimal::ZERO));
        let v = self
            .call(
                "the availability check",
                Method::GET,
                "/api/credit-grants/verify-availability",
                &[
                    ("customer_id", user_did),
                    ("currency_id", &meter.currency_id),
                    ("pending_amount", &pending_units),
                ],
                None,
            )
            .await?;
        Ok(v["can_continue"].as_bool().unwrap_or(false))
    }

    /// Reports usage. An identifier Payment Kit already has counts as reported.
    pub async fn report(&self, meter: &Meter, event: &MeterEvent<'_>) -> PkResult<()> {
        let body = json!({
            "event_name": meter.event_name,
            "timestamp": event.timestamp,
            "payload": {"customer_id": event.user_did, "value": credits::text(event.value)},
            "identifier": event.identifier,
            "metadata": {"appId": event.app_did, "calls": event.calls, "source": "aigne-hub"},
        });
        match self
            .call(
                "the meter event",
                Method::POST,
                "/api/meter-events",
                &[],
                Some(&body),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(PaymentKitError::Refused {
                status, message, ..
            }) if status == 409 || message.to_ascii_lowercase().contains("already exist") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Grants promotional credits (starter credits).
    pub async fn grant_promotional(
        &self,
        meter: &Meter,
        customer_id: &str,
        user_did: &str,
        amount: Decimal,
    ) -> PkResult<()> {
        let body = json!({
            "customer_id": customer_id,
            "amount": credits::text(amount),
            "currency_id": meter.currency_id,
            "category": "promotional",
            "name": "New user bonus credits",
            "metadata": {"reason": "new-user", "userDid": user_did},
        });
        self.call(
            "the starter credit grant",
            Method::POST,
            "/api/credit-grants",
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// A page of the customer's credit transactions on the meter: `{count, list}` as Payment Kit
    /// answers it.
    pub async fn transactions(
        &self,
        meter: &Meter,
        customer_id: &str,
        page: i64,
        page_size: i64,
    ) -> PkResult<Value> {
        let (page, page_size) = (page.to_string(), page_size.to_string());
        self.call(
            "the credit transactions",
            Method::GET,
            "/api/credit-transactions",
            &[
                ("customer_id", customer_id),
                ("meter_id", &meter.id),
                ("page", &page),
                ("pageSize", &page_size),
            ],
            None,
        )
        .await
    }

    /// What the customer's active grants were granted (credits) and how many they are.
    pub async fn grant_totals(&self, meter: &Meter, customer_id: &str) -> PkResult<(Decimal, i64)> {
        let summary = self
            .call(
                "the credit summary",
                Method::GET,
                "/api/credit-grants/summary",
                &[("customer_id", customer_id)],
                None,
            )
            .await?;
        let mine = &summary[&meter.currency_id];
        let total = meter.credits_of_units(&unit_text(&mine["totalAmount"]))?;
        Ok((total, mine["grantCount"].as_i64().unwrap_or(0)))
    }

    /// A page of the customer's credit grants: `{count, list}` as Payment Kit answers it.
    pub async fn grants(&self, customer_id: &str, page: i64, page_size: i64) -> PkResult<Value> {
        let (page, page_size) = (page.to_string(), page_size.to_string());
        self.call(
            "the credit grants",
            Method::GET,
            "/api/credit-grants",
            &[
                ("customer_id", customer_id),
                ("page", &page),
                ("pageSize", &page_size),
            ],
            None,
        )
        .await
    }

    /// The app's subscription with status `active` or `trialing`, if any.
    pub async fn active_subscription(&self, app_did: &str) -> PkResult<Option<Value>> {
        self.subscription_in(app_did, &["active", "trialing"]).await
    }

    /// The app's subscription of the first of `statuses` it has one of, if any.
    pub async fn subscription_in(
        &self,
        app_did: &str,
        statuses: &[&str],
    ) -> PkResult<Option<Value>> {
        let v = self
            .call(
                "the subscriptions",
                Method::GET,
                "/api/subscriptions",
                &[("metadata.appId", app_did)],
                None,
            )
            .await?;
        let list = v["list"].as_array().or_else(|| v.as_array());
        // The first of the statuses wins (an active subscription over an old past-due one).
        Ok(list.and_then(|l| {
            statuses.iter().find_map(|wanted| {
                l.iter()
                    .find(|s| s["status"].as_str() == Some(*wanted))
                    .cloned()
            })
        }))
    }
}

fn parse_meter(v: &Value) -> PkResult<Meter> {
    let field = |name: &str| {
        v[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| PaymentKitError::Unexpected {
                what: "the meter".into(),
                detail: format!("no {name}"),
            })
    };
    let decimal = v["paymentCurrency"]["decimal"]
        .as_u64()
        .or_else(|| v["payment_currency"]["decimal"].as_u64())
        .unwrap_or(0);
    Ok(Meter {
        id: field("id")?,
        event_name: field("event_name")?,
        currency_id: field("currency_id")?,
        decimal: u32::try_from(decimal.min(18)).unwrap_or(18),
    })
}

/// An amount as Payment Kit writes it (string or number; absent: 0).
fn unit_text(v: &Value) -> String {
    match v {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => "0".into(),
    }
}

fn error_message(v: &Value, text: &str) -> String {
    let m = v["error"]["message"]
        .as_str()
        .or_else(|| v["error"].as_str())
        .or_else(|| v["message"].as_str())
        .unwrap_or(text);
    m.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_credits() {
        let m = Meter {
            id: "m".into(),
            event_name: METER_EVENT.into(),
            currency_id: "pc".into(),
            decimal: 10,
        };
        assert_eq!(
            m.credits_of_units("12345000000").expect("units"),
            "1.2345".parse::<Decimal>().expect("d")
        );
        assert_eq!(m.units_of_credits("0.00000000015".parse().expect("d")), "2");
        assert!(m.credits_of_units("abc").is_err());
        let plain = Meter { decimal: 0, ..m };
        assert_eq!(
            plain.credits_of_units("7").expect("units"),
            Decimal::from(7)
        );
    }

    #[test]
    fn meter_and_amount_shapes() {
        let m = parse_meter(&json!({"id": "mtr_1", "event_name": METER_EVENT,
            "currency_id": "pc_1", "paymentCurrency": {"decimal": 10}}))
        .expect("meter");
        assert_eq!(m.decimal, 10);
        assert!(parse_meter(&json!({"id": "mtr_1"})).is_err());
        assert_eq!(unit_text(&json!("5")), "5");
        assert_eq!(unit_text(&json!(5)), "5");
        assert_eq!(unit_text(&Value::Null), "0");
        assert_eq!(
            error_message(&json!({"error": "identifier already exists"}), ""),
            "identifier already exists"
        );
    }
}

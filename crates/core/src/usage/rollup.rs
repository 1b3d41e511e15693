//! `model_call_stats` rollups (SPEC §4): per (user, app) and hour/day/month bucket, the totals of
//! the calls that ended in it, kept up to date by the writer as calls finish, so usage charts
//! never scan `model_calls`.
//!
//! Counts, tokens and credits are exact. Durations and time to first byte are kept as
//! histograms with buckets 10% wide, so their percentiles are within 10% (never below the true
//! value): exact percentiles would need every call.

use crate::billing::credits;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The user and app of the everyone-rollup (admins' `allUsers` charts).
pub const ALL: &str = "*";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeType {
    Hour,
    Day,
    Month,
}

impl TimeType {
    pub const ALL: [TimeType; 3] = [TimeType::Hour, TimeType::Day, TimeType::Month];

    pub fn parse(v: &str) -> Option<TimeType> {
        match v {
            "hour" => Some(TimeType::Hour),
            "day" => Some(TimeType::Day),
            "month" => Some(TimeType::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimeType::Hour => "hour",
            TimeType::Day => "day",
            TimeType::Month => "month",
        }
    }

    /// The start (UTC) of the bucket `t` (UTC) falls in on a clock `east_minutes` ahead of
    /// UTC: a user's day or month where they live.
    pub fn bucket_at(self, t: NaiveDateTime, east_minutes: i32) -> NaiveDateTime {
        let shift = chrono::Duration::minutes(i64::from(east_minutes));
        self.bucket(t + shift) - shift
    }

    /// The start of the bucket `t` falls in (UTC).
    pub fn bucket(self, t: NaiveDateTime) -> NaiveDateTime {
        let day = t.date();
        match self {
            TimeType::Hour => day.and_hms_opt(t.hour(), 0, 0).unwrap_or(t),
            TimeType::Day => day.and_hms_opt(0, 0, 0).unwrap_or(t),
            TimeType::Month => NaiveDate::from_ymd_opt(day.year(), day.month(), 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or(t),
        }
    }
}

/// Histogram bucket growth: each bucket is 10% wider than the last.
const GROWTH: f64 = 1.1;

/// The histogram bucket of `ms` (0 holds 0 and 1 ms).
fn slot(ms: i64) -> u16 {
    if ms <= 1 {
        return 0;
    }
    ((ms as f64).ln() / GROWTH.ln())
        .ceil()
        .min(f64::from(u16::MAX)) as u16
}

/// The upper bound of a histogram bucket, in ms.
fn slot_value(slot: u16) -> i64 {
    if slot == 0 {
        return 1;
    }
    GROWTH.powi(i32::from(slot)).floor() as i64
}

/// Latencies as a sparse histogram: (bucket, count) pairs in bucket order, stored as a JSON
/// object `{"bucket": count}`. A sorted list, not a tree map: charts merge thousands of rows'
/// histograms per request, and merging two sorted lists is one pass without a node per entry
/// (measured: tree inserts, merges and drops were half of a 30-day hourly chart's time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram(Vec<(u16, u64)>);

impl Histogram {
    pub fn add(&mut self, ms: i64) {
        let s = slot(ms);
        match self.0.binary_search_by_key(&s, |e| e.0) {
            Ok(i) => self.0[i].1 += 1,
            Err(i) => self.0.insert(i, (s, 1)),
        }
    }

    pub fn merge(&mut self, other: &Histogram) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0.extend_from_slice(&other.0);
            return;
        }
        // One pass over both lists into a new one.
        let mut merged = Vec::with_capacity(self.0.len().max(other.0.len()) + 4);
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            match a.0.cmp(&b.0) {
                std::cmp::Ordering::Less => {
                    merged.push(a);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    merged.push(b);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    merged.push((a.0, a.1 + b.1));
                    i += 1;
                    j += 1;
                }
            }
        }
        merged.extend_from_slice(&self.0[i..]);
        merged.extend_from_slice(&other.0[j..]);
        self.0 = merged;
    }

    /// How many latencies it holds.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|e| e.1).sum()
    }

    /// Nearest-rank percentile, as its bucket's upper bound.
    pub fn percentile(&self, p: u64) -> Option<i64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = (p * n).div_ceil(100).max(1);
        let mut seen = 0;
        for &(slot, count) in &self.0 {
            seen += count;
            if seen >= rank {
                return Some(slot_value(slot));
            }
        }
        None
    }
}

impl Serialize for Histogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Histogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Histogram;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of histogram buckets to counts")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Histogram, A::Error> {
                let mut pairs: Vec<(u16, u64)> = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(pair) = map.next_entry::<u16, u64>()? {
                    pairs.push(pair);
                }
                // Written in order; a hand-edited row may not be, or may repeat a bucket.
                if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
                    pairs.sort_by_key(|e| e.0);
                    pairs.dedup_by(|later, first| {
                        let same = later.0 == first.0;
                        if same {
                            first.1 += later.1;
                        }
                        same
                    });
                }
                Ok(Histogram(pairs))
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// Totals of a set of calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub calls: u64,
    pub success: u64,
    pub failed: u64,
    pub usage: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub credits: Decimal,
    pub duration_ms: i64,
    #[serde(default)]
    pub duration: Histogram,
    #[serde(default)]
    pub ttfb: Histogram,
    /// Sum of the times to first byte (rows written before it have 0; `stats rebuild` fills it).
    #[serde(default)]
    pub ttfb_ms: i64,
}

impl Totals {
    fn add(&mut self, c: &CallFacts) {
        self.calls += 1;
        if c.success {
            self.success += 1;
        } else {
            self.failed += 1;
        }
        self.usage += c.usage;
        self.credits += c.credits;
        if let Some(ms) = c.duration_ms {
            self.duration_ms += ms;
            self.duration.add(ms);
        }
        if let Some(ms) = c.ttfb_ms {
            self.ttfb_ms += ms;
            self.ttfb.add(ms);
        }
    }

    pub fn merge(&mut self, o: &Totals) {
        self.calls += o.calls;
        self.success += o.success;
        self.failed += o.failed;
        self.usage += o.usage;
        self.credits += o.credits;
        self.duration_ms += o.duration_ms;
        self.duration.merge(&o.duration);
        self.ttfb.merge(&o.ttfb);
        self.ttfb_ms += o.ttfb_ms;
    }

    /// Mean duration in seconds, one decimal (0 without calls).
    pub fn avg_duration_secs(&self) -> f64 {
        mean_secs(self.duration_ms, self.duration.count())
    }

    /// Mean time to first byte in seconds, one decimal (0 without any).
    pub fn avg_ttfb_secs(&self) -> f64 {
        mean_secs(self.ttfb_ms, self.ttfb.count())
    }

    pub fn credits_text(&self) -> String {
        credits::text(self.credits)
    }
}

fn mean_secs(total_ms: i64, count: u64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    (total_ms as f64 / count as f64 / 100.0).round() / 10.0
}

/// One rollup row: totals, and the same by call type and by model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollup {
    // Not flattened: serde's flatten cannot read back the histograms' integer keys.
    pub totals: Totals,
    #[serde(default)]
    pub by_type: BTreeMap<String, Totals>,
    #[serde(default)]
    pub by_model: BTreeMap<String, Totals>,
}

impl Rollup {
    /// One call, straight into a row (the tests' reference for [`Pending::add_groups`]).
    #[cfg(test)]
    pub fn add(&mut self, c: &CallFacts) {
        self.totals.add(c);
        for (map, key) in [(&mut self.by_type, c.kind), (&mut self.by_model, c.model)] {
            map.entry(key.to_owned()).or_default().add(c);
        }
    }

    pub fn merge(&mut self, o: &Rollup) {
        self.totals.merge(&o.totals);
        for (k, v) in &o.by_type {
            self.by_type.entry(k.clone()).or_default().merge(v);
        }
        for (k, v) in &o.by_model {
            self.by_model.entry(k.clone()).or_default().merge(v);
        }
    }

    /// The `stats` column (JSON text).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// From the `stats` column; an unreadable one (a hand edit) starts again from zero.
    pub fn from_json(text: Option<&str>) -> Rollup {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    /// Only the totals of a `stats` column (the by-type and by-model entries are skipped, not
    /// built): what an hourly series needs from each hour.
    pub fn totals_from_json(text: Option<&str>) -> Totals {
        #[derive(Deserialize)]
        struct TotalsOnly {
            totals: Totals,
        }
        text.and_then(|t| serde_json::from_str::<TotalsOnly>(t).ok())
            .map(|r| r.totals)
            .unwrap_or_default()
    }
}

/// What a finished call contributes.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    pub user_did: &'a str,
    pub app_did: &'a str,
    pub model: &'a str,
    pub kind: &'a str,
    pub success: bool,
    pub call_time: NaiveDateTime,
    pub usage: i64,
    pub credits: Decimal,
    pub duration_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
}

/// A rollup row's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub user_did: String,
    pub app_did: String,
    pub time_type: TimeType,
    /// Unix seconds of the bucket's start.
    pub timestamp: i64,
}

/// The rollups finished calls add to: each call counts in its (user, app) rows and in the
/// everyone rows, for each time type.
#[derive(Debug, Default)]
pub struct Pending(pub BTreeMap<RollupKey, Rollup>);

impl Pending {
    /// Adds grouped calls: each group's totals go into its six rows (and their by-type and
    /// by-model entries) once, however many calls the group holds.
    pub fn add_groups(&mut self, groups: CallGroups) {
        for (g, totals) in groups.0 {
            for tt in TimeType::ALL {
                let timestamp = tt.bucket(g.hour).and_utc().timestamp();
                for (user, app) in [(g.user_did.as_str(), g.app_did.as_str()), (ALL, ALL)] {
                    let key = RollupKey {
                        user_did: user.to_owned(),
                        app_did: app.to_owned(),
                        time_type: tt,
                        timestamp,
                    };
                    let rollup = self.0.entry(key).or_default();
                    rollup.totals.merge(&totals);
                    for (map, name) in [
                        (&mut rollup.by_type, &g.kind),
                        (&mut rollup.by_model, &g.model),
                    ] {
                        map.entry(name.clone()).or_default().merge(&totals);
                    }
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a group's calls share: everything their rollup rows and entries are keyed by.
#[derive(Debug, PartialEq, Eq)]
struct GroupKey {
    user_did: String,
    app_did: String,
    kind: String,
    model: String,
    /// The start of the hour the calls started in (the finest bucket).
    hour: NaiveDateTime,
}

impl GroupKey {
    fn matches(&self, c: &CallFacts, hour: NaiveDateTime) -> bool {
        self.hour == hour
            && self.user_did == c.user_did
            && self.app_did == c.app_did
            && self.model == c.model
            && self.kind == c.kind
    }
}

/// Finished calls summed by user, app, hour, type and model before they reach their rollups.
/// Under load a batch's calls nearly all share one group, so a call costs one comparison with
/// the last call's group and one `Totals` addition, instead of six rows' and their entries'
/// lookups (the writer's largest cost after SQLite, measured).
#[derive(Debug, Default)]
pub struct CallGroups(Vec<(GroupKey, Totals)>);

impl CallGroups {
    pub fn add(&mut self, c: &CallFacts) {
        let hour = TimeType::Hour.bucket(c.call_time);
        // From the end: under load, nearly always the last group.
        let found = self.0.iter().rposition(|(g, _)| g.matches(c, hour));
        let index = found.unwrap_or_else(|| {
            let key = GroupKey {
                user_did: c.user_did.to_owned(),
                app_did: c.app_did.to_owned(),
                kind: c.kind.to_owned(),
                model: c.model.to_owned(),
                hour,
            };
            self.0.push((key, Totals::default()));
            self.0.len() - 1
        });
        if let Some((_, totals)) = self.0.get_mut(index) {
            totals.add(c);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time")
    }

    fn histogram(values: &[i64]) -> Histogram {
        let mut h = Histogram::default();
        for v in values {
            h.add(*v);
        }
        h
    }

    #[test]
    fn histograms_merge_as_if_every_value_was_added_to_one() {
        let (a, b, c) = ([5, 900, 900, 40_000], [1, 7, 900, 120_000], [3, 6_000]);
        let mut merged = histogram(&a);
        merged.merge(&histogram(&b));
        merged.merge(&histogram(&c));
        merged.merge(&Histogram::default());
        let all: Vec<i64> = a.iter().chain(&b).chain(&c).copied().collect();
        assert_eq!(merged, histogram(&all));
        assert_eq!(merged.count(), 10);
        let mut empty = Histogram::default();
        empty.merge(&merged);
        assert_eq!(empty, merged);
        assert_eq!(merged.percentile(50), histogram(&all).percentile(50));
        assert!(merged.percentile(100).is_some_and(|v| v >= 120_000));
    }

    #[test]
    fn histograms_read_what_earlier_versions_wrote() {
        // The stored form: an object of bucket → count, buckets in order.
        let h = histogram(&[5, 900, 900]);
        let text = serde_json::to_string(&h).expect("json");
        assert_eq!(text, format!(r#"{{"{}":1,"{}":2}}"#, slot(5), slot(900)));
        assert_eq!(serde_json::from_str::<Histogram>(&text).expect("read"), h);
        // Out of order, or a bucket twice (a hand edit): read as the same counts.
        let edited: Histogram = serde_json::from_str(r#"{"72":1,"17":1,"72":1}"#).expect("read");
        assert_eq!(edited, Histogram(vec![(17, 1), (72, 2)]));
    }

    fn call<'a>(time: &str, model: &'a str, ok: bool, credits: &str, ms: i64) -> CallFacts<'a> {
        CallFacts {
            user_did: "u",
            app_did: "",
            model,
            kind: "chatCompletion",
            success: ok,
            call_time: t(time),
            usage: 10,
            credits: credits.parse().expect("decimal"),
            duration_ms: Some(ms),
            ttfb_ms: None,
        }
    }

    /// Grouped calls end up in exactly the rows and entries they would one by one.
    #[test]
    fn groups_match_rows_built_from_scratch() {
        let users = ["u1", "u2", "u1"];
        let apps = ["", "app", "app", ""];
        let models = ["openai/a", "openai/b"];
        let mut groups = CallGroups::default();
        let mut expected: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
        for n in 0..200usize {
            let time = format!("2026-11-{:02} {:02}:30:00", 1 + (n / 37) % 28, (n / 5) % 24);
            let mut c = call(
                &time,
                models[n % 2],
                n % 3 != 0,
                "0.01",
                (n * 13 % 700) as i64,
            );
            c.user_did = users[n % 3];
            c.app_did = apps[n % 4];
            c.ttfb_ms = (n % 2 == 0).then_some((n % 90) as i64);
            groups.add(&c);
            for tt in TimeType::ALL {
                let timestamp = tt.bucket(c.call_time).and_utc().timestamp();
                for (user, app) in [(c.user_did, c.app_did), (ALL, ALL)] {
                    let key = RollupKey {
                        user_did: user.into(),
                        app_did: app.into(),
                        time_type: tt,
                        timestamp,
                    };
                    expected.entry(key).or_default().add(&c);
                }
            }
        }
        let mut p = Pending::default();
        p.add_groups(groups);
        assert_eq!(p.0, expected);
    }

    #[test]
    fn buckets() {
        assert_eq!(
            TimeType::Hour.bucket(t("2026-11-24 13:45:10")),
            t("2026-11-24 13:00:00")
        );
        assert_eq!(
            TimeType::Day.bucket(t("2026-11-24 13:45:10")),
            t("2026-11-24 00:00:00")
        );
        assert_eq!(
            TimeType::Month.bucket(t("2026-11-24 13:45:10")),
            t("2026-11-01 00:00:00")
        );
        // UTC+8: 2026-11-24 20:30 UTC is already the 25th there, which began at 16:00 UTC.
        assert_eq!(
            TimeType::Day.bucket_at(t("2026-11-24 20:30:00"), 480),
            t("2026-11-24 16:00:00")
        );
        // UTC-5:30 (a half-hour zone): 03:00 UTC is still the 23rd, begun at 05:30 UTC.
        assert_eq!(
            TimeType::Day.bucket_at(t("2026-11-24 03:00:00"), -330),
            t("2026-11-23 05:30:00")
        );
        assert_eq!(
            TimeType::Month.bucket_at(t("2026-11-30 18:00:00"), 480),
            t("2026-11-30 16:00:00")
        );
    }

    #[test]
    fn histogram_percentiles_are_within_ten_percent_above() {
        let mut h = Histogram::default();
        for ms in 1..=1000 {
            h.add(ms);
        }
        for (p, exact) in [(50, 500), (95, 950), (99, 990)] {
            let got = h.percentile(p).expect("percentile");
            assert!(
                got >= exact && (got as f64) <= exact as f64 * 1.1 + 1.0,
                "p{p}: {got} vs {exact}"
            );
        }
        assert_eq!(Histogram::default().percentile(50), None);
        let mut one = Histogram::default();
        one.add(0);
        assert_eq!(one.percentile(95), Some(1));
    }

    #[test]
    fn pending_rows_per_user_app_and_everyone_and_json_round_trip() {
        let mut groups = CallGroups::default();
        groups.add(&call("2026-11-24 10:00:00", "openai/a", true, "0.1", 100));
        groups.add(&call("2026-11-24 11:00:00", "openai/b", false, "0", 300));
        let mut p = Pending::default();
        p.add_groups(groups);
        // 2 hours + 1 day + 1 month, for (u, "") and for everyone.
        assert_eq!(p.0.len(), 8);
        let day =
            p.0.iter()
                .find(|(k, _)| k.time_type == TimeType::Day && k.user_did == "u")
                .map(|(_, v)| v.clone())
                .expect("day row");
        assert_eq!(day.totals.calls, 2);
        assert_eq!(day.totals.failed, 1);
        assert_eq!(day.totals.credits_text(), "0.1");
        assert_eq!(day.by_model["openai/a"].calls, 1);
        let back = Rollup::from_json(Some(&day.to_json()));
        assert_eq!(back, day);
        let mut twice = back.clone();
        twice.merge(&day);
        assert_eq!(twice.totals.calls, 4);
        assert_eq!(twice.totals.credits_text(), "0.2");
        assert_eq!(twice.by_type["chatCompletion"].calls, 4);
        assert_eq!(Rollup::from_json(Some("{")), Rollup::default());
    }
}

//! Completeness warnings: what an investigator must know before trusting an absence.
//!
//! An export that stops at exactly 50,000 rows was cut by the portal, not by the attacker; a
//! UAL without `MailItemsAccessed` cannot say what was read; a week with no records is a hole in
//! the evidence, not a quiet week. These are facts about the inputs, reported next to them.

use super::detect::Kind;
use super::FileReport;
use crate::event::{flags, Event, Interner, SourceKind, Timestamp};

/// Row caps of the export tools: a file with exactly this many rows was probably truncated.
const CAPS: &[(u64, &str)] = &[
    (1_000, "Get-MessageTraceV2's default -ResultSize"),
    (
        5_000,
        "Search-UnifiedAuditLog's -ResultSize / Get-MessageTrace page",
    ),
    (
        50_000,
        "the Purview audit export and ReturnLargeSet session",
    ),
    (100_000, "the historical-search report"),
];

/// A gap this long with no records is always reported.
const GAP_ALWAYS_HOURS: i64 = 72;
/// In a busy export (many records a day) a gap this long is reported too.
const GAP_BUSY_HOURS: i64 = 24;
const BUSY_PER_DAY: f64 = 500.0;

/// Warnings that depend only on the file's own counts.
pub fn file_warnings(report: &mut FileReport) {
    for (cap, what) in CAPS {
        let relevant = *cap != 1_000 || report.kind == Kind::MessageTrace;
        if relevant && report.rows == *cap {
            report.warnings.push(format!(
                "exactly {cap} records: the cap of {what}; the export was probably truncated — \
                 export again in shorter time windows"
            ));
        }
    }
}

/// Warnings about one file's own events: ambiguous dates, missing record types, gaps.
pub fn event_warnings(events: &[Event], interner: &Interner) -> Vec<String> {
    let mut out = Vec::new();
    let ambiguous = events
        .iter()
        .filter(|e| e.has_flag(flags::TIME_AMBIGUOUS))
        .count();
    if ambiguous > 0 {
        out.push(format!(
            "{ambiguous} records are timed only by a culture-formatted date whose day and month \
             could be swapped; they were read month-first (M/d/yyyy) — check against a record \
             with a day above 12"
        ));
    }
    let ual = events.iter().any(|e| e.source == SourceKind::Ual);
    let has_op = |op: &str| {
        interner
            .get(op)
            .is_some_and(|s| events.iter().any(|e| e.operation == s))
    };
    if ual && !has_op("MailItemsAccessed") {
        out.push(
            "no MailItemsAccessed records: which messages were read cannot be answered from \
             this file (needs Audit Premium/E5 or a wider export)"
                .into(),
        );
    }
    if ual && !has_op("UserLoggedIn") && !has_op("UserLoginFailed") {
        out.push(
            "no sign-in records (UserLoggedIn/UserLoginFailed): add the Entra sign-in logs to \
             tie mailbox actions to sign-ins"
                .into(),
        );
    }
    let mut ts: Vec<Timestamp> = events.iter().map(|e| e.time).collect();
    ts.sort_unstable();
    out.extend(gaps(&ts));
    out
}

fn gaps(ts: &[Timestamp]) -> Vec<String> {
    let (Some(first), Some(last)) = (ts.first(), ts.last()) else {
        return Vec::new();
    };
    let days = (first.seconds_until(*last) as f64 / 86_400.0).max(1.0);
    let busy = ts.len() as f64 / days >= BUSY_PER_DAY;
    let limit_h = if busy {
        GAP_BUSY_HOURS
    } else {
        GAP_ALWAYS_HOURS
    };
    let mut found: Vec<(i64, Timestamp, Timestamp)> = ts
        .windows(2)
        .filter_map(|w| {
            let hours = w[0].seconds_until(w[1]) / 3600;
            (hours >= limit_h).then_some((hours, w[0], w[1]))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let more = found.len().saturating_sub(3);
    let mut out: Vec<String> = found
        .into_iter()
        .take(3)
        .map(|(h, a, b)| format!("no records for {h} hours, from {a} to {b}: missing data?"))
        .collect();
    if more > 0 {
        out.push(format!("… and {more} more gaps of {limit_h} hours or more"));
    }
    out
}

/// Warnings about the inputs taken together.
pub fn input_warnings(
    reports: &[FileReport],
    events: &[Event],
    interner: &Interner,
) -> Vec<String> {
    let mut out = Vec::new();
    let read: Vec<&FileReport> = reports.iter().filter(|r| r.records > 0).collect();
    if read.is_empty() {
        return out;
    }
    let any = |k: Kind| read.iter().any(|r| r.kind == k);
    let has_op = |op: &str| {
        interner
            .get(op)
            .is_some_and(|s| events.iter().any(|e| e.operation == s))
    };
    if !any(Kind::Signin) && !has_op("UserLoggedIn") && !has_op("UserLoginFailed") {
        out.push(
            "no sign-in data in any input (neither Entra sign-in logs nor UAL UserLoggedIn): \
             how the attacker got in cannot be established"
                .into(),
        );
    }
    if !has_op("MailItemsAccessed") {
        out.push(
            "no MailItemsAccessed in any input: which messages were read cannot be established"
                .into(),
        );
    }
    if !any(Kind::MessageTrace) {
        out.push(
            "no message trace: recipients of mail sent by the attacker cannot be listed".into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_reported_only_when_long() {
        let h = |x: i64| Timestamp(x * 3_600_000_000);
        assert!(gaps(&[h(0), h(10), h(40)]).is_empty());
        let g = gaps(&[h(0), h(1), h(100)]);
        assert_eq!(g.len(), 1);
        assert!(g[0].starts_with("no records for 99 hours"));
    }
}

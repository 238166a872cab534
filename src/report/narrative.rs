//! What the attacker did on one account, in order, mapped to ATT&CK tactics: the story the HTML
//! and Markdown reports tell. Built from the account's footprint events; runs of the same
//! operation from the same IP (e.g. dozens of MailItemsAccessed) become one step with a count.

use super::describe::{default_tactic, describe};
use crate::analyze::{Ctx, Finding, Severity, Tactic};
use crate::correlate::AccountVerdict;
use crate::event::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// One step of the story.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// When the step started.
    pub time: Timestamp,
    /// When it ended (same as `time` for a single event).
    pub until: Timestamp,
    /// ATT&CK tactic.
    pub tactic: Option<Tactic>,
    /// Operation as written.
    pub operation: String,
    /// Client IP.
    pub ip: String,
    /// The first event's sentence.
    pub description: String,
    /// How many events the step covers.
    pub count: usize,
    /// Findings that cite these events.
    pub finding_ids: Vec<String>,
    /// Highest severity among those findings.
    pub severity: Option<Severity>,
    /// Evidence `file:line` of the first event.
    pub source: String,
    /// Event indices.
    #[serde(skip)]
    pub events: Vec<u32>,
}

/// Which findings cite each event.
pub fn findings_by_event(findings: &[Finding]) -> HashMap<u32, Vec<&Finding>> {
    let mut map: HashMap<u32, Vec<&Finding>> = HashMap::new();
    for f in findings {
        for &i in &f.events {
            map.entry(i).or_default().push(f);
        }
    }
    map
}

/// The steps for one account.
pub fn steps(ctx: &Ctx<'_>, account: &AccountVerdict, findings: &[Finding]) -> Vec<Step> {
    let own: Vec<Finding> = findings
        .iter()
        .filter(|f| f.account == account.account)
        .cloned()
        .collect();
    let cited = findings_by_event(&own);
    let mut events: Vec<u32> = account.attacker_events.clone();
    // Without a footprint, the findings' own evidence is the story. With one, the footprint is:
    // a finding that pairs an attacker event with the user's own (impossible travel) must not
    // put the user's own sign-in into the attacker's story.
    if events.is_empty() {
        for f in own.iter().filter(|f| f.severity >= Severity::Medium) {
            events.extend(f.events.iter().copied());
        }
    }
    events.sort_unstable_by_key(|&i| ctx.ev(i).time_key());
    events.dedup();
    let mut steps: Vec<Step> = Vec::new();
    for i in events {
        let e = ctx.ev(i);
        let fs = cited.get(&i).map_or(&[][..], Vec::as_slice);
        let top = fs
            .iter()
            .max_by_key(|f| (f.severity, std::cmp::Reverse(&f.id)));
        let tactic = top.map(|f| f.tactic).or_else(|| default_tactic(ctx, e));
        let mut ids: Vec<String> = fs.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let op = ctx.s(e.operation_raw).to_string();
        let ip = ctx.s(e.ip).to_string();
        // One logon is often in two exports (UAL UserLoggedIn and the Entra sign-in log):
        // tell it once, citing both.
        if ctx.is_signin(e) {
            if let Some(last) = steps.last_mut() {
                let prev = ctx.ev(*last.events.last().unwrap_or(&i));
                let twin = ctx.is_signin(prev)
                    && prev.source != e.source
                    && prev.ip == e.ip
                    && prev.outcome == e.outcome
                    && (e.time.0 - prev.time.0).abs() <= 2_000_000;
                if twin {
                    let ev = ctx.evidence(e);
                    last.source.push_str(&format!("; {}:{}", ev.file, ev.line));
                    last.events.push(i);
                    for id in ids {
                        if !last.finding_ids.contains(&id) {
                            last.finding_ids.push(id);
                        }
                    }
                    last.finding_ids.sort();
                    last.severity = last.severity.max(top.map(|f| f.severity));
                    continue;
                }
            }
        }
        if let Some(last) = steps.last_mut() {
            let mergeable = last.operation == op
                && last.ip == ip
                && last.tactic == tactic
                && matches!(
                    op.as_str(),
                    "MailItemsAccessed" | "UserLoginFailed" | "MailboxLogin"
                )
                && e.time.0 - last.until.0 <= 3_600_000_000;
            if mergeable {
                last.until = e.time;
                last.count += 1;
                last.events.push(i);
                for id in ids {
                    if !last.finding_ids.contains(&id) {
                        last.finding_ids.push(id);
                    }
                }
                last.finding_ids.sort();
                last.severity = last.severity.max(top.map(|f| f.severity));
                continue;
            }
        }
        let ev = ctx.evidence(e);
        steps.push(Step {
            time: e.time,
            until: e.time,
            tactic,
            operation: op,
            ip,
            description: describe(ctx, e),
            count: 1,
            finding_ids: ids,
            severity: top.map(|f| f.severity),
            source: format!("{}:{}", ev.file, ev.line),
            events: vec![i],
        });
    }
    steps
}

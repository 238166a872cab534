//! What a detection produces: a [`Finding`] that always carries the records that caused it.

use crate::event::{Event, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::Ctx;

/// How bad. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only.
    Info,
    /// Worth a look.
    Low,
    /// Suspicious.
    Medium,
    /// Likely malicious.
    High,
    /// Malicious, act now.
    Critical,
}

impl Severity {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// One step up (Critical stays Critical).
    pub fn raised(self) -> Severity {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            _ => Severity::Critical,
        }
    }
}

/// ATT&CK tactic, used to order an incident's narrative.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tactic {
    /// TA0006.
    CredentialAccess,
    /// TA0001.
    InitialAccess,
    /// TA0003.
    Persistence,
    /// TA0004.
    PrivilegeEscalation,
    /// TA0005.
    DefenseEvasion,
    /// TA0007.
    Discovery,
    /// TA0009.
    Collection,
    /// TA0010.
    Exfiltration,
    /// TA0008.
    LateralMovement,
    /// TA0040.
    Impact,
}

impl Tactic {
    /// Human name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tactic::CredentialAccess => "credential access",
            Tactic::InitialAccess => "initial access",
            Tactic::Persistence => "persistence",
            Tactic::PrivilegeEscalation => "privilege escalation",
            Tactic::DefenseEvasion => "defence evasion",
            Tactic::Discovery => "discovery",
            Tactic::Collection => "collection",
            Tactic::Exfiltration => "exfiltration",
            Tactic::LateralMovement => "lateral movement",
            Tactic::Impact => "impact",
        }
    }
}

/// A detection rule's fixed description.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (the catalog's, e.g. `inbox-rule-forward-external`). Downstream tools key on it.
    pub id: &'static str,
    /// Title for people.
    pub title: &'static str,
    /// Default severity (a finding may raise or lower it with a reason in its details).
    pub severity: Severity,
    /// ATT&CK technique ids.
    pub mitre: &'static [&'static str],
    /// Tactic for the narrative.
    pub tactic: Tactic,
    /// The detection: a pure function of the context.
    pub run: fn(&Ctx<'_>, &'static Rule) -> Vec<Finding>,
}

/// One record behind a finding, pointing back into the input.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    /// Input file.
    pub file: String,
    /// Line (or record index) in the file.
    pub line: u64,
    /// The record's own id.
    pub record_id: String,
    /// Event time.
    pub time: Timestamp,
    /// Operation as written.
    pub operation: String,
}

/// One detection result.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable id: rule + account + the first evidence record's id (same evidence ⇒ same id).
    pub id: String,
    /// Rule id.
    pub rule: &'static str,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// ATT&CK techniques.
    pub mitre: Vec<&'static str>,
    /// Tactic.
    pub tactic: Tactic,
    /// The account concerned (UPN, lower-case).
    pub account: String,
    /// First evidence time.
    pub first_seen: Timestamp,
    /// Last evidence time.
    pub last_seen: Timestamp,
    /// Client IPs seen in the evidence (sorted).
    pub ips: Vec<String>,
    /// One line a person reads.
    pub summary: String,
    /// The specifics (rule name, conditions, addresses, scopes, counts …), sorted by key.
    pub details: BTreeMap<String, Value>,
    /// The records behind it, in time order.
    pub evidence: Vec<Evidence>,
    /// Indices into `Ctx::events` of the evidence (for correlation and the timeline).
    #[serde(skip)]
    pub events: Vec<u32>,
}

impl Finding {
    /// Starts a finding for `rule` about `account`. Add events with [`Finding::with_events`].
    pub fn new(rule: &'static Rule, account: &str, summary: impl Into<String>) -> Self {
        Finding {
            id: String::new(),
            rule: rule.id,
            title: rule.title.to_string(),
            severity: rule.severity,
            mitre: rule.mitre.to_vec(),
            tactic: rule.tactic,
            account: account.to_ascii_lowercase(),
            first_seen: Timestamp::default(),
            last_seen: Timestamp::default(),
            ips: Vec::new(),
            summary: summary.into(),
            details: BTreeMap::new(),
            evidence: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Adds evidence events (indices into `ctx.events`).
    pub fn with_events(mut self, idx: impl IntoIterator<Item = u32>) -> Self {
        self.events.extend(idx);
        self
    }

    /// Sets a detail.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// Overrides the severity.
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }

    /// Fills evidence, times, IPs and the id from `events`. Called by the runner; detections
    /// need not call it.
    pub fn finalize(&mut self, ctx: &Ctx<'_>) {
        self.events
            .sort_unstable_by_key(|&i| ctx.events[i as usize].time_key());
        self.events.dedup();
        let evs: Vec<&Event> = self
            .events
            .iter()
            .map(|&i| &ctx.events[i as usize])
            .collect();
        self.evidence = evs.iter().map(|e| ctx.evidence(e)).collect();
        self.first_seen = evs.first().map(|e| e.time).unwrap_or_default();
        self.last_seen = evs.last().map(|e| e.time).unwrap_or_default();
        let mut ips: Vec<String> = evs
            .iter()
            .map(|e| ctx.s(e.ip).to_string())
            .filter(|ip| !ip.is_empty())
            .collect();
        ips.sort();
        ips.dedup();
        self.ips = ips;
        // Anchored on the record's own id, so the same evidence gives the same id however the
        // export was split, ordered or copied; file:line only for records without an id.
        let anchor = self
            .evidence
            .first()
            .map(|e| {
                if e.record_id.is_empty() {
                    format!("{}|{}", e.file, e.line)
                } else {
                    e.record_id.clone()
                }
            })
            .unwrap_or_default();
        self.id = format!(
            "{}-{:08x}",
            self.rule,
            fnv1a(format!("{}|{}|{}", self.rule, self.account, anchor).as_bytes()) as u32
        );
    }
}

/// FNV-1a, for short stable ids (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

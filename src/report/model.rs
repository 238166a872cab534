//! The view model the HTML and Markdown reports share: everything a reviewer reads, computed
//! once from the [`Analysis`] and already in the chosen time zone.
//!
//! Both writers render the same facts in the same order, so the two reports never disagree; the
//! writers only lay out and escape. Every string here that came from the input (rule names,
//! subjects, user agents, folder names, paths, reasons, summaries, details) is **raw**: each
//! writer escapes it for its medium. No current time is read: the same inputs give the same
//! model, hence byte-identical reports.

use super::chart::{self, Chart};
use super::clock::Clock;
use super::narrative;
use super::remediation;
use crate::analysis::Analysis;
use crate::analyze::mail_access;
use crate::analyze::sending::{norm_message_id, TraceIndex};
use crate::analyze::{Ctx, Finding, Severity, Tactic};
use crate::correlate::{AccountVerdict, Verdict};
use crate::event::{Bag, Event, Outcome, RecordId, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Lists in the model stop at this many entries (their totals are kept).
pub const LIST_CAP: usize = 500;
/// Details values longer than this are shortened.
const FACT_CAP: usize = 600;

/// The whole report.
#[derive(Debug, Clone)]
pub struct Model {
    /// `mailsleuth`.
    pub tool: &'static str,
    /// Tool version.
    pub version: &'static str,
    /// Time zone every time is shown in.
    pub zone: String,
    /// Own domains.
    pub tenant_domains: Vec<String>,
    /// Earliest and latest record over all inputs.
    pub data_range: Option<(String, String)>,
    /// Headline numbers.
    pub counts: Counts,
    /// Compromised accounts, then suspicious ones (most serious first).
    pub accounts: Vec<AccountView>,
    /// Accounts with nothing found.
    pub clean_accounts: Vec<CleanAccount>,
    /// All findings, most severe first, then in time order.
    pub findings: Vec<FindingRow>,
    /// The remediation plan, in order.
    pub remediation: Vec<RemediationRow>,
    /// One row per input file, in path order.
    pub inputs: Vec<InputRow>,
    /// Paths that yielded no file: `(path, reason)`.
    pub input_problems: Vec<(String, String)>,
    /// Limits of the analysis the reader must know.
    pub notes: Vec<String>,
}

/// Headline numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Input files.
    pub files: usize,
    /// Files recognised as exports.
    pub exports: usize,
    /// Records kept.
    pub records: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Accounts judged.
    pub accounts: usize,
    /// Compromised accounts.
    pub compromised: usize,
    /// Suspicious accounts.
    pub suspicious: usize,
    /// Clean accounts.
    pub clean: usize,
    /// Findings per severity, most severe first (only severities present).
    pub findings_by_severity: Vec<(Severity, usize)>,
    /// All findings.
    pub findings: usize,
}

/// A clean account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanAccount {
    /// UPN.
    pub account: String,
    /// Score.
    pub score: u8,
    /// Findings (low/info) about it.
    pub findings: usize,
}

/// A compromised or suspicious account.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// UPN.
    pub account: String,
    /// Anchor for links inside the report (`acct-1`).
    pub anchor: String,
    /// Verdict.
    pub verdict: Verdict,
    /// 0–100.
    pub score: u8,
    /// Why, in order of weight.
    pub reasons: Vec<String>,
    /// The compromise window.
    pub window: Option<WindowView>,
    /// One paragraph for executives.
    pub summary: String,
    /// Attacker IPs with what each did.
    pub ips: Vec<IpView>,
    /// Attacker session ids.
    pub sessions: Vec<String>,
    /// Attacker token ids.
    pub tokens: Vec<String>,
    /// Attacker user agents.
    pub user_agents: Vec<String>,
    /// The attack in order.
    pub narrative: Vec<StepView>,
    /// Rules, forwarding, delegates, apps, MFA changes … found, one per finding.
    pub objects: Vec<ObjectView>,
    /// What the attacker read.
    pub read: ReadView,
    /// What the attacker sent.
    pub sent: Vec<SentView>,
    /// Sent messages in total (before the cap).
    pub sent_total: usize,
    /// What the attacker deleted.
    pub deleted: Vec<DeletedView>,
    /// Deleted items in total (before the cap).
    pub deleted_total: usize,
    /// Activity per hour around the window.
    pub chart: Option<Chart>,
    /// What was new for the user.
    pub baseline: Option<BaselineView>,
    /// Who else was touched.
    pub blast: Option<BlastView>,
    /// The account's findings (ids, for links into the findings table).
    pub finding_ids: Vec<String>,
}

/// The compromise window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowView {
    /// First attacker evidence.
    pub start: String,
    /// Last attacker evidence.
    pub end: String,
    /// `1 day 23 h 27 min`.
    pub duration: String,
}

/// One attacker IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpView {
    /// The address (empty: actions without an IP, tied to the attacker by session or token).
    pub ip: String,
    /// GeoIP label (`Linköping, SE · AS29518 Bredband2 AB`).
    pub location: Option<String>,
    /// Distinct records.
    pub events: usize,
    /// First action.
    pub first: String,
    /// Last action.
    pub last: String,
    /// `(operation, count)`, most frequent first.
    pub actions: Vec<(String, usize)>,
}

/// An ATT&CK tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TacticView {
    /// Name (`defence evasion`).
    pub name: &'static str,
    /// Id (`TA0005`).
    pub id: &'static str,
}

/// One step of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    /// When.
    pub time: String,
    /// Until when, for merged runs.
    pub until: Option<String>,
    /// ATT&CK tactic.
    pub tactic: Option<TacticView>,
    /// Operation as written.
    pub operation: String,
    /// Client IP.
    pub ip: String,
    /// The sentence.
    pub description: String,
    /// Distinct records in the step.
    pub count: usize,
    /// Highest severity of the findings citing it.
    pub severity: Option<Severity>,
    /// `file:line` of the first record.
    pub source: String,
    /// Findings citing it.
    pub finding_ids: Vec<String>,
}

/// A persistence or exfiltration object found (from a finding's details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectView {
    /// `Inbox rules`, `Forwarding`, `Delegates`, `Applications`, `MFA and authentication`,
    /// `Audit and protection`.
    pub category: &'static str,
    /// Finding id.
    pub finding_id: String,
    /// Rule id.
    pub rule: String,
    /// Finding title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// First seen.
    pub time: String,
    /// Summary.
    pub summary: String,
    /// `(name, value)` from the details.
    pub facts: Vec<(String, String)>,
}

/// What the attacker read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadView {
    /// Messages opened (Bind), first access first (capped).
    pub bind: Vec<MessageView>,
    /// Distinct messages opened.
    pub bind_total: usize,
    /// Folders synchronised whole (Sync).
    pub sync_folders: Vec<String>,
    /// Bind records.
    pub bind_records: usize,
    /// Sync records.
    pub sync_records: usize,
    /// Searches run: `(time, query)`.
    pub searches: Vec<(String, String)>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// When it was touched.
    pub time: String,
    /// Subject.
    pub subject: String,
    /// InternetMessageId.
    pub message_id: String,
    /// Folder.
    pub folder: String,
}

/// A message the attacker sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentView {
    /// When.
    pub time: String,
    /// Operation (`Send`, `SendAs`, `SendOnBehalf`).
    pub operation: String,
    /// Subject.
    pub subject: String,
    /// InternetMessageId.
    pub message_id: String,
    /// Client IP.
    pub ip: String,
    /// Internal recipients (message trace).
    pub internal: Vec<String>,
    /// External recipients (message trace).
    pub external: Vec<String>,
}

/// An item the attacker deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedView {
    /// When.
    pub time: String,
    /// `HardDelete`, `SoftDelete`, `MoveToDeletedItems`.
    pub operation: String,
    /// Folder.
    pub folder: String,
    /// Subject.
    pub subject: String,
    /// InternetMessageId.
    pub message_id: String,
}

/// What was new for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineView {
    /// History starts here.
    pub history_from: Option<String>,
    /// Attacker IPs never used before.
    pub new_ips: Vec<String>,
    /// User agents never used before.
    pub new_user_agents: Vec<String>,
    /// Countries never seen before.
    pub new_countries: Vec<String>,
    /// Networks never seen before.
    pub new_asns: Vec<String>,
}

/// Who else was touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlastView {
    /// Internal recipients of the attacker's mail.
    pub internal_recipients: Vec<String>,
    /// External recipients.
    pub external_recipients: Vec<String>,
    /// `(account, indicators)`.
    pub related: Vec<(String, Vec<String>)>,
}

/// One row of the findings table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    /// Finding id (also the anchor).
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// First seen.
    pub time: String,
    /// Last seen (when different).
    pub until: Option<String>,
    /// Account.
    pub account: String,
    /// Rule id.
    pub rule: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Tactic.
    pub tactic: TacticView,
    /// Technique ids.
    pub techniques: Vec<String>,
    /// Client IPs.
    pub ips: Vec<String>,
    /// Evidence (capped).
    pub evidence: Vec<EvidenceView>,
    /// Evidence records in total.
    pub evidence_total: usize,
}

/// One evidence record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceView {
    /// `file:line`.
    pub location: String,
    /// The record's own id.
    pub record_id: String,
    /// Operation.
    pub operation: String,
    /// Time.
    pub time: String,
}

/// One remediation step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationRow {
    /// 1-based order.
    pub step: u32,
    /// Account (or `tenant`).
    pub account: String,
    /// Action id.
    pub action: String,
    /// The command.
    pub command: String,
    /// Why.
    pub reason: String,
    /// Findings behind it.
    pub finding_ids: Vec<String>,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRow {
    /// Path.
    pub path: String,
    /// Kind.
    pub kind: String,
    /// Format.
    pub format: String,
    /// Encoding (with `gzip` and the JSON layout when relevant).
    pub encoding: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex), when computed.
    pub sha256: Option<String>,
    /// Records kept.
    pub records: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Earliest record.
    pub first: Option<String>,
    /// Latest record.
    pub last: Option<String>,
    /// `(reason, count, examples)`.
    pub skip_reasons: Vec<(String, u64, Vec<String>)>,
    /// Completeness warnings.
    pub warnings: Vec<String>,
    /// Why the file is unknown or unreadable.
    pub reason: Option<String>,
    /// Could not be read at all.
    pub unreadable: bool,
}

/// ATT&CK id of a tactic.
pub fn tactic_id(t: Tactic) -> &'static str {
    match t {
        Tactic::CredentialAccess => "TA0006",
        Tactic::InitialAccess => "TA0001",
        Tactic::Persistence => "TA0003",
        Tactic::PrivilegeEscalation => "TA0004",
        Tactic::DefenseEvasion => "TA0005",
        Tactic::Discovery => "TA0007",
        Tactic::Collection => "TA0009",
        Tactic::Exfiltration => "TA0010",
        Tactic::LateralMovement => "TA0008",
        Tactic::Impact => "TA0040",
    }
}

fn tactic_view(t: Tactic) -> TacticView {
    TacticView {
        name: t.as_str(),
        id: tactic_id(t),
    }
}

/// `1 day 23 h 27 min` between two instants.
pub fn duration(from: Timestamp, to: Timestamp) -> String {
    let secs = from.seconds_until(to).max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} day{}", if d == 1 { "" } else { "s" }));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m} min"));
    }
    parts.join(" ")
}

/// Which object section a rule's findings belong to.
fn category(rule: &str) -> Option<&'static str> {
    const DELEGATION: &[&str] = &[
        "mailbox-fullaccess-granted",
        "sendas-onbehalf-granted",
        "folder-permission-read",
        "impersonation-role",
        "app-granted-all-mailboxes",
    ];
    const FORWARDING: &[&str] = &[
        "mailbox-smtp-forwarding",
        "forward-same-destination-multi-user",
        "transport-rule-forward-bcc",
        "transport-rule-change",
        "mailflow-connector-change",
    ];
    const APPS: &[&str] = &[
        "user-consent-mail-scopes",
        "admin-consent-tenantwide",
        "app-credential-owner-changes",
        "consent-failed-risky",
        "mailbox-access-unusual-app",
    ];
    const MFA: &[&str] = &[
        "mfa-method-added",
        "mfa-removed-disabled",
        "ca-or-mfa-policy-weakened",
        "password-reset-by-self-or-attacker",
        "device-registration-persistence",
    ];
    const TAMPERING: &[&str] = &[
        "audit-logging-tampering",
        "email-protection-tampering",
        "federation-domain-change",
    ];
    if rule.starts_with("inbox-rule") || rule == "rule-send-archive-move" {
        Some("Inbox rules")
    } else if FORWARDING.contains(&rule) {
        Some("Forwarding")
    } else if DELEGATION.contains(&rule) {
        Some("Delegates and permissions")
    } else if APPS.contains(&rule) {
        Some("Applications and consent")
    } else if MFA.contains(&rule) {
        Some("MFA and authentication")
    } else if TAMPERING.contains(&rule) {
        Some("Audit and protection settings")
    } else {
        None
    }
}

/// Order of the object sections: how an attacker usually entrenches, then hides.
fn rank(category: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|c| *c == category)
        .unwrap_or(CATEGORIES.len())
}

const CATEGORIES: &[&str] = &[
    "Inbox rules",
    "Forwarding",
    "Delegates and permissions",
    "Applications and consent",
    "MFA and authentication",
    "Audit and protection settings",
];

/// Details keys shown elsewhere in the report (or internal to the rule's scoring).
const SKIPPED_FACTS: &[&str] = &["tells", "mail_read", "messages", "hiding_score", "score"];

fn shorten(mut s: String, cap: usize) -> String {
    if s.chars().count() > cap {
        s = s.chars().take(cap).collect();
        s.push('…');
    }
    s
}

/// A details value as one line of text.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let sep = if a.iter().all(|x| !x.is_object() && !x.is_array()) {
                ", "
            } else {
                " | "
            };
            a.iter().map(value_text).collect::<Vec<_>>().join(sep)
        }
        Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !is_blank(v))
            .map(|(k, v)| {
                if v.is_object() || v.is_array() {
                    format!("{k}: [{}]", value_text(v))
                } else {
                    format!("{k}: {}", value_text(v))
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn facts(f: &Finding) -> Vec<(String, String)> {
    f.details
        .iter()
        .filter(|(k, v)| !SKIPPED_FACTS.contains(&k.as_str()) && !is_blank(v))
        .map(|(k, v)| (k.replace('_', " "), shorten(value_text(v), FACT_CAP)))
        .collect()
}

fn str_detail<'a>(f: &'a Finding, key: &str) -> Vec<&'a str> {
    match f.details.get(key) {
        Some(Value::String(s)) if !s.is_empty() => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The subject as the record gives it, unless it is missing or was mangled by an ASCII export
/// (`?` for every non-ASCII character) and the message trace has a better spelling.
fn best_subject(ctx: &Ctx<'_>, trace: &TraceIndex, subject: Option<&str>, mid: &str) -> String {
    let traced = || (!mid.is_empty()).then(|| trace.subject(ctx, mid)).flatten();
    match subject.filter(|s| !s.is_empty()) {
        Some(s) if s.contains('?') => traced()
            .filter(|t| !t.contains('?') && t.chars().count() == s.chars().count())
            .unwrap_or(s)
            .to_string(),
        Some(s) => s.to_string(),
        None => traced().unwrap_or("").to_string(),
    }
}

fn query_text<'a>(ctx: &Ctx<'a>, e: &'a Event) -> Option<&'a str> {
    ["QueryText", "SearchQueryText", "Query"]
        .iter()
        .find_map(|n| {
            ctx.prop(e, Bag::Field, n)
                .or_else(|| ctx.prop(e, Bag::ExtendedProperties, n))
                .or_else(|| ctx.prop(e, Bag::OperationProperties, n))
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Keeps the first event of each record id (the same record read from the UAL and the mailbox
/// audit export is one action).
fn distinct_records(ctx: &Ctx<'_>, idx: &[u32]) -> Vec<u32> {
    let mut seen: HashSet<RecordId> = HashSet::new();
    idx.iter()
        .copied()
        .filter(|&i| {
            let r = ctx.ev(i).record_id;
            r.is_empty() || seen.insert(r)
        })
        .collect()
}

fn list_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

fn quoted_list(v: &[&str], cap: usize) -> String {
    let mut q: Vec<String> = v.iter().take(cap).map(|s| format!("\"{s}\"")).collect();
    if v.len() > cap {
        q.push(format!("{} more", v.len() - cap));
    }
    q.join(", ")
}

impl Model {
    /// Builds the model. `clock` decides the zone of every time shown.
    pub fn build(analysis: &Analysis, clock: &Clock) -> Model {
        let ctx = analysis.ctx();
        let trace = ctx.trace();
        let files = &analysis.ingest.files;
        let mut by_sev: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
        for f in &analysis.findings {
            *by_sev.entry(std::cmp::Reverse(f.severity)).or_default() += 1;
        }
        let count = |v: Verdict| analysis.accounts.iter().filter(|a| a.verdict == v).count();
        let counts = Counts {
            files: files.len(),
            exports: files
                .iter()
                .filter(|f| f.kind != crate::ingest::detect::Kind::Unknown)
                .count(),
            records: analysis.ingest.total_records(),
            skipped: analysis.ingest.total_skipped(),
            duplicates: analysis.ingest.total_duplicates(),
            accounts: analysis.accounts.len(),
            compromised: count(Verdict::Compromised),
            suspicious: count(Verdict::Suspicious),
            clean: count(Verdict::Clean),
            findings_by_severity: by_sev.into_iter().map(|(k, v)| (k.0, v)).collect(),
            findings: analysis.findings.len(),
        };
        let first = files.iter().filter_map(|f| f.first).min();
        let last = files.iter().filter_map(|f| f.last).max();
        let data_range = first
            .zip(last)
            .map(|(a, b)| (clock.format(a), clock.format(b)));

        let by_account = crate::correlate::footprint::events_by_account(&ctx);
        let mut accounts = Vec::new();
        let mut clean_accounts = Vec::new();
        for v in &analysis.accounts {
            if v.verdict == Verdict::Clean {
                clean_accounts.push(CleanAccount {
                    account: v.account.clone(),
                    score: v.score,
                    findings: v.finding_ids.len(),
                });
                continue;
            }
            let anchor = format!("acct-{}", accounts.len() + 1);
            let events = ctx
                .interner
                .get(&v.account)
                .and_then(|s| by_account.get(&s))
                .map_or(&[][..], Vec::as_slice);
            accounts.push(account_view(
                analysis, &ctx, trace, clock, v, events, anchor,
            ));
        }

        // Most severe first, then in time order.
        let mut ranked: Vec<&Finding> = analysis.findings.iter().collect();
        ranked.sort_by(|a, b| {
            (std::cmp::Reverse(a.severity), a.first_seen, &a.id).cmp(&(
                std::cmp::Reverse(b.severity),
                b.first_seen,
                &b.id,
            ))
        });
        let findings = ranked
            .into_iter()
            .map(|f| FindingRow {
                id: f.id.clone(),
                severity: f.severity,
                time: clock.format(f.first_seen),
                until: (f.last_seen != f.first_seen).then(|| clock.format(f.last_seen)),
                account: f.account.clone(),
                rule: f.rule.to_string(),
                title: f.title.clone(),
                summary: f.summary.clone(),
                tactic: tactic_view(f.tactic),
                techniques: f.mitre.iter().map(|t| t.to_string()).collect(),
                ips: f.ips.clone(),
                evidence: f
                    .evidence
                    .iter()
                    .take(LIST_CAP)
                    .map(|e| EvidenceView {
                        location: format!("{}:{}", e.file, e.line),
                        record_id: e.record_id.clone(),
                        operation: e.operation.clone(),
                        time: clock.format(e.time),
                    })
                    .collect(),
                evidence_total: f.evidence.len(),
            })
            .collect();

        let remediation = remediation::plan(analysis)
            .into_iter()
            .map(|s| RemediationRow {
                step: s.step,
                account: s.account,
                action: s.action.to_string(),
                command: s.command,
                reason: s.reason,
                finding_ids: s.finding_ids,
            })
            .collect();

        let inputs = files
            .iter()
            .map(|f| {
                let mut encoding = f.encoding.to_string();
                if f.gzip {
                    encoding.push_str(", gzip");
                }
                if let Some(l) = f.layout {
                    encoding.push_str(&format!(", {l}"));
                }
                InputRow {
                    path: f.path.clone(),
                    kind: f.kind.as_str().to_string(),
                    format: f.format.to_string(),
                    encoding,
                    size: f.size,
                    sha256: f.sha256.as_deref().map(str::to_string),
                    records: f.records,
                    skipped: f.skipped,
                    duplicates: f.duplicates,
                    first: f.first.map(|t| clock.format(t)),
                    last: f.last.map(|t| clock.format(t)),
                    skip_reasons: f
                        .skip_reasons
                        .iter()
                        .map(|g| (g.reason.clone(), g.count, g.examples.clone()))
                        .collect(),
                    warnings: f.warnings.clone(),
                    reason: f.reason.clone(),
                    unreadable: f.unreadable,
                }
            })
            .collect();

        Model {
            tool: "mailsleuth",
            version: env!("CARGO_PKG_VERSION"),
            zone: clock.zone_name().to_string(),
            tenant_domains: analysis.tenant.domains().map(str::to_string).collect(),
            data_range,
            counts,
            accounts,
            clean_accounts,
            findings,
            remediation,
            inputs,
            input_problems: analysis
                .ingest
                .problems
                .iter()
                .map(|p| (p.path.display().to_string(), p.reason.clone()))
                .collect(),
            notes: analysis.notes.clone(),
        }
    }
}

fn account_view(
    analysis: &Analysis,
    ctx: &Ctx<'_>,
    trace: &TraceIndex,
    clock: &Clock,
    v: &AccountVerdict,
    account_events: &[u32],
    anchor: String,
) -> AccountView {
    let own: Vec<&Finding> = analysis
        .findings
        .iter()
        .filter(|f| f.account == v.account)
        .collect();
    let attacker = distinct_records(ctx, &v.attacker_events);

    // Per IP: what it did.
    let mut per_ip: BTreeMap<&str, (Vec<u32>, BTreeMap<String, usize>)> = BTreeMap::new();
    for &i in &attacker {
        let e = ctx.ev(i);
        let op = ctx.s(e.operation);
        let label = match mail_access::access_type(ctx, e) {
            Some(t) if op.eq_ignore_ascii_case("MailItemsAccessed") => format!("{op} ({t})"),
            _ => op.to_string(),
        };
        let slot = per_ip.entry(ctx.s(e.ip)).or_default();
        slot.0.push(i);
        *slot.1.entry(label).or_default() += 1;
    }
    let mut order: Vec<&str> = v.attacker_ips.iter().map(String::as_str).collect();
    order.extend(
        per_ip
            .keys()
            .filter(|k| !v.attacker_ips.iter().any(|a| a == *k)),
    );
    let ips: Vec<IpView> = order
        .into_iter()
        .filter_map(|ip| {
            let (events, ops) = per_ip.get(ip)?;
            let mut actions: Vec<(String, usize)> =
                ops.iter().map(|(k, n)| (k.clone(), *n)).collect();
            actions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let times: Vec<Timestamp> = events.iter().map(|&i| ctx.ev(i).time).collect();
            Some(IpView {
                ip: ip.to_string(),
                location: v
                    .attacker_ip_info
                    .get(ip)
                    .map(|g| g.label())
                    .filter(|l| !l.is_empty()),
                events: events.len(),
                first: times.iter().min().map(|&t| clock.format(t))?,
                last: times.iter().max().map(|&t| clock.format(t))?,
                actions,
            })
        })
        .collect();

    // The story, without the second copy of records read from two exports.
    let mut seen: HashSet<RecordId> = HashSet::new();
    let mut narrative = Vec::new();
    for s in narrative::steps(ctx, v, &analysis.findings) {
        let fresh: Vec<u32> = s
            .events
            .iter()
            .copied()
            .filter(|&i| {
                let r = ctx.ev(i).record_id;
                r.is_empty() || seen.insert(r)
            })
            .collect();
        if fresh.is_empty() && !s.events.is_empty() {
            continue;
        }
        narrative.push(StepView {
            time: clock.format(s.time),
            until: (s.until != s.time).then(|| clock.format(s.until)),
            tactic: s.tactic.map(tactic_view),
            operation: s.operation,
            ip: s.ip,
            description: s.description,
            count: fresh.len().max(1),
            severity: s.severity,
            source: s.source,
            finding_ids: s.finding_ids,
        });
    }

    let mut objects: Vec<ObjectView> = own
        .iter()
        .filter_map(|f| {
            Some(ObjectView {
                category: category(f.rule)?,
                finding_id: f.id.clone(),
                rule: f.rule.to_string(),
                title: f.title.clone(),
                severity: f.severity,
                time: clock.format(f.first_seen),
                summary: f.summary.clone(),
                facts: facts(f),
            })
        })
        .collect();
    objects.sort_by(|a, b| {
        (
            rank(a.category),
            std::cmp::Reverse(a.severity),
            &a.finding_id,
        )
            .cmp(&(
                rank(b.category),
                std::cmp::Reverse(b.severity),
                &b.finding_id,
            ))
    });

    // Read.
    let mr = mail_access::mail_read_with(ctx, &attacker, trace);
    let mut searches = Vec::new();
    for &i in &attacker {
        let e = ctx.ev(i);
        let op = ctx.s(e.operation);
        if op.eq_ignore_ascii_case("SearchQueryInitiatedExchange")
            || op.eq_ignore_ascii_case("SearchQueryPerformed")
        {
            if let Some(q) = query_text(ctx, e) {
                searches.push((clock.format(e.time), q.to_string()));
            }
        }
    }
    let read = ReadView {
        bind_total: mr.bind_items.len(),
        bind: mr
            .bind_items
            .iter()
            .take(LIST_CAP)
            .map(|r| MessageView {
                time: clock.format(r.time),
                subject: best_subject(
                    ctx,
                    trace,
                    r.subject.as_deref(),
                    r.internet_message_id.as_deref().unwrap_or(""),
                ),
                message_id: r.internet_message_id.clone().unwrap_or_default(),
                folder: r.folder.clone().unwrap_or_default(),
            })
            .collect(),
        sync_folders: mr.sync_folders,
        bind_records: mr.bind_records,
        sync_records: mr.sync_records,
        searches,
    };

    // Sent.
    let mut sent = Vec::new();
    let mut sent_ids: HashSet<String> = HashSet::new();
    for &i in &attacker {
        let e = ctx.ev(i);
        let op = ctx.s(e.operation);
        if !matches!(op, "Send" | "SendAs" | "SendOnBehalf") || e.outcome == Outcome::Failure {
            continue;
        }
        let items = e.items();
        let mut any = false;
        for m in items {
            let mid = m.internet_message_id(ctx.interner).unwrap_or("");
            if !mid.is_empty() && !sent_ids.insert(norm_message_id(mid)) {
                continue;
            }
            any = true;
            let subject = best_subject(ctx, trace, m.subject(ctx.interner), mid);
            let rcpts = if mid.is_empty() {
                Vec::new()
            } else {
                trace.recipients(ctx, mid)
            };
            let (external, internal): (Vec<&str>, Vec<&str>) = rcpts
                .into_iter()
                .filter(|r| !r.eq_ignore_ascii_case(&v.account))
                .partition(|r| ctx.tenant.is_external(r));
            sent.push(SentView {
                time: clock.format(e.time),
                operation: op.to_string(),
                subject,
                message_id: mid.to_string(),
                ip: ctx.s(e.ip).to_string(),
                internal: internal.into_iter().map(str::to_string).collect(),
                external: external.into_iter().map(str::to_string).collect(),
            });
        }
        if !any && items.is_empty() {
            sent.push(SentView {
                time: clock.format(e.time),
                operation: op.to_string(),
                subject: ctx.s(e.object).to_string(),
                message_id: String::new(),
                ip: ctx.s(e.ip).to_string(),
                internal: Vec::new(),
                external: Vec::new(),
            });
        }
    }
    let sent_total = sent.len();
    sent.truncate(LIST_CAP);

    // Deleted.
    let mut deleted = Vec::new();
    for &i in &attacker {
        let e = ctx.ev(i);
        let op = ctx.s(e.operation);
        if !matches!(
            op.to_ascii_lowercase().as_str(),
            "harddelete" | "softdelete" | "movetodeleteditems"
        ) || e.outcome == Outcome::Failure
        {
            continue;
        }
        for m in e.items() {
            let mid = m.internet_message_id(ctx.interner).unwrap_or("");
            deleted.push(DeletedView {
                time: clock.format(e.time),
                operation: op.to_string(),
                folder: m.folder(ctx.interner).unwrap_or("").to_string(),
                subject: best_subject(ctx, trace, m.subject(ctx.interner), mid),
                message_id: mid.to_string(),
            });
        }
    }
    let deleted_total = deleted.len();
    deleted.truncate(LIST_CAP);

    let window = v.window.map(|w| WindowView {
        start: clock.format(w.start),
        end: clock.format(w.end),
        duration: duration(w.start, w.end),
    });
    let chart = v
        .window
        .and_then(|w| chart::build(ctx, account_events, &v.attacker_events, w, clock));
    let baseline = v.baseline.as_ref().map(|b| BaselineView {
        history_from: b.history_from.map(|t| clock.format(t)),
        new_ips: b.new_ips.clone(),
        new_user_agents: b.new_user_agents.clone(),
        new_countries: b.new_countries.clone(),
        new_asns: b.new_asns.clone(),
    });
    let blast = v.blast_radius.as_ref().map(|b| BlastView {
        internal_recipients: b.internal_recipients.clone(),
        external_recipients: b.external_recipients.clone(),
        related: b
            .related_accounts
            .iter()
            .map(|r| (r.account.clone(), r.indicators.clone()))
            .collect(),
    });

    let mut view = AccountView {
        account: v.account.clone(),
        anchor,
        verdict: v.verdict,
        score: v.score,
        reasons: v.reasons.clone(),
        window,
        summary: String::new(),
        ips,
        sessions: v.attacker_sessions.clone(),
        tokens: v.attacker_tokens.clone(),
        user_agents: v.user_agents.clone(),
        narrative,
        objects,
        read,
        sent,
        sent_total,
        deleted,
        deleted_total,
        chart,
        baseline,
        blast,
        finding_ids: v.finding_ids.clone(),
    };
    view.summary = summary(ctx, &view, &own, &attacker);
    view
}

/// The executive paragraph: who, since when, from where, what was done, who else is affected,
/// what is still active.
fn summary(ctx: &Ctx<'_>, v: &AccountView, own: &[&Finding], attacker: &[u32]) -> String {
    let mut s = String::new();
    let state = match v.verdict {
        Verdict::Compromised => "was compromised",
        Verdict::Suspicious => "shows suspicious activity",
        Verdict::Clean => "shows nothing suspicious",
    };
    match &v.window {
        Some(w) => s.push_str(&format!(
            "{} {state} from {} to {} ({}).",
            v.account, w.start, w.end, w.duration
        )),
        None => s.push_str(&format!("{} {state}.", v.account)),
    }
    let ips: Vec<String> = v
        .ips
        .iter()
        .filter(|i| !i.ip.is_empty())
        .map(|i| match &i.location {
            Some(l) => format!("{} ({l})", i.ip),
            None => i.ip.clone(),
        })
        .collect();
    if !ips.is_empty() {
        s.push_str(&format!(
            " The attacker acted from {} IP address{}: {}.",
            ips.len(),
            if ips.len() == 1 { "" } else { "es" },
            list_and(&ips)
        ));
    }

    let mut did: Vec<String> = Vec::new();
    let signins: Vec<&Event> = attacker
        .iter()
        .map(|&i| ctx.ev(i))
        .filter(|e| ctx.is_signin(e))
        .collect();
    let failed = signins
        .iter()
        .filter(|e| e.outcome == Outcome::Failure)
        .count();
    let ok = signins.len() - failed;
    if ok > 0 || failed > 0 {
        did.push(format!(
            "signed in ({ok} successful and {failed} failed sign-in record{})",
            if failed == 1 { "" } else { "s" }
        ));
    }
    let has = |pred: fn(&str) -> bool| own.iter().copied().filter(move |f| pred(f.rule));
    let rule_names: BTreeSet<&str> = has(|r| category(r) == Some("Inbox rules"))
        .flat_map(|f| {
            let mut v = str_detail(f, "rule_names");
            v.extend(str_detail(f, "rule_name"));
            v
        })
        .collect();
    if !rule_names.is_empty() {
        did.push(format!(
            "created inbox rule{} {}",
            if rule_names.len() == 1 { "" } else { "s" },
            quoted_list(&rule_names.iter().copied().collect::<Vec<_>>(), 5)
        ));
    } else if has(|r| category(r) == Some("Inbox rules")).next().is_some() {
        did.push("created inbox rules".into());
    }
    let fwd: Vec<&Finding> = has(|r| category(r) == Some("Forwarding")).collect();
    let fwd_to: BTreeSet<&str> = fwd
        .iter()
        .flat_map(|f| str_detail(f, "forward_to"))
        .collect();
    if !fwd_to.is_empty() {
        let active = fwd.iter().any(|f| str_detail(f, "state") == ["active"]);
        did.push(format!(
            "forwarded the mailbox to {}{}",
            fwd_to.iter().copied().collect::<Vec<_>>().join(", "),
            if active {
                " (still active at the end of the exports)"
            } else {
                ""
            }
        ));
    } else if !fwd.is_empty() {
        did.push("changed mail forwarding".into());
    }
    let mfa: BTreeSet<&str> = has(|r| r == "mfa-method-added")
        .flat_map(|f| str_detail(f, "added"))
        .collect();
    if !mfa.is_empty() {
        did.push(format!(
            "registered MFA security info ({})",
            mfa.into_iter().collect::<Vec<_>>().join(", ")
        ));
    } else if has(|r| category(r) == Some("MFA and authentication"))
        .next()
        .is_some()
    {
        did.push("changed MFA or authentication settings".into());
    }
    let apps: BTreeSet<&str> = has(|r| category(r) == Some("Applications and consent"))
        .flat_map(|f| str_detail(f, "app_name"))
        .collect();
    if !apps.is_empty() {
        did.push(format!(
            "consented to {}",
            quoted_list(&apps.into_iter().collect::<Vec<_>>(), 5)
        ));
    }
    let delegates: BTreeSet<&str> = has(|r| category(r) == Some("Delegates and permissions"))
        .flat_map(|f| str_detail(f, "delegates"))
        .collect();
    if !delegates.is_empty() {
        did.push(format!(
            "granted mailbox permissions to {}",
            delegates.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if has(|r| category(r) == Some("Audit and protection settings"))
        .next()
        .is_some()
    {
        did.push("changed audit or mail-protection settings".into());
    }
    if v.read.bind_total > 0 || !v.read.sync_folders.is_empty() {
        let mut r = format!("opened {} message(s)", v.read.bind_total);
        if !v.read.sync_folders.is_empty() {
            r.push_str(&format!(
                " and synchronised {}",
                v.read.sync_folders.join(", ")
            ));
        }
        did.push(r);
    }
    if !v.read.searches.is_empty() {
        let q: Vec<&str> = v.read.searches.iter().map(|(_, q)| q.as_str()).collect();
        did.push(format!("searched the mailbox for {}", quoted_list(&q, 5)));
    }
    if v.sent_total > 0 {
        let int: BTreeSet<&str> = v
            .sent
            .iter()
            .flat_map(|m| m.internal.iter().map(String::as_str))
            .collect();
        let ext: BTreeSet<&str> = v
            .sent
            .iter()
            .flat_map(|m| m.external.iter().map(String::as_str))
            .collect();
        did.push(format!(
            "sent {} message(s) to {} internal and {} external recipient(s)",
            v.sent_total,
            int.len(),
            ext.len()
        ));
    }
    if v.deleted_total > 0 {
        did.push(format!("deleted {} item(s)", v.deleted_total));
    }
    let replay: BTreeSet<&str> = has(|r| r == "token-replay-without-signin")
        .flat_map(|f| str_detail(f, "replay_ip"))
        .collect();
    if !replay.is_empty() {
        did.push(format!(
            "replayed the stolen session from {} without signing in",
            replay.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !did.is_empty() {
        s.push_str(&format!(" The attacker {}.", list_and(&did)));
    }
    if let Some(b) = &v.blast {
        if !b.related.is_empty() {
            let names: Vec<String> = b.related.iter().map(|(a, _)| a.clone()).collect();
            s.push_str(&format!(
                " {} other account(s) show the attacker's infrastructure: {}.",
                names.len(),
                list_and(&names)
            ));
        }
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::{self, AnalyzeOptions};
    use crate::ingest::{source::NoCount, IngestOptions};
    use std::path::PathBuf;
    use std::sync::OnceLock;

    pub(crate) const VICTIM: &str = "amelia.hart@tailspinfreight.example";

    /// The bundled samples, analysed once for all report tests.
    pub(crate) fn samples() -> &'static Analysis {
        static A: OnceLock<Analysis> = OnceLock::new();
        A.get_or_init(|| {
            let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
            analysis::run(
                &[dir],
                &IngestOptions::default(),
                &AnalyzeOptions::default(),
                &NoCount,
            )
            .expect("the samples analyse")
        })
    }

    /// The model of the samples in UTC, built once.
    pub(crate) fn model() -> &'static Model {
        static M: OnceLock<Model> = OnceLock::new();
        M.get_or_init(|| Model::build(samples(), &Clock::utc()))
    }

    #[test]
    fn durations_read_naturally() {
        let t = |s: i64| Timestamp(s * 1_000_000);
        assert_eq!(duration(t(0), t(0)), "0 min");
        assert_eq!(duration(t(0), t(59 * 60)), "59 min");
        assert_eq!(duration(t(0), t(86_400 + 3600)), "1 day 1 h");
        assert_eq!(
            duration(t(0), t(2 * 86_400 + 23 * 3600 + 27 * 60)),
            "2 days 23 h 27 min"
        );
    }

    #[test]
    fn detail_values_become_one_line() {
        let v: Value = serde_json::json!({"a": ["x", "y"], "b": {"c": 1, "d": null}, "e": true});
        assert_eq!(value_text(&v), "a: [x, y]; b: [c: 1]; e: yes");
        assert_eq!(
            value_text(&serde_json::json!([{"k": "v"}, {"k": "w"}])),
            "k: v | k: w"
        );
    }

    #[test]
    fn the_victim_comes_first_with_window_ips_and_story() {
        let m = model();
        assert_eq!(m.counts.compromised, 1);
        assert_eq!(m.accounts.len(), 1, "only the victim is not clean");
        let a = &m.accounts[0];
        assert_eq!(a.account, VICTIM);
        let w = a.window.as_ref().expect("window");
        assert_eq!(w.start, "2026-03-09 09:02:41 UTC");
        assert_eq!(w.end, "2026-03-11 08:30:17 UTC");
        let ips: Vec<&str> = a.ips.iter().map(|i| i.ip.as_str()).collect();
        assert!(ips.contains(&"89.160.20.115") && ips.contains(&"175.16.199.10"));
        let main = a.ips.iter().find(|i| i.ip == "89.160.20.115").unwrap();
        assert!(main
            .actions
            .iter()
            .any(|(op, n)| op == "New-InboxRule" && *n == 1));
        assert!(a.narrative.len() >= 10);
        assert!(a
            .narrative
            .iter()
            .any(|s| s.operation == "New-InboxRule" && s.tactic.is_some()));
        // Duplicated records (UAL + mailbox audit) appear once in the story.
        assert_eq!(
            a.narrative.iter().filter(|s| s.operation == "Send").count(),
            3
        );
        assert_eq!(m.clean_accounts.len(), m.counts.clean);
    }

    #[test]
    fn read_sent_deleted_and_objects_of_the_victim() {
        let a = &model().accounts[0];
        assert!(a.read.bind_total >= 20, "{}", a.read.bind_total);
        assert!(a.read.bind.iter().any(|m| m.message_id
            == "<AM9PR08MB65837623BB90D28400424D2101CB99018@AM9PR08MB6583.eurprd08.prod.outlook.com>"));
        assert!(a.read.sync_folders.iter().any(|f| f == "\\Inbox"));
        // Search terms appear when the parser keeps QueryText.
        assert!(a.read.searches.iter().all(|(_, q)| !q.is_empty()));
        assert_eq!(a.sent_total, 3);
        let internal: BTreeSet<&str> = a
            .sent
            .iter()
            .flat_map(|s| s.internal.iter().map(String::as_str))
            .collect();
        assert_eq!(internal.len(), 6, "{internal:?}");
        assert!(a
            .sent
            .iter()
            .any(|s| s.external == ["payables@harbor-logistics.example"]));
        assert_eq!(a.deleted_total, 3, "{:?}", a.deleted);
        assert!(a.deleted.iter().all(|d| d.folder == "\\Sent Items"));
        let cats: BTreeSet<&str> = a.objects.iter().map(|o| o.category).collect();
        for c in [
            "Inbox rules",
            "Forwarding",
            "MFA and authentication",
            "Applications and consent",
        ] {
            assert!(cats.contains(c), "{c} missing from {cats:?}");
        }
        assert!(a.summary.contains("\"..\""), "{}", a.summary);
        assert!(a.summary.contains("ap.settlements@mailbox-relay.example"));
        assert!(a.summary.contains("PDF Reader Online"));
        let c = a.chart.as_ref().expect("chart");
        assert!(c.attacker > 0 && c.total >= c.attacker);
        assert_eq!(c.bin_hours, 1);
    }

    #[test]
    fn times_follow_the_chosen_zone_and_inputs_carry_hashes() {
        let m = Model::build(samples(), &Clock::named("Europe/Amsterdam").unwrap());
        assert_eq!(m.zone, "Europe/Amsterdam");
        let w = m.accounts[0].window.as_ref().unwrap();
        assert_eq!(w.start, "2026-03-09 10:02:41 CET");
        let exports: Vec<&InputRow> = m.inputs.iter().filter(|i| i.kind != "unknown").collect();
        assert_eq!(exports.len(), 7, "{:?}", m.inputs);
        for i in &m.inputs {
            if let Some(h) = &i.sha256 {
                assert_eq!(h.len(), 64, "{h}");
            }
        }
    }
}

//! Sending, deleting and purging mail (catalog rows B6, C1–C7).
//!
//! These rules join the mailbox audit (`Send*`, `SoftDelete`, `HardDelete`, `Move`) with the
//! message trace on the RFC 5322 Message-ID, so a finding can say *who received* what the
//! attacker sent and *what* the attacker deleted. The join is exposed for other modules:
//! [`norm_message_id`], [`TraceIndex`] and [`recipients_of`].
//!
//! Row by row:
//! * B6 `mfa-security-notification-deleted`: deletes of "new MFA method"/security mails.
//! * C1 `send-then-harddelete`: a sent message purged from Sent/Recoverable Items within 1 h.
//! * C2 `harddelete-excessive`: > 50 distinct subjects or > 10 MB purged in 1 h.
//! * C3 `receive-then-delete-sensitive`: a password/OTP or bank/payroll mail (message trace)
//!   deleted within 4 h; critical when both kinds are deleted in one mailbox.
//! * C4 `rule-send-archive-move`: inbox rule ±12 min of a send, then Sent → Archive move.
//! * C5 `outbound-spam-restricted`: offline analog of Microsoft's outbound-spam alerts (a send
//!   burst far above the sender's own baseline or above an absolute floor). The Microsoft
//!   alerts themselves are passed through by the alerts module (J2), not here.
//! * C6 `send-attachments-external-volume`: > 25 distinct attachments sent out in 1 h.
//! * C7 `ndr-oof-cleanup`: bounces and out-of-office replies deleted in bulk (or by a rule),
//!   raised when it follows a send burst.

use super::{Ctx, Finding, Rule, Severity, Tactic};
use crate::analyze::tenant::domain_of;
use crate::event::{Bag, Event, MailItem, Outcome, RecordId, SourceKind, Timestamp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The rules of this family.
pub static RULES: &[Rule] = &[
    Rule {
        id: "mfa-security-notification-deleted",
        title: "MFA or security notification mail deleted",
        severity: Severity::Low,
        mitre: &["T1070.008", "T1098.005"],
        tactic: Tactic::DefenseEvasion,
        run: mfa_notification_deleted,
    },
    Rule {
        id: "send-then-harddelete",
        title: "Sent message purged from Sent Items shortly after sending",
        severity: Severity::Medium,
        mitre: &["T1114.001", "T1070.008", "T1485"],
        tactic: Tactic::DefenseEvasion,
        run: send_then_harddelete,
    },
    Rule {
        id: "harddelete-excessive",
        title: "Mass purge of mail (HardDelete)",
        severity: Severity::Medium,
        mitre: &["T1070.008", "T1485"],
        tactic: Tactic::DefenseEvasion,
        run: harddelete_excessive,
    },
    Rule {
        id: "receive-then-delete-sensitive",
        title: "Password/OTP or bank/payroll mail deleted soon after delivery",
        severity: Severity::Medium,
        mitre: &["T1114.001", "T1070.008", "T1485"],
        tactic: Tactic::DefenseEvasion,
        run: receive_then_delete,
    },
    Rule {
        id: "rule-send-archive-move",
        title: "Inbox rule, send, then sent copy moved to Archive",
        severity: Severity::Medium,
        mitre: &["T1114", "T1020"],
        tactic: Tactic::DefenseEvasion,
        run: rule_send_archive_move,
    },
    Rule {
        id: "outbound-spam-restricted",
        title: "Burst of outgoing mail from one mailbox",
        severity: Severity::Medium,
        mitre: &["T1534", "T1566.002"],
        tactic: Tactic::LateralMovement,
        run: outbound_burst,
    },
    Rule {
        id: "send-attachments-external-volume",
        title: "Many attachments sent outside the organisation",
        severity: Severity::Medium,
        mitre: &["T1048", "T1114"],
        tactic: Tactic::Exfiltration,
        run: attachments_external,
    },
    Rule {
        id: "ndr-oof-cleanup",
        title: "Bounces and out-of-office replies deleted or hidden",
        severity: Severity::Medium,
        mitre: &["T1070.008", "T1564.008"],
        tactic: Tactic::DefenseEvasion,
        run: ndr_oof_cleanup,
    },
];

/// The operations that record a message being sent from a mailbox.
pub const SEND_OPS: &[&str] = &["Send", "SendAs", "SendOnBehalf"];

const HOUR_US: i64 = 3_600_000_000;
const MIN_US: i64 = 60_000_000;
/// Lists in details are capped at this many entries (the count is always given).
const LIST_CAP: usize = 200;
/// Evidence lists are capped at this many events.
const EVIDENCE_CAP: usize = 1000;

// ------------------------------------------------------------------------------------------------
// The Send ↔ message-trace join (public: other modules reuse it)
// ------------------------------------------------------------------------------------------------

/// Normalises a Message-ID for joining: trimmed, without angle brackets, lower-cased
/// (`<ABC@x.example>` and `abc@x.example` join).
pub fn norm_message_id(s: &str) -> String {
    message_id_core(s).to_ascii_lowercase()
}

/// A Message-ID without surrounding blanks and angle brackets: [`norm_message_id`] before its
/// case folding, borrowed.
fn message_id_core(s: &str) -> &str {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

/// A hash of [`norm_message_id`]`(s)`, computed without building it.
fn message_id_hash(s: &str) -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    let mut lower = [0u8; 64];
    for part in message_id_core(s).as_bytes().chunks(lower.len()) {
        let lower = &mut lower[..part.len()];
        lower.copy_from_slice(part);
        lower.make_ascii_lowercase();
        h.write(lower);
    }
    h.finish()
}

/// The Message-ID a message-trace event is about.
fn trace_message_id<'a>(ctx: &Ctx<'a>, e: &'a Event) -> Option<&'a str> {
    e.items()
        .iter()
        .find_map(|m| m.internet_message_id(ctx.interner))
}

/// Message-trace events indexed by normalised Message-ID. Built once per analysis, on first
/// use, and shared: [`Ctx::trace`].
///
/// It lives through detection and the reports, so it is small: each trace event's index
/// beside a hash of its Message-ID, sorted (12 bytes a trace event, where a map of owned
/// Message-IDs took some 130 bytes a message). A lookup checks each candidate's own
/// Message-ID, so two messages whose IDs hash alike never mix.
#[derive(Debug, Default, Clone)]
pub struct TraceIndex {
    /// (Message-ID hash, event index), sorted: a message's events are one run, in time order.
    keyed: Vec<(u64, u32)>,
}

impl TraceIndex {
    /// Indexes every message-trace event that carries a Message-ID.
    pub fn new(ctx: &Ctx<'_>) -> Self {
        let mut keyed: Vec<(u64, u32)> = ctx
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.source == SourceKind::MessageTrace)
            .filter_map(|(i, e)| {
                let mid = trace_message_id(ctx, e).filter(|m| !message_id_core(m).is_empty())?;
                Some((message_id_hash(mid), i as u32))
            })
            .collect();
        keyed.sort_unstable();
        keyed.shrink_to_fit();
        TraceIndex { keyed }
    }

    /// The trace events (time order) of a message.
    fn events<'s>(
        &'s self,
        ctx: &'s Ctx<'_>,
        message_id: &'s str,
    ) -> impl Iterator<Item = u32> + 's {
        let wanted = message_id_core(message_id);
        let hash = message_id_hash(message_id);
        // An empty ID is never indexed: start past the end.
        let from = if wanted.is_empty() {
            self.keyed.len()
        } else {
            self.keyed.partition_point(|&(h, _)| h < hash)
        };
        self.keyed[from..]
            .iter()
            .take_while(move |&&(h, _)| h == hash)
            .map(|&(_, i)| i)
            .filter(move |&i| {
                trace_message_id(ctx, ctx.ev(i))
                    .is_some_and(|m| message_id_core(m).eq_ignore_ascii_case(wanted))
            })
    }

    /// The message's recipients (lower-cased, sorted, distinct).
    pub fn recipients<'a>(&self, ctx: &Ctx<'a>, message_id: &str) -> Vec<&'a str> {
        let mut v: Vec<&'a str> = self
            .events(ctx, message_id)
            .map(|i| ctx.s(ctx.ev(i).mailbox))
            .filter(|r| !r.is_empty())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The message's subject as the trace recorded it. When several trace files hold it, a
    /// spelling without `?` wins (Windows PowerShell 5.1 exports turn non-ASCII into `?`).
    pub fn subject<'a>(&self, ctx: &Ctx<'a>, message_id: &str) -> Option<&'a str> {
        let mut first = None;
        for i in self.events(ctx, message_id) {
            let Some(s) = ctx
                .ev(i)
                .items()
                .iter()
                .find_map(|m| m.subject(ctx.interner))
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            if !s.contains('?') {
                return Some(s);
            }
            first.get_or_insert(s);
        }
        first
    }
}

/// The recipients of a message in the message trace (lower-cased, sorted, distinct), joined on
/// the Message-ID without regard to case or angle brackets. Empty when the trace does not
/// hold the message.
pub fn recipients_of<'a>(ctx: &Ctx<'a>, message_id: &str) -> Vec<&'a str> {
    ctx.trace().recipients(ctx, message_id)
}

/// Recipients split into `{"internal": [...], "external": [...]}` for details.
pub fn recipients_json(ctx: &Ctx<'_>, recipients: &[&str]) -> Value {
    let (ext, int): (Vec<&str>, Vec<&str>) =
        recipients.iter().partition(|r| ctx.tenant.is_external(r));
    json!({ "internal": int, "external": ext })
}

// ------------------------------------------------------------------------------------------------
// Small shared pieces
// ------------------------------------------------------------------------------------------------

fn ok(e: &Event) -> bool {
    e.outcome != Outcome::Failure
}

fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// The message a send event is about: its Message-ID and subject.
fn sent_message<'a>(ctx: &Ctx<'a>, e: &'a Event) -> (Option<&'a str>, Option<&'a str>) {
    let item = e.items().first();
    let mid = item.and_then(|m| m.internet_message_id(ctx.interner));
    let subject = item
        .and_then(|m| m.subject(ctx.interner))
        .or_else(|| Some(ctx.s(e.object)).filter(|s| !s.is_empty()));
    (mid, subject)
}

fn subject_key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// True when `word` occurs in `hay` (both lower-case) with no letter or digit on either side.
fn has_word(hay: &str, word: &str) -> bool {
    let b = hay.as_bytes();
    let mut from = 0;
    while let Some(p) = hay[from..].find(word) {
        let s = from + p;
        let e = s + word.len();
        let before = s == 0 || !b[s - 1].is_ascii_alphanumeric();
        let after = e >= b.len() || !b[e].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = s + 1;
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// True when a word starting with `prefix` occurs in `hay` (both lower-case).
fn has_word_prefix(hay: &str, prefix: &str) -> bool {
    let b = hay.as_bytes();
    let mut from = 0;
    while let Some(p) = hay[from..].find(prefix) {
        let s = from + p;
        if s == 0 || !b[s - 1].is_ascii_alphanumeric() {
            return true;
        }
        from = s + 1;
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

fn is_sent_or_recoverable(folder: Option<&str>) -> bool {
    match folder {
        None => true,
        Some(f) => {
            let f = f.to_ascii_lowercase();
            f.contains("sent items") || f.contains("recoverable items")
        }
    }
}

/// True when an event with the same record id was already seen: the same UAL record read
/// from two exports (a UAL file and the mailbox-audit CSV) must not count twice.
fn duplicate(seen: &mut HashSet<RecordId>, e: &Event) -> bool {
    !e.record_id.is_empty() && !seen.insert(e.record_id)
}

fn capped_events(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v.truncate(EVIDENCE_CAP);
    v
}

/// Splits time-sorted values into runs whose consecutive times are at most `gap_us` apart.
fn clusters<T>(items: Vec<T>, time: impl Fn(&T) -> i64, gap_us: i64) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut last: Option<i64> = None;
    for it in items {
        let t = time(&it);
        match (last, out.last_mut()) {
            (Some(l), Some(cur)) if t - l <= gap_us => cur.push(it),
            _ => out.push(vec![it]),
        }
        last = Some(t);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// B6 mfa-security-notification-deleted
// ------------------------------------------------------------------------------------------------

/// True for subjects of "new MFA method / security info" notifications (Elastic's list), but
/// not for sign-in or logon notices.
pub fn is_mfa_security_subject(subject: &str) -> bool {
    let s = subject.to_lowercase();
    let signin = [
        "sign-in", "sign in", "signin", "logon", "log on", "log-on", "login",
    ];
    if signin.iter().any(|w| s.contains(w)) {
        return false;
    }
    const NOUNS: &[&str] = &["mfa", "multi", "factor", "method", "device", "security"];
    const VERBS: &[&str] = &[
        "enroll",
        "register",
        "added",
        "change",
        "verify",
        "update",
        "activate",
        "configure",
        "setup",
        "set up",
    ];
    if NOUNS
        .iter()
        .any(|n| s.contains(&format!("new {n}")) || s.contains(&format!("new {n}-")))
    {
        return true;
    }
    if has_word(&s, "2fa")
        || s.contains("2-step")
        || s.contains("two-step")
        || s.contains("two-factor")
        || s.contains("authenticator")
        || s.contains("verification code")
        || s.contains("security info")
        || s.contains("security alert")
    {
        return true;
    }
    let noun = NOUNS.iter().any(|n| {
        if *n == "mfa" {
            has_word(&s, n)
        } else {
            has_word_prefix(&s, n)
        }
    });
    noun && VERBS.iter().any(|v| has_word_prefix(&s, v))
}

/// A deleted notification: event, subject, Message-ID, operation.
type DeletedNote = (u32, String, Option<String>, String);

fn mfa_notification_deleted(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let trace = ctx.trace();
    let mut per_account: BTreeMap<&str, Vec<DeletedNote>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for i in ctx.ops(&["SoftDelete", "HardDelete", "MoveToDeletedItems"]) {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || duplicate(&mut seen, e) {
            continue;
        }
        for item in e.items() {
            let subject = item.subject(ctx.interner).or_else(|| {
                item.internet_message_id(ctx.interner)
                    .and_then(|m| trace.subject(ctx, m))
            });
            let Some(subject) = subject else { continue };
            if is_mfa_security_subject(subject) {
                per_account.entry(ctx.account(e)).or_default().push((
                    i,
                    subject.to_string(),
                    item.internet_message_id(ctx.interner).map(str::to_string),
                    ctx.s(e.operation).to_string(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (account, hits) in per_account {
        for group in clusters(hits, |h| ctx.ev(h.0).time.0, 24 * HOUR_US) {
            let hard = group.iter().any(|h| h.3.eq_ignore_ascii_case("HardDelete"));
            let subjects: BTreeSet<&str> = group.iter().map(|h| h.1.as_str()).collect();
            let mut f = Finding::new(
                rule,
                account,
                format!(
                    "{} security/MFA notification mail(s) deleted from {account}: {}",
                    group.len(),
                    subjects
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" | ")
                ),
            )
            .with_events(group.iter().map(|h| h.0))
            .detail("subjects", subjects.iter().cloned().collect::<Vec<_>>())
            .detail(
                "items",
                group
                    .iter()
                    .take(LIST_CAP)
                    .map(|h| {
                        json!({
                            "time": ts(ctx.ev(h.0).time),
                            "operation": h.3,
                            "subject": h.1,
                            "internet_message_id": h.2,
                        })
                    })
                    .collect::<Vec<_>>(),
            )
            .detail("count", group.len());
            if hard {
                f = f.severity(Severity::Medium).detail(
                    "severity_reason",
                    "purged (HardDelete), not just moved to Deleted Items",
                );
            }
            out.push(f);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C1 send-then-harddelete
// ------------------------------------------------------------------------------------------------

struct Pair {
    send: u32,
    delete: u32,
    subject: Option<String>,
    /// The subject came from a UAL record (not a mangled PowerShell 5.1 export).
    ual: bool,
    mid: Option<String>,
}

fn send_then_harddelete(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    // Sends by (mailbox, message id) and (mailbox, subject).
    let mut by_mid: HashMap<(&str, String), Vec<u32>> = HashMap::new();
    let mut by_subject: HashMap<(&str, String), Vec<u32>> = HashMap::new();
    for i in ctx.ops(SEND_OPS) {
        let e = ctx.ev(i);
        if !ok(e) {
            continue;
        }
        let account = ctx.account(e);
        let (mid, subject) = sent_message(ctx, e);
        if let Some(m) = mid.map(norm_message_id).filter(|m| !m.is_empty()) {
            by_mid.entry((account, m)).or_default().push(i);
        }
        if let Some(s) = subject.map(subject_key).filter(|s| !s.is_empty()) {
            by_subject.entry((account, s)).or_default().push(i);
        }
    }
    if by_mid.is_empty() && by_subject.is_empty() {
        return Vec::new();
    }
    let mut pairs: BTreeMap<&str, Vec<Pair>> = BTreeMap::new();
    for d in ctx.op("HardDelete").iter().copied() {
        let e = ctx.ev(d);
        if !ok(e) {
            continue;
        }
        let account = ctx.account(e);
        for item in e.items() {
            let mid = item
                .internet_message_id(ctx.interner)
                .map(norm_message_id)
                .filter(|m| !m.is_empty());
            let mut cands: Vec<u32> = Vec::new();
            if let Some(m) = &mid {
                if let Some(v) = by_mid.get(&(account, m.clone())) {
                    cands.extend(v);
                }
            }
            if cands.is_empty() && is_sent_or_recoverable(item.folder(ctx.interner)) {
                if let Some(s) = item.subject(ctx.interner).map(subject_key) {
                    if let Some(v) = by_subject.get(&(account, s)) {
                        cands.extend(v);
                    }
                }
            }
            // Every send of the message within the hour before the delete (the same send may
            // be in several exports).
            for sidx in cands {
                let se = ctx.ev(sidx);
                if !(0..3600).contains(&se.time.seconds_until(e.time)) {
                    continue;
                }
                let (smid, ssub) = sent_message(ctx, se);
                let isub = item.subject(ctx.interner);
                // Prefer the UAL's subject: PowerShell 5.1 exports replace non-ASCII with `?`.
                let (subject, ual) = if e.source == SourceKind::Ual {
                    (isub.or(ssub), true)
                } else if se.source == SourceKind::Ual {
                    (ssub.or(isub), true)
                } else {
                    (isub.or(ssub), false)
                };
                pairs.entry(account).or_default().push(Pair {
                    send: sidx,
                    delete: d,
                    subject: subject.map(str::to_string),
                    ual,
                    mid: item
                        .internet_message_id(ctx.interner)
                        .or(smid)
                        .map(str::to_string),
                });
            }
        }
    }
    let trace = ctx.trace();
    let mut out = Vec::new();
    for (account, mut ps) in pairs {
        ps.sort_by_key(|p| (ctx.ev(p.send).time_key(), ctx.ev(p.delete).time_key()));
        for group in clusters(ps, |p| ctx.ev(p.send).time.0, 6 * HOUR_US) {
            // One entry per message: keyed by Message-ID, else subject.
            struct Msg<'p> {
                first: &'p Pair,
                subject: Option<&'p str>,
                subject_ual: bool,
                sends: BTreeSet<u32>,
                deletes: BTreeSet<u32>,
            }
            let mut msgs: BTreeMap<String, Msg<'_>> = BTreeMap::new();
            let mut order: Vec<String> = Vec::new();
            for p in &group {
                let key = match p.mid.as_deref().map(norm_message_id) {
                    Some(m) if !m.is_empty() => m,
                    _ => format!(
                        "s:{}",
                        p.subject.as_deref().map(subject_key).unwrap_or_default()
                    ),
                };
                let m = msgs.entry(key.clone()).or_insert_with(|| {
                    order.push(key);
                    Msg {
                        first: p,
                        subject: None,
                        subject_ual: false,
                        sends: BTreeSet::new(),
                        deletes: BTreeSet::new(),
                    }
                });
                m.sends.insert(p.send);
                m.deletes.insert(p.delete);
                if let Some(sub) = p.subject.as_deref() {
                    if m.subject.is_none() || (p.ual && !m.subject_ual) {
                        m.subject = Some(sub);
                        m.subject_ual = p.ual;
                    }
                }
            }
            let mut all_rcpts: BTreeSet<&str> = BTreeSet::new();
            let messages: Vec<Value> = order
                .iter()
                .filter_map(|k| msgs.get(k))
                .take(LIST_CAP)
                .map(|m| {
                    let p = m.first;
                    let rc = p
                        .mid
                        .as_deref()
                        .map(|x| trace.recipients(ctx, x))
                        .unwrap_or_default();
                    all_rcpts.extend(rc.iter().copied());
                    let se = ctx.ev(p.send);
                    let de = ctx.ev(p.delete);
                    json!({
                        "subject": m.subject,
                        "internet_message_id": p.mid,
                        "sent": ts(se.time),
                        "send_operation": ctx.s(se.operation),
                        "deleted": ts(de.time),
                        "seconds_to_delete": se.time.seconds_until(de.time),
                        "recipients": recipients_json(ctx, &rc),
                    })
                })
                .collect();
            let n = msgs.len();
            let rcpts: Vec<&str> = all_rcpts.into_iter().collect();
            let ext = rcpts.iter().filter(|r| ctx.tenant.is_external(r)).count();
            let first_subject = order
                .first()
                .and_then(|k| msgs.get(k))
                .and_then(|m| m.subject)
                .unwrap_or_default();
            let mut f = Finding::new(
                rule,
                account,
                format!(
                    "{account} sent {n} message(s) and purged the sent copy within the hour \
                     (e.g. \"{first_subject}\"; {} recipient(s), {ext} external)",
                    rcpts.len()
                ),
            )
            .with_events(
                msgs.values()
                    .flat_map(|m| m.sends.iter().chain(m.deletes.iter()).copied())
                    .collect::<Vec<_>>(),
            )
            .detail("messages", messages)
            .detail("count", n)
            .detail("recipients", recipients_json(ctx, &rcpts));
            if n >= 2 {
                f = f.severity(Severity::High).detail(
                    "severity_reason",
                    "several sent messages purged within an hour of sending",
                );
            }
            out.push(f);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C2 harddelete-excessive
// ------------------------------------------------------------------------------------------------

const C2_SUBJECTS: usize = 50;
const C2_BYTES: u64 = 10 * 1024 * 1024;

fn harddelete_excessive(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut per_account: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for &i in ctx.op("HardDelete") {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || duplicate(&mut seen, e) {
            continue;
        }
        if e.items()
            .iter()
            .any(|m| is_sent_or_recoverable(m.folder(ctx.interner)))
        {
            per_account.entry(ctx.account(e)).or_default().push(i);
        }
    }
    let keys = |e: &Event| -> (Vec<String>, u64) {
        let mut k = Vec::new();
        let mut size = 0;
        for (n, m) in e.items().iter().enumerate() {
            if !is_sent_or_recoverable(m.folder(ctx.interner)) {
                continue;
            }
            size += u64::from(m.size().unwrap_or(0));
            k.push(
                match (m.subject(ctx.interner), m.internet_message_id(ctx.interner)) {
                    (Some(s), _) => format!("s:{}", subject_key(s)),
                    (None, Some(id)) => format!("m:{}", norm_message_id(id)),
                    _ => format!("r:{}:{n}", e.record_id.text(ctx.interner)),
                },
            );
        }
        (k, size)
    };
    let mut out = Vec::new();
    for (account, idx) in per_account {
        let data: Vec<(i64, Vec<String>, u64)> = idx
            .iter()
            .map(|&i| {
                let e = ctx.ev(i);
                let (k, s) = keys(e);
                (e.time.0, k, s)
            })
            .collect();
        let mut l = 0;
        while l < data.len() {
            let mut r = l;
            let mut subjects: BTreeSet<&str> = BTreeSet::new();
            let mut bytes = 0u64;
            while r < data.len() && data[r].0 - data[l].0 < HOUR_US {
                subjects.extend(data[r].1.iter().map(String::as_str));
                bytes += data[r].2;
                r += 1;
            }
            if subjects.len() > C2_SUBJECTS || bytes > C2_BYTES {
                // Extend the burst while the following hour still qualifies.
                let mut end = r;
                while end < data.len() && data[end].0 - data[end - 1].0 < HOUR_US {
                    subjects.extend(data[end].1.iter().map(String::as_str));
                    bytes += data[end].2;
                    end += 1;
                }
                let evs: Vec<u32> = idx[l..end].to_vec();
                let mut folders: BTreeSet<&str> = BTreeSet::new();
                let mut shown: BTreeSet<&str> = BTreeSet::new();
                for &i in &evs {
                    for m in ctx.ev(i).items() {
                        if let Some(f) = m.folder(ctx.interner) {
                            folders.insert(f);
                        }
                        if let Some(s) = m.subject(ctx.interner) {
                            if shown.len() < LIST_CAP {
                                shown.insert(s);
                            }
                        }
                    }
                }
                let mb = bytes as f64 / (1024.0 * 1024.0);
                out.push(
                    Finding::new(
                        rule,
                        account,
                        format!(
                            "{account} purged {} distinct message(s) ({mb:.1} MB) within an hour",
                            subjects.len()
                        ),
                    )
                    .with_events(capped_events(evs))
                    .detail("distinct_subjects", subjects.len())
                    .detail("bytes", bytes)
                    .detail("folders", folders.into_iter().collect::<Vec<_>>())
                    .detail("subjects", shown.into_iter().collect::<Vec<_>>())
                    .detail("records", end - l),
                );
                l = end;
            } else {
                l += 1;
            }
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C3 receive-then-delete-sensitive
// ------------------------------------------------------------------------------------------------

/// The sensitive kind of a subject: credential (password, OTP, MFA…) or finance (bank,
/// payroll, direct deposit…). Follows Splunk's lists, with word boundaries for short terms.
pub fn sensitive_kind(subject: &str) -> Option<&'static str> {
    let s = subject.to_lowercase();
    let cred = has_word_prefix(&s, "password")
        || has_word_prefix(&s, "passcode")
        || has_word(&s, "otp")
        || has_word(&s, "mfa")
        || has_word(&s, "2fa")
        || s.contains("one-time")
        || s.contains("one time pass")
        || s.contains("one time code")
        || s.contains("verification code")
        || s.contains("security code")
        || s.contains("account recovery");
    if cred {
        return Some("credential");
    }
    let fin = has_word_prefix(&s, "bank")
        || s.contains("direct deposit")
        || s.contains("pay-to")
        || has_word_prefix(&s, "payroll")
        || has_word_prefix(&s, "paycheck")
        || has_word_prefix(&s, "payslip")
        || s.contains("pay slip")
        || has_word(&s, "iban");
    fin.then_some("finance")
}

fn receive_then_delete(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    // Sensitive deliveries by (message id, recipient).
    let mut delivered: HashMap<(String, &str), (Vec<u32>, &str, &'static str)> = HashMap::new();
    for (i, e) in ctx.events.iter().enumerate() {
        if e.source != SourceKind::MessageTrace || e.mailbox.is_empty() {
            continue;
        }
        let Some(item) = e.items().first() else {
            continue;
        };
        let (Some(mid), Some(subject)) = (
            item.internet_message_id(ctx.interner),
            item.subject(ctx.interner),
        ) else {
            continue;
        };
        let Some(kind) = sensitive_kind(subject) else {
            continue;
        };
        let slot = delivered
            .entry((norm_message_id(mid), ctx.s(e.mailbox)))
            .or_insert_with(|| (Vec::new(), subject, kind));
        slot.0.push(i as u32);
    }
    if delivered.is_empty() {
        return Vec::new();
    }
    struct Hit<'a> {
        trace: Vec<u32>,
        delete: u32,
        subject: &'a str,
        kind: &'static str,
        mid: String,
    }
    let mut per_account: BTreeMap<&str, Vec<Hit<'_>>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for d in ctx.ops(&["SoftDelete", "HardDelete"]) {
        let e = ctx.ev(d);
        if !ok(e) || ctx.is_system_actor(e) || duplicate(&mut seen, e) {
            continue;
        }
        let account = ctx.account(e);
        for item in e.items() {
            let Some(mid) = item.internet_message_id(ctx.interner).map(norm_message_id) else {
                continue;
            };
            let Some((tr, subject, kind)) = delivered.get(&(mid.clone(), account)) else {
                continue;
            };
            let received = tr.iter().map(|&i| ctx.ev(i).time).min().unwrap_or_default();
            let dt = received.seconds_until(e.time);
            if (-300..=4 * 3600).contains(&dt) {
                per_account.entry(account).or_default().push(Hit {
                    trace: tr.clone(),
                    delete: d,
                    subject,
                    kind,
                    mid,
                });
            }
        }
    }
    let mut out = Vec::new();
    for (account, hits) in per_account {
        for group in clusters(hits, |h| ctx.ev(h.delete).time.0, 24 * HOUR_US) {
            let kinds: BTreeSet<&str> = group.iter().map(|h| h.kind).collect();
            let items: Vec<Value> = group
                .iter()
                .take(LIST_CAP)
                .map(|h| {
                    let de = ctx.ev(h.delete);
                    let rec = h
                        .trace
                        .iter()
                        .map(|&i| ctx.ev(i))
                        .min_by_key(|e| e.time_key());
                    json!({
                        "subject": h.subject,
                        "kind": h.kind,
                        "internet_message_id": h.mid,
                        "sender": rec.map(|e| ctx.s(e.actor_key)),
                        "received": rec.map(|e| ts(e.time)),
                        "deleted": ts(de.time),
                        "delete_operation": ctx.s(de.operation),
                    })
                })
                .collect();
            let mut f = Finding::new(
                rule,
                account,
                format!(
                    "{} sensitive message(s) ({}) delivered to {account} were deleted within 4 h, e.g. \"{}\"",
                    group.len(),
                    kinds.iter().cloned().collect::<Vec<_>>().join(" and "),
                    group.first().map_or("", |h| h.subject)
                ),
            )
            .with_events(
                group
                    .iter()
                    .flat_map(|h| h.trace.iter().copied().chain([h.delete]))
                    .collect::<Vec<_>>(),
            )
            .detail("messages", items)
            .detail("kinds", kinds.iter().cloned().collect::<Vec<_>>())
            .detail("count", group.len());
            if kinds.len() > 1 {
                f = f.severity(Severity::Critical).detail(
                    "severity_reason",
                    "both credential (password/OTP/MFA) and finance (bank/payroll) mail deleted",
                );
            }
            out.push(f);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C4 rule-send-archive-move
// ------------------------------------------------------------------------------------------------

fn rule_send_archive_move(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let rules: Vec<u32> = ctx
        .op("New-InboxRule")
        .iter()
        .copied()
        .filter(|&i| ok(ctx.ev(i)))
        .collect();
    let moves = ctx.op("Move");
    if rules.is_empty() || moves.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in ctx.ops(SEND_OPS) {
        let se = ctx.ev(s);
        if !ok(se) {
            continue;
        }
        let account = ctx.account(se);
        let (mid, subject) = sent_message(ctx, se);
        let Some(subject) = subject else { continue };
        let key = subject_key(subject);
        let near_rules: Vec<u32> = rules
            .iter()
            .copied()
            .filter(|&r| {
                let re = ctx.ev(r);
                ctx.account(re) == account && (re.time.0 - se.time.0).abs() <= 12 * MIN_US
            })
            .collect();
        if near_rules.is_empty() {
            continue;
        }
        let mv: Vec<u32> = moves
            .iter()
            .copied()
            .filter(|&m| {
                let me = ctx.ev(m);
                let dt = me.time.0 - se.time.0;
                ok(me)
                    && ctx.account(me) == account
                    && (0..=12 * MIN_US).contains(&dt)
                    && me
                        .details
                        .as_ref()
                        .and_then(|d| d.dest_folder(ctx.interner))
                        .is_some_and(|f| f.to_ascii_lowercase().contains("archive"))
                    && me.items().iter().any(|it: &MailItem| {
                        it.folder(ctx.interner)
                            .is_some_and(|f| f.to_ascii_lowercase().contains("sent"))
                            && it.subject(ctx.interner).map(subject_key).as_deref()
                                == Some(key.as_str())
                    })
            })
            .collect();
        if mv.is_empty() {
            continue;
        }
        let rule_names: Vec<&str> = near_rules
            .iter()
            .map(|&r| ctx.s(ctx.ev(r).object))
            .collect();
        let rc = mid.map(|m| recipients_of(ctx, m)).unwrap_or_default();
        out.push(
            Finding::new(
                rule,
                account,
                format!(
                    "{account} created inbox rule(s) {:?} around sending \"{subject}\", then moved the sent copy to Archive",
                    rule_names
                ),
            )
            .with_events(near_rules.iter().copied().chain([s]).chain(mv.iter().copied()))
            .detail("subject", subject)
            .detail("internet_message_id", mid)
            .detail("rules", rule_names)
            .detail("recipients", recipients_json(ctx, &rc)),
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C5 outbound-spam-restricted (offline analog)
// ------------------------------------------------------------------------------------------------

/// Absolute floors for one hour of one sender.
const C5_RECIPIENTS: usize = 50;
const C5_EXT_DOMAINS: usize = 10;
const C5_MESSAGES: usize = 50;
/// "Far above the own baseline": this many times the sender's usual busy hour…
const C5_BASELINE_FACTOR: usize = 10;
/// …and at least this many recipients.
const C5_BASELINE_MIN: usize = 20;
/// Hours of own history needed before the baseline is trusted.
const C5_BASELINE_HOURS: usize = 5;

/// One message sent by an account.
struct Sent<'a> {
    time: i64,
    events: Vec<u32>,
    recipients: BTreeSet<&'a str>,
    subject: Option<&'a str>,
}

/// A burst of outgoing mail from one account (C5; reused by C7).
#[derive(Debug, Clone)]
pub struct SendBurst {
    /// The sending account (lower-case).
    pub account: String,
    /// First message of the burst.
    pub start: Timestamp,
    /// Last message of the burst.
    pub end: Timestamp,
    /// Peak one-hour distinct recipients.
    pub peak_recipients: usize,
    /// Peak one-hour distinct external domains.
    pub peak_external_domains: usize,
    /// Peak one-hour messages.
    pub peak_messages: usize,
    /// The sender's usual busy hour (90th percentile of other active hours), when known.
    pub baseline_recipients: Option<usize>,
    /// Why it was flagged.
    pub reason: String,
    /// Evidence (UAL sends and trace rows).
    pub events: Vec<u32>,
    messages: Vec<usize>,
}

/// Messages per sending account: UAL sends (recipients from the trace) plus trace-only
/// messages from internal senders.
fn sent_by_account<'a>(ctx: &Ctx<'a>) -> BTreeMap<&'a str, Vec<Sent<'a>>> {
    let mut by_mid: HashMap<String, (&'a str, Sent<'a>)> = HashMap::new();
    let mut no_mid: Vec<(&'a str, Sent<'a>)> = Vec::new();
    // UAL sends first: they name the mailbox.
    for i in ctx.ops(SEND_OPS) {
        let e = ctx.ev(i);
        if !ok(e) {
            continue;
        }
        let account = ctx.account(e);
        let (mid, subject) = sent_message(ctx, e);
        let s = Sent {
            time: e.time.0,
            events: vec![i],
            recipients: BTreeSet::new(),
            subject,
        };
        match mid.map(norm_message_id).filter(|m| !m.is_empty()) {
            Some(m) => {
                by_mid
                    .entry(m)
                    .and_modify(|(_, x)| x.events.push(i))
                    .or_insert((account, s));
            }
            None => no_mid.push((account, s)),
        }
    }
    for (i, e) in ctx.events.iter().enumerate() {
        if e.source != SourceKind::MessageTrace || e.mailbox.is_empty() {
            continue;
        }
        let sender = ctx.s(e.actor_key);
        let item = e.items().first();
        let mid = item
            .and_then(|m| m.internet_message_id(ctx.interner))
            .map(norm_message_id)
            .filter(|m| !m.is_empty());
        let rcpt = ctx.s(e.mailbox);
        match mid {
            Some(m) => {
                if let Some((_, s)) = by_mid.get_mut(&m) {
                    s.recipients.insert(rcpt);
                    s.events.push(i as u32);
                    continue;
                }
                if sender.is_empty() || ctx.tenant.is_external(sender) || !sender.contains('@') {
                    continue;
                }
                let s = Sent {
                    time: e.time.0,
                    events: vec![i as u32],
                    recipients: [rcpt].into_iter().collect(),
                    subject: item.and_then(|m| m.subject(ctx.interner)),
                };
                by_mid.insert(m, (sender, s));
            }
            None => {
                if sender.is_empty() || ctx.tenant.is_external(sender) || !sender.contains('@') {
                    continue;
                }
                no_mid.push((
                    sender,
                    Sent {
                        time: e.time.0,
                        events: vec![i as u32],
                        recipients: [rcpt].into_iter().collect(),
                        subject: item.and_then(|m| m.subject(ctx.interner)),
                    },
                ));
            }
        }
    }
    let mut out: BTreeMap<&'a str, Vec<Sent<'a>>> = BTreeMap::new();
    for (account, s) in by_mid.into_values().chain(no_mid) {
        out.entry(account).or_default().push(s);
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| (a.time, a.events.first()).cmp(&(b.time, b.events.first())));
    }
    out
}

fn ext_domain<'a>(ctx: &Ctx<'_>, r: &'a str) -> Option<&'a str> {
    if ctx.tenant.is_external(r) {
        domain_of(r)
    } else {
        None
    }
}

fn percentile90(mut v: Vec<usize>) -> usize {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let k = ((v.len() as f64) * 0.9).ceil() as usize;
    v[k.saturating_sub(1).min(v.len() - 1)]
}

/// The send bursts of every account (see the module docs for the thresholds).
pub fn send_bursts<'c>(ctx: &'c Ctx<'_>) -> &'c [SendBurst] {
    ctx.send_bursts(|| bursts_in(ctx, &sent_by_account(ctx)))
}

/// The send bursts in `sent`, for a rule that needs the messages too: the per-message table
/// is the largest thing these rules build (tens of MB on a large export), so it is built once
/// per rule, not once more inside.
fn bursts_in<'a>(ctx: &Ctx<'a>, sent: &BTreeMap<&'a str, Vec<Sent<'a>>>) -> Vec<SendBurst> {
    let mut out = Vec::new();
    for (&account, msgs) in sent {
        // Cheap pre-check: no window can reach a floor or the baseline minimum.
        let all: BTreeSet<&str> = msgs
            .iter()
            .flat_map(|m| m.recipients.iter().copied())
            .collect();
        if msgs.len() < C5_MESSAGES && all.len() < C5_EXT_DOMAINS.min(C5_BASELINE_MIN) {
            continue;
        }
        // Sliding one-hour windows with counting maps.
        let n = msgs.len();
        let mut rc: HashMap<&str, usize> = HashMap::new();
        let mut dc: HashMap<&str, usize> = HashMap::new();
        let mut r = 0;
        // (l, r, recipients, domains, messages) per window start.
        let mut windows: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(n);
        for l in 0..n {
            while r < n && msgs[r].time - msgs[l].time < HOUR_US {
                for &x in &msgs[r].recipients {
                    *rc.entry(x).or_default() += 1;
                    if let Some(d) = ext_domain(ctx, x) {
                        *dc.entry(d).or_default() += 1;
                    }
                }
                r += 1;
            }
            windows.push((r, rc.len(), dc.len(), r - l));
            for &x in &msgs[l].recipients {
                if let Some(c) = rc.get_mut(x) {
                    *c -= 1;
                    if *c == 0 {
                        rc.remove(x);
                    }
                }
                if let Some(d) = ext_domain(ctx, x) {
                    if let Some(c) = dc.get_mut(d) {
                        *c -= 1;
                        if *c == 0 {
                            dc.remove(d);
                        }
                    }
                }
            }
        }
        // Aligned hourly recipient counts, for the baseline.
        let mut hourly: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        for m in msgs {
            hourly
                .entry(m.time.div_euclid(HOUR_US))
                .or_default()
                .extend(m.recipients.iter().copied());
        }
        let flagged = |(_, rcp, dom, cnt): (usize, usize, usize, usize), base: Option<usize>| {
            let floor = rcp >= C5_RECIPIENTS || dom >= C5_EXT_DOMAINS || cnt >= C5_MESSAGES;
            let above = base
                .is_some_and(|b| rcp >= C5_BASELINE_MIN && rcp >= C5_BASELINE_FACTOR * b.max(1));
            (floor, above)
        };
        let mut l = 0;
        while l < n {
            let w = windows[l];
            let hour_l = msgs[l].time.div_euclid(HOUR_US);
            // Baseline from hours outside [this window ± 1 h].
            let others: Vec<usize> = hourly
                .iter()
                .filter(|(h, _)| (**h - hour_l).abs() > 1)
                .map(|(_, s)| s.len())
                .collect();
            let base = (others.len() >= C5_BASELINE_HOURS).then(|| percentile90(others));
            let (floor, above) = flagged(w, base);
            if !(floor || above) {
                l += 1;
                continue;
            }
            // Merge following windows that also qualify and overlap.
            let mut end = w.0;
            let (mut pr, mut pd, mut pm) = (w.1, w.2, w.3);
            let mut k = l + 1;
            while k < n && k < end {
                let wk = windows[k];
                let (f2, a2) = flagged(wk, base);
                if f2 || a2 {
                    end = end.max(wk.0);
                    pr = pr.max(wk.1);
                    pd = pd.max(wk.2);
                    pm = pm.max(wk.3);
                }
                k += 1;
            }
            let mut reasons = Vec::new();
            if pr >= C5_RECIPIENTS {
                reasons.push(format!(
                    "{pr} distinct recipients in one hour (floor {C5_RECIPIENTS})"
                ));
            }
            if pd >= C5_EXT_DOMAINS {
                reasons.push(format!(
                    "{pd} distinct external domains in one hour (floor {C5_EXT_DOMAINS})"
                ));
            }
            if pm >= C5_MESSAGES {
                reasons.push(format!("{pm} messages in one hour (floor {C5_MESSAGES})"));
            }
            if let Some(b) = base {
                if pr >= C5_BASELINE_MIN && pr >= C5_BASELINE_FACTOR * b.max(1) {
                    reasons.push(format!(
                        "{pr} recipients in one hour against a usual busy hour of {b}"
                    ));
                }
            }
            let events: Vec<u32> = msgs[l..end]
                .iter()
                .flat_map(|m| m.events.iter().copied())
                .collect();
            out.push(SendBurst {
                account: account.to_string(),
                start: Timestamp(msgs[l].time),
                end: Timestamp(msgs[end - 1].time),
                peak_recipients: pr,
                peak_external_domains: pd,
                peak_messages: pm,
                baseline_recipients: base,
                reason: reasons.join("; "),
                events: capped_events(events),
                messages: (l..end).collect(),
            });
            l = end;
        }
    }
    out
}

fn outbound_burst(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let sent = sent_by_account(ctx);
    // Shared with C7 (`ndr_oof_cleanup`): `sent_by_account` is a function of the events
    // alone, so bursts found from another call's table index this one's the same way.
    let bursts = ctx.send_bursts(|| bursts_in(ctx, &sent));
    if bursts.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for b in bursts {
        let Some(msgs) = sent.get(b.account.as_str()) else {
            continue;
        };
        let mut rcpts: BTreeSet<&str> = BTreeSet::new();
        let mut subjects: BTreeMap<&str, usize> = BTreeMap::new();
        for &k in &b.messages {
            if let Some(m) = msgs.get(k) {
                rcpts.extend(m.recipients.iter().copied());
                if let Some(s) = m.subject {
                    *subjects.entry(s).or_default() += 1;
                }
            }
        }
        let mut top: Vec<(&str, usize)> = subjects.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top.truncate(10);
        let rv: Vec<&str> = rcpts.iter().copied().collect();
        let ext: BTreeSet<&str> = rv.iter().filter_map(|r| ext_domain(ctx, r)).collect();
        let (int_list, ext_list): (Vec<&str>, Vec<&str>) = {
            let (e, i): (Vec<&str>, Vec<&str>) = rv.iter().partition(|r| ctx.tenant.is_external(r));
            (
                i.into_iter().take(LIST_CAP).collect(),
                e.into_iter().take(LIST_CAP).collect(),
            )
        };
        let strong = (b.peak_recipients >= 2 * C5_RECIPIENTS
            || b.peak_external_domains >= 2 * C5_EXT_DOMAINS
            || b.peak_messages >= 2 * C5_MESSAGES)
            && b.baseline_recipients
                .is_none_or(|x| b.peak_recipients >= C5_BASELINE_FACTOR * x.max(1));
        let mut f = Finding::new(
            rule,
            &b.account,
            format!(
                "{} sent {} message(s) to {} recipient(s) ({} external domain(s)) between {} and {}",
                b.account,
                b.messages.len(),
                rcpts.len(),
                ext.len(),
                ts(b.start),
                ts(b.end)
            ),
        )
        .with_events(b.events.clone())
        .detail("messages", b.messages.len())
        .detail("recipient_count", rcpts.len())
        .detail("recipients", json!({"internal": int_list, "external": ext_list}))
        .detail("external_domains", ext.iter().cloned().collect::<Vec<_>>())
        .detail("peak_hour_recipients", b.peak_recipients)
        .detail("peak_hour_external_domains", b.peak_external_domains)
        .detail("peak_hour_messages", b.peak_messages)
        .detail("baseline_busy_hour_recipients", b.baseline_recipients)
        .detail(
            "top_subjects",
            top.iter()
                .map(|(s, c)| json!({"subject": s, "count": c}))
                .collect::<Vec<_>>(),
        )
        .detail("reason", b.reason.clone());
        if strong {
            f = f.severity(Severity::High).detail(
                "severity_reason",
                "twice the absolute floor and far above the sender's own baseline",
            );
        }
        out.push(f);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C6 send-attachments-external-volume
// ------------------------------------------------------------------------------------------------

const C6_ATTACHMENTS: usize = 25;

/// Attachment names of a send (`"a.pdf (599b); b.xlsx (614b)"`), images excluded.
fn attachment_names<'a>(ctx: &Ctx<'a>, e: &Event) -> Vec<&'a str> {
    let mut out = Vec::new();
    for p in e.props() {
        if p.bag != Bag::Field || !ctx.s(p.name).eq_ignore_ascii_case("Attachments") {
            continue;
        }
        for part in ctx.s(p.value).split(';') {
            let part = part.trim();
            let name = match part.rfind(" (") {
                Some(k) if part.ends_with(')') => part[..k].trim(),
                _ => part,
            };
            let lower = name.to_ascii_lowercase();
            if name.is_empty()
                || [".jpg", ".jpeg", ".png", ".gif"]
                    .iter()
                    .any(|x| lower.ends_with(x))
            {
                continue;
            }
            out.push(name);
        }
    }
    out
}

fn attachments_external(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let trace = ctx.trace();
    type Row<'a> = (u32, Vec<&'a str>, Vec<&'a str>);
    let mut per_account: BTreeMap<&str, Vec<Row<'_>>> = BTreeMap::new();
    for i in ctx.ops(SEND_OPS) {
        let e = ctx.ev(i);
        if !ok(e) {
            continue;
        }
        let names = attachment_names(ctx, e);
        if names.is_empty() {
            continue;
        }
        let (mid, _) = sent_message(ctx, e);
        let rc = mid.map(|m| trace.recipients(ctx, m)).unwrap_or_default();
        let ext: Vec<&str> = rc
            .into_iter()
            .filter(|r| ctx.tenant.is_external(r))
            .collect();
        if ext.is_empty() {
            continue;
        }
        per_account
            .entry(ctx.account(e))
            .or_default()
            .push((i, names, ext));
    }
    let mut out = Vec::new();
    for (account, rows) in per_account {
        let mut l = 0;
        while l < rows.len() {
            let t0 = ctx.ev(rows[l].0).time.0;
            let mut r = l;
            let mut names: BTreeSet<&str> = BTreeSet::new();
            while r < rows.len() && ctx.ev(rows[r].0).time.0 - t0 < HOUR_US {
                names.extend(rows[r].1.iter().copied());
                r += 1;
            }
            if names.len() > C6_ATTACHMENTS {
                let ext: BTreeSet<&str> = rows[l..r]
                    .iter()
                    .flat_map(|x| x.2.iter().copied())
                    .collect();
                out.push(
                    Finding::new(
                        rule,
                        account,
                        format!(
                            "{account} sent {} distinct attachments to {} external recipient(s) within an hour",
                            names.len(),
                            ext.len()
                        ),
                    )
                    .with_events(rows[l..r].iter().map(|x| x.0))
                    .detail("attachments", names.iter().take(LIST_CAP).cloned().collect::<Vec<_>>())
                    .detail("attachment_count", names.len())
                    .detail("external_recipients", ext.into_iter().collect::<Vec<_>>())
                    .detail("messages", r - l),
                );
                l = r;
            } else {
                l += 1;
            }
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// C7 ndr-oof-cleanup
// ------------------------------------------------------------------------------------------------

/// True for bounce / out-of-office subjects.
pub fn is_ndr_oof_subject(subject: &str) -> bool {
    let s = subject.trim().to_lowercase();
    [
        "undeliverable",
        "delivery has failed",
        "delivery status notification",
        "mail delivery failed",
        "mail delivery failure",
        "returned mail",
        "automatic reply",
        "auto reply",
        "autoreply",
        "auto-reply",
        "out of office",
        "out-of-office",
    ]
    .iter()
    .any(|p| s.contains(p))
}

const C7_DELETES: usize = 10;

fn ndr_oof_cleanup(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let bursts = send_bursts(ctx);
    let burst_before = |account: &str, t: i64| -> Option<&SendBurst> {
        bursts
            .iter()
            .filter(|b| b.account == account && b.start.0 <= t && t - b.end.0 <= 24 * HOUR_US)
            .max_by_key(|b| b.end)
    };
    let mut out = Vec::new();

    // Deletions of bounces / auto-replies.
    let mut per_account: BTreeMap<&str, Vec<(u32, &str)>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for i in ctx.ops(&["SoftDelete", "HardDelete", "MoveToDeletedItems"]) {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || duplicate(&mut seen, e) {
            continue;
        }
        for m in e.items() {
            if let Some(s) = m.subject(ctx.interner).filter(|s| is_ndr_oof_subject(s)) {
                per_account.entry(ctx.account(e)).or_default().push((i, s));
            }
        }
    }
    for (account, hits) in per_account {
        let mut l = 0;
        while l < hits.len() {
            let t0 = ctx.ev(hits[l].0).time.0;
            let mut r = l;
            while r < hits.len() && ctx.ev(hits[r].0).time.0 - t0 < HOUR_US {
                r += 1;
            }
            let burst = burst_before(account, t0);
            let enough = r - l >= C7_DELETES || (burst.is_some() && r - l >= 3);
            if !enough {
                l += 1;
                continue;
            }
            let subjects: BTreeSet<&str> = hits[l..r].iter().map(|h| h.1).collect();
            let mut f = Finding::new(
                rule,
                account,
                format!(
                    "{} bounce/auto-reply message(s) deleted from {account} within an hour",
                    r - l
                ),
            )
            .with_events(hits[l..r].iter().map(|h| h.0))
            .detail("deleted_items", r - l)
            .detail(
                "subjects",
                subjects.into_iter().take(LIST_CAP).collect::<Vec<_>>(),
            );
            if let Some(b) = burst {
                f = f
                    .with_events(b.events.iter().copied().take(50))
                    .severity(Severity::High)
                    .detail(
                        "send_burst",
                        json!({"start": ts(b.start), "end": ts(b.end), "reason": b.reason}),
                    )
                    .detail(
                        "severity_reason",
                        "follows a burst of outgoing mail from the same mailbox",
                    );
            }
            out.push(f);
            l = r;
        }
    }

    // Inbox rules that hide bounces / auto-replies.
    for i in ctx.ops(&["New-InboxRule", "Set-InboxRule"]) {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) {
            continue;
        }
        let words: Vec<&str> = [
            "SubjectContainsWords",
            "SubjectOrBodyContainsWords",
            "BodyContainsWords",
        ]
        .iter()
        .filter_map(|p| ctx.param(e, p))
        .filter(|v| is_ndr_oof_subject(v))
        .collect();
        if words.is_empty() {
            continue;
        }
        let hides = [
            "DeleteMessage",
            "SoftDeleteMessage",
            "MoveToFolder",
            "MarkAsRead",
        ]
        .iter()
        .any(|p| {
            ctx.param(e, p)
                .is_some_and(|v| !v.trim().is_empty() && !v.eq_ignore_ascii_case("false"))
        });
        if !hides {
            continue;
        }
        let account = ctx.account(e);
        let name = ctx.s(e.object);
        let mut f = Finding::new(
            rule,
            account,
            format!(
                "inbox rule \"{name}\" on {account} hides bounces/auto-replies ({})",
                words.join("; ")
            ),
        )
        .with_events([i])
        .detail("rule_name", name)
        .detail("words", words.clone());
        if let Some(b) = burst_before(account, e.time.0 + 24 * HOUR_US) {
            f = f
                .with_events(b.events.iter().copied().take(50))
                .severity(Severity::High)
                .detail(
                    "send_burst",
                    json!({"start": ts(b.start), "end": ts(b.end), "reason": b.reason}),
                )
                .detail(
                    "severity_reason",
                    "within a day of a burst of outgoing mail from the same mailbox",
                );
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::Kit;

    fn rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).expect("rule")
    }

    fn send(id: &str, time: &str, mailbox: &str, subject: &str, mid: &str) -> String {
        format!(
            r#"{{"Id":"{id}","CreationTime":"{time}","Operation":"Send","RecordType":2,"ResultStatus":"Succeeded",
            "UserId":"{mailbox}","MailboxOwnerUPN":"{mailbox}","ClientIP":"203.0.113.9","Workload":"Exchange",
            "Item":{{"Id":"x","InternetMessageId":"{mid}","Subject":"{subject}","ParentFolder":{{"Path":"\\Sent Items"}}}}}}"#
        )
    }

    /// JSON-escapes backslashes of a folder path.
    fn esc(s: &str) -> String {
        s.replace('\\', "\\\\")
    }

    fn delete(
        op: &str,
        id: &str,
        time: &str,
        mailbox: &str,
        folder: &str,
        items: &[(&str, &str)],
    ) -> String {
        let folder = esc(folder);
        let folder = folder.as_str();
        let items: Vec<String> = items
            .iter()
            .map(|(s, m)| {
                format!(
                    r#"{{"Id":"i","InternetMessageId":"{m}","Subject":"{s}","ParentFolder":{{"Path":"{folder}"}}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"Id":"{id}","CreationTime":"{time}","Operation":"{op}","RecordType":3,"ResultStatus":"Succeeded",
            "UserId":"{mailbox}","MailboxOwnerUPN":"{mailbox}","ClientIP":"203.0.113.9","Workload":"Exchange",
            "Folder":{{"Path":"{folder}"}},"AffectedItems":[{}]}}"#,
            items.join(",")
        )
    }

    fn trace(time: &str, sender: &str, rcpt: &str, subject: &str, mid: &str) -> String {
        format!(
            r#"{{"Received":"{time}","SenderAddress":"{sender}","RecipientAddress":"{rcpt}","Subject":"{subject}",
            "Status":"Delivered","MessageId":"{mid}","MessageTraceId":"t-{mid}-{rcpt}","Size":1000}}"#
        )
    }

    #[test]
    fn message_ids_normalise_and_join() {
        assert_eq!(norm_message_id(" <AbC@X.example> "), "abc@x.example");
        let mut k = Kit::new();
        k.ual(&send(
            "s1",
            "2024-03-01T10:00:00",
            "a@corp.example",
            "Hi",
            "<M1@corp.example>",
        ))
        .trace(&trace(
            "2024-03-01T10:00:05",
            "a@corp.example",
            "B@corp.example",
            "Hi",
            "m1@CORP.example",
        ))
        .trace(&trace(
            "2024-03-01T10:00:05",
            "a@corp.example",
            "x@evil.example",
            "Hi",
            "<m1@corp.example>",
        ));
        let events = k.events.clone();
        let tenant = crate::analyze::Tenant::with_domains(["corp.example"]);
        let agg = crate::frame::Aggregates::default();
        let ctx = Ctx::new(&k.interner, &events, &[], &tenant, &agg);
        assert_eq!(
            recipients_of(&ctx, "<m1@corp.example>"),
            ["b@corp.example", "x@evil.example"]
        );
        let idx = TraceIndex::new(&ctx);
        assert_eq!(idx.recipients(&ctx, "M1@corp.example").len(), 2);
        assert_eq!(idx.subject(&ctx, "m1@corp.example"), Some("Hi"));
        let j = recipients_json(&ctx, &recipients_of(&ctx, "m1@corp.example"));
        assert_eq!(j["external"], json!(["x@evil.example"]));
        assert!(recipients_of(&ctx, "").is_empty());

        // A PowerShell 5.1 copy with `?` for non-ASCII loses to the intact spelling.
        let mut k = Kit::new();
        k.trace(&trace(
            "2024-03-01T10:00:05",
            "a@corp.example",
            "b@corp.example",
            "Invoice ? March",
            "<m2@x>",
        ))
        .trace(&trace(
            "2024-03-01T10:00:05",
            "a@corp.example",
            "c@corp.example",
            "Invoice – March",
            "<m2@x>",
        ));
        let events = k.events.clone();
        let ctx = Ctx::new(&k.interner, &events, &[], &tenant, &agg);
        assert_eq!(
            TraceIndex::new(&ctx).subject(&ctx, "<m2@x>"),
            Some("Invoice – March")
        );
    }

    #[test]
    fn trace_index_joins_long_ids_across_case_and_keeps_messages_apart() {
        let long = format!("{}@corp.example", "Ab".repeat(80));
        assert_eq!(
            message_id_hash(&format!(" <{}> ", long.to_uppercase())),
            message_id_hash(&long.to_lowercase())
        );
        let mut k = Kit::new();
        for (to, mid) in [
            ("b@corp.example", format!("<{long}>")),
            ("c@corp.example", long.to_uppercase()),
            ("d@corp.example", format!("<{long}x>")),
            ("e@corp.example", "<>".to_string()),
        ] {
            k.trace(&trace(
                "2024-03-01T10:00:05",
                "a@corp.example",
                to,
                "Hi",
                &mid,
            ));
        }
        let events = k.events.clone();
        let tenant = crate::analyze::Tenant::with_domains(["corp.example"]);
        let agg = crate::frame::Aggregates::default();
        let ctx = Ctx::new(&k.interner, &events, &[], &tenant, &agg);
        assert_eq!(
            ctx.trace().recipients(&ctx, &long.to_lowercase()),
            ["b@corp.example", "c@corp.example"]
        );
        assert_eq!(recipients_of(&ctx, &format!("{long}X")), ["d@corp.example"]);
        // An empty ID joins nothing, and is not indexed.
        assert!(recipients_of(&ctx, "<>").is_empty());
        assert_eq!(ctx.trace().keyed.len(), 3);
    }

    #[test]
    fn b6_mfa_notification_deleted() {
        assert!(is_mfa_security_subject("New MFA method registered"));
        assert!(is_mfa_security_subject(
            "Security info was added to your account"
        ));
        assert!(is_mfa_security_subject("Your 2FA settings"));
        assert!(is_mfa_security_subject(
            "Microsoft Authenticator was set up"
        ));
        assert!(!is_mfa_security_subject("Unusual sign-in activity"));
        assert!(!is_mfa_security_subject(
            "Security alert: new sign-in from Chrome"
        ));
        assert!(!is_mfa_security_subject("Lunch on Friday"));

        let mut k = Kit::new();
        k.ual(&delete(
            "HardDelete",
            "d1",
            "2024-03-01T10:00:00",
            "amelia@corp.example",
            "\\Inbox",
            &[(
                "Security info was added to your account",
                "<n1@microsoft.example>",
            )],
        ));
        let f = k.run(rule("mfa-security-notification-deleted"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "amelia@corp.example");
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].details["count"], json!(1));
        assert!(!f[0].evidence.is_empty());

        let mut k = Kit::new();
        k.ual(&delete(
            "MoveToDeletedItems",
            "d1",
            "2024-03-01T10:00:00",
            "amelia@corp.example",
            "\\Inbox",
            &[
                ("Unusual sign-in activity", "<n1@x>"),
                ("Newsletter", "<n2@x>"),
            ],
        ));
        assert!(k
            .run(rule("mfa-security-notification-deleted"), &[])
            .is_empty());
    }

    #[test]
    fn c1_send_then_harddelete() {
        let mut k = Kit::new();
        k.ual(&send(
            "s1",
            "2024-03-01T10:21:44",
            "amelia@corp.example",
            "RE: Invoice 7 – updated bank details",
            "<f1@corp.example>",
        ))
        .ual(&send(
            "s2",
            "2024-03-01T10:30:18",
            "amelia@corp.example",
            "Shared a file",
            "<f2@corp.example>",
        ))
        .trace(&trace(
            "2024-03-01T10:21:46",
            "amelia@corp.example",
            "ap@supplier.example",
            "RE: Invoice 7 – updated bank details",
            "<f1@corp.example>",
        ))
        .trace(&trace(
            "2024-03-01T10:30:20",
            "amelia@corp.example",
            "sophie@corp.example",
            "Shared a file",
            "<f2@corp.example>",
        ))
        .ual(&delete(
            "HardDelete",
            "d1",
            "2024-03-01T10:40:29",
            "amelia@corp.example",
            "\\Sent Items",
            &[
                ("RE: Invoice 7 – updated bank details", "<f1@corp.example>"),
                ("Shared a file", "<f2@corp.example>"),
            ],
        ));
        let f = k.run(rule("send-then-harddelete"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "amelia@corp.example");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["count"], json!(2));
        assert_eq!(
            f[0].details["recipients"]["external"],
            json!(["ap@supplier.example"])
        );
        assert_eq!(
            f[0].details["recipients"]["internal"],
            json!(["sophie@corp.example"])
        );
        assert_eq!(f[0].evidence.len(), 3);

        // Near miss: the purge comes two hours later.
        let mut k = Kit::new();
        k.ual(&send(
            "s1",
            "2024-03-01T10:21:44",
            "amelia@corp.example",
            "Hello",
            "<f1@corp.example>",
        ))
        .ual(&delete(
            "HardDelete",
            "d1",
            "2024-03-01T12:40:29",
            "amelia@corp.example",
            "\\Sent Items",
            &[("Hello", "<f1@corp.example>")],
        ));
        assert!(k.run(rule("send-then-harddelete"), &[]).is_empty());
    }

    #[test]
    fn c2_harddelete_excessive() {
        let mut k = Kit::new();
        for n in 0..3 {
            let items: Vec<(String, String)> = (0..20)
                .map(|j| (format!("Subject {n}-{j}"), format!("<m{n}-{j}@x>")))
                .collect();
            let refs: Vec<(&str, &str)> = items
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            k.ual(&delete(
                "HardDelete",
                &format!("d{n}"),
                &format!("2024-03-01T10:{:02}:00", n * 10),
                "amelia@corp.example",
                "\\Recoverable Items\\Deletions",
                &refs,
            ));
        }
        let f = k.run(rule("harddelete-excessive"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].details["distinct_subjects"], json!(60));
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].evidence.len(), 3);

        // Near miss: 40 subjects in the hour.
        let mut k = Kit::new();
        for n in 0..2 {
            let items: Vec<(String, String)> = (0..20)
                .map(|j| (format!("Subject {n}-{j}"), format!("<m{n}-{j}@x>")))
                .collect();
            let refs: Vec<(&str, &str)> = items
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            k.ual(&delete(
                "HardDelete",
                &format!("d{n}"),
                &format!("2024-03-01T10:{:02}:00", n * 10),
                "amelia@corp.example",
                "\\Sent Items",
                &refs,
            ));
        }
        assert!(k.run(rule("harddelete-excessive"), &[]).is_empty());
    }

    #[test]
    fn c3_receive_then_delete_sensitive() {
        assert_eq!(
            sensitive_kind("Your password reset code"),
            Some("credential")
        );
        assert_eq!(sensitive_kind("Your OTP is 1234"), Some("credential"));
        assert_eq!(
            sensitive_kind("Direct deposit change confirmation"),
            Some("finance")
        );
        assert_eq!(sensitive_kind("Updated bank details"), Some("finance"));
        assert_eq!(sensitive_kind("Hotpot on Friday"), None);
        assert_eq!(sensitive_kind("Embankment walk"), None);

        let mut k = Kit::new();
        k.trace(&trace(
            "2024-03-01T10:00:00",
            "noreply@bank.example",
            "amelia@corp.example",
            "Your password reset code",
            "<p1@bank.example>",
        ))
        .trace(&trace(
            "2024-03-01T10:05:00",
            "hr@payroll.example",
            "amelia@corp.example",
            "Direct deposit change confirmation",
            "<p2@payroll.example>",
        ))
        .ual(&delete(
            "SoftDelete",
            "d1",
            "2024-03-01T10:02:00",
            "amelia@corp.example",
            "\\Inbox",
            &[("Your password reset code", "<p1@bank.example>")],
        ))
        .ual(&delete(
            "HardDelete",
            "d2",
            "2024-03-01T10:07:00",
            "amelia@corp.example",
            "\\Inbox",
            &[("Direct deposit change confirmation", "<P2@payroll.example>")],
        ));
        let f = k.run(rule("receive-then-delete-sensitive"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "amelia@corp.example");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].details["kinds"], json!(["credential", "finance"]));
        assert_eq!(f[0].evidence.len(), 4);

        // Only one kind: medium. Deleted after 5 h: nothing.
        let mut k = Kit::new();
        k.trace(&trace(
            "2024-03-01T10:00:00",
            "noreply@bank.example",
            "amelia@corp.example",
            "Your password reset code",
            "<p1@bank.example>",
        ))
        .ual(&delete(
            "SoftDelete",
            "d1",
            "2024-03-01T10:02:00",
            "amelia@corp.example",
            "\\Inbox",
            &[("Your password reset code", "<p1@bank.example>")],
        ));
        let f = k.run(rule("receive-then-delete-sensitive"), &[]);
        assert_eq!(f[0].severity, Severity::Medium);
        let mut k = Kit::new();
        k.trace(&trace(
            "2024-03-01T10:00:00",
            "noreply@bank.example",
            "amelia@corp.example",
            "Your password reset code",
            "<p1@bank.example>",
        ))
        .ual(&delete(
            "SoftDelete",
            "d1",
            "2024-03-01T15:02:00",
            "amelia@corp.example",
            "\\Inbox",
            &[("Your password reset code", "<p1@bank.example>")],
        ));
        assert!(k.run(rule("receive-then-delete-sensitive"), &[]).is_empty());
    }

    #[test]
    fn c4_rule_send_archive_move() {
        let rule_rec = r#"{"Id":"r1","CreationTime":"2024-03-01T10:00:00","Operation":"New-InboxRule","RecordType":1,"ResultStatus":"True",
            "UserId":"amelia@corp.example","Parameters":[{"Name":"Name","Value":"x"},{"Name":"MoveToFolder","Value":"Archive"}]}"#;
        let mv = |t: &str, dest: &str| {
            let dest = esc(dest);
            format!(
                r#"{{"Id":"mv{t}","CreationTime":"{t}","Operation":"Move","RecordType":3,"ResultStatus":"Succeeded",
                "UserId":"amelia@corp.example","MailboxOwnerUPN":"amelia@corp.example","Folder":{{"Path":"\\Sent Items"}},
                "DestFolder":{{"Path":"{dest}"}},"AffectedItems":[{{"Subject":"Payroll update","ParentFolder":{{"Path":"\\Sent Items"}}}}]}}"#
            )
        };
        let mut k = Kit::new();
        k.ual(rule_rec)
            .ual(&send(
                "s1",
                "2024-03-01T10:05:00",
                "amelia@corp.example",
                "Payroll update",
                "<p@corp.example>",
            ))
            .ual(&mv("2024-03-01T10:08:00", "\\Archive"));
        let f = k.run(rule("rule-send-archive-move"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "amelia@corp.example");
        assert_eq!(f[0].evidence.len(), 3);
        assert_eq!(f[0].details["rules"], json!(["x"]));

        let mut k = Kit::new();
        k.ual(rule_rec)
            .ual(&send(
                "s1",
                "2024-03-01T10:05:00",
                "amelia@corp.example",
                "Payroll update",
                "<p@corp.example>",
            ))
            .ual(&mv("2024-03-01T10:08:00", "\\Projects"));
        assert!(k.run(rule("rule-send-archive-move"), &[]).is_empty());
    }

    fn burst_kit(n: usize, external: bool) -> Kit {
        let mut k = Kit::new();
        // Baseline: a couple of messages on six earlier days.
        for d in 1..=6 {
            k.trace(&trace(
                &format!("2024-03-0{d}T09:00:00"),
                "amelia@corp.example",
                "sophie@corp.example",
                "Daily",
                &format!("<b{d}@corp.example>"),
            ));
        }
        k.ual(&send(
            "s-burst",
            "2024-03-08T10:00:00",
            "amelia@corp.example",
            "Shared a file",
            "<burst@corp.example>",
        ));
        for j in 0..n {
            let rcpt = if external {
                format!("user{j}@dom{}.example", j % 12)
            } else {
                format!("user{j}@corp.example")
            };
            k.trace(&trace(
                &format!("2024-03-08T10:{:02}:00", j % 50),
                "amelia@corp.example",
                &rcpt,
                "Shared a file",
                "<burst@corp.example>",
            ));
        }
        k
    }

    #[test]
    fn c5_outbound_burst() {
        let k = burst_kit(60, true);
        let f = k.run(rule("outbound-spam-restricted"), &["corp.example"]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].account, "amelia@corp.example");
        assert_eq!(f[0].details["recipient_count"], json!(60));
        assert_eq!(f[0].details["peak_hour_external_domains"], json!(12));
        assert_eq!(
            f[0].details["top_subjects"][0]["subject"],
            json!("Shared a file")
        );
        assert!(!f[0].evidence.is_empty());

        // Near miss: 15 internal recipients (below the floor, and below 20 for the baseline rule).
        let k = burst_kit(15, false);
        assert!(k
            .run(rule("outbound-spam-restricted"), &["corp.example"])
            .is_empty());

        // 30 internal recipients: under the floor but 30× the sender's usual hour.
        let k = burst_kit(30, false);
        let f = k.run(rule("outbound-spam-restricted"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].details["baseline_busy_hour_recipients"], json!(1));
    }

    #[test]
    fn c6_attachments_external() {
        let mk = |id: &str, t: &str, n: usize, off: usize| {
            let att: Vec<String> = (0..n)
                .map(|j| format!("doc{}.pdf ({}b)", j + off, 100 + j))
                .collect();
            format!(
                r#"{{"Id":"{id}","CreationTime":"{t}","Operation":"Send","RecordType":2,"ResultStatus":"Succeeded",
                "UserId":"amelia@corp.example","MailboxOwnerUPN":"amelia@corp.example",
                "Item":{{"InternetMessageId":"<{id}@corp.example>","Subject":"docs","Attachments":"{}; logo.png (5b)"}}}}"#,
                att.join("; ")
            )
        };
        let mut k = Kit::new();
        k.ual(&mk("a1", "2024-03-01T10:00:00", 15, 0))
            .ual(&mk("a2", "2024-03-01T10:20:00", 15, 15))
            .trace(&trace(
                "2024-03-01T10:00:01",
                "amelia@corp.example",
                "drop@evil.example",
                "docs",
                "<a1@corp.example>",
            ))
            .trace(&trace(
                "2024-03-01T10:20:01",
                "amelia@corp.example",
                "drop@evil.example",
                "docs",
                "<a2@corp.example>",
            ));
        let f = k.run(rule("send-attachments-external-volume"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].details["attachment_count"], json!(30));
        assert_eq!(
            f[0].details["external_recipients"],
            json!(["drop@evil.example"])
        );

        // Same volume to an internal recipient: nothing.
        let mut k = Kit::new();
        k.ual(&mk("a1", "2024-03-01T10:00:00", 15, 0))
            .ual(&mk("a2", "2024-03-01T10:20:00", 15, 15))
            .trace(&trace(
                "2024-03-01T10:00:01",
                "amelia@corp.example",
                "sophie@corp.example",
                "docs",
                "<a1@corp.example>",
            ))
            .trace(&trace(
                "2024-03-01T10:20:01",
                "amelia@corp.example",
                "sophie@corp.example",
                "docs",
                "<a2@corp.example>",
            ));
        assert!(k
            .run(rule("send-attachments-external-volume"), &["corp.example"])
            .is_empty());
    }

    /// A burst of outgoing mail (60 recipients), then four bounces of it deleted within the
    /// day; also returns the bounces' (subject, Message-ID).
    fn burst_then_bounces_deleted() -> (Kit, Vec<(String, String)>) {
        let mut k = burst_kit(60, true);
        let items: Vec<(String, String)> = (0..4)
            .map(|j| {
                (
                    format!("Undeliverable: Shared a file {j}"),
                    format!("<ndr{j}@x>"),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = items
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        k.ual(&delete(
            "SoftDelete",
            "nd1",
            "2024-03-08T11:30:00",
            "amelia@corp.example",
            "\\Inbox",
            &refs,
        ));
        (k, items)
    }

    #[test]
    fn c5_and_c7_agree_whichever_finds_the_shared_bursts_first() {
        let (k, _) = burst_then_bounces_deleted();
        let (c5, c7) = (rule("outbound-spam-restricted"), rule("ndr-oof-cleanup"));
        let org = ["corp.example"];
        let alone = [k.run(c5, &org), k.run(c7, &org)];
        assert!(alone.iter().all(|f| f.len() == 1), "{alone:?}");
        let shown = |f: &[Vec<Finding>]| format!("{f:?}");
        // C7 first finds the bursts from its own message table; C5 then reads them against
        // its own: both must still say what each says alone.
        let c7_first = k.run_in_order(&[c7, c5], &org);
        assert_eq!(
            shown(&[c7_first[1].clone(), c7_first[0].clone()]),
            shown(&alone)
        );
        assert_eq!(shown(&k.run_in_order(&[c5, c7], &org)), shown(&alone));
    }

    #[test]
    fn c7_ndr_oof_cleanup() {
        let (k, items) = burst_then_bounces_deleted();
        let refs: Vec<(&str, &str)> = items
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let f = k.run(rule("ndr-oof-cleanup"), &["corp.example"]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["deleted_items"], json!(4));

        // The same four deletions without a send burst: below the bulk threshold.
        let mut k = Kit::new();
        k.ual(&delete(
            "SoftDelete",
            "nd1",
            "2024-03-08T11:30:00",
            "amelia@corp.example",
            "\\Inbox",
            &refs,
        ));
        assert!(k.run(rule("ndr-oof-cleanup"), &["corp.example"]).is_empty());

        // Six bounces deleted, read from two exports (same record id): still six, not twelve.
        let six: Vec<(String, String)> = (0..6)
            .map(|j| (format!("Undeliverable: x {j}"), format!("<nd{j}@x>")))
            .collect();
        let six: Vec<(&str, &str)> = six.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let mut k = Kit::new();
        let rec = delete(
            "SoftDelete",
            "same-id",
            "2024-03-08T11:30:00",
            "amelia@corp.example",
            "\\Inbox",
            &six,
        );
        k.ual(&rec).ual(&rec);
        assert!(k.run(rule("ndr-oof-cleanup"), &["corp.example"]).is_empty());

        // A rule that deletes bounces.
        let mut k = Kit::new();
        k.ual(r#"{"Id":"r1","CreationTime":"2024-03-01T10:00:00","Operation":"New-InboxRule","RecordType":1,"ResultStatus":"True",
            "UserId":"amelia@corp.example","Parameters":[{"Name":"Name","Value":"."},{"Name":"SubjectContainsWords","Value":"Undeliverable;Automatic reply"},{"Name":"DeleteMessage","Value":"True"}]}"#);
        let f = k.run(rule("ndr-oof-cleanup"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].details["rule_name"], json!("."));
    }
}

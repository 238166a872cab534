//! Mail forwarding outside inbox rules: mailbox forwarding (A3), one destination shared by
//! several mailboxes (A5), mail-flow (transport) rules (A6, A7) and connectors (A8).
//!
//! Inbox-rule forwarding (A1, A2) lives in [`super::inbox_rules`], which scores each rule with
//! all its tells; A5 groups its external destinations with A3's here.
//!
//! * A3 reads `Set-Mailbox` `ForwardingSmtpAddress` / `ForwardingAddress` (a recipient name that
//!   an earlier `New-MailContact` / `New-MailUser` may resolve to an external address). Actions by
//!   the service itself (`NT AUTHORITY\SYSTEM …`) and forwarding to the tenant's own domains are
//!   not findings; a `Set-Mailbox` that clears forwarding is not a finding either, but it is shown
//!   on the finding it ends (`cleared_at`). `DeliverToMailboxAndForward=False` raises it: the
//!   owner no longer sees the mail.
//! * A6 is one finding per transport rule that copies, blind-copies or redirects mail
//!   (`BlindCopyTo`, `RedirectMessageTo`, `CopyTo`, `AddToRecipients`); external targets make it
//!   high. A7 covers the other create/change/enable/disable/remove events of each transport rule,
//!   raised when they strip anti-spam headers, bypass filtering, delete mail, or disable/remove.

use super::finding::{Finding, Rule, Severity, Tactic};
use super::inbox_rules;
use super::tenant::addresses;
use super::Ctx;
use crate::event::{Bag, Event, Outcome};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Rule id of A3.
pub const MAILBOX_FORWARDING: &str = "mailbox-smtp-forwarding";
/// Rule id of A5.
pub const SAME_DESTINATION: &str = "forward-same-destination-multi-user";
/// Rule id of A6.
pub const TRANSPORT_FORWARD: &str = "transport-rule-forward-bcc";
/// Rule id of A7.
pub const TRANSPORT_CHANGE: &str = "transport-rule-change";
/// Rule id of A8.
pub const CONNECTOR_CHANGE: &str = "mailflow-connector-change";

/// The rules of this family.
pub static RULES: &[Rule] = &[
    Rule {
        id: MAILBOX_FORWARDING,
        title: "Mailbox forwards all mail outside the organisation",
        severity: Severity::High,
        mitre: &["T1114.003", "T1020"],
        tactic: Tactic::Exfiltration,
        run: mailbox_forwarding,
    },
    Rule {
        id: SAME_DESTINATION,
        title: "Several mailboxes forward to the same external address",
        severity: Severity::Medium,
        mitre: &["T1114", "T1020"],
        tactic: Tactic::Exfiltration,
        run: same_destination,
    },
    Rule {
        id: TRANSPORT_FORWARD,
        title: "Mail-flow rule copies or redirects mail",
        severity: Severity::High,
        mitre: &["T1114.003", "T1020"],
        tactic: Tactic::Exfiltration,
        run: transport_forward,
    },
    Rule {
        id: TRANSPORT_CHANGE,
        title: "Mail-flow rule created, changed, disabled or removed",
        severity: Severity::Low,
        mitre: &["T1114.003", "T1564.008", "T1562.001"],
        tactic: Tactic::DefenseEvasion,
        run: transport_change,
    },
    Rule {
        id: CONNECTOR_CHANGE,
        title: "Mail-flow connector created or changed",
        severity: Severity::Medium,
        mitre: &[],
        tactic: Tactic::Persistence,
        run: connector_change,
    },
];

fn is_cleared(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v.eq_ignore_ascii_case("$null") || v.eq_ignore_ascii_case("null")
}

/// Parameters of an event as a sorted JSON object (name as written → value).
fn params_json(ctx: &Ctx<'_>, e: &Event) -> Value {
    let mut m = Map::new();
    for p in e.props().iter().filter(|p| p.bag == Bag::Parameters) {
        m.entry(ctx.s(p.name).to_string())
            .or_insert_with(|| Value::String(ctx.s(p.value).to_string()));
    }
    Value::Object(m)
}

// ------------------------------------------------------------------------------------------------
// A3 mailbox forwarding
// ------------------------------------------------------------------------------------------------

/// One `Set-Mailbox` that sets or clears forwarding.
#[derive(Debug, Clone)]
pub struct MailboxForward {
    /// The event.
    pub event: u32,
    /// Events that resolved a recipient name (New-MailContact …).
    pub resolved_by: Vec<u32>,
    /// The mailbox (lower-case).
    pub account: String,
    /// Who ran the cmdlet.
    pub actor: String,
    /// External targets.
    pub external: Vec<String>,
    /// Internal targets.
    pub internal: Vec<String>,
    /// `DeliverToMailboxAndForward` when given.
    pub deliver_and_forward: Option<bool>,
    /// True when this clears forwarding.
    pub clears: bool,
}

/// A recipient name (`ForwardingAddress`) resolved through a mail contact or mail user created in
/// the logs: (external address, event).
fn resolve_recipient(ctx: &Ctx<'_>, name: &str) -> Option<(String, u32)> {
    let want = name.trim();
    if want.is_empty() {
        return None;
    }
    for &i in ctx
        .ops(&[
            "New-MailContact",
            "Set-MailContact",
            "New-MailUser",
            "Set-MailUser",
        ])
        .iter()
        .rev()
    {
        let e = ctx.ev(i);
        if e.outcome == Outcome::Failure {
            continue;
        }
        let names = ["Name", "Alias", "DisplayName", "Identity"];
        let matches = names.iter().any(|n| {
            ctx.param(e, n)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
        });
        if !matches {
            continue;
        }
        if let Some(ext) = ctx.param(e, "ExternalEmailAddress") {
            if let Some(a) = addresses(ext).into_iter().next() {
                return Some((a, i));
            }
        }
    }
    None
}

/// Every forwarding change made with `Set-Mailbox` by a non-system actor, in time order.
pub fn mailbox_forwards(ctx: &Ctx<'_>) -> Vec<MailboxForward> {
    let mut out = Vec::new();
    for &i in ctx.op("Set-Mailbox") {
        let e = ctx.ev(i);
        if e.outcome == Outcome::Failure || ctx.is_system_actor(e) {
            continue;
        }
        let smtp = ctx.prop(e, Bag::Parameters, "ForwardingSmtpAddress");
        let addr = ctx.prop(e, Bag::Parameters, "ForwardingAddress");
        if smtp.is_none() && addr.is_none() {
            continue;
        }
        let mut external = Vec::new();
        let mut internal = Vec::new();
        let mut resolved_by = Vec::new();
        let mut targets: Vec<String> = Vec::new();
        for v in [smtp, addr].into_iter().flatten() {
            if is_cleared(v) {
                continue;
            }
            for a in addresses(v) {
                if !a.contains('@') {
                    if let Some((ext, ev)) = resolve_recipient(ctx, v) {
                        resolved_by.push(ev);
                        targets.push(ext);
                        continue;
                    }
                }
                targets.push(a);
            }
        }
        for t in targets {
            let list = if ctx.tenant.is_external(&t) {
                &mut external
            } else {
                &mut internal
            };
            if !list.contains(&t) {
                list.push(t);
            }
        }
        let clears = smtp.is_none_or(is_cleared) && addr.is_none_or(is_cleared);
        out.push(MailboxForward {
            event: i,
            resolved_by,
            account: ctx.account(e).to_string(),
            actor: ctx.s(e.actor).to_string(),
            external,
            internal,
            deliver_and_forward: ctx
                .prop(e, Bag::Parameters, "DeliverToMailboxAndForward")
                .map(|v| !v.trim().eq_ignore_ascii_case("false")),
            clears,
        });
    }
    out
}

/// A3: one finding per (mailbox, external destinations), with every setting event and the
/// clearing that ended it, if any.
fn mailbox_forwarding(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let all = mailbox_forwards(ctx);
    let mut groups: BTreeMap<(String, Vec<String>), Vec<&MailboxForward>> = BTreeMap::new();
    for f in all.iter().filter(|f| !f.external.is_empty()) {
        let mut dest = f.external.clone();
        dest.sort();
        groups.entry((f.account.clone(), dest)).or_default().push(f);
    }
    let mut out = Vec::new();
    for ((account, dest), sets) in groups {
        let last_set = sets.iter().map(|f| f.event).max().unwrap_or(0);
        let cleared = all.iter().find(|f| {
            f.account == account
                && f.event > last_set
                && (f.clears || f.external != sets[0].external)
        });
        let no_copy = sets.iter().any(|f| f.deliver_and_forward == Some(false));
        let actors: BTreeSet<String> = sets.iter().map(|f| f.actor.clone()).collect();
        let by_other = actors
            .iter()
            .any(|a| !a.eq_ignore_ascii_case(&account) && !a.is_empty());
        let (sev, reason) = if no_copy {
            (
                Severity::Critical,
                "external mailbox forwarding with DeliverToMailboxAndForward=False: the owner no longer receives the mail",
            )
        } else {
            (
                Severity::High,
                "mailbox forwards all mail to an external address",
            )
        };
        let mut events: Vec<u32> = sets.iter().map(|f| f.event).collect();
        events.extend(sets.iter().flat_map(|f| f.resolved_by.iter().copied()));
        let mut f = Finding::new(
            rule,
            &account,
            format!(
                "Mailbox {account} forwards all mail to {}{}{}",
                dest.join(", "),
                if no_copy {
                    " without keeping a copy"
                } else {
                    ""
                },
                match cleared {
                    Some(c) => format!(
                        "; forwarding was cleared or changed at {}",
                        ctx.ev(c.event).time.to_rfc3339()
                    ),
                    None => String::new(),
                }
            ),
        )
        .severity(sev)
        .detail("severity_reason", reason)
        .detail("forward_to", dest.clone())
        .detail("set_by", actors.into_iter().collect::<Vec<_>>())
        .detail("set_by_other_account", by_other)
        .detail(
            "deliver_to_mailbox_and_forward",
            sets.iter()
                .rev()
                .find_map(|f| f.deliver_and_forward)
                .map_or(Value::Null, Value::Bool),
        )
        .detail(
            "parameters",
            Value::Array(
                sets.iter()
                    .map(|f| params_json(ctx, ctx.ev(f.event)))
                    .collect(),
            ),
        );
        if let Some(c) = cleared {
            events.push(c.event);
            f = f
                .detail("cleared_at", ctx.ev(c.event).time.to_rfc3339())
                .detail("state", if c.clears { "cleared" } else { "changed" });
        } else {
            f = f.detail("state", "active");
        }
        out.push(f.with_events(events));
    }
    out
}

// ------------------------------------------------------------------------------------------------
// A5 same destination, several mailboxes
// ------------------------------------------------------------------------------------------------

/// The events that made one mailbox forward to a destination, and how (inbox rule, mailbox).
type Via = (Vec<u32>, BTreeSet<&'static str>);

/// A5: external destinations of inbox rules (A1/A2) and mailbox forwarding (A3), lower-cased,
/// `smtp:` stripped, `;`-split, grouped across mailboxes.
fn same_destination(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    // destination → mailbox → (events, via)
    let mut by_dest: BTreeMap<String, BTreeMap<String, Via>> = BTreeMap::new();
    for (dest, mailbox, events) in inbox_rules::external_forward_destinations(ctx) {
        let slot = by_dest.entry(dest).or_default().entry(mailbox).or_default();
        slot.0.extend(events);
        slot.1.insert("inbox-rule");
    }
    for f in mailbox_forwards(ctx) {
        for d in &f.external {
            let slot = by_dest
                .entry(d.clone())
                .or_default()
                .entry(f.account.clone())
                .or_default();
            slot.0.push(f.event);
            slot.1.insert("mailbox-forwarding");
        }
    }
    let mut out = Vec::new();
    for (dest, users) in by_dest {
        if users.len() < 2 {
            continue;
        }
        // Source IPs per mailbox; an IP shared by two mailboxes' changes means one operator.
        let mut ip_users: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for (u, (events, _)) in &users {
            for &i in events {
                let ip = ctx.s(ctx.ev(i).ip);
                if !ip.is_empty() {
                    ip_users
                        .entry(ip.to_string())
                        .or_default()
                        .insert(u.as_str());
                }
            }
        }
        let shared_ips: Vec<String> = ip_users
            .iter()
            .filter(|(_, us)| us.len() > 1)
            .map(|(ip, _)| ip.clone())
            .collect();
        let names: Vec<String> = users.keys().cloned().collect();
        let (sev, reason) = if !shared_ips.is_empty() {
            (
                Severity::High,
                format!(
                    "set up from the same IP for several mailboxes ({})",
                    shared_ips.join(", ")
                ),
            )
        } else if names.len() >= 3 {
            (
                Severity::High,
                format!("{} mailboxes forward to one address", names.len()),
            )
        } else {
            (
                Severity::Medium,
                "two mailboxes forward to one external address".to_string(),
            )
        };
        let via: BTreeMap<&str, Vec<&str>> = users
            .iter()
            .map(|(u, (_, v))| (u.as_str(), v.iter().copied().collect()))
            .collect();
        let events: Vec<u32> = users
            .values()
            .flat_map(|(e, _)| e.iter().copied())
            .collect();
        out.push(
            Finding::new(
                rule,
                &names[0],
                format!(
                    "{} mailboxes forward mail to {dest}: {}",
                    names.len(),
                    names.join(", ")
                ),
            )
            .with_events(events)
            .severity(sev)
            .detail("severity_reason", reason)
            .detail("destination", dest.clone())
            .detail("users", names.clone())
            .detail("user_count", names.len())
            .detail("via", json!(via))
            .detail("shared_ips", shared_ips),
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// A6 / A7 transport rules
// ------------------------------------------------------------------------------------------------

const TRANSPORT_OPS: &[&str] = &[
    "New-TransportRule",
    "Set-TransportRule",
    "Enable-TransportRule",
    "Disable-TransportRule",
    "Remove-TransportRule",
];

/// Parameters that send a copy of the message elsewhere.
const COPY_PARAMS: &[&str] = &[
    "BlindCopyTo",
    "RedirectMessageTo",
    "CopyTo",
    "AddToRecipients",
];

/// Header names whose removal or forging defeats filtering.
const ANTISPAM_HEADERS: &[&str] = &[
    "x-forefront-antispam-report",
    "x-ms-exchange-organization-scl",
    "x-microsoft-antispam",
    "x-ms-exchange-organization-skipsafelinksprocessing",
    "x-ms-exchange-organization-skipsafeattachmentprocessing",
    "x-ms-exchange-organization-bypassclutter",
    "x-ms-exchange-organization-authas",
    "x-ms-exchange-organization-phishsimulation",
];

/// The transport rule a record is about: `Name` on New-, else `Identity`, else `ObjectId`.
fn transport_rule_name(ctx: &Ctx<'_>, e: &Event, op: &str) -> String {
    let mut n = None;
    if op.to_ascii_lowercase().starts_with("new-") {
        n = ctx.param(e, "Name");
    }
    n.or_else(|| ctx.param(e, "Identity"))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let o = ctx.s(e.object);
            if o.is_empty() {
                "(unnamed)".to_string()
            } else {
                o.to_string()
            }
        })
}

/// Copy targets of a transport-rule event: (parameter, addresses).
fn copy_targets(ctx: &Ctx<'_>, e: &Event) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for p in COPY_PARAMS {
        if let Some(v) = ctx.prop(e, Bag::Parameters, p) {
            if !is_cleared(v) {
                let a = inbox_rules::split_addresses(v);
                if !a.is_empty() {
                    out.push((p.to_string(), a));
                }
            }
        }
    }
    out
}

struct TransportEvent {
    idx: u32,
    op: String,
    rule: String,
    copies: Vec<(String, Vec<String>)>,
}

fn transport_events(ctx: &Ctx<'_>) -> Vec<TransportEvent> {
    let mut out = Vec::new();
    for i in ctx.ops(TRANSPORT_OPS) {
        let e = ctx.ev(i);
        if e.outcome == Outcome::Failure || ctx.is_system_actor(e) {
            continue;
        }
        let op = ctx.s(e.operation).to_string();
        let lower = op.to_ascii_lowercase();
        let copies = if lower.starts_with("new-") || lower.starts_with("set-") {
            copy_targets(ctx, e)
        } else {
            Vec::new()
        };
        out.push(TransportEvent {
            idx: i,
            rule: transport_rule_name(ctx, e, &op),
            op,
            copies,
        });
    }
    out
}

/// The person who changed tenant mail flow (the admin account at risk).
fn actor_account<'a>(ctx: &Ctx<'a>, e: &Event) -> &'a str {
    let a = ctx.s(e.actor_key);
    if a.is_empty() {
        ctx.account(e)
    } else {
        a
    }
}

/// A6: one finding per transport rule that copies or redirects mail.
fn transport_forward(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut groups: BTreeMap<String, Vec<TransportEvent>> = BTreeMap::new();
    for t in transport_events(ctx) {
        if !t.copies.is_empty() {
            groups.entry(t.rule.to_lowercase()).or_default().push(t);
        }
    }
    let mut out = Vec::new();
    for (_, evs) in groups {
        let Some(first) = evs.first() else { continue };
        let mut targets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in &evs {
            for (p, a) in &t.copies {
                targets
                    .entry(p.clone())
                    .or_default()
                    .extend(a.iter().cloned());
            }
        }
        let mut external: Vec<String> = targets
            .values()
            .flatten()
            .filter(|a| ctx.tenant.is_external(a))
            .cloned()
            .collect();
        external.sort();
        external.dedup();
        let (sev, reason) = if external.is_empty() {
            (
                Severity::Low,
                "copies mail to internal recipients only (journaling/compliance look-alike)",
            )
        } else {
            (
                Severity::High,
                "copies or redirects the organisation's mail to an external address",
            )
        };
        let e0 = ctx.ev(first.idx);
        let account = actor_account(ctx, e0);
        let parts: Vec<String> = targets
            .iter()
            .map(|(p, a)| format!("{p} {}", a.iter().cloned().collect::<Vec<_>>().join(", ")))
            .collect();
        out.push(
            Finding::new(
                rule,
                account,
                format!(
                    "Transport rule {:?} ({}) by {}: {}",
                    first.rule,
                    first.op,
                    ctx.s(e0.actor),
                    parts.join("; ")
                ),
            )
            .with_events(evs.iter().map(|t| t.idx))
            .severity(sev)
            .detail("severity_reason", reason)
            .detail("transport_rule", first.rule.clone())
            .detail(
                "targets",
                json!(targets
                    .iter()
                    .map(|(p, a)| (p.clone(), a.iter().cloned().collect::<Vec<_>>()))
                    .collect::<BTreeMap<_, _>>()),
            )
            .detail("external_targets", external)
            .detail(
                "operations",
                evs.iter().map(|t| t.op.clone()).collect::<Vec<_>>(),
            )
            .detail(
                "parameters",
                Value::Array(
                    evs.iter()
                        .map(|t| params_json(ctx, ctx.ev(t.idx)))
                        .collect(),
                ),
            ),
        );
    }
    out
}

/// Why a transport-rule change is more than routine: (reason) or `None`.
fn transport_change_concern(ctx: &Ctx<'_>, e: &Event, op: &str) -> Option<String> {
    let lower = op.to_ascii_lowercase();
    if lower.starts_with("disable-") {
        return Some("a mail-flow rule was disabled".into());
    }
    if lower.starts_with("remove-") {
        return Some("a mail-flow rule was removed".into());
    }
    let param = |n: &str| ctx.prop(e, Bag::Parameters, n).map(str::trim);
    if param("SetSCL").is_some_and(|v| v == "-1") {
        return Some("sets SCL -1 (bypasses spam filtering)".into());
    }
    for p in ["RemoveHeader", "SetHeaderName"] {
        if let Some(h) = param(p) {
            let h = h.to_ascii_lowercase();
            if ANTISPAM_HEADERS.iter().any(|a| h.contains(a)) {
                return Some(format!("{p} {h} (anti-spam header)"));
            }
            if p == "RemoveHeader" {
                return Some(format!("removes header {h}"));
            }
        }
    }
    if param("DeleteMessage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Some("silently deletes matching mail".into());
    }
    if param("Enabled").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
        return Some("a mail-flow rule was disabled".into());
    }
    None
}

/// A7: one finding per transport rule for the changes A6 does not already cover.
fn transport_change(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut groups: BTreeMap<String, Vec<TransportEvent>> = BTreeMap::new();
    for t in transport_events(ctx) {
        if t.copies.is_empty() {
            groups.entry(t.rule.to_lowercase()).or_default().push(t);
        }
    }
    let mut out = Vec::new();
    for (_, evs) in groups {
        let Some(first) = evs.first() else { continue };
        let mut concerns: Vec<String> = Vec::new();
        let mut lifecycle = Vec::new();
        for t in &evs {
            let e = ctx.ev(t.idx);
            if let Some(c) = transport_change_concern(ctx, e, &t.op) {
                if !concerns.contains(&c) {
                    concerns.push(c);
                }
            }
            lifecycle.push(json!({
                "time": e.time.to_rfc3339(),
                "operation": t.op,
                "ip": ctx.s(e.ip),
                "actor": ctx.s(e.actor),
                "changes": params_json(ctx, e),
            }));
        }
        let (sev, reason) = if concerns.is_empty() {
            (Severity::Low, "routine mail-flow rule change".to_string())
        } else {
            (Severity::Medium, concerns.join("; "))
        };
        let e0 = ctx.ev(first.idx);
        let ops: Vec<String> = evs.iter().map(|t| t.op.clone()).collect();
        out.push(
            Finding::new(
                rule,
                actor_account(ctx, e0),
                format!(
                    "Transport rule {:?}: {} by {}{}",
                    first.rule,
                    ops.join(", "),
                    ctx.s(e0.actor),
                    if concerns.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", concerns.join("; "))
                    }
                ),
            )
            .with_events(evs.iter().map(|t| t.idx))
            .severity(sev)
            .detail("severity_reason", reason)
            .detail("transport_rule", first.rule.clone())
            .detail("operations", ops)
            .detail("concerns", concerns)
            .detail("lifecycle", Value::Array(lifecycle)),
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// A8 connectors
// ------------------------------------------------------------------------------------------------

const CONNECTOR_OPS: &[&str] = &[
    "New-InboundConnector",
    "Set-InboundConnector",
    "Remove-InboundConnector",
    "New-OutboundConnector",
    "Set-OutboundConnector",
    "Remove-OutboundConnector",
];

/// A8: one finding per connector, listing every change to it.
fn connector_change(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for i in ctx.ops(CONNECTOR_OPS) {
        let e = ctx.ev(i);
        if e.outcome == Outcome::Failure || ctx.is_system_actor(e) {
            continue;
        }
        let op = ctx.s(e.operation);
        let kind = if op.to_ascii_lowercase().contains("inbound") {
            "inbound"
        } else {
            "outbound"
        };
        let name = transport_rule_name(ctx, e, op);
        groups
            .entry((kind.to_string(), name.to_lowercase()))
            .or_default()
            .push(i);
    }
    let mut out = Vec::new();
    for ((kind, _), idx) in groups {
        let Some(&first) = idx.first() else { continue };
        let e0 = ctx.ev(first);
        let name = transport_rule_name(ctx, e0, ctx.s(e0.operation));
        let ops: Vec<String> = idx
            .iter()
            .map(|&i| ctx.s(ctx.ev(i).operation).to_string())
            .collect();
        let smart_hosts: BTreeSet<String> = idx
            .iter()
            .filter_map(|&i| ctx.param(ctx.ev(i), "SmartHosts"))
            .map(str::to_string)
            .collect();
        out.push(
            Finding::new(
                rule,
                actor_account(ctx, e0),
                format!(
                    "{} connector {:?}: {} by {}",
                    if kind == "inbound" {
                        "Inbound"
                    } else {
                        "Outbound"
                    },
                    name,
                    ops.join(", "),
                    ctx.s(e0.actor)
                ),
            )
            .with_events(idx.iter().copied())
            .detail("connector", name)
            .detail("direction", kind)
            .detail("operations", ops)
            .detail("smart_hosts", smart_hosts.into_iter().collect::<Vec<_>>())
            .detail(
                "parameters",
                Value::Array(idx.iter().map(|&i| params_json(ctx, ctx.ev(i))).collect()),
            )
            .detail(
                "severity_reason",
                "connectors reroute tenant mail; confirm the change with the mail administrator",
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::Kit;
    use crate::analyze::Finding;
    use std::path::PathBuf;

    const ORG: &[&str] = &["corp.example"];

    fn rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).expect("rule id")
    }

    fn cmdlet(id: &str, time: &str, op: &str, user: &str, params: &str) -> String {
        format!(
            r#"{{"Id":"{id}","RecordType":1,"CreationTime":"{time}","Operation":"{op}","UserId":"{user}",
            "Workload":"Exchange","ClientIP":"203.0.113.9:4431","ResultStatus":"True","ObjectId":"x",
            "Parameters":{params}}}"#
        )
    }

    #[test]
    fn a3_external_forwarding_without_copy_is_critical_and_clear_is_recorded() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "m1",
            "2024-05-01T10:00:00",
            "Set-Mailbox",
            "alice@corp.example",
            r#"[{"Name":"Identity","Value":"alice@corp.example"},{"Name":"ForwardingSmtpAddress","Value":"smtp:alice.home@mail.example"},
               {"Name":"DeliverToMailboxAndForward","Value":"False"}]"#,
        ));
        k.ual(&cmdlet(
            "m2",
            "2024-05-03T10:00:00",
            "Set-Mailbox",
            "alice@corp.example",
            r#"[{"Name":"Identity","Value":"alice@corp.example"},{"Name":"ForwardingSmtpAddress","Value":""}]"#,
        ));
        let f = k.run(rule(MAILBOX_FORWARDING), ORG);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.account, "alice@corp.example");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.details["forward_to"], json!(["alice.home@mail.example"]));
        assert_eq!(f.details["state"], "cleared");
        assert_eq!(f.details["cleared_at"], "2024-05-03T10:00:00Z");
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn a3_near_misses_system_internal_and_clearing() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "m1",
            "2024-05-01T10:00:00",
            "Set-Mailbox",
            "NT AUTHORITY\\\\SYSTEM (Microsoft.Exchange.ServiceHost)",
            r#"[{"Name":"Identity","Value":"bob@corp.example"},{"Name":"ForwardingSmtpAddress","Value":"smtp:x@mail.example"}]"#,
        ));
        k.ual(&cmdlet(
            "m2",
            "2024-05-01T11:00:00",
            "Set-Mailbox",
            "bob@corp.example",
            r#"[{"Name":"Identity","Value":"bob@corp.example"},{"Name":"ForwardingAddress","Value":"Carol Smith"}]"#,
        ));
        k.ual(&cmdlet(
            "m3",
            "2024-05-01T12:00:00",
            "Set-Mailbox",
            "bob@corp.example",
            r#"[{"Name":"Identity","Value":"bob@corp.example"},{"Name":"ForwardingSmtpAddress","Value":"$null"},{"Name":"ForwardingAddress","Value":null}]"#,
        ));
        assert!(k.run(rule(MAILBOX_FORWARDING), ORG).is_empty());
    }

    #[test]
    fn a3_forwarding_address_resolved_through_mail_contact() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "c1",
            "2024-05-01T09:59:00",
            "New-MailContact",
            "admin@corp.example",
            r#"[{"Name":"Name","Value":"Backup Box"},{"Name":"ExternalEmailAddress","Value":"SMTP:drop@evil.example"}]"#,
        ));
        k.ual(&cmdlet(
            "m1",
            "2024-05-01T10:00:00",
            "Set-Mailbox",
            "admin@corp.example",
            r#"[{"Name":"Identity","Value":"ceo@corp.example"},{"Name":"ForwardingAddress","Value":"Backup Box"}]"#,
        ));
        let f = k.run(rule(MAILBOX_FORWARDING), ORG);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "ceo@corp.example");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["forward_to"], json!(["drop@evil.example"]));
        assert_eq!(f[0].details["set_by_other_account"], true);
        assert_eq!(f[0].evidence.len(), 2);
    }

    #[test]
    fn a5_same_destination_across_inbox_rule_and_mailbox_forwarding() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-05-01T10:00:00",
            "New-InboxRule",
            "alice@corp.example",
            r#"[{"Name":"Name","Value":"a"},{"Name":"ForwardTo","Value":"SMTP:Drop@Evil.example"}]"#,
        ));
        k.ual(&cmdlet(
            "m1",
            "2024-05-01T10:05:00",
            "Set-Mailbox",
            "bob@corp.example",
            r#"[{"Name":"Identity","Value":"bob@corp.example"},{"Name":"ForwardingSmtpAddress","Value":"smtp:drop@evil.example"}]"#,
        ));
        k.ual(&cmdlet(
            "m2",
            "2024-05-01T10:06:00",
            "Set-Mailbox",
            "carol@corp.example",
            r#"[{"Name":"Identity","Value":"carol@corp.example"},{"Name":"ForwardingSmtpAddress","Value":"smtp:carol@home.example"}]"#,
        ));
        let f = k.run(rule(SAME_DESTINATION), ORG);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].details["destination"], "drop@evil.example");
        assert_eq!(
            f[0].details["users"],
            json!(["alice@corp.example", "bob@corp.example"])
        );
        // Both set up from 203.0.113.9.
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["shared_ips"], json!(["203.0.113.9"]));
        assert_eq!(f[0].evidence.len(), 2);
    }

    #[test]
    fn a5_near_miss_one_user_twice() {
        let mut k = Kit::new();
        for (id, t) in [("m1", "2024-05-01T10:00:00"), ("m2", "2024-05-02T10:00:00")] {
            k.ual(&cmdlet(
                id,
                t,
                "Set-Mailbox",
                "bob@corp.example",
                r#"[{"Name":"Identity","Value":"bob@corp.example"},{"Name":"ForwardingSmtpAddress","Value":"smtp:drop@evil.example"}]"#,
            ));
        }
        assert!(k.run(rule(SAME_DESTINATION), ORG).is_empty());
    }

    #[test]
    fn a6_transport_rule_bcc_external_and_internal() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "t1",
            "2024-05-01T10:00:00",
            "New-TransportRule",
            "admin@corp.example",
            r#"[{"Name":"Name","Value":"Audit copy"},{"Name":"SentToScope","Value":"InOrganization"},
               {"Name":"BlindCopyTo","Value":"archive@mail.example"}]"#,
        ));
        k.ual(&cmdlet(
            "t2",
            "2024-05-01T11:00:00",
            "New-TransportRule",
            "admin@corp.example",
            r#"[{"Name":"Name","Value":"Legal hold"},{"Name":"BlindCopyTo","Value":"legal@corp.example"}]"#,
        ));
        let f = k.run(rule(TRANSPORT_FORWARD), ORG);
        assert_eq!(f.len(), 2, "{f:#?}");
        let ext = f
            .iter()
            .find(|x| x.details["transport_rule"] == "Audit copy")
            .unwrap();
        assert_eq!(ext.severity, Severity::High);
        assert_eq!(ext.account, "admin@corp.example");
        assert_eq!(
            ext.details["external_targets"],
            json!(["archive@mail.example"])
        );
        let int = f
            .iter()
            .find(|x| x.details["transport_rule"] == "Legal hold")
            .unwrap();
        assert_eq!(int.severity, Severity::Low);
        // A7 does not restate them.
        assert!(k.run(rule(TRANSPORT_CHANGE), ORG).is_empty());
    }

    #[test]
    fn a7_transport_rule_lifecycle_and_routine_change() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "t1",
            "2024-05-01T10:00:00",
            "New-TransportRule",
            "admin@corp.example",
            r#"[{"Name":"Name","Value":"Allow partner"},{"Name":"SenderDomainIs","Value":"partner.example"},{"Name":"SetSCL","Value":"-1"}]"#,
        ));
        k.ual(&cmdlet(
            "t2",
            "2024-05-02T10:00:00",
            "Remove-TransportRule",
            "admin@corp.example",
            r#"[{"Name":"Identity","Value":"Allow partner"}]"#,
        ));
        k.ual(&cmdlet(
            "t3",
            "2024-05-02T11:00:00",
            "Set-TransportRule",
            "admin@corp.example",
            r#"[{"Name":"Identity","Value":"Disclaimer"},{"Name":"ApplyHtmlDisclaimerText","Value":"<p>Confidential</p>"}]"#,
        ));
        let f = k.run(rule(TRANSPORT_CHANGE), ORG);
        assert_eq!(f.len(), 2, "{f:#?}");
        let a = f
            .iter()
            .find(|x| x.details["transport_rule"] == "Allow partner")
            .unwrap();
        assert_eq!(a.severity, Severity::Medium);
        assert_eq!(a.evidence.len(), 2);
        assert_eq!(a.details["lifecycle"].as_array().unwrap().len(), 2);
        assert!(a.details["concerns"].to_string().contains("SCL -1"));
        let d = f
            .iter()
            .find(|x| x.details["transport_rule"] == "Disclaimer")
            .unwrap();
        assert_eq!(d.severity, Severity::Low);
    }

    #[test]
    fn a8_connector_change() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "c1",
            "2024-05-01T10:00:00",
            "New-OutboundConnector",
            "admin@corp.example",
            r#"[{"Name":"Name","Value":"Relay"},{"Name":"SmartHosts","Value":"198.51.100.66"},{"Name":"RecipientDomains","Value":"*"}]"#,
        ));
        k.ual(
            &cmdlet(
                "c2",
                "2024-05-01T10:00:00",
                "New-OutboundConnector",
                "admin@corp.example",
                r#"[{"Name":"Name","Value":"Relay2"}]"#,
            )
            .replace(r#""ResultStatus":"True""#, r#""ResultStatus":"False""#),
        );
        let f = k.run(rule(CONNECTOR_CHANGE), ORG);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].details["smart_hosts"], json!(["198.51.100.66"]));
        assert_eq!(f[0].details["direction"], "outbound");
    }

    fn shared(rel: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/cases/"
        ))
        .join(rel)
    }

    /// Runs one Panther case and says whether A1 or A3 fired (the case's rule covers both).
    fn panther_verdict(log: &Value) -> bool {
        let mut k = Kit::new();
        k.ual(&log.to_string());
        let mut findings: Vec<Finding> = k.run(rule(MAILBOX_FORWARDING), &[]);
        let a1 = inbox_rules::RULES
            .iter()
            .find(|r| r.id == inbox_rules::FORWARD_EXTERNAL)
            .expect("A1");
        findings.extend(k.run(a1, &[]));
        findings
            .iter()
            .for_each(|f| assert!(!f.evidence.is_empty()));
        !findings.is_empty()
    }

    /// Panther `Microsoft365.Exchange.External.Forwarding` (A1 + A3): every case agrees.
    #[test]
    fn panther_external_forwarding_cases() {
        let mut total = 0;
        for (file, list_key, name_key, exp_key) in [
            (
                "panther-analysis/microsoft_exchange_external_forwarding.tests.json",
                "tests",
                "test_name",
                "expected",
            ),
            (
                "rule-examples/panther_m365_exchange_external_forwarding.json",
                "tests",
                "name",
                "expected_result",
            ),
        ] {
            let path = shared(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                eprintln!("skipping: {} not found", path.display());
                continue;
            };
            let doc: Value = serde_json::from_str(&text).expect("case file is JSON");
            let cases = doc[list_key].as_array().expect("tests");
            assert!(!cases.is_empty());
            for c in cases {
                let expected = c[exp_key].as_bool().expect("expected");
                let got = panther_verdict(&c["log"]);
                assert_eq!(got, expected, "{file}: {}", c[name_key]);
                total += 1;
            }
        }
        eprintln!("panther external-forwarding cases agreeing: {total}");
    }
}

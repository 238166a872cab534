//! F. Authentication-method and MFA manipulation (catalog rows F1–F5).
//!
//! Read from the UAL's Entra directory records (RecordType 8, operations without their trailing
//! period): `Update user` with the `StrongAuthentication*` modified properties, `Disable Strong
//! Authentication`, the Entra security-info activities, Conditional Access and tenant policy
//! changes, password resets and device registrations.
//!
//! `ModifiedProperties` values are JSON serialised *into strings*, usually indented with `\r\n`
//! (`"[\r\n  {\r\n    \"MethodType\": 6, …}\r\n]"`); they are parsed here with `serde_json`
//! (rules run rarely per event, the parser's no-allocation rule does not apply).
//!
//! The StrongAuthenticationMethod `MethodType` numbers are named as in Microsoft's own hunting
//! query ("Hunting for MFA manipulations in Entra ID tenants using KQL", Microsoft Security
//! Experts blog, 2024), which indexes `TwoWayVoiceMobile, TwoWaySms, TwoWayVoiceOffice,
//! TwoWayVoiceOtherMobile, TwoWaySmsOtherMobile, OneWaySms, PhoneAppNotification, PhoneAppOTP`
//! by MethodType 0–7. Other numbers are shown raw.
//!
//! The helpers marked `pub(crate)` (IP familiarity, modified-property access, truthy values,
//! display names) are shared with the other Entra-facing families (consent, tampering, alerts).

use super::{Ctx, Finding, Rule, Severity, Tactic};
use crate::event::{Bag, Event, Outcome, Sym, Timestamp};
use crate::ingest::signin::SIGNIN_OPERATION;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The rules of this family.
pub static RULES: &[Rule] = &[
    Rule {
        id: "mfa-method-added",
        title: "MFA method registered on the account",
        severity: Severity::Medium,
        mitre: &["T1098.005", "T1556.006"],
        tactic: Tactic::Persistence,
        run: mfa_method_added,
    },
    Rule {
        id: "mfa-removed-disabled",
        title: "MFA removed or disabled on the account",
        severity: Severity::Medium,
        mitre: &["T1556.006"],
        tactic: Tactic::DefenseEvasion,
        run: mfa_removed_disabled,
    },
    Rule {
        id: "ca-or-mfa-policy-weakened",
        title: "Conditional Access or tenant MFA policy weakened",
        severity: Severity::High,
        mitre: &["T1556.009", "T1562.007"],
        tactic: Tactic::DefenseEvasion,
        run: policy_weakened,
    },
    Rule {
        id: "password-reset-by-self-or-attacker",
        title: "Password reset or changed",
        severity: Severity::Low,
        mitre: &["T1098"],
        tactic: Tactic::Persistence,
        run: password_reset,
    },
    Rule {
        id: "device-registration-persistence",
        title: "Device registered to the account",
        severity: Severity::Medium,
        mitre: &["T1098.005", "T1528"],
        tactic: Tactic::Persistence,
        run: device_registration,
    },
];

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

// ------------------------------------------------------------------------------------------------
// Shared helpers
// ------------------------------------------------------------------------------------------------

/// NewValue and OldValue (`""` when absent) of the first `ModifiedProperties` entry called
/// `name` (ASCII case-insensitive).
pub(crate) fn modified<'a>(ctx: &Ctx<'a>, e: &'a Event, name: &str) -> Option<(&'a str, &'a str)> {
    e.props()
        .iter()
        .find(|p| p.bag == Bag::ModifiedProperties && ctx.s(p.name).eq_ignore_ascii_case(name))
        .map(|p| (ctx.s(p.value), p.old.map_or("", |o| ctx.s(o))))
}

/// The first value of any of `names` in the kept fields, `ExtendedProperties`,
/// `OperationProperties` or `ModifiedProperties` (in that order); blank values are skipped.
pub(crate) fn any_prop<'a>(ctx: &Ctx<'a>, e: &'a Event, names: &[&str]) -> Option<&'a str> {
    for bag in [
        Bag::Field,
        Bag::ExtendedProperties,
        Bag::OperationProperties,
        Bag::ModifiedProperties,
    ] {
        for n in names {
            if let Some(v) = ctx.prop(e, bag, n).map(str::trim).filter(|v| !v.is_empty()) {
                return Some(v);
            }
        }
    }
    None
}

/// Strips the JSON-array-in-a-string wrapping Entra puts around scalars (`"[\r\n  true\r\n]"`,
/// `"[\"x\"]"`, `"\"x\""`) and returns the first scalar as text; plain text is returned trimmed.
pub(crate) fn scalar(v: &str) -> String {
    match serde_json::from_str::<Value>(v.trim()) {
        Ok(Value::Array(a)) => a.first().map(value_text).unwrap_or_default(),
        Ok(other) => value_text(&other),
        Err(_) => v.trim().to_string(),
    }
}

/// A JSON value as plain text (strings unquoted, null empty).
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// True for `True`, `true`, `$true`, `1`, `[true]` and the like.
pub(crate) fn is_true(v: &str) -> bool {
    let s = scalar(v);
    let s = s.trim().trim_start_matches('$');
    s.eq_ignore_ascii_case("true") || s == "1"
}

/// True for `False`, `false`, `$false`, `0`, `[false]` and the like.
pub(crate) fn is_false(v: &str) -> bool {
    let s = scalar(v);
    let s = s.trim().trim_start_matches('$');
    s.eq_ignore_ascii_case("false") || s == "0"
}

/// Who acted, for people: the UPN when the actor is one, else the Entra display name
/// (`Actor` entry of Type 1, e.g. "Azure MFA StrongAuthenticationService"), else as written.
pub(crate) fn actor_display(ctx: &Ctx<'_>, e: &Event) -> String {
    let raw = ctx.s(e.actor);
    if raw.contains('@') {
        return raw.to_string();
    }
    ctx.prop(e, Bag::Field, "Actor.1")
        .map(str::to_string)
        .unwrap_or_else(|| raw.to_string())
}

/// Whether the tenant already knew `ip` before `at`: `Some(true)` when `account` signed in
/// successfully from it at least a day earlier, or at least three other accounts did before,
/// or at least five other accounts do anywhere in the export (a shared office egress: a new
/// starter's first morning may come before most colleagues sign in); `Some(false)` when the
/// account has sign-ins in the export but none qualifies; `None` when there is nothing to judge
/// by (no IP, no sign-ins of the account).
///
/// Only *successful* sign-ins count: spraying failures from an attacker IP do not make it
/// familiar, and the attacker's own sign-in minutes before the action is less than a day old.
pub(crate) fn ip_familiar(ctx: &Ctx<'_>, account: &str, ip: Sym, at: Timestamp) -> Option<bool> {
    if ip.is_empty() {
        return None;
    }
    let mut own_any = false;
    let mut others: BTreeSet<&str> = BTreeSet::new();
    let mut others_ever: BTreeSet<&str> = BTreeSet::new();
    for &i in ctx
        .op("UserLoggedIn")
        .iter()
        .chain(ctx.op(SIGNIN_OPERATION))
    {
        let s = ctx.ev(i);
        if s.outcome != Outcome::Success || !ctx.is_signin(s) {
            continue;
        }
        let who = ctx.account(s);
        let own = who.eq_ignore_ascii_case(account);
        own_any |= own;
        if s.ip != ip {
            continue;
        }
        if !own {
            others_ever.insert(who);
        }
        if s.time >= at {
            continue;
        }
        if own {
            if s.time.0 <= at.0 - DAY {
                return Some(true);
            }
        } else {
            others.insert(who);
        }
    }
    if others.len() >= 3 || others_ever.len() >= 5 {
        return Some(true);
    }
    own_any.then_some(false)
}

/// Sorted, deduplicated.
fn sorted(v: impl IntoIterator<Item = String>) -> Vec<String> {
    let s: BTreeSet<String> = v.into_iter().collect();
    s.into_iter().collect()
}

/// Case-insensitive key lookup in a JSON object.
pub(crate) fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

// ------------------------------------------------------------------------------------------------
// StrongAuthentication* values
// ------------------------------------------------------------------------------------------------

/// The name of a StrongAuthenticationMethod `MethodType`.
pub fn method_name(t: i64) -> String {
    const NAMES: [&str; 8] = [
        "TwoWayVoiceMobile",
        "TwoWaySms",
        "TwoWayVoiceOffice",
        "TwoWayVoiceOtherMobile",
        "TwoWaySmsOtherMobile",
        "OneWaySms",
        "PhoneAppNotification",
        "PhoneAppOTP",
    ];
    match usize::try_from(t).ok().and_then(|i| NAMES.get(i)) {
        Some(n) => format!("{n} ({t})"),
        None => format!("MethodType {t}"),
    }
}

/// A JSON list from a modified-property value: blank and `null` are empty; an object is a
/// one-element list; non-JSON is `None`.
fn json_list(v: &str) -> Option<Vec<Value>> {
    let t = v.trim();
    if t.is_empty() {
        return Some(Vec::new());
    }
    match serde_json::from_str::<Value>(t).ok()? {
        Value::Array(a) => Some(a),
        Value::Null => Some(Vec::new()),
        other => Some(vec![other]),
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `(MethodType, Default)` pairs of a StrongAuthenticationMethod value.
fn parse_methods(v: &str) -> Option<Vec<(i64, bool)>> {
    Some(
        json_list(v)?
            .iter()
            .filter_map(|m| {
                let t = get_ci(m, "MethodType").and_then(as_int)?;
                let d = get_ci(m, "Default")
                    .map(|d| d.as_bool().unwrap_or_else(|| is_true(&value_text(d))))
                    .unwrap_or(false);
                Some((t, d))
            })
            .collect(),
    )
}

/// What `new` has that `old` has not, counting repeats.
fn multiset_added(old: &[i64], new: &[i64]) -> Vec<i64> {
    let mut rest = old.to_vec();
    let mut added = Vec::new();
    for t in new {
        match rest.iter().position(|o| o == t) {
            Some(p) => {
                rest.remove(p);
            }
            None => added.push(*t),
        }
    }
    added
}

/// One authenticator-app registration of StrongAuthenticationPhoneAppDetail: an identity and a
/// description.
fn phone_apps(v: &str) -> Vec<(String, String)> {
    json_list(v)
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let pick = |k: &str| get_ci(d, k).map(value_text).filter(|s| !s.is_empty());
            let key = pick("Id")
                .or_else(|| pick("DeviceToken"))
                .or_else(|| pick("DeviceName"))
                .unwrap_or_else(|| d.to_string());
            let mut desc = pick("DeviceName").unwrap_or_else(|| "authenticator app".into());
            if let Some(ver) = pick("PhoneAppVersion") {
                desc.push_str(&format!(" (app {ver})"));
            }
            if let Some(tag) = pick("DeviceTag") {
                desc.push_str(&format!(" [{tag}]"));
            }
            (key, desc)
        })
        .collect()
}

/// The contact fields of StrongAuthenticationUserDetails (first element when a list).
fn user_details(v: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let list = json_list(v).unwrap_or_default();
    if let Some(Value::Object(m)) = list.first() {
        for (k, val) in m {
            let s = value_text(val);
            if !s.is_empty() {
                out.insert(k.clone(), s);
            }
        }
    }
    out
}

/// The MFA-relevant difference an `Update user` record carries.
#[derive(Default, Debug)]
struct MfaChange {
    before: Vec<(i64, bool)>,
    after: Vec<(i64, bool)>,
    methods_seen: bool,
    added: Vec<i64>,
    devices_added: Vec<String>,
    contact_set: BTreeMap<String, String>,
    requirement_cleared: bool,
}

impl MfaChange {
    fn of(ctx: &Ctx<'_>, e: &Event) -> Self {
        let mut c = MfaChange::default();
        if let Some((new, old)) = modified(ctx, e, "StrongAuthenticationMethod") {
            if let (Some(n), Some(o)) = (parse_methods(new), parse_methods(old)) {
                let ot: Vec<i64> = o.iter().map(|m| m.0).collect();
                let nt: Vec<i64> = n.iter().map(|m| m.0).collect();
                c.added = multiset_added(&ot, &nt);
                c.before = o;
                c.after = n;
                c.methods_seen = true;
            }
        }
        if let Some((new, old)) = modified(ctx, e, "StrongAuthenticationPhoneAppDetail") {
            let old_keys: BTreeSet<String> = phone_apps(old).into_iter().map(|d| d.0).collect();
            c.devices_added = sorted(
                phone_apps(new)
                    .into_iter()
                    .filter(|(k, _)| !old_keys.contains(k))
                    .map(|d| d.1),
            );
        }
        if let Some((new, old)) = modified(ctx, e, "StrongAuthenticationUserDetails") {
            let o = user_details(old);
            for (k, v) in user_details(new) {
                if o.get(&k) != Some(&v) {
                    c.contact_set.insert(k, v);
                }
            }
        }
        if let Some((new, old)) = modified(ctx, e, "StrongAuthenticationRequirement") {
            let n = json_list(new).unwrap_or_default();
            let o = json_list(old).unwrap_or_default();
            c.requirement_cleared = !o.is_empty() && n.is_empty();
        }
        c
    }

    fn is_addition(&self) -> bool {
        !self.added.is_empty() || !self.devices_added.is_empty() || !self.contact_set.is_empty()
    }

    fn methods_cleared(&self) -> bool {
        self.methods_seen && !self.before.is_empty() && self.after.is_empty()
    }
}

fn method_list(m: &[(i64, bool)]) -> Vec<String> {
    m.iter()
        .map(|(t, d)| {
            if *d {
                format!("{} default", method_name(*t))
            } else {
                method_name(*t)
            }
        })
        .collect()
}

fn succeeded(e: &Event) -> bool {
    e.outcome != Outcome::Failure
}

fn mentions_tap(ctx: &Ctx<'_>, e: &Event) -> bool {
    e.props().iter().any(|p| {
        let v = ctx.s(p.value).to_ascii_lowercase();
        v.contains("temporary access pass") || v.contains("temporaryaccesspass")
    })
}

/// A few modified/extended properties of a record, for records whose shape we do not know in
/// detail (the Entra security-info activities).
fn prop_summary(ctx: &Ctx<'_>, e: &Event) -> Value {
    let mut m = Map::new();
    for p in e.props() {
        if matches!(p.bag, Bag::ModifiedProperties | Bag::ExtendedProperties) && m.len() < 12 {
            let v: String = ctx.s(p.value).chars().take(300).collect();
            if !v.trim().is_empty() {
                m.entry(ctx.s(p.name).to_string())
                    .or_insert(Value::String(v));
            }
        }
    }
    Value::Object(m)
}

// ------------------------------------------------------------------------------------------------
// F1 mfa-method-added
// ------------------------------------------------------------------------------------------------

const SECURITY_INFO_ADDED: &[&str] = &[
    "User registered security info",
    "User registered all required security info",
    "Admin registered security info",
];

fn mfa_method_added(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    // (account, time, finding) so later security-info records can join a nearby finding.
    let mut out: Vec<(String, Timestamp, Finding)> = Vec::new();
    for &i in ctx.op("Update user") {
        let e = ctx.ev(i);
        if !succeeded(e) {
            continue;
        }
        let c = MfaChange::of(ctx, e);
        if !c.is_addition() {
            continue;
        }
        let account = ctx.account(e);
        let actor = actor_display(ctx, e);
        let mut what: Vec<String> = c.added.iter().map(|t| method_name(*t)).collect();
        what.extend(c.devices_added.iter().map(|d| format!("authenticator {d}")));
        what.extend(c.contact_set.iter().map(|(k, v)| format!("{k} {v}")));
        let summary = format!(
            "MFA security info added to {account}: {} (by {actor})",
            what.join(", ")
        );
        let mut f = Finding::new(rule, account, summary)
            .with_events([i])
            .detail("target", account)
            .detail("actor", actor.as_str())
            .detail("added", what.clone());
        if c.methods_seen {
            f = f
                .detail(
                    "methods_added",
                    c.added.iter().map(|t| method_name(*t)).collect::<Vec<_>>(),
                )
                .detail("methods_before", method_list(&c.before))
                .detail("methods_after", method_list(&c.after));
            if let Some((t, _)) = c.after.iter().find(|m| m.1) {
                f = f.detail("default_method", method_name(*t));
            }
        }
        if !c.devices_added.is_empty() {
            f = f.detail("authenticator_devices_added", c.devices_added.clone());
        }
        if !c.contact_set.is_empty() {
            f = f.detail(
                "contact_info_set",
                Value::Object(
                    c.contact_set
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
        f = grade_registration(ctx, e, account, f, false);
        out.push((account.to_string(), e.time, f));
    }
    for &i in &ctx.ops(SECURITY_INFO_ADDED) {
        let e = ctx.ev(i);
        if !succeeded(e) {
            continue;
        }
        let account = ctx.account(e);
        if let Some((_, _, f)) = out
            .iter_mut()
            .find(|(a, t, _)| a == account && (t.0 - e.time.0).abs() <= 10 * MINUTE)
        {
            f.events.push(i);
            continue;
        }
        let actor = actor_display(ctx, e);
        let op = ctx.s(e.operation);
        let tap = mentions_tap(ctx, e);
        let summary = format!("{op} for {account} (by {actor})");
        let f = Finding::new(rule, account, summary)
            .with_events([i])
            .detail("target", account)
            .detail("actor", actor.as_str())
            .detail("activity", op)
            .detail("record", prop_summary(ctx, e));
        let f = grade_registration(ctx, e, account, f, tap);
        out.push((account.to_string(), e.time, f));
    }
    out.into_iter().map(|(_, _, f)| f).collect()
}

/// F1 severity: medium; high for a Temporary Access Pass (Sigma/Elastic rate it high: it is a
/// full credential); low when registered from an address the tenant already knew.
fn grade_registration(ctx: &Ctx<'_>, e: &Event, account: &str, f: Finding, tap: bool) -> Finding {
    let ip = ctx.s(e.ip);
    let familiar = ip_familiar(ctx, account, e.ip, e.time);
    let f = match familiar {
        Some(b) => f.detail("ip_familiar", b),
        None => f,
    };
    if tap {
        return f.severity(Severity::High).detail(
            "severity_reason",
            "a Temporary Access Pass was issued: it signs in without the password or MFA",
        );
    }
    match familiar {
        Some(true) => f.severity(Severity::Low).detail(
            "severity_reason",
            format!(
                "registered from {ip}, an address this account (a day or more earlier) or several \
                 other accounts already signed in from; raise it if the session was the attacker's"
            ),
        ),
        Some(false) => f.detail(
            "severity_reason",
            format!("registered from {ip}, an address this account had not signed in from before"),
        ),
        None => f.detail(
            "severity_reason",
            "a new MFA method is how attackers keep access after a password reset (Storm-1167)",
        ),
    }
}

// ------------------------------------------------------------------------------------------------
// F2 mfa-removed-disabled
// ------------------------------------------------------------------------------------------------

const SECURITY_INFO_DELETED: &[&str] =
    &["User deleted security info", "Admin deleted security info"];

fn mfa_removed_disabled(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out: Vec<(String, Timestamp, Finding)> = Vec::new();
    let disables: Vec<u32> = ctx
        .op("Disable Strong Authentication")
        .iter()
        .copied()
        .filter(|&i| succeeded(ctx.ev(i)) && !ctx.is_system_actor(ctx.ev(i)))
        .collect();
    for &i in &disables {
        let e = ctx.ev(i);
        let account = ctx.account(e);
        let actor = actor_display(ctx, e);
        // An admin moving the tenant from per-user MFA to Conditional Access disables many
        // accounts in one sitting; one or two accounts is the attacker's move.
        let bulk = disables
            .iter()
            .filter(|&&j| {
                let o = ctx.ev(j);
                o.actor_key == e.actor_key && (o.time.0 - e.time.0).abs() <= HOUR
            })
            .count();
        let mut f = Finding::new(
            rule,
            account,
            format!("Per-user MFA disabled for {account} (by {actor})"),
        )
        .with_events([i])
        .detail("target", account)
        .detail("actor", actor.as_str())
        .detail("change", "per-user MFA requirement disabled");
        f = if bulk >= 5 {
            f.detail("accounts_disabled_by_actor_within_1h", bulk as u64)
                .detail(
                    "severity_reason",
                    format!("{actor} disabled per-user MFA for {bulk} accounts within an hour: looks like a migration to Conditional Access"),
                )
        } else {
            f.severity(Severity::High).detail(
                "severity_reason",
                "per-user MFA switched off for a single account (Sigma rates this high)",
            )
        };
        out.push((account.to_string(), e.time, f));
    }
    for &i in ctx.op("Update user") {
        let e = ctx.ev(i);
        if !succeeded(e) {
            continue;
        }
        let c = MfaChange::of(ctx, e);
        if !c.methods_cleared() && !c.requirement_cleared {
            continue;
        }
        let account = ctx.account(e);
        if let Some((_, _, f)) = out
            .iter_mut()
            .find(|(a, t, _)| a == account && (t.0 - e.time.0).abs() <= 10 * MINUTE)
        {
            f.events.push(i);
            continue;
        }
        let actor = actor_display(ctx, e);
        let mut changes = Vec::new();
        if c.methods_cleared() {
            changes.push(format!(
                "all MFA methods removed ({})",
                method_list(&c.before).join(", ")
            ));
        }
        if c.requirement_cleared {
            changes.push("per-user MFA requirement removed".to_string());
        }
        let mut f = Finding::new(
            rule,
            account,
            format!(
                "MFA removed from {account}: {} (by {actor})",
                changes.join("; ")
            ),
        )
        .with_events([i])
        .detail("target", account)
        .detail("actor", actor.as_str())
        .detail("change", changes.join("; "));
        if c.methods_seen {
            f = f
                .detail("methods_before", method_list(&c.before))
                .detail("methods_after", method_list(&c.after));
        }
        f = if c.requirement_cleared {
            f.severity(Severity::High)
                .detail("severity_reason", "per-user MFA requirement removed")
        } else {
            f.detail(
                "severity_reason",
                "every registered method was removed: the account can sign in on the password \
                 alone until it re-registers (helpdesks also do this to force re-registration)",
            )
        };
        out.push((account.to_string(), e.time, f));
    }
    for &i in &ctx.ops(SECURITY_INFO_DELETED) {
        let e = ctx.ev(i);
        if !succeeded(e) {
            continue;
        }
        let account = ctx.account(e);
        if let Some((_, _, f)) = out
            .iter_mut()
            .find(|(a, t, _)| a == account && (t.0 - e.time.0).abs() <= 10 * MINUTE)
        {
            f.events.push(i);
            continue;
        }
        let actor = actor_display(ctx, e);
        let op = ctx.s(e.operation);
        let f = Finding::new(rule, account, format!("{op} for {account} (by {actor})"))
            .with_events([i])
            .detail("target", account)
            .detail("actor", actor.as_str())
            .detail("change", op)
            .detail("record", prop_summary(ctx, e))
            .severity(Severity::Low)
            .detail(
                "severity_reason",
                "one security-info method deleted; users do this when they change phones",
            );
        out.push((account.to_string(), e.time, f));
    }
    out.into_iter().map(|(_, _, f)| f).collect()
}

// ------------------------------------------------------------------------------------------------
// F3 ca-or-mfa-policy-weakened
// ------------------------------------------------------------------------------------------------

/// Every string leaf under `v`, for keys matching `pred` (case-insensitive name test) anywhere
/// in the tree.
fn leaves_under(v: &Value, pred: &dyn Fn(&str) -> bool, inside: bool, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves_under(x, pred, inside || pred(k), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                leaves_under(x, pred, inside, out);
            }
        }
        Value::String(s) if inside && !s.trim().is_empty() => {
            out.insert(s.trim().to_string());
        }
        _ => {}
    }
}

/// A Conditional Access policy: the Graph form (`conditions`, `grantControls`, `state`) of the
/// Entra audit log, or the Core Directory `PolicyDetail` form (`Conditions`, `Controls`,
/// `State`) the UAL's `Update policy.` carries as a JSON array of JSON strings.
fn parse_policy(v: &str) -> Option<Value> {
    let t = v.trim();
    if t.is_empty() {
        return None;
    }
    let parsed: Value = serde_json::from_str(t).ok()?;
    let obj = match parsed {
        Value::Array(a) => match a.into_iter().next()? {
            Value::String(s) => serde_json::from_str(&s).ok()?,
            other => other,
        },
        Value::String(s) => serde_json::from_str(&s).ok()?,
        other => other,
    };
    let is_ca = ["conditions", "grantControls", "controls"]
        .iter()
        .any(|k| get_ci(&obj, k).is_some());
    is_ca.then_some(obj)
}

struct PolicyView {
    name: String,
    state: String,
    controls: BTreeSet<String>,
    auth_strength: bool,
    excluded: BTreeSet<String>,
    included_users: BTreeSet<String>,
}

impl PolicyView {
    fn of(p: &Value) -> Self {
        let mut controls = BTreeSet::new();
        for k in ["grantControls", "controls"] {
            if let Some(c) = get_ci(p, k) {
                leaves_under(c, &|_| true, true, &mut controls);
            }
        }
        let controls = controls
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let auth_strength = get_ci(p, "grantControls")
            .and_then(|g| get_ci(g, "authenticationStrength"))
            .is_some_and(|a| !a.is_null());
        let mut excluded = BTreeSet::new();
        let mut included_users = BTreeSet::new();
        if let Some(c) = get_ci(p, "conditions") {
            leaves_under(
                c,
                &|k| k.to_ascii_lowercase().starts_with("exclude"),
                false,
                &mut excluded,
            );
            if let Some(u) = get_ci(c, "users") {
                leaves_under(
                    u,
                    &|k| {
                        k.eq_ignore_ascii_case("includeUsers") || k.eq_ignore_ascii_case("Include")
                    },
                    false,
                    &mut included_users,
                );
            }
        }
        PolicyView {
            name: get_ci(p, "displayName").map(value_text).unwrap_or_default(),
            state: get_ci(p, "state").map(value_text).unwrap_or_default(),
            controls,
            auth_strength,
            excluded,
            included_users,
        }
    }

    fn enforces_mfa(&self) -> bool {
        self.auth_strength
            || self
                .controls
                .iter()
                .any(|c| c == "mfa" || c == "requiremfa")
    }

    fn blocks(&self) -> bool {
        self.controls.contains("block")
    }

    fn enabled(&self) -> bool {
        self.state.eq_ignore_ascii_case("enabled")
    }
}

/// The weakenings between two versions of a policy: (description, is it severe).
fn policy_weakenings(old: &PolicyView, new: &PolicyView) -> Vec<(String, bool)> {
    let mut w = Vec::new();
    if old.enforces_mfa() && !new.enforces_mfa() {
        w.push(("MFA removed from the grant controls".to_string(), true));
    }
    if old.blocks() && !new.blocks() {
        w.push(("block control removed".to_string(), true));
    }
    if old.enabled() && !new.state.is_empty() && !new.enabled() {
        let severe = !new.state.to_ascii_lowercase().contains("report");
        w.push((format!("state {} → {}", old.state, new.state), severe));
    }
    let added: Vec<String> = new.excluded.difference(&old.excluded).cloned().collect();
    if !added.is_empty() {
        w.push((format!("exclusions added: {}", added.join(", ")), false));
    }
    if old
        .included_users
        .iter()
        .any(|u| u.eq_ignore_ascii_case("all"))
        && !new.included_users.is_empty()
        && !new
            .included_users
            .iter()
            .any(|u| u.eq_ignore_ascii_case("all"))
    {
        w.push(("no longer applies to all users".to_string(), false));
    }
    w
}

/// IP addresses and CIDR ranges written anywhere in a value.
fn cidrs(v: &str) -> BTreeSet<String> {
    v.split(|c: char| !(c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/')))
        .filter(|t| {
            let mut parts = t.splitn(2, '/');
            let ip = parts.next().unwrap_or("");
            let len_ok = parts.next().is_some_and(|n| n.parse::<u8>().is_ok());
            len_ok && ip.parse::<std::net::IpAddr>().is_ok()
        })
        .map(str::to_string)
        .collect()
}

/// One weakened-policy finding under construction.
struct Weakening {
    what: String,
    changes: Vec<String>,
    severe: bool,
    policy: Option<String>,
}

fn policy_weakened(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    let ops = ctx.ops(&[
        "Update conditional access policy",
        "Delete conditional access policy",
        "Update policy",
        "Delete policy",
        "Set Company Information",
        "Update authorization policy",
        "Authentication Methods Policy Update",
        "Update authentication methods policy",
        "Update authentication method policy",
    ]);
    for i in ops {
        let e = ctx.ev(i);
        if !succeeded(e) || ctx.is_system_actor(e) {
            continue;
        }
        let op = ctx.s(e.operation).to_ascii_lowercase();
        let w = if op.contains("authentication method") {
            auth_methods_policy_change(ctx, e)
        } else if op == "set company information" {
            trusted_ip_change(ctx, e)
        } else if op == "update authorization policy" {
            consent_policy_change(ctx, e)
        } else {
            ca_change(ctx, e, op.starts_with("delete"))
        };
        let Some(w) = w else { continue };
        let account = ctx.s(e.actor_key);
        let actor = actor_display(ctx, e);
        let mut f = Finding::new(
            rule,
            account,
            format!("{} weakened by {actor}: {}", w.what, w.changes.join("; ")),
        )
        .with_events([i])
        .detail("actor", actor.as_str())
        .detail("policy_kind", w.what.as_str())
        .detail("changes", w.changes.clone());
        if let Some(p) = &w.policy {
            f = f.detail("policy", p.as_str());
        }
        f = if w.severe {
            f.detail(
                "severity_reason",
                "MFA enforcement or a block was removed, or an external identity provider changed",
            )
        } else {
            f.severity(Severity::Medium).detail(
                "severity_reason",
                "narrows the policy (exclusions, report-only, trusted IPs, consent settings) \
                 without removing it",
            )
        };
        out.push(f);
    }
    out
}

fn ca_change(ctx: &Ctx<'_>, e: &Event, delete: bool) -> Option<Weakening> {
    let (new, old) =
        modified(ctx, e, "ConditionalAccessPolicy").or_else(|| modified(ctx, e, "PolicyDetail"))?;
    let old_p = parse_policy(old);
    let new_p = parse_policy(new);
    let graph_form = modified(ctx, e, "ConditionalAccessPolicy").is_some();
    if old_p.is_none() && new_p.is_none() {
        // "Delete conditional access policy" without the old body still removes a CA policy;
        // a "Delete policy" of unknown type may be any directory policy.
        let op = ctx.s(e.operation);
        return ((delete && graph_form)
            || op.eq_ignore_ascii_case("Delete conditional access policy"))
        .then(|| Weakening {
            what: "Conditional Access policy".into(),
            changes: vec!["policy deleted".into()],
            severe: false,
            policy: Some(ctx.s(e.object).to_string()).filter(|s| !s.is_empty()),
        });
    }
    let ov = old_p.as_ref().map(PolicyView::of);
    let nv = new_p.as_ref().map(PolicyView::of);
    let name = nv
        .as_ref()
        .map(|v| v.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| {
            ov.as_ref()
                .map(|v| v.name.clone())
                .filter(|n| !n.is_empty())
        })
        .or_else(|| Some(ctx.s(e.object).to_string()).filter(|s| !s.is_empty()));
    let changes: Vec<(String, bool)> = match (&ov, &nv) {
        (Some(o), None) if delete || new.trim().is_empty() => {
            let severe = o.enabled() && (o.enforces_mfa() || o.blocks());
            vec![(
                if severe {
                    "an enforced MFA/block policy was deleted".to_string()
                } else {
                    "policy deleted".to_string()
                },
                severe,
            )]
        }
        (Some(o), Some(n)) => policy_weakenings(o, n),
        _ => Vec::new(),
    };
    if changes.is_empty() {
        return None;
    }
    Some(Weakening {
        what: "Conditional Access policy".into(),
        severe: changes.iter().any(|c| c.1),
        changes: changes.into_iter().map(|c| c.0).collect(),
        policy: name,
    })
}

fn trusted_ip_change(ctx: &Ctx<'_>, e: &Event) -> Option<Weakening> {
    let (new, old) = modified(ctx, e, "StrongAuthenticationPolicy")?;
    let added: Vec<String> = cidrs(new).difference(&cidrs(old)).cloned().collect();
    if added.is_empty() {
        return None;
    }
    Some(Weakening {
        what: "MFA trusted IPs (tenant StrongAuthenticationPolicy)".into(),
        changes: vec![format!(
            "trusted IP ranges added, MFA is skipped from them: {}",
            added.join(", ")
        )],
        severe: false,
        policy: None,
    })
}

fn consent_policy_change(ctx: &Ctx<'_>, e: &Event) -> Option<Weakening> {
    let mut changes = Vec::new();
    if let Some((new, old)) = modified(ctx, e, "AllowUserConsentForRiskyApps") {
        if is_true(new) && !is_true(old) {
            changes.push("AllowUserConsentForRiskyApps set to true".to_string());
        }
    } else {
        for p in e
            .props()
            .iter()
            .filter(|p| p.bag == Bag::ModifiedProperties)
        {
            let squash = |s: &str| -> String {
                s.chars()
                    .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\\')
                    .collect::<String>()
                    .to_ascii_lowercase()
            };
            let n = squash(ctx.s(p.value));
            let o = squash(p.old.map_or("", |o| ctx.s(o)));
            let key = "allowuserconsentforriskyapps:true";
            if n.contains(key) && !o.contains(key) {
                changes.push("AllowUserConsentForRiskyApps set to true".to_string());
            }
        }
    }
    if let Some((new, old)) = modified(ctx, e, "PermissionGrantPolicyIdsAssignedToDefaultUserRole")
    {
        let legacy = "microsoft-user-default-legacy";
        if new.to_ascii_lowercase().contains(legacy) && !old.to_ascii_lowercase().contains(legacy) {
            changes
                .push("users may consent to any app (microsoft-user-default-legacy)".to_string());
        }
    }
    changes.dedup();
    (!changes.is_empty()).then(|| Weakening {
        what: "Authorization policy (user consent)".into(),
        changes,
        severe: false,
        policy: None,
    })
}

fn auth_methods_policy_change(ctx: &Ctx<'_>, e: &Event) -> Option<Weakening> {
    let mut changes = Vec::new();
    for p in e
        .props()
        .iter()
        .filter(|p| p.bag == Bag::ModifiedProperties)
    {
        let name = ctx.s(p.name);
        let hay = format!("{name} {}", ctx.s(p.value)).to_ascii_lowercase();
        if [
            "openidconnect",
            "discoveryurl",
            "externalauthenticationmethod",
            "external authentication method",
        ]
        .iter()
        .any(|k| hay.contains(k))
        {
            let new: String = ctx.s(p.value).chars().take(300).collect();
            changes.push(format!("{name} → {new}"));
        }
    }
    (!changes.is_empty()).then(|| Weakening {
        what: "Authentication methods policy (external identity provider)".into(),
        changes,
        severe: true,
        policy: None,
    })
}

// ------------------------------------------------------------------------------------------------
// F4 password-reset-by-self-or-attacker
// ------------------------------------------------------------------------------------------------

const PASSWORD_OPS: &[&str] = &[
    "Reset user password",
    "Change user password",
    "Reset password (self-service)",
    "Change password (self-service)",
    "Reset password (by admin)",
];

fn password_reset(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let idx: Vec<u32> = ctx
        .ops(PASSWORD_OPS)
        .into_iter()
        .filter(|&i| succeeded(ctx.ev(i)) && !ctx.is_system_actor(ctx.ev(i)))
        .collect();
    let mut out = Vec::new();
    for &i in &idx {
        let e = ctx.ev(i);
        let account = ctx.account(e);
        let op = ctx.s(e.operation);
        let actor = actor_display(ctx, e);
        let op_l = op.to_ascii_lowercase();
        let self_service = op_l.contains("self-service")
            || op_l == "change user password"
            || ctx.s(e.actor_key).eq_ignore_ascii_case(account)
            || actor.to_ascii_lowercase().contains("self-service");
        let recent = idx
            .iter()
            .filter(|&&j| {
                let o = ctx.ev(j);
                ctx.account(o).eq_ignore_ascii_case(account) && (o.time.0 - e.time.0).abs() <= DAY
            })
            .count();
        let ip = ctx.s(e.ip);
        let familiar = if self_service {
            ip_familiar(ctx, account, e.ip, e.time)
        } else {
            None
        };
        let mut f = Finding::new(
            rule,
            account,
            format!(
                "{op} for {account} ({})",
                if self_service {
                    "self-service".to_string()
                } else {
                    format!("by {actor}")
                }
            ),
        )
        .with_events([i])
        .detail("target", account)
        .detail("actor", actor.as_str())
        .detail("activity", op)
        .detail("self_service", self_service)
        .detail("password_events_within_24h", recent as u64);
        if let Some(b) = familiar {
            f = f.detail("ip_familiar", b);
        }
        let (sev, reason) = if recent >= 3 {
            (
                Severity::Medium,
                format!("{recent} password changes/resets within a day (Microsoft lists frequent password changes as a compromise symptom)"),
            )
        } else if self_service && familiar == Some(false) {
            (
                Severity::Medium,
                format!("self-service change from {ip}, an address this account had not signed in from before"),
            )
        } else if self_service {
            (
                Severity::Low,
                "self-service password change: expected unless the session was the attacker's"
                    .to_string(),
            )
        } else {
            (
                Severity::Info,
                format!("reset by {actor}: usually helpdesk work or remediation"),
            )
        };
        out.push(f.severity(sev).detail("severity_reason", reason));
    }
    out
}

// ------------------------------------------------------------------------------------------------
// F5 device-registration-persistence
// ------------------------------------------------------------------------------------------------

const DEVICE_OPS: &[&str] = &[
    "Add registered users to device",
    "Register device",
    "Add registered owner to device",
    "Add device",
];

/// Elastic's sequence: the victim's `OAuth2:Authorize` from one IP and an `OAuth2:Token`
/// success from another, within 30 minutes before the registration.
fn oauth_redirect_sequence(ctx: &Ctx<'_>, account: &str, at: Timestamp) -> Vec<u32> {
    let mut authorize: Vec<u32> = Vec::new();
    let mut token: Vec<u32> = Vec::new();
    for &i in ctx.op("UserLoggedIn") {
        let s = ctx.ev(i);
        if s.time > at || at.0 - s.time.0 > 30 * MINUTE || s.ip.is_empty() {
            continue;
        }
        if !ctx.account(s).eq_ignore_ascii_case(account) {
            continue;
        }
        match ctx.prop(s, Bag::ExtendedProperties, "RequestType") {
            Some(r) if r.eq_ignore_ascii_case("OAuth2:Authorize") => authorize.push(i),
            Some(r) if r.eq_ignore_ascii_case("OAuth2:Token") && s.outcome == Outcome::Success => {
                token.push(i)
            }
            _ => {}
        }
    }
    for &a in &authorize {
        for &t in &token {
            if ctx.ev(a).ip != ctx.ev(t).ip && ctx.ev(a).time <= ctx.ev(t).time {
                return vec![a, t];
            }
        }
    }
    Vec::new()
}

fn device_registration(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in ctx.ops(DEVICE_OPS) {
        let e = ctx.ev(i);
        if !succeeded(e) || ctx.is_system_actor(e) {
            continue;
        }
        let account = ctx.account(e);
        let seq = oauth_redirect_sequence(ctx, account, e.time);
        let familiar = ip_familiar(ctx, account, e.ip, e.time);
        let ip = ctx.s(e.ip);
        let (sev, reason) = if !seq.is_empty() {
            (
                Severity::High,
                "OAuth2 authorize from one IP then a token redeemed from another IP, then a \
                 device registered, within 30 minutes (Elastic's OAuth-redirect device sequence)"
                    .to_string(),
            )
        } else {
            match familiar {
                Some(true) => continue,
                Some(false) => (
                    Severity::Medium,
                    format!("device registered from {ip}, an address this account had not signed in from before"),
                ),
                None => (
                    Severity::Info,
                    "device registration; no sign-in history to judge the address by".to_string(),
                ),
            }
        };
        let device = ctx
            .prop(e, Bag::Field, "Target.1")
            .unwrap_or_else(|| ctx.s(e.object));
        let op = ctx.s(e.operation);
        let mut f = Finding::new(
            rule,
            account,
            format!("{op} for {account}: device {device}"),
        )
        .with_events([i])
        .with_events(seq.iter().copied())
        .detail("target", account)
        .detail("actor", actor_display(ctx, e))
        .detail("device", device)
        .detail("activity", op)
        .detail("oauth_redirect_sequence", !seq.is_empty());
        if let Some(b) = familiar {
            f = f.detail("ip_familiar", b);
        }
        out.push(f.severity(sev).detail("severity_reason", reason));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyze::testkit::Kit;
    use serde_json::json;

    /// A UAL Entra directory record (RecordType 8) as the Management API writes it.
    pub(crate) fn aad(
        id: &str,
        time: &str,
        op: &str,
        actor: &str,
        target_upn: Option<&str>,
        ip: &str,
        modified: Value,
    ) -> String {
        let mut target = vec![
            json!({"ID": "User_0f1e", "Type": 2}),
            json!({"ID": "User", "Type": 2}),
        ];
        if let Some(t) = target_upn {
            target.push(json!({"ID": t, "Type": 5}));
        }
        json!({
            "CreationTime": time, "Id": id, "Operation": format!("{op}."), "OrganizationId": "org",
            "RecordType": 8, "ResultStatus": "Success", "UserKey": "1003", "UserType": 0,
            "Version": 1, "Workload": "AzureActiveDirectory", "ClientIP": ip, "ObjectId": target_upn.unwrap_or("obj"),
            "UserId": actor, "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [{"Name": "additionalDetails", "Value": "{\"User-Agent\":\"Mozilla/5.0\"}"},
                                   {"Name": "extendedAuditEventCategory", "Value": "User"}],
            "ModifiedProperties": modified,
            "Actor": [{"ID": actor, "Type": 5}], "ActorIpAddress": ip,
            "Target": target,
        })
        .to_string()
    }

    /// A successful UAL sign-in.
    pub(crate) fn logon(id: &str, time: &str, user: &str, ip: &str) -> String {
        json!({
            "CreationTime": time, "Id": id, "Operation": "UserLoggedIn", "RecordType": 15,
            "ResultStatus": "Success", "UserId": user, "ClientIP": ip, "Workload": "AzureActiveDirectory",
            "ErrorNumber": "0", "ApplicationId": "4765445b-32c6-49b0-83e6-1d93765276ca",
            "ExtendedProperties": [{"Name": "RequestType", "Value": "Login:login"}],
        })
        .to_string()
    }

    /// `[{"MethodType": n, "Default": b}]` with Entra's `\r\n` indentation.
    fn methods(m: &[(i64, bool)]) -> String {
        let items: Vec<String> = m
            .iter()
            .map(|(t, d)| {
                format!("  {{\r\n    \"MethodType\": {t},\r\n    \"Default\": {d}\r\n  }}")
            })
            .collect();
        if items.is_empty() {
            "[]".into()
        } else {
            format!("[\r\n{}\r\n]", items.join(",\r\n"))
        }
    }

    fn mp(name: &str, new: &str, old: &str) -> Value {
        json!({"Name": name, "NewValue": new, "OldValue": old})
    }

    fn rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).expect("rule")
    }

    #[test]
    fn method_names_follow_microsofts_index() {
        assert_eq!(method_name(0), "TwoWayVoiceMobile (0)");
        assert_eq!(method_name(6), "PhoneAppNotification (6)");
        assert_eq!(method_name(7), "PhoneAppOTP (7)");
        assert_eq!(method_name(12), "MethodType 12");
        assert_eq!(
            parse_methods(&methods(&[(6, true), (0, false)])),
            Some(vec![(6, true), (0, false)])
        );
        assert_eq!(multiset_added(&[6], &[6, 0, 6]), vec![0, 6]);
        assert!(is_true("[\r\n  true\r\n]") && is_true("$true") && is_false("False"));
        assert_eq!(
            cidrs("{\"IpRanges\":[\"203.0.113.0/24\",\"10.0.0.1\"]} 2001:db8::/32"),
            ["2001:db8::/32".to_string(), "203.0.113.0/24".to_string()]
                .into_iter()
                .collect()
        );
    }

    #[test]
    fn attacker_adds_sms_method_from_new_ip() {
        let mut k = Kit::new();
        k.ual(&logon(
            "s1",
            "2026-03-01T08:00:00",
            "megan@corp.example",
            "198.51.100.7",
        ));
        k.ual(&aad(
            "u1",
            "2026-03-09T10:15:00",
            "Update user",
            "megan@corp.example",
            Some("megan@corp.example"),
            "203.0.113.66",
            json!([
                mp("StrongAuthenticationMethod", &methods(&[(6, true), (5, false)]), &methods(&[(6, true)])),
                mp("StrongAuthenticationUserDetails",
                   "[\r\n  {\r\n    \"PhoneNumber\": \"+1 5550100\",\r\n    \"Email\": null\r\n  }\r\n]",
                   "[\r\n  {\r\n    \"PhoneNumber\": null,\r\n    \"Email\": null\r\n  }\r\n]"),
                mp("Included Updated Properties", "StrongAuthenticationMethod, StrongAuthenticationUserDetails", ""),
            ]),
        ));
        let f = k.run(rule("mfa-method-added"), &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.account, "megan@corp.example");
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.details["methods_added"], json!(["OneWaySms (5)"]));
        assert_eq!(f.details["contact_info_set"]["PhoneNumber"], "+1 5550100");
        assert_eq!(f.details["ip_familiar"], false);
        assert!(f.summary.contains("OneWaySms"), "{}", f.summary);
        assert_eq!(f.evidence.len(), 1);
        assert_eq!(f.ips, ["203.0.113.66"]);
    }

    #[test]
    fn new_starter_registering_from_the_office_is_low() {
        let mut k = Kit::new();
        for (n, u) in ["a", "b", "c"].iter().enumerate() {
            k.ual(&logon(
                &format!("s{n}"),
                "2026-03-02T08:00:00",
                &format!("{u}@corp.example"),
                "192.0.2.10",
            ));
        }
        k.ual(&logon(
            "s9",
            "2026-03-02T08:25:00",
            "leo@corp.example",
            "192.0.2.10",
        ));
        k.ual(&aad(
            "u2",
            "2026-03-02T08:30:00",
            "Update user",
            "leo@corp.example",
            Some("leo@corp.example"),
            "192.0.2.10",
            json!([mp(
                "StrongAuthenticationMethod",
                &methods(&[(6, true), (0, false)]),
                &methods(&[(6, true)])
            )]),
        ));
        let f = k.run(rule("mfa-method-added"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
        assert_eq!(f[0].details["ip_familiar"], true);
        assert!(f[0].severity < Severity::High);
    }

    #[test]
    fn unchanged_or_removed_methods_are_not_additions() {
        let mut k = Kit::new();
        k.ual(&aad(
            "u3",
            "2026-03-02T08:30:00",
            "Update user",
            "admin@corp.example",
            Some("leo@corp.example"),
            "192.0.2.10",
            json!([
                mp(
                    "StrongAuthenticationMethod",
                    &methods(&[(6, false), (7, true)]),
                    &methods(&[(7, true), (6, true)])
                ),
                mp("DisplayName", "[\"Leo\"]", "[\"L\"]"),
            ]),
        ));
        assert!(k.run(rule("mfa-method-added"), &[]).is_empty());
        assert!(k.run(rule("mfa-removed-disabled"), &[]).is_empty());
    }

    #[test]
    fn authenticator_device_and_tap() {
        let mut k = Kit::new();
        k.ual(&aad(
            "u4",
            "2026-03-09T10:15:00",
            "Update user",
            "megan@corp.example",
            Some("megan@corp.example"),
            "203.0.113.66",
            json!([mp(
                "StrongAuthenticationPhoneAppDetail",
                "[{\"DeviceName\":\"Pixel 7\",\"Id\":\"d2\",\"PhoneAppVersion\":\"6.2\"},{\"DeviceName\":\"iPhone\",\"Id\":\"d1\"}]",
                "[{\"DeviceName\":\"iPhone\",\"Id\":\"d1\"}]"
            )]),
        ));
        k.ual(&aad(
            "u5",
            "2026-03-09T11:00:00",
            "Admin registered security info",
            "it@corp.example",
            Some("bob@corp.example"),
            "203.0.113.66",
            json!([mp("AuthenticationMethod", "Temporary Access Pass", "")]),
        ));
        let f = k.run(rule("mfa-method-added"), &[]);
        assert_eq!(f.len(), 2, "{f:#?}");
        let dev = f
            .iter()
            .find(|x| x.account == "megan@corp.example")
            .expect("device");
        assert_eq!(
            dev.details["authenticator_devices_added"],
            json!(["Pixel 7 (app 6.2)"])
        );
        let tap = f
            .iter()
            .find(|x| x.account == "bob@corp.example")
            .expect("tap");
        assert_eq!(tap.severity, Severity::High);
        assert!(!tap.evidence.is_empty());
    }

    #[test]
    fn security_info_joins_the_update_user_finding() {
        let mut k = Kit::new();
        k.ual(&aad(
            "u6",
            "2026-03-09T10:15:00",
            "Update user",
            "megan@corp.example",
            Some("megan@corp.example"),
            "",
            json!([mp(
                "StrongAuthenticationMethod",
                &methods(&[(7, true)]),
                "[]"
            )]),
        ));
        k.ual(&aad(
            "u7",
            "2026-03-09T10:15:02",
            "User registered security info",
            "megan@corp.example",
            Some("megan@corp.example"),
            "",
            json!([]),
        ));
        let f = k.run(rule("mfa-method-added"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.len(), 2);
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn mfa_disabled_single_versus_bulk() {
        let mut k = Kit::new();
        k.ual(&aad(
            "d1",
            "2026-03-09T10:00:00",
            "Disable Strong Authentication",
            "admin@corp.example",
            Some("ceo@corp.example"),
            "203.0.113.5",
            json!([]),
        ));
        k.ual(&aad(
            "d2",
            "2026-03-09T10:00:01",
            "Update user",
            "admin@corp.example",
            Some("ceo@corp.example"),
            "203.0.113.5",
            json!([mp(
                "StrongAuthenticationRequirement",
                "[]",
                "[{\"RelyingParty\":\"*\",\"State\":1}]"
            )]),
        ));
        let f = k.run(rule("mfa-removed-disabled"), &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].account, "ceo@corp.example");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].evidence.len(), 2);

        let mut k = Kit::new();
        for n in 0..6 {
            k.ual(&aad(
                &format!("b{n}"),
                &format!("2026-03-09T10:0{n}:00"),
                "Disable Strong Authentication",
                "admin@corp.example",
                Some(&format!("u{n}@corp.example")),
                "192.0.2.1",
                json!([]),
            ));
        }
        let f = k.run(rule("mfa-removed-disabled"), &[]);
        assert_eq!(f.len(), 6);
        assert!(f.iter().all(|x| x.severity == Severity::Medium));
    }

    #[test]
    fn methods_cleared_is_medium_and_partial_removal_is_nothing() {
        let mut k = Kit::new();
        k.ual(&aad(
            "c1",
            "2026-03-09T10:00:00",
            "Update user",
            "ServicePrincipal_aa",
            Some("sam@corp.example"),
            "",
            json!([mp(
                "StrongAuthenticationMethod",
                "[]",
                &methods(&[(7, true)])
            )]),
        ));
        k.ual(&aad(
            "c2",
            "2026-03-09T10:00:00",
            "Update user",
            "ServicePrincipal_aa",
            Some("kim@corp.example"),
            "",
            json!([mp(
                "StrongAuthenticationMethod",
                &methods(&[(7, true)]),
                &methods(&[(7, true), (0, false)])
            )]),
        ));
        let f = k.run(rule("mfa-removed-disabled"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "sam@corp.example");
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(
            f[0].details["methods_before"],
            json!(["PhoneAppOTP (7) default"])
        );
    }

    fn ca_policy(state: &str, controls: &[&str], exclude: &[&str]) -> String {
        json!({
            "id": "p1", "displayName": "Require MFA", "state": state,
            "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": exclude}},
            "grantControls": {"operator": "OR", "builtInControls": controls},
        })
        .to_string()
    }

    #[test]
    fn ca_policy_mfa_removed_is_high_and_exclusion_is_medium() {
        let mut k = Kit::new();
        k.ual(&aad(
            "p1",
            "2026-03-09T10:00:00",
            "Update conditional access policy",
            "admin@corp.example",
            None,
            "203.0.113.5",
            json!([mp(
                "ConditionalAccessPolicy",
                &ca_policy("enabled", &[], &[]),
                &ca_policy("enabled", &["mfa"], &[])
            )]),
        ));
        k.ual(&aad(
            "p2",
            "2026-03-09T11:00:00",
            "Update conditional access policy",
            "admin2@corp.example",
            None,
            "203.0.113.5",
            json!([mp(
                "ConditionalAccessPolicy",
                &ca_policy("enabled", &["mfa"], &["u-1"]),
                &ca_policy("enabled", &["mfa"], &[])
            )]),
        ));
        // Near miss: MFA added, not removed.
        k.ual(&aad(
            "p3",
            "2026-03-09T12:00:00",
            "Update conditional access policy",
            "admin3@corp.example",
            None,
            "203.0.113.5",
            json!([mp(
                "ConditionalAccessPolicy",
                &ca_policy("enabled", &["mfa"], &[]),
                &ca_policy("enabled", &[], &[])
            )]),
        ));
        let f = k.run(rule("ca-or-mfa-policy-weakened"), &[]);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!(f[0].account, "admin@corp.example");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["policy"], "Require MFA");
        assert_eq!(f[1].severity, Severity::Medium);
        assert!(f[1].details["changes"][0]
            .as_str()
            .unwrap_or("")
            .contains("u-1"));
    }

    #[test]
    fn core_directory_policy_detail_and_trusted_ips() {
        let old = "[\"{\\\"Version\\\":1,\\\"State\\\":\\\"Enabled\\\",\\\"Conditions\\\":{\\\"Users\\\":{\\\"Include\\\":[{\\\"Users\\\":[\\\"All\\\"]}]}},\\\"Controls\\\":[{\\\"Control\\\":[\\\"Mfa\\\"]}]}\"]";
        let new = "[\"{\\\"Version\\\":1,\\\"State\\\":\\\"Enabled\\\",\\\"Conditions\\\":{\\\"Users\\\":{\\\"Include\\\":[{\\\"Users\\\":[\\\"All\\\"]}]}}}\"]";
        let mut k = Kit::new();
        k.ual(&aad(
            "q1",
            "2026-03-09T10:00:00",
            "Update policy",
            "admin@corp.example",
            None,
            "203.0.113.5",
            json!([mp("PolicyDetail", new, old)]),
        ));
        k.ual(&aad(
            "q2",
            "2026-03-09T10:05:00",
            "Set Company Information",
            "admin@corp.example",
            None,
            "203.0.113.5",
            json!([mp(
                "StrongAuthenticationPolicy",
                "[{\"IpRanges\":[\"192.0.2.0/24\",\"203.0.113.0/24\"]}]",
                "[{\"IpRanges\":[\"192.0.2.0/24\"]}]"
            )]),
        ));
        k.ual(&aad(
            "q3",
            "2026-03-09T10:06:00",
            "Update authorization policy",
            "admin@corp.example",
            None,
            "203.0.113.5",
            json!([mp("AllowUserConsentForRiskyApps", "[true]", "[false]")]),
        ));
        let f = k.run(rule("ca-or-mfa-policy-weakened"), &[]);
        assert_eq!(f.len(), 3, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[1].details["changes"][0]
            .as_str()
            .unwrap_or("")
            .contains("203.0.113.0/24"));
        assert!(!f[1].details["changes"][0]
            .as_str()
            .unwrap_or("")
            .contains("192.0.2.0/24"));
        assert_eq!(f[1].severity, Severity::Medium);
        assert_eq!(f[2].severity, Severity::Medium);
    }

    #[test]
    fn oidc_change_is_high_other_methods_policy_change_is_nothing() {
        let mut k = Kit::new();
        k.ual(&aad(
            "o1",
            "2026-03-09T10:00:00",
            "Authentication Methods Policy Update",
            "admin@corp.example",
            None,
            "1.2.3.4",
            json!([mp(
                "OpenIdConnectConfiguration",
                "{\"discoveryUrl\":\"https://idp.evil.example/.well-known/openid-configuration\"}",
                "{}"
            )]),
        ));
        k.ual(&aad(
            "o2",
            "2026-03-09T10:00:00",
            "Authentication Methods Policy Update",
            "admin@corp.example",
            None,
            "1.2.3.4",
            json!([mp("PasswordlessMFAEnabled", "true", "false")]),
        ));
        let f = k.run(rule("ca-or-mfa-policy-weakened"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn password_changes_are_graded_by_context() {
        let mut k = Kit::new();
        k.ual(&logon(
            "s1",
            "2026-03-01T08:00:00",
            "megan@corp.example",
            "198.51.100.7",
        ));
        k.ual(&aad(
            "r1",
            "2026-03-09T10:00:00",
            "Change user password",
            "megan@corp.example",
            Some("megan@corp.example"),
            "203.0.113.66",
            json!([]),
        ));
        k.ual(&aad(
            "r2",
            "2026-03-09T10:00:00",
            "Reset user password",
            "helpdesk@corp.example",
            Some("tom@corp.example"),
            "192.0.2.1",
            json!([]),
        ));
        k.ual(&aad(
            "r3",
            "2026-03-09T10:00:00",
            "Change user password",
            "ann@corp.example",
            Some("ann@corp.example"),
            "",
            json!([]),
        ));
        let f = k.run(rule("password-reset-by-self-or-attacker"), &[]);
        assert_eq!(f.len(), 3);
        let by = |a: &str| f.iter().find(|x| x.account == a).expect("finding");
        assert_eq!(by("megan@corp.example").severity, Severity::Medium);
        assert_eq!(by("tom@corp.example").severity, Severity::Info);
        assert_eq!(by("ann@corp.example").severity, Severity::Low);
        assert_eq!(by("megan@corp.example").details["self_service"], true);
    }

    #[test]
    fn device_registration_after_oauth_redirect_is_high() {
        let mut k = Kit::new();
        let req = |id: &str, t: &str, ip: &str, rt: &str| {
            json!({"CreationTime": t, "Id": id, "Operation": "UserLoggedIn", "RecordType": 15,
                   "ResultStatus": "Success", "UserId": "megan@corp.example", "ClientIP": ip, "ErrorNumber": "0",
                   "ExtendedProperties": [{"Name": "RequestType", "Value": rt}]})
            .to_string()
        };
        k.ual(&req(
            "a1",
            "2026-03-09T10:00:00",
            "198.51.100.7",
            "OAuth2:Authorize",
        ));
        k.ual(&req(
            "a2",
            "2026-03-09T10:05:00",
            "203.0.113.66",
            "OAuth2:Token",
        ));
        k.ual(&aad(
            "dv",
            "2026-03-09T10:10:00",
            "Add registered users to device",
            "megan@corp.example",
            Some("megan@corp.example"),
            "203.0.113.66",
            json!([]),
        ));
        let f = k.run(rule("device-registration-persistence"), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].evidence.len(), 3);

        // Near miss: registration from the account's long-known IP, no sequence.
        let mut k = Kit::new();
        k.ual(&logon(
            "s1",
            "2026-03-01T08:00:00",
            "megan@corp.example",
            "198.51.100.7",
        ));
        k.ual(&aad(
            "dv",
            "2026-03-09T10:10:00",
            "Add registered users to device",
            "megan@corp.example",
            Some("megan@corp.example"),
            "198.51.100.7",
            json!([]),
        ));
        assert!(k
            .run(rule("device-registration-persistence"), &[])
            .is_empty());
    }

    // ---- Panther and rule-example cases -------------------------------------------------------

    fn shared(rel: &str) -> Option<Value> {
        let p = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/cases/"
        ))
        .join(rel);
        match std::fs::read_to_string(&p) {
            Ok(t) => serde_json::from_str(&t).ok(),
            Err(_) => {
                eprintln!("skipping: {} not present", p.display());
                None
            }
        }
    }

    /// Panther's `microsoft365_mfa_disabled` (UAL `Update user.`, StrongAuthenticationMethod
    /// going from a value to empty) maps to F2; our verdict must agree on both of its cases.
    /// The rule-examples copy of the same tests is checked too.
    #[test]
    fn panther_m365_mfa_disabled_cases_agree() {
        for (file, tests_key, name_key, exp_key) in [
            (
                "panther-analysis/microsoft365_mfa_disabled.tests.json",
                "tests",
                "test_name",
                "expected",
            ),
            (
                "rule-examples/panther_m365_mfa_disabled.json",
                "tests",
                "name",
                "expected_result",
            ),
        ] {
            let Some(doc) = shared(file) else { return };
            let tests = doc[tests_key].as_array().cloned().unwrap_or_default();
            assert!(!tests.is_empty(), "{file}");
            for t in tests {
                let mut k = Kit::new();
                k.ual(&t["log"].to_string());
                let got = !k.run(rule("mfa-removed-disabled"), &[]).is_empty();
                let want = t[exp_key].as_bool().unwrap_or(false);
                assert_eq!(got, want, "{file}: {}", t[name_key]);
                // The add event is ours to report under F1 instead.
                if !want {
                    let f1 = k.run(rule("mfa-method-added"), &[]);
                    assert_eq!(f1.len(), 1);
                    assert_eq!(f1[0].account, "sample.user@yourorg.onmicrosoft.com");
                    assert_eq!(f1[0].details["methods_added"], json!(["PhoneAppOTP (7)"]));
                }
            }
        }
    }

    /// Azure.Audit cases that map to F3 are Entra *audit-log* diagnostic records
    /// (`operationName`, `properties.targetResources[].modifiedProperties`), an input family
    /// mailsleuth does not read yet (the UAL parser rejects them). Not applicable, with the
    /// reason per file:
    /// * `panther-analysis/azure_mfa_disabled.tests.json` — CA policy loses "mfa"
    ///   (Entra audit log). Same logic is exercised in UAL shape by
    ///   `ca_policy_mfa_removed_is_high_and_exclusion_is_medium`. Its third case ("Update policy"
    ///   from Core Directory, expected false) would disagree on principle once read: in the UAL
    ///   the Core Directory `Update policy.` is the only record of a CA change, so we flag it.
    /// * `rule-examples/panther_azure_audit_ca_policy_mfa_removed.json` — the same tests.
    /// * `panther-analysis/azure_auth_methods_policy_oidc_change.tests.json` — OIDC discovery
    ///   URL change (Entra audit log); UAL shape covered by
    ///   `oidc_change_is_high_other_methods_policy_change_is_nothing`.
    /// * `panther-analysis/azure_policy_changed.tests.json` — any CA policy update/delete
    ///   (Entra audit log); Panther flags every change, we flag only weakenings.
    #[test]
    fn azure_audit_cases_are_not_read_yet() {
        for file in [
            "panther-analysis/azure_mfa_disabled.tests.json",
            "rule-examples/panther_azure_audit_ca_policy_mfa_removed.json",
            "panther-analysis/azure_auth_methods_policy_oidc_change.tests.json",
            "panther-analysis/azure_policy_changed.tests.json",
        ] {
            let Some(doc) = shared(file) else { return };
            let tests = doc["tests"].as_array().cloned().unwrap_or_default();
            assert!(!tests.is_empty(), "{file}");
            for t in tests {
                let i = crate::event::Interner::new();
                let pc = crate::ingest::record::ParseCtx {
                    interner: &i,
                    file: 0,
                };
                let mut out = Vec::new();
                let r = crate::ingest::record::JsonParser::parse_record(
                    &crate::ingest::ual_json::UalJson::new(),
                    &t["log"].to_string(),
                    1,
                    &pc,
                    &mut out,
                );
                if r.is_ok() {
                    panic!(
                        "{file}: the UAL parser now reads Azure.Audit records; map these cases to \
                         ca-or-mfa-policy-weakened and check the verdicts"
                    );
                }
                eprintln!(
                    "not applicable ({file}): Entra audit-log diagnostic record, not read yet"
                );
            }
        }
    }
}

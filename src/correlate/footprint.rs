//! The attacker's footprint on one account: IPs, sessions and tokens, found by pivoting from the
//! first malicious evidence.
//!
//! Seeds are the client IPs of the account's medium-or-worse findings, minus the account's own
//! established IPs (used successfully on two or more days before the first such finding — the
//! office egress, the user's home) and internal addresses. Then, to a fixed point: every
//! session and token used from an attacker IP joins the footprint, and every IP that used an
//! attacker session or token joins too. That is what ties a replayed token from an IP with no
//! sign-in record back to the phished session. IPs shared by a large share of the tenant (office
//! egress) are never seeds.

use crate::analyze::{Ctx, Finding, Severity};
use crate::event::{ip, Event, Outcome, SourceKind, Sym, Timestamp};
use std::collections::{BTreeSet, HashMap, HashSet};

/// One account's attacker footprint.
#[derive(Debug, Clone, Default)]
pub struct Footprint {
    /// Attacker IPs.
    pub ips: HashSet<Sym>,
    /// Attacker session ids.
    pub sessions: HashSet<Sym>,
    /// Attacker token ids.
    pub tokens: HashSet<Sym>,
    /// Indices of the account's events that belong to the footprint, in time order.
    pub events: Vec<u32>,
}

impl Footprint {
    /// True when the event used attacker infrastructure.
    pub fn touches(&self, e: &Event) -> bool {
        (!e.ip.is_empty() && self.ips.contains(&e.ip))
            || (!e.session_id.is_empty() && self.sessions.contains(&e.session_id))
            || (!e.token_id.is_empty() && self.tokens.contains(&e.token_id))
    }

    /// First and last footprint event.
    pub fn window(&self, ctx: &Ctx<'_>) -> Option<(Timestamp, Timestamp)> {
        let first = self.events.first()?;
        let last = self.events.last()?;
        Some((ctx.ev(*first).time, ctx.ev(*last).time))
    }

    /// Strings of a symbol set, sorted.
    pub fn sorted(ctx: &Ctx<'_>, set: &HashSet<Sym>) -> Vec<String> {
        let v: BTreeSet<String> = set.iter().map(|s| ctx.s(*s).to_string()).collect();
        v.into_iter().collect()
    }
}

/// Index of each account's events (as actor or as affected mailbox; message trace excluded:
/// a sender address says nothing about where a session came from).
pub fn events_by_account(ctx: &Ctx<'_>) -> HashMap<Sym, Vec<u32>> {
    let mut map: HashMap<Sym, Vec<u32>> = HashMap::new();
    for (i, e) in ctx.events.iter().enumerate() {
        if e.source == SourceKind::MessageTrace {
            continue;
        }
        if !e.actor_key.is_empty() {
            map.entry(e.actor_key).or_default().push(i as u32);
        }
        if !e.mailbox.is_empty() && e.mailbox != e.actor_key {
            map.entry(e.mailbox).or_default().push(i as u32);
        }
    }
    map
}

/// IPs the account used successfully on at least two distinct days before `before`.
pub fn established_ips(ctx: &Ctx<'_>, events: &[u32], before: Timestamp) -> HashSet<Sym> {
    let mut days: HashMap<Sym, BTreeSet<i64>> = HashMap::new();
    for &i in events {
        let e = ctx.ev(i);
        if e.time >= before {
            break;
        }
        if e.ip.is_empty() || e.outcome == Outcome::Failure {
            continue;
        }
        days.entry(e.ip)
            .or_default()
            .insert(e.time.0.div_euclid(86_400_000_000));
    }
    days.into_iter()
        .filter(|(_, d)| d.len() >= 2)
        .map(|(ip, _)| ip)
        .collect()
}

fn is_usable_ip(ctx: &Ctx<'_>, sym: Sym) -> bool {
    if ctx.is_common_ip(sym) {
        return false;
    }
    match ip::parse_ip(ctx.s(sym)) {
        Some(addr) => !ip::is_internal(&addr),
        None => false,
    }
}

/// Builds the footprint of `account` from its findings (`findings` are the account's own).
pub fn pivot(ctx: &Ctx<'_>, account_events: &[u32], findings: &[&Finding]) -> Footprint {
    let seeds: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    let Some(first) = seeds.iter().map(|f| f.first_seen).min() else {
        return Footprint::default();
    };
    let established = established_ips(ctx, account_events, first);
    let mut fp = Footprint::default();
    for f in &seeds {
        for &i in &f.events {
            let e = ctx.ev(i);
            if !e.ip.is_empty() && !established.contains(&e.ip) && is_usable_ip(ctx, e.ip) {
                fp.ips.insert(e.ip);
            }
        }
    }
    loop {
        let before = (fp.ips.len(), fp.sessions.len(), fp.tokens.len());
        for &i in account_events {
            let e = ctx.ev(i);
            if fp.ips.contains(&e.ip) {
                if !e.session_id.is_empty() {
                    fp.sessions.insert(e.session_id);
                }
                if !e.token_id.is_empty() {
                    fp.tokens.insert(e.token_id);
                }
            }
            let via_session = (!e.session_id.is_empty() && fp.sessions.contains(&e.session_id))
                || (!e.token_id.is_empty() && fp.tokens.contains(&e.token_id));
            if via_session
                && !e.ip.is_empty()
                && !established.contains(&e.ip)
                && is_usable_ip(ctx, e.ip)
            {
                fp.ips.insert(e.ip);
            }
        }
        if before == (fp.ips.len(), fp.sessions.len(), fp.tokens.len()) {
            break;
        }
    }
    fp.events = account_events
        .iter()
        .copied()
        .filter(|&i| fp.touches(ctx.ev(i)))
        .collect();
    // Findings without any IP (e.g. a rule created by a service) still belong to the incident.
    let mut extra: Vec<u32> = seeds
        .iter()
        .filter(|f| f.ips.is_empty() && f.severity >= Severity::High)
        .flat_map(|f| f.events.iter().copied())
        .collect();
    fp.events.append(&mut extra);
    fp.events.sort_unstable_by_key(|&i| ctx.ev(i).time_key());
    fp.events.dedup();
    fp
}

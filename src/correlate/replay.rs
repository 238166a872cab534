//! Token replay: the attacker's session or token used from an IP that has no sign-in record for
//! the account. Single-event rules cannot see this; it is the best offline differentiator the
//! catalog names (§2.1): a stolen cookie or token needs no sign-in.

use super::footprint::Footprint;
use crate::analyze::{Ctx, Finding, Rule, Severity, Tactic};
use crate::event::Sym;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The rule this correlation reports under (it has no detection function of its own).
pub static TOKEN_REPLAY: Rule = Rule {
    id: "token-replay-without-signin",
    title: "Attacker session or token replayed from an IP with no sign-in",
    severity: Severity::High,
    mitre: &["T1550.004", "T1539"],
    tactic: Tactic::DefenseEvasion,
    run: no_detection,
};

fn no_detection(_: &Ctx<'_>, _: &'static Rule) -> Vec<Finding> {
    Vec::new()
}

/// One finding per (account, replaying IP).
pub fn token_replay(ctx: &Ctx<'_>, footprints: &BTreeMap<String, Footprint>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (account, fp) in footprints {
        if fp.sessions.is_empty() && fp.tokens.is_empty() {
            continue;
        }
        let signin_ips: HashSet<Sym> = fp
            .events
            .iter()
            .map(|&i| ctx.ev(i))
            .filter(|e| ctx.is_signin(e))
            .map(|e| e.ip)
            .collect();
        if signin_ips.is_empty() {
            continue; // no sign-in data at all: absence proves nothing
        }
        let mut by_ip: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for &i in &fp.events {
            let e = ctx.ev(i);
            let via = (!e.session_id.is_empty() && fp.sessions.contains(&e.session_id))
                || (!e.token_id.is_empty() && fp.tokens.contains(&e.token_id));
            if via && !e.ip.is_empty() && !signin_ips.contains(&e.ip) && !ctx.is_signin(e) {
                by_ip.entry(ctx.s(e.ip).to_string()).or_default().push(i);
            }
        }
        for (ip, events) in by_ip {
            let sessions: BTreeSet<&str> = events
                .iter()
                .map(|&i| ctx.ev(i))
                .flat_map(|e| [ctx.s(e.session_id), ctx.s(e.token_id)])
                .filter(|s| !s.is_empty())
                .collect();
            let mut origin: Vec<String> = signin_ips
                .iter()
                .map(|s| ctx.s(*s).to_string())
                .filter(|s| !s.is_empty())
                .collect();
            origin.sort();
            let summary = format!(
                "{} action(s) from {ip} reused the attacker's session ({}) without any sign-in \
                 from {ip}; the session was signed in from {}",
                events.len(),
                sessions.iter().copied().collect::<Vec<_>>().join(", "),
                origin.join(", ")
            );
            out.push(
                Finding::new(&TOKEN_REPLAY, account, summary)
                    .with_events(events.iter().copied())
                    .detail("replay_ip", ip.clone())
                    .detail(
                        "sessions",
                        sessions.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    )
                    .detail("signin_ips", origin),
            );
        }
    }
    out
}

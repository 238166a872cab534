//! Impossible travel from GeoIP: two of an account's successful events, from different IPs,
//! further apart than anyone can travel in the time between them (Elastic's thresholds:
//! ≥ 500 km at ≥ 800 km/h). Needs `--geoip`; sign-ins that carry their own coordinates are
//! covered by the sign-in rules without a database.

use crate::analyze::{Ctx, Finding, Rule, Severity, Tactic};
use crate::event::{ip, Outcome, SourceKind, Sym};
use crate::geo::{distance_km, GeoInfo, GeoIp};
use std::collections::{BTreeMap, HashMap};

/// Minimum distance.
pub const MIN_KM: f64 = 500.0;
/// Minimum speed.
pub const MIN_KMH: f64 = 800.0;
/// Pairs further apart in time than this are not compared.
const MAX_GAP_HOURS: f64 = 24.0;

/// The rule the GeoIP variant reports under.
pub static IMPOSSIBLE_TRAVEL_GEOIP: Rule = Rule {
    id: "impossible-travel-geoip",
    title: "Impossible travel between the account's IPs (GeoIP)",
    severity: Severity::Medium,
    mitre: &["T1078.004"],
    tactic: Tactic::InitialAccess,
    run: |_, _| Vec::new(),
};

/// Looks up every distinct external IP once.
pub fn locate(ctx: &Ctx<'_>, geo: &GeoIp) -> HashMap<Sym, GeoInfo> {
    let mut out = HashMap::new();
    for e in ctx.events {
        if e.ip.is_empty() || out.contains_key(&e.ip) {
            continue;
        }
        if let Some(addr) = ip::parse_ip(ctx.s(e.ip)) {
            if !ip::is_internal(&addr) {
                out.insert(e.ip, geo.lookup(addr));
            }
        }
    }
    out
}

/// The first occurrence of a move between two IPs, and how often it happened.
struct Hop {
    from: u32,
    to: u32,
    km: f64,
    minutes: f64,
    count: u32,
}

/// One finding per (account, IP pair).
pub fn impossible_travel(
    ctx: &Ctx<'_>,
    by_account: &HashMap<Sym, Vec<u32>>,
    located: &HashMap<Sym, GeoInfo>,
) -> Vec<Finding> {
    let mut accounts: Vec<(&str, &Vec<u32>)> = by_account
        .iter()
        .map(|(a, ev)| (ctx.s(*a), ev))
        .filter(|(a, _)| a.contains('@'))
        .collect();
    accounts.sort_by_key(|(a, _)| *a);
    let mut out = Vec::new();
    for (account, events) in accounts {
        let mut last: Option<u32> = None;
        let mut pairs: BTreeMap<(String, String), Hop> = BTreeMap::new();
        for &i in events {
            let e = ctx.ev(i);
            if e.outcome == Outcome::Failure || e.source == SourceKind::MessageTrace {
                continue;
            }
            let Some(here) = located.get(&e.ip).and_then(GeoInfo::coords) else {
                continue;
            };
            if let Some(p) = last {
                let prev = ctx.ev(p);
                if prev.ip != e.ip {
                    let there = located.get(&prev.ip).and_then(GeoInfo::coords);
                    let hours = (e.time.0 - prev.time.0) as f64 / 3.6e9;
                    if let Some(there) = there {
                        let km = distance_km(there, here);
                        let kmh = if hours > 0.0 {
                            km / hours
                        } else {
                            f64::INFINITY
                        };
                        if km >= MIN_KM && kmh >= MIN_KMH && hours <= MAX_GAP_HOURS {
                            let key = (ctx.s(prev.ip).to_string(), ctx.s(e.ip).to_string());
                            pairs
                                .entry(key)
                                .and_modify(|h| h.count += 1)
                                .or_insert(Hop {
                                    from: p,
                                    to: i,
                                    km,
                                    minutes: hours * 60.0,
                                    count: 1,
                                });
                        }
                    }
                }
            }
            last = Some(i);
        }
        for ((from, to), hop) in pairs {
            let Hop {
                from: a,
                to: b,
                km,
                minutes,
                count,
            } = hop;
            let label = |ip: &str| {
                ctx.interner
                    .get(ip)
                    .and_then(|s| located.get(&s))
                    .map(GeoInfo::label)
                    .unwrap_or_default()
            };
            let summary = format!(
                "{account} active from {from} ({}) then {to} ({}) {:.0} km apart within {:.0} \
                 minutes",
                label(&from),
                label(&to),
                km,
                minutes
            );
            out.push(
                Finding::new(&IMPOSSIBLE_TRAVEL_GEOIP, account, summary)
                    .with_events([a, b])
                    .detail("from_ip", from.clone())
                    .detail("to_ip", to.clone())
                    .detail("from_location", label(&from))
                    .detail("to_location", label(&to))
                    .detail("distance_km", km.round())
                    .detail("minutes", minutes.round())
                    .detail("occurrences", count),
            );
        }
    }
    out
}

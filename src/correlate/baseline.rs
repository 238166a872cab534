//! What was new for the user: the footprint's IPs, user agents, countries and networks compared
//! with the account's own history before the compromise window, from the same export. The
//! export is the baseline: no SIEM history is needed.

use super::footprint::Footprint;
use crate::analyze::Ctx;
use crate::event::{Sym, Timestamp};
use crate::geo::GeoInfo;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The footprint against the account's earlier history.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Baseline {
    /// Earliest record of the account in the inputs (the history starts here).
    pub history_from: Option<Timestamp>,
    /// Attacker IPs never used by the account before the window.
    pub new_ips: Vec<String>,
    /// Attacker user agents / clients never used before.
    pub new_user_agents: Vec<String>,
    /// Attacker countries never seen before (GeoIP).
    pub new_countries: Vec<String>,
    /// Attacker networks (ASN) never seen before (GeoIP).
    pub new_asns: Vec<String>,
}

/// Compares the footprint with the account's events before `start`.
pub fn compare(
    ctx: &Ctx<'_>,
    account_events: &[u32],
    fp: &Footprint,
    start: Timestamp,
    located: Option<&HashMap<Sym, GeoInfo>>,
) -> Baseline {
    let before: Vec<u32> = account_events
        .iter()
        .copied()
        .filter(|&i| ctx.ev(i).time < start && !fp.touches(ctx.ev(i)))
        .collect();
    let seen_ips: HashSet<Sym> = before.iter().map(|&i| ctx.ev(i).ip).collect();
    let seen_uas: HashSet<Sym> = before.iter().map(|&i| ctx.ev(i).user_agent).collect();
    let attack: Vec<u32> = fp.events.clone();
    let strs = |set: BTreeSet<&str>| set.into_iter().map(str::to_string).collect::<Vec<_>>();
    let new_ips = strs(
        attack
            .iter()
            .map(|&i| ctx.ev(i).ip)
            .filter(|ip| !ip.is_empty() && !seen_ips.contains(ip))
            .map(|s| ctx.s(s))
            .collect(),
    );
    let new_user_agents = strs(
        attack
            .iter()
            .map(|&i| ctx.ev(i).user_agent)
            .filter(|ua| !ua.is_empty() && !seen_uas.contains(ua))
            .map(|s| ctx.s(s))
            .collect(),
    );
    let (mut new_countries, mut new_asns) = (Vec::new(), Vec::new());
    if let Some(geo) = located {
        let info = |ip: Sym| geo.get(&ip);
        let countries: HashSet<&str> = before
            .iter()
            .filter_map(|&i| info(ctx.ev(i).ip)?.country.as_deref())
            .collect();
        let asns: HashSet<u32> = before
            .iter()
            .filter_map(|&i| info(ctx.ev(i).ip)?.asn)
            .collect();
        let mut c = BTreeSet::new();
        let mut a = BTreeSet::new();
        for &i in &attack {
            if let Some(g) = info(ctx.ev(i).ip) {
                if let Some(cc) = g.country.as_deref().filter(|cc| !countries.contains(cc)) {
                    c.insert(cc.to_string());
                }
                if let Some(n) = g.asn.filter(|n| !asns.contains(n)) {
                    a.insert(
                        format!("AS{n} {}", g.as_org.as_deref().unwrap_or(""))
                            .trim()
                            .to_string(),
                    );
                }
            }
        }
        new_countries = c.into_iter().collect();
        new_asns = a.into_iter().collect();
    }
    Baseline {
        history_from: account_events.first().map(|&i| ctx.ev(i).time),
        new_ips,
        new_user_agents,
        new_countries,
        new_asns,
    }
}

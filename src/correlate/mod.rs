//! From findings to incidents: one verdict per account, and for compromised accounts the
//! attacker's footprint, the compromise window and the blast radius.
//!
//! Runs after every detection: it needs all of an account's findings at once. Deterministic:
//! accounts are visited in name order and every list is sorted by its strings.

pub mod baseline;
pub mod footprint;
pub mod replay;
pub mod travel;

use crate::analyze::sending::recipients_of;
use crate::analyze::{Ctx, Finding, Severity};
use crate::event::{Outcome, SourceKind, Sym, Timestamp};
use crate::geo::GeoIp;
use footprint::Footprint;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The verdict on an account.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The evidence says an attacker controlled the account.
    Compromised,
    /// Something worth a human look; not proven.
    Suspicious,
    /// Nothing found.
    Clean,
}

impl Verdict {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compromised => "compromised",
            Verdict::Suspicious => "suspicious",
            Verdict::Clean => "clean",
        }
    }
}

/// First to last attacker evidence.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Window {
    /// First attacker evidence.
    pub start: Timestamp,
    /// Last attacker evidence.
    pub end: Timestamp,
}

/// Who else the incident touched.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BlastRadius {
    /// Internal recipients of mail sent from the attacker's footprint.
    pub internal_recipients: Vec<String>,
    /// External recipients of that mail.
    pub external_recipients: Vec<String>,
    /// Other accounts that show the attacker's IPs, sessions, user agents, rule names or
    /// forwarding destinations, with what was seen.
    pub related_accounts: Vec<RelatedAccount>,
}

/// Another account linked to the incident by a shared indicator.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RelatedAccount {
    /// The account.
    pub account: String,
    /// The shared indicators, e.g. `ip 89.160.20.115 (2 failed sign-ins)`.
    pub indicators: Vec<String>,
}

/// One account's verdict and incident.
#[derive(Debug, Clone, Serialize)]
pub struct AccountVerdict {
    /// UPN, lower-case.
    pub account: String,
    /// compromised / suspicious / clean.
    pub verdict: Verdict,
    /// 0–100.
    pub score: u8,
    /// Why, in order of weight.
    pub reasons: Vec<String>,
    /// The compromise window (compromised and suspicious accounts with a footprint).
    pub window: Option<Window>,
    /// Attacker IPs.
    pub attacker_ips: Vec<String>,
    /// Attacker session ids.
    pub attacker_sessions: Vec<String>,
    /// Attacker token ids (`UniqueTokenId`).
    pub attacker_tokens: Vec<String>,
    /// User agents / client strings of the attacker's events.
    pub user_agents: Vec<String>,
    /// Findings about this account.
    pub finding_ids: Vec<String>,
    /// Who else was touched (compromised accounts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blast_radius: Option<BlastRadius>,
    /// What in the footprint was new for the user (accounts with a window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::Baseline>,
    /// GeoIP of the attacker IPs (with `--geoip`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attacker_ip_info: BTreeMap<String, crate::geo::GeoInfo>,
    /// Indices of the footprint's events (for timeline and reports).
    #[serde(skip)]
    pub attacker_events: Vec<u32>,
}

/// The correlation result.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// Every tenant account seen, compromised first.
    pub accounts: Vec<AccountVerdict>,
    /// All findings: the detections' plus the correlation's own, in stable order.
    pub findings: Vec<Finding>,
}

fn weight(s: Severity) -> u32 {
    match s {
        Severity::Critical => 50,
        Severity::High => 30,
        Severity::Medium => 12,
        Severity::Low => 4,
        Severity::Info => 0,
    }
}

/// The accounts of the tenant: actors and mailboxes in its own logs with an address of an own
/// domain, minus service identities.
fn tenant_accounts(ctx: &Ctx<'_>) -> BTreeSet<String> {
    // Distinct symbols first: resolving, domain-checking and copying every event's two
    // addresses took most of correlation on a large export.
    let mut seen: HashSet<Sym> = HashSet::new();
    let mut system: HashMap<Sym, bool> = HashMap::new();
    for e in ctx.events {
        if e.source == SourceKind::MessageTrace
            || *system
                .entry(e.actor_key)
                .or_insert_with(|| ctx.is_system_actor(e))
        {
            continue;
        }
        seen.insert(e.actor_key);
        seen.insert(e.mailbox);
    }
    seen.into_iter()
        .map(|sym| ctx.s(sym))
        .filter(|a| {
            crate::analyze::tenant::domain_of(a).is_some_and(|d| ctx.tenant.is_own_domain(d))
        })
        .map(str::to_string)
        .collect()
}

/// Decides every account's verdict and reconstructs each incident. With a GeoIP database,
/// also impossible travel, attacker IP locations and new countries/networks.
pub fn run(ctx: &Ctx<'_>, mut findings: Vec<Finding>, geo: Option<&GeoIp>) -> Correlation {
    let by_account_events = footprint::events_by_account(ctx);
    let located = geo.map(|g| travel::locate(ctx, g));
    if let Some(located) = &located {
        let mut travel = travel::impossible_travel(ctx, &by_account_events, located);
        for f in &mut travel {
            f.finalize(ctx);
        }
        findings.extend(travel);
    }
    context_lower(ctx, &mut findings);
    let mut accounts: BTreeSet<String> = tenant_accounts(ctx);
    accounts.extend(findings.iter().map(|f| f.account.clone()));
    accounts.retain(|a| !a.is_empty());

    // Footprints first (they feed the correlation findings), on the detections' findings.
    let mut footprints: BTreeMap<String, Footprint> = BTreeMap::new();
    let by_account = findings_by_account(&findings);
    for account in &accounts {
        let own = by_account
            .get(account.as_str())
            .map_or(&[][..], Vec::as_slice);
        if own.iter().all(|f| f.severity < Severity::Medium) {
            continue;
        }
        let events = ctx
            .interner
            .get(account)
            .and_then(|s| by_account_events.get(&s))
            .map_or(&[][..], Vec::as_slice);
        let fp = footprint::pivot(ctx, events, own);
        if !fp.events.is_empty() {
            footprints.insert(account.clone(), fp);
        }
    }
    drop(by_account);
    let mut extra = replay::token_replay(ctx, &footprints);
    for f in &mut extra {
        f.finalize(ctx);
    }
    findings.extend(extra);
    findings.sort_by(|a, b| {
        (a.first_seen, a.rule, &a.account, &a.id).cmp(&(b.first_seen, b.rule, &b.account, &b.id))
    });
    findings.dedup_by(|a, b| a.id == b.id);

    let mut verdicts = Vec::new();
    let by_account = findings_by_account(&findings);
    for account in &accounts {
        let own = by_account
            .get(account.as_str())
            .map_or(&[][..], Vec::as_slice);
        let mut v = judge(ctx, account, own, footprints.get(account));
        if let (Some(fp), Some(w)) = (footprints.get(account), v.window) {
            let events = ctx
                .interner
                .get(account)
                .and_then(|s| by_account_events.get(&s))
                .map_or(&[][..], Vec::as_slice);
            let b = baseline::compare(ctx, events, fp, w.start, located.as_ref());
            if !b.new_countries.is_empty() {
                v.reasons.push(format!(
                    "attacker countries never seen for this account before: {}",
                    b.new_countries.join(", ")
                ));
            }
            v.baseline = Some(b);
        }
        if let Some(located) = &located {
            for ip in &v.attacker_ips {
                if let Some(info) = ctx.interner.get(ip).and_then(|s| located.get(&s)) {
                    if !info.is_empty() {
                        v.attacker_ip_info.insert(ip.clone(), info.clone());
                    }
                }
            }
        }
        verdicts.push(v);
    }
    drop(by_account);

    // In an attacker's footprint, medium findings are part of the compromise: raise them.
    for v in verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Compromised)
    {
        let events: HashSet<u32> = v.attacker_events.iter().copied().collect();
        for f in findings.iter_mut().filter(|f| f.account == v.account) {
            if f.severity == Severity::Medium && f.events.iter().all(|i| events.contains(i)) {
                f.severity = Severity::High;
                f.details.insert(
                    "severity_reason".into(),
                    "raised: done from the attacker's IPs or sessions on a compromised account"
                        .into(),
                );
            }
        }
    }

    blast_radius(ctx, &mut verdicts);

    verdicts.sort_by(|a, b| {
        (a.verdict, std::cmp::Reverse(a.score), &a.account).cmp(&(
            b.verdict,
            std::cmp::Reverse(b.score),
            &b.account,
        ))
    });
    Correlation {
        accounts: verdicts,
        findings,
    }
}

/// Each account's findings, in the findings' order. Built once: filtering every finding for
/// every account was quadratic on a large tenant (5,000 accounts × 8,000 findings).
fn findings_by_account(findings: &[Finding]) -> HashMap<&str, Vec<&Finding>> {
    let mut map: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings {
        map.entry(f.account.as_str()).or_default().push(f);
    }
    map
}

/// A medium finding done entirely from the tenant's common egress IPs (the office) is ordinary
/// activity in context: lowered to low with the reason. Attackers act from their own
/// infrastructure; the office IP alone is not evidence.
fn context_lower(ctx: &Ctx<'_>, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        if f.severity != Severity::Medium || f.events.is_empty() {
            continue;
        }
        let all_common = f.events.iter().all(|&i| {
            let e = ctx.ev(i);
            !e.ip.is_empty() && ctx.is_common_ip(e.ip)
        });
        if all_common {
            f.severity = Severity::Low;
            f.details.insert(
                "severity_reason".into(),
                "lowered: done from the tenant's common egress IP (used by much of the tenant)"
                    .into(),
            );
        }
    }
}

fn judge(ctx: &Ctx<'_>, account: &str, own: &[&Finding], fp: Option<&Footprint>) -> AccountVerdict {
    let mut ranked: Vec<&Finding> = own.to_vec();
    ranked.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), a.first_seen, &a.id).cmp(&(
            std::cmp::Reverse(b.severity),
            b.first_seen,
            &b.id,
        ))
    });
    let mut score: u32 = 0;
    let mut reasons = Vec::new();
    let mut counted_rules = HashSet::new();
    for f in &ranked {
        // Several findings of one rule add weight once, then a little each.
        let w = if counted_rules.insert(f.rule) {
            weight(f.severity)
        } else {
            weight(f.severity) / 4
        };
        score += w;
        if f.severity >= Severity::Medium && reasons.len() < 8 {
            reasons.push(format!("{}: {}", f.severity.as_str(), f.summary));
        }
    }
    let mut window = None;
    let (mut ips, mut sessions, mut tokens, mut uas, mut events) =
        (vec![], vec![], vec![], vec![], vec![]);
    if let Some(fp) = fp {
        let successes = fp
            .events
            .iter()
            .map(|&i| ctx.ev(i))
            .filter(|e| e.outcome != Outcome::Failure && (!e.ip.is_empty()))
            .count();
        if successes > 0 && !fp.ips.is_empty() {
            score += 15;
            reasons.push(format!(
                "attacker infrastructure used successfully: {} action(s) from {}",
                successes,
                Footprint::sorted(ctx, &fp.ips).join(", ")
            ));
        }
        window = fp.window(ctx).map(|(start, end)| Window { start, end });
        ips = Footprint::sorted(ctx, &fp.ips);
        sessions = Footprint::sorted(ctx, &fp.sessions);
        tokens = Footprint::sorted(ctx, &fp.tokens);
        let ua: HashSet<Sym> = fp
            .events
            .iter()
            .map(|&i| ctx.ev(i).user_agent)
            .filter(|u| !u.is_empty())
            .collect();
        uas = Footprint::sorted(ctx, &ua);
        events = fp.events.clone();
    }
    let score = score.min(100) as u8;
    let top = ranked.first().map(|f| f.severity);
    let verdict = if top == Some(Severity::Critical) || (score >= 60 && top >= Some(Severity::High))
    {
        Verdict::Compromised
    } else if score >= 12 || top >= Some(Severity::High) {
        Verdict::Suspicious
    } else {
        Verdict::Clean
    };
    if verdict == Verdict::Clean {
        window = None;
    }
    let mut finding_ids: Vec<String> = own.iter().map(|f| f.id.clone()).collect();
    finding_ids.sort();
    AccountVerdict {
        account: account.to_string(),
        verdict,
        score,
        reasons,
        window,
        attacker_ips: ips,
        attacker_sessions: sessions,
        attacker_tokens: tokens,
        user_agents: uas,
        finding_ids,
        blast_radius: None,
        baseline: None,
        attacker_ip_info: BTreeMap::new(),
        attacker_events: events,
    }
}

fn blast_radius(ctx: &Ctx<'_>, verdicts: &mut [AccountVerdict]) {
    // The attacker's IPs and sessions are a handful: sorted symbol numbers, searched without
    // hashing, since every event of every other account is checked against them.
    let sorted = |v: &mut Vec<u32>| {
        v.sort_unstable();
        v.dedup();
    };
    let footprints: Vec<(String, Vec<u32>, Vec<u32>)> = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Compromised)
        .map(|v| {
            let mut ips: Vec<u32> = v
                .attacker_ips
                .iter()
                .filter_map(|s| ctx.interner.get(s))
                .map(Sym::index)
                .collect();
            let mut sess: Vec<u32> = v
                .attacker_sessions
                .iter()
                .chain(&v.attacker_tokens)
                .filter_map(|s| ctx.interner.get(s))
                .map(Sym::index)
                .collect();
            sorted(&mut ips);
            sorted(&mut sess);
            (v.account.clone(), ips, sess)
        })
        .collect();
    let has = |set: &[u32], s: Sym| !s.is_empty() && set.binary_search(&s.index()).is_ok();
    for (account, ips, sessions) in footprints {
        let Some(v) = verdicts.iter().find(|v| v.account == account) else {
            continue;
        };
        let mut internal = BTreeSet::new();
        let mut external = BTreeSet::new();
        for &i in &v.attacker_events {
            let e = ctx.ev(i);
            if !matches!(ctx.s(e.operation), "Send" | "SendAs" | "SendOnBehalf") {
                continue;
            }
            // The message trace's recipients, through the index the rules share (a map of every
            // traced Message-ID, built here for the few the attacker sent, was a tenth of
            // correlation's time on a large trace).
            for item in e.items() {
                let Some(id) = item.internet_message_id(ctx.interner) else {
                    continue;
                };
                for rcpt in recipients_of(ctx, id) {
                    if ctx.tenant.is_external(rcpt) {
                        external.insert(rcpt.to_string());
                    } else {
                        internal.insert(rcpt.to_string());
                    }
                }
            }
        }
        // Every other account's events (as actor or as affected mailbox, message trace left
        // out: the accounts `events_by_account` indexes an event under) that used the
        // attacker's IP, session or token. One pass in storage order: walked account by
        // account through the index, the events came in random order, a cache miss each,
        // and this loop was most of correlation's time.
        let mut related: BTreeMap<String, BTreeMap<String, (u32, u32)>> = BTreeMap::new();
        for e in ctx.events {
            if e.source == SourceKind::MessageTrace {
                continue;
            }
            let key = if has(&ips, e.ip) {
                format!("ip {}", ctx.s(e.ip))
            } else if has(&sessions, e.session_id) {
                format!("session {}", ctx.s(e.session_id))
            } else if has(&sessions, e.token_id) {
                format!("token {}", ctx.s(e.token_id))
            } else {
                continue;
            };
            let mailbox = (e.mailbox != e.actor_key).then_some(e.mailbox);
            for acct in std::iter::once(e.actor_key).chain(mailbox) {
                let name = ctx.s(acct);
                if acct.is_empty() || name == account || !name.contains('@') {
                    continue;
                }
                let slot = related
                    .entry(name.to_string())
                    .or_default()
                    .entry(key.clone())
                    .or_default();
                if e.outcome == Outcome::Failure {
                    slot.1 += 1;
                } else {
                    slot.0 += 1;
                }
            }
        }
        let related_accounts: Vec<RelatedAccount> = related
            .into_iter()
            .map(|(acct, seen)| RelatedAccount {
                account: acct,
                indicators: seen
                    .into_iter()
                    .map(|(k, (ok, failed))| format!("{k} ({ok} successful, {failed} failed)"))
                    .collect(),
            })
            .collect();
        // Related accounts with *successful* use of attacker infrastructure are suspicious on
        // their own evidence.
        for r in &related_accounts {
            if r.indicators.iter().any(|i| !i.contains("(0 successful")) {
                if let Some(other) = verdicts.iter_mut().find(|o| o.account == r.account) {
                    if other.verdict == Verdict::Clean {
                        other.verdict = Verdict::Suspicious;
                        other.score = other.score.max(20);
                    }
                    other.reasons.push(format!(
                        "used infrastructure of the attacker of {account}: {}",
                        r.indicators.join("; ")
                    ));
                }
            }
        }
        if let Some(v) = verdicts.iter_mut().find(|v| v.account == account) {
            v.blast_radius = Some(BlastRadius {
                internal_recipients: internal.into_iter().collect(),
                external_recipients: external.into_iter().collect(),
                related_accounts,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::Kit;
    use crate::analyze::Tenant;
    use crate::event::Event;

    fn signin(n: u32, upn: &str, ip: &str, code: u32) -> String {
        serde_json::json!({
            "id": format!("s{n}"),
            "createdDateTime": format!("2026-03-02T10:{n:02}:00Z"),
            "userPrincipalName": upn,
            "ipAddress": ip,
            "sessionId": format!("sess-{upn}"),
            "status": {"errorCode": code},
        })
        .to_string()
    }

    fn verdict(account: &str, ips: &[&str], sessions: &[&str]) -> AccountVerdict {
        AccountVerdict {
            account: account.into(),
            verdict: Verdict::Compromised,
            score: 90,
            reasons: Vec::new(),
            window: None,
            attacker_ips: ips.iter().map(|s| s.to_string()).collect(),
            attacker_sessions: sessions.iter().map(|s| s.to_string()).collect(),
            attacker_tokens: Vec::new(),
            user_agents: Vec::new(),
            finding_ids: Vec::new(),
            blast_radius: None,
            baseline: None,
            attacker_ip_info: BTreeMap::new(),
            attacker_events: Vec::new(),
        }
    }

    #[test]
    fn blast_radius_names_accounts_that_share_the_attackers_ip_or_session() {
        let mut kit = Kit::new();
        kit.signin(&signin(1, "eve@contoso.com", "89.160.20.115", 0))
            .signin(&signin(2, "bob@contoso.com", "89.160.20.115", 50126))
            .signin(&signin(3, "bob@contoso.com", "89.160.20.115", 50126))
            .signin(&signin(4, "carol@contoso.com", "81.2.69.150", 0))
            .signin(&signin(5, "dan@contoso.com", "81.2.69.151", 0));
        // Dan's record carries the attacker's session id from another IP.
        let mut dan = kit.events.pop().expect("dan's sign-in");
        dan.session_id = kit.interner.intern("sess-eve@contoso.com");
        kit.events.push(dan);
        kit.events.sort_by_key(Event::time_key);
        let tenant = Tenant::infer(&kit.events, &kit.interner, &[]);
        let agg = crate::frame::aggregate(&kit.events, &kit.interner, |_| false).unwrap();
        let ctx = Ctx::new(&kit.interner, &kit.events, &[], &tenant, &agg);
        let mut verdicts = vec![
            verdict(
                "eve@contoso.com",
                &["89.160.20.115"],
                &["sess-eve@contoso.com"],
            ),
            verdict("bob@contoso.com", &[], &[]),
            verdict("dan@contoso.com", &[], &[]),
        ];
        verdicts[1].verdict = Verdict::Clean;
        verdicts[2].verdict = Verdict::Clean;
        blast_radius(&ctx, &mut verdicts);
        let related = &verdicts[0].blast_radius.as_ref().unwrap().related_accounts;
        assert_eq!(
            related,
            &[
                RelatedAccount {
                    account: "bob@contoso.com".into(),
                    indicators: vec!["ip 89.160.20.115 (0 successful, 2 failed)".into()],
                },
                RelatedAccount {
                    account: "dan@contoso.com".into(),
                    indicators: vec!["session sess-eve@contoso.com (1 successful, 0 failed)".into()],
                },
            ]
        );
        // Failed attempts alone leave Bob clean; Dan used the attacker's session successfully.
        assert_eq!(verdicts[1].verdict, Verdict::Clean);
        assert_eq!(verdicts[2].verdict, Verdict::Suspicious);
    }
}

//! The remediation plan: what to undo, in Microsoft's order, filled with the exact objects the
//! evidence names (rule names, forwarding addresses, delegates, apps, MFA methods, IPs,
//! recipients), and `remediation.ps1`, the same plan as a PowerShell script to review.
//!
//! Order. Microsoft's "Responding to a compromised email account" puts the credential first
//! (reset the password, revoke sessions, MFA), then the attacker's mailbox changes, then
//! unblocking and telling contacts; §3 of the detection notes adds the per-class clean-up. The
//! plan follows that order for every compromised account (accounts in `analysis.accounts`
//! order), then the tenant-wide hardening the evidence calls for, numbered 1..n:
//!
//! 1. reset the password, revoke sessions;
//! 2. enforce MFA, remove the attacker's MFA methods (and devices, CA changes);
//! 3. inbox rules;
//! 4. mailbox forwarding;
//! 5. delegates, folder permissions, role assignments;
//! 6. app consents;
//! 7. transport rules, connectors;
//! 8. sending restriction;
//! 9. auditing and protection tampering;
//! 10. attacker IPs;
//! 11. recipients of the attacker's mail, purge of internal phishing;
//! 12. tenant hardening.
//!
//! Evidence. Every step names the findings behind it; a step without any is never emitted,
//! except the baseline every compromised account gets (reset password, revoke sessions, enforce
//! MFA). Suspicious accounts get only evidence-backed steps, each reason starting
//! "Verify first". Findings count for an account when they are about it (or were done by it,
//! `details.actor`) and are medium or worse or part of its attacker footprint, so ordinary
//! low-severity look-alikes (a new starter registering a phone) produce nothing.
//!
//! Safety. Rule names, addresses and app names are chosen by the attacker. Every such value
//! goes into a PowerShell single-quoted string (no expansion) with each quote character —
//! `'` and the typographic `‘ ’ ‚ ‛` PowerShell also accepts — doubled, after control
//! characters, line separators and bidi overrides are removed, so no value can end the string
//! or the line. The script marks every command that changes the tenant as a comment; only
//! lines made of read-only cmdlets (`Get-*` piped to `Where-Object`/`Format-*` …) stay active.
//! It starts with a UTF-8 byte-order mark: Windows PowerShell 5.1 reads a file without one as
//! ANSI, where the UTF-8 bytes of some characters decode to typographic quotes.

use crate::analysis::Analysis;
use crate::analyze::sending::{norm_message_id, recipients_of};
use crate::analyze::{Ctx, Finding, Severity};
use crate::correlate::{AccountVerdict, Verdict};
use crate::event::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;

/// One step of the remediation plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// 1-based order.
    pub step: u32,
    /// The account it is for (or `tenant` for tenant-wide hardening).
    pub account: String,
    /// Stable action id (e.g. `reset-password`, `remove-inbox-rule`).
    pub action: &'static str,
    /// The exact command to run.
    pub command: String,
    /// Why, in one sentence.
    pub reason: String,
    /// Findings behind it (empty only for the baseline steps every compromised account gets).
    pub finding_ids: Vec<String>,
}

/// The `account` of tenant-wide steps.
pub const TENANT: &str = "tenant";

/// Steps every compromised account gets, with or without a finding naming them.
const BASELINE: &[&str] = &["reset-password", "revoke-sessions", "enforce-mfa"];

/// Findings that say the password is known to someone else.
const CREDENTIAL_RULES: &[&str] = &[
    "password-spray-bruteforce",
    "password-reset-by-self-or-attacker",
    "legacy-auth-success",
    "ropc-single-factor",
    "mfa-fatigue",
];

/// Findings that say a session or token is in the wrong hands.
const SESSION_RULES: &[&str] = &[
    "token-replay-without-signin",
    "session-multi-ip",
    "aitm-kit-user-agent",
    "impossible-travel",
    "hosting-anonymizer-ip",
    "new-geo-asn-ua-app",
    "device-code-auth",
    "oauth-first-party-client-phish",
    "intune-portal-ca-bypass",
    "risk-detection-passthrough",
    "sso-error-anomaly",
    "mailitemsaccessed-sync-new-session",
    "mailitemsaccessed-anomaly",
    "mailitemsaccessed-excessive",
    "mailbox-access-unusual-app",
    "exo-powershell-mailbox-login",
];

/// Findings about the account's MFA.
const MFA_RULES: &[&str] = &[
    "mfa-removed-disabled",
    "ca-or-mfa-policy-weakened",
    "mfa-fatigue",
    "mfa-method-added",
];

/// Findings about mail sent from the account.
const SEND_RULES: &[&str] = &[
    "send-then-harddelete",
    "outbound-spam-restricted",
    "send-attachments-external-volume",
    "rule-send-archive-move",
    "ndr-oof-cleanup",
];

/// Findings of forwarding outside the tenant (for the tenant-wide forwarding block).
const EXTERNAL_FORWARD_RULES: &[&str] = &[
    "mailbox-smtp-forwarding",
    "inbox-rule-forward-external",
    "inbox-rule-forward-client-side",
    "forward-same-destination-multi-user",
];

/// Findings of an illicit consent.
const CONSENT_RULES: &[&str] = &["user-consent-mail-scopes", "admin-consent-tenantwide"];

/// Findings of legacy or single-factor protocol sign-ins.
const LEGACY_RULES: &[&str] = &["legacy-auth-success", "ropc-single-factor"];

// ------------------------------------------------------------------------------------------------
// Quoting
// ------------------------------------------------------------------------------------------------

/// Characters that must never reach a command or a comment line: controls (C0, DEL, C1 — which
/// includes NEL), the Unicode line and paragraph separators, and bidi overrides/isolates that
/// make text display in another order than PowerShell reads it.
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{feff}'
        )
}

/// Evidence text with the unsafe characters removed.
pub fn clean(s: &str) -> String {
    s.chars().filter(|&c| !is_unsafe_char(c)).collect()
}

/// The characters PowerShell accepts as a single quote.
fn is_ps_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}')
}

/// A PowerShell single-quoted string literal of `s` (cleaned; every quote character doubled).
/// Nothing inside a single-quoted string is expanded, so this is the only safe place for text
/// an attacker chose.
pub fn ps(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars().filter(|&c| !is_unsafe_char(c)) {
        if is_ps_single_quote(c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `'a','b'` for a PowerShell array argument.
fn ps_list<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(|v| ps(v.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// A Graph `-Filter` argument `field eq 'value'`: the OData literal doubles `'`, then the whole
/// filter is a PowerShell single-quoted string.
fn odata_eq(field: &str, value: &str) -> String {
    ps(&format!(
        "{field} eq '{}'",
        clean(value).replace('\'', "''")
    ))
}

/// A KQL phrase for a compliance search: quotes and backslashes removed (they cannot be escaped
/// inside a KQL phrase), whitespace collapsed.
fn kql_phrase(s: &str) -> String {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\\' || is_unsafe_char(c))
        .filter(|w| !w.is_empty())
        .collect();
    format!("\"{}\"", words.join(" "))
}

/// True when `s` is a GUID (8-4-4-4-12 hex).
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The first GUID in `s` (app ids are sometimes written with service-principal names).
fn guid_in(s: &str) -> Option<String> {
    s.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|t| is_guid(t))
        .map(str::to_ascii_lowercase)
}

/// `Verb-Noun` words outside single-quoted strings (evidence only ever sits inside them).
fn cmdlets_outside_quotes(line: &str) -> Vec<(String, String)> {
    let mut bare = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if is_ps_single_quote(c) {
                if chars.peek().copied().is_some_and(is_ps_single_quote) {
                    chars.next();
                } else {
                    quoted = false;
                    bare.push(' ');
                }
            }
        } else if is_ps_single_quote(c) {
            quoted = true;
        } else {
            bare.push(c);
        }
    }
    let mut out = Vec::new();
    for word in bare.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some((verb, noun)) = word.split_once('-') {
            if !verb.is_empty()
                && !noun.is_empty()
                && verb.chars().all(|c| c.is_ascii_alphabetic())
                && noun.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            {
                out.push((verb.to_ascii_lowercase(), noun.to_ascii_lowercase()));
            }
        }
    }
    out
}

/// Verbs that only read or shape output.
const READ_ONLY_VERBS: &[&str] = &["get", "where", "foreach", "select", "format", "sort"];

/// True when a command line only reads: it starts with `Get-` and every cmdlet outside quoted
/// strings is read-only. Anything else (remove, disable, set, new, update, revoke, purge, an
/// assignment, an unknown verb) is written commented out.
pub fn is_read_only(line: &str) -> bool {
    let line = line.trim();
    if !line.starts_with("Get-") {
        return false;
    }
    let cmdlets = cmdlets_outside_quotes(line);
    !cmdlets.is_empty()
        && cmdlets
            .iter()
            .all(|(verb, _)| READ_ONLY_VERBS.contains(&verb.as_str()))
}

// ------------------------------------------------------------------------------------------------
// Reading finding details
// ------------------------------------------------------------------------------------------------

fn dstr<'f>(f: &'f Finding, key: &str) -> Option<&'f str> {
    f.details
        .get(key)?
        .as_str()
        .filter(|s| !s.trim().is_empty())
}

fn dlist(f: &Finding, key: &str) -> Vec<String> {
    match f.details.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn dbool(f: &Finding, key: &str) -> Option<bool> {
    f.details.get(key)?.as_bool()
}

/// A string inside a nested object detail (`parameters.Identity`), case-insensitive key.
fn dobj<'f>(f: &'f Finding, key: &str, inner: &str) -> Option<&'f str> {
    let Value::Object(m) = f.details.get(key)? else {
        return None;
    };
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(inner))
        .and_then(|(_, v)| v.as_str())
        .filter(|s| !s.trim().is_empty())
}

/// Up to `n` items joined, with a count of the rest.
fn some(items: &[String], n: usize) -> String {
    if items.len() <= n {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..n].join(", "),
            items.len().saturating_sub(n)
        )
    }
}

fn day(t: Timestamp, plus_days: i64) -> String {
    (t.to_utc() + chrono::Duration::days(plus_days))
        .format("%Y-%m-%d")
        .to_string()
}

fn summary_of(f: &Finding) -> String {
    f.summary.trim_end_matches('.').to_string()
}

// ------------------------------------------------------------------------------------------------
// The planner
// ------------------------------------------------------------------------------------------------

/// One account being planned: its verdict and the findings that count for it.
struct Acct<'a> {
    v: &'a AccountVerdict,
    suspicious: bool,
    /// Findings about or by the account that are evidence (medium or worse, or in the footprint),
    /// in the analysis' stable order.
    fs: Vec<&'a Finding>,
    /// For a suspicious account without findings of its own: the findings of the compromised
    /// account whose attacker infrastructure it used.
    borrowed: Vec<String>,
}

impl<'a> Acct<'a> {
    fn upn(&self) -> &str {
        &self.v.account
    }

    fn of(&self, rules: &[&str]) -> Vec<&'a Finding> {
        self.fs
            .iter()
            .copied()
            .filter(|f| rules.contains(&f.rule))
            .collect()
    }

    fn ids(&self, rules: &[&str]) -> Vec<String> {
        self.of(rules).iter().map(|f| f.id.clone()).collect()
    }

    /// Every finding id that makes the account what it is.
    fn basis(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.fs.iter().map(|f| f.id.clone()).collect();
        if ids.is_empty() {
            ids = self.borrowed.clone();
        }
        ids
    }
}

/// A step before numbering.
struct Draft {
    account: String,
    action: &'static str,
    command: String,
    reason: String,
    finding_ids: Vec<String>,
}

struct Planner<'a> {
    analysis: &'a Analysis,
    ctx: Ctx<'a>,
    steps: Vec<Draft>,
    /// Findings used by any account's plan (the tenant-wide steps draw on these).
    used: Vec<&'a Finding>,
}

/// The ordered plan.
pub fn plan(analysis: &Analysis) -> Vec<Step> {
    let mut p = Planner {
        analysis,
        ctx: analysis.ctx(),
        steps: Vec::new(),
        used: Vec::new(),
    };
    for v in &analysis.accounts {
        if matches!(v.verdict, Verdict::Compromised | Verdict::Suspicious) {
            let a = p.account(v);
            p.plan_account(&a);
            for f in a.fs {
                if !p.used.iter().any(|u| u.id == f.id) {
                    p.used.push(f);
                }
            }
        }
    }
    p.tenant_wide();
    p.steps
        .into_iter()
        .enumerate()
        .map(|(i, d)| Step {
            step: i as u32 + 1,
            account: d.account,
            action: d.action,
            command: d.command,
            reason: d.reason,
            finding_ids: d.finding_ids,
        })
        .collect()
}

impl<'a> Planner<'a> {
    fn account(&self, v: &'a AccountVerdict) -> Acct<'a> {
        let analysis: &'a Analysis = self.analysis;
        let footprint: HashSet<u32> = v.attacker_events.iter().copied().collect();
        let fs: Vec<&'a Finding> = analysis
            .findings
            .iter()
            .filter(|f| {
                f.account == v.account
                    || dstr(f, "actor").is_some_and(|a| a.trim().eq_ignore_ascii_case(&v.account))
            })
            .filter(|f| {
                f.severity >= Severity::Medium || f.events.iter().any(|e| footprint.contains(e))
            })
            .collect();
        let suspicious = v.verdict == Verdict::Suspicious;
        let mut borrowed = Vec::new();
        if suspicious && fs.is_empty() {
            borrowed = self.borrowed_evidence(&v.account);
        }
        Acct {
            v,
            suspicious,
            fs,
            borrowed,
        }
    }

    /// Findings of the compromised accounts whose attacker IPs, sessions or tokens `account`
    /// also used (its blast-radius indicators), for a suspicious account with none of its own.
    fn borrowed_evidence(&self, account: &str) -> Vec<String> {
        let mut ids = BTreeSet::new();
        for c in &self.analysis.accounts {
            let Some(br) = &c.blast_radius else { continue };
            let Some(rel) = br.related_accounts.iter().find(|r| r.account == account) else {
                continue;
            };
            let shared: Vec<&str> = rel
                .indicators
                .iter()
                .filter(|i| !i.contains("(0 successful"))
                .filter_map(|i| i.split_whitespace().nth(1))
                .collect();
            for f in self
                .analysis
                .findings
                .iter()
                .filter(|f| f.account == c.account)
            {
                let hit = f.ips.iter().any(|ip| shared.contains(&ip.as_str()))
                    || shared.iter().any(|s| {
                        dlist(f, "sessions").iter().any(|x| x == s)
                            || dstr(f, "session_id") == Some(*s)
                    });
                if hit {
                    ids.insert(f.id.clone());
                }
            }
        }
        ids.into_iter().collect()
    }

    /// Adds a step for `a`. Without finding ids only the baseline of a compromised account is
    /// kept; a step already in the plan (same action and command) only gains the ids.
    fn push(
        &mut self,
        a: &Acct<'_>,
        action: &'static str,
        command: String,
        reason: String,
        ids: Vec<String>,
    ) {
        let baseline = !a.suspicious && BASELINE.contains(&action);
        if ids.is_empty() && !baseline {
            return;
        }
        let reason = if a.suspicious {
            format!("Verify first (the account is suspicious, not proven compromised): {reason}")
        } else {
            reason
        };
        self.add(a.upn().to_string(), action, command, reason, ids);
    }

    fn add(
        &mut self,
        account: String,
        action: &'static str,
        command: String,
        reason: String,
        ids: Vec<String>,
    ) {
        let mut ids = ids;
        ids.sort();
        ids.dedup();
        if let Some(d) = self
            .steps
            .iter_mut()
            .find(|d| d.action == action && d.command == command)
        {
            d.finding_ids.extend(ids);
            d.finding_ids.sort();
            d.finding_ids.dedup();
            return;
        }
        self.steps.push(Draft {
            account: clean(&account),
            action,
            command,
            reason: clean(&reason),
            finding_ids: ids,
        });
    }

    fn plan_account(&mut self, a: &Acct<'_>) {
        self.credentials(a);
        self.mfa(a);
        self.inbox_rules(a);
        self.forwarding(a);
        self.delegation(a);
        self.apps(a);
        self.transport(a);
        self.sending(a);
        self.auditing(a);
        self.block_ips(a);
        self.notify(a);
    }

    // 1. ------------------------------------------------------------------------------------------

    fn credentials(&mut self, a: &Acct<'_>) {
        let upn = a.upn().to_string();
        let (pw_ids, session_ids) = if a.suspicious {
            (a.basis(), a.basis())
        } else {
            (a.ids(CREDENTIAL_RULES), a.ids(SESSION_RULES))
        };
        let command = format!(
            "$NewTemporaryPassword = Read-Host -Prompt {}\n\
             Update-MgUser -UserId {} -PasswordProfile @{{ Password = $NewTemporaryPassword; ForceChangePasswordNextSignIn = $true }}",
            ps("New temporary password (give it to the user out of band, never by email)"),
            ps(&upn)
        );
        self.push(
            a,
            "reset-password",
            command,
            format!(
                "The attacker knows or bypassed {upn}'s password: reset it first (this command, \
                 Reset-MgUserAuthenticationMethodPassword, or the Microsoft 365 admin centre), never \
                 send the new one by email, and delete the user's app passwords too, which a \
                 password reset does not revoke"
            ),
            pw_ids,
        );
        let mut seen: Vec<String> = a.v.attacker_sessions.clone();
        seen.extend(a.v.attacker_tokens.iter().cloned());
        let sessions = if seen.is_empty() {
            String::new()
        } else {
            format!(" (attacker sessions/tokens {})", some(&seen, 4))
        };
        self.push(
            a,
            "revoke-sessions",
            format!("Revoke-MgUserSignInSession -UserId {}", ps(&upn)),
            format!(
                "Revoke every refresh token and session of {upn} right after the reset so stolen \
                 tokens{sessions} stop working; access tokens already issued can live up to an hour"
            ),
            session_ids,
        );
    }

    // 2. ------------------------------------------------------------------------------------------

    fn mfa(&mut self, a: &Acct<'_>) {
        let upn = a.upn().to_string();
        let command = format!(
            "Get-MgUserAuthenticationMethod -UserId {u} | Format-List Id, AdditionalProperties\n\
             Invoke-MgGraphRequest -Method PATCH -Uri ('https://graph.microsoft.com/beta/users/{{0}}/authentication/requirements' -f [uri]::EscapeDataString({u})) -Body @{{ perUserMfaState = 'enforced' }}",
            u = ps(&upn)
        );
        self.push(
            a,
            "enforce-mfa",
            command,
            format!(
                "Make sure MFA is enforced for {upn} (a Conditional Access policy requiring MFA \
                 that covers the account, or per-user MFA set to enforced as here) and have the \
                 user re-register their methods once the attacker's are removed"
            ),
            a.ids(MFA_RULES),
        );

        for f in a.of(&["mfa-method-added"]) {
            let target = dstr(f, "target").unwrap_or(&f.account).to_string();
            let t = ps(&target);
            let from = if f.ips.is_empty() {
                String::new()
            } else {
                format!(" from {}", f.ips.join(", "))
            };
            let when = f.first_seen.to_rfc3339();
            let mut any = false;
            let contact = match f.details.get("contact_info_set") {
                Some(Value::Object(m)) => m
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            for (key, value) in &contact {
                let k = key.to_ascii_lowercase();
                if k.contains("phone") {
                    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() < 5 {
                        continue;
                    }
                    any = true;
                    let command = format!(
                        "Get-MgUserAuthenticationPhoneMethod -UserId {t} | Format-List Id, PhoneNumber, PhoneType, SmsSignInState\n\
                         Get-MgUserAuthenticationPhoneMethod -UserId {t} | Where-Object {{ ($_.PhoneNumber -replace '\\D', '') -eq {d} }} | ForEach-Object {{ Remove-MgUserAuthenticationPhoneMethod -UserId {t} -PhoneAuthenticationMethodId $_.Id }}",
                        d = ps(&digits)
                    );
                    self.push(
                        a,
                        "remove-mfa-method",
                        command,
                        format!(
                            "Phone {value} was registered as an MFA method on {target}{from} at \
                             {when} by the attacker: remove it so it cannot answer MFA after the \
                             reset"
                        ),
                        vec![f.id.clone()],
                    );
                } else if k.contains("email") {
                    any = true;
                    let command = format!(
                        "Get-MgUserAuthenticationEmailMethod -UserId {t} | Format-List Id, EmailAddress\n\
                         Get-MgUserAuthenticationEmailMethod -UserId {t} | Where-Object EmailAddress -eq {e} | ForEach-Object {{ Remove-MgUserAuthenticationEmailMethod -UserId {t} -EmailAuthenticationMethodId $_.Id }}",
                        e = ps(value)
                    );
                    self.push(
                        a,
                        "remove-mfa-method",
                        command,
                        format!(
                            "Email address {value} was registered as security info on {target}\
                             {from} at {when} by the attacker: remove it"
                        ),
                        vec![f.id.clone()],
                    );
                }
            }
            let devices = dlist(f, "authenticator_devices_added");
            if !devices.is_empty() {
                any = true;
                let command = format!(
                    "Get-MgUserAuthenticationMicrosoftAuthenticatorMethod -UserId {t} | Format-List Id, DisplayName, DeviceTag, PhoneAppVersion, CreatedDateTime\n\
                     Remove-MgUserAuthenticationMicrosoftAuthenticatorMethod -UserId {t} -MicrosoftAuthenticatorAuthenticationMethodId '<id of the attacker device listed above>'"
                );
                self.push(
                    a,
                    "remove-mfa-method",
                    command,
                    format!(
                        "The attacker registered the authenticator app {} on {target}{from} at \
                         {when}: find its id in the list and remove it",
                        some(&devices, 3)
                    ),
                    vec![f.id.clone()],
                );
            }
            if !any {
                let mut added = dlist(f, "methods_added");
                if added.is_empty() {
                    added = dlist(f, "added");
                }
                let what = if added.is_empty() {
                    dstr(f, "activity").unwrap_or("security info").to_string()
                } else {
                    some(&added, 4)
                };
                self.push(
                    a,
                    "remove-mfa-method",
                    format!(
                        "Get-MgUserAuthenticationMethod -UserId {t} | Format-List Id, AdditionalProperties"
                    ),
                    format!(
                        "MFA security info was added to {target}{from} at {when} ({what}): \
                         remove every method the user does not recognise with the matching \
                         Remove-MgUserAuthentication*Method cmdlet"
                    ),
                    vec![f.id.clone()],
                );
            }
        }

        for f in a.of(&["device-registration-persistence"]) {
            let target = dstr(f, "target").unwrap_or(&f.account).to_string();
            let device = dstr(f, "device").unwrap_or("(unnamed device)").to_string();
            self.push(
                a,
                "remove-device",
                format!(
                    "Get-MgUserRegisteredDevice -UserId {t} -All | Format-List Id, AdditionalProperties\n\
                     Remove-MgDevice -DeviceId '<object id of the attacker device listed above>'",
                    t = ps(&target)
                ),
                format!(
                    "{}: delete the device '{device}' the attacker registered, or it keeps \
                     signing in as {target} with its own token",
                    summary_of(f)
                ),
                vec![f.id.clone()],
            );
        }

        for f in a.of(&["ca-or-mfa-policy-weakened"]) {
            let command = match dstr(f, "policy") {
                Some(p) if is_guid(p.trim()) => format!(
                    "Get-MgIdentityConditionalAccessPolicy -ConditionalAccessPolicyId {} | Format-List Id, DisplayName, State, Conditions, GrantControls, ModifiedDateTime",
                    ps(p.trim())
                ),
                Some(p) => format!(
                    "Get-MgIdentityConditionalAccessPolicy -All | Where-Object DisplayName -eq {} | Format-List Id, DisplayName, State, Conditions, GrantControls, ModifiedDateTime",
                    ps(p)
                ),
                None => "Get-MgIdentityConditionalAccessPolicy -All | Format-Table DisplayName, State, ModifiedDateTime".to_string(),
            };
            self.push(
                a,
                "review-ca-policy",
                command,
                format!(
                    "{}: restore the policy to what it was before (the change is in the finding's \
                     evidence)",
                    summary_of(f)
                ),
                vec![f.id.clone()],
            );
        }
    }

    // 3. ------------------------------------------------------------------------------------------

    fn inbox_rules(&mut self, a: &Acct<'_>) {
        struct RuleGroup<'f> {
            mailbox: String,
            name: String,
            others: Vec<String>,
            removed: bool,
            client_side: bool,
            fs: Vec<&'f Finding>,
        }
        let mut groups: Vec<RuleGroup<'_>> = Vec::new();
        for f in a.fs.iter().copied() {
            let inbox = f.rule.starts_with("inbox-rule-");
            if !inbox && f.rule != "ndr-oof-cleanup" {
                continue;
            }
            let mailbox = dstr(f, "mailbox").unwrap_or(&f.account).to_string();
            let names = dlist(f, "rule_names");
            let Some(name) = names
                .last()
                .cloned()
                .or_else(|| dstr(f, "rule_name").map(str::to_string))
            else {
                continue;
            };
            // The ndr rule carries the record's object (`…\mailbox\Rule`): the part after the
            // last backslash is the name.
            let name = if inbox {
                name
            } else {
                name.rsplit('\\').next().unwrap_or(&name).to_string()
            };
            let removed = dstr(f, "state") == Some("removed");
            let client_side = dbool(f, "client_side").unwrap_or(false);
            let key = (mailbox.to_lowercase(), name.to_lowercase());
            match groups
                .iter_mut()
                .find(|g| (g.mailbox.to_lowercase(), g.name.to_lowercase()) == key)
            {
                Some(g) => {
                    g.removed &= removed;
                    g.client_side |= client_side;
                    g.fs.push(f);
                }
                None => groups.push(RuleGroup {
                    mailbox,
                    others: names.iter().filter(|n| **n != name).cloned().collect(),
                    name,
                    removed,
                    client_side,
                    fs: vec![f],
                }),
            }
        }
        for g in groups {
            let ids: Vec<String> = g.fs.iter().map(|f| f.id.clone()).collect();
            let about = g.fs.first().map(|f| summary_of(f)).unwrap_or_default();
            let mut notes = String::new();
            if !g.others.is_empty() {
                notes.push_str(&format!(
                    "; it was also named {}",
                    g.others
                        .iter()
                        .map(|n| format!("'{n}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if clean(&g.name) != g.name {
                notes.push_str(
                    "; its name contains control characters, removed here: match it against the \
                     Get-InboxRule output",
                );
            }
            let m = ps(&g.mailbox);
            if g.removed {
                let folder =
                    g.fs.iter()
                        .find_map(|f| dstr(f, "move_to_folder"))
                        .map(|x| format!(" (it moved mail to '{x}')"))
                        .unwrap_or_default();
                self.push(
                    a,
                    "verify-inbox-rule-removed",
                    format!(
                        "Get-InboxRule -Mailbox {m} -IncludeHidden | Format-List Name, Enabled, RuleIdentity, Description"
                    ),
                    format!(
                        "{about}{notes}; the attacker already deleted it, so confirm no rule with \
                         that name or those conditions is back (hidden and Outlook rules \
                         included) and recover the mail it hid or deleted{folder} from the \
                         folder and Recoverable Items"
                    ),
                    ids,
                );
            } else if g.client_side {
                self.push(
                    a,
                    "remove-inbox-rule",
                    format!(
                        "Get-InboxRule -Mailbox {m} -IncludeHidden | Where-Object Name -eq {n} | Remove-InboxRule -Confirm:$false",
                        n = ps(&g.name)
                    ),
                    format!(
                        "{about}{notes}; it was created from Outlook/MAPI/EWS, so it is listed \
                         only with -IncludeHidden; if it is not listed, delete it in Outlook \
                         (Rules and Alerts) or with MFCMAPI"
                    ),
                    ids,
                );
            } else {
                self.push(
                    a,
                    "remove-inbox-rule",
                    format!(
                        "Remove-InboxRule -Mailbox {m} -Identity {n} -Confirm:$false",
                        n = ps(&g.name)
                    ),
                    format!("{about}{notes}; remove the attacker's rule"),
                    ids,
                );
            }
        }
    }

    // 4. ------------------------------------------------------------------------------------------

    fn forwarding(&mut self, a: &Acct<'_>) {
        let mut by_mailbox: Vec<(String, Vec<&Finding>)> = Vec::new();
        for f in a.of(&["mailbox-smtp-forwarding"]) {
            let mailbox = f.account.clone();
            match by_mailbox.iter_mut().find(|(m, _)| *m == mailbox) {
                Some((_, v)) => v.push(f),
                None => by_mailbox.push((mailbox, vec![f])),
            }
        }
        for (mailbox, fs) in by_mailbox {
            let mut ids: Vec<String> = fs.iter().map(|f| f.id.clone()).collect();
            let dests: BTreeSet<String> = fs
                .iter()
                .flat_map(|f| dlist(f, "forward_to"))
                .map(|d| d.to_lowercase())
                .collect();
            // The "same destination" finding names this mailbox among its users.
            for g in self
                .analysis
                .findings
                .iter()
                .filter(|g| g.rule == "forward-same-destination-multi-user")
            {
                let to = dstr(g, "destination").map(str::to_lowercase);
                if to.is_some_and(|d| dests.contains(&d))
                    && dlist(g, "users")
                        .iter()
                        .any(|u| u.eq_ignore_ascii_case(&mailbox))
                {
                    ids.push(g.id.clone());
                }
            }
            let state = if fs.iter().all(|f| dstr(f, "state") != Some("active")) {
                "; it has since been cleared or changed, so this only makes sure it stays off"
            } else {
                ""
            };
            let about = fs.first().map(|f| summary_of(f)).unwrap_or_default();
            self.push(
                a,
                "clear-forwarding",
                format!(
                    "Set-Mailbox -Identity {} -ForwardingSmtpAddress $null -ForwardingAddress $null -DeliverToMailboxAndForward $false",
                    ps(&mailbox)
                ),
                format!(
                    "{about}{state}; clear mailbox forwarding (destination {})",
                    dests.into_iter().collect::<Vec<_>>().join(", ")
                ),
                ids,
            );
        }
    }

    // 5. ------------------------------------------------------------------------------------------

    fn delegation(&mut self, a: &Acct<'_>) {
        for f in a.of(&["mailbox-fullaccess-granted"]) {
            let mailbox = dstr(f, "mailbox").unwrap_or(&f.account).to_string();
            let rights: Vec<String> = dlist(f, "access_rights")
                .into_iter()
                .filter(|r| r.chars().all(|c| c.is_ascii_alphabetic()))
                .collect();
            let rights = if rights.is_empty() {
                "FullAccess".to_string()
            } else {
                rights.join(",")
            };
            let inheritance = dstr(f, "inheritance")
                .filter(|i| i.chars().all(|c| c.is_ascii_alphabetic()))
                .map(|i| format!(" -InheritanceType {i}"))
                .unwrap_or_default();
            for d in dlist(f, "delegates") {
                self.push(
                    a,
                    "remove-mailbox-permission",
                    format!(
                        "Remove-MailboxPermission -Identity {} -User {} -AccessRights {rights}{inheritance} -Confirm:$false",
                        ps(&mailbox),
                        ps(&d)
                    ),
                    format!(
                        "{}; remove {d}'s access to {mailbox}",
                        summary_of(f)
                    ),
                    vec![f.id.clone()],
                );
            }
        }
        for f in a.of(&["sendas-onbehalf-granted"]) {
            let mailbox = dstr(f, "mailbox").unwrap_or(&f.account).to_string();
            let on_behalf = dstr(f, "right") == Some("SendOnBehalf");
            for d in dlist(f, "delegates") {
                let command = if on_behalf {
                    format!(
                        "Set-Mailbox -Identity {} -GrantSendOnBehalfTo @{{remove={}}}",
                        ps(&mailbox),
                        ps(&d)
                    )
                } else {
                    format!(
                        "Remove-RecipientPermission -Identity {} -Trustee {} -AccessRights SendAs -Confirm:$false",
                        ps(&mailbox),
                        ps(&d)
                    )
                };
                self.push(
                    a,
                    "remove-recipient-permission",
                    command,
                    format!(
                        "{}; take the {} right on {mailbox} away from {d}",
                        summary_of(f),
                        if on_behalf {
                            "send-on-behalf"
                        } else {
                            "send-as"
                        }
                    ),
                    vec![f.id.clone()],
                );
            }
        }
        for f in a.of(&["folder-permission-read"]) {
            let mailbox = dstr(f, "mailbox").unwrap_or(&f.account).to_string();
            let folder = dstr(f, "folder")
                .unwrap_or("")
                .trim()
                .trim_start_matches(['\\', '/'])
                .to_string();
            let identity = format!("{mailbox}:\\{folder}");
            let member = dstr(f, "member").unwrap_or("").trim().to_string();
            if member.is_empty() {
                continue;
            }
            let everyone = matches!(
                member.to_ascii_lowercase().as_str(),
                "default" | "anonymous" | "everyone" | "all users"
            );
            let command = if everyone {
                // Default and Anonymous cannot be removed, only set back to no access.
                format!(
                    "Set-MailboxFolderPermission -Identity {} -User {} -AccessRights None",
                    ps(&identity),
                    ps(&member)
                )
            } else {
                format!(
                    "Remove-MailboxFolderPermission -Identity {} -User {} -Confirm:$false",
                    ps(&identity),
                    ps(&member)
                )
            };
            self.push(
                a,
                "remove-folder-permission",
                command,
                format!("{}; remove {member}'s access to the folder", summary_of(f)),
                vec![f.id.clone()],
            );
        }
        for f in a.of(&["impersonation-role"]) {
            let assignment = dstr(f, "assignment").unwrap_or("");
            let assignee = dstr(f, "assignee").unwrap_or("").trim().to_string();
            if assignee.is_empty() {
                continue;
            }
            let command = if let Some(group) = assignment.strip_prefix("role group ") {
                format!(
                    "Remove-RoleGroupMember -Identity {} -Member {} -Confirm:$false",
                    ps(group.trim()),
                    ps(&assignee)
                )
            } else {
                let role = assignment
                    .strip_prefix("role ")
                    .unwrap_or(assignment)
                    .trim();
                format!(
                    "Get-ManagementRoleAssignment -Role {} -RoleAssignee {} | Remove-ManagementRoleAssignment -Confirm:$false",
                    ps(role),
                    ps(&assignee)
                )
            };
            self.push(
                a,
                "remove-role-assignment",
                command,
                format!("{}; remove the assignment", summary_of(f)),
                vec![f.id.clone()],
            );
        }
    }

    // 6. ------------------------------------------------------------------------------------------

    fn apps(&mut self, a: &Acct<'_>) {
        struct App<'f> {
            key: String,
            name: Option<String>,
            app_id: Option<String>,
            sp_id: Option<String>,
            consent: Vec<&'f Finding>,
            app_roles: bool,
            other: Vec<&'f Finding>,
        }
        let mut apps: Vec<App<'_>> = Vec::new();
        let rules = [
            "user-consent-mail-scopes",
            "admin-consent-tenantwide",
            "app-granted-all-mailboxes",
            "app-credential-owner-changes",
        ];
        for f in a.of(&rules) {
            let name = dstr(f, "app_name").map(str::to_string);
            let app_id = dstr(f, "app_id").and_then(guid_in);
            let sp_id = dstr(f, "service_principal_id")
                .map(str::trim)
                .filter(|s| is_guid(s))
                .map(str::to_ascii_lowercase);
            let key = app_id
                .clone()
                .or_else(|| sp_id.clone())
                .or_else(|| name.as_ref().map(|n| n.to_lowercase()));
            let Some(key) = key else { continue };
            let roles =
                f.rule == "app-granted-all-mailboxes" || !dlist(f, "application_roles").is_empty();
            let idx = match apps.iter().position(|x| x.key == key) {
                Some(i) => i,
                None => {
                    apps.push(App {
                        key,
                        name: None,
                        app_id: None,
                        sp_id: None,
                        consent: Vec::new(),
                        app_roles: false,
                        other: Vec::new(),
                    });
                    apps.len() - 1
                }
            };
            let app = &mut apps[idx];
            app.name = app.name.take().or(name);
            app.app_id = app.app_id.take().or(app_id);
            app.sp_id = app.sp_id.take().or(sp_id);
            app.app_roles |= roles;
            if f.rule == "app-credential-owner-changes" {
                app.other.push(f);
            } else {
                app.consent.push(f);
            }
        }
        for app in apps {
            let label = match (&app.name, &app.app_id) {
                (Some(n), Some(id)) => format!("'{n}' (appId {id})"),
                (Some(n), None) => format!("'{n}'"),
                (None, Some(id)) => format!("appId {id}"),
                (None, None) => format!("service principal {}", app.key),
            };
            // How to reach the service principal: its object id, else a lookup.
            let lookup = match (&app.sp_id, &app.app_id, &app.name) {
                (Some(_), _, _) => None,
                (None, Some(id), _) => Some(odata_eq("appId", id)),
                (None, None, Some(n)) => Some(odata_eq("displayName", n)),
                (None, None, None) => None,
            };
            let sp_known = app.sp_id.as_deref().map(ps);
            if !app.consent.is_empty() {
                let ids: Vec<String> = app.consent.iter().map(|f| f.id.clone()).collect();
                let mut lines = Vec::new();
                match (&sp_known, &lookup) {
                    (Some(sp), _) => {
                        let filter = odata_eq("clientId", app.sp_id.as_deref().unwrap_or(""));
                        lines.push(format!(
                            "Get-MgOauth2PermissionGrant -All -Filter {filter} | Format-List Id, ClientId, ConsentType, PrincipalId, ResourceId, Scope"
                        ));
                        lines.push(format!(
                            "Get-MgOauth2PermissionGrant -All -Filter {filter} | ForEach-Object {{ Remove-MgOauth2PermissionGrant -OAuth2PermissionGrantId $_.Id }}"
                        ));
                        if app.app_roles {
                            lines.push(format!(
                                "Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId {sp} -All | ForEach-Object {{ Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $_.PrincipalId -AppRoleAssignmentId $_.Id }}"
                            ));
                        }
                    }
                    (None, Some(filter)) => {
                        lines.push(format!(
                            "Get-MgServicePrincipal -Filter {filter} | Format-List Id, AppId, DisplayName, AccountEnabled, PublisherName"
                        ));
                        lines.push(format!(
                            "Get-MgServicePrincipal -Filter {filter} | ForEach-Object {{ $spId = $_.Id; Get-MgOauth2PermissionGrant -All -Filter \"clientId eq '$spId'\" | ForEach-Object {{ Remove-MgOauth2PermissionGrant -OAuth2PermissionGrantId $_.Id }} }}"
                        ));
                        if app.app_roles {
                            lines.push(format!(
                                "Get-MgServicePrincipal -Filter {filter} | ForEach-Object {{ $spId = $_.Id; Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $spId -All | ForEach-Object {{ Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $spId -AppRoleAssignmentId $_.Id }} }}"
                            ));
                        }
                    }
                    (None, None) => {}
                }
                if !lines.is_empty() {
                    let about = app
                        .consent
                        .first()
                        .map(|f| summary_of(f))
                        .unwrap_or_default();
                    self.push(
                        a,
                        "revoke-app-consent",
                        lines.join("\n"),
                        format!(
                            "{about}; revoke every permission grant of {label}{}: its refresh \
                             token keeps working after the password reset",
                            if app.app_roles {
                                " including its application permissions"
                            } else {
                                ""
                            }
                        ),
                        ids,
                    );
                }
            }
            let ids: Vec<String> = app
                .consent
                .iter()
                .chain(app.other.iter())
                .map(|f| f.id.clone())
                .collect();
            let command = match (&sp_known, &lookup) {
                (Some(sp), _) => Some(format!(
                    "Update-MgServicePrincipal -ServicePrincipalId {sp} -AccountEnabled:$false"
                )),
                (None, Some(filter)) => Some(format!(
                    "Get-MgServicePrincipal -Filter {filter} | ForEach-Object {{ Update-MgServicePrincipal -ServicePrincipalId $_.Id -AccountEnabled:$false }}"
                )),
                (None, None) => None,
            };
            if let Some(command) = command {
                let extra = app
                    .other
                    .first()
                    .map(|f| format!(" ({})", summary_of(f)))
                    .unwrap_or_default();
                self.push(
                    a,
                    "disable-app",
                    command,
                    format!(
                        "Disable sign-in for {label}{extra} so nobody can use it in the tenant \
                         while it is investigated; delete the service principal once confirmed \
                         malicious"
                    ),
                    ids,
                );
            }
        }
    }

    // 7. ------------------------------------------------------------------------------------------

    fn transport(&mut self, a: &Acct<'_>) {
        for f in a.of(&["transport-rule-forward-bcc", "transport-rule-change"]) {
            let Some(name) = dstr(f, "transport_rule").map(str::to_string) else {
                continue;
            };
            let ops = dlist(f, "operations");
            let last = ops
                .last()
                .map(|o| o.to_ascii_lowercase())
                .unwrap_or_default();
            let created = ops
                .iter()
                .any(|o| o.to_ascii_lowercase().starts_with("new-"));
            let n = ps(&name);
            if last.starts_with("remove-") || (last.starts_with("disable-") && !created) {
                self.push(
                    a,
                    "review-transport-rule",
                    "Get-TransportRule | Format-Table Name, State, Mode, Priority, WhenChanged"
                        .to_string(),
                    format!(
                        "{}; the attacker disabled or removed a mail-flow rule: restore it if it \
                         was a protection rule (Enable-TransportRule, or recreate it from your \
                         records)",
                        summary_of(f)
                    ),
                    vec![f.id.clone()],
                );
            } else {
                self.push(
                    a,
                    "remove-transport-rule",
                    format!("Remove-TransportRule -Identity {n} -Confirm:$false"),
                    format!(
                        "{}; remove the mail-flow rule (or restore its previous settings if it \
                         existed before the attack), then review every other transport rule",
                        summary_of(f)
                    ),
                    vec![f.id.clone()],
                );
            }
        }
        for f in a.of(&["mailflow-connector-change"]) {
            let Some(name) = dstr(f, "connector").map(str::to_string) else {
                continue;
            };
            let noun = if dstr(f, "direction") == Some("inbound") {
                "InboundConnector"
            } else {
                "OutboundConnector"
            };
            let ops = dlist(f, "operations");
            let created = ops
                .iter()
                .any(|o| o.to_ascii_lowercase().starts_with("new-"));
            if created {
                self.push(
                    a,
                    "remove-connector",
                    format!("Remove-{noun} -Identity {} -Confirm:$false", ps(&name)),
                    format!(
                        "{}; remove the connector the attacker created (follow Microsoft's \
                         'Respond to a compromised connector')",
                        summary_of(f)
                    ),
                    vec![f.id.clone()],
                );
            } else {
                self.push(
                    a,
                    "review-connector",
                    format!("Get-{noun} -Identity {} | Format-List", ps(&name)),
                    format!(
                        "{}; revert the connector's changes (smart hosts, TLS, scope) to the \
                         mail administrator's configuration",
                        summary_of(f)
                    ),
                    vec![f.id.clone()],
                );
            }
        }
    }

    // 8. ------------------------------------------------------------------------------------------

    fn sending(&mut self, a: &Acct<'_>) {
        let upn = a.upn().to_string();
        let mut restricted: Vec<String> = a.ids(&["outbound-spam-restricted"]);
        for f in a.of(&["ms-alert-passthrough"]) {
            let name = dstr(f, "alert_name").unwrap_or("").to_ascii_lowercase();
            if name.contains("restricted from sending")
                || (name.contains("restrict") && name.contains("send"))
                || name.contains("sending limit")
            {
                restricted.push(f.id.clone());
            }
        }
        let u = ps(&upn);
        if !restricted.is_empty() {
            self.push(
                a,
                "unblock-sender",
                format!(
                    "Get-BlockedSenderAddress -SenderAddress {u}\nRemove-BlockedSenderAddress -SenderAddress {u}"
                ),
                format!(
                    "The evidence shows {upn} sending in bulk or restricted from sending: only \
                     after every step above has secured the account, remove it from Restricted \
                     entities (Defender portal, or this command) so it can send again"
                ),
                restricted,
            );
            return;
        }
        let sent = a.ids(SEND_RULES);
        self.push(
            a,
            "unblock-sender",
            format!("Get-BlockedSenderAddress -SenderAddress {u}"),
            format!(
                "The attacker sent mail as {upn}: check whether Microsoft restricted the account \
                 from sending (Restricted entities); if it did, run Remove-BlockedSenderAddress \
                 -SenderAddress only after the account is secured"
            ),
            sent,
        );
    }

    // 9. ------------------------------------------------------------------------------------------

    fn auditing(&mut self, a: &Acct<'_>) {
        for f in a.of(&["audit-logging-tampering"]) {
            let cmdlet = dstr(f, "cmdlet").unwrap_or("").to_ascii_lowercase();
            let change = dstr(f, "change").unwrap_or("").to_ascii_lowercase();
            let identity = dobj(f, "parameters", "Identity")
                .unwrap_or(&f.account)
                .to_string();
            let command = match cmdlet.as_str() {
                "set-mailbox" if change.contains("auditing disabled") => {
                    format!("Set-Mailbox -Identity {} -AuditEnabled $true", ps(&identity))
                }
                "set-mailbox" => format!(
                    "Set-Mailbox -Identity {} -AuditEnabled $true -DefaultAuditSet Admin,Delegate,Owner",
                    ps(&identity)
                ),
                "set-mailboxauditbypassassociation" => format!(
                    "Set-MailboxAuditBypassAssociation -Identity {} -AuditBypassEnabled $false",
                    ps(&identity)
                ),
                "set-adminauditlogconfig" if change.contains("unified") => {
                    "Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true".to_string()
                }
                "set-adminauditlogconfig" if change.contains("excluded") => {
                    "Set-AdminAuditLogConfig -AdminAuditLogExcludedCmdlets $null".to_string()
                }
                "set-adminauditlogconfig" => {
                    "Set-AdminAuditLogConfig -AdminAuditLogEnabled $true".to_string()
                }
                "set-organizationconfig" => "Set-OrganizationConfig -AuditDisabled $false".into(),
                _ if change.contains("advanced auditing") => format!(
                    "Get-MgUserLicenseDetail -UserId {} | Format-List SkuPartNumber, ServicePlans",
                    ps(&f.account)
                ),
                _ => "Get-AdminAuditLogConfig | Format-List UnifiedAuditLogIngestionEnabled, AdminAuditLogEnabled, AdminAuditLogExcludedCmdlets".to_string(),
            };
            self.push(
                a,
                "enable-auditing",
                command,
                format!(
                    "{}; turn auditing back on and review what was done while it was off",
                    summary_of(f)
                ),
                vec![f.id.clone()],
            );
        }
        for f in a.of(&["email-protection-tampering"]) {
            let cmdlet = dstr(f, "cmdlet").unwrap_or("");
            let command = match cmdlet.split_once('-') {
                Some((_, noun))
                    if !noun.is_empty() && noun.chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    format!("Get-{noun} | Format-List")
                }
                _ => "Get-HostedContentFilterPolicy | Format-List".to_string(),
            };
            self.push(
                a,
                "review-protection-policy",
                command,
                format!(
                    "{}; restore the protection policy or rule to its previous settings",
                    summary_of(f)
                ),
                vec![f.id.clone()],
            );
        }
        for f in a.of(&["federation-domain-change"]) {
            let Some(domain) = dstr(f, "domain").map(str::to_string) else {
                continue;
            };
            let d = ps(&domain);
            self.push(
                a,
                "review-domain",
                format!(
                    "Get-MgDomain -DomainId {d} | Format-List Id, AuthenticationType, IsVerified\n\
                     Get-MgDomainFederationConfiguration -DomainId {d}"
                ),
                format!(
                    "{}; remove a domain or federation the organisation did not set up, or \
                     revert the federation settings",
                    summary_of(f)
                ),
                vec![f.id.clone()],
            );
        }
    }

    // 10. -----------------------------------------------------------------------------------------

    fn block_ips(&mut self, a: &Acct<'_>) {
        let mut ranges: Vec<(String, &'static str)> = Vec::new();
        let mut shown: Vec<String> = Vec::new();
        for ip in &a.v.attacker_ips {
            let Ok(addr) = ip.trim().parse::<IpAddr>() else {
                continue;
            };
            let (cidr, kind) = match addr {
                IpAddr::V4(v4) => {
                    if v4.is_private()
                        || v4.is_loopback()
                        || v4.is_link_local()
                        || v4.is_unspecified()
                        || v4.is_broadcast()
                    {
                        continue;
                    }
                    (format!("{v4}/32"), "#microsoft.graph.iPv4CidrRange")
                }
                IpAddr::V6(v6) => {
                    let first = v6.segments()[0];
                    if v6.is_loopback()
                        || v6.is_unspecified()
                        || (first & 0xfe00) == 0xfc00
                        || (first & 0xffc0) == 0xfe80
                    {
                        continue;
                    }
                    (format!("{v6}/128"), "#microsoft.graph.iPv6CidrRange")
                }
            };
            if !ranges.iter().any(|(c, _)| *c == cidr) {
                shown.push(addr.to_string());
                ranges.push((cidr, kind));
            }
        }
        if ranges.is_empty() {
            return;
        }
        let ids: Vec<String> =
            a.fs.iter()
                .filter(|f| f.ips.iter().any(|ip| shown.contains(ip)))
                .map(|f| f.id.clone())
                .collect();
        let ids = if ids.is_empty() && a.suspicious {
            a.basis()
        } else {
            ids
        };
        let list = ranges
            .iter()
            .map(|(cidr, kind)| {
                format!(
                    "@{{ '@odata.type' = {}; cidrAddress = {} }}",
                    ps(kind),
                    ps(cidr)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let command = format!(
            "New-MgIdentityConditionalAccessNamedLocation -BodyParameter @{{ '@odata.type' = '#microsoft.graph.ipNamedLocation'; displayName = {}; isTrusted = $false; ipRanges = @({list}) }}",
            ps(&format!("mailsleuth attacker IPs - {}", a.upn()))
        );
        self.push(
            a,
            "block-attacker-ips",
            command,
            format!(
                "The attacker used {} against {}: create this Conditional Access named location \
                 and add it to a policy that blocks sign-in from it (the Tenant Allow/Block List \
                 is for senders, domains, URLs and files, not sign-in IPs); the addresses may be \
                 shared proxies or VPN exits, so keep the block temporary",
                shown.join(", "),
                a.upn()
            ),
            ids,
        );
    }

    // 11. -----------------------------------------------------------------------------------------

    fn notify(&mut self, a: &Acct<'_>) {
        if a.suspicious {
            return;
        }
        let Some(br) = &a.v.blast_radius else { return };
        let ctx = &self.ctx;
        struct Msg {
            key: String,
            id: String,
            subject: Option<String>,
            time: Timestamp,
            event: u32,
        }
        let mut msgs: Vec<Msg> = Vec::new();
        for &i in &a.v.attacker_events {
            let Some(e) = ctx.events.get(i as usize) else {
                continue;
            };
            if !matches!(ctx.s(e.operation), "Send" | "SendAs" | "SendOnBehalf") {
                continue;
            }
            for item in e.items() {
                let Some(id) = item.internet_message_id(ctx.interner) else {
                    continue;
                };
                let key = norm_message_id(id);
                if key.is_empty() || msgs.iter().any(|m| m.key == key) {
                    continue;
                }
                msgs.push(Msg {
                    key,
                    id: id.trim().to_string(),
                    subject: item.subject(ctx.interner).map(str::to_string),
                    time: e.time,
                    event: i,
                });
            }
        }
        msgs.sort_by(|x, y| (x.time, &x.key).cmp(&(y.time, &y.key)));
        if msgs.is_empty() && br.internal_recipients.is_empty() && br.external_recipients.is_empty()
        {
            return;
        }
        let send_events: HashSet<u32> = msgs.iter().map(|m| m.event).collect();
        let mut ids: Vec<String> =
            a.fs.iter()
                .filter(|f| f.events.iter().any(|e| send_events.contains(e)))
                .map(|f| f.id.clone())
                .collect();
        if ids.is_empty() {
            ids = a.ids(SEND_RULES);
        }
        if ids.is_empty() {
            ids =
                a.fs.iter()
                    .filter(|f| f.severity >= Severity::High)
                    .map(|f| f.id.clone())
                    .collect();
        }
        let upn = a.upn().to_string();
        let described: Vec<String> = msgs
            .iter()
            .map(|m| {
                format!(
                    "'{}' {} sent {}",
                    m.subject.as_deref().unwrap_or("(no subject)"),
                    m.id,
                    m.time.to_rfc3339()
                )
            })
            .collect();
        let mut who = Vec::new();
        if !br.external_recipients.is_empty() {
            who.push(format!("external {}", br.external_recipients.join(", ")));
        }
        if !br.internal_recipients.is_empty() {
            who.push(format!("internal {}", br.internal_recipients.join(", ")));
        }
        let command = if msgs.is_empty() {
            let (start, end) =
                a.v.window
                    .map(|w| (w.start, w.end))
                    .unwrap_or((Timestamp::default(), Timestamp::default()));
            format!(
                "Get-MessageTraceV2 -SenderAddress {} -StartDate {} -EndDate {}",
                ps(&upn),
                ps(&day(start, 0)),
                ps(&day(end, 1))
            )
        } else {
            msgs.iter()
                .map(|m| {
                    format!(
                        "Get-MessageTraceV2 -MessageId {} -StartDate {} -EndDate {} | Format-Table Received, SenderAddress, RecipientAddress, Subject, Status",
                        ps(&m.id),
                        ps(&day(m.time, 0)),
                        ps(&day(m.time, 2))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        self.push(
            a,
            "notify-recipients",
            command,
            format!(
                "Tell the recipients of the mail the attacker sent as {upn} that it did not come \
                 from the account holder and must not be acted on ({}){}",
                if who.is_empty() {
                    "recipients not in the message trace".to_string()
                } else {
                    who.join("; ")
                },
                if described.is_empty() {
                    String::new()
                } else {
                    format!("; messages: {}", described.join("; "))
                }
            ),
            ids.clone(),
        );

        // Purge the internal phishing from colleagues' mailboxes.
        let internal: Vec<String> = br
            .internal_recipients
            .iter()
            .filter(|r| !r.eq_ignore_ascii_case(&upn))
            .cloned()
            .collect();
        if internal.is_empty() {
            return;
        }
        let phishing: Vec<&Msg> = msgs
            .iter()
            .filter(|m| {
                // Its recipients in the message trace, through the index the rules share
                // (scanning every event for the trace's rows took ~2 % of the CPU after
                // ingest on a large export).
                recipients_of(&self.ctx, &m.id)
                    .iter()
                    .any(|x| internal.iter().any(|i| i.eq_ignore_ascii_case(x)))
            })
            .collect();
        let (start, end) = match (phishing.first(), phishing.last()) {
            (Some(f), Some(l)) => (f.time, l.time),
            _ => match a.v.window {
                Some(w) => (w.start, w.end),
                None => return,
            },
        };
        let mut subjects: Vec<String> = phishing
            .iter()
            .filter_map(|m| m.subject.as_deref())
            .map(kql_phrase)
            .filter(|s| s.len() > 2)
            .collect();
        subjects.sort();
        subjects.dedup();
        let mut query = format!(
            "(From:{}) AND (Sent:{}..{})",
            kql_phrase(&upn),
            day(start, 0),
            day(end, 1)
        );
        if !subjects.is_empty() {
            query.push_str(&format!(
                " AND ({})",
                subjects
                    .iter()
                    .map(|s| format!("Subject:{s}"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ));
        }
        let local: String = upn
            .split('@')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect();
        let name = ps(&format!("mailsleuth-phishing-{local}"));
        let command = format!(
            "New-ComplianceSearch -Name {name} -ExchangeLocation {} -ContentMatchQuery {}\n\
             Start-ComplianceSearch -Identity {name}\n\
             New-ComplianceSearchAction -SearchName {name} -Purge -PurgeType SoftDelete",
            ps_list(&internal),
            ps(&query)
        );
        let which = phishing
            .iter()
            .map(|m| {
                format!(
                    "'{}' {}",
                    m.subject.as_deref().unwrap_or("(no subject)"),
                    m.id
                )
            })
            .collect::<Vec<_>>();
        self.push(
            a,
            "purge-phishing",
            command,
            format!(
                "Remove the attacker's internal phishing{} from the {} colleagues' mailboxes \
                 ({}): run the search (Connect-IPPSSession), check with Get-ComplianceSearch that \
                 it found only these messages, then purge",
                if which.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", which.join("; "))
                },
                internal.len(),
                internal.join(", ")
            ),
            ids,
        );
    }

    // 12. -----------------------------------------------------------------------------------------

    fn tenant_wide(&mut self) {
        let used = self.used.clone();
        let ids = |pred: &dyn Fn(&Finding) -> bool| -> Vec<String> {
            used.iter()
                .copied()
                .filter(|f| pred(f))
                .map(|f| f.id.clone())
                .collect()
        };
        let forwarding = ids(&|f| {
            EXTERNAL_FORWARD_RULES.contains(&f.rule)
                || (f.rule == "transport-rule-forward-bcc"
                    && !dlist(f, "external_targets").is_empty())
        });
        if !forwarding.is_empty() {
            self.add(
                TENANT.into(),
                "block-external-forwarding",
                "Set-HostedOutboundSpamFilterPolicy -Identity Default -AutoForwardingMode Off"
                    .into(),
                "Mail was forwarded outside the organisation: turn automatic external forwarding \
                 off in the default outbound spam policy (it covers inbox rules and mailbox \
                 forwarding), with a separate policy for any mailbox that must keep forwarding"
                    .into(),
                forwarding,
            );
        }
        let legacy = ids(&|f| LEGACY_RULES.contains(&f.rule));
        if !legacy.is_empty() {
            self.add(
                TENANT.into(),
                "disable-legacy-auth",
                "New-MgIdentityConditionalAccessPolicy -BodyParameter @{ displayName = 'Block legacy authentication'; state = 'enabledForReportingButNotEnforced'; conditions = @{ users = @{ includeUsers = @('All') }; applications = @{ includeApplications = @('All') }; clientAppTypes = @('exchangeActiveSync', 'other') }; grantControls = @{ operator = 'OR'; builtInControls = @('block') } }".into(),
                "The attacker signed in with a legacy or single-factor protocol, which skips MFA: \
                 block legacy authentication with Conditional Access (created report-only here; \
                 switch it on after checking the report) or Security Defaults"
                    .into(),
                legacy,
            );
        }
        let consent = ids(&|f| CONSENT_RULES.contains(&f.rule));
        if !consent.is_empty() {
            self.add(
                TENANT.into(),
                "restrict-user-consent",
                "Update-MgPolicyAuthorizationPolicy -DefaultUserRolePermissions @{ PermissionGrantPoliciesAssigned = @('ManagePermissionGrantsForSelf.microsoft-user-default-low') }".into(),
                "An app was granted access to mail by consent: let users consent only to \
                 verified publishers' apps asking for low-risk permissions (or to none, with an \
                 empty list) and turn on the admin consent workflow for the rest"
                    .into(),
                consent,
            );
        }
        let analysis: &'a Analysis = self.analysis;
        let compromised: HashSet<&str> = analysis
            .accounts
            .iter()
            .filter(|v| v.verdict == Verdict::Compromised)
            .map(|v| v.account.as_str())
            .collect();
        let serious = ids(&|f| {
            f.severity >= Severity::High
                && (compromised.contains(f.account.as_str())
                    || dstr(f, "actor").is_some_and(|a| compromised.contains(a)))
        });
        if !serious.is_empty() {
            self.add(
                TENANT.into(),
                "review-secure-score",
                "Get-MgSecuritySecureScore -Top 1 | Format-List CreatedDateTime, CurrentScore, MaxScore, EnabledServices".into(),
                "An account was compromised: review Microsoft Secure Score's improvement actions \
                 (MFA for every user, legacy authentication, user consent, external forwarding, \
                 audit logging) and close the gaps this incident used"
                    .into(),
                serious,
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The script
// ------------------------------------------------------------------------------------------------

/// `remediation.ps1`: every command commented with its reason; nothing destructive runs unless
/// uncommented.
pub fn powershell(plan: &[Step]) -> String {
    let mut s = String::new();
    // A BOM so Windows PowerShell 5.1 reads the file as UTF-8 (see the module docs).
    s.push('\u{feff}');
    s.push_str(&format!(
        "# remediation.ps1 - remediation plan for a Microsoft 365 mailbox compromise\n\
         # Generated by mailsleuth {} from an offline analysis of exported logs.\n\
         #\n\
         # REVIEW EVERY STEP BEFORE RUNNING ANYTHING. The steps follow Microsoft's order for a\n\
         # compromised account (credentials and sessions, MFA, inbox rules, forwarding, delegates,\n\
         # apps, mail flow, sending, auditing, attacker IPs, recipients), then tenant-wide hardening.\n\
         # Every command that changes the tenant (remove, disable, reset, revoke, purge, block,\n\
         # set, new, update) is commented out: uncomment it only once you have checked it.\n\
         # Read-only Get-* commands are left active so the script can be run to review the state.\n\
         # Values from the evidence (rule names, addresses, app names) are single-quoted strings.\n\
         #\n\
         # Connect first (uncomment what you need):\n\
         # Connect-ExchangeOnline -UserPrincipalName '<admin upn>'\n\
         # Connect-IPPSSession -UserPrincipalName '<admin upn>'   # compliance search and purge\n\
         # Connect-MgGraph -Scopes 'User.ReadWrite.All','UserAuthenticationMethod.ReadWrite.All','Directory.AccessAsUser.All','DelegatedPermissionGrant.ReadWrite.All','Application.ReadWrite.All','AppRoleAssignment.ReadWrite.All','Policy.Read.All','Policy.ReadWrite.ConditionalAccess','Policy.ReadWrite.Authorization','SecurityEvents.Read.All'\n",
        env!("CARGO_PKG_VERSION")
    ));
    if plan.is_empty() {
        s.push_str("\n# No compromised or suspicious account: nothing to remediate.\n");
        return s;
    }
    for step in plan {
        s.push_str(
            "\n# ------------------------------------------------------------------------------\n",
        );
        s.push_str(&format!(
            "# Step {} \u{2014} {} \u{2014} {}\n",
            step.step,
            clean(&step.account),
            step.action
        ));
        s.push_str(&format!("# Why: {}\n", clean(&step.reason)));
        if step.finding_ids.is_empty() {
            s.push_str("# Findings: (baseline for every compromised account)\n");
        } else {
            s.push_str(&format!(
                "# Findings: {}\n",
                clean(&step.finding_ids.join(", "))
            ));
        }
        for line in step.command.lines() {
            let line = clean(line);
            if line.trim().is_empty() {
                continue;
            }
            if is_read_only(&line) {
                s.push_str(&line);
            } else {
                s.push_str("# ");
                s.push_str(&line);
            }
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{self, AnalyzeOptions};
    use crate::ingest::{source::NoCount, IngestOptions};
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    const VICTIM: &str = "amelia.hart@tailspinfreight.example";
    const HOSTILE: &str = "x'; Remove-Mailbox -Identity * #";

    fn run_samples() -> Analysis {
        let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
        analysis::run(
            &[samples],
            &IngestOptions::default(),
            &AnalyzeOptions::default(),
            &NoCount,
        )
        .expect("analysis runs")
    }

    fn samples() -> &'static (Analysis, Vec<Step>) {
        static A: OnceLock<(Analysis, Vec<Step>)> = OnceLock::new();
        A.get_or_init(|| {
            let a = run_samples();
            let p = plan(&a);
            (a, p)
        })
    }

    fn steps<'p>(p: &'p [Step], action: &str) -> Vec<&'p Step> {
        p.iter().filter(|s| s.action == action).collect()
    }

    fn one<'p>(p: &'p [Step], action: &str) -> &'p Step {
        let v = steps(p, action);
        assert_eq!(v.len(), 1, "{action}: {v:#?}");
        v[0]
    }

    fn finding<'a>(a: &'a Analysis, rule: &str) -> &'a Finding {
        a.findings
            .iter()
            .find(|f| f.rule == rule && f.account == VICTIM)
            .unwrap_or_else(|| panic!("no {rule} finding"))
    }

    /// Splits a PowerShell line into its single-quoted strings (decoded) and the rest.
    fn ps_split(line: &str) -> (Vec<String>, String) {
        let mut strings = Vec::new();
        let mut bare = String::new();
        let mut cur: Option<String> = None;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match &mut cur {
                Some(s) => {
                    if is_ps_single_quote(c) {
                        if chars.peek().copied().is_some_and(is_ps_single_quote) {
                            s.push(chars.next().unwrap_or(c));
                        } else {
                            strings.push(cur.take().unwrap_or_default());
                        }
                    } else {
                        s.push(c);
                    }
                }
                None if is_ps_single_quote(c) => cur = Some(String::new()),
                None => bare.push(c),
            }
        }
        assert!(cur.is_none(), "unterminated string in {line:?}");
        (strings, bare)
    }

    #[test]
    fn quoting_doubles_every_quote_and_drops_controls() {
        assert_eq!(ps(".."), "'..'");
        assert_eq!(ps("it's"), "'it''s'");
        assert_eq!(ps("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
        assert_eq!(ps("a\nb\r\u{2028}c\u{202e}d\u{1b}"), "'abcd'");
        assert_eq!(
            odata_eq("appId", "3c9f6b2e-81d4-4e7a-a0b5-6f2d9c18e473"),
            "'appId eq ''3c9f6b2e-81d4-4e7a-a0b5-6f2d9c18e473'''"
        );
        assert_eq!(
            odata_eq("displayName", "O'Neil"),
            "'displayName eq ''O''''Neil'''"
        );
        let (strings, bare) = ps_split(&format!("Remove-InboxRule -Identity {}", ps(HOSTILE)));
        assert_eq!(strings, vec![HOSTILE.to_string()]);
        assert!(!bare.contains("Remove-Mailbox"));
        assert_eq!(
            kql_phrase("Amelia shared \"Q1.pdf\" \\ with you"),
            "\"Amelia shared Q1.pdf with you\""
        );
    }

    #[test]
    fn read_only_lines_are_recognised() {
        assert!(is_read_only(
            "Get-InboxRule -Mailbox 'a@b.example' -IncludeHidden | Format-List Name"
        ));
        assert!(is_read_only(
            "Get-MgUserAuthenticationPhoneMethod -UserId 'a' | Format-List Id, PhoneNumber"
        ));
        assert!(is_read_only(
            "Get-InboxRule -Mailbox 'x@mailbox-relay.example'"
        ));
        assert!(!is_read_only(
            "Remove-InboxRule -Mailbox 'a' -Identity '..' -Confirm:$false"
        ));
        assert!(!is_read_only(
            "Get-InboxRule -Mailbox 'a' | Where-Object Name -eq 'x' | Remove-InboxRule -Confirm:$false"
        ));
        assert!(!is_read_only("$x = Read-Host -Prompt 'p'"));
        assert!(!is_read_only(
            "Set-Mailbox -Identity 'a' -AuditEnabled $true"
        ));
        // A quoted value that mentions a cmdlet does not make the line destructive, but a
        // quote-breaking value would leave the cmdlet outside the string.
        assert!(is_read_only(&format!(
            "Get-InboxRule -Mailbox {} -IncludeHidden",
            ps(HOSTILE)
        )));
        assert!(!is_read_only(
            "Get-InboxRule -Mailbox 'x'; Remove-Mailbox -Identity * #'"
        ));
    }

    #[test]
    fn victim_plan_names_the_exact_objects_in_microsofts_order() {
        let (a, p) = samples();
        let mine: Vec<&str> = p
            .iter()
            .filter(|s| s.account == VICTIM)
            .map(|s| s.action)
            .collect();
        assert_eq!(
            mine,
            vec![
                "reset-password",
                "revoke-sessions",
                "enforce-mfa",
                "remove-mfa-method",
                "verify-inbox-rule-removed",
                "clear-forwarding",
                "revoke-app-consent",
                "disable-app",
                "unblock-sender",
                "block-attacker-ips",
                "notify-recipients",
                "purge-phishing",
            ],
            "{p:#?}"
        );
        let tenant: Vec<&str> = p
            .iter()
            .filter(|s| s.account == TENANT)
            .map(|s| s.action)
            .collect();
        assert_eq!(
            tenant,
            vec![
                "block-external-forwarding",
                "restrict-user-consent",
                "review-secure-score"
            ]
        );
        // Numbered 1..n, tenant-wide last.
        for (i, s) in p.iter().enumerate() {
            assert_eq!(s.step, i as u32 + 1);
        }
        assert_eq!(p.len(), mine.len() + tenant.len());

        let reset = one(p, "reset-password");
        assert!(reset.command.contains(&format!(
            "Update-MgUser -UserId '{VICTIM}' -PasswordProfile"
        )));
        assert!(reset.command.contains("$NewTemporaryPassword"));
        assert!(reset.reason.contains("app passwords"));
        assert_eq!(
            reset.finding_ids,
            vec![finding(a, "password-spray-bruteforce").id.clone()]
        );
        let revoke = one(p, "revoke-sessions");
        assert_eq!(
            revoke.command,
            format!("Revoke-MgUserSignInSession -UserId '{VICTIM}'")
        );
        assert!(revoke
            .finding_ids
            .contains(&finding(a, "token-replay-without-signin").id));

        let mfa = one(p, "remove-mfa-method");
        assert!(mfa.command.contains("-eq '46701740633'"), "{}", mfa.command);
        assert!(mfa.command.contains(&format!(
            "Remove-MgUserAuthenticationPhoneMethod -UserId '{VICTIM}' -PhoneAuthenticationMethodId $_.Id"
        )));
        assert!(mfa.reason.contains("+46 701740633"));
        assert_eq!(
            mfa.finding_ids,
            vec![finding(a, "mfa-method-added").id.clone()]
        );

        let rule = one(p, "verify-inbox-rule-removed");
        assert!(rule
            .command
            .starts_with(&format!("Get-InboxRule -Mailbox '{VICTIM}' -IncludeHidden")));
        assert!(rule.reason.contains("\"..\"") || rule.reason.contains("'..'"));
        assert!(rule.reason.contains("RSS Subscriptions"));
        assert_eq!(
            rule.finding_ids,
            vec![finding(a, "inbox-rule-keyword-delete-move").id.clone()]
        );
        assert!(steps(p, "remove-inbox-rule").is_empty());

        let fwd = one(p, "clear-forwarding");
        assert_eq!(
            fwd.command,
            format!(
                "Set-Mailbox -Identity '{VICTIM}' -ForwardingSmtpAddress $null -ForwardingAddress $null -DeliverToMailboxAndForward $false"
            )
        );
        assert!(fwd.reason.contains("ap.settlements@mailbox-relay.example"));
        assert_eq!(
            fwd.finding_ids,
            vec![finding(a, "mailbox-smtp-forwarding").id.clone()]
        );

        let consent_id = finding(a, "user-consent-mail-scopes").id.clone();
        let grant = one(p, "revoke-app-consent");
        assert!(grant.command.contains(
            "Get-MgOauth2PermissionGrant -All -Filter 'clientId eq ''b7e41c09-5a3f-4d62-9e18-2c7a0f5d3b96'''"
        ));
        assert!(grant.command.contains("Remove-MgOauth2PermissionGrant"));
        assert!(grant.reason.contains("PDF Reader Online"));
        assert!(grant
            .reason
            .contains("3c9f6b2e-81d4-4e7a-a0b5-6f2d9c18e473"));
        assert_eq!(grant.finding_ids, vec![consent_id.clone()]);
        let app = one(p, "disable-app");
        assert_eq!(
            app.command,
            "Update-MgServicePrincipal -ServicePrincipalId 'b7e41c09-5a3f-4d62-9e18-2c7a0f5d3b96' -AccountEnabled:$false"
        );

        // No restriction alert in the samples: a check, not an unblock.
        let unblock = one(p, "unblock-sender");
        assert_eq!(
            unblock.command,
            format!("Get-BlockedSenderAddress -SenderAddress '{VICTIM}'")
        );
        assert_eq!(
            unblock.finding_ids,
            vec![finding(a, "send-then-harddelete").id.clone()]
        );

        let ips = one(p, "block-attacker-ips");
        assert!(ips
            .command
            .starts_with("New-MgIdentityConditionalAccessNamedLocation"));
        assert!(ips.command.contains("cidrAddress = '89.160.20.115/32'"));
        assert!(ips.command.contains("cidrAddress = '175.16.199.10/32'"));
        assert!(ips.reason.contains("not sign-in IPs"));
        assert!(!ips.finding_ids.is_empty());

        let notify = one(p, "notify-recipients");
        for r in [
            "payables@harbor-logistics.example",
            "sophie.turner@tailspinfreight.example",
            "james.okafor@tailspinfreight.example",
            "priya.shah@tailspinfreight.example",
            "tom.whitfield@tailspinfreight.example",
            "hannah.lewis@tailspinfreight.example",
            "marcus.bell@tailspinfreight.example",
        ] {
            assert!(notify.reason.contains(r), "{r}: {}", notify.reason);
        }
        assert!(notify.reason.contains("RE: Invoice HL-44817"));
        assert!(notify.command.contains(
            "Get-MessageTraceV2 -MessageId '<LO2P265MB41237FA4AB0B1F9D2983936EADFE52316@LO2P265MB4123.GBRP265.PROD.OUTLOOK.COM>'"
        ));
        assert_eq!(notify.command.lines().count(), 3);
        assert!(notify
            .finding_ids
            .contains(&finding(a, "send-then-harddelete").id));

        let purge = one(p, "purge-phishing");
        let first = purge.command.lines().next().unwrap_or("");
        assert!(first.starts_with("New-ComplianceSearch -Name 'mailsleuth-phishing-amelia.hart'"));
        for r in [
            "sophie.turner@tailspinfreight.example",
            "marcus.bell@tailspinfreight.example",
        ] {
            assert!(first.contains(&format!("'{r}'")));
        }
        assert!(!first.contains("payables@harbor-logistics.example"));
        assert!(first.contains("Subject:\"Amelia Hart shared Q1 remittance advice.pdf with you\""));
        assert!(
            !first.contains("HL-44817"),
            "the external fraud mail is not purged internally"
        );
        assert!(purge.command.contains(
            "New-ComplianceSearchAction -SearchName 'mailsleuth-phishing-amelia.hart' -Purge"
        ));

        let ext = one(p, "block-external-forwarding");
        assert_eq!(
            ext.command,
            "Set-HostedOutboundSpamFilterPolicy -Identity Default -AutoForwardingMode Off"
        );
        assert_eq!(
            ext.finding_ids,
            vec![finding(a, "mailbox-smtp-forwarding").id.clone()]
        );
        assert_eq!(
            one(p, "restrict-user-consent").finding_ids,
            vec![consent_id]
        );
        assert!(steps(p, "disable-legacy-auth").is_empty());
        assert!(steps(p, "enable-auditing").is_empty());
    }

    #[test]
    fn every_step_has_evidence_except_the_baseline_and_clean_accounts_get_nothing() {
        let (a, p) = samples();
        let ids: HashSet<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
        for s in p {
            if s.finding_ids.is_empty() {
                assert!(BASELINE.contains(&s.action), "{s:#?}");
            }
            for id in &s.finding_ids {
                assert!(ids.contains(id.as_str()), "unknown finding {id}");
            }
            let v = a.accounts.iter().find(|v| v.account == s.account);
            match v {
                Some(v) => assert_ne!(v.verdict, Verdict::Clean, "{s:#?}"),
                None => assert_eq!(s.account, TENANT),
            }
        }
        // leo.marsh registered a phone too (a benign look-alike): nothing about him or his number.
        assert!(!p
            .iter()
            .any(|s| s.command.contains("leo.marsh") || s.reason.contains("7700900412")));
        // Steps for tenant-wide hardening cite only findings of planned accounts.
        let planned: HashSet<&str> = p
            .iter()
            .flat_map(|s| s.finding_ids.iter())
            .map(String::as_str)
            .collect();
        for f in a.findings.iter().filter(|f| f.account != VICTIM) {
            assert!(!planned.contains(f.id.as_str()), "{}", f.id);
        }
    }

    #[test]
    fn script_comments_out_everything_destructive() {
        let (_, p) = samples();
        let script = powershell(p);
        assert!(script.starts_with('\u{feff}'));
        assert!(script.contains("Generated by mailsleuth"));
        assert!(script.contains("# Connect-ExchangeOnline"));
        assert!(script.contains("# Connect-MgGraph"));
        assert!(script.contains(&format!(
            "# Step 1 \u{2014} {VICTIM} \u{2014} reset-password"
        )));
        assert!(script.contains("# Why: "));
        assert!(script.contains("# Findings: mailbox-smtp-forwarding-"));
        assert!(
            script.contains(&format!("\n# Remove-InboxRule -Mailbox '{VICTIM}'"))
                || !p.iter().any(|s| s.action == "remove-inbox-rule")
        );
        assert!(script.contains(&format!(
            "\n# Revoke-MgUserSignInSession -UserId '{VICTIM}'\n"
        )));
        assert!(script.contains(&format!(
            "\nGet-InboxRule -Mailbox '{VICTIM}' -IncludeHidden"
        )));
        let mut active = 0;
        for line in script.trim_start_matches('\u{feff}').lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            active += 1;
            assert!(line.starts_with("Get-"), "active line: {line}");
            let (_, bare) = ps_split(line);
            for bad in [
                "Remove-", "Set-", "New-", "Update-", "Revoke-", "Disable-", "Reset-", "Invoke-",
                "Start-", "Enable-", "Add-",
            ] {
                assert!(!bare.contains(bad), "destructive active line: {line}");
            }
        }
        assert!(active >= 3);
    }

    /// The victim's rule made active again, renamed to `name`.
    fn with_rule_named(a: &mut Analysis, names: &[&str]) {
        let base = a
            .findings
            .iter()
            .find(|f| f.rule == "inbox-rule-keyword-delete-move")
            .cloned()
            .expect("rule finding");
        a.findings
            .retain(|f| f.rule != "inbox-rule-keyword-delete-move");
        for (i, n) in names.iter().enumerate() {
            let mut f = base.clone();
            f.id = format!("inbox-rule-keyword-delete-move-hostile{i}");
            f.summary = format!("Inbox rule {n:?} on {VICTIM} deletes invoice mail");
            f.details.insert("rule_name".into(), Value::from(*n));
            f.details.insert("rule_names".into(), Value::from(vec![*n]));
            f.details.insert("state".into(), Value::from("active"));
            a.findings.push(f);
        }
    }

    #[test]
    fn hostile_rule_names_cannot_break_out() {
        let mut a = run_samples();
        let newline = "evil\nRemove-Mailbox -Identity *\r\n#";
        with_rule_named(&mut a, &[HOSTILE, newline]);
        let p = plan(&a);
        let rules = steps(&p, "remove-inbox-rule");
        assert_eq!(rules.len(), 2, "{p:#?}");
        let quoted = rules[0].command.clone();
        assert_eq!(
            quoted,
            format!("Remove-InboxRule -Mailbox '{VICTIM}' -Identity 'x''; Remove-Mailbox -Identity * #' -Confirm:$false")
        );
        let (strings, bare) = ps_split(&quoted);
        assert_eq!(strings, vec![VICTIM.to_string(), HOSTILE.to_string()]);
        assert!(!bare.contains("Remove-Mailbox"));
        let nl = &rules[1];
        assert!(!nl.command.contains(['\n', '\r']), "{:?}", nl.command);
        assert!(!nl.reason.contains(['\n', '\r']));
        assert!(nl.reason.contains("control characters"));
        let (strings, bare) = ps_split(&nl.command);
        assert_eq!(strings[1], "evilRemove-Mailbox -Identity *#");
        assert!(!bare.contains("Remove-Mailbox"));

        let script = powershell(&p);
        for line in script.lines() {
            assert!(
                line.is_empty()
                    || line.starts_with('#')
                    || line.starts_with("Get-")
                    || line.starts_with('\u{feff}'),
                "line outside a comment: {line:?}"
            );
            assert!(
                !line.trim_start_matches("# ").starts_with("Remove-Mailbox"),
                "{line:?}"
            );
            if !line.starts_with('#') && !line.is_empty() {
                let (_, bare) = ps_split(line.trim_start_matches('\u{feff}'));
                assert!(!bare.contains("Remove-"), "{line:?}");
            }
        }
        assert!(script.contains("\n# Remove-InboxRule -Mailbox 'amelia.hart@tailspinfreight.example' -Identity 'x''; Remove-Mailbox -Identity * #' -Confirm:$false\n"));
        assert!(script.contains("-Identity 'evilRemove-Mailbox -Identity *#' -Confirm:$false\n"));
    }

    #[test]
    fn suspicious_accounts_get_only_evidence_backed_verify_first_steps() {
        let mut a = run_samples();
        for v in a.accounts.iter_mut().filter(|v| v.account == VICTIM) {
            v.verdict = Verdict::Suspicious;
        }
        let p = plan(&a);
        let mine: Vec<&Step> = p.iter().filter(|s| s.account == VICTIM).collect();
        assert!(!mine.is_empty());
        for s in &mine {
            assert!(s.reason.starts_with("Verify first"), "{s:#?}");
            assert!(!s.finding_ids.is_empty(), "{s:#?}");
        }
        // Evidence-backed steps stay; recipients are notified only for a proven compromise.
        assert!(mine.iter().any(|s| s.action == "clear-forwarding"));
        assert!(mine.iter().any(|s| s.action == "reset-password"));
        assert!(!mine.iter().any(|s| s.action == "notify-recipients"));
        // Nobody is compromised any more: no Secure Score step.
        assert!(steps(&p, "review-secure-score").is_empty());
    }

    #[test]
    fn empty_plan_renders_a_header_only() {
        let script = powershell(&[]);
        assert!(script.contains("nothing to remediate"));
        assert!(script
            .lines()
            .all(|l| l.is_empty() || l.starts_with('#') || l.starts_with('\u{feff}')));
    }

    /// A finding of `rule` on the victim, made from the victim's forwarding finding (so it sits
    /// in the attacker footprint), with `details`.
    fn synthetic(a: &Analysis, rule: &'static str, n: usize, details: Value) -> Finding {
        let mut f = finding(a, "mailbox-smtp-forwarding").clone();
        f.rule = rule;
        f.id = format!("{rule}-synthetic{n}");
        f.summary = format!("synthetic {rule}");
        f.severity = Severity::High;
        f.details = match details {
            Value::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        f
    }

    #[test]
    fn other_behaviours_map_to_their_commands() {
        let mut a = run_samples();
        let evil = "mallory'@evil.example";
        let extra = vec![
            synthetic(
                &a,
                "mailbox-fullaccess-granted",
                1,
                serde_json::json!({
                "mailbox": VICTIM, "delegates": [evil], "access_rights": ["FullAccess", "x;y"],
                "inheritance": "All", "actor": VICTIM}),
            ),
            synthetic(
                &a,
                "sendas-onbehalf-granted",
                2,
                serde_json::json!({
                "mailbox": VICTIM, "right": "SendOnBehalf", "delegates": [evil]}),
            ),
            synthetic(
                &a,
                "sendas-onbehalf-granted",
                3,
                serde_json::json!({
                "mailbox": VICTIM, "right": "SendAs", "delegates": [evil]}),
            ),
            synthetic(
                &a,
                "folder-permission-read",
                4,
                serde_json::json!({
                "mailbox": VICTIM, "folder": "\\Inbox", "member": "Default"}),
            ),
            synthetic(
                &a,
                "transport-rule-forward-bcc",
                5,
                serde_json::json!({
                "transport_rule": "Audit copy", "operations": ["New-TransportRule"],
                "external_targets": ["drop@evil.example"]}),
            ),
            synthetic(
                &a,
                "audit-logging-tampering",
                6,
                serde_json::json!({
                "cmdlet": "Set-MailboxAuditBypassAssociation", "change": "mailbox audit bypass enabled",
                "parameters": {"Identity": VICTIM, "AuditBypassEnabled": "True"}}),
            ),
            synthetic(
                &a,
                "audit-logging-tampering",
                7,
                serde_json::json!({
                "cmdlet": "Set-Mailbox", "change": format!("mailbox auditing disabled on {VICTIM}"),
                "parameters": {"Identity": VICTIM}}),
            ),
            synthetic(
                &a,
                "ms-alert-passthrough",
                8,
                serde_json::json!({
                "alert_name": "User restricted from sending email"}),
            ),
            synthetic(
                &a,
                "legacy-auth-success",
                9,
                serde_json::json!({"client": "Authenticated SMTP"}),
            ),
            synthetic(
                &a,
                "user-consent-mail-scopes",
                10,
                serde_json::json!({
                "app_id": "11111111-2222-3333-4444-555555555555", "app_name": "Evil' App"}),
            ),
        ];
        a.findings.extend(extra);
        let p = plan(&a);
        let cmd = |action: &str| -> Vec<String> {
            steps(&p, action)
                .iter()
                .map(|s| s.command.clone())
                .collect()
        };
        assert_eq!(
            cmd("remove-mailbox-permission"),
            vec![format!("Remove-MailboxPermission -Identity '{VICTIM}' -User 'mallory''@evil.example' -AccessRights FullAccess -InheritanceType All -Confirm:$false")]
        );
        assert_eq!(
            cmd("remove-recipient-permission"),
            vec![
                format!("Set-Mailbox -Identity '{VICTIM}' -GrantSendOnBehalfTo @{{remove='mallory''@evil.example'}}"),
                format!("Remove-RecipientPermission -Identity '{VICTIM}' -Trustee 'mallory''@evil.example' -AccessRights SendAs -Confirm:$false"),
            ]
        );
        assert_eq!(
            cmd("remove-folder-permission"),
            vec![format!("Set-MailboxFolderPermission -Identity '{VICTIM}:\\Inbox' -User 'Default' -AccessRights None")]
        );
        assert_eq!(
            cmd("remove-transport-rule"),
            vec!["Remove-TransportRule -Identity 'Audit copy' -Confirm:$false".to_string()]
        );
        assert_eq!(
            cmd("enable-auditing"),
            vec![
                format!("Set-MailboxAuditBypassAssociation -Identity '{VICTIM}' -AuditBypassEnabled $false"),
                format!("Set-Mailbox -Identity '{VICTIM}' -AuditEnabled $true"),
            ]
        );
        let unblock = one(&p, "unblock-sender");
        assert!(unblock.command.contains(&format!(
            "\nRemove-BlockedSenderAddress -SenderAddress '{VICTIM}'"
        )));
        assert_eq!(
            unblock.finding_ids,
            vec!["ms-alert-passthrough-synthetic8".to_string()]
        );
        // The app known only by appId and name is looked up by appId.
        let grants = cmd("revoke-app-consent");
        assert_eq!(grants.len(), 2);
        assert!(grants[1].contains(
            "Get-MgServicePrincipal -Filter 'appId eq ''11111111-2222-3333-4444-555555555555'''"
        ));
        assert!(cmd("disable-app")[1].contains(
            "Update-MgServicePrincipal -ServicePrincipalId $_.Id -AccountEnabled:$false"
        ));
        assert_eq!(
            one(&p, "disable-legacy-auth").finding_ids,
            vec!["legacy-auth-success-synthetic9".to_string()]
        );
        assert!(one(&p, "block-external-forwarding")
            .finding_ids
            .contains(&"transport-rule-forward-bcc-synthetic5".to_string()));
        // Microsoft's order holds with every class present.
        let order: Vec<&str> = p
            .iter()
            .filter(|s| s.account == VICTIM)
            .map(|s| s.action)
            .collect();
        let pos = |x: &str| order.iter().position(|o| *o == x).unwrap_or(usize::MAX);
        let expected = [
            "reset-password",
            "revoke-sessions",
            "enforce-mfa",
            "remove-mfa-method",
            "verify-inbox-rule-removed",
            "clear-forwarding",
            "remove-mailbox-permission",
            "remove-recipient-permission",
            "remove-folder-permission",
            "revoke-app-consent",
            "disable-app",
            "remove-transport-rule",
            "unblock-sender",
            "enable-auditing",
            "block-attacker-ips",
            "notify-recipients",
            "purge-phishing",
        ];
        for w in expected.windows(2) {
            assert!(pos(w[0]) < pos(w[1]), "{} before {}: {order:?}", w[0], w[1]);
        }
        let script = powershell(&p);
        for line in script
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('\u{feff}'))
        {
            let (_, bare) = ps_split(line);
            assert!(
                line.starts_with("Get-") && !bare.contains("Remove-") && !bare.contains("Set-"),
                "{line}"
            );
        }
    }
}

//! I. Defence evasion and tenant tampering (catalog rows I1–I3).
//!
//! Read from Exchange admin cmdlets in the UAL (RecordType 1, and the Security & Compliance
//! cmdlets of RecordType 18), whose arguments are `Parameters` (values as PowerShell rendered
//! them: `False`, `$false`, lists joined with `,` or `;`), and from Entra directory records
//! (RecordType 8) for licences and domains.
//!
//! Actions of the service itself (`NT AUTHORITY\SYSTEM`, Exchange service hosts) and failed
//! cmdlets are not findings. The cmdlet families are matched by name pattern as well as by the
//! catalog's explicit lists, because new protection cmdlets appear (`*-ATPProtectionPolicyRule`)
//! and an attacker uses whichever removes the control.

use super::auth_methods::{actor_display, is_false, is_true, modified};
use super::{Ctx, Finding, Rule, Severity, Tactic};
use crate::event::{Bag, Event, Outcome, SourceKind};
use std::collections::BTreeMap;

/// The rules of this family.
pub static RULES: &[Rule] = &[
    Rule {
        id: "audit-logging-tampering",
        title: "Audit logging disabled or reduced",
        severity: Severity::Medium,
        mitre: &["T1562.008"],
        tactic: Tactic::DefenseEvasion,
        run: audit_tampering,
    },
    Rule {
        id: "email-protection-tampering",
        title: "Email protection policy removed or weakened",
        severity: Severity::Medium,
        mitre: &["T1562.001"],
        tactic: Tactic::DefenseEvasion,
        run: protection_tampering,
    },
    Rule {
        id: "federation-domain-change",
        title: "Federation or accepted-domain change",
        severity: Severity::Medium,
        mitre: &["T1484.002"],
        tactic: Tactic::PrivilegeEscalation,
        run: federation_change,
    },
];

fn counts(ctx: &Ctx<'_>, e: &Event) -> bool {
    e.outcome != Outcome::Failure && !ctx.is_system_actor(e)
}

/// All cmdlet arguments of an event, name → value (first wins), for the details.
fn params(ctx: &Ctx<'_>, e: &Event) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for p in e.props().iter().filter(|p| p.bag == Bag::Parameters) {
        let v: String = ctx.s(p.value).chars().take(300).collect();
        m.entry(ctx.s(p.name).to_string()).or_insert(v);
    }
    m
}

/// `Verb-Noun` of a cmdlet-shaped operation.
fn cmdlet(op: &str) -> Option<(&str, &str)> {
    let (v, n) = op.split_once('-')?;
    let ok = !v.is_empty()
        && !n.is_empty()
        && v.chars().all(|c| c.is_ascii_alphabetic())
        && n.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then_some((v, n))
}

/// Indices of UAL events whose operation satisfies `pred` (one pass; cmdlet families are
/// matched by pattern, which the by-operation index cannot answer).
fn scan(ctx: &Ctx<'_>, pred: impl Fn(&str) -> bool) -> Vec<u32> {
    ctx.events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.source == SourceKind::Ual && pred(ctx.s(e.operation)))
        .map(|(i, _)| i as u32)
        .collect()
}

fn finding(
    ctx: &Ctx<'_>,
    rule: &'static Rule,
    i: u32,
    account: &str,
    what: &str,
    sev: Severity,
    reason: &str,
) -> Finding {
    let e = ctx.ev(i);
    let actor = actor_display(ctx, e);
    let op = ctx.s(e.operation);
    let p = params(ctx, e);
    let mut f = Finding::new(rule, account, format!("{op} by {actor}: {what}"))
        .with_events([i])
        .detail("actor", actor.as_str())
        .detail("cmdlet", op)
        .detail("change", what)
        .severity(sev)
        .detail("severity_reason", reason);
    if !p.is_empty() {
        f = f.detail(
            "parameters",
            serde_json::Value::Object(
                p.into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect(),
            ),
        );
    }
    f
}

// ------------------------------------------------------------------------------------------------
// I1 audit-logging-tampering
// ------------------------------------------------------------------------------------------------

/// Mailbox actions every audit set should keep (per logon type), and what it means to lose them.
const CORE_AUDIT: &[&str] = &[
    "HardDelete",
    "SoftDelete",
    "MoveToDeletedItems",
    "UpdateInboxRules",
];
const CORE_AUDIT_DELEGATE: &[&str] = &["SendAs", "SendOnBehalf"];

fn missing_actions(value: &str, delegate: bool) -> Vec<String> {
    let have: Vec<String> = value
        .split([',', ';', ' '])
        .map(|s| s.trim().trim_matches(['"', '\'', '{', '}', '@', '(', ')']))
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut want: Vec<&str> = CORE_AUDIT.to_vec();
    if delegate {
        want.extend(CORE_AUDIT_DELEGATE);
    }
    want.into_iter()
        .filter(|w| !have.iter().any(|h| h == &w.to_ascii_lowercase()))
        .map(str::to_string)
        .collect()
}

fn audit_tampering(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    let high = Severity::High;
    let med = Severity::Medium;
    for &i in ctx.op("Set-AdminAuditLogConfig") {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        let acct = ctx.account(e);
        if ctx
            .param(e, "UnifiedAuditLogIngestionEnabled")
            .is_some_and(is_false)
        {
            out.push(finding(
                ctx,
                rule,
                i,
                acct,
                "unified audit log ingestion turned off",
                high,
                "the tenant stops recording the UAL: everything after this is invisible",
            ));
        } else if ctx.param(e, "AdminAuditLogEnabled").is_some_and(is_false) {
            out.push(finding(
                ctx,
                rule,
                i,
                acct,
                "admin audit logging turned off",
                high,
                "admin cmdlets stop being audited (Sentinel: Exchange AuditLog disabled)",
            ));
        } else if let Some(x) = ctx
            .param(e, "AdminAuditLogExcludedCmdlets")
            .filter(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("$null"))
        {
            out.push(finding(
                ctx,
                rule,
                i,
                acct,
                &format!("cmdlets excluded from the admin audit log: {x}"),
                med,
                "the listed cmdlets are no longer audited",
            ));
        }
    }
    for &i in ctx.op("Set-MailboxAuditBypassAssociation") {
        let e = ctx.ev(i);
        if !counts(ctx, e) || !ctx.param(e, "AuditBypassEnabled").is_some_and(is_true) {
            continue;
        }
        let acct = ctx.account(e);
        out.push(finding(ctx, rule, i, acct,
            &format!("mailbox audit bypass enabled for {}", ctx.param(e, "Identity").unwrap_or(acct)), med,
            "nothing this account does in any mailbox is audited (meant for service accounts; Elastic rates it medium)"));
    }
    for &i in ctx.op("Set-OrganizationConfig") {
        let e = ctx.ev(i);
        if counts(ctx, e) && ctx.param(e, "AuditDisabled").is_some_and(is_true) {
            out.push(finding(
                ctx,
                rule,
                i,
                ctx.account(e),
                "mailbox auditing disabled for the whole organisation",
                high,
                "no mailbox in the tenant is audited any more",
            ));
        }
    }
    for &i in ctx.op("Set-Mailbox") {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        let acct = ctx.account(e);
        if ctx.param(e, "AuditEnabled").is_some_and(is_false) {
            out.push(finding(
                ctx,
                rule,
                i,
                acct,
                &format!("mailbox auditing disabled on {acct}"),
                high,
                "the mailbox's own actions stop being audited",
            ));
            continue;
        }
        let mut lost = Vec::new();
        for (param, delegate) in [
            ("AuditOwner", false),
            ("AuditDelegate", true),
            ("AuditAdmin", false),
        ] {
            if let Some(v) = ctx.param(e, param) {
                let low = v.to_ascii_lowercase();
                // `@{Add="MailboxLogin"}` only adds actions.
                if low.contains("add=") && !low.contains("remove") {
                    continue;
                }
                let missing = missing_actions(v, delegate);
                if low.contains("remove")
                    || low.trim() == "$null"
                    || low.trim() == "none"
                    || low.trim().is_empty()
                {
                    lost.push(format!("{param} reduced ({})", v.trim()));
                } else if !missing.is_empty() {
                    lost.push(format!("{param} set without {}", missing.join(", ")));
                }
            }
        }
        if !lost.is_empty() {
            out.push(finding(
                ctx,
                rule,
                i,
                acct,
                &lost.join("; "),
                med,
                "fewer mailbox actions are audited (deletes, rule changes, sends)",
            ));
        }
    }
    for &i in ctx.op("Change user license") {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        const PLAN: &str = "M365_ADVANCED_AUDITING";
        let newly_disabled = e.props().iter().any(|p| {
            let name = ctx.s(p.name);
            if p.bag == Bag::ModifiedProperties {
                let new = ctx.s(p.value).to_ascii_uppercase();
                let old = p.old.map_or("", |o| ctx.s(o)).to_ascii_uppercase();
                disabled_plans(&new).iter().any(|x| x == PLAN)
                    && !disabled_plans(&old).iter().any(|x| x == PLAN)
            } else if name.eq_ignore_ascii_case("additionalDetails") {
                // Splunk reads the licence change out of additionalDetails: the part after
                // "NewValue" holds the new disabled plans.
                let v = ctx.s(p.value).to_ascii_uppercase();
                v.split_once("NEWVALUE")
                    .is_some_and(|(old, new)| new.contains(PLAN) && !old.contains(PLAN))
            } else {
                false
            }
        });
        if newly_disabled {
            let acct = ctx.account(e);
            out.push(finding(
                ctx,
                rule,
                i,
                acct,
                &format!("Advanced Auditing ({PLAN}) disabled in {acct}'s licence"),
                med,
                "MailItemsAccessed, Send and search auditing stop for this account (Splunk)",
            ));
        }
    }
    // Sentinel "Office Policy Tampering": any other Remove-/Disable- cmdlet about auditing.
    for i in scan(ctx, |op| {
        cmdlet(op).is_some_and(|(v, n)| {
            (v.eq_ignore_ascii_case("Remove") || v.eq_ignore_ascii_case("Disable"))
                && n.to_ascii_lowercase().contains("audit")
                && !n.eq_ignore_ascii_case("MailboxAuditBypassAssociation")
        })
    }) {
        let e = ctx.ev(i);
        if counts(ctx, e) {
            let what = format!("audit configuration removed: {}", ctx.s(e.operation));
            out.push(finding(
                ctx,
                rule,
                i,
                ctx.account(e),
                &what,
                med,
                "a Remove/Disable cmdlet on audit configuration (Sentinel Office Policy Tampering)",
            ));
        }
    }
    out
}

/// The plan names inside every `DisabledPlans=[…]` of a licence string (upper-cased input).
fn disabled_plans(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(p) = rest.find("DISABLEDPLANS") {
        rest = &rest[p + "DISABLEDPLANS".len()..];
        let Some(open) = rest.find('[') else { break };
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        out.extend(
            rest[open + 1..open + close]
                .split([',', ';', ' ', '"'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        rest = &rest[open + close..];
    }
    out
}

// ------------------------------------------------------------------------------------------------
// I2 email-protection-tampering
// ------------------------------------------------------------------------------------------------

/// Nouns (lower-case fragments) of the protection cmdlets.
const PROTECTION: &[&str] = &[
    "antiphish",
    "safelinks",
    "safeattachment",
    "malwarefilter",
    "hostedcontentfilter",
    "hostedoutboundspamfilter",
    "dlppolicy",
    "dlpcompliance",
    "protectionpolicyrule",
    "atppolicyforo365",
    "protectionalert",
];

fn protection_noun(n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    PROTECTION.iter().any(|p| l.contains(p))
}

fn protection_tampering(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    let idx = scan(ctx, |op| {
        cmdlet(op).is_some_and(|(v, n)| {
            let v = v.to_ascii_lowercase();
            (matches!(v.as_str(), "remove" | "disable" | "set" | "new") && protection_noun(n))
                || (v == "set" && n.eq_ignore_ascii_case("DkimSigningConfig"))
        })
    });
    for i in idx {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        let op = ctx.s(e.operation);
        let Some((verb, noun)) = cmdlet(op) else {
            continue;
        };
        let verb = verb.to_ascii_lowercase();
        let target = ctx
            .param(e, "Identity")
            .or_else(|| ctx.param(e, "Name"))
            .unwrap_or_else(|| ctx.s(e.object));
        let acct = ctx.s(e.actor_key);
        let safe_attach = noun.to_ascii_lowercase().contains("safeattachment");
        let removal_sev = if safe_attach {
            Severity::Low
        } else {
            Severity::Medium
        };
        match verb.as_str() {
            "remove" | "disable" => {
                let what = format!(
                    "{} {noun} \"{target}\"",
                    if verb == "remove" {
                        "removed"
                    } else {
                        "disabled"
                    }
                );
                out.push(finding(ctx, rule, i, acct, &what, removal_sev,
                    "a phishing, malware or data-loss control was switched off (Elastic, Sentinel, Splunk)"));
            }
            _ => {
                let mut off: Vec<String> = Vec::new();
                for p in e.props().iter().filter(|p| p.bag == Bag::Parameters) {
                    let name = ctx.s(p.name);
                    let l = name.to_ascii_lowercase();
                    let switch =
                        l.starts_with("enable") || l == "enabled" || l.ends_with("zapenabled");
                    if switch && is_false(ctx.s(p.value)) {
                        off.push(format!("{name}=False"));
                    }
                    if l == "state" && ctx.s(p.value).trim().eq_ignore_ascii_case("Disabled") {
                        off.push("State=Disabled".into());
                    }
                }
                if !off.is_empty() {
                    let what = format!("{noun} \"{target}\" weakened: {}", off.join(", "));
                    out.push(finding(
                        ctx,
                        rule,
                        i,
                        acct,
                        &what,
                        if safe_attach {
                            Severity::Low
                        } else {
                            Severity::Medium
                        },
                        "a protection setting was turned off",
                    ));
                    continue;
                }
                let allow: Vec<String> = [
                    "AllowedSenderDomains",
                    "AllowedSenders",
                    "ExcludedDomains",
                    "ExcludedSenders",
                ]
                .iter()
                .filter_map(|k| {
                    ctx.param(e, k)
                        .filter(|v| !v.trim().is_empty() && !v.contains("$null"))
                        .map(|v| format!("{k}={}", v.trim()))
                })
                .collect();
                let noun_l = noun.to_ascii_lowercase();
                if !allow.is_empty()
                    && (noun_l.contains("contentfilter") || noun_l.contains("antiphish"))
                {
                    let what = format!(
                        "{noun} \"{target}\" allow-lists senders: {}",
                        allow.join(", ")
                    );
                    out.push(finding(ctx, rule, i, acct, &what, Severity::Low,
                        "allow-listed senders skip spam or impersonation filtering; check the domains"));
                }
            }
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// I3 federation-domain-change
// ------------------------------------------------------------------------------------------------

const FEDERATION_OPS: &[&str] = &[
    "Set federation settings on domain",
    "Add-FederatedDomain",
    "Remove-FederatedDomain",
    "New-FederationTrust",
    "Set-FederationTrust",
    "Set-FederatedOrganizationIdentifier",
    "Set-MsolDomainFederationSettings",
    "New-MsolFederatedDomain",
    "Set-MsolDomainAuthentication",
    "Convert-MsolDomainToFederated",
    "New-MgDomainFederationConfiguration",
    "Update-MgDomainFederationConfiguration",
];

const DOMAIN_OPS: &[&str] = &[
    "New-AcceptedDomain",
    "Set-AcceptedDomain",
    "Remove-AcceptedDomain",
    "Add unverified domain",
    "Add verified domain",
    "Verify domain",
    "Add domain to company",
];

/// Ops that matter only when they touch federation (`Set domain authentication` also fires for
/// unrelated property changes).
const MAYBE_FEDERATION_OPS: &[&str] = &["Set domain authentication", "Update domain"];

fn domain_of_event(ctx: &Ctx<'_>, e: &Event) -> String {
    for k in ["DomainName", "Identity", "Name", "DomainId"] {
        if let Some(v) = ctx.param(e, k).filter(|v| !v.trim().is_empty()) {
            return v.trim().to_string();
        }
    }
    ctx.prop(e, Bag::Field, "Target.1")
        .map(str::to_string)
        .unwrap_or_else(|| ctx.s(e.object).to_string())
}

fn federation_change(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in ctx.ops(FEDERATION_OPS) {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        let d = domain_of_event(ctx, e);
        let mut f = finding(ctx, rule, i, ctx.s(e.actor_key), &format!("federation settings changed for {d}"), Severity::Medium,
            "a new or changed identity provider can mint sign-ins for every user of the domain \
             (also logged on routine AD FS certificate rollover: compare the issuer and certificate)");
        f = f.detail("domain", d);
        for k in [
            "IssuerUri",
            "PassiveLogOnUri",
            "ActiveLogOnUri",
            "SigningCertificate",
            "FederationBrandName",
        ] {
            if let Some((new, _)) = modified(ctx, e, k) {
                let v: String = new.chars().take(200).collect();
                f = f.detail(&format!("new_{}", k.to_ascii_lowercase()), v);
            }
        }
        out.push(f);
    }
    for i in ctx.ops(MAYBE_FEDERATION_OPS) {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        let fed = e.props().iter().any(|p| {
            p.bag == Bag::ModifiedProperties && {
                let n = ctx.s(p.name).to_ascii_lowercase();
                n.contains("federat")
                    || n == "authenticationtype"
                    || n == "livetype"
                    || ctx.s(p.value).to_ascii_lowercase().contains("federated")
            }
        });
        if !fed {
            continue;
        }
        let d = domain_of_event(ctx, e);
        out.push(
            finding(
                ctx,
                rule,
                i,
                ctx.s(e.actor_key),
                &format!("domain authentication changed for {d} (federation)"),
                Severity::Medium,
                "switching a domain to federated hands its sign-ins to another identity provider",
            )
            .detail("domain", d),
        );
    }
    for i in ctx.ops(DOMAIN_OPS) {
        let e = ctx.ev(i);
        if !counts(ctx, e) {
            continue;
        }
        let d = domain_of_event(ctx, e);
        let op = ctx.s(e.operation);
        out.push(
            finding(
                ctx,
                rule,
                i,
                ctx.s(e.actor_key),
                &format!("{op}: {d}"),
                Severity::Low,
                "domain added or changed; check it is the organisation's (Elastic rates this low)",
            )
            .detail("domain", d),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::Kit;
    use serde_json::{json, Value};

    fn cmd(id: &str, op: &str, actor: &str, params: Value, status: &str) -> String {
        json!({
            "CreationTime": "2026-03-09T11:00:00", "Id": id, "Operation": op, "OrganizationId": "org",
            "RecordType": 1, "ResultStatus": status, "UserKey": "1003", "UserType": 2, "Version": 1,
            "Workload": "Exchange", "ClientIP": "203.0.113.66:51234", "ObjectId": "", "UserId": actor,
            "AppId": "", "ExternalAccess": false, "OrganizationName": "corp.onmicrosoft.com",
            "OriginatingServer": "AM0PR01MB1234 (15.20.7452.023)", "Parameters": params,
        })
        .to_string()
    }

    fn nv(pairs: &[(&str, &str)]) -> Value {
        Value::Array(
            pairs
                .iter()
                .map(|(n, v)| json!({"Name": n, "Value": v}))
                .collect(),
        )
    }

    fn rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).expect("rule")
    }

    const SYSTEM: &str = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)";

    #[test]
    fn audit_tampering_cases() {
        let mut k = Kit::new();
        k.ual(&cmd(
            "a1",
            "Set-AdminAuditLogConfig",
            "admin@corp.example",
            nv(&[("UnifiedAuditLogIngestionEnabled", "False")]),
            "True",
        ));
        k.ual(&cmd(
            "a2",
            "Set-MailboxAuditBypassAssociation",
            "admin@corp.example",
            nv(&[
                ("Identity", "megan@corp.example"),
                ("AuditBypassEnabled", "True"),
            ]),
            "True",
        ));
        k.ual(&cmd(
            "a3",
            "Set-Mailbox",
            "admin@corp.example",
            nv(&[("Identity", "ceo@corp.example"), ("AuditEnabled", "False")]),
            "True",
        ));
        k.ual(&cmd(
            "a4",
            "Set-Mailbox",
            "admin@corp.example",
            nv(&[
                ("Identity", "cfo@corp.example"),
                ("AuditOwner", "MailboxLogin,Update"),
            ]),
            "True",
        ));
        // Near misses: system provisioning, re-enabling, failed, bypass switched off.
        k.ual(&cmd(
            "n1",
            "Set-Mailbox",
            SYSTEM,
            nv(&[("Identity", "x@corp.example"), ("AuditEnabled", "False")]),
            "True",
        ));
        k.ual(&cmd(
            "n2",
            "Set-Mailbox",
            "admin@corp.example",
            nv(&[("Identity", "y@corp.example"), ("AuditEnabled", "True")]),
            "True",
        ));
        k.ual(&cmd(
            "n3",
            "Set-AdminAuditLogConfig",
            "admin@corp.example",
            nv(&[("AdminAuditLogEnabled", "False")]),
            "False",
        ));
        k.ual(&cmd(
            "n4",
            "Set-MailboxAuditBypassAssociation",
            "admin@corp.example",
            nv(&[
                ("Identity", "z@corp.example"),
                ("AuditBypassEnabled", "False"),
            ]),
            "True",
        ));
        k.ual(&cmd(
            "n5",
            "Set-Mailbox",
            "admin@corp.example",
            nv(&[
                ("Identity", "w@corp.example"),
                (
                    "AuditOwner",
                    "HardDelete,SoftDelete,MoveToDeletedItems,UpdateInboxRules,MailItemsAccessed",
                ),
            ]),
            "True",
        ));
        let f = k.run(rule("audit-logging-tampering"), &[]);
        assert_eq!(f.len(), 4, "{f:#?}");
        let by = |id: &str| {
            f.iter()
                .find(|x| x.evidence[0].record_id == id)
                .expect("finding")
        };
        assert_eq!(by("a1").severity, Severity::High);
        assert_eq!(by("a1").account, "admin@corp.example");
        assert_eq!(by("a2").account, "megan@corp.example");
        assert_eq!(by("a2").severity, Severity::Medium);
        assert_eq!(by("a3").severity, Severity::High);
        assert_eq!(by("a3").account, "ceo@corp.example");
        assert!(by("a4").details["change"]
            .as_str()
            .unwrap_or("")
            .contains("HardDelete"));
        assert_eq!(
            by("a4").details["parameters"]["AuditOwner"],
            "MailboxLogin,Update"
        );
    }

    #[test]
    fn advanced_auditing_licence_removed() {
        let rec = json!({
            "CreationTime": "2026-03-09T11:00:00", "Id": "l1", "Operation": "Change user license.", "RecordType": 8,
            "ResultStatus": "Success", "UserId": "admin@corp.example", "Workload": "AzureActiveDirectory",
            "ModifiedProperties": [{"Name": "AssignedLicense",
                "NewValue": "[\r\n  \"[SkuName=SPE_E5, AccountId=1, SkuId=2, DisabledPlans=[M365_ADVANCED_AUDITING]]\"\r\n]",
                "OldValue": "[\r\n  \"[SkuName=SPE_E5, AccountId=1, SkuId=2, DisabledPlans=[]]\"\r\n]"}],
            "Target": [{"ID": "megan@corp.example", "Type": 5}],
        });
        let mut k = Kit::new();
        k.ual(&rec.to_string());
        let mut other = rec.clone();
        other["Id"] = json!("l2");
        other["ModifiedProperties"][0]["OldValue"] =
            other["ModifiedProperties"][0]["NewValue"].clone();
        k.ual(&other.to_string());
        let f = k.run(rule("audit-logging-tampering"), &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].account, "megan@corp.example");
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn protection_tampering_cases() {
        let mut k = Kit::new();
        k.ual(&cmd(
            "p1",
            "Remove-AntiPhishPolicy",
            "admin@corp.example",
            nv(&[("Identity", "Office365 AntiPhish Default")]),
            "True",
        ));
        k.ual(&cmd(
            "p2",
            "Disable-SafeAttachmentRule",
            "admin@corp.example",
            nv(&[("Identity", "Standard")]),
            "True",
        ));
        k.ual(&cmd(
            "p3",
            "Set-DkimSigningConfig",
            "admin@corp.example",
            nv(&[("Identity", "corp.example"), ("Enabled", "False")]),
            "True",
        ));
        k.ual(&cmd(
            "p4",
            "Set-MalwareFilterPolicy",
            "admin@corp.example",
            nv(&[("Identity", "Default"), ("ZapEnabled", "$false")]),
            "True",
        ));
        k.ual(&cmd(
            "p5",
            "Set-HostedContentFilterPolicy",
            "admin@corp.example",
            nv(&[
                ("Identity", "Default"),
                ("AllowedSenderDomains", "evil.example"),
            ]),
            "True",
        ));
        // Near misses: enabling things, a failed removal, unrelated cmdlet, DKIM enabled.
        k.ual(&cmd(
            "n1",
            "Set-SafeLinksPolicy",
            "admin@corp.example",
            nv(&[("Identity", "Default"), ("EnableSafeLinksForEmail", "True")]),
            "True",
        ));
        k.ual(&cmd(
            "n2",
            "Remove-MalwareFilterRule",
            "admin@corp.example",
            nv(&[("Identity", "x")]),
            "False",
        ));
        k.ual(&cmd(
            "n3",
            "Remove-InboxRule",
            "admin@corp.example",
            nv(&[("Identity", "x")]),
            "True",
        ));
        k.ual(&cmd(
            "n4",
            "Set-DkimSigningConfig",
            "admin@corp.example",
            nv(&[("Identity", "corp.example"), ("Enabled", "True")]),
            "True",
        ));
        let f = k.run(rule("email-protection-tampering"), &[]);
        assert_eq!(f.len(), 5, "{f:#?}");
        let by = |id: &str| {
            f.iter()
                .find(|x| x.evidence[0].record_id == id)
                .expect("finding")
        };
        assert_eq!(by("p1").severity, Severity::Medium);
        assert_eq!(by("p1").account, "admin@corp.example");
        assert_eq!(by("p2").severity, Severity::Low);
        assert!(by("p3").details["change"]
            .as_str()
            .unwrap_or("")
            .contains("Enabled=False"));
        assert!(by("p4").details["change"]
            .as_str()
            .unwrap_or("")
            .contains("ZapEnabled=False"));
        assert_eq!(by("p5").severity, Severity::Low);
    }

    #[test]
    fn federation_and_domains() {
        let mut k = Kit::new();
        k.ual(&cmd(
            "f1",
            "Add-FederatedDomain",
            "admin@corp.example",
            nv(&[("DomainName", "corp-sso.example")]),
            "True",
        ));
        k.ual(&cmd(
            "f2",
            "New-AcceptedDomain",
            "admin@corp.example",
            nv(&[("Name", "c0rp.example"), ("DomainName", "c0rp.example")]),
            "True",
        ));
        let fed = json!({
            "CreationTime": "2026-03-09T11:00:00", "Id": "f3", "Operation": "Set federation settings on domain.", "RecordType": 8,
            "ResultStatus": "Success", "UserId": "admin@corp.example", "Workload": "AzureActiveDirectory",
            "ModifiedProperties": [{"Name": "IssuerUri", "NewValue": "[\"http://evil.example/adfs\"]", "OldValue": ""}],
            "Target": [{"ID": "corp.example", "Type": 1}],
        });
        k.ual(&fed.to_string());
        let mut other = fed.clone();
        other["Id"] = json!("n1");
        other["Operation"] = json!("Set domain authentication.");
        other["ModifiedProperties"] = json!([{"Name": "SomeOtherProperty", "NewValue": "\"value2\"", "OldValue": "\"value1\""}]);
        k.ual(&other.to_string());
        k.ual(&cmd(
            "n2",
            "Set-AcceptedDomain",
            SYSTEM,
            nv(&[("Identity", "corp.example")]),
            "True",
        ));
        let f = k.run(rule("federation-domain-change"), &[]);
        assert_eq!(f.len(), 3, "{f:#?}");
        let by = |id: &str| {
            f.iter()
                .find(|x| x.evidence[0].record_id == id)
                .expect("finding")
        };
        assert_eq!(by("f1").severity, Severity::Medium);
        assert_eq!(by("f1").details["domain"], "corp-sso.example");
        assert_eq!(by("f2").severity, Severity::Low);
        assert_eq!(by("f3").details["domain"], "corp.example");
        assert!(by("f3").details["new_issueruri"]
            .as_str()
            .unwrap_or("")
            .contains("evil"));
    }

    /// Panther's `azure_domain_trust_settings_modified` (I3) is an Entra *audit-log*
    /// diagnostic record (Azure.Audit), an input family not read yet: not applicable. Its
    /// two cases are mirrored in UAL shape by `federation_and_domains` ("Set federation
    /// settings on domain" → finding; "Set domain authentication" with an unrelated property →
    /// none), where our verdicts agree with Panther's.
    #[test]
    fn azure_audit_domain_cases_are_not_read_yet() {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/cases/panther-analysis/azure_domain_trust_settings_modified.tests.json"
        );
        let Ok(text) = std::fs::read_to_string(p) else {
            eprintln!("skipping: {p} not present");
            return;
        };
        let doc: Value = serde_json::from_str(&text).expect("case file is JSON");
        for t in doc["tests"].as_array().cloned().unwrap_or_default() {
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
            assert!(
                r.is_err(),
                "UAL parser now reads Azure.Audit: map {} to federation-domain-change",
                t["test_name"]
            );
            eprintln!(
                "not applicable: {} (Entra audit-log diagnostic record)",
                t["test_name"]
            );
        }
    }
}

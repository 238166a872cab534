//! Delegation, permissions and Exchange roles (catalog rows E1–E5).
//!
//! A grant is only as suspicious as its context: the same `Add-MailboxPermission -AccessRights
//! FullAccess` is routine when IT gives two clerks access to a shared mailbox from the admin's
//! usual office IP, and an attacker's persistence when a user's own account grants a new or
//! external account full access from an IP never seen before. So every rule here grades its
//! finding with the same facts, written to `details`:
//! * is the delegate external (outside the tenant's domains)?
//! * is it the owner granting access to their own mailbox, and to an account the export has not
//!   seen act before?
//! * is the actor's IP one the actor used more than a day earlier ("usual IP")?
//! * is the target a shared/resource mailbox (never signs in, never acts)?
//!
//! Rows: E1 `mailbox-fullaccess-granted`, E2 `sendas-onbehalf-granted`, E3
//! `folder-permission-read`, E4 `impersonation-role`, E5 `app-granted-all-mailboxes`.

use super::tenant::addresses;
use super::{Ctx, Finding, Rule, Severity, Tactic};
use crate::event::{Bag, Event, Outcome, SourceKind, Timestamp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The rules of this family.
pub static RULES: &[Rule] = &[
    Rule {
        id: "mailbox-fullaccess-granted",
        title: "Full mailbox access granted",
        severity: Severity::Medium,
        mitre: &["T1098.002"],
        tactic: Tactic::Persistence,
        run: fullaccess,
    },
    Rule {
        id: "sendas-onbehalf-granted",
        title: "Send-as or send-on-behalf right granted",
        severity: Severity::Low,
        mitre: &["T1098.002"],
        tactic: Tactic::Persistence,
        run: sendas,
    },
    Rule {
        id: "folder-permission-read",
        title: "Read access to a mailbox folder granted",
        severity: Severity::Medium,
        mitre: &["T1098.002", "T1114.002"],
        tactic: Tactic::Persistence,
        run: folder_permission,
    },
    Rule {
        id: "impersonation-role",
        title: "Exchange impersonation or admin role assigned",
        severity: Severity::Medium,
        mitre: &["T1098.002", "T1098.003"],
        tactic: Tactic::PrivilegeEscalation,
        run: impersonation_role,
    },
    Rule {
        id: "app-granted-all-mailboxes",
        title: "Application granted access to every mailbox",
        severity: Severity::High,
        mitre: &["T1098.003", "T1114.002", "T1550.001"],
        tactic: Tactic::Persistence,
        run: app_all_mailboxes,
    },
];

const DAY_US: i64 = 24 * 3_600_000_000;

// ------------------------------------------------------------------------------------------------
// Context shared by the rules
// ------------------------------------------------------------------------------------------------

fn ok(e: &Event) -> bool {
    e.outcome != Outcome::Failure
}

/// UserType 3 (DcAdmin) and 4 (System) are Microsoft's own operators.
fn is_service_user(ctx: &Ctx<'_>, e: &Event) -> bool {
    matches!(
        ctx.prop(e, Bag::Field, "UserType").map(str::trim),
        Some("3" | "4")
    )
}

/// What the export says about accounts and IPs, computed once per rule.
struct History<'a> {
    /// (account, ip) → first time the account used the ip (as actor, or as the sign-in user).
    ip_first: HashMap<(&'a str, &'a str), Timestamp>,
    /// account → first time it acted or owned a mailbox record (not message trace).
    first_seen: HashMap<&'a str, Timestamp>,
    /// Accounts that act (actor of any record, or sign-in user).
    acting: HashMap<&'a str, Timestamp>,
}

impl<'a> History<'a> {
    fn new(ctx: &Ctx<'a>) -> Self {
        let mut h = History {
            ip_first: HashMap::new(),
            first_seen: HashMap::new(),
            acting: HashMap::new(),
        };
        for e in ctx.events {
            if e.source == SourceKind::MessageTrace {
                continue;
            }
            let actor = ctx.s(e.actor_key);
            let acct = ctx.account(e);
            let signin = ctx.is_signin(e);
            let who = if signin { acct } else { actor };
            if !who.is_empty() {
                h.acting.entry(who).or_insert(e.time);
                if !e.ip.is_empty() {
                    h.ip_first.entry((who, ctx.s(e.ip))).or_insert(e.time);
                }
            }
            for a in [actor, acct] {
                if !a.is_empty() {
                    h.first_seen.entry(a).or_insert(e.time);
                }
            }
        }
        h
    }

    /// True when `actor` used `ip` more than a day before `t`.
    fn usual_ip(&self, actor: &str, ip: &str, t: Timestamp) -> bool {
        !ip.is_empty()
            && self
                .ip_first
                .get(&(actor, ip))
                .is_some_and(|f| t.0 - f.0 > DAY_US)
    }

    /// True when `account` appears in the export (as actor or mailbox) before `t`.
    fn seen_before(&self, account: &str, t: Timestamp) -> bool {
        self.first_seen.get(account).is_some_and(|f| f.0 < t.0)
    }

    /// True when the mailbox never acts (no record of its own, no sign-in): a shared or
    /// resource mailbox.
    fn never_acts(&self, account: &str) -> bool {
        !self.acting.contains_key(account)
    }
}

/// The mailbox a cmdlet targets: the resolved mailbox, else the `Identity` text (a display
/// name or alias), lower-cased, up to any `:\folder` part.
fn target_of(ctx: &Ctx<'_>, e: &Event) -> String {
    let identity = ctx
        .param(e, "Identity")
        .map(|v| {
            v.trim()
                .split(":\\")
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if e.mailbox != e.actor_key || identity.is_empty() {
        ctx.account(e).to_string()
    } else {
        identity
    }
}

/// A graded grant: severity, reason and the facts behind it.
struct Grade {
    severity: Severity,
    reason: String,
    facts: Value,
}

/// Grades a delegation of `target` to `delegates` by `e`'s actor. `base` is the rule's usual
/// severity for an admin granting from a new IP.
fn grade(
    ctx: &Ctx<'_>,
    hist: &History<'_>,
    e: &Event,
    target: &str,
    delegates: &[String],
    base: Severity,
) -> Grade {
    let actor = ctx.s(e.actor_key);
    let ip = ctx.s(e.ip);
    let external: Vec<&str> = delegates
        .iter()
        .map(String::as_str)
        .filter(|d| ctx.tenant.is_external(d))
        .collect();
    let new_delegates: Vec<&str> = delegates
        .iter()
        .map(String::as_str)
        .filter(|d| d.contains('@') && !hist.seen_before(d, e.time))
        .collect();
    let own = !actor.is_empty() && actor == target;
    let to_self = delegates.iter().any(|d| d == actor) && !own;
    let usual = hist.usual_ip(actor, ip, e.time);
    let shared = hist.never_acts(target);
    let facts = json!({
        "actor": actor,
        "actor_ip": ip,
        "actor_usual_ip": usual,
        "own_mailbox": own,
        "grants_to_self": to_self,
        "external_delegates": external,
        "delegates_new_in_export": new_delegates,
        "target_never_signs_in": shared,
    });
    let (severity, reason) = if !external.is_empty() {
        (
            Severity::High,
            "delegate outside the organisation".to_string(),
        )
    } else if own && !new_delegates.is_empty() {
        (
            Severity::High,
            "the owner granted access to their own mailbox to an account not seen before".into(),
        )
    } else if own {
        (
            Severity::Medium,
            "the owner granted access to their own mailbox".into(),
        )
    } else if to_self {
        if usual {
            (
                Severity::Medium,
                "the actor granted itself access to another mailbox (from its usual IP)".into(),
            )
        } else {
            (
                Severity::High,
                "the actor granted itself access to another mailbox from an unusual IP".into(),
            )
        }
    } else if usual && shared {
        (
            Severity::Info,
            "routine: an admin delegating a shared mailbox from the admin's usual IP".into(),
        )
    } else if usual {
        (
            Severity::Low,
            "an admin delegating from the admin's usual IP".into(),
        )
    } else {
        (
            base,
            "granted from an IP the actor had not used a day earlier".into(),
        )
    };
    Grade {
        severity,
        reason,
        facts,
    }
}

fn grant_finding(
    rule: &'static Rule,
    idx: u32,
    account: &str,
    summary: String,
    g: Grade,
) -> Finding {
    let mut f = Finding::new(rule, account, summary)
        .with_events([idx])
        .severity(g.severity)
        .detail("severity_reason", g.reason);
    if let Value::Object(m) = g.facts {
        for (k, v) in m {
            f = f.detail(&k, v);
        }
    }
    f
}

fn rights_list(v: &str) -> Vec<String> {
    v.split([',', ';', ' '])
        .map(|s| s.trim().trim_matches(['"', '\'', '{', '}', '(', ')']))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

// ------------------------------------------------------------------------------------------------
// E1 mailbox-fullaccess-granted
// ------------------------------------------------------------------------------------------------

fn fullaccess(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let ops = ctx.op("Add-MailboxPermission");
    if ops.is_empty() {
        return Vec::new();
    }
    let hist = History::new(ctx);
    let mut out = Vec::new();
    for &i in ops {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || is_service_user(ctx, e) {
            continue;
        }
        let rights = rights_list(ctx.param(e, "AccessRights").unwrap_or(""));
        let hits: Vec<&str> = rights
            .iter()
            .map(String::as_str)
            .filter(|r| {
                ["FullAccess", "ChangePermission", "ChangeOwner"]
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(r))
            })
            .collect();
        if hits.is_empty() {
            continue;
        }
        let target = target_of(ctx, e);
        let delegates = addresses(ctx.param(e, "User").unwrap_or(""));
        let g = grade(ctx, &hist, e, &target, &delegates, Severity::Medium);
        let f = grant_finding(
            rule,
            i,
            &target,
            format!(
                "{} granted {} on {target} to {}",
                ctx.s(e.actor),
                hits.join(", "),
                delegates.join(", ")
            ),
            g,
        )
        .detail("mailbox", target.as_str())
        .detail("delegates", delegates.clone())
        .detail("access_rights", rights.clone())
        .detail("automapping", ctx.param(e, "AutoMapping"))
        .detail("inheritance", ctx.param(e, "InheritanceType"));
        out.push(f);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// E2 sendas-onbehalf-granted
// ------------------------------------------------------------------------------------------------

fn sendas(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut rows: Vec<(u32, &'static str, Vec<String>)> = Vec::new();
    for &i in ctx.op("Add-RecipientPermission") {
        let e = ctx.ev(i);
        let rights = rights_list(ctx.param(e, "AccessRights").unwrap_or(""));
        if rights.iter().any(|r| r.eq_ignore_ascii_case("SendAs")) {
            rows.push((
                i,
                "SendAs",
                addresses(ctx.param(e, "Trustee").unwrap_or("")),
            ));
        }
    }
    for &i in ctx.op("Set-Mailbox") {
        let e = ctx.ev(i);
        if let Some(v) = ctx.param(e, "GrantSendOnBehalfTo") {
            let v = v.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("$null") || v.eq_ignore_ascii_case("null") {
                continue;
            }
            // `@{Add="x"}` / `@{Remove="x"}` forms: only additions grant.
            let lower = v.to_ascii_lowercase();
            if lower.contains("remove") && !lower.contains("add") {
                continue;
            }
            let cleaned = v
                .replace("@{", "")
                .replace(['}', '"'], "")
                .replace("Add=", "")
                .replace("add=", "");
            rows.push((i, "SendOnBehalf", addresses(&cleaned)));
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    let hist = History::new(ctx);
    let mut out = Vec::new();
    for (i, right, delegates) in rows {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || is_service_user(ctx, e) || delegates.is_empty() {
            continue;
        }
        let target = target_of(ctx, e);
        let g = grade(ctx, &hist, e, &target, &delegates, Severity::Medium);
        out.push(
            grant_finding(
                rule,
                i,
                &target,
                format!(
                    "{} granted {right} on {target} to {}",
                    ctx.s(e.actor),
                    delegates.join(", ")
                ),
                g,
            )
            .detail("mailbox", target.as_str())
            .detail("right", right)
            .detail("delegates", delegates),
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// E3 folder-permission-read
// ------------------------------------------------------------------------------------------------

/// Folder roles that include reading items.
const READ_ROLES: &[&str] = &[
    "ReadItems",
    "Author",
    "NonEditingAuthor",
    "Owner",
    "PublishingAuthor",
    "Reviewer",
    "Editor",
    "PublishingEditor",
];

/// Calendar, Contacts and PersonMetadata sharing is ordinary.
fn is_excluded_folder(folder: &str) -> bool {
    let first = folder
        .trim()
        .trim_start_matches(['\\', '/'])
        .split(['\\', '/'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "calendar" | "contacts" | "personmetadata" | "birthdays" | "holidays"
    )
}

/// Inbox or the mailbox root (where sharing exposes everything).
fn is_inbox_or_root(folder: &str) -> bool {
    let f = folder
        .trim()
        .trim_start_matches(['\\', '/'])
        .to_ascii_lowercase();
    f.is_empty() || f == "inbox" || f == "top of information store"
}

fn is_everyone(member: &str) -> bool {
    matches!(
        member.trim().to_ascii_lowercase().as_str(),
        "everyone" | "default" | "anonymous" | "all users"
    )
}

fn folder_permission(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    // (event, folder, delegate, rights)
    let mut rows: Vec<(u32, String, String, Vec<String>)> = Vec::new();
    for i in ctx.ops(&["Add-MailboxFolderPermission", "Set-MailboxFolderPermission"]) {
        let e = ctx.ev(i);
        let identity = ctx.param(e, "Identity").unwrap_or("");
        let folder = identity
            .split_once(':')
            .map(|(_, f)| f.trim().to_string())
            .unwrap_or_default();
        let rights = rights_list(ctx.param(e, "AccessRights").unwrap_or(""));
        if !rights
            .iter()
            .any(|r| READ_ROLES.iter().any(|x| x.eq_ignore_ascii_case(r)))
        {
            continue;
        }
        let user = ctx.param(e, "User").unwrap_or("").trim().to_string();
        rows.push((i, folder, user, rights));
    }
    for i in ctx.ops(&["ModifyFolderPermissions", "AddFolderPermissions"]) {
        let e = ctx.ev(i);
        let rights = ctx.prop(e, Bag::Field, "MemberRights").unwrap_or("");
        if !rights.to_ascii_lowercase().contains("readany") {
            continue;
        }
        let folder = e
            .items()
            .iter()
            .find_map(|m| m.folder(ctx.interner))
            .unwrap_or("")
            .to_string();
        let user = ctx
            .prop(e, Bag::Field, "MemberUpn")
            .unwrap_or("")
            .trim()
            .to_string();
        rows.push((i, folder, user, rights_list(rights)));
    }
    if rows.is_empty() {
        return Vec::new();
    }
    let hist = History::new(ctx);
    let mut out = Vec::new();
    for (i, folder, user, rights) in rows {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || is_service_user(ctx, e) {
            continue;
        }
        if is_excluded_folder(&folder) {
            continue;
        }
        let target = target_of(ctx, e);
        let everyone = is_everyone(&user);
        let delegates: Vec<String> = if everyone {
            Vec::new()
        } else {
            addresses(&user)
        };
        let mut g = grade(ctx, &hist, e, &target, &delegates, Severity::Medium);
        if everyone && is_inbox_or_root(&folder) {
            g.severity = Severity::High;
            g.reason = format!(
                "{} shared with {user}: readable by everyone",
                folder_name(&folder)
            );
        } else if everyone && g.severity < Severity::Medium {
            g.severity = Severity::Medium;
            g.reason = format!("folder shared with {user}");
        }
        out.push(
            grant_finding(
                rule,
                i,
                &target,
                format!(
                    "{} granted {} on folder {} of {target} to {}",
                    ctx.s(e.actor),
                    rights.join(", "),
                    folder_name(&folder),
                    if user.is_empty() { "(unknown)" } else { &user }
                ),
                g,
            )
            .detail("mailbox", target.as_str())
            .detail("folder", folder.as_str())
            .detail("member", user.as_str())
            .detail("rights", rights),
        );
    }
    out
}

fn folder_name(f: &str) -> &str {
    if f.is_empty() {
        "(root)"
    } else {
        f
    }
}

// ------------------------------------------------------------------------------------------------
// E4 impersonation-role
// ------------------------------------------------------------------------------------------------

fn impersonation_role(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let ops = ctx.ops(&["New-ManagementRoleAssignment", "Add-RoleGroupMember"]);
    if ops.is_empty() {
        return Vec::new();
    }
    let hist = History::new(ctx);
    let mut out = Vec::new();
    for i in ops {
        let e = ctx.ev(i);
        if !ok(e) || ctx.is_system_actor(e) || is_service_user(ctx, e) {
            continue;
        }
        let actor = ctx.s(e.actor_key);
        let usual = hist.usual_ip(actor, ctx.s(e.ip), e.time);
        let op = ctx.s(e.operation);
        let (what, assignee, sev, reason) =
            if op.eq_ignore_ascii_case("New-ManagementRoleAssignment") {
                let role = ctx.param(e, "Role").unwrap_or("").trim().to_string();
                let assignee = ["User", "App", "SecurityGroup", "Policy", "Computer"]
                    .iter()
                    .find_map(|p| ctx.param(e, p))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let imp = role.eq_ignore_ascii_case("ApplicationImpersonation")
                    || role.to_ascii_lowercase().contains("impersonation");
                let (sev, reason) = match (imp, usual) {
                    (true, _) => (
                        Severity::High,
                        "ApplicationImpersonation lets the assignee open every mailbox in scope",
                    ),
                    (false, true) => (
                        Severity::Low,
                        "management role assigned from the actor's usual IP",
                    ),
                    (false, false) => (Severity::Medium, "management role assigned"),
                };
                (format!("role {role}"), assignee, sev, reason)
            } else {
                let group = ctx.param(e, "Identity").unwrap_or("").trim().to_string();
                let member = ctx.param(e, "Member").unwrap_or("").trim().to_string();
                let org = group
                    .to_ascii_lowercase()
                    .contains("organization management");
                let (sev, reason) = match (org, usual) {
                    (true, false) => (
                        Severity::High,
                        "added to Organization Management from an unusual IP",
                    ),
                    (true, true) => (
                        Severity::Medium,
                        "added to Organization Management from the actor's usual IP",
                    ),
                    (false, true) => (
                        Severity::Low,
                        "role group member added from the actor's usual IP",
                    ),
                    (false, false) => (Severity::Medium, "role group member added"),
                };
                (format!("role group {group}"), member, sev, reason)
            };
        let account = addresses(&assignee)
            .into_iter()
            .find(|a| a.contains('@'))
            .unwrap_or_else(|| actor.to_string());
        out.push(
            Finding::new(
                rule,
                &account,
                format!("{} assigned {what} to {assignee}", ctx.s(e.actor)),
            )
            .with_events([i])
            .severity(sev)
            .detail("severity_reason", reason)
            .detail("operation", op)
            .detail("assignment", what)
            .detail("assignee", assignee)
            .detail("actor", actor)
            .detail("actor_usual_ip", usual)
            .detail(
                "scope",
                ctx.param(e, "CustomRecipientWriteScope")
                    .or(ctx.param(e, "RecipientOrganizationalUnitScope")),
            ),
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// E5 app-granted-all-mailboxes
// ------------------------------------------------------------------------------------------------

/// Permission ids and names that open every mailbox to an application.
const APP_MAIL_MARKERS: &[(&str, &str)] = &[
    (
        "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
        "full_access_as_app (Exchange Online)",
    ),
    ("full_access_as_app", "full_access_as_app (Exchange Online)"),
    (
        "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
        "Mail.Read (Microsoft Graph, application)",
    ),
    (
        "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
        "Mail.ReadWrite (Microsoft Graph, application)",
    ),
];

/// App-role values that are mailbox-wide when granted as an application permission.
const APP_ROLE_VALUES: &[&str] = &["Mail.Read", "Mail.ReadWrite", "full_access_as_app"];

fn app_all_mailboxes(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let ops = ctx.ops(&[
        "Consent to application",
        "Add app role assignment to service principal",
        "Add app role assignment grant to user",
        "Update application",
        "Add application",
    ]);
    if ops.is_empty() {
        return Vec::new();
    }
    let hist = History::new(ctx);
    let mut out = Vec::new();
    for i in ops {
        let e = ctx.ev(i);
        if !ok(e) {
            continue;
        }
        let op = ctx.s(e.operation);
        let role_assignment = op
            .to_ascii_lowercase()
            .starts_with("add app role assignment");
        let app_only = ctx
            .prop(e, Bag::ModifiedProperties, "ConsentContext.IsAppOnly")
            .is_some_and(|v| {
                v.trim()
                    .trim_matches(['[', ']', '"', ' '])
                    .eq_ignore_ascii_case("true")
            });
        let mut found: BTreeSet<&str> = BTreeSet::new();
        let mut evidence_props: BTreeMap<String, String> = BTreeMap::new();
        for p in e.props() {
            if p.bag != Bag::ModifiedProperties {
                continue;
            }
            let name = ctx.s(p.name);
            let new = ctx.s(p.value).to_ascii_lowercase();
            let old = p.old.map_or("", |o| ctx.s(o)).to_ascii_lowercase();
            let mut hit = false;
            for (m, label) in APP_MAIL_MARKERS {
                let m = m.to_ascii_lowercase();
                if new.matches(m.as_str()).count() > old.matches(m.as_str()).count() {
                    found.insert(label);
                    hit = true;
                }
            }
            if role_assignment || app_only {
                let vals: Vec<&str> = ctx
                    .s(p.value)
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                    .filter(|t| !t.is_empty())
                    .collect();
                let relevant_name = name.eq_ignore_ascii_case("AppRole.Value")
                    || (app_only && name.to_ascii_lowercase().contains("permission"));
                if relevant_name {
                    for v in APP_ROLE_VALUES {
                        if vals.iter().any(|t| t.eq_ignore_ascii_case(v)) {
                            found.insert(match *v {
                                "Mail.Read" => "Mail.Read (Microsoft Graph, application)",
                                "Mail.ReadWrite" => "Mail.ReadWrite (Microsoft Graph, application)",
                                _ => "full_access_as_app (Exchange Online)",
                            });
                            hit = true;
                        }
                    }
                }
            }
            if hit {
                let mut v = ctx.s(p.value).to_string();
                if v.len() > 2000 {
                    let mut cut = 2000;
                    while !v.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    v.truncate(cut);
                }
                evidence_props.insert(name.to_string(), v);
            }
        }
        if found.is_empty() {
            continue;
        }
        let actor = ctx.s(e.actor_key);
        let usual = hist.usual_ip(actor, ctx.s(e.ip), e.time);
        let field = |n: &str| ctx.prop(e, Bag::Field, n);
        let modp = |n: &str| ctx.prop(e, Bag::ModifiedProperties, n).map(str::trim);
        let app_name = field("Target.1").or(modp("ServicePrincipal.DisplayName"));
        let app_id = modp("TargetId.ServicePrincipalNames")
            .or(field("Target.4"))
            .or(modp("ServicePrincipal.AppId"));
        let perms: Vec<&str> = found.iter().copied().collect();
        let mut f = Finding::new(
            rule,
            ctx.account(e),
            format!(
                "{op} by {}: application {} gets {}",
                ctx.s(e.actor),
                app_name.or(app_id).unwrap_or("(unnamed)"),
                perms.join(", ")
            ),
        )
        .with_events([i])
        .detail("operation", op)
        .detail("permissions", perms)
        .detail("app_name", app_name)
        .detail("app_id", app_id)
        .detail("app_only_consent", app_only)
        .detail("actor", actor)
        .detail("actor_usual_ip", usual)
        .detail(
            "modified_properties",
            evidence_props
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect::<serde_json::Map<_, _>>(),
        );
        if usual {
            f = f.severity(Severity::Medium).detail(
                "severity_reason",
                "granted from the actor's usual IP (may be a sanctioned integration); still opens every mailbox",
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

    fn admin(
        id: &str,
        time: &str,
        actor: &str,
        ip: &str,
        op: &str,
        params: &[(&str, &str)],
    ) -> String {
        let p: Vec<String> = params
            .iter()
            .map(|(n, v)| format!(r#"{{"Name":"{n}","Value":"{}"}}"#, v.replace('\\', "\\\\")))
            .collect();
        let actor = actor.replace('\\', "\\\\");
        let ip = if ip.is_empty() {
            String::new()
        } else {
            format!("{ip}:50123")
        };
        format!(
            r#"{{"Id":"{id}","CreationTime":"{time}","Operation":"{op}","RecordType":1,"ResultStatus":"True","Workload":"Exchange",
            "UserId":"{actor}","UserType":2,"ClientIP":"{ip}","Parameters":[{}]}}"#,
            p.join(",")
        )
    }

    fn signin(time: &str, user: &str, ip: &str) -> String {
        format!(
            r#"{{"Id":"si-{time}-{user}","CreationTime":"{time}","Operation":"UserLoggedIn","RecordType":15,"ResultStatus":"Success",
            "UserId":"{user}","ClientIP":"{ip}","Workload":"AzureActiveDirectory","ErrorNumber":"0"}}"#
        )
    }

    #[test]
    fn e1_fullaccess_graded_by_context() {
        // Routine: IT admin, usual office IP, shared mailbox that never signs in.
        let mut k = Kit::new();
        k.ual(&signin(
            "2024-03-01T08:00:00",
            "it.admin@corp.example",
            "192.0.2.10",
        ))
        .ual(&signin(
            "2024-03-01T08:05:00",
            "sophie@corp.example",
            "192.0.2.10",
        ))
        .ual(&admin(
            "g1",
            "2024-03-04T11:21:40",
            "it.admin@corp.example",
            "192.0.2.10",
            "Add-MailboxPermission",
            &[
                ("Identity", "accounts@corp.example"),
                ("User", "sophie@corp.example"),
                ("AccessRights", "FullAccess"),
                ("InheritanceType", "All"),
                ("AutoMapping", "True"),
            ],
        ));
        let f = k.run(rule("mailbox-fullaccess-granted"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account, "accounts@corp.example");
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].details["delegates"], json!(["sophie@corp.example"]));
        assert_eq!(f[0].details["actor_usual_ip"], json!(true));
        assert!(!f[0].evidence.is_empty());

        // Suspicious: the owner grants their own mailbox to an external account.
        let mut k = Kit::new();
        k.ual(&signin(
            "2024-03-01T08:00:00",
            "amelia@corp.example",
            "192.0.2.10",
        ))
        .ual(&admin(
            "g1",
            "2024-03-04T09:40:00",
            "amelia@corp.example",
            "89.160.20.115",
            "Add-MailboxPermission",
            &[
                ("Identity", "amelia@corp.example"),
                ("User", "drop@evil.example"),
                ("AccessRights", "FullAccess"),
            ],
        ));
        let f = k.run(rule("mailbox-fullaccess-granted"), &["corp.example"]);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(
            f[0].details["external_delegates"],
            json!(["drop@evil.example"])
        );

        // Owner to a new internal account: high; near miss: ReadPermission only, and SYSTEM.
        let mut k = Kit::new();
        k.ual(&signin(
            "2024-03-01T08:00:00",
            "amelia@corp.example",
            "192.0.2.10",
        ))
        .ual(&admin(
            "g1",
            "2024-03-04T09:40:00",
            "amelia@corp.example",
            "192.0.2.10",
            "Add-MailboxPermission",
            &[
                ("Identity", "amelia@corp.example"),
                ("User", "svc-sync@corp.example"),
                ("AccessRights", "FullAccess"),
            ],
        ))
        .ual(&admin(
            "g2",
            "2024-03-04T09:41:00",
            "amelia@corp.example",
            "192.0.2.10",
            "Add-MailboxPermission",
            &[
                ("Identity", "amelia@corp.example"),
                ("User", "x@corp.example"),
                ("AccessRights", "ReadPermission"),
            ],
        ))
        .ual(&admin(
            "g3",
            "2024-03-04T09:42:00",
            "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)",
            "",
            "Add-MailboxPermission",
            &[
                ("Identity", "amelia@corp.example"),
                ("User", "y@corp.example"),
                ("AccessRights", "FullAccess"),
            ],
        ));
        let f = k.run(rule("mailbox-fullaccess-granted"), &["corp.example"]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(
            f[0].details["delegates_new_in_export"],
            json!(["svc-sync@corp.example"])
        );
    }

    #[test]
    fn e2_sendas_onbehalf() {
        let mut k = Kit::new();
        k.ual(&admin(
            "r1",
            "2024-03-04T09:40:00",
            "amelia@corp.example",
            "89.160.20.115",
            "Add-RecipientPermission",
            &[
                ("Identity", "ceo@corp.example"),
                ("Trustee", "amelia@corp.example"),
                ("AccessRights", "SendAs"),
            ],
        ))
        .ual(&admin(
            "r2",
            "2024-03-04T09:41:00",
            "it.admin@corp.example",
            "192.0.2.10",
            "Set-Mailbox",
            &[
                ("Identity", "ceo@corp.example"),
                ("GrantSendOnBehalfTo", "pa@partner.example"),
            ],
        ));
        let f = k.run(rule("sendas-onbehalf-granted"), &["corp.example"]);
        assert_eq!(f.len(), 2);
        let sa = f
            .iter()
            .find(|x| x.details["right"] == json!("SendAs"))
            .unwrap();
        assert_eq!(sa.account, "ceo@corp.example");
        assert_eq!(sa.severity, Severity::High, "{:?}", sa.details);
        assert_eq!(sa.details["grants_to_self"], json!(true));
        let ob = f
            .iter()
            .find(|x| x.details["right"] == json!("SendOnBehalf"))
            .unwrap();
        assert_eq!(ob.severity, Severity::High);
        assert_eq!(ob.details["delegates"], json!(["pa@partner.example"]));

        // Near miss: a Set-Mailbox without the parameter, and a SYSTEM one.
        let mut k = Kit::new();
        k.ual(&admin(
            "r1",
            "2024-03-04T09:40:00",
            "it.admin@corp.example",
            "192.0.2.10",
            "Set-Mailbox",
            &[
                ("Identity", "ceo@corp.example"),
                ("ProhibitSendQuota", "99 GB"),
            ],
        ))
        .ual(&admin(
            "r2",
            "2024-03-04T09:41:00",
            "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)",
            "",
            "Set-Mailbox",
            &[
                ("Identity", "ceo@corp.example"),
                ("GrantSendOnBehalfTo", "pa@corp.example"),
            ],
        ));
        assert!(k
            .run(rule("sendas-onbehalf-granted"), &["corp.example"])
            .is_empty());
    }

    #[test]
    fn e3_folder_permission() {
        let mut k = Kit::new();
        k.ual(&admin(
            "f1",
            "2024-03-04T09:40:00",
            "amelia@corp.example",
            "89.160.20.115",
            "Add-MailboxFolderPermission",
            &[
                ("Identity", "amelia@corp.example:\\Inbox"),
                ("User", "Default"),
                ("AccessRights", "Reviewer"),
            ],
        ))
        .ual(&admin(
            "f2",
            "2024-03-04T09:41:00",
            "amelia@corp.example",
            "89.160.20.115",
            "Add-MailboxFolderPermission",
            &[
                ("Identity", "amelia@corp.example:\\Calendar"),
                ("User", "bob@corp.example"),
                ("AccessRights", "Reviewer"),
            ],
        ))
        .ual(&admin(
            "f3",
            "2024-03-04T09:42:00",
            "amelia@corp.example",
            "89.160.20.115",
            "Set-MailboxFolderPermission",
            &[
                ("Identity", "amelia@corp.example:\\Inbox"),
                ("User", "bob@corp.example"),
                ("AccessRights", "AvailabilityOnly"),
            ],
        ));
        let f = k.run(rule("folder-permission-read"), &["corp.example"]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].account, "amelia@corp.example");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["folder"], json!("\\Inbox"));
        assert_eq!(f[0].details["member"], json!("Default"));

        // Item-level ModifyFolderPermissions with ReadAny, by a user, on Inbox.
        let mut k = Kit::new();
        k.ual(r#"{"Id":"m1","CreationTime":"2024-03-04T09:40:00","Operation":"ModifyFolderPermissions","RecordType":2,"ResultStatus":"Succeeded",
            "UserId":"amelia@corp.example","MailboxOwnerUPN":"amelia@corp.example","ClientIP":"89.160.20.115","LogonType":0,
            "Item":{"Id":"x","ParentFolder":{"Path":"\\Inbox","Name":"Inbox","MemberRights":"ReadAny, Visible","MemberUpn":"Everyone"}}}"#);
        let f = k.run(rule("folder-permission-read"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].details["rights"], json!(["ReadAny", "Visible"]));
    }

    /// Elastic's ModifyFolderPermissions on Calendar by SYSTEM: not E3 at all (Calendar is
    /// excluded and the actor is the service).
    #[test]
    fn elastic_calendar_case_is_not_e3() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/cases/rule-examples/elastic_integration_o365_modifyfolderpermissions_calendar.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipping: {path} not present");
            return;
        };
        let v: Value = serde_json::from_str(&text).expect("case json");
        let mut k = Kit::new();
        k.ual(&v["record"].to_string());
        let f = k.run(rule("folder-permission-read"), &[]);
        assert!(f.iter().all(|x| x.severity < Severity::High), "{f:#?}");
        assert!(f.is_empty());
        // The same record by a user on the Inbox would be reported.
        let mut rec = v["record"].clone();
        rec["UserId"] = json!("someone@testsiem.onmicrosoft.com");
        rec["Item"]["ParentFolder"]["Path"] = json!("\\Inbox");
        rec["Item"]["ParentFolder"]["Name"] = json!("Inbox");
        let mut k = Kit::new();
        k.ual(&rec.to_string());
        assert_eq!(k.run(rule("folder-permission-read"), &[]).len(), 1);
    }

    #[test]
    fn e4_impersonation_role() {
        let mut k = Kit::new();
        k.ual(&admin(
            "i1",
            "2024-03-04T09:40:00",
            "admin@corp.example",
            "89.160.20.115",
            "New-ManagementRoleAssignment",
            &[
                ("Role", "ApplicationImpersonation"),
                ("User", "svc@corp.example"),
            ],
        ))
        .ual(&admin(
            "i2",
            "2024-03-04T09:41:00",
            "admin@corp.example",
            "89.160.20.115",
            "Add-RoleGroupMember",
            &[
                ("Identity", "Organization Management"),
                ("Member", "eve@corp.example"),
            ],
        ));
        let f = k.run(rule("impersonation-role"), &["corp.example"]);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|x| x.severity == Severity::High));
        assert!(f.iter().any(|x| x.account == "svc@corp.example"));
        assert!(f.iter().any(|x| x.account == "eve@corp.example"));

        // Near miss: an ordinary role group from the admin's usual IP is low.
        let mut k = Kit::new();
        k.ual(&signin(
            "2024-03-01T08:00:00",
            "admin@corp.example",
            "192.0.2.10",
        ))
        .ual(&admin(
            "i1",
            "2024-03-04T09:40:00",
            "admin@corp.example",
            "192.0.2.10",
            "Add-RoleGroupMember",
            &[("Identity", "Help Desk"), ("Member", "tom@corp.example")],
        ));
        let f = k.run(rule("impersonation-role"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
    }

    fn directory(id: &str, op: &str, props: &[(&str, &str, &str)]) -> String {
        let p: Vec<String> = props
            .iter()
            .map(|(n, new, old)| {
                format!(
                    r#"{{"Name":"{n}","NewValue":{},"OldValue":{}}}"#,
                    json!(new),
                    json!(old)
                )
            })
            .collect();
        format!(
            r#"{{"Id":"{id}","CreationTime":"2024-03-04T10:05:12","Operation":"{op}","RecordType":8,"ResultStatus":"Success",
            "Workload":"AzureActiveDirectory","UserId":"admin@corp.example","ClientIP":"89.160.20.115",
            "Target":[{{"ID":"Evil Mail Sync","Type":1}},{{"ID":"5f0c4a6e-1111-2222-3333-444444444444","Type":4}}],
            "ModifiedProperties":[{}]}}"#,
            p.join(",")
        )
    }

    #[test]
    fn e5_app_all_mailboxes() {
        let mut k = Kit::new();
        k.ual(&directory("a1", "Add app role assignment to service principal.", &[
            ("AppRole.Id", "810c84a8-4a9e-49e6-bf7d-12d183f40d01", ""),
            ("AppRole.Value", "Mail.Read", ""),
            ("ServicePrincipal.DisplayName", "Microsoft Graph", ""),
        ]))
        .ual(&directory("a2", "Update application.", &[(
            "RequiredResourceAccess",
            r#"[{"ResourceAppId":"00000002-0000-0ff1-ce00-000000000000","RequiredAppPermissions":[{"EntitlementId":"dc890d15-9560-4a4c-9b7f-a736ec74ec40","DirectAccessGrant":true}]}]"#,
            "[]",
        )]));
        let f = k.run(rule("app-granted-all-mailboxes"), &["corp.example"]);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f.iter().all(|x| x.severity == Severity::High));
        assert!(f.iter().all(|x| x.account == "admin@corp.example"));
        assert!(f
            .iter()
            .any(|x| x.details["permissions"] == json!(["full_access_as_app (Exchange Online)"])));
        assert!(f.iter().any(
            |x| x.details["permissions"] == json!(["Mail.Read (Microsoft Graph, application)"])
        ));
        assert_eq!(f[0].details["app_name"], json!("Evil Mail Sync"));

        // Near miss: a delegated Mail.Read consent (one user's own mailbox), and an update that
        // keeps an existing full_access_as_app permission.
        let mut k = Kit::new();
        k.ual(&directory(
            "c1",
            "Consent to application.",
            &[
                ("ConsentContext.IsAppOnly", "False", ""),
                (
                    "ConsentAction.Permissions",
                    "[] => [[Id: x, Scope:  Mail.Read Mail.Send offline_access User.Read]]; ",
                    "",
                ),
            ],
        ))
        .ual(&directory(
            "a2",
            "Update application.",
            &[(
                "RequiredResourceAccess",
                "dc890d15-9560-4a4c-9b7f-a736ec74ec40 plus a new redirect uri",
                "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
            )],
        ));
        assert!(k
            .run(rule("app-granted-all-mailboxes"), &["corp.example"])
            .is_empty());

        // App-only consent naming Mail.ReadWrite.
        let mut k = Kit::new();
        k.ual(&directory(
            "c2",
            "Consent to application.",
            &[
                ("ConsentContext.IsAppOnly", "True", ""),
                (
                    "ConsentAction.Permissions",
                    "[] => [[Roles: Mail.ReadWrite]]",
                    "",
                ),
            ],
        ));
        let f = k.run(rule("app-granted-all-mailboxes"), &["corp.example"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].details["app_only_consent"], json!(true));
    }
}

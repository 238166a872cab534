//! One readable sentence per event, for the timeline's `message` column and the incident
//! narrative: "New-InboxRule '..' by adelev@… from 203.0.113.45: move mail from billing@… to
//! RSS Subscriptions, mark read".
//!
//! The sentence holds attacker-controlled text (rule names, subjects, user agents) verbatim;
//! each writer escapes it for its own medium.

use crate::analyze::{Ctx, Tactic};
use crate::event::{Bag, Event, Outcome, SourceKind};

fn quoted(s: &str) -> String {
    let s: String = s.chars().take(160).collect();
    format!("'{s}'")
}

/// The parameters worth showing for a cmdlet, in a fixed order.
const SHOWN_PARAMETERS: &[&str] = &[
    "Identity",
    "From",
    "SubjectContainsWords",
    "SubjectOrBodyContainsWords",
    "BodyContainsWords",
    "MoveToFolder",
    "MarkAsRead",
    "DeleteMessage",
    "StopProcessingRules",
    "ForwardTo",
    "RedirectTo",
    "ForwardAsAttachmentTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "DeliverToMailboxAndForward",
    "User",
    "Trustee",
    "AccessRights",
    "GrantSendOnBehalfTo",
    "AuditEnabled",
    "Enabled",
    "BlindCopyTo",
    "RedirectMessageTo",
    "CopyTo",
];

fn parameters(ctx: &Ctx<'_>, e: &Event) -> String {
    let mut parts = Vec::new();
    for name in SHOWN_PARAMETERS {
        if let Some(v) = ctx.param(e, name) {
            if !v.is_empty() {
                parts.push(format!("{name}={}", quoted(v)));
            }
        }
    }
    parts.join(", ")
}

/// The sentence for one event.
pub fn describe(ctx: &Ctx<'_>, e: &Event) -> String {
    let op = ctx.s(e.operation_raw);
    let actor = ctx.s(e.actor);
    let ip = ctx.s(e.ip);
    let from = if ip.is_empty() {
        String::new()
    } else {
        format!(" from {ip}")
    };
    match e.source {
        SourceKind::MessageTrace => {
            let subject = e
                .items()
                .first()
                .and_then(|i| i.subject(ctx.interner))
                .unwrap_or("");
            let status = ctx.s(e.error_text);
            return format!(
                "Message {} from {} to {}{from}{}",
                quoted(subject),
                ctx.s(e.actor_key),
                ctx.s(e.mailbox),
                if status.is_empty() {
                    String::new()
                } else {
                    format!(": {status}")
                }
            );
        }
        SourceKind::Signin => {}
        _ => {}
    }
    if ctx.is_signin(e) {
        let app = ctx
            .prop(e, Bag::Field, "appDisplayName")
            .unwrap_or_else(|| ctx.s(e.object));
        let result = match (e.outcome, e.error_code.get()) {
            (Outcome::Failure, Some(code)) => format!("failed ({code} {})", ctx.s(e.error_text)),
            (Outcome::Failure, None) => "failed".to_string(),
            _ => "succeeded".to_string(),
        };
        let ua = ctx.s(e.user_agent);
        return format!(
            "Sign-in of {}{from} {result}{}{}",
            ctx.s(e.actor_key),
            if app.is_empty() {
                String::new()
            } else {
                format!(" to {}", quoted(app))
            },
            if ua.is_empty() {
                String::new()
            } else {
                format!(" with {}", quoted(ua))
            }
        );
    }
    let object = ctx.s(e.object);
    let target = if e.mailbox != e.actor_key && !e.mailbox.is_empty() {
        format!(" on {}", ctx.s(e.mailbox))
    } else {
        String::new()
    };
    let mut s = format!(
        "{op}{} by {actor}{target}{from}",
        if object.is_empty() || object.len() > 120 {
            String::new()
        } else {
            format!(" {}", quoted(object))
        }
    );
    let params = parameters(ctx, e);
    if !params.is_empty() {
        s.push_str(": ");
        s.push_str(&params);
    }
    let items = e.items();
    if !items.is_empty() && params.is_empty() {
        let with_ids = items
            .iter()
            .filter(|i| !i.internet_message_id.is_empty())
            .count();
        let folders: Vec<&str> = items
            .iter()
            .filter_map(|i| i.folder(ctx.interner))
            .take(3)
            .collect();
        if with_ids > 0 {
            s.push_str(&format!(": {with_ids} message(s)"));
            if let Some(subj) = items.iter().find_map(|i| i.subject(ctx.interner)) {
                s.push_str(&format!(" e.g. {}", quoted(subj)));
            }
        } else if !folders.is_empty() {
            s.push_str(&format!(": folder {}", folders.join(", ")));
        }
    }
    if e.outcome == Outcome::Failure {
        s.push_str(" (failed)");
    }
    s
}

/// The tactic an attacker event serves when no finding names one.
pub fn default_tactic(ctx: &Ctx<'_>, e: &Event) -> Option<Tactic> {
    if ctx.is_signin(e) {
        return Some(if e.outcome == Outcome::Failure {
            Tactic::CredentialAccess
        } else {
            Tactic::InitialAccess
        });
    }
    let op = ctx.s(e.operation).to_ascii_lowercase();
    Some(match op.as_str() {
        "mailitemsaccessed" | "searchqueryinitiatedexchange" | "messagebind" | "folderbind" => {
            Tactic::Collection
        }
        "send" | "sendas" | "sendonbehalf" => Tactic::Impact,
        "harddelete" | "softdelete" | "movetodeleteditems" => Tactic::DefenseEvasion,
        o if o.contains("inboxrule") => Tactic::Persistence,
        "set-mailbox" => Tactic::Exfiltration,
        "consent to application" | "add delegated permission grant" | "add service principal" => {
            Tactic::Persistence
        }
        "update user" => Tactic::Persistence,
        "mailboxlogin" => Tactic::InitialAccess,
        _ => return None,
    })
}

//! Inbox rules: forwarding (A1, A2), hiding (B1–B5) and each rule's lifecycle (§2.15).
//!
//! A rule reaches the logs two ways. Created in OWA or PowerShell it is a cmdlet record
//! (`New-InboxRule`, `Set-InboxRule`, `Enable-/Disable-/Remove-InboxRule`) whose `Parameters` are
//! the rule; `Set`/`Enable`/`Disable`/`Remove` name the rule by `Identity` (`mailbox\Rule`) or by
//! `ObjectId` (`…/<mailbox>\Rule`). Created in Outlook desktop, over MAPI or EWS, it is only an
//! `UpdateInboxRules` mailbox-audit record (UAL or `Search-MailboxAuditLog` CSV) whose
//! `OperationProperties` carry `RuleOperation` (Add/Modify/RemoveMailboxRule), `RuleName`,
//! `RuleId`, `RuleState`, `RuleCondition` (text) and `RuleActions` (a JSON string), or the EWS
//! variant `Name`/`IsNew`/`Actions`/`ServerRule` (JSON with `Actions[].Recipients[].Values[].Value`).
//! Modify records often have blank bodies and entries without a `Value`.
//!
//! Both are folded into one [`RuleHistory`] per (mailbox, rule name or RuleId): created, changed
//! (with the changed parameters), enabled/disabled and removed. Each state the rule went
//! through is translated to cmdlet-style parameters ([`RuleSpec`]) and scored by [`assess`],
//! which looks at every tell at once (catch-all condition, punctuation-only name, a move to a
//! folder nobody reads, mark-as-read, stop-processing, deletion, external forwarding,
//! finance/security/NDR keywords, a single external sender) and names each reason ([`Tell`]).
//! The findings are then one per rule and behaviour: forwarding outside the tenant (A1 from
//! cmdlets, A2 from Outlook) and hiding (the strongest of B1/B4/B3/B5/B2), each carrying the
//! tells, the lifecycle and whether the rule is still active — so a rule the attacker removed
//! during cleanup is still reported, with when it was removed. The A4 stealth modifiers raise the
//! forwarding finding rather than being findings of their own; a hiding finding is added to a
//! forwarding rule only when it hides specific mail (B1) or uses a folder nobody reads (B3).

use super::finding::{Finding, Rule, Severity, Tactic};
use super::tenant::addresses;
use super::Ctx;
use crate::event::{Bag, Event, Outcome, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Rule id of A1.
pub const FORWARD_EXTERNAL: &str = "inbox-rule-forward-external";
/// Rule id of A2.
pub const FORWARD_CLIENT_SIDE: &str = "inbox-rule-forward-client-side";
/// Rule id of B1.
pub const KEYWORD_DELETE_MOVE: &str = "inbox-rule-keyword-delete-move";
/// Rule id of B2.
pub const HIDE_GENERIC: &str = "inbox-rule-hide-generic";
/// Rule id of B3.
pub const OBSCURE_FOLDER: &str = "inbox-rule-obscure-folder-markread";
/// Rule id of B4.
pub const CATCH_ALL: &str = "inbox-rule-catch-all";
/// Rule id of B5.
pub const OBFUSCATED_NAME: &str = "inbox-rule-obfuscated-name";

/// The rules of this family.
pub static RULES: &[Rule] = &[
    Rule {
        id: FORWARD_EXTERNAL,
        title: "Inbox rule forwards mail outside the organisation",
        severity: Severity::High,
        mitre: &["T1114.003", "T1020", "T1137.005"],
        tactic: Tactic::Exfiltration,
        run: forward_external,
    },
    Rule {
        id: FORWARD_CLIENT_SIDE,
        title: "Outlook/MAPI/EWS inbox rule forwards mail outside the organisation",
        severity: Severity::High,
        mitre: &["T1114.003", "T1020", "T1137.005"],
        tactic: Tactic::Exfiltration,
        run: forward_client_side,
    },
    Rule {
        id: KEYWORD_DELETE_MOVE,
        title: "Inbox rule deletes or hides mail about payments or security",
        severity: Severity::High,
        mitre: &["T1564.008", "T1137.005"],
        tactic: Tactic::DefenseEvasion,
        run: hiding,
    },
    Rule {
        id: CATCH_ALL,
        title: "Inbox rule without condition deletes, hides or forwards all mail",
        severity: Severity::High,
        mitre: &["T1564.008"],
        tactic: Tactic::DefenseEvasion,
        run: hiding,
    },
    Rule {
        id: OBSCURE_FOLDER,
        title: "Inbox rule moves mail to a folder nobody reads",
        severity: Severity::Medium,
        mitre: &["T1564.008"],
        tactic: Tactic::DefenseEvasion,
        run: hiding,
    },
    Rule {
        id: OBFUSCATED_NAME,
        title: "Inbox rule with a punctuation-only or very short name",
        severity: Severity::Medium,
        mitre: &["T1564.008", "T1137.005"],
        tactic: Tactic::DefenseEvasion,
        run: hiding,
    },
    Rule {
        id: HIDE_GENERIC,
        title: "Inbox rule deletes or hides mail",
        severity: Severity::Low,
        mitre: &["T1564.008", "T1114.003"],
        tactic: Tactic::DefenseEvasion,
        run: hiding,
    },
];

// ------------------------------------------------------------------------------------------------
// Vocabulary
// ------------------------------------------------------------------------------------------------

/// Parameters that narrow which mail a rule applies to. A rule with none of them is a catch-all.
const CONDITION_PARAMS: &[&str] = &[
    "From",
    "FromAddressContainsWords",
    "SentTo",
    "RecipientAddressContainsWords",
    "SubjectContainsWords",
    "BodyContainsWords",
    "SubjectOrBodyContainsWords",
    "HeaderContainsWords",
    "MyNameInToOrCcBox",
    "MyNameInToBox",
    "MyNameInCcBox",
    "MyNameNotInToBox",
    "SentOnlyToMe",
    "HasAttachment",
    "HasClassification",
    "FlaggedForAction",
    "MessageTypeMatches",
    "WithImportance",
    "WithSensitivity",
    "WithinSizeRangeMinimum",
    "WithinSizeRangeMaximum",
    "ReceivedAfterDate",
    "ReceivedBeforeDate",
    "FromSubscription",
    // Client-side (UpdateInboxRules) conditions, kept as text.
    "RuleCondition",
];

/// Boolean conditions: `False` means "not a condition".
const BOOL_CONDITIONS: &[&str] = &[
    "MyNameInToOrCcBox",
    "MyNameInToBox",
    "MyNameInCcBox",
    "MyNameNotInToBox",
    "SentOnlyToMe",
    "HasAttachment",
];

/// Conditions whose words are scanned for finance/security/NDR keywords.
const KEYWORD_PARAMS: &[&str] = &[
    "SubjectContainsWords",
    "BodyContainsWords",
    "SubjectOrBodyContainsWords",
    "HeaderContainsWords",
    "FromAddressContainsWords",
    "RuleCondition",
];

/// Forwarding parameters and what they do. Sigma also lists the mailbox names.
const FORWARD_PARAMS: &[(&str, &str)] = &[
    ("ForwardTo", "forward"),
    ("ForwardToRecipients", "forward"),
    ("ForwardingAddress", "forward"),
    ("ForwardingSmtpAddress", "forward"),
    ("ForwardAsAttachmentTo", "forward-as-attachment"),
    ("ForwardAsAttachmentToRecipients", "forward-as-attachment"),
    ("RedirectTo", "redirect"),
    ("RedirectToRecipients", "redirect"),
];

/// Parameters that identify or steer the cmdlet rather than describe the rule.
const NON_CONTENT_PARAMS: &[&str] = &[
    "Identity",
    "Mailbox",
    "Name",
    "Force",
    "AlwaysDeleteOutlookRulesBlob",
    "Confirm",
    "WhatIf",
    "DomainController",
    "ErrorAction",
    "WarningAction",
    "Enabled",
];

/// Synthetic parameter for a client-side forward whose recipients were not recorded.
const FORWARD_UNRECORDED: &str = "ForwardToUnrecordedRecipients";

/// Folders nobody reads, lower-case, in the major Outlook languages. Weight 3: built for hiding.
const HIDDEN_FOLDERS: &[&str] = &[
    // RSS (any folder with the word "rss" also counts).
    "rss feeds",
    "rss subscriptions",
    "rss-feeds",
    "rss-abonnements",
    "flux rss",
    "abonnements rss",
    "fuentes rss",
    "suscripciones rss",
    "rss-abonnementen",
    "feed rss",
    "feeds rss",
    "assinaturas rss",
    "subscrições rss",
    // Conversation History.
    "conversation history",
    "unterhaltungsverlauf",
    "historique des conversations",
    "historial de conversaciones",
    "gespreksgeschiedenis",
    "cronologia conversazioni",
    "histórico de conversas",
    "histórico de conversações",
    // Notes.
    "notes",
    "notizen",
    "notas",
    "notities",
    "note",
];

/// Junk and Deleted Items, lower-case, localised. Weight 2: also used by owners to bin mail.
const BIN_FOLDERS: &[&str] = &[
    "junk email",
    "junk e-mail",
    "junk",
    "junk-e-mail",
    "courrier indésirable",
    "correo no deseado",
    "ongewenste e-mail",
    "posta indesiderata",
    "lixo eletrônico",
    "lixo eletrónico",
    "deleted items",
    "gelöschte elemente",
    "éléments supprimés",
    "elementos eliminados",
    "verwijderde items",
    "posta eliminata",
    "itens excluídos",
    "itens eliminados",
];

/// Archive, lower-case, localised. Weight 1: owners archive too.
const ARCHIVE_FOLDERS: &[&str] = &[
    "archive", "archives", "archiv", "archivo", "archief", "archivio", "arquivo",
];

/// BEC / finance words (catalog B1, Sentinel "Malicious BEC Inbox Rule", plus local languages).
const FINANCE_WORDS: &[&str] = &[
    "invoice",
    "payment",
    "payroll",
    "paycheck",
    "pay slip",
    "payslip",
    "wire",
    "remittance",
    "remit",
    "bank",
    "banking",
    "iban",
    "swift",
    "ach",
    "transfer",
    "funds",
    "deposit",
    "direct deposit",
    "purchase order",
    "po#",
    "pro-forma",
    "proforma",
    "bank statement",
    "bank details",
    "account details",
    "closing",
    "w-2",
    "w2",
    "zahlung",
    "rechnung",
    "überweisung",
    "bankuberweisung",
    "paiement",
    "virement",
    "facture",
    "factura",
    "pago",
    "transferencia",
    "fattura",
    "pagamento",
    "bonifico",
    "betaling",
    "factuur",
    "platnosc",
    "faktura",
];

/// Security-notification words (catalog B1, Elastic and Sentinel "Malicious Inbox Rule").
const SECURITY_WORDS: &[&str] = &[
    "phish",
    "hack",
    "hacked",
    "hijacked",
    "security",
    "alert",
    "suspicious",
    "malware",
    "malicious",
    "virus",
    "fraud",
    "scam",
    "fake",
    "compromise",
    "compromised",
    "unusual",
    "protection",
    "login",
    "log in",
    "sign-in",
    "sign in",
    "reset",
    "password",
    "passcode",
    "mfa",
    "2fa",
    "multi-factor",
    "verification",
    "verify",
    "helpdesk",
    "help desk",
    "do not click",
    "do not open",
    "unauthorized",
    "fatal",
    "sicherheit",
    "passwort",
    "sécurité",
    "mot de passe",
    "seguridad",
    "contraseña",
];

/// Bounce and out-of-office words (C7: the attacker hides the backscatter of a phishing run).
const NDR_WORDS: &[&str] = &[
    "undeliverable",
    "automatic reply",
    "auto-reply",
    "autoreply",
    "auto reply",
    "out of office",
    "delivery status notification",
    "delivery has failed",
    "mail delivery failed",
    "delivery failure",
    "returned mail",
    "unzustellbar",
    "automatische antwort",
    "non remis",
    "réponse automatique",
    "no se puede entregar",
    "respuesta automática",
    "onbestelbaar",
    "automatisch antwoord",
    "non recapitabile",
    "risposta automatica",
    "resposta automática",
];

// ------------------------------------------------------------------------------------------------
// Rule content
// ------------------------------------------------------------------------------------------------

/// One state of a rule, as cmdlet-style parameters. Client-side rules are translated:
/// `RuleCondition` is kept as a condition, `RuleActions`/`ServerRule` become `MoveToFolder`,
/// `DeleteMessage`, `PermanentDelete`, `ForwardTo`, `ForwardAsAttachmentTo`, `RedirectTo`,
/// `MarkAsRead`, `CopyToFolder`; `RuleState … ExitAfterExecution` becomes `StopProcessingRules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSpec {
    /// Lower-cased name → (name as written, value).
    params: BTreeMap<String, (String, String)>,
    /// True when the whole definition was seen (a creation record): only then can the absence of
    /// a condition be trusted.
    pub complete: bool,
}

/// `ExceptIf…` parameters.
fn is_exception(name: &str) -> bool {
    name.len() > 8
        && name
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("exceptif"))
}

fn is_cleared(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v.eq_ignore_ascii_case("$null") || v.eq_ignore_ascii_case("null")
}

fn is_true(value: &str) -> bool {
    let v = value.trim();
    v.eq_ignore_ascii_case("true") || v == "1" || v.eq_ignore_ascii_case("$true")
}

impl RuleSpec {
    /// The value of a parameter (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(&name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }

    /// All parameters (name as written, value), sorted by name.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.values().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Sets a parameter; a blank or `$null` value removes it (that is what `Set-InboxRule
    /// -X $null` does).
    pub fn set(&mut self, name: &str, value: &str) {
        let key = name.trim().to_ascii_lowercase();
        if key.is_empty() {
            return;
        }
        if is_cleared(value) {
            self.params.remove(&key);
        } else {
            self.params
                .insert(key, (name.trim().to_string(), value.trim().to_string()));
        }
    }

    fn remove_where(&mut self, pred: impl Fn(&str) -> bool) {
        self.params.retain(|k, _| !pred(k));
    }

    /// True when the boolean parameter is set to true.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(is_true)
    }

    /// The conditions in force (name, value), sorted.
    pub fn conditions(&self) -> Vec<(&str, &str)> {
        self.params()
            .filter(|(n, v)| {
                let is_bool = BOOL_CONDITIONS.iter().any(|c| c.eq_ignore_ascii_case(n));
                let blank_client = n.eq_ignore_ascii_case("RuleCondition") && is_blank_body(v);
                CONDITION_PARAMS.iter().any(|c| c.eq_ignore_ascii_case(n))
                    && (!is_bool || is_true(v))
                    && !blank_client
            })
            .collect()
    }

    /// The exceptions (`ExceptIf…`).
    pub fn exceptions(&self) -> Vec<(&str, &str)> {
        self.params().filter(|(n, _)| is_exception(n)).collect()
    }

    /// Everything else that is rule content: the actions.
    pub fn actions(&self) -> Vec<(&str, &str)> {
        self.params()
            .filter(|(n, _)| {
                !CONDITION_PARAMS.iter().any(|c| c.eq_ignore_ascii_case(n))
                    && !NON_CONTENT_PARAMS.iter().any(|c| c.eq_ignore_ascii_case(n))
                    && !is_exception(n)
            })
            .collect()
    }

    /// Forwarding targets: (kind, address), deduplicated, in parameter order.
    pub fn forward_targets(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        for (param, kind) in FORWARD_PARAMS {
            if let Some(v) = self.get(param) {
                for a in split_addresses(v) {
                    if !out.iter().any(|(_, x)| *x == a) {
                        out.push((kind, a));
                    }
                }
            }
        }
        out
    }

    /// The folder mail is moved to.
    pub fn move_folder(&self) -> Option<&str> {
        self.get("MoveToFolder")
    }

    fn deletes(&self) -> bool {
        self.flag("DeleteMessage") || self.flag("SoftDeleteMessage")
    }

    fn permanently_deletes(&self) -> bool {
        self.flag("PermanentDelete")
    }

    fn has_action(&self) -> bool {
        self.actions().iter().any(|(n, v)| {
            !n.eq_ignore_ascii_case("StopProcessingRules")
                && !n.eq_ignore_ascii_case("Priority")
                && !n.eq_ignore_ascii_case("DeliverToMailboxAndForward")
                && !v.eq_ignore_ascii_case("false")
        })
    }

    fn to_json(pairs: &[(&str, &str)]) -> Value {
        let mut m = Map::new();
        for (n, v) in pairs {
            m.insert((*n).to_string(), Value::String((*v).to_string()));
        }
        Value::Object(m)
    }
}

/// True for the empty bodies of client-side Modify records (`{}`, `[]`, blank).
fn is_blank_body(v: &str) -> bool {
    let t: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    t.is_empty() || t == "{}" || t == "[]" || t == "{()}" || t.eq_ignore_ascii_case("null")
}

/// Addresses in a parameter value: a JSON array of strings, or `addresses()` forms. Display
/// forms such as `"Peter" <p@x.com>` are reduced to the address.
pub fn split_addresses(value: &str) -> Vec<String> {
    let v = value.trim();
    let mut raw: Vec<String> = Vec::new();
    if v.starts_with('[') {
        if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(v) {
            for it in items {
                if let Value::String(s) = it {
                    raw.extend(addresses(&s));
                }
            }
        }
    }
    if raw.is_empty() {
        raw = addresses(v);
    }
    let mut out: Vec<String> = Vec::new();
    for a in raw {
        let a = clean_address(&a);
        if !a.is_empty() && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// `"peter" <p@x.com>` → `p@x.com`; values without `@` unchanged.
fn clean_address(a: &str) -> String {
    if a.contains('@') {
        if let Some(tok) = a
            .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')'))
            .find(|t| t.contains('@'))
        {
            let t = tok.trim_matches(|c: char| matches!(c, '.' | ',' | ';' | ':'));
            let t = t
                .strip_prefix("smtp:")
                .or_else(|| t.strip_prefix("SMTP:"))
                .unwrap_or(t);
            return t.to_lowercase();
        }
    }
    a.trim().to_lowercase()
}

/// Addresses appearing anywhere in a text (client-side `RuleCondition`).
fn addresses_in_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tok in text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '(' | ')' | '{' | '}' | '[' | ']' | '"' | '\'' | ',' | ';'
            )
    }) {
        if !tok.contains('@') {
            continue;
        }
        let a = clean_address(tok.trim_start_matches('='));
        if a.contains('@') && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Client-side rule bodies
// ------------------------------------------------------------------------------------------------

/// What a client-side `RuleActions` / `ServerRule` / `Actions` text says.
#[derive(Debug, Default)]
struct ClientActions {
    params: Vec<(String, String)>,
    /// The text held a body (so the actions are the rule's complete action list).
    present: bool,
}

fn action_kind(t: &str) -> Option<&'static str> {
    let t = t.to_ascii_lowercase();
    let has = |w: &str| t.contains(w);
    Some(if has("redirect") || has("delegate") {
        "RedirectTo"
    } else if has("forwardasattachment") || has("forward_as_attachment") {
        "ForwardAsAttachmentTo"
    } else if has("forward") {
        "ForwardTo"
    } else if has("permanentdelete") || has("permanent_delete") {
        "PermanentDelete"
    } else if has("delete") {
        "DeleteMessage"
    } else if has("markasread") || has("mark_as_read") || has("markread") {
        "MarkAsRead"
    } else if has("copy") {
        "CopyToFolder"
    } else if has("move") {
        "MoveToFolder"
    } else if has("stopprocessing") {
        "StopProcessingRules"
    } else if has("importance") {
        "MarkImportance"
    } else if has("categor") {
        "ApplyCategory"
    } else {
        return None;
    })
}

/// Collects the string leaves under `v` that look like addresses.
fn collect_addresses(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            for a in addresses_in_text(s) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_addresses(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_addresses(x, out)),
        _ => {}
    }
}

/// A readable folder name under `v` (`FolderName`, `DestinationFolder`, `Path` …), ignoring ids.
fn folder_name(v: &Value) -> Option<String> {
    let Value::Object(m) = v else { return None };
    for (k, val) in m {
        let k = k.to_ascii_lowercase();
        let named = k.contains("folder") || k == "path" || k == "destination";
        if !named || k.ends_with("id") || k.contains("isinthisstore") {
            continue;
        }
        match val {
            Value::String(s) if !looks_like_id(s) && !s.trim().is_empty() => {
                return Some(s.trim().to_string())
            }
            Value::Object(_) => {
                if let Some(n) = folder_name(val) {
                    return Some(n);
                }
            }
            _ => {}
        }
    }
    None
}

/// Store ids are long base64/hex strings without spaces.
fn looks_like_id(s: &str) -> bool {
    let s = s.trim();
    s.len() >= 24 && !s.contains(' ') && !s.contains('\\')
}

fn action_type_of(m: &Map<String, Value>) -> Option<String> {
    m.iter()
        .find(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k == "actiontype" || k == "type" || k == "action"
        })
        .and_then(|(_, v)| match v {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
}

fn forward_flags(m: &Map<String, Value>) -> String {
    m.iter()
        .filter(|(k, _)| k.to_ascii_lowercase().contains("flag"))
        .map(|(_, v)| match v {
            Value::String(s) => s.to_ascii_lowercase(),
            other => other.to_string().to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a JSON action list (`RuleActions`, `ServerRule.Actions`).
fn parse_action_list(v: &Value, out: &mut ClientActions) {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return,
    };
    for item in items {
        let Value::Object(m) = item else { continue };
        let Some(t) = action_type_of(m) else { continue };
        let Some(mut kind) = action_kind(&t) else {
            out.params
                .push((format!("ClientAction:{t}"), "True".into()));
            out.present = true;
            continue;
        };
        if kind == "ForwardTo" {
            let flags = forward_flags(m);
            if flags.contains("attachment") {
                kind = "ForwardAsAttachmentTo";
            } else if flags.contains("preservesender") || flags.contains("donotmunge") {
                kind = "RedirectTo";
            }
        }
        out.present = true;
        match kind {
            "ForwardTo" | "ForwardAsAttachmentTo" | "RedirectTo" => {
                let mut addrs = Vec::new();
                collect_addresses(item, &mut addrs);
                if addrs.is_empty() {
                    out.params.push((FORWARD_UNRECORDED.into(), "True".into()));
                } else {
                    out.params.push((kind.into(), addrs.join(";")));
                }
            }
            "MoveToFolder" | "CopyToFolder" => {
                let f = folder_name(item).unwrap_or_else(|| "(folder id not resolved)".into());
                out.params.push((kind.into(), f));
            }
            _ => out.params.push((kind.into(), "True".into())),
        }
    }
}

/// Reads the EWS `Actions` text (`ForwardToRecipientsAction, MoveToFolderAction`).
fn parse_action_names(text: &str, out: &mut ClientActions) {
    for tok in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let tok = tok.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if tok.is_empty() {
            continue;
        }
        if let Some(kind) = action_kind(tok) {
            out.present = true;
            match kind {
                "ForwardTo" | "ForwardAsAttachmentTo" | "RedirectTo" => {
                    out.params.push((FORWARD_UNRECORDED.into(), "True".into()))
                }
                "MoveToFolder" | "CopyToFolder" => out
                    .params
                    .push((kind.into(), "(folder id not resolved)".into())),
                _ => out.params.push((kind.into(), "True".into())),
            }
        }
    }
}

/// Merges the two sources of client-side actions: explicit recipients win over "unrecorded",
/// resolved folder names over ids.
fn merge_client_actions(a: ClientActions, b: ClientActions) -> ClientActions {
    if !a.present {
        return b;
    }
    if !b.present {
        return a;
    }
    let mut out = a;
    for (n, v) in b.params {
        let known = out.params.iter().any(|(x, _)| x.eq_ignore_ascii_case(&n));
        let fwd_known = n == FORWARD_UNRECORDED
            && out.params.iter().any(|(x, _)| {
                FORWARD_PARAMS
                    .iter()
                    .any(|(p, _)| p.eq_ignore_ascii_case(x))
            });
        if !known && !fwd_known {
            out.params.push((n, v));
        }
    }
    if out.params.iter().any(|(x, _)| {
        FORWARD_PARAMS
            .iter()
            .any(|(p, _)| p.eq_ignore_ascii_case(x))
    }) {
        out.params.retain(|(x, _)| x != FORWARD_UNRECORDED);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Lifecycle
// ------------------------------------------------------------------------------------------------

/// What an event did to a rule.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// New-InboxRule / AddMailboxRule.
    Created,
    /// Set-InboxRule / ModifyMailboxRule.
    Modified,
    /// Enable-InboxRule, or a client-side state change.
    Enabled,
    /// Disable-InboxRule, or a client-side state change.
    Disabled,
    /// Remove-InboxRule / RemoveMailboxRule.
    Removed,
}

impl Change {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Modified => "modified",
            Change::Enabled => "enabled",
            Change::Disabled => "disabled",
            Change::Removed => "removed",
        }
    }
}

/// Where a rule stands at the end of the logs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuleStatus {
    /// Present and enabled (as far as the logs tell).
    Active,
    /// Disabled.
    Disabled,
    /// Removed.
    Removed,
}

impl RuleStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Active => "active",
            RuleStatus::Disabled => "disabled",
            RuleStatus::Removed => "removed",
        }
    }
}

/// One step of a rule's life.
#[derive(Debug, Clone)]
pub struct LifecycleEntry {
    /// What happened.
    pub change: Change,
    /// When.
    pub time: Timestamp,
    /// The operation (`New-InboxRule`, `UpdateInboxRules AddMailboxRule` …).
    pub operation: String,
    /// Client IP.
    pub ip: String,
    /// Actor as written.
    pub actor: String,
    /// True for a client-side (UpdateInboxRules) record.
    pub client_side: bool,
    /// The rule's name at this step.
    pub name: String,
    /// Parameters this step set (`Created`: all; `Modified`: `{old, new}` per changed one).
    pub changes: Map<String, Value>,
    /// The rule's content after this step (creation and modification only).
    pub spec: Option<RuleSpec>,
    /// The events: the record itself, then any twin of it from another export (the same
    /// UpdateInboxRules read from the UAL and from Search-MailboxAuditLog).
    pub events: Vec<u32>,
}

/// The life of one inbox rule of one mailbox.
#[derive(Debug, Clone)]
pub struct RuleHistory {
    /// Mailbox (lower-case UPN, or what the export gives).
    pub mailbox: String,
    /// The latest name.
    pub name: String,
    /// Every name the rule had, in order.
    pub names: Vec<String>,
    /// Client-side RuleId when known.
    pub rule_id: Option<String>,
    /// The steps, in time order.
    pub entries: Vec<LifecycleEntry>,
    /// State at the end of the logs.
    pub status: RuleStatus,
}

impl RuleHistory {
    /// Every event index of the rule's life, in time order.
    pub fn events(&self) -> Vec<u32> {
        self.entries
            .iter()
            .flat_map(|e| e.events.iter().copied())
            .collect()
    }

    /// When it was (last) removed.
    pub fn removed_at(&self) -> Option<Timestamp> {
        if self.status != RuleStatus::Removed {
            return None;
        }
        self.entries
            .iter()
            .rev()
            .find(|e| e.change == Change::Removed)
            .map(|e| e.time)
    }

    /// The lifecycle as JSON: `[{time, operation, change, ip, actor, changes}]`.
    pub fn lifecycle_json(&self) -> Value {
        Value::Array(
            self.entries
                .iter()
                .map(|e| {
                    json!({
                        "time": e.time.to_rfc3339(),
                        "operation": e.operation,
                        "change": e.change.as_str(),
                        "ip": e.ip,
                        "actor": e.actor,
                        "rule_name": e.name,
                        "changes": Value::Object(e.changes.clone()),
                    })
                })
                .collect(),
        )
    }
}

/// What one record says about a rule.
struct Observation {
    change: Change,
    mailbox: String,
    /// The rule as the record identifies it (the old name for a rename).
    name: Option<String>,
    /// New name (Set-InboxRule -Name).
    new_name: Option<String>,
    rule_id: Option<String>,
    client_side: bool,
    operation: String,
    params: Vec<(String, String)>,
    replace_actions: bool,
    replace_conditions: bool,
    complete: bool,
    enabled: Option<bool>,
}

fn after_last_backslash(s: &str) -> &str {
    match s.rfind('\\') {
        Some(i) => &s[i + 1..],
        None => s,
    }
}

/// Raw (untrimmed) value of a prop, so that a rule named " " survives.
fn raw_prop<'e>(ctx: &Ctx<'e>, e: &Event, bag: Bag, name: &str) -> Option<&'e str> {
    e.props()
        .iter()
        .find(|p| p.bag == bag && ctx.s(p.name).trim().eq_ignore_ascii_case(name))
        .map(|p| ctx.s(p.value))
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|v| !v.is_empty()).map(str::to_string)
}

/// The rule a cmdlet record names: `Name` on New-InboxRule, otherwise `Identity` or `ObjectId`
/// after their last `\` (Set-InboxRule's `Name` is the *new* name).
fn cmdlet_rule_name(ctx: &Ctx<'_>, e: &Event, creating: bool) -> Option<String> {
    if creating {
        if let Some(n) = non_empty(raw_prop(ctx, e, Bag::Parameters, "Name")) {
            return Some(n);
        }
    }
    if let Some(id) = raw_prop(ctx, e, Bag::Parameters, "Identity") {
        let r = after_last_backslash(id);
        if !r.is_empty() {
            return Some(r.to_string());
        }
    }
    let oid = ctx.s(e.object);
    if !oid.is_empty() {
        return Some(after_last_backslash(oid).to_string());
    }
    None
}

fn observe_cmdlet(ctx: &Ctx<'_>, e: &Event, op: &str) -> Option<Observation> {
    let change = match op.to_ascii_lowercase().as_str() {
        "new-inboxrule" => Change::Created,
        "set-inboxrule" => Change::Modified,
        "enable-inboxrule" => Change::Enabled,
        "disable-inboxrule" => Change::Disabled,
        "remove-inboxrule" => Change::Removed,
        _ => return None,
    };
    let creating = change == Change::Created;
    let name = cmdlet_rule_name(ctx, e, creating);
    let new_name = if change == Change::Modified {
        non_empty(raw_prop(ctx, e, Bag::Parameters, "Name"))
    } else {
        None
    };
    let mut params = Vec::new();
    let mut enabled = None;
    for p in e.props().iter().filter(|p| p.bag == Bag::Parameters) {
        let n = ctx.s(p.name).trim();
        if n.eq_ignore_ascii_case("Enabled") {
            enabled = Some(is_true(ctx.s(p.value)));
            continue;
        }
        if NON_CONTENT_PARAMS.iter().any(|x| x.eq_ignore_ascii_case(n)) {
            continue;
        }
        params.push((n.to_string(), ctx.s(p.value).to_string()));
    }
    Some(Observation {
        change,
        mailbox: ctx.account(e).to_string(),
        name,
        new_name,
        rule_id: None,
        client_side: false,
        operation: ctx.s(e.operation_raw).to_string(),
        params,
        replace_actions: false,
        replace_conditions: false,
        complete: creating,
        enabled: if change == Change::Created {
            Some(enabled.unwrap_or(true))
        } else {
            enabled
        },
    })
}

fn observe_client(ctx: &Ctx<'_>, e: &Event) -> Option<Observation> {
    let op = |n: &str| raw_prop(ctx, e, Bag::OperationProperties, n).map(str::trim);
    let rule_op = op("RuleOperation").unwrap_or("").to_ascii_lowercase();
    let is_new = op("IsNew").is_some_and(is_true);
    let mut change = if rule_op.contains("remove") || rule_op.contains("delete") {
        Change::Removed
    } else if rule_op.contains("add") || rule_op.contains("create") || is_new {
        Change::Created
    } else {
        Change::Modified
    };
    let name = raw_prop(ctx, e, Bag::OperationProperties, "RuleName")
        .or_else(|| raw_prop(ctx, e, Bag::OperationProperties, "Name"))
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let rule_id = non_empty(op("RuleId"));

    // Actions: RuleActions JSON, ServerRule JSON, Actions names.
    let mut from_rule_actions = ClientActions::default();
    if let Some(ra) = op("RuleActions").filter(|v| !is_blank_body(v)) {
        match serde_json::from_str::<Value>(ra) {
            Ok(v) => parse_action_list(&v, &mut from_rule_actions),
            Err(_) => parse_action_names(ra, &mut from_rule_actions),
        }
    }
    let mut server_condition: Option<Option<String>> = None;
    let mut from_server = ClientActions::default();
    if let Some(sr) = op("ServerRule").filter(|v| !is_blank_body(v)) {
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(sr) {
            for (k, v) in &m {
                let k = k.to_ascii_lowercase();
                if k == "actions" {
                    parse_action_list(v, &mut from_server);
                } else if k == "condition" || k == "conditions" {
                    let text = match v {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    server_condition = Some((!is_blank_body(&text)).then_some(text));
                }
            }
        }
    }
    let mut from_names = ClientActions::default();
    if let Some(a) = op("Actions").filter(|v| !is_blank_body(v)) {
        match serde_json::from_str::<Value>(a) {
            Ok(v @ Value::Array(_)) => parse_action_list(&v, &mut from_names),
            _ => parse_action_names(a, &mut from_names),
        }
    }
    let actions = merge_client_actions(
        merge_client_actions(from_rule_actions, from_server),
        from_names,
    );

    let mut params: Vec<(String, String)> = actions.params.clone();
    let mut replace_conditions = false;
    let condition = op("RuleCondition").filter(|v| !is_blank_body(v));
    if let Some(c) = condition {
        params.push(("RuleCondition".into(), c.to_string()));
        replace_conditions = true;
    } else if let Some(Some(c)) = &server_condition {
        params.push(("RuleCondition".into(), c.clone()));
        replace_conditions = true;
    }
    let mut enabled = None;
    if let Some(state) = op("RuleState").filter(|v| !v.is_empty()) {
        let s = state.to_ascii_lowercase();
        enabled = Some(s.contains("enabled") && !s.contains("disabled"));
        if s.contains("exitafterexecution") {
            params.push(("StopProcessingRules".into(), "True".into()));
        }
    }
    // A Modify record whose only content is the state is an enable/disable.
    if change == Change::Modified && params.is_empty() {
        if let Some(en) = enabled {
            change = if en {
                Change::Enabled
            } else {
                Change::Disabled
            };
        }
    }
    let raw_op = ctx.s(e.operation_raw);
    let operation = if rule_op.is_empty() {
        raw_op.to_string()
    } else {
        format!("{raw_op} {}", op("RuleOperation").unwrap_or(""))
    };
    Some(Observation {
        change,
        mailbox: ctx.account(e).to_string(),
        name,
        new_name: None,
        rule_id,
        client_side: true,
        operation,
        replace_actions: actions.present,
        replace_conditions,
        // The record holds the body (its actions); only then is "no condition" trustworthy.
        complete: change == Change::Created && actions.present,
        params,
        enabled,
    })
}

fn name_key(name: &str) -> String {
    let t = name.trim();
    if t.is_empty() {
        name.to_string()
    } else {
        t.to_lowercase()
    }
}

fn status_after(change: Change, prev: RuleStatus) -> RuleStatus {
    match change {
        Change::Created | Change::Enabled => RuleStatus::Active,
        Change::Disabled => RuleStatus::Disabled,
        Change::Removed => RuleStatus::Removed,
        Change::Modified => {
            if prev == RuleStatus::Removed {
                RuleStatus::Active
            } else {
                prev
            }
        }
    }
}

/// Reconstructs every inbox rule's life from the cmdlet records (`New-`, `Set-`, `Enable-`,
/// `Disable-`, `Remove-InboxRule`) and the client-side `UpdateInboxRules` records of both the UAL
/// and the mailbox-audit export, keyed by (mailbox, rule name) and, for client-side rules, also by
/// `RuleId`; renames (`Set-InboxRule -Name`) keep the history. Failed operations are ignored.
/// Each entry holds the rule's merged content after that step, so a `Set-InboxRule` that turns a
/// benign rule malicious is seen on the merged parameters. Histories are sorted by first event.
pub fn rule_histories(ctx: &Ctx<'_>) -> Vec<RuleHistory> {
    let idx = ctx.ops(&[
        "New-InboxRule",
        "Set-InboxRule",
        "Enable-InboxRule",
        "Disable-InboxRule",
        "Remove-InboxRule",
        "UpdateInboxRules",
    ]);
    let mut hist: Vec<RuleHistory> = Vec::new();
    let mut by_name: HashMap<(String, String), usize> = HashMap::new();
    let mut by_id: HashMap<(String, String), usize> = HashMap::new();
    let mut specs: Vec<Option<RuleSpec>> = Vec::new();

    for i in idx {
        let e = ctx.ev(i);
        if e.outcome == Outcome::Failure {
            continue;
        }
        let op = ctx.s(e.operation);
        let obs = if op.eq_ignore_ascii_case("UpdateInboxRules") {
            observe_client(ctx, e)
        } else {
            observe_cmdlet(ctx, e, op)
        };
        let Some(obs) = obs else { continue };
        if obs.name.is_none() && obs.rule_id.is_none() {
            continue;
        }
        let mailbox = obs.mailbox.to_lowercase();
        let found = obs
            .rule_id
            .as_ref()
            .and_then(|id| by_id.get(&(mailbox.clone(), id.to_ascii_lowercase())))
            .or_else(|| {
                obs.name
                    .as_ref()
                    .and_then(|n| by_name.get(&(mailbox.clone(), name_key(n))))
            })
            .copied();
        let display = obs
            .name
            .clone()
            .or_else(|| obs.rule_id.clone())
            .unwrap_or_default();
        let h = match found {
            Some(h) => h,
            None => {
                hist.push(RuleHistory {
                    mailbox: mailbox.clone(),
                    name: display.clone(),
                    names: vec![display.clone()],
                    rule_id: None,
                    entries: Vec::new(),
                    status: RuleStatus::Active,
                });
                specs.push(None);
                hist.len() - 1
            }
        };
        if let Some(n) = &obs.name {
            by_name.insert((mailbox.clone(), name_key(n)), h);
        }
        if let Some(id) = &obs.rule_id {
            by_id.insert((mailbox.clone(), id.to_ascii_lowercase()), h);
            hist[h].rule_id.get_or_insert_with(|| id.clone());
        }
        if let Some(n) = &obs.name {
            if hist[h].name != *n && !n.is_empty() {
                hist[h].name = n.clone();
                if !hist[h].names.contains(n) {
                    hist[h].names.push(n.clone());
                }
            }
        }

        // The same record from a second export: keep it as evidence only.
        let sec = e.time.0.div_euclid(1_000_000);
        if let Some(twin) = hist[h].entries.iter_mut().rev().find(|x| {
            x.change == obs.change
                && x.time.0.div_euclid(1_000_000) == sec
                && x.events
                    .first()
                    .is_some_and(|&j| ctx.ev(j).source != e.source)
        }) {
            twin.events.push(i);
            continue;
        }

        let prev = specs[h].clone();
        let mut changes = Map::new();
        let spec_after = match obs.change {
            Change::Created => {
                let mut s = RuleSpec {
                    complete: obs.complete,
                    ..RuleSpec::default()
                };
                for (n, v) in &obs.params {
                    s.set(n, v);
                }
                for (n, v) in s.params() {
                    changes.insert(n.to_string(), Value::String(v.to_string()));
                }
                Some(s)
            }
            Change::Modified => {
                let mut s = prev.clone().unwrap_or_default();
                if obs.replace_actions {
                    s.remove_where(|k| {
                        !CONDITION_PARAMS.iter().any(|c| c.eq_ignore_ascii_case(k))
                            && !is_exception(k)
                    });
                }
                if obs.replace_conditions {
                    s.remove_where(|k| CONDITION_PARAMS.iter().any(|c| c.eq_ignore_ascii_case(k)));
                }
                for (n, v) in &obs.params {
                    s.set(n, v);
                }
                let before = prev.clone().unwrap_or_default();
                let keys: BTreeSet<String> = before
                    .params
                    .keys()
                    .chain(s.params.keys())
                    .cloned()
                    .collect();
                for k in keys {
                    let old = before.params.get(&k);
                    let new = s.params.get(&k);
                    if old.map(|x| &x.1) != new.map(|x| &x.1) {
                        let label = new.or(old).map(|x| x.0.clone()).unwrap_or(k);
                        changes.insert(
                            label,
                            json!({
                                "old": old.map(|x| x.1.clone()),
                                "new": new.map(|x| x.1.clone()),
                            }),
                        );
                    }
                }
                if let Some(nn) = &obs.new_name {
                    changes.insert(
                        "Name".into(),
                        json!({"old": hist[h].name.clone(), "new": nn.clone()}),
                    );
                }
                Some(s)
            }
            Change::Enabled | Change::Disabled | Change::Removed => None,
        };
        if let Some(en) = obs.enabled {
            if obs.change == Change::Modified {
                changes.insert("Enabled".into(), Value::Bool(en));
            }
        }
        // Outlook re-syncs rewrite unchanged rules hundreds of times: a client-side Modify that
        // changes nothing is not a step of the rule's life.
        if obs.client_side && obs.change == Change::Modified && changes.is_empty() {
            continue;
        }
        if let Some(nn) = &obs.new_name {
            by_name.insert((mailbox.clone(), name_key(nn)), h);
            hist[h].name = nn.clone();
            if !hist[h].names.contains(nn) {
                hist[h].names.push(nn.clone());
            }
        }
        let mut status = status_after(obs.change, hist[h].status);
        if obs.change == Change::Modified || obs.change == Change::Created {
            if let Some(en) = obs.enabled {
                status = if en {
                    RuleStatus::Active
                } else {
                    RuleStatus::Disabled
                };
            }
        }
        hist[h].status = status;
        if spec_after.is_some() {
            specs[h] = spec_after.clone();
        }
        let entry_name = hist[h].name.clone();
        hist[h].entries.push(LifecycleEntry {
            change: obs.change,
            time: e.time,
            operation: obs.operation,
            ip: ctx.s(e.ip).to_string(),
            actor: ctx.s(e.actor).to_string(),
            client_side: obs.client_side,
            name: entry_name,
            changes,
            spec: spec_after,
            events: vec![i],
        });
    }
    hist.retain(|h| !h.entries.is_empty());
    hist.sort_by(|a, b| {
        let ka = a.entries.first().map(|e| (e.time, e.events[0]));
        let kb = b.entries.first().map(|e| (e.time, e.events[0]));
        (ka, &a.mailbox, &a.name).cmp(&(kb, &b.mailbox, &b.name))
    });
    hist
}

// ------------------------------------------------------------------------------------------------
// Assessment
// ------------------------------------------------------------------------------------------------

/// One named reason a rule looks malicious.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tell {
    /// Stable code (`catch-all`, `obfuscated-name`, `obscure-folder`, `mark-as-read`,
    /// `stop-processing`, `delete`, `permanent-delete`, `forward-external`,
    /// `forward-unrecorded-recipients`, `multiple-external-targets`, `deliver-to-mailbox-false`,
    /// `finance-keywords`, `security-keywords`, `ndr-oof-keywords`, `single-external-sender`,
    /// `null-body-trigger`).
    pub code: &'static str,
    /// Points it adds.
    pub weight: u32,
    /// True when it is about hiding mail (counts towards the hiding score).
    pub hiding: bool,
    /// The specifics.
    pub detail: String,
}

/// Every tell of one rule state, scored together.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// The tells, in a fixed order.
    pub tells: Vec<Tell>,
    /// Sum of all weights.
    pub score: u32,
    /// Sum of the hiding tells' weights.
    pub hiding_score: u32,
    /// External forwarding targets.
    pub external_targets: Vec<String>,
    /// Internal forwarding targets.
    pub internal_targets: Vec<String>,
    /// Keywords found in the conditions (whether or not they counted).
    pub keywords: Vec<String>,
    /// Client-side forward whose recipients were not recorded.
    pub forward_unrecorded: bool,
}

/// Codes of the tells that hide mail from the owner (A4's "and hides" part).
const HIDING_ACTIONS: &[&str] = &[
    "delete",
    "permanent-delete",
    "mark-as-read",
    "obscure-folder",
];
/// Codes that make a hiding rule worth reporting on their own.
const PRIMARY: &[&str] = &[
    "catch-all",
    "null-body-trigger",
    "obfuscated-name",
    "obscure-folder",
    "delete",
    "permanent-delete",
    "finance-keywords",
    "security-keywords",
    "ndr-oof-keywords",
];

impl Assessment {
    /// True when a tell with this code is present.
    pub fn has(&self, code: &str) -> bool {
        self.tells.iter().any(|t| t.code == code)
    }

    fn counted_keywords(&self) -> bool {
        self.tells
            .iter()
            .any(|t| t.code.ends_with("-keywords") && t.hiding && t.weight > 0)
    }

    /// The tells as JSON.
    pub fn tells_json(&self) -> Value {
        Value::Array(
            self.tells
                .iter()
                .map(|t| json!({"tell": t.code, "weight": t.weight, "detail": t.detail}))
                .collect(),
        )
    }

    /// Severity of the forwarding behaviour: `None` when the rule does not forward outside the
    /// tenant (or to recipients the record does not show). Returns (severity, reason, A4
    /// modifiers present).
    pub fn forward_verdict(&self) -> Option<(Severity, String, Vec<&'static str>)> {
        let external = !self.external_targets.is_empty();
        if !external && !self.forward_unrecorded {
            return None;
        }
        let hiding: Vec<&'static str> = self
            .tells
            .iter()
            .filter(|t| HIDING_ACTIONS.contains(&t.code))
            .map(|t| t.code)
            .collect();
        let other: Vec<&'static str> = self
            .tells
            .iter()
            .filter(|t| {
                matches!(
                    t.code,
                    "stop-processing"
                        | "catch-all"
                        | "null-body-trigger"
                        | "multiple-external-targets"
                        | "deliver-to-mailbox-false"
                        | "obfuscated-name"
                        | "finance-keywords"
                        | "security-keywords"
                        | "ndr-oof-keywords"
                )
            })
            .map(|t| t.code)
            .collect();
        let mut modifiers = hiding.clone();
        modifiers.extend(other.iter().copied());
        let (sev, reason) = if external {
            if !hiding.is_empty() {
                (
                    Severity::Critical,
                    format!(
                        "forwards outside the organisation and hides the mail ({}); other modifiers: {}",
                        hiding.join(", "),
                        if other.is_empty() { "none".to_string() } else { other.join(", ") }
                    ),
                )
            } else if other.len() >= 2 {
                (
                    Severity::Critical,
                    format!(
                        "forwards outside the organisation with several stealth modifiers ({})",
                        other.join(", ")
                    ),
                )
            } else if let Some(m) = other.first() {
                (
                    Severity::High,
                    format!("forwards outside the organisation; stealth modifier: {m}"),
                )
            } else {
                (
                    Severity::High,
                    "forwards outside the organisation (no stealth modifier)".to_string(),
                )
            }
        } else if !hiding.is_empty() {
            (
                Severity::High,
                format!(
                    "Outlook rule forwards to recipients the record does not show and hides the mail ({})",
                    hiding.join(", ")
                ),
            )
        } else {
            (
                Severity::Medium,
                "Outlook rule forwards to recipients the record does not show".to_string(),
            )
        };
        Some((sev, reason, modifiers))
    }

    /// The hiding verdict: (rule id, severity, reason), or `None` for an everyday rule (no
    /// primary tell, e.g. one sender filed into a named folder).
    pub fn hiding_verdict(&self) -> Option<(&'static str, Severity, String)> {
        if !self
            .tells
            .iter()
            .any(|t| t.hiding && PRIMARY.contains(&t.code))
        {
            return None;
        }
        let id = if self.counted_keywords() {
            KEYWORD_DELETE_MOVE
        } else if self.has("catch-all") || self.has("null-body-trigger") {
            CATCH_ALL
        } else if self.has("obscure-folder") {
            OBSCURE_FOLDER
        } else if self.has("obfuscated-name") {
            OBFUSCATED_NAME
        } else {
            HIDE_GENERIC
        };
        let codes: Vec<&str> = self
            .tells
            .iter()
            .filter(|t| t.hiding)
            .map(|t| t.code)
            .collect();
        let finance_or_security = self
            .tells
            .iter()
            .any(|t| (t.code == "finance-keywords" || t.code == "security-keywords") && t.hiding);
        let s = self.hiding_score;
        let sev = if self.has("obfuscated-name") && finance_or_security {
            Severity::Critical
        } else if s >= 5 {
            Severity::High
        } else if s >= 3 {
            Severity::Medium
        } else if s >= 2 {
            Severity::Low
        } else {
            Severity::Info
        };
        let reason = if sev == Severity::Critical {
            format!(
                "obfuscated rule name hiding finance/security mail (score {s}: {})",
                codes.join(", ")
            )
        } else {
            format!("hiding score {s} from {}", codes.join(", "))
        };
        Some((id, sev, reason))
    }
}

/// Normalised folder: text after `mailbox:\`, without leading/trailing `\`/`/`, lower-case.
fn folder_norm(v: &str) -> String {
    let v = v.trim();
    let after = match v.find(":\\") {
        Some(i) => &v[i + 2..],
        None => v,
    };
    after
        .trim_matches(|c: char| c == '\\' || c == '/' || c.is_whitespace())
        .to_lowercase()
}

/// How hidden a folder is: 3 (RSS, Conversation History, Notes), 2 (Junk, Deleted Items),
/// 1 (Archive), 0 (an ordinary folder). Compares the whole path and its last component.
pub fn folder_obscurity(folder: &str) -> u32 {
    let full = folder_norm(folder);
    let leaf = full
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(&full)
        .trim()
        .to_string();
    let is = |list: &[&str]| list.iter().any(|f| *f == full || *f == leaf);
    let rss = leaf
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "rss");
    if rss || is(HIDDEN_FOLDERS) {
        3
    } else if is(BIN_FOLDERS) {
        2
    } else if is(ARCHIVE_FOLDERS) {
        1
    } else {
        0
    }
}

/// True when `kw` occurs in `hay` at word boundaries (plural and -ing/-ed forms allowed).
fn has_word(hay: &str, kw: &str) -> bool {
    let mut start = 0;
    while let Some(pos) = hay[start..].find(kw) {
        let a = start + pos;
        let b = a + kw.len();
        let before_ok = hay[..a]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let rest = &hay[b..];
        let after_ok = ["", "s", "es", "ing", "ed", "d"].iter().any(|suf| {
            rest.starts_with(suf)
                && rest[suf.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric())
        });
        if before_ok && after_ok {
            return true;
        }
        start = a + kw.chars().next().map_or(1, char::len_utf8);
    }
    false
}

fn find_words(hay: &str, list: &[&str]) -> Vec<String> {
    list.iter()
        .filter(|w| has_word(hay, w))
        .map(|w| w.to_string())
        .collect()
}

/// True for `.`, `..`, `-`, ` `, punctuation-only names and names of one or two characters.
pub fn is_obfuscated_name(name: &str) -> bool {
    name_obscurity(name) > 0
}

/// 3 for a name of only punctuation or white space, 2 for one or two letters or digits (`HR`
/// is also an honest name), 0 otherwise.
fn name_obscurity(name: &str) -> u32 {
    if name.is_empty() {
        return 0;
    }
    let t = name.trim();
    if t.is_empty() || t.chars().all(|c| !c.is_alphanumeric()) {
        3
    } else if t.chars().count() <= 2 {
        2
    } else {
        0
    }
}

/// Scores every tell of a rule state together. `name` is the rule's name at that state.
pub fn assess(ctx: &Ctx<'_>, name: &str, spec: &RuleSpec) -> Assessment {
    let mut a = Assessment::default();
    let mut tells: Vec<Tell> = Vec::new();
    let mut add = |code, weight, hiding, detail: String| {
        tells.push(Tell {
            code,
            weight,
            hiding,
            detail,
        })
    };

    // Forwarding.
    for (_, addr) in spec.forward_targets() {
        if ctx.tenant.is_external(&addr) {
            a.external_targets.push(addr);
        } else {
            a.internal_targets.push(addr);
        }
    }
    a.forward_unrecorded = spec.flag(FORWARD_UNRECORDED) && a.external_targets.is_empty();
    let fwd_ext = !a.external_targets.is_empty();
    if fwd_ext {
        add("forward-external", 4, false, a.external_targets.join(", "));
        if a.external_targets.len() > 1 {
            add(
                "multiple-external-targets",
                1,
                false,
                format!("{} external targets", a.external_targets.len()),
            );
        }
    }
    if a.forward_unrecorded {
        add(
            "forward-unrecorded-recipients",
            2,
            false,
            "client-side forward action without recorded recipients".into(),
        );
    }
    if (fwd_ext || a.forward_unrecorded)
        && spec
            .get("DeliverToMailboxAndForward")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    {
        add(
            "deliver-to-mailbox-false",
            1,
            false,
            "DeliverToMailboxAndForward=False".into(),
        );
    }

    // Hiding actions.
    let folder = spec.move_folder().map(str::to_string);
    let obscurity = folder.as_deref().map_or(0, folder_obscurity);
    if let Some(f) = &folder {
        if obscurity > 0 {
            add("obscure-folder", obscurity, true, f.clone());
        }
    }
    let perm = spec.permanently_deletes();
    let del = spec.deletes();
    if perm {
        add("permanent-delete", 3, true, "PermanentDelete".into());
    } else if del {
        add("delete", 2, true, "DeleteMessage".into());
    }
    let read = spec.flag("MarkAsRead");
    if read {
        add("mark-as-read", 1, true, "MarkAsRead".into());
    }
    if spec.flag("StopProcessingRules") {
        add("stop-processing", 1, true, "StopProcessingRules".into());
    }

    // Conditions.
    let conditions = spec.conditions();
    let hides = del || perm || obscurity > 0;
    if spec.complete && conditions.is_empty() && (spec.has_action() || fwd_ext) {
        let strong = hides || read || fwd_ext;
        add(
            "catch-all",
            if strong { 3 } else { 2 },
            true,
            "no condition: applies to every message".into(),
        );
    }
    if spec
        .get("BodyContainsWords")
        .is_some_and(|v| v.contains('\u{0}'))
    {
        add(
            "null-body-trigger",
            3,
            true,
            "BodyContainsWords is a NUL character (matches everything)".into(),
        );
    }
    let mut hay = String::new();
    for p in KEYWORD_PARAMS {
        if let Some(v) = spec.get(p) {
            // Addresses would match "bank" in bank domains: drop them.
            for tok in v.split_whitespace().filter(|t| !t.contains('@')) {
                hay.push_str(&tok.to_lowercase());
                hay.push(' ');
            }
            hay.push_str(" ; ");
        }
    }
    let mut first_kw = true;
    for (code, list) in [
        ("finance-keywords", FINANCE_WORDS),
        ("security-keywords", SECURITY_WORDS),
        ("ndr-oof-keywords", NDR_WORDS),
    ] {
        let found = find_words(&hay, list);
        if found.is_empty() {
            continue;
        }
        a.keywords.extend(found.iter().cloned());
        if hides || fwd_ext {
            let weight = if !hides {
                0
            } else if first_kw {
                3
            } else {
                1
            };
            if hides {
                first_kw = false;
            }
            add(code, weight, hides, found.join(", "));
        }
    }
    // One external sender filed somewhere unread: the finance-contact pattern.
    if obscurity > 0 || read {
        let mut senders: Vec<String> = Vec::new();
        for p in ["From", "FromAddressContainsWords"] {
            if let Some(v) = spec.get(p) {
                senders.extend(split_addresses(v).into_iter().filter(|s| s.contains('@')));
            }
        }
        if let Some(c) = spec.get("RuleCondition") {
            senders.extend(addresses_in_text(c));
        }
        senders.sort();
        senders.dedup();
        if senders.len() == 1 && ctx.tenant.is_external(&senders[0]) {
            add("single-external-sender", 1, true, senders[0].clone());
        }
    }
    let obscure_name = name_obscurity(name);
    if obscure_name > 0 {
        add("obfuscated-name", obscure_name, true, format!("{name:?}"));
    }

    a.score = tells.iter().map(|t| t.weight).sum();
    a.hiding_score = tells.iter().filter(|t| t.hiding).map(|t| t.weight).sum();
    a.keywords.sort();
    a.keywords.dedup();
    a.tells = tells;
    a
}

// ------------------------------------------------------------------------------------------------
// Findings
// ------------------------------------------------------------------------------------------------

/// The rule state that scores worst for `pick`, with its assessment.
fn peak<'h, T: Ord>(
    ctx: &Ctx<'_>,
    h: &'h RuleHistory,
    pick: impl Fn(&Assessment) -> Option<T>,
) -> Option<(&'h LifecycleEntry, Assessment, T)> {
    let mut best: Option<(&LifecycleEntry, Assessment, T)> = None;
    for entry in &h.entries {
        let Some(spec) = &entry.spec else { continue };
        let a = assess(ctx, &entry.name, spec);
        let Some(k) = pick(&a) else { continue };
        let better = match &best {
            None => true,
            Some((_, _, bk)) => k > *bk,
        };
        if better {
            best = Some((entry, a, k));
        }
    }
    best
}

fn phrase_actions(spec: &RuleSpec, a: &Assessment) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (kind, addr) in spec.forward_targets() {
        let verb = match kind {
            "redirect" => "redirects",
            "forward-as-attachment" => "forwards as attachment",
            _ => "forwards",
        };
        if a.external_targets.contains(&addr) {
            parts.push(format!("{verb} to {addr}"));
        }
    }
    if a.forward_unrecorded {
        parts.push("forwards to unrecorded recipients".into());
    }
    if let Some(f) = spec.move_folder() {
        parts.push(format!("moves mail to {f:?}"));
    }
    if spec.permanently_deletes() {
        parts.push("permanently deletes mail".into());
    } else if spec.deletes() {
        parts.push("deletes mail".into());
    }
    if spec.flag("MarkAsRead") {
        parts.push("marks it read".into());
    }
    if parts.is_empty() {
        parts.push("acts on mail".into());
    }
    parts.join(", ")
}

fn phrase_condition(spec: &RuleSpec, a: &Assessment) -> String {
    if a.has("catch-all") {
        return "for every incoming message (no condition)".into();
    }
    let mut s = String::new();
    let from = spec
        .get("From")
        .map(|v| split_addresses(v).join(", "))
        .or_else(|| {
            a.tells
                .iter()
                .find(|t| t.code == "single-external-sender")
                .map(|t| t.detail.clone())
        });
    if let Some(f) = from.filter(|f| !f.is_empty()) {
        s = format!("for mail from {f}");
    }
    if !a.keywords.is_empty() {
        if s.is_empty() {
            s.push_str("for mail");
        }
        s.push_str(&format!(" mentioning {}", a.keywords.join(", ")));
    }
    if s.is_empty() && !spec.conditions().is_empty() {
        s.push_str("for matching mail");
    }
    s
}

fn phrase_state(h: &RuleHistory) -> String {
    match h.status {
        RuleStatus::Removed => format!(
            "; the rule was removed at {}",
            h.removed_at().map(|t| t.to_rfc3339()).unwrap_or_default()
        ),
        RuleStatus::Disabled => "; the rule is disabled".into(),
        RuleStatus::Active => String::new(),
    }
}

fn base_finding(
    rule: &'static Rule,
    h: &RuleHistory,
    entry: &LifecycleEntry,
    a: &Assessment,
    summary: String,
) -> Finding {
    let spec = entry.spec.clone().unwrap_or_default();
    let created_by = h
        .entries
        .iter()
        .find(|e| e.change == Change::Created)
        .map(|e| e.actor.clone());
    let mut f = Finding::new(rule, &h.mailbox, summary)
        .with_events(h.events())
        .detail("mailbox", h.mailbox.clone())
        .detail("rule_name", entry.name.clone())
        .detail("rule_names", h.names.clone())
        .detail("state", h.status.as_str())
        .detail("lifecycle", h.lifecycle_json())
        .detail("tells", a.tells_json())
        .detail("score", a.score)
        .detail("hiding_score", a.hiding_score)
        .detail("conditions", RuleSpec::to_json(&spec.conditions()))
        .detail("actions", RuleSpec::to_json(&spec.actions()))
        .detail("client_side", entry.client_side)
        .detail("assessed_at", entry.time.to_rfc3339())
        .detail("assessed_operation", entry.operation.clone())
        .detail("definition_complete", spec.complete);
    let exc = spec.exceptions();
    if !exc.is_empty() {
        f = f.detail("exceptions", RuleSpec::to_json(&exc));
    }
    if let Some(id) = &h.rule_id {
        f = f.detail("rule_id", id.clone());
    }
    if let Some(t) = h.removed_at() {
        f = f.detail("removed_at", t.to_rfc3339());
    }
    if let Some(c) = created_by {
        f = f.detail("created_by", c);
    }
    if let Some(m) = spec.move_folder() {
        f = f.detail("move_to_folder", m.to_string());
    }
    if !a.keywords.is_empty() {
        f = f.detail("keywords", a.keywords.clone());
    }
    if !a.external_targets.is_empty() {
        f = f.detail("forward_to", a.external_targets.clone());
    }
    if !a.internal_targets.is_empty() {
        f = f.detail("forward_internal", a.internal_targets.clone());
    }
    f
}

fn forward_external(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    forward_findings(ctx, rule, false)
}

fn forward_client_side(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    forward_findings(ctx, rule, true)
}

/// A1 (cmdlet) and A2 (client-side): one finding per rule that ever forwarded outside the
/// tenant, at its worst state. The id follows the record that introduced that state.
fn forward_findings(ctx: &Ctx<'_>, rule: &'static Rule, client: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for h in rule_histories(ctx) {
        let Some((entry, a, (sev, _score))) = peak(ctx, &h, |a| {
            a.forward_verdict().map(|(s, _, _)| (s, a.score))
        }) else {
            continue;
        };
        if entry.client_side != client {
            continue;
        }
        let Some((_, reason, modifiers)) = a.forward_verdict() else {
            continue;
        };
        let spec = entry.spec.clone().unwrap_or_default();
        let cond = phrase_condition(&spec, &a);
        let summary = format!(
            "Inbox rule {:?} on {} {}{}{}",
            entry.name,
            h.mailbox,
            phrase_actions(&spec, &a),
            if cond.is_empty() {
                String::new()
            } else {
                format!(", {cond}")
            },
            phrase_state(&h)
        );
        out.push(
            base_finding(rule, &h, entry, &a, summary)
                .severity(sev)
                .detail("severity_reason", reason)
                .detail("stealth_modifiers", modifiers),
        );
    }
    out
}

/// B1–B5: one finding per rule, under the strongest applicable id, at its worst state. On a rule
/// that also forwards outside the tenant only B1 and B3 are added (the rest are A4 modifiers of
/// the forwarding finding).
fn hiding(ctx: &Ctx<'_>, rule: &'static Rule) -> Vec<Finding> {
    let mut out = Vec::new();
    for h in rule_histories(ctx) {
        let Some((entry, a, (sev, _))) = peak(ctx, &h, |a| {
            a.hiding_verdict().map(|(_, s, _)| (s, a.hiding_score))
        }) else {
            continue;
        };
        let Some((id, _, reason)) = a.hiding_verdict() else {
            continue;
        };
        if id != rule.id {
            continue;
        }
        let forwards = peak(ctx, &h, |a| a.forward_verdict().map(|(s, _, _)| s)).is_some();
        if forwards && id != KEYWORD_DELETE_MOVE && id != OBSCURE_FOLDER {
            continue;
        }
        let spec = entry.spec.clone().unwrap_or_default();
        let cond = phrase_condition(&spec, &a);
        let summary = format!(
            "Inbox rule {:?} on {} {}{}{}",
            entry.name,
            h.mailbox,
            phrase_actions(&spec, &a),
            if cond.is_empty() {
                String::new()
            } else {
                format!(", {cond}")
            },
            phrase_state(&h)
        );
        out.push(
            base_finding(rule, &h, entry, &a, summary)
                .severity(sev)
                .detail("severity_reason", reason)
                .detail("also_forwards_externally", forwards),
        );
    }
    out
}

/// External forwarding destinations of every inbox rule, for cross-user grouping (A5):
/// (destination, mailbox, events of the rule states that forwarded there).
pub fn external_forward_destinations(ctx: &Ctx<'_>) -> Vec<(String, String, Vec<u32>)> {
    let mut out: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for h in rule_histories(ctx) {
        for entry in &h.entries {
            let Some(spec) = &entry.spec else { continue };
            for (_, addr) in spec.forward_targets() {
                if ctx.tenant.is_external(&addr) {
                    out.entry((addr, h.mailbox.clone()))
                        .or_default()
                        .extend(entry.events.iter().copied());
                }
            }
        }
    }
    out.into_iter().map(|((d, m), ev)| (d, m, ev)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::Kit;
    use crate::ingest::mailbox_audit::MailboxAuditCsv;
    use crate::ingest::record::{CsvParser, Header, ParseCtx, Row};

    const ORG: &[&str] = &["corp.example"];

    fn rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).expect("rule id")
    }

    /// A cmdlet record (RecordType 1) with the given Parameters JSON.
    fn cmdlet(id: &str, time: &str, op: &str, user: &str, object: &str, params: &str) -> String {
        format!(
            r#"{{"Id":"{id}","RecordType":1,"CreationTime":"{time}","Operation":"{op}","UserId":"{user}",
            "UserType":0,"Workload":"Exchange","ClientIP":"203.0.113.50:5123","ResultStatus":"True",
            "ObjectId":"{object}","OrganizationName":"corp.onmicrosoft.com","Parameters":{params}}}"#
        )
    }

    /// A client-side UpdateInboxRules record with the given OperationProperties JSON.
    fn update(id: &str, time: &str, owner: &str, props: &str) -> String {
        format!(
            r#"{{"Id":"{id}","RecordType":2,"CreationTime":"{time}","Operation":"UpdateInboxRules",
            "UserId":"{owner}","MailboxOwnerUPN":"{owner}","LogonType":0,"Workload":"Exchange",
            "ClientIPAddress":"198.51.100.7","ClientInfoString":"Client=MSExchangeRPC",
            "ResultStatus":"Succeeded","OperationProperties":{props}}}"#
        )
    }

    /// Adds Search-MailboxAuditLog CSV rows through the real parser.
    fn mailbox_audit(kit: &mut Kit, rows: &[&[(&str, &str)]]) {
        let cols = [
            "Operation",
            "OperationResult",
            "LogonType",
            "ClientIPAddress",
            "MailboxOwnerUPN",
            "LogonUserDisplayName",
            "OperationProperties",
            "LastAccessed",
            "Identity",
        ];
        let header = Header::new(cols);
        let p = MailboxAuditCsv::new(&header).expect("header");
        for (n, cells) in rows.iter().enumerate() {
            let rec = csv::ByteRecord::from(
                cols.iter()
                    .map(|c| cells.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v))
                    .collect::<Vec<_>>(),
            );
            let row = Row::new(&rec, 1000 + n as u64);
            let ctx = ParseCtx {
                interner: &kit.interner,
                file: 0,
            };
            let mut out = Vec::new();
            p.parse_row(&row, &ctx, &mut out).expect("row parses");
            kit.events.extend(out);
        }
    }

    fn only<'f>(findings: &'f [Finding], id: &str) -> Vec<&'f Finding> {
        findings.iter().filter(|f| f.rule == id).collect()
    }

    fn run_all(kit: &Kit) -> Vec<Finding> {
        RULES.iter().flat_map(|r| kit.run(r, ORG)).collect()
    }

    fn tells(f: &Finding) -> Vec<String> {
        f.details["tells"]
            .as_array()
            .expect("tells")
            .iter()
            .map(|t| t["tell"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn a1_forward_external_with_delete_is_critical() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "alice@corp.example",
            "corp.onmicrosoft.com/alice\\\\fwd",
            r#"[{"Name":"Mailbox","Value":"alice@corp.example"},{"Name":"Name","Value":"fwd"},
               {"Name":"ForwardTo","Value":"smtp:drop@evil.example"},{"Name":"DeleteMessage","Value":"True"},
               {"Name":"StopProcessingRules","Value":"True"}]"#,
        ));
        let all = run_all(&k);
        let a1 = only(&all, FORWARD_EXTERNAL);
        assert_eq!(a1.len(), 1, "{all:#?}");
        let f = a1[0];
        assert_eq!(f.account, "alice@corp.example");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.details["forward_to"], json!(["drop@evil.example"]));
        assert_eq!(f.details["state"], "active");
        assert!(f.details["severity_reason"]
            .as_str()
            .unwrap()
            .contains("hides"));
        let t = tells(f);
        for code in ["forward-external", "delete", "stop-processing", "catch-all"] {
            assert!(t.iter().any(|x| x == code), "{code} in {t:?}");
        }
        assert!(!f.evidence.is_empty());
        assert_eq!(f.ips, ["203.0.113.50"]);
        // Catch-all / delete are A4 modifiers here, not separate hiding findings.
        assert!(all.iter().all(|f| f.rule == FORWARD_EXTERNAL), "{all:#?}");
    }

    #[test]
    fn a1_internal_forward_is_not_external() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "alice@corp.example",
            "alice\\\\to assistant",
            r#"[{"Name":"Name","Value":"To assistant"},{"Name":"From","Value":"ceo@corp.example"},
               {"Name":"ForwardTo","Value":"\"Bob\" [SMTP:bob@corp.example]"}]"#,
        ));
        let all = run_all(&k);
        assert!(only(&all, FORWARD_EXTERNAL).is_empty(), "{all:#?}");
        assert!(all.is_empty(), "an everyday internal forward: {all:#?}");
    }

    #[test]
    fn set_inbox_rule_turns_benign_rule_malicious_and_lifecycle_is_kept() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T09:00:00",
            "New-InboxRule",
            "alice@corp.example",
            "alice\\\\Invoices",
            r#"[{"Name":"Name","Value":"Invoices"},{"Name":"From","Value":"billing@vendor.example"},
               {"Name":"MoveToFolder","Value":"alice@corp.example:\\Invoices"}]"#,
        ));
        // Nothing yet: an everyday filing rule.
        assert!(run_all(&k).is_empty());
        k.ual(&cmdlet(
            "r2",
            "2024-03-05T02:10:00",
            "Set-InboxRule",
            "alice@corp.example",
            "corp.onmicrosoft.com/guid\\\\Invoices",
            r#"[{"Name":"Identity","Value":"alice@corp.example\\Invoices"},
               {"Name":"ForwardTo","Value":"billing@vendor-payments.example"}]"#,
        ));
        k.ual(&cmdlet(
            "r3",
            "2024-03-05T04:00:00",
            "Remove-InboxRule",
            "alice@corp.example",
            "corp.onmicrosoft.com/guid\\\\Invoices",
            r#"[{"Name":"Identity","Value":"alice@corp.example\\Invoices"}]"#,
        ));
        let f = k.run(rule(FORWARD_EXTERNAL), ORG);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.details["state"], "removed");
        assert_eq!(f.details["removed_at"], "2024-03-05T04:00:00Z");
        assert!(f.summary.contains("removed"), "{}", f.summary);
        let lc = f.details["lifecycle"].as_array().unwrap();
        let changes: Vec<&str> = lc.iter().map(|x| x["change"].as_str().unwrap()).collect();
        assert_eq!(changes, ["created", "modified", "removed"]);
        assert_eq!(
            lc[1]["changes"]["ForwardTo"]["new"],
            "billing@vendor-payments.example"
        );
        assert_eq!(f.evidence.len(), 3);
        assert_eq!(f.details["assessed_operation"], "Set-InboxRule");
        assert_eq!(f.details["conditions"]["From"], "billing@vendor.example");
    }

    #[test]
    fn a2_client_side_forward_from_ual_and_mailbox_audit() {
        let mut k = Kit::new();
        k.ual(&update(
            "u1",
            "2024-04-02T08:00:00",
            "bob@corp.example",
            r#"[{"Name":"RuleOperation","Value":"AddMailboxRule"},{"Name":"RuleId","Value":"1234"},
               {"Name":"RuleName","Value":"sync"},{"Name":"RuleState","Value":"Enabled"},
               {"Name":"RuleCondition","Value":"{}"},{"Name":"RuleProvider","Value":"RuleOrganizer"},
               {"Name":"RuleActions","Value":"[{\"ActionType\":\"Forward\",\"Recipients\":[\"SMTP:bob.private@mail.example\"]}]"}]"#,
        ));
        // The same record from Search-MailboxAuditLog, and a later removal by RuleId only.
        mailbox_audit(
            &mut k,
            &[
                &[
                    ("Operation", "UpdateInboxRules"),
                    ("OperationResult", "Succeeded"),
                    ("LogonType", "Owner"),
                    ("ClientIPAddress", "198.51.100.7"),
                    ("MailboxOwnerUPN", "bob@corp.example"),
                    ("LogonUserDisplayName", "Bob"),
                    (
                        "OperationProperties",
                        r#"RuleOperation:AddMailboxRule RuleId:1234 RuleName:sync RuleActions:[{"ActionType":"Forward","Recipients":["SMTP:bob.private@mail.example"]}]"#,
                    ),
                    ("LastAccessed", "2024-04-02T08:00:00"),
                    ("Identity", "mba-1"),
                ],
                &[
                    ("Operation", "UpdateInboxRules"),
                    ("OperationResult", "Succeeded"),
                    ("LogonType", "Owner"),
                    ("ClientIPAddress", "198.51.100.7"),
                    ("MailboxOwnerUPN", "bob@corp.example"),
                    ("LogonUserDisplayName", "Bob"),
                    (
                        "OperationProperties",
                        "RuleOperation:RemoveMailboxRule RuleId:1234",
                    ),
                    ("LastAccessed", "2024-04-03T08:00:00"),
                    ("Identity", "mba-2"),
                ],
            ],
        );
        let all = run_all(&k);
        let a2 = only(&all, FORWARD_CLIENT_SIDE);
        assert_eq!(a2.len(), 1, "{all:#?}");
        let f = a2[0];
        assert_eq!(f.account, "bob@corp.example");
        assert_eq!(f.details["forward_to"], json!(["bob.private@mail.example"]));
        assert_eq!(f.details["client_side"], true);
        assert_eq!(f.details["state"], "removed");
        // The UAL record and its CSV twin are one lifecycle step with two evidence records.
        assert_eq!(f.details["lifecycle"].as_array().unwrap().len(), 2);
        assert_eq!(f.evidence.len(), 3);
        // Catch-all (empty condition on a complete Add) is an A4 modifier: critical? No —
        // one non-hiding modifier keeps it high.
        assert_eq!(f.severity, Severity::High);
        assert!(only(&all, FORWARD_EXTERNAL).is_empty());
    }

    #[test]
    fn a2_internal_or_blank_modify_is_not_a_finding() {
        let mut k = Kit::new();
        k.ual(&update(
            "u1",
            "2024-04-02T08:00:00",
            "bob@corp.example",
            r#"[{"Name":"RuleOperation","Value":"AddMailboxRule"},{"Name":"RuleName","Value":"Team"},
               {"Name":"RuleCondition","Value":"{((SenderSearchKey Equal SMTP:CEO@CORP.EXAMPLE))}"},
               {"Name":"RuleActions","Value":"[{\"ActionType\":\"Forward\",\"Recipients\":[\"carol@corp.example\"]}]"}]"#,
        ));
        k.ual(&update(
            "u2",
            "2024-04-02T08:00:01",
            "bob@corp.example",
            r#"[{"Name":"RuleOperation","Value":"ModifyMailboxRule"},{"Name":"RuleName","Value":"Team"},
               {"Name":"RuleState"},{"Name":"RuleCondition","Value":"{}"},{"Name":"RuleActions","Value":"[]"}]"#,
        ));
        let all = run_all(&k);
        assert!(all.is_empty(), "{all:#?}");
        let ctx_hist = {
            let mut events = k.events.clone();
            events.sort_by_key(Event::time_key);
            let tenant = crate::analyze::Tenant::with_domains(ORG);
            let agg = crate::frame::Aggregates::default();
            let ctx = Ctx::new(&k.interner, &events, &[], &tenant, &agg);
            rule_histories(&ctx)
        };
        assert_eq!(ctx_hist.len(), 1);
        let h = &ctx_hist[0];
        // The no-op re-sync is not a lifecycle step.
        assert_eq!(h.entries.len(), 1);
        // The blank Modify did not wipe the body.
        let last = h.entries.last().unwrap().spec.clone().unwrap();
        assert_eq!(last.get("ForwardTo"), Some("carol@corp.example"));
        assert!(last
            .get("RuleCondition")
            .unwrap()
            .contains("CEO@CORP.EXAMPLE"));
    }

    #[test]
    fn client_side_ews_server_rule_recipients() {
        let mut k = Kit::new();
        k.ual(&update(
            "u1",
            "2024-04-02T08:00:00",
            "dan@corp.example",
            r#"[{"Name":"Name","Value":"x"},{"Name":"IsNew","Value":"True"},
               {"Name":"Actions","Value":"RedirectToRecipientsAction"},
               {"Name":"ServerRule","Value":"{\"Condition\":null,\"Actions\":[{\"ActionType\":\"Forward\",\"Flags\":\"PreserveSender, DoNotMungeMessage\",\"Recipients\":[{\"Values\":[{\"Value\":\"SMTP:x@evil.example\"}]}]}]}"}]"#,
        ));
        let f = k.run(rule(FORWARD_CLIENT_SIDE), ORG);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].details["forward_to"], json!(["x@evil.example"]));
        assert_eq!(f[0].details["actions"]["RedirectTo"], "x@evil.example");
        // Short name + catch-all: two A4 modifiers.
        assert_eq!(f[0].severity, Severity::Critical);
    }

    #[test]
    fn b1_keyword_rule_with_obfuscated_name_is_critical() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "carol@corp.example",
            "carol\\\\..",
            r#"[{"Name":"Name","Value":".."},{"Name":"SubjectOrBodyContainsWords","Value":"invoice;payment;wire"},
               {"Name":"MoveToFolder","Value":"\\RSS Subscriptions"},{"Name":"MarkAsRead","Value":"True"}]"#,
        ));
        let all = run_all(&k);
        assert_eq!(all.len(), 1, "{all:#?}");
        let f = &all[0];
        assert_eq!(f.rule, KEYWORD_DELETE_MOVE);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.account, "carol@corp.example");
        assert_eq!(f.details["keywords"], json!(["invoice", "payment", "wire"]));
        let t = tells(f);
        for code in [
            "obscure-folder",
            "mark-as-read",
            "finance-keywords",
            "obfuscated-name",
        ] {
            assert!(t.iter().any(|x| x == code), "{code} in {t:?}");
        }
    }

    #[test]
    fn b1_near_miss_invoices_into_named_folder() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "carol@corp.example",
            "carol\\\\Invoices",
            r#"[{"Name":"Name","Value":"Invoices"},{"Name":"SubjectContainsWords","Value":"invoice"},
               {"Name":"MoveToFolder","Value":"Invoices"},{"Name":"MarkAsRead","Value":"True"}]"#,
        ));
        assert!(run_all(&k).is_empty());
    }

    #[test]
    fn b1_security_words_deleted_is_high() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "carol@corp.example",
            "carol\\\\Cleanup",
            r#"[{"Name":"Name","Value":"Cleanup"},{"Name":"SubjectContainsWords","Value":"phishing;hacked;Undeliverable"},
               {"Name":"DeleteMessage","Value":"True"}]"#,
        ));
        let f = k.run(rule(KEYWORD_DELETE_MOVE), ORG);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        let t = tells(&f[0]);
        assert!(t.contains(&"ndr-oof-keywords".to_string()), "{t:?}");
    }

    #[test]
    fn b2_delete_from_one_sender_is_low_and_category_rule_is_nothing() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "erin@corp.example",
            "erin\\\\Block spam",
            r#"[{"Name":"Name","Value":"Block spam"},{"Name":"From","Value":"promo@shop.example"},
               {"Name":"DeleteMessage","Value":"True"}]"#,
        ));
        k.ual(&cmdlet(
            "r2",
            "2024-03-01T10:01:00",
            "New-InboxRule",
            "erin@corp.example",
            "erin\\\\Boss",
            r#"[{"Name":"Name","Value":"Boss"},{"Name":"From","Value":"boss@corp.example"},
               {"Name":"ApplyCategory","Value":"Red"}]"#,
        ));
        let all = run_all(&k);
        assert_eq!(all.len(), 1, "{all:#?}");
        assert_eq!(all[0].rule, HIDE_GENERIC);
        assert_eq!(all[0].severity, Severity::Low);
        assert_eq!(all[0].details["rule_name"], "Block spam");
    }

    #[test]
    fn b3_single_contact_into_localised_rss_folder() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "frank@corp.example",
            "frank\\\\Jean Dupont",
            r#"[{"Name":"Name","Value":"Jean Dupont"},{"Name":"From","Value":"jean.dupont@supplier.example"},
               {"Name":"MoveToFolder","Value":"frank@corp.example:\\Flux RSS"},{"Name":"MarkAsRead","Value":"True"}]"#,
        ));
        let f = k.run(rule(OBSCURE_FOLDER), ORG);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(
            f[0].details["move_to_folder"],
            "frank@corp.example:\\Flux RSS"
        );
        let t = tells(&f[0]);
        assert!(t.contains(&"single-external-sender".to_string()), "{t:?}");
    }

    #[test]
    fn b3_near_miss_newsletters_folder() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "frank@corp.example",
            "frank\\\\News",
            r#"[{"Name":"Name","Value":"Newsletters"},{"Name":"From","Value":"news@vendor.example"},
               {"Name":"MoveToFolder","Value":"Newsletters"},{"Name":"MarkAsRead","Value":"True"},
               {"Name":"StopProcessingRules","Value":"True"}]"#,
        ));
        assert!(run_all(&k).is_empty());
    }

    #[test]
    fn b4_catch_all_delete_removed_later_is_still_reported() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "gina@corp.example",
            "gina\\\\Clean",
            r#"[{"Name":"Name","Value":"Clean"},{"Name":"DeleteMessage","Value":"True"}]"#,
        ));
        k.ual(&cmdlet(
            "r2",
            "2024-03-02T10:00:00",
            "Disable-InboxRule",
            "gina@corp.example",
            "guid\\\\Clean",
            r#"[{"Name":"Identity","Value":"gina@corp.example\\Clean"}]"#,
        ));
        k.ual(&cmdlet(
            "r3",
            "2024-03-02T11:00:00",
            "Remove-InboxRule",
            "gina@corp.example",
            "guid\\\\Clean",
            r#"[{"Name":"Identity","Value":"gina@corp.example\\Clean"}]"#,
        ));
        let all = run_all(&k);
        assert_eq!(all.len(), 1, "{all:#?}");
        let f = &all[0];
        assert_eq!(f.rule, CATCH_ALL);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.details["state"], "removed");
        assert_eq!(f.evidence.len(), 3);
        let lc = f.details["lifecycle"].as_array().unwrap();
        assert_eq!(lc[1]["change"], "disabled");
    }

    #[test]
    fn b4_near_miss_set_only_rule_is_not_catch_all() {
        // Only a Set-InboxRule is in the logs: its conditions are unknown, so no catch-all.
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "Set-InboxRule",
            "gina@corp.example",
            "guid\\\\Old",
            r#"[{"Name":"Identity","Value":"gina@corp.example\\Old"},{"Name":"DeleteMessage","Value":"True"}]"#,
        ));
        let all = run_all(&k);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].rule, HIDE_GENERIC);
        assert_eq!(all[0].details["definition_complete"], false);
    }

    #[test]
    fn b5_obfuscated_name_and_near_miss() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "hank@corp.example",
            "hank\\\\.",
            r#"[{"Name":"Name","Value":"."},{"Name":"From","Value":"pm@partner.example"},
               {"Name":"MoveToFolder","Value":"Projects"}]"#,
        ));
        k.ual(&cmdlet(
            "r2",
            "2024-03-01T10:05:00",
            "New-InboxRule",
            "hank@corp.example",
            "hank\\\\VIP",
            r#"[{"Name":"Name","Value":"VIP"},{"Name":"From","Value":"pm@partner.example"},
               {"Name":"MoveToFolder","Value":"Projects"}]"#,
        ));
        // Two letters are a weaker tell than punctuation: low.
        k.ual(&cmdlet(
            "r3",
            "2024-03-01T10:06:00",
            "New-InboxRule",
            "hank@corp.example",
            "hank\\\\HR",
            r#"[{"Name":"Name","Value":"HR"},{"Name":"From","Value":"hr@corp.example"},
               {"Name":"MoveToFolder","Value":"HR"}]"#,
        ));
        let all = run_all(&k);
        assert_eq!(all.len(), 2, "{all:#?}");
        assert!(all.iter().all(|f| f.rule == OBFUSCATED_NAME));
        let dot = all.iter().find(|f| f.details["rule_name"] == ".").unwrap();
        assert_eq!(dot.severity, Severity::Medium);
        assert!(
            dot.summary.contains("for mail from pm@partner.example"),
            "{}",
            dot.summary
        );
        let hr = all.iter().find(|f| f.details["rule_name"] == "HR").unwrap();
        assert_eq!(hr.severity, Severity::Low);
    }

    #[test]
    fn rename_and_german_folder_path() {
        let mut k = Kit::new();
        k.ual(&cmdlet(
            "r1",
            "2024-03-01T10:00:00",
            "New-InboxRule",
            "ida@corp.example",
            "ida\\\\Rechnungen",
            r#"[{"Name":"Name","Value":"Rechnungen"},{"Name":"SubjectContainsWords","Value":"Rechnung"},
               {"Name":"MoveToFolder","Value":"Rechnungen"}]"#,
        ));
        k.ual(&cmdlet(
            "r2",
            "2024-03-02T10:00:00",
            "Set-InboxRule",
            "ida@corp.example",
            "guid\\\\Rechnungen",
            r#"[{"Name":"Identity","Value":"ida@corp.example\\Rechnungen"},{"Name":"Name","Value":"-"},
               {"Name":"MoveToFolder","Value":"\\Gelöschte Elemente"}]"#,
        ));
        k.ual(&cmdlet(
            "r3",
            "2024-03-03T10:00:00",
            "Remove-InboxRule",
            "ida@corp.example",
            "guid\\\\-",
            r#"[{"Name":"Identity","Value":"ida@corp.example\\-"}]"#,
        ));
        let all = run_all(&k);
        assert_eq!(all.len(), 1, "{all:#?}");
        let f = &all[0];
        assert_eq!(f.rule, KEYWORD_DELETE_MOVE);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.details["rule_names"], json!(["Rechnungen", "-"]));
        assert_eq!(f.details["state"], "removed");
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn vocabulary() {
        assert_eq!(folder_obscurity("RSS Feeds"), 3);
        assert_eq!(folder_obscurity("\\rss-feeds"), 3);
        assert_eq!(folder_obscurity("a@b.c:\\Historial de conversaciones"), 3);
        assert_eq!(folder_obscurity("Courrier indésirable"), 2);
        assert_eq!(folder_obscurity("\\ÉLÉMENTS SUPPRIMÉS"), 2);
        assert_eq!(folder_obscurity("Archiv"), 1);
        assert_eq!(folder_obscurity("Newsletters"), 0);
        assert_eq!(folder_obscurity("Inbox\\Crossroads"), 0);
        assert!(is_obfuscated_name("."));
        assert!(is_obfuscated_name(" "));
        assert!(is_obfuscated_name("ab"));
        assert!(is_obfuscated_name("..,;"));
        assert!(!is_obfuscated_name("VIP rule"));
        assert!(!is_obfuscated_name(""));
        assert!(has_word("re: invoices due", "invoice"));
        assert!(has_word("phishing test", "phish"));
        assert!(!has_word("each machine", "ach"));
        assert!(!has_word("wireless", "wire"));
        assert_eq!(
            split_addresses(r#"["a@x.example","SMTP:b@y.example"]"#),
            ["a@x.example", "b@y.example"]
        );
        assert_eq!(
            split_addresses("\"Peter\" <Peter@X.example>; c@z.example"),
            ["peter@x.example", "c@z.example"]
        );
        assert_eq!(
            addresses_in_text("{((SenderSearchKey Equal SMTP:HELP@X.COM))}"),
            ["help@x.com"]
        );
    }

    #[test]
    fn failed_operations_do_not_count() {
        let mut k = Kit::new();
        k.ual(
            &cmdlet(
                "r1",
                "2024-03-01T10:00:00",
                "New-InboxRule",
                "alice@corp.example",
                "alice\\\\fwd",
                r#"[{"Name":"Name","Value":"fwd"},{"Name":"ForwardTo","Value":"drop@evil.example"}]"#,
            )
            .replace(r#""ResultStatus":"True""#, r#""ResultStatus":"False""#),
        );
        assert!(run_all(&k).is_empty());
    }
}

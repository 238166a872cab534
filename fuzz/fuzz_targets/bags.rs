//! Name/Value bag flattening, structure-aware: UAL records whose `Parameters`,
//! `ExtendedProperties`, `ModifiedProperties`, `DeviceProperties`, `OperationProperties` (and
//! the nested `AppAccessContext` / `Item` / `Folders` / `Actor` …) take every shape seen or
//! imagined — `{Name, Value}` arrays with odd key case and value types, plain objects,
//! command-line strings, JSON inside strings, scalars, raw (possibly invalid) text — rendered to
//! JSON and parsed by `UalJson` (bare and inside an `AuditData` wrapper, as object and as a
//! string), `AuditData::from_json`, `parse_command_line` and `parse_flat_properties`.
#![no_main]
use fuzz_support::check_events;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mailsleuth::event::Interner;
use mailsleuth::ingest::audit_data::{parse_command_line, AuditData};
use mailsleuth::ingest::mailbox_audit::parse_flat_properties;
use mailsleuth::ingest::record::{JsonParser, ParseCtx};
use mailsleuth::ingest::ual_json::UalJson;

const OPS: &[&str] = &[
    "New-InboxRule",
    "Set-InboxRule",
    "Remove-InboxRule",
    "UpdateInboxRules",
    "Set-Mailbox",
    "Add-MailboxPermission",
    "Add-RecipientPermission",
    "Set-CASMailbox",
    "New-TransportRule",
    "UserLoggedIn",
    "UserLoginFailed",
    "MailItemsAccessed",
    "Send",
    "SendAs",
    "SendOnBehalf",
    "Create",
    "Update",
    "MoveToDeletedItems",
    "SoftDelete",
    "HardDelete",
    "Move",
    "Update user.",
    "Consent to application.",
    "Add app role assignment grant to user.",
    "FileDownloaded",
    "MailboxLogin",
    "ModifyFolderPermissions",
    "AddFolderPermissions",
];
const BAGS: &[&str] = &[
    "Parameters",
    "ExtendedProperties",
    "ModifiedProperties",
    "DeviceProperties",
    "OperationProperties",
    "AppAccessContext",
    "Item",
    "AffectedItems",
    "Folders",
    "Folder",
    "DestFolder",
    "Actor",
    "Target",
    "AuditData",
];
const NAMES: &[&str] = &[
    "Identity",
    "Name",
    "From",
    "ForwardTo",
    "ForwardingSmtpAddress",
    "RedirectTo",
    "DeleteMessage",
    "MoveToFolder",
    "SubjectContainsWords",
    "MarkAsRead",
    "StopProcessingRules",
    "UserAgent",
    "RequestType",
    "ResultStatusDetail",
    "SessionId",
    "RuleName",
    "RuleActions",
    "MailAccessType",
    "IsThrottled",
    "User",
    "AccessRights",
    "Trustee",
    "DeliverToMailboxAndForward",
    "StrongAuthenticationMethod",
    "ConsentAction.Permissions",
    "OS",
    "BrowserType",
    "Path",
    "InternetMessageId",
    "Subject",
    "Id",
    "Type",
    "AADSessionId",
    "UniqueTokenId",
    "ClientAppId",
];
const FIELDS: &[&str] = &[
    "Name", "Value", "NewValue", "OldValue", "Values", "Type", "Id",
];

#[derive(Arbitrary, Debug)]
enum Scalar {
    Str(String),
    Known(u8),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Val {
    Scalar(Scalar),
    Shape(Box<Shape>),
}

#[derive(Arbitrary, Debug)]
struct Key {
    which: u8,
    case: u8,
    other: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum Elem {
    Entry(Vec<(Key, Val)>),
    Scalar(Scalar),
    Nested(Box<Shape>),
}

#[derive(Arbitrary, Debug)]
enum Shape {
    Array(Vec<Elem>),
    Object(Vec<(Key, Val)>),
    CommandLine(Vec<(u8, Option<Scalar>, u8)>),
    Flat(Vec<(u8, String)>),
    JsonInString(Box<Shape>),
    Scalar(Scalar),
}

#[derive(Arbitrary, Debug)]
struct Record {
    op: u8,
    op_text: Option<String>,
    record_type: Scalar,
    creation: Scalar,
    user: Scalar,
    client_ip: Scalar,
    bags: Vec<(u8, u8, Shape)>,
    extra: Vec<(Key, Val)>,
    wrapper: u8,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn cased(s: &str, case: u8) -> String {
    match case % 4 {
        0 => s.to_string(),
        1 => s.to_ascii_lowercase(),
        2 => s.to_ascii_uppercase(),
        _ => {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn key(k: &Key, list: &[&str]) -> String {
    match &k.other {
        Some(o) if k.which >= 200 => quote(o),
        _ => quote(&cased(pick(list, k.which), k.case)),
    }
}

fn scalar(s: &Scalar, out: &mut String) {
    match s {
        Scalar::Str(v) => out.push_str(&quote(v)),
        Scalar::Known(i) => out.push_str(&quote(pick(NAMES, *i))),
        Scalar::Int(i) => out.push_str(&i.to_string()),
        Scalar::Float(f) => out.push_str(&serde_json::Value::from(*f).to_string()),
        Scalar::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Scalar::Null => out.push_str("null"),
        Scalar::Raw(r) => out.push_str(r),
    }
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Str(v) | Scalar::Raw(v) => v.clone(),
        Scalar::Known(i) => pick(NAMES, *i).to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => if *b { "$true" } else { "$false" }.to_string(),
        Scalar::Null => "$null".to_string(),
    }
}

fn val(v: &Val, out: &mut String, depth: u32) {
    match v {
        Val::Scalar(s) => scalar(s, out),
        Val::Shape(sh) => shape(sh, out, depth + 1),
    }
}

fn members(m: &[(Key, Val)], list: &[&str], out: &mut String, depth: u32) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&key(k, list));
        out.push(':');
        val(v, out, depth);
    }
    out.push('}');
}

/// `depth` counts structural nesting in its low bits and JSON-in-string levels from this bit up.
const STRING_LEVEL: u32 = 1 << 8;

fn string_depth(depth: u32) -> u32 {
    depth / STRING_LEVEL
}

fn shape(s: &Shape, out: &mut String, depth: u32) {
    if depth % STRING_LEVEL > 24 {
        out.push_str("null");
        return;
    }
    match s {
        Shape::Array(items) => {
            out.push('[');
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match e {
                    Elem::Entry(m) => members(m, FIELDS, out, depth),
                    Elem::Scalar(sc) => scalar(sc, out),
                    Elem::Nested(sh) => shape(sh, out, depth + 1),
                }
            }
            out.push(']');
        }
        Shape::Object(m) => members(m, NAMES, out, depth),
        Shape::CommandLine(parts) => out.push_str(&quote(&command_line(parts))),
        Shape::Flat(parts) => {
            let text: Vec<String> = parts
                .iter()
                .map(|(n, v)| format!("{}:{v}", pick(NAMES, *n)))
                .collect();
            out.push_str(&quote(&text.join(" ")));
        }
        Shape::JsonInString(inner) => {
            // Each level of JSON-in-a-string doubles the backslashes, so 24 levels render a
            // document of gigabytes (a 130-byte input took 8 s, all of it in the harness's own
            // serde_json escaping). Real exports nest at most twice (AuditData inside a
            // wrapper, a property holding JSON); four levels keep that and stay linear.
            if string_depth(depth) >= 4 {
                out.push_str("null");
                return;
            }
            let mut s = String::new();
            shape(inner, &mut s, depth + STRING_LEVEL);
            out.push_str(&quote(&s));
        }
        Shape::Scalar(sc) => scalar(sc, out),
    }
}

fn command_line(parts: &[(u8, Option<Scalar>, u8)]) -> String {
    let mut s = String::new();
    for (n, v, style) in parts {
        s.push_str(&format!(" -{}", pick(NAMES, *n)));
        if let Some(v) = v {
            let t = scalar_text(v);
            match style % 4 {
                0 => s.push_str(&format!(" {t}")),
                1 => s.push_str(&format!(" \"{t}\"")),
                2 => s.push_str(&format!(" '{t}'")),
                _ => s.push_str(&format!(":{t}")),
            }
        }
    }
    s
}

fn render(r: &Record) -> String {
    let mut out = String::from("{");
    let op = match &r.op_text {
        Some(t) if r.op >= 240 => t.clone(),
        _ => pick(OPS, r.op).to_string(),
    };
    out.push_str(&format!("\"Operation\":{},\"RecordType\":", quote(&op)));
    scalar(&r.record_type, &mut out);
    out.push_str(",\"CreationTime\":");
    match &r.creation {
        Scalar::Known(i) => out.push_str(&format!(
            "\"2026-03-{:02}T08:{:02}:00\"",
            1 + i % 28,
            i % 60
        )),
        other => scalar(other, &mut out),
    }
    out.push_str(
        ",\"Id\":\"0b6ed3a1-0000-4000-8000-000000000001\",\"Workload\":\"Exchange\",\"UserId\":",
    );
    scalar(&r.user, &mut out);
    out.push_str(",\"ClientIP\":");
    scalar(&r.client_ip, &mut out);
    for (b, case, sh) in &r.bags {
        out.push(',');
        out.push_str(&quote(&cased(pick(BAGS, *b), *case)));
        out.push(':');
        shape(sh, &mut out, 0);
    }
    for (k, v) in &r.extra {
        out.push(',');
        out.push_str(&key(k, NAMES));
        out.push(':');
        val(v, &mut out, 0);
    }
    out.push('}');
    out
}

fn parse(interner: &Interner, text: &str) {
    let ctx = ParseCtx { interner, file: 1 };
    let mut events = Vec::new();
    let _ = UalJson::new().parse_record(text, 1, &ctx, &mut events);
    check_events(&events, interner, 1, 1);
}

fuzz_target!(|r: Record| {
    let text = render(&r);
    // The real splitter caps a record at 16 MiB by default; beyond 1 MiB a run only measures
    // serde_json's escaping.
    if text.len() > 1 << 20 {
        return;
    }
    let interner = Interner::new();
    parse(&interner, &text);
    let _ = AuditData::from_json(&text);
    match r.wrapper % 3 {
        0 => {}
        1 => parse(
            &interner,
            &format!("{{\"CreationDate\":\"3/9/2026 8:12:00 AM\",\"Operations\":\"Set-Mailbox\",\"AuditData\":{text}}}"),
        ),
        _ => parse(
            &interner,
            &format!("{{\"CreationDate\":\"\\/Date(1772998927000)\\/\",\"AuditData\":{}}}", quote(&text)),
        ),
    }
    for (_, _, sh) in &r.bags {
        if let Shape::CommandLine(parts) = sh {
            let _ = parse_command_line(&command_line(parts));
        }
        let mut s = String::new();
        shape(sh, &mut s, 0);
        let _ = parse_flat_properties(&s);
        if let Ok(serde_json::Value::String(inner)) = serde_json::from_str::<serde_json::Value>(&s)
        {
            let _ = parse_command_line(&inner);
            let _ = parse_flat_properties(&inner);
        }
    }
});

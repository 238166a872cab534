//! Property tests over small synthetic exports: the same evidence always gives the same
//! findings.json (whatever the file names, copies, order or split of the exports), truncated
//! files never panic and never lose the complete rows before the cut, and attacker-controlled
//! text never acts on the reader's tools (HTML, spreadsheet, terminal, JSON).
//!
//! The exports are built here from a seed (a Purview-style UAL CSV with realistic `AuditData`
//! for a handful of users, including an attacker sequence, plus a few message-trace JSON
//! lines), so every case is reproducible from its seed and payloads alone.

use mailsleuth::analysis::{self, AnalyzeOptions};
use mailsleuth::ingest::{self, source::NoCount, IngestOptions};
use mailsleuth::report::output::OutputDir;
use mailsleuth::report::write::{write_all, ReportOptions};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------------------------
// The synthetic export
// ---------------------------------------------------------------------------------------------

const DOMAIN: &str = "northwind-haulage.example";
const TENANT: &str = "northwindhaulage.onmicrosoft.com";
const ORG_ID: &str = "0c4b7e21-5f38-4d9a-a6e2-7b1d93c05f46";
const ATTACKER_IP: &str = "89.160.20.115";
const OFFICE_IPS: [&str; 2] = ["81.2.69.150", "81.2.69.151"];
const OFFICE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92";
const USERS: [&str; 5] = [
    "amelia.hart",
    "daniel.price",
    "sophie.turner",
    "james.okafor",
    "priya.shah",
];
const UAL_HEADER: &str = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames";

/// The attacker-controlled strings of one case.
#[derive(Clone, Debug)]
struct Payloads {
    rule_name: String,
    subject: String,
    user_agent: String,
    folder: String,
    fwd_local: String,
}

impl Default for Payloads {
    fn default() -> Self {
        Payloads {
            rule_name: "..".into(),
            subject: "RE: Invoice HL-44817 – updated bank details".into(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"
                .into(),
            folder: "RSS Subscriptions".into(),
            fwd_local: "ap.settlements".into(),
        }
    }
}

/// One export set: a UAL CSV (header + one line per row, no raw line breaks inside a row) and
/// message-trace NDJSON lines, with the ids the parsers will give each record.
#[derive(Clone, Debug)]
struct Export {
    ual_rows: Vec<String>,
    ual_ids: Vec<String>,
    trace_lines: Vec<String>,
    /// `MessageTraceId` of each trace line (the record id is `MessageTraceId|recipient`).
    trace_ids: Vec<String>,
}

impl Export {
    fn ual_text(&self, rows: &[String]) -> String {
        let mut s = String::from(UAL_HEADER);
        s.push_str("\r\n");
        for r in rows {
            s.push_str(r);
            s.push_str("\r\n");
        }
        s
    }

    fn ual(&self) -> String {
        self.ual_text(&self.ual_rows)
    }

    fn trace(&self) -> String {
        let mut s = String::new();
        for l in &self.trace_lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
}

/// splitmix64: small, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

type Time = chrono::NaiveDateTime;

fn at(day: u32, h: u32, m: u32, s: u32) -> Time {
    chrono::NaiveDate::from_ymd_opt(2026, 3, 2 + day)
        .and_then(|d| d.and_hms_opt(h, m, s))
        .expect("valid test time")
}

fn upn(user: &str) -> String {
    format!("{user}@{DOMAIN}")
}

fn csv_line(cells: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(cells).expect("csv write");
    let mut s = String::from_utf8(w.into_inner().expect("csv flush")).expect("utf-8");
    s.pop();
    s
}

struct Builder {
    rng: Rng,
    out: Export,
}

impl Builder {
    /// Adds one Purview row; `audit` gets the common AuditData fields.
    fn ual(&mut self, t: Time, record_type: u32, op: &str, user: &str, mut audit: Value) {
        let id = self.rng.uuid();
        let obj = audit.as_object_mut().expect("audit object");
        obj.insert(
            "CreationTime".into(),
            json!(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        );
        obj.insert("Id".into(), json!(id));
        obj.insert("Operation".into(), json!(op));
        obj.insert("OrganizationId".into(), json!(ORG_ID));
        obj.insert("RecordType".into(), json!(record_type));
        obj.insert("UserId".into(), json!(user));
        obj.insert("UserType".into(), json!(0));
        obj.insert("Version".into(), json!(1));
        obj.insert("OrganizationName".into(), json!(TENANT));
        let audit = audit.to_string();
        let date = t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string();
        let rt = record_type.to_string();
        let row = csv_line(&[&id, &date, &rt, op, user, &audit, "", ""]);
        assert!(!row.contains(['\r', '\n']), "a UAL row stays on one line");
        self.out.ual_rows.push(row);
        self.out.ual_ids.push(id);
    }

    fn signin(&mut self, t: Time, user: &str, ip: &str, ua: &str, session: &str, ok: bool) {
        let object_id = self.rng.uuid();
        let inter = self.rng.uuid();
        let intra = self.rng.uuid();
        let mut audit = json!({
            "ResultStatus": "Success",
            "UserKey": object_id,
            "Workload": "AzureActiveDirectory",
            "ClientIP": ip,
            "ObjectId": "00000003-0000-0000-c000-000000000000",
            "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [
                {"Name": "ResultStatusDetail", "Value": "Success"},
                {"Name": "UserAgent", "Value": ua},
                {"Name": "UserAuthenticationMethod", "Value": "1"},
                {"Name": "RequestType", "Value": "Login:login"}
            ],
            "ModifiedProperties": [],
            "Actor": [{"ID": object_id, "Type": 0}, {"ID": user, "Type": 5}],
            "ActorContextId": ORG_ID,
            "ActorIpAddress": ip,
            "InterSystemsId": inter,
            "IntraSystemId": intra,
            "SupportTicketId": "",
            "Target": [{"ID": "00000003-0000-0000-c000-000000000000", "Type": 0}],
            "TargetContextId": ORG_ID,
            "ApplicationId": "4765445b-32c6-49b0-83e6-1d93765276ca",
            "DeviceProperties": [
                {"Name": "OS", "Value": "Windows10"},
                {"Name": "BrowserType", "Value": "Edge"},
                {"Name": "IsCompliantAndManaged", "Value": "False"},
                {"Name": "SessionId", "Value": session}
            ],
            "ErrorNumber": if ok { "0" } else { "50126" },
        });
        if !ok {
            audit["LogonError"] = json!("InvalidUserNameOrPassword");
        }
        let op = if ok {
            "UserLoggedIn"
        } else {
            "UserLoginFailed"
        };
        self.ual(t, 15, op, user, audit);
    }

    /// AuditData fields every Exchange record carries; the token id follows the session.
    fn exchange_common(&mut self, user: &str, ip: &str, session: &str) -> Value {
        let token: String = session.chars().filter(|c| *c != '-').take(22).collect();
        json!({
            "AppAccessContext": {"IssuedAtTime": "2026-03-09T09:06:19", "UniqueTokenId": token},
            "ResultStatus": "Succeeded",
            "UserKey": "100320A47D163009",
            "Workload": "Exchange",
            "ClientIP": ip,
            "ClientIPAddress": ip,
            "ClientInfoString": "Client=OWA;Action=ViaProxy",
            "AppId": "00000002-0000-0ff1-ce00-000000000000",
            "ClientAppId": "",
            "ExternalAccess": false,
            "InternalLogonType": 0,
            "LogonType": 0,
            "MailboxOwnerUPN": user,
            "SessionId": session,
        })
    }

    fn cmdlet(&mut self, t: Time, op: &str, user: &str, ip: &str, session: &str, params: Value) {
        let mut audit = self.exchange_common(user, ip, session);
        audit["ResultStatus"] = json!("True");
        audit["ObjectId"] = json!(format!(
            "GBRP265A005.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/{TENANT}/{}",
            user
        ));
        audit["Parameters"] = params;
        self.ual(t, 1, op, user, audit);
    }

    fn send(&mut self, t: Time, user: &str, ip: &str, session: &str, subject: &str) {
        let mut audit = self.exchange_common(user, ip, session);
        let mid = format!(
            "<{}@LO2P265MB4123.GBRP265.PROD.OUTLOOK.COM>",
            self.rng.uuid()
        );
        audit["Item"] = json!({
            "Id": self.rng.uuid(),
            "InternetMessageId": mid,
            "IsRecord": false,
            "ParentFolder": {"Id": "LgAAAAAawz02", "Name": "Sent Items", "Path": "\\Sent Items"},
            "SizeInBytes": 36904,
            "Subject": subject,
        });
        audit["SaveToSentItems"] = json!(true);
        self.ual(t, 2, "Send", user, audit);
    }

    fn mail_access(&mut self, t: Time, user: &str, ip: &str, session: &str, kind: &str) {
        let mut audit = self.exchange_common(user, ip, session);
        audit["OperationProperties"] = json!([
            {"Name": "MailAccessType", "Value": kind},
            {"Name": "IsThrottled", "Value": "False"}
        ]);
        let mid = format!(
            "<{}@AM9PR08MB7305.eurprd08.prod.outlook.com>",
            self.rng.uuid()
        );
        audit["Folders"] = json!([{
            "FolderItems": [{"InternetMessageId": mid}],
            "Id": "LgAAAAAawz02xNeGbBizfSoBYEwy",
            "Path": "\\Inbox"
        }]);
        audit["OperationCount"] = json!(1);
        self.ual(t, 50, "MailItemsAccessed", user, audit);
    }

    fn trace(&mut self, t: Time, from: &str, to: &str, subject: &str, status: &str, mid: &str) {
        let trace_id = self.rng.uuid();
        let rec = json!({
            "Organization": TENANT,
            "MessageId": mid,
            "Received": t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "SenderAddress": from,
            "RecipientAddress": to,
            "Subject": subject,
            "Status": status,
            "ToIP": null,
            "FromIP": "203.0.113.24",
            "Size": 15813,
            "MessageTraceId": trace_id,
            "StartDate": "2026-03-02T00:00:00Z",
            "EndDate": "2026-03-12T00:00:00Z",
            "Index": self.out.trace_lines.len(),
        });
        self.out.trace_lines.push(rec.to_string());
        self.out.trace_ids.push(trace_id);
    }
}

/// Builds the export of one case: 3–5 users with a week of ordinary office activity, then the
/// attack on the first user (failed sign-ins, success from a new IP, a hiding inbox rule,
/// external forwarding, a fraud mail, mail read), then forwarded mail in the trace. Some
/// records deliberately share a second (real exports do), so tie-breaking is exercised.
fn build(seed: u64, p: &Payloads) -> Export {
    let mut b = Builder {
        rng: Rng(seed),
        out: Export {
            ual_rows: Vec::new(),
            ual_ids: Vec::new(),
            trace_lines: Vec::new(),
            trace_ids: Vec::new(),
        },
    };
    let n_users = 3 + b.rng.below(3) as usize;
    let users: Vec<String> = USERS[..n_users].iter().map(|u| upn(u)).collect();
    let victim = users[0].clone();
    for day in 0..5 {
        for (k, user) in users.iter().enumerate() {
            let ip = OFFICE_IPS[b.rng.below(2) as usize];
            let session = b.rng.uuid();
            let m = b.rng.below(50) as u32;
            // Everyone signs in at 07:00:10 on day 2: equal times across users.
            let t = if day == 2 {
                at(day, 7, 0, 10)
            } else {
                at(day, 7, m, (k as u32 * 7) % 60)
            };
            b.signin(t, user, ip, OFFICE_UA, &session, true);
            let t2 = t + chrono::Duration::minutes(3 + b.rng.below(20) as i64);
            b.mail_access(t2, user, ip, &session, "Bind");
            if b.rng.below(3) == 0 {
                let colleague = &users[(k + 1) % users.len()];
                let t3 = t2 + chrono::Duration::minutes(30);
                b.send(
                    t3,
                    user,
                    ip,
                    &session,
                    &format!("Consignment update for {colleague}"),
                );
            }
        }
    }
    // The attack (day 7 = Monday 9 March).
    let s_att = "7f3c9a1e-2b4d-4e8f-9c61-5a0d8e2f4b17";
    let fails = 3 + b.rng.below(3) as u32;
    for i in 0..fails {
        let bogus = b.rng.uuid();
        b.signin(
            at(7, 9, 2, 41 + i * 4),
            &victim,
            ATTACKER_IP,
            &p.user_agent,
            &bogus,
            false,
        );
    }
    b.signin(
        at(7, 9, 6, 14),
        &victim,
        ATTACKER_IP,
        &p.user_agent,
        s_att,
        true,
    );
    let ip_port = format!("{ATTACKER_IP}:51234");
    b.cmdlet(
        at(7, 9, 14, 7),
        "New-InboxRule",
        &victim,
        &ip_port,
        s_att,
        json!([
            {"Name": "AlwaysDeleteOutlookRulesBlob", "Value": "False"},
            {"Name": "Force", "Value": "False"},
            {"Name": "From", "Value": "accounts@harbor-logistics.example"},
            {"Name": "SubjectOrBodyContainsWords", "Value": "invoice;payment;remittance"},
            {"Name": "MoveToFolder", "Value": p.folder},
            {"Name": "Name", "Value": p.rule_name},
            {"Name": "MarkAsRead", "Value": "True"},
            {"Name": "StopProcessingRules", "Value": "True"}
        ]),
    );
    // Two reads in the same second.
    b.mail_access(at(7, 9, 18, 32), &victim, ATTACKER_IP, s_att, "Bind");
    b.mail_access(at(7, 9, 18, 32), &victim, ATTACKER_IP, s_att, "Bind");
    b.cmdlet(
        at(7, 9, 47, 26),
        "Set-Mailbox",
        &victim,
        &format!("{ATTACKER_IP}:51302"),
        s_att,
        json!([
            {"Name": "Identity", "Value": victim},
            {"Name": "ForwardingSmtpAddress",
             "Value": format!("smtp:{}@mailbox-relay.example", p.fwd_local)},
            {"Name": "DeliverToMailboxAndForward", "Value": "False"}
        ]),
    );
    b.send(at(7, 10, 21, 44), &victim, ATTACKER_IP, s_att, &p.subject);
    // The victim, meanwhile, at the office (same second as the fraud mail).
    let own = b.rng.uuid();
    b.signin(
        at(7, 10, 21, 44),
        &victim,
        OFFICE_IPS[0],
        OFFICE_UA,
        &own,
        true,
    );
    // Forwarded replies, in the trace.
    let relay = format!("{}@mailbox-relay.example", p.fwd_local);
    for i in 0..(2 + b.rng.below(3) as u32) {
        let mid = format!("<{}@harbor-logistics.example>", b.rng.uuid());
        let t = at(7, 13, 52 + i, 8);
        let subject = if i == 0 {
            p.subject.clone()
        } else {
            format!("Remittance {i}")
        };
        let from = "payables@harbor-logistics.example";
        b.trace(t, from, &victim, &subject, "Resolved", &mid);
        b.trace(t, from, &relay, &subject, "Delivered", &mid);
    }
    b.out
}

// ---------------------------------------------------------------------------------------------
// Running the analysis
// ---------------------------------------------------------------------------------------------

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, bytes).expect("write input");
}

/// The outputs of one library run.
struct Outputs {
    findings: Vec<u8>,
    timeline_csv: Vec<u8>,
    timeline_jsonl: Vec<u8>,
    html: Option<Vec<u8>>,
}

/// Analyses `paths` with the library and writes the reports into `out` (under `tmp`).
fn analyse(paths: &[PathBuf], out: &Path) -> Outputs {
    let a = analysis::run(
        paths,
        &IngestOptions::default(),
        &AnalyzeOptions::default(),
        &NoCount,
    )
    .expect("analysis runs");
    let dir = OutputDir::prepare(out, paths, true).expect("output folder");
    write_all(&a, &dir, &ReportOptions::default(), &mut Default::default())
        .expect("reports written");
    let out = dir.commit().expect("commit");
    Outputs {
        findings: fs::read(out.join("findings.json")).expect("findings.json"),
        timeline_csv: fs::read(out.join("timeline.csv")).expect("timeline.csv"),
        timeline_jsonl: fs::read(out.join("timeline.jsonl")).expect("timeline.jsonl"),
        html: fs::read(out.join("report.html")).ok(),
    }
}

fn findings(paths: &[PathBuf], out: &Path) -> Vec<u8> {
    analyse(paths, out).findings
}

/// What may legitimately differ between two layouts of the same evidence.
#[derive(Clone, Copy)]
struct Normalise {
    /// Evidence `file` (the kept copy of a record may come from another file).
    file: bool,
    /// Evidence `line` (rows moved within or between files).
    line: bool,
}

/// findings.json with evidence locations normalised.
///
/// A finding's `id` hashes its first evidence's record id *and file and line*
/// (`Finding::finalize`), so when evidence moves the ids move with it; they are replaced here
/// by `rule|account|first record id` everywhere they occur (findings, accounts, remediation),
/// and the lists ordered by id (findings tie-break on id, `accounts[].finding_ids` are sorted)
/// are re-sorted the way the tool sorts them. Everything else — verdicts, scores, windows,
/// rules, severities, summaries, details, evidence record ids, times and operations — must
/// stay identical.
fn normalised(bytes: &[u8], how: Normalise) -> Value {
    let mut doc: Value = serde_json::from_slice(bytes).expect("findings.json is JSON");
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    if let Some(fs) = doc["findings"].as_array_mut() {
        for f in fs.iter_mut() {
            let first = f["evidence"][0]["record_id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let new_id = format!(
                "{}|{}|{}",
                f["rule"].as_str().unwrap_or(""),
                f["account"].as_str().unwrap_or(""),
                first
            );
            if let Some(old) = f["id"].as_str() {
                ids.insert(old.to_string(), new_id);
            }
            if let Some(ev) = f["evidence"].as_array_mut() {
                for e in ev {
                    if how.file {
                        e["file"] = json!("<file>");
                    }
                    if how.line {
                        e["line"] = json!(0);
                    }
                }
            }
        }
    }
    fn replace(v: &mut Value, ids: &BTreeMap<String, String>) {
        match v {
            Value::String(s) => {
                for (old, new) in ids {
                    if s.contains(old.as_str()) {
                        *s = s.replace(old.as_str(), new);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| replace(x, ids)),
            Value::Object(o) => o.values_mut().for_each(|x| replace(x, ids)),
            _ => {}
        }
    }
    replace(&mut doc, &ids);
    if let Some(fs) = doc["findings"].as_array_mut() {
        let key = |f: &Value| {
            (
                f["first_seen"].to_string(),
                f["rule"].to_string(),
                f["account"].to_string(),
                f["id"].to_string(),
            )
        };
        fs.sort_by_key(key);
    }
    if let Some(accs) = doc["accounts"].as_array_mut() {
        for a in accs {
            if let Some(ids) = a["finding_ids"].as_array_mut() {
                ids.sort_by_key(|v| v.to_string());
            }
        }
    }
    doc
}

fn assert_same_json(a: &Value, b: &Value, what: &str) {
    if a != b {
        let a = serde_json::to_string_pretty(a).unwrap_or_default();
        let b = serde_json::to_string_pretty(b).unwrap_or_default();
        let diff: Vec<String> = a
            .lines()
            .zip(b.lines())
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .take(12)
            .map(|(i, (x, y))| format!("line {i}:\n  - {x}\n  + {y}"))
            .collect();
        panic!("{what}: findings differ\n{}", diff.join("\n"));
    }
}

fn assert_same_bytes(a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let a: Value = serde_json::from_slice(a).unwrap_or(Value::Null);
        let b: Value = serde_json::from_slice(b).unwrap_or(Value::Null);
        assert_same_json(&a, &b, what);
        panic!("{what}: findings.json bytes differ (same JSON value)");
    }
}

/// `cases` per property, or `PROPTEST_CASES` when set (to search deeper by hand).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    // CI must be reproducible: a fixed seed unless PROPTEST_RNG_SEED asks for another (set it,
    // with PROPTEST_CASES, for deeper exploratory runs).
    let rng_seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x6d61_696c_736c);
    ProptestConfig {
        cases,
        // No regression files in the source tree; a failure prints its seed and payloads.
        failure_persistence: None,
        max_shrink_iters: 64,
        rng_seed: proptest::test_runner::RngSeed::Fixed(rng_seed),
        ..ProptestConfig::default()
    }
}

/// A case's seed (users, times, ids).
fn seed() -> impl Strategy<Value = u64> {
    any::<u64>()
}

/// Sanity: the synthetic case is an incident, or the properties below prove little.
#[test]
fn the_synthetic_case_is_found() {
    let tmp = tempfile::tempdir().expect("tmp");
    let e = build(7, &Payloads::default());
    let ual = tmp.path().join("in/ual.csv");
    let trace = tmp.path().join("in/trace.json");
    write(&ual, e.ual());
    write(&trace, e.trace());
    let f = findings(&[ual, trace], &tmp.path().join("out"));
    let doc: Value = serde_json::from_slice(&f).expect("json");
    let victim = upn(USERS[0]);
    let acc = doc["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["account"] == victim.as_str()))
        .expect("victim has a verdict");
    assert_ne!(acc["verdict"], "clean", "{acc:#}");
    let rules: BTreeSet<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    for rule in [
        "password-spray-bruteforce",
        "mailbox-smtp-forwarding",
        "inbox-rule-keyword-delete-move",
    ] {
        assert!(rules.contains(rule), "{rule} not among {rules:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Same files twice, or a file with a copy of itself: same findings.json
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn duplicates_of_the_same_export_do_not_change_findings(seed in seed()) {
        let tmp = tempfile::tempdir().expect("tmp");
        let e = build(seed, &Payloads::default());
        let ual = tmp.path().join("case/b/ual.csv");
        let trace = tmp.path().join("case/b/trace.json");
        write(&ual, e.ual());
        write(&trace, e.trace());
        let once = findings(&[ual.clone(), trace.clone()], &tmp.path().join("out1"));

        // Run to run.
        let again = findings(&[ual.clone(), trace.clone()], &tmp.path().join("out2"));
        assert_same_bytes(&once, &again, "second run");

        // The same paths given twice (and the folder holding them).
        let twice = findings(
            &[ual.clone(), trace.clone(), ual.clone(), tmp.path().join("case/b"), trace.clone()],
            &tmp.path().join("out3"),
        );
        assert_same_bytes(&once, &twice, "same files twice");

        // A copy under another name in a folder that sorts after: the original is visited
        // first and its copy of every record is kept, so the bytes are identical.
        let later = tmp.path().join("case/c/copy-of-ual.csv");
        write(&later, e.ual());
        let later_trace = tmp.path().join("case/c/zz-trace.json");
        write(&later_trace, e.trace());
        let with_later = findings(
            &[later.clone(), ual.clone(), later_trace, trace.clone()],
            &tmp.path().join("out4"),
        );
        assert_same_bytes(&once, &with_later, "copy in a later folder");

        // A copy in a folder that sorts first: that copy's records are kept, so evidence
        // `file` legitimately names the copy (and finding ids, which hash the first evidence's
        // file and line, change with it). Compare with evidence file normalised.
        let earlier = tmp.path().join("case/a/export.csv");
        write(&earlier, e.ual());
        let with_earlier = findings(&[ual, earlier, trace], &tmp.path().join("out5"));
        let how = Normalise { file: true, line: false };
        assert_same_json(
            &normalised(&once, how),
            &normalised(&with_earlier, how),
            "copy in an earlier folder",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Order of input files and of rows within a file
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn order_of_files_and_rows_does_not_change_findings(seed in seed(), order in any::<u64>()) {
        let tmp = tempfile::tempdir().expect("tmp");
        let e = build(seed, &Payloads::default());
        let dir = tmp.path().join("in");
        let ual = dir.join("ual.csv");
        let trace = dir.join("trace.json");
        let extra = dir.join("ual-2.csv");
        // Split off the last third so there are several UAL files to order.
        let cut = e.ual_rows.len() * 2 / 3;
        write(&ual, e.ual_text(&e.ual_rows[..cut]));
        write(&extra, e.ual_text(&e.ual_rows[cut..]));
        write(&trace, e.trace());
        let mut paths = vec![ual.clone(), extra.clone(), trace.clone()];
        let base = findings(&paths, &tmp.path().join("out0"));

        // Command-line order: must be byte-identical.
        let mut rng = Rng(order);
        for k in 0..3 {
            rng.shuffle(&mut paths);
            let got = findings(&paths, &tmp.path().join(format!("out-files-{k}")));
            assert_same_bytes(&base, &got, &format!("file order {paths:?}"));
        }

        // Row order within each file (rewritten in place, so the paths stay the same). The
        // rows' line numbers change, so evidence `line` (and the finding ids that hash it)
        // are normalised; nothing else may change.
        let mut first: Vec<String> = e.ual_rows[..cut].to_vec();
        let mut second: Vec<String> = e.ual_rows[cut..].to_vec();
        let mut lines = e.trace_lines.clone();
        rng.shuffle(&mut first);
        rng.shuffle(&mut second);
        rng.shuffle(&mut lines);
        write(&ual, e.ual_text(&first));
        write(&extra, e.ual_text(&second));
        write(&trace, lines.join("\n") + "\n");
        let got = findings(&paths, &tmp.path().join("out-rows"));
        let how = Normalise { file: false, line: true };
        assert_same_json(&normalised(&base, how), &normalised(&got, how), "row order");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Splitting an export into several files at row boundaries
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn splitting_an_export_does_not_change_findings(
        seed in seed(),
        cuts in prop::collection::vec(0.0f64..1.0, 1..5),
    ) {
        let tmp = tempfile::tempdir().expect("tmp");
        let e = build(seed, &Payloads::default());
        let whole = tmp.path().join("whole");
        write(&whole.join("ual.csv"), e.ual());
        write(&whole.join("trace.json"), e.trace());
        let base = findings(&[whole], &tmp.path().join("out0"));

        let n = e.ual_rows.len();
        let mut bounds: Vec<usize> = cuts.iter().map(|c| (c * n as f64) as usize).collect();
        bounds.push(0);
        bounds.push(n);
        bounds.sort_unstable();
        bounds.dedup();
        let parts = tmp.path().join("parts");
        for (k, w) in bounds.windows(2).enumerate() {
            // Every part keeps the header, as each Purview export page does.
            let rows = &e.ual_rows[w[0]..w[1]];
            write(&parts.join(format!("ual-part{k}.csv")), e.ual_text(rows));
        }
        let t = e.trace_lines.len() / 2;
        write(&parts.join("trace-1.json"), e.trace_lines[..t].join("\n") + "\n");
        write(&parts.join("trace-2.json"), e.trace_lines[t..].join("\n") + "\n");
        let got = findings(&[parts], &tmp.path().join("out1"));
        // Evidence file/line are where the rows now live; verdicts, rules, severities,
        // accounts, windows and evidence record ids must be identical.
        let how = Normalise { file: true, line: true };
        let what = format!("split at {bounds:?}");
        assert_same_json(&normalised(&base, how), &normalised(&got, how), &what);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Truncation at any byte
// ---------------------------------------------------------------------------------------------

/// Where a record's text starts and ends in its file, and its id.
type Span = (usize, usize, String);

/// Ingests one file cut at `cut` and checks that every record whose text ends before the cut
/// was read, and that the record the cut went through is read or reported as skipped, never
/// silently lost.
fn check_truncated(
    path: &Path,
    bytes: &[u8],
    cut: usize,
    rows: &[Span],
    trace: bool,
) -> Result<(), TestCaseError> {
    write(path, &bytes[..cut]);
    let ing = ingest::run(&[path.to_path_buf()], &IngestOptions::default(), &NoCount);
    prop_assert_eq!(ing.files.len(), 1);
    let report = &ing.files[0];
    for g in &report.skip_reasons {
        prop_assert!(
            !g.reason.contains("internal error"),
            "a parser panicked at cut {}: {:?}",
            cut,
            g
        );
    }
    let present: BTreeSet<String> = ing
        .events
        .iter()
        .map(|e| {
            let id = e.record_id.text(&ing.interner);
            if trace {
                id.split('|').next().unwrap_or("").to_string()
            } else {
                id.to_string()
            }
        })
        .collect();
    let all: BTreeSet<&str> = rows.iter().map(|(_, _, id)| id.as_str()).collect();
    let complete: Vec<&str> = rows
        .iter()
        .filter(|(_, end, _)| *end <= cut)
        .map(|(_, _, id)| id.as_str())
        .collect();
    for id in &complete {
        prop_assert!(
            present.contains(*id),
            "record {} complete before the cut at {} of {} bytes was not read; report {:?}",
            id,
            cut,
            bytes.len(),
            report
        );
    }
    for id in &present {
        prop_assert!(all.contains(id.as_str()), "invented record id {}", id);
    }
    let n = complete.len() as u64;
    prop_assert!(
        report.records >= n,
        "cut at {}: {} records kept, {} complete rows",
        cut,
        report.records,
        n
    );
    // At most the one row the cut went through is read beyond the complete ones. (Counted
    // in record ids: a trace line with `;`-joined recipients is one event per recipient.)
    let n_present = present.len() as u64;
    prop_assert!(
        n_present <= n + 1,
        "cut at {}: {} records from {} complete rows",
        cut,
        n_present,
        n
    );
    if let Some((_, _, id)) = rows
        .iter()
        .find(|(start, end, _)| *start < cut && cut < *end)
    {
        prop_assert!(
            // (A cut so early that the kind cannot be told leaves an `unknown` file with a
            // reason: reported too.)
            present.contains(id) || report.skipped > 0 || report.reason.is_some(),
            "cut at {} inside record {}: neither read nor reported as skipped; report {:?}",
            cut,
            id,
            report
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn truncated_files_never_panic_and_keep_complete_rows(
        seed in seed(),
        payloads in payloads(),
        cut_fraction in 0.0f64..=1.0,
    ) {
        let tmp = tempfile::tempdir().expect("tmp");
        let e = build(seed, &payloads);
        let mut rng = Rng(seed ^ 0x5eed);

        // UAL CSV: where each row's text ends (its CRLF need not survive).
        let text = e.ual();
        let bytes = text.as_bytes();
        let mut rows = Vec::new();
        let mut pos = UAL_HEADER.len() + 2;
        for (row, id) in e.ual_rows.iter().zip(&e.ual_ids) {
            rows.push((pos, pos + row.len(), id.clone()));
            pos += row.len() + 2;
        }
        let path = tmp.path().join("in/ual.csv");
        let mut cuts = vec![(cut_fraction * bytes.len() as f64) as usize];
        cuts.extend((0..6).map(|_| rng.below(bytes.len() as u64 + 1) as usize));
        // Just before and after the end of a row, and inside the header.
        let r = rng.below(rows.len() as u64) as usize;
        cuts.extend([rows[r].1 - 1, rows[r].1, rows[r].1 + 1, UAL_HEADER.len() / 2]);
        for cut in cuts {
            check_truncated(&path, bytes, cut.min(bytes.len()), &rows, false)?;
        }

        // Message-trace NDJSON.
        let text = e.trace();
        let bytes = text.as_bytes();
        let mut rows = Vec::new();
        let mut pos = 0;
        for (line, id) in e.trace_lines.iter().zip(&e.trace_ids) {
            rows.push((pos, pos + line.len(), id.clone()));
            pos += line.len() + 1;
        }
        let path = tmp.path().join("in/trace.json");
        let mut cuts = vec![(cut_fraction * bytes.len() as f64) as usize];
        cuts.extend((0..6).map(|_| rng.below(bytes.len() as u64 + 1) as usize));
        let r = rng.below(rows.len() as u64) as usize;
        cuts.extend([rows[r].1 - 1, rows[r].1, rows[r].1 + 1, rows[r].1 + 3]);
        for cut in cuts {
            let cut = cut.min(bytes.len());
            check_truncated(&path, bytes, cut, &rows, true)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Attacker-controlled text stays text
// ---------------------------------------------------------------------------------------------

/// The marker every hostile piece carries, so what survives can be traced to the payload.
const MARK: &str = "PWNED";

/// One hostile or odd piece of text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<script>alert('PWNED')</script>".to_string()),
        Just("</script><script>alert('PWNED')</script>".to_string()),
        Just("\"><img src=x onerror=alert('PWNED')>".to_string()),
        Just("'><svg onload=PWNED()>".to_string()),
        Just("=HYPERLINK(\"http://evil.example/PWNED\",\"open\")".to_string()),
        Just("+cmd|' /C calc'!A0".to_string()),
        Just("-2+3".to_string()),
        Just("@SUM(1)".to_string()),
        Just("\x1b[31mPWNED".to_string()),
        Just("\x1b]0;PWNED\x07".to_string()),
        Just("\u{9b}31mPWNED".to_string()),
        Just("\r\n".to_string()),
        Just("\t".to_string()),
        Just("\u{202e}".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just(",;".to_string()),
        prop::char::range('\u{0}', '\u{1f}').prop_map(|c| c.to_string()),
        prop::char::range('\u{7f}', '\u{9f}').prop_map(|c| c.to_string()),
        prop::collection::vec(any::<char>(), 1..5).prop_map(|v| v.into_iter().collect()),
        "[a-zA-Z0-9 ]{1,8}",
    ]
}

fn payload() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..5).prop_map(|v| v.concat())
}

fn payloads() -> impl Strategy<Value = Payloads> {
    (payload(), payload(), payload(), payload(), payload()).prop_map(
        |(rule_name, subject, user_agent, folder, fwd_local)| Payloads {
            rule_name,
            subject,
            user_agent,
            folder,
            fwd_local,
        },
    )
}

/// Hostile payloads that always carry every marker, for the deterministic tests.
fn worst_case() -> Payloads {
    let all = concat!(
        "<script>alert('PWNED')</script>",
        "\"><img src=x onerror=alert('PWNED')>",
        "\x1b[31mPWNED\x1b]0;PWNED\x07\u{202e}\r\n\u{9b}",
    );
    Payloads {
        rule_name: format!("={all}"),
        subject: format!("+{all}"),
        user_agent: format!("-{all}"),
        folder: format!("@{all}"),
        fwd_local: format!("\t{all}"),
    }
}

/// Says once per test binary that report.html is not among the outputs yet.
fn html_skipped() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        eprintln!(
            "report.html is not written by write_all/analyze (yet): HTML check (a) skipped; \
             it runs as soon as out/report.html exists"
        )
    });
}

/// (a) report.html: the payload is text, never markup.
fn check_html(html: &[u8]) -> Result<(), TestCaseError> {
    let html = String::from_utf8_lossy(html);
    for bad in [
        "<script>alert('PWNED",
        "<img src=x",
        "<svg onload=PWNED",
        "onerror=alert('PWNED')>",
        "\x1b",
        "\u{202e}",
    ] {
        prop_assert!(!html.contains(bad), "report.html contains {:?}", bad);
    }
    // A payload attribute break-out leaves `"><` or `'><` right before a payload tag.
    prop_assert!(
        !html.contains("\"><img"),
        "attribute break-out in report.html"
    );
    prop_assert!(
        !html.contains("'><svg"),
        "attribute break-out in report.html"
    );
    Ok(())
}

/// (b) timeline.csv: no formulas, no raw line breaks.
fn check_csv(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(bytes);
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| TestCaseError::fail(format!("timeline.csv is not CSV: {e}")))?;
        n += 1;
        for cell in rec.iter() {
            prop_assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula-like timeline.csv cell {:?}",
                cell
            );
            prop_assert!(
                !cell.contains(['\n', '\r']),
                "line break in timeline.csv cell {:?}",
                cell
            );
            prop_assert!(
                !cell.chars().any(|c| c.is_control() && c != '\t'),
                "control character in timeline.csv cell {:?}",
                cell
            );
        }
    }
    prop_assert!(n > 1, "timeline.csv has rows");
    Ok(())
}

/// (d) findings.json and timeline.jsonl are JSON, and every payload round-trips exactly into
/// the place that shows it:
/// * user agent: the `user_agent` of the attacker's sign-in rows, equal;
/// * subject, folder, forwarding address: the timeline `message` of the Send, New-InboxRule
///   and Set-Mailbox rows, which quotes values up to 160 characters (describe.rs);
/// * rule name: `details.rule_name` of the inbox-rule finding, equal, when the rule is
///   flagged; otherwise the New-InboxRule row's message, which names the rule only up to 120
///   bytes (describe.rs leaves longer objects out).
///
/// Ingest trims every value (`Text` in ingest/audit_data.rs), so white space at the ends of
/// the subject, user agent and (in the timeline) rule name is not kept: those are compared
/// trimmed here, and the loss is reported by `bug_white_space_at_the_ends_is_lost`.
fn check_json(out: &Outputs, p: &Payloads) -> Result<(), TestCaseError> {
    let findings: Value = serde_json::from_slice(&out.findings)
        .map_err(|e| TestCaseError::fail(format!("findings.json is not JSON: {e}")))?;
    let text = std::str::from_utf8(&out.timeline_jsonl)
        .map_err(|e| TestCaseError::fail(format!("timeline.jsonl is not UTF-8: {e}")))?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).map_err(|e| {
            TestCaseError::fail(format!("timeline.jsonl line is not JSON: {e}: {line:?}"))
        })?;
        prop_assert!(v.is_object(), "timeline.jsonl line is not an object");
        rows.push(v);
    }
    let attacker_rows = |op: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| r["operation"] == op && r["ip"] == ATTACKER_IP)
            .collect()
    };
    // The start of `s` as describe.rs quotes it (160 characters), verbatim.
    let head = |s: &str| -> String { s.chars().take(140).collect() };
    // Attacker text is kept exactly; only an all-blank value counts as absent.
    let verbatim = |s: &str| -> String {
        if s.trim().is_empty() {
            String::new()
        } else {
            s.to_string()
        }
    };

    let want_ua = verbatim(&p.user_agent);
    let ua = attacker_rows("UserLoggedIn");
    prop_assert!(!ua.is_empty(), "the attacker's sign-in is in the timeline");
    for r in ua.iter().chain(&attacker_rows("UserLoginFailed")) {
        prop_assert_eq!(
            r["user_agent"].as_str(),
            Some(want_ua.as_str()),
            "user agent"
        );
    }
    for (what, op, payload) in [
        ("subject", "Send", &p.subject),
        ("folder", "New-InboxRule", &p.folder),
        ("forwarding address", "Set-Mailbox", &p.fwd_local),
    ] {
        let rs = attacker_rows(op);
        prop_assert!(!rs.is_empty(), "the attacker's {} is in the timeline", op);
        // All-blank attacker text counts as absent (as for the user agent).
        let want = head(&verbatim(payload));
        if want.is_empty() {
            continue;
        }
        for r in rs {
            let msg = r["message"].as_str().unwrap_or("");
            prop_assert!(
                msg.contains(&want),
                "{} {:?} does not round-trip into the {} row: {:?}",
                what,
                payload,
                op,
                msg
            );
        }
    }
    let rule_finding = findings["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("inbox-rule"))
        });
    match rule_finding {
        Some(f) => prop_assert_eq!(
            f["details"]["rule_name"].as_str(),
            Some(p.rule_name.as_str()),
            "rule name in the inbox-rule finding"
        ),
        None if p.rule_name.trim().len() <= 120 && !p.rule_name.trim().is_empty() => {
            let rs = attacker_rows("New-InboxRule");
            let want = format!("'{}'", p.rule_name);
            prop_assert!(
                rs.iter()
                    .any(|r| r["message"].as_str().unwrap_or("").contains(&want)),
                "rule name {:?} is neither in a finding nor in the timeline",
                p.rule_name
            );
        }
        None => {}
    }
    Ok(())
}

/// Characters that reorder the text around them (bidi embeddings, overrides, isolates, marks).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// (c) Terminal output: no raw control characters, no ESC but our own SGR colour codes, and no
/// payload sequence (`ESC[31mPWNED`, `ESC]0;PWNED BEL`) survives.
fn check_terminal(out: &[u8], color: bool, what: &str) -> Result<(), TestCaseError> {
    let s = String::from_utf8_lossy(out);
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\x1b' {
            prop_assert!(color, "{}: ESC in --color never output: {:?}", what, s);
            // Only CSI ... m (SGR) is ours.
            let mut j = i + 1;
            prop_assert!(
                chars.get(j) == Some(&'['),
                "{}: non-CSI escape at {}: {:?}",
                what,
                i,
                s
            );
            j += 1;
            while chars
                .get(j)
                .is_some_and(|c| c.is_ascii_digit() || *c == ';')
            {
                j += 1;
            }
            prop_assert!(
                chars.get(j) == Some(&'m'),
                "{}: non-SGR escape at {}: {:?}",
                what,
                i,
                s
            );
            // The payload's own `ESC[31m` is directly followed by the marker.
            let rest: String = chars[j + 1..].iter().take(MARK.len()).collect();
            prop_assert!(
                rest != MARK,
                "{}: payload colour sequence survived: {:?}",
                what,
                s
            );
            i = j + 1;
            continue;
        }
        prop_assert!(
            !(c.is_control() && c != '\n'),
            "{}: raw control character {:?} in terminal output: {:?}",
            what,
            c,
            s
        );
        prop_assert!(
            !is_bidi_control(c),
            "{}: raw bidi control {:?} in terminal output",
            what,
            c
        );
        i += 1;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn attacker_text_stays_text_in_files(seed in seed(), p in payloads()) {
        let tmp = tempfile::tempdir().expect("tmp");
        let e = build(seed, &p);
        let ual = tmp.path().join("in/ual.csv");
        let trace = tmp.path().join("in/trace.json");
        write(&ual, e.ual());
        write(&trace, e.trace());
        let out = analyse(&[ual, trace], &tmp.path().join("out"));
        match &out.html {
            Some(html) => check_html(html)?,
            None => html_skipped(),
        }
        check_csv(&out.timeline_csv)?;
        check_json(&out, &p)?;
    }
}

fn run_binary(paths: &[PathBuf], out: &Path, color: &str) -> (Vec<u8>, Vec<u8>, Option<Vec<u8>>) {
    let output = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .arg("--color")
        .arg(color)
        .arg("analyze")
        .args(paths)
        .arg("--out")
        .arg(out)
        .arg("--force")
        .env_remove("NO_COLOR")
        .output()
        .expect("run mailsleuth");
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "mailsleuth analyze failed: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.stdout,
        output.stderr,
        fs::read(out.join("report.html")).ok(),
    )
}

/// The inbox-rule finding (whose summary the terminal shows) needs a hiding tell: an obscure
/// folder or an obfuscated name. A payload in both leaves the rule unflagged and so off the
/// terminal, so one of the two is kept ordinary, in turn.
fn on_the_summary(mut p: Payloads, hostile_name: bool) -> Payloads {
    if hostile_name {
        p.folder = "RSS Subscriptions".into();
    } else {
        p.rule_name = "..".into();
    }
    p
}

proptest! {
    #![proptest_config(config(6))]

    #[test]
    fn attacker_text_stays_text_on_the_terminal(
        seed in seed(),
        p in payloads(),
        hostile_name in any::<bool>(),
    ) {
        let p = on_the_summary(p, hostile_name);
        let tmp = tempfile::tempdir().expect("tmp");
        let e = build(seed, &p);
        let ual = tmp.path().join("in/ual.csv");
        let trace = tmp.path().join("in/trace.json");
        write(&ual, e.ual());
        write(&trace, e.trace());
        let paths = [ual, trace];
        for (color, on) in [("never", false), ("always", true)] {
            let out = tmp.path().join(format!("out-{color}"));
            let (stdout, stderr, html) = run_binary(&paths, &out, color);
            check_terminal(&stdout, on, &format!("stdout --color {color}"))?;
            check_terminal(&stderr, on, &format!("stderr --color {color}"))?;
            if let Some(html) = html {
                check_html(&html)?;
            }
        }
    }
}

/// The worst case every time (every marker in every field), so the checks above cannot pass
/// only because the random payloads happened to be mild; also checks that the payloads do
/// reach the outputs (escaped), or the checks would prove nothing.
#[test]
fn worst_case_payloads_stay_text_everywhere() {
    for hostile_name in [true, false] {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = on_the_summary(worst_case(), hostile_name);
        let e = build(42, &p);
        let ual = tmp.path().join("in/ual.csv");
        let trace = tmp.path().join("in/trace.json");
        write(&ual, e.ual());
        write(&trace, e.trace());
        let paths = [ual, trace];
        let out = analyse(&paths, &tmp.path().join("out"));
        match &out.html {
            Some(html) => {
                check_html(html).expect("report.html");
                assert!(
                    String::from_utf8_lossy(html).contains(MARK),
                    "the payload reaches report.html (escaped)"
                );
            }
            None => html_skipped(),
        }
        check_csv(&out.timeline_csv).expect("timeline.csv");
        check_json(&out, &p).expect("JSON outputs");
        assert!(
            String::from_utf8_lossy(&out.timeline_csv).contains(MARK),
            "the payload reaches timeline.csv (escaped)"
        );
        for (color, on) in [("never", false), ("always", true)] {
            let dir = tmp.path().join(format!("bin-{color}"));
            let (stdout, stderr, html) = run_binary(&paths, &dir, color);
            check_terminal(&stdout, on, &format!("stdout --color {color}")).expect("stdout");
            check_terminal(&stderr, on, &format!("stderr --color {color}")).expect("stderr");
            if let Some(html) = html {
                check_html(&html).expect("report.html from the binary");
            }
            assert!(
                String::from_utf8_lossy(&stdout).contains(MARK),
                "the payload no longer reaches the terminal summary (--color {color}, hostile \
                 name {hostile_name}): the terminal check proves nothing; place it where the \
                 summary shows it"
            );
        }
    }
}

/// Regression: ingest used to trim attacker free text, so white space at the ends of a subject
/// or a user agent was lost. Evidence for a legal review quotes the attacker's text as
/// recorded (identifiers are still trimmed for joining). Shrunk case from
/// `attacker_text_stays_text_in_files`: user agent `" JfhAM7"`.
#[test]
fn white_space_at_the_ends_of_attacker_text_is_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = Payloads {
        subject: " SUBJ1 ".into(),
        user_agent: " JfhAM7".into(),
        ..Payloads::default()
    };
    let e = build(42, &p);
    let ual = tmp.path().join("in/ual.csv");
    write(&ual, e.ual());
    let out = analyse(&[ual], &tmp.path().join("out"));
    let jsonl = String::from_utf8_lossy(&out.timeline_jsonl);
    assert!(
        jsonl.contains(r#""user_agent":" JfhAM7""#),
        "user agent trimmed"
    );
    assert!(jsonl.contains("' SUBJ1 '"), "subject trimmed");
}

/// Regression: `JsonSplitter::next_batch` underflowed when a file ended inside the first key of
/// a record that follows a complete one (`{…}\n{"Rec`), which crashed the whole run. Found by
/// `truncated_files_never_panic_and_keep_complete_rows`.
#[test]
fn json_cut_inside_a_key_keeps_the_complete_record() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("trace.json");
    let rec = r#"{"Received":"2026-03-09T13:52:08Z","SenderAddress":"a@b.example","RecipientAddress":"c@d.example","MessageTraceId":"t1"}"#;
    write(&path, format!("{rec}\n{{\"Rec"));
    let ing = ingest::run(&[path], &IngestOptions::default(), &NoCount);
    let ids: Vec<String> = ing
        .events
        .iter()
        .map(|e| e.record_id.text(&ing.interner).into_owned())
        .collect();
    assert_eq!(ids, ["t1|c@d.example"], "the complete record is kept");
    assert_eq!(ing.files[0].skipped, 1, "the cut record is reported");
}

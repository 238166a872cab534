//! UAL records in JSON, one object at a time.
//!
//! The driver has already cut arrays, NDJSON, concatenated values (PowerShell `Out-File -Append`)
//! and `{"value":[…]}` envelopes into single objects. Each object is one of:
//!
//! * **AuditData itself** — Management Activity API blobs, Extractor-Suite SOF-ELK lines, SIEM
//!   copies with string enums (`"RecordType":"15"`) and shuffled keys;
//! * **a wrapper** — Extractor-Suite JSON/JSONL, `Search-UnifiedAuditLog | ConvertTo-Json`:
//!   `CreationDate` (culture text or `\/Date(ms)\/`), `RecordType` (number or name),
//!   `Operations`, `UserIds`, `Identity`, `ResultIndex` … around an `AuditData` that is a JSON
//!   **string** (JSONL) or an **object** (ConvertTo-Json);
//! * **a Graph audit-search record** — `id`, `createdDateTime`, `auditLogRecordType`
//!   (`exchangeItem`), `operation`, `userPrincipalName`, `userId`, `clientIp`, `service`,
//!   `objectId`, `auditData{…}`;
//! * **Panther's copy** — the same with lower-cased keys and `creationtime "2022-12-12 22:19:00"`.
//!
//! All of them go through one case-insensitive [`AuditData`](super::audit_data::AuditData)
//! parse; the inner record's own fields win and the wrapper's fill the gaps (see
//! [`super::audit_data`] for the full event mapping). A wrapper whose `AuditData` string is
//! empty or not JSON still yields an event when the wrapper has a time and an operation.

use super::audit_data::event_from_json;
use super::record::{JsonParser, ParseCtx, ParseResult};
use crate::event::{Event, SourceKind};

/// JSON UAL records (bare AuditData, PowerShell/Extractor-Suite wrappers, Graph, Panther).
#[derive(Default)]
pub struct UalJson;

impl UalJson {
    /// A parser; it holds no state.
    pub fn new() -> Self {
        UalJson
    }
}

impl JsonParser for UalJson {
    fn parse_record(
        &self,
        text: &str,
        line: u64,
        ctx: &ParseCtx<'_>,
        out: &mut Vec<Event>,
    ) -> ParseResult {
        out.push(event_from_json(text, SourceKind::Ual, ctx, line)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ip::normalize_ip;
    use crate::event::{flags, Bag, Interner, Outcome, Timestamp};
    use std::path::PathBuf;

    fn shared(rel: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/")).join(rel)
    }

    fn utc(s: &str) -> Timestamp {
        let s = s.replacen(' ', "T", 1);
        let s = s.split('.').next().unwrap_or(&s).to_string();
        Timestamp::from_naive_utc(
            chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S").expect("test literal"),
        )
    }

    fn parse(i: &Interner, text: &str) -> Result<Event, crate::ingest::record::Skip> {
        let ctx = ParseCtx {
            interner: i,
            file: 0,
        };
        let mut out = Vec::new();
        UalJson::new().parse_record(text, 1, &ctx, &mut out)?;
        assert_eq!(out.len(), 1);
        Ok(out.remove(0))
    }

    /// Case-insensitive lookup in a serde_json object (test oracle only).
    fn get<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    fn get_str<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v str> {
        get(v, key)
            .and_then(|x| x.as_str())
            .filter(|s| !s.is_empty())
    }

    #[test]
    fn every_elastic_beats_record_parses() {
        let dir = shared("samples/public/elastic_beats_o365");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipping: {} not present", dir.display());
            return;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        files.sort();
        assert!(files.len() >= 4, "{files:?}");
        let i = Interner::new();
        let mut n = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let e =
                    parse(&i, line).unwrap_or_else(|s| panic!("{}: {s:?}: {line}", f.display()));
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(e.time, utc(get_str(&v, "CreationTime").unwrap()), "{line}");
                assert_eq!(
                    i.resolve(e.operation_raw),
                    get_str(&v, "Operation").unwrap_or("")
                );
                assert_eq!(e.record_id.text(&i), get_str(&v, "Id").unwrap());
                let raw_ip = get_str(&v, "ClientIP")
                    .or(get_str(&v, "ClientIPAddress"))
                    .or(get_str(&v, "ActorIpAddress"))
                    .unwrap_or("");
                assert_eq!(i.resolve(e.ip), normalize_ip(raw_ip), "{line}");
                assert_eq!(e.flags, 0);
                n += 1;
            }
        }
        assert_eq!(n, 9 + 4 + 15 + 2);

        // Spot checks with literal values.
        let sts = std::fs::read_to_string(dir.join("15-azuread-sts-logon.log")).unwrap();
        let e = parse(&i, sts.lines().next().unwrap()).unwrap();
        assert_eq!(i.resolve(e.ip), "83.57.233.151");
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.record_type, Some(15));
        assert_eq!(i.resolve(e.app_id), "4345a7b9-9a63-4910-a426-35363201d503");
        assert!(i
            .resolve(e.user_agent)
            .starts_with("Mozilla/5.0 (Macintosh"));
        assert_eq!(
            e.prop(&i, Bag::ExtendedProperties, "RequestType"),
            Some("OAuth2:Authorize")
        );
        assert_eq!(
            e.prop(&i, Bag::Field, "Actor.5"),
            Some("asr@testsiem.onmicrosoft.com")
        );

        let ips = std::fs::read_to_string(dir.join("ip-formats.log")).unwrap();
        let first = parse(&i, ips.lines().next().unwrap()).unwrap();
        assert_eq!(i.resolve(first.ip), "10.11.12.13");
        assert_eq!(first.record_type, None, "RecordType -1 is no RecordType");

        let items = std::fs::read_to_string(dir.join("02-exchange-item.log")).unwrap();
        let e = parse(&i, items.lines().next().unwrap()).unwrap();
        assert_eq!(i.resolve(e.ip), "::1");
        assert_eq!(i.resolve(e.object), "The new SIEMTest group is ready");
        assert_eq!(i.resolve(e.mailbox), "siemtest@testsiem.onmicrosoft.com");
        assert_eq!(e.items()[0].folder(&i), Some("\\Inbox"));
        assert!(e.items()[0]
            .internet_message_id(&i)
            .unwrap()
            .starts_with("<AM6PR01MB4535D305"));
        assert_eq!(e.prop(&i, Bag::Field, "LogonType"), Some("1"));

        let sp = std::fs::read_to_string(dir.join("str-params.log")).unwrap();
        let mut lines = sp.lines();
        let e = parse(&i, lines.next().unwrap()).unwrap();
        assert_eq!(e.prop(&i, Bag::Parameters, "PageSize"), Some("100"));
        assert_eq!(
            e.prop(&i, Bag::Parameters, "StartReceivedDate"),
            Some("4/25/2021 7:00:00 AM")
        );
        assert_eq!(
            e.prop(&i, Bag::Parameters, "QuarantineTypes"),
            Some("Bulk;Spam;Phish")
        );
        assert_eq!(e.outcome, Outcome::Success);
        let e = parse(&i, lines.next().unwrap()).unwrap();
        assert_eq!(
            e.prop(&i, Bag::ExtendedProperties, "ContentMatchQuery"),
            Some("(c:c)(senderauthor=abc@foo.com)")
        );
        assert_eq!(e.error_code.get(), Some(0));
        assert_eq!(e.outcome, Outcome::Success);
    }

    #[test]
    fn panther_lower_cased_records() {
        let path = shared(
            "samples/cases/panther-analysis/microsoft_exchange_external_forwarding.tests.json",
        );
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {} not present", path.display());
            return;
        };
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tests = doc["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 10);
        let i = Interner::new();
        for t in tests {
            let log = &t["log"];
            let e = parse(&i, &log.to_string()).unwrap();
            assert_eq!(e.time, utc(get_str(log, "creationtime").unwrap()));
            assert_eq!(i.resolve(e.operation), get_str(log, "operation").unwrap());
            assert_eq!(e.record_id.text(&i), "111-22-33");
            assert_eq!(e.record_type, Some(1));
            assert_eq!(e.outcome, Outcome::Success);
            let params = get(log, "parameters").unwrap().as_array().unwrap();
            let fwd = params
                .iter()
                .find(|p| p["Name"] == "ForwardingSmtpAddress" || p["Name"] == "ForwardTo");
            if let Some(p) = fwd {
                let name = p["Name"].as_str().unwrap();
                assert_eq!(e.prop(&i, Bag::Parameters, name), p["Value"].as_str());
            }
            assert_eq!(
                e.props()
                    .iter()
                    .filter(|p| p.bag == Bag::Parameters)
                    .count(),
                params.len()
            );
        }
        // Literal expectations for two of them.
        let first = parse(&i, &tests[0]["log"].to_string()).unwrap();
        assert_eq!(first.time, utc("2022-12-12T22:19:00"));
        assert_eq!(
            i.resolve(first.mailbox),
            "homer.simpson@simpsons.onmicrosoft.com"
        );
        assert_eq!(i.resolve(first.ip), "1.2.3.4");
        assert_eq!(
            first.prop(&i, Bag::Parameters, "ForwardingSmtpAddress"),
            Some("smtp:peter.griffin@familyguy.com")
        );
        let rule = parse(&i, &tests[2]["log"].to_string()).unwrap();
        assert_eq!(i.resolve(rule.operation), "New-InboxRule");
        assert_eq!(i.resolve(rule.object), "Delete and Forward Rule");
        assert_eq!(
            i.resolve(rule.mailbox),
            "homer.simpson@simpsons.onmicrosoft.com"
        );
        let last = parse(&i, &tests[9]["log"].to_string()).unwrap();
        assert_eq!(last.time, utc("2025-07-07T09:11:11"));
        assert_eq!(i.resolve(last.ip), "1.2.3.4");
    }

    #[test]
    fn other_panther_and_rule_example_records() {
        let i = Interner::new();
        for f in [
            "microsoft365_mfa_disabled.tests.json",
            "microsoft365_brute_force_login_by_user.tests.json",
            "microsoft365_external_sharing.tests.json",
        ] {
            let path = shared(&format!("samples/cases/panther-analysis/{f}"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                eprintln!("skipping: {} not present", path.display());
                return;
            };
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            for t in doc["tests"].as_array().unwrap() {
                let log = &t["log"];
                let e = parse(&i, &log.to_string()).unwrap_or_else(|s| panic!("{f}: {s:?}"));
                assert_eq!(e.time, utc(get_str(log, "CreationTime").unwrap()));
                let op = get_str(log, "Operation").unwrap();
                if op == "UserLoginFailed" {
                    assert_eq!(
                        e.outcome,
                        Outcome::Failure,
                        "ResultStatus Success must not win"
                    );
                }
                if op == "Update user." {
                    assert_eq!(i.resolve(e.mailbox), "sample.user@yourorg.onmicrosoft.com");
                }
            }
        }
        for f in [
            "elastic_integration_o365_attachmentaccess_app_recordtype50.json",
            "elastic_integration_o365_modifyfolderpermissions_calendar.json",
            "elastic_integration_o365_userloggedin_oauth2_authorize_redirect.json",
        ] {
            let path = shared(&format!("samples/cases/rule-examples/{f}"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                eprintln!("skipping: {} not present", path.display());
                return;
            };
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let rec = &doc["record"];
            let e = parse(&i, &rec.to_string()).unwrap_or_else(|s| panic!("{f}: {s:?}"));
            assert_eq!(e.record_id.text(&i), get_str(rec, "Id").unwrap());
            assert_eq!(e.time, utc(get_str(rec, "CreationTime").unwrap()));
        }
    }

    #[test]
    fn wrapper_with_audit_data_as_string_and_ms_date() {
        // Extractor-Suite JSONL: AuditData is a JSON string; CreationDate from ConvertTo-Json.
        let i = Interner::new();
        let jsonl = r#"{"RecordType":"ExchangeAdmin","CreationDate":"\/Date(1695693375000)\/","UserIds":"AdeleV@contoso.com","Operations":"New-InboxRule","AuditData":"{\"CreationTime\":\"2023-09-26T01:56:15\",\"Id\":\"85d29e27\",\"Operation\":\"New-InboxRule\",\"RecordType\":1,\"ClientIP\":\"203.0.113.45:19823\",\"UserId\":\"AdeleV@contoso.com\",\"Parameters\":[{\"Name\":\"Name\",\"Value\":\"..\"}]}","ResultIndex":1,"ResultCount":2,"Identity":"85d29e27","IsValid":true,"ObjectState":"Unchanged"}"#;
        let e = parse(&i, jsonl).unwrap();
        assert_eq!(e.time, utc("2023-09-26T01:56:15"));
        assert_eq!(e.flags, 0, "the inner CreationTime is used");
        assert_eq!(i.resolve(e.object), "..");
        assert_eq!(i.resolve(e.ip), "203.0.113.45");
        assert_eq!(e.record_type, Some(1));

        // AuditData without CreationTime: the `\/Date(ms)\/` wrapper date is used.
        let no_time = r#"{"RecordType":"ExchangeAdmin","CreationDate":"\/Date(1695693375000)\/","Operations":"Set-Mailbox","AuditData":"{\"Id\":\"a1\",\"Operation\":\"Set-Mailbox\"}","Identity":"a1"}"#;
        let e = parse(&i, no_time).unwrap();
        assert_eq!(e.time, Timestamp::from_millis(1_695_693_375_000));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(
            e.record_type,
            Some(1),
            "wrapper RecordType name fills the gap"
        );

        // AuditData string that is not JSON: the wrapper alone.
        let broken = r#"{"RecordType":"ExchangeItem","CreationDate":"3/12/2025 7:31:34 AM","Operations":"HardDelete","UserIds":"x@y.com","AuditData":"{\"Id\":\"trunc","Identity":"g-1"}"#;
        let e = parse(&i, broken).unwrap();
        assert_eq!(i.resolve(e.operation), "HardDelete");
        assert_eq!(e.record_id.text(&i), "g-1");
        assert_eq!(e.record_type, Some(2));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER | flags::TIME_AMBIGUOUS);
        assert_eq!(e.time, utc("2025-03-12T07:31:34"));
        assert_eq!(e.prop(&i, Bag::Field, "AuditData"), Some("{\"Id\":\"trunc"));

        // …but not without a wrapper time.
        let err = parse(&i, r#"{"Operations":"HardDelete","AuditData":"not json"}"#).unwrap_err();
        assert_eq!(err.reason, "AuditData is not valid JSON");
        let err = parse(
            &i,
            r#"{"Operations":"HardDelete","AuditData":"{\"Item\":7}"}"#,
        )
        .unwrap_err();
        assert_eq!(err.reason, "AuditData has unexpected field types");
    }

    #[test]
    fn wrapper_with_audit_data_as_object() {
        // Search-UnifiedAuditLog | ConvertTo-Json (Extractor-Suite -Output JSON).
        let i = Interner::new();
        let ps = r#"{
            "PSComputerName": "outlook.office365.com",
            "RunspaceId": "0b6ab8b8-0000-0000-0000-000000000000",
            "RecordType": "AzureActiveDirectoryStsLogon",
            "CreationDate": "\/Date(1695693073000)\/",
            "UserIds": "AdeleV@contoso.com",
            "Operations": "UserLoggedIn",
            "AuditData": {
                "CreationTime": "2023-09-26T01:51:13",
                "Id": "b21a7da1",
                "Operation": "UserLoggedIn",
                "RecordType": 15,
                "ResultStatus": "Success",
                "UserId": "AdeleV@contoso.com",
                "Workload": "AzureActiveDirectory",
                "ClientIP": "203.0.113.45",
                "ErrorNumber": "0",
                "DeviceProperties": [{"Name": "SessionId", "Value": "5b0c2a71"}]
            },
            "ResultIndex": 1,
            "ResultCount": 1,
            "Identity": "b21a7da1",
            "IsValid": true,
            "ObjectState": "Unchanged"
        }"#;
        let e = parse(&i, ps).unwrap();
        assert_eq!(e.time, utc("2023-09-26T01:51:13"));
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(i.resolve(e.session_id), "5b0c2a71");
        assert_eq!(e.record_id.text(&i), "b21a7da1");
        assert_eq!(i.resolve(e.workload), "AzureActiveDirectory");
    }

    #[test]
    fn powershell_5_datetime_objects() {
        // Windows PowerShell 5.1 writes a DateTime with extra properties as an object.
        let i = Interner::new();
        let ps = r#"{"RecordType":1,"Operations":"Set-Mailbox","Identity":"g9",
            "CreationDate":{"value":"\/Date(1695693375000)\/","DisplayHint":2,"DateTime":"Tuesday, September 26, 2023 1:56:15 AM"},
            "AuditData":"{\"Id\":\"g9\",\"Operation\":\"Set-Mailbox\"}"}"#;
        let e = parse(&i, ps).unwrap();
        assert_eq!(e.time, Timestamp::from_millis(1_695_693_375_000));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER);
        // Only the display text: culture text, still read.
        let ps =
            r#"{"Id":"g8","Operation":"Op","CreationTime":{"DateTime":"9/26/2023 1:56:15 AM"}}"#;
        let e = parse(&i, ps).unwrap();
        assert_eq!(e.time, utc("2023-09-26T01:56:15"));
        let e = parse(&i, r#"{"Id":"g7","CreationTime":{"x":1}}"#).unwrap_err();
        assert_eq!(e.reason, "record has no time");
    }

    #[test]
    fn graph_audit_search_record() {
        let i = Interner::new();
        let graph = r##"{
            "id": "7a8c2e3f-1111-2222-3333-444455556666",
            "createdDateTime": "2024-04-01T10:20:30Z",
            "auditLogRecordType": "exchangeItemAggregated",
            "operation": "MailItemsAccessed",
            "organizationId": "org",
            "userType": "regular",
            "userId": "Eve@Contoso.com",
            "userPrincipalName": "eve@contoso.com",
            "service": "Exchange",
            "objectId": "",
            "clientIp": "[198.51.100.23]:4433",
            "administrativeUnits": [],
            "auditData": {
                "@odata.type": "#microsoft.graph.security.defaultAuditData",
                "MailboxOwnerUPN": "Victim@Contoso.com",
                "OperationProperties": [{"Name": "MailAccessType", "Value": "Sync"}],
                "Folders": [{"Path": "\\Inbox"}]
            }
        }"##;
        let e = parse(&i, graph).unwrap();
        assert_eq!(e.time, utc("2024-04-01T10:20:30"));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(e.record_type, Some(50));
        assert_eq!(i.resolve(e.operation), "MailItemsAccessed");
        assert_eq!(e.record_id.text(&i), "7a8c2e3f-1111-2222-3333-444455556666");
        assert_eq!(i.resolve(e.actor), "Eve@Contoso.com");
        assert_eq!(i.resolve(e.mailbox), "victim@contoso.com");
        assert_eq!(i.resolve(e.workload), "Exchange");
        assert_eq!(i.resolve(e.ip), "198.51.100.23");
        assert_eq!(e.prop(&i, Bag::Field, "UserType"), Some("0"));
        assert_eq!(e.items().len(), 1);
        assert_eq!(e.items()[0].folder(&i), Some("\\Inbox"));
    }

    #[test]
    fn malformed_records_are_skipped() {
        let i = Interner::new();
        for (text, reason) in [
            ("{", "record is not valid JSON"),
            ("[]", "record has unexpected field types"),
            ("null", "record has unexpected field types"),
            (
                r#"{"CreationTime":"2023-09-26T01:51:13","Id":[]}"#,
                "record has unexpected field types",
            ),
            (r#"{"Id":"x","CreationTime":12}"#, "unparseable time"),
            (r#"{"Id":"x"}"#, "record has no time"),
        ] {
            assert_eq!(parse(&i, text).unwrap_err().reason, reason, "{text}");
        }
    }
}

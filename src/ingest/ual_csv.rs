//! UAL CSV exports: every shape that carries an `AuditData` JSON cell.
//!
//! * Purview (2023+): `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,…`
//!   (RecordType a number, CreationDate `9/26/2023 1:51:13 AM` or quoted ISO with a trailing space);
//! * classic compliance center: `CreationDate,UserIds,Operations,AuditData`;
//! * `Search-UnifiedAuditLog | Export-Csv`: `RunspaceId, RecordType` (a **name**), `CreationDate`
//!   (the exporting machine's culture), `UserIds, Operations, AuditData, ResultIndex, ResultCount,
//!   Identity, IsValid, ObjectState`, in any order or subset, maybe with `PSComputerName`…;
//! * SIEM re-exports with dozens of extra columns.
//!
//! Columns are found by name only. The `AuditData` JSON is the record; the other columns are a
//! wrapper whose values only fill what AuditData lacks: `RecordId`/`Identity` → Id, `CreationDate`
//! → time (flagged [`TIME_FROM_WRAPPER`](crate::event::flags::TIME_FROM_WRAPPER), and
//! [`TIME_AMBIGUOUS`](crate::event::flags::TIME_AMBIGUOUS) when day and month could be swapped),
//! `RecordType` (number or name), `Operation(s)`, `UserId(s)`, `Workload`, `ClientIP`.
//! See [`super::audit_data`] for the event mapping.
//!
//! **A row whose AuditData is empty or not JSON (truncated by Excel's 32,767-character cell
//! limit, hand-edited) still yields an event when its wrapper columns give a time and an
//! operation**; the unparsed AuditData text is kept as the `Field` prop `AuditData`. Otherwise
//! the row is skipped with a stable reason (`AuditData is not valid JSON`, `AuditData has
//! unexpected field types`, `AuditData is empty and the row has no time and operation`).
//! Blank rows (`,,,`) produce nothing and are not reported.

use super::audit_data::{event_from_parts, AuditData, DateText, Enumish, Text};
use super::record::{CsvParser, Header, ParseCtx, ParseResult, Row};
use crate::event::{Event, SourceKind};
use std::borrow::Cow;

/// UAL CSV exports (Purview, classic, Search-UnifiedAuditLog, SIEM re-exports).
pub struct UalCsv {
    audit_data: Option<usize>,
    id: Option<usize>,
    time: Option<usize>,
    record_type: Option<usize>,
    operation: Option<usize>,
    user_id: Option<usize>,
    workload: Option<usize>,
    client_ip: Option<usize>,
}

impl UalCsv {
    /// Maps the header's columns by name. Needs an `AuditData` column, or at least a time and
    /// an operation column (a SIEM export that dropped AuditData).
    pub fn new(header: &Header) -> Result<Self, String> {
        let p = UalCsv {
            audit_data: header.find_any(&["AuditData"]),
            id: header.find_any(&["RecordId", "Identity", "Id"]),
            time: header.find_any(&["CreationDate", "CreationTime", "createdDateTime"]),
            record_type: header.find_any(&["RecordType", "auditLogRecordType"]),
            operation: header.find_any(&["Operation", "Operations"]),
            user_id: header.find_any(&["UserId", "UserIds", "userPrincipalName"]),
            workload: header.find_any(&["Workload", "service"]),
            client_ip: header.find_any(&["ClientIP", "ClientIPAddress", "clientIp"]),
        };
        if p.audit_data.is_none() && (p.time.is_none() || p.operation.is_none()) {
            return Err(
                "not a UAL CSV: no AuditData column, nor CreationDate and Operation(s) columns"
                    .to_string(),
            );
        }
        Ok(p)
    }
}

/// The cell as a text field, `None` when empty (cells are already trimmed).
fn text<'r>(row: &Row<'r>, col: Option<usize>) -> Option<Text<'r>> {
    let v = row.get(col);
    (!v.is_empty()).then_some(Text(v))
}

impl CsvParser for UalCsv {
    fn parse_row(&self, row: &Row<'_>, ctx: &ParseCtx<'_>, out: &mut Vec<Event>) -> ParseResult {
        if row.is_blank() {
            return Ok(());
        }
        let wrapper = AuditData {
            id: text(row, self.id),
            creation_date: text(row, self.time).map(DateText),
            record_type: text(row, self.record_type).map(|t| Enumish::from_text(t.0)),
            operation: text(row, self.operation),
            user_id: text(row, self.user_id),
            workload: text(row, self.workload),
            client_ip: text(row, self.client_ip),
            ..AuditData::default()
        };
        let inner: Option<Cow<'_, str>> = self.audit_data.map(|c| row.get(Some(c)));
        out.push(event_from_parts(
            wrapper,
            inner,
            SourceKind::Ual,
            ctx,
            row.line,
        )?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{flags, Bag, Interner, Outcome, Timestamp};
    use crate::ingest::record::Skip;

    fn utc(s: &str) -> Timestamp {
        Timestamp::from_naive_utc(
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").expect("test literal"),
        )
    }

    /// Reads a CSV text (first record = header) through [`UalCsv`].
    fn run(i: &Interner, csv_text: &str) -> Vec<Result<Vec<Event>, Skip>> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv_text.as_bytes());
        let mut recs = rdr.byte_records();
        let head = recs.next().unwrap().unwrap();
        let header = Header::new(head.iter().map(|c| String::from_utf8_lossy(c).into_owned()));
        let parser = UalCsv::new(&header).unwrap();
        let ctx = ParseCtx {
            interner: i,
            file: 1,
        };
        recs.enumerate()
            .map(|(n, rec)| {
                let rec = rec.unwrap();
                let row = Row::new(&rec, n as u64 + 2);
                let mut out = Vec::new();
                parser.parse_row(&row, &ctx, &mut out).map(|()| out)
            })
            .collect()
    }

    fn one(r: &Result<Vec<Event>, Skip>) -> &Event {
        let v = r.as_ref().unwrap();
        assert_eq!(v.len(), 1);
        &v[0]
    }

    /// The two example rows of the field guide (formats.md A1), plus a UserLoggedIn of ours
    /// carrying the DeviceProperties SessionId that the New-InboxRule's SessionId links to.
    const PURVIEW: &str = concat!(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n",
        r#"b21a7da1-bd08-44ec-ac88-be14ae4d0500,9/26/2023 1:51:13 AM,15,UserLoginFailed,AdeleV@M365x214355.OnMicrosoft.com,"{""CreationTime"":""2023-09-26T01:51:13"",""Id"":""b21a7da1-bd08-44ec-ac88-be14ae4d0500"",""Operation"":""UserLoginFailed"",""OrganizationId"":""df233d94-fed3-4436-bf9a-a799fb85a159"",""RecordType"":15,""ResultStatus"":""Success"",""UserKey"":""f757cb79-dd91-4555-a45e-520c2525d932"",""UserType"":0,""Version"":1,""Workload"":""AzureActiveDirectory"",""ClientIP"":""203.0.113.45"",""ObjectId"":""00000003-0000-0000-c000-000000000000"",""UserId"":""AdeleV@M365x214355.OnMicrosoft.com"",""AzureActiveDirectoryEventType"":1,""ExtendedProperties"":[{""Name"":""ResultStatusDetail"",""Value"":""Success""},{""Name"":""UserAgent"",""Value"":""Mozilla\/5.0 (Macintosh; Intel Mac OS X 10.15; rv:109.0) Gecko\/20100101 Firefox\/114.0""},{""Name"":""UserAuthenticationMethod"",""Value"":""1""},{""Name"":""RequestType"",""Value"":""Login:login""}],""ModifiedProperties"":[],""Actor"":[{""ID"":""f757cb79-dd91-4555-a45e-520c2525d932"",""Type"":0},{""ID"":""AdeleV@M365x214355.OnMicrosoft.com"",""Type"":5}],""ActorContextId"":""df233d94-fed3-4436-bf9a-a799fb85a159"",""ActorIpAddress"":""203.0.113.45"",""InterSystemsId"":""01ed4e23-7e8e-4c55-8c82-c9d3c557e788"",""IntraSystemId"":""b21a7da1-bd08-44ec-ac88-be14ae4d0500"",""SupportTicketId"":"""",""Target"":[{""ID"":""00000003-0000-0000-c000-000000000000"",""Type"":0}],""TargetContextId"":""df233d94-fed3-4436-bf9a-a799fb85a159"",""ApplicationId"":""ee272b19-4411-433f-8f28-5c13cb6fd407"",""DeviceProperties"":[{""Name"":""OS"",""Value"":""MacOs""},{""Name"":""BrowserType"",""Value"":""Firefox""},{""Name"":""IsCompliantAndManaged"",""Value"":""False""}],""ErrorNumber"":""50126"",""LogonError"":""InvalidUserNameOrPassword""}",,"#,
        "\r\n",
        r#"85d29e27-be28-4f2c-96c8-08dbbe33c473,9/26/2023 1:56:15 AM,1,New-InboxRule,AdeleV@M365x214355.OnMicrosoft.com,"{""AppAccessContext"":{""IssuedAtTime"":""2023-09-26T01:47:34"",""UniqueTokenId"":""3kVZRE8tFkinHtPA7_EFAA""},""CreationTime"":""2023-09-26T01:56:15"",""Id"":""85d29e27-be28-4f2c-96c8-08dbbe33c473"",""Operation"":""New-InboxRule"",""OrganizationId"":""df233d94-fed3-4436-bf9a-a799fb85a159"",""RecordType"":1,""ResultStatus"":""True"",""UserKey"":""10032002F222981B"",""UserType"":2,""Version"":1,""Workload"":""Exchange"",""ClientIP"":""203.0.113.45:19823"",""ObjectId"":""NAMPR10A011.PROD.OUTLOOK.COM\/Microsoft Exchange Hosted Organizations\/M365x214355.onmicrosoft.com\/f757cb79-dd91-4555-a45e-520c2525d932\\.."",""UserId"":""AdeleV@M365x214355.OnMicrosoft.com"",""AppId"":""00000002-0000-0ff1-ce00-000000000000"",""ClientAppId"":"""",""ExternalAccess"":false,""OrganizationName"":""M365x214355.onmicrosoft.com"",""OriginatingServer"":""CH3PR10MB7864 (15.20.6813.027)"",""Parameters"":[{""Name"":""AlwaysDeleteOutlookRulesBlob"",""Value"":""False""},{""Name"":""Force"",""Value"":""False""},{""Name"":""From"",""Value"":""billing@fabrikam.example""},{""Name"":""MoveToFolder"",""Value"":""Conversation History""},{""Name"":""Name"",""Value"":""..""},{""Name"":""MarkAsRead"",""Value"":""True""},{""Name"":""StopProcessingRules"",""Value"":""True""}],""SessionId"":""5b0c2a71-0d7e-4c2f-9a55-3f1e8b7c6d20""}",,"#,
        "\r\n",
        r#"0c1d2e3f-0000-4000-8000-000000000001,9/26/2023 1:51:34 AM,15,UserLoggedIn,adelev@m365x214355.onmicrosoft.com,"{""CreationTime"":""2023-09-26T01:51:34"",""Id"":""0c1d2e3f-0000-4000-8000-000000000001"",""Operation"":""UserLoggedIn"",""RecordType"":15,""ResultStatus"":""Success"",""Workload"":""AzureActiveDirectory"",""ClientIP"":""203.0.113.45"",""UserId"":""adelev@m365x214355.onmicrosoft.com"",""ErrorNumber"":""0"",""DeviceProperties"":[{""Name"":""OS"",""Value"":""MacOs""},{""Name"":""SessionId"",""Value"":""5b0c2a71-0d7e-4c2f-9a55-3f1e8b7c6d20""}]}",,"#,
        "\r\n",
    );

    #[test]
    fn purview_export_rows() {
        let i = Interner::new();
        let rows = run(&i, PURVIEW);
        assert_eq!(rows.len(), 3);

        let f = one(&rows[0]);
        assert_eq!(f.time, utc("2023-09-26T01:51:13"));
        assert_eq!(f.flags, 0);
        assert_eq!(f.line, 2);
        assert_eq!(f.file, 1);
        assert_eq!(f.record_type, Some(15));
        assert_eq!(i.resolve(f.operation), "UserLoginFailed");
        assert_eq!(
            f.outcome,
            Outcome::Failure,
            "ResultStatus Success on a failed logon"
        );
        assert_eq!(f.error_code.get(), Some(50126));
        assert_eq!(i.resolve(f.error_text), "InvalidUserNameOrPassword");
        assert_eq!(i.resolve(f.ip), "203.0.113.45");
        assert_eq!(i.resolve(f.actor), "AdeleV@M365x214355.OnMicrosoft.com");
        assert_eq!(i.resolve(f.actor_key), "adelev@m365x214355.onmicrosoft.com");
        assert_eq!(i.resolve(f.mailbox), "adelev@m365x214355.onmicrosoft.com");
        assert_eq!(i.resolve(f.workload), "AzureActiveDirectory");
        assert_eq!(i.resolve(f.app_id), "ee272b19-4411-433f-8f28-5c13cb6fd407");
        assert_eq!(
            i.resolve(f.user_agent),
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:109.0) Gecko/20100101 Firefox/114.0"
        );
        assert_eq!(i.resolve(f.object), "00000003-0000-0000-c000-000000000000");
        assert_eq!(f.record_id.text(&i), "b21a7da1-bd08-44ec-ac88-be14ae4d0500");
        assert_eq!(f.session_id, crate::event::Sym::EMPTY);
        assert_eq!(
            f.prop(&i, Bag::ExtendedProperties, "RequestType"),
            Some("Login:login")
        );
        assert_eq!(f.prop(&i, Bag::DeviceProperties, "OS"), Some("MacOs"));
        assert_eq!(
            f.prop(&i, Bag::Field, "Actor.5"),
            Some("AdeleV@M365x214355.OnMicrosoft.com")
        );
        assert_eq!(
            f.prop(&i, Bag::Field, "Actor.0"),
            Some("f757cb79-dd91-4555-a45e-520c2525d932")
        );
        assert_eq!(
            f.prop(&i, Bag::Field, "Target.0"),
            Some("00000003-0000-0000-c000-000000000000")
        );
        assert_eq!(f.prop(&i, Bag::Field, "UserType"), Some("0"));
        assert_eq!(f.prop(&i, Bag::Field, "ResultStatus"), Some("Success"));

        let r = one(&rows[1]);
        assert_eq!(r.time, utc("2023-09-26T01:56:15"));
        assert_eq!(r.record_type, Some(1));
        assert_eq!(i.resolve(r.operation), "New-InboxRule");
        assert_eq!(i.resolve(r.object), "..");
        assert_eq!(r.outcome, Outcome::Success);
        assert_eq!(i.resolve(r.ip), "203.0.113.45", "port stripped");
        assert_eq!(
            i.resolve(r.session_id),
            "5b0c2a71-0d7e-4c2f-9a55-3f1e8b7c6d20"
        );
        assert_eq!(i.resolve(r.token_id), "3kVZRE8tFkinHtPA7_EFAA");
        assert_eq!(i.resolve(r.app_id), "00000002-0000-0ff1-ce00-000000000000");
        assert_eq!(i.resolve(r.mailbox), "adelev@m365x214355.onmicrosoft.com");
        assert_eq!(r.error_code.get(), None);
        let params: Vec<(&str, &str)> = r
            .props()
            .iter()
            .filter(|p| p.bag == Bag::Parameters)
            .map(|p| (i.resolve(p.name), i.resolve(p.value)))
            .collect();
        assert_eq!(
            params,
            vec![
                ("AlwaysDeleteOutlookRulesBlob", "False"),
                ("Force", "False"),
                ("From", "billing@fabrikam.example"),
                ("MoveToFolder", "Conversation History"),
                ("Name", ".."),
                ("MarkAsRead", "True"),
                ("StopProcessingRules", "True"),
            ]
        );
        assert_eq!(r.prop(&i, Bag::Field, "ExternalAccess"), Some("False"));
        assert_eq!(r.prop(&i, Bag::Field, "UserType"), Some("2"));
        assert_eq!(
            r.prop(&i, Bag::Field, "OrganizationName"),
            Some("M365x214355.onmicrosoft.com")
        );
        assert_eq!(r.prop(&i, Bag::Field, "ClientAppId"), None);

        // Sign-in session ↔ mailbox action: the same interned session id.
        let s = one(&rows[2]);
        assert_eq!(s.outcome, Outcome::Success);
        assert_eq!(s.error_code.get(), Some(0));
        assert_eq!(s.session_id, r.session_id);
        assert_eq!(s.actor_key, f.actor_key);
    }

    #[test]
    fn search_unifiedauditlog_export_with_names_and_culture_dates() {
        let i = Interner::new();
        let csv_text = concat!(
            r#""RunspaceId","RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex","ResultCount","Identity","IsValid","ObjectState""#,
            "\n",
            r#""rs","ExchangeAdmin","3/12/2025 7:31:34 AM","Bob@Contoso.com","Set-Mailbox","{""CreationTime"":""2025-12-03T07:31:34"",""Id"":""g1"",""Operation"":""Set-Mailbox"",""ClientIP"":""[2001:db8::5]:443"",""Parameters"":[{""Name"":""Identity"",""Value"":""Carol@Contoso.com""},{""Name"":""ForwardingSmtpAddress"",""Value"":""smtp:x@evil.example""}]}","1","4","g1","True","Unchanged""#,
            "\n",
            r#""rs","ExchangeItem","3/12/2025 7:31:34 AM","Bob@Contoso.com","HardDelete","{""Id"":""g2"",""Operation"":""HardDelete"",""Folder"":{""Path"":""\\Sent Items""}}","2","4","g2","True","Unchanged""#,
            "\n",
            r#""rs","ExchangeItemAggregated","25.03.2025 17:01:02","Bob@Contoso.com","MailItemsAccessed","{""Id"":""g3"",""Oper","3","4","g3","True","Unchanged""#,
            "\n",
            r#""rs","ExchangeAdmin","","Bob@Contoso.com","Set-Mailbox","","4","4","g4","True","Unchanged""#,
            "\n",
        );
        let rows = run(&i, csv_text);
        let a = one(&rows[0]);
        assert_eq!(
            a.time,
            utc("2025-12-03T07:31:34"),
            "AuditData.CreationTime wins"
        );
        assert_eq!(a.flags, 0);
        assert_eq!(a.record_type, Some(1), "from the wrapper's RecordType name");
        assert_eq!(
            i.resolve(a.actor),
            "Bob@Contoso.com",
            "wrapper UserIds fills UserId"
        );
        assert_eq!(i.resolve(a.mailbox), "carol@contoso.com");
        assert_eq!(i.resolve(a.ip), "2001:db8::5");
        assert_eq!(
            a.prop(&i, Bag::Parameters, "ForwardingSmtpAddress"),
            Some("smtp:x@evil.example")
        );

        let b = one(&rows[1]);
        assert_eq!(b.time, utc("2025-03-12T07:31:34"), "read month-first");
        assert_eq!(b.flags, flags::TIME_FROM_WRAPPER | flags::TIME_AMBIGUOUS);
        assert_eq!(b.record_type, Some(2));
        assert_eq!(b.items()[0].folder(&i), Some("\\Sent Items"));

        // Truncated AuditData: the wrapper alone, raw text kept.
        let c = one(&rows[2]);
        assert_eq!(c.time, utc("2025-03-25T17:01:02"));
        assert_eq!(c.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(c.record_type, Some(50));
        assert_eq!(i.resolve(c.operation), "MailItemsAccessed");
        assert_eq!(c.record_id.text(&i), "g3");
        assert_eq!(
            c.prop(&i, Bag::Field, "AuditData"),
            Some(r#"{"Id":"g3","Oper"#)
        );

        // Empty AuditData and no date: nothing to place on a timeline.
        assert_eq!(
            rows[3].as_ref().unwrap_err().reason,
            "AuditData is empty and the row has no time and operation"
        );
    }

    #[test]
    fn classic_and_siem_shapes() {
        let i = Interner::new();
        let classic = concat!(
            "CreationDate,UserIds,Operations,AuditData\n",
            r#"2023-09-26T01:51:13.0000000Z,u@x.com,UserLoggedIn,"{""CreationTime"":""2023-09-26T01:51:13"",""Id"":""c1"",""Operation"":""UserLoggedIn"",""RecordType"":15,""ErrorNumber"":50140}""#,
            "\n",
        );
        let rows = run(&i, classic);
        let e = one(&rows[0]);
        assert_eq!(e.outcome, Outcome::Failure, "KMSI interrupt 50140");
        assert_eq!(i.resolve(e.actor), "u@x.com");

        // A SIEM re-export: shuffled, renamed, extra columns; Purview's quoted ISO date with a
        // trailing space; no AuditData CreationTime.
        let siem = concat!(
            "tenant,Operation,_time,AuditData,extra1,CreationDate,RecordId,UserId,RecordType,extra2\n",
            r#"t,FileDownloaded,x,"{""Id"":""s1"",""Workload"":""OneDrive"",""UserAgent"":""curl/8""}",e,"2026-01-24T06:54:24.0000000Z ",s1,u@x.com,6,e"#,
            "\n",
            ",,,,,,,,,\n",
        );
        let rows = run(&i, siem);
        let e = one(&rows[0]);
        assert_eq!(e.time, utc("2026-01-24T06:54:24"));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(e.record_type, Some(6));
        assert_eq!(i.resolve(e.operation), "FileDownloaded");
        assert_eq!(i.resolve(e.user_agent), "curl/8");
        assert!(
            rows[1].as_ref().unwrap().is_empty(),
            "blank rows yield nothing"
        );
    }

    #[test]
    fn header_without_auditdata_or_time_is_refused() {
        assert!(UalCsv::new(&Header::new(["Foo", "Operation"])).is_err());
        assert!(UalCsv::new(&Header::new(["CreationDate", "Bar"])).is_err());
        assert!(UalCsv::new(&Header::new(["CreationDate", "Operations"])).is_ok());
        assert!(UalCsv::new(&Header::new([" auditdata "])).is_ok());
    }

    #[test]
    fn malformed_rows_are_skipped_not_panics() {
        let i = Interner::new();
        let deep = format!("\"{}\"", "[".repeat(10_000));
        let deep_obj = format!(
            "\"{}\"",
            r#"{""Parameters"":[{""Name"":""a"",""Value"":"#.to_string() + &"[".repeat(10_000)
        );
        let rows: Vec<String> = vec![
            "not json".into(),
            "\"{\"\"Id\"\":\"\"x\"\"\"".into(),
            "\"{\"\"Id\"\":{}}\"".into(),
            "\"{\"\"Item\"\":\"\"str\"\"}\"".into(),
            "\"[1,2,3]\"".into(),
            deep,
            deep_obj,
            "\"{\"\"Id\"\":\"\"x\"\"}\"".into(),
            "".into(),
        ];
        let mut csv_text = String::from("Operations,AuditData\n");
        for r in &rows {
            csv_text.push_str("Op,");
            csv_text.push_str(r);
            csv_text.push('\n');
        }
        csv_text.push_str("OnlyOneCell\n");
        let got: Vec<String> = run(&i, &csv_text)
            .into_iter()
            .map(|r| r.unwrap_err().reason.into_owned())
            .collect();
        assert_eq!(
            got,
            vec![
                "AuditData is not valid JSON",
                "AuditData is not valid JSON",
                "AuditData has unexpected field types",
                "AuditData has unexpected field types",
                "AuditData has unexpected field types",
                "AuditData has unexpected field types",
                "AuditData is not valid JSON",
                "record has no time",
                "AuditData is empty and the row has no time and operation",
                "AuditData is empty and the row has no time and operation",
            ]
        );
    }
}

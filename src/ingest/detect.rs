//! Which export is this? Decided from the content (header row or first JSON record), never from
//! the file name: investigators rename files, and tools name them all `export.csv`.

use super::record::Header;
use super::source::Encoding;
use super::split::{JsonSplitter, Limits};
use serde::Serialize;

/// The export families mailsleuth reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Unified Audit Log as CSV.
    UalCsv,
    /// Unified Audit Log as JSON.
    UalJson,
    /// `Search-MailboxAuditLog` CSV.
    MailboxAudit,
    /// Message trace (any shape).
    MessageTrace,
    /// Entra ID sign-ins (any shape).
    Signin,
    /// Not an export mailsleuth reads.
    Unknown,
}

impl Kind {
    /// The stable name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UalCsv => "ual-csv",
            Kind::UalJson => "ual-json",
            Kind::MailboxAudit => "mailbox-audit",
            Kind::MessageTrace => "message-trace",
            Kind::Signin => "signin",
            Kind::Unknown => "unknown",
        }
    }
}

/// Which parser reads the records.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Parser {
    /// UAL CSV (`ual_csv`).
    UalCsv,
    /// Mailbox audit CSV.
    MailboxAuditCsv,
    /// Message trace CSV.
    TraceCsv,
    /// Sign-in CSV.
    SigninCsv,
    /// UAL JSON records.
    UalJson,
    /// Message trace JSON records.
    TraceJson,
    /// Sign-in JSON records.
    SigninJson,
}

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// Export family.
    pub kind: Kind,
    /// The specific shape (`purview-csv`, `graph-signin-json` …); for unknown files, `unknown`.
    pub format: &'static str,
    /// The parser, when the file is an export.
    pub parser: Option<Parser>,
    /// Why a file is `unknown`.
    pub reason: Option<String>,
}

impl Detection {
    fn known(kind: Kind, format: &'static str, parser: Parser) -> Self {
        Detection {
            kind,
            format,
            parser: Some(parser),
            reason: None,
        }
    }

    /// A file that is not an export, with the reason.
    pub fn unknown(reason: impl Into<String>) -> Self {
        Detection {
            kind: Kind::Unknown,
            format: "unknown",
            parser: None,
            reason: Some(reason.into()),
        }
    }
}

/// Decides the kind of a file from its decoded head.
pub fn detect(head: &[u8], encoding: Encoding, signature: Option<&str>) -> Detection {
    if let Some(sig) = signature {
        return Detection::unknown(format!("not an export: {sig}"));
    }
    if encoding == Encoding::Binary {
        return Detection::unknown("not an export: binary data");
    }
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.is_empty() {
        return Detection::unknown("empty file");
    }
    match trimmed.as_bytes()[0] {
        b'{' | b'[' => detect_json(head),
        _ => detect_csv(trimmed),
    }
}

/// The header line of a CSV: skips blank lines and PowerShell's `#TYPE` line.
pub fn csv_header_line(text: &str) -> Option<&str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| !l.trim().is_empty() && !l.starts_with("#TYPE"))
}

fn detect_csv(text: &str) -> Detection {
    let Some(line) = csv_header_line(text) else {
        return Detection::unknown("no header row");
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    let header = match rdr.read_record(&mut rec) {
        Ok(true) => Header::new(rec.iter()),
        _ => return Detection::unknown("no header row"),
    };
    classify_header(&header).unwrap_or_else(|| {
        let shown: String = line.chars().take(80).collect();
        Detection::unknown(format!(
            "not an export mailsleuth reads (first line: {:?})",
            crate::report::escape::terminal(&shown)
        ))
    })
}

/// Classifies a CSV header by its column names.
pub fn classify_header(h: &Header) -> Option<Detection> {
    let has = |n: &str| h.has(n);
    if has("auditdata") {
        let ps_columns = [
            "runspaceid",
            "pscomputername",
            "resultindex",
            "resultcount",
            "identity",
            "isvalid",
            "objectstate",
        ];
        let known = [
            "creationdate",
            "userids",
            "operations",
            "auditdata",
            "recordtype",
            "recordid",
            "operation",
            "userid",
            "associatedadminunits",
            "associatedadminunitsnames",
            "associatedadminunitnames",
            "pscomputername",
            "psshowcomputername",
            "runspaceid",
            "resultindex",
            "resultcount",
            "identity",
            "isvalid",
            "objectstate",
        ];
        let extra = h
            .names()
            .iter()
            .filter(|n| !known.contains(&n.as_str()))
            .count();
        let format = if extra > 3 {
            "siem-csv"
        } else if has("recordid") {
            "purview-csv"
        } else if ps_columns.iter().any(|c| has(c)) {
            "search-unifiedauditlog-csv"
        } else {
            "classic-csv"
        };
        return Some(Detection::known(Kind::UalCsv, format, Parser::UalCsv));
    }
    if has("operation")
        && (has("lastaccessed") || has("mailboxownerupn"))
        && (has("logontype") || has("operationresult"))
    {
        return Some(Detection::known(
            Kind::MailboxAudit,
            "search-mailboxauditlog-csv",
            Parser::MailboxAuditCsv,
        ));
    }
    if has("origin_timestamp_utc") || (has("recipient_status") && has("sender_address")) {
        return Some(Detection::known(
            Kind::MessageTrace,
            "historical-summary-csv",
            Parser::TraceCsv,
        ));
    }
    if has("date_time_utc") && (has("event_id") || has("recipient_address")) {
        return Some(Detection::known(
            Kind::MessageTrace,
            "historical-extended-csv",
            Parser::TraceCsv,
        ));
    }
    if has("messagetraceid") || (has("received") && has("senderaddress") && has("recipientaddress"))
    {
        return Some(Detection::known(
            Kind::MessageTrace,
            "get-messagetrace-csv",
            Parser::TraceCsv,
        ));
    }
    if has("date (utc)") && has("request id") {
        if has("authentication method") && !has("ip address") {
            return Some(Detection::unknown(
                "Entra sign-in authentication-details file: it only details sign-ins listed in \
                 the sign-in file itself, which is what mailsleuth reads",
            ));
        }
        let format = if has("service principal id") {
            "entra-serviceprincipal-csv"
        } else {
            "entra-portal-csv"
        };
        return Some(Detection::known(Kind::Signin, format, Parser::SigninCsv));
    }
    if has("createddatetime") && has("userprincipalname") {
        return Some(Detection::known(
            Kind::Signin,
            "entra-legacy-csv",
            Parser::SigninCsv,
        ));
    }
    None
}

fn detect_json(head: &[u8]) -> Detection {
    let mut splitter = JsonSplitter::new(head, Limits::default());
    let first = match splitter.next_batch() {
        Ok(Some(batch)) => batch.iter().next().map(|(t, _)| t.to_vec()),
        _ => None,
    };
    let Some(first) = first else {
        // The first record is longer than the head, or there is none: decide on key names.
        return detect_json_by_text(&String::from_utf8_lossy(head));
    };
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&first) {
        Ok(map) => classify_json_keys(&map).unwrap_or_else(|| {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            keys.sort_unstable();
            Detection::unknown(format!(
                "JSON records of a shape mailsleuth does not read (keys: {})",
                crate::report::escape::terminal(&keys.join(", "))
            ))
        }),
        Err(_) => detect_json_by_text(&String::from_utf8_lossy(&first)),
    }
}

/// Classifies a JSON record by its keys (compared without regard to case).
pub fn classify_json_keys(map: &serde_json::Map<String, serde_json::Value>) -> Option<Detection> {
    let get = |k: &str| {
        map.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    let has = |k: &str| get(k).is_some();
    let category = get("category").and_then(|v| v.as_str()).unwrap_or("");
    if has("properties") && category.to_ascii_lowercase().contains("signin") {
        return Some(Detection::known(
            Kind::Signin,
            "azure-diagnostic-json",
            Parser::SigninJson,
        ));
    }
    if has("auditlogrecordtype") {
        return Some(Detection::known(
            Kind::UalJson,
            "graph-audit-json",
            Parser::UalJson,
        ));
    }
    if has("auditdata") {
        return Some(Detection::known(
            Kind::UalJson,
            "wrapper-json",
            Parser::UalJson,
        ));
    }
    if has("creationtime") && (has("operation") || has("recordtype") || has("workload")) {
        return Some(Detection::known(
            Kind::UalJson,
            "auditdata-json",
            Parser::UalJson,
        ));
    }
    if has("messagetraceid") || (has("received") && has("senderaddress")) {
        return Some(Detection::known(
            Kind::MessageTrace,
            "reporting-json",
            Parser::TraceJson,
        ));
    }
    if has("receiveddatetime") && has("senderaddress") {
        return Some(Detection::known(
            Kind::MessageTrace,
            "graph-messagetrace-json",
            Parser::TraceJson,
        ));
    }
    if has("createddatetime")
        && (has("userprincipalname") || has("appdisplayname") || has("ipaddress"))
    {
        return Some(Detection::known(
            Kind::Signin,
            "graph-signin-json",
            Parser::SigninJson,
        ));
    }
    None
}

/// Fallback when the first record could not be parsed on its own (larger than the head).
fn detect_json_by_text(text: &str) -> Detection {
    let lower = text.to_ascii_lowercase();
    let has = |k: &str| lower.contains(&format!("\"{k}\""));
    let mut map = serde_json::Map::new();
    for key in [
        "properties",
        "auditlogrecordtype",
        "auditdata",
        "creationtime",
        "operation",
        "messagetraceid",
        "received",
        "senderaddress",
        "receiveddatetime",
        "createddatetime",
        "userprincipalname",
    ] {
        if has(key) {
            map.insert(key.into(), serde_json::Value::Null);
        }
    }
    if lower.contains("signinlogs") {
        map.insert("category".into(), "SignInLogs".into());
    }
    classify_json_keys(&map)
        .unwrap_or_else(|| Detection::unknown("JSON that holds no records mailsleuth reads"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> (Kind, &'static str) {
        let d = detect(text.as_bytes(), Encoding::Utf8, None);
        (d.kind, d.format)
    }

    #[test]
    fn csv_headers_are_recognised_by_name() {
        assert_eq!(
            kind("RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n"),
            (Kind::UalCsv, "purview-csv")
        );
        assert_eq!(
            kind("CreationDate,UserIds,Operations,AuditData\n"),
            (Kind::UalCsv, "classic-csv")
        );
        assert_eq!(
            kind("#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.UnifiedAuditLogEvent\r\n\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\n"),
            (Kind::UalCsv, "search-unifiedauditlog-csv")
        );
        assert_eq!(
            kind("_time,host,source,sourcetype,index,splunk_server,AuditData,Operations,UserIds,CreationDate\n"),
            (Kind::UalCsv, "siem-csv")
        );
        assert_eq!(
            kind("Operation,OperationResult,LogonType,ExternalAccess,DestFolderId,MailboxOwnerUPN,LastAccessed,Identity\n"),
            (Kind::MailboxAudit, "search-mailboxauditlog-csv")
        );
        assert_eq!(
            kind("\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\"\n"),
            (Kind::MessageTrace, "get-messagetrace-csv")
        );
        assert_eq!(
            kind("origin_timestamp_utc,sender_address,recipient_status,message_subject\n"),
            (Kind::MessageTrace, "historical-summary-csv")
        );
        assert_eq!(
            kind("date_time_utc,client_ip,event_id,recipient_address,sender_address\n"),
            (Kind::MessageTrace, "historical-extended-csv")
        );
        assert_eq!(
            kind("Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,Application ID ,IP address\n"),
            (Kind::Signin, "entra-portal-csv")
        );
        assert_eq!(
            kind("CreatedDateTime,UserPrincipalName,UserDisplayName,AppDisplayName,IPAddress\n"),
            (Kind::Signin, "entra-legacy-csv")
        );
    }

    #[test]
    fn json_records_are_recognised_by_keys() {
        assert_eq!(
            kind(
                "[{\"CreationTime\":\"2020-02-17T17:12:03\",\"Id\":\"x\",\"Operation\":\"Send\"}]"
            ),
            (Kind::UalJson, "auditdata-json")
        );
        assert_eq!(
            kind("{\"creationtime\":\"2022-12-12 22:19:00\",\"operation\":\"Set-Mailbox\"}\n"),
            (Kind::UalJson, "auditdata-json")
        );
        assert_eq!(
            kind("[\n {\"CreationDate\":\"\\/Date(1)\\/\",\"AuditData\":{\"Id\":\"1\"}}\n]"),
            (Kind::UalJson, "wrapper-json")
        );
        assert_eq!(
            kind("{\"value\":[{\"id\":\"1\",\"auditLogRecordType\":\"exchangeItem\",\"auditData\":{}}]}"),
            (Kind::UalJson, "graph-audit-json")
        );
        assert_eq!(
            kind("{\"category\":\"SignInLogs\",\"properties\":{},\"time\":\"x\"}"),
            (Kind::Signin, "azure-diagnostic-json")
        );
        assert_eq!(
            kind("{\"@odata.context\":\"x\",\"value\":[{\"id\":\"1\",\"createdDateTime\":\"x\",\"userPrincipalName\":\"a\"}]}"),
            (Kind::Signin, "graph-signin-json")
        );
        assert_eq!(
            kind("{\"Organization\":\"o\",\"MessageId\":\"<a>\",\"Received\":\"x\",\"SenderAddress\":\"s\",\"MessageTraceId\":\"t\"}"),
            (Kind::MessageTrace, "reporting-json")
        );
    }

    #[test]
    fn other_files_are_unknown_with_a_reason() {
        for text in [
            "# mailsleuth samples\n\nSome prose.\n",
            "key: value\nlist:\n  - a\n",
            "[{\"name\":\"x\"}]",
            "",
            "   \n  \n",
        ] {
            let d = detect(text.as_bytes(), Encoding::Utf8, None);
            assert_eq!(d.kind, Kind::Unknown, "{text:?}");
            assert!(d.reason.is_some());
        }
        let d = detect(b"x", Encoding::Binary, Some("PNG image"));
        assert_eq!(d.reason.as_deref(), Some("not an export: PNG image"));
    }
}

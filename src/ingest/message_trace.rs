//! Message trace (formats.md §C): `Get-MessageTrace` / `Get-MessageTraceV2 | Export-Csv`, the
//! Reporting Web Service OData JSON, Graph `exchangeMessageTrace`, and the EAC historical-search
//! reports (summary and extended/detail, usually UTF-16LE — the driver decodes).
//!
//! All shapes are read into one field table ([`F`]) by column or key name, compared without
//! case, so a CSV header, a PascalCase OData record, a camelCase Graph record and a snake_case
//! report row land in the same slots; one function ([`emit`]) then turns the slots into events.
//!
//! A message to several recipients becomes **one event per recipient**: BEC analysis asks "who
//! received this" (mailbox = recipient) and the trace's own identity is per recipient
//! (`MessageTraceId` + `RecipientAddress`). The record ids are therefore
//! * cmdlet / OData / Graph: `MessageTraceId|recipient`,
//! * summary report: `network_message_id|recipient`,
//! * detail report (and `Get-MessageTraceDetail`): `network_message_id|recipient|event_id|date_time_utc`,
//!
//! with the recipient lower-cased, and the message id standing in for a missing trace id.
//!
//! Kept fields (`props`, [`Bag::Field`], PascalCase names): `Status, RecipientStatus
//! (summary: this recipient's status list), ToIP, FromIP, Directionality, NetworkMessageId,
//! MessageTraceId, ConnectorId, Source, Reference, Organization, ClientIP, ClientHostname, ServerIP,
//! ServerHostname, SourceContext, OriginalClientIP, OriginalServerIP, ReturnPath,
//! RelatedRecipientAddress, DeliveryPriority, InternalMessageId, Action, Detail`.

use super::record::{CsvParser, Header, JsonParser, ParseCtx, ParseResult, Row, Skip};
use super::signin::ci::{self, Ci, CiFields, Val};
use crate::event::ip::normalize_ip;
use crate::event::time::{parse_iso, parse_ms_date, parse_wrapper};
use crate::event::{
    flags, normalize_operation, Bag, Details, ErrorCode, Event, Interner, MailItem, Outcome, Prop,
    SourceKind, Timestamp,
};
use serde::de::MapAccess;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The workload every message-trace event carries.
pub const TRACE_WORKLOAD: &str = "MessageTrace";
/// The operation of rows that are not per-hop detail rows.
pub const TRACE_OPERATION: &str = "MessageTrace";

/// The slots every shape is read into.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum F {
    /// `Received`, `receivedDateTime`, `origin_timestamp_utc`.
    Time,
    /// Detail rows: `date_time_utc`, `Get-MessageTraceDetail` `Date`.
    DetailTime,
    Sender,
    /// One address, or `;`-joined (detail report).
    Recipient,
    /// Summary report `addr##Status, Status;addr##…`.
    RecipientStatus,
    Subject,
    Status,
    ToIp,
    FromIp,
    Size,
    MessageId,
    TraceId,
    Organization,
    NetworkMessageId,
    OriginalClientIp,
    ClientIp,
    ClientHostname,
    ServerIp,
    ServerHostname,
    SourceContext,
    Source,
    EventId,
    Reference,
    Directionality,
    ConnectorId,
    DeliveryPriority,
    ReturnPath,
    RelatedRecipient,
    OriginalServerIp,
    InternalMessageId,
    Action,
    Detail,
}

/// Number of [`F`] slots.
const NF: usize = F::Detail as usize + 1;

/// The slot for a lower-cased column or key name. One table for CSV headers (already
/// normalised by [`Header`]) and JSON keys (folded by [`ci::Key`]).
fn field_of(name: &str) -> Option<F> {
    Some(match name {
        "received" | "receiveddatetime" | "origin_timestamp_utc" | "origin_timestamp" => F::Time,
        "date_time_utc" | "date_time" | "date" => F::DetailTime,
        "senderaddress" | "sender_address" | "sender" => F::Sender,
        "recipientaddress" | "recipient_address" | "recipient" => F::Recipient,
        "recipient_status" | "recipientstatus" => F::RecipientStatus,
        "subject" | "message_subject" | "messagesubject" => F::Subject,
        "status" | "deliverystatus" => F::Status,
        "toip" | "to_ip" => F::ToIp,
        "fromip" | "from_ip" => F::FromIp,
        "size" | "total_bytes" | "totalbytes" => F::Size,
        "messageid" | "message_id" | "internetmessageid" => F::MessageId,
        "messagetraceid" | "message_trace_id" | "id" => F::TraceId,
        "organization" => F::Organization,
        "network_message_id" | "networkmessageid" => F::NetworkMessageId,
        "original_client_ip" | "originalclientip" => F::OriginalClientIp,
        "client_ip" | "clientip" => F::ClientIp,
        "client_hostname" | "clienthostname" => F::ClientHostname,
        "server_ip" | "serverip" => F::ServerIp,
        "server_hostname" | "serverhostname" => F::ServerHostname,
        "source_context" | "sourcecontext" => F::SourceContext,
        "source" => F::Source,
        "event_id" | "eventid" | "event" => F::EventId,
        "reference" => F::Reference,
        "directionality" => F::Directionality,
        "connector_id" | "connectorid" => F::ConnectorId,
        "delivery_priority" | "deliverypriority" => F::DeliveryPriority,
        "return_path" | "returnpath" => F::ReturnPath,
        "related_recipient_address" | "relatedrecipientaddress" => F::RelatedRecipient,
        "original_server_ip" | "originalserverip" => F::OriginalServerIp,
        "internal_message_id" | "internalmessageid" => F::InternalMessageId,
        "action" => F::Action,
        "detail" => F::Detail,
        _ => return None,
    })
}

/// Slots copied to `props` as they are, with their prop names.
const PROP_SLOTS: &[(F, &str)] = &[
    (F::ToIp, "ToIP"),
    (F::FromIp, "FromIP"),
    (F::Directionality, "Directionality"),
    (F::NetworkMessageId, "NetworkMessageId"),
    (F::TraceId, "MessageTraceId"),
    (F::ConnectorId, "ConnectorId"),
    (F::Source, "Source"),
    (F::Reference, "Reference"),
    (F::Organization, "Organization"),
    (F::ClientIp, "ClientIP"),
    (F::ClientHostname, "ClientHostname"),
    (F::ServerIp, "ServerIP"),
    (F::ServerHostname, "ServerHostname"),
    (F::SourceContext, "SourceContext"),
    (F::OriginalClientIp, "OriginalClientIP"),
    (F::OriginalServerIp, "OriginalServerIP"),
    (F::ReturnPath, "ReturnPath"),
    (F::RelatedRecipient, "RelatedRecipientAddress"),
    (F::DeliveryPriority, "DeliveryPriority"),
    (F::InternalMessageId, "InternalMessageId"),
    (F::Action, "Action"),
    (F::Detail, "Detail"),
];

/// One record's slots, borrowing from the CSV row or the JSON text.
struct Fields<'a>([Val<'a>; NF]);

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields(std::array::from_fn(|_| Val::Null))
    }
}

impl<'a> Fields<'a> {
    fn get(&self, f: F) -> &Val<'a> {
        // NF is derived from the enum, so the index is always in range.
        &self.0[f as usize]
    }

    /// The slot as trimmed text ("" when absent; numbers are rendered).
    fn s(&self, f: F) -> Cow<'_, str> {
        self.get(f).text()
    }
}

impl<'de> CiFields<'de> for Fields<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match field_of(key) {
            Some(f) => {
                let v: Val<'de> = m.next_value()?;
                let slot = &mut self.0[f as usize];
                // Keep the first non-empty value, like the CSV header keeps the first column.
                if slot.is_empty() {
                    *slot = v;
                }
            }
            None => ci::skip(m)?,
        }
        Ok(())
    }
}

/// ISO first, then `/Date(ms)/`, then the culture-formatted forms (which set the wrapper flags:
/// `Export-Csv` renders `Received` in the exporting machine's culture).
fn read_time(s: &str) -> Option<(Timestamp, u8)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_iso(s).or_else(|| parse_ms_date(s)) {
        return Some((t, 0));
    }
    let w = parse_wrapper(s)?;
    let mut f = flags::TIME_FROM_WRAPPER;
    if w.ambiguous {
        f |= flags::TIME_AMBIGUOUS;
    }
    Some((w.time, f))
}

/// Outcome of a delivery status or event name. Success means the message reached (or was
/// handed on towards) the recipient; pending and intermediate hops say nothing.
fn status_outcome(s: &str) -> Outcome {
    const OK: &[&str] = &[
        "delivered",
        "deliver",
        "expanded",
        "expand",
        "resolved",
        "resolve",
        "send",
        "sent",
    ];
    const BAD: &[&str] = &[
        "failed",
        "fail",
        "filteredasspam",
        "quarantined",
        "quarantine",
        "drop",
        "dropped",
        "badmail",
    ];
    let s = s.trim();
    if OK.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        Outcome::Success
    } else if BAD.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        Outcome::Failure
    } else {
        Outcome::Unknown
    }
}

/// Outcome of a summary status list (`Receive, Deliver`): the last status decides; when it says
/// nothing, a `Deliver`/`Send` earlier in the list still means the message got through.
fn status_list_outcome(list: &str) -> Outcome {
    let last = list.rsplit(',').next().unwrap_or("");
    match status_outcome(last) {
        Outcome::Unknown
            if list.split(',').any(|s| {
                let s = s.trim();
                s.eq_ignore_ascii_case("deliver") || s.eq_ignore_ascii_case("send")
            }) =>
        {
            Outcome::Success
        }
        o => o,
    }
}

/// What kind of row a record is, which decides time column, operation, status and id.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Shape {
    /// One recipient, one status (`Get-MessageTrace`, OData, Graph).
    Trace,
    /// Historical-search summary: statuses per recipient in `recipient_status`.
    Summary,
    /// Per-hop detail row with an event id.
    Detail,
}

/// Turns one record's slots into one event per recipient.
fn emit(f: &Fields<'_>, line: u64, ctx: &ParseCtx<'_>, out: &mut Vec<Event>) -> ParseResult {
    let event_id = f.s(F::EventId);
    let detail_time = f.s(F::DetailTime);
    let recipient_status = f.s(F::RecipientStatus);
    let shape = if !event_id.is_empty() || !detail_time.is_empty() {
        Shape::Detail
    } else if !recipient_status.is_empty() {
        Shape::Summary
    } else {
        Shape::Trace
    };

    let time_slot = f.s(F::Time);
    let time_raw = if shape == Shape::Detail && !detail_time.is_empty() {
        &detail_time
    } else {
        &time_slot
    };
    if time_raw.is_empty() {
        return Err(Skip::new("message trace time missing"));
    }
    let (time, tflags) =
        read_time(time_raw).ok_or_else(|| Skip::new("unparseable message trace time"))?;

    let i = ctx.interner;
    let sender = f.s(F::Sender);
    let subject = f.s(F::Subject);
    let message_id = f.s(F::MessageId);
    let trace_id = f.s(F::TraceId);
    let network_id = f.s(F::NetworkMessageId);
    let status = f.s(F::Status);
    let size = f.get(F::Size).uint().map(MailItem::size_from);

    let from_ip = f.s(F::FromIp);
    let orig_ip = f.s(F::OriginalClientIp);
    let client_ip = f.s(F::ClientIp);
    let ip_raw = [&from_ip, &orig_ip, &client_ip]
        .into_iter()
        .find(|s| !s.is_empty())
        .map_or("", |s| s.as_ref());

    let base_id: &str = {
        let order: [&Cow<'_, str>; 3] = if shape == Shape::Trace {
            [&trace_id, &network_id, &message_id]
        } else {
            [&network_id, &trace_id, &message_id]
        };
        order
            .into_iter()
            .find(|s| !s.is_empty())
            .map_or("", |s| s.as_ref())
    };

    // Common part of every event of this record.
    let workload = i.intern(TRACE_WORKLOAD);
    let (op_raw, op) = if shape == Shape::Detail && !event_id.is_empty() {
        (
            i.intern(&event_id),
            i.intern(normalize_operation(&event_id)),
        )
    } else {
        let s = i.intern(TRACE_OPERATION);
        (s, s)
    };
    let mut common_props = Vec::new();
    for &(slot, name) in PROP_SLOTS {
        push_prop(&mut common_props, i, name, &f.s(slot));
    }
    let item = if message_id.is_empty() && subject.is_empty() && size.is_none() {
        None
    } else {
        Some(MailItem {
            folder: crate::event::Sym::EMPTY,
            internet_message_id: i.intern(message_id.trim()),
            subject: i.intern(subject.trim()),
            size: size.into(),
        })
    };
    let template = Event {
        time,
        source: SourceKind::MessageTrace,
        flags: tflags,
        outcome: Outcome::Unknown,
        record_type: None,
        error_code: ErrorCode::NONE,
        error_text: Default::default(),
        workload,
        operation_raw: op_raw,
        operation: op,
        actor: i.intern(&sender),
        actor_key: i.intern_lower(&sender),
        mailbox: Default::default(),
        ip: i.intern(&normalize_ip(ip_raw)),
        user_agent: Default::default(),
        app_id: Default::default(),
        session_id: Default::default(),
        token_id: Default::default(),
        object: i.intern(&subject),
        record_id: Default::default(),
        file: ctx.file,
        line: Event::line_from(line),
        props: Default::default(),
        details: None,
    };

    let mut id_buf = String::new();
    let mut emitted = 0usize;
    let mut one = |recipient: &str, statuses: Option<&str>| {
        let recipient = recipient.trim();
        if recipient.is_empty() {
            return;
        }
        let mut ev = template.clone();
        let recipient_key = i.intern_lower(recipient);
        ev.mailbox = recipient_key;
        // Status word and outcome.
        let mut props = common_props.clone();
        let (word, outcome) = match shape {
            Shape::Summary => {
                let list = statuses.unwrap_or("").trim();
                let last = list.rsplit(',').next().unwrap_or("").trim();
                push_prop(&mut props, i, "Status", last);
                push_prop(&mut props, i, "RecipientStatus", list);
                (last, status_list_outcome(list))
            }
            Shape::Detail => {
                push_prop(&mut props, i, "Status", &status);
                (event_id.as_ref(), status_outcome(&event_id))
            }
            Shape::Trace => {
                push_prop(&mut props, i, "Status", &status);
                (status.as_ref(), status_outcome(&status))
            }
        };
        ev.error_text = i.intern(word);
        ev.outcome = outcome;
        // Dedupe key.
        if !base_id.is_empty() {
            id_buf.clear();
            id_buf.push_str(base_id);
            id_buf.push('|');
            id_buf.push_str(i.resolve(recipient_key));
            if shape == Shape::Detail {
                let _ = write!(id_buf, "|{}|{}", event_id, time_raw.trim());
            }
            ev.record_id = crate::event::RecordId::new(i, &id_buf);
        }
        ev.props = i.share_props(&props);
        ev.details = Some(Box::new(Details {
            items: item.iter().cloned().collect(),
            dest_folder: Default::default(),
            sender: i.intern(sender.trim()),
            recipients: Box::new([i.intern(recipient)]),
        }));
        out.push(ev);
        emitted += 1;
    };

    let recipients = f.s(F::Recipient);
    if shape == Shape::Summary || (shape == Shape::Detail && recipients.is_empty()) {
        // `a@x##Receive, Deliver;b@y##Receive, Fail`
        for entry in recipient_status.split(';') {
            let (addr, list) = match entry.split_once("##") {
                Some((a, l)) => (a, Some(l)),
                None => (entry, None),
            };
            one(addr, list);
        }
    } else {
        for addr in recipients.split(';') {
            one(addr, None);
        }
    }
    if emitted == 0 {
        return Err(Skip::new("message trace row has no recipient"));
    }
    Ok(())
}

fn push_prop(props: &mut Vec<Prop>, i: &Interner, name: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("null") {
        return;
    }
    props.push(Prop {
        bag: Bag::Field,
        name: i.intern(name),
        value: i.intern(value),
        old: None,
    });
}

/// Message trace CSV: `Get-MessageTrace(V2) | Export-Csv`, the EAC historical-search summary
/// and extended reports, `Get-MessageTraceDetail` exports. Columns are mapped by name once.
pub struct TraceCsv {
    cols: [Option<usize>; NF],
}

impl TraceCsv {
    /// Maps the header's columns by name (first occurrence wins). Fails when the header has no
    /// time column or no recipient column: then it is not a message-trace file.
    pub fn new(header: &Header) -> Result<Self, String> {
        let mut cols = [None; NF];
        for (pos, name) in header.names().iter().enumerate() {
            if let Some(f) = field_of(name) {
                let slot = &mut cols[f as usize];
                if slot.is_none() {
                    *slot = Some(pos);
                }
            }
        }
        if cols[F::Time as usize].is_none() && cols[F::DetailTime as usize].is_none() {
            return Err(
                "no message-trace time column (Received / origin_timestamp_utc / date_time_utc)"
                    .into(),
            );
        }
        if cols[F::Recipient as usize].is_none() && cols[F::RecipientStatus as usize].is_none() {
            return Err("no recipient column (RecipientAddress / recipient_status)".into());
        }
        Ok(TraceCsv { cols })
    }
}

impl CsvParser for TraceCsv {
    fn parse_row(&self, row: &Row<'_>, ctx: &ParseCtx<'_>, out: &mut Vec<Event>) -> ParseResult {
        if row.is_blank() {
            return Err(Skip::new("blank row"));
        }
        let mut f = Fields::default();
        for (slot, col) in f.0.iter_mut().zip(self.cols) {
            if col.is_some() {
                let cell = row.get(col);
                if !cell.is_empty() {
                    *slot = Val::S(cell);
                }
            }
        }
        emit(&f, row.line, ctx, out)
    }
}

/// Message trace JSON: Reporting Web Service `MessageTrace` records, Graph
/// `exchangeMessageTrace` objects, and report rows converted to JSON (snake_case keys).
#[derive(Default)]
pub struct TraceJson;

impl TraceJson {
    /// A parser.
    pub fn new() -> Self {
        TraceJson
    }
}

impl JsonParser for TraceJson {
    fn parse_record(
        &self,
        text: &str,
        line: u64,
        ctx: &ParseCtx<'_>,
        out: &mut Vec<Event>,
    ) -> ParseResult {
        let rec: Ci<Fields<'_>> = serde_json::from_str(text)
            .map_err(|_| Skip::new("message trace record is not valid JSON"))?;
        if !rec.object {
            return Err(Skip::new("message trace record is not a JSON object"));
        }
        emit(&rec.v, line, ctx, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/samples/public/elastic_integrations_message_trace/"
    );

    fn json(i: &Interner, text: &str) -> Result<Vec<Event>, Skip> {
        let ctx = ParseCtx {
            interner: i,
            file: 2,
        };
        let mut out = Vec::new();
        TraceJson::new().parse_record(text, 11, &ctx, &mut out)?;
        Ok(out)
    }

    /// Parses a CSV text (header + rows) the way the driver does.
    fn csv_rows(i: &Interner, text: &str) -> Result<Vec<Result<Vec<Event>, Skip>>, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut recs = rdr.byte_records();
        let head = recs.next().ok_or("empty")?.map_err(|e| e.to_string())?;
        let header = Header::new(head.iter().map(|c| String::from_utf8_lossy(c).into_owned()));
        let parser = TraceCsv::new(&header)?;
        let ctx = ParseCtx {
            interner: i,
            file: 1,
        };
        let mut res = Vec::new();
        for (n, rec) in recs.enumerate() {
            let rec = rec.map_err(|e| e.to_string())?;
            let row = Row::new(&rec, n as u64 + 2);
            let mut out = Vec::new();
            res.push(parser.parse_row(&row, &ctx, &mut out).map(|()| out));
        }
        Ok(res)
    }

    fn prop<'e>(i: &'e Interner, ev: &Event, name: &str) -> Option<&'e str> {
        ev.prop(i, Bag::Field, name)
    }

    fn item(ev: &Event) -> &MailItem {
        &ev.items()[0]
    }

    /// The recipients kept in the details, as written.
    fn rcpts<'e>(i: &'e Interner, ev: &Event) -> Vec<&'e str> {
        let d = ev.details.as_deref().expect("a trace event has details");
        d.recipients.iter().map(|&r| i.resolve(r)).collect()
    }

    /// Splits a file of concatenated / newline-separated JSON objects (top-level braces only,
    /// string-aware) — the driver's job, done here just enough for the samples.
    fn objects(text: &str) -> Vec<&str> {
        let (mut out, mut depth, mut start) = (Vec::new(), 0usize, 0usize);
        let (mut in_str, mut esc) = (false, false);
        for (n, c) in text.char_indices() {
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '{' => {
                    if depth == 0 {
                        start = n;
                    }
                    depth += 1;
                }
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(&text[start..=n]);
                    }
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn elastic_reporting_service_records() {
        let i = Interner::new();
        let mut all = Vec::new();
        for name in [
            "microsoft_exchange_online_message_trace_test.ndjson.log",
            "test-log.log",
        ] {
            let path = format!("{SAMPLES}{name}");
            let Ok(text) = std::fs::read_to_string(&path) else {
                eprintln!("skipping: {path} not readable");
                return;
            };
            for obj in objects(&text) {
                let evs = json(&i, obj).unwrap_or_else(|s| panic!("{name}: {s:?}"));
                assert_eq!(evs.len(), 1);
                all.extend(evs);
            }
        }
        assert_eq!(all.len(), 3);
        for ev in &all {
            assert_eq!(ev.source, SourceKind::MessageTrace);
            assert_eq!(i.resolve(ev.workload), "MessageTrace");
            assert_eq!(i.resolve(ev.operation), "MessageTrace");
            assert_eq!(i.resolve(ev.operation_raw), "MessageTrace");
            assert_eq!(ev.outcome, Outcome::Success);
            assert_eq!(i.resolve(ev.error_text), "Delivered");
            assert_eq!(ev.flags, 0);
            assert_eq!(ev.line, 11);
            assert_eq!(ev.file, 2);
            assert_eq!(prop(&i, ev, "Status"), Some("Delivered"));
        }

        let ev = &all[0];
        assert_eq!(ev.time.to_rfc3339(), "2022-10-21T17:25:36.969376Z");
        assert_eq!(i.resolve(ev.ip), "40.107.23.54");
        assert_eq!(i.resolve(ev.actor), "noreply@azure.microsoft.com");
        assert_eq!(i.resolve(ev.mailbox), "linus@contoso.com");
        assert_eq!(i.resolve(ev.object), "testmail 2");
        assert_eq!(
            ev.record_id.text(&i),
            "a5e6dc0f-23df-4b20-d240-08dab38944a1|linus@contoso.com"
        );
        assert_eq!(
            item(ev).internet_message_id(&i),
            Some("<GVAP278MB037586A65EF1FB2F844B0258DA2D9@GVAP278MB0375.CHEP278.PROD.OUTLOOK.COM>")
        );
        assert_eq!(item(ev).subject(&i), Some("testmail 2"));
        assert_eq!(item(ev).size(), Some(22761));
        let d = ev.details.as_deref().unwrap();
        assert_eq!(d.sender(&i), Some("noreply@azure.microsoft.com"));
        assert_eq!(rcpts(&i, ev), ["linus@contoso.com"]);
        assert_eq!(prop(&i, ev, "ToIP"), None, "ToIP: null is dropped");
        assert_eq!(prop(&i, ev, "FromIP"), Some("40.107.23.54"));
        assert_eq!(prop(&i, ev, "Organization"), Some("contoso.com"));
        assert_eq!(
            prop(&i, ev, "MessageTraceId"),
            Some("a5e6dc0f-23df-4b20-d240-08dab38944a1")
        );

        let ev = &all[1];
        assert_eq!(ev.time.to_rfc3339(), "2022-10-21T17:25:30.600688Z");
        assert_eq!(i.resolve(ev.ip), "40.107.23.81");
        assert_eq!(item(ev).size(), Some(22704));
        assert_eq!(
            ev.record_id.text(&i),
            "a6f62809-5cda-4454-0962-08dab38940d6|linus@contoso.com"
        );

        // `Received` without a zone is UTC.
        let ev = &all[2];
        assert_eq!(ev.time.to_rfc3339(), "2022-09-05T18:10:13.490765Z");
        assert_eq!(i.resolve(ev.ip), "81.2.69.144");
        assert_eq!(prop(&i, ev, "ToIP"), Some("216.160.83.56"));
        assert_eq!(i.resolve(ev.actor), "azure-noreply@microsoft.com");
        assert_eq!(i.resolve(ev.mailbox), "linus@wildsecurity.onmicrosoft.com");
        assert_eq!(
            ev.record_id.text(&i),
            "cf7a249a-5edd-4350-130a-08da8f69e0f6|linus@wildsecurity.onmicrosoft.com"
        );
        assert_eq!(
            item(ev).internet_message_id(&i),
            Some("<a210cf91-4f2e-484c-8ada-3b27064ee5e3@az.uksouth.production.microsoft.com>")
        );
        assert_eq!(item(ev).size(), Some(87891));
    }

    #[test]
    fn graph_exchange_message_trace_camel_case() {
        let i = Interner::new();
        let g = r#"{"id":"4c7a0bd6-8f5b-4d3c-a1e2-08dc1f2e3a4b","receivedDateTime":"2024-02-01T10:00:00Z",
            "senderAddress":"Attacker@Evil.example","recipientAddress":"CFO@Contoso.com","messageId":"<abc@evil.example>",
            "fromIP":"[2001:db8::1]:25","toIP":"","status":"filteredAsSpam","subject":"Wire transfer","size":"1234"}"#;
        let ev = &json(&i, g).unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2024-02-01T10:00:00Z");
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(i.resolve(ev.error_text), "filteredAsSpam");
        assert_eq!(i.resolve(ev.actor), "Attacker@Evil.example");
        assert_eq!(i.resolve(ev.actor_key), "attacker@evil.example");
        assert_eq!(i.resolve(ev.mailbox), "cfo@contoso.com");
        assert_eq!(i.resolve(ev.ip), "2001:db8::1");
        assert_eq!(
            ev.record_id.text(&i),
            "4c7a0bd6-8f5b-4d3c-a1e2-08dc1f2e3a4b|cfo@contoso.com"
        );
        assert_eq!(item(ev).size(), Some(1234));
        assert_eq!(
            rcpts(&i, ev),
            ["CFO@Contoso.com"],
            "recipient kept as written in details"
        );
    }

    #[test]
    fn cmdlet_csv_with_culture_dates() {
        // The driver drops an optional `#TYPE …` line; the header comes first here.
        let csv = "\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"\r\n\
\"outlook.office365.com\",\"5a6f6f0e-1111-2222-3333-444455556666\",\"False\",\"contoso.onmicrosoft.com\",\"<CH3PR10MB7864A@CH3PR10MB7864.namprd10.prod.outlook.com>\",\"3/10/2025 2:05:09 PM\",\"AdeleV@Contoso.com\",\"billing@fabrikam.example\",\"RE: Invoice 4411 - updated bank details\",\"Delivered\",\"\",\"203.0.113.45\",\"48211\",\"0b4f3a1c-aaaa-bbbb-cccc-08dd5f1e2d3c\",\"3/1/2025 12:00:00 AM\",\"3/11/2025 12:00:00 AM\",\"0\"\r\n\
\"outlook.office365.com\",\"5a6f6f0e-1111-2222-3333-444455556666\",\"False\",\"contoso.onmicrosoft.com\",\"<x2@evil.example>\",\"25.03.2025 14:05:09\",\"ceo@contoso.com\",\"adelev@contoso.com\",\"Urgent\",\"Failed\",\"\",\"198.51.100.9\",\"1000\",\"\",\"\",\"\",\"1\"\r\n\
\"outlook.office365.com\",\"5a6f6f0e-1111-2222-3333-444455556666\",\"False\",\"contoso.onmicrosoft.com\",\"<x3@evil.example>\",\"\",\"ceo@contoso.com\",\"adelev@contoso.com\",\"Urgent\",\"Pending\",\"\",\"\",\"\",\"t3\",\"\",\"\",\"2\"\r\n\
\"outlook.office365.com\",\"5a6f6f0e-1111-2222-3333-444455556666\",\"False\",\"contoso.onmicrosoft.com\",\"<x4@evil.example>\",\"someday\",\"ceo@contoso.com\",\"adelev@contoso.com\",\"Urgent\",\"Pending\",\"\",\"\",\"\",\"t4\",\"\",\"\",\"3\"\r\n\
\"outlook.office365.com\",\"5a6f6f0e-1111-2222-3333-444455556666\",\"False\",\"contoso.onmicrosoft.com\",\"<x5@evil.example>\",\"2025-03-10T14:05:09.1234567\",\"ceo@contoso.com\",\"\",\"Urgent\",\"Pending\",\"\",\"\",\"\",\"t5\",\"\",\"\",\"4\"\r\n";
        let i = Interner::new();
        let rows = csv_rows(&i, csv).unwrap();
        assert_eq!(rows.len(), 5);
        let ev = &rows[0].as_ref().unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2025-03-10T14:05:09Z", "month-first");
        assert_eq!(ev.flags, flags::TIME_FROM_WRAPPER | flags::TIME_AMBIGUOUS);
        assert_eq!(ev.line, 2);
        assert_eq!(i.resolve(ev.actor), "AdeleV@Contoso.com");
        assert_eq!(i.resolve(ev.actor_key), "adelev@contoso.com");
        assert_eq!(i.resolve(ev.mailbox), "billing@fabrikam.example");
        assert_eq!(i.resolve(ev.ip), "203.0.113.45");
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(
            ev.record_id.text(&i),
            "0b4f3a1c-aaaa-bbbb-cccc-08dd5f1e2d3c|billing@fabrikam.example"
        );
        assert_eq!(
            i.resolve(ev.object),
            "RE: Invoice 4411 - updated bank details"
        );
        assert_eq!(item(ev).size(), Some(48211));
        assert_eq!(
            item(ev).internet_message_id(&i),
            Some("<CH3PR10MB7864A@CH3PR10MB7864.namprd10.prod.outlook.com>")
        );
        assert_eq!(
            prop(&i, ev, "Organization"),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(prop(&i, ev, "ToIP"), None);

        // de-DE date, no trace id: the message id stands in.
        let ev = &rows[1].as_ref().unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2025-03-25T14:05:09Z");
        assert_eq!(ev.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(i.resolve(ev.error_text), "Failed");
        assert_eq!(
            ev.record_id.text(&i),
            "<x2@evil.example>|adelev@contoso.com"
        );

        assert_eq!(
            rows[2].as_ref().unwrap_err().reason,
            "message trace time missing"
        );
        assert_eq!(
            rows[3].as_ref().unwrap_err().reason,
            "unparseable message trace time"
        );
        assert_eq!(
            rows[4].as_ref().unwrap_err().reason,
            "message trace row has no recipient"
        );
    }

    #[test]
    fn historical_summary_one_event_per_recipient() {
        // Header as decoded from the UTF-16LE report (BOM left in the first name).
        let csv = "\u{feff}origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality,connector_id,delivery_priority\r\n\
2024-03-05T14:22:11.5531234Z,AdeleV@contoso.com,\"CEO@contoso.com##Receive, Deliver;partner@fabrikam.example##Receive, Send;gone@fabrikam.example##Receive, Fail\",Payment update,51234,<BN8PR@contoso.com>,9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f,203.0.113.45,Originating,,Normal\r\n\
2024-03-05T14:23:00Z,AdeleV@contoso.com,\"CFO@contoso.com##Receive\",Payment update,51234,<BN8PQ@contoso.com>,,[203.0.113.45]:443,Originating,,Normal\r\n\
2024-03-05T14:24:00Z,AdeleV@contoso.com,;;,x,1,<m@x>,n,1.2.3.4,Inbound,,Normal\r\n";
        let i = Interner::new();
        let rows = csv_rows(&i, csv).unwrap();
        let evs = rows[0].as_ref().unwrap();
        assert_eq!(evs.len(), 3);
        let mailboxes: Vec<&str> = evs.iter().map(|e| i.resolve(e.mailbox)).collect();
        assert_eq!(
            mailboxes,
            [
                "ceo@contoso.com",
                "partner@fabrikam.example",
                "gone@fabrikam.example"
            ]
        );
        let statuses: Vec<&str> = evs.iter().map(|e| i.resolve(e.error_text)).collect();
        assert_eq!(statuses, ["Deliver", "Send", "Fail"]);
        let outcomes: Vec<Outcome> = evs.iter().map(|e| e.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Success, Outcome::Success, Outcome::Failure]
        );
        for ev in evs {
            assert_eq!(ev.time.to_rfc3339(), "2024-03-05T14:22:11.553123Z");
            assert_eq!(ev.flags, 0);
            assert_eq!(i.resolve(ev.ip), "203.0.113.45");
            assert_eq!(i.resolve(ev.actor), "AdeleV@contoso.com");
            assert_eq!(i.resolve(ev.operation), "MessageTrace");
            assert_eq!(item(ev).size(), Some(51234));
            assert_eq!(item(ev).subject(&i), Some("Payment update"));
            assert_eq!(prop(&i, ev, "Directionality"), Some("Originating"));
            assert_eq!(
                prop(&i, ev, "NetworkMessageId"),
                Some("9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f")
            );
            assert_eq!(prop(&i, ev, "ConnectorId"), None);
        }
        assert_eq!(
            evs[0].record_id.text(&i),
            "9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f|ceo@contoso.com"
        );
        assert_eq!(prop(&i, &evs[2], "RecipientStatus"), Some("Receive, Fail"));
        assert_eq!(prop(&i, &evs[2], "Status"), Some("Fail"));
        assert_eq!(rcpts(&i, &evs[0]), ["CEO@contoso.com"]);

        // Receive only: unknown; no network id: message id stands in.
        let ev = &rows[1].as_ref().unwrap()[0];
        assert_eq!(ev.outcome, Outcome::Unknown);
        assert_eq!(ev.record_id.text(&i), "<BN8PQ@contoso.com>|cfo@contoso.com");
        assert_eq!(i.resolve(ev.ip), "203.0.113.45");

        assert_eq!(
            rows[2].as_ref().unwrap_err().reason,
            "message trace row has no recipient"
        );
    }

    #[test]
    fn historical_detail_rows() {
        let csv = "date_time_utc,client_ip,client_hostname,server_ip,server_hostname,source_context,connector_id,source,event_id,internal_message_id,message_id,network_message_id,recipient_address,recipient_status,total_bytes,recipient_count,related_recipient_address,reference,message_subject,sender_address,return_path,message_info,directionality,tenant_id,original_client_ip,original_server_ip,custom_data\r\n\
2024-03-05T14:22:12.1000000Z,10.1.2.3,BN8PR10MB1234.namprd10.prod.outlook.com,10.4.5.6,BN8PR10MB5678.namprd10.prod.outlook.com,,,MAILBOXRULE,REDIRECT,1234567,<BN8PR@contoso.com>,9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f,Drop@Evil.example;copy@evil.example,,51234,2,ceo@contoso.com,<orig@fabrikam.example>,Payment update,ceo@contoso.com,ceo@contoso.com,2024-03-05T14:22:11.553Z,Originating,df233d94-fed3-4436-bf9a-a799fb85a159,203.0.113.45,,\"S:Foo=bar;\nS:Multi=line\"\r\n\
2024-03-05T14:22:13Z,,,,,,,STOREDRIVER,DELIVER,1234567,<BN8PR@contoso.com>,9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f,ceo@contoso.com,,51234,1,,,Payment update,adelev@contoso.com,,,Originating,,,,\r\n\
,,,,,,,STOREDRIVER,FAIL,1,<m@x>,n,a@b.c,,,,,,,,,,,,,,\r\n";
        let i = Interner::new();
        let rows = csv_rows(&i, csv).unwrap();
        let evs = rows[0].as_ref().unwrap();
        assert_eq!(evs.len(), 2);
        let ev = &evs[0];
        assert_eq!(ev.time.to_rfc3339(), "2024-03-05T14:22:12.100000Z");
        assert_eq!(i.resolve(ev.operation_raw), "REDIRECT");
        assert_eq!(i.resolve(ev.operation), "REDIRECT");
        assert_eq!(i.resolve(ev.error_text), "REDIRECT");
        assert_eq!(ev.outcome, Outcome::Unknown);
        assert_eq!(i.resolve(ev.mailbox), "drop@evil.example");
        assert_eq!(i.resolve(evs[1].mailbox), "copy@evil.example");
        assert_eq!(
            i.resolve(ev.ip),
            "203.0.113.45",
            "original client before hop"
        );
        assert_eq!(
            ev.record_id.text(&i),
            "9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f|drop@evil.example|REDIRECT|2024-03-05T14:22:12.1000000Z"
        );
        assert_eq!(prop(&i, ev, "Source"), Some("MAILBOXRULE"));
        assert_eq!(prop(&i, ev, "Reference"), Some("<orig@fabrikam.example>"));
        assert_eq!(prop(&i, ev, "ClientIP"), Some("10.1.2.3"));
        assert_eq!(
            prop(&i, ev, "RelatedRecipientAddress"),
            Some("ceo@contoso.com")
        );
        assert_eq!(prop(&i, ev, "InternalMessageId"), Some("1234567"));
        assert_eq!(item(ev).size(), Some(51234));

        let ev = &rows[1].as_ref().unwrap()[0];
        assert_eq!(i.resolve(ev.operation), "DELIVER");
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(i.resolve(ev.ip), "", "no client ip on a store-driver hop");
        assert_eq!(
            ev.record_id.text(&i),
            "9f0e1d2c-3b4a-5968-7a6b-08dc3c4d5e6f|ceo@contoso.com|DELIVER|2024-03-05T14:22:13Z"
        );

        assert_eq!(
            rows[2].as_ref().unwrap_err().reason,
            "message trace time missing"
        );
    }

    #[test]
    fn message_trace_detail_cmdlet_rows() {
        let csv = "Date,Event,Action,Detail,Data,MessageId,MessageTraceId,RecipientAddress\n\
2025-03-10T14:05:10.0000000,Fail,,Reason: [{LED=550 5.1.10 RESOLVER.ADR.RecipientNotFound}],<root/>,<m@x>,t1,nobody@fabrikam.example\n";
        let i = Interner::new();
        let rows = csv_rows(&i, csv).unwrap();
        let ev = &rows[0].as_ref().unwrap()[0];
        assert_eq!(i.resolve(ev.operation), "Fail");
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(
            ev.record_id.text(&i),
            "t1|nobody@fabrikam.example|Fail|2025-03-10T14:05:10.0000000"
        );
        assert!(prop(&i, ev, "Detail")
            .unwrap()
            .contains("RecipientNotFound"));
    }

    #[test]
    fn near_misses() {
        let i = Interner::new();
        for (text, reason) in [
            ("{\"Received\":", "message trace record is not valid JSON"),
            (
                "[{\"Received\":\"2024-01-01\"}]",
                "message trace record is not a JSON object",
            ),
            ("null", "message trace record is not a JSON object"),
            (
                r#"{"RecipientAddress":"a@b.c"}"#,
                "message trace time missing",
            ),
            (
                r#"{"Received":"2024-13-45T00:00:00","RecipientAddress":"a@b.c"}"#,
                "unparseable message trace time",
            ),
            (
                r#"{"Received":"2024-01-01T00:00:00Z","RecipientAddress":null}"#,
                "message trace row has no recipient",
            ),
        ] {
            assert_eq!(json(&i, text).expect_err(text).reason, reason, "{text}");
        }
        // Odd types are tolerated.
        let ev = &json(
            &i,
            r#"{"Received":"2024-01-01T00:00:00Z","RecipientAddress":"a@b.c","Size":[1],"Status":7,"Subject":{"x":1}}"#,
        )
        .unwrap()[0];
        assert_eq!(ev.items().len(), 0);
        assert_eq!(i.resolve(ev.error_text), "7");
        assert!(ev.record_id.is_empty(), "no id to dedupe on");

        assert!(TraceCsv::new(&Header::new(["SenderAddress", "RecipientAddress"])).is_err());
        assert!(TraceCsv::new(&Header::new(["Received", "SenderAddress"])).is_err());
        assert!(TraceCsv::new(&Header::new(["origin_timestamp_utc", "recipient_status"])).is_ok());
    }

    #[test]
    fn status_words() {
        assert_eq!(status_outcome("Delivered"), Outcome::Success);
        assert_eq!(status_outcome("EXPANDED"), Outcome::Success);
        assert_eq!(status_outcome("Quarantined"), Outcome::Failure);
        assert_eq!(status_outcome("FilteredAsSpam"), Outcome::Failure);
        assert_eq!(status_outcome("Pending"), Outcome::Unknown);
        assert_eq!(status_outcome("GettingStatus"), Outcome::Unknown);
        assert_eq!(status_list_outcome("Receive, Deliver"), Outcome::Success);
        assert_eq!(status_list_outcome("Receive, Fail"), Outcome::Failure);
        assert_eq!(status_list_outcome("Receive"), Outcome::Unknown);
        assert_eq!(status_list_outcome("Deliver, Defer"), Outcome::Success);
    }
}

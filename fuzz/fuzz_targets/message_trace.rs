//! Message trace, CSV and JSON. JSON-looking input goes through `TraceJson`; anything else
//! through `TraceCsv` with its own header or, by input length parity, the EAC historical-summary
//! or the `Get-MessageTrace | Export-Csv` header in front.
#![no_main]
use fuzz_support::{looks_json, run_csv, run_json};
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::message_trace::{TraceCsv, TraceJson};
use mailsleuth::ingest::record::{CsvParser, Header};

const SUMMARY: &str = r#""origin_timestamp_utc","sender_address","recipient_status","message_subject","total_bytes","message_id","network_message_id","original_client_ip","directionality","connector_id","delivery_priority""#;
const GET_MESSAGETRACE: &str = r#""PSComputerName","RunspaceId","PSShowComputerName","Organization","MessageId","Received","SenderAddress","RecipientAddress","Subject","Status","ToIP","FromIP","Size","MessageTraceId","StartDate","EndDate","Index""#;

fn build(h: &Header) -> Result<Box<dyn CsvParser>, String> {
    Ok(Box::new(TraceCsv::new(h)?))
}

fuzz_target!(|data: &[u8]| {
    if looks_json(data) {
        run_json(data, &TraceJson::new());
    } else {
        let header = if data.len().is_multiple_of(2) {
            SUMMARY
        } else {
            GET_MESSAGETRACE
        };
        run_csv(data, header, build);
    }
});

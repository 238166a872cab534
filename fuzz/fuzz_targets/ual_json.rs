//! UAL JSON files (bare AuditData, PowerShell / Extractor-Suite wrappers, Graph, Panther):
//! `JsonSplitter` over short reads, then `UalJson` on every record, as the driver does.
#![no_main]
use fuzz_support::run_json;
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::ual_json::UalJson;

fuzz_target!(|data: &[u8]| {
    run_json(data, &UalJson::new());
});

//! UAL CSV rows through `UalCsv`: a fixed Purview header + fuzzed rows (or the input's own
//! header when `UalCsv` accepts it), split by `CsvSplitter` and parsed as the driver does.
#![no_main]
use fuzz_support::run_csv;
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::record::{CsvParser, Header};
use mailsleuth::ingest::ual_csv::UalCsv;

const PURVIEW: &str = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,\
AssociatedAdminUnits,AssociatedAdminUnitsNames";

fn build(h: &Header) -> Result<Box<dyn CsvParser>, String> {
    Ok(Box::new(UalCsv::new(h)?))
}

fuzz_target!(|data: &[u8]| {
    run_csv(data, PURVIEW, build);
});

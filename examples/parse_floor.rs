//! The parse floor for benchmarks: read a UAL CSV and parse every `AuditData` cell into a
//! `serde_json::Value`, on all cores, and do nothing else. `mailsleuth analyze` does far more
//! (detection, dedupe, typed parsing, correlation, every report), and docs/BENCHMARKS.md compares
//! the two on the same file.
//!
//! `cargo run --release --example parse_floor -- FILE.csv [FILE.csv …]`

use rayon::prelude::*;
use std::time::Instant;

const BATCH: usize = 8192;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: parse_floor FILE.csv…");
        std::process::exit(2);
    }
    let start = Instant::now();
    let (mut records, mut bytes, mut bad) = (0u64, 0u64, 0u64);
    for path in &paths {
        bytes += std::fs::metadata(path)?.len();
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
        let col = rdr
            .headers()?
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case("AuditData"))
            .ok_or("no AuditData column")?;
        let mut batch: Vec<csv::ByteRecord> = Vec::with_capacity(BATCH);
        let mut rec = csv::ByteRecord::new();
        loop {
            let more = rdr.read_byte_record(&mut rec)?;
            if more {
                batch.push(rec.clone());
            }
            if batch.len() == BATCH || (!more && !batch.is_empty()) {
                bad += batch
                    .par_iter()
                    .map(|r| {
                        let cell = r.get(col).unwrap_or_default();
                        u64::from(serde_json::from_slice::<serde_json::Value>(cell).is_err())
                    })
                    .sum::<u64>();
                records += batch.len() as u64;
                batch.clear();
            }
            if !more {
                break;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{records} records ({bad} unparsable), {:.1} MB in {secs:.2} s: {:.1} MB/s, {:.0} records/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        records as f64 / secs
    );
    Ok(())
}

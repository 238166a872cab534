//! `JsonSplitter` over arbitrary bytes with small limits and short reads.
//!
//! Input: 3 parameter bytes (max record size, batch size, read pattern), then the text.
//! Invariants: records are bracketed values within the size limit, lines never go backwards
//! and exist in the input. Differential oracle: when the whole input is a stream of valid JSON
//! values (per serde_json) with no envelope key and every record fits the limit, the records
//! are exactly the objects/arrays of the top-level arrays plus the top-level objects, in order.
#![no_main]
use fuzz_support::{fnv, Chunked};
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::split::{JsonSplitter, Limits};
use serde_json::Value;

fn expected(body: &[u8]) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_slice(body).into_iter::<Value>() {
        match v.ok()? {
            Value::Array(items) => {
                out.extend(items.into_iter().filter(|e| e.is_object() || e.is_array()))
            }
            Value::Object(m) => {
                if m.keys()
                    .any(|k| k.eq_ignore_ascii_case("value") || k.eq_ignore_ascii_case("records"))
                {
                    return None; // envelope rules: not modelled here
                }
                out.push(Value::Object(m));
            }
            _ => {}
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let (params, body) = data.split_at(data.len().min(3));
    let p = |i: usize| params.get(i).copied().unwrap_or(0) as usize;
    let limits = Limits {
        max_record_bytes: 1 + p(0) * 8,
        batch_bytes: 1 + p(1) * 8,
    };
    let seed = fnv(body) ^ (p(2) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let lines = 1 + body.iter().filter(|&&b| b == b'\n').count() as u64;

    let mut splitter = JsonSplitter::new(Chunked::new(body, seed), limits);
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut skips = Vec::new();
    let mut last_line = 0u64;
    let mut batches = 0usize;
    let mut total = 0usize;
    while let Some(batch) = splitter.next_batch().expect("in-memory reads do not fail") {
        batches += 1;
        assert!(batches <= body.len() + 1, "splitter does not terminate");
        assert!(!batch.records.is_empty(), "batch without records");
        for (text, line) in batch.iter() {
            assert!(
                matches!(text.first(), Some(b'{' | b'['))
                    && matches!(text.last(), Some(b'}' | b']')),
                "record is not a bracketed value: {:?}",
                String::from_utf8_lossy(text)
            );
            assert!(
                text.len() <= limits.max_record_bytes + 1,
                "record of {} bytes passed the {} limit",
                text.len(),
                limits.max_record_bytes
            );
            assert!(
                line >= 1 && line <= lines,
                "record line {line} not in 1..={lines}"
            );
            assert!(line >= last_line, "record line went backwards");
            last_line = line;
            total += text.len();
            records.push(text.to_vec());
        }
        skips.extend(splitter.take_skips());
    }
    skips.extend(splitter.take_skips());
    assert!(
        total <= body.len(),
        "records hold more bytes than the input"
    );
    for s in &skips {
        assert!(
            s.line >= 1 && s.line <= lines,
            "skip line {} not in 1..={lines}",
            s.line
        );
    }
    let _ = splitter.layout().name();

    if limits.max_record_bytes >= body.len() {
        if let Some(want) = expected(body) {
            let bad: Vec<_> = skips
                .iter()
                .filter(|s| {
                    s.reason.contains("larger")
                        || s.reason.contains("truncated")
                        || s.reason.contains("deeply")
                })
                .collect();
            assert!(bad.is_empty(), "valid JSON reported as broken: {bad:?}");
            let got: Vec<Value> = records
                .iter()
                .map(|r| serde_json::from_slice(r).expect("a record of valid JSON is valid JSON"))
                .collect();
            assert_eq!(got, want, "records differ from serde_json's reading");
        }
    }
});

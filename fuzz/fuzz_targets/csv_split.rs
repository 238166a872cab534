//! `CsvSplitter` + `CsvRecords` over arbitrary bytes with small limits and short reads.
//!
//! Input: 3 parameter bytes (max record size, batch size, read pattern), then the CSV text.
//! Invariants: batches are exact, in-order slices of the input that start on the line their
//! `first_line` names; every byte is either in a batch or in a gap that a skip reports (at the
//! gap's first line); with no skips the batches rebuild the input; batches stay within
//! `batch_bytes + max_record_bytes`; record lines never go backwards and stay inside their batch.
#![no_main]
use fuzz_support::{fnv, Chunked};
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::split::{CsvRecords, CsvSplitter, Limits};

fuzz_target!(|data: &[u8]| {
    let (params, body) = data.split_at(data.len().min(3));
    let p = |i: usize| params.get(i).copied().unwrap_or(0) as usize;
    let limits = Limits {
        max_record_bytes: 1 + p(0) * 8,
        batch_bytes: 1 + p(1) * 8,
    };
    let seed = fnv(body) ^ (p(2) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // line_starts[k] = byte offset where line k+1 starts.
    let mut line_starts = vec![0usize];
    line_starts.extend(memchr_nl(body).map(|i| i + 1));
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos) as u64;

    let mut splitter = CsvSplitter::new(Chunked::new(body, seed), limits);
    let mut pos = 0usize;
    let mut gaps: Vec<(usize, usize)> = Vec::new();
    let mut skips = Vec::new();
    let mut last_line = 0u64;
    let mut batches = 0usize;
    let mut rec = csv::ByteRecord::new();
    let mut prev_ended_nl = true;
    while let Some(batch) = splitter.next_batch().expect("in-memory reads do not fail") {
        batches += 1;
        assert!(batches <= body.len() + 1, "splitter does not terminate");
        assert!(
            prev_ended_nl,
            "a batch other than the last one ends mid-line"
        );
        let len = batch.data.len();
        assert!(len > 0, "empty batch");
        assert!(
            len <= limits.batch_bytes + limits.max_record_bytes,
            "batch of {len} bytes exceeds limits {limits:?}"
        );
        let fl = batch.first_line;
        assert!(
            fl >= 1 && fl as usize <= line_starts.len(),
            "first_line {fl} out of range"
        );
        let start = line_starts[fl as usize - 1];
        assert!(start >= pos, "batch at line {fl} overlaps the previous one");
        assert!(start + len <= body.len(), "batch runs past the input");
        assert_eq!(
            &body[start..start + len],
            &batch.data[..],
            "batch is not the input slice at its first_line {fl}"
        );
        if start > pos {
            gaps.push((pos, start));
        }
        pos = start + len;
        prev_ended_nl = batch.data.last() == Some(&b'\n');
        skips.extend(splitter.take_skips());

        let max_line = fl + memchr_nl(&batch.data).count() as u64;
        let mut records = CsvRecords::new(&batch);
        while let Some(line) = records.next_into(&mut rec) {
            assert!(
                line >= last_line,
                "record line went backwards: {line} < {last_line}"
            );
            assert!(
                line >= fl && line <= max_line,
                "record line {line} outside its batch {fl}..={max_line}"
            );
            last_line = line;
        }
    }
    skips.extend(splitter.take_skips());
    if pos < body.len() {
        gaps.push((pos, body.len()));
    }
    for w in skips.windows(2) {
        assert!(w[0].line <= w[1].line, "skip lines go backwards: {skips:?}");
    }
    assert!(
        gaps.len() <= skips.len(),
        "{} bytes ranges dropped silently: gaps {gaps:?}, skips {skips:?}",
        gaps.len()
    );
    for &(g, _) in &gaps {
        let line = line_of(g);
        assert!(
            skips.iter().any(|s| s.line == line),
            "gap at byte {g} (line {line}) has no skip at its line: {skips:?}"
        );
    }
});

fn memchr_nl(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .map(|(i, _)| i)
}

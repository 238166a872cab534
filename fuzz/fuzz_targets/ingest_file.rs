//! End to end: the input written to a file in a temporary folder and read by `ingest::run`
//! (collect, open/hash, decode, detect, split, parse on rayon, dedupe, warnings). Inputs whose
//! length is a multiple of 3 use tiny record/batch limits so the skip paths run too. Checks the
//! event invariants and that the report accounts for the file.
#![no_main]
use fuzz_support::check_events;
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::source::NoCount;
use mailsleuth::ingest::split::Limits;
use mailsleuth::ingest::{self, IngestOptions};
use std::sync::OnceLock;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"));
    let path = dir.path().join("input.bin");
    std::fs::write(&path, data).expect("write input");
    let mut options = IngestOptions::default();
    if data.len().is_multiple_of(3) {
        options.limits = Limits {
            max_record_bytes: 97,
            batch_bytes: 61,
        };
    }
    let ing = ingest::run(std::slice::from_ref(&path), &options, &NoCount);
    assert_eq!(ing.files.len(), 1, "one file in, one report out");
    let f = &ing.files[0];
    assert_eq!(f.size, data.len() as u64);
    if !data.starts_with(&[0x1f, 0x8b]) {
        // Only a broken gzip stream is unreadable; plain bytes always read.
        assert!(
            !f.unreadable,
            "a plain file was reported unreadable: {:?}",
            f.reason
        );
    }
    // Chain of custody: every file is hashed, even one that cannot be decoded.
    assert!(f.sha256.is_some(), "no SHA-256");
    assert_eq!(
        f.records,
        ing.events.len() as u64,
        "records count differs from events"
    );
    check_events(&ing.events, &ing.interner, 0, data.len() as u64 + 1);
    let _ = (
        ing.total_records(),
        ing.total_skipped(),
        ing.total_duplicates(),
    );
});

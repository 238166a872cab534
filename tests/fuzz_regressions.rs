//! Every minimised input the fuzzers found (tests/fuzz_regressions/) is read without a panic,
//! through the whole ingest, and every input file gets its SHA-256.

use mailsleuth::ingest::{self, source::NoCount, IngestOptions};
use std::path::PathBuf;

#[test]
fn fuzz_reproducers_are_read_without_panicking() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz_regressions"
    ));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        // Each reproducer as a file on its own, and without the three parameter bytes some
        // targets prepend.
        for (i, body) in [&bytes[..], &bytes[bytes.len().min(3)..]]
            .iter()
            .enumerate()
        {
            let work = tempfile::tempdir().unwrap();
            let file = work.path().join(format!("input-{i}"));
            std::fs::write(&file, body).unwrap();
            let ing = ingest::run(&[file], &IngestOptions::default(), &NoCount);
            let report = &ing.files[0];
            assert!(report.sha256.is_some(), "{}: no SHA-256", path.display());
            for group in &report.skip_reasons {
                assert!(
                    !group.reason.contains("internal error"),
                    "{}: a parser panicked",
                    path.display()
                );
            }
        }
        n += 1;
    }
    assert!(n >= 5, "the reproducers are in tests/fuzz_regressions/");
}

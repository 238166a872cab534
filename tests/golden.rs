//! Golden files: the bundled samples' findings.json, timeline and remediation plan are compared
//! byte for byte with tests/golden/. A change in detection or wording shows up as a reviewable
//! diff. Regenerate deliberately with `UPDATE_GOLDEN=1 cargo test --test golden`.

use std::path::PathBuf;
use std::process::Command;

const GOLDEN: &[&str] = &[
    "findings.json",
    "timeline.csv",
    "timeline.jsonl",
    "remediation.ps1",
    "report.md",
];

#[test]
fn sample_outputs_match_the_golden_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    // Relative input path, so evidence paths in the outputs do not depend on the checkout.
    let status = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .current_dir(&root)
        .args(["analyze", "--quiet", "samples", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c <= 1), "{status:?}");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatched = Vec::new();
    for name in GOLDEN {
        let got_path = out.join(name);
        if !got_path.exists() {
            eprintln!("skipped {name}: not written by this build");
            continue;
        }
        let got = std::fs::read(&got_path).unwrap();
        let golden = root.join("tests/golden").join(name);
        if update {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        match std::fs::read(&golden) {
            Ok(want) if want == got => {}
            Ok(_) => mismatched.push(format!(
                "{name} differs from tests/golden/{name} (diff {} against it; \
                 UPDATE_GOLDEN=1 cargo test --test golden accepts the change)",
                got_path.display()
            )),
            Err(_) => mismatched.push(format!("tests/golden/{name} is missing")),
        }
    }
    if !mismatched.is_empty() {
        // Keep the outputs for inspection.
        let keep = std::env::temp_dir().join("mailsleuth-golden-actual");
        let _ = std::fs::remove_dir_all(&keep);
        let _ = std::fs::rename(&out, &keep);
        panic!(
            "{}\nactual outputs kept in {}",
            mismatched.join("\n"),
            keep.display()
        );
    }
}

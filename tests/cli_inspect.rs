//! `mailsleuth inspect` as a user runs it: exit codes, JSON contract, nothing on stdout but the
//! report.

use std::fs;
use std::process::Command;

fn mailsleuth(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run mailsleuth");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const UAL: &str = "{\"CreationTime\":\"2026-03-09T09:14:00\",\"Id\":\"11111111-1111-1111-1111-111111111111\",\"Operation\":\"New-InboxRule\",\"RecordType\":1,\"Workload\":\"Exchange\",\"UserId\":\"amelia.hart@tailspinfreight.example\",\"ClientIP\":\"89.160.20.115:51234\"}\n";

#[test]
fn exit_codes_follow_the_documented_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();

    // Nothing readable: only a README.
    fs::write(dir.path().join("README.md"), "# notes\n").unwrap();
    let (code, _, _) = mailsleuth(&["inspect", "--quiet", d]);
    assert_eq!(code, 3);

    // Success.
    fs::write(dir.path().join("ual.json"), UAL).unwrap();
    let (code, stdout, _) = mailsleuth(&["inspect", "--quiet", d]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("ual-json"));
    assert!(
        stdout.contains("not an export"),
        "README is listed as unknown"
    );

    // Success with skipped input.
    fs::write(dir.path().join("ual.json"), format!("{UAL}{{\"broken\":")).unwrap();
    let (code, stdout, _) = mailsleuth(&["inspect", "--quiet", d]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("ual.json:2"),
        "the bad record is named: {stdout}"
    );

    // Usage errors.
    let (code, _, stderr) = mailsleuth(&["inspect", "--threads", "0", d]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, _) = mailsleuth(&["inspect"]);
    assert_eq!(code, 2);
    let (code, _, _) = mailsleuth(&["frobnicate"]);
    assert_eq!(code, 2);

    // A missing path is reported, and with nothing else to read, nothing is readable.
    let missing = dir.path().join("nope");
    let (code, stdout, _) = mailsleuth(&["inspect", "-q", missing.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(stdout.contains("not found"), "{stdout}");
}

#[test]
fn json_output_matches_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ual.json"), UAL).unwrap();
    fs::write(dir.path().join("notes.txt"), "hello\n").unwrap();
    let (code, stdout, _) = mailsleuth(&["inspect", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(v["schema"], "mailsleuth.inspect/1");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let notes = &files[0];
    assert_eq!(notes["kind"], "unknown");
    assert!(notes["reason"].is_string());
    let ual = &files[1];
    for key in [
        "path",
        "kind",
        "format",
        "encoding",
        "records",
        "skipped",
        "duplicates",
        "first",
        "last",
        "skip_reasons",
        "warnings",
    ] {
        assert!(ual.get(key).is_some(), "missing {key}");
    }
    assert_eq!(ual["kind"], "ual-json");
    assert_eq!(ual["format"], "auditdata-json");
    assert_eq!(ual["encoding"], "utf-8");
    assert_eq!(ual["records"], 1);
    assert_eq!(ual["first"], "2026-03-09T09:14:00Z");
    assert_eq!(v["totals"]["records"], 1);
    assert_eq!(v["totals"]["files"], 2);
}

#[test]
fn debug_timings_name_every_phase_on_stderr_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    fs::write(input.join("ual.json"), UAL).unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = mailsleuth(&[
        "analyze",
        "--debug-timings",
        "--threads",
        "2",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    for phase in [
        "ingest",
        "prepare",
        "detect",
        "correlate",
        "write:parquet",
        "write:report",
        "write:timeline",
        "write:manifest",
        "total",
    ] {
        assert!(stderr.contains(phase), "{phase} missing from: {stderr}");
    }
    assert!(stderr.contains("rss after") && stderr.contains("peak memory"));
    assert!(!stdout.contains("timings:"), "timings stay off stdout");
    assert!(out.join("events.parquet").is_file());
}

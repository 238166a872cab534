//! Every third-party record under `../shared/samples/public/` must parse into events: these are
//! the shapes real exports have (Elastic test data, Microsoft Graph docs). Skipped with a
//! message when the folder is absent (it is not shipped with the project).

use mailsleuth::ingest::{self, detect::Kind, IngestOptions};
use std::path::PathBuf;

fn public() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/samples/public"
    ));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// Non-blank lines of an NDJSON file = its records.
fn ndjson_records(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

#[test]
fn every_public_record_parses() {
    let Some(dir) = public() else { return };
    let ing = ingest::run(&[dir], &IngestOptions::default(), &ingest::source::NoCount);
    assert!(ing.files.len() >= 8);
    for f in &ing.files {
        assert_ne!(f.kind, Kind::Unknown, "{}: {:?}", f.path, f.reason);
        assert_eq!(f.skipped, 0, "{}: {:?}", f.path, f.skip_reasons);
        let expected = if f.path.ends_with(".json") {
            1
        } else {
            ndjson_records(std::path::Path::new(&f.path))
        };
        assert_eq!(
            f.records + f.duplicates,
            expected,
            "{}: every record becomes an event",
            f.path
        );
        assert!(f.first.is_some() && f.last.is_some(), "{}", f.path);
    }
    let kind = |suffix: &str| {
        ing.files
            .iter()
            .find(|f| f.path.ends_with(suffix))
            .map(|f| (f.kind, f.format))
            .unwrap()
    };
    assert_eq!(
        kind("02-exchange-item.log"),
        (Kind::UalJson, "auditdata-json")
    );
    assert_eq!(
        kind("test-signinlogs-raw.log"),
        (Kind::Signin, "azure-diagnostic-json")
    );
    assert_eq!(
        kind("signin-get.example-response.json"),
        (Kind::Signin, "graph-signin-json")
    );
    assert_eq!(kind("test-log.log"), (Kind::MessageTrace, "reporting-json"));
}

#[test]
fn public_times_and_ips_are_normalised() {
    let Some(dir) = public() else { return };
    let ing = ingest::run(&[dir], &IngestOptions::default(), &ingest::source::NoCount);
    let s = |sym| ing.interner.resolve(sym);
    // The diagnostic record's createdDateTime has a -05:00 offset: the event is in UTC.
    let diag = ing
        .events
        .iter()
        .find(|e| e.record_id.text(&ing.interner) == "8a4de8b5-095c-47d0-a96f-a75130c61d53")
        .unwrap();
    assert_eq!(diag.time.to_rfc3339(), "2019-10-18T09:45:48.072989Z");
    assert_eq!(s(diag.ip), "81.2.69.144");
    assert_eq!(diag.error_code.get(), Some(50140));
    // No IP keeps a port or brackets.
    for e in &ing.events {
        let ip = s(e.ip);
        assert!(!ip.starts_with('['), "{ip}");
        if ip.parse::<std::net::IpAddr>().is_err() && !ip.is_empty() {
            assert!(
                ip.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c)),
                "{ip}"
            );
        }
    }
}

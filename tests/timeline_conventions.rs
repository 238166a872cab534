//! timeline.csv and timeline.jsonl follow the super-timeline convention Timesketch imports as
//! is: `datetime` (RFC 3339), `timestamp_desc` and `message` present on every line, in time
//! order, one line per event, flat JSON.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn timeline_files_follow_timesketch_conventions() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    let status = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(["analyze", "--quiet", "--timeline", "all"])
        .arg(&samples)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c <= 1));

    // CSV: header first, the three Timesketch columns lead.
    let mut rdr = csv::Reader::from_path(out.join("timeline.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(&header[..3], ["datetime", "timestamp_desc", "message"]);
    let mut last = String::new();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        assert_eq!(rec.len(), header.len(), "every row has every column");
        let dt = &rec[0];
        assert!(
            chrono::DateTime::parse_from_rfc3339(dt).is_ok() && dt.ends_with('Z'),
            "{dt}"
        );
        assert!(dt >= last.as_str(), "time order: {dt} after {last}");
        last = dt.to_string();
        assert!(!rec[1].is_empty() && !rec[2].is_empty());
        rows += 1;
    }
    let raw = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert_eq!(raw.lines().count(), rows + 1, "one line per event");

    // JSONL: flat objects with the same columns, same events.
    let text = std::fs::read_to_string(out.join("timeline.jsonl")).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let obj = v.as_object().unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), header.len());
        for (k, val) in obj {
            assert!(header.contains(k), "{k}");
            assert!(!val.is_object() && !val.is_array(), "flat: {k}");
        }
        assert!(obj["datetime"].as_str().unwrap().ends_with('Z'));
        n += 1;
    }
    assert_eq!(n, rows);
    assert!(rows > 4000, "--timeline all keeps every event ({rows})");
}

//! Bad input never crashes the tool and never loses the good records around it: each bad
//! record is reported with file and line, counted, and skipped.

use mailsleuth::ingest::{self, detect::Kind, IngestOptions};
use std::fs;
use std::io::Write;
use std::path::Path;

const HEADER: &str = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n";

fn row(id: &str, op: &str) -> String {
    let audit = format!(
        "{{\"CreationTime\":\"2026-03-09T09:14:00\",\"Id\":\"{id}\",\"Operation\":\"{op}\",\"RecordType\":1,\"Workload\":\"Exchange\",\"UserId\":\"amelia.hart@tailspinfreight.example\",\"ClientIP\":\"89.160.20.115:51234\"}}"
    )
    .replace('"', "\"\"");
    format!("{id},3/9/2026 9:14:00 AM,1,{op},amelia.hart@tailspinfreight.example,\"{audit}\",,\r\n")
}

fn run(dir: &Path) -> ingest::Ingest {
    ingest::run(
        &[dir.to_path_buf()],
        &IngestOptions::default(),
        &ingest::source::NoCount,
    )
}

fn ids(ing: &ingest::Ingest) -> Vec<String> {
    let mut v: Vec<String> = ing
        .events
        .iter()
        .map(|e| e.record_id.text(&ing.interner).into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn malformed_rows_are_skipped_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(HEADER);
    text.push_str(&row("id-1", "New-InboxRule"));
    text.push_str("id-2,3/9/2026 9:15:00 AM,1,Set-Mailbox,x,\"{not json at all\",,\r\n");
    text.push_str(&row("id-3", "Set-Mailbox"));
    text.push_str("garbage without commas\r\n");
    text.push_str(&row("id-4", "Remove-InboxRule"));
    fs::write(dir.path().join("ual.csv"), text).unwrap();
    let ing = run(dir.path());
    let f = &ing.files[0];
    assert_eq!(f.kind, Kind::UalCsv);
    for id in ["id-1", "id-3", "id-4"] {
        assert!(ids(&ing).contains(&id.to_string()), "{id} lost");
    }
    assert!(f.skipped >= 1, "{f:?}");
    let examples: Vec<&String> = f.skip_reasons.iter().flat_map(|g| &g.examples).collect();
    assert!(
        examples.iter().any(|e| e.ends_with("ual.csv:5")),
        "the garbage row (line 5) is named: {examples:?}"
    );
    // Five data rows: each is either kept (id-2's wrapper columns still make an event when its
    // AuditData is broken) or skipped and named — none vanish.
    assert_eq!(f.skipped + f.records, 5, "{f:?}");
}

#[test]
fn truncated_csv_keeps_every_complete_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(HEADER);
    for i in 0..50 {
        text.push_str(&row(&format!("id-{i:02}"), "MailItemsAccessed"));
    }
    let cut = text.len() - 40; // inside the last row's quoted AuditData
    fs::write(dir.path().join("cut.csv"), &text[..cut]).unwrap();
    let ing = run(dir.path());
    let f = &ing.files[0];
    assert_eq!(f.records, 49);
    assert_eq!(f.skipped, 1);
    assert!(f.skip_reasons[0].reason.contains("truncated"));
    assert_eq!(f.skip_reasons[0].examples, [format!("{}:51", f.path)]);
}

#[test]
fn invalid_json_records_are_skipped_and_neighbours_kept() {
    let dir = tempfile::tempdir().unwrap();
    let good = |id: &str| {
        format!("{{\"CreationTime\":\"2026-03-09T09:14:00\",\"Id\":\"{id}\",\"Operation\":\"Send\",\"RecordType\":2,\"Workload\":\"Exchange\",\"UserId\":\"a@corp.example\"}}\n")
    };
    let text = format!(
        "{}{{\"CreationTime\": 12, \"Id\": [1,2]}}\nnot json\n{}{{\"Id\":\"cut\",\"Operation\":",
        good("j1"),
        good("j2")
    );
    fs::write(dir.path().join("ual.json"), text).unwrap();
    let ing = run(dir.path());
    let f = &ing.files[0];
    assert_eq!(f.kind, Kind::UalJson);
    assert_eq!(ids(&ing), ["j1", "j2"]);
    assert_eq!(f.skipped, 3, "{:?}", f.skip_reasons);
}

#[test]
fn binary_empty_and_non_export_files_are_unknown_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty.csv"), "").unwrap();
    fs::write(dir.path().join("pic.csv"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    fs::write(
        dir.path().join("notes.md"),
        "# Case notes\n\nNothing here.\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("rand.bin"),
        [0u8, 1, 2, 3, 0, 0, 9, 0, 1, 0, 5, 0, 0, 7],
    )
    .unwrap();
    let ing = run(dir.path());
    assert_eq!(ing.files.len(), 4);
    for f in &ing.files {
        assert_eq!(f.kind, Kind::Unknown, "{}", f.path);
        assert!(f.reason.is_some());
        assert_eq!(f.skipped, 0);
        assert!(!f.unreadable);
    }
    let png = ing
        .files
        .iter()
        .find(|f| f.path.ends_with("pic.csv"))
        .unwrap();
    assert_eq!(png.reason.as_deref(), Some("not an export: PNG image"));
}

#[test]
fn a_200_mb_cell_is_skipped_without_losing_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let mut f = std::io::BufWriter::new(fs::File::create(&path).unwrap());
    f.write_all(HEADER.as_bytes()).unwrap();
    f.write_all(row("before", "Send").as_bytes()).unwrap();
    f.write_all(b"big,3/9/2026 9:15:00 AM,1,Send,x,\"").unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..200 {
        f.write_all(&block).unwrap();
    }
    f.write_all(b"\",,\r\n").unwrap();
    f.write_all(row("after", "Send").as_bytes()).unwrap();
    drop(f);
    let ing = run(dir.path());
    let rep = &ing.files[0];
    assert_eq!(ids(&ing), ["after", "before"]);
    assert_eq!(rep.skipped, 1);
    assert!(rep.skip_reasons[0].reason.contains("larger than 16 MiB"));
    assert_eq!(rep.skip_reasons[0].examples, [format!("{}:3", rep.path)]);
}

#[test]
fn overlapping_exports_are_deduplicated_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = String::from(HEADER);
    let mut b = String::from(HEADER);
    for i in 0..10 {
        a.push_str(&row(&format!("id-{i}"), "Send"));
    }
    for i in 5..15 {
        b.push_str(&row(&format!("id-{i}"), "Send"));
    }
    fs::write(dir.path().join("a.csv"), &a).unwrap();
    fs::write(dir.path().join("b.csv"), &b).unwrap();
    // The same records as JSON (another shape of the same UAL) overlap too.
    let json: String = (12..20)
        .map(|i| format!("{{\"CreationTime\":\"2026-03-09T09:14:00\",\"Id\":\"id-{i}\",\"Operation\":\"Send\",\"RecordType\":2,\"Workload\":\"Exchange\",\"UserId\":\"amelia.hart@tailspinfreight.example\"}}\n"))
        .collect();
    fs::write(dir.path().join("c.json"), json).unwrap();
    let ing = run(dir.path());
    let counts: Vec<(u64, u64)> = ing
        .files
        .iter()
        .map(|f| (f.records, f.duplicates))
        .collect();
    assert_eq!(counts, [(10, 0), (5, 5), (5, 3)]);
    assert_eq!(ing.events.len(), 20);
    assert_eq!(ing.total_duplicates(), 8);
}

#[test]
fn utf16_and_gzip_exports_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}{}", row("u16", "Send"));
    let mut utf16 = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    fs::write(dir.path().join("a.csv"), &utf16).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("{HEADER}{}", row("gz", "Send")).as_bytes())
        .unwrap();
    fs::write(dir.path().join("b.csv.gz"), gz.finish().unwrap()).unwrap();
    let ing = run(dir.path());
    assert_eq!(ing.files[0].encoding, "utf-16le-bom");
    assert!(ing.files[1].gzip);
    assert_eq!(ids(&ing), ["gz", "u16"]);
}

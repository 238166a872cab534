//! Keeping each record once across overlapping exports.
//!
//! Overlapping exports are the norm: a Purview CSV of the whole tenant and an Extractor-Suite
//! JSON of one user, two `Search-UnifiedAuditLog` pages, the sign-in CSV and JSON of the same
//! days. A record's identity is its own id (UAL `Id`, message-trace id + recipient, sign-in id),
//! scoped by source family so a UAL id never collides with a sign-in id. Files are visited in
//! path order and records in file order, so which copy is kept — and which file is charged with
//! the duplicate — never depends on thread timing.

use super::FileReport;
use crate::event::{Event, SourceKind, Sym};
use std::collections::HashSet;

/// Flattens per-file events into one vector, dropping records already seen, and fills each
/// report's `records` and `duplicates`. Records without an id are always kept.
pub fn dedupe(per_file: Vec<Vec<Event>>, reports: &mut [FileReport]) -> Vec<Event> {
    let total: usize = per_file.iter().map(Vec::len).sum();
    let mut seen: HashSet<(SourceKind, Sym)> = HashSet::with_capacity(total);
    let mut kept = Vec::with_capacity(total);
    for (events, report) in per_file.into_iter().zip(reports.iter_mut()) {
        for event in events {
            if event.record_id.is_empty() || seen.insert((event.source, event.record_id)) {
                report.records += 1;
                kept.push(event);
            } else {
                report.duplicates += 1;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Interner;
    use crate::ingest::source::InputFile;

    fn ev(i: &Interner, source: SourceKind, id: &str) -> Event {
        Event {
            source,
            record_id: i.intern(id),
            ..Default::default()
        }
    }

    #[test]
    fn first_copy_wins_and_families_do_not_collide() {
        let i = Interner::new();
        let file = InputFile {
            path: "x".into(),
            size: 0,
        };
        let mut reports = vec![FileReport::new(&file), FileReport::new(&file)];
        let a = vec![
            ev(&i, SourceKind::Ual, "1"),
            ev(&i, SourceKind::Ual, "2"),
            ev(&i, SourceKind::Ual, "2"),
            ev(&i, SourceKind::Ual, ""),
        ];
        let b = vec![
            ev(&i, SourceKind::Ual, "1"),
            ev(&i, SourceKind::Signin, "1"),
            ev(&i, SourceKind::Ual, ""),
        ];
        let kept = dedupe(vec![a, b], &mut reports);
        assert_eq!(kept.len(), 5);
        assert_eq!((reports[0].records, reports[0].duplicates), (3, 1));
        assert_eq!((reports[1].records, reports[1].duplicates), (2, 1));
    }
}

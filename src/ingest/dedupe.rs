//! Keeping each record once across overlapping exports.
//!
//! Overlapping exports are the norm: a Purview CSV of the whole tenant and an Extractor-Suite
//! JSON of one user, two `Search-UnifiedAuditLog` pages, the sign-in CSV and JSON of the same
//! days. A record's identity is its own id (UAL `Id`, message-trace id + recipient, sign-in id),
//! scoped by source family so a UAL id never collides with a sign-in id. Files are visited in
//! path order and records in file order, so which copy is kept — and which file is charged with
//! the duplicate — never depends on thread timing.

use super::FileReport;
use crate::event::{Event, RecordId, SourceKind};
use std::collections::hash_map::{Entry, HashMap};

/// How much a copy of a record says: a later copy replaces the kept one only when it says
/// strictly more (the Graph JSON of a sign-in carries coordinates its portal-CSV twin lacks).
fn richness(e: &Event) -> usize {
    e.props.len()
        + e.details
            .as_ref()
            .map_or(0, |d| d.items.len() + d.recipients.len())
}

/// Flattens per-file events into one vector, keeping one copy of each record, and fills each
/// report's `records` and `duplicates`. The first copy in path order wins unless a later one is
/// richer; either way the choice is deterministic. Records without an id are always kept.
pub fn dedupe(per_file: Vec<Vec<Event>>, reports: &mut [FileReport]) -> Vec<Event> {
    let total: usize = per_file.iter().map(Vec::len).sum();
    let mut seen: HashMap<(SourceKind, RecordId), usize> = HashMap::with_capacity(total);
    let mut kept: Vec<Event> = Vec::with_capacity(total);
    for (file, events) in per_file.into_iter().enumerate() {
        for event in events {
            if event.record_id.is_empty() {
                reports[file].records += 1;
                kept.push(event);
                continue;
            }
            match seen.entry((event.source, event.record_id)) {
                Entry::Vacant(slot) => {
                    slot.insert(kept.len());
                    reports[file].records += 1;
                    kept.push(event);
                }
                Entry::Occupied(slot) => {
                    let old = &mut kept[*slot.get()];
                    if richness(&event) > richness(old) {
                        let old_file = old.file as usize;
                        *old = event;
                        if let Some(r) = reports.get_mut(old_file) {
                            r.records -= 1;
                            r.duplicates += 1;
                        }
                        reports[file].records += 1;
                    } else {
                        reports[file].duplicates += 1;
                    }
                }
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
            record_id: crate::event::RecordId::new(i, id),
            ..Default::default()
        }
    }

    #[test]
    fn a_richer_later_copy_replaces_the_first() {
        let i = Interner::new();
        let file = InputFile {
            path: "x".into(),
            size: 0,
        };
        let mut reports = vec![FileReport::new(&file), FileReport::new(&file)];
        let plain = ev(&i, SourceKind::Signin, "r1");
        let mut rich = ev(&i, SourceKind::Signin, "r1");
        rich.file = 1;
        rich.props.extend([crate::event::Prop {
            bag: crate::event::Bag::Field,
            name: i.intern("latitude"),
            value: i.intern("58.4"),
            old: None,
        }]);
        let kept = dedupe(vec![vec![plain], vec![rich]], &mut reports);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].file, 1);
        assert_eq!((reports[0].records, reports[0].duplicates), (0, 1));
        assert_eq!((reports[1].records, reports[1].duplicates), (1, 0));
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

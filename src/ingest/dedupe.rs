//! Keeping each record once across overlapping exports.
//!
//! Overlapping exports are the norm: a Purview CSV of the whole tenant and an Extractor-Suite
//! JSON of one user, two `Search-UnifiedAuditLog` pages, the sign-in CSV and JSON of the same
//! days. A record's identity is its own id (UAL `Id`, message-trace id + recipient, sign-in id),
//! scoped by source family so a UAL id never collides with a sign-in id. Files are visited in
//! path order and records in file order, so which copy is kept — and which file is charged with
//! the duplicate — never depends on thread timing.

use super::FileReport;
use crate::event::Event;
use hashbrown::HashTable;
use std::hash::BuildHasher as _;

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
/// `per_file` is in path order, and each event's `file` is its index there (the report it is
/// charged to).
///
/// Works in place, in the first file's vector: on a large export this runs when memory peaks,
/// and a second vector of every event plus a map keyed by record id (29 bytes a slot) cost more
/// than the events themselves. The index holds only positions (`u32`: four billion events
/// would need half a terabyte of memory) and compares ids through them.
pub fn dedupe(per_file: Vec<Vec<Event>>, reports: &mut [FileReport]) -> Vec<Event> {
    let total: usize = per_file.iter().map(Vec::len).sum();
    let mut files = per_file.into_iter();
    let mut all = files.next().unwrap_or_default();
    all.reserve_exact(total - all.len());
    for events in files {
        all.extend(events);
    }
    let hasher = foldhash::fast::FixedState::default();
    let hash = |e: &Event| hasher.hash_one((e.source, e.record_id));
    let mut seen: HashTable<u32> = HashTable::with_capacity(total);
    // Events before `kept` are the ones kept so far; the rest are still to be read, or
    // duplicates left behind (dropped by the final truncate).
    let mut kept = 0usize;
    for next in 0..all.len() {
        let file = all[next].file as usize;
        if all[next].record_id.is_empty() {
            all.swap(kept, next);
            kept += 1;
            if let Some(r) = reports.get_mut(file) {
                r.records += 1;
            }
            continue;
        }
        let h = hash(&all[next]);
        let same = |&k: &u32| {
            let (a, b) = (&all[k as usize], &all[next]);
            a.source == b.source && a.record_id == b.record_id
        };
        match seen.find(h, same).copied() {
            None => {
                seen.insert_unique(h, kept as u32, |&k| hash(&all[k as usize]));
                all.swap(kept, next);
                kept += 1;
                if let Some(r) = reports.get_mut(file) {
                    r.records += 1;
                }
            }
            Some(k) => {
                let k = k as usize;
                if richness(&all[next]) > richness(&all[k]) {
                    let old_file = all[k].file as usize;
                    all.swap(k, next);
                    if let Some(r) = reports.get_mut(old_file) {
                        r.records -= 1;
                        r.duplicates += 1;
                    }
                    if let Some(r) = reports.get_mut(file) {
                        r.records += 1;
                    }
                } else if let Some(r) = reports.get_mut(file) {
                    r.duplicates += 1;
                }
            }
        }
    }
    all.truncate(kept);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Interner, SourceKind};
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
        let mut b = vec![
            ev(&i, SourceKind::Ual, "1"),
            ev(&i, SourceKind::Signin, "1"),
            ev(&i, SourceKind::Ual, ""),
        ];
        for e in &mut b {
            e.file = 1;
        }
        let kept = dedupe(vec![a, b], &mut reports);
        assert_eq!(kept.len(), 5);
        assert_eq!((reports[0].records, reports[0].duplicates), (3, 1));
        assert_eq!((reports[1].records, reports[1].duplicates), (2, 1));
    }
}

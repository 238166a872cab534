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
/// Works in place, in the largest file's vector ([`concat`]): on a large export this runs when
/// memory peaks, and a second vector of every event plus a map keyed by record id (29 bytes a
/// slot) cost more than the events themselves. The index holds only positions (`u32`: four
/// billion events would need half a terabyte of memory) and compares ids through them.
pub fn dedupe(per_file: Vec<Vec<Event>>, reports: &mut [FileReport]) -> Vec<Event> {
    let mut all = concat(per_file);
    let hasher = foldhash::fast::FixedState::default();
    let hash = |e: &Event| hasher.hash_one((e.source, e.record_id));
    let mut seen: HashTable<u32> = HashTable::with_capacity(all.len());
    // Events before `kept` are the ones kept so far; the rest are still to be read, or
    // duplicates left behind (dropped by the final truncate).
    let mut kept = 0usize;
    // The report a record is charged to (dedupe never fails over a file index).
    let mut charge = |file: u32, f: fn(&mut FileReport)| {
        if let Some(r) = reports.get_mut(file as usize) {
            f(r);
        }
    };
    for next in 0..all.len() {
        let file = all[next].file;
        let earlier = if all[next].record_id.is_empty() {
            None
        } else {
            let h = hash(&all[next]);
            let same = |&k: &u32| {
                let (a, b) = (&all[k as usize], &all[next]);
                a.source == b.source && a.record_id == b.record_id
            };
            let found = seen.find(h, same).map(|&k| k as usize);
            if found.is_none() {
                seen.insert_unique(h, kept as u32, |&k| hash(&all[k as usize]));
            }
            found
        };
        match earlier {
            None => {
                all.swap(kept, next);
                kept += 1;
                charge(file, |r| r.records += 1);
            }
            Some(k) if richness(&all[next]) > richness(&all[k]) => {
                charge(all[k].file, |r| {
                    r.records -= 1;
                    r.duplicates += 1;
                });
                all.swap(k, next);
                charge(file, |r| r.records += 1);
            }
            Some(_) => charge(file, |r| r.duplicates += 1),
        }
    }
    all.truncate(kept);
    release_spare_pages(&mut all);
    all
}

/// Hands the pages of `v`'s spare capacity back to the system while keeping the allocation.
///
/// After dedupe the duplicates' slots (230,000 events, 25 MB, on the 4 GB benchmark set) sit
/// resident past the vector's length, and so may room ingest reserved and touched. Shrinking
/// the vector would copy every event while both copies are held, at the run's peak, and
/// mimalloc keeps a block shrunk by less than half where it is; dropping the pages instead
/// costs nothing now and a zeroed page on the rare later push.
#[cfg(target_os = "linux")]
fn release_spare_pages<T>(v: &mut Vec<T>) {
    const PAGE: usize = 4096;
    let spare = v.spare_capacity_mut();
    let start = spare.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(spare);
    let (first, last) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
    if last > first {
        // SAFETY: [first, last) lies within the vector's allocation past its length, memory
        // no live value occupies and that Rust reads only after writing it again. Private
        // anonymous pages (the allocator's) read back as zeroes after MADV_DONTNEED; on any
        // error the pages simply stay.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_DONTNEED,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn release_spare_pages<T>(_: &mut Vec<T>) {}

/// The files' events in path order, in one vector: the largest file's, grown by the others
/// within the room ingest reserved for them ([`crate::ingest::JoinRoom`]), so the bulk of the
/// events is never copied into a second vector while the first is still held.
fn concat(mut per_file: Vec<Vec<Event>>) -> Vec<Event> {
    let total: usize = per_file.iter().map(Vec::len).sum();
    // The vector that already has room for all (ingest reserves it: `ingest::JoinRoom`), else
    // the largest, which then grows once.
    let roomy = (0..per_file.len()).find(|&i| per_file[i].capacity() >= total);
    let Some(largest) = roomy.or_else(|| (0..per_file.len()).max_by_key(|&i| per_file[i].len()))
    else {
        return Vec::new();
    };
    let mut all = std::mem::take(&mut per_file[largest]);
    all.reserve_exact(total - all.len());
    let own = all.len();
    let mut before = 0;
    for (i, events) in per_file.into_iter().enumerate() {
        if i < largest {
            before += events.len();
        }
        all.extend(events);
    }
    // [largest, earlier…, later…] → [earlier…, largest, later…], in place: collecting the
    // earlier files into a vector of their own first cost their size again at ingest's peak.
    all[..own + before].rotate_right(before);
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

    /// UAL events with these ids, read from file `n`.
    fn ual_file(i: &Interner, n: u32, ids: &[&str]) -> Vec<Event> {
        ids.iter()
            .map(|id| Event {
                file: n,
                ..ev(i, SourceKind::Ual, id)
            })
            .collect()
    }

    #[test]
    fn released_spare_room_is_still_room() {
        let mut v: Vec<u64> = (0..200_000).collect();
        v.truncate(10);
        release_spare_pages(&mut v);
        assert_eq!(v, (0..10).collect::<Vec<u64>>());
        let capacity = v.capacity();
        v.extend(10..150_000);
        assert_eq!(v.capacity(), capacity, "the allocation is kept");
        assert!(v.iter().copied().eq(0..150_000));
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

    #[test]
    fn files_are_joined_in_path_order_whichever_is_largest() {
        let i = Interner::new();
        let file = |n: u32, ids: &[&str]| ual_file(&i, n, ids);
        let per_file = vec![
            file(0, &["a", "b"]),
            file(1, &["c", "d", "e", "a"]),
            file(2, &["f"]),
            file(3, &[]),
        ];
        let input = InputFile {
            path: "x".into(),
            size: 0,
        };
        let mut reports = vec![FileReport::new(&input); 4];
        let kept = dedupe(per_file, &mut reports);
        let ids: Vec<String> = kept
            .iter()
            .map(|e| e.record_id.text(&i).into_owned())
            .collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!((reports[1].records, reports[1].duplicates), (3, 1));
        assert!(concat(Vec::new()).is_empty());
    }

    #[test]
    fn the_vector_with_room_for_all_is_joined_into_in_place() {
        let i = Interner::new();
        let file = |n: u32, ids: &[&str]| ual_file(&i, n, ids);
        // Not the largest, but the one ingest reserved room in (`ingest::JoinRoom`).
        let mut roomy = file(1, &["c"]);
        roomy.reserve_exact(16);
        let at = roomy.as_ptr();
        let joined = concat(vec![file(0, &["a", "b"]), roomy, file(2, &["d", "e", "f"])]);
        let ids: Vec<String> = joined
            .iter()
            .map(|e| e.record_id.text(&i).into_owned())
            .collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(joined.as_ptr(), at, "joined without a new allocation");
    }
}

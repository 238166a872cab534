//! An event's props as a shared, immutable list.
//!
//! Most records repeat the props of many others exactly: every `MailItemsAccessed` of one
//! mailbox from one client carries the same `UserType`, `LogonType`, `ClientInfoString`,
//! `MailboxOwnerUPN`, `MailAccessType` … A 1 GB Purview export held 3.9 million props in
//! 450,000 events but only 39,000 distinct lists: kept per event they were the largest part
//! of the event store. So a list is reference-counted and equal lists built on one parser
//! worker are shared through a table of the lists it built ([`ListCache`], owned by the
//! interner while ingest runs, beside its string cache).

use super::Prop;
use hashbrown::HashTable;
use std::ops::Deref;
use triomphe::ThinArc;

/// A shared list: one allocation holding the count, the length and the props.
type Shared = ThinArc<(), Prop>;

/// The props of one event, in record order (shared with events whose props are equal).
/// Derefs to `&[Prop]`; an empty list costs no allocation.
///
/// A thin pointer (eight bytes in an event, not sixteen) to **one** allocation that holds the
/// reference count, the length and the props (triomphe's `ThinArc`). It was an `Arc<Vec<_>>`,
/// which reached the props through a second pointer: every read of a list (the sharing table's
/// compare during ingest, every rule's prop lookup after it) paid two dependent cache misses
/// where it now pays one, and each distinct list paid a second allocation and a `Vec` header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropList(Option<Shared>);

/// A new shared list of `props` (not empty).
fn shared(props: &[Prop]) -> Shared {
    ThinArc::from_header_and_slice((), props)
}

impl PropList {
    /// The empty list.
    pub const EMPTY: PropList = PropList(None);

    /// Appends `props` (a new, unshared list: the old one may be shared). For rare additions:
    /// a field a parser adds to an unusual record (a raw AuditData kept as text, guessed
    /// mailbox-audit subjects) and tests; parsers build a `Vec` and share it once.
    pub fn extend(&mut self, props: impl IntoIterator<Item = Prop>) {
        let mut v = self.to_vec();
        v.extend(props);
        *self = PropList::from(v);
    }

    /// Keeps only the props `keep` accepts (a new list when any is dropped).
    pub fn retain(&mut self, keep: impl Fn(&Prop) -> bool) {
        if self.iter().all(&keep) {
            return;
        }
        let v: Vec<Prop> = self.iter().copied().filter(|p| keep(p)).collect();
        *self = PropList::from(v);
    }
}

impl From<Vec<Prop>> for PropList {
    fn from(v: Vec<Prop>) -> Self {
        PropList::from(v.as_slice())
    }
}

impl From<&[Prop]> for PropList {
    fn from(v: &[Prop]) -> Self {
        PropList((!v.is_empty()).then(|| shared(v)))
    }
}

impl Deref for PropList {
    type Target = [Prop];

    #[inline]
    fn deref(&self) -> &[Prop] {
        self.0.as_ref().map_or(&[], |l| &l.slice)
    }
}

/// The distinct lists built so far, so each is stored once; the interner keeps one per shard
/// of [`hash_of`]'s values, each behind its own lock.
///
/// Not bounded by a slot count: a direct-mapped cache of 64 Ki slots shared well at 1 GB but
/// at 4 GB, with four times the distinct lists, kept 5.8 million props in 490,000 copies. Not
/// per parser worker either: on the 4 GB benchmark set the workers' 489,000 lists were 416,000
/// distinct (17 MB of copies). An entry costs nine bytes beside a list the events hold anyway;
/// the table is dropped when ingest freezes the interner.
#[derive(Debug, Default)]
pub(super) struct ListCache {
    lists: HashTable<Shared>,
}

impl ListCache {
    /// The shared list equal to `props`, whose [`hash_of`] is `hash`.
    pub(super) fn share(&mut self, hash: u64, props: &[Prop]) -> PropList {
        if props.is_empty() {
            return PropList::EMPTY;
        }
        let list = self
            .lists
            .entry(hash, |l| l.slice == *props, |l| hash_of(&l.slice))
            .or_insert_with(|| shared(props))
            .into_mut();
        PropList(Some(list.clone()))
    }
}

/// A list's hash, from its symbols' numbers: they are already well-spread small integers, and
/// the derived `Hash` (a hasher call per field of every prop) cost as much as the rest of the
/// lookup.
pub(super) fn hash_of(props: &[Prop]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = props.len() as u64;
    for p in props {
        let word = (u64::from(p.name.index()) << 32 | u64::from(p.value.index()))
            ^ (u64::from(p.old.map_or(0, |o| o.index() ^ 0x8000_0000)) << 8)
            ^ p.bag as u64;
        h = (h.rotate_left(5) ^ word).wrapping_mul(K);
    }
    (h ^ (h >> 32)).wrapping_mul(K)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Bag, Interner};

    fn prop(i: &Interner, name: &str, value: &str) -> Prop {
        Prop {
            bag: Bag::Field,
            name: i.intern(name),
            value: i.intern(value),
            old: None,
        }
    }

    #[test]
    fn equal_lists_share_one_allocation_and_unequal_ones_do_not() {
        let i = Interner::new();
        let mut cache = ListCache::default();
        let a = vec![prop(&i, "LogonType", "0"), prop(&i, "UserType", "0")];
        let b = vec![prop(&i, "LogonType", "1"), prop(&i, "UserType", "0")];
        let share = |cache: &mut ListCache, p: &[Prop]| cache.share(hash_of(p), p);
        let (x, y, z) = (
            share(&mut cache, &a),
            share(&mut cache, &a),
            share(&mut cache, &b),
        );
        assert_eq!(*x, *a);
        assert_eq!(*z, *b);
        let ptr = |l: &PropList| l.as_ptr();
        assert_eq!(ptr(&x), ptr(&y));
        assert_ne!(ptr(&x), ptr(&z));
        assert!(share(&mut cache, &[]).is_empty());
    }

    #[test]
    fn edits_never_change_another_events_list() {
        let i = Interner::new();
        let mut a = PropList::from(vec![prop(&i, "A", "1"), prop(&i, "B", "2")]);
        let b = a.clone();
        a.retain(|p| i.resolve(p.name) != "A");
        a.extend([prop(&i, "C", "3")]);
        assert_eq!(a.len(), 2);
        assert_eq!(b.len(), 2);
        assert_eq!(i.resolve(b[0].name), "A");
        assert_eq!(i.resolve(a[1].name), "C");
    }
}

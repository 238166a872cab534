//! An event's props as a shared, immutable list.
//!
//! Most records repeat the props of many others exactly: every `MailItemsAccessed` of one
//! mailbox from one client carries the same `UserType`, `LogonType`, `ClientInfoString`,
//! `MailboxOwnerUPN`, `MailAccessType` … A 1 GB Purview export held 3.9 million props in
//! 450,000 events but only 39,000 distinct lists: kept per event they were the largest part
//! of the event store. So a list is reference-counted and equal lists built on one parser
//! worker are shared through a small cache ([`ListCache`], owned by the interner while ingest
//! runs, like its string cache).

use super::Prop;
use std::ops::Deref;
use std::sync::Arc;

/// The props of one event, in record order (shared with events whose props are equal).
/// Derefs to `&[Prop]`; an empty list costs no allocation. A thin pointer (an `Arc` of a
/// `Vec`, not of a slice), so it adds eight bytes to an event, not sixteen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropList(Option<Arc<Vec<Prop>>>);

impl PropList {
    /// The empty list.
    pub const EMPTY: PropList = PropList(None);

    /// Appends `props` (a new list: the old one may be shared). For the rare edits after
    /// parsing (dedupe tests, alert fields); parsers build a `Vec` and share it once.
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
        PropList((!v.is_empty()).then(|| Arc::new(v)))
    }
}

impl From<&[Prop]> for PropList {
    fn from(v: &[Prop]) -> Self {
        PropList((!v.is_empty()).then(|| Arc::new(v.to_vec())))
    }
}

impl Deref for PropList {
    type Target = [Prop];

    #[inline]
    fn deref(&self) -> &[Prop] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

/// Slots per worker cache (a power of two): 8 bytes each, half a MiB per worker. At 1 GB of
/// Purview CSV (450,000 events, 39,000 distinct lists) it left 77,000 lists: 950,000 props
/// kept instead of 3.9 million.
const SLOTS: usize = 65536;

/// A direct-mapped cache of recently built lists: a list's hash picks its slot, a miss
/// replaces it. Bounded by construction; a list that was evicted is simply kept unshared.
#[derive(Debug, Default)]
pub(super) struct ListCache {
    slots: Box<[Option<Arc<Vec<Prop>>>]>,
}

impl ListCache {
    /// The shared list equal to `props`.
    pub(super) fn share(&mut self, props: &[Prop]) -> PropList {
        if props.is_empty() {
            return PropList::EMPTY;
        }
        if self.slots.is_empty() {
            self.slots = vec![None; SLOTS].into_boxed_slice();
        }
        let slot = slot_of(props);
        if let Some(list) = &self.slots[slot] {
            if **list == *props {
                return PropList(Some(Arc::clone(list)));
            }
        }
        let list = Arc::new(props.to_vec());
        self.slots[slot] = Some(Arc::clone(&list));
        PropList(Some(list))
    }
}

/// A list's slot: a multiplicative hash of its symbols' numbers. Symbols are already
/// well-spread small integers, and the derived `Hash` (a hasher call per field of every prop)
/// cost as much as the rest of the lookup.
fn slot_of(props: &[Prop]) -> usize {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = props.len() as u64;
    for p in props {
        let word = (u64::from(p.name.index()) << 32 | u64::from(p.value.index()))
            ^ (u64::from(p.old.map_or(0, |o| o.index() ^ 0x8000_0000)) << 8)
            ^ p.bag as u64;
        h = (h.rotate_left(5) ^ word).wrapping_mul(K);
    }
    (h >> 32) as usize & (SLOTS - 1)
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
        let (x, y, z) = (cache.share(&a), cache.share(&a), cache.share(&b));
        assert_eq!(*x, *a);
        assert_eq!(*z, *b);
        let ptr = |l: &PropList| l.as_ptr();
        assert_eq!(ptr(&x), ptr(&y));
        assert_ne!(ptr(&x), ptr(&z));
        assert!(cache.share(&[]).is_empty());
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

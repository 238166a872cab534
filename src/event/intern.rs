//! String interning for the event model.
//!
//! Millions of events repeat a few thousand distinct operations, users, IPs and user agents.
//! Storing each as a 4-byte symbol keeps an [`Event`](super::Event) small and makes
//! group-bys and joins on those columns integer comparisons. The interner is shared by all
//! parser threads, so symbol numbers depend on thread timing: **never order anything by a
//! `Sym`'s number**, always by the string it resolves to.
//!
//! The table is our own rather than lasso's: on a large export most distinct strings are
//! Internet Message-IDs (1.7 M of 2.4 M at 4 GB), so what the table costs per string beyond
//! the text decides a visible share of peak memory. lasso's concurrent table kept two
//! concurrent maps (string → key and key → string) and built a third structure when frozen:
//! measured on 2.4 M Message-ID-like strings, ~95 bytes a string beyond the text while
//! interning and another ~45 at the freeze. This one keeps each string's text once, packed
//! in a text arena per shard (`text_arena`), an eight-byte pointer to it in an append-only
//! vector whose position is the key (and which the arena keeps beside the text), and a sharded
//! index of those pointers (~33 bytes a string in all, ~40 with a `Box<str>` per string);
//! freezing rebuilds nothing.

use super::prop_list::{hash_of, ListCache, PropList};
use super::text_arena::{TextArena, ThinStr};
use super::Prop;
use hashbrown::HashTable;
use std::hash::BuildHasher as _;
use std::num::NonZeroU32;
use std::sync::Mutex;

/// The table's hasher: foldhash, not std's SipHash. Keys are our own parsed strings, the table
/// lives for one run, and hashing was a visible share of ingest with SipHash.
type Hasher = foldhash::fast::RandomState;

/// An interned string. The empty string is `Sym::EMPTY` and costs no table entry.
///
/// Held as its [index](Sym::index) plus one in a `NonZeroU32`, so `Option<Sym>` is four bytes
/// too: a prop's optional OldValue made [`Prop`] twenty bytes instead of sixteen, and a large
/// export holds some six million props.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sym(NonZeroU32);

impl Default for Sym {
    fn default() -> Self {
        Sym::EMPTY
    }
}

impl Sym {
    /// The empty string.
    pub const EMPTY: Sym = Sym(NonZeroU32::MIN);

    /// True for the empty string.
    #[inline]
    pub fn is_empty(self) -> bool {
        self == Sym::EMPTY
    }

    /// A dense integer for columnar work (frames, bitsets): 0 is the empty string, and the
    /// strings of a table of `len` entries are `1..=len`.
    #[inline]
    pub fn index(self) -> u32 {
        self.0.get() - 1
    }

    /// The inverse of [`Sym::index`].
    ///
    /// # Panics
    /// On `u32::MAX`, which no table hands out (see [`Sym::at`]).
    #[inline]
    pub fn from_index(i: u32) -> Sym {
        match i.checked_add(1).and_then(NonZeroU32::new) {
            Some(v) => Sym(v),
            None => panic!("symbol index out of range: {i}"),
        }
    }

    /// The symbol of the string at `position` in the table.
    fn at(position: usize) -> Sym {
        // Index `u32::MAX` would not fit the `NonZeroU32` as index plus one.
        match u32::try_from(position + 1) {
            Ok(index) if index < u32::MAX => Sym::from_index(index),
            // Four billion distinct strings do not fit the memory this tool runs in.
            _ => panic!("string table overflow: more than 2^32 - 2 distinct strings"),
        }
    }

    /// The table position of a non-empty symbol.
    #[inline]
    fn position(self) -> Option<usize> {
        (!self.is_empty()).then(|| self.index() as usize - 1)
    }
}

/// The table behind every [`Sym`]. Thread-safe; interning from many rayon workers at once is
/// the normal case.
///
/// Once ingest is done the table is [frozen](Interner::freeze): lookups no longer lock, and
/// the threads' front caches are no longer used.
#[derive(Debug)]
pub struct Interner {
    /// Unique among the tables of this process: which table a thread's [`FrontCache`] holds
    /// strings of.
    id: u64,
    /// Every distinct non-empty string once; its position is its symbol's index minus one.
    /// Append-only and readable while other threads append (`boxcar`), so resolving a symbol
    /// never takes a lock, frozen or not. The text lives in the index's arenas.
    strings: boxcar::Vec<ThinStr>,
    /// Finds a string's position.
    index: Index,
    hasher: Hasher,
    /// Case-folded classes of the strings used as prop names, built by
    /// [`Interner::freeze_with_names`] so prop lookups compare integers.
    names: Option<NameClasses>,
}

/// Which prop names are equal ignoring ASCII case, as small integers.
#[derive(Debug, Default)]
struct NameClasses {
    /// Unique among the tables of this process (see [`NameMemo`]).
    id: u64,
    /// By [`Sym::index`]: the name's class, 0 when the symbol is not a prop name.
    class_of: Vec<u32>,
    /// Lower-cased name → class (classes start at 1).
    by_lower: std::collections::HashMap<Box<str>, u32, Hasher>,
}

/// How a prop name query resolved against the frozen name classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameQuery {
    /// No classes were built (an open table): compare strings.
    Unknown,
    /// No prop anywhere has this name.
    Absent,
    /// Props with this class have the name.
    Class(u32),
}

/// Shards of the index: parser workers that miss their caches at once rarely want the same
/// shard's lock.
const SHARDS: usize = 64;

/// Which shard holds a string with this hash. Middle bits: hashbrown places entries by the
/// low bits and tags them with the top seven, so neither may be constant within a shard.
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS - 1)
}

#[derive(Debug)]
enum Index {
    /// Accepting new strings from many threads.
    Open(OpenIndex),
    /// Read-only after ingest: the same shards, without locks.
    Frozen(Box<[Shard]>),
}

/// The index while ingest runs; each thread that interns has a [`FrontCache`] before it.
#[derive(Debug)]
struct OpenIndex {
    /// Positions in [`Interner::strings`] by the string's hash, and the strings' text.
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// The prop lists built so far, sharded like `shards` (by the list's hash), so equal
    /// lists are shared whichever worker built them.
    lists: Box<[CachePadded<Mutex<ListCache>>]>,
}

/// One shard of the table: its strings' positions and their text. The text is stored under
/// the same lock that decides a string is new.
#[derive(Debug, Default)]
struct Shard {
    /// The strings this shard added, by hash. Each [`ThinStr`] carries its position in
    /// [`Interner::strings`], so a lookup reads the text it compares and the symbol it returns
    /// in one place: holding positions here cost a load from `strings` before every compare,
    /// a cache miss on a large table (~3 % of ingest's CPU at 10 GB).
    positions: HashTable<ThinStr>,
    /// The text of the strings this shard added; it never moves while the table lives.
    text: TextArena,
}

/// Slots per thread's cache (a power of two): 128 KiB per thread, within L2; at 4 GB of
/// input, 16 Ki slots took 7 % off ingest's CPU against 4 Ki, 64 Ki no more.
const FRONT_SLOTS: usize = 16384;

/// A thread's cache of the strings it interned last, before the shared index.
///
/// A record interns some thirty strings and nine in ten are already in the table; on a large
/// export the table holds a million strings, so each lookup missed the CPU caches (with the
/// shard lock, ~70 ns: a sixth of ingest). The strings that repeat (operations, prop names,
/// UPNs, client strings) are few, and a direct-mapped cache of them per thread stays in L2
/// and takes no shared lock.
///
/// Direct-mapped: a string's hash picks its slot, a miss overwrites it. Bounded by
/// construction; a string that is evicted is simply looked up in the shared index again.
/// A slot is the table's own [`ThinStr`] of the string (its text and, beside it, its
/// symbol's position), not a copy: a miss used to allocate a `Box<str>` for the new string
/// and free the evicted one, and a slot took 24 bytes instead of 8.
///
/// Thread-local, not a mutex per rayon worker in the table: locking and unlocking a worker's
/// own uncontended mutex (two atomic operations per string) was ~30 % of `intern`'s own
/// time, ~3 % of ingest's CPU. A thread keeps its cache (128 KiB) until it exits.
struct FrontCache {
    /// The [`Interner::id`] the slots hold strings of; 0 for none. Checked before any slot is
    /// read, so a slot of a table that was dropped is never followed.
    table: u64,
    /// Empty until the thread first interns.
    slots: Vec<Option<ThinStr>>,
}

thread_local! {
    static FRONT: std::cell::RefCell<FrontCache> =
        const { std::cell::RefCell::new(FrontCache { table: 0, slots: Vec::new() }) };
}

/// Numbers each [`Interner`] (from 1) for the threads' [`FrontCache`]s.
static NEXT_TABLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Keeps each index shard (and each prop-list shard) on its own cache lines, so they never
/// share one.
#[derive(Debug)]
#[repr(align(128))]
struct CachePadded<T>(T);

/// Locks `m`; a poisoned lock still guards a valid table (nothing panics mid-update).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl OpenIndex {
    fn new() -> Self {
        OpenIndex {
            shards: (0..SHARDS)
                .map(|_| CachePadded(Mutex::new(Shard::default())))
                .collect(),
            lists: (0..SHARDS)
                .map(|_| CachePadded(Mutex::new(ListCache::default())))
                .collect(),
        }
    }
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            id: NEXT_TABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            strings: boxcar::Vec::new(),
            index: Index::Open(OpenIndex::new()),
            hasher: Hasher::default(),
            names: None,
        }
    }
}

impl Interner {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the table read-only: lookups stop locking (and stop using the front caches).
    /// Symbols keep their meaning.
    pub fn freeze(&mut self) {
        if let Index::Open(open) = &mut self.index {
            let shards = std::mem::take(&mut open.shards)
                .into_vec()
                .into_iter()
                .map(|s| s.0.into_inner().unwrap_or_else(|e| e.into_inner()))
                .collect();
            self.index = Index::Frozen(shards);
        }
    }

    /// [Freezes](Interner::freeze) the table and classifies `names` (the prop names of every
    /// event) by case-folded spelling, so [`Interner::name_query`] and
    /// [`Interner::name_class`] replace string comparisons in prop lookups.
    pub fn freeze_with_names(&mut self, names: impl IntoIterator<Item = Sym>) {
        self.freeze();
        let mut classes = NameClasses {
            id: NEXT_NAME_TABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            class_of: vec![0; self.len() + 1],
            by_lower: Default::default(),
        };
        for sym in names {
            let slot = sym.index() as usize;
            if sym.is_empty() || classes.class_of.get(slot).is_none_or(|&c| c != 0) {
                continue;
            }
            let lower = self.resolve(sym).to_ascii_lowercase().into_boxed_str();
            let next = classes.by_lower.len() as u32 + 1;
            let class = *classes.by_lower.entry(lower).or_insert(next);
            classes.class_of[slot] = class;
        }
        self.names = Some(classes);
    }

    /// Classifies a prop name being looked up (ASCII case-insensitive).
    ///
    /// Rules ask this for a few dozen literal names, millions of times: each thread keeps its
    /// last answers ([`NameMemo`]) keyed by the name's address and checked against its text,
    /// instead of lower-casing and hashing the name every time.
    pub fn name_query(&self, name: &str) -> NameQuery {
        let Some(classes) = &self.names else {
            return NameQuery::Unknown;
        };
        NAME_MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if memo.table != classes.id {
                *memo = NameMemo {
                    table: classes.id,
                    ..NameMemo::default()
                };
            }
            let address = name.as_ptr() as usize;
            let slot = (address >> 3 ^ name.len()) % NAME_MEMO_SLOTS;
            if let Some((at, text, query)) = &memo.slots[slot] {
                if *at == address && **text == *name {
                    return *query;
                }
            }
            let query = classes.query(name);
            memo.slots[slot] = Some((address, name.into(), query));
            query
        })
    }
}

/// Slots of a thread's [`NameMemo`].
const NAME_MEMO_SLOTS: usize = 64;

/// A thread's recent [`Interner::name_query`] answers, for one table's name classes.
struct NameMemo {
    /// The [`NameClasses::id`] the answers are for.
    table: u64,
    /// (name address, name, answer), direct-mapped by address.
    slots: [Option<(usize, Box<str>, NameQuery)>; NAME_MEMO_SLOTS],
}

impl Default for NameMemo {
    fn default() -> Self {
        NameMemo {
            table: 0,
            slots: std::array::from_fn(|_| None),
        }
    }
}

thread_local! {
    static NAME_MEMO: std::cell::RefCell<NameMemo> = std::cell::RefCell::new(NameMemo::default());
}

/// Numbers each [`NameClasses`] so a thread's [`NameMemo`] never answers for another table.
static NEXT_NAME_TABLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl NameClasses {
    /// The class of `name`, looked up by its lower-cased text.
    fn query(&self, name: &str) -> NameQuery {
        let classes = self;
        let mut buf = [0u8; 64];
        let found = match buf.get_mut(..name.len()) {
            Some(b) => {
                b.copy_from_slice(name.as_bytes());
                b.make_ascii_lowercase();
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|l| classes.by_lower.get(l))
            }
            None => classes.by_lower.get(name.to_ascii_lowercase().as_str()),
        };
        found.map_or(NameQuery::Absent, |&c| NameQuery::Class(c))
    }
}

impl Interner {
    /// Every symbol's prop name class by [`Sym::index`] (0: not a prop name); empty before
    /// [`Interner::freeze_with_names`].
    pub fn name_classes(&self) -> &[u32] {
        self.names.as_ref().map_or(&[], |c| &c.class_of)
    }

    /// The class of a prop name symbol (see [`Interner::name_query`]); 0 when unclassified.
    pub fn name_class(&self, sym: Sym) -> u32 {
        self.names
            .as_ref()
            .and_then(|c| c.class_of.get(sym.index() as usize).copied())
            .unwrap_or(0)
    }

    /// Interns `s` (the empty string maps to [`Sym::EMPTY`]).
    ///
    /// # Panics
    /// On a [frozen](Interner::freeze) table, when `s` was never interned: only ingest adds
    /// strings, so that is a programming error, never a property of the input.
    pub fn intern(&self, s: &str) -> Sym {
        if s.is_empty() {
            return Sym::EMPTY;
        }
        let hash = self.hasher.hash_one(s);
        let Index::Open(open) = &self.index else {
            return self
                .find(s, hash)
                .unwrap_or_else(|| panic!("string interned after ingest froze the table: {s:?}"));
        };
        let slot = hash as usize & (FRONT_SLOTS - 1);
        let cached = FRONT.try_with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.table != self.id {
                // Another table's strings (or none yet): forgotten unread. Allocated on a
                // thread's first use: a thread that never interns costs nothing.
                cache.table = self.id;
                cache.slots.clear();
                cache.slots.resize(FRONT_SLOTS, None);
            }
            if let Some(t) = cache.slots[slot] {
                if self.text_of(t) == s {
                    return t;
                }
            }
            let t = self.find_or_insert(open, s, hash);
            cache.slots[slot] = Some(t);
            t
        });
        // Only while the thread is being torn down is its cache gone.
        self.sym_of(cached.unwrap_or_else(|_| self.find_or_insert(open, s, hash)))
    }

    /// The shared, locked path of [`Interner::intern`]: the string's entry, added when new.
    fn find_or_insert(&self, open: &OpenIndex, s: &str, hash: u64) -> ThinStr {
        let mut shard = lock(&open.shards[shard_of(hash)].0);
        let shard = &mut *shard;
        if let Some(&t) = shard.positions.find(hash, |&t| self.text_of(t) == s) {
            return t;
        }
        // Pushed under the shard's lock, so a string is pushed once however many workers
        // meet it at the same moment.
        let position = self
            .strings
            .push_with(|position| shard.text.push(s, position as u32));
        let stored = self.strings[position];
        // Before the index learns the string: a position beyond what a symbol holds panics
        // here, never leaving a truncated position behind.
        let sym = Sym::at(position);
        debug_assert_eq!(self.sym_of(stored), sym);
        shard
            .positions
            .insert_unique(hash, stored, |&t| self.hasher.hash_one(self.text_of(t)));
        stored
    }

    /// The symbol of `s` with this hash, if interned (`s` not empty).
    fn find(&self, s: &str, hash: u64) -> Option<Sym> {
        let eq = |&t: &ThinStr| self.text_of(t) == s;
        let found = match &self.index {
            Index::Open(open) => lock(&open.shards[shard_of(hash)].0)
                .positions
                .find(hash, eq)
                .copied(),
            Index::Frozen(shards) => shards[shard_of(hash)].positions.find(hash, eq).copied(),
        };
        found.map(|t| self.sym_of(t))
    }

    /// Interns the ASCII-lower-cased form of `s` without allocating when it is already lower case.
    /// UPNs and e-mail addresses are joined on this form.
    pub fn intern_lower(&self, s: &str) -> Sym {
        let s = s.trim();
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            self.intern(&s.to_ascii_lowercase())
        } else {
            self.intern(s)
        }
    }

    /// The props of one event as a [`PropList`], shared with an equal list built before
    /// (most records repeat another's props exactly). Unshared after the table is frozen.
    pub fn share_props(&self, props: &[Prop]) -> PropList {
        let Index::Open(open) = &self.index else {
            return PropList::from(props);
        };
        let hash = hash_of(props);
        lock(&open.lists[shard_of(hash)].0).share(hash, props)
    }

    /// Looks `s` up without adding it: `None` when it was never interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            Some(Sym::EMPTY)
        } else {
            self.find(s, self.hasher.hash_one(s))
        }
    }

    /// The string behind a symbol. Inlined: reports and the Parquet writer call it per cell.
    ///
    /// # Panics
    /// On a symbol from another table that this one has no string for.
    #[inline]
    pub fn resolve(&self, sym: Sym) -> &str {
        match sym.position() {
            None => "",
            Some(p) => self.text(p as u32),
        }
    }

    /// The text of the string at `position` (which the table holds).
    #[inline]
    fn text(&self, position: u32) -> &str {
        self.text_of(self.strings[position as usize])
    }

    /// The text of a string of this table's (from `strings` or a shard's index).
    #[inline]
    fn text_of(&self, t: ThinStr) -> &str {
        // SAFETY: every ThinStr of the table was made by an arena in its shards, which live
        // (and never drop a chunk) as long as `self`; freezing moves the shards, not their
        // chunks.
        unsafe { t.as_str() }
    }

    /// The symbol of a string of this table's, from the position stored with its text.
    #[inline]
    fn sym_of(&self, t: ThinStr) -> Sym {
        // SAFETY: as for `text_of`; every string is pushed with its position.
        Sym::at(unsafe { t.position() } as usize)
    }

    /// Number of distinct non-empty strings held.
    pub fn len(&self) -> usize {
        self.strings.count()
    }

    /// Bytes of text over every string held (for `--debug-timings`).
    pub fn text_bytes(&self) -> usize {
        (0..self.len() as u32).map(|p| self.text(p).len()).sum()
    }

    /// True when nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A yes/no property of strings, decided once per distinct symbol: for checks asked of every
/// event (is this actor a service account? an address?), where resolving and examining the
/// text each time cost more than the rest of the loop. A byte per string-table entry.
#[derive(Debug, Clone)]
pub struct SymMemo {
    /// By [`Sym::index`]: 0 not decided yet, 1 yes, 2 no.
    known: Vec<u8>,
}

impl SymMemo {
    /// Nothing decided yet, for the symbols `interner` holds now.
    pub fn new(interner: &Interner) -> Self {
        SymMemo {
            known: vec![0; interner.len() + 1],
        }
    }

    /// The answer for `sym`, decided by `test` on its text the first time it is asked (a
    /// symbol added to the table later is tested each time).
    pub fn test(&mut self, sym: Sym, interner: &Interner, test: impl FnOnce(&str) -> bool) -> bool {
        match self.known.get_mut(sym.index() as usize) {
            Some(0) | None => {
                let yes = test(interner.resolve(sym));
                if let Some(k) = self.known.get_mut(sym.index() as usize) {
                    *k = if yes { 1 } else { 2 };
                }
                yes
            }
            Some(k) => *k == 1,
        }
    }

    /// The answer already decided for `sym`, if any.
    pub fn known(&self, sym: Sym) -> Option<bool> {
        match self.known.get(sym.index() as usize) {
            Some(1) => Some(true),
            Some(2) => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_empty_is_free() {
        let i = Interner::new();
        let a = i.intern("New-InboxRule");
        assert_eq!(a, i.intern("New-InboxRule"));
        assert_eq!(i.resolve(a), "New-InboxRule");
        assert_eq!(i.intern(""), Sym::EMPTY);
        assert_eq!(i.resolve(Sym::EMPTY), "");
        assert_eq!(i.len(), 1);
        assert_eq!(
            i.intern_lower(" AdeleV@Contoso.COM "),
            i.intern("adelev@contoso.com")
        );
        assert_eq!(i.get("missing"), None);
        assert_eq!(Sym::from_index(a.index()), a);
        assert_eq!(Sym::EMPTY.index(), 0);
        let mut i = i;
        i.freeze();
        assert_eq!(i.resolve(a), "New-InboxRule");
        assert_eq!(i.intern("New-InboxRule"), a);
        assert_eq!(
            i.get("adelev@contoso.com").map(|s| i.resolve(s)),
            Some("adelev@contoso.com")
        );
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn worker_caches_agree_with_the_shared_table_under_eviction() {
        use rayon::prelude::*;
        // More distinct strings than a worker cache has slots, interned from every worker
        // twice: each string keeps one symbol, and it resolves back to itself.
        let i = Interner::new();
        let words: Vec<String> = (0..3 * FRONT_SLOTS).map(|n| format!("w{n}")).collect();
        let first: Vec<Sym> = words.par_iter().map(|w| i.intern(w)).collect();
        let second: Vec<Sym> = words.par_iter().rev().map(|w| i.intern(w)).collect();
        assert!(first.iter().eq(second.iter().rev()));
        for (w, s) in words.iter().zip(&first) {
            assert_eq!(i.resolve(*s), w);
        }
        assert_eq!(i.len(), words.len());
    }

    #[test]
    fn a_thread_interning_into_two_tables_keeps_them_apart() {
        // One thread, two open tables, the same strings in opposite orders, turn about: each
        // table's symbols are its own (a front cache slot of the other table would hand out
        // the other table's position).
        let (x, y) = (Interner::new(), Interner::new());
        let words: Vec<String> = (0..2 * FRONT_SLOTS).map(|n| format!("s{n}")).collect();
        for (a, b) in words.iter().zip(words.iter().rev()) {
            x.intern(a);
            y.intern(b);
        }
        for (n, w) in words.iter().enumerate() {
            let (sx, sy) = (x.intern(w), y.intern(w));
            assert_eq!((x.resolve(sx), y.resolve(sy)), (w.as_str(), w.as_str()));
            assert_eq!(sx.index() as usize, n + 1);
            assert_eq!(sy.index() as usize, words.len() - n);
        }
        let z = Interner::new();
        assert_eq!(z.get("s0"), None);
        assert_eq!(z.intern("s1").index(), 1);
    }

    #[test]
    fn workers_racing_on_the_same_strings_get_one_dense_symbol_each() {
        use rayon::prelude::*;
        // Every worker interns the same strings at once, bypassing nothing: each string is
        // stored once, its symbols are 1..=len with no gap, and a frozen table finds them all.
        let mut i = Interner::new();
        let words: Vec<String> = (0..20_000).map(|n| format!("<{n}@example>")).collect();
        let runs: Vec<Vec<Sym>> = (0..8)
            .into_par_iter()
            .map(|_| words.iter().map(|w| i.intern(w)).collect())
            .collect();
        assert!(runs.iter().all(|r| r == &runs[0]));
        assert_eq!(i.len(), words.len());
        let mut indices: Vec<u32> = runs[0].iter().map(|s| s.index()).collect();
        indices.sort_unstable();
        assert!(indices.iter().copied().eq(1..=words.len() as u32));
        i.freeze();
        for (w, s) in words.iter().zip(&runs[0]) {
            assert_eq!(i.get(w), Some(*s));
            assert_eq!(i.resolve(*s), w);
        }
        assert_eq!(i.get("<absent@example>"), None);
    }

    #[test]
    fn a_memo_tests_each_symbol_once() {
        let i = Interner::new();
        let (a, b) = (i.intern("svc@x"), i.intern("nt authority\\system"));
        let mut memo = SymMemo::new(&i);
        let mut calls = 0;
        let mut ask = |memo: &mut SymMemo, s: Sym| {
            memo.test(s, &i, |t| {
                calls += 1;
                t.contains('@')
            })
        };
        assert!(ask(&mut memo, a));
        assert!(!ask(&mut memo, b));
        assert!(ask(&mut memo, a));
        assert!(!ask(&mut memo, b));
        assert_eq!(calls, 2);
        assert_eq!((memo.known(a), memo.known(b)), (Some(true), Some(false)));
        // A symbol added after the memo was made is tested, not remembered.
        let late = i.intern("late@x");
        assert!(memo.test(late, &i, |t| t.contains('@')));
        assert_eq!(memo.known(late), None);
        assert_eq!(memo.known(Sym::EMPTY), None);
    }

    #[test]
    fn prop_names_compare_by_class_after_freezing() {
        let mut i = Interner::new();
        let a = i.intern("MailAccessType");
        let b = i.intern("mailaccesstype");
        let c = i.intern("Other");
        assert_eq!(i.name_query("x"), NameQuery::Unknown);
        i.freeze_with_names([a, b, c, a]);
        let NameQuery::Class(k) = i.name_query("MAILACCESSTYPE") else {
            panic!("a known name");
        };
        assert_eq!(i.name_class(a), k);
        assert_eq!(i.name_class(b), k);
        assert_ne!(i.name_class(c), k);
        assert_eq!(i.name_query("Missing"), NameQuery::Absent);
        assert_eq!(i.name_query(&"x".repeat(100)), NameQuery::Absent);
        assert_eq!(i.name_class(Sym::EMPTY), 0);
    }

    #[test]
    fn remembered_name_answers_belong_to_their_table_and_their_text() {
        // Two tables whose classes differ for the same literal, asked in turn on one thread.
        let mut one = Interner::new();
        let x = one.intern("Target");
        one.freeze_with_names([x]);
        let mut two = Interner::new();
        let (y, z) = (two.intern("Other"), two.intern("target"));
        two.freeze_with_names([y, z]);
        for _ in 0..3 {
            assert_eq!(
                one.name_query("Target"),
                NameQuery::Class(one.name_class(x))
            );
            assert_eq!(
                two.name_query("Target"),
                NameQuery::Class(two.name_class(z))
            );
            assert_ne!(two.name_class(y), two.name_class(z));
        }
        // A name at a reused address with other text is looked up again, not remembered.
        let mut name = String::from("Target");
        assert!(matches!(one.name_query(&name), NameQuery::Class(_)));
        name.replace_range(.., "Xarget");
        assert_eq!(one.name_query(&name), NameQuery::Absent);
        assert_eq!(one.name_classes().len(), one.len() + 1);
    }
}

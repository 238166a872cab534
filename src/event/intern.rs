//! String interning for the event model.
//!
//! Millions of events repeat a few thousand distinct operations, users, IPs and user agents.
//! Storing each as a 4-byte symbol keeps an [`Event`](super::Event) small and makes
//! group-bys and joins on those columns integer comparisons. The interner is shared by all
//! parser threads (lasso's `ThreadedRodeo`), so symbol numbers depend on thread timing:
//! **never order anything by a `Sym`'s number**, always by the string it resolves to.

use super::prop_list::{ListCache, PropList};
use super::Prop;
use lasso::{Key, RodeoReader, Spur, ThreadedRodeo};
use std::hash::BuildHasher as _;
use std::sync::Mutex;

/// The table's hasher: foldhash, not std's SipHash. Keys are our own parsed strings, the table
/// lives for one run, and hashing was a visible share of ingest with SipHash.
type Hasher = foldhash::fast::RandomState;

/// An interned string. The empty string is `Sym::EMPTY` and costs no table entry.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sym(Option<Spur>);

impl Sym {
    /// The empty string.
    pub const EMPTY: Sym = Sym(None);

    /// True for the empty string.
    pub fn is_empty(self) -> bool {
        self.0.is_none()
    }

    /// A dense integer for columnar work (frames, bitsets): 0 is the empty string.
    pub fn index(self) -> u32 {
        self.0.map_or(0, |k| k.into_usize() as u32 + 1)
    }

    /// The inverse of [`Sym::index`] (an out-of-range index gives the empty string).
    pub fn from_index(i: u32) -> Sym {
        if i == 0 {
            Sym::EMPTY
        } else {
            Sym(Spur::try_from_usize(i as usize - 1))
        }
    }
}

/// The table behind every [`Sym`]. Thread-safe; interning from many rayon workers at once is
/// the normal case.
///
/// Once ingest is done the table is [frozen](Interner::freeze): analysis and reports resolve
/// symbols millions of times, and a frozen table resolves by indexing a vector instead of
/// locking a shard of a concurrent map (that lookup was a tenth of a whole run's time).
#[derive(Debug)]
pub struct Interner {
    table: Table,
    /// Case-folded classes of the strings used as prop names, built by
    /// [`Interner::freeze_with_names`] so prop lookups compare integers.
    names: Option<NameClasses>,
}

/// Which prop names are equal ignoring ASCII case, as small integers.
#[derive(Debug, Default)]
struct NameClasses {
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

#[derive(Debug)]
enum Table {
    /// Accepting new strings from many threads.
    Open(OpenTable),
    /// Read-only after ingest.
    Frozen(RodeoReader<Spur, Hasher>),
}

/// The shared table while ingest runs, with a small front cache per rayon worker.
///
/// A record interns some thirty strings and nine in ten are already in the table; on a large
/// export the shared table holds a million strings, so each lookup missed the CPU caches
/// (with the shard lock, ~70 ns: a sixth of ingest). The strings that repeat (operations,
/// prop names, UPNs, client strings) are few, and a direct-mapped cache of them per worker
/// stays in L2 and takes no shared lock.
#[derive(Debug)]
struct OpenTable {
    rodeo: ThreadedRodeo<Spur, Hasher>,
    /// Indexed by `rayon::current_thread_index()`; other threads go straight to `rodeo`.
    caches: Box<[CachePadded<Mutex<FrontCache>>]>,
    /// Per worker like `caches`: the prop lists each worker built, so equal lists are shared.
    lists: Box<[CachePadded<Mutex<ListCache>>]>,
    hasher: Hasher,
}

/// Slots per worker cache (a power of two). About 1 MiB per worker with its strings, within
/// L2; at 4 GB of input, 16 Ki slots took 7 % off ingest's CPU against 4 Ki, 64 Ki no more.
const FRONT_SLOTS: usize = 16384;

/// A direct-mapped cache: a string's hash picks its slot, a miss overwrites it. Bounded by
/// construction; a string that is evicted is simply looked up in the shared table again.
/// Empty until its worker first interns.
#[derive(Debug)]
struct FrontCache {
    slots: Box<[Option<Cached>]>,
}

/// A cached string and its key.
type Cached = (Box<str>, Spur);

/// Keeps each worker's cache on its own cache lines, so workers never contend.
#[derive(Debug)]
#[repr(align(128))]
struct CachePadded<T>(T);

impl OpenTable {
    fn new() -> Self {
        let workers = rayon::current_num_threads();
        OpenTable {
            rodeo: ThreadedRodeo::with_hasher(Hasher::default()),
            caches: (0..workers)
                .map(|_| {
                    CachePadded(Mutex::new(FrontCache {
                        slots: Box::default(),
                    }))
                })
                .collect(),
            lists: (0..workers)
                .map(|_| CachePadded(Mutex::new(ListCache::default())))
                .collect(),
            hasher: Hasher::default(),
        }
    }

    fn get_or_intern(&self, s: &str) -> Spur {
        let Some(cache) = rayon::current_thread_index().and_then(|i| self.caches.get(i)) else {
            return self.rodeo.get_or_intern(s);
        };
        let slot = self.hasher.hash_one(s) as usize & (FRONT_SLOTS - 1);
        // Only this worker locks its own cache (another pool's worker with the same index
        // could, which the mutex makes safe); a poisoned cache is still a valid cache.
        let mut cache = cache.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.slots.is_empty() {
            // Allocated on a worker's first use: a table that is never filled (tests, the
            // placeholder in `freeze`) or a worker that never interns costs nothing.
            cache.slots = vec![None; FRONT_SLOTS].into_boxed_slice();
        }
        if let Some((text, key)) = &cache.slots[slot] {
            if **text == *s {
                return *key;
            }
        }
        let key = self.rodeo.get_or_intern(s);
        cache.slots[slot] = Some((s.into(), key));
        key
    }
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            table: Table::Open(OpenTable::new()),
            names: None,
        }
    }
}

impl Interner {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the table read-only and fast to resolve. Symbols keep their meaning.
    pub fn freeze(&mut self) {
        let table = std::mem::replace(&mut self.table, Self::default().table);
        self.table = match table {
            Table::Open(open) => Table::Frozen(open.rodeo.into_reader()),
            frozen => frozen,
        };
    }

    /// [Freezes](Interner::freeze) the table and classifies `names` (the prop names of every
    /// event) by case-folded spelling, so [`Interner::name_query`] and
    /// [`Interner::name_class`] replace string comparisons in prop lookups.
    pub fn freeze_with_names(&mut self, names: impl IntoIterator<Item = Sym>) {
        self.freeze();
        let mut classes = NameClasses {
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
    pub fn name_query(&self, name: &str) -> NameQuery {
        let Some(classes) = &self.names else {
            return NameQuery::Unknown;
        };
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
        match &self.table {
            Table::Open(open) => Sym(Some(open.get_or_intern(s))),
            Table::Frozen(reader) => match reader.get(s) {
                Some(k) => Sym(Some(k)),
                None => panic!("string interned after ingest froze the table: {s:?}"),
            },
        }
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

    /// The props of one event as a [`PropList`], shared with an equal list this worker built
    /// before (most records repeat another's props exactly). Unshared after the table is
    /// frozen or off the rayon pool.
    pub fn share_props(&self, props: &[Prop]) -> PropList {
        let Table::Open(open) = &self.table else {
            return PropList::from(props);
        };
        match rayon::current_thread_index().and_then(|i| open.lists.get(i)) {
            Some(cache) => cache
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .share(props),
            None => PropList::from(props),
        }
    }

    /// Looks `s` up without adding it: `None` when it was never interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            Some(Sym::EMPTY)
        } else {
            match &self.table {
                Table::Open(open) => open.rodeo.get(s),
                Table::Frozen(reader) => reader.get(s),
            }
            .map(|k| Sym(Some(k)))
        }
    }

    /// The string behind a symbol. Inlined: reports and the Parquet writer call it per cell.
    #[inline]
    pub fn resolve(&self, sym: Sym) -> &str {
        match sym.0 {
            None => "",
            Some(k) => match &self.table {
                Table::Open(open) => open.rodeo.resolve(&k),
                Table::Frozen(reader) => reader.resolve(&k),
            },
        }
    }

    /// Number of distinct non-empty strings held.
    pub fn len(&self) -> usize {
        match &self.table {
            Table::Open(open) => open.rodeo.len(),
            Table::Frozen(reader) => reader.len(),
        }
    }

    /// True when nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
}

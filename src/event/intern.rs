//! String interning for the event model.
//!
//! Millions of events repeat a few thousand distinct operations, users, IPs and user agents.
//! Storing each as a 4-byte symbol keeps an [`Event`](super::Event) small and makes
//! group-bys and joins on those columns integer comparisons. The interner is shared by all
//! parser threads (lasso's `ThreadedRodeo`), so symbol numbers depend on thread timing:
//! **never order anything by a `Sym`'s number**, always by the string it resolves to.

use lasso::{Key, Spur, ThreadedRodeo};

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
#[derive(Debug, Default)]
pub struct Interner {
    rodeo: ThreadedRodeo<Spur>,
}

impl Interner {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns `s` (the empty string maps to [`Sym::EMPTY`]).
    pub fn intern(&self, s: &str) -> Sym {
        if s.is_empty() {
            Sym::EMPTY
        } else {
            Sym(Some(self.rodeo.get_or_intern(s)))
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

    /// Looks `s` up without adding it: `None` when it was never interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            Some(Sym::EMPTY)
        } else {
            self.rodeo.get(s).map(|k| Sym(Some(k)))
        }
    }

    /// The string behind a symbol.
    pub fn resolve(&self, sym: Sym) -> &str {
        match sym.0 {
            None => "",
            Some(k) => self.rodeo.resolve(&k),
        }
    }

    /// Number of distinct non-empty strings held.
    pub fn len(&self) -> usize {
        self.rodeo.len()
    }

    /// True when nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.rodeo.is_empty()
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
    }
}

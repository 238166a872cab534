//! A record's own identity, the dedupe key.
//!
//! UAL records and Entra sign-ins carry a GUID (`Id`, `RecordId`, `id`), unique per record: as
//! interned strings they were 40 % of the string table on a large export (each a 36-byte string
//! plus its table entry, none ever shared) and every one of them a miss in the interner. Held
//! as their 16 bytes they cost nothing in the table. Any other identity (message-trace id +
//! recipient, a PowerShell `Identity`, an upper-case or braced GUID) is interned as written, so
//! what a report shows is always the text of the record.

use super::{Interner, Sym};
use std::borrow::Cow;

/// A record's identity: none, a canonical GUID, or interned text.
///
/// Seventeen bytes aligned to one, so it packs beside the event's one-byte fields: holding the
/// symbol as a `Sym` (aligned to four) made it twenty and the event 128 bytes instead of 120.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum RecordId {
    /// The record has no identity (it is never deduplicated).
    #[default]
    None,
    /// A GUID written in canonical form (`8-4-4-4-12`, lower-case hex).
    Guid([u8; 16]),
    /// Anything else, as written.
    Text(PackedSym),
}

/// A [`Sym`] stored as four bytes (aligned to one).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PackedSym([u8; 4]);

impl From<Sym> for PackedSym {
    fn from(sym: Sym) -> Self {
        PackedSym(sym.index().to_le_bytes())
    }
}

impl From<PackedSym> for Sym {
    fn from(packed: PackedSym) -> Self {
        Sym::from_index(u32::from_le_bytes(packed.0))
    }
}

impl RecordId {
    /// The identity of `text`: `None` when empty; a GUID when it is one in canonical lower-case
    /// form (so it renders back to the same text); else interned.
    pub fn new(interner: &Interner, text: &str) -> RecordId {
        if text.is_empty() {
            RecordId::None
        } else if let Some(g) = parse_guid(text) {
            RecordId::Guid(g)
        } else {
            RecordId::Text(interner.intern(text).into())
        }
    }

    /// True when the record had no identity.
    pub fn is_empty(self) -> bool {
        match self {
            RecordId::None => true,
            RecordId::Guid(_) => false,
            RecordId::Text(s) => Sym::from(s).is_empty(),
        }
    }

    /// Appends [`RecordId::text`] to `out` without an allocation of its own.
    pub fn push_text(self, interner: &Interner, out: &mut String) {
        match self {
            RecordId::None => {}
            RecordId::Guid(g) => push_guid(&g, out),
            RecordId::Text(s) => out.push_str(interner.resolve(s.into())),
        }
    }

    /// The identity as written in the record (empty when none).
    pub fn text(self, interner: &Interner) -> Cow<'_, str> {
        match self {
            RecordId::None => Cow::Borrowed(""),
            RecordId::Guid(g) => Cow::Owned(render_guid(&g)),
            RecordId::Text(s) => Cow::Borrowed(interner.resolve(s.into())),
        }
    }
}

/// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower-case hex; anything else is `None`.
fn parse_guid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut high: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        match high.take() {
            None => high = Some(v),
            Some(h) => {
                out[n] = (h << 4) | v;
                n += 1;
            }
        }
    }
    Some(out)
}

fn render_guid(g: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    push_guid(g, &mut s);
    s
}

fn push_guid(g: &[u8; 16], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in g.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 15)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_guids_are_held_as_bytes_and_render_back_as_written() {
        let i = Interner::new();
        let text = "8e57ad9f-6e15-404f-b9df-a008d93a1ba2";
        let id = RecordId::new(&i, text);
        assert!(matches!(id, RecordId::Guid(_)));
        assert_eq!(id.text(&i), text);
        assert_eq!(i.len(), 0, "no table entry for a GUID");
        assert_eq!(id, RecordId::new(&i, text));
    }

    #[test]
    fn other_identities_are_interned_as_written() {
        let i = Interner::new();
        for text in [
            "8E57AD9F-6E15-404F-B9DF-A008D93A1BA2",
            "{8e57ad9f-6e15-404f-b9df-a008d93a1ba2}",
            "8e57ad9f-6e15-404f-b9df-a008d93a1ba",
            "8e57ad9f+6e15-404f-b9df-a008d93a1ba2",
            "8e57ad9f-6e15-404f-b9df-a008d93a1bag",
            "RgAAAAB1",
            "é7ad9f-6e15-404f-b9df-a008d93a1ba2xx",
        ] {
            let id = RecordId::new(&i, text);
            assert!(matches!(id, RecordId::Text(_)), "{text}");
            assert_eq!(id.text(&i), text);
        }
        assert!(RecordId::new(&i, "").is_empty());
        assert_eq!(RecordId::new(&i, "").text(&i), "");
        assert!(RecordId::Text(Sym::EMPTY.into()).is_empty());
        let sym = i.intern("RgAAAAB1");
        assert_eq!(Sym::from(PackedSym::from(sym)), sym);
        assert_eq!(std::mem::align_of::<RecordId>(), 1);
    }
}

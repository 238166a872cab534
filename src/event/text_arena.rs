//! Append-only storage for the string table's text.
//!
//! On a large export the string table holds millions of strings that are used once or twice
//! (Internet Message-IDs: 1.8 M of 3.1 M at 4 GB, token ids, subjects). Each was a `Box<str>`
//! of its own in a `boxcar` slot: 16 bytes of pointer and length, padded to 24 by the slot's
//! flag, plus the allocator's rounding of the text to its size class, some 30 bytes a string
//! beyond the text. Here the text is packed into large chunks, each string behind its length
//! and its position in the table (which the table's index reads beside the text it compares),
//! and the table keeps an eight-byte pointer to it ([`ThinStr`]).
//!
//! The chunks are never moved, grown or freed while the arena lives, which is what makes a
//! [`ThinStr`] readable without a lock from any thread while other threads append.

use std::ptr::NonNull;

/// Bytes per chunk: the last, partly filled chunk of each of the table's 64 shards is the
/// waste (at most 4 MiB, untouched pages of it never resident).
const CHUNK: usize = 64 * 1024;

/// A string longer than this gets a chunk of its own, so it never abandons a chunk's room.
const OWN_CHUNK: usize = CHUNK / 4;

/// A string in a [`TextArena`]: the address of its length (LEB128), which its UTF-8 bytes
/// follow and its table position (four bytes) precedes. Eight bytes; readable for as long as
/// the arena that stored it lives.
#[derive(Clone, Copy, Debug)]
pub(super) struct ThinStr(NonNull<u8>);

// SAFETY: a ThinStr only reads bytes that were written before it was made and that its arena
// never writes, moves or frees again until the arena is dropped; such bytes can be read from
// any thread (the table publishes each ThinStr through `boxcar`, which synchronises).
unsafe impl Send for ThinStr {}
// SAFETY: as for Send: a shared ThinStr gives read access to immutable bytes only.
unsafe impl Sync for ThinStr {}

impl ThinStr {
    /// The text.
    ///
    /// # Safety
    /// The [`TextArena`] that made this `ThinStr` must be alive for `'a`.
    #[inline]
    pub(super) unsafe fn as_str<'a>(self) -> &'a str {
        let mut p = self.0.as_ptr();
        let mut len = 0usize;
        let mut shift = 0;
        loop {
            // SAFETY: `p` walks the length prefix that `TextArena::push` wrote in full,
            // inside a live chunk (the caller's promise).
            let byte = unsafe { p.read() };
            // SAFETY: as above; the prefix is followed by the text, so the next byte exists.
            p = unsafe { p.add(1) };
            len |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        // SAFETY: the `len` bytes after the prefix are the UTF-8 bytes of the `&str` that
        // `push` copied there, unchanged since, in a live chunk.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, len)) }
    }

    /// The position the string was [pushed](TextArena::push) with.
    ///
    /// # Safety
    /// The [`TextArena`] that made this `ThinStr` must be alive.
    #[inline]
    pub(super) unsafe fn position(self) -> u32 {
        // SAFETY: `push` wrote the position in the four bytes before the length prefix, in
        // the same live chunk (the caller's promise); they may be unaligned.
        u32::from_le_bytes(unsafe { self.0.as_ptr().sub(4).cast::<[u8; 4]>().read() })
    }
}

/// A fixed block of bytes written front to back through its base pointer only, so pointers
/// handed out into its filled part stay valid while the rest is written.
#[derive(Debug)]
struct Chunk {
    base: NonNull<u8>,
    capacity: usize,
    len: usize,
}

// SAFETY: a Chunk owns its block like a Box<[u8]>; it is written only through `&mut self`.
unsafe impl Send for Chunk {}
// SAFETY: a shared Chunk is never written (reads go through ThinStr).
unsafe impl Sync for Chunk {}

impl Chunk {
    fn new(capacity: usize) -> Chunk {
        // Zeroed, so the allocator can hand over fresh pages untouched: the unfilled rest of
        // a chunk is never made resident.
        let block: Box<[u8]> = vec![0u8; capacity].into_boxed_slice();
        let base = NonNull::from(Box::leak(block)).cast::<u8>();
        Chunk {
            base,
            capacity,
            len: 0,
        }
    }

    fn room(&self) -> usize {
        self.capacity - self.len
    }

    /// Appends `parts` (which fit: the caller checked [`Chunk::room`]) and returns where they
    /// start.
    fn append(&mut self, parts: [&[u8]; 3]) -> NonNull<u8> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        assert!(total <= self.room(), "chunk overflow");
        // SAFETY: `len <= capacity`, so the offset stays within (or one past) the block.
        let start = unsafe { self.base.add(self.len) };
        let mut at = start;
        for part in parts {
            // SAFETY: `at` and the `part.len()` bytes after it lie in the block's unwritten
            // room (checked above); `part` is a separate allocation, so they do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(part.as_ptr(), at.as_ptr(), part.len());
                at = at.add(part.len());
            }
        }
        self.len += total;
        start
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        let block = std::ptr::slice_from_raw_parts_mut(self.base.as_ptr(), self.capacity);
        // SAFETY: `base` and `capacity` are exactly the leaked Box<[u8]> from `Chunk::new`,
        // dropped once here.
        drop(unsafe { Box::from_raw(block) });
    }
}

/// One shard's text: chunks filled in turn, and strings too long to share one.
#[derive(Debug, Default)]
pub(super) struct TextArena {
    chunks: Vec<Chunk>,
}

impl TextArena {
    /// Stores `s` with its table `position` and returns its [`ThinStr`], valid while `self`
    /// lives. The position is kept beside the text so that a lookup which found the text in
    /// the table's index knows the string's symbol without a second memory access.
    pub(super) fn push(&mut self, s: &str, position: u32) -> ThinStr {
        let mut prefix = [0u8; 10];
        let n = leb128(s.len(), &mut prefix);
        let position = position.to_le_bytes();
        let need = position.len() + n + s.len();
        let chunk = if need > OWN_CHUNK {
            // Kept before the chunk being filled, which stays last.
            let at = self.chunks.len().saturating_sub(1);
            self.chunks.insert(at, Chunk::new(need));
            &mut self.chunks[at]
        } else {
            if self.chunks.last().is_none_or(|c| c.room() < need) {
                self.chunks.push(Chunk::new(CHUNK));
            }
            let last = self.chunks.len() - 1;
            &mut self.chunks[last]
        };
        let start = chunk.append([&position, &prefix[..n], s.as_bytes()]);
        // SAFETY: the position bytes were just written at `start`, so the length prefix
        // starts right after them, inside the same block.
        ThinStr(unsafe { start.add(position.len()) })
    }
}

/// Writes `n` as LEB128 (seven bits a byte, low first) into `out`; returns the bytes used.
fn leb128(mut n: usize, out: &mut [u8; 10]) -> usize {
    let mut i = 0;
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = low;
            return i + 1;
        }
        out[i] = low | 0x80;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_every_length_read_back_across_chunks() {
        let mut arena = TextArena::default();
        let texts: Vec<String> = [0, 1, 127, 128, 300, OWN_CHUNK, OWN_CHUNK + 1, CHUNK + 5]
            .iter()
            .flat_map(|&n| ["é".repeat(n / 2), "x".repeat(n)])
            .chain((0..5_000).map(|n| format!("<{n}@example.com>")))
            .collect();
        let stored: Vec<ThinStr> = (0..)
            .zip(&texts)
            .map(|(n, t)| arena.push(t, u32::MAX - n))
            .collect();
        for ((n, t), s) in (0..).zip(&texts).zip(&stored) {
            // SAFETY: `arena` is alive.
            assert_eq!(unsafe { s.as_str() }, t);
            // SAFETY: as above.
            assert_eq!(unsafe { s.position() }, u32::MAX - n);
        }
        assert!(arena.chunks.len() > 3, "{}", arena.chunks.len());
    }

    #[test]
    fn lengths_encode_in_as_few_bytes_as_they_need() {
        let mut out = [0u8; 10];
        assert_eq!((leb128(0, &mut out), out[0]), (1, 0));
        assert_eq!((leb128(127, &mut out), out[0]), (1, 127));
        assert_eq!(leb128(128, &mut out), 2);
        assert_eq!(out[..2], [0x80, 0x01]);
        assert_eq!(leb128(usize::MAX, &mut out), 10);
    }
}

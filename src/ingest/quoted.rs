//! Finding the end of a quoted CSV field, and unescaping its text, 64 bytes at a time.
//!
//! AuditData is a quoted JSON object with a doubled quote every ten bytes or so. The splitter,
//! the one serial step of ingest, stopped at each of them (a `memchr` per quote: 6 % of
//! ingest's CPU on a Purview export). Inside a quoted field only quotes change the state, each
//! one flipping it (`""` is a quote of the text: it flips twice), so the state after each byte
//! is the parity of the quotes before it: a prefix XOR of a block's quote bitmask.

/// Where a quoted field's scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The field's closing quote is behind: this is the offset of the first byte after it that
    /// is not a quote (a comma, a line end, or stray text the splitter judges).
    ClosedAt(usize),
    /// The field goes on past the bytes given. `after_quote`: they end with an odd run of
    /// quotes, so the next byte says whether the field closed (a quote reopens it).
    Open { after_quote: bool },
}

/// Scans `bytes`, which start inside a quoted field (after its opening quote or within its
/// text), to the field's end.
pub fn skip(bytes: &[u8]) -> Skip {
    // True while inside the text; false after an odd run of quotes.
    let mut inside = true;
    let mut blocks = bytes.chunks_exact(64);
    let mut base = 0;
    for block in &mut blocks {
        let quotes = quote_mask(block.try_into().expect("64-byte chunks"));
        // Bit k: an odd number of quotes in block[..=k].
        let mut odd = quotes;
        for shift in [1, 2, 4, 8, 16, 32] {
            odd ^= odd << shift;
        }
        let outside = if inside { odd } else { !odd };
        let closed = outside & !quotes;
        if closed != 0 {
            return Skip::ClosedAt(base + closed.trailing_zeros() as usize);
        }
        inside = outside >> 63 == 0;
        base += 64;
    }
    for (k, &b) in blocks.remainder().iter().enumerate() {
        if b == b'"' {
            inside = !inside;
        } else if !inside {
            return Skip::ClosedAt(base + k);
        }
    }
    Skip::Open {
        after_quote: !inside,
    }
}

/// Appends `text` (a quoted field's inside, without its closing quote, where quotes come only
/// in pairs) with each `""` made one `"`. The pairs are found 64 bytes at a time, as in
/// [`skip`], and the text between two pairs (ten bytes or so in AuditData) is moved as one
/// 16-byte copy rather than through a `memcpy` call each.
pub fn unescape(text: &[u8], out: &mut Vec<u8>) {
    const WIDE: usize = 16;
    let start = out.len();
    // Room for the text and for a wide copy's overrun past its end.
    out.resize(start + text.len() + WIDE, 0);
    let buf = &mut out[start..];
    // `text[..copied]` is done; `buf[..written]` holds its result.
    let (mut copied, mut written) = (0, 0);
    let mut copy_through = |to: usize, copied: &mut usize, written: &mut usize| {
        // Copies `text[*copied..=to]`.
        let n = to + 1 - *copied;
        if n <= WIDE && *copied + WIDE <= text.len() {
            buf[*written..*written + WIDE].copy_from_slice(&text[*copied..*copied + WIDE]);
        } else {
            buf[*written..*written + n].copy_from_slice(&text[*copied..=to]);
        }
        *written += n;
    };
    let mut blocks = text.chunks_exact(64);
    let mut base = 0;
    for block in &mut blocks {
        let mut quotes = quote_mask(block.try_into().expect("64-byte chunks"));
        if copied > base {
            // The previous block's last quote began a pair that ends here.
            quotes &= !1;
        }
        while quotes != 0 {
            let at = quotes.trailing_zeros() as usize;
            // Keep the pair's first quote, skip its second.
            copy_through(base + at, &mut copied, &mut written);
            copied = base + at + 2;
            quotes &= !(0b11 << at);
        }
        base += 64;
    }
    while let Some(q) = memchr::memchr(b'"', &text[copied.min(text.len())..]) {
        let q = copied + q;
        copy_through(q, &mut copied, &mut written);
        copied = q + 2;
    }
    if copied < text.len() {
        copy_through(text.len() - 1, &mut copied, &mut written);
    }
    out.truncate(start + written);
}

/// Bit k set when `block[k]` is a quote. SSE2, which every x86-64 CPU has: 4 GB/s faster
/// than the portable version below on this machine's benchmark.
#[cfg(target_arch = "x86_64")]
fn quote_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut mask = 0;
    for (j, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86-64 target (the build enables it); the load reads
        // the 16 bytes of `lane` and has no alignment requirement.
        let bits = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)))
        };
        mask |= u64::from(bits as u16) << (16 * j);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn quote_mask(block: &[u8; 64]) -> u64 {
    quote_mask_portable(block)
}

/// [`quote_mask`] eight bytes at a time in plain integers: each quote byte becomes a zero byte,
/// whose top bit the carry-free test sets exactly; a multiply gathers the eight top bits.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn quote_mask_portable(block: &[u8; 64]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0;
    for (j, word) in block.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(word.try_into().expect("8-byte chunks")) ^ 0x2222_2222_2222_2222;
        let zero_bytes = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
        let bits = (zero_bytes >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= bits << (8 * j);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A xorshift generator: the same bytes on every run.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// The RFC 4180 machine inside a quoted field, a byte at a time: what [`skip`] computes
    /// 64 bytes at a time.
    fn skip_bytewise(bytes: &[u8]) -> Skip {
        let mut after_quote = false;
        for (k, &b) in bytes.iter().enumerate() {
            match (after_quote, b) {
                (_, b'"') => after_quote = !after_quote,
                (false, _) => {}
                (true, _) => return Skip::ClosedAt(k),
            }
        }
        Skip::Open { after_quote }
    }

    #[test]
    fn quoted_fields_end_where_the_bytewise_machine_says() {
        // Quote-dense text of every length across several blocks: runs of quotes of every
        // parity, at and across block edges, and the bytes that follow a closing quote.
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for len in 0..300 {
            for density in [2, 5, 40] {
                let text: Vec<u8> = (0..len)
                    .map(|_| match next() % density {
                        0 | 1 => b'"',
                        _ => b"a,\n\r{}"[(next() % 6) as usize],
                    })
                    .collect();
                let shown = String::from_utf8_lossy(&text);
                assert_eq!(skip(&text), skip_bytewise(&text), "{shown:?}");
                // With every quote doubled the text never leaves the field, and unescapes
                // back to itself (after what the buffer held).
                let doubled: Vec<u8> = text
                    .iter()
                    .flat_map(|&b| if b == b'"' { vec![b, b] } else { vec![b] })
                    .collect();
                assert_eq!(
                    skip(&doubled),
                    Skip::Open { after_quote: false },
                    "{shown:?}"
                );
                let mut back = b"kept".to_vec();
                unescape(&doubled, &mut back);
                assert_eq!(back[4..], text[..], "{shown:?}");
            }
        }
    }

    #[test]
    fn both_masks_find_every_quote_and_only_quotes() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                let r = next();
                // Every byte value, and quotes often; neighbours of '"' (0x21, 0x23, 0xa2)
                // catch a test that is not exact per byte.
                *b = match r % 4 {
                    0 => b'"',
                    1 => [0x21, 0x23, 0xa2, 0x00][(r >> 8) as usize % 4],
                    _ => (r >> 16) as u8,
                };
            }
            let want = block
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &b)| m | (u64::from(b == b'"') << k));
            assert_eq!(quote_mask(&block), want);
            assert_eq!(quote_mask_portable(&block), want);
        }
    }
}

//! The UTF-16 decoding path of `open_reader`: the input with a UTF-16LE BOM, with a UTF-16BE
//! BOM, and its text re-encoded as BOM-less UTF-16LE / BE (which the NUL-pattern sniffer must
//! recognise when the text is mostly ASCII), each read in short pieces and compared with a
//! one-shot `encoding_rs` decode (odd lengths, lone surrogates, a piece ending mid-unit).
#![no_main]
use fuzz_support::{fnv, open_checked};
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::source::Encoding;

fn with_prefix(p: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(p.len() + data.len());
    v.extend_from_slice(p);
    v.extend_from_slice(data);
    v
}

fuzz_target!(|data: &[u8]| {
    let seed = fnv(data);
    for (i, bom) in [&[0xff, 0xfe][..], &[0xfe, 0xff][..]]
        .into_iter()
        .enumerate()
    {
        let raw = with_prefix(bom, data);
        let o = open_checked(&raw, seed.rotate_left(i as u32 * 8)).expect("not gzip");
        let want = if i == 0 {
            Encoding::Utf16LeBom
        } else {
            Encoding::Utf16BeBom
        };
        assert_eq!(o.encoding, want);
    }
    // BOM-less: the text re-encoded, so the NUL pattern is what real EAC reports look like.
    let text = String::from_utf8_lossy(data);
    let units: Vec<u16> = text.encode_utf16().collect();
    let le: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    for (i, raw) in [le, be].iter().enumerate() {
        let Some(o) = open_checked(raw, seed.rotate_left(16 + i as u32 * 8)) else {
            continue; // the re-encoding started with the gzip magic: not this target's business
        };
        let ascii = text
            .chars()
            .take(2048)
            .filter(|c| c.is_ascii() && *c != '\0')
            .count();
        let sample = text.chars().take(2048).count();
        // Mostly-ASCII text without a BOM-like start must be recognised as UTF-16.
        if sample >= 8 && ascii == sample && o.signature.is_none() && !text.starts_with('\u{feff}')
        {
            let want = if i == 0 {
                Encoding::Utf16Le
            } else {
                Encoding::Utf16Be
            };
            assert_eq!(
                o.encoding, want,
                "BOM-less UTF-16 of ASCII text not recognised"
            );
            let all = o.all.expect("plain input reads");
            assert_eq!(all, text.as_bytes(), "BOM-less UTF-16 does not round-trip");
        }
    }
});

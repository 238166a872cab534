//! Time parsers on arbitrary strings: `parse_iso`, `parse_ms_date`, `parse_wrapper`,
//! `parse_any`. Invariants: every returned instant renders; `parse_iso` reads back its own
//! RFC 3339 rendering; whatever `parse_iso` / `parse_ms_date` accept, `parse_wrapper` accepts
//! too, as the same instant and not ambiguous (its documented contract).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailsleuth::event::time::{parse_any, parse_iso, parse_ms_date, parse_wrapper};
use mailsleuth::event::Timestamp;

fn renders(t: Timestamp, what: &str, s: &str) {
    assert!(
        chrono::DateTime::from_timestamp_micros(t.0).is_some(),
        "{what}({s:?}) = {} µs cannot be rendered",
        t.0
    );
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s: &str = &s;
    let iso = parse_iso(s);
    if let Some(t) = iso {
        renders(t, "parse_iso", s);
        let back = t.to_rfc3339();
        assert_eq!(
            parse_iso(&back),
            Some(t),
            "parse_iso({s:?}) = {back} does not read back"
        );
    }
    let ms = parse_ms_date(s);
    if let Some(t) = ms {
        renders(t, "parse_ms_date", s);
    }
    let w = parse_wrapper(s);
    if let Some(w) = w {
        renders(w.time, "parse_wrapper", s);
    }
    for (what, t) in [("parse_iso", iso), ("parse_ms_date", ms)] {
        if let Some(t) = t {
            let w = w.unwrap_or_else(|| panic!("{what} accepts {s:?} but parse_wrapper does not"));
            assert_eq!(w.time, t, "parse_wrapper({s:?}) disagrees with {what}");
            assert!(
                !w.ambiguous,
                "parse_wrapper({s:?}) flags an exact {what} time ambiguous"
            );
        }
    }
    assert_eq!(parse_any(s), w);
});

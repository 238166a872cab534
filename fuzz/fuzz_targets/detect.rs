//! Decode + sniff + detect on arbitrary bytes: `source::open_reader` (gzip, BOMs, UTF-16 with
//! and without BOM, binary signatures) checked against a one-shot decode, then `detect::detect`
//! on the head, then the driver's header step for CSV verdicts. Small inputs are also tried
//! gzip-compressed.
#![no_main]
use fuzz_support::{csv_header, fnv, gzip, open_checked};
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::detect::{self, Kind, Parser};
use mailsleuth::ingest::{mailbox_audit, message_trace, signin, ual_csv};

fn one(raw: &[u8], seed: u64) {
    let Some(o) = open_checked(raw, seed) else {
        return;
    };
    let d = detect::detect(&o.head, o.encoding, o.signature);
    assert_eq!(
        d.kind == Kind::Unknown,
        d.parser.is_none(),
        "kind/parser mismatch: {d:?}"
    );
    if d.kind == Kind::Unknown {
        assert!(d.reason.is_some(), "unknown without a reason");
    }
    assert!(!d.format.is_empty());
    let csv = match d.parser {
        Some(Parser::UalCsv | Parser::MailboxAuditCsv | Parser::TraceCsv | Parser::SigninCsv) => {
            d.parser
        }
        _ => None,
    };
    if let Some(p) = csv {
        let (_, h) = csv_header(&o.head).expect("CSV verdict, but the driver finds no header");
        // A header detect accepted may still be refused by the family (the driver then
        // reports the file unknown); it must not panic.
        let _ = match p {
            Parser::UalCsv => ual_csv::UalCsv::new(&h).map(|_| ()),
            Parser::MailboxAuditCsv => mailbox_audit::MailboxAuditCsv::new(&h).map(|_| ()),
            Parser::TraceCsv => message_trace::TraceCsv::new(&h).map(|_| ()),
            _ => signin::SigninCsv::new(&h).map(|_| ()),
        };
    }
}

fuzz_target!(|data: &[u8]| {
    let seed = fnv(data);
    one(data, seed);
    if data.len() <= 4096 {
        one(&gzip(data), seed.rotate_left(17));
    }
});

//! Shared harness code for the fuzz targets: a reader that hands out data in awkward pieces,
//! in-memory copies of the ingest driver's CSV and JSON loops (the driver's own are private and
//! file based), and the invariants every parsed `Event` must satisfy.
//!
//! The driver wraps each record's parse in `catch_unwind`; these copies do not, so a panic in a
//! parser reaches libFuzzer as a crash instead of becoming a "please report" skip.

use mailsleuth::event::ip::normalize_ip;
use mailsleuth::event::{normalize_operation, Event, Interner};
use mailsleuth::ingest::record::{CsvParser, Header, JsonParser, ParseCtx, Row};
use mailsleuth::ingest::source::HEAD_BYTES;
use mailsleuth::ingest::split::{CsvRecords, CsvSplitter, JsonSplitter, Limits};
use std::io::{self, Read};

/// FNV-1a: a cheap, deterministic seed derived from the input (so a reproducer replays the
/// same read pattern).
pub fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A reader over a byte slice whose first reads are short, of varying sizes (1 byte up to a
/// few KiB), so the splitters' and decoders' resumption across reads is exercised, not just the
/// one-read-swallows-everything case an in-memory `&[u8]` gives.
pub struct Chunked<'a> {
    data: &'a [u8],
    pos: usize,
    sizes: [usize; 4],
    k: usize,
}

impl<'a> Chunked<'a> {
    /// Pieces sized from `seed`.
    pub fn new(data: &'a [u8], seed: u64) -> Self {
        let mut sizes = [0usize; 4];
        for (i, s) in sizes.iter_mut().enumerate() {
            let b = (seed >> (i * 16)) as usize;
            *s = match b & 3 {
                0 => 1 + (b >> 2) % 4,    // 1..=4: splits every token
                1 => 1 + (b >> 2) % 64,   // a few bytes
                2 => 1 + (b >> 2) % 4096, // up to a page
                _ => usize::MAX,          // whatever the caller asks for
            };
        }
        Chunked {
            data,
            pos: 0,
            sizes,
            k: 0,
        }
    }
}

/// How many reads [`Chunked`] shortens before handing out whatever is asked for.
const SHORT_READS: usize = 64;

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Odd sizes for the first reads only: every buffer-boundary path is met early, and a
        // long run of tiny reads would mostly measure the splitters' per-read cost.
        let want = if self.k < SHORT_READS {
            self.sizes[self.k % self.sizes.len()]
        } else {
            usize::MAX
        };
        self.k += 1;
        let avail = self.data.len() - self.pos;
        let n = want.min(buf.len()).min(avail);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// True when the known bug `id` is masked: `MAILSLEUTH_FUZZ_MASK=id,id…` in the environment
/// makes the harness steer around a bug already reported, so a run finds the *next* bug
/// instead of re-finding a shallow one thousands of times. Add an id when a bug is reported,
/// remove it with the fix. No id is in use: every bug found so far is fixed.
pub fn masked(id: &str) -> bool {
    static MASK: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    MASK.get_or_init(|| {
        std::env::var("MAILSLEUTH_FUZZ_MASK")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|m| m == id)
}

/// Limits used by the parser targets: records up to 1 MiB (so real records are parsed), small
/// batches (so inputs are cut into several; not smaller, as each batch builds a csv reader,
/// which dominated the run time at 1 KiB).
pub const PARSER_LIMITS: Limits = Limits {
    max_record_bytes: 1 << 20,
    batch_bytes: 4096,
};

/// The invariants of the event model that hold for every parser. `max_line` bounds
/// `Event::line` (the input cannot have more lines or records than bytes + 1).
pub fn check_events(events: &[Event], interner: &Interner, file: u32, max_line: u64) {
    for e in events {
        assert_eq!(e.file, file, "event carries the wrong file id");
        assert!(
            e.line >= 1 && e.line <= max_line,
            "event line {} outside 1..={max_line}",
            e.line
        );
        // time.rs promises every Timestamp it returns renders; a parser must not invent others.
        assert!(
            chrono::DateTime::from_timestamp_micros(e.time.0).is_some(),
            "event time {} µs cannot be rendered",
            e.time.0
        );
        let _ = e.time.to_rfc3339();
        let syms = [
            e.error_text,
            e.workload,
            e.operation_raw,
            e.operation,
            e.actor,
            e.actor_key,
            e.mailbox,
            e.ip,
            e.user_agent,
            e.app_id,
            e.session_id,
            e.token_id,
            e.object,
        ];
        let _ = e.record_id.text(interner);
        for s in syms {
            let _ = interner.resolve(s);
        }
        let ip = interner.resolve(e.ip);
        assert_eq!(normalize_ip(ip), ip, "Event::ip is not normalised");
        let op = interner.resolve(e.operation);
        assert_eq!(
            normalize_operation(op),
            op,
            "Event::operation is not normalised"
        );
        for (what, s) in [("actor_key", e.actor_key), ("mailbox", e.mailbox)] {
            let v = interner.resolve(s);
            assert!(
                !v.bytes().any(|b| b.is_ascii_uppercase()),
                "Event::{what} is not lower-cased: {v:?}"
            );
        }
        for p in e.props() {
            let _ = interner.resolve(p.name);
            let _ = interner.resolve(p.value);
        }
        if let Some(d) = &e.details {
            for &s in [d.dest_folder, d.sender].iter().chain(d.recipients.iter()) {
                let _ = interner.resolve(s);
            }
        }
    }
}

pub use mailsleuth::ingest::csv_header;

/// Builds a CSV parser from a header (the family's `new`).
pub type BuildCsv = fn(&Header) -> Result<Box<dyn CsvParser>, String>;

/// Runs a CSV family over `data` the way the driver does: the input's own header when the
/// family accepts it, otherwise `fallback_header` is put in front and every input line is a
/// data row. Splits with [`PARSER_LIMITS`] over short reads, parses every row, checks events.
/// Returns the number of events.
pub fn run_csv(data: &[u8], fallback_header: &str, build: BuildCsv) -> usize {
    let own = csv_header(&data[..data.len().min(HEAD_BYTES)])
        .and_then(|(line, h)| build(&h).ok().map(|p| (line, p)));
    let owned;
    let (input, header_line, parser): (&[u8], u64, Box<dyn CsvParser>) = match own {
        Some((line, p)) => (data, line, p),
        None => {
            let Some((line, h)) = csv_header(fallback_header.as_bytes()) else {
                panic!("fallback header does not parse");
            };
            let p = build(&h).expect("fallback header is accepted by its parser");
            let mut v = Vec::with_capacity(fallback_header.len() + 2 + data.len());
            v.extend_from_slice(fallback_header.as_bytes());
            v.extend_from_slice(b"\r\n");
            v.extend_from_slice(data);
            owned = v;
            (&owned[..], line, p)
        }
    };
    let interner = Interner::new();
    let ctx = ParseCtx {
        interner: &interner,
        file: 7,
    };
    let max_line = input.len() as u64 + 1;
    let mut splitter = CsvSplitter::new(Chunked::new(input, fnv(input)), PARSER_LIMITS);
    let mut events = Vec::new();
    let mut rec = csv::ByteRecord::new();
    let mut last_line = 0;
    let mut batches = 0usize;
    while let Some(batch) = splitter.next_batch().expect("in-memory reads do not fail") {
        batches += 1;
        assert!(
            batches <= input.len() + 1,
            "CSV splitter does not terminate"
        );
        let mut records = CsvRecords::new(&batch);
        while let Some(line) = records.next_into(&mut rec) {
            assert!(
                line >= last_line,
                "row line went backwards: {line} < {last_line}"
            );
            last_line = line;
            if line <= header_line {
                continue;
            }
            let row = Row::new(&rec, line);
            if row.is_blank() {
                continue;
            }
            let before = events.len();
            let _ = parser.parse_row(&row, &ctx, &mut events);
            for e in &events[before..] {
                assert_eq!(e.line, line, "CSV event line differs from its row's line");
            }
        }
    }
    let _ = splitter.take_skips();
    check_events(&events, &interner, 7, max_line);
    events.len()
}

/// Runs a JSON family over `data` the way the driver does (JsonSplitter over short reads,
/// each record decoded lossily and parsed). Returns the number of events.
pub fn run_json(data: &[u8], parser: &dyn JsonParser) -> usize {
    let interner = Interner::new();
    let ctx = ParseCtx {
        interner: &interner,
        file: 3,
    };
    let mut splitter = JsonSplitter::new(Chunked::new(data, fnv(data)), PARSER_LIMITS);
    let mut events = Vec::new();
    let mut batches = 0usize;
    while let Some(batch) = splitter.next_batch().expect("in-memory reads do not fail") {
        batches += 1;
        assert!(
            batches <= data.len() + 1,
            "JSON splitter does not terminate"
        );
        for (bytes, line) in batch.iter() {
            let text = String::from_utf8_lossy(bytes);
            let _ = parser.parse_record(&text, line, &ctx, &mut events);
        }
    }
    let _ = splitter.take_skips();
    let _ = splitter.layout().name();
    check_events(&events, &interner, 3, data.len() as u64 + 1);
    events.len()
}

/// True when the input looks like JSON (first significant byte `{` or `[`), as `detect` decides.
pub fn looks_json(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&data[..data.len().min(64)]);
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    matches!(t.as_bytes().first(), Some(b'{' | b'['))
}

/// What [`open_checked`] found.
pub struct OpenResult {
    /// Sniffed encoding.
    pub encoding: mailsleuth::ingest::source::Encoding,
    /// Recognised binary signature.
    pub signature: Option<&'static str>,
    /// The decoded head `open_reader` kept for detection.
    pub head: Vec<u8>,
    /// The whole decoded stream (None when the gzip stream was broken).
    pub all: Option<Vec<u8>>,
}

/// Opens `raw` with `open_reader` over short reads and checks the decoded stream against an
/// independent one-shot decoding: gzip by `flate2`, BOM stripped, UTF-16 by `encoding_rs`
/// (malformed units become U+FFFD), everything else passed through unchanged. Also: the head is
/// the stream's first `HEAD_BYTES`, and the encoding is what `sniff_encoding` says of the
/// decompressed start.
pub fn open_checked(raw: &[u8], seed: u64) -> Option<OpenResult> {
    use mailsleuth::ingest::source::{self, Encoding, NoCount};
    let opened = match source::open_reader(Box::new(Chunked::new(raw, seed)), &NoCount) {
        Ok(o) => o,
        Err(_) => {
            // Only a broken gzip stream can fail in memory.
            assert!(
                raw.starts_with(&[0x1f, 0x8b]),
                "open_reader failed on plain bytes"
            );
            return None;
        }
    };
    assert!(
        opened.head.len() <= HEAD_BYTES,
        "head longer than HEAD_BYTES"
    );
    let (encoding, signature, gzip, head) =
        (opened.encoding, opened.signature, opened.gzip, opened.head);
    assert_eq!(gzip, raw.starts_with(&[0x1f, 0x8b]), "gzip flag");
    let mut reader = opened.reader;
    let mut all = Vec::new();
    let all = match reader.read_to_end(&mut all) {
        Ok(_) => Some(all),
        Err(_) => {
            assert!(gzip, "reading decoded plain bytes failed");
            None
        }
    };
    if let Some(all) = &all {
        let n = all.len().min(HEAD_BYTES);
        assert_eq!(&all[..n], &head[..], "head is not the start of the stream");
        let plain: Option<Vec<u8>> = if gzip {
            let mut v = Vec::new();
            flate2::read::MultiGzDecoder::new(raw)
                .read_to_end(&mut v)
                .ok()
                .map(|_| v)
        } else {
            Some(raw.to_vec())
        };
        if let Some(plain) = plain {
            let start = &plain[..plain.len().min(HEAD_BYTES)];
            let sniffed = if source::binary_signature(start).is_some() {
                Encoding::Binary
            } else {
                source::sniff_encoding(start)
            };
            assert_eq!(encoding, sniffed, "encoding differs from sniff_encoding");
            let utf16 = |enc: &'static encoding_rs::Encoding, b: &[u8]| {
                enc.decode_without_bom_handling(b)
                    .0
                    .into_owned()
                    .into_bytes()
            };
            let want: Vec<u8> = match encoding {
                Encoding::Utf8 | Encoding::Binary => plain.clone(),
                Encoding::Utf8Bom => plain[3..].to_vec(),
                Encoding::Utf16LeBom => utf16(encoding_rs::UTF_16LE, &plain[2..]),
                Encoding::Utf16Le => utf16(encoding_rs::UTF_16LE, &plain),
                Encoding::Utf16BeBom => utf16(encoding_rs::UTF_16BE, &plain[2..]),
                Encoding::Utf16Be => utf16(encoding_rs::UTF_16BE, &plain),
            };
            if matches!(
                encoding,
                Encoding::Utf16Le | Encoding::Utf16LeBom | Encoding::Utf16Be | Encoding::Utf16BeBom
            ) {
                assert!(
                    std::str::from_utf8(all).is_ok(),
                    "UTF-16 decoded to invalid UTF-8"
                );
            }
            // encoding_rs_io also drops a second, identical BOM right after the first
            // (`FF FE FF FE …`); one-shot decoding keeps it as U+FEFF. Harmless: accept it.
            let want = match want.strip_prefix("\u{feff}".as_bytes()) {
                Some(rest)
                    if encoding == Encoding::Utf16LeBom || encoding == Encoding::Utf16BeBom =>
                {
                    if all.len() < want.len() {
                        rest.to_vec()
                    } else {
                        want
                    }
                }
                _ => want,
            };
            assert!(
                *all == want,
                "decoded stream differs from a one-shot decode ({encoding:?}): got {} bytes {:?}…, want {} bytes {:?}…",
                all.len(),
                String::from_utf8_lossy(&all[..all.len().min(48)]),
                want.len(),
                String::from_utf8_lossy(&want[..want.len().min(48)]),
            );
        }
    }
    Some(OpenResult {
        encoding,
        signature,
        head,
        all,
    })
}

/// gzip-compresses `data` (fast level).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in-memory write");
    e.finish().expect("in-memory write")
}

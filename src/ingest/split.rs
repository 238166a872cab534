//! Cutting a decoded stream into complete records, in bounded memory, before any parsing.
//!
//! Splitting is the only sequential step of ingest: it is a byte scan (memchr-accelerated) that
//! only finds where records end. Whole records are handed out in batches that rayon workers
//! parse in parallel. Doing the cut here, not in the parsers, is also what keeps damage local: a
//! record that is too large, truncated by the end of the file, or text between JSON values, is
//! reported with its line and skipped, and the scan carries on with the next record.

use super::{csv_fields, quoted};
use std::io::{self, Read};

/// Size limits that protect the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A record larger than this is skipped (and reported) without being held in memory.
    pub max_record_bytes: usize,
    /// Batches handed to the parser workers are about this large.
    pub batch_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 16 * 1024 * 1024,
            batch_bytes: 1024 * 1024,
        }
    }
}

/// A problem found while splitting, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitSkip {
    /// Line where the skipped record starts.
    pub line: u64,
    /// Stable reason.
    pub reason: String,
}

const READ_BLOCK: usize = 256 * 1024;

/// The smallest batch [`Limits::for_file`] picks.
const MIN_BATCH: usize = 64 * 1024;

/// A file gets batches of about this fraction of its size, up to [`Limits::batch_bytes`].
const BATCHES_PER_FILE: u64 = 256;

impl Limits {
    /// These limits for one file of `bytes` on disk (`compressed`: gzip, whose size on disk
    /// says nothing of the text's).
    ///
    /// A small file gets smaller batches, down to 64 KiB: ingest keeps two rounds of
    /// batches in memory whatever the file's size (32 MiB with 1 MiB batches on two cores), so
    /// on a 100 MB export they were half of the run's peak memory. A file of 256 MB or more
    /// keeps the full size.
    pub fn for_file(self, bytes: u64, compressed: bool) -> Limits {
        if compressed {
            return self;
        }
        let scaled = usize::try_from(bytes / BATCHES_PER_FILE).unwrap_or(usize::MAX);
        Limits {
            batch_bytes: scaled.max(MIN_BATCH).min(self.batch_bytes),
            ..self
        }
    }

    /// Bytes read from the input at a time: a quarter batch, at most [`READ_BLOCK`] (each read
    /// zero-fills its room first, so a block much larger than a batch only added memory).
    fn read_block(self) -> usize {
        (self.batch_bytes / 4).clamp(4096, READ_BLOCK)
    }
}

/// Appends up to `block` bytes read from `reader` to `buf` (a read interrupted by a signal is
/// retried); true at the end of the input. Shared by both splitters.
fn read_block<R: Read>(reader: &mut R, buf: &mut Vec<u8>, block: usize) -> io::Result<bool> {
    let old = buf.len();
    buf.resize(old + block, 0);
    let n = loop {
        match reader.read(&mut buf[old..]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    };
    buf.truncate(old + n);
    Ok(n == 0)
}

/// Batch buffers a splitter keeps for reuse (see [`Splitter::recycle`]): two rounds' worth on
/// this machine's pool, more than a round ever hands back at once.
const SPARE_BUFFERS: usize = 32;

/// Returned batch buffers, emptied, kept for the next batches.
///
/// A batch of 1 MiB is too large for the allocator to keep at hand once freed: each new one
/// came from freshly mapped memory, which the kernel zeroes page by page on first touch (on
/// the 4 GB Purview CSV, 71 % of ingest's page faults were the copy into a new batch).
#[derive(Debug, Default)]
struct Spares(Vec<Vec<u8>>);

impl Spares {
    /// An empty buffer, a reused one when there is one.
    fn take(&mut self) -> Vec<u8> {
        self.0.pop().unwrap_or_default()
    }

    /// Keeps `buf` (emptied) for reuse, unless enough are kept already.
    fn give(&mut self, mut buf: Vec<u8>) {
        if self.0.len() < SPARE_BUFFERS {
            buf.clear();
            self.0.push(buf);
        }
    }
}

/// What the ingest driver needs from a splitter, whatever the format.
pub trait Splitter {
    /// A batch of complete records, parsed by one worker.
    type Batch: Sync;
    /// The next batch, or `None` at the end.
    fn next_batch(&mut self) -> io::Result<Option<Self::Batch>>;
    /// Skips found since the last call.
    fn take_skips(&mut self) -> Vec<SplitSkip>;
    /// Decoded bytes in a batch (for estimating how many records a file holds).
    fn decoded_len(batch: &Self::Batch) -> usize;
    /// Takes back a parsed batch, whose buffers the next batches reuse.
    fn recycle(&mut self, batch: Self::Batch);
}

impl<R: Read> Splitter for CsvSplitter<R> {
    type Batch = CsvBatch;
    fn next_batch(&mut self) -> io::Result<Option<CsvBatch>> {
        CsvSplitter::next_batch(self)
    }
    fn take_skips(&mut self) -> Vec<SplitSkip> {
        CsvSplitter::take_skips(self)
    }
    fn decoded_len(batch: &CsvBatch) -> usize {
        batch.data.len()
    }
    fn recycle(&mut self, batch: CsvBatch) {
        self.spares.give(batch.data);
    }
}

impl<R: Read> Splitter for JsonSplitter<R> {
    type Batch = JsonBatch;
    fn next_batch(&mut self) -> io::Result<Option<JsonBatch>> {
        JsonSplitter::next_batch(self)
    }
    fn take_skips(&mut self) -> Vec<SplitSkip> {
        JsonSplitter::take_skips(self)
    }
    fn decoded_len(batch: &JsonBatch) -> usize {
        batch.data.len()
    }
    fn recycle(&mut self, batch: JsonBatch) {
        self.spares.give(batch.data);
    }
}

fn mib(n: usize) -> String {
    format!("{} MiB", n / (1024 * 1024))
}

// ---------------------------------------------------------------------------------------------
// CSV

/// A run of complete CSV records (RFC 4180; quoted fields may hold newlines).
#[derive(Debug, Default)]
pub struct CsvBatch {
    /// The records' bytes, each ending with its newline (the last may lack it).
    pub data: Vec<u8>,
    /// Line number of the first byte of `data`.
    pub first_line: u64,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Splits CSV text into batches of whole records.
pub struct CsvSplitter<R> {
    reader: R,
    limits: Limits,
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned.
    scanned: usize,
    /// Start of the current (incomplete) record: everything before it is complete records.
    rec_start: usize,
    state: CsvState,
    /// Line number at `buf[0]`.
    line: u64,
    eof: bool,
    /// Dropping an oversized record (already reported) until it ends.
    discarding: bool,
    /// An oversized complete record of this many bytes sits at the front of `buf`, reported.
    pending_drop: Option<usize>,
    skips: Vec<SplitSkip>,
    spares: Spares,
}

/// Why [`CsvSplitter::scan`] stopped.
enum Stop {
    /// Enough complete records for a batch.
    Full,
    /// The record starting at `rec_start` is too large; `Some(end)` when it is complete.
    Oversized(Option<usize>),
    /// The buffer is used up.
    NeedMore,
}

impl<R: Read> CsvSplitter<R> {
    /// A splitter over decoded UTF-8 text.
    pub fn new(reader: R, limits: Limits) -> Self {
        CsvSplitter {
            reader,
            limits,
            buf: Vec::with_capacity(limits.read_block() * 2),
            scanned: 0,
            rec_start: 0,
            state: CsvState::FieldStart,
            line: 1,
            eof: false,
            discarding: false,
            pending_drop: None,
            skips: Vec::new(),
            spares: Spares::default(),
        }
    }

    /// Skips found since the last call.
    pub fn take_skips(&mut self) -> Vec<SplitSkip> {
        std::mem::take(&mut self.skips)
    }

    /// Called at each record end (`end` is just past its newline). Returns why to stop, if so.
    fn record_end(&mut self, end: usize) -> Option<Stop> {
        if self.discarding {
            self.drop_front(end);
            self.discarding = false;
            return None;
        }
        if end - self.rec_start > self.limits.max_record_bytes {
            return Some(Stop::Oversized(Some(end)));
        }
        self.rec_start = end;
        (self.rec_start >= self.limits.batch_bytes).then_some(Stop::Full)
    }

    /// Scans `buf[scanned..]` with the RFC 4180 state machine until a batch is full, an
    /// oversized record is found, or the buffer is used up.
    fn scan(&mut self) -> Stop {
        while self.scanned < self.buf.len() {
            let i = self.scanned;
            match self.state {
                CsvState::Quoted => match quoted::skip(&self.buf[i..]) {
                    quoted::Skip::ClosedAt(off) => {
                        self.scanned = i + off;
                        self.state = CsvState::QuoteInQuoted;
                    }
                    quoted::Skip::Open { after_quote } => {
                        self.scanned = self.buf.len();
                        if after_quote {
                            self.state = CsvState::QuoteInQuoted;
                        }
                    }
                },
                CsvState::Unquoted => match memchr::memchr2(b',', b'\n', &self.buf[i..]) {
                    Some(off) => {
                        let at = i + off;
                        self.scanned = at + 1;
                        self.state = CsvState::FieldStart;
                        if self.buf[at] == b'\n' {
                            if let Some(stop) = self.record_end(at + 1) {
                                return stop;
                            }
                        }
                    }
                    None => self.scanned = self.buf.len(),
                },
                CsvState::FieldStart | CsvState::QuoteInQuoted => {
                    let b = self.buf[i];
                    self.scanned = i + 1;
                    self.state = match (self.state, b) {
                        (_, b'\n') => {
                            self.state = CsvState::FieldStart;
                            if let Some(stop) = self.record_end(i + 1) {
                                return stop;
                            }
                            CsvState::FieldStart
                        }
                        (_, b',') => CsvState::FieldStart,
                        (CsvState::FieldStart, b'"') | (CsvState::QuoteInQuoted, b'"') => {
                            CsvState::Quoted
                        }
                        (s, b'\r') => s,
                        _ => CsvState::Unquoted,
                    };
                }
            }
        }
        if !self.discarding && self.scanned - self.rec_start > self.limits.max_record_bytes {
            return Stop::Oversized(None);
        }
        Stop::NeedMore
    }

    /// Removes `n` bytes from the front of the buffer, keeping line numbers right.
    fn drop_front(&mut self, n: usize) {
        self.forget_front(n);
        self.buf.drain(..n);
    }

    /// Counts the lines of `buf[..n]` and moves the scan's offsets back by `n`, for the bytes
    /// about to leave the front of the buffer.
    fn forget_front(&mut self, n: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.buf[..n]).count() as u64;
        self.scanned -= n;
        self.rec_start = self.rec_start.saturating_sub(n);
    }

    /// Hands out `buf[..end]` as a batch: the buffer itself becomes the batch and what follows
    /// `end` (the start of the next record) moves to a spare one, so the batch's megabyte is
    /// neither copied nor moved.
    fn take_batch(&mut self, end: usize) -> CsvBatch {
        let first_line = self.line;
        self.forget_front(end);
        let mut rest = self.spares.take();
        rest.reserve(self.buf.capacity().max(self.limits.read_block() * 2));
        rest.extend_from_slice(&self.buf[end..]);
        let mut data = std::mem::replace(&mut self.buf, rest);
        data.truncate(end);
        CsvBatch { data, first_line }
    }

    fn line_at(&self, pos: usize) -> u64 {
        self.line + memchr::memchr_iter(b'\n', &self.buf[..pos]).count() as u64
    }

    /// The next batch of complete records, or `None` at the end. Skips found on the way are
    /// collected for [`take_skips`](Self::take_skips).
    pub fn next_batch(&mut self) -> io::Result<Option<CsvBatch>> {
        if let Some(n) = self.pending_drop.take() {
            self.drop_front(n);
        }
        loop {
            match self.scan() {
                Stop::Full => {
                    let end = self.rec_start;
                    return Ok(Some(self.take_batch(end)));
                }
                Stop::Oversized(end) => {
                    let start = self.rec_start;
                    self.skips.push(SplitSkip {
                        line: self.line_at(start),
                        reason: format!(
                            "record larger than {}; skipped",
                            mib(self.limits.max_record_bytes)
                        ),
                    });
                    // Hand out the complete records before it first; then drop it.
                    let batch = (start > 0).then(|| self.take_batch(start));
                    match end {
                        Some(e) => self.pending_drop = Some(e - start),
                        None => {
                            let scanned = self.scanned;
                            self.drop_front(scanned);
                            self.discarding = true;
                        }
                    }
                    if let Some(b) = batch {
                        return Ok(Some(b));
                    }
                    if let Some(n) = self.pending_drop.take() {
                        self.drop_front(n);
                    }
                }
                Stop::NeedMore if self.discarding => {
                    let scanned = self.scanned;
                    self.drop_front(scanned);
                    if self.eof {
                        self.buf.clear();
                        return Ok(None);
                    }
                    self.fill()?;
                }
                Stop::NeedMore if self.eof => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let mut end = self.buf.len();
                    if self.state == CsvState::Quoted && self.rec_start < end {
                        // The file ends inside a quoted field: the last record is cut off.
                        self.skips.push(SplitSkip {
                            line: self.line_at(self.rec_start),
                            reason: "file ends inside a quoted field (truncated record)".into(),
                        });
                        end = self.rec_start;
                    }
                    if end == 0 {
                        self.buf.clear();
                        return Ok(None);
                    }
                    let batch = self.take_batch(end);
                    self.buf.clear();
                    self.scanned = 0;
                    self.rec_start = 0;
                    return Ok(Some(batch));
                }
                Stop::NeedMore => self.fill()?,
            }
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        if read_block(&mut self.reader, &mut self.buf, self.limits.read_block())? {
            self.eof = true;
        }
        Ok(())
    }
}

/// Iterates the records of a [`CsvBatch`] with their 1-based line numbers, reusing one record
/// buffer. The fields are the csv crate's ([`csv_fields::read_record`]); line numbers are
/// counted from byte offsets.
pub struct CsvRecords<'b> {
    data: &'b [u8],
    /// Where the next record may start.
    pos: usize,
    /// A quoted field's unescaped text.
    scratch: Vec<u8>,
    line: u64,
    counted_to: usize,
}

impl<'b> CsvRecords<'b> {
    /// Records of `batch`.
    pub fn new(batch: &'b CsvBatch) -> Self {
        CsvRecords {
            data: &batch.data,
            pos: 0,
            scratch: Vec::new(),
            line: batch.first_line,
            counted_to: 0,
        }
    }

    /// Reads the next record into `rec`; returns its line, or `None` at the end. Never fails:
    /// any bytes read as some records (as with the csv crate, whose reader never failed on a
    /// batch either).
    pub fn next_into(&mut self, rec: &mut csv::ByteRecord) -> Option<u64> {
        let (start, next) = csv_fields::read_record(self.data, self.pos, rec, &mut self.scratch)?;
        self.pos = next;
        Some(self.line_of(start))
    }

    /// The line of the record starting at `start` (its first byte, not a line end).
    fn line_of(&mut self, start: usize) -> u64 {
        if start > self.counted_to {
            self.line +=
                memchr::memchr_iter(b'\n', &self.data[self.counted_to..start]).count() as u64;
            self.counted_to = start;
        }
        self.line
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

/// A batch of complete JSON records (each one top-level value, or one element of a top-level
/// array or of a `{"value": […]}` / `{"records": […]}` envelope).
#[derive(Debug, Default)]
pub struct JsonBatch {
    /// The records' bytes, back to back.
    pub data: Vec<u8>,
    /// Each record: byte range in `data` and the line where it starts.
    pub records: Vec<(std::ops::Range<usize>, u64)>,
}

impl JsonBatch {
    /// Iterates over `(text, line)`.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u64)> + '_ {
        self.records
            .iter()
            .map(move |(r, line)| (&self.data[r.clone()], *line))
    }
}

/// How the file held its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonLayout {
    /// Top-level arrays seen.
    pub arrays: u32,
    /// Top-level objects that were records.
    pub objects: u32,
    /// Envelopes (`value`/`records` arrays) seen.
    pub envelopes: u32,
    /// Records on a line of their own after another record (NDJSON).
    pub lines: bool,
}

impl JsonLayout {
    /// A short name: `array`, `concatenated-arrays`, `ndjson`, `single-object`, `envelope`, `mixed`.
    pub fn name(&self) -> &'static str {
        match (self.arrays, self.objects, self.envelopes) {
            (0, 0, 0) => "empty",
            (1, 0, 0) => "array",
            (n, 0, 0) if n > 1 => "concatenated-arrays",
            (0, 1, 0) => "single-object",
            (0, n, 0) if n > 1 && self.lines => "ndjson",
            (0, n, 0) if n > 1 => "concatenated-objects",
            (0, 0, 1) => "envelope",
            (0, 0, _) => "concatenated-envelopes",
            _ => "mixed",
        }
    }
}

struct Rec {
    start: usize,
    line: u64,
    /// Depth outside the record (its opening bracket raises depth to `outer + 1`).
    outer: u32,
    top_object: bool,
    oversized: bool,
    trailing_comma: bool,
}

/// Splits a stream of JSON values into records. Tolerates concatenated top-level values,
/// NDJSON, envelopes, a BOM between appended values, and trailing commas (which it removes).
pub struct JsonSplitter<R> {
    reader: R,
    limits: Limits,
    max_depth: u32,
    buf: Vec<u8>,
    scanned: usize,
    line: u64,
    eof: bool,
    depth: u32,
    in_str: bool,
    /// Children of the container at this depth are records (0: none).
    emit_depth: u32,
    rec: Option<Rec>,
    /// Last significant byte (outside strings) inside the current record.
    last_sig: u8,
    /// Start of the last string seen at depth 1 of a top-level object (possible key).
    key_start: Option<usize>,
    key_end: usize,
    envelope_key: bool,
    scalar_open: bool,
    junk_line: u64,
    last_record_line: u64,
    layout: JsonLayout,
    skips: Vec<SplitSkip>,
    spares: Spares,
}

impl<R: Read> JsonSplitter<R> {
    /// A splitter over decoded UTF-8 text.
    pub fn new(reader: R, limits: Limits) -> Self {
        JsonSplitter {
            reader,
            limits,
            max_depth: 512,
            buf: Vec::with_capacity(limits.read_block() * 2),
            scanned: 0,
            line: 1,
            eof: false,
            depth: 0,
            in_str: false,
            emit_depth: 0,
            rec: None,
            last_sig: 0,
            key_start: None,
            key_end: 0,
            envelope_key: false,
            scalar_open: false,
            junk_line: 0,
            last_record_line: 0,
            layout: JsonLayout::default(),
            skips: Vec::new(),
            spares: Spares::default(),
        }
    }

    /// Skips found since the last call.
    pub fn take_skips(&mut self) -> Vec<SplitSkip> {
        std::mem::take(&mut self.skips)
    }

    /// How the records were laid out (complete after the last batch).
    pub fn layout(&self) -> JsonLayout {
        self.layout
    }

    fn skip(&mut self, line: u64, reason: impl Into<String>) {
        self.skips.push(SplitSkip {
            line,
            reason: reason.into(),
        });
    }

    /// The next batch of records, or `None` at the end.
    pub fn next_batch(&mut self) -> io::Result<Option<JsonBatch>> {
        let mut batch = JsonBatch {
            data: self.spares.take(),
            records: Vec::new(),
        };
        loop {
            self.scan(&mut batch);
            // Keep only what an unfinished record still needs.
            let keep_from = match &self.rec {
                Some(r) if !r.oversized => r.start,
                _ => self.scanned,
            };
            if keep_from > 0 {
                self.buf.drain(..keep_from);
                self.scanned -= keep_from;
                if let Some(r) = &mut self.rec {
                    r.start -= keep_from.min(r.start);
                }
                if let Some(k) = &mut self.key_start {
                    if *k >= keep_from {
                        *k -= keep_from;
                        // The key may still be open (its end not seen yet): never underflow.
                        self.key_end = self.key_end.saturating_sub(keep_from);
                    } else {
                        self.key_start = None;
                    }
                }
            }
            if batch.data.len() >= self.limits.batch_bytes {
                return Ok(Some(batch));
            }
            if self.eof {
                if let Some(r) = self.rec.take() {
                    self.skip(r.line, "file ends inside a JSON record (truncated record)");
                }
                self.buf.clear();
                self.scanned = 0;
                return Ok(if batch.records.is_empty() {
                    None
                } else {
                    Some(batch)
                });
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        if read_block(&mut self.reader, &mut self.buf, self.limits.read_block())? {
            self.eof = true;
        }
        Ok(())
    }

    fn start_record(&mut self, at: usize, top_object: bool) {
        self.rec = Some(Rec {
            start: at,
            line: self.line,
            outer: self.depth,
            top_object,
            oversized: false,
            trailing_comma: false,
        });
        self.last_sig = 0;
    }

    fn end_record(&mut self, end: usize, batch: &mut JsonBatch) {
        let Some(rec) = self.rec.take() else { return };
        if rec.oversized {
            self.skip(
                rec.line,
                format!(
                    "record larger than {}; skipped",
                    mib(self.limits.max_record_bytes)
                ),
            );
            return;
        }
        if rec.line > self.last_record_line && self.last_record_line > 0 {
            self.layout.lines = true;
        }
        self.last_record_line = rec.line;
        let text = &self.buf[rec.start..end];
        let from = batch.data.len();
        if rec.trailing_comma {
            batch.data.extend(remove_trailing_commas(text));
        } else {
            batch.data.extend_from_slice(text);
        }
        batch.records.push((from..batch.data.len(), rec.line));
    }

    fn scan(&mut self, batch: &mut JsonBatch) {
        let mut i = self.scanned;
        while i < self.buf.len() {
            if let Some(r) = &mut self.rec {
                if !r.oversized && i - r.start > self.limits.max_record_bytes {
                    r.oversized = true;
                }
            }
            if self.in_str {
                // Jump to the next quote or backslash.
                match memchr::memchr2(b'"', b'\\', &self.buf[i..]) {
                    None => {
                        self.line += memchr::memchr_iter(b'\n', &self.buf[i..]).count() as u64;
                        i = self.buf.len();
                    }
                    Some(off) => {
                        self.line +=
                            memchr::memchr_iter(b'\n', &self.buf[i..i + off]).count() as u64;
                        i += off;
                        if self.buf[i] == b'\\' {
                            if i + 1 >= self.buf.len() {
                                // The escaped byte is in the next read: resume here then.
                                break;
                            }
                            i += 2;
                            continue;
                        }
                        self.in_str = false;
                        i += 1;
                        if self.depth == 1 && self.rec.as_ref().is_some_and(|r| r.top_object) {
                            self.key_end = i;
                        }
                    }
                }
                continue;
            }
            let b = self.buf[i];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.scalar_open = false;
                }
                b' ' | b'\t' | b'\r' => self.scalar_open = false,
                b'"' => {
                    self.in_str = true;
                    if self.depth == 1 && self.rec.as_ref().is_some_and(|r| r.top_object) {
                        self.key_start = Some(i);
                        self.key_end = i;
                    }
                    if self.rec.is_none() && self.depth == self.emit_depth && self.depth > 0 {
                        self.skip(self.line, "JSON value is not an object");
                    }
                    self.last_sig = b;
                }
                b'{' | b'[' => {
                    if self.depth >= self.max_depth {
                        let line = self.rec.as_ref().map_or(self.line, |r| r.line);
                        self.skip(line, "JSON nested too deeply; rest of file skipped");
                        self.rec = None;
                        self.buf.truncate(i);
                        self.eof = true;
                        self.scanned = i;
                        return;
                    }
                    if self.rec.is_none() {
                        if self.depth == 0 && b == b'{' {
                            self.start_record(i, true);
                            self.layout.objects += 1;
                        } else if self.depth == 0 {
                            self.emit_depth = 1;
                            self.layout.arrays += 1;
                        } else if self.depth == self.emit_depth {
                            self.start_record(i, false);
                        }
                    } else if b == b'['
                        && self.depth == 1
                        && self.envelope_key
                        && self.rec.as_ref().is_some_and(|r| r.top_object)
                    {
                        // `{"value": [ … ]}`: the envelope is not a record, its elements are.
                        self.rec = None;
                        self.layout.objects -= 1;
                        self.layout.envelopes += 1;
                        self.emit_depth = 2;
                    }
                    self.envelope_key = false;
                    self.depth += 1;
                    self.scalar_open = false;
                    self.last_sig = b;
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        self.junk(i);
                    } else {
                        if self.last_sig == b',' {
                            if let Some(r) = &mut self.rec {
                                r.trailing_comma = true;
                            }
                        }
                        self.depth -= 1;
                        if self.rec.as_ref().is_some_and(|r| r.outer == self.depth) {
                            self.end_record(i + 1, batch);
                        }
                        if self.depth < self.emit_depth {
                            self.emit_depth = 0;
                        }
                    }
                    self.scalar_open = false;
                    self.last_sig = b;
                }
                b':' => {
                    if let (Some(ks), true) = (self.key_start, self.depth == 1) {
                        let key = &self.buf[ks + 1..self.key_end.saturating_sub(1).max(ks + 1)];
                        self.envelope_key = key.eq_ignore_ascii_case(b"value")
                            || key.eq_ignore_ascii_case(b"records");
                    }
                    self.key_start = None;
                    self.last_sig = b;
                }
                b',' => {
                    self.scalar_open = false;
                    self.envelope_key = false;
                    self.last_sig = b;
                }
                0xef | 0xbb | 0xbf if self.depth == 0 => {} // a BOM between appended values
                _ => {
                    if self.depth == 0 {
                        self.junk(i);
                    } else if self.rec.is_none()
                        && self.depth == self.emit_depth
                        && !self.scalar_open
                    {
                        self.skip(self.line, "JSON value is not an object");
                        self.scalar_open = true;
                    }
                    self.envelope_key = false;
                    self.last_sig = b;
                }
            }
            i += 1;
        }
        self.scanned = i;
    }

    /// Text outside any JSON value: report once per line.
    fn junk(&mut self, _at: usize) {
        if self.junk_line != self.line {
            self.junk_line = self.line;
            self.skip(self.line, "text outside JSON values");
        }
    }
}

/// Removes commas that directly precede `}` or `]` (outside strings): the lenient reading of
/// hand-edited or documentation JSON.
pub fn remove_trailing_commas(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut in_str = false;
    let mut esc = false;
    let mut pending_comma: Option<usize> = None;
    for &b in text {
        if in_str {
            out.push(b);
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'}' | b']' => {
                if let Some(pos) = pending_comma.take() {
                    out.remove(pos);
                }
                out.push(b);
            }
            b',' => {
                pending_comma = Some(out.len());
                out.push(b);
            }
            b' ' | b'\t' | b'\r' | b'\n' => out.push(b),
            _ => {
                pending_comma = None;
                if b == b'"' {
                    in_str = true;
                }
                out.push(b);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_shrink_with_the_file_but_not_below_a_floor_or_above_the_limit() {
        let limits = Limits::default();
        let full = limits.batch_bytes;
        let at = |bytes: u64, gzip| limits.for_file(bytes, gzip).batch_bytes;
        assert_eq!(at(1_000, false), MIN_BATCH);
        assert_eq!(at(100_000_000, false), 390_625);
        assert_eq!(at(256 * full as u64, false), full);
        assert_eq!(at(10_000_000_000, false), full);
        // A gzip file's size on disk says nothing of its text: full batches.
        assert_eq!(at(1_000, true), full);
        // A limit below the floor (tests) is kept; the record limit never changes.
        assert_eq!(
            small().for_file(1 << 30, false).batch_bytes,
            small().batch_bytes
        );
        assert_eq!(
            limits.for_file(1_000, false).max_record_bytes,
            limits.max_record_bytes
        );
        // Reads are a quarter batch, within [4 KiB, READ_BLOCK].
        assert_eq!(limits.read_block(), READ_BLOCK);
        assert_eq!(limits.for_file(1_000, false).read_block(), MIN_BATCH / 4);
        assert_eq!(small().read_block(), 4096);
    }

    fn small() -> Limits {
        Limits {
            max_record_bytes: 64,
            batch_bytes: 16,
        }
    }

    fn csv_records(text: &str, limits: Limits) -> (Vec<(u64, String)>, Vec<SplitSkip>) {
        let mut s = CsvSplitter::new(text.as_bytes(), limits);
        let mut out = Vec::new();
        let mut skips = Vec::new();
        while let Some(b) = s.next_batch().unwrap() {
            skips.extend(s.take_skips());
            let mut recs = CsvRecords::new(&b);
            let mut rec = csv::ByteRecord::new();
            while let Some(line) = recs.next_into(&mut rec) {
                out.push((line, String::from_utf8_lossy(&rec[0]).into_owned()));
            }
            // As ingest does: later batches reuse this one's buffer.
            s.recycle(b);
        }
        skips.extend(s.take_skips());
        (out, skips)
    }

    #[test]
    fn csv_batches_end_on_record_boundaries_with_multiline_cells() {
        let text = "h1,h2\r\n\"a\nb\",1\r\nplain,\"x\"\"y\"\r\n\"c\",2\nlast,3";
        assert_eq!(text.matches('\n').count(), 5);
        for limits in [small(), Limits::default()] {
            let (recs, skips) = csv_records(text, limits);
            assert!(skips.is_empty());
            let got: Vec<_> = recs.iter().map(|(l, f)| (*l, f.as_str())).collect();
            assert_eq!(
                got,
                [(1, "h1"), (2, "a\nb"), (4, "plain"), (5, "c"), (6, "last")]
            );
        }
    }

    #[test]
    fn csv_oversized_record_is_skipped_and_reading_resumes() {
        let big = "x".repeat(200);
        let text = format!("h\r\nok1\r\n\"{big}\n{big}\"\r\nok2\r\n");
        let (recs, skips) = csv_records(&text, small());
        let fields: Vec<_> = recs.iter().map(|(l, f)| (*l, f.as_str())).collect();
        assert_eq!(fields, [(1, "h"), (2, "ok1"), (5, "ok2")]);
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].line, 3);
        assert!(skips[0].reason.contains("larger than"));
    }

    #[test]
    fn csv_truncated_quoted_record_is_reported_and_earlier_rows_kept() {
        let text = "h,a\r\nr1,\"{\"\"x\"\":1}\"\r\nr2,\"{\"\"x\"\":";
        let (recs, skips) = csv_records(text, Limits::default());
        assert_eq!(recs.len(), 2);
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].line, 3);
        assert!(skips[0].reason.contains("truncated"));
    }

    #[test]
    fn csv_bare_quote_inside_unquoted_field_does_not_swallow_the_file() {
        let text = "h\r\nab\"c\r\nnext\r\n";
        let (recs, _) = csv_records(text, Limits::default());
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[2], (3, "next".to_string()));
    }

    fn json_records(text: &str, limits: Limits) -> (Vec<(u64, String)>, Vec<SplitSkip>, String) {
        let mut s = JsonSplitter::new(text.as_bytes(), limits);
        let mut out = Vec::new();
        while let Some(b) = s.next_batch().unwrap() {
            // A reused buffer starts empty.
            assert_eq!(b.records[0].0.start, 0);
            for (t, l) in b.iter() {
                out.push((l, String::from_utf8(t.to_vec()).unwrap()));
            }
            s.recycle(b);
        }
        let skips = s.take_skips();
        (out, skips, s.layout().name().to_string())
    }

    #[test]
    fn json_shapes_are_split_into_records() {
        let (r, s, layout) = json_records("[{\"a\":1},\n {\"a\":\"]}\"}]", Limits::default());
        assert_eq!(r, [(1, "{\"a\":1}".into()), (2, "{\"a\":\"]}\"}".into())]);
        assert!(s.is_empty());
        assert_eq!(layout, "array");

        let (r, _, layout) = json_records("{\"a\":1}\n{\"a\":2}\n", small());
        assert_eq!(r.len(), 2);
        assert_eq!(layout, "ndjson");

        let (r, _, layout) = json_records(
            "[\r\n    {\"a\":1}\r\n]\r\n\u{feff}[\r\n    {\"a\":2}\r\n]\r\n",
            Limits::default(),
        );
        assert_eq!(r, [(2, "{\"a\":1}".into()), (5, "{\"a\":2}".into())]);
        assert_eq!(layout, "concatenated-arrays");

        let (r, _, layout) = json_records(
            "{\"@odata.context\":\"x\",\"value\":[{\"id\":\"1\",\"value\":[1]},{\"id\":\"2\"}],\"@odata.nextLink\":\"y\"}",
            Limits::default(),
        );
        assert_eq!(
            r.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
            ["{\"id\":\"1\",\"value\":[1]}", "{\"id\":\"2\"}"]
        );
        assert_eq!(layout, "envelope");

        let (r, _, layout) = json_records("{\"only\":{\"nested\":[1,2]}}", Limits::default());
        assert_eq!(r.len(), 1);
        assert_eq!(layout, "single-object");
    }

    #[test]
    fn json_damage_is_local() {
        let text = "garbage line\n{\"a\":1}\n[1, {\"b\":2}]\n{\"cut\":";
        let (r, s, _) = json_records(text, Limits::default());
        assert_eq!(r, [(2, "{\"a\":1}".into()), (3, "{\"b\":2}".into())]);
        let reasons: Vec<_> = s.iter().map(|s| (s.line, s.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (1, "text outside JSON values"),
                (3, "JSON value is not an object"),
                (4, "file ends inside a JSON record (truncated record)")
            ]
        );
    }

    #[test]
    fn json_cut_inside_a_key_after_a_complete_record_is_reported_not_a_panic() {
        // Found by the truncation property test: the splitter compacted its buffer while a
        // key was still open and underflowed.
        for cut in 1..12 {
            let text = "{\"a\":1}\n{\"Record\":2}\n";
            let (r, s, _) = json_records(&text[..8 + cut], small());
            assert_eq!(r[0].1, "{\"a\":1}");
            assert!(r.len() == 1 || cut >= 13);
            assert!(s.iter().all(|s| s.line == 2), "{s:?}");
        }
    }

    #[test]
    fn an_escape_split_across_reads_is_read_whole() {
        // Found by fuzzing: a backslash as the last byte of a read made the scan step past
        // the end of the buffer.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&b, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = b;
                self.0 = rest;
                Ok(1)
            }
        }
        let text = br#"{"a":"x\"y\\"}{"b":"\u0041"}"#;
        let mut s = JsonSplitter::new(OneByte(text), small());
        let mut recs = Vec::new();
        while let Some(b) = s.next_batch().unwrap() {
            recs.extend(
                b.iter()
                    .map(|(t, _)| String::from_utf8(t.to_vec()).unwrap()),
            );
        }
        assert_eq!(recs, [r#"{"a":"x\"y\\"}"#, r#"{"b":"\u0041"}"#]);
        assert!(s.take_skips().is_empty());
    }

    #[test]
    fn json_oversized_record_is_skipped() {
        let big = "y".repeat(300);
        let text = format!("{{\"a\":1}}\n{{\"big\":\"{big}\"}}\n{{\"a\":2}}\n");
        let (r, s, _) = json_records(&text, small());
        assert_eq!(r.len(), 2);
        assert_eq!(s[0].line, 2);
        assert!(s[0].reason.contains("larger than"));
    }

    #[test]
    fn trailing_commas_are_removed_outside_strings() {
        let (r, _, _) = json_records("{\"a\":[1,2,],\"s\":\",}\",}", Limits::default());
        assert_eq!(r[0].1, "{\"a\":[1,2],\"s\":\",}\"}");
        let v: serde_json::Value = serde_json::from_str(&r[0].1).unwrap();
        assert_eq!(v["s"], ",}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = "[".repeat(10_000);
        let (r, s, _) = json_records(&text, Limits::default());
        assert!(r.is_empty());
        assert!(s.iter().any(|s| s.reason.contains("nested too deeply")));
    }
}

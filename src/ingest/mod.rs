//! From bytes to events: find inputs, decode, detect the export kind, split records, parse them
//! in parallel, dedupe.
//!
//! Per file: [`source`] opens and decodes, [`detect`] decides the kind from the content,
//! [`split`] cuts complete records in bounded memory, and batches of records are parsed on
//! rayon's pool by the family's parser ([`ual_csv`], [`ual_json`], [`mailbox_audit`],
//! [`message_trace`], [`signin`]). Files are read in parallel too. Then [`dedupe`] keeps each
//! record once across overlapping exports, in a fixed file order, so results never depend on
//! thread timing.

pub mod audit_data;
mod csv_fields;
pub mod dedupe;
pub mod detect;
pub mod mailbox_audit;
pub mod message_trace;
mod quoted;
pub mod record;
pub mod signin;
pub mod source;
pub mod split;
pub mod ual_csv;
pub mod ual_json;
mod warnings;

use crate::event::{flags, Event, FileId, Interner, Timestamp};
use detect::{Detection, Kind, Parser};
use rayon::prelude::*;
use record::{CsvParser, Header, JsonParser, ParseCtx, Row};
use serde::Serialize;
use source::{ByteCounter, InputFile};
use split::{CsvSplitter, JsonSplitter, Limits};
use std::collections::BTreeMap;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// How ingest behaves.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Record size and batch limits.
    pub limits: Limits,
    /// How many `file:line` examples each skip reason keeps.
    pub skip_examples: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            limits: Limits::default(),
            skip_examples: 5,
        }
    }
}

/// Skipped records that share a reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkipGroup {
    /// Why.
    pub reason: String,
    /// How many records.
    pub count: u64,
    /// The first few places, as `file:line`.
    pub examples: Vec<String>,
}

/// What happened to one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Path as given/found.
    pub path: String,
    /// Size on disk.
    pub size: u64,
    /// Export family.
    pub kind: Kind,
    /// Specific shape.
    pub format: &'static str,
    /// Text encoding.
    pub encoding: &'static str,
    /// True when gzip-compressed.
    pub gzip: bool,
    /// SHA-256 of the file as it is on disk (chain of custody).
    pub sha256: Option<String>,
    /// How JSON records were laid out (array, ndjson, envelope …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<&'static str>,
    /// Records kept (after duplicates were dropped).
    pub records: u64,
    /// Records skipped as unreadable.
    pub skipped: u64,
    /// Records dropped as duplicates of records in earlier files (or earlier in this file).
    pub duplicates: u64,
    /// Earliest event time in the file.
    pub first: Option<Timestamp>,
    /// Latest event time in the file.
    pub last: Option<Timestamp>,
    /// Skips grouped by reason.
    pub skip_reasons: Vec<SkipGroup>,
    /// Completeness warnings.
    pub warnings: Vec<String>,
    /// Why the file is `unknown`, or could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// True when the file could not be read at all (I/O error).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
    /// Data rows/records read (before dedupe and skips): what export caps are compared with.
    #[serde(skip)]
    pub rows: u64,
}

impl FileReport {
    fn new(file: &InputFile) -> Self {
        FileReport {
            path: file.path.display().to_string(),
            size: file.size,
            kind: Kind::Unknown,
            format: "unknown",
            encoding: "unknown",
            gzip: false,
            sha256: None,
            layout: None,
            records: 0,
            skipped: 0,
            duplicates: 0,
            first: None,
            last: None,
            skip_reasons: Vec::new(),
            warnings: Vec::new(),
            reason: None,
            unreadable: false,
            rows: 0,
        }
    }
}

/// The result of reading every input.
#[derive(Debug)]
pub struct Ingest {
    /// The string table behind every event's symbols.
    pub interner: Interner,
    /// Every kept event, in file order then record order (not yet sorted by time).
    pub events: Vec<Event>,
    /// One report per input file, in path order.
    pub files: Vec<FileReport>,
    /// Paths that yielded no file (missing, link loops, unreadable folders).
    pub problems: Vec<source::InputProblem>,
    /// Warnings about the inputs as a whole (no sign-in data anywhere, …).
    pub warnings: Vec<String>,
}

impl Ingest {
    /// Records kept, over all files.
    pub fn total_records(&self) -> u64 {
        self.files.iter().map(|f| f.records).sum()
    }

    /// Records skipped, over all files.
    pub fn total_skipped(&self) -> u64 {
        self.files.iter().map(|f| f.skipped).sum()
    }

    /// Duplicates dropped, over all files.
    pub fn total_duplicates(&self) -> u64 {
        self.files.iter().map(|f| f.duplicates).sum()
    }
}

/// Reads every file under `paths`.
pub fn run(paths: &[PathBuf], options: &IngestOptions, counter: &dyn ByteCounter) -> Ingest {
    let (files, problems) = source::collect_inputs(paths);
    counter.set_total(files.iter().map(|f| f.size).sum());
    let mut interner = Interner::new();
    let target = JoinRoom::target(&files);
    let results: Vec<(FileReport, Vec<Event>)> = files
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let room = target.filter(|&(t, _)| t == i).map(|(_, room)| room);
            read_file(f, i as FileId, &interner, options, counter, room)
        })
        .collect();
    let (mut reports, per_file): (Vec<FileReport>, Vec<Vec<Event>>) = results.into_iter().unzip();
    let events = dedupe::dedupe(per_file, &mut reports);
    for report in &mut reports {
        if report.kind != Kind::Unknown {
            warnings::file_warnings(report);
        }
    }
    let warnings = warnings::input_warnings(&reports, &events, &interner);
    let mut is_name = vec![false; interner.len() + 1];
    for p in events.iter().flat_map(|e| e.props()) {
        if let Some(slot) = is_name.get_mut(p.name.index() as usize) {
            *slot = true;
        }
    }
    let names = is_name
        .iter()
        .enumerate()
        .filter(|&(_, &name)| name)
        .map(|(i, _)| crate::event::Sym::from_index(i as u32));
    interner.freeze_with_names(names);
    Ingest {
        interner,
        events,
        files: reports,
        problems,
        warnings,
    }
}

/// Reads one file completely. Never panics and never fails: problems end up in the report.
/// `room`: this file's vector is the one every file's events will be joined into (see
/// [`JoinRoom`]).
pub fn read_file(
    file: &InputFile,
    id: FileId,
    interner: &Interner,
    options: &IngestOptions,
    counter: &dyn ByteCounter,
    room: Option<JoinRoom>,
) -> (FileReport, Vec<Event>) {
    let mut report = FileReport::new(file);
    let hash = std::sync::Arc::new(std::sync::Mutex::new(source::HashState::default()));
    let opened = match std::fs::File::open(&file.path)
        .and_then(|f| source::open_reader(Box::new(source::Hashing::new(f, hash.clone())), counter))
    {
        Ok(o) => o,
        Err(e) => {
            report.reason = Some(format!("cannot read: {}", source::io_reason(&e)));
            report.unreadable = true;
            // Chain of custody: a file we cannot decode (a broken gzip) is still hashed.
            report.sha256 = source::finish_hash(&file.path, &hash);
            return (report, Vec::new());
        }
    };
    report.encoding = opened.encoding.as_str();
    report.gzip = opened.gzip;
    let detection = detect::detect(&opened.head, opened.encoding, opened.signature);
    report.kind = detection.kind;
    report.format = detection.format;
    report.reason = detection.reason.clone();
    let ctx = ParseCtx { interner, file: id };
    let mut skips = SkipLog::new(&report.path, options.skip_examples);
    // A compressed file's size says nothing of its records' count.
    let room = room.filter(|_| !opened.gzip);
    let options = &IngestOptions {
        limits: options.limits.for_file(file.size, opened.gzip),
        ..options.clone()
    };
    let outcome = match detection {
        Detection {
            parser: Some(parser),
            ..
        } => match parser {
            Parser::UalJson | Parser::TraceJson | Parser::SigninJson => read_json(
                opened.reader,
                parser,
                options,
                &ctx,
                &mut skips,
                &mut report,
                room,
            ),
            _ => read_csv(opened, parser, options, &ctx, &mut skips, &mut report, room),
        },
        _ => Ok(Vec::new()),
    };
    let events = match outcome {
        Ok(events) => events,
        Err((events, e)) => {
            skips.add(
                skips.last_line + 1,
                &format!(
                    "read error, rest of file not read: {}",
                    source::io_reason(&e)
                ),
            );
            report.unreadable = events.is_empty();
            events
        }
    };
    report.sha256 = source::finish_hash(&file.path, &hash);
    report.skipped = skips.total;
    report.skip_reasons = skips.into_groups();
    report.first = events.iter().map(|e| e.time).min();
    report.last = events.iter().map(|e| e.time).max();
    // Judged on everything the file holds, before dedupe charges overlaps to other files.
    report
        .warnings
        .extend(warnings::event_warnings(&events, interner));
    (report, events)
}

type ReadOutcome = Result<Vec<Event>, (Vec<Event>, std::io::Error)>;

/// Batches are parsed this many at a time, so memory stays bounded by
/// `batches_in_flight × batch_bytes` whatever the file size.
///
/// Eight per worker: a round ends when its last batch is parsed, so with few batches per
/// worker the cores idled at every round's end (with two 2 MiB batches per worker, 1 GB of
/// CSV spent ~0.6 s of its 4 s ingest waiting); 1 MiB batches keep the tail short.
fn batches_in_flight() -> usize {
    rayon::current_num_threads().max(1) * 8
}

fn build_csv_parser(parser: Parser, header: &Header) -> Result<Box<dyn CsvParser>, String> {
    Ok(match parser {
        Parser::UalCsv => Box::new(ual_csv::UalCsv::new(header)?),
        Parser::MailboxAuditCsv => Box::new(mailbox_audit::MailboxAuditCsv::new(header)?),
        Parser::TraceCsv => Box::new(message_trace::TraceCsv::new(header)?),
        Parser::SigninCsv => Box::new(signin::SigninCsv::new(header)?),
        _ => return Err("not a CSV parser".into()),
    })
}

fn build_json_parser(parser: Parser) -> Box<dyn JsonParser> {
    match parser {
        Parser::TraceJson => Box::new(message_trace::TraceJson::new()),
        Parser::SigninJson => Box::new(signin::SigninJson::new()),
        _ => Box::new(ual_json::UalJson::new()),
    }
}

/// Finds the header row (after blank lines and PowerShell's `#TYPE` line) and its line number.
/// Public so the fuzz harnesses drive exactly the header search ingest uses.
pub fn csv_header(head: &[u8]) -> Option<(u64, Header)> {
    let text = String::from_utf8_lossy(head);
    let line = detect::csv_header_line(&text)?;
    let offset = line.as_ptr() as usize - text.as_ptr() as usize;
    let line_no = 1 + text[..offset].bytes().filter(|&b| b == b'\n').count() as u64;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    match rdr.read_record(&mut rec) {
        Ok(true) => Some((line_no, Header::new(rec.iter()))),
        _ => None,
    }
}

struct BatchOut {
    events: Vec<Event>,
    skips: Vec<(u64, String)>,
    rows: u64,
}

impl BatchOut {
    /// Notes a record's parse result. A panic in a parser is a bug, but it costs one record,
    /// never the run.
    fn record(&mut self, line: u64, result: std::thread::Result<record::ParseResult>) {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(skip)) => self.skips.push((line, skip.reason.into_owned())),
            Err(_) => self
                .skips
                .push((line, "internal error while parsing (please report)".into())),
        }
    }
}

fn read_csv(
    opened: source::Opened<'_>,
    parser: Parser,
    options: &IngestOptions,
    ctx: &ParseCtx<'_>,
    skips: &mut SkipLog,
    report: &mut FileReport,
    room: Option<JoinRoom>,
) -> ReadOutcome {
    let Some((header_line, header)) = csv_header(&opened.head) else {
        return Ok(Vec::new());
    };
    let parser = match build_csv_parser(parser, &header) {
        Ok(p) => p,
        Err(e) => {
            report.kind = Kind::Unknown;
            report.format = "unknown";
            report.reason = Some(e);
            return Ok(Vec::new());
        }
    };
    let mut splitter = CsvSplitter::new(opened.reader, options.limits);
    pump(
        &mut splitter,
        |b| parse_csv_batch(b, header_line, parser.as_ref(), ctx),
        skips,
        report,
        room,
    )
}

fn parse_csv_batch(
    batch: &split::CsvBatch,
    header_line: u64,
    parser: &dyn CsvParser,
    ctx: &ParseCtx<'_>,
) -> BatchOut {
    let mut out = BatchOut {
        events: Vec::new(),
        skips: Vec::new(),
        rows: 0,
    };
    let mut records = split::CsvRecords::new(batch);
    let mut rec = csv::ByteRecord::new();
    while let Some(line) = records.next_into(&mut rec) {
        if line <= header_line {
            continue;
        }
        let row = Row::new(&rec, line);
        if row.is_blank() {
            continue;
        }
        out.rows += 1;
        let result = catch_unwind(AssertUnwindSafe(|| {
            parser.parse_row(&row, ctx, &mut out.events)
        }));
        out.record(line, result);
    }
    out
}

fn read_json(
    reader: Box<dyn Read + Send + '_>,
    parser: Parser,
    options: &IngestOptions,
    ctx: &ParseCtx<'_>,
    skips: &mut SkipLog,
    report: &mut FileReport,
    room: Option<JoinRoom>,
) -> ReadOutcome {
    let parser = build_json_parser(parser);
    let mut splitter = JsonSplitter::new(reader, options.limits);
    let outcome = pump(
        &mut splitter,
        |b| parse_json_batch(b, parser.as_ref(), ctx),
        skips,
        report,
        room,
    );
    report.layout = Some(splitter.layout().name());
    outcome
}

/// One round of batches read by a splitter.
struct Round<B> {
    batches: Vec<B>,
    /// The read failed after these batches.
    error: Option<std::io::Error>,
    /// The input ended.
    done: bool,
}

/// Reads up to [`batches_in_flight`] batches.
fn read_round<S: split::Splitter>(splitter: &mut S) -> Round<S::Batch> {
    let mut round = Round {
        batches: Vec::new(),
        error: None,
        done: false,
    };
    while round.batches.len() < batches_in_flight() {
        match splitter.next_batch() {
            Ok(Some(b)) => round.batches.push(b),
            Ok(None) => {
                round.done = true;
                break;
            }
            Err(e) => {
                round.error = Some(e);
                break;
            }
        }
    }
    round
}

/// Room for every file's events in the vector they will be joined into, asked for before the
/// vector fills.
///
/// Dedupe joins all files into the largest file's vector ([`dedupe::dedupe`]). Grown by
/// doubling, that vector usually had too little capacity left (on the 4 GB mixed set 2^21 =
/// 2.10 M slots for 2.34 M records), so the join copied it — 234 MB — while the old copy was
/// still resident, and that set the run's peak; each doubling while reading copied it too.
/// After the first round of the largest file (by size on disk) its bytes per event are known,
/// so its vector reserves its own estimate and a generous bound for the other files at once.
/// Capacity never written is address space, not memory: over-asking costs nothing resident,
/// and a reservation the system refuses is simply skipped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JoinRoom {
    /// This file's size on disk.
    pub own_bytes: u64,
    /// Every other input file's size on disk.
    pub other_bytes: u64,
}

/// The smallest plausible size of one exported record, for the bound on the other files'
/// events: message-trace CSV rows, the smallest shape, average ~320 bytes. A file of smaller
/// rows only means the joined vector grows once more, as before.
const MIN_RECORD_BYTES: u64 = 256;

impl JoinRoom {
    /// The join target among `files` (the largest on disk) and its room; `None` without files.
    pub fn target(files: &[InputFile]) -> Option<(usize, JoinRoom)> {
        let total: u64 = files.iter().map(|f| f.size).sum();
        let (i, largest) = files.iter().enumerate().max_by_key(|(_, f)| f.size)?;
        Some((
            i,
            JoinRoom {
                own_bytes: largest.size,
                other_bytes: total - largest.size,
            },
        ))
    }

    /// How many events to make room for, given that `bytes` of this file's decoded text gave
    /// `events` events: this file's estimate with a quarter to spare (its later records may be
    /// shorter), plus the other files' bound.
    fn capacity(self, events: usize, bytes: usize) -> usize {
        let per_event = (bytes as u64 / events.max(1) as u64).max(1);
        let own = self.own_bytes / per_event;
        let own = own.saturating_add(own / 4);
        let others = self.other_bytes / MIN_RECORD_BYTES;
        usize::try_from(own.saturating_add(others)).unwrap_or(usize::MAX)
    }

    /// Reserves the room in `events`, which holds the events of the first `bytes` read.
    fn reserve(self, events: &mut Vec<Event>, bytes: usize) {
        let want = self.capacity(events.len(), bytes);
        if let Some(more) = want.checked_sub(events.len()) {
            // Refused (address space or overcommit limits): the vector grows as it would have.
            let _ = events.try_reserve_exact(more);
        }
    }
}
/// Drives a splitter: reads a round of up to [`batches_in_flight`] batches, then parses it in
/// parallel on rayon *while the next round is read* (reading, hashing and splitting are serial
/// per file; overlapping them with parsing keeps every core busy), and appends the results in
/// input order, until the input ends or fails. Memory stays bounded by two rounds. Shared by
/// every format so batching, skip accounting and error handling cannot drift apart.
fn pump<S: split::Splitter + Send>(
    splitter: &mut S,
    parse: impl Fn(&S::Batch) -> BatchOut + Sync,
    skips: &mut SkipLog,
    report: &mut FileReport,
    mut room: Option<JoinRoom>,
) -> ReadOutcome
where
    S::Batch: Send + Sync,
{
    let mut events = Vec::new();
    let mut round = read_round(splitter);
    loop {
        // Only while the room is still to be asked for (the first round, in practice).
        let round_bytes: usize = room.map_or(0, |_| round.batches.iter().map(S::decoded_len).sum());
        for s in splitter.take_skips() {
            skips.add(s.line, &s.reason);
            report.rows += 1;
        }
        let Round {
            batches,
            error,
            done,
        } = round;
        let more = error.is_none() && !done;
        let (next, outs) = rayon::join(
            || more.then(|| read_round(splitter)),
            || batches.par_iter().map(&parse).collect::<Vec<BatchOut>>(),
        );
        for batch in batches {
            splitter.recycle(batch);
        }
        for out in outs {
            absorb(out, &mut events, skips, report);
        }
        // Once, as soon as a round has told how large this file's records are.
        if let Some(r) = room.filter(|_| !events.is_empty()) {
            r.reserve(&mut events, round_bytes);
            room = None;
        }
        if let Some(e) = error {
            return Err((events, e));
        }
        match next {
            Some(r) => round = r,
            None => return Ok(events),
        }
    }
}

fn parse_json_batch(
    batch: &split::JsonBatch,
    parser: &dyn JsonParser,
    ctx: &ParseCtx<'_>,
) -> BatchOut {
    let mut out = BatchOut {
        events: Vec::new(),
        skips: Vec::new(),
        rows: 0,
    };
    for (bytes, line) in batch.iter() {
        out.rows += 1;
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            parser.parse_record(&text, line, ctx, &mut out.events)
        }));
        out.record(line, result);
    }
    out
}

fn absorb(out: BatchOut, events: &mut Vec<Event>, skips: &mut SkipLog, report: &mut FileReport) {
    report.rows += out.rows;
    for (line, reason) in out.skips {
        skips.add(line, &reason);
    }
    events.extend(out.events);
}

/// Collects skips for one file, grouped by reason, keeping a few examples each.
struct SkipLog {
    path: String,
    examples: usize,
    groups: BTreeMap<String, (u64, Vec<u64>)>,
    total: u64,
    last_line: u64,
}

impl SkipLog {
    fn new(path: &str, examples: usize) -> Self {
        SkipLog {
            path: path.to_string(),
            examples,
            groups: BTreeMap::new(),
            total: 0,
            last_line: 0,
        }
    }

    fn add(&mut self, line: u64, reason: &str) {
        self.total += 1;
        self.last_line = self.last_line.max(line);
        let entry = self.groups.entry(reason.to_string()).or_default();
        entry.0 += 1;
        entry.1.push(line);
        // Keep the smallest lines (batches finish in order, but be exact anyway).
        if entry.1.len() > self.examples * 4 {
            entry.1.sort_unstable();
            entry.1.truncate(self.examples);
        }
    }

    fn into_groups(self) -> Vec<SkipGroup> {
        let mut groups: Vec<SkipGroup> = self
            .groups
            .into_iter()
            .map(|(reason, (count, mut lines))| {
                lines.sort_unstable();
                lines.dedup();
                lines.truncate(self.examples);
                SkipGroup {
                    reason,
                    count,
                    examples: lines
                        .into_iter()
                        .map(|l| format!("{}:{}", self.path, l))
                        .collect(),
                }
            })
            .collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
        groups
    }
}

/// True when the event's time came from an ambiguous culture-formatted date.
pub fn time_is_ambiguous(e: &Event) -> bool {
    e.has_flag(flags::TIME_AMBIGUOUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_file_gets_room_for_its_own_events_and_a_bound_on_the_others() {
        let file = |size| InputFile {
            path: "x".into(),
            size,
        };
        assert_eq!(JoinRoom::target(&[]), None);
        let (i, room) = JoinRoom::target(&[file(100), file(4_000), file(900)]).unwrap();
        assert_eq!(i, 1);
        assert_eq!(
            room,
            JoinRoom {
                own_bytes: 4_000,
                other_bytes: 1_000
            }
        );
        // 1,000 bytes read gave 10 events: 40 expected here, 50 with the margin, and the
        // other files' 1,000 bytes hold at most 3 records of MIN_RECORD_BYTES.
        assert_eq!(room.capacity(10, 1_000), 50 + 3);
        let mut events = vec![Event::default(); 10];
        room.reserve(&mut events, 1_000);
        assert!(events.capacity() >= 53);
        // Degenerate counts neither divide by zero nor overflow.
        assert_eq!(room.capacity(0, 0), 5_000 + 3);
        assert_eq!(
            JoinRoom {
                own_bytes: u64::MAX,
                other_bytes: u64::MAX
            }
            .capacity(1, 1),
            usize::MAX
        );
    }
}

//! The one door to polars: the aggregates the rules read up front, and the Parquet export.
//!
//! Columns are built from interned symbols as dense `u32`s (see [`Sym::index`]) and times as
//! `i64` microseconds, so a frame costs a few bytes per event and group keys compare as
//! integers. polars computes the brute-force buckets (several distinct counts per key and
//! time bucket) and writes Parquet. The aggregates that are one distinct-pair list or one
//! count per key (session spread, mailbox-hours, common IPs) are an in-place sort of packed
//! integers instead: as polars queries over every event, their hash tables stayed resident
//! on polars' idle pool threads (~110 MB at 4 GB of input) for answers of a few thousand rows. Everything here runs **outside** rayon's `par_iter` (polars schedules its own
//! pool) and returns plain Rust structs, so no other module sees a polars type. Results are
//! sorted by their keys' strings, never by symbol numbers, to stay deterministic.

use crate::event::{Event, Interner, Outcome, SourceKind, Sym, SymMemo, Timestamp};
use polars::prelude::*;

/// Width of the brute-force buckets (the public rules use 5 minutes).
pub const FAIL_BUCKET_SECS: i64 = 300;

/// Credential failures in one 5-minute bucket for one key (a user or an IP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailBucket {
    /// The user (account) or the IP, depending on the table.
    pub key: Sym,
    /// Bucket start.
    pub bucket: Timestamp,
    /// Failed attempts.
    pub failures: u32,
    /// Distinct users targeted.
    pub users: u32,
    /// Distinct source IPs.
    pub ips: u32,
    /// Distinct error codes.
    pub errors: u32,
}

/// A session id seen from more than one IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpread {
    /// The session id.
    pub session: Sym,
    /// Distinct IPs, sorted by string.
    pub ips: Vec<Sym>,
}

/// Events per account per hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCount {
    /// The account.
    pub account: Sym,
    /// Hour start.
    pub hour: Timestamp,
    /// Events in that hour.
    pub count: u32,
}

/// Everything computed up front for the rules.
#[derive(Debug, Default, Clone)]
pub struct Aggregates {
    /// Credential failures per (user, 5 min).
    pub failures_by_user: Vec<FailBucket>,
    /// Credential failures per (source IP, 5 min).
    pub failures_by_ip: Vec<FailBucket>,
    /// Sessions seen from several IPs.
    pub session_spread: Vec<SessionSpread>,
    /// MailItemsAccessed records per mailbox per hour.
    pub mail_access_hourly: Vec<HourCount>,
    /// IPs used successfully by a large share of the tenant's accounts (office egress, VPN
    /// concentrators): never evidence of an attacker by themselves.
    pub common_ips: std::collections::HashSet<Sym>,
}

/// An IP is "common" when at least this many accounts used it successfully…
pub const COMMON_IP_MIN_ACCOUNTS: u32 = 3;
/// …and they are at least this share of all accounts seen acting successfully.
pub const COMMON_IP_MIN_SHARE: f64 = 0.2;

/// Errors from the frame layer (a polars error means a bug in how we built the frame).
#[derive(Debug, thiserror::Error)]
#[error("aggregation failed: {0}")]
pub struct FrameError(#[from] PolarsError);

fn u32_col(name: &str, v: Vec<u32>) -> Column {
    Column::new(name.into(), v)
}

fn i64_col(name: &str, v: Vec<i64>) -> Column {
    Column::new(name.into(), v)
}

fn get_u32(df: &DataFrame, name: &str) -> Result<Vec<u32>, FrameError> {
    let s = df.column(name)?.cast(&DataType::UInt32)?;
    Ok(s.u32()?.iter().map(|v| v.unwrap_or(0)).collect())
}

fn get_i64(df: &DataFrame, name: &str) -> Result<Vec<i64>, FrameError> {
    let s = df.column(name)?.cast(&DataType::Int64)?;
    Ok(s.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

/// Computes the aggregates. `is_cred_failure` decides which sign-in failures count (the rule
/// layer owns that definition).
pub fn aggregate(
    events: &[Event],
    interner: &Interner,
    is_cred_failure: impl Fn(&Event) -> bool,
) -> Result<Aggregates, FrameError> {
    let mut agg = Aggregates::default();

    // Credential failures.
    let (mut user, mut ip, mut err, mut bucket) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for e in events.iter().filter(|e| is_cred_failure(e)) {
        user.push(e.account().index());
        ip.push(e.ip.index());
        err.push(e.error_code.get().unwrap_or(0));
        bucket.push(e.time.0.div_euclid(FAIL_BUCKET_SECS * 1_000_000));
    }
    if !user.is_empty() {
        let n = user.len();
        let df = DataFrame::new(
            n,
            vec![
                u32_col("user", user),
                u32_col("ip", ip),
                u32_col("err", err),
                i64_col("bucket", bucket),
            ],
        )?;
        agg.failures_by_user = fail_buckets(&df, "user")?;
        agg.failures_by_ip = fail_buckets(&df, "ip")?;
    }

    agg.session_spread = session_spread(events, interner);

    agg.mail_access_hourly = mail_access_hourly(events, interner);

    agg.common_ips = common_ips(events, interner);

    // Deterministic order for the failure tables.
    for table in [&mut agg.failures_by_user, &mut agg.failures_by_ip] {
        table.sort_by(|a, b| {
            (interner.resolve(a.key), a.bucket).cmp(&(interner.resolve(b.key), b.bucket))
        });
    }
    Ok(agg)
}

/// IPs used successfully by at least [`COMMON_IP_MIN_ACCOUNTS`] accounts and
/// [`COMMON_IP_MIN_SHARE`] of all accounts seen acting successfully from an IP.
///
/// Distinct (IP, account) pairs by an in-place sort, like [`session_spread`]: as a polars
/// `group_by(ip).agg(n_unique(account))` this was the run's first polars query once the
/// others had moved, and left ~40 MB resident on polars' idle pool threads at 4 GB.
fn common_ips(events: &[Event], interner: &Interner) -> std::collections::HashSet<Sym> {
    // Whether an actor is an address, decided once per distinct actor.
    let mut is_address = SymMemo::new(interner);
    let mut pairs: Vec<u64> = events
        .iter()
        .filter(|e| {
            e.outcome != Outcome::Failure
                && !e.ip.is_empty()
                && e.source != SourceKind::MessageTrace
                && is_address.test(e.actor_key, interner, |a| a.contains('@'))
        })
        .map(|e| u64::from(e.ip.index()) << 32 | u64::from(e.actor_key.index()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut seen = vec![false; interner.len() + 1];
    let mut accounts = 0usize;
    for &p in &pairs {
        let account = &mut seen[(p as u32) as usize];
        accounts += usize::from(!*account);
        *account = true;
    }
    let floor = ((accounts as f64 * COMMON_IP_MIN_SHARE).ceil() as usize)
        .max(COMMON_IP_MIN_ACCOUNTS as usize);
    pairs
        .chunk_by(|a, b| a >> 32 == b >> 32)
        .filter(|accounts_of_ip| accounts_of_ip.len() >= floor)
        .map(|run| Sym::from_index((run[0] >> 32) as u32))
        .collect()
}

/// `MailItemsAccessed` records per mailbox per hour, sorted by mailbox then hour.
///
/// A count per key, sorted in place rather than grouped by polars: its two-key group-by
/// row-encodes both columns, and the first polars query of a run left ~75 MB resident on its
/// pool's threads at 4 GB of input (a second, identical query added 6 MB). Sorting the
/// million `(mailbox, hour)` pairs costs their 16 bytes each and tens of milliseconds.
fn mail_access_hourly(events: &[Event], interner: &Interner) -> Vec<HourCount> {
    const HOUR_MICROS: i64 = 3_600_000_000;
    let Some(mia) = interner.get("MailItemsAccessed") else {
        return Vec::new();
    };
    let mut keys: Vec<(u32, i64)> = events
        .iter()
        .filter(|e| {
            e.operation == mia && e.source == SourceKind::Ual && e.outcome != Outcome::Failure
        })
        .map(|e| (e.account().index(), e.time.0.div_euclid(HOUR_MICROS)))
        .collect();
    keys.sort_unstable();
    let mut rows: Vec<HourCount> = keys
        .chunk_by(|a, b| a == b)
        .map(|run| HourCount {
            account: Sym::from_index(run[0].0),
            hour: Timestamp(run[0].1 * HOUR_MICROS),
            count: u32::try_from(run.len()).unwrap_or(u32::MAX),
        })
        .collect();
    drop(keys);
    rows.sort_by(|a, b| {
        (interner.resolve(a.account), a.hour).cmp(&(interner.resolve(b.account), b.hour))
    });
    rows
}

/// Sessions seen from more than one IP, sorted by session id, each with its IPs sorted.
///
/// Not a polars query, although it is a group-by: `unique` over the (session, IP) columns
/// row-encoded both columns and its pool's hash tables, which kept ~110 MB resident on the
/// 4 GB Purview CSV (1.8 M events with a session) for an answer of a few thousand pairs. One
/// `u64` per event, sorted and deduplicated in place, gives the same pairs grouped by session
/// with no memory beyond the vector.
fn session_spread(events: &[Event], interner: &Interner) -> Vec<SessionSpread> {
    let mut pairs: Vec<u64> = events
        .iter()
        .filter(|e| !e.session_id.is_empty() && !e.ip.is_empty())
        .map(|e| u64::from(e.session_id.index()) << 32 | u64::from(e.ip.index()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut spread: Vec<SessionSpread> = pairs
        .chunk_by(|a, b| a >> 32 == b >> 32)
        .filter(|ips| ips.len() > 1)
        .map(|ips| SessionSpread {
            session: Sym::from_index((ips[0] >> 32) as u32),
            ips: ips.iter().map(|&p| Sym::from_index(p as u32)).collect(),
        })
        .collect();
    drop(pairs);
    for s in &mut spread {
        s.ips
            .sort_by(|a, b| interner.resolve(*a).cmp(interner.resolve(*b)));
    }
    spread.sort_by(|a, b| interner.resolve(a.session).cmp(interner.resolve(b.session)));
    spread
}

/// Events per Parquet row group: bounds the memory of the export whatever the event count.
/// polars' writer holds several times a row group's size while encoding it (measured: ~6 KB
/// per event), so small groups are both faster and leaner: 8,192 events wrote 1 GB of input's
/// events in 2.1 s with 80 MB, 65,536 in 3.1 s with 440 MB; 4,096 events, encoded on the
/// writer's own thread, took the run's peak on the 4 GB Purview CSV from ~975 to ~950 MB at
/// the same speed (2,048 measured no leaner).
const PARQUET_BATCH: usize = 4_096;

/// The `events.parquet` columns, in order (documented in docs/parquet-schema.md).
pub const PARQUET_COLUMNS: &[&str] = &[
    "time",
    "source",
    "record_type",
    "workload",
    "operation",
    "operation_raw",
    "actor",
    "actor_key",
    "mailbox",
    "ip",
    "user_agent",
    "app_id",
    "session_id",
    "token_id",
    "object",
    "outcome",
    "error_code",
    "error_text",
    "record_id",
    "file",
    "line",
    "time_from_wrapper",
    "time_ambiguous",
    "details",
];

/// Appends `e`'s details as one JSON object to `buf` (the shape docs/parquet-schema.md gives);
/// false when the event has none. Written straight into a shared buffer: building a JSON value
/// per event made Parquet output the slowest phase of a run.
///
/// Props are one object per bag, keyed by name (`{"Field":{"LogonType":"0"}}`): a query reads
/// `details->>'$.props.Field.LogonType'`, and the text is 57 % of the size of a list of
/// `{"bag","name","value"}` objects, which had made this column 80 % of the export's bytes
/// before compression and 60 % of its CPU. Absent parts are left out rather than written
/// as `null` or `[]`.
fn details_json(buf: &mut Vec<u8>, e: &Event, interner: &Interner) -> bool {
    use std::io::Write as _;
    let d = e.details.as_deref().filter(|d| !d.is_empty());
    if e.props.is_empty() && d.is_none() {
        return false;
    }
    let mut top = JsonObject::open(buf);
    if !e.props.is_empty() {
        top.key(buf, "props");
        props_json(buf, &e.props, interner, |p| Some(p.value));
    }
    if e.props.iter().any(|p| p.old.is_some()) {
        top.key(buf, "old");
        props_json(buf, &e.props, interner, |p| p.old);
    }
    if let Some(d) = d {
        if !d.items.is_empty() {
            top.key(buf, "items");
            json_array(buf, d.items.iter(), |buf, m| {
                let mut item = JsonObject::open(buf);
                item.strings(
                    buf,
                    [
                        ("folder", m.folder(interner)),
                        ("internet_message_id", m.internet_message_id(interner)),
                        ("subject", m.subject(interner)),
                    ],
                );
                if let Some(n) = m.size {
                    item.key(buf, "size");
                    let _ = write!(buf, "{n}");
                }
                item.close(buf);
            });
        }
        top.strings(
            buf,
            [
                ("dest_folder", d.dest_folder(interner)),
                ("sender", d.sender(interner)),
            ],
        );
        if !d.recipients.is_empty() {
            top.key(buf, "recipients");
            json_array(buf, d.recipients.iter(), |buf, &r| {
                json_str(buf, interner.resolve(r))
            });
        }
    }
    top.close(buf);
    true
}

/// Appends `[…]` with `write` called for each element, commas between them.
fn json_array<T>(
    buf: &mut Vec<u8>,
    elements: impl Iterator<Item = T>,
    write: impl Fn(&mut Vec<u8>, T),
) {
    buf.push(b'[');
    for (i, x) in elements.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write(buf, x);
    }
    buf.push(b']');
}

/// Writes one JSON object's braces, and the commas between its keys.
struct JsonObject {
    empty: bool,
}

impl JsonObject {
    fn open(buf: &mut Vec<u8>) -> JsonObject {
        buf.push(b'{');
        JsonObject { empty: true }
    }

    /// Starts the entry `name` (escaped); its value comes next.
    fn key(&mut self, buf: &mut Vec<u8>, name: &str) {
        if !std::mem::replace(&mut self.empty, false) {
            buf.push(b',');
        }
        json_str(buf, name);
        buf.push(b':');
    }

    /// Writes each `(name, text)` whose text is known; leaves the others out.
    fn strings<'a>(
        &mut self,
        buf: &mut Vec<u8>,
        entries: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) {
        for (name, text) in entries {
            if let Some(text) = text {
                self.key(buf, name);
                json_str(buf, text);
            }
        }
    }

    fn close(self, buf: &mut Vec<u8>) {
        buf.push(b'}');
    }
}

/// Appends `props` as `{"Bag":{"Name":value,…},…}`, bags in the order they first appear, for
/// the props `value` picks (their value, or their old value). A name repeated within a bag
/// gets `#2`, `#3`… so no key is written twice and nothing is lost.
///
/// Linear in the props: one pass per bag (there are six), and names counted in a map once a
/// list is long — a record may carry thousands of props, and quadratic work per record would
/// let one crafted export stall the whole export.
fn props_json(
    buf: &mut Vec<u8>,
    props: &[crate::event::Prop],
    interner: &Interner,
    value: impl Fn(&crate::event::Prop) -> Option<Sym>,
) {
    /// Up to this many props, repeats are found by scanning the names before.
    const SCAN: usize = 32;
    let mut bags = JsonObject::open(buf);
    let mut bags_seen = 0u64;
    for (i, p) in props.iter().enumerate() {
        let bag = p.bag;
        let bit = 1u64 << (bag as u64);
        if bags_seen & bit != 0 {
            continue; // written with the first prop of its bag
        }
        bags_seen |= bit;
        let in_bag = || {
            props[i..]
                .iter()
                .filter(move |q| q.bag == bag)
                .filter_map(|q| value(q).map(|v| (q.name, v)))
        };
        let mut counts: std::collections::HashMap<Sym, usize> = Default::default();
        // Opened at the bag's first entry: a bag may have none (no old values).
        let mut entries: Option<JsonObject> = None;
        for (k, (name, v)) in in_bag().enumerate() {
            let obj = entries.get_or_insert_with(|| {
                bags.key(buf, bag.as_str());
                JsonObject::open(buf)
            });
            let repeats = if props.len() <= SCAN {
                in_bag().take(k).filter(|&(n, _)| n == name).count()
            } else {
                let seen = counts.entry(name).or_insert(0);
                *seen += 1;
                *seen - 1
            };
            let text = interner.resolve(name);
            if repeats == 0 {
                obj.key(buf, text);
            } else {
                obj.key(buf, &format!("{text}#{}", repeats + 1));
            }
            json_str(buf, interner.resolve(v));
        }
        if let Some(obj) = entries {
            obj.close(buf);
        }
    }
    bags.close(buf);
}

/// Appends `v` as a JSON string (escaped by serde_json; writing to a Vec cannot fail).
fn json_str(buf: &mut Vec<u8>, v: &str) {
    // Most values need no escaping: copy those whole (serde_json escapes byte by byte). A
    // fold without early exit, so the check is vectorised.
    let escape = v.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !escape {
        buf.push(b'"');
        buf.extend_from_slice(v.as_bytes());
        buf.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *buf, v);
    }
}

/// The `details` column of a chunk: every event's JSON in one buffer, sliced per event.
fn details_column(events: &[Event], interner: &Interner) -> Column {
    let mut buf = Vec::with_capacity(events.len() * 256);
    let mut spans = Vec::with_capacity(events.len());
    for e in events {
        let start = buf.len();
        let written = details_json(&mut buf, e, interner);
        spans.push(written.then_some(start..buf.len()));
    }
    // Only &str pieces of valid UTF-8 strings and ASCII punctuation were written, so the
    // check passes (and its SIMD validation is far cheaper than the lossy conversion).
    let text = match std::str::from_utf8(&buf) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(&buf),
    };
    let values: Vec<Option<&str>> = spans
        .into_iter()
        .map(|r| r.and_then(|r| text.get(r)))
        .collect();
    Column::new("details".into(), values)
}

/// The `record_id` column: GUIDs are rendered into one buffer per chunk, not one string each.
fn record_id_column(events: &[Event], interner: &Interner) -> Column {
    let mut buf = String::with_capacity(events.len() * 36);
    let mut ends = Vec::with_capacity(events.len());
    for e in events {
        e.record_id.push_text(interner, &mut buf);
        ends.push(buf.len());
    }
    let mut start = 0;
    let values: Vec<&str> = ends
        .into_iter()
        .map(|end| {
            let v = &buf[start..end];
            start = end;
            v
        })
        .collect();
    Column::new("record_id".into(), values)
}

fn events_frame(
    events: &[Event],
    interner: &Interner,
    files: &[String],
) -> PolarsResult<DataFrame> {
    let n = events.len();
    let s = |f: &dyn Fn(&Event) -> Sym| -> Vec<&str> {
        events.iter().map(|e| interner.resolve(f(e))).collect()
    };
    let str_col = |name: &str, v: Vec<&str>| Column::new(name.into(), v);
    let time = Column::new(
        "time".into(),
        events.iter().map(|e| e.time.0).collect::<Vec<i64>>(),
    )
    .cast(&DataType::Datetime(
        TimeUnit::Microseconds,
        Some(polars::prelude::TimeZone::UTC),
    ))?;
    let columns = vec![
        time,
        str_col("source", events.iter().map(|e| e.source.as_str()).collect()),
        Column::new(
            "record_type".into(),
            events
                .iter()
                .map(|e| e.record_type.map(i32::from))
                .collect::<Vec<Option<i32>>>(),
        ),
        str_col("workload", s(&|e| e.workload)),
        str_col("operation", s(&|e| e.operation)),
        str_col("operation_raw", s(&|e| e.operation_raw)),
        str_col("actor", s(&|e| e.actor)),
        str_col("actor_key", s(&|e| e.actor_key)),
        str_col("mailbox", s(&|e| e.mailbox)),
        str_col("ip", s(&|e| e.ip)),
        str_col("user_agent", s(&|e| e.user_agent)),
        str_col("app_id", s(&|e| e.app_id)),
        str_col("session_id", s(&|e| e.session_id)),
        str_col("token_id", s(&|e| e.token_id)),
        str_col("object", s(&|e| e.object)),
        str_col(
            "outcome",
            events
                .iter()
                .map(|e| match e.outcome {
                    Outcome::Success => "success",
                    Outcome::Failure => "failure",
                    Outcome::Unknown => "unknown",
                })
                .collect(),
        ),
        Column::new(
            "error_code".into(),
            events
                .iter()
                .map(|e| e.error_code.get())
                .collect::<Vec<Option<u32>>>(),
        ),
        str_col("error_text", s(&|e| e.error_text)),
        record_id_column(events, interner),
        str_col(
            "file",
            events
                .iter()
                .map(|e| files.get(e.file as usize).map_or("", String::as_str))
                .collect(),
        ),
        Column::new(
            "line".into(),
            events
                .iter()
                .map(|e| u64::from(e.line))
                .collect::<Vec<u64>>(),
        ),
        Column::new(
            "time_from_wrapper".into(),
            events
                .iter()
                .map(|e| e.has_flag(crate::event::flags::TIME_FROM_WRAPPER))
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "time_ambiguous".into(),
            events
                .iter()
                .map(|e| e.has_flag(crate::event::flags::TIME_AMBIGUOUS))
                .collect::<Vec<bool>>(),
        ),
        details_column(events, interner),
    ];
    DataFrame::new(n, columns)
}

/// Writes every event to Parquet (LZ4_RAW: zstd cost a third of this writer's CPU), in row
/// groups of at most [`PARQUET_BATCH`] events so memory stays bounded. `files` maps
/// `Event::file` to the path shown. Returns the bytes written.
///
/// Columns are encoded on the calling thread, not on polars' pool: the export runs beside
/// detection, which already has both cores, and pages encoded on the pool's threads stayed
/// resident in their allocator heaps after the export was done. The frames (our columns and
/// details JSON, some 45 % of the export's CPU) are built one ahead on a second thread: once
/// detection is done the export kept one core busy for 2-4 s at 4 GB and left the other idle.
pub fn write_events_parquet<W: std::io::Write>(
    writer: W,
    events: &[Event],
    interner: &Interner,
    files: &[String],
) -> Result<u64, FrameError> {
    let first = events_frame(&events[..events.len().min(PARQUET_BATCH)], interner, files)?;
    let mut batched = ParquetWriter::new(writer)
        .with_compression(ParquetCompression::Lz4Raw)
        .set_parallel(false)
        .batched(first.schema())?;
    batched.write_batch(&first)?;
    drop(first);
    let rest = || events.chunks(PARQUET_BATCH).skip(1);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        // Written frames go back to be freed where they were allocated: freed on the writer's
        // thread, their pages stayed resident in the builder's allocator heap.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<DataFrame>();
        let builder = std::thread::Builder::new()
            .name("mailsleuth-frames".into())
            .spawn_scoped(scope, move || {
                for chunk in rest() {
                    while let Ok(written) = done_rx.try_recv() {
                        drop(written);
                    }
                    // A send fails only when the writer stopped on an error of its own.
                    if tx.send(events_frame(chunk, interner, files)).is_err() {
                        break;
                    }
                }
            });
        if builder.is_ok() {
            for frame in rx {
                let frame = frame?;
                batched.write_batch(&frame)?;
                let _ = done_tx.send(frame);
            }
        } else {
            // No second thread to be had: build each frame here.
            for chunk in rest() {
                batched.write_batch(&events_frame(chunk, interner, files)?)?;
            }
        }
        Ok(batched.finish()?)
    })
}

fn fail_buckets(df: &DataFrame, key: &str) -> Result<Vec<FailBucket>, FrameError> {
    let out = df
        .clone()
        .lazy()
        .group_by([col(key), col("bucket")])
        .agg([
            len().alias("failures"),
            col("user").n_unique().alias("users"),
            col("ip").n_unique().alias("ips"),
            col("err").n_unique().alias("errors"),
        ])
        .collect()?;
    let keys = get_u32(&out, key)?;
    let buckets = get_i64(&out, "bucket")?;
    let failures = get_u32(&out, "failures")?;
    let users = get_u32(&out, "users")?;
    let ips = get_u32(&out, "ips")?;
    let errors = get_u32(&out, "errors")?;
    Ok((0..keys.len())
        .map(|i| FailBucket {
            key: Sym::from_index(keys[i]),
            bucket: Timestamp(buckets[i] * FAIL_BUCKET_SECS * 1_000_000),
            failures: failures[i],
            users: users[i],
            ips: ips[i],
            errors: errors[i],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_json_is_valid_json_with_hostile_text_escaped() {
        let i = Interner::new();
        let mut e = Event::default();
        e.props.extend([crate::event::Prop {
            bag: crate::event::Bag::Parameters,
            name: i.intern("Na\"me"),
            value: i.intern("\"<b>\\\n"),
            old: None,
        }]);
        e.details_mut().items = Box::new([crate::event::MailItem {
            subject: i.intern("=cmd|' /C calc'!A0\u{1b}[31m"),
            ..Default::default()
        }]);
        let mut buf = Vec::new();
        assert!(details_json(&mut buf, &e, &i));
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid JSON");
        assert_eq!(v["props"]["Parameters"]["Na\"me"], "\"<b>\\\n");
        assert_eq!(v["items"][0]["subject"], "=cmd|' /C calc'!A0\u{1b}[31m");
        // Absent parts are left out, not written as null.
        assert!(v["items"][0].get("folder").is_none());
        assert!(v.get("old").is_none() && v.get("sender").is_none());
        assert!(!details_json(&mut buf, &Event::default(), &i));
    }

    #[test]
    fn details_json_groups_props_by_bag_and_keeps_repeats_and_old_values() {
        use crate::event::{Bag, MailItem, Prop};
        let i = Interner::new();
        let prop = |bag, name: &str, value: &str, old: Option<&str>| Prop {
            bag,
            name: i.intern(name),
            value: i.intern(value),
            old: old.map(|o| i.intern(o)),
        };
        let mut e = Event::default();
        e.props.extend([
            prop(Bag::Field, "LogonType", "0", None),
            prop(
                Bag::ModifiedProperties,
                "ForwardingSmtpAddress",
                "x@evil.example",
                Some(""),
            ),
            prop(Bag::Field, "ClientInfoString", "Client=OWA", None),
            prop(Bag::Field, "LogonType", "1", None),
        ]);
        e.details_mut().items = Box::new([MailItem {
            folder: i.intern("\\Inbox"),
            size: Some(12),
            ..Default::default()
        }]);
        e.details_mut().recipients = Box::new([i.intern("a@b.example")]);
        let mut buf = Vec::new();
        assert!(details_json(&mut buf, &e, &i));
        let text = std::str::from_utf8(&buf).expect("UTF-8");
        // Bags in first-seen order, each written once; a repeated name gets `#2`.
        assert_eq!(
            text,
            r#"{"props":{"Field":{"LogonType":"0","ClientInfoString":"Client=OWA","LogonType#2":"1"},"ModifiedProperties":{"ForwardingSmtpAddress":"x@evil.example"}},"old":{"ModifiedProperties":{"ForwardingSmtpAddress":""}},"items":[{"folder":"\\Inbox","size":12}],"recipients":["a@b.example"]}"#
        );
        let v: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        assert_eq!(v["props"]["Field"]["LogonType#2"], "1");
    }

    #[test]
    fn long_prop_lists_keep_every_repeat() {
        use crate::event::{Bag, Prop};
        let i = Interner::new();
        let mut e = Event::default();
        // Past the scan limit, repeats are counted in a map: same keys as the scan gives.
        e.props.extend((0..1000).map(|k| Prop {
            bag: if k % 2 == 0 {
                Bag::Parameters
            } else {
                Bag::Field
            },
            name: i.intern(if k % 4 < 2 { "A" } else { "B" }),
            value: i.intern(&k.to_string()),
            old: None,
        }));
        let mut buf = Vec::new();
        assert!(details_json(&mut buf, &e, &i));
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid JSON");
        let params = v["props"]["Parameters"].as_object().expect("an object");
        assert_eq!(params.len(), 500);
        assert_eq!(params["A"], "0");
        assert_eq!(params["B"], "2");
        assert_eq!(params["A#2"], "4");
        assert_eq!(params["B#250"], "998");
        assert_eq!(v["props"]["Field"]["A#250"], "997");
    }

    #[test]
    fn failures_are_bucketed_per_user_and_ip() {
        let i = Interner::new();
        let mk = |user: &str, ip: &str, secs: i64, code: u32| Event {
            mailbox: i.intern(user),
            ip: i.intern(ip),
            time: Timestamp(secs * 1_000_000),
            error_code: code.into(),
            session_id: i.intern(if secs < 100 { "s1" } else { "s2" }),
            ..Default::default()
        };
        let events = vec![
            mk("a@x", "1.1.1.1", 10, 50126),
            mk("b@x", "1.1.1.1", 20, 50126),
            mk("c@x", "1.1.1.1", 30, 50053),
            mk("a@x", "2.2.2.2", 400, 50126),
        ];
        let agg = aggregate(&events, &i, |_| true).unwrap();
        let ip1 = agg
            .failures_by_ip
            .iter()
            .find(|b| i.resolve(b.key) == "1.1.1.1")
            .unwrap();
        assert_eq!((ip1.failures, ip1.users, ip1.errors), (3, 3, 2));
        assert_eq!(agg.failures_by_user.len(), 4);
        assert_eq!(i.resolve(agg.failures_by_user[0].key), "a@x");
        assert_eq!(agg.session_spread.len(), 0);
        let spread_events = vec![mk("a@x", "1.1.1.1", 10, 0), mk("a@x", "9.9.9.9", 20, 0)];
        let agg = aggregate(&spread_events, &i, |_| false).unwrap();
        assert_eq!(agg.session_spread.len(), 1);
        assert_eq!(agg.session_spread[0].ips.len(), 2);
        // Three of four accounts share the office IP: it is common; the other is not.
        let ok = |user: &str, ip: &str| Event {
            actor_key: i.intern(user),
            ip: i.intern(ip),
            outcome: Outcome::Success,
            ..Default::default()
        };
        let events = vec![
            ok("a@x", "81.2.69.150"),
            ok("b@x", "81.2.69.150"),
            ok("c@x", "81.2.69.150"),
            ok("d@x", "89.160.20.115"),
        ];
        let agg = aggregate(&events, &i, |_| false).unwrap();
        assert!(agg.common_ips.contains(&i.intern("81.2.69.150")));
        assert!(!agg.common_ips.contains(&i.intern("89.160.20.115")));
    }

    #[test]
    fn mail_access_is_counted_per_mailbox_hour_in_order() {
        let i = Interner::new();
        let hour = 3_600_000_000;
        let ev = |mailbox: &str, at: i64, outcome: Outcome, source: SourceKind| Event {
            operation: i.intern("MailItemsAccessed"),
            mailbox: i.intern(mailbox),
            time: Timestamp(at),
            outcome,
            source,
            ..Default::default()
        };
        let ok = Outcome::Success;
        let events = vec![
            ev("z@x", 5 * hour + 1, ok, SourceKind::Ual),
            ev("a@x", 5 * hour + 2, ok, SourceKind::Ual),
            ev("z@x", 5 * hour + 3, ok, SourceKind::Ual),
            ev("z@x", 6 * hour, Outcome::Unknown, SourceKind::Ual),
            ev("z@x", 6 * hour + 1, Outcome::Failure, SourceKind::Ual),
            ev("z@x", 6 * hour + 2, ok, SourceKind::MailboxAudit),
            ev("a@x", -1, ok, SourceKind::Ual),
        ];
        let got: Vec<(&str, i64, u32)> = mail_access_hourly(&events, &i)
            .iter()
            .map(|h| (i.resolve(h.account), h.hour.0 / hour, h.count))
            .collect();
        assert_eq!(
            got,
            vec![("a@x", -1, 1), ("a@x", 5, 1), ("z@x", 5, 2), ("z@x", 6, 1)]
        );
        assert!(mail_access_hourly(&events, &Interner::new()).is_empty());
    }

    #[test]
    fn session_spread_keeps_sessions_seen_from_several_ips_in_string_order() {
        let i = Interner::new();
        // Interned in an order unlike the strings' so symbol order and string order differ.
        let ev = |session: &str, ip: &str| Event {
            session_id: i.intern(session),
            ip: i.intern(ip),
            ..Default::default()
        };
        let events = vec![
            ev("s-z", "9.9.9.9"),
            ev("s-z", "1.1.1.1"),
            ev("s-z", "9.9.9.9"),
            ev("s-a", "5.5.5.5"),
            ev("s-a", "5.5.5.5"),
            ev("s-m", "2.2.2.2"),
            ev("s-m", "10.0.0.1"),
            ev("", "3.3.3.3"),
            ev("s-a", ""),
        ];
        let spread = session_spread(&events, &i);
        let got: Vec<(&str, Vec<&str>)> = spread
            .iter()
            .map(|s| {
                (
                    i.resolve(s.session),
                    s.ips.iter().map(|ip| i.resolve(*ip)).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("s-m", vec!["10.0.0.1", "2.2.2.2"]),
                ("s-z", vec!["1.1.1.1", "9.9.9.9"]),
            ]
        );
    }

    /// `events` written to Parquet and read back.
    fn round_trip(events: &[Event], interner: &Interner) -> DataFrame {
        let mut buf = Vec::new();
        write_events_parquet(&mut buf, events, interner, &["a.csv".to_string()]).unwrap();
        ParquetReader::new(std::io::Cursor::new(buf))
            .finish()
            .unwrap()
    }

    #[test]
    fn events_round_trip_through_parquet() {
        let i = Interner::new();
        let events: Vec<Event> = (0..3)
            .map(|n| Event {
                time: Timestamp(1_773_046_961_000_000 + n),
                operation: i.intern("New-InboxRule"),
                ip: i.intern("89.160.20.115"),
                line: n as u32 + 2,
                ..Default::default()
            })
            .collect();
        let df = round_trip(&events, &i);
        assert_eq!(df.height(), 3);
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, PARQUET_COLUMNS);
        assert_eq!(get_u32(&df, "line").unwrap(), [2, 3, 4]);
    }

    #[test]
    fn row_groups_built_on_the_second_thread_keep_their_order() {
        let i = Interner::new();
        let n = PARQUET_BATCH * 2 + PARQUET_BATCH / 2;
        let events: Vec<Event> = (0..n)
            .map(|k| Event {
                time: Timestamp(1_773_046_961_000_000 + k as i64),
                object: i.intern(&format!("rule {k}")),
                line: k as u32 + 1,
                ..Default::default()
            })
            .collect();
        let df = round_trip(&events, &i);
        assert_eq!(df.height(), n);
        let lines = get_u32(&df, "line").unwrap();
        assert!(lines.iter().copied().eq(1..=n as u32));
        let objects = df.column("object").unwrap().str().unwrap().clone();
        assert_eq!(objects.get(n - 1), Some(format!("rule {}", n - 1).as_str()));
    }
}

//! The Parquet export: every event, one row each, in the columns docs/parquet-schema.md
//! documents.
//!
//! Written with polars' own Parquet and Arrow crates rather than through a polars frame, so
//! each column gets the encoding it deserves: the text that repeats is a dictionary built from
//! the interned symbols, the text unique to each event is plain. The file is the one polars
//! writes for the same frame (same Arrow schema, same dictionary pages), at about two thirds of
//! the CPU.

use super::details::details_column;
use super::FrameError;
use crate::event::{flags, Event, Interner, Outcome, Sym};
use polars::prelude::{PlSmallStr, PolarsError, PolarsResult};
use polars_arrow::array::{
    Array, BooleanArray, DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray,
};
use polars_arrow::datatypes::{ArrowDataType, ArrowSchema, Field, IntegerType, TimeUnit};
use polars_parquet::parquet::error::ParquetError;
use polars_parquet::write::{
    array_to_columns, CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator as _, FileWriter, ParquetType, StatisticsOptions, Version,
    WriteOptions,
};

/// Events per Parquet row group: bounds the memory of the export whatever the event count.
/// The writer holds several times a row group's size while encoding it (measured: ~6 KB per
/// event through a polars frame), so small groups are both faster and leaner: 8,192 events wrote 1 GB of input's
/// events in 2.1 s with 80 MB, 65,536 in 3.1 s with 440 MB; 4,096 events, encoded on the
/// writer's own thread, took the run's peak on the 4 GB Purview CSV from ~975 to ~950 MB at
/// the same speed (2,048 measured no leaner).
const PARQUET_BATCH: usize = 4_096;

/// What a column holds, and so how it is built and encoded.
#[derive(Clone, Copy)]
enum Column {
    /// Event time, µs UTC.
    Time,
    /// An interned field: text that repeats (operations, users, IPs…), dictionary-encoded
    /// from the symbols.
    Symbol(fn(&Event) -> Sym),
    /// A fixed label (source, outcome), dictionary-encoded.
    Label(fn(&Event) -> &'static str),
    /// The input file's path, dictionary-encoded.
    File,
    /// UAL RecordType, nullable `i32`.
    RecordType,
    /// Nullable `u32`.
    ErrorCode,
    /// `u64`.
    Line,
    /// An event flag, `bool`.
    Flag(u8),
    /// Text unique to each event: plain, without min/max statistics.
    RecordId,
    /// Text unique to each event (JSON, nullable): plain, without min/max statistics.
    Details,
}

/// The `events.parquet` columns, in order (documented in docs/parquet-schema.md).
const COLUMNS: &[(&str, Column)] = &[
    ("time", Column::Time),
    ("source", Column::Label(|e| e.source.as_str())),
    ("record_type", Column::RecordType),
    ("workload", Column::Symbol(|e| e.workload)),
    ("operation", Column::Symbol(|e| e.operation)),
    ("operation_raw", Column::Symbol(|e| e.operation_raw)),
    ("actor", Column::Symbol(|e| e.actor)),
    ("actor_key", Column::Symbol(|e| e.actor_key)),
    ("mailbox", Column::Symbol(|e| e.mailbox)),
    ("ip", Column::Symbol(|e| e.ip)),
    ("user_agent", Column::Symbol(|e| e.user_agent)),
    ("app_id", Column::Symbol(|e| e.app_id)),
    ("session_id", Column::Symbol(|e| e.session_id)),
    ("token_id", Column::Symbol(|e| e.token_id)),
    ("object", Column::Symbol(|e| e.object)),
    ("outcome", Column::Label(|e| outcome_label(e.outcome))),
    ("error_code", Column::ErrorCode),
    ("error_text", Column::Symbol(|e| e.error_text)),
    ("record_id", Column::RecordId),
    ("file", Column::File),
    ("line", Column::Line),
    ("time_from_wrapper", Column::Flag(flags::TIME_FROM_WRAPPER)),
    ("time_ambiguous", Column::Flag(flags::TIME_AMBIGUOUS)),
    ("details", Column::Details),
];

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Unknown => "unknown",
    }
}

impl Column {
    fn dtype(self) -> ArrowDataType {
        match self {
            Column::Time => ArrowDataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Column::Symbol(_)
            | Column::Label(_)
            | Column::File
            | Column::RecordId
            | Column::Details => ArrowDataType::Utf8View,
            Column::RecordType => ArrowDataType::Int32,
            Column::ErrorCode => ArrowDataType::UInt32,
            Column::Line => ArrowDataType::UInt64,
            Column::Flag(_) => ArrowDataType::Boolean,
        }
    }

    /// True for the text unique to each event.
    fn unique(self) -> bool {
        matches!(self, Column::RecordId | Column::Details)
    }

    /// This column of `events`, with the encoding to write it in. `dict` and `buf` are
    /// scratch space kept between chunks.
    fn build(
        self,
        events: &[Event],
        interner: &Interner,
        files: &[String],
        dict: &mut Dictionary,
        buf: &mut Vec<u8>,
    ) -> (Box<dyn Array>, Encoding) {
        let n = events.len();
        // Primitive columns: polars' writer tries a dictionary when the values' range is small.
        let primitive = |a: Box<dyn Array>| (a, Encoding::RleDictionary);
        match self {
            Column::Time => primitive(
                PrimitiveArray::from_vec(events.iter().map(|e| e.time.0).collect())
                    .to(self.dtype())
                    .boxed(),
            ),
            Column::Symbol(field) => dict.column(events.iter().map(|e| field(e).index()), n, |i| {
                interner.resolve(Sym::from_index(i))
            }),
            Column::Label(label) => {
                // Few labels: numbered by their place in a short list of the chunk's own.
                let mut seen: Vec<&'static str> = Vec::new();
                let ids: Vec<u32> = events
                    .iter()
                    .map(|e| {
                        let l = label(e);
                        let at = seen.iter().position(|s| *s == l).unwrap_or_else(|| {
                            seen.push(l);
                            seen.len() - 1
                        });
                        at as u32
                    })
                    .collect();
                dict.column(ids.into_iter(), n, |i| seen[i as usize])
            }
            Column::File => dict.column(events.iter().map(|e| e.file), n, |i| {
                files.get(i as usize).map_or("", String::as_str)
            }),
            Column::RecordType => primitive(
                events
                    .iter()
                    .map(|e| e.record_type.map(i32::from))
                    .collect::<PrimitiveArray<i32>>()
                    .boxed(),
            ),
            Column::ErrorCode => primitive(
                events
                    .iter()
                    .map(|e| e.error_code.get())
                    .collect::<PrimitiveArray<u32>>()
                    .boxed(),
            ),
            Column::Line => primitive(
                PrimitiveArray::from_vec(events.iter().map(|e| u64::from(e.line)).collect())
                    .boxed(),
            ),
            Column::Flag(flag) => {
                let values: Vec<bool> = events.iter().map(|e| e.has_flag(flag)).collect();
                (BooleanArray::from_slice(values).boxed(), Encoding::Plain)
            }
            Column::RecordId => (record_id_column(events, interner), Encoding::Plain),
            Column::Details => (details_column(events, interner, buf), Encoding::Plain),
        }
    }
}

/// The file's schema: what polars gives a frame of these columns (every field nullable, text
/// as `Utf8View`), so readers see plain strings whether a page is dictionary-encoded or not.
fn schema() -> ArrowSchema {
    COLUMNS
        .iter()
        .map(|&(name, column)| {
            let name = PlSmallStr::from_static(name);
            (name.clone(), Field::new(name, column.dtype(), true))
        })
        .collect()
}

/// A column that is not worth a dictionary: more than this share of its values distinct
/// (polars' own threshold, which it estimates with a HyperLogLog over the strings).
const DICTIONARY_MAX_DISTINCT: f64 = 0.75;

/// Reused between columns and chunks: the chunk-local dictionary of one text column.
#[derive(Default)]
struct Dictionary {
    /// Value id (a symbol's index, a file number…) → its key in this chunk.
    keys_of: hashbrown::HashMap<u32, u32, foldhash::fast::FixedState>,
    /// Value ids in key order.
    values: Vec<u32>,
}

impl Dictionary {
    /// The column of `ids` (one per event) whose texts `text` gives: a dictionary array built
    /// from the ids, so each distinct string is copied once per chunk and no string is hashed;
    /// or, when most values are distinct, the strings themselves, written plain.
    fn column<'a>(
        &mut self,
        ids: impl Iterator<Item = u32>,
        len: usize,
        text: impl Fn(u32) -> &'a str,
    ) -> (Box<dyn Array>, Encoding) {
        self.keys_of.clear();
        self.values.clear();
        let mut keys = Vec::with_capacity(len);
        for id in ids {
            let next = self.values.len() as u32;
            let key = *self.keys_of.entry(id).or_insert(next);
            if key == next {
                self.values.push(id);
            }
            keys.push(key);
        }
        if len > 128 && self.values.len() as f64 > DICTIONARY_MAX_DISTINCT * len as f64 {
            let mut plain = MutableBinaryViewArray::<str>::with_capacity(len);
            for &k in &keys {
                plain.push_value(text(self.values[k as usize]));
            }
            return (Utf8ViewArray::from(plain).boxed(), Encoding::Plain);
        }
        let mut values = MutableBinaryViewArray::<str>::with_capacity(self.values.len());
        for &id in &self.values {
            values.push_value(text(id));
        }
        let dtype = ArrowDataType::Dictionary(
            IntegerType::UInt32,
            Box::new(ArrowDataType::Utf8View),
            false,
        );
        let array = DictionaryArray::try_new(
            dtype,
            PrimitiveArray::from_vec(keys),
            Utf8ViewArray::from(values).boxed(),
        )
        .expect("every key indexes the chunk's values");
        (array.boxed(), Encoding::RleDictionary)
    }
}

/// The `record_id` column: each GUID rendered into one reused string.
fn record_id_column(events: &[Event], interner: &Interner) -> Box<dyn Array> {
    let mut column = MutableBinaryViewArray::<str>::with_capacity(events.len());
    let mut text = String::with_capacity(64);
    for e in events {
        text.clear();
        e.record_id.push_text(interner, &mut text);
        column.push_value(&text);
    }
    Utf8ViewArray::from(column).boxed()
}

/// One chunk of events as arrays in [`COLUMNS`] order, each with the encoding to write it in.
struct Chunk {
    rows: usize,
    arrays: Vec<(Box<dyn Array>, Encoding)>,
}

/// Builds the arrays of one chunk; `dict` and `buf` are scratch space kept between chunks.
fn chunk_arrays(
    events: &[Event],
    interner: &Interner,
    files: &[String],
    dict: &mut Dictionary,
    buf: &mut Vec<u8>,
) -> Chunk {
    let arrays = COLUMNS
        .iter()
        .map(|&(_, column)| column.build(events, interner, files, dict, buf))
        .collect();
    Chunk {
        rows: events.len(),
        arrays,
    }
}

/// The write options: LZ4_RAW (zstd cost a third of this writer's CPU), min/max statistics
/// except on the unique text columns (the min and max of JSON documents or GUIDs select no row
/// group and were written in full into the footer).
fn options(unique: bool) -> WriteOptions {
    let mut statistics = StatisticsOptions::default();
    if unique {
        statistics.min_value = false;
        statistics.max_value = false;
    }
    WriteOptions {
        statistics,
        version: Version::V1,
        compression: CompressionOptions::Lz4Raw,
        data_page_size: None,
    }
}

/// Encodes and writes one chunk as a row group.
fn write_chunk<W: std::io::Write>(
    file: &mut FileWriter<W>,
    fields: &[ParquetType],
    chunk: &Chunk,
) -> PolarsResult<()> {
    let mut columns = Vec::with_capacity(fields.len());
    for (((array, encoding), field), &(_, column)) in chunk.arrays.iter().zip(fields).zip(COLUMNS) {
        let options = options(column.unique());
        for pages in array_to_columns(array, field.clone(), options, &[*encoding])? {
            let pages = DynIter::new(
                pages
                    .into_iter()
                    .map(|p| p.map_err(|e| ParquetError::OutOfSpec(e.to_string()))),
            );
            let compressed = Compressor::new(pages, options.compression, vec![])
                .map_err(|e| PolarsError::ComputeError(e.to_string().into()));
            columns.push(Ok(DynStreamingIterator::new(compressed)));
        }
    }
    file.write(chunk.rows as u64, DynIter::new(columns.into_iter()))
}

/// Writes every event to Parquet in row groups of at most [`PARQUET_BATCH`] events, so
/// memory stays bounded. `files` maps `Event::file` to the path shown. Returns the bytes
/// written.
///
/// The arrays are built here from the events, not through a polars frame: the text columns
/// that repeat are dictionary arrays made from the interned symbols, so each distinct string
/// is copied once per row group and none is hashed (polars estimated every text column's
/// cardinality with a HyperLogLog and built its dictionary by hashing the strings, about a
/// third of the export's CPU), and the unique columns are written plain without that attempt.
///
/// Columns are encoded on the calling thread: the export runs beside detection, which already
/// has both cores. The arrays (our columns and details JSON) are built one chunk ahead on a
/// second thread: once detection is done the export kept one core busy for 2-4 s at 4 GB and
/// left the other idle.
pub fn write_events_parquet<W: std::io::Write>(
    writer: W,
    events: &[Event],
    interner: &Interner,
    files: &[String],
) -> Result<u64, FrameError> {
    let mut file = FileWriter::try_new(writer, schema(), options(false))?;
    let fields = file.parquet_schema().fields().to_vec();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        // Written chunks go back to be freed where they were allocated: freed on the writer's
        // thread, their pages stayed resident in the builder's allocator heap.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Chunk>();
        let builder = std::thread::Builder::new()
            .name("mailsleuth-frames".into())
            .spawn_scoped(scope, move || {
                let (mut dict, mut buf) = (Dictionary::default(), Vec::new());
                for chunk in events.chunks(PARQUET_BATCH) {
                    while let Ok(written) = done_rx.try_recv() {
                        drop(written);
                    }
                    let arrays = chunk_arrays(chunk, interner, files, &mut dict, &mut buf);
                    // A send fails only when the writer stopped on an error of its own.
                    if tx.send(arrays).is_err() {
                        break;
                    }
                }
            });
        if builder.is_ok() {
            for chunk in rx {
                write_chunk(&mut file, &fields, &chunk)?;
                let _ = done_tx.send(chunk);
            }
        } else {
            // No second thread to be had: build each chunk here.
            let (mut dict, mut buf) = (Dictionary::default(), Vec::new());
            for chunk in events.chunks(PARQUET_BATCH) {
                let arrays = chunk_arrays(chunk, interner, files, &mut dict, &mut buf);
                write_chunk(&mut file, &fields, &arrays)?;
            }
        }
        Ok(file.end(None)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{SourceKind, Timestamp};
    use crate::frame::{get_i64, get_u32};
    use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader, TimeUnit};

    /// `events` written to Parquet and read back.
    fn round_trip(events: &[Event], interner: &Interner) -> DataFrame {
        let mut buf = Vec::new();
        write_events_parquet(&mut buf, events, interner, &["a.csv".to_string()]).unwrap();
        ParquetReader::new(std::io::Cursor::new(buf))
            .finish()
            .unwrap()
    }

    fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        let column = df.column(name).unwrap().str().unwrap().clone();
        column.iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn events_round_trip_through_parquet() {
        let i = Interner::new();
        let events: Vec<Event> = (0..3)
            .map(|n| Event {
                time: Timestamp(1_773_046_961_000_000 + n),
                source: if n == 1 {
                    SourceKind::Signin
                } else {
                    SourceKind::Ual
                },
                record_type: (n != 2).then_some(1),
                operation: i.intern("New-InboxRule"),
                ip: i.intern(if n == 0 { "89.160.20.115" } else { "" }),
                outcome: if n == 2 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                },
                error_code: if n == 2 { 50126 } else { 0 }.into(),
                line: n as u32 + 2,
                ..Default::default()
            })
            .collect();
        let mut events = events;
        events[1].props.extend([crate::event::Prop {
            bag: crate::event::Bag::Field,
            name: i.intern("LogonType"),
            value: i.intern("0"),
            old: None,
        }]);
        let df = round_trip(&events, &i);
        assert_eq!(df.height(), 3);
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        let expected: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
        assert_eq!(names, expected);
        assert_eq!(get_u32(&df, "line").unwrap(), [2, 3, 4]);
        // Dictionary-encoded columns read back as plain strings, empty text as "".
        let some =
            |v: &[&str]| -> Vec<Option<String>> { v.iter().map(|s| Some(s.to_string())).collect() };
        assert_eq!(strings(&df, "operation"), some(&["New-InboxRule"; 3]));
        assert_eq!(strings(&df, "ip"), some(&["89.160.20.115", "", ""]));
        assert_eq!(strings(&df, "source"), some(&["ual", "signin", "ual"]));
        assert_eq!(
            strings(&df, "outcome"),
            some(&["success", "success", "failure"])
        );
        assert_eq!(strings(&df, "file"), some(&["a.csv"; 3]));
        assert_eq!(
            strings(&df, "details"),
            [
                None,
                Some(r#"{"props":{"Field":{"LogonType":"0"}}}"#.into()),
                None
            ]
        );
        let record_type = df.column("record_type").unwrap().i32().unwrap().clone();
        assert_eq!(
            record_type.iter().collect::<Vec<_>>(),
            [Some(1), Some(1), None]
        );
        let error_code = df.column("error_code").unwrap().u32().unwrap().clone();
        assert_eq!(error_code.get(2), Some(50126));
        // The time keeps its zone: µs since the epoch, UTC.
        let time = df.column("time").unwrap();
        assert_eq!(
            time.dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC))
        );
        assert_eq!(
            get_i64(&df, "time").unwrap(),
            [
                1_773_046_961_000_000,
                1_773_046_961_000_001,
                1_773_046_961_000_002
            ]
        );
    }

    #[test]
    fn repeated_text_is_a_dictionary_and_unique_text_is_plain() {
        let mut dict = Dictionary::default();
        let texts = ["a", "b", "c"];
        let text = |id: u32| texts[id as usize];
        let (array, encoding) = dict.column([2, 0, 2, 2].into_iter(), 4, text);
        assert_eq!(encoding, Encoding::RleDictionary);
        let array = array
            .as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .unwrap();
        // Keys in first-seen order, each distinct value once.
        assert_eq!(array.keys().values().as_slice(), [0, 1, 0, 0]);
        assert_eq!(array.values().len(), 2);
        // Mostly distinct values past 128 rows: the strings themselves, written plain.
        let names: Vec<String> = (0..200).map(|k| format!("v{k}")).collect();
        let (array, encoding) = dict.column((0..200).map(|k| k / 2 * 2), 200, |id| {
            names[id as usize].as_str()
        });
        assert_eq!((encoding, array.len()), (Encoding::RleDictionary, 200));
        let (array, encoding) = dict.column(0..200, 200, |id| names[id as usize].as_str());
        assert_eq!(encoding, Encoding::Plain);
        let array = array.as_any().downcast_ref::<Utf8ViewArray>().unwrap();
        assert_eq!(array.value(199), "v199");
    }

    #[test]
    fn row_groups_built_on_the_second_thread_keep_their_order() {
        let i = Interner::new();
        let n = PARQUET_BATCH * 2 + PARQUET_BATCH / 2;
        let events: Vec<Event> = (0..n)
            .map(|k| Event {
                time: Timestamp(1_773_046_961_000_000 + k as i64),
                // Unique per event: written plain; the actor repeats: a dictionary.
                object: i.intern(&format!("rule {k}")),
                actor: i.intern(&format!("user{}@x", k % 7)),
                line: k as u32 + 1,
                ..Default::default()
            })
            .collect();
        let df = round_trip(&events, &i);
        assert_eq!(df.height(), n);
        let lines = get_u32(&df, "line").unwrap();
        assert!(lines.iter().copied().eq(1..=n as u32));
        let objects = strings(&df, "object");
        assert_eq!(
            objects[n - 1].as_deref(),
            Some(format!("rule {}", n - 1).as_str())
        );
        let actors = strings(&df, "actor");
        assert!(actors
            .iter()
            .enumerate()
            .all(|(k, a)| a.as_deref() == Some(format!("user{}@x", k % 7).as_str())));
    }
}

//! The contract between the ingest driver and the per-format parsers.
//!
//! The driver (see [`super::run`]) owns files, decoding, record splitting, batching and
//! parallelism; a parser only turns **one raw record** into zero or more [`Event`]s. Parsers are
//! `Sync` and stateless per record, so the driver can hand a batch of rows to rayon and keep
//! input order when it collects them.

use crate::event::{Event, FileId, Interner};
use std::borrow::Cow;

/// What a parser may use while parsing one record.
#[derive(Clone, Copy)]
pub struct ParseCtx<'a> {
    /// The shared string table.
    pub interner: &'a Interner,
    /// The file being read (goes into `Event::file`).
    pub file: FileId,
}

/// Why a record was skipped. Reports group skips by `reason`, so keep per-record detail
/// (positions, values) out of it: "AuditData is not valid JSON", not "… at column 17".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// A short, stable, human-readable reason.
    pub reason: Cow<'static, str>,
}

impl Skip {
    /// A skip with the given reason.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Skip {
            reason: reason.into(),
        }
    }
}

/// Result of parsing one record: events are pushed to the output vector.
pub type ParseResult = Result<(), Skip>;

/// A CSV header, with names normalised for lookup (trimmed, inner white space collapsed,
/// ASCII case-folded). Duplicate names keep their first position.
#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
    raw: Vec<String>,
}

impl Header {
    /// Builds from the header row's cells.
    pub fn new<I, S>(cells: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let raw: Vec<String> = cells.into_iter().map(|c| c.as_ref().to_string()).collect();
        let names = raw.iter().map(|c| normalize_header(c)).collect();
        Header { names, raw }
    }

    /// Position of the first column named `name` (compared normalised).
    pub fn find(&self, name: &str) -> Option<usize> {
        let want = normalize_header(name);
        self.names.iter().position(|n| *n == want)
    }

    /// Position of the first of `names` that exists.
    pub fn find_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.find(n))
    }

    /// True when a column named `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Normalised names in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Names as written in the file.
    pub fn raw_names(&self) -> &[String] {
        &self.raw
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True for a header with no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Trim, collapse runs of white space to one space, ASCII lower-case, drop a BOM and quotes.
pub fn normalize_header(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}').trim().trim_matches('"');
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for ch in name.trim().chars() {
        if ch.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(ch.to_ascii_lowercase());
        }
    }
    out
}

/// One CSV data row as the parser sees it.
pub struct Row<'r> {
    rec: &'r csv::ByteRecord,
    /// 1-based line where the row starts in the file.
    pub line: u64,
}

impl<'r> Row<'r> {
    /// Wraps a parsed record.
    pub fn new(rec: &'r csv::ByteRecord, line: u64) -> Self {
        Row { rec, line }
    }

    /// The trimmed cell at `col` ("" when the column is absent or the row is short).
    /// Invalid UTF-8 is replaced, never an error: PowerShell 5.1 ASCII and ANSI files exist.
    pub fn get(&self, col: Option<usize>) -> Cow<'r, str> {
        match col.and_then(|c| self.rec.get(c)) {
            None => Cow::Borrowed(""),
            // `from_utf8` first: its ASCII fast path is several times quicker than the lossy
            // decoder's, and nearly every cell is valid.
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => Cow::Borrowed(s.trim()),
                Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).trim().to_string()),
            },
        }
    }

    /// Number of cells in this row.
    pub fn len(&self) -> usize {
        self.rec.len()
    }

    /// True for a row without cells.
    pub fn is_empty(&self) -> bool {
        self.rec.is_empty()
    }

    /// True when every cell is empty (a blank or `,,,` line).
    pub fn is_blank(&self) -> bool {
        self.rec
            .iter()
            .all(|c| c.iter().all(u8::is_ascii_whitespace))
    }
}

/// A CSV export family, built once from the header and then applied to each row.
pub trait CsvParser: Send + Sync {
    /// Parses one data row, pushing its events (usually one) to `out`.
    fn parse_row(&self, row: &Row<'_>, ctx: &ParseCtx<'_>, out: &mut Vec<Event>) -> ParseResult;
}

/// A JSON record family. `text` is one complete JSON value (an object) cut out of the file by
/// the driver; `line` is where it starts.
pub trait JsonParser: Send + Sync {
    /// Parses one record, pushing its events (usually one) to `out`.
    fn parse_record(
        &self,
        text: &str,
        line: u64,
        ctx: &ParseCtx<'_>,
        out: &mut Vec<Event>,
    ) -> ParseResult;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_trimmed_collapsed_and_case_folded() {
        let h = Header::new([
            "\u{feff}Date (UTC)",
            "Application ID ",
            "Autonomous system  number",
            "Incoming token type",
            "Incoming token type",
        ]);
        assert_eq!(h.find("date (utc)"), Some(0));
        assert_eq!(h.find("Application ID"), Some(1));
        assert_eq!(h.find("Autonomous System Number"), Some(2));
        assert_eq!(h.find("incoming token type"), Some(3));
        assert_eq!(h.find_any(&["nope", "APPLICATION id"]), Some(1));
        assert!(!h.has("missing"));
    }
}

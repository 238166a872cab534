//! Cutting one CSV record into its fields, as the `csv` crate reads it, faster on quoted text.
//!
//! The csv crate's reader (csv-core) walks a state machine byte by byte; on a Purview export,
//! whose AuditData cell is a quoted JSON object with a doubled quote every ten bytes or so, it
//! was the largest single cost of ingest (17 % of its CPU on the 4 GB benchmark CSV). Here an
//! unquoted field is one `memchr3` to its end, and a quoted one is found whole by
//! [`quoted::skip`] and unescaped by [`quoted::unescape`], 64 bytes at a time.
//!
//! The records and fields are exactly csv-core's for the reader mailsleuth builds (comma,
//! `"` quoting with doubled quotes, no escape character, no comments, `\r`, `\n` or `\r\n`
//! line ends, any number of fields per record): the tests compare both on random text.

use super::quoted;
use csv::ByteRecord;

/// Reads the record at or after `pos` in `data` into `rec` (cleared first); returns where the
/// record starts (its first byte: blank lines before it are skipped, as csv-core does) and
/// where the next one may start, or `None` when only line ends are left. `scratch` holds a
/// quoted field's unescaped text between calls.
///
/// csv-core's rules, in the order they apply to a field:
/// - a field that starts with `"` is quoted: `""` inside it is one quote, and the first lone
///   quote closes it; text after the closing quote, up to the next comma or line end, is
///   kept as it is (`"ab"c` reads `abc`). A field whose closing quote never comes runs to the
///   end of `data`;
/// - any other field runs to the next comma, `\r` or `\n`, quotes and all;
/// - a `\r` or `\n` outside quotes ends the record (`\r\n` too: the `\n` is then a blank line,
///   skipped before the next record).
pub fn read_record(
    data: &[u8],
    mut pos: usize,
    rec: &mut ByteRecord,
    scratch: &mut Vec<u8>,
) -> Option<(usize, usize)> {
    rec.clear();
    while pos < data.len() && matches!(data[pos], b'\r' | b'\n') {
        pos += 1;
    }
    if pos >= data.len() {
        return None;
    }
    let start = pos;
    loop {
        // At the start of a field.
        let (end, more) = if data.get(pos) == Some(&b'"') {
            read_quoted(data, pos + 1, rec, scratch)
        } else {
            let end = field_end(data, pos);
            rec.push_field(&data[pos..end]);
            (end, data.get(end) == Some(&b','))
        };
        if !more {
            // `end` is a line end (stepped over) or the end of `data`.
            return Some((start, (end + 1).min(data.len())));
        }
        pos = end + 1;
    }
}

/// Reads a quoted field whose text starts at `from` (just past its opening quote) and pushes
/// it; returns where it ended (a comma, a line end, or `data.len()`) and whether a comma
/// followed it, so another field does.
fn read_quoted(
    data: &[u8],
    from: usize,
    rec: &mut ByteRecord,
    scratch: &mut Vec<u8>,
) -> (usize, bool) {
    let rest = &data[from..];
    let (closed_at, text) = match quoted::skip(rest) {
        // `rest[..off]` ends with the closing quote (of an odd run).
        quoted::Skip::ClosedAt(off) => (Some(from + off), &rest[..off - 1]),
        quoted::Skip::Open { after_quote: true } => (None, &rest[..rest.len() - 1]),
        quoted::Skip::Open { after_quote: false } => (None, rest),
    };
    scratch.clear();
    quoted::unescape(text, scratch);
    let end = match closed_at {
        None => data.len(),
        Some(after) => {
            // Text after the closing quote belongs to the field, quotes and all (none when a
            // comma or line end follows at once).
            let end = field_end(data, after);
            scratch.extend_from_slice(&data[after..end]);
            end
        }
    };
    rec.push_field(scratch);
    (end, data.get(end) == Some(&b','))
}

/// Where the unquoted text from `from` ends: the next comma or line end, or `data.len()`.
fn field_end(data: &[u8], from: usize) -> usize {
    memchr::memchr3(b',', b'\r', b'\n', &data[from..]).map_or(data.len(), |o| from + o)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `data` as csv-core reads it (the reader ingest used): start offsets
    /// (past any line ends csv reports the record as starting on) and fields.
    fn by_csv_crate(data: &[u8]) -> Vec<(usize, Vec<Vec<u8>>)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut rec = ByteRecord::new();
        let mut out = Vec::new();
        while reader
            .read_byte_record(&mut rec)
            .expect("slices do not fail")
        {
            let mut start = rec.position().expect("a position").byte() as usize;
            while start < data.len() && matches!(data[start], b'\r' | b'\n') {
                start += 1;
            }
            out.push((start, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    fn by_read_record(data: &[u8]) -> Vec<(usize, Vec<Vec<u8>>)> {
        let (mut rec, mut scratch, mut pos) = (ByteRecord::new(), Vec::new(), 0);
        let mut out = Vec::new();
        while let Some((start, next)) = read_record(data, pos, &mut rec, &mut scratch) {
            assert!(next > pos, "no progress at {pos}");
            out.push((start, rec.iter().map(<[u8]>::to_vec).collect()));
            pos = next;
        }
        out
    }

    #[test]
    fn fields_are_the_csv_crates_on_random_text() {
        let mut seed = 0x853c_49e6_748f_ea9b_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Few distinct bytes, so quotes, commas and line ends meet in every order; lengths
        // that cross the 64-byte blocks of the quoted scan.
        for len in 0..400 {
            for alphabet in [&b"\",\r\na"[..], b"\"\"\",a b", b"\"\n,xyz{}:"] {
                let data: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                assert_eq!(
                    by_read_record(&data),
                    by_csv_crate(&data),
                    "{:?}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }

    #[test]
    fn a_purview_row_reads_as_the_csv_crate_reads_it() {
        let data = b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n\
            \"6e1f\",2026-02-09T09:02:11,15,UserLoggedIn,a@b.example,\"{\"\"Id\"\":\"\"6e1f\"\",\
            \"\"ExtendedProperties\"\":[{\"\"Name\"\":\"\"UserAgent\"\",\"\"Value\"\":\"\"x,\"\"\"\"y\"\"}]}\"\r\n\
            \r\n\"\",,\"a\nb\"\n";
        let got = by_read_record(data);
        assert_eq!(got, by_csv_crate(data));
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[1].1[5],
            br#"{"Id":"6e1f","ExtendedProperties":[{"Name":"UserAgent","Value":"x,""y"}]}"#
        );
        assert_eq!(got[2].1, [&b""[..], b"", b"a\nb"]);
    }
}

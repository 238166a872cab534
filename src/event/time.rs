//! Time parsing for every export shape.
//!
//! Three families of time text reach the ingest layer:
//! * ISO 8601 / RFC 3339 inside the records themselves (`CreationTime`, `createdDateTime`,
//!   `Date (UTC)`, Panther's `p_event_time`). Naive times are UTC by contract of the sources.
//! * .NET JSON dates (`/Date(ms)/`) written by Windows PowerShell 5.1 `ConvertTo-Json`.
//! * Wrapper columns (`CreationDate`, `LastAccessed`, `Received`) that PowerShell and the portals
//!   render in the *exporting machine's culture*, without a zone. They are UTC, but the order of
//!   day and month is not written down, so a reading that could be swapped is flagged.
//!
//! Everything is parsed by hand over bytes: this runs once or twice per record, and trying a
//! list of chrono format strings costs more than the rest of a record's parse. chrono is only
//! the fallback for RFC 2822 text, which no export is known to use but a mail header might.

use super::Timestamp;
use chrono::DateTime;

/// A time read from a culture-formatted wrapper column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct WrapperTime {
    /// The instant (UTC).
    pub time: Timestamp,
    /// Day and month could be swapped (both ≤ 12 and different); read month-first.
    pub ambiguous: bool,
}

impl WrapperTime {
    fn exact(time: Timestamp) -> Self {
        WrapperTime {
            time,
            ambiguous: false,
        }
    }
}

/// Longest time text considered. The longest legitimate shape (ISO with a 9-digit fraction
/// and an offset) is about 40 bytes; anything far longer is not a time and is refused before
/// any work is done.
const MAX_LEN: usize = 64;

const MICROS_PER_SEC: i64 = 1_000_000;

/// ISO 8601 / RFC 3339 as found in exports (naive ⇒ UTC, offsets honoured, any fraction
/// truncated to microseconds, surrounding white space ignored).
///
/// Accepted: `yyyy-MM-dd` followed by `T`, `t` or a space and `HH:mm[:ss[.f…]]`, then
/// optionally `Z`, ` UTC`, or an offset `±HH:MM`, `±HHMM`, `±HH` (a space before the zone is
/// tolerated). A bare date means midnight UTC.
pub fn parse_iso(s: &str) -> Option<Timestamp> {
    parse_iso_any_year(s).filter(|t| in_range(*t))
}

/// Years 1–9999: what every export can write and read back. An offset that pushes
/// `9999-12-31T23:59-05:00` into year 10000 is garbage, not evidence (found by fuzzing).
fn in_range(t: Timestamp) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&t.to_utc().year())
}

fn parse_iso_any_year(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() > MAX_LEN {
        return None;
    }
    if let Some(t) = parse_iso_bytes(s.as_bytes()) {
        return Some(t);
    }
    // Unusual: RFC 2822 (`Tue, 26 Sep 2023 01:51:13 +0000`). Only text that starts with a
    // letter or a day number can be that, so the common failure path stays cheap.
    if s.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic())
        || s.as_bytes().get(1).is_some_and(|&b| b == b' ')
        || s.as_bytes().get(2).is_some_and(|&b| b == b' ')
    {
        return DateTime::parse_from_rfc2822(s)
            .ok()
            .map(|dt| Timestamp(dt.timestamp_micros()));
    }
    None
}

/// .NET / PowerShell JSON dates: `/Date(1695693073000)/`, `\/Date(1695693073000)\/` (the JSON
/// escape left in place), with an optional `+0200` / `-0500` suffix.
///
/// The milliseconds are already UTC; the suffix only records the offset the writer would
/// display, so it is validated and ignored.
pub fn parse_ms_date(s: &str) -> Option<Timestamp> {
    parse_ms_date_any_year(s).filter(|t| in_range(*t))
}

fn parse_ms_date_any_year(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() > MAX_LEN {
        return None;
    }
    let b = s.as_bytes();
    let b = b.strip_prefix(b"\\").unwrap_or(b);
    let b = b.strip_prefix(b"/").unwrap_or(b);
    let b = b.strip_suffix(b"/").unwrap_or(b);
    let b = b.strip_suffix(b"\\").unwrap_or(b);
    if b.len() < 6 || !b[..5].eq_ignore_ascii_case(b"Date(") {
        return None;
    }
    let inner = b[5..].strip_suffix(b")")?;
    // The value may be negative; a zone suffix starts at the first sign after the value.
    let (neg, digits_from) = match inner.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let rest = &inner[digits_from..];
    let ndigits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if ndigits == 0 || ndigits > 16 {
        return None;
    }
    let ms = digits_value(&rest[..ndigits])? as i64;
    let ms = if neg { -ms } else { ms };
    let suffix = &rest[ndigits..];
    if !suffix.is_empty() {
        let (sign, hhmm) = suffix.split_first()?;
        if !matches!(sign, b'+' | b'-') || hhmm.len() != 4 {
            return None;
        }
        let hh = digits_value(&hhmm[..2])?;
        let mm = digits_value(&hhmm[2..])?;
        if hh > 23 || mm > 59 {
            return None;
        }
    }
    // Refuse values chrono cannot render, so every Timestamp we return formats correctly.
    DateTime::from_timestamp_millis(ms)?;
    Some(Timestamp::from_millis(ms))
}

/// Culture-formatted wrapper dates, plus everything [`parse_iso`] and [`parse_ms_date`] accept
/// (those are never ambiguous).
///
/// Date orders, by separator:
/// * year first (`2023/09/20`, `2023.09.20`, `2023-09-20`): always year/month/day;
/// * `/` with the year last: if the first part > 12 it is the day (en-GB, en-AU, fr-FR…); if the
///   second part > 12 it is the day (en-US); if both ≤ 12 and they differ the text is read
///   month-first (en-US, the portal default) and flagged `ambiguous`;
/// * `.` or `-` with the year last (de-DE, ru-RU, nl-NL, en-IN): always day first.
///
/// The time may follow after spaces (or `, `), as `H:mm[:ss[.f…]]` with an optional
/// `AM`/`PM` (`am`, `a.m.` too; `12:xx AM` is `00:xx`). A date alone means midnight. The result is
/// UTC: these columns are UTC rendered without a zone. Years must have four digits: no export
/// writes two, and guessing a century would hide a misread column.
pub fn parse_wrapper(s: &str) -> Option<WrapperTime> {
    parse_wrapper_any_year(s).filter(|w| in_range(w.time))
}

fn parse_wrapper_any_year(s: &str) -> Option<WrapperTime> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_LEN {
        return None;
    }
    let b = s.as_bytes();
    // `yyyy-…` is ISO in every export; try the strict ISO parser first.
    if b.len() >= 5 && b[4] == b'-' {
        if let Some(t) = parse_iso_bytes(b) {
            return Some(WrapperTime::exact(t));
        }
    }
    if matches!(b[0], b'/' | b'\\' | b'D' | b'd') {
        return parse_ms_date(s).map(WrapperTime::exact);
    }
    if let Some(w) = parse_culture(b) {
        return Some(w);
    }
    parse_iso(s).map(WrapperTime::exact)
}

/// Any time text an export may hold: the same as [`parse_wrapper`], under the name callers
/// reach for when they do not know which kind of column they are reading.
pub fn parse_any(s: &str) -> Option<WrapperTime> {
    parse_wrapper(s)
}

// ---------------------------------------------------------------------------------------------
// Hand parsers over bytes.

/// Value of a run of ASCII digits (None if any byte is not a digit or the run is empty).
fn digits_value(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

/// Exactly two digits at `b[i..i+2]`.
fn two(b: &[u8], i: usize) -> Option<u32> {
    let d = b.get(i..i + 2)?;
    digits_value(d).map(|v| v as u32)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A validated wall-clock reading.
#[derive(Default)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
}

impl Civil {
    /// Microseconds since the epoch, after subtracting `offset_secs` (east of UTC positive).
    /// None when a field is out of range. A leap second (`:60`) is read as the next second.
    fn to_timestamp(&self, offset_secs: i64) -> Option<Timestamp> {
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - offset_secs;
        Some(Timestamp(secs * MICROS_PER_SEC + i64::from(self.micros)))
    }
}

/// A fraction's digits (`b` starts after the `.`): returns microseconds (truncated) and the
/// number of bytes consumed. Up to 18 digits are accepted; past the sixth they are dropped.
fn fraction(b: &[u8]) -> Option<(u32, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 18 {
        return None;
    }
    let mut micros: u32 = 0;
    for i in 0..6 {
        micros = micros * 10
            + b.get(i)
                .filter(|_| i < n)
                .map_or(0, |&c| u32::from(c - b'0'));
    }
    Some((micros, n))
}

/// The strict ISO reader behind [`parse_iso`]; `b` is already trimmed.
fn parse_iso_bytes(b: &[u8]) -> Option<Timestamp> {
    // yyyy-MM-dd
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let mut c = Civil {
        year: digits_value(&b[..4])? as i64,
        month: two(b, 5)?,
        day: two(b, 8)?,
        ..Civil::default()
    };
    if b.len() == 10 {
        return c.to_timestamp(0);
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    // HH:mm[:ss]
    c.hour = two(b, 11)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    c.minute = two(b, 14)?;
    let mut i = 16;
    if b.get(i) == Some(&b':') {
        c.second = two(b, i + 1)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            let (micros, n) = fraction(&b[i + 1..])?;
            c.micros = micros;
            i += 1 + n;
        }
    }
    let offset = zone(&b[i..])?;
    c.to_timestamp(offset)
}

/// A zone designator (possibly empty = UTC), returning the offset east of UTC in seconds.
fn zone(b: &[u8]) -> Option<i64> {
    // A single space before the zone is tolerated (`… 04:05:03 +02:00`, `… UTC`).
    let b = b.strip_prefix(b" ").unwrap_or(b);
    match b {
        [] | [b'Z' | b'z'] => return Some(0),
        _ if b.eq_ignore_ascii_case(b"UTC") || b.eq_ignore_ascii_case(b"GMT") => return Some(0),
        _ => {}
    }
    let (&sign, rest) = b.split_first()?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hh, mm) = match rest.len() {
        2 => (two(rest, 0)?, 0),
        4 => (two(rest, 0)?, two(rest, 2)?),
        5 if rest[2] == b':' => (two(rest, 0)?, two(rest, 3)?),
        _ => return None,
    };
    if hh > 23 || mm > 59 {
        return None;
    }
    Some(sign * (i64::from(hh) * 3600 + i64::from(mm) * 60))
}

/// A run of 1..=max digits starting at `*i`; advances `*i`.
fn number(b: &[u8], i: &mut usize, max: usize) -> Option<(u32, usize)> {
    let rest = b.get(*i..)?;
    let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > max {
        return None;
    }
    let v = digits_value(&rest[..n])? as u32;
    *i += n;
    Some((v, n))
}

/// Culture-formatted dates (see [`parse_wrapper`]); `b` is trimmed and non-empty.
fn parse_culture(b: &[u8]) -> Option<WrapperTime> {
    let mut i = 0;
    let (p1, n1) = number(b, &mut i, 4)?;
    let sep = *b.get(i)?;
    if !matches!(sep, b'/' | b'.' | b'-') {
        return None;
    }
    i += 1;
    let (p2, _) = number(b, &mut i, 2)?;
    if b.get(i) != Some(&sep) {
        return None;
    }
    i += 1;
    let (p3, n3) = number(b, &mut i, 4)?;

    let mut ambiguous = false;
    let (year, month, day) = if n1 == 4 && n3 <= 2 {
        (p1, p2, p3)
    } else if n1 <= 2 && n3 == 4 {
        if sep == b'/' {
            if p1 > 12 {
                (p3, p2, p1)
            } else if p2 > 12 {
                (p3, p1, p2)
            } else {
                ambiguous = p1 != p2;
                (p3, p1, p2)
            }
        } else {
            (p3, p2, p1)
        }
    } else {
        return None;
    };
    let mut c = Civil {
        year: i64::from(year),
        month,
        day,
        ..Civil::default()
    };

    // Optional trailing separator after the date (`20.09.2023.` in some cultures), then an
    // optional `,` and at least one space before the time.
    if b.get(i) == Some(&sep) && sep == b'.' {
        i += 1;
    }
    if b.get(i) == Some(&b',') {
        i += 1;
    }
    let spaces = b[i..].iter().take_while(|&&c| c == b' ').count();
    i += spaces;
    if i == b.len() {
        return c
            .to_timestamp(0)
            .map(|time| WrapperTime { time, ambiguous });
    }
    if spaces == 0 && b.get(i) != Some(&b'T') {
        return None;
    }
    if b.get(i) == Some(&b'T') {
        i += 1;
    }

    // H:mm[:ss[.f]]
    let (hour, _) = number(b, &mut i, 2)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    c.minute = two(b, i)?;
    i += 2;
    if b.get(i) == Some(&b':') {
        c.second = two(b, i + 1)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            let (micros, n) = fraction(b.get(i + 1..)?)?;
            c.micros = micros;
            i += 1 + n;
        }
    }
    let rest = &b[i..];
    let rest = &rest[rest.iter().take_while(|&&c| c == b' ').count()..];
    c.hour = match meridiem(rest)? {
        None => hour,
        Some(pm) => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            (hour % 12) + if pm { 12 } else { 0 }
        }
    };
    c.to_timestamp(0)
        .map(|time| WrapperTime { time, ambiguous })
}

/// `Some(None)` for no designator, `Some(Some(pm))` for AM/PM (`am`, `a.m.`, `A.M.`), None for
/// anything else.
fn meridiem(b: &[u8]) -> Option<Option<bool>> {
    if b.is_empty() {
        return Some(None);
    }
    let pm = match b[0].to_ascii_lowercase() {
        b'a' => false,
        b'p' => true,
        _ => return None,
    };
    match &b[1..] {
        [m] | [b'.', m, b'.'] | [b'.', m] if m.eq_ignore_ascii_case(&b'm') => Some(Some(pm)),
        _ => None,
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    #[test]
    fn instants_beyond_year_9999_are_rejected() {
        assert_eq!(parse_iso("9999-12-31T23:59-0500"), None);
        assert!(parse_iso("9999-12-31T23:59Z").is_some());
        assert_eq!(parse_ms_date("/Date(253402300800000)/"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn iso(s: &str) -> Option<String> {
        parse_iso(s).map(Timestamp::to_rfc3339)
    }

    fn wrap(s: &str) -> Option<(String, bool)> {
        parse_wrapper(s).map(|w| (w.time.to_rfc3339(), w.ambiguous))
    }

    fn w(t: &str, ambiguous: bool) -> Option<(String, bool)> {
        Some((t.to_string(), ambiguous))
    }

    #[test]
    fn iso_export_shapes() {
        let cases = [
            ("2023-09-26T01:51:13", "2023-09-26T01:51:13Z"),
            ("2026-01-24T06:54:24.0000000Z ", "2026-01-24T06:54:24Z"),
            (
                "2019-10-18T04:45:48.0729893-05:00",
                "2019-10-18T09:45:48.072989Z",
            ),
            ("2022-12-12 22:19:00", "2022-12-12T22:19:00Z"),
            ("2025-12-04T08:19:41Z", "2025-12-04T08:19:41Z"),
            ("2022-09-05T18:10:13.4907658", "2022-09-05T18:10:13.490765Z"),
            (
                "2020-03-13T19:15:41.6195833Z",
                "2020-03-13T19:15:41.619583Z",
            ),
            ("2023-09-26T01:51:13.5Z", "2023-09-26T01:51:13.500000Z"),
            (
                "2023-09-26T01:51:13.123456789Z",
                "2023-09-26T01:51:13.123456Z",
            ),
            ("2023-09-26T01:51:13+0000", "2023-09-26T01:51:13Z"),
            ("2023-09-26T01:51:13+0200", "2023-09-25T23:51:13Z"),
            ("2023-09-26T01:51:13+02", "2023-09-25T23:51:13Z"),
            ("2023-09-26T23:30:00-05:30", "2023-09-27T05:00:00Z"),
            ("2023-09-26 01:51:13 UTC", "2023-09-26T01:51:13Z"),
            ("2023-09-26T01:51", "2023-09-26T01:51:00Z"),
            ("2023-09-26", "2023-09-26T00:00:00Z"),
            ("  2024-02-29T00:00:00z\t", "2024-02-29T00:00:00Z"),
            ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"),
        ];
        for (input, want) in cases {
            assert_eq!(iso(input).as_deref(), Some(want), "{input:?}");
        }
    }

    #[test]
    fn iso_exact_micros() {
        assert_eq!(
            parse_iso("2023-09-26T01:51:13"),
            Some(Timestamp::from_millis(1_695_693_073_000))
        );
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
    }

    #[test]
    fn iso_rfc2822_fallback() {
        assert_eq!(
            iso("Tue, 26 Sep 2023 01:51:13 +0000").as_deref(),
            Some("2023-09-26T01:51:13Z")
        );
    }

    #[test]
    fn iso_rejects_garbage() {
        for bad in [
            "",
            "   ",
            "hello",
            "2023-02-30T00:00:00",
            "2023-02-29T00:00:00",
            "2023-13-01T00:00:00",
            "2023-00-10T00:00:00",
            "2023-09-00T00:00:00",
            "2023-09-26T24:00:00",
            "2023-09-26T23:60:00",
            "2023-09-26T23:59:61",
            "2023-09-26T01:51:13.",
            "2023-09-26T01:51:13Zjunk",
            "2023-09-26T01:51:13+2400",
            "2023-09-26T01:51:13+02:7",
            "2023-9-26T01:51:13",
            "2023-09-26X01:51:13",
            "2023-09-26T1:51:13",
            "9/20/2023 4:05:03 AM",
            "/Date(1695693073000)/",
            "2023-09-26T01:51:13.1234567890123456789Z",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad:?}");
        }
        let long = format!(
            "2023-09-26T01:51:13{}",
            " ".repeat(10) + &"x".repeat(10_000)
        );
        assert_eq!(parse_iso(&long), None);
    }

    #[test]
    fn ms_dates() {
        let want = Some("2023-09-26T01:51:13Z");
        for s in [
            "/Date(1695693073000)/",
            r"\/Date(1695693073000)\/",
            "/Date(1695693073000+0200)/",
            r"\/Date(1695693073000-0500)\/",
            " /Date(1695693073000)/ ",
        ] {
            assert_eq!(
                parse_ms_date(s).map(Timestamp::to_rfc3339).as_deref(),
                want,
                "{s}"
            );
        }
        assert_eq!(
            parse_ms_date("/Date(-1000)/")
                .map(Timestamp::to_rfc3339)
                .as_deref(),
            Some("1969-12-31T23:59:59Z")
        );
        assert_eq!(
            parse_ms_date("/Date(-62135596800000)/")
                .map(Timestamp::to_rfc3339)
                .as_deref(),
            Some("0001-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_ms_date("/Date(1695693073123)/"),
            Some(Timestamp(1_695_693_073_123_000))
        );
    }

    #[test]
    fn ms_dates_reject_near_misses() {
        for bad in [
            "",
            "/Date()/",
            "/Date(abc)/",
            "/Date(123+02)/",
            "/Date(123+2500)/",
            "/Date(123",
            "Date 123",
            "/Date(12345678901234567890)/",
            "/Date(--5)/",
            "2023-09-26T01:51:13",
        ] {
            assert_eq!(parse_ms_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn wrapper_cultures() {
        // en-US M/d/yyyy h:mm:ss tt, second part > 12 ⇒ not ambiguous.
        assert_eq!(
            wrap("9/20/2023 4:05:03 AM"),
            w("2023-09-20T04:05:03Z", false)
        );
        assert_eq!(
            wrap("9/26/2023 1:51:13 AM"),
            w("2023-09-26T01:51:13Z", false)
        );
        // en-AU 3 December or en-US 12 March: read month-first, flagged.
        assert_eq!(
            wrap("3/12/2025 7:31:34 AM"),
            w("2025-03-12T07:31:34Z", true)
        );
        // Day > 12 first ⇒ day-first.
        assert_eq!(
            wrap("20/09/2023 16:05:03"),
            w("2023-09-20T16:05:03Z", false)
        );
        // de-DE: always day-first, even when both ≤ 12.
        assert_eq!(
            wrap("20.09.2023 04:05:03"),
            w("2023-09-20T04:05:03Z", false)
        );
        assert_eq!(
            wrap("03.12.2025 07:31:34"),
            w("2025-12-03T07:31:34Z", false)
        );
        // Year-first.
        assert_eq!(
            wrap("2023/09/20 04:05:03"),
            w("2023-09-20T04:05:03Z", false)
        );
        assert_eq!(
            wrap("2023-09-20 04:05:03"),
            w("2023-09-20T04:05:03Z", false)
        );
        assert_eq!(
            wrap("2023-09-20 4:05:03 PM"),
            w("2023-09-20T16:05:03Z", false)
        );
        // nl-NL / en-IN dashes: day-first.
        assert_eq!(wrap("20-9-2023 16:05:03"), w("2023-09-20T16:05:03Z", false));
        // Equal parts are not ambiguous.
        assert_eq!(
            wrap("5/5/2023 1:00:00 PM"),
            w("2023-05-05T13:00:00Z", false)
        );
        // Optional seconds, fractions, commas, lower-case and dotted meridiem.
        assert_eq!(wrap("9/20/2023 4:05 PM"), w("2023-09-20T16:05:00Z", false));
        assert_eq!(
            wrap("9/20/2023, 4:05:03 pm"),
            w("2023-09-20T16:05:03Z", false)
        );
        assert_eq!(
            wrap("20/09/2023 4:05:03 p.m."),
            w("2023-09-20T16:05:03Z", false)
        );
        assert_eq!(
            wrap("20/09/2023 04:05:03.250"),
            w("2023-09-20T04:05:03.250000Z", false)
        );
        // Date only.
        assert_eq!(wrap("9/20/2023"), w("2023-09-20T00:00:00Z", false));
        assert_eq!(wrap("4/2/2023"), w("2023-04-02T00:00:00Z", true));
    }

    #[test]
    fn wrapper_twelve_oclock() {
        assert_eq!(
            wrap("9/20/2023 12:05:03 AM"),
            w("2023-09-20T00:05:03Z", false)
        );
        assert_eq!(
            wrap("9/20/2023 12:05:03 PM"),
            w("2023-09-20T12:05:03Z", false)
        );
        assert_eq!(
            wrap("9/20/2023 11:59:59 PM"),
            w("2023-09-20T23:59:59Z", false)
        );
        assert_eq!(
            wrap("9/20/2023 1:00:00 AM"),
            w("2023-09-20T01:00:00Z", false)
        );
        assert_eq!(wrap("9/20/2023 0:00:00"), w("2023-09-20T00:00:00Z", false));
        // 0 and 13+ are not 12-hour clock hours.
        assert_eq!(wrap("9/20/2023 0:05:03 AM"), None);
        assert_eq!(wrap("9/20/2023 13:05:03 PM"), None);
    }

    #[test]
    fn wrapper_accepts_iso_and_ms() {
        assert_eq!(
            wrap("2026-01-24T06:54:24.0000000Z "),
            w("2026-01-24T06:54:24Z", false)
        );
        assert_eq!(
            wrap("2019-10-18T04:45:48.0729893-05:00"),
            w("2019-10-18T09:45:48.072989Z", false)
        );
        assert_eq!(
            wrap(r"\/Date(1695693073000)\/"),
            w("2023-09-26T01:51:13Z", false)
        );
        assert_eq!(
            wrap("/Date(1695693073000+0200)/"),
            w("2023-09-26T01:51:13Z", false)
        );
        assert_eq!(
            parse_any("2023-09-26T01:51:13"),
            parse_wrapper("2023-09-26T01:51:13")
        );
    }

    #[test]
    fn wrapper_rejects_garbage() {
        for bad in [
            "",
            " ",
            "hello",
            "13/13/2023 1:00:00 PM",
            "2/30/2023 1:00:00 PM",
            "2023-02-30T00:00:00",
            "09.20.2023 04:05:03",
            "9/20/23 4:05:03 AM",
            "9-20/2023 4:05:03",
            "9/20/2023 4:5:03",
            "9/20/2023 4:05:03 XM",
            "9/20/2023 4:05:03 AMX",
            "9/20/2023 25:05:03",
            "9/20/2023 4",
            "9/20/20234:05:03",
            "12345/1/2023",
            "2023/20/09 04:05:03",
            "/Date(x)/",
        ] {
            assert_eq!(parse_wrapper(bad), None, "{bad:?}");
        }
        let long = "9/20/2023 4:05:03 AM".repeat(1000);
        assert_eq!(parse_wrapper(&long), None);
        assert_eq!(parse_ms_date(&long), None);
    }

    #[test]
    fn samples_iso_times_all_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples/public");
        let Ok(entries) = std::fs::read_dir(dir) else {
            eprintln!("skipping: {dir} absent");
            return;
        };
        let mut seen = 0;
        for entry in entries.flatten() {
            let Ok(files) = std::fs::read_dir(entry.path()) else {
                continue;
            };
            for f in files.flatten() {
                let Ok(text) = std::fs::read_to_string(f.path()) else {
                    continue;
                };
                // Every `"yyyy-MM-ddT…"` string value in the samples must parse.
                for (pos, _) in text.match_indices("\"20") {
                    let rest = &text[pos + 1..];
                    let Some(end) = rest.find('"') else { continue };
                    let v = &rest[..end];
                    if v.len() >= 19 && v.as_bytes()[4] == b'-' && v.as_bytes()[10] == b'T' {
                        assert!(parse_iso(v).is_some(), "{v:?} in {}", f.path().display());
                        assert!(parse_wrapper(v).is_some(), "{v:?}");
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 0);
    }

    proptest! {
        #[test]
        fn iso_roundtrips(us in 631_152_000_000_000i64..4_102_444_800_000_000i64) {
            let ts = Timestamp(us);
            prop_assert_eq!(parse_iso(&ts.to_rfc3339()), Some(ts));
            prop_assert_eq!(parse_wrapper(&ts.to_rfc3339()).map(|w| w.time), Some(ts));
        }

        #[test]
        fn whole_seconds_roundtrip_via_culture(secs in 631_152_000i64..4_102_444_800i64) {
            let ts = Timestamp(secs * 1_000_000);
            let dt = ts.to_utc();
            let us = dt.format("%-m/%-d/%Y %-I:%M:%S %p").to_string();
            let de = dt.format("%d.%m.%Y %H:%M:%S").to_string();
            prop_assert_eq!(parse_wrapper(&us).map(|w| w.time), Some(ts));
            prop_assert_eq!(parse_wrapper(&de).map(|w| w.time), Some(ts));
        }

        #[test]
        fn no_panics(s in "\\PC{0,80}") {
            let _ = parse_iso(&s);
            let _ = parse_ms_date(&s);
            let _ = parse_wrapper(&s);
            let _ = parse_any(&s);
        }

        #[test]
        fn no_panics_on_near_shapes(s in "[0-9/.: \\-TZAPMDate()\\\\+,]{0,40}") {
            let _ = parse_iso(&s);
            let _ = parse_ms_date(&s);
            let _ = parse_wrapper(&s);
        }
    }
}

//! Small deterministic building blocks: a seeded PRNG, an order-preserving JSON value with the
//! serialisers the exports need (Microsoft compact, .NET JavaScriptSerializer + PowerShell 5.1
//! pretty printer, plain), CSV quoting and the culture date formats.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// The one seed of the whole case. Changing it changes every identifier.
pub const SEED: u64 = 0x7a11_5b1f_2026_0316;

/// splitmix64: tiny, fast, and identical on every platform.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream derived from the case seed and a label, so that adding records to one part of the
    /// story never shifts the identifiers of another part.
    pub fn stream(label: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(SEED ^ h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant at these sizes).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo + 1) as u64) as i64
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }

    /// A version-4 GUID, lower case.
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    /// A GUID in the style of Entra request ids, whose last group ends in `..x00`.
    pub fn request_id(&mut self) -> String {
        let g = self.guid();
        let tail = format!("{:x}00", self.below(16));
        format!("{}{}", &g[..g.len() - 3], tail)
    }

    pub fn hex_upper(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789ABCDEF"[self.below(16) as usize]))
            .collect()
    }

    /// Standard base64 alphabet (with `+` and `/`, as in Exchange item ids).
    pub fn b64(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..n)
            .map(|_| char::from(A[self.below(64) as usize]))
            .collect()
    }

    /// URL-safe base64 (unique token identifiers).
    pub fn b64url(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n)
            .map(|_| char::from(A[self.below(64) as usize]))
            .collect()
    }

    /// A `UniqueTokenId` / `uniqueTokenIdentifier`: 22 URL-safe base64 characters, the last
    /// of which carries no data (16 bytes), as in real values such as `3kVZRE8tFkinHtPA7_EFAA`.
    pub fn token_id(&mut self) -> String {
        let mut s = self.b64url(20);
        let tail = *self.pick(&["AA", "AQ", "Ag", "Aw"]);
        s.push_str(tail);
        s
    }
}

// ------------------------------------------------------------------------------------------------
// Time

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("valid March 2026 day")
}

pub fn at(d: u32, h: u32, m: u32, s: u32) -> NaiveDateTime {
    day(d).and_hms_opt(h, m, s).expect("valid time")
}

/// `2026-03-09T09:06:14` (AuditData `CreationTime`: UTC, no zone, no fraction).
pub fn iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `2026-03-09T09:06:14Z`.
pub fn iso_z(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2026-03-09T09:06:14.1234567Z` (seven fractional digits from `ticks`, 0..10^7).
pub fn iso7_z(t: NaiveDateTime, ticks: u32) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        ticks % 10_000_000
    )
}

/// en-US `M/d/yyyy h:mm:ss tt`, the culture rendering of .NET DateTime.
pub fn us_date(t: NaiveDateTime) -> String {
    let h = t.hour();
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        t.month(),
        t.day(),
        t.year(),
        h12,
        t.minute(),
        t.second(),
        ampm
    )
}

pub fn epoch_ms(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

// ------------------------------------------------------------------------------------------------
// JSON

/// An ordered JSON value: key order matters (Microsoft's serialisation order is part of the
/// export shape), so objects are vectors, never maps.
#[derive(Clone, Debug)]
pub enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str_of(&self, key: &str) -> String {
        match self.get(key) {
            Some(J::Str(s)) => s.clone(),
            Some(J::Num(n)) => n.clone(),
            Some(J::Bool(b)) => if *b { "True" } else { "False" }.to_string(),
            _ => String::new(),
        }
    }

    /// Appends a key (builder style).
    pub fn push(&mut self, key: &str, v: impl Into<J>) {
        if let J::Obj(kv) = self {
            kv.push((key.to_string(), v.into()));
        }
    }

    /// Inserts a key at the front (Microsoft puts `AppAccessContext` first).
    pub fn push_front(&mut self, key: &str, v: impl Into<J>) {
        if let J::Obj(kv) = self {
            kv.insert(0, (key.to_string(), v.into()));
        }
    }
}

impl From<&str> for J {
    fn from(s: &str) -> J {
        J::Str(s.to_string())
    }
}
impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(s)
    }
}
impl From<&String> for J {
    fn from(s: &String) -> J {
        J::Str(s.clone())
    }
}
impl From<i64> for J {
    fn from(n: i64) -> J {
        J::Num(n.to_string())
    }
}
impl From<u32> for J {
    fn from(n: u32) -> J {
        J::Num(n.to_string())
    }
}
impl From<usize> for J {
    fn from(n: usize) -> J {
        J::Num(n.to_string())
    }
}
impl From<f64> for J {
    fn from(n: f64) -> J {
        J::Num(format!("{n}"))
    }
}
impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}
impl From<Vec<J>> for J {
    fn from(v: Vec<J>) -> J {
        J::Arr(v)
    }
}
impl From<Option<String>> for J {
    fn from(v: Option<String>) -> J {
        match v {
            Some(s) => J::Str(s),
            None => J::Null,
        }
    }
}

/// Builds a `J::Obj` keeping the written order.
#[macro_export]
macro_rules! jo {
    ($($k:expr => $v:expr),* $(,)?) => {
        $crate::util::J::Obj(vec![$(($k.to_string(), $crate::util::J::from($v))),*])
    };
}

/// A `Name`/`Value` pair as used by `Parameters`, `ExtendedProperties`, `DeviceProperties`.
pub fn nv(name: &str, value: impl Into<J>) -> J {
    jo! { "Name" => name, "Value" => value.into() }
}

/// How strings are escaped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Esc {
    /// Microsoft's UAL serialiser: `/` becomes `\/`, non-ASCII kept.
    Ms,
    /// .NET `JavaScriptSerializer` (Windows PowerShell 5.1 `ConvertTo-Json`): `<>'&` become
    /// `\u003c` etc., `/` kept, non-ASCII kept.
    Js,
    /// Minimal JSON escaping.
    Plain,
}

fn esc_str(out: &mut String, s: &str, esc: Esc) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' if esc == Esc::Ms => out.push_str("\\/"),
            '<' | '>' | '\'' | '&' if esc == Esc::Js => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Compact serialisation.
pub fn compact(j: &J, esc: Esc) -> String {
    let mut out = String::new();
    write_compact(&mut out, j, esc);
    out
}

fn write_compact(out: &mut String, j: &J, esc: Esc) {
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(n) => out.push_str(n),
        J::Str(s) => esc_str(out, s, esc),
        J::Arr(v) => {
            out.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, x, esc);
            }
            out.push(']');
        }
        J::Obj(kv) => {
            out.push('{');
            for (i, (k, x)) in kv.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                esc_str(out, k, esc);
                out.push(':');
                write_compact(out, x, esc);
            }
            out.push('}');
        }
    }
}

/// Windows PowerShell 5.1 `ConvertTo-Json` layout, re-implemented from its algorithm: the
/// compact JavaScriptSerializer text is re-indented with 4 spaces per level, `":  "` after
/// keys, nested containers indented to the column after their key, and empty arrays printed
/// as an opening bracket, a whitespace-only line and the closing bracket. Lines end CRLF.
pub fn ps51_pretty(json: &str) -> String {
    let c: Vec<char> = json.chars().collect();
    let mut out = String::with_capacity(json.len() * 3);
    match c.first() {
        Some('{') => {
            out.push('{');
            ps_dict(&c, 1, &mut out, "", 0);
        }
        Some('[') => {
            out.push('[');
            ps_list(&c, 1, &mut out, "", 0);
        }
        _ => return json.to_string(),
    }
    out
}

fn pad_of(pad: &str, n: usize) -> String {
    format!("{pad}{}", " ".repeat(n))
}

fn ps_dict(c: &[char], mut i: usize, out: &mut String, pad: &str, n: usize) -> usize {
    out.push_str("\r\n");
    let newpad = format!("{}    ", pad_of(pad, n));
    out.push_str(&newpad);
    let mut in_q = false;
    let mut header = 0usize;
    while i < c.len() {
        let ch = c[i];
        if in_q {
            out.push(ch);
            header += 1;
            if ch == '\\' && i + 1 < c.len() {
                i += 1;
                out.push(c[i]);
                header += 1;
            } else if ch == '"' {
                in_q = false;
            }
        } else {
            match ch {
                '"' => {
                    in_q = true;
                    out.push(ch);
                    header += 1;
                }
                ':' => {
                    out.push_str(":  ");
                    header += 3;
                }
                ',' => {
                    out.push_str(",\r\n");
                    out.push_str(&newpad);
                    header = 0;
                }
                '{' => {
                    out.push('{');
                    i = ps_dict(c, i + 1, out, &newpad, header);
                }
                '[' => {
                    out.push('[');
                    i = ps_list(c, i + 1, out, &newpad, header);
                }
                '}' => {
                    out.push_str("\r\n");
                    out.push_str(&pad_of(pad, n));
                    out.push('}');
                    return i;
                }
                _ => {
                    out.push(ch);
                    header += 1;
                }
            }
        }
        i += 1;
    }
    i
}

fn ps_list(c: &[char], mut i: usize, out: &mut String, pad: &str, n: usize) -> usize {
    out.push_str("\r\n");
    let newpad = format!("{}    ", pad_of(pad, n));
    out.push_str(&newpad);
    let mut in_q = false;
    while i < c.len() {
        let ch = c[i];
        if in_q {
            out.push(ch);
            if ch == '\\' && i + 1 < c.len() {
                i += 1;
                out.push(c[i]);
            } else if ch == '"' {
                in_q = false;
            }
        } else {
            match ch {
                '"' => {
                    in_q = true;
                    out.push(ch);
                }
                ',' => {
                    out.push_str(",\r\n");
                    out.push_str(&newpad);
                }
                '{' => {
                    out.push('{');
                    i = ps_dict(c, i + 1, out, &newpad, 0);
                }
                '[' => {
                    out.push('[');
                    i = ps_list(c, i + 1, out, &newpad, 0);
                }
                ']' => {
                    out.push_str("\r\n");
                    out.push_str(&pad_of(pad, n));
                    out.push(']');
                    return i;
                }
                _ => out.push(ch),
            }
        }
        i += 1;
    }
    i
}

/// A .NET (Newtonsoft, 2-space) indented JSON text with CRLF line ends, as Entra writes inside
/// `ModifiedProperties` values: `[\r\n  {\r\n    "MethodType": 6, ...`.
pub fn newtonsoft_indented(j: &J) -> String {
    let mut out = String::new();
    nt_write(&mut out, j, 0);
    out
}

fn nt_write(out: &mut String, j: &J, level: usize) {
    let ind = |l: usize| "  ".repeat(l);
    match j {
        J::Arr(v) if !v.is_empty() => {
            out.push('[');
            for (i, x) in v.iter().enumerate() {
                out.push_str(if i > 0 { ",\r\n" } else { "\r\n" });
                out.push_str(&ind(level + 1));
                nt_write(out, x, level + 1);
            }
            out.push_str("\r\n");
            out.push_str(&ind(level));
            out.push(']');
        }
        J::Obj(kv) if !kv.is_empty() => {
            out.push('{');
            for (i, (k, x)) in kv.iter().enumerate() {
                out.push_str(if i > 0 { ",\r\n" } else { "\r\n" });
                out.push_str(&ind(level + 1));
                esc_str(out, k, Esc::Plain);
                out.push_str(": ");
                nt_write(out, x, level + 1);
            }
            out.push_str("\r\n");
            out.push_str(&ind(level));
            out.push('}');
        }
        other => write_compact(out, other, Esc::Plain),
    }
}

// ------------------------------------------------------------------------------------------------
// CSV and encodings

/// RFC 4180 quoting only when needed.
pub fn csv_min(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Every field quoted (PowerShell `Export-Csv`).
pub fn csv_all(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Windows PowerShell 5.1 `Export-Csv` default encoding (ASCII): every non-ASCII character
/// becomes `?`.
pub fn ps_ascii(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect()
}

pub fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

pub fn utf8_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xef, 0xbb, 0xbf];
    out.extend_from_slice(s.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps51_layout() {
        let j =
            jo! { "a" => 1i64, "b" => vec![J::from(1i64), J::from(2i64)], "e" => Vec::<J>::new() };
        let p = ps51_pretty(&compact(&j, Esc::Js));
        assert_eq!(
            p,
            "{\r\n    \"a\":  1,\r\n    \"b\":  [\r\n              1,\r\n              2\r\n          ],\r\n    \"e\":  [\r\n              \r\n          ]\r\n}"
        );
    }
}

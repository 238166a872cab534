//! Byte-level formatting without allocation: integers, GUIDs, timestamps, JSON string escaping
//! (Microsoft's `\/` flavour), CSV quoting and UTF-16LE transcoding. Everything appends to a
//! `Vec<u8>` that the caller reuses.

/// Unix time of the period start, 2026-02-02T00:00:00Z (a Monday).
pub const BASE_UNIX: i64 = 1_769_990_400;

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEXU: &[u8; 16] = b"0123456789ABCDEF";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn num(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

pub fn two(b: &mut Vec<u8>, n: u32) {
    b.push(b'0' + (n / 10) as u8);
    b.push(b'0' + (n % 10) as u8);
}

/// A GUID in the usual 8-4-4-4-12 lower-case form, with the v4 version and variant bits.
pub fn guid(b: &mut Vec<u8>, x: u128) {
    let x = (x & !(0xf_u128 << 76) & !(0x3_u128 << 62)) | (0x4_u128 << 76) | (0x2_u128 << 62);
    for (i, shift) in (0..32).rev().enumerate() {
        if i == 8 || i == 12 || i == 16 || i == 20 {
            b.push(b'-');
        }
        b.push(HEX[((x >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Entra request ids end in `00` (the last byte is a counter in the real service).
pub fn request_id(b: &mut Vec<u8>, x: u128) {
    guid(b, x & !0xff);
}

pub fn hex_upper(b: &mut Vec<u8>, x: u64, digits: u32) {
    for shift in (0..digits).rev() {
        b.push(HEXU[((x >> (shift * 4)) & 0xf) as usize]);
    }
}

pub fn hex_lower(b: &mut Vec<u8>, x: u64, digits: u32) {
    for shift in (0..digits).rev() {
        b.push(HEX[((x >> (shift * 4)) & 0xf) as usize]);
    }
}

/// `n` base64 characters drawn from a hash stream (Exchange item and folder ids).
pub fn b64(b: &mut Vec<u8>, seed: u64, n: usize) {
    let mut s = seed;
    let mut left = 0;
    let mut bits = 0u64;
    for _ in 0..n {
        if left < 6 {
            s = crate::rng::mix(s.wrapping_add(0x9e37_79b9_7f4a_7c15));
            bits = s;
            left = 64;
        }
        b.push(B64[(bits & 63) as usize]);
        bits >>= 6;
        left -= 6;
    }
}

/// A 22-character base64url token (`UniqueTokenId`, `uniqueTokenIdentifier`).
pub fn token(b: &mut Vec<u8>, x: u128) {
    let mut v = x;
    for _ in 0..21 {
        b.push(B64URL[(v & 63) as usize]);
        v >>= 6;
    }
    // Real ids end in A/Q/g/w (the last 2 bits of the 16 bytes are padding).
    b.push(b"AQgw"[(v & 3) as usize]);
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Broken-down UTC time of `t` seconds after the period start.
pub struct Tm {
    pub y: i64,
    pub mo: u32,
    pub d: u32,
    pub h: u32,
    pub mi: u32,
    pub s: u32,
}

pub fn tm(t: i64) -> Tm {
    let u = BASE_UNIX + t;
    let days = u.div_euclid(86_400);
    let sod = u.rem_euclid(86_400) as u32;
    let (y, mo, d) = civil(days);
    Tm {
        y,
        mo,
        d,
        h: sod / 3600,
        mi: sod / 60 % 60,
        s: sod % 60,
    }
}

/// `2026-02-09T09:02:41` (AuditData `CreationTime`: UTC, no zone, no fraction).
pub fn iso(b: &mut Vec<u8>, t: i64) {
    let x = tm(t);
    num(b, x.y as u64);
    b.push(b'-');
    two(b, x.mo);
    b.push(b'-');
    two(b, x.d);
    b.push(b'T');
    two(b, x.h);
    b.push(b':');
    two(b, x.mi);
    b.push(b':');
    two(b, x.s);
}

pub fn iso_z(b: &mut Vec<u8>, t: i64) {
    iso(b, t);
    b.push(b'Z');
}

/// ISO with seven fractional digits and `Z` (message-trace reports, Graph).
pub fn iso7_z(b: &mut Vec<u8>, t: i64, ticks: u32) {
    iso(b, t);
    b.push(b'.');
    let mut tmp = [b'0'; 7];
    let mut v = ticks % 10_000_000;
    for i in (0..7).rev() {
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    b.extend_from_slice(&tmp);
    b.push(b'Z');
}

/// `2/9/2026 9:02:41 AM` (en-US culture, as the Purview portal and Export-Csv render dates).
pub fn us(b: &mut Vec<u8>, t: i64) {
    let x = tm(t);
    num(b, x.mo as u64);
    b.push(b'/');
    num(b, x.d as u64);
    b.push(b'/');
    num(b, x.y as u64);
    b.push(b' ');
    let h12 = match x.h % 12 {
        0 => 12,
        h => h,
    };
    num(b, h12 as u64);
    b.push(b':');
    two(b, x.mi);
    b.push(b':');
    two(b, x.s);
    b.extend_from_slice(if x.h < 12 { b" AM" } else { b" PM" });
}

/// Bytes that need a JSON escape in Microsoft's serialisation (which also escapes `/`).
#[inline]
fn json_special(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\' || c == b'/'
}

/// A JSON string body (no quotes) with `"`, `\`, `/` and control characters escaped.
pub fn esc(b: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most values need no escape: a branch-free scan (vectorises) then one copy.
    if !bytes.iter().fold(false, |a, &c| a | json_special(c)) {
        b.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if json_special(c) {
            b.extend_from_slice(&bytes[start..i]);
            match c {
                b'"' => b.extend_from_slice(b"\\\""),
                b'\\' => b.extend_from_slice(b"\\\\"),
                b'/' => b.extend_from_slice(b"\\/"),
                b'\n' => b.extend_from_slice(b"\\n"),
                b'\r' => b.extend_from_slice(b"\\r"),
                b'\t' => b.extend_from_slice(b"\\t"),
                _ => {
                    b.extend_from_slice(b"\\u00");
                    hex_lower(b, c as u64, 2);
                }
            }
            start = i + 1;
        }
    }
    b.extend_from_slice(&bytes[start..]);
}

/// `"…"` with inner quotes doubled (RFC 4180), for fields that are always quoted.
pub fn csv_q(b: &mut Vec<u8>, s: &[u8]) {
    b.push(b'"');
    csv_body(b, s);
    b.push(b'"');
}

/// The inside of a quoted CSV field: quotes doubled.
pub fn csv_body(b: &mut Vec<u8>, s: &[u8]) {
    // Quotes are dense in AuditData (every few bytes): a plain scan beats memchr here.
    b.reserve(s.len() + s.len() / 8);
    let mut start = 0;
    for (i, &c) in s.iter().enumerate() {
        if c == b'"' {
            b.extend_from_slice(&s[start..=i]);
            b.push(b'"');
            start = i + 1;
        }
    }
    b.extend_from_slice(&s[start..]);
}

/// Quotes only when needed (comma, quote, CR or LF inside), like Entra's CSV download.
pub fn csv_min(b: &mut Vec<u8>, s: &[u8]) {
    if s.iter()
        .any(|&c| c == b',' || c == b'"' || c == b'\n' || c == b'\r')
    {
        csv_q(b, s);
    } else {
        b.extend_from_slice(s);
    }
}

/// Appends UTF-8 text as UTF-16LE.
pub fn utf16le(b: &mut Vec<u8>, s: &[u8]) {
    if s.is_ascii() {
        b.reserve(s.len() * 2);
        for &c in s {
            b.push(c);
            b.push(0);
        }
    } else {
        for u in String::from_utf8_lossy(s).encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
    }
}

/// Re-serialises compact JSON (as written by the AuditData builders) the way PowerShell 7's
/// `ConvertTo-Json` lays it out: two-space indent from `indent`, `"key": value`, CRLF, `[]`/`{}`
/// for empty containers, and `\/` unescaped to `/` (PowerShell parsed and re-wrote the value).
pub fn ps7_pretty(b: &mut Vec<u8>, json: &[u8], indent: usize) {
    let mut depth = indent;
    let mut in_str = false;
    let mut i = 0;
    let n = json.len();
    let nl = |b: &mut Vec<u8>, d: usize| {
        b.extend_from_slice(b"\r\n");
        b.resize(b.len() + d, b' ');
    };
    while i < n {
        let c = json[i];
        if in_str {
            if c == b'\\' && i + 1 < n {
                if json[i + 1] == b'/' {
                    b.push(b'/');
                } else {
                    b.push(c);
                    b.push(json[i + 1]);
                }
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            b.push(c);
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                b.push(c);
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                if i + 1 < n && json[i + 1] == close {
                    b.push(c);
                    b.push(close);
                    i += 2;
                    continue;
                }
                b.push(c);
                depth += 2;
                nl(b, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(2);
                nl(b, depth);
                b.push(c);
            }
            b',' => {
                b.push(c);
                nl(b, depth);
            }
            b':' => b.extend_from_slice(b": "),
            _ => b.push(c),
        }
        i += 1;
    }
}

/// Compact JSON with `\/` turned back into `/` (what a PowerShell re-serialisation writes).
pub fn unslash(b: &mut Vec<u8>, json: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\\', &json[i..]) {
        let at = i + p;
        if at + 1 < json.len() && json[at + 1] == b'/' {
            b.extend_from_slice(&json[start..at]);
            start = at + 1;
            i = at + 2;
        } else {
            i = at + 2;
        }
        if i >= json.len() {
            break;
        }
    }
    b.extend_from_slice(&json[start..]);
}

/// A JSON string body with only `"`, `\` and control characters escaped (Graph, .NET Core).
pub fn esc_plain(b: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if c < 0x20 || c == b'"' || c == b'\\' {
            b.extend_from_slice(&bytes[start..i]);
            match c {
                b'"' => b.extend_from_slice(b"\\\""),
                b'\\' => b.extend_from_slice(b"\\\\"),
                b'\n' => b.extend_from_slice(b"\\n"),
                b'\r' => b.extend_from_slice(b"\\r"),
                _ => {
                    b.extend_from_slice(b"\\u00");
                    hex_lower(b, c as u64, 2);
                }
            }
            start = i + 1;
        }
    }
    b.extend_from_slice(&bytes[start..]);
}

//! Client IP normalisation.
//!
//! UAL `ClientIP` / `ClientIPAddress` / `ActorIpAddress` come in many spellings of the same
//! address: with a port (`203.0.113.45:19823`), bracketed IPv6 with a port
//! (`[2001:db8::abcd]:12345`), IPv4-mapped IPv6 (`::ffff:10.11.12.13`) — and sometimes a host
//! name. Correlation joins on the address, so all spellings of one address must become one
//! string. Every rewrite here is a sub-slice of the input, so the common path borrows; only a
//! non-canonical IPv6 spelling (upper case, leading zeros, hex-written mapped IPv4) allocates.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Normalises a client IP: strips `[` `]`, `:port` and `::ffff:` when what remains is an IP;
/// keeps hostnames as they are (trimmed).
///
/// * `10.11.12.13:12345`, `[10.11.12.13]:12345`, `[10.11.12.13]` → `10.11.12.13`
/// * `::ffff:10.11.12.13`, `[::ffff:10.11.12.13]:12345` → `10.11.12.13`
/// * `[2001:db8::abcd]:12345`, `[2001:db8::abcd]` → `2001:db8::abcd`; a bare IPv6 is never
///   split at its last colon (`2001:db8::abcd` stays whole).
/// * IPv6 is written in its canonical form (lower case, compressed), so spellings join.
/// * Host names: `localhost`, `localhost:12345`, `cool.client.local:12345` are kept as written.
///   A bracketed name (`[localhost]:12345`) loses its brackets and port (→ `localhost`): brackets
///   can never be part of a name, and the bracket form says unambiguously where the port starts,
///   whereas `name:digits` without brackets is left alone.
pub fn normalize_ip(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    if t.is_empty() {
        return Cow::Borrowed(t);
    }
    if let Some(rest) = t.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Cow::Borrowed(t);
        };
        let (inner, after) = (&rest[..end], &rest[end + 1..]);
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        if inner.is_empty() || !port_ok {
            return Cow::Borrowed(t);
        }
        // The inside holds no `]`, so this recursion is one level deep.
        return normalize_ip(inner);
    }
    // `a.b.c.d:port`: exactly one colon. Two or more colons is IPv6, never host:port.
    if let Some((host, port)) = t.split_once(':') {
        if !port.contains(':') {
            if is_port(port) && host.parse::<Ipv4Addr>().is_ok() {
                return Cow::Borrowed(host);
            }
            return Cow::Borrowed(t);
        }
    }
    if let Some(c) = canonical(t) {
        return c;
    }
    // `2001:db8::c3e:54812`: IPv6 with a port appended without brackets (seen in generated and
    // re-exported UAL). Only when the whole text is not an address and the part before the
    // last colon is one: `2001:db8::1:1234` stays the address it is.
    if let Some((host, port)) = t.rsplit_once(':') {
        if is_port(port) && host.contains(':') {
            if let Some(c) = canonical(host) {
                return c;
            }
        }
    }
    Cow::Borrowed(t)
}

/// Normalises then parses: `Some` only for IP addresses (host names give `None`).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    normalize_ip(s).parse().ok()
}

/// True for addresses that cannot be an outside client: loopback, unspecified, RFC 1918
/// private, link-local, CGNAT `100.64.0.0/10`, IPv6 ULA `fc00::/7` and link-local `fe80::/10`
/// (IPv4-mapped IPv6 is judged as its IPv4). Exchange writes `::1` / `127.0.0.1` for
/// server-side actions; those must not look like a new sign-in location.
pub fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(&v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
        }
    }
}

fn is_internal_v4(ip: &Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_private()
        || ip.is_link_local()
        || (o[0] == 100 && o[1] & 0xc0 == 64)
}

/// A TCP/UDP port number as written after a colon.
fn is_port(p: &str) -> bool {
    (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
}

/// The canonical spelling of `s` if it is an IP address (borrowed when `s` already is it),
/// None when it is not an IP.
fn canonical(s: &str) -> Option<Cow<'_, str>> {
    if s.parse::<Ipv4Addr>().is_ok() {
        return Some(Cow::Borrowed(s));
    }
    let v6: Ipv6Addr = s.parse().ok()?;
    if let Some(v4) = v6.to_ipv4_mapped() {
        // `::ffff:10.11.12.13` (any case) keeps its dotted tail as a borrow.
        if let Some(tail) = s.get(7..) {
            if s[..7].eq_ignore_ascii_case("::ffff:") && tail.parse::<Ipv4Addr>().is_ok() {
                return Some(Cow::Borrowed(tail));
            }
        }
        return Some(Cow::Owned(v4.to_string()));
    }
    // Compare against the canonical form on the stack; allocate only if they differ.
    let mut buf = StackStr::default();
    if write!(buf, "{v6}").is_ok() && buf.as_str() == Some(s) {
        return Some(Cow::Borrowed(s));
    }
    Some(Cow::Owned(v6.to_string()))
}

/// A fixed buffer large enough for any IPv6 text (at most 45 bytes), so the canonical-form
/// check needs no heap.
struct StackStr {
    buf: [u8; 48],
    len: usize,
}

impl Default for StackStr {
    fn default() -> Self {
        StackStr {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl StackStr {
    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.buf.get(..self.len)?).ok()
    }
}

impl std::fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Expected normalised value for every `ClientIP` shape in the beats `ip-formats.log`
    /// sample, plus the shapes seen in the other samples.
    const TABLE: &[(&str, &str)] = &[
        ("[10.11.12.13]:12345", "10.11.12.13"),
        ("10.11.12.13:12345", "10.11.12.13"),
        ("10.11.12.13", "10.11.12.13"),
        ("::ffff:10.11.12.13", "10.11.12.13"),
        ("[::ffff:10.11.12.13]:12345", "10.11.12.13"),
        ("[2001:db8::abcd]:12345", "2001:db8::abcd"),
        ("2001:db8::abcd", "2001:db8::abcd"),
        ("[2001:db8::abcd]", "2001:db8::abcd"),
        ("[10.11.12.13]", "10.11.12.13"),
        ("localhost", "localhost"),
        ("[localhost]:12345", "localhost"),
        ("localhost:12345", "localhost:12345"),
        ("[cool.client.local]:12345", "cool.client.local"),
        ("cool.client.local", "cool.client.local"),
        ("cool.client.local:12345", "cool.client.local:12345"),
        ("::1", "::1"),
        ("203.0.113.45:19823", "203.0.113.45"),
        ("203.0.113.45", "203.0.113.45"),
    ];

    #[test]
    fn table() {
        for (input, want) in TABLE {
            assert_eq!(normalize_ip(input), *want, "{input:?}");
        }
    }

    #[test]
    fn common_path_borrows() {
        for (input, _) in TABLE {
            assert!(
                matches!(normalize_ip(input), Cow::Borrowed(_)),
                "{input:?} allocated"
            );
        }
        assert!(matches!(
            normalize_ip(" 10.1.2.3 "),
            Cow::Borrowed("10.1.2.3")
        ));
    }

    #[test]
    fn near_misses_and_edge_cases() {
        let cases = [
            ("", ""),
            ("   ", ""),
            (" localhost ", "localhost"),
            // Not a port: kept as written.
            ("10.11.12.13:", "10.11.12.13:"),
            ("10.11.12.13:99999", "10.11.12.13:99999"),
            ("10.11.12.13:12a", "10.11.12.13:12a"),
            ("[10.11.12.13]:", "[10.11.12.13]:"),
            ("[10.11.12.13]x", "[10.11.12.13]x"),
            ("[10.11.12.13", "[10.11.12.13"),
            ("[]", "[]"),
            ("[]:80", "[]:80"),
            // Not an IPv4 before the port.
            ("10.11.12:80", "10.11.12:80"),
            ("010.11.12.13:80", "010.11.12.13:80"),
            // IPv6 whose last group looks like a port stays whole.
            ("2001:db8::1234", "2001:db8::1234"),
            ("fe80::1:443", "fe80::1:443"),
            // Unbracketed IPv6 + port, where the whole is no address: the port goes.
            ("2001:db8:b196:915c::c3e:54812", "2001:db8:b196:915c::c3e"),
            ("2001:db8:1:2:3:4:5:6:443", "2001:db8:1:2:3:4:5:6"),
            ("2001:DB8::C3E:54812", "2001:db8::c3e"),
            ("2001:db8::c3e:99999", "2001:db8::c3e:99999"),
            ("host.example:54812", "host.example:54812"),
            // Canonical IPv6 spelling.
            ("2001:DB8::ABCD", "2001:db8::abcd"),
            ("2001:0db8:0000:0000:0000:0000:0000:abcd", "2001:db8::abcd"),
            ("[2001:DB8::ABCD]:443", "2001:db8::abcd"),
            ("::FFFF:10.11.12.13", "10.11.12.13"),
            ("::ffff:a0b:c0d", "10.11.12.13"),
            ("unknown", "unknown"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_ip(input), want, "{input:?}");
        }
    }

    #[test]
    fn parse_ip_values() {
        assert_eq!(
            parse_ip("[::ffff:10.11.12.13]:12345"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 11, 12, 13)))
        );
        assert_eq!(
            parse_ip("[2001:db8::abcd]:12345"),
            "2001:db8::abcd".parse::<IpAddr>().ok()
        );
        assert_eq!(parse_ip("203.0.113.45:19823"), "203.0.113.45".parse().ok());
        assert_eq!(parse_ip("localhost"), None);
        assert_eq!(parse_ip("[localhost]:12345"), None);
        assert_eq!(parse_ip(""), None);
    }

    #[test]
    fn internal_addresses() {
        let internal = [
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.10.10",
            "100.64.0.1",
            "100.127.255.255",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ];
        for s in internal {
            let ip: IpAddr = s.parse().unwrap_or_else(|_| panic!("{s}"));
            assert!(is_internal(&ip), "{s} should be internal");
        }
        let external = [
            "203.0.113.45",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2001:db8::abcd",
            "2603:10a6::1",
            "fec0::1",
            "::ffff:8.8.8.8",
        ];
        for s in external {
            let ip: IpAddr = s.parse().unwrap_or_else(|_| panic!("{s}"));
            assert!(!is_internal(&ip), "{s} should be external");
        }
    }

    #[test]
    fn beats_ip_formats_sample() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/public/elastic_beats_o365/ip-formats.log"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipping: {path} absent");
            return;
        };
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("sample line is JSON");
            let raw = v["ClientIP"].as_str().expect("ClientIP is a string");
            let want = TABLE
                .iter()
                .find(|(i, _)| *i == raw)
                .map(|(_, w)| *w)
                .unwrap_or_else(|| panic!("{raw:?} missing from the expected table"));
            assert_eq!(normalize_ip(raw), want, "{raw:?}");
            n += 1;
        }
        assert!(n >= 15, "only {n} lines read");
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,60}") {
            let once = normalize_ip(&s).into_owned();
            prop_assert_eq!(normalize_ip(&once), once.as_str());
            let _ = parse_ip(&s);
        }

        #[test]
        fn any_ip_with_port_normalises(a in any::<std::net::Ipv4Addr>(), port in 0u16..) {
            let want = a.to_string();
            prop_assert_eq!(normalize_ip(&format!("{a}:{port}")).into_owned(), want.clone());
            prop_assert_eq!(normalize_ip(&format!("[{a}]:{port}")).into_owned(), want.clone());
            prop_assert_eq!(normalize_ip(&format!("::ffff:{a}")).into_owned(), want.clone());
        }

        #[test]
        fn any_ipv6_normalises(a in any::<std::net::Ipv6Addr>(), port in 0u16..) {
            let want = match a.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => a.to_string(),
            };
            prop_assert_eq!(normalize_ip(&a.to_string()).into_owned(), want.clone());
            prop_assert_eq!(normalize_ip(&format!("[{a}]:{port}")).into_owned(), want.clone());
        }
    }
}

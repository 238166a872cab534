//! Client-IP normalisation on arbitrary strings: `normalize_ip`, `parse_ip`, `is_internal`.
//! Invariants: normalising is idempotent (events are joined on the normalised text); an address
//! normalises to its canonical text (`IpAddr`'s display, IPv4-mapped IPv6 as IPv4); `parse_ip`
//! parses exactly what `normalize_ip` leaves.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mailsleuth::event::ip::{is_internal, normalize_ip, parse_ip};
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let n = normalize_ip(&s);
    assert_eq!(
        normalize_ip(&n),
        n,
        "normalize_ip is not idempotent on {s:?}"
    );
    let p = parse_ip(&s);
    assert_eq!(
        p,
        n.parse::<IpAddr>().ok(),
        "parse_ip differs from parsing normalize_ip"
    );
    if let Some(ip) = p {
        let _ = is_internal(&ip);
        assert!(
            !matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some()),
            "IPv4-mapped IPv6 {ip} kept from {s:?}"
        );
        assert_eq!(
            n,
            ip.to_string(),
            "{s:?} normalised to a non-canonical spelling"
        );
    }
});

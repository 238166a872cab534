//! The one door to polars: the aggregates the rules read up front, and the Parquet export.
//!
//! Columns are built from interned symbols as dense `u32`s (see [`Sym::index`]) and times as
//! `i64` microseconds, so a frame costs a few bytes per event and group keys compare as
//! integers. polars computes the brute-force buckets (several distinct counts per key and
//! time bucket); its Parquet crates write the export ([`write_events_parquet`], in `parquet`).
//! The aggregates that are one distinct-pair list or one
//! count per key (session spread, mailbox-hours, common IPs) are an in-place sort of packed
//! integers instead: as polars queries over every event, their hash tables stayed resident
//! on polars' idle pool threads (~110 MB at 4 GB of input) for answers of a few thousand
//! rows. Everything here runs **outside** rayon's `par_iter` (polars schedules its own pool) and returns plain Rust structs, so no other module sees a polars type. Results are
//! sorted by their keys' strings, never by symbol numbers, to stay deterministic.

use crate::event::{Event, Interner, Outcome, SourceKind, Sym, SymMemo, Timestamp};
use polars::prelude::*;

mod details;
mod parquet;
pub use parquet::write_events_parquet;

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
}

//! The one time type of the event model: microseconds since the Unix epoch, UTC.
//!
//! Eight bytes instead of chrono's twelve, totally ordered, and the unit polars uses for its
//! `Datetime(Microseconds)` columns, so frames are built without conversion.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use std::fmt;

/// A UTC instant with microsecond precision.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// From a chrono UTC time (sub-microsecond digits are dropped).
    pub fn from_utc(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp_micros())
    }

    /// From a wall-clock time that is known to be UTC.
    pub fn from_naive_utc(dt: NaiveDateTime) -> Self {
        Timestamp(dt.and_utc().timestamp_micros())
    }

    /// From milliseconds since the epoch (PowerShell `/Date(ms)/`).
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms.saturating_mul(1000))
    }

    /// As a chrono UTC time.
    pub fn to_utc(self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// RFC 3339 in UTC with a `Z`: whole seconds when there is no fraction, else microseconds.
    /// Deterministic, so machine outputs compare byte for byte.
    pub fn to_rfc3339(self) -> String {
        let dt = self.to_utc();
        if self.0.rem_euclid(1_000_000) == 0 {
            dt.to_rfc3339_opts(SecondsFormat::Secs, true)
        } else {
            dt.to_rfc3339_opts(SecondsFormat::Micros, true)
        }
    }

    /// Seconds between two instants (positive when `later` is after `self`).
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0) / 1_000_000
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_and_drops_zero_fraction() {
        let t = Timestamp::from_millis(1_695_693_073_000);
        assert_eq!(t.to_rfc3339(), "2023-09-26T01:51:13Z");
        let t = Timestamp(1_695_693_073_123_456);
        assert_eq!(t.to_rfc3339(), "2023-09-26T01:51:13.123456Z");
        assert_eq!(Timestamp::from_utc(t.to_utc()), t);
    }
}

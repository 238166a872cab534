//! Times for people: `--timezone Europe/Amsterdam` shows local times in the HTML, Markdown and
//! terminal outputs, while every machine-readable output (findings.json, timeline, manifest,
//! Parquet) stays UTC.

use crate::event::Timestamp;
use chrono_tz::Tz;

/// How to show times to a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    tz: Option<Tz>,
}

impl Clock {
    /// UTC.
    pub fn utc() -> Self {
        Clock { tz: None }
    }

    /// A named IANA zone (`Europe/Amsterdam`); `None` when the name is unknown.
    pub fn named(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("utc") {
            return Some(Self::utc());
        }
        name.parse::<Tz>().ok().map(|tz| Clock { tz: Some(tz) })
    }

    /// The zone's name for headings ("UTC", "Europe/Amsterdam").
    pub fn zone_name(&self) -> &str {
        self.tz.as_ref().map_or("UTC", |tz| tz.name())
    }

    /// `2026-03-09 10:02:41 CET` (or `… UTC`).
    pub fn format(&self, t: Timestamp) -> String {
        let utc = t.to_utc();
        match self.tz {
            None => utc.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            Some(tz) => utc
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string(),
        }
    }

    /// `2026-03-09 10:02` without seconds or zone (tables with a zone in the heading).
    pub fn short(&self, t: Timestamp) -> String {
        let utc = t.to_utc();
        match self.tz {
            None => utc.format("%Y-%m-%d %H:%M").to_string(),
            Some(tz) => utc.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_for_people_only() {
        let t = Timestamp::from_millis(1_773_046_961_000); // 2026-03-09T09:02:41Z
        assert_eq!(Clock::utc().format(t), "2026-03-09 09:02:41 UTC");
        let ams = Clock::named("Europe/Amsterdam").unwrap();
        assert_eq!(ams.format(t), "2026-03-09 10:02:41 CET");
        assert_eq!(ams.zone_name(), "Europe/Amsterdam");
        assert!(Clock::named("Mars/Olympus").is_none());
    }
}

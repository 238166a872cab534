//! Per-phase wall time and resident memory, for `--debug-timings`.
//!
//! Each phase records how long it took and the process's resident memory when it ended, so a
//! slowdown or a memory regression points at the phase that caused it without a profiler.

use std::time::{Duration, Instant};

/// One finished phase.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Short name (`ingest`, `detect`, `write:timeline`).
    pub name: &'static str,
    /// Wall time.
    pub elapsed: Duration,
    /// Resident memory when the phase ended, in bytes (Linux only).
    pub rss_after: Option<u64>,
    /// Ran beside other work (shown after the time, e.g. "beside detect/correlate"): not
    /// part of the wall-time total. `None` for a phase of its own.
    pub concurrent: Option<&'static str>,
}

/// The phases of one run, in the order they ran.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    phases: Vec<Phase>,
    /// Each detection rule's time on its worker, slowest first.
    rules: Vec<(&'static str, Duration)>,
}

/// Rules listed under the table.
const SLOWEST_RULES: usize = 5;

impl Timings {
    /// Records a phase that started at `start` and ends now.
    pub fn record(&mut self, name: &'static str, start: Instant) {
        self.phases.push(Phase {
            name,
            elapsed: start.elapsed(),
            rss_after: resident_bytes(),
            concurrent: None,
        });
    }

    /// Records work that ran on another thread while other work ran (its time is shown, with
    /// `beside` saying what it overlapped, but not added to the total); its memory is read now.
    pub fn concurrent(&mut self, name: &'static str, elapsed: Duration, beside: &'static str) {
        self.phases.push(Phase {
            name,
            elapsed,
            rss_after: resident_bytes(),
            concurrent: Some(beside),
        });
    }

    /// Keeps each detection rule's time (slowest first), shown under the table.
    pub fn rules(&mut self, times: Vec<(&'static str, Duration)>) {
        self.rules = times;
    }

    /// Adds the phases of another run part (e.g. the report writer's) after these.
    pub fn extend(&mut self, other: Timings) {
        self.phases.extend(other.phases);
        if self.rules.is_empty() {
            self.rules = other.rules;
        }
    }

    /// The recorded phases.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// Time of the named phase (zero when it did not run).
    pub fn get(&self, name: &str) -> Duration {
        self.phases
            .iter()
            .filter(|p| p.name == name)
            .map(|p| p.elapsed)
            .sum()
    }

    /// Wall time: the sum of every phase that did not run concurrently with others.
    pub fn total(&self) -> Duration {
        self.phases
            .iter()
            .filter(|p| p.concurrent.is_none())
            .map(|p| p.elapsed)
            .sum()
    }

    /// A plain-text table for stderr: each phase's time, its share, the resident memory after
    /// it, and the end-to-end rate over `input_bytes`.
    pub fn render(&self, input_bytes: u64, records: usize) -> String {
        use std::fmt::Write;
        let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
        let total = self.total().as_secs_f64().max(1e-9);
        let mut s = String::from("timings:\n");
        for p in &self.phases {
            let secs = p.elapsed.as_secs_f64();
            let _ = writeln!(
                s,
                "  {:<16} {:>8.2} s {:>5.1} %   rss after {:>8}{}",
                p.name,
                secs,
                100.0 * secs / total,
                p.rss_after.map_or_else(|| "?".into(), mb),
                p.concurrent
                    .map(|beside| format!("   (beside {beside})"))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(
            s,
            "  {:<16} {:>8.2} s   {:.0} MB/s, {:.0} records/s over {} and {} records; peak memory {}",
            "total",
            total,
            input_bytes as f64 / 1e6 / total,
            records as f64 / total,
            mb(input_bytes),
            records,
            peak_resident_bytes().map_or_else(|| "unavailable".into(), mb)
        );
        if !self.rules.is_empty() {
            let slowest: Vec<String> = self
                .rules
                .iter()
                .take(SLOWEST_RULES)
                .map(|(id, d)| format!("{id} {:.2} s", d.as_secs_f64()))
                .collect();
            let _ = writeln!(
                s,
                "  slowest rules (each on one worker during detect): {}",
                slowest.join(", ")
            );
        }
        s
    }
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Current resident memory of this process (Linux `VmRSS`).
pub fn resident_bytes() -> Option<u64> {
    status_kb("VmRSS:")
}

/// Peak resident memory of this process so far (Linux `VmHWM`).
pub fn peak_resident_bytes() -> Option<u64> {
    status_kb("VmHWM:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_keep_order_and_sum() {
        let mut t = Timings::default();
        let start = Instant::now();
        t.record("a", start);
        t.record("b", start);
        t.concurrent("c", Duration::from_secs(100), "a and b");
        let names: Vec<_> = t.phases().iter().map(|p| p.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(t.get("a") + t.get("b"), t.total());
        assert_eq!(t.get("missing"), Duration::ZERO);
        let text = t.render(2_000_000, 10);
        assert!(text.contains("  a ") && text.contains("total") && text.contains("2 MB"));
        assert!(text.contains("(beside a and b)"), "{text}");
        assert!(!text.contains("slowest rules"));
        let rules: Vec<(&'static str, Duration)> = (0..7)
            .map(|n| {
                (
                    ["r0", "r1", "r2", "r3", "r4", "r5", "r6"][n],
                    Duration::from_secs(7 - n as u64),
                )
            })
            .collect();
        t.rules(rules);
        let text = t.render(2_000_000, 10);
        assert!(
            text.contains("slowest rules (each on one worker during detect): r0 7.00 s, r1 6.00 s")
        );
        assert!(text.contains("r4 3.00 s") && !text.contains("r5"), "{text}");
        if cfg!(target_os = "linux") {
            assert!(t.phases()[0].rss_after.unwrap() > 0);
            assert!(peak_resident_bytes().unwrap() >= resident_bytes().unwrap() / 2);
        }
    }
}

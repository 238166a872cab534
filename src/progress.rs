//! The progress bar on stderr (indicatif). Hidden with `--quiet` and whenever stderr is not a
//! terminal, so pipes and CI logs stay clean; stdout is never touched.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailsleuth::ingest::source::ByteCounter;

/// Bytes read from disk, with throughput and ETA.
pub struct Bytes {
    bar: ProgressBar,
}

impl Bytes {
    /// A bar that draws only when `enabled` and stderr is a terminal.
    pub fn new(enabled: bool) -> Self {
        let bar = if enabled {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} [{bar:30}] {binary_bytes_per_sec} ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bytes { bar }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ByteCounter for Bytes {
    fn add(&self, n: u64) {
        self.bar.inc(n);
    }

    fn set_total(&self, n: u64) {
        self.bar.set_length(n);
    }
}

//! The `mailsleuth` binary: parse arguments → validated config → run the command → exit code.

mod cli;
mod progress;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, ColorChoice, Command};
use mailsleuth::config::{AnalyzeConfig, AnalyzeRequest, Common, InspectConfig};
use mailsleuth::inspect::{InspectReport, Outcome};
use mailsleuth::report::timeline::Scope;
use mailsleuth::report::{terminal, write};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: ingest allocates and frees millions of small
/// strings, which glibc malloc handled slowly and left fragmented (see docs/BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Opts this process out of transparent huge pages.
///
/// mimalloc asks for huge pages on its arena, and the kernel zeroes a whole 2 MiB page on the
/// first touch of any byte of it — again after every purge. perf on a 1 GB analysis: 13 % of
/// all CPU in `clear_page_erms`, 1.5–2 s of system time; opted out, 0.2 % and 0.6 s, and a
/// smaller peak. The process's own setting only (inherited by nothing we spawn).
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and reads or writes none of our
    // memory; a kernel without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn disable_transparent_huge_pages() {}

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the binding names no constant for
/// it; the test below checks the number against mimalloc's default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory resident before handing it back, in milliseconds.
///
/// mimalloc 3 waits a second, so every buffer a phase frees stays resident while the next
/// phase allocates its own: at the end of a large analysis the export's encode buffers, the
/// rules' maps and correlation overlap (peak on the 4 GB mixed benchmark set 1,022–1,043 MB;
/// with 50 ms 993–1,009 MB, with 100 ms 993–1,003 MB). 50 ms cost no measurable wall time;
/// 0–10 ms returned ~15 MB more for 2.4 s more system time. `MIMALLOC_PURGE_DELAY` in the
/// environment still wins.
const PURGE_DELAY_MS: std::ffi::c_long = 50;

fn shorten_allocator_purge_delay() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option of the allocator; mimalloc reads options atomically
        // and any value is valid for this one.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// Exit codes (documented in `--help` and docs/exit-codes.md).
mod exit {
    pub const OK: u8 = 0;
    pub const PARTIAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOTHING_READABLE: u8 = 3;
    pub const OUTPUT: u8 = 4;
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    shorten_allocator_purge_delay();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            use mailsleuth::report::output::OutputError;
            // Refusals about --out are the user's request to fix, like bad arguments.
            let usage = err
                .downcast_ref::<mailsleuth::config::ConfigError>()
                .is_some()
                || matches!(
                    err.downcast_ref::<OutputError>(),
                    Some(
                        OutputError::InsideInput(_)
                            | OutputError::Exists(_)
                            | OutputError::NotOurs(_)
                    )
                );
            eprintln!("mailsleuth: error: {err:#}");
            ExitCode::from(if usage { exit::USAGE } else { exit::OUTPUT })
        }
    }
}

fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    let common = Common::new(
        g.threads,
        g.max_record_mib,
        !g.quiet,
        color_enabled(g.color),
    )?;
    if let Some(n) = common.threads {
        // polars reads this once, when its pool starts; rayon is configured directly.
        std::env::set_var("POLARS_MAX_THREADS", n.to_string());
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("starting the worker pool")?;
    }
    match cli.command {
        Command::Inspect(args) => inspect(InspectConfig::new(common, args.paths, args.json)?),
        Command::Analyze(a) => analyze(AnalyzeConfig::new(
            common,
            AnalyzeRequest {
                paths: a.paths,
                out: a.out,
                force: a.force,
                org_domains: a.org_domains,
                geoip: a.geoip,
                debug_timings: a.debug_timings,
                timeline: match a.timeline {
                    cli::TimelineScope::All => Scope::All,
                    cli::TimelineScope::Findings => Scope::Findings,
                    cli::TimelineScope::Accounts => Scope::Accounts,
                },
                timezone: a.timezone,
            },
        )?),
    }
}

fn analyze(config: AnalyzeConfig) -> Result<u8> {
    // Check the output folder before spending minutes on the input.
    let out =
        mailsleuth::report::output::OutputDir::prepare(&config.out, &config.paths, config.force)?;
    let bar = progress::Bytes::new(config.common.progress);
    // The Parquet export needs only the events: it is written beside detection.
    let (analysis, parquet) = mailsleuth::analysis::run_with(
        &config.paths,
        &config.common.ingest,
        &config.analyze,
        &bar,
        |ingest| write::timed(|| write::write_parquet(ingest, &out)),
    )?;
    bar.finish();
    let inspect = InspectReport::from_ingest(&analysis.ingest);
    let mut timings = analysis.timings.clone();
    timings.concurrent("write:parquet", parquet.1, "detect/correlate");
    parquet.0?;
    let outputs = write::write_all(&analysis, &out, &config.report, &mut timings)?;
    let t = std::time::Instant::now();
    let dir = out.commit()?;
    timings.record("write:commit", t);
    if config.debug_timings {
        let bytes: u64 = analysis.ingest.files.iter().map(|f| f.size).sum();
        eprint!("{}", timings.render(bytes, analysis.ingest.events.len()));
        let store = &analysis.ingest;
        let footprint = mailsleuth::event::Footprint::of(
            &store.events,
            store.events.capacity(),
            &store.interner,
        );
        eprint!("{}", footprint.render());
    }
    let style = terminal::Style {
        color: config.common.color,
        clock: config.report.clock,
    };
    let mut stdout = std::io::stdout().lock();
    write!(
        stdout,
        "{}",
        terminal::summary(&analysis, &dir, &outputs, style)
    )
    .context("writing to stdout")?;
    stdout.flush()?;
    exit_without_freeing(analysis);
    Ok(match inspect.outcome() {
        Outcome::Complete => exit::OK,
        Outcome::Partial => exit::PARTIAL,
        Outcome::NothingReadable => exit::NOTHING_READABLE,
    })
}

/// Leaves `store` (the events, their strings and everything built on them) to the operating
/// system, which takes a process's memory back at once when it exits: freeing millions of
/// events, prop lists and strings one by one took 0.57 s of one core after the 4 GB Purview
/// CSV's outputs were already written. Only for what holds memory alone: every output is
/// written, flushed and committed before this is called.
fn exit_without_freeing<T>(store: T) {
    std::mem::forget(store);
}

fn inspect(config: InspectConfig) -> Result<u8> {
    let bar = progress::Bytes::new(config.common.progress);
    let ingest = mailsleuth::ingest::run(&config.paths, &config.common.ingest, &bar);
    bar.finish();
    let report = InspectReport::from_ingest(&ingest);
    let mut stdout = std::io::stdout().lock();
    if config.json {
        serde_json::to_writer_pretty(&mut stdout, &report).context("writing JSON to stdout")?;
        writeln!(stdout)?;
    } else {
        let style = terminal::Style {
            color: config.common.color,
            ..Default::default()
        };
        write!(stdout, "{}", terminal::inspect(&report, style)).context("writing to stdout")?;
    }
    stdout.flush()?;
    exit_without_freeing(ingest);
    Ok(match report.outcome() {
        Outcome::Complete => exit::OK,
        Outcome::Partial => exit::PARTIAL,
        Outcome::NothingReadable => exit::NOTHING_READABLE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_option_is_the_one_mimalloc_defaults_to_a_second() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set in the environment");
            return;
        }
        // SAFETY: reads and sets one integer option.
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(
            default, 1000,
            "not mimalloc 3's purge delay: check mimalloc.h"
        );
        shorten_allocator_purge_delay();
        let now = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(now, PURGE_DELAY_MS);
    }
}

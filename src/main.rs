//! The `mailsleuth` binary: parse arguments → validated config → run the command → exit code.

mod cli;
mod progress;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, ColorChoice, Command};
use mailsleuth::config::{Common, InspectConfig};
use mailsleuth::inspect::{InspectReport, Outcome};
use mailsleuth::report::terminal;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Exit codes (documented in `--help` and docs/exit-codes.md).
mod exit {
    pub const OK: u8 = 0;
    pub const PARTIAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOTHING_READABLE: u8 = 3;
    pub const OUTPUT: u8 = 4;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let usage = err
                .downcast_ref::<mailsleuth::config::ConfigError>()
                .is_some();
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
    }
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
        };
        write!(stdout, "{}", terminal::inspect(&report, style)).context("writing to stdout")?;
    }
    stdout.flush()?;
    Ok(match report.outcome() {
        Outcome::Complete => exit::OK,
        Outcome::Partial => exit::PARTIAL,
        Outcome::NothingReadable => exit::NOTHING_READABLE,
    })
}

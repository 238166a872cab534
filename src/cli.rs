//! Command-line arguments (clap derive). No logic lives here: `main` turns these into a
//! validated [`mailsleuth::config`] value.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit status:
  0  success: every record of every export was read
  1  success, but some input was skipped (bad rows, unreadable files); each is reported
  2  usage error (bad arguments)
  3  nothing readable: no record could be read from any input
  4  the output could not be written";

/// Investigate Microsoft 365 / Exchange Online mailbox compromise from the exports you already
/// have (Unified Audit Log, mailbox audit log, message trace, Entra ID sign-ins), offline.
#[derive(Debug, Parser)]
#[command(name = "mailsleuth", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Worker threads for parsing and analysis (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,

    /// No progress bar or summary on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// When to use colour on the terminal (NO_COLOR is honoured with `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Skip (and report) any single record larger than this many MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = 16)]
    pub max_record_mib: usize,
}

/// Timeline scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineScope {
    /// Every event.
    All,
    /// Only events that are evidence of a finding or part of an attacker footprint.
    Findings,
    /// Every event of accounts with a non-clean verdict.
    Accounts,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List each input with its detected kind, encoding, record counts, time range, skipped
    /// records (with reasons) and completeness warnings.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),

    /// Find what the attacker did: run every detection, decide a verdict per account with the
    /// compromise window, and write the reports to --out.
    #[command(after_help = EXIT_CODES)]
    Analyze(AnalyzeArgs),
}

/// `mailsleuth analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Export files or folders (read recursively; .gz is decompressed on the fly).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output folder (created; must not be inside an input folder).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace an existing, non-empty output folder (whole: old files are not mixed in).
    #[arg(long)]
    pub force: bool,

    /// A domain of the tenant (repeatable); added to the ones inferred from the data. Decides
    /// what "external" means for forwarding and recipients.
    #[arg(long = "org-domain", value_name = "DOMAIN")]
    pub org_domains: Vec<String>,

    /// MaxMind-format GeoIP/ASN database (GeoLite2 City or ASN, DB-IP lite; repeatable), read
    /// offline: enables countries, networks and impossible travel.
    #[arg(long, value_name = "FILE.mmdb")]
    pub geoip: Vec<PathBuf>,

    /// Which events go into timeline.csv/.jsonl: everything, only attacker-related events, or
    /// the events of accounts with a non-clean verdict.
    #[arg(long, value_enum, default_value_t = TimelineScope::Accounts)]
    pub timeline: TimelineScope,

    /// Show local times in this IANA zone (e.g. Europe/Amsterdam) in the HTML, Markdown and
    /// terminal outputs; machine-readable outputs stay UTC.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub timezone: String,

    /// Print each phase's wall time and the resident memory after it, the peak, the slowest
    /// detection rules and what the event store holds after ingest, on stderr
    #[arg(long)]
    pub debug_timings: bool,
}

/// `mailsleuth inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Export files or folders (read recursively; .gz is decompressed on the fly).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Print one JSON document (schema mailsleuth.inspect/1) instead of a table.
    #[arg(long)]
    pub json: bool,
}

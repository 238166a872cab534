//! Writes every output of `analyze` into the staging folder, in one place, so the list of
//! outputs, the manifest and the terminal summary never disagree.

use super::output::{OutputDir, OutputError};
use super::{clock::Clock, findings_json, manifest, remediation, timeline};
use crate::analysis::Analysis;
use crate::ingest::Ingest;
use crate::timings::Timings;
use std::time::{Duration, Instant};

/// How the reports are written.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Which events go into the timeline.
    pub timeline: timeline::Scope,
    /// Zone for times shown to people.
    pub clock: Clock,
    /// What to record in the manifest.
    pub manifest: manifest::Options,
}

/// Output file names, in the order they are written.
pub const OUTPUTS: &[&str] = &[
    "report.html",
    "report.md",
    "findings.json",
    "timeline.csv",
    "timeline.jsonl",
    "remediation.ps1",
    "events.parquet",
    "manifest.json",
];

fn io(out: &OutputDir, name: &str) -> impl FnOnce(std::io::Error) -> OutputError {
    let path = out.target().join(name);
    move |source| OutputError::Io { path, source }
}

/// Writes every event to `events.parquet`. Needs only the ingest, so `analyze` runs it beside
/// detection (see [`crate::analysis::run_with`]); call it before [`write_all`], which writes
/// the manifest over every output.
pub fn write_parquet(ingest: &Ingest, out: &OutputDir) -> Result<(), OutputError> {
    let files: Vec<String> = ingest.files.iter().map(|f| f.path.clone()).collect();
    let mut w = out.create("events.parquet")?;
    crate::frame::write_events_parquet(&mut w, &ingest.events, &ingest.interner, &files).map_err(
        |e| OutputError::Io {
            path: out.target().join("events.parquet"),
            source: std::io::Error::other(e.to_string()),
        },
    )?;
    out.finish("events.parquet", w)
}

/// Writes all outputs but the Parquet export ([`write_parquet`]), which must exist already;
/// returns their names. Each output's time goes into `timings`.
///
/// The reports, the findings with the remediation plan, and the timeline read the analysis
/// and write files of their own, so they are written at once on rayon's pool (on a 4 GB
/// export one after the other they took 0.8–3 s of wall time with one core idle). None of
/// them uses polars. The manifest, which hashes every output, comes last.
pub fn write_all(
    analysis: &Analysis,
    out: &OutputDir,
    options: &ReportOptions,
    timings: &mut Timings,
) -> Result<Vec<&'static str>, OutputError> {
    let t = Instant::now();
    // The timeline, the longest, on one worker; the other two after each other on the other.
    let (timeline, (report, findings)) = rayon::join(
        || timed(|| write_timeline(analysis, out, options)),
        || {
            rayon::join(
                || timed(|| write_reports(analysis, out, options)),
                || timed(|| write_findings(analysis, out)),
            )
        },
    );
    timings.record("write:outputs", t);
    const BESIDE: &str = "the other writers";
    timings.concurrent("write:report", report.1, BESIDE);
    timings.concurrent("write:findings", findings.1, BESIDE);
    timings.concurrent("write:timeline", timeline.1, BESIDE);
    report.0?;
    findings.0?;
    timeline.0?;

    let t = Instant::now();
    out.write(
        "manifest.json",
        &manifest::render(analysis, &options.manifest, OUTPUTS),
    )?;
    timings.record("write:manifest", t);
    Ok(OUTPUTS.to_vec())
}

/// Runs `f` and says how long it took (for work timed beside other work).
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    (f(), t.elapsed())
}

/// `report.html` and `report.md`, from one model.
fn write_reports(
    analysis: &Analysis,
    out: &OutputDir,
    options: &ReportOptions,
) -> Result<(), OutputError> {
    let model = super::model::Model::build(analysis, &options.clock);
    out.write("report.html", super::html::render(&model).as_bytes())?;
    out.write("report.md", super::markdown::render(&model).as_bytes())
}

/// `findings.json` and `remediation.ps1`, from one remediation plan.
fn write_findings(analysis: &Analysis, out: &OutputDir) -> Result<(), OutputError> {
    let plan = remediation::plan(analysis);
    let mut w = out.create("findings.json")?;
    findings_json::write(&mut w, analysis, &plan).map_err(io(out, "findings.json"))?;
    out.finish("findings.json", w)?;
    out.write("remediation.ps1", remediation::powershell(&plan).as_bytes())
}

/// `timeline.csv` and `timeline.jsonl`.
fn write_timeline(
    analysis: &Analysis,
    out: &OutputDir,
    options: &ReportOptions,
) -> Result<(), OutputError> {
    let ctx = analysis.ctx();
    let mut csv = out.create("timeline.csv")?;
    let mut jsonl = out.create("timeline.jsonl")?;
    timeline::write(&mut csv, &mut jsonl, analysis, &ctx, options.timeline)
        .map_err(|e| io(out, e.file)(e.source))?;
    out.finish("timeline.csv", csv)?;
    out.finish("timeline.jsonl", jsonl)
}

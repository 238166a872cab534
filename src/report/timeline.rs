//! `timeline.csv` and `timeline.jsonl`: every event of interest in time order, one line each,
//! in the super-timeline convention Timesketch imports as is (`datetime`, `timestamp_desc`,
//! `message` first). Columns are documented in docs/timeline.md and are stable.
//!
//! CSV cells pass through [`escape::csv_cell`] (no formulas, no raw line breaks); JSONL lines
//! are flat objects of strings, numbers and booleans.

use super::describe::describe;
use super::escape;
use crate::analysis::Analysis;
use crate::analyze::{Ctx, Finding, Severity};
use crate::correlate::Verdict;
use crate::event::{flags, Event, SourceKind, Sym};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

/// Which events go into the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every event.
    All,
    /// Only events that are evidence of a finding or part of an attacker footprint.
    Findings,
    /// Every event of accounts with a non-clean verdict (the default).
    #[default]
    Accounts,
}

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "datetime",
    "timestamp_desc",
    "message",
    "account",
    "source",
    "operation",
    "ip",
    "user_agent",
    "session",
    "finding_ids",
    "severity",
    "attacker",
    "file",
    "line",
];

/// One timeline row.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    /// RFC 3339 UTC.
    pub datetime: String,
    /// Which timestamp this is.
    pub timestamp_desc: &'static str,
    /// One readable sentence.
    pub message: String,
    /// The account concerned.
    pub account: &'a str,
    /// Export family.
    pub source: &'static str,
    /// Operation as written.
    pub operation: &'a str,
    /// Client IP.
    pub ip: &'a str,
    /// User agent / client.
    pub user_agent: &'a str,
    /// Session (or token) id.
    pub session: &'a str,
    /// Findings citing the event, `;`-joined.
    pub finding_ids: String,
    /// Highest severity of those findings, or empty.
    pub severity: &'static str,
    /// The event belongs to an attacker footprint.
    pub attacker: bool,
    /// Input file.
    pub file: &'a str,
    /// Line in the input file.
    pub line: u64,
}

/// Which timestamp an event's time is.
pub fn timestamp_desc(e: &Event) -> &'static str {
    let wrapper = e.has_flag(flags::TIME_FROM_WRAPPER);
    match (e.source, wrapper) {
        (SourceKind::Ual, false) => "UAL CreationTime",
        (SourceKind::Ual, true) => "UAL CreationDate (export column)",
        (SourceKind::MailboxAudit, _) => "Mailbox audit LastAccessed",
        (SourceKind::MessageTrace, _) => "Message trace Received",
        (SourceKind::Signin, _) => "Entra sign-in createdDateTime",
    }
}

/// Calls `each` with the rows in time order, one at a time: a timeline of every event of a
/// large export is never held whole (holding it for the two files was tens of MB at the
/// run's peak).
pub fn for_each_row<'a, E>(
    analysis: &'a Analysis,
    ctx: &Ctx<'a>,
    scope: Scope,
    mut each: impl FnMut(Row<'a>) -> Result<(), E>,
) -> Result<(), E> {
    let mut cited: HashMap<u32, Vec<&Finding>> = HashMap::new();
    for f in &analysis.findings {
        for &i in &f.events {
            cited.entry(i).or_default().push(f);
        }
    }
    let attacker: HashSet<u32> = analysis
        .accounts
        .iter()
        .flat_map(|a| a.attacker_events.iter().copied())
        .collect();
    let flagged: HashSet<Sym> = analysis
        .accounts
        .iter()
        .filter(|a| a.verdict != Verdict::Clean)
        .filter_map(|a| ctx.interner.get(&a.account))
        .collect();
    let files: Vec<&str> = analysis
        .ingest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    for (i, e) in ctx.events.iter().enumerate() {
        let i = i as u32;
        let keep = match scope {
            Scope::All => true,
            Scope::Findings => cited.contains_key(&i) || attacker.contains(&i),
            Scope::Accounts => {
                cited.contains_key(&i)
                    || attacker.contains(&i)
                    || flagged.contains(&e.actor_key)
                    || flagged.contains(&e.mailbox)
            }
        };
        if !keep {
            continue;
        }
        let fs = cited.get(&i).map_or(&[][..], Vec::as_slice);
        let mut ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let severity = fs
            .iter()
            .map(|f| f.severity)
            .max()
            .map_or("", Severity::as_str);
        let session = if e.session_id.is_empty() {
            e.token_id
        } else {
            e.session_id
        };
        each(Row {
            datetime: e.time.to_rfc3339(),
            timestamp_desc: timestamp_desc(e),
            message: describe(ctx, e),
            account: ctx.account(e),
            source: e.source.as_str(),
            operation: ctx.s(e.operation_raw),
            ip: ctx.s(e.ip),
            user_agent: ctx.s(e.user_agent),
            session: ctx.s(session),
            finding_ids: ids.join(";"),
            severity,
            attacker: attacker.contains(&i),
            file: files.get(e.file as usize).copied().unwrap_or(""),
            line: u64::from(e.line),
        })?;
    }
    Ok(())
}

/// Which of the two files a write failed on.
#[derive(Debug)]
pub struct WriteError {
    /// `timeline.csv` or `timeline.jsonl`.
    pub file: &'static str,
    /// What failed.
    pub source: io::Error,
}

/// Writes `timeline.csv` and `timeline.jsonl` in one pass over the events.
pub fn write<C: Write, J: Write>(
    csv_out: C,
    mut jsonl: J,
    analysis: &Analysis,
    ctx: &Ctx<'_>,
    scope: Scope,
) -> Result<(), WriteError> {
    let on = |file| move |source| WriteError { file, source };
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(csv_out);
    csv.write_record(COLUMNS)
        .map_err(io::Error::from)
        .map_err(on("timeline.csv"))?;
    for_each_row(analysis, ctx, scope, |r| {
        write_csv_row(&mut csv, &r).map_err(on("timeline.csv"))?;
        serde_json::to_writer(&mut jsonl, &r)
            .map_err(io::Error::from)
            .and_then(|()| jsonl.write_all(b"\n"))
            .map_err(on("timeline.jsonl"))
    })?;
    csv.flush().map_err(on("timeline.csv"))?;
    jsonl.flush().map_err(on("timeline.jsonl"))
}

/// One row of the CSV form.
fn write_csv_row<W: Write>(csv: &mut csv::Writer<W>, r: &Row<'_>) -> io::Result<()> {
    let line = r.line.to_string();
    let cells: [&str; 14] = [
        &r.datetime,
        r.timestamp_desc,
        &r.message,
        r.account,
        r.source,
        r.operation,
        r.ip,
        r.user_agent,
        r.session,
        &r.finding_ids,
        r.severity,
        if r.attacker { "true" } else { "false" },
        r.file,
        &line,
    ];
    csv.write_record(cells.iter().map(|c| escape::csv_cell(c).into_owned()))?;
    Ok(())
}

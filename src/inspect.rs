//! `mailsleuth inspect`: what each input is and how well it was read, before any analysis.
//!
//! The JSON form is a contract (see `docs/inspect-schema.md`): `files[]` in path order with
//! kind, format, encoding, counts, time range, grouped skip reasons and completeness warnings,
//! then `totals`.

use crate::ingest::{FileReport, Ingest};
use serde::Serialize;

/// Schema name of the JSON document.
pub const SCHEMA: &str = "mailsleuth.inspect/1";

/// The whole inspect result.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    /// Schema name and version.
    pub schema: &'static str,
    /// One entry per input file, in path order.
    pub files: Vec<FileReport>,
    /// Paths that yielded no file (missing, unreadable folders, link loops).
    pub problems: Vec<Problem>,
    /// Warnings about all inputs together.
    pub warnings: Vec<String>,
    /// Sums over all files.
    pub totals: Totals,
}

/// A path that could not be read.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// The path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Sums over all files.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Totals {
    /// Input files found.
    pub files: u64,
    /// Files recognised as exports.
    pub exports: u64,
    /// Records kept.
    pub records: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Files that could not be read.
    pub unreadable: u64,
}

impl InspectReport {
    /// Builds the report from an ingest.
    pub fn from_ingest(ingest: &Ingest) -> Self {
        InspectReport {
            schema: SCHEMA,
            files: ingest.files.clone(),
            problems: ingest
                .problems
                .iter()
                .map(|p| Problem {
                    path: p.path.display().to_string(),
                    reason: p.reason.clone(),
                })
                .collect(),
            warnings: ingest.warnings.clone(),
            totals: Totals {
                files: ingest.files.len() as u64,
                exports: ingest
                    .files
                    .iter()
                    .filter(|f| f.kind != crate::ingest::detect::Kind::Unknown)
                    .count() as u64,
                records: ingest.total_records(),
                skipped: ingest.total_skipped(),
                duplicates: ingest.total_duplicates(),
                unreadable: ingest.files.iter().filter(|f| f.unreadable).count() as u64
                    + ingest.problems.len() as u64,
            },
        }
    }

    /// The outcome class used for the exit status.
    pub fn outcome(&self) -> Outcome {
        if self.totals.records == 0 {
            Outcome::NothingReadable
        } else if self.totals.skipped > 0 || self.totals.unreadable > 0 {
            Outcome::Partial
        } else {
            Outcome::Complete
        }
    }
}

/// How completely the inputs were read; maps to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every record of every export was read.
    Complete,
    /// Some records or files were skipped (each is reported).
    Partial,
    /// No record could be read from any input.
    NothingReadable,
}

//! `manifest.json`: chain of custody — tool version, options, and per input file its path,
//! size, SHA-256, detected kind, counts, time range and warnings; and the outputs written.
//! Deterministic (no run time), so two runs over the same evidence can be compared.

use crate::analysis::Analysis;
use serde::Serialize;

/// Schema name.
pub const SCHEMA: &str = "mailsleuth.manifest/1";

/// The options that shaped the result (as given on the command line).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Options {
    /// Input paths.
    pub inputs: Vec<String>,
    /// `--org-domain` values.
    pub org_domains: Vec<String>,
    /// `--geoip` databases.
    pub geoip: Vec<String>,
    /// `--timeline` scope.
    pub timeline: String,
    /// `--timezone` for human outputs.
    pub timezone: String,
    /// `--max-record-mib`.
    pub max_record_mib: usize,
}

#[derive(Serialize)]
struct Input<'a> {
    path: &'a str,
    size: u64,
    sha256: Option<&'a str>,
    kind: &'static str,
    format: &'static str,
    encoding: &'static str,
    gzip: bool,
    records: u64,
    skipped: u64,
    duplicates: u64,
    first: Option<crate::event::Timestamp>,
    last: Option<crate::event::Timestamp>,
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    tool: serde_json::Value,
    options: &'a Options,
    inputs: Vec<Input<'a>>,
    tenant_domains: Vec<&'a str>,
    outputs: &'a [&'a str],
}

/// Renders manifest.json.
pub fn render(analysis: &Analysis, options: &Options, outputs: &[&str]) -> Vec<u8> {
    let inputs = analysis
        .ingest
        .files
        .iter()
        .map(|f| Input {
            path: &f.path,
            size: f.size,
            sha256: f.sha256.as_deref(),
            kind: f.kind.as_str(),
            format: f.format,
            encoding: f.encoding,
            gzip: f.gzip,
            records: f.records,
            skipped: f.skipped,
            duplicates: f.duplicates,
            first: f.first,
            last: f.last,
            warnings: &f.warnings,
            reason: f.reason.as_deref(),
        })
        .collect();
    let doc = Doc {
        schema: SCHEMA,
        tool: serde_json::json!({"name": "mailsleuth", "version": env!("CARGO_PKG_VERSION")}),
        options,
        inputs,
        tenant_domains: analysis.tenant.domains().collect(),
        outputs,
    };
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

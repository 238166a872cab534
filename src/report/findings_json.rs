//! `findings.json`: the contract downstream tools read (schema `mailsleuth.findings/1`,
//! documented in docs/findings-schema.md). Byte-identical for the same inputs: no run time, no
//! machine name, every list sorted.

use super::remediation;
use crate::analysis::Analysis;
use crate::analyze::Finding;
use crate::correlate::AccountVerdict;
use serde::Serialize;

/// Schema name.
pub const SCHEMA: &str = "mailsleuth.findings/1";

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    tool: Tool,
    tenant_domains: Vec<&'a str>,
    accounts: &'a [AccountVerdict],
    findings: &'a [Finding],
    remediation: &'a [remediation::Step],
    notes: &'a [String],
}

/// Writes findings.json with the remediation plan, streamed: on a large tenant the document
/// is tens of MB, and rendering it into one buffer first raised the run's peak memory.
pub fn write<W: std::io::Write>(
    mut w: W,
    analysis: &Analysis,
    plan: &[remediation::Step],
) -> std::io::Result<()> {
    let doc = Doc {
        schema: SCHEMA,
        tool: Tool {
            name: "mailsleuth",
            version: env!("CARGO_PKG_VERSION"),
        },
        tenant_domains: analysis.tenant.domains().collect(),
        accounts: &analysis.accounts,
        findings: &analysis.findings,
        remediation: plan,
        notes: &analysis.notes,
    };
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n")?;
    w.flush()
}

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

/// Renders findings.json with the remediation plan.
pub fn render(analysis: &Analysis, plan: &[remediation::Step]) -> Vec<u8> {
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
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

//! PLACEHOLDER — being written by a helper. The signatures are the contract.

use crate::analysis::Analysis;
use serde::Serialize;

/// One step of the remediation plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// 1-based order.
    pub step: u32,
    /// The account it is for (or `tenant` for tenant-wide hardening).
    pub account: String,
    /// Stable action id (e.g. `reset-password`, `remove-inbox-rule`).
    pub action: &'static str,
    /// The exact command to run.
    pub command: String,
    /// Why, in one sentence.
    pub reason: String,
    /// Findings behind it (empty only for the baseline steps every compromised account gets).
    pub finding_ids: Vec<String>,
}

/// The ordered plan.
pub fn plan(_analysis: &Analysis) -> Vec<Step> {
    Vec::new()
}

/// `remediation.ps1`: every command commented with its reason; nothing destructive runs unless
/// uncommented.
pub fn powershell(_plan: &[Step]) -> String {
    String::new()
}

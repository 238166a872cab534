//! A tenant with only benign activity gives no high or critical finding and no compromised
//! account: the bundled case with every attacker record removed (its ordinary activity keeps
//! the look-alikes — an everyday newsletter rule, SYSTEM provisioning, an admin's FullAccess
//! grant on a shared mailbox, a new starter registering MFA, password typos, MFA and KMSI
//! interrupts).

use mailsleuth::analysis::{self, AnalyzeOptions};
use mailsleuth::analyze::Severity;
use mailsleuth::correlate::Verdict;
use mailsleuth::ingest::{source::NoCount, IngestOptions};
use std::path::Path;

/// Anything that belongs to the attack in samples/README.md.
const ATTACK_MARKERS: &[&str] = &[
    "89.160.20.115",
    "175.16.199.",
    "7f3c9a1e-2b4d-4e8f-9c61-5a0d8e2f4b17",
    "1xAWN58GjaxTWL0iojAyAA",
    "mailbox-relay.example",
    "sharepoint-filedrop.example",
    "Q1 remittance advice",
    "updated bank details",
];

/// Copies a line-oriented export without the lines that carry an attack marker.
fn copy_benign(from: &Path, to: &Path) {
    let text = std::fs::read_to_string(from).unwrap();
    let kept: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|line| !ATTACK_MARKERS.iter().any(|m| line.contains(m)))
        .collect();
    assert!(
        kept.len() > 100,
        "{} looks empty after filtering",
        from.display()
    );
    std::fs::write(to, kept.concat()).unwrap();
}

#[test]
fn benign_activity_alone_is_never_high_or_compromised() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("purview/AuditLog_2026-03-16_all-users.csv", "ual.csv"),
        (
            "entra/InteractiveSignIns_2026-03-02_2026-03-15.csv",
            "signins.csv",
        ),
        (
            "message-trace/MessageTrace_2026-03-02_2026-03-11.csv",
            "trace.csv",
        ),
    ] {
        copy_benign(&samples.join(from), &dir.path().join(to));
    }
    let a = analysis::run(
        &[dir.path().to_path_buf()],
        &IngestOptions::default(),
        &AnalyzeOptions::default(),
        &NoCount,
    )
    .unwrap();
    assert!(a.ingest.events.len() > 2000);
    assert_eq!(a.ingest.total_skipped(), 0);
    for f in &a.findings {
        assert!(
            f.severity < Severity::High,
            "benign activity rated {}: {} {} — {}",
            f.severity.as_str(),
            f.rule,
            f.account,
            f.summary
        );
    }
    for v in &a.accounts {
        assert_ne!(
            v.verdict,
            Verdict::Compromised,
            "{}: {:?}",
            v.account,
            v.reasons
        );
    }
}

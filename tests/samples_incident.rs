//! The bundled incident is found exactly as samples/README.md tells it.

use mailsleuth::analysis::{self, Analysis, AnalyzeOptions};
use mailsleuth::analyze::Severity;
use mailsleuth::correlate::Verdict;
use mailsleuth::ingest::{source::NoCount, IngestOptions};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

const VICTIM: &str = "amelia.hart@tailspinfreight.example";

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
}

fn analysis() -> &'static Analysis {
    static A: OnceLock<Analysis> = OnceLock::new();
    A.get_or_init(|| {
        analysis::run(
            &[samples()],
            &IngestOptions::default(),
            &AnalyzeOptions::default(),
            &NoCount,
        )
        .expect("analysis runs")
    })
}

#[test]
fn only_the_victim_is_compromised_and_everyone_else_is_clean() {
    let a = analysis();
    assert!(a.accounts.len() >= 28, "{} accounts", a.accounts.len());
    for v in &a.accounts {
        if v.account == VICTIM {
            assert_eq!(v.verdict, Verdict::Compromised, "{:?}", v.reasons);
        } else {
            assert_eq!(v.verdict, Verdict::Clean, "{}: {:?}", v.account, v.reasons);
        }
    }
    for f in &a.findings {
        if f.account != VICTIM {
            assert!(
                f.severity < Severity::Medium,
                "benign activity flagged: {} {} {}",
                f.rule,
                f.account,
                f.summary
            );
        }
    }
}

#[test]
fn attacker_ips_sessions_and_window_match_the_ground_truth() {
    let v = analysis()
        .accounts
        .iter()
        .find(|v| v.account == VICTIM)
        .unwrap();
    assert_eq!(v.attacker_ips, ["175.16.199.10", "89.160.20.115"]);
    assert!(v
        .attacker_sessions
        .contains(&"7f3c9a1e-2b4d-4e8f-9c61-5a0d8e2f4b17".to_string()));
    assert!(v
        .attacker_tokens
        .contains(&"1xAWN58GjaxTWL0iojAyAA".to_string()));
    let w = v.window.expect("a window");
    assert_eq!(w.start.to_rfc3339(), "2026-03-09T09:02:41Z");
    assert_eq!(w.end.to_rfc3339(), "2026-03-11T08:30:17Z");
    let b = v.baseline.as_ref().expect("baseline");
    assert!(b.new_ips.contains(&"89.160.20.115".to_string()));
}

#[test]
fn every_attacker_action_is_in_a_finding() {
    let a = analysis();
    let evidence: BTreeSet<&str> = a
        .findings
        .iter()
        .filter(|f| f.account == VICTIM)
        .flat_map(|f| f.evidence.iter().map(|e| e.record_id.as_str()))
        .collect();
    let actions = [
        // A sign-in may be cited by its UAL record or by its Entra copy (request id).
        (
            "038f5046-d3fb-4474-8125-c0221d7b071d|54911c7f-68de-4dd4-bf15-c0ffde7f8800",
            "first failed sign-in",
        ),
        (
            "923b332f-627b-4938-b13b-99490e8a4ab2|a68f07e9-9e93-4cc9-b263-36e3bd0edb00",
            "successful attacker sign-in",
        ),
        ("99027e65-584d-48a5-9ddf-71e64ab4cf89", "New-InboxRule .."),
        (
            "5507979a-122e-4074-9d07-549a41b1cdd2",
            "MailItemsAccessed Sync",
        ),
        ("21f26055-bc65-4f31-b2dd-75164472b44b", "search 'invoice'"),
        (
            "2950b18e-ac91-45c3-b71f-40ac7ce88515",
            "Set-Mailbox forwarding",
        ),
        ("7864dc2c-d8af-4301-b650-4a886bb1ecd2", "MFA method added"),
        (
            "6f193d77-cca4-42df-9d25-806afa605918",
            "consent to PDF Reader Online",
        ),
        (
            "bda06e20-4542-41db-974d-4387f8e92f41",
            "Send to the supplier",
        ),
        (
            "75cc3b77-c927-4ce5-870a-2dbde9af1f31",
            "HardDelete of sent items",
        ),
        (
            "fe0a0ba9-0e89-49d5-b80d-9732c976f80e",
            "Set-InboxRule from the replay IP",
        ),
        (
            "9bdc0528-cfc1-475d-b748-2d50b528f1a8",
            "Remove-InboxRule clean-up",
        ),
    ];
    let missing: Vec<&str> = actions
        .iter()
        .filter(|(ids, _)| !ids.split('|').any(|id| evidence.contains(id)))
        .map(|(_, what)| *what)
        .collect();
    assert!(missing.is_empty(), "not found: {missing:?}");
    let rules: BTreeSet<&str> = a
        .findings
        .iter()
        .filter(|f| f.account == VICTIM)
        .map(|f| f.rule)
        .collect();
    for rule in [
        "mailbox-smtp-forwarding",
        "token-replay-without-signin",
        "user-consent-mail-scopes",
        "send-then-harddelete",
    ] {
        assert!(rules.contains(rule), "{rule} missing from {rules:?}");
    }
}

#[test]
fn blast_radius_lists_the_recipients_of_the_attackers_mail() {
    let v = analysis()
        .accounts
        .iter()
        .find(|v| v.account == VICTIM)
        .unwrap();
    let br = v.blast_radius.as_ref().expect("blast radius");
    for r in [
        "sophie.turner",
        "james.okafor",
        "priya.shah",
        "tom.whitfield",
        "hannah.lewis",
        "marcus.bell",
    ] {
        let addr = format!("{r}@tailspinfreight.example");
        assert!(br.internal_recipients.contains(&addr), "{addr}");
    }
    assert!(br
        .external_recipients
        .contains(&"payables@harbor-logistics.example".to_string()));
}

#[test]
fn findings_json_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
            .args(["analyze", "--quiet", "--threads", "2"])
            .arg(samples())
            .arg("--out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success() || status.code() == Some(1));
        std::fs::read(out.join("findings.json")).unwrap()
    };
    let a = run("a");
    let b = run("b");
    assert!(a == b, "findings.json differs between two runs");
    let doc: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(doc["schema"], "mailsleuth.findings/1");
    for f in doc["findings"].as_array().unwrap() {
        assert!(
            !f["evidence"].as_array().unwrap().is_empty(),
            "finding without evidence: {}",
            f["id"]
        );
    }
}

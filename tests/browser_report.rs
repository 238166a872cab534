//! report.html in a real headless browser: it renders, and attacker-controlled text (a rule
//! named `<img src=x onerror=alert(1)>`) shows as text, never as markup.
//!
//! Needs Chromium (`apt-get install chromium`; `.ci/run` installs it). Without it the test
//! says so and passes: the escaping itself is also covered by unit and property tests.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|name| PathBuf::from("/usr/bin").join(name))
        .find(|p| p.exists())
}

fn dump_dom(browser: &Path, html: &Path, profile: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// A small export whose attacker chose hostile names everywhere.
fn hostile_export(dir: &Path) {
    let rule = HOSTILE.replace('"', "\\\"");
    let mk = |id: &str, time: &str, op: &str, extra: &str| {
        format!(
            "{{\"CreationTime\":\"{time}\",\"Id\":\"{id}\",\"Operation\":\"{op}\",\"RecordType\":1,\"Workload\":\"Exchange\",\"ResultStatus\":\"True\",\"UserId\":\"victim@corp.example\",\"ClientIP\":\"89.160.20.115:1234\",\"UserAgent\":\"{rule}\",\"SessionId\":\"s-1\",{extra}}}\n"
        )
    };
    let mut text = String::new();
    for (i, d) in ["2026-03-02", "2026-03-03", "2026-03-04"]
        .iter()
        .enumerate()
    {
        text.push_str(&format!(
            "{{\"CreationTime\":\"{d}T08:00:00\",\"Id\":\"ok-{i}\",\"Operation\":\"MailboxLogin\",\"RecordType\":2,\"Workload\":\"Exchange\",\"ResultStatus\":\"Succeeded\",\"UserId\":\"victim@corp.example\",\"MailboxOwnerUPN\":\"victim@corp.example\",\"ClientIPAddress\":\"81.2.69.150\"}}\n"
        ));
    }
    text.push_str(&mk(
        "r1",
        "2026-03-09T09:14:07",
        "New-InboxRule",
        &format!("\"Parameters\":[{{\"Name\":\"Name\",\"Value\":\"{rule}\"}},{{\"Name\":\"MoveToFolder\",\"Value\":\"RSS Subscriptions\"}},{{\"Name\":\"MarkAsRead\",\"Value\":\"True\"}},{{\"Name\":\"DeleteMessage\",\"Value\":\"True\"}},{{\"Name\":\"ForwardTo\",\"Value\":\"x@evil.example\"}},{{\"Name\":\"SubjectContainsWords\",\"Value\":\"invoice;{rule}\"}}]"),
    ));
    text.push_str(&mk(
        "r2",
        "2026-03-09T09:47:26",
        "Set-Mailbox",
        "\"Parameters\":[{\"Name\":\"Identity\",\"Value\":\"victim@corp.example\"},{\"Name\":\"ForwardingSmtpAddress\",\"Value\":\"smtp:drop@evil.example\"},{\"Name\":\"DeliverToMailboxAndForward\",\"Value\":\"False\"}]",
    ));
    std::fs::write(dir.join("ual.json"), text).unwrap();
}

#[test]
fn report_renders_and_hostile_names_stay_text() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium at /usr/bin (apt-get install chromium)");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("case");
    std::fs::create_dir_all(&input).unwrap();
    hostile_export(&input);
    let out = work.path().join("out");
    let status = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(["analyze", "--quiet"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c <= 1), "{status:?}");
    let html = out.join("report.html");
    if !html.exists() {
        eprintln!("skipped: report.html is not written yet");
        return;
    }
    let dom = dump_dom(&browser, &html, &work.path().join("profile"));
    assert!(dom.contains("victim@corp.example"), "the report rendered");
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the hostile rule name is shown as text"
    );
    assert!(
        !dom.contains("<img src=\"x\""),
        "no <img> element from attacker text"
    );
    assert!(
        !dom.to_ascii_lowercase().contains("onerror=\"alert"),
        "no handler attribute"
    );
    assert!(!dom.contains("<script"), "no script at all");
}

#[test]
fn sample_report_renders_in_a_browser() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium at /usr/bin (apt-get install chromium)");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    let status = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(["analyze", "--quiet"])
        .arg(&samples)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c <= 1));
    let html = out.join("report.html");
    if !html.exists() {
        eprintln!("skipped: report.html is not written yet");
        return;
    }
    let dom = dump_dom(&browser, &html, &work.path().join("profile"));
    for needle in [
        "amelia.hart@tailspinfreight.example",
        "89.160.20.115",
        "175.16.199.10",
        "ap.settlements@mailbox-relay.example",
        "<svg",
    ] {
        assert!(
            dom.contains(needle),
            "{needle} missing from the rendered report"
        );
    }
}

//! File-system behaviour: link loops, many small files, unreadable inputs, outputs that cannot
//! be written — each gives a clear message and a documented exit code (docs/exit-codes.md), and
//! nothing is written outside --out or into the inputs.

use std::fs;
use std::path::Path;
use std::process::Command;

fn mailsleuth(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailsleuth"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn record(i: usize) -> String {
    format!("{{\"CreationTime\":\"2026-03-09T09:{:02}:{:02}\",\"Id\":\"id-{i}\",\"Operation\":\"MailboxLogin\",\"RecordType\":2,\"Workload\":\"Exchange\",\"UserId\":\"u{}@corp.example\",\"ClientIPAddress\":\"81.2.69.150\"}}\n", (i / 60) % 60, i % 60, i % 7)
}

/// Every file under `dir` with its bytes, to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn symlink_loops_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    fs::create_dir_all(case.join("sub")).unwrap();
    fs::write(case.join("sub/ual.json"), record(1)).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&case, case.join("sub/loop")).unwrap();
    let (code, stdout, _) = mailsleuth(&["inspect", "-q", "case"], dir.path());
    assert!(stdout.contains("ual-json"), "{stdout}");
    #[cfg(unix)]
    {
        assert!(stdout.contains("symbolic link loop"), "{stdout}");
        assert_eq!(code, 1, "success with skipped input");
    }
}

#[test]
fn ten_thousand_small_files_are_all_read() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    for i in 0..10_000 {
        let sub = case.join(format!("d{:02}", i % 50));
        if i < 50 {
            fs::create_dir_all(&sub).unwrap();
        }
        fs::write(sub.join(format!("f{i:05}.json")), record(i)).unwrap();
    }
    let (code, stdout, _) = mailsleuth(&["inspect", "-q", "--json", "case"], dir.path());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["totals"]["files"], 10_000);
    assert_eq!(v["totals"]["records"], 10_000);
}

#[test]
fn unwritable_output_is_a_clear_error_with_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    fs::create_dir_all(&case).unwrap();
    fs::write(case.join("ual.json"), record(1)).unwrap();
    // A regular file where the output folder's parent should be: no permission trick needed
    // (the tests may run as root).
    fs::write(dir.path().join("blocker"), "x").unwrap();
    let (code, _, stderr) = mailsleuth(
        &["analyze", "-q", "case", "--out", "blocker/out"],
        dir.path(),
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
}

#[test]
fn inputs_are_never_written_and_outputs_stay_inside_out() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    fs::create_dir_all(&case).unwrap();
    let text: String = (0..50).map(record).collect();
    fs::write(case.join("ual.json"), text).unwrap();
    let before = snapshot(&case);
    let (code, _, stderr) = mailsleuth(&["analyze", "-q", "case", "--out", "out"], dir.path());
    assert!(code <= 1, "{stderr}");
    assert_eq!(snapshot(&case), before, "the input folder is untouched");
    let mut top: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["case", "out"], "nothing written beside --out");
    assert!(
        fs::read_dir(dir.path().join("out")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')),
        "no staging folder left inside --out"
    );

    // --out inside the input folder is refused (usage error), and nothing is created there.
    let (code, _, stderr) = mailsleuth(&["analyze", "-q", "case", "--out", "case/out"], dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(!case.join("out").exists());

    // --force never replaces a folder that is not a previous run.
    let mine = dir.path().join("mine");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("thesis.docx"), "precious").unwrap();
    let (code, _, stderr) = mailsleuth(
        &["analyze", "-q", "case", "--out", "mine", "--force"],
        dir.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(fs::read(mine.join("thesis.docx")).unwrap(), b"precious");
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_reported_when_permissions_apply() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    fs::create_dir_all(&case).unwrap();
    fs::write(case.join("a.json"), record(1)).unwrap();
    let locked = case.join("b.json");
    fs::write(&locked, record(2)).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::File::open(&locked).is_ok() {
        eprintln!("skipped: running as root, permissions do not stop reads");
        return;
    }
    let (code, stdout, _) = mailsleuth(&["inspect", "-q", "case"], dir.path());
    assert_eq!(code, 1);
    assert!(stdout.contains("permission denied"), "{stdout}");
}

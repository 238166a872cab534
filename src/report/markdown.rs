//! `report.md`: the same story as the HTML report in Markdown, for tickets and reviews —
//! verdicts, each affected account's narrative and key objects, the findings with evidence,
//! the remediation plan and the inputs.
//!
//! Attacker text must stay text in whatever renders the ticket: [`text`] strips control
//! characters and escapes everything Markdown or inline HTML would act on (`|` would split a
//! table cell, a backtick open a code span, `<` start a tag, a leading `#`, `-` or `1.` start a
//! heading or list). Commands go into fenced blocks whose fence is longer than any backtick run
//! inside them.

use super::model::{AccountView, Model, StepView};
use crate::correlate::Verdict;
use std::borrow::Cow;
use std::fmt::Write;

/// Rows shown per list before "… N more".
const SHOW: usize = 50;
/// Evidence records shown per finding.
const EVIDENCE: usize = 3;

fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Attacker- or file-controlled text, safe in a Markdown paragraph, list item or table cell:
/// control and bidi characters removed (line breaks become spaces), Markdown punctuation
/// backslash-escaped, `<`, `>` and `&` as HTML entities, and a leading list or heading marker
/// neutralised.
pub fn text(s: &str) -> Cow<'_, str> {
    let clean = |c: char| {
        !is_invisible(c)
            && !matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '<' | '>' | '&' | '#' | '~'
            )
    };
    let starts_risky = s.starts_with(['-', '+', '=', ' ', '\t'])
        || s.trim_start_matches(|c: char| c.is_ascii_digit()).len() < s.len()
            && s.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(['.', ')']);
    if !starts_risky && s.chars().all(clean) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_invisible(c) => {}
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    // Leading whitespace would make an indented code block or hide a marker.
    let trimmed = out.trim_start().len();
    let out = out.split_off(out.len() - trimmed);
    if out.starts_with(['-', '+', '=']) {
        return Cow::Owned(format!("\\{out}"));
    }
    let digits = out.len() - out.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && out[digits..].starts_with(['.', ')']) {
        return Cow::Owned(format!("{}\\{}", &out[..digits], &out[digits..]));
    }
    Cow::Owned(out)
}

/// Short machine-like values (IPs, ids, addresses) as a code span when they hold only harmless
/// characters; anything else falls back to [`text`].
pub fn code(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:@/=;+-_()%,".contains(c))
        && !s.starts_with(['-', '+', '=']);
    if plain {
        format!("`{s}`")
    } else {
        text(s).into_owned()
    }
}

fn codes(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
    }
}

/// A fenced code block whose fence cannot be closed by the content.
fn fenced(out: &mut String, lang: &str, body: &str, indent: &str) {
    let body: String = body
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !is_invisible(c))
        .collect();
    let mut run = 0;
    let mut longest = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{indent}{fence}{lang}");
    for line in body.lines() {
        let _ = writeln!(out, "{indent}{line}");
    }
    let _ = writeln!(out, "{indent}{fence}");
}

fn more(out: &mut String, shown: usize, total: usize) {
    if total > shown {
        let _ = writeln!(out, "\n… and {} more not shown.", total - shown);
    }
}

/// Renders the report.
pub fn render(model: &Model) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let c = &model.counts;
    let _ = writeln!(o, "# Mailbox compromise report\n");
    let _ = write!(
        o,
        "{} {} · times in **{}**",
        model.tool,
        model.version,
        text(&model.zone)
    );
    if !model.tenant_domains.is_empty() {
        let _ = write!(o, " · tenant {}", codes(&model.tenant_domains));
    }
    o.push_str("\n\n");
    if let Some((a, b)) = &model.data_range {
        let _ = write!(o, "Data from {} to {} · ", text(a), text(b));
    }
    let _ = writeln!(
        o,
        "{} file(s), {} record(s), {} skipped, {} duplicate(s) dropped · {} account(s): {} \
         compromised, {} suspicious, {} clean · {} finding(s)\n",
        c.files,
        c.records,
        c.skipped,
        c.duplicates,
        c.accounts,
        c.compromised,
        c.suspicious,
        c.clean,
        c.findings
    );

    verdicts(&mut o, model);
    for a in &model.accounts {
        account(&mut o, a, &model.zone);
    }
    findings(&mut o, model);
    remediation(&mut o, model);
    inputs(&mut o, model);
    o
}

fn verdicts(o: &mut String, m: &Model) {
    o.push_str("## Verdicts\n\n");
    if m.accounts.is_empty() {
        o.push_str("No account is compromised or suspicious.\n\n");
    } else {
        let _ = writeln!(
            o,
            "| Account | Verdict | Score | Window ({}) | Attacker IPs |\n|---|---|---:|---|---|",
            text(&m.zone)
        );
        for a in &m.accounts {
            let window = a.window.as_ref().map_or_else(
                || "—".to_string(),
                |w| {
                    format!(
                        "{} → {} ({})",
                        text(&w.start),
                        text(&w.end),
                        text(&w.duration)
                    )
                },
            );
            let ips: Vec<String> = a
                .ips
                .iter()
                .filter(|i| !i.ip.is_empty())
                .map(|i| match &i.location {
                    Some(l) => format!("{} ({})", code(&i.ip), text(l)),
                    None => code(&i.ip),
                })
                .collect();
            let _ = writeln!(
                o,
                "| {} | **{}** | {} | {window} | {} |",
                text(&a.account),
                a.verdict.as_str(),
                a.score,
                if ips.is_empty() {
                    "none".into()
                } else {
                    ips.join(", ")
                }
            );
        }
        o.push('\n');
        for a in m
            .accounts
            .iter()
            .filter(|a| a.verdict == Verdict::Compromised)
        {
            let _ = writeln!(o, "**{}:** {}\n", text(&a.account), text(&a.summary));
        }
    }
    let _ = write!(o, "{} account(s) clean", m.clean_accounts.len());
    if !m.clean_accounts.is_empty() {
        let names: Vec<String> = m
            .clean_accounts
            .iter()
            .map(|c| text(&c.account).into_owned())
            .collect();
        let _ = write!(o, ": {}", names.join(", "));
    }
    o.push_str(".\n\n");
}

fn account(o: &mut String, a: &AccountView, zone: &str) {
    let _ = writeln!(
        o,
        "## {} — {} (score {})\n\n{}\n",
        text(&a.account),
        a.verdict.as_str(),
        a.score,
        text(&a.summary)
    );
    if let Some(w) = &a.window {
        let _ = writeln!(
            o,
            "- **Window:** {} → {} ({})",
            text(&w.start),
            text(&w.end),
            text(&w.duration)
        );
    }
    let _ = writeln!(
        o,
        "- **Attacker sessions:** {}\n- **Attacker tokens:** {}\n- **User agents:** {}",
        codes(&a.sessions),
        codes(&a.tokens),
        a.user_agents
            .iter()
            .map(|u| text(u).into_owned())
            .collect::<Vec<_>>()
            .join("; ")
    );
    for r in &a.reasons {
        let _ = writeln!(o, "- {}", text(r));
    }
    o.push('\n');

    narrative(o, &a.narrative, zone);

    if !a.ips.is_empty() {
        o.push_str(
            "### Attacker IPs\n\n| IP | Location | Records | First | Last | Actions |\n\
             |---|---|---:|---|---|---|\n",
        );
        for i in &a.ips {
            let actions: Vec<String> = i
                .actions
                .iter()
                .map(|(op, n)| format!("{} × {n}", text(op)))
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                if i.ip.is_empty() {
                    "(no IP recorded)".into()
                } else {
                    code(&i.ip)
                },
                i.location
                    .as_deref()
                    .map_or_else(|| "unknown".into(), |l| text(l).into_owned()),
                i.events,
                text(&i.first),
                text(&i.last),
                actions.join(", ")
            );
        }
        o.push('\n');
    }

    if let Some(c) = &a.chart {
        let _ = writeln!(
            o,
            "### Activity\n\n{} record(s) of the account from 12 hours before to 12 hours after \
             the window, {} of them the attacker's. Hours with attacker activity ({}):\n",
            c.total,
            c.attacker,
            text(&c.zone)
        );
        let busy: Vec<_> = c.bins.iter().filter(|b| b.attacker > 0).collect();
        o.push_str("| Hour | Records | Attacker |\n|---|---:|---:|\n");
        for b in busy.iter().take(SHOW) {
            let _ = writeln!(
                o,
                "| {} – {} | {} | {} |",
                text(&b.start),
                text(&b.end),
                b.total,
                b.attacker
            );
        }
        more(o, SHOW.min(busy.len()), busy.len());
        o.push('\n');
    }

    if !a.objects.is_empty() {
        o.push_str("### Rules, forwarding, delegates, apps and MFA changes\n\n");
        let mut last = "";
        for ob in &a.objects {
            if ob.category != last {
                let _ = writeln!(o, "#### {}\n", text(ob.category));
                last = ob.category;
            }
            let _ = writeln!(
                o,
                "- **{}** {} ({}, {}): {}",
                ob.severity.as_str(),
                text(&ob.title),
                text(&ob.time),
                code(&ob.finding_id),
                text(&ob.summary)
            );
            for (k, v) in &ob.facts {
                let _ = writeln!(o, "  - {}: {}", text(k), text(v));
            }
        }
        o.push('\n');
    }

    mail(o, a);

    if let Some(b) = &a.baseline {
        o.push_str("### What was new for the user\n\n");
        if let Some(h) = &b.history_from {
            let _ = writeln!(o, "- History from: {}", text(h));
        }
        let _ = writeln!(
            o,
            "- New IPs: {}\n- New user agents: {}\n- New countries: {}\n- New networks: {}\n",
            codes(&b.new_ips),
            b.new_user_agents
                .iter()
                .map(|u| text(u).into_owned())
                .collect::<Vec<_>>()
                .join("; "),
            codes(&b.new_countries),
            b.new_asns
                .iter()
                .map(|u| text(u).into_owned())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if let Some(b) = &a.blast {
        let _ = writeln!(
            o,
            "### Blast radius\n\n- Internal recipients ({}): {}\n- External recipients ({}): {}",
            b.internal_recipients.len(),
            codes(&b.internal_recipients),
            b.external_recipients.len(),
            codes(&b.external_recipients)
        );
        if b.related.is_empty() {
            o.push_str("- No other account shows the attacker's IPs, sessions or tokens.\n");
        }
        for (acct, ind) in &b.related {
            let ind: Vec<String> = ind.iter().map(|i| text(i).into_owned()).collect();
            let _ = writeln!(o, "- Related account {}: {}", text(acct), ind.join("; "));
        }
        o.push('\n');
    }
}

fn narrative(o: &mut String, steps: &[StepView], zone: &str) {
    o.push_str("### What happened\n\n");
    if steps.is_empty() {
        o.push_str("No attacker activity could be reconstructed.\n\n");
        return;
    }
    let _ = writeln!(
        o,
        "| Time ({}) | Tactic | Operation | IP | What happened | Source |\n|---|---|---|---|---|---|",
        text(zone)
    );
    for s in steps.iter().take(SHOW * 3) {
        let time = match &s.until {
            Some(u) => format!("{} – {}", text(&s.time), text(u)),
            None => text(&s.time).into_owned(),
        };
        let tactic = s
            .tactic
            .map_or_else(String::new, |t| format!("{} ({})", t.name, t.id));
        let count = if s.count > 1 {
            format!(" ({} records)", s.count)
        } else {
            String::new()
        };
        let sev = s
            .severity
            .map_or_else(String::new, |v| format!(" **{}**", v.as_str()));
        let _ = writeln!(
            o,
            "| {time} | {tactic} | {} | {} | {}{count}{sev} | {} |",
            text(&s.operation),
            if s.ip.is_empty() {
                String::new()
            } else {
                code(&s.ip)
            },
            text(&s.description),
            text(&s.source)
        );
    }
    more(o, SHOW * 3, steps.len());
    o.push('\n');
}

fn mail(o: &mut String, a: &AccountView) {
    let r = &a.read;
    if r.bind_total > 0 || !r.sync_folders.is_empty() || !r.searches.is_empty() {
        let _ = writeln!(
            o,
            "### Mail read\n\n{} distinct message(s) opened (Bind, {} record(s)); {} folder sync \
             record(s).\n",
            r.bind_total, r.bind_records, r.sync_records
        );
        if !r.sync_folders.is_empty() {
            let f: Vec<String> = r
                .sync_folders
                .iter()
                .map(|f| text(f).into_owned())
                .collect();
            let _ = writeln!(o, "- Folders synchronised: {}", f.join(", "));
        }
        for (t, q) in &r.searches {
            let _ = writeln!(o, "- Search at {}: {}", text(t), text(q));
        }
        if !r.bind.is_empty() {
            o.push_str("\n| Time | Subject | InternetMessageId | Folder |\n|---|---|---|---|\n");
            for m in r.bind.iter().take(SHOW) {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    text(&m.time),
                    text(&m.subject),
                    text(&m.message_id),
                    text(&m.folder)
                );
            }
            more(o, SHOW.min(r.bind.len()), r.bind_total);
        }
        o.push('\n');
    }
    if !a.sent.is_empty() {
        o.push_str(
            "### Mail sent\n\n| Time | Subject | Recipients | InternetMessageId | IP |\n\
             |---|---|---|---|---|\n",
        );
        for s in a.sent.iter().take(SHOW) {
            let mut rc = Vec::new();
            if !s.internal.is_empty() {
                rc.push(format!("internal: {}", codes(&s.internal)));
            }
            if !s.external.is_empty() {
                rc.push(format!("**external**: {}", codes(&s.external)));
            }
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                text(&s.time),
                text(&s.subject),
                if rc.is_empty() {
                    "not in the message trace".into()
                } else {
                    rc.join("; ")
                },
                text(&s.message_id),
                code(&s.ip)
            );
        }
        more(o, SHOW.min(a.sent.len()), a.sent_total);
        o.push('\n');
    }
    if !a.deleted.is_empty() {
        o.push_str(
            "### Mail deleted\n\n| Time | Operation | Folder | Subject | InternetMessageId |\n\
             |---|---|---|---|---|\n",
        );
        for d in a.deleted.iter().take(SHOW) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                text(&d.time),
                text(&d.operation),
                text(&d.folder),
                text(&d.subject),
                text(&d.message_id)
            );
        }
        more(o, SHOW.min(a.deleted.len()), a.deleted_total);
        o.push('\n');
    }
}

fn findings(o: &mut String, m: &Model) {
    let _ = writeln!(o, "## Findings ({})\n", m.findings.len());
    if m.findings.is_empty() {
        o.push_str("No findings.\n\n");
        return;
    }
    let _ = writeln!(
        o,
        "| Severity | Time ({}) | Account | Rule | Summary | ATT&CK | Evidence |\n\
         |---|---|---|---|---|---|---|",
        text(&m.zone)
    );
    for f in &m.findings {
        let mut ev: Vec<String> = f
            .evidence
            .iter()
            .take(EVIDENCE)
            .map(|x| format!("{} ({})", text(&x.location), code(&x.record_id)))
            .collect();
        if f.evidence_total > EVIDENCE {
            ev.push(format!("… {} more", f.evidence_total - EVIDENCE));
        }
        let _ = writeln!(
            o,
            "| **{}** | {} | {} | {} {} | {} | {} ({}) {} | {} |",
            f.severity.as_str(),
            text(&f.time),
            text(&f.account),
            text(&f.title),
            code(&f.rule),
            text(&f.summary),
            f.tactic.name,
            f.tactic.id,
            f.techniques
                .iter()
                .map(|t| code(t))
                .collect::<Vec<_>>()
                .join(" "),
            ev.join("; ")
        );
    }
    o.push('\n');
}

fn remediation(o: &mut String, m: &Model) {
    o.push_str("## Remediation plan\n\n");
    if m.remediation.is_empty() {
        o.push_str("No remediation step was produced.\n\n");
        return;
    }
    for s in &m.remediation {
        let refs: Vec<String> = s.finding_ids.iter().map(|f| code(f)).collect();
        let _ = writeln!(
            o,
            "{}. **{}** for {} — {}{}\n",
            s.step,
            text(&s.action),
            text(&s.account),
            text(&s.reason),
            if refs.is_empty() {
                String::new()
            } else {
                format!(" ({})", refs.join(", "))
            }
        );
        fenced(o, "powershell", &s.command, "   ");
        o.push('\n');
    }
}

fn inputs(o: &mut String, m: &Model) {
    let _ = writeln!(
        o,
        "## Inputs\n\n{} file(s), {} recognised as exports: {} record(s) kept, {} skipped, {} \
         duplicate(s) dropped.\n",
        m.counts.files, m.counts.exports, m.counts.records, m.counts.skipped, m.counts.duplicates
    );
    let _ = writeln!(
        o,
        "| File | Kind | Format | Encoding | Bytes | SHA-256 | Records | Skipped | Duplicates | \
         First – last ({}) |\n|---|---|---|---|---:|---|---:|---:|---:|---|",
        text(&m.zone)
    );
    for f in &m.inputs {
        let range = match (&f.first, &f.last) {
            (Some(a), Some(b)) => format!("{} – {}", text(a), text(b)),
            _ => "—".into(),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {range} |",
            text(&f.path),
            text(&f.kind),
            text(&f.format),
            text(&f.encoding),
            f.size,
            f.sha256
                .as_deref()
                .map_or_else(|| "not computed".into(), code),
            f.records,
            f.skipped,
            f.duplicates
        );
    }
    o.push('\n');
    for f in &m.inputs {
        if f.reason.is_none() && f.skip_reasons.is_empty() && f.warnings.is_empty() {
            continue;
        }
        let _ = writeln!(o, "**{}**\n", text(&f.path));
        if let Some(r) = &f.reason {
            let _ = writeln!(
                o,
                "- {}{}",
                if f.unreadable { "unreadable: " } else { "" },
                text(r)
            );
        }
        for (reason, n, ex) in &f.skip_reasons {
            let ex: Vec<String> = ex.iter().map(|x| text(x).into_owned()).collect();
            let _ = writeln!(
                o,
                "- {n} record(s) skipped: {} (e.g. {})",
                text(reason),
                ex.join(", ")
            );
        }
        for w in &f.warnings {
            let _ = writeln!(o, "- warning: {}", text(w));
        }
        o.push('\n');
    }
    if !m.input_problems.is_empty() {
        o.push_str("### Paths not read\n\n");
        for (p, r) in &m.input_problems {
            let _ = writeln!(o, "- {}: {}", text(p), text(r));
        }
        o.push('\n');
    }
    o.push_str("### Analysis notes\n\n");
    if m.notes.is_empty() {
        o.push_str("None.\n");
    }
    for n in &m.notes {
        let _ = writeln!(o, "- {}", text(n));
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::tests::{model, VICTIM};
    use super::*;

    #[test]
    fn text_escapes_markdown_and_html() {
        assert_eq!(text("plain rule"), "plain rule");
        assert!(matches!(text("plain"), Cow::Borrowed(_)));
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("`x`"), "\\`x\\`");
        assert_eq!(text("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(text("# head"), "\\# head");
        assert_eq!(text("- item"), "\\- item");
        assert_eq!(text("+ item"), "\\+ item");
        assert_eq!(text("> quote"), "&gt; quote");
        assert_eq!(text("[l](j)"), "\\[l\\](j)");
        assert_eq!(text("*b* _i_"), "\\*b\\* \\_i\\_");
        assert_eq!(text("1. first"), "1\\. first");
        assert_eq!(text("12) x"), "12\\) x");
        assert_eq!(text("2026-03-09 09:00"), "2026-03-09 09:00");
        assert_eq!(text("a\x1b[31mb\nc\u{202e}d"), "a\\[31mb cd");
        assert_eq!(text("   - x"), "\\- x");
        assert_eq!(text("a&b"), "a&amp;b");
    }

    #[test]
    fn code_spans_only_for_plain_values() {
        assert_eq!(code("89.160.20.115"), "`89.160.20.115`");
        assert_eq!(code("a`b"), "a\\`b");
        assert_eq!(code("x|y"), "x\\|y");
        assert_eq!(code("-rf"), "\\-rf");
    }

    #[test]
    fn fences_outlast_backticks_in_commands() {
        let mut s = String::new();
        fenced(&mut s, "powershell", "Remove-InboxRule '````'\x1b", "");
        assert!(s.starts_with("`````powershell\n"), "{s}");
        assert!(s.ends_with("\n`````\n"));
        assert!(!s.contains('\x1b'));
    }

    #[test]
    fn the_samples_report_in_markdown() {
        let md = render(model());
        assert!(md.starts_with("# Mailbox compromise report"));
        assert!(md.contains("amelia.hart@tailspinfreight.example"));
        assert!(md.contains("2026-03-09 09:02:41 UTC"));
        assert!(md.contains("`89.160.20.115`") && md.contains("`175.16.199.10`"));
        assert!(md.contains("rule name: .."));
        assert!(md.contains("ap.settlements@mailbox-relay.example"));
        assert!(md.contains("PDF Reader Online"));
        assert!(md.contains("`marcus.bell@tailspinfreight.example`"));
        assert!(md.contains("## Findings ("));
        assert!(md.contains("## Remediation plan"));
        assert!(md.contains("## Inputs"));
        assert!(md.contains("MailboxAudit\\_amelia.hart.csv"));
        assert!(md.contains("| Time (UTC) | Tactic |"));
        assert!(md.contains("(TA0005)"));
        assert_eq!(md, render(model()), "deterministic");
        // Every table row has as many cells as its header.
        let mut cols = 0;
        for line in md.lines() {
            if !line.starts_with('|') {
                cols = 0;
                continue;
            }
            let n = line.replace("\\|", "").matches('|').count();
            if cols == 0 {
                cols = n;
            }
            assert_eq!(n, cols, "ragged row: {line}");
        }
        assert!(md.contains(VICTIM));
    }

    #[test]
    fn hostile_strings_stay_text() {
        let m = super::super::html::tests::hostile();
        let md = render(&m);
        assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(md.contains("\\|pipe\\|"));
        assert!(md.contains("\\`tick\\`"));
        // The command is in a fence, verbatim.
        assert!(md.contains("Remove-InboxRule -Identity '<img src=x onerror=alert(1)>"));
        // ... and nowhere else is it raw.
        let outside: String = md.split("```").step_by(2).collect::<Vec<_>>().join("");
        assert!(!outside.contains("<img") && !outside.contains("<script"));
        assert!(!outside.contains(" |pipe|") && !outside.contains(" `tick`"));
    }
}

//! Human output on the terminal (comfy-table). Every attacker- or file-controlled string goes
//! through [`escape::terminal`] so it cannot move the cursor or recolour the screen.

use super::escape;
use crate::inspect::InspectReport;
use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

/// Display options for terminal output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Use colour.
    pub color: bool,
    /// Zone for times.
    pub clock: super::clock::Clock,
}

impl Style {
    /// Colour exactly when asked: `--color always` colours a pipe too; `never`/NO_COLOR never.
    fn apply(&self, table: &mut Table) {
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
    }
}

fn num(n: u64) -> Cell {
    Cell::new(n).set_alignment(CellAlignment::Right)
}

fn time(t: Option<crate::event::Timestamp>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| t.to_utc().format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// The inspect table plus skip reasons and warnings beneath it.
pub fn inspect(report: &InspectReport, style: Style) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "File",
            "Kind",
            "Format",
            "Encoding",
            "Records",
            "Skipped",
            "Dupes",
            "First (UTC)",
            "Last (UTC)",
        ]);
    style.apply(&mut table);
    for f in &report.files {
        table.add_row(vec![
            Cell::new(escape::terminal(&f.path)),
            Cell::new(f.kind.as_str()),
            Cell::new(f.format),
            Cell::new(f.encoding),
            num(f.records),
            num(f.skipped),
            num(f.duplicates),
            Cell::new(time(f.first)),
            Cell::new(time(f.last)),
        ]);
    }
    let mut out = table.to_string();
    out.push('\n');
    let t = &report.totals;
    let _ = writeln!(
        out,
        "{} files ({} exports): {} records kept, {} skipped, {} duplicates dropped",
        t.files, t.exports, t.records, t.skipped, t.duplicates
    );
    for f in &report.files {
        let path = escape::terminal(&f.path);
        if let Some(reason) = &f.reason {
            let _ = writeln!(out, "\n{path}: {}", escape::terminal(reason));
        }
        if !f.skip_reasons.is_empty() {
            let _ = writeln!(out, "\n{path}: {} records skipped", f.skipped);
            for g in &f.skip_reasons {
                let examples: Vec<_> = g.examples.iter().map(|e| escape::terminal(e)).collect();
                let _ = writeln!(
                    out,
                    "  {} × {} (e.g. {})",
                    g.count,
                    escape::terminal(&g.reason),
                    examples.join(", ")
                );
            }
        }
        for w in &f.warnings {
            let _ = writeln!(out, "{path}: warning: {}", escape::terminal(w));
        }
    }
    for p in &report.problems {
        let _ = writeln!(
            out,
            "{}: {}",
            escape::terminal(&p.path),
            escape::terminal(&p.reason)
        );
    }
    for w in &report.warnings {
        let _ = writeln!(out, "warning: {}", escape::terminal(w));
    }
    out
}

/// The short summary after `analyze`: verdicts, top findings, where the reports are.
pub fn summary(
    analysis: &crate::analysis::Analysis,
    out: &std::path::Path,
    outputs: &[&str],
    style: Style,
) -> String {
    use crate::correlate::Verdict;
    let zone = style.clock.zone_name();
    let mut out_s = String::new();
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "Account".to_string(),
            "Verdict".into(),
            "Score".into(),
            format!("Window ({zone})"),
            "Attacker IPs".into(),
        ]);
    style.apply(&mut table);
    let mut clean = 0;
    for a in &analysis.accounts {
        if a.verdict == Verdict::Clean {
            clean += 1;
            continue;
        }
        let window = a.window.map_or_else(
            || "-".into(),
            |w| {
                format!(
                    "{} → {}",
                    style.clock.short(w.start),
                    style.clock.short(w.end)
                )
            },
        );
        let mut verdict = Cell::new(a.verdict.as_str());
        if style.color {
            verdict = verdict.fg(match a.verdict {
                Verdict::Compromised => comfy_table::Color::Red,
                Verdict::Suspicious => comfy_table::Color::Yellow,
                Verdict::Clean => comfy_table::Color::Green,
            });
        }
        table.add_row(vec![
            Cell::new(escape::terminal(&a.account)),
            verdict,
            num(a.score as u64),
            Cell::new(window),
            Cell::new(escape::terminal(&a.attacker_ips.join(", "))),
        ]);
    }
    if table.row_count() > 0 {
        out_s.push_str(&table.to_string());
        out_s.push('\n');
    }
    let _ = writeln!(
        out_s,
        "{} accounts: {} compromised, {} suspicious, {} clean; {} findings",
        analysis.accounts.len(),
        analysis
            .accounts
            .iter()
            .filter(|a| a.verdict == Verdict::Compromised)
            .count(),
        analysis
            .accounts
            .iter()
            .filter(|a| a.verdict == Verdict::Suspicious)
            .count(),
        clean,
        analysis.findings.len()
    );
    let mut top: Vec<&crate::analyze::Finding> = analysis.findings.iter().collect();
    top.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen.cmp(&b.first_seen))
    });
    if !top.is_empty() {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec![
                "Severity".to_string(),
                format!("Time ({zone})"),
                "Account".into(),
                "Finding".into(),
            ]);
        style.apply(&mut t);
        for f in top.iter().take(12) {
            t.add_row(vec![
                Cell::new(f.severity.as_str()),
                Cell::new(style.clock.short(f.first_seen)),
                Cell::new(escape::terminal(&f.account)),
                Cell::new(escape::terminal(&f.summary)),
            ]);
        }
        out_s.push_str(&t.to_string());
        out_s.push('\n');
        if top.len() > 12 {
            let _ = writeln!(out_s, "… and {} more findings", top.len() - 12);
        }
    }
    let _ = writeln!(
        out_s,
        "reports in {}: {}",
        escape::terminal(&out.display().to_string()),
        outputs.join(", ")
    );
    out_s
}

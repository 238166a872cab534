//! `report.html`: one self-contained page a reviewer opens in a browser — verdicts first, then
//! each affected account's story, the findings, the remediation plan and the inputs.
//!
//! Self-contained and inert on purpose: the page may be opened on an analyst's workstation
//! from a case folder, so it loads nothing (no network, fonts, images, external CSS), runs no
//! JavaScript (a Content-Security-Policy forbids any), and prints cleanly. Every string that came
//! from the input goes through [`escape::html`] — rule names, subjects, user agents, folder
//! names, file paths, IPs, reasons, summaries, details — including inside SVG `<title>`s.

use super::chart;
use super::escape;
use super::model::{AccountView, FindingRow, Model, ObjectView, StepView, TacticView};
use crate::analyze::Severity;
use crate::correlate::Verdict;
use std::borrow::Cow;
use std::fmt::Write;

/// Rows shown per list before "… N more" (the model keeps more).
const SHOW: usize = 100;
/// Evidence records shown per finding before the rest fold into `<details>`.
const EVIDENCE_OPEN: usize = 3;

const CSS: &str = "\
:root{--crit:#b71c1c;--high:#d84315;--med:#f9a825;--low:#1565c0;--info:#607d8b;--line:#d6d9dc;--soft:#f4f6f8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2125;margin:0 auto;max-width:1280px;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.3rem;margin:2rem 0 .6rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.08rem;margin:1.4rem 0 .4rem}h4{font-size:.98rem;margin:1rem 0 .3rem}
.meta{color:#4a525a;margin:.2rem 0}
nav ul{list-style:none;padding:0;margin:.6rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}
a{color:#0b57d0}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}
th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:#e9edf1;z-index:1}
tbody tr:nth-child(even){background:#fafbfc}
td.num,th.num{text-align:right;white-space:nowrap}
.nowrap{white-space:nowrap}
code,.mono,pre{font-family:ui-monospace,SFMono-Regular,Consolas,'Liberation Mono',monospace;font-size:12.5px}
code,.mono{overflow-wrap:anywhere}
pre{background:var(--soft);border:1px solid var(--line);padding:.5rem .7rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
.sev,.verdict{display:inline-block;padding:0 .45em;border-radius:3px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med);color:#222}
.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.verdict-compromised{background:var(--crit)}.verdict-suspicious{background:var(--med);color:#222}.verdict-clean{background:#2e7d32}
.account{border-left:5px solid var(--line);padding-left:1rem;margin-top:2.5rem}
.account.compromised{border-color:var(--crit)}.account.suspicious{border-color:var(--med)}
.summary{background:var(--soft);border:1px solid var(--line);padding:.6rem .8rem;margin:.5rem 0}
.object{border:1px solid var(--line);padding:.4rem .7rem;margin:.4rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .9rem;margin:.3rem 0}
dl.facts dt{font-weight:600;color:#3a4147}dl.facts dd{margin:0;overflow-wrap:anywhere}
.tactic{font-size:12px;color:#37474f;white-space:nowrap}
.muted{color:#5f6870}ul.ev{list-style:none;padding:0;margin:0}ul.ev li{margin-bottom:.25rem}td.evidence{min-width:17em}td.time{min-width:10.5em}td.evidence .mono{font-size:11.5px}.src{font-family:ui-monospace,Consolas,monospace;font-size:11.5px;color:#5f6870;overflow-wrap:anywhere}.warn{color:#8a4b00}
svg.chart{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}
details>summary{cursor:pointer}
@media print{nav{display:none}thead th{position:static}body{max-width:none;padding:0}a{color:inherit;text-decoration:none}
.account,.object,tr,svg{break-inside:avoid}h2,h3{break-after:avoid}}
";

fn e(s: &str) -> Cow<'_, str> {
    escape::html(s)
}

fn sev(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

fn verdict(v: Verdict) -> String {
    format!("<span class=\"verdict verdict-{0}\">{0}</span>", v.as_str())
}

fn tactic(t: &TacticView) -> String {
    format!(
        "<span class=\"tactic\">{} <span class=\"muted\">{}</span></span>",
        e(t.name),
        e(t.id)
    )
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        return "<span class=\"muted\">none</span>".into();
    }
    items
        .iter()
        .map(|s| format!("<code>{}</code>", e(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn more(out: &mut String, shown: usize, total: usize, cols: usize) {
    if total > shown {
        let _ = write!(
            out,
            "<tr><td colspan=\"{cols}\" class=\"muted\">… and {} more not shown</td></tr>",
            total - shown
        );
    }
}

fn finding_link(id: &str) -> String {
    format!("<a href=\"#f-{0}\"><code>{0}</code></a>", e(id))
}

/// Renders the report.
pub fn render(model: &Model) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let title = match model.counts.compromised {
        0 => "no compromised account".to_string(),
        1 => "1 compromised account".to_string(),
        n => format!("{n} compromised accounts"),
    };
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"generator\" content=\"{} {}\">\n\
         <title>mailsleuth report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        e(model.tool),
        e(model.version),
        e(&title)
    );
    header(&mut o, model);
    verdicts(&mut o, model);
    for a in &model.accounts {
        account(&mut o, a);
    }
    findings(&mut o, &model.findings, &model.zone);
    remediation(&mut o, model);
    inputs(&mut o, model);
    let _ = write!(
        o,
        "<footer class=\"meta\"><p>Written by {} {} from the inputs listed above; times in {}. \
         The same inputs give the same report.</p></footer>\n</body>\n</html>\n",
        e(model.tool),
        e(model.version),
        e(&model.zone)
    );
    o
}

fn header(o: &mut String, m: &Model) {
    let _ = write!(
        o,
        "<header>\n<h1>Mailbox compromise report</h1>\n<p class=\"meta\">{} {} · times in \
         <strong>{}</strong>",
        e(m.tool),
        e(m.version),
        e(&m.zone)
    );
    if !m.tenant_domains.is_empty() {
        let _ = write!(o, " · tenant {}", code_list(&m.tenant_domains));
    }
    o.push_str("</p>\n");
    if let Some((a, b)) = &m.data_range {
        let _ = write!(o, "<p class=\"meta\">Data from {} to {}", e(a), e(b));
    } else {
        o.push_str("<p class=\"meta\">No dated records");
    }
    let c = &m.counts;
    let _ = write!(
        o,
        " · {} file(s), {} record(s), {} skipped, {} duplicate(s) dropped · {} account(s): \
         {} compromised, {} suspicious, {} clean · {} finding(s)",
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
    if !c.findings_by_severity.is_empty() {
        let parts: Vec<String> = c
            .findings_by_severity
            .iter()
            .map(|(s, n)| format!("{n} {}", sev(*s)))
            .collect();
        let _ = write!(o, " ({})", parts.join(" "));
    }
    o.push_str("</p>\n</header>\n<nav><ul><li><a href=\"#verdicts\">Verdicts</a></li>");
    for a in &m.accounts {
        let _ = write!(
            o,
            "<li><a href=\"#{}\">{}</a></li>",
            e(&a.anchor),
            e(&a.account)
        );
    }
    o.push_str(
        "<li><a href=\"#findings\">Findings</a></li><li><a href=\"#remediation\">Remediation</a>\
         </li><li><a href=\"#inputs\">Inputs</a></li></ul></nav>\n",
    );
}

fn verdicts(o: &mut String, m: &Model) {
    o.push_str("<section id=\"verdicts\">\n<h2>Verdicts</h2>\n");
    if m.accounts.is_empty() {
        o.push_str("<p>No account is compromised or suspicious.</p>\n");
    } else {
        let _ = write!(
            o,
            "<table>\n<thead><tr><th>Account</th><th>Verdict</th><th class=\"num\">Score</th>\
             <th>Window ({})</th><th>Attacker IPs</th></tr></thead>\n<tbody>\n",
            e(&m.zone)
        );
        for a in &m.accounts {
            let window = a.window.as_ref().map_or_else(
                || "<span class=\"muted\">—</span>".to_string(),
                |w| {
                    format!(
                        "<span class=\"nowrap\">{}</span> → <span class=\"nowrap\">{}</span> \
                         <span class=\"muted\">({})</span>",
                        e(&w.start),
                        e(&w.end),
                        e(&w.duration)
                    )
                },
            );
            let ips: Vec<String> = a
                .ips
                .iter()
                .filter(|i| !i.ip.is_empty())
                .map(|i| match &i.location {
                    Some(l) => format!(
                        "<code>{}</code> <span class=\"muted\">{}</span>",
                        e(&i.ip),
                        e(l)
                    ),
                    None => format!("<code>{}</code>", e(&i.ip)),
                })
                .collect();
            let _ = writeln!(
                o,
                "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td>{window}</td><td>{}</td></tr>",
                e(&a.anchor),
                e(&a.account),
                verdict(a.verdict),
                a.score,
                if ips.is_empty() {
                    "<span class=\"muted\">none</span>".to_string()
                } else {
                    ips.join("<br>")
                }
            );
        }
        o.push_str("</tbody>\n</table>\n");
        for a in m
            .accounts
            .iter()
            .filter(|a| a.verdict == Verdict::Compromised)
        {
            let _ = write!(
                o,
                "<h3>{}</h3>\n<p class=\"summary\">{}</p>\n",
                e(&a.account),
                e(&a.summary)
            );
        }
    }
    let _ = write!(
        o,
        "<p>{} account(s) clean.</p>\n<details><summary>Clean accounts ({})</summary>\n",
        m.clean_accounts.len(),
        m.clean_accounts.len()
    );
    if m.clean_accounts.is_empty() {
        o.push_str("<p class=\"muted\">none</p>\n");
    } else {
        o.push_str(
            "<table>\n<thead><tr><th>Account</th><th class=\"num\">Score</th>\
             <th class=\"num\">Low/info findings</th></tr></thead>\n<tbody>\n",
        );
        for c in &m.clean_accounts {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                e(&c.account),
                c.score,
                c.findings
            );
        }
        o.push_str("</tbody>\n</table>\n");
    }
    o.push_str("</details>\n</section>\n");
}

fn account(o: &mut String, a: &AccountView) {
    let _ = write!(
        o,
        "<section class=\"account {}\" id=\"{}\">\n<h2>{} {}</h2>\n",
        a.verdict.as_str(),
        e(&a.anchor),
        e(&a.account),
        verdict(a.verdict)
    );
    // Compromised accounts have their summary in the verdicts section already.
    if a.verdict != Verdict::Compromised {
        let _ = writeln!(o, "<p class=\"summary\">{}</p>", e(&a.summary));
    }
    o.push_str("<dl class=\"facts\">");
    if let Some(w) = &a.window {
        let _ = write!(
            o,
            "<dt>Window</dt><dd>{} → {} ({})</dd>",
            e(&w.start),
            e(&w.end),
            e(&w.duration)
        );
    }
    let _ = write!(
        o,
        "<dt>Score</dt><dd>{}/100</dd><dt>Attacker sessions</dt><dd>{}</dd>\
         <dt>Attacker tokens</dt><dd>{}</dd><dt>User agents</dt><dd>{}</dd>",
        a.score,
        code_list(&a.sessions),
        code_list(&a.tokens),
        code_list(&a.user_agents)
    );
    o.push_str("</dl>\n");
    if !a.reasons.is_empty() {
        o.push_str("<h3>Why</h3>\n<ul>\n");
        for r in &a.reasons {
            let _ = writeln!(o, "<li>{}</li>", e(r));
        }
        o.push_str("</ul>\n");
    }

    narrative(o, &a.narrative);

    o.push_str("<h3>Attacker IPs</h3>\n");
    if a.ips.is_empty() {
        o.push_str("<p class=\"muted\">No attacker IP was identified.</p>\n");
    } else {
        o.push_str(
            "<table>\n<thead><tr><th>IP</th><th>Location</th><th class=\"num\">Records</th>\
             <th>First</th><th>Last</th><th>Actions</th></tr></thead>\n<tbody>\n",
        );
        for i in &a.ips {
            let actions: Vec<String> = i
                .actions
                .iter()
                .map(|(op, n)| format!("<span class=\"nowrap\">{} × {n}</span>", e(op)))
                .collect();
            let _ = writeln!(
                o,
                "<tr><td class=\"nowrap\"><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"nowrap\">{}</td>\
                 <td class=\"nowrap\">{}</td><td>{}</td></tr>",
                if i.ip.is_empty() {
                    "(no IP recorded)".into()
                } else {
                    e(&i.ip)
                },
                i.location
                    .as_deref()
                    .map_or_else(|| "<span class=\"muted\">—</span>".into(), |l| e(l).into_owned()),
                i.events,
                e(&i.first),
                e(&i.last),
                actions.join(" · ")
            );
        }
        o.push_str("</tbody>\n</table>\n");
    }

    if let Some(c) = &a.chart {
        let _ = write!(
            o,
            "<h3>Activity</h3>\n<p class=\"muted\">{} record(s) of the account from 12 hours \
             before to 12 hours after the window, {} of them the attacker's.</p>\n{}\n",
            c.total,
            c.attacker,
            chart::svg(c, &format!("Activity of {}", a.account))
        );
    }

    objects(o, &a.objects);
    mail(o, a);

    if let Some(b) = &a.baseline {
        o.push_str("<h3>What was new for the user</h3>\n<dl class=\"facts\">");
        if let Some(h) = &b.history_from {
            let _ = write!(o, "<dt>History from</dt><dd>{}</dd>", e(h));
        }
        let _ = writeln!(
            o,
            "<dt>New IPs</dt><dd>{}</dd><dt>New user agents</dt><dd>{}</dd>\
             <dt>New countries</dt><dd>{}</dd><dt>New networks</dt><dd>{}</dd></dl>",
            code_list(&b.new_ips),
            code_list(&b.new_user_agents),
            code_list(&b.new_countries),
            code_list(&b.new_asns)
        );
    }
    if let Some(b) = &a.blast {
        let _ = write!(
            o,
            "<h3>Blast radius</h3>\n<dl class=\"facts\"><dt>Internal recipients ({})</dt><dd>{}</dd>\
             <dt>External recipients ({})</dt><dd>{}</dd></dl>\n",
            b.internal_recipients.len(),
            code_list(&b.internal_recipients),
            b.external_recipients.len(),
            code_list(&b.external_recipients)
        );
        if b.related.is_empty() {
            o.push_str("<p>No other account shows the attacker's IPs, sessions or tokens.</p>\n");
        } else {
            o.push_str(
                "<table>\n<thead><tr><th>Related account</th><th>Shared indicators</th></tr></thead>\n<tbody>\n",
            );
            for (acct, ind) in &b.related {
                let ind: Vec<String> = ind.iter().map(|i| e(i).into_owned()).collect();
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    e(acct),
                    ind.join("<br>")
                );
            }
            o.push_str("</tbody>\n</table>\n");
        }
    }
    if !a.finding_ids.is_empty() {
        let links: Vec<String> = a.finding_ids.iter().map(|f| finding_link(f)).collect();
        let _ = writeln!(o, "<p>Findings: {}</p>", links.join(", "));
    }
    o.push_str("</section>\n");
}

fn narrative(o: &mut String, steps: &[StepView]) {
    o.push_str("<h3>What happened</h3>\n");
    if steps.is_empty() {
        o.push_str("<p class=\"muted\">No attacker activity could be reconstructed.</p>\n");
        return;
    }
    o.push_str(
        "<table>\n<thead><tr><th>Time</th><th>Tactic</th><th>What happened</th><th>IP</th>\
         <th>Severity</th></tr></thead>\n<tbody>\n",
    );
    for s in steps.iter().take(SHOW * 3) {
        let time = match &s.until {
            Some(u) => format!("{}<br><span class=\"muted\">to {}</span>", e(&s.time), e(u)),
            None => e(&s.time).into_owned(),
        };
        let count = if s.count > 1 {
            format!(" <span class=\"muted\">({} records)</span>", s.count)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "<tr><td class=\"nowrap\">{time}</td><td>{}</td><td><strong>{}</strong>{count}<br>{}\
             <br><span class=\"src\">{}</span></td><td class=\"nowrap\"><code>{}</code></td>\
             <td>{}</td></tr>",
            s.tactic.as_ref().map_or_else(String::new, tactic),
            e(&s.operation),
            e(&s.description),
            e(&s.source),
            e(&s.ip),
            s.severity.map_or_else(String::new, sev)
        );
    }
    more(o, SHOW * 3, steps.len(), 5);
    o.push_str("</tbody>\n</table>\n");
}

fn objects(o: &mut String, objects: &[ObjectView]) {
    o.push_str("<h3>Rules, forwarding, delegates, apps and MFA changes</h3>\n");
    if objects.is_empty() {
        o.push_str("<p class=\"muted\">None found.</p>\n");
        return;
    }
    let mut last = "";
    for ob in objects {
        if ob.category != last {
            let _ = writeln!(o, "<h4>{}</h4>", e(ob.category));
            last = ob.category;
        }
        let _ = write!(
            o,
            "<div class=\"object\"><p>{} <strong>{}</strong> <span class=\"muted\">{} · {}</span></p>\
             <p>{}</p><dl class=\"facts\">",
            sev(ob.severity),
            e(&ob.title),
            e(&ob.time),
            finding_link(&ob.finding_id),
            e(&ob.summary)
        );
        for (k, v) in &ob.facts {
            let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", e(k), e(v));
        }
        o.push_str("</dl></div>\n");
    }
}

fn mail(o: &mut String, a: &AccountView) {
    let r = &a.read;
    o.push_str("<h3>Mail read</h3>\n");
    if r.bind_total == 0 && r.sync_folders.is_empty() && r.searches.is_empty() {
        o.push_str(
            "<p class=\"muted\">No MailItemsAccessed or search record of the attacker.</p>\n",
        );
    } else {
        let _ = writeln!(
            o,
            "<p>{} distinct message(s) opened (Bind, {} record(s)); {} folder sync record(s).</p>",
            r.bind_total, r.bind_records, r.sync_records
        );
        if !r.sync_folders.is_empty() {
            let _ = writeln!(
                o,
                "<p>Folders synchronised whole into a client: {}</p>",
                code_list(&r.sync_folders)
            );
        }
        if !r.searches.is_empty() {
            o.push_str("<p>Searches:</p>\n<ul>\n");
            for (t, q) in &r.searches {
                let _ = writeln!(o, "<li>{} <code>{}</code></li>", e(t), e(q));
            }
            o.push_str("</ul>\n");
        }
        if !r.bind.is_empty() {
            o.push_str(
                "<table>\n<thead><tr><th>Time</th><th>Subject</th><th>InternetMessageId</th>\
                 <th>Folder</th></tr></thead>\n<tbody>\n",
            );
            for m in r.bind.iter().take(SHOW) {
                let _ = writeln!(
                    o,
                    "<tr><td class=\"nowrap\">{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                    e(&m.time),
                    e(&m.subject),
                    e(&m.message_id),
                    e(&m.folder)
                );
            }
            more(o, SHOW.min(r.bind.len()), r.bind_total, 4);
            o.push_str("</tbody>\n</table>\n");
        }
    }

    o.push_str("<h3>Mail sent</h3>\n");
    if a.sent.is_empty() {
        o.push_str("<p class=\"muted\">No message sent by the attacker.</p>\n");
    } else {
        o.push_str(
            "<table>\n<thead><tr><th>Time</th><th>Subject</th><th>Recipients</th>\
             <th>InternetMessageId</th><th>IP</th></tr></thead>\n<tbody>\n",
        );
        for s in a.sent.iter().take(SHOW) {
            let mut rc = Vec::new();
            if !s.internal.is_empty() {
                rc.push(format!("internal: {}", code_list(&s.internal)));
            }
            if !s.external.is_empty() {
                rc.push(format!(
                    "<strong>external</strong>: {}",
                    code_list(&s.external)
                ));
            }
            if rc.is_empty() {
                rc.push("<span class=\"muted\">not in the message trace</span>".into());
            }
            let _ = writeln!(
                o,
                "<tr><td class=\"nowrap\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"nowrap\"><code>{}</code></td></tr>",
                e(&s.time),
                e(&s.subject),
                rc.join("<br>"),
                e(&s.message_id),
                e(&s.ip)
            );
        }
        more(o, SHOW.min(a.sent.len()), a.sent_total, 5);
        o.push_str("</tbody>\n</table>\n");
    }

    o.push_str("<h3>Mail deleted</h3>\n");
    if a.deleted.is_empty() {
        o.push_str("<p class=\"muted\">No deletion by the attacker.</p>\n");
    } else {
        o.push_str(
            "<table>\n<thead><tr><th>Time</th><th>Operation</th><th>Folder</th><th>Subject</th>\
             <th>InternetMessageId</th></tr></thead>\n<tbody>\n",
        );
        for d in a.deleted.iter().take(SHOW) {
            let _ = writeln!(
                o,
                "<tr><td class=\"nowrap\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                e(&d.time),
                e(&d.operation),
                e(&d.folder),
                e(&d.subject),
                e(&d.message_id)
            );
        }
        more(o, SHOW.min(a.deleted.len()), a.deleted_total, 5);
        o.push_str("</tbody>\n</table>\n");
    }
}

fn findings(o: &mut String, rows: &[FindingRow], zone: &str) {
    let _ = write!(
        o,
        "<section id=\"findings\">\n<h2>Findings ({})</h2>\n",
        rows.len()
    );
    if rows.is_empty() {
        o.push_str("<p>No findings.</p>\n</section>\n");
        return;
    }
    let _ = write!(
        o,
        "<table>\n<thead><tr><th>Severity</th><th>Time ({})</th><th>Account and rule</th>\
         <th>Summary</th><th>ATT&amp;CK</th><th>Evidence (file:line, record id)</th></tr></thead>\n<tbody>\n",
        e(zone)
    );
    for f in rows {
        let time = match &f.until {
            Some(u) => format!("{}<br><span class=\"muted\">to {}</span>", e(&f.time), e(u)),
            None => e(&f.time).into_owned(),
        };
        let techniques: Vec<String> = f
            .techniques
            .iter()
            .map(|t| format!("<code>{}</code>", e(t)))
            .collect();
        let ev = |x: &super::model::EvidenceView| {
            format!(
                "<li><span class=\"mono\">{}</span><br><code class=\"muted\">{}</code></li>",
                e(&x.location),
                e(&x.record_id)
            )
        };
        let mut evidence = String::from("<ul class=\"ev\">");
        for x in f.evidence.iter().take(EVIDENCE_OPEN) {
            evidence.push_str(&ev(x));
        }
        evidence.push_str("</ul>");
        if f.evidence_total > EVIDENCE_OPEN {
            let _ = write!(
                evidence,
                "<details><summary>{} more</summary><ul class=\"ev\">",
                f.evidence_total - EVIDENCE_OPEN
            );
            for x in f.evidence.iter().skip(EVIDENCE_OPEN) {
                evidence.push_str(&ev(x));
            }
            if f.evidence_total > f.evidence.len() {
                let _ = write!(
                    evidence,
                    "<li class=\"muted\">… and {} more</li>",
                    f.evidence_total - f.evidence.len()
                );
            }
            evidence.push_str("</ul></details>");
        }
        let _ = writeln!(
            o,
            "<tr id=\"f-{}\"><td>{}</td><td class=\"time\">{time}</td><td>{}<br><strong>{}</strong><br>\
             <code class=\"muted\">{}</code></td><td>{}</td><td>{}<br>{}</td>\
             <td class=\"evidence\">{evidence}</td></tr>",
            e(&f.id),
            sev(f.severity),
            e(&f.account),
            e(&f.title),
            e(&f.rule),
            e(&f.summary),
            tactic(&f.tactic),
            techniques.join(" ")
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

fn remediation(o: &mut String, m: &Model) {
    o.push_str("<section id=\"remediation\">\n<h2>Remediation plan</h2>\n");
    if m.remediation.is_empty() {
        o.push_str("<p>No remediation step was produced.</p>\n</section>\n");
        return;
    }
    o.push_str(
        "<p class=\"muted\">Review each command before running it; they are listed in the order \
         to run them.</p>\n<ol>\n",
    );
    for s in &m.remediation {
        let refs: Vec<String> = s.finding_ids.iter().map(|f| finding_link(f)).collect();
        let _ = writeln!(
            o,
            "<li value=\"{}\"><p><strong>{}</strong> <span class=\"muted\">for {}</span> — {}{}</p>\
             <pre><code>{}</code></pre></li>",
            s.step,
            e(&s.action),
            e(&s.account),
            e(&s.reason),
            if refs.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"muted\">({})</span>", refs.join(", "))
            },
            e(&s.command)
        );
    }
    o.push_str("</ol>\n</section>\n");
}

fn inputs(o: &mut String, m: &Model) {
    let _ = write!(
        o,
        "<section id=\"inputs\">\n<h2>Inputs</h2>\n<p>{} file(s), {} recognised as exports: {} \
         record(s) kept, {} skipped, {} duplicate(s) dropped.</p>\n",
        m.counts.files, m.counts.exports, m.counts.records, m.counts.skipped, m.counts.duplicates
    );
    let _ = write!(
        o,
        "<table>\n<thead><tr><th>File</th><th>Kind</th><th>Format</th><th>Encoding</th>\
         <th class=\"num\">Bytes</th><th>SHA-256</th><th class=\"num\">Records</th>\
         <th class=\"num\">Skipped</th><th class=\"num\">Duplicates</th><th>First – last ({})</th>\
         </tr></thead>\n<tbody>\n",
        e(&m.zone)
    );
    for f in &m.inputs {
        let range = match (&f.first, &f.last) {
            (Some(a), Some(b)) => format!("{} –<br>{}", e(a), e(b)),
            _ => "<span class=\"muted\">—</span>".into(),
        };
        let _ = writeln!(
            o,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"nowrap\">{range}</td></tr>",
            e(&f.path),
            e(&f.kind),
            e(&f.format),
            e(&f.encoding),
            f.size,
            f.sha256
                .as_deref()
                .map_or_else(|| "<span class=\"muted\">not computed</span>".into(), |h| e(h).into_owned()),
            f.records,
            f.skipped,
            f.duplicates
        );
    }
    o.push_str("</tbody>\n</table>\n");

    let troubled: Vec<_> = m
        .inputs
        .iter()
        .filter(|f| {
            f.reason.is_some()
                || f.unreadable
                || !f.skip_reasons.is_empty()
                || !f.warnings.is_empty()
        })
        .collect();
    if !troubled.is_empty() {
        o.push_str("<h3>Skipped records and completeness warnings</h3>\n");
        for f in troubled {
            let _ = writeln!(o, "<h4 class=\"mono\">{}</h4>", e(&f.path));
            if let Some(r) = &f.reason {
                let _ = writeln!(
                    o,
                    "<p class=\"warn\">{}{}</p>",
                    if f.unreadable { "Unreadable: " } else { "" },
                    e(r)
                );
            }
            if !f.skip_reasons.is_empty() {
                o.push_str(
                    "<table>\n<thead><tr><th>Reason</th><th class=\"num\">Records</th>\
                     <th>Examples</th></tr></thead>\n<tbody>\n",
                );
                for (reason, n, ex) in &f.skip_reasons {
                    let ex: Vec<String> = ex
                        .iter()
                        .map(|x| format!("<span class=\"mono\">{}</span>", e(x)))
                        .collect();
                    let _ = writeln!(
                        o,
                        "<tr><td>{}</td><td class=\"num\">{n}</td><td>{}</td></tr>",
                        e(reason),
                        ex.join("<br>")
                    );
                }
                o.push_str("</tbody>\n</table>\n");
            }
            if !f.warnings.is_empty() {
                o.push_str("<ul>\n");
                for w in &f.warnings {
                    let _ = writeln!(o, "<li class=\"warn\">{}</li>", e(w));
                }
                o.push_str("</ul>\n");
            }
        }
    }
    if !m.input_problems.is_empty() {
        o.push_str("<h3>Paths not read</h3>\n<ul>\n");
        for (p, r) in &m.input_problems {
            let _ = writeln!(o, "<li><span class=\"mono\">{}</span>: {}</li>", e(p), e(r));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("<h3>Analysis notes</h3>\n");
    if m.notes.is_empty() {
        o.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        o.push_str("<ul>\n");
        for n in &m.notes {
            let _ = writeln!(o, "<li>{}</li>", e(n));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::clock::Clock;
    use super::super::model::tests::{model, samples, VICTIM};
    use super::super::model::*;
    use super::*;
    use std::sync::OnceLock;

    fn page() -> &'static str {
        static P: OnceLock<String> = OnceLock::new();
        P.get_or_init(|| render(model()))
    }

    #[test]
    fn the_samples_report_tells_the_whole_incident() {
        let h = page();
        assert!(h.starts_with("<!doctype html>"));
        assert!(h.contains("<meta charset=\"utf-8\">"));
        assert!(h.trim_end().ends_with("</html>"));
        assert!(h.contains(VICTIM));
        assert!(h.contains("2026-03-09 09:02:41 UTC") && h.contains("2026-03-11 08:30:17 UTC"));
        assert!(h.contains("89.160.20.115") && h.contains("175.16.199.10"));
        assert!(h.contains("Inbox rule &quot;..&quot;"), "rule name `..`");
        assert!(h.contains("ap.settlements@mailbox-relay.example"));
        assert!(h.contains("PDF Reader Online"));
        for r in [
            "sophie.turner",
            "james.okafor",
            "priya.shah",
            "tom.whitfield",
            "hannah.lewis",
            "marcus.bell",
        ] {
            assert!(
                h.contains(&format!("{r}@tailspinfreight.example")),
                "recipient {r}"
            );
        }
        assert!(h.contains("<section id=\"remediation\">"));
        assert!(h.contains("<section id=\"inputs\">"));
        let inputs = &h[h.find("<section id=\"inputs\">").unwrap()..];
        for f in [
            "purview/AuditLog_2026-03-16_all-users.csv",
            "extractor-suite/UAL-amelia.hart.json",
            "message-trace/MessageTrace_2026-03-02_2026-03-11.csv",
            "message-trace/MTSummary_Attack_Window_0a6f3d2c-8e41-4b97-b5c2-7d19e04f8a63.csv",
            "entra/InteractiveSignIns_2026-03-02_2026-03-15.csv",
            "entra/SignIns_amelia.hart.json",
            "mailbox-audit/MailboxAudit_amelia.hart.csv",
        ] {
            assert!(inputs.contains(f), "input {f}");
        }
        // The story, the chart and the evidence are there.
        assert!(h.contains("defence evasion") && h.contains("TA0005"));
        assert!(h.contains("<svg class=\"chart\""));
        assert!(h.contains("AuditLog_2026-03-16_all-users.csv:"));
        assert!(h.contains("<summary>Clean accounts ("));
        assert!(
            h.contains("AM9PR08MB65837623BB90D28400424D2101CB99018"),
            "a message the attacker read"
        );
    }

    #[test]
    fn the_page_is_inert_and_self_contained() {
        let h = page();
        let lower = h.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "no script at all");
        assert!(!lower.contains("<link"), "no external stylesheet");
        assert!(!lower.contains("<img"), "no images");
        assert!(!lower.contains("@import") && !lower.contains("url("));
        for attr in ["src=", "href="] {
            for (i, _) in lower.match_indices(attr) {
                let v = &lower[i + attr.len()..];
                let v = v.trim_start_matches(['"', '\'']);
                assert!(
                    v.starts_with('#'),
                    "{attr} pointing outside: {}",
                    &h[i..(i + 80).min(h.len())]
                );
            }
        }
        // URLs may appear as text (a remediation command, a subject), never as a reference.
        for (i, _) in lower.match_indices("http") {
            let before = &lower[..i];
            assert!(
                !before.ends_with("=\"") && !before.ends_with("='") && !before.ends_with('('),
                "reference to {}",
                &h[i..(i + 60).min(h.len())]
            );
        }
    }

    #[test]
    fn tags_are_balanced() {
        let h = page();
        for t in [
            "section", "table", "thead", "tbody", "tr", "td", "th", "ul", "ol", "li", "details",
            "summary", "svg", "g", "title", "p", "dl", "dt", "dd", "pre", "code", "h2", "h3",
        ] {
            let open = h.matches(&format!("<{t}>")).count() + h.matches(&format!("<{t} ")).count();
            let close = h.matches(&format!("</{t}>")).count();
            assert_eq!(open, close, "<{t}> opened {open} closed {close}");
        }
    }

    #[test]
    fn rendering_is_deterministic_and_follows_the_zone() {
        assert_eq!(render(model()), page());
        let local = render(&Model::build(
            samples(),
            &Clock::named("Europe/Amsterdam").unwrap(),
        ));
        assert!(local.contains("times in <strong>Europe/Amsterdam</strong>"));
        assert!(local.contains("2026-03-09 10:02:41 CET"));
    }

    #[test]
    fn an_empty_case_still_renders() {
        let dir = tempfile::tempdir().unwrap();
        let a = crate::analysis::run(
            &[dir.path().to_path_buf()],
            &crate::ingest::IngestOptions::default(),
            &crate::analysis::AnalyzeOptions::default(),
            &crate::ingest::source::NoCount,
        )
        .unwrap();
        let m = Model::build(&a, &Clock::utc());
        let h = render(&m);
        assert!(h.contains("No account is compromised or suspicious."));
        assert!(h.contains("<h2>Findings (0)</h2>") && h.contains("No findings."));
        assert!(h.trim_end().ends_with("</html>"));
        let md = super::super::markdown::render(&m);
        assert!(md.contains("No account is compromised or suspicious."));
    }

    /// Hostile strings that enter through a real export, analysis and all.
    #[test]
    fn hostile_export_end_to_end() {
        use serde_json::json;
        let x = "<img src=x onerror=alert(1)>";
        let y = "\"><script>alert(1)</script>";
        let base = |id: &str, time: &str, op: &str, rt: u32, wl: &str, ip: &str| {
            json!({"CreationTime": time, "Id": id, "Operation": op, "OrganizationId": "o",
                "RecordType": rt, "ResultStatus": "Succeeded", "UserKey": "k", "UserType": 0,
                "Version": 1, "Workload": wl, "ClientIP": ip, "UserId": "victim@corp.example",
                "MailboxOwnerUPN": "victim@corp.example", "SessionId": "s1"})
        };
        let mut recs = Vec::new();
        let mut r = base(
            "h-0",
            "2026-03-01T08:00:00",
            "UserLoggedIn",
            15,
            "AzureActiveDirectory",
            "81.2.69.150",
        );
        r["ExtendedProperties"] = json!([{"Name": "UserAgent", "Value": "Mozilla/5.0 normal"}]);
        r["SessionId"] = json!("s0");
        recs.push(r);
        let mut r = base(
            "h-1",
            "2026-03-09T09:06:14",
            "UserLoggedIn",
            15,
            "AzureActiveDirectory",
            "89.160.20.115",
        );
        r["ExtendedProperties"] = json!([{"Name": "UserAgent", "Value": format!("{y} {x}")}]);
        recs.push(r);
        let mut r = base(
            "h-2",
            "2026-03-09T09:14:07",
            "New-InboxRule",
            1,
            "Exchange",
            "89.160.20.115:5123",
        );
        r["ObjectId"] = json!(format!("victim@corp.example\\{x}"));
        r["Parameters"] = json!([
            {"Name": "Name", "Value": x},
            {"Name": "From", "Value": "x@ext.example"},
            {"Name": "SubjectContainsWords", "Value": format!("invoice;{y}")},
            {"Name": "MoveToFolder", "Value": "RSS Subscriptions"},
            {"Name": "MarkAsRead", "Value": "True"},
            {"Name": "DeleteMessage", "Value": "True"}]);
        recs.push(r);
        let mut r = base(
            "h-3",
            "2026-03-09T09:20:00",
            "Send",
            2,
            "Exchange",
            "89.160.20.115",
        );
        r["Item"] = json!({"Id": "i1", "InternetMessageId": "<m1@corp.example>",
            "Subject": format!("{y} | `tick` {x}"), "ParentFolder": {"Path": "\\Sent Items"}});
        recs.push(r);
        let mut r = base(
            "h-4",
            "2026-03-09T09:25:00",
            "HardDelete",
            3,
            "Exchange",
            "89.160.20.115",
        );
        r["AffectedItems"] = json!([{"Id": "i1", "InternetMessageId": "<m1@corp.example>",
            "Subject": format!("{y} {x}"), "ParentFolder": {"Path": format!("\\Sent Items {x}")}}]);
        recs.push(r);
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<String> = recs.iter().map(|r| r.to_string()).collect();
        std::fs::write(dir.path().join(format!("ual{x}.json")), body.join("\n"))
            .or_else(|_| std::fs::write(dir.path().join("ual.json"), body.join("\n")))
            .unwrap();
        let a = crate::analysis::run(
            &[dir.path().to_path_buf()],
            &crate::ingest::IngestOptions::default(),
            &crate::analysis::AnalyzeOptions::default(),
            &crate::ingest::source::NoCount,
        )
        .unwrap();
        let m = Model::build(&a, &Clock::utc());
        assert!(
            !m.accounts.is_empty(),
            "the hostile rule is found: {:?}",
            a.findings
        );
        let h = render(&m);
        assert!(!h.contains("<img") && !h.to_ascii_lowercase().contains("<script"));
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(h.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        let md = super::super::markdown::render(&m);
        let outside: String = md.split("```").step_by(2).collect();
        assert!(!outside.contains("<img") && !outside.contains("<script"));
        assert!(
            outside.contains("\\| \\`tick\\`"),
            "pipe and backticks escaped"
        );
    }

    /// A model whose every input-controlled string is hostile markup.
    pub(crate) fn hostile() -> Model {
        let x = "<img src=x onerror=alert(1)>";
        let y = "\"><script>alert(1)</script>";
        let both = format!("{x} {y} |pipe| `tick` # * - [l](j)");
        let mut m = model().clone();
        let a = &mut m.accounts[0];
        a.summary = both.clone();
        a.reasons = vec![both.clone()];
        a.user_agents = vec![x.into(), y.into()];
        a.sessions = vec![both.clone()];
        a.narrative[0].description = both.clone();
        a.narrative[0].operation = y.into();
        a.ips[0].location = Some(both.clone());
        a.ips[0].actions = vec![(both.clone(), 1)];
        a.objects[0].facts = vec![("rule name".into(), both.clone()), (both.clone(), y.into())];
        a.objects[0].summary = both.clone();
        a.read.bind[0].subject = both.clone();
        a.read.bind[0].folder = both.clone();
        a.read.sync_folders = vec![both.clone()];
        a.read.searches = vec![("t".into(), both.clone())];
        a.sent[0].subject = both.clone();
        a.deleted[0].subject = both.clone();
        if let Some(c) = a.chart.as_mut() {
            c.zone = both.clone();
            if let Some(b) = c.bins.iter_mut().find(|b| b.total > 0) {
                b.start = both.clone();
            }
        }
        m.findings[0].summary = both.clone();
        m.findings[0].title = both.clone();
        m.findings[0].evidence[0].location = format!("{y}:1");
        m.inputs[0].path = both.clone();
        m.inputs[0].skip_reasons = vec![(both.clone(), 1, vec![format!("{x}:3")])];
        m.inputs[0].warnings = vec![both.clone()];
        m.notes.push(both.clone());
        m.remediation.push(RemediationRow {
            step: 99,
            account: VICTIM.into(),
            action: "remove-inbox-rule".into(),
            command: format!("Remove-InboxRule -Identity '{both}'"),
            reason: both.clone(),
            finding_ids: vec![],
        });
        m.clean_accounts.push(CleanAccount {
            account: both,
            score: 0,
            findings: 0,
        });
        m
    }

    #[test]
    fn hostile_strings_are_escaped_everywhere() {
        let h = render(&hostile());
        assert!(!h.contains("<img"), "raw <img");
        assert!(!h.to_ascii_lowercase().contains("<script"), "raw <script");
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(h.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        // Inside the SVG tooltips too.
        let svg = &h[h.find("<svg").unwrap()..h.find("</svg>").unwrap()];
        assert!(svg.contains("&lt;img"));
    }
}

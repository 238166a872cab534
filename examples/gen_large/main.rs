//! Large, realistic Microsoft 365 exports for benchmarking mailsleuth (and anything else).
//!
//! ```text
//! cargo run --release --example gen_large -- --size 2GB --out DIR [--seed N] [--shapes purview,…] [--jobs N]
//! ```
//!
//! `--size` is the total across all files (decimal units: 100MB, 1GB, 4GB, 10GB, or bytes); the
//! Purview CSV is about 85% of it. `--shapes` picks files from `purview, sual, extractor, ndjson,
//! trace, summary, entra, graph` (default: all); the Purview share is rescaled so the total
//! still matches `--size`. Same seed + size + shapes ⇒ identical bytes (no clock, no hash-map
//! order, no thread timing reaches the output). Output streams through `BufWriter`s; memory is
//! one minute of records per file plus the user table (~1 user per 2 MB of output, min 50).
//!
//! # The tenant and its traffic
//!
//! Northwind Logistics Group (`northwindlogistics.example`), 14 days from Mon 2026-02-02 to
//! Sun 2026-02-15 UTC, UK working hours with weekends and nights much quieter. The operation mix
//! follows a large tenant's UAL: MailItemsAccessed Bind and Sync dominate, then SharePoint and
//! OneDrive file operations, sign-ins (UserLoggedIn, non-interactive token refreshes, and
//! UserLoginFailed: MFA interrupts, KMSI, password typos followed by a retry, expired passwords,
//! Conditional Access blocks, and a background password spray from TEST-NET-3 addresses that
//! never succeeds), Send, MailboxLogin, Update/Create/SoftDelete/MoveToDeletedItems, Teams,
//! mailbox searches, directory sync and service noise by `NT AUTHORITY\SYSTEM`. People use a
//! stable set of IPs: their office NAT on workdays (several egress addresses), a home address,
//! a phone on the carrier. Inbound mail exists only in the message-trace files.
//!
//! # The files
//!
//! | shape | file | scope |
//! |---|---|---|
//! | purview | `purview/AuditLog_2026-02-16_all-users.csv` | A1, all users, whole period, oldest first (~85%) |
//! | sual | `powershell/SearchUnifiedAuditLog_Finance.csv` | A3 (PowerShell 7 Export-Csv), a team incl. both victims |
//! | extractor | `extractor-suite/UAL-Combined.json` | A4, Extractor-Suite JSON under PowerShell 7: one array per day, concatenated |
//! | ndjson | `extractor-suite/UAL-SOF-ELK.ndjson` | A4, one compact AuditData per line |
//! | trace | `message-trace/MessageTraceV2_2026-02-05_2026-02-14.csv` | C1/C3, all mail of 10 days, one row per recipient, newest first |
//! | summary | `message-trace/MTSummary_Incident_Window_<guid>.csv` | C5, UTF-16LE BOM, 2026-02-09…10, one row per message |
//! | entra | `entra/InteractiveSignIns_2026-02-09_2026-02-15.csv` | D1, all interactive sign-ins of the last 7 days, newest first |
//! | graph | `entra/SignIns_graph_beta.json` | D2, Graph beta pages (one per line) for a group incl. the victims |
//!
//! The smaller UAL files are subsets of the Purview records (same `Id`s): dedupe has work to do.
//! The Purview portal caps an export at 50,000 rows; this benchmark ignores that cap on purpose
//! to exercise scale. A hidden `.gen_large-summary.tsv` lists files, records and bytes (mailsleuth
//! skips hidden files).
//!
//! # The planted incident (ground truth)
//!
//! Two victims picked from the seed, one in Accounts Payable and one in Finance (printed at the
//! end of a run with every attacker record: time, operation, IP, record id, and the attacker
//! sessions and tokens). All times UTC.
//!
//! * **Victim 1** (phished by a fake SharePoint share):
//!   - Mon 2026-02-09 08:12:41 lure from `docs@sharepoint-filedrop.example` (FromIP 175.16.199.20),
//!     message trace only; 08:58:10 the victim opens it from the office (MailItemsAccessed Bind).
//!   - 09:02:41, 09:03:58, 09:05:12 UserLoginFailed 50126 from **89.160.20.115** (a VPS); 09:06:14
//!     UserLoggedIn (Login:login) and 09:06:19 (OAuth2:Authorize, OWA) from the same IP, attacker
//!     session S1 and token T1 (both printed).
//!   - 09:07:02 MailboxLogin, 09:09:30 MailItemsAccessed Sync, six MailItemsAccessed Bind 09:18–09:40
//!     (20 items), searches `invoice` and `bank details`, all from 89.160.20.115 in session S1.
//!   - 09:44:12 New-InboxRule `..`: From accounts@harbor-logistics.example, SubjectOrBodyContainsWords
//!     invoice;payment;remittance, MoveToFolder RSS Subscriptions, MarkAsRead, StopProcessingRules.
//!   - 09:47:36 Set-Mailbox ForwardingSmtpAddress `smtp:ap.settlements@mailbox-relay.example`,
//!     DeliverToMailboxAndForward False; every later inbound mail to victim 1 shows in the traces as
//!     Resolved + Delivered to that address.
//!   - 10:12:45 Send "RE: Invoice HL-44817 – updated bank details" to payables@harbor-logistics.example;
//!     10:30:18 Send an internal phish to victim 2 and two colleagues; 10:40:29 HardDelete of both
//!     from `\Sent Items`.
//!   - Tue 2026-02-10 06:50–07:20 **token replay** from **175.16.199.10**: Sync, four Binds and
//!     Set-InboxRule `..` (DeleteMessage True), all with session S1 and token T1, no sign-in from
//!     that IP anywhere.
//! * **Victim 2** (opened the internal phish at 10:52:03 on 02-09 from the office):
//!   - Tue 2026-02-10 11:31:07, 11:32:40 UserLoginFailed 50126 from **89.160.20.121**; 11:34:02 and
//!     11:34:09 UserLoggedIn (session S2); 11:35:20 MailboxLogin; three Binds 11:38–11:51;
//!     11:55:48 New-InboxRule `Clean` (SubjectOrBodyContainsWords phish;hacked;suspicious;…,
//!     DeleteMessage True); 12:03:14 Send "Updated payment instructions for February invoices" to
//!     three partners; 12:09:40 HardDelete of it.
//!
//! Benign look-alikes: password typos followed by a success from the usual IP, MFA/KMSI interrupts,
//! the spray (failures only), occasional newsletter inbox rules via OWA, NAT egress switching,
//! service Set-Mailbox by SYSTEM, directory sync `Update user.` records.

mod audit;
mod incident;
mod model;
mod out;
mod rng;
mod sinks;
mod world;

use model::{Op, Plan, DAYS};
use sinks::Scope;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Purview,
    Sual,
    Extractor,
    Ndjson,
    Trace,
    Summary,
    Entra,
    Graph,
}

const ALL: [Shape; 8] = [
    Shape::Purview,
    Shape::Sual,
    Shape::Extractor,
    Shape::Ndjson,
    Shape::Trace,
    Shape::Summary,
    Shape::Entra,
    Shape::Graph,
];

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Purview => "purview",
            Shape::Sual => "sual",
            Shape::Extractor => "extractor",
            Shape::Ndjson => "ndjson",
            Shape::Trace => "trace",
            Shape::Summary => "summary",
            Shape::Entra => "entra",
            Shape::Graph => "graph",
        }
    }

    /// Nominal share of the total bytes (sums to 1 over all shapes).
    fn share(self) -> f64 {
        match self {
            Shape::Purview => 0.85,
            Shape::Sual => 0.04,
            Shape::Extractor => 0.035,
            Shape::Ndjson => 0.025,
            Shape::Trace => 0.02,
            Shape::Summary => 0.01,
            Shape::Entra => 0.015,
            Shape::Graph => 0.005,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Shape::Purview => "purview/AuditLog_2026-02-16_all-users.csv",
            Shape::Sual => "powershell/SearchUnifiedAuditLog_Finance.csv",
            Shape::Extractor => "extractor-suite/UAL-Combined.json",
            Shape::Ndjson => "extractor-suite/UAL-SOF-ELK.ndjson",
            Shape::Trace => "message-trace/MessageTraceV2_2026-02-05_2026-02-14.csv",
            Shape::Summary => {
                "message-trace/MTSummary_Incident_Window_6c0b7e14-2f3a-4d8b-9e51-a0c4d7f2b839.csv"
            }
            Shape::Entra => "entra/InteractiveSignIns_2026-02-09_2026-02-15.csv",
            Shape::Graph => "entra/SignIns_graph_beta.json",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Purview => "Purview portal UAL CSV (A1)",
            Shape::Sual => "Search-UnifiedAuditLog | Export-Csv (A3)",
            Shape::Extractor => "Extractor-Suite UAL JSON, concatenated arrays (A4)",
            Shape::Ndjson => "UAL AuditData NDJSON (A4)",
            Shape::Trace => "Get-MessageTraceV2 | Export-Csv (C1/C3)",
            Shape::Summary => "historical-search summary, UTF-16LE (C5)",
            Shape::Entra => "Entra portal sign-in CSV (D1)",
            Shape::Graph => "Graph beta signIns JSON pages (D2)",
        }
    }
}

struct Args {
    size: u64,
    out: PathBuf,
    seed: u64,
    shapes: Vec<Shape>,
    jobs: usize,
}

const USAGE: &str = "usage: gen_large --size 100MB|1GB|4GB|10GB|<bytes> --out DIR [--seed N] [--shapes purview,sual,extractor,ndjson,trace,summary,entra,graph] [--jobs N]";

fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_uppercase();
    let (digits, mult) = if let Some(x) = t.strip_suffix("GB") {
        (x, 1_000_000_000f64)
    } else if let Some(x) = t.strip_suffix("MB") {
        (x, 1_000_000f64)
    } else if let Some(x) = t.strip_suffix("KB") {
        (x, 1_000f64)
    } else if let Some(x) = t.strip_suffix('B') {
        (x, 1f64)
    } else {
        (t.as_str(), 1f64)
    };
    let v: f64 = digits.trim().parse().ok()?;
    (v > 0.0).then_some((v * mult) as u64)
}

fn parse_args() -> Result<Args, String> {
    let mut size = None;
    let mut out = None;
    let mut seed = 1u64;
    let mut shapes: Vec<Shape> = ALL.to_vec();
    let mut jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--size" => {
                size = Some(parse_size(&val("--size")?).ok_or(format!("bad --size\n{USAGE}"))?)
            }
            "--out" => out = Some(PathBuf::from(val("--out")?)),
            "--seed" => {
                seed = val("--seed")?
                    .parse()
                    .map_err(|_| "bad --seed".to_string())?
            }
            "--jobs" => {
                jobs = val("--jobs")?
                    .parse()
                    .map_err(|_| "bad --jobs".to_string())?
            }
            "--shapes" => {
                let v = val("--shapes")?;
                shapes = Vec::new();
                for name in v.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                    let s = ALL
                        .iter()
                        .find(|s| s.name() == name)
                        .ok_or(format!("unknown shape {name:?}\n{USAGE}"))?;
                    if !shapes.contains(s) {
                        shapes.push(*s);
                    }
                }
                if shapes.is_empty() {
                    return Err(format!("--shapes is empty\n{USAGE}"));
                }
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        size: size.ok_or(format!("--size is required\n{USAGE}"))?,
        out: out.ok_or(format!("--out is required\n{USAGE}"))?,
        seed,
        shapes,
        jobs: jobs.max(1),
    })
}

/// A writer that only counts (calibration).
struct Count(u64);
impl Write for Count {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Scopes of the smaller exports: share of activity covered, chosen so each file lands near its
/// nominal share of the total.
fn scope(p: &Plan, shape: Shape) -> Scope {
    let inc = &p.incident;
    let force = [inc.v1, inc.v2];
    let all = (0, DAYS);
    match shape {
        Shape::Sual => Scope {
            users: p.world.subset(0x5a1, 0.040, &force, &[0, 1]),
            days: all,
        },
        Shape::Extractor => Scope {
            users: p.world.subset(0xe87, 0.028, &force, &[]),
            days: all,
        },
        Shape::Ndjson => Scope {
            users: p.world.subset(0x4d7, 0.032, &force, &[]),
            days: all,
        },
        Shape::Graph => Scope {
            users: p.world.subset(0x9a9, 0.050, &force, &[0, 1, 12]),
            days: all,
        },
        Shape::Trace => Scope {
            users: Vec::new(),
            days: (3, 13),
        },
        Shape::Summary => Scope {
            users: Vec::new(),
            days: (7, 9),
        },
        Shape::Entra => Scope {
            users: Vec::new(),
            days: (7, 14),
        },
        Shape::Purview => Scope {
            users: Vec::new(),
            days: all,
        },
    }
}

/// A finished file: shape, (records, bytes) or the error, seconds.
type Done = (Shape, io::Result<(u64, u64)>, f64);

fn write_shape(p: &Plan, shape: Shape, w: &mut dyn Write) -> io::Result<u64> {
    let sc = scope(p, shape);
    match shape {
        Shape::Purview => sinks::purview(p, w),
        Shape::Sual => sinks::sual_csv(p, &sc, w),
        Shape::Extractor => sinks::extractor_json(p, &sc, w),
        Shape::Ndjson => sinks::ual_ndjson(p, &sc, w),
        Shape::Trace => sinks::trace_v2(p, &sc, w),
        Shape::Summary => sinks::eac_summary(p, &sc, w),
        Shape::Entra => sinks::entra_csv(p, &sc, w),
        Shape::Graph => sinks::graph_json(p, &sc, w),
    }
}

fn run_shape(p: &Plan, shape: Shape, dir: &Path) -> io::Result<(u64, u64)> {
    let path = dir.join(shape.path());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let f = std::fs::File::create(&path)?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let n = write_shape(p, shape, &mut w)?;
    w.flush()?;
    drop(w);
    let bytes = std::fs::metadata(&path)?.len();
    Ok((n, bytes))
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("gen_large: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> io::Result<()> {
    let t0 = Instant::now();
    let n_users = ((args.size / 2_000_000) as usize).max(50);

    // Calibrate: render every selected file over a spread of minutes (into a counter) to learn
    // the bytes per slot, then size the plan so the total lands on --size.
    let world = world::World::build(args.seed, n_users);
    let guess = (args.size as f64 / 2000.0).max(1000.0) as u64;
    let mut p0 = Plan::new(args.seed, world, guess);
    let minutes = p0.sample_minutes(20_000);
    let slots: u64 = minutes.iter().map(|&m| p0.slots_in_minute(m)).sum();
    p0.sample = Some(minutes);
    let mut c = Count(0);
    for &shape in args.shapes.iter() {
        write_shape(&p0, shape, &mut c)?;
    }
    let per_slot = c.0 as f64 / slots.max(1) as f64;
    let total_slots = (args.size as f64 / per_slot.max(1.0)).round().max(100.0) as u64;
    let plan = Plan::new(args.seed, p0.world, total_slots);

    std::fs::create_dir_all(&args.out)?;
    let mut order: Vec<Shape> = args.shapes.clone();
    order.sort_by(|a, b| b.share().total_cmp(&a.share()));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Done>> = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for _ in 0..args.jobs.min(order.len()) {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&shape) = order.get(i) else {
                    break;
                };
                let t = Instant::now();
                let r = run_shape(&plan, shape, &args.out);
                let secs = t.elapsed().as_secs_f64();
                if let Ok(mut v) = results.lock() {
                    v.push((shape, r, secs));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|r| ALL.iter().position(|s| *s == r.0));
    let elapsed = t0.elapsed().as_secs_f64();

    let mut total_bytes = 0u64;
    let mut total_records = 0u64;
    let mut tsv = String::from("path\tshape\trecords\tbytes\n");
    println!("{:>14} {:>11}  {:>6}  file", "bytes", "records", "secs");
    for (shape, r, secs) in results.iter() {
        let (n, bytes) = match r {
            Ok(x) => *x,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", shape.path()))),
        };
        total_bytes += bytes;
        total_records += n;
        println!(
            "{bytes:>14} {n:>11}  {secs:>6.1}  {}  [{}]",
            shape.path(),
            shape.describe()
        );
        tsv.push_str(&format!(
            "{}\t{}\t{n}\t{bytes}\n",
            shape.path(),
            shape.name()
        ));
    }
    tsv.push_str(&format!("TOTAL\tall\t{total_records}\t{total_bytes}\n"));
    std::fs::write(args.out.join(".gen_large-summary.tsv"), tsv)?;
    println!(
        "{total_bytes:>14} {total_records:>11}  {elapsed:>6.1}  total: {} users, {} slots, seed {}, {:.0} MB/s ({} jobs)",
        plan.world.users.len(),
        plan.slots,
        args.seed,
        total_bytes as f64 / 1e6 / elapsed.max(1e-9),
        args.jobs.min(order.len()),
    );
    print_incident(&plan);
    Ok(())
}

fn print_incident(p: &Plan) {
    let inc = &p.incident;
    let u1 = &p.world.users[inc.v1 as usize];
    let u2 = &p.world.users[inc.v2 as usize];
    let g = |x: u128| {
        let mut b = Vec::new();
        out::guid(&mut b, x);
        String::from_utf8_lossy(&b).into_owned()
    };
    let tk = |x: u128| {
        let mut b = Vec::new();
        out::token(&mut b, x);
        String::from_utf8_lossy(&b).into_owned()
    };
    println!();
    println!("Planted incident (ground truth):");
    println!(
        "  victim 1: {} ({}), attacker IP {} then token replay from {}",
        u1.upn,
        u1.display,
        incident::VPS_IP,
        incident::REPLAY_IP
    );
    println!(
        "            session {}  token {}",
        g(inc.session1),
        tk(inc.token1)
    );
    println!(
        "  victim 2: {} ({}), attacker IP {}",
        u2.upn,
        u2.display,
        incident::VPS_IP2
    );
    println!(
        "            session {}  token {}",
        g(inc.session2),
        tk(inc.token2)
    );
    println!(
        "  forwarding to {} from 2026-02-09T09:47:36Z; lure from {} ({})",
        incident::FORWARD_TO,
        incident::LURE_FROM,
        incident::LURE_IP
    );
    println!("  attacker records (UTC):");
    for s in inc.attacker_specs() {
        let m = audit::meta(p, s);
        let mut t = Vec::new();
        out::iso_z(&mut t, s.t);
        let who = if s.user == inc.v1 { "v1" } else { "v2" };
        let extra = match inc.payload(s) {
            Some(incident::Payload::Rule { name, .. }) => format!(" rule {name:?}"),
            Some(incident::Payload::Send { subject, .. }) => format!(" {subject:?}"),
            Some(incident::Payload::Search(q)) => format!(" query {q:?}"),
            Some(incident::Payload::Bind(n)) => format!(" {n} items"),
            Some(incident::Payload::Forward) => format!(" -> {}", incident::FORWARD_TO),
            _ if s.op == Op::SignIn && s.err != 0 => format!(" error {}", s.err),
            _ => String::new(),
        };
        println!(
            "    {}  {who}  {:<28} {:<15} id {}{extra}",
            String::from_utf8_lossy(&t),
            m.op,
            p.ip_str(s),
            g(m.id)
        );
    }
}

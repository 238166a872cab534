//! Writes the bundled sample case (a fictitious business-email-compromise investigation at
//! "Tailspin Freight Ltd") into a folder, deterministically: the same bytes on every run.
//!
//! ```text
//! cargo run --example gen_samples -- samples
//! ```
//!
//! Only std and chrono are used; randomness comes from a fixed-seed splitmix64, every collection that reaches the output is a Vec or a BTreeMap, and
//! no clock is read.

mod attack;
mod export;
mod mail;
mod model;
mod ordinary;
mod readme;
mod records;
mod util;
mod world;

use model::Case;
use std::collections::BTreeSet;
use std::path::Path;

fn build() -> (Case, mail::Routing) {
    let world = world::World::build();
    let plans = mail::plans(&world);
    let mut msgs = mail::ordinary(&world, &plans).msgs;
    attack::messages(&world, &mut msgs);
    msgs.sort_by(|a, b| a.t.cmp(&b.t).then(a.mid.cmp(&b.mid)));
    let route = mail::Routing {
        daniel: world.idx("daniel.price"),
        daniel_rule_at: util::at(3, 10, 47, 22),
        amelia: world.idx("amelia.hart"),
        rule_at: attack::rule_at(),
        forward_at: attack::forward_at(),
    };
    let boxes = mail::deliver(&world, &msgs, &route);
    let (signins, mut recs, facts) = {
        let mut g = ordinary::Gen::new(&world, &msgs, boxes);
        g.run(&plans);
        let facts = attack::run(&mut g);
        (g.signins, g.recs, facts)
    };
    for s in signins.iter() {
        recs.push(records::sign_in(&world, s));
    }
    (
        Case {
            world,
            msgs,
            signins,
            recs,
            facts,
        },
        route,
    )
}

/// Cross-checks that must hold for the case to be usable as ground truth.
fn check(case: &Case, outs: &[export::Out]) -> Result<(), String> {
    let mut ids = BTreeSet::new();
    for r in case.recs.iter() {
        if !ids.insert(r.id.as_str()) {
            return Err(format!("duplicate UAL id {}", r.id));
        }
    }
    let mut req = BTreeSet::new();
    for s in case.signins.iter() {
        if !req.insert(s.request_id.as_str()) {
            return Err(format!("duplicate request id {}", s.request_id));
        }
    }
    if case.facts.bound_by_attacker != 20 {
        return Err(format!(
            "attacker read {} messages, expected 20",
            case.facts.bound_by_attacker
        ));
    }
    if case.facts.invoice_mids.len() != 5 {
        return Err("expected 5 invoice threads".into());
    }
    let total: usize = outs.iter().map(|o| o.bytes.len()).sum();
    if total > 8 * 1024 * 1024 {
        return Err(format!("samples too large: {total} bytes"));
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "samples".to_string());
    let dir = Path::new(&dir);
    let (case, route) = build();
    let outs = vec![
        export::purview(&case),
        export::extractor(&case),
        export::trace_v2(&case, &route),
        export::eac_summary(&case, &route),
        export::entra_csv(&case),
        export::graph_json(&case),
        export::mailbox_audit(&case),
    ];
    check(&case, &outs)?;
    for o in outs.iter() {
        let p = dir.join(&o.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, &o.bytes)?;
    }
    let text = readme::render(&case, &route, &outs);
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("README.md"), text)?;
    // The exact bytes are the point (CRLF vs LF, BOMs, UTF-16): keep git from normalising them.
    std::fs::write(
        dir.join(".gitattributes"),
        "# Written by examples/gen_samples: the byte layout of these files is test input.\n* -text -diff\nREADME.md text diff\n.gitattributes text\n",
    )?;
    for o in outs.iter() {
        println!(
            "{:>9} bytes {:>6} records  {}",
            o.bytes.len(),
            o.records,
            o.path
        );
    }
    Ok(())
}

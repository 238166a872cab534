//! Detections: pure functions from the normalised events to evidence-linked findings.
//!
//! Each behaviour family has its own module; each detection is a [`Rule`] — id, title,
//! severity, ATT&CK ids, tactic and a function — listed in its module's `RULES`. The runner
//! computes the many-event aggregates once (with polars, in [`crate::frame`], *before* any rayon
//! work, since polars has its own pool), then runs every rule in parallel on rayon and sorts the
//! findings into a stable order. Rules read the events through [`Ctx`], which indexes them by
//! operation so each rule touches only the records it is about.

pub mod alerts;
pub mod auth_methods;
pub mod consent;
pub mod delegation;
pub mod finding;
pub mod forwarding;
pub mod inbox_rules;
pub mod mail_access;
pub mod sending;
pub mod signins;
pub mod tampering;
pub mod tenant;
#[cfg(test)]
pub mod testkit;

pub use finding::{Evidence, Finding, Rule, Severity, Tactic};
pub use tenant::Tenant;

use crate::event::{Bag, Event, Interner, SourceKind, Sym, SymMemo};
use crate::frame::Aggregates;
use crate::ingest::FileReport;
use rayon::prelude::*;
use sending::TraceIndex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Entra/UAL error codes that mean the *credential* was wrong (or the account locked for it).
/// Only these count towards spraying and guessing: MFA prompts (50074/50076), "keep me signed
/// in" interrupts (50140), Conditional Access blocks (53003) and the like do not.
pub const CREDENTIAL_FAILURE_CODES: &[u32] = &[50126, 50053, 50056, 50034, 50064];

/// What every rule reads.
pub struct Ctx<'a> {
    /// The string table.
    pub interner: &'a Interner,
    /// All events, sorted by [`Event::time_key`].
    pub events: &'a [Event],
    /// The input files (for evidence paths).
    pub files: &'a [FileReport],
    /// Own domains.
    pub tenant: &'a Tenant,
    /// Many-event aggregates computed up front.
    pub agg: &'a Aggregates,
    /// The events' indexes, built once per analysis and shared by every rule and report.
    index: Cow<'a, EventIndex>,
}

/// Indexes over the events that many rules and the reports read: built once per analysis,
/// kept in the [`Analysis`](crate::analysis::Analysis) for the reports, rather than once per
/// [`Ctx`] (the reports made three) or once per rule (nine rules and the report model each
/// indexed the whole message trace by Message-ID).
#[derive(Debug, Clone)]
pub struct EventIndex {
    /// Lower-cased operation → event indices in time order.
    by_op: HashMap<String, Vec<u32>>,
    /// Which actor keys are service actors, decided for every actor of the events up front:
    /// many rules ask this of every event they scan.
    system_actors: SymMemo,
    /// The symbols of the UAL's sign-in operations (absent when no event has them): the
    /// sign-in rules ask of every event whether it is one.
    signin_ops: [Option<Sym>; 2],
    /// The message trace by Message-ID, built by the first rule that asks.
    trace: OnceLock<TraceIndex>,
    /// The outgoing-mail bursts (C5), found by the first of the two rules that use them: each
    /// built the per-message table they come from, the largest thing those rules build.
    send_bursts: OnceLock<Vec<sending::SendBurst>>,
}

impl EventIndex {
    /// Indexes `events` (which must be sorted by time key) by lower-cased operation.
    pub fn new(interner: &Interner, events: &[Event]) -> EventIndex {
        // foldhash, not SipHash: one entry call per event, on the critical path before the
        // rules start.
        let mut by_sym: foldhash::HashMap<Sym, Vec<u32>> = foldhash::HashMap::default();
        let mut system_actors = SymMemo::new(interner);
        for (i, e) in events.iter().enumerate() {
            by_sym.entry(e.operation).or_default().push(i as u32);
            system_actors.test(e.actor_key, interner, is_system_actor);
        }
        let signin_ops = UAL_SIGNIN_OPERATIONS.map(|op| interner.get(op));
        let mut by_op: HashMap<String, Vec<u32>> = HashMap::new();
        for (sym, idx) in by_sym {
            let key = interner.resolve(sym).to_ascii_lowercase();
            let slot = by_op.entry(key).or_default();
            slot.extend(idx);
            slot.sort_unstable();
        }
        EventIndex {
            by_op,
            system_actors,
            signin_ops,
            trace: OnceLock::new(),
            send_bursts: OnceLock::new(),
        }
    }
}

impl<'a> Ctx<'a> {
    /// A context over `events` (which must be sorted by time key) that indexes them itself.
    pub fn new(
        interner: &'a Interner,
        events: &'a [Event],
        files: &'a [FileReport],
        tenant: &'a Tenant,
        agg: &'a Aggregates,
    ) -> Self {
        let index = Cow::Owned(EventIndex::new(interner, events));
        Self::over(interner, events, files, tenant, agg, index)
    }

    /// A context over `events` with their index already built (by [`EventIndex::new`] over
    /// the same events).
    pub fn with_index(
        interner: &'a Interner,
        events: &'a [Event],
        files: &'a [FileReport],
        tenant: &'a Tenant,
        agg: &'a Aggregates,
        index: &'a EventIndex,
    ) -> Self {
        Self::over(interner, events, files, tenant, agg, Cow::Borrowed(index))
    }

    fn over(
        interner: &'a Interner,
        events: &'a [Event],
        files: &'a [FileReport],
        tenant: &'a Tenant,
        agg: &'a Aggregates,
        index: Cow<'a, EventIndex>,
    ) -> Self {
        Ctx {
            interner,
            events,
            files,
            tenant,
            agg,
            index,
        }
    }

    /// The message trace by Message-ID (built on first use, then shared).
    pub fn trace(&self) -> &TraceIndex {
        self.index.trace.get_or_init(|| TraceIndex::new(self))
    }

    /// The outgoing-mail bursts, found with `find` by the first rule that asks (the other
    /// waits for them rather than finding them again).
    pub(crate) fn send_bursts(
        &self,
        find: impl FnOnce() -> Vec<sending::SendBurst>,
    ) -> &[sending::SendBurst] {
        self.index.send_bursts.get_or_init(find)
    }

    /// True when the IP is used successfully by a large share of the tenant (office egress):
    /// by itself never evidence of an attacker.
    pub fn is_common_ip(&self, ip: Sym) -> bool {
        self.agg.common_ips.contains(&ip)
    }

    /// The string behind a symbol.
    pub fn s(&self, sym: Sym) -> &'a str {
        self.interner.resolve(sym)
    }

    /// Event by index.
    pub fn ev(&self, i: u32) -> &'a Event {
        &self.events[i as usize]
    }

    /// Indices (time order) of events whose normalised operation is `op` (ASCII case-insensitive).
    pub fn op(&self, op: &str) -> &[u32] {
        self.index
            .by_op
            .get(&op.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Indices (time order) of events with any of `ops`.
    pub fn ops(&self, ops: &[&str]) -> Vec<u32> {
        let mut v: Vec<u32> = ops
            .iter()
            .flat_map(|o| self.op(o).iter().copied())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// First value of `name` in `bag` (ASCII case-insensitive).
    pub fn prop(&self, e: &'a Event, bag: Bag, name: &str) -> Option<&'a str> {
        e.prop(self.interner, bag, name)
    }

    /// A cmdlet parameter.
    pub fn param(&self, e: &'a Event, name: &str) -> Option<&'a str> {
        self.prop(e, Bag::Parameters, name)
    }

    /// The account an event is about: the affected mailbox, else the actor.
    pub fn account(&self, e: &Event) -> &'a str {
        self.s(e.account())
    }

    /// True for a sign-in record from any source (Entra log or UAL UserLoggedIn/UserLoginFailed).
    pub fn is_signin(&self, e: &Event) -> bool {
        e.source == SourceKind::Signin
            || (e.source == SourceKind::Ual && self.index.signin_ops.contains(&Some(e.operation)))
    }

    /// True for a failed sign-in whose error means a wrong credential.
    pub fn is_credential_failure(&self, e: &Event) -> bool {
        self.is_signin(e) && credential_failure_code(e, self.interner)
    }

    /// True for actions by the service itself (provisioning noise): `NT AUTHORITY\SYSTEM (…)`,
    /// `S-1-5-18`, Exchange service hosts, empty actors.
    pub fn is_system_actor(&self, e: &Event) -> bool {
        self.index
            .system_actors
            .known(e.actor_key)
            .unwrap_or_else(|| is_system_actor(self.s(e.actor_key)))
    }

    /// The evidence entry for an event.
    pub fn evidence(&self, e: &Event) -> Evidence {
        Evidence {
            file: self
                .files
                .get(e.file as usize)
                .map(|f| f.path.clone())
                .unwrap_or_default(),
            line: u64::from(e.line),
            record_id: e.record_id.text(self.interner).into_owned(),
            time: e.time,
            operation: self.s(e.operation_raw).to_string(),
        }
    }
}

/// [`Ctx::is_system_actor`] on an actor key's text.
fn is_system_actor(a: &str) -> bool {
    a.is_empty()
        || a.starts_with("nt authority\\")
        || a == "s-1-5-18"
        || a.contains("microsoft.exchange.")
        || a.starts_with("servicehost")
}

/// True for a sign-in record from any source (Entra log or UAL UserLoggedIn/UserLoginFailed).
pub fn is_signin(e: &Event, interner: &Interner) -> bool {
    e.source == SourceKind::Signin
        || (e.source == SourceKind::Ual && is_ual_signin_operation(interner.resolve(e.operation)))
}

/// The UAL's sign-in operations.
const UAL_SIGNIN_OPERATIONS: [&str; 2] = ["UserLoggedIn", "UserLoginFailed"];

fn is_ual_signin_operation(op: &str) -> bool {
    UAL_SIGNIN_OPERATIONS.contains(&op)
}

/// True for a failed sign-in whose error means a wrong credential (see
/// [`CREDENTIAL_FAILURE_CODES`]); MFA prompts, interrupts and policy blocks are not.
pub fn is_credential_failure(e: &Event, interner: &Interner) -> bool {
    is_signin(e, interner) && credential_failure_code(e, interner)
}

/// The failure part of [`is_credential_failure`], for an event known to be a sign-in.
fn credential_failure_code(e: &Event, interner: &Interner) -> bool {
    e.outcome == crate::event::Outcome::Failure
        && match e.error_code.get() {
            Some(code) => CREDENTIAL_FAILURE_CODES.contains(&code),
            None => matches!(
                interner.resolve(e.error_text),
                "InvalidUserNameOrPassword" | "IdsLocked"
            ),
        }
}

/// Every rule, in a fixed order.
pub fn registry() -> Vec<&'static Rule> {
    let families: &[&'static [Rule]] = &[
        forwarding::RULES,
        inbox_rules::RULES,
        sending::RULES,
        mail_access::RULES,
        delegation::RULES,
        auth_methods::RULES,
        signins::RULES,
        consent::RULES,
        tampering::RULES,
        alerts::RULES,
    ];
    families.iter().flat_map(|f| f.iter()).collect()
}

/// Runs every rule in parallel and returns the findings, finalised and in a stable order
/// (first seen, rule, account, id).
pub fn run(ctx: &Ctx<'_>, rules: &[&'static Rule]) -> Vec<Finding> {
    run_timed(ctx, rules).0
}

/// [`run`], also returning each rule's time on the worker that ran it, slowest first (for
/// `--debug-timings`: a rule that grows faster than the input stands out).
pub fn run_timed(
    ctx: &Ctx<'_>,
    rules: &[&'static Rule],
) -> (Vec<Finding>, Vec<(&'static str, Duration)>) {
    let per_rule: Vec<(Vec<Finding>, Duration)> = rules
        .par_iter()
        .map(|rule| {
            let t = Instant::now();
            let found = (rule.run)(ctx, rule);
            (found, t.elapsed())
        })
        .collect();
    let mut times: Vec<(&'static str, Duration)> = rules
        .iter()
        .zip(&per_rule)
        .map(|(rule, (_, d))| (rule.id, *d))
        .collect();
    times.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut findings: Vec<Finding> = per_rule.into_iter().flat_map(|(f, _)| f).collect();
    findings.par_iter_mut().for_each(|f| f.finalize(ctx));
    findings.retain(|f| !f.evidence.is_empty());
    findings.sort_by(|a, b| {
        (a.first_seen, a.rule, &a.account, &a.id).cmp(&(b.first_seen, b.rule, &b.account, &b.id))
    });
    findings.dedup_by(|a, b| a.id == b.id);
    (findings, times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctx_tells_sign_ins_as_the_free_function_does() {
        let i = Interner::new();
        let ev = |source, op: &str| Event {
            source,
            operation: i.intern(op),
            ..Default::default()
        };
        let events = vec![
            ev(SourceKind::Ual, "UserLoggedIn"),
            ev(SourceKind::Ual, "userloggedin"),
            ev(SourceKind::Ual, "MailItemsAccessed"),
            ev(SourceKind::Ual, ""),
            ev(SourceKind::Signin, "Sign-in activity"),
            ev(SourceKind::MailboxAudit, "UserLoginFailed"),
        ];
        let (tenant, agg) = (Tenant::default(), Aggregates::default());
        let ctx = Ctx::new(&i, &events, &[], &tenant, &agg);
        let got: Vec<bool> = events.iter().map(|e| ctx.is_signin(e)).collect();
        assert_eq!(got, [true, false, false, false, true, false]);
        assert!(events.iter().all(|e| ctx.is_signin(e) == is_signin(e, &i)));
        // Neither operation in the table: an event without an operation is still not one.
        let empty = Interner::new();
        let events = vec![Event::default()];
        let ctx = Ctx::new(&empty, &events, &[], &tenant, &agg);
        assert_eq!(ctx.index.signin_ops, [None, None]);
        assert!(!ctx.is_signin(&events[0]));
    }
}

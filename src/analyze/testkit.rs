//! Test support for rules: build events from raw JSON records through the real parsers, then
//! run one rule exactly as the runner does.

use super::{Ctx, Finding, Rule, Tenant};
use crate::event::{Event, Interner};
use crate::frame;
use crate::ingest::record::{JsonParser, ParseCtx};
use crate::ingest::{message_trace, signin, ual_json};

/// A handful of events and the means to run a rule on them.
#[derive(Default)]
pub struct Kit {
    /// String table.
    pub interner: Interner,
    /// Events added so far.
    pub events: Vec<Event>,
    line: u64,
}

impl Kit {
    /// An empty kit.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, parser: &dyn JsonParser, json: &str) -> &mut Self {
        self.line += 1;
        let ctx = ParseCtx {
            interner: &self.interner,
            file: 0,
        };
        let mut out = Vec::new();
        if let Err(skip) = parser.parse_record(json, self.line, &ctx, &mut out) {
            panic!("test record did not parse ({}): {json}", skip.reason);
        }
        assert!(!out.is_empty(), "test record produced no event: {json}");
        self.events.extend(out);
        self
    }

    /// Adds a UAL record (AuditData itself, a wrapper, or a Graph audit record).
    pub fn ual(&mut self, json: &str) -> &mut Self {
        self.add(&ual_json::UalJson::new(), json)
    }

    /// Adds an Entra sign-in (Graph object or diagnostic record).
    pub fn signin(&mut self, json: &str) -> &mut Self {
        self.add(&signin::SigninJson::new(), json)
    }

    /// Adds a message-trace record (reporting JSON).
    pub fn trace(&mut self, json: &str) -> &mut Self {
        self.add(&message_trace::TraceJson::new(), json)
    }

    /// Runs `rule` with the tenant inferred from the events plus `org_domains`.
    pub fn run(&self, rule: &'static Rule, org_domains: &[&str]) -> Vec<Finding> {
        self.with_ctx(org_domains, |ctx| super::run(ctx, &[rule]))
    }

    /// Runs each of `rules` in turn over one context (one analysis), as the runner would but
    /// in this order: for rules that share work through the context.
    pub fn run_in_order(&self, rules: &[&'static Rule], org_domains: &[&str]) -> Vec<Vec<Finding>> {
        self.with_ctx(org_domains, |ctx| {
            rules.iter().map(|&r| super::run(ctx, &[r])).collect()
        })
    }

    /// Calls `f` with a context over the events (sorted), the tenant inferred from them plus
    /// `org_domains`.
    fn with_ctx<R>(&self, org_domains: &[&str], f: impl FnOnce(&Ctx<'_>) -> R) -> R {
        let mut events = self.events.clone();
        events.sort_by_key(Event::time_key);
        let extra: Vec<String> = org_domains.iter().map(|s| s.to_string()).collect();
        let tenant = Tenant::infer(&events, &self.interner, &extra);
        let agg = frame::aggregate(&events, &self.interner, |e| {
            super::is_credential_failure(e, &self.interner)
        })
        .expect("aggregation");
        f(&Ctx::new(&self.interner, &events, &[], &tenant, &agg))
    }
}

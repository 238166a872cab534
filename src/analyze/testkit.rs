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
        let mut events = self.events.clone();
        events.sort_by_key(Event::time_key);
        let extra: Vec<String> = org_domains.iter().map(|s| s.to_string()).collect();
        let tenant = Tenant::infer(&events, &self.interner, &extra);
        let agg = frame::aggregate(&events, &self.interner, |e| {
            super::is_credential_failure(e, &self.interner)
        })
        .expect("aggregation");
        let ctx = Ctx::new(&self.interner, &events, &[], &tenant, &agg);
        super::run(&ctx, &[rule])
    }
}

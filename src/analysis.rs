//! `analyze` end to end: ingest → detections → correlation. Reports are written separately
//! (see [`crate::report`]) from the [`Analysis`] this returns.

use crate::analyze::{self, Ctx, EventIndex, Finding, Tenant};
use crate::correlate::{self, AccountVerdict};
use crate::event::Event;
use crate::frame::{self, Aggregates};
use crate::ingest::{self, source::ByteCounter, Ingest, IngestOptions};
use crate::timings::Timings;
use std::path::PathBuf;
use std::time::Instant;

/// What `analyze` needs beyond ingest options.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Extra own domains (`--org-domain`), added to the inferred ones.
    pub org_domains: Vec<String>,
    /// MaxMind-format databases (`--geoip`).
    pub geoip: Vec<PathBuf>,
}

/// Everything the reports are written from.
#[derive(Debug)]
pub struct Analysis {
    /// The events (sorted by time key), files and interner.
    pub ingest: Ingest,
    /// Own domains.
    pub tenant: Tenant,
    /// Precomputed aggregates.
    pub agg: Aggregates,
    /// The events' indexes the rules read, kept for the reports.
    pub index: EventIndex,
    /// All findings, stable order.
    pub findings: Vec<Finding>,
    /// One verdict per tenant account, compromised first.
    pub accounts: Vec<AccountVerdict>,
    /// Limits of this analysis the reader must know (missing data, unchecked questions).
    pub notes: Vec<String>,
    /// Phase times and memory (`--debug-timings`).
    pub timings: Timings,
}

impl Analysis {
    /// A rule context over this analysis (cheap: the index is the analysis's own).
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx::with_index(
            &self.ingest.interner,
            &self.ingest.events,
            &self.ingest.files,
            &self.tenant,
            &self.agg,
            &self.index,
        )
    }
}

/// Errors that stop an analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The polars layer failed (a bug).
    #[error(transparent)]
    Frame(#[from] frame::FrameError),
    /// A GeoIP database could not be read.
    #[error(transparent)]
    Geo(#[from] crate::geo::GeoError),
}

/// Runs the whole analysis.
pub fn run(
    paths: &[PathBuf],
    ingest_options: &IngestOptions,
    options: &AnalyzeOptions,
    counter: &dyn ByteCounter,
) -> Result<Analysis, AnalyzeError> {
    run_with(paths, ingest_options, options, counter, |_| ()).map(|(a, ())| a)
}

/// Runs the whole analysis, and `beside` on its own thread once the events are read and
/// sorted, while detection and correlation run. For work that needs only the events (the
/// Parquet export): it then costs no wall time of its own when cores are free. `beside` may
/// use polars (it is not inside a rayon task).
pub fn run_with<R: Send>(
    paths: &[PathBuf],
    ingest_options: &IngestOptions,
    options: &AnalyzeOptions,
    counter: &dyn ByteCounter,
    beside: impl FnOnce(&Ingest) -> R + Send,
) -> Result<(Analysis, R), AnalyzeError> {
    let geo = if options.geoip.is_empty() {
        None
    } else {
        Some(crate::geo::GeoIp::open(&options.geoip)?)
    };
    let t = Instant::now();
    let mut ingest = ingest::run(paths, ingest_options, counter);
    let mut timings = Timings::default();
    timings.record("ingest", t);

    let t = Instant::now();
    ingest.events.sort_unstable_by_key(Event::time_key);
    let (correlation, beside_result, tenant, agg, index) = std::thread::scope(|scope| {
        // Named, so profilers and `top -H` tell its time from the rules'. Started as soon as
        // the events are in order, so it overlaps the aggregates too.
        let handle = std::thread::Builder::new()
            .name("mailsleuth-beside".into())
            .spawn_scoped(scope, || beside(&ingest))
            .expect("spawning a thread");
        // Three passes over every event, independent of each other: the own domains and the
        // rules' index by operation on rayon's pool while this thread builds the aggregates
        // (one after the other they were 0.7 s at 4 GB with a core idle beside the export).
        let (mut tenant, mut index) = (None, None);
        let agg = rayon::in_place_scope(|pool| {
            pool.spawn(|_| {
                tenant = Some(Tenant::infer(
                    &ingest.events,
                    &ingest.interner,
                    &options.org_domains,
                ))
            });
            pool.spawn(|_| index = Some(EventIndex::new(&ingest.interner, &ingest.events)));
            // polars runs on this thread, which is not one of rayon's: it schedules its own
            // pool.
            frame::aggregate(&ingest.events, &ingest.interner, |e| {
                analyze::is_credential_failure(e, &ingest.interner)
            })
        })?;
        let tenant = tenant.expect("the scope ran its tasks");
        let index = index.expect("the scope ran its tasks");
        timings.record("prepare", t);

        let t = Instant::now();
        let ctx = Ctx::with_index(
            &ingest.interner,
            &ingest.events,
            &ingest.files,
            &tenant,
            &agg,
            &index,
        );
        let (findings, rule_times) = analyze::run_timed(&ctx, &analyze::registry());
        timings.record("detect", t);
        timings.rules(rule_times);

        let t = Instant::now();
        let correlation = correlate::run(&ctx, findings, geo.as_ref());
        timings.record("correlate", t);
        drop(ctx);
        let t = Instant::now();
        let beside_result = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        timings.record("wait:beside", t);
        Ok::<_, AnalyzeError>((correlation, beside_result, tenant, agg, index))
    })?;

    let mut notes = ingest.warnings.clone();
    if geo.is_none() {
        notes.push(
            "no GeoIP database given (--geoip): countries, networks and impossible travel \
             between IPs were not checked, except where sign-in records carry their own location"
                .into(),
        );
    }
    Ok((
        Analysis {
            ingest,
            tenant,
            index,
            agg,
            findings: correlation.findings,
            accounts: correlation.accounts,
            notes,
            timings,
        },
        beside_result,
    ))
}

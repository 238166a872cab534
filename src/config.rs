//! The validated, immutable configuration the library sees. The binary builds it from parsed
//! arguments; nothing in the library knows about clap.

use crate::ingest::split::Limits;
use crate::ingest::IngestOptions;
use std::path::PathBuf;

/// Errors in the user's request, reported as usage errors.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `--threads 0`.
    #[error("--threads must be at least 1")]
    ZeroThreads,
    /// `--max-record-mib` outside 1..=1024.
    #[error("--max-record-mib must be between 1 and 1024, not {0}")]
    RecordLimit(usize),
    /// No input path.
    #[error("no input path given")]
    NoInputs,
    /// Unknown `--timezone`.
    #[error("--timezone {0:?} is not an IANA time zone (e.g. Europe/Amsterdam, UTC)")]
    TimeZone(String),
    /// `--org-domain` that is not a domain.
    #[error("--org-domain {0:?} is not a domain name (e.g. contoso.com)")]
    OrgDomain(String),
}

/// Shared settings.
#[derive(Debug, Clone)]
pub struct Common {
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Ingest limits and options.
    pub ingest: IngestOptions,
    /// Draw progress and summaries on stderr.
    pub progress: bool,
    /// Colour on the terminal.
    pub color: bool,
}

impl Common {
    /// Validates the shared settings.
    pub fn new(
        threads: Option<usize>,
        max_record_mib: usize,
        progress: bool,
        color: bool,
    ) -> Result<Self, ConfigError> {
        if threads == Some(0) {
            return Err(ConfigError::ZeroThreads);
        }
        if !(1..=1024).contains(&max_record_mib) {
            return Err(ConfigError::RecordLimit(max_record_mib));
        }
        let limits = Limits {
            max_record_bytes: max_record_mib * 1024 * 1024,
            ..Limits::default()
        };
        Ok(Common {
            threads,
            ingest: IngestOptions {
                limits,
                ..IngestOptions::default()
            },
            progress,
            color,
        })
    }
}

/// `inspect`'s configuration.
#[derive(Debug, Clone)]
pub struct InspectConfig {
    /// Shared settings.
    pub common: Common,
    /// Inputs.
    pub paths: Vec<PathBuf>,
    /// JSON instead of a table.
    pub json: bool,
}

impl InspectConfig {
    /// Validates.
    pub fn new(common: Common, paths: Vec<PathBuf>, json: bool) -> Result<Self, ConfigError> {
        if paths.is_empty() {
            return Err(ConfigError::NoInputs);
        }
        Ok(InspectConfig {
            common,
            paths,
            json,
        })
    }
}

/// `analyze`'s configuration.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    /// Shared settings.
    pub common: Common,
    /// Inputs.
    pub paths: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Replace an existing output folder.
    pub force: bool,
    /// Analysis options.
    pub analyze: crate::analysis::AnalyzeOptions,
    /// Print phase timings.
    pub debug_timings: bool,
    /// How reports are written.
    pub report: crate::report::write::ReportOptions,
}

/// What the user asked `analyze` for, before validation (plain data, no clap types).
#[derive(Debug, Clone, Default)]
pub struct AnalyzeRequest {
    /// Inputs.
    pub paths: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Replace an existing output folder.
    pub force: bool,
    /// `--org-domain` values.
    pub org_domains: Vec<String>,
    /// `--geoip` databases.
    pub geoip: Vec<PathBuf>,
    /// `--debug-timings`.
    pub debug_timings: bool,
    /// `--timeline`.
    pub timeline: crate::report::timeline::Scope,
    /// `--timezone`.
    pub timezone: String,
}

impl AnalyzeConfig {
    /// Validates.
    pub fn new(common: Common, request: AnalyzeRequest) -> Result<Self, ConfigError> {
        let AnalyzeRequest {
            paths,
            out,
            force,
            org_domains,
            geoip,
            debug_timings,
            timeline,
            timezone,
        } = request;
        let timezone = timezone.as_str();
        let clock = crate::report::clock::Clock::named(timezone)
            .ok_or_else(|| ConfigError::TimeZone(timezone.to_string()))?;
        if paths.is_empty() {
            return Err(ConfigError::NoInputs);
        }
        for d in &org_domains {
            let d = d.trim().trim_start_matches('@');
            if d.is_empty() || !d.contains('.') || d.contains(['/', '@', ' ']) {
                return Err(ConfigError::OrgDomain(d.to_string()));
            }
        }
        let manifest = crate::report::manifest::Options {
            inputs: paths.iter().map(|p| p.display().to_string()).collect(),
            org_domains: org_domains.clone(),
            geoip: geoip.iter().map(|p| p.display().to_string()).collect(),
            timeline: format!("{timeline:?}").to_ascii_lowercase(),
            timezone: clock.zone_name().to_string(),
            max_record_mib: common.ingest.limits.max_record_bytes >> 20,
        };
        Ok(AnalyzeConfig {
            report: crate::report::write::ReportOptions {
                timeline,
                clock,
                manifest,
            },
            common,
            paths,
            out,
            force,
            analyze: crate::analysis::AnalyzeOptions { org_domains, geoip },
            debug_timings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_usage_errors() {
        assert_eq!(
            Common::new(Some(0), 16, false, false).unwrap_err(),
            ConfigError::ZeroThreads
        );
        assert_eq!(
            Common::new(None, 0, false, false).unwrap_err(),
            ConfigError::RecordLimit(0)
        );
        let c = Common::new(Some(2), 4, false, false).unwrap();
        assert_eq!(c.ingest.limits.max_record_bytes, 4 << 20);
        assert!(InspectConfig::new(c, vec![], false).is_err());
    }
}

//! mailsleuth: offline investigation of Microsoft 365 / Exchange Online mailbox compromise.
//!
//! The data flows `ingest` → `analyze` → `correlate` → `report`; each stage's output type is the
//! next one's input, so each can be tested alone.

pub mod analysis;
pub mod analyze;
pub mod config;
pub mod correlate;
pub mod event;
pub mod frame;
pub mod geo;
pub mod ingest;
pub mod inspect;
pub mod report;
pub mod timings;

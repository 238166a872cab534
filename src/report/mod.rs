//! Everything the investigator takes away. One writer per output; every writer escapes
//! attacker-controlled text through [`escape`], and all files go through [`output::OutputDir`].

pub mod chart;
pub mod clock;
pub mod describe;
pub mod escape;
pub mod findings_json;
pub mod html;
pub mod manifest;
pub mod markdown;
pub mod model;
pub mod narrative;
pub mod output;
pub mod remediation;
pub mod terminal;
pub mod timeline;
pub mod write;

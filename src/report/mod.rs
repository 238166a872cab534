//! Everything the investigator takes away. One writer per output; every writer escapes
//! attacker-controlled text through [`escape`], and all files go through [`output::OutputDir`].

pub mod escape;
pub mod findings_json;
pub mod output;
pub mod terminal;

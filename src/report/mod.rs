//! Everything the investigator takes away; every writer escapes through [`escape`].

pub mod escape;
pub mod terminal;

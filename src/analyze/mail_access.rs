//! PLACEHOLDER — being written by a helper.
use super::Rule;

/// The rules of this family.
pub static RULES: &[Rule] = &[];

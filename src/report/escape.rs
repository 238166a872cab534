//! Escaping attacker-controlled text for each place it ends up.
//!
//! Rule names, subjects, user agents and folder names are chosen by the attacker. Each output
//! has its own hazard: raw control characters and ANSI sequences rewrite an investigator's
//! terminal; `<`/`&` become markup in HTML; a leading `=`, `+`, `-` or `@` turns a CSV cell into a
//! spreadsheet formula. Every writer goes through one of these functions.

use std::borrow::Cow;

/// Text safe to print on a terminal: control characters (C0, DEL, C1 — which includes ESC and
/// so every ANSI sequence) and Unicode bidi overrides become visible `\u{..}` escapes.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_terminal_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        if needs_terminal_escape(ch) {
            out.push_str(&format!("\\u{{{:x}}}", ch as u32));
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

fn needs_terminal_escape(ch: char) -> bool {
    ch.is_control()
        || matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Text safe inside HTML element content and quoted attribute values.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| matches!(c, '<' | '>' | '&' | '"' | '\'') || needs_terminal_escape(c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if needs_terminal_escape(c) => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A CSV cell that no spreadsheet evaluates: cells starting with `=`, `+`, `-`, `@`, TAB or CR
/// get a leading apostrophe (OWASP's guard), and line breaks become a visible `\n` so each record
/// stays on one line. Quoting itself is left to the csv writer.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let breaks = s.contains(['\n', '\r']) || s.chars().any(|c| c.is_control() && c != '\t');
    if !formula && !breaks {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 2);
    if formula {
        out.push('\'');
    }
    for ch in s.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && c != '\t' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_neutralises_escape_sequences() {
        assert_eq!(terminal("plain rule"), "plain rule");
        assert_eq!(terminal("\x1b[31mred\x07"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(terminal("a\u{202e}b"), "a\\u{202e}b");
        assert!(matches!(terminal("ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(html("a&b \"c\" 'd'"), "a&amp;b &quot;c&quot; &#39;d&#39;");
    }

    #[test]
    fn csv_cells_never_become_formulas_or_break_lines() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("line1\nline2"), "line1\\nline2");
        assert_eq!(csv_cell("Invoice 44817"), "Invoice 44817");
    }
}

//! Whose domains are "ours"? Decides internal versus external for forwarding, redirects and
//! recipients.
//!
//! Inferred from the data (the domains of the accounts that act in the tenant's own logs, the
//! `OrganizationName`, any `*.onmicrosoft.com`) and overridable with `--org-domain`. Addresses
//! arrive as `smtp:x@y`, `SMTP:x@y`, `"Name" [SMTP:x@y]`, `[EX:/o=…]` (always internal), bare
//! names (internal mailboxes) and lists joined with `;` or `,`.

use crate::event::{find_prop_sym, Bag, Event, Interner, SourceKind, Sym};
use std::collections::BTreeSet;

/// The tenant's own mail domains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tenant {
    domains: BTreeSet<String>,
}

impl Tenant {
    /// A tenant with exactly these domains.
    pub fn with_domains<I: IntoIterator<Item = S>, S: AsRef<str>>(domains: I) -> Self {
        Tenant {
            domains: domains
                .into_iter()
                .map(|d| {
                    d.as_ref()
                        .trim()
                        .trim_start_matches('@')
                        .to_ascii_lowercase()
                })
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// Infers the domains from the events, then adds `extra` (the `--org-domain` values).
    ///
    /// A domain counts when an account of that domain acts in the tenant's own audit or sign-in
    /// logs, or owns a mailbox there. Senders in message trace do not count: anyone can send.
    pub fn infer(events: &[Event], interner: &Interner, extra: &[String]) -> Self {
        // Each distinct string is looked at once, after a pass that only marks symbols:
        // resolving, lower-casing and counting per event cost an allocation and a string-keyed
        // map lookup for each of millions of events, on the serial path before detection.
        const ADDRESS: u8 = 1;
        const ORGANIZATION: u8 = 2;
        let mut marks = vec![0u8; interner.len() + 1];
        let mut mark = |sym: Sym, how: u8| {
            if let Some(m) = marks.get_mut(sym.index() as usize) {
                *m |= how;
            }
        };
        for e in events {
            if e.source == SourceKind::MessageTrace {
                continue;
            }
            mark(e.actor_key, ADDRESS);
            mark(e.mailbox, ADDRESS);
            if let Some(org) = find_prop_sym(&e.props, interner, Bag::Field, "OrganizationName") {
                mark(org, ORGANIZATION);
            }
        }
        let mut domains: BTreeSet<String> = BTreeSet::new();
        for (i, &how) in marks.iter().enumerate().skip(1) {
            if how == 0 {
                continue;
            }
            let text = interner.resolve(Sym::from_index(i as u32));
            if how & ADDRESS != 0 {
                if let Some(d) = domain_of(text) {
                    domains.insert(d.to_ascii_lowercase());
                }
            }
            if how & ORGANIZATION != 0 {
                let org = text.trim().to_ascii_lowercase();
                if org.contains('.') {
                    domains.insert(org);
                }
            }
        }
        domains.extend(
            extra
                .iter()
                .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase()),
        );
        domains.retain(|d| !d.is_empty());
        Tenant { domains }
    }

    /// The domains, sorted.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(String::as_str)
    }

    /// True when `domain` is ours (or a subdomain of ours, or any `onmicrosoft.com` tenant
    /// domain we know).
    pub fn is_own_domain(&self, domain: &str) -> bool {
        let d = domain.trim().to_ascii_lowercase();
        self.domains
            .iter()
            .any(|own| d == *own || d.ends_with(&format!(".{own}")))
    }

    /// True when the address is outside the tenant. Exchange-internal forms (`EX:`), bare
    /// mailbox names and empty values are internal.
    pub fn is_external(&self, address: &str) -> bool {
        match domain_of(address) {
            Some(d) => !self.is_own_domain(d),
            None => false,
        }
    }
}

/// The domain of an address-like value (`smtp:x@Y.com` → `y.com`), lower-cased by the caller
/// where needed. `None` when there is no `@`.
pub fn domain_of(address: &str) -> Option<&str> {
    let a = address.trim().trim_end_matches(['>', ']', '"', '\'']);
    let at = a.rfind('@')?;
    let d = &a[at + 1..];
    (!d.is_empty() && d.contains('.') && !d.contains(char::is_whitespace)).then_some(d)
}

/// Extracts lower-cased e-mail addresses from a parameter value: `smtp:` prefixes,
/// `"Name" [SMTP:x]` display forms, lists joined with `;` or `,`. `[EX:/o=…]` legacy DNs and
/// bare names are returned as written (lower-cased) so they can still be shown.
pub fn addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in value.split([';', ',', '\n']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        // Prefer what is inside [...] when it holds an SMTP address.
        let inner = match (part.find('['), part.rfind(']')) {
            (Some(a), Some(b)) if b > a => &part[a + 1..b],
            _ => part,
        };
        let inner = inner.trim().trim_matches(['"', '\'', '<', '>']);
        let lower = inner.to_ascii_lowercase();
        let addr = lower
            .strip_prefix("smtp:")
            .or_else(|| lower.strip_prefix("mailto:"))
            .unwrap_or(&lower)
            .trim()
            .to_string();
        if !addr.is_empty() && !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_in_many_forms() {
        assert_eq!(
            addresses("smtp:Attacker@Evil.example; \"Boss\" [SMTP:boss@corp.example]"),
            ["attacker@evil.example", "boss@corp.example"]
        );
        assert_eq!(
            addresses("[EX:/o=ExchangeLabs/ou=x/cn=Recipients/cn=abc]").len(),
            1
        );
        assert!(addresses("  ").is_empty());
    }

    #[test]
    fn external_is_decided_against_own_domains() {
        let t = Tenant::with_domains(["corp.example", "corp.onmicrosoft.com"]);
        assert!(!t.is_external("a@corp.example"));
        assert!(!t.is_external("a@mail.corp.example"));
        assert!(!t.is_external("a@CORP.onmicrosoft.com"));
        assert!(t.is_external("a@corp-example.example"));
        assert!(t.is_external("a@notcorp.example"));
        assert!(!t.is_external("[ex:/o=exchangelabs/cn=x]"));
        assert!(!t.is_external("Finance Team"));
        assert_eq!(domain_of("smtp:x@y.example"), Some("y.example"));
        assert_eq!(domain_of("nobody"), None);
    }

    #[test]
    fn inference_uses_actors_not_senders() {
        let i = Interner::new();
        let mut events = vec![Event {
            actor_key: i.intern("adele@corp.example"),
            ..Default::default()
        }];
        events.push(Event {
            source: SourceKind::MessageTrace,
            actor_key: i.intern("phisher@evil.example"),
            ..Default::default()
        });
        let t = Tenant::infer(&events, &i, &["Extra.example".into()]);
        let d: Vec<_> = t.domains().collect();
        assert_eq!(d, ["corp.example", "extra.example"]);
    }
}

//! The `details` column of the Parquet export: an event's props, mail items and recipients as
//! one JSON object (the shape docs/parquet-schema.md gives).

use crate::event::{Event, Interner, Prop, Sym};
use polars_arrow::array::{Array, MutableBinaryViewArray, Utf8ViewArray};

/// The `details` column of a chunk: each event's JSON (null when it has none) written into
/// `buf`, reused between events and chunks, then copied into the column.
pub(super) fn details_column(
    events: &[Event],
    interner: &Interner,
    buf: &mut Vec<u8>,
) -> Box<dyn Array> {
    let mut column = MutableBinaryViewArray::<str>::with_capacity(events.len());
    for e in events {
        buf.clear();
        if !details_json(buf, e, interner) {
            column.push_null();
            continue;
        }
        // Only &str pieces of valid UTF-8 strings and ASCII punctuation were written, so the
        // check passes (and its SIMD validation is far cheaper than the lossy conversion).
        match std::str::from_utf8(buf) {
            Ok(text) => column.push_value(text),
            Err(_) => column.push_value(String::from_utf8_lossy(buf)),
        }
    }
    Utf8ViewArray::from(column).boxed()
}

/// Appends `e`'s details as one JSON object to `buf` (the shape docs/parquet-schema.md gives);
/// false when the event has none. Written straight into a shared buffer: building a JSON value
/// per event made Parquet output the slowest phase of a run.
///
/// Props are one object per bag, keyed by name (`{"Field":{"LogonType":"0"}}`): a query reads
/// `details->>'$.props.Field.LogonType'`, and the text is 57 % of the size of a list of
/// `{"bag","name","value"}` objects, which had made this column 80 % of the export's bytes
/// before compression and 60 % of its CPU. Absent parts are left out rather than written
/// as `null` or `[]`.
fn details_json(buf: &mut Vec<u8>, e: &Event, interner: &Interner) -> bool {
    use std::io::Write as _;
    let d = e.details.as_deref().filter(|d| !d.is_empty());
    if e.props.is_empty() && d.is_none() {
        return false;
    }
    let mut top = JsonObject::open(buf);
    if !e.props.is_empty() {
        top.key(buf, "props");
        props_json(buf, &e.props, interner, |p| Some(p.value));
    }
    if e.props.iter().any(|p| p.old.is_some()) {
        top.key(buf, "old");
        props_json(buf, &e.props, interner, |p| p.old);
    }
    if let Some(d) = d {
        if !d.items.is_empty() {
            top.key(buf, "items");
            json_array(buf, d.items.iter(), |buf, m| {
                let mut item = JsonObject::open(buf);
                item.strings(
                    buf,
                    [
                        ("folder", m.folder(interner)),
                        ("internet_message_id", m.internet_message_id(interner)),
                        ("subject", m.subject(interner)),
                    ],
                );
                if let Some(n) = m.size() {
                    item.key(buf, "size");
                    let _ = write!(buf, "{n}");
                }
                item.close(buf);
            });
        }
        top.strings(
            buf,
            [
                ("dest_folder", d.dest_folder(interner)),
                ("sender", d.sender(interner)),
            ],
        );
        if !d.recipients.is_empty() {
            top.key(buf, "recipients");
            json_array(buf, d.recipients.iter(), |buf, &r| {
                json_str(buf, interner.resolve(r))
            });
        }
    }
    top.close(buf);
    true
}

/// Appends `[…]` with `write` called for each element, commas between them.
fn json_array<T>(
    buf: &mut Vec<u8>,
    elements: impl Iterator<Item = T>,
    write: impl Fn(&mut Vec<u8>, T),
) {
    buf.push(b'[');
    for (i, x) in elements.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write(buf, x);
    }
    buf.push(b']');
}

/// Writes one JSON object's braces, and the commas between its keys.
struct JsonObject {
    empty: bool,
}

impl JsonObject {
    fn open(buf: &mut Vec<u8>) -> JsonObject {
        buf.push(b'{');
        JsonObject { empty: true }
    }

    /// Starts the entry `name` (escaped); its value comes next.
    fn key(&mut self, buf: &mut Vec<u8>, name: &str) {
        if !std::mem::replace(&mut self.empty, false) {
            buf.push(b',');
        }
        json_str(buf, name);
        buf.push(b':');
    }

    /// Writes each `(name, text)` whose text is known; leaves the others out.
    fn strings<'a>(
        &mut self,
        buf: &mut Vec<u8>,
        entries: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) {
        for (name, text) in entries {
            if let Some(text) = text {
                self.key(buf, name);
                json_str(buf, text);
            }
        }
    }

    fn close(self, buf: &mut Vec<u8>) {
        buf.push(b'}');
    }
}

/// Appends `props` as `{"Bag":{"Name":value,…},…}`, bags in the order they first appear, for
/// the props `value` picks (their value, or their old value). A name repeated within a bag
/// gets `#2`, `#3`… so no key is written twice and nothing is lost.
///
/// Linear in the props: one pass per bag (there are six), and names counted in a map once a
/// list is long — a record may carry thousands of props, and quadratic work per record would
/// let one crafted export stall the whole export.
fn props_json(
    buf: &mut Vec<u8>,
    props: &[Prop],
    interner: &Interner,
    value: impl Fn(&Prop) -> Option<Sym>,
) {
    /// Up to this many props, repeats are found by scanning the names before.
    const SCAN: usize = 32;
    let mut bags = JsonObject::open(buf);
    let mut bags_seen = 0u64;
    for (i, p) in props.iter().enumerate() {
        let bag = p.bag;
        let bit = 1u64 << (bag as u64);
        if bags_seen & bit != 0 {
            continue; // written with the first prop of its bag
        }
        bags_seen |= bit;
        let in_bag = || {
            props[i..]
                .iter()
                .filter(move |q| q.bag == bag)
                .filter_map(|q| value(q).map(|v| (q.name, v)))
        };
        let mut counts: std::collections::HashMap<Sym, usize> = Default::default();
        // Opened at the bag's first entry: a bag may have none (no old values).
        let mut entries: Option<JsonObject> = None;
        for (k, (name, v)) in in_bag().enumerate() {
            let obj = entries.get_or_insert_with(|| {
                bags.key(buf, bag.as_str());
                JsonObject::open(buf)
            });
            let repeats = if props.len() <= SCAN {
                in_bag().take(k).filter(|&(n, _)| n == name).count()
            } else {
                let seen = counts.entry(name).or_insert(0);
                *seen += 1;
                *seen - 1
            };
            let text = interner.resolve(name);
            if repeats == 0 {
                obj.key(buf, text);
            } else {
                obj.key(buf, &format!("{text}#{}", repeats + 1));
            }
            json_str(buf, interner.resolve(v));
        }
        if let Some(obj) = entries {
            obj.close(buf);
        }
    }
    bags.close(buf);
}

/// Appends `v` as a JSON string (escaped by serde_json; writing to a Vec cannot fail).
fn json_str(buf: &mut Vec<u8>, v: &str) {
    // Most values need no escaping: copy those whole (serde_json escapes byte by byte). A
    // fold without early exit, so the check is vectorised.
    let escape = v.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !escape {
        buf.push(b'"');
        buf.extend_from_slice(v.as_bytes());
        buf.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *buf, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_json_is_valid_json_with_hostile_text_escaped() {
        let i = Interner::new();
        let mut e = Event::default();
        e.props.extend([crate::event::Prop {
            bag: crate::event::Bag::Parameters,
            name: i.intern("Na\"me"),
            value: i.intern("\"<b>\\\n"),
            old: None,
        }]);
        e.details_mut().items = Box::new([crate::event::MailItem {
            subject: i.intern("=cmd|' /C calc'!A0\u{1b}[31m"),
            ..Default::default()
        }]);
        let mut buf = Vec::new();
        assert!(details_json(&mut buf, &e, &i));
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid JSON");
        assert_eq!(v["props"]["Parameters"]["Na\"me"], "\"<b>\\\n");
        assert_eq!(v["items"][0]["subject"], "=cmd|' /C calc'!A0\u{1b}[31m");
        // Absent parts are left out, not written as null.
        assert!(v["items"][0].get("folder").is_none());
        assert!(v.get("old").is_none() && v.get("sender").is_none());
        assert!(!details_json(&mut buf, &Event::default(), &i));
    }

    #[test]
    fn details_json_groups_props_by_bag_and_keeps_repeats_and_old_values() {
        use crate::event::{Bag, MailItem, Prop};
        let i = Interner::new();
        let prop = |bag, name: &str, value: &str, old: Option<&str>| Prop {
            bag,
            name: i.intern(name),
            value: i.intern(value),
            old: old.map(|o| i.intern(o)),
        };
        let mut e = Event::default();
        e.props.extend([
            prop(Bag::Field, "LogonType", "0", None),
            prop(
                Bag::ModifiedProperties,
                "ForwardingSmtpAddress",
                "x@evil.example",
                Some(""),
            ),
            prop(Bag::Field, "ClientInfoString", "Client=OWA", None),
            prop(Bag::Field, "LogonType", "1", None),
        ]);
        e.details_mut().items = Box::new([MailItem {
            folder: i.intern("\\Inbox"),
            size: 12.into(),
            ..Default::default()
        }]);
        e.details_mut().recipients = Box::new([i.intern("a@b.example")]);
        let mut buf = Vec::new();
        assert!(details_json(&mut buf, &e, &i));
        let text = std::str::from_utf8(&buf).expect("UTF-8");
        // Bags in first-seen order, each written once; a repeated name gets `#2`.
        assert_eq!(
            text,
            r#"{"props":{"Field":{"LogonType":"0","ClientInfoString":"Client=OWA","LogonType#2":"1"},"ModifiedProperties":{"ForwardingSmtpAddress":"x@evil.example"}},"old":{"ModifiedProperties":{"ForwardingSmtpAddress":""}},"items":[{"folder":"\\Inbox","size":12}],"recipients":["a@b.example"]}"#
        );
        let v: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        assert_eq!(v["props"]["Field"]["LogonType#2"], "1");
    }

    #[test]
    fn long_prop_lists_keep_every_repeat() {
        use crate::event::{Bag, Prop};
        let i = Interner::new();
        let mut e = Event::default();
        // Past the scan limit, repeats are counted in a map: same keys as the scan gives.
        e.props.extend((0..1000).map(|k| Prop {
            bag: if k % 2 == 0 {
                Bag::Parameters
            } else {
                Bag::Field
            },
            name: i.intern(if k % 4 < 2 { "A" } else { "B" }),
            value: i.intern(&k.to_string()),
            old: None,
        }));
        let mut buf = Vec::new();
        assert!(details_json(&mut buf, &e, &i));
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid JSON");
        let params = v["props"]["Parameters"].as_object().expect("an object");
        assert_eq!(params.len(), 500);
        assert_eq!(params["A"], "0");
        assert_eq!(params["B"], "2");
        assert_eq!(params["A#2"], "4");
        assert_eq!(params["B#250"], "998");
        assert_eq!(v["props"]["Field"]["A#250"], "997");
    }
}

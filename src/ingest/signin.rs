//! Entra ID (Azure AD) sign-in logs: portal CSV downloads, portal/Graph JSON `signIn` objects and
//! Azure Monitor diagnostic-settings records (formats.md §D1–D3).
//!
//! Every shape becomes one [`Event`] with operation `Sign-in activity` (the diagnostic
//! `operationName`). Detections must treat it like the UAL's `UserLoggedIn` / `UserLoginFailed`
//! (RecordType 15): the same sign-in often reaches an investigator through both pipes, and
//! the outcome is decided the same way — on the **error code**, never on a status word
//! (`50140`/`50074` interrupts are failures carrying their code; analysis decides what they mean).
//!
//! Kept scalar fields go to `props` under [`Bag::Field`] with the **camelCase Graph
//! names**, whichever shape they came from, so one lookup works for CSV and JSON:
//!
//! * app and resource: `appDisplayName`, `resourceDisplayName`, `resourceId`, `clientAppUsed`;
//! * authentication: `authenticationProtocol`, `authenticationRequirement`,
//!   `conditionalAccessStatus`, `incomingTokenType`, `mfaResult`, `mfaAuthMethod`,
//!   `mfaAuthDetail`, `crossTenantAccessType`, `tokenIssuerType`, `originalTransferMethod`,
//!   `signInEventTypes` (`,`-joined);
//! * risk: `riskLevelDuringSignIn`, `riskLevelAggregated`, `riskState`, `riskDetail`,
//!   `riskEventTypes` (`,`-joined; beta `riskEventTypes_v2` when v1 is empty);
//! * place: `city`, `state`, `countryOrRegion` (the CSV `Location` = `City, State, CC` is
//!   split), `latitude`, `longitude`, `autonomousSystemNumber`, `ipAddressFromResourceProvider`;
//! * device: `operatingSystem`, `browser`, `deviceId`, `deviceDisplayName`, `isCompliant`,
//!   `isManaged`, `trustType` (CSV `Join Type`);
//! * who and what: `userType`, `userId`, `userDisplayName`, `servicePrincipalId`,
//!   `correlationId`, `category` (diagnostic stream), `status` (the CSV `Status` word:
//!   Success/Failure/Interrupted), `additionalDetails`.
//!
//! Blank and `null` values are not kept.
//!
//! JSON is read into borrowing structs through [`ci`], a small case-insensitive map visitor:
//! Graph writes camelCase, PowerShell SDK objects PascalCase and SIEM dumps lower case, and no
//! `serde_json::Value` tree is built per record.

use super::record::{CsvParser, Header, JsonParser, ParseCtx, ParseResult, Row, Skip};
use crate::event::ip::normalize_ip;
use crate::event::time::{parse_iso, parse_ms_date, parse_wrapper};
use crate::event::{flags, Bag, Event, Interner, Outcome, Prop, SourceKind, Timestamp};
use ci::{Ci, CiFields, StrList, Val};
use serde::de::MapAccess;
use std::borrow::Cow;

/// The operation every sign-in event carries (raw and normalised alike).
pub const SIGNIN_OPERATION: &str = "Sign-in activity";
/// The workload every sign-in event carries, the same as UAL sign-ins (RecordType 15).
pub const SIGNIN_WORKLOAD: &str = "AzureActiveDirectory";

/// Case-insensitive, borrowing JSON reading shared by the sign-in and message-trace parsers.
///
/// Field names are folded to ASCII lower case into a fixed buffer ([`ci::Key`]) so a `match` on
/// string literals replaces a per-record `Value` tree, and scalars keep borrowing from the input
/// ([`ci::Val`]). Every type here is tolerant: a nested object that arrives as a string, a number
/// that arrives as a string, or an array where a scalar was expected never fails the record.
/// (Candidate for its own module under `ingest/` once `mod.rs` can be touched.)
pub(crate) mod ci {
    use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::borrow::Cow;
    use std::fmt;
    use std::marker::PhantomData;

    /// Longest key worth matching; longer keys are never ones we look for.
    const KEY_MAX: usize = 48;

    /// A JSON object key, ASCII lower-cased, without allocation.
    pub(crate) struct Key {
        buf: [u8; KEY_MAX],
        len: usize,
    }

    impl Key {
        /// The folded key ("" for keys too long to be interesting).
        pub(crate) fn as_str(&self) -> &str {
            match self.buf.get(..self.len) {
                Some(b) => std::str::from_utf8(b).unwrap_or(""),
                None => "",
            }
        }
    }

    impl<'de> Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl Visitor<'_> for KeyVisitor {
                type Value = Key;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an object key")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                    let mut key = Key {
                        buf: [0; KEY_MAX],
                        len: usize::MAX,
                    };
                    if v.len() <= KEY_MAX {
                        for (dst, src) in key.buf.iter_mut().zip(v.bytes()) {
                            *dst = src.to_ascii_lowercase();
                        }
                        key.len = v.len();
                    }
                    Ok(key)
                }
            }
            d.deserialize_str(KeyVisitor)
        }
    }

    /// Any JSON scalar, borrowed from the input when it has no escapes. Arrays and objects
    /// where a scalar was expected become [`Val::Nested`] (and are skipped, not failed).
    #[derive(Debug, Clone, Default, PartialEq)]
    pub(crate) enum Val<'a> {
        /// `null` or absent.
        #[default]
        Null,
        /// `true` / `false`.
        Bool(bool),
        /// A negative integer.
        I(i64),
        /// A non-negative integer.
        U(u64),
        /// A float.
        F(f64),
        /// A string.
        S(Cow<'a, str>),
        /// An array or object.
        Nested,
    }

    impl<'a> Val<'a> {
        /// The trimmed string, or "" for anything that is not a string.
        pub(crate) fn str(&self) -> &str {
            match self {
                Val::S(s) => s.trim(),
                _ => "",
            }
        }

        /// Any scalar as text ("" for null and nested values).
        pub(crate) fn text(&self) -> Cow<'_, str> {
            match self {
                Val::S(s) => Cow::Borrowed(s.trim()),
                Val::Bool(true) => Cow::Borrowed("true"),
                Val::Bool(false) => Cow::Borrowed("false"),
                Val::I(n) => Cow::Owned(n.to_string()),
                Val::U(n) => Cow::Owned(n.to_string()),
                Val::F(x) => Cow::Owned(x.to_string()),
                Val::Null | Val::Nested => Cow::Borrowed(""),
            }
        }

        /// True for null, nested and blank strings.
        pub(crate) fn is_empty(&self) -> bool {
            match self {
                Val::S(s) => s.trim().is_empty(),
                Val::Null | Val::Nested => true,
                _ => false,
            }
        }

        /// A numeric code (`0`, `"50126"`): `Ok(None)` when absent or blank, `Err` when it is
        /// something else (a word, a negative or fractional number, an array).
        pub(crate) fn code(&self) -> Result<Option<u32>, ()> {
            match self {
                Val::Null => Ok(None),
                Val::U(n) => u32::try_from(*n).map(Some).map_err(drop),
                Val::I(_) | Val::Bool(_) | Val::Nested => Err(()),
                Val::F(x) if x.fract() == 0.0 && *x >= 0.0 && *x <= f64::from(u32::MAX) => {
                    Ok(Some(*x as u32))
                }
                Val::F(_) => Err(()),
                Val::S(s) => parse_code(s),
            }
        }

        /// A boolean written as `true`, `"True"`, `1` or `"0"`.
        pub(crate) fn flag(&self) -> Option<bool> {
            match self {
                Val::Bool(b) => Some(*b),
                Val::U(1) => Some(true),
                Val::U(0) => Some(false),
                Val::S(s) => parse_bool(s),
                _ => None,
            }
        }

        /// A non-negative integer written as a number or a numeric string.
        pub(crate) fn uint(&self) -> Option<u64> {
            match self {
                Val::U(n) => Some(*n),
                Val::F(x) if x.fract() == 0.0 && *x >= 0.0 && *x < 1.8e19 => Some(*x as u64),
                Val::S(s) => s.trim().parse().ok(),
                _ => None,
            }
        }
    }

    /// Parses a numeric code from text; see [`Val::code`]. Some collectors (Panther's
    /// normalised Azure records, a few SIEM exports) write the word `Success` for result 0:
    /// that is read as 0; any other word is an error.
    pub(crate) fn parse_code(s: &str) -> Result<Option<u32>, ()> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else if s.eq_ignore_ascii_case("success") || s.eq_ignore_ascii_case("succeeded") {
            Ok(Some(0))
        } else {
            s.parse::<u32>().map(Some).map_err(drop)
        }
    }

    /// `true`/`false`/`1`/`0`/`yes`/`no`, any case.
    pub(crate) fn parse_bool(s: &str) -> Option<bool> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("true") || s == "1" || s.eq_ignore_ascii_case("yes") {
            Some(true)
        } else if s.eq_ignore_ascii_case("false") || s == "0" || s.eq_ignore_ascii_case("no") {
            Some(false)
        } else {
            None
        }
    }

    struct ValVisitor;

    impl<'de> Visitor<'de> for ValVisitor {
        type Value = Val<'de>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val<'de>, E> {
            Ok(Val::Bool(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val<'de>, E> {
            Ok(if v >= 0 { Val::U(v as u64) } else { Val::I(v) })
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val<'de>, E> {
            Ok(Val::U(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val<'de>, E> {
            Ok(Val::F(v))
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Val<'de>, E> {
            Ok(Val::S(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Val<'de>, E> {
            Ok(Val::S(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Val<'de>, E> {
            Ok(Val::S(Cow::Owned(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Val<'de>, E> {
            Ok(Val::Null)
        }
        fn visit_none<E: de::Error>(self) -> Result<Val<'de>, E> {
            Ok(Val::Null)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
            d.deserialize_any(ValVisitor)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Val::Nested)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Val::Nested)
        }
    }

    impl<'de> Deserialize<'de> for Val<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ValVisitor)
        }
    }

    /// An array of strings (`riskEventTypes`); a single string counts as a one-element list and
    /// anything else as empty. Allocates only when non-empty.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub(crate) struct StrList<'a>(pub(crate) Vec<Cow<'a, str>>);

    impl StrList<'_> {
        /// The entries joined with `,`.
        pub(crate) fn joined(&self) -> String {
            self.0.join(",")
        }
    }

    impl<'de> Deserialize<'de> for StrList<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct ListVisitor;
            impl<'de> Visitor<'de> for ListVisitor {
                type Value = StrList<'de>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a list of strings")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    let mut out = Vec::new();
                    while let Some(v) = seq.next_element::<Val<'de>>()? {
                        match v {
                            Val::S(s) if !s.trim().is_empty() => out.push(s),
                            Val::S(_) | Val::Null | Val::Nested => {}
                            other => out.push(Cow::Owned(other.text().into_owned())),
                        }
                    }
                    Ok(StrList(out))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(StrList::default())
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(StrList(one(Cow::Borrowed(v))))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(StrList(one(Cow::Owned(v.to_owned()))))
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                    Ok(StrList::default())
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                    Ok(StrList::default())
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                    Ok(StrList::default())
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                    Ok(StrList::default())
                }
                fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(StrList::default())
                }
                fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(StrList::default())
                }
            }
            fn one(s: Cow<'_, str>) -> Vec<Cow<'_, str>> {
                // "[]" is how some flatteners write an empty list.
                let t = s.trim();
                if t.is_empty() || t == "[]" {
                    Vec::new()
                } else {
                    vec![s]
                }
            }
            d.deserialize_any(ListVisitor)
        }
    }

    /// A record type read field by field with case-folded keys.
    pub(crate) trait CiFields<'de>: Default {
        /// Reads the value of `key` (already lower-cased) from `map`. Must consume the value,
        /// e.g. with [`skip`] for keys it does not know.
        fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;

        /// Called when the value was a scalar instead of an object (`"location": "FR"`).
        fn scalar(&mut self, _v: Val<'de>) {}
    }

    /// Consumes and ignores the current value.
    pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
        map.next_value::<IgnoredAny>().map(drop)
    }

    /// A [`CiFields`] type read from JSON; `object` tells whether the value was an object.
    #[derive(Debug, Default)]
    pub(crate) struct Ci<T> {
        /// The fields read.
        pub(crate) v: T,
        /// False when the value was a scalar, an array or null.
        pub(crate) object: bool,
    }

    impl<'de, T: CiFields<'de>> Deserialize<'de> for Ci<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct CiVisitor<T>(PhantomData<T>);
            impl<'de, T: CiFields<'de>> CiVisitor<T> {
                fn scalar(v: Val<'de>) -> Ci<T> {
                    let mut t = T::default();
                    t.scalar(v);
                    Ci {
                        v: t,
                        object: false,
                    }
                }
            }
            impl<'de, T: CiFields<'de>> Visitor<'de> for CiVisitor<T> {
                type Value = Ci<T>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ci<T>, A::Error> {
                    let mut t = T::default();
                    while let Some(k) = map.next_key::<Key>()? {
                        t.field(k.as_str(), &mut map)?;
                    }
                    Ok(Ci { v: t, object: true })
                }
                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Ci<T>, A::Error> {
                    ValVisitor.visit_seq(seq).map(Self::scalar)
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::Bool(v)))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ci<T>, E> {
                    ValVisitor.visit_i64(v).map(Self::scalar)
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::U(v)))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::F(v)))
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::S(Cow::Borrowed(v))))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::S(Cow::Owned(v.to_owned()))))
                }
                fn visit_unit<E: de::Error>(self) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::Null))
                }
                fn visit_none<E: de::Error>(self) -> Result<Ci<T>, E> {
                    Ok(Self::scalar(Val::Null))
                }
                fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Ci<T>, D::Error> {
                    d.deserialize_any(self)
                }
            }
            d.deserialize_any(CiVisitor(PhantomData))
        }
    }
}

// ------------------------------------------------------------------------------------------
// Shared event building

/// Reads a time: ISO first (naive ⇒ UTC, offsets honoured), then `/Date(ms)/`, then the
/// culture-formatted wrapper forms, which set the wrapper flags.
fn read_time(s: &str) -> Option<(Timestamp, u8)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_iso(s).or_else(|| parse_ms_date(s)) {
        return Some((t, 0));
    }
    let w = parse_wrapper(s)?;
    let mut f = flags::TIME_FROM_WRAPPER;
    if w.ambiguous {
        f |= flags::TIME_AMBIGUOUS;
    }
    Some((w.time, f))
}

/// The interactive/non-interactive flag for a diagnostic `category`; `None` when the category
/// does not decide it (ADFS sign-ins can be either, an unknown category says nothing).
fn category_flag(category: &str) -> Option<u8> {
    let c = category.trim();
    if c.eq_ignore_ascii_case("SignInLogs") {
        Some(flags::INTERACTIVE)
    } else if [
        "NonInteractiveUserSignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
        "MicrosoftServicePrincipalSignInLogs",
    ]
    .iter()
    .any(|n| c.eq_ignore_ascii_case(n))
    {
        Some(flags::NON_INTERACTIVE)
    } else {
        None
    }
}

/// Collects `Bag::Field` props, dropping blank and `null` values.
struct Props<'i> {
    interner: &'i Interner,
    v: Vec<Prop>,
}

impl<'i> Props<'i> {
    fn new(interner: &'i Interner) -> Self {
        Props {
            interner,
            v: Vec::new(),
        }
    }

    fn push(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("null") {
            return;
        }
        self.v.push(Prop {
            bag: Bag::Field,
            name: self.interner.intern(name),
            value: self.interner.intern(value),
            old: None,
        });
    }
}

/// Everything one sign-in contributes, borrowed from the record, before interning.
#[derive(Default)]
struct Draft<'s> {
    time: Timestamp,
    flags: u8,
    actor: &'s str,
    ip: &'s str,
    user_agent: &'s str,
    app_id: &'s str,
    session_id: &'s str,
    token_id: &'s str,
    error_code: Option<u32>,
    error_text: &'s str,
    /// Status word (CSV `Status`, JSON `status` as a string), used when there is no code.
    status_text: &'s str,
    object: &'s str,
    record_id: &'s str,
}

impl Draft<'_> {
    /// Success on code 0 (or "Success" without a code), failure on any other code.
    fn outcome(&self) -> Outcome {
        match self.error_code {
            Some(0) => Outcome::Success,
            Some(_) => Outcome::Failure,
            None => {
                let s = self.status_text.trim();
                if s.eq_ignore_ascii_case("success") {
                    Outcome::Success
                } else if s.eq_ignore_ascii_case("failure")
                    || s.eq_ignore_ascii_case("failed")
                    || s.eq_ignore_ascii_case("interrupted")
                {
                    Outcome::Failure
                } else {
                    Outcome::Unknown
                }
            }
        }
    }

    fn build(&self, props: Vec<Prop>, line: u64, ctx: &ParseCtx<'_>) -> Event {
        let i = ctx.interner;
        let op = i.intern(SIGNIN_OPERATION);
        let actor_key = i.intern_lower(self.actor);
        Event {
            time: self.time,
            source: SourceKind::Signin,
            flags: self.flags,
            outcome: self.outcome(),
            record_type: None,
            error_code: self.error_code.into(),
            error_text: i.intern(self.error_text.trim()),
            workload: i.intern(SIGNIN_WORKLOAD),
            operation_raw: op,
            operation: op,
            actor: i.intern(self.actor.trim()),
            actor_key,
            mailbox: actor_key,
            ip: i.intern(&normalize_ip(self.ip)),
            user_agent: i.intern(self.user_agent.trim()),
            app_id: i.intern(self.app_id.trim()),
            session_id: i.intern(self.session_id.trim()),
            token_id: i.intern(self.token_id.trim()),
            object: i.intern(self.object.trim()),
            record_id: crate::event::RecordId::new(i, self.record_id.trim()),
            file: ctx.file,
            line: Event::line_from(line),
            props: i.share_props(&props),
            details: None,
        }
    }
}

/// First non-blank of the given strings.
fn first<'s>(vals: &[&'s str]) -> &'s str {
    vals.iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("")
}

// ------------------------------------------------------------------------------------------
// CSV

/// Column names (normalised by [`Header`]) of the CSV shapes, mapped to the Graph prop names.
/// First listed column that exists wins.
const CSV_PROPS: &[(&str, &[&str])] = &[
    ("appDisplayName", &["Application", "AppDisplayName"]),
    ("resourceDisplayName", &["Resource", "ResourceDisplayName"]),
    ("resourceId", &["Resource ID", "ResourceId"]),
    ("clientAppUsed", &["Client app", "ClientAppUsed"]),
    (
        "authenticationProtocol",
        &["Authentication Protocol", "AuthenticationProtocol"],
    ),
    (
        "authenticationRequirement",
        &["Authentication requirement", "AuthenticationRequirement"],
    ),
    (
        "conditionalAccessStatus",
        &["Conditional Access", "ConditionalAccessStatus"],
    ),
    (
        "riskLevelDuringSignIn",
        &["Risk level during sign-in", "RiskLevelDuringSignIn"],
    ),
    (
        "riskLevelAggregated",
        &["Risk level aggregated", "RiskLevelAggregated"],
    ),
    ("riskState", &["Risk state", "RiskState"]),
    ("riskDetail", &["Risk detail", "RiskDetail"]),
    ("riskEventTypes", &["Risk event types", "RiskEventTypes"]),
    (
        "operatingSystem",
        &["Operating System", "OS", "OperatingSystem"],
    ),
    ("browser", &["Browser"]),
    ("deviceId", &["Device ID", "DeviceId"]),
    ("deviceDisplayName", &["Device", "Device name"]),
    ("isCompliant", &["Compliant", "IsCompliant"]),
    ("isManaged", &["Managed", "IsManaged"]),
    ("trustType", &["Join Type", "TrustType"]),
    (
        "incomingTokenType",
        &["Incoming token type", "IncomingTokenType"],
    ),
    (
        "autonomousSystemNumber",
        &["Autonomous system number", "AutonomousSystemNumber"],
    ),
    ("mfaResult", &["Multifactor authentication result"]),
    ("mfaAuthMethod", &["Multifactor authentication auth method"]),
    ("mfaAuthDetail", &["Multifactor authentication auth detail"]),
    ("userType", &["User type", "UserType"]),
    ("userId", &["User ID", "UserId"]),
    ("userDisplayName", &["User", "UserDisplayName"]),
    (
        "servicePrincipalId",
        &["Service principal ID", "ServicePrincipalId"],
    ),
    ("correlationId", &["Correlation ID", "CorrelationId"]),
    ("category", &["Category"]),
    ("status", &["Status"]),
    ("crossTenantAccessType", &["Cross tenant access type"]),
    ("tokenIssuerType", &["Token issuer type"]),
    ("originalTransferMethod", &["Original transfer method"]),
    (
        "ipAddressFromResourceProvider",
        &["IP address (seen by resource)"],
    ),
];

/// The account columns, most specific first: UPN, then service-principal name, then ids and
/// finally the display name, so service-principal and managed-identity files still get an actor.
const CSV_ACTOR: &[&str] = &[
    "Username",
    "UserPrincipalName",
    "User principal name",
    "Service principal name",
    "ServicePrincipalName",
    "User ID",
    "UserId",
    "Service principal ID",
    "ServicePrincipalId",
    "Managed identity name",
    "User",
    "UserDisplayName",
];

/// Entra sign-in CSV: the portal's 56-column interactive/non-interactive download, its
/// 22-column service-principal file and the older `CreatedDateTime,UserPrincipalName,…` export.
/// Columns are mapped by name once, from the header.
pub struct SigninCsv {
    time: usize,
    actor: Vec<usize>,
    ip: Option<usize>,
    user_agent: Option<usize>,
    app_id: Option<usize>,
    session_id: Option<usize>,
    token_id: Option<usize>,
    error_code: Option<usize>,
    failure_reason: Option<usize>,
    status: Option<usize>,
    object: Option<usize>,
    record_id: Option<usize>,
    /// Portal `Location` = `City, State, CC`.
    location: Option<usize>,
    city: Option<usize>,
    state: Option<usize>,
    country: Option<usize>,
    interactive: Option<usize>,
    category: Option<usize>,
    /// Service-principal downloads are non-interactive by definition.
    service_principal_file: bool,
    props: Vec<(&'static str, usize)>,
}

impl SigninCsv {
    /// Maps the header's columns by name. Fails when there is no date column or no account
    /// column: such a file is not a sign-in export.
    pub fn new(header: &Header) -> Result<Self, String> {
        let time = header
            .find_any(&[
                "Date (UTC)",
                "CreatedDateTime",
                "Created date time",
                "Date",
                "TimeGenerated",
                "time",
            ])
            .ok_or("no sign-in date column (Date (UTC) / CreatedDateTime)")?;
        let actor: Vec<usize> = CSV_ACTOR.iter().filter_map(|n| header.find(n)).collect();
        if actor.is_empty() {
            return Err("no user or service-principal column".into());
        }
        let props = CSV_PROPS
            .iter()
            .filter_map(|(prop, cols)| header.find_any(cols).map(|c| (*prop, c)))
            .collect();
        let user_col = header.find_any(&["Username", "UserPrincipalName", "User principal name"]);
        Ok(SigninCsv {
            time,
            actor,
            ip: header.find_any(&["IP address", "IPAddress", "IP"]),
            user_agent: header.find_any(&["User agent", "UserAgent"]),
            app_id: header.find_any(&["Application ID", "AppId", "Application Id"]),
            session_id: header.find_any(&["Session ID", "SessionId"]),
            token_id: header.find_any(&["Unique token identifier", "UniqueTokenIdentifier"]),
            error_code: header.find_any(&["Sign-in error code", "ErrorCode", "Error code"]),
            failure_reason: header.find_any(&["Failure reason", "FailureReason"]),
            status: header.find("Status"),
            object: header.find_any(&["Application", "AppDisplayName"]),
            record_id: header.find_any(&["Request ID", "RequestId", "Id"]),
            location: header.find("Location"),
            city: header.find("City"),
            state: header.find_any(&["State", "State/province"]),
            country: header.find_any(&["Country", "Country or region", "CountryOrRegion"]),
            interactive: header.find_any(&["Is interactive", "IsInteractive", "Interactive"]),
            category: header.find("Category"),
            service_principal_file: user_col.is_none()
                && header.has_any_of(&["Service principal ID", "Service principal name"]),
            props,
        })
    }
}

/// Small extension so the constructor reads naturally.
trait HeaderExt {
    fn has_any_of(&self, names: &[&str]) -> bool;
}

impl HeaderExt for Header {
    fn has_any_of(&self, names: &[&str]) -> bool {
        self.find_any(names).is_some()
    }
}

/// Splits the portal's `City, State, CC` (parts may be blank or missing) into
/// (city, state, country). Two parts are read as city and country, one part as a country when it
/// is a two-letter code and as a city otherwise.
fn split_location(s: &str) -> (&str, &str, &str) {
    let s = s.trim();
    if s.is_empty() {
        return ("", "", "");
    }
    let mut parts = s.rsplitn(3, ',').map(str::trim);
    let last = parts.next().unwrap_or("");
    let mid = parts.next();
    let rest = parts.next();
    match (rest, mid) {
        (Some(city), Some(state)) => (city, state, last),
        (None, Some(city)) => (city, "", last),
        _ if last.len() == 2 && last.bytes().all(|b| b.is_ascii_alphabetic()) => ("", "", last),
        _ => (last, "", ""),
    }
}

impl CsvParser for SigninCsv {
    fn parse_row(&self, row: &Row<'_>, ctx: &ParseCtx<'_>, out: &mut Vec<Event>) -> ParseResult {
        if row.is_blank() {
            return Err(Skip::new("blank row"));
        }
        let time_raw = row.get(Some(self.time));
        if time_raw.is_empty() {
            return Err(Skip::new("sign-in date missing"));
        }
        let (time, mut fl) =
            read_time(&time_raw).ok_or_else(|| Skip::new("unparseable sign-in date"))?;

        let actor = self
            .actor
            .iter()
            .map(|&c| row.get(Some(c)))
            .find(|c| !c.is_empty())
            .unwrap_or(Cow::Borrowed(""));
        if actor.is_empty() {
            return Err(Skip::new("sign-in has no user or service principal"));
        }

        let code_raw = row.get(self.error_code);
        let error_code =
            ci::parse_code(&code_raw).map_err(|()| Skip::new("non-numeric sign-in error code"))?;

        let category = row.get(self.category);
        if let Some(f) = category_flag(&category) {
            fl |= f;
        } else if let Some(b) = ci::parse_bool(&row.get(self.interactive)) {
            fl |= if b {
                flags::INTERACTIVE
            } else {
                flags::NON_INTERACTIVE
            };
        } else if self.service_principal_file {
            fl |= flags::NON_INTERACTIVE;
        }

        let ip = row.get(self.ip);
        let user_agent = row.get(self.user_agent);
        let app_id = row.get(self.app_id);
        let session_id = row.get(self.session_id);
        let token_id = row.get(self.token_id);
        let failure = row.get(self.failure_reason);
        let status = row.get(self.status);
        let object = row.get(self.object);
        let record_id = row.get(self.record_id);

        let mut props = Props::new(ctx.interner);
        for &(name, col) in &self.props {
            props.push(name, &row.get(Some(col)));
        }
        let loc = row.get(self.location);
        let (mut city, mut state, mut country) = split_location(&loc);
        let (c2, s2, k2) = (
            row.get(self.city),
            row.get(self.state),
            row.get(self.country),
        );
        city = first(&[c2.as_ref(), city]);
        state = first(&[s2.as_ref(), state]);
        country = first(&[k2.as_ref(), country]);
        props.push("city", city);
        props.push("state", state);
        props.push("countryOrRegion", country);

        let draft = Draft {
            time,
            flags: fl,
            actor: &actor,
            ip: &ip,
            user_agent: &user_agent,
            app_id: &app_id,
            session_id: &session_id,
            token_id: &token_id,
            error_code,
            error_text: &failure,
            status_text: &status,
            object: &object,
            record_id: &record_id,
        };
        out.push(draft.build(props.v, row.line, ctx));
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// JSON

/// `status{errorCode, failureReason, additionalDetails}`; a bare string is kept as the status word.
#[derive(Default)]
struct Status<'a> {
    error_code: Val<'a>,
    failure_reason: Val<'a>,
    additional_details: Val<'a>,
    text: Val<'a>,
}

impl<'de> CiFields<'de> for Status<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match key {
            "errorcode" => self.error_code = m.next_value()?,
            "failurereason" => self.failure_reason = m.next_value()?,
            "additionaldetails" => self.additional_details = m.next_value()?,
            _ => ci::skip(m)?,
        }
        Ok(())
    }
    fn scalar(&mut self, v: Val<'de>) {
        match v {
            Val::U(_) | Val::I(_) => self.error_code = v,
            other => self.text = other,
        }
    }
}

/// `deviceDetail{…}`.
#[derive(Default)]
struct Device<'a> {
    device_id: Val<'a>,
    display_name: Val<'a>,
    operating_system: Val<'a>,
    browser: Val<'a>,
    is_compliant: Val<'a>,
    is_managed: Val<'a>,
    trust_type: Val<'a>,
}

impl<'de> CiFields<'de> for Device<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match key {
            "deviceid" => self.device_id = m.next_value()?,
            "displayname" => self.display_name = m.next_value()?,
            "operatingsystem" => self.operating_system = m.next_value()?,
            "browser" => self.browser = m.next_value()?,
            "iscompliant" => self.is_compliant = m.next_value()?,
            "ismanaged" => self.is_managed = m.next_value()?,
            "trusttype" => self.trust_type = m.next_value()?,
            _ => ci::skip(m)?,
        }
        Ok(())
    }
}

/// `geoCoordinates{latitude, longitude}`.
#[derive(Default)]
struct Geo<'a> {
    latitude: Val<'a>,
    longitude: Val<'a>,
}

impl<'de> CiFields<'de> for Geo<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match key {
            "latitude" => self.latitude = m.next_value()?,
            "longitude" => self.longitude = m.next_value()?,
            _ => ci::skip(m)?,
        }
        Ok(())
    }
}

/// `location{city, state, countryOrRegion, geoCoordinates}`; the diagnostic envelope's
/// `"location": "FR"` is a bare country code.
#[derive(Default)]
struct Location<'a> {
    city: Val<'a>,
    state: Val<'a>,
    country: Val<'a>,
    geo: Geo<'a>,
}

impl<'de> CiFields<'de> for Location<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match key {
            "city" => self.city = m.next_value()?,
            "state" => self.state = m.next_value()?,
            "countryorregion" | "country" => self.country = m.next_value()?,
            "geocoordinates" => self.geo = m.next_value::<Ci<Geo<'de>>>()?.v,
            _ => ci::skip(m)?,
        }
        Ok(())
    }
    fn scalar(&mut self, v: Val<'de>) {
        self.country = v;
    }
}

/// Beta `mfaDetail{authMethod, authDetail}`.
#[derive(Default)]
struct Mfa<'a> {
    auth_method: Val<'a>,
    auth_detail: Val<'a>,
}

impl<'de> CiFields<'de> for Mfa<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match key {
            "authmethod" => self.auth_method = m.next_value()?,
            "authdetail" => self.auth_detail = m.next_value()?,
            _ => ci::skip(m)?,
        }
        Ok(())
    }
}

/// One signIn object (Graph v1.0/beta, portal JSON, PowerShell SDK objects) **or** a
/// diagnostic-settings envelope, whose `properties` hold the signIn object. Both are read by the
/// same type because the envelope and the object share most field names (`correlationId`,
/// `location`, `resourceId`…) and some pipelines flatten one into the other.
#[derive(Default)]
struct SignIn<'a> {
    id: Val<'a>,
    original_request_id: Val<'a>,
    created: Val<'a>,
    time: Val<'a>,
    upn: Val<'a>,
    user_display_name: Val<'a>,
    user_id: Val<'a>,
    user_type: Val<'a>,
    sp_name: Val<'a>,
    sp_id: Val<'a>,
    app_id: Val<'a>,
    app_display_name: Val<'a>,
    ip_address: Val<'a>,
    caller_ip_address: Val<'a>,
    client_app_used: Val<'a>,
    correlation_id: Val<'a>,
    conditional_access_status: Val<'a>,
    is_interactive: Val<'a>,
    risk_detail: Val<'a>,
    risk_level_aggregated: Val<'a>,
    risk_level_during_sign_in: Val<'a>,
    risk_state: Val<'a>,
    risk_event_types: StrList<'a>,
    risk_event_types_v2: StrList<'a>,
    resource_display_name: Val<'a>,
    resource_id: Val<'a>,
    status: Status<'a>,
    device: Device<'a>,
    location: Location<'a>,
    user_agent: Val<'a>,
    authentication_protocol: Val<'a>,
    authentication_requirement: Val<'a>,
    unique_token_identifier: Val<'a>,
    session_id: Val<'a>,
    incoming_token_type: Val<'a>,
    autonomous_system_number: Val<'a>,
    sign_in_event_types: StrList<'a>,
    cross_tenant_access_type: Val<'a>,
    token_issuer_type: Val<'a>,
    original_transfer_method: Val<'a>,
    ip_from_resource: Val<'a>,
    mfa: Mfa<'a>,
    category: Val<'a>,
    result_type: Val<'a>,
    result_description: Val<'a>,
    identity: Val<'a>,
    properties: Option<Box<SignIn<'a>>>,
}

impl<'de> CiFields<'de> for SignIn<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, m: &mut A) -> Result<(), A::Error> {
        match key {
            "id" => self.id = m.next_value()?,
            "originalrequestid" => self.original_request_id = m.next_value()?,
            "createddatetime" => self.created = m.next_value()?,
            "time" | "timegenerated" => self.time = m.next_value()?,
            "userprincipalname" => self.upn = m.next_value()?,
            "userdisplayname" => self.user_display_name = m.next_value()?,
            "userid" => self.user_id = m.next_value()?,
            "usertype" => self.user_type = m.next_value()?,
            "serviceprincipalname" => self.sp_name = m.next_value()?,
            "serviceprincipalid" => self.sp_id = m.next_value()?,
            "appid" => self.app_id = m.next_value()?,
            "appdisplayname" => self.app_display_name = m.next_value()?,
            "ipaddress" => self.ip_address = m.next_value()?,
            "calleripaddress" => self.caller_ip_address = m.next_value()?,
            "clientappused" => self.client_app_used = m.next_value()?,
            "correlationid" => self.correlation_id = m.next_value()?,
            "conditionalaccessstatus" => self.conditional_access_status = m.next_value()?,
            "isinteractive" => self.is_interactive = m.next_value()?,
            "riskdetail" => self.risk_detail = m.next_value()?,
            "riskstate" => self.risk_state = m.next_value()?,
            "risklevelaggregated" => self.risk_level_aggregated = m.next_value()?,
            "risklevelduringsignin" => self.risk_level_during_sign_in = m.next_value()?,
            "riskeventtypes" => self.risk_event_types = m.next_value()?,
            "riskeventtypes_v2" => self.risk_event_types_v2 = m.next_value()?,
            "resourcedisplayname" => self.resource_display_name = m.next_value()?,
            "resourceid" => self.resource_id = m.next_value()?,
            "status" => self.status = m.next_value::<Ci<Status<'de>>>()?.v,
            "devicedetail" => self.device = m.next_value::<Ci<Device<'de>>>()?.v,
            "location" | "locationdetails" => {
                // Log Analytics has both `Location` ("FR") and `LocationDetails` {…}; the
                // diagnostic envelope has `location: "FR"`. Keep the object, and a bare country
                // only where the object has none.
                let loc = m.next_value::<Ci<Location<'de>>>()?;
                if loc.object {
                    let country = std::mem::take(&mut self.location.country);
                    self.location = loc.v;
                    if self.location.country.is_empty() {
                        self.location.country = country;
                    }
                } else if self.location.country.is_empty() {
                    self.location.country = loc.v.country;
                }
            }
            "useragent" => self.user_agent = m.next_value()?,
            "authenticationprotocol" => self.authentication_protocol = m.next_value()?,
            "authenticationrequirement" => self.authentication_requirement = m.next_value()?,
            "uniquetokenidentifier" => self.unique_token_identifier = m.next_value()?,
            "sessionid" => self.session_id = m.next_value()?,
            "incomingtokentype" => self.incoming_token_type = m.next_value()?,
            "autonomoussystemnumber" => self.autonomous_system_number = m.next_value()?,
            "signineventtypes" => self.sign_in_event_types = m.next_value()?,
            "crosstenantaccesstype" => self.cross_tenant_access_type = m.next_value()?,
            "tokenissuertype" => self.token_issuer_type = m.next_value()?,
            "originaltransfermethod" => self.original_transfer_method = m.next_value()?,
            "ipaddressfromresourceprovider" => self.ip_from_resource = m.next_value()?,
            "mfadetail" => self.mfa = m.next_value::<Ci<Mfa<'de>>>()?.v,
            "category" => self.category = m.next_value()?,
            "resulttype" => self.result_type = m.next_value()?,
            "resultdescription" => self.result_description = m.next_value()?,
            "identity" => self.identity = m.next_value()?,
            "properties" => {
                let p = m.next_value::<Ci<SignIn<'de>>>()?;
                if p.object {
                    self.properties = Some(Box::new(p.v));
                }
            }
            _ => ci::skip(m)?,
        }
        Ok(())
    }
}

/// Entra sign-in JSON: Graph / portal `signIn` objects and Azure Monitor diagnostic records
/// (`category`, `time`, `resultType`, `callerIpAddress`, `properties{signIn}`).
#[derive(Default)]
pub struct SigninJson;

impl SigninJson {
    /// A parser.
    pub fn new() -> Self {
        SigninJson
    }
}

/// `a` when not blank, else `b`.
fn or<'x, 'a>(a: &'x Val<'a>, b: &'x Val<'a>) -> &'x Val<'a> {
    if a.is_empty() {
        b
    } else {
        a
    }
}

impl JsonParser for SigninJson {
    fn parse_record(
        &self,
        text: &str,
        line: u64,
        ctx: &ParseCtx<'_>,
        out: &mut Vec<Event>,
    ) -> ParseResult {
        let rec: Ci<SignIn<'_>> = serde_json::from_str(text)
            .map_err(|_| Skip::new("sign-in record is not valid JSON"))?;
        if !rec.object {
            return Err(Skip::new("sign-in record is not a JSON object"));
        }
        let env = &rec.v;
        // `p` is the signIn object: the envelope's `properties`, or the record itself.
        let p: &SignIn<'_> = env.properties.as_deref().unwrap_or(env);

        // Time: the signIn's own createdDateTime (offsets honoured), else the envelope `time`.
        let time_raw = or(or(&p.created, &env.time), or(&p.time, &env.created));
        if time_raw.is_empty() {
            return Err(Skip::new("sign-in time missing"));
        }
        let (time, mut fl) =
            read_time(&time_raw.text()).ok_or_else(|| Skip::new("unparseable sign-in time"))?;

        let actor_val = [
            &p.upn,
            &p.sp_name,
            &env.upn,
            &p.user_id,
            &p.sp_id,
            &env.identity,
        ]
        .into_iter()
        .find(|v| !v.str().is_empty());
        let actor = actor_val.map_or("", |v| v.str());
        if actor.is_empty() {
            return Err(Skip::new("sign-in has no user or service principal"));
        }

        let code_val = if !p.status.error_code.is_empty() {
            &p.status.error_code
        } else if !env.result_type.is_empty() {
            &env.result_type
        } else {
            &p.result_type
        };
        let error_code = code_val
            .code()
            .map_err(|()| Skip::new("non-numeric sign-in error code"))?;

        // The diagnostic category is the stream Entra routed the sign-in to and wins over
        // `isInteractive` (elastic's samples carry `SignInLogs` with `isInteractive: false`);
        // beta `signInEventTypes` is the last resort.
        let category = or(&env.category, &p.category);
        if let Some(f) = category_flag(category.str()) {
            fl |= f;
        } else if let Some(b) = or(&p.is_interactive, &env.is_interactive).flag() {
            fl |= if b {
                flags::INTERACTIVE
            } else {
                flags::NON_INTERACTIVE
            };
        } else {
            let types = &p.sign_in_event_types.0;
            if types
                .iter()
                .any(|t| t.eq_ignore_ascii_case("interactiveUser"))
            {
                fl |= flags::INTERACTIVE;
            } else if !types.is_empty() {
                fl |= flags::NON_INTERACTIVE;
            }
        }

        let mut props = Props::new(ctx.interner);
        let fields: [(&str, &Val<'_>); 29] = [
            ("appDisplayName", &p.app_display_name),
            ("resourceDisplayName", &p.resource_display_name),
            ("resourceId", &p.resource_id),
            ("clientAppUsed", &p.client_app_used),
            ("authenticationProtocol", &p.authentication_protocol),
            ("authenticationRequirement", &p.authentication_requirement),
            ("conditionalAccessStatus", &p.conditional_access_status),
            ("riskLevelDuringSignIn", &p.risk_level_during_sign_in),
            ("riskLevelAggregated", &p.risk_level_aggregated),
            ("riskState", &p.risk_state),
            ("riskDetail", &p.risk_detail),
            ("city", &p.location.city),
            ("state", &p.location.state),
            (
                "countryOrRegion",
                or(&p.location.country, &env.location.country),
            ),
            ("latitude", &p.location.geo.latitude),
            ("longitude", &p.location.geo.longitude),
            ("operatingSystem", &p.device.operating_system),
            ("browser", &p.device.browser),
            ("deviceId", &p.device.device_id),
            ("deviceDisplayName", &p.device.display_name),
            ("isCompliant", &p.device.is_compliant),
            ("isManaged", &p.device.is_managed),
            ("trustType", &p.device.trust_type),
            ("incomingTokenType", &p.incoming_token_type),
            ("autonomousSystemNumber", &p.autonomous_system_number),
            ("mfaAuthMethod", &p.mfa.auth_method),
            ("mfaAuthDetail", &p.mfa.auth_detail),
            ("userType", &p.user_type),
            ("userId", &p.user_id),
        ];
        for (name, v) in fields {
            props.push(name, &v.text());
        }
        let more: [(&str, &Val<'_>); 9] = [
            ("userDisplayName", &p.user_display_name),
            ("servicePrincipalId", &p.sp_id),
            ("correlationId", or(&p.correlation_id, &env.correlation_id)),
            ("category", category),
            ("status", &p.status.text),
            ("additionalDetails", &p.status.additional_details),
            ("crossTenantAccessType", &p.cross_tenant_access_type),
            ("tokenIssuerType", &p.token_issuer_type),
            ("originalTransferMethod", &p.original_transfer_method),
        ];
        for (name, v) in more {
            props.push(name, &v.text());
        }
        props.push("ipAddressFromResourceProvider", &p.ip_from_resource.text());
        let risks = if p.risk_event_types.0.is_empty() {
            &p.risk_event_types_v2
        } else {
            &p.risk_event_types
        };
        if !risks.0.is_empty() {
            props.push("riskEventTypes", &risks.joined());
        }
        if !p.sign_in_event_types.0.is_empty() {
            props.push("signInEventTypes", &p.sign_in_event_types.joined());
        }

        let draft = Draft {
            time,
            flags: fl,
            actor,
            ip: first(&[p.ip_address.str(), env.caller_ip_address.str()]),
            user_agent: p.user_agent.str(),
            app_id: p.app_id.str(),
            session_id: p.session_id.str(),
            token_id: p.unique_token_identifier.str(),
            error_code,
            error_text: first(&[p.status.failure_reason.str(), env.result_description.str()]),
            status_text: p.status.text.str(),
            object: p.app_display_name.str(),
            record_id: first(&[p.id.str(), p.original_request_id.str()]),
        };
        out.push(draft.build(props.v, line, ctx));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples/public/");

    fn sample(rel: &str) -> Option<String> {
        let path = format!("{SAMPLES}{rel}");
        match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("skipping: {path} not readable ({e})");
                None
            }
        }
    }

    fn json(i: &Interner, text: &str) -> Result<Vec<Event>, Skip> {
        let ctx = ParseCtx {
            interner: i,
            file: 3,
        };
        let mut out = Vec::new();
        SigninJson::new().parse_record(text, 7, &ctx, &mut out)?;
        Ok(out)
    }

    /// Parses a CSV text (header + rows) the way the driver does.
    fn csv_rows(i: &Interner, text: &str) -> Result<Vec<Result<Vec<Event>, Skip>>, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut recs = rdr.byte_records();
        let head = recs.next().ok_or("empty")?.map_err(|e| e.to_string())?;
        let header = Header::new(head.iter().map(|c| String::from_utf8_lossy(c).into_owned()));
        let parser = SigninCsv::new(&header)?;
        let ctx = ParseCtx {
            interner: i,
            file: 1,
        };
        let mut res = Vec::new();
        for (n, rec) in recs.enumerate() {
            let rec = rec.map_err(|e| e.to_string())?;
            let row = Row::new(&rec, n as u64 + 2);
            let mut out = Vec::new();
            res.push(parser.parse_row(&row, &ctx, &mut out).map(|()| out));
        }
        Ok(res)
    }

    fn prop<'e>(i: &'e Interner, ev: &Event, name: &str) -> Option<&'e str> {
        ev.prop(i, Bag::Field, name)
    }

    /// Drops trailing commas before `]`/`}` outside strings (the Graph doc sample has one).
    fn strip_trailing_commas(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let (mut in_str, mut esc) = (false, false);
        let chars: Vec<char> = s.chars().collect();
        for (n, &c) in chars.iter().enumerate() {
            if in_str {
                if esc {
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
            } else if c == ',' {
                let next = chars[n + 1..].iter().find(|c| !c.is_whitespace());
                if matches!(next, Some(']') | Some('}')) {
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn diagnostic_records_from_elastic_parse_with_utc_times() {
        let Some(text) = sample("elastic_integrations_azure_signinlogs/test-signinlogs-raw.log")
        else {
            return;
        };
        let i = Interner::new();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 5);
        let expect_flags = [
            flags::INTERACTIVE,
            flags::NON_INTERACTIVE,
            flags::NON_INTERACTIVE,
            flags::NON_INTERACTIVE,
            flags::NON_INTERACTIVE,
        ];
        let cats = [
            "SignInLogs",
            "NonInteractiveUserSignInLogs",
            "ServicePrincipalSignInLogs",
            "MicrosoftServicePrincipalSignInLogs",
            "ManagedIdentitySignInLogs",
        ];
        for (n, line) in lines.iter().enumerate() {
            let evs = json(&i, line).unwrap_or_else(|s| panic!("line {n}: {s:?}"));
            assert_eq!(evs.len(), 1);
            let ev = &evs[0];
            // createdDateTime 04:45:48.0729893-05:00 == time 09:45:48.0729893Z
            assert_eq!(ev.time.to_rfc3339(), "2019-10-18T09:45:48.072989Z");
            assert_eq!(ev.time.0, 1_571_391_948_072_989);
            assert_eq!(ev.flags, expect_flags[n], "line {n}");
            assert_eq!(ev.source, SourceKind::Signin);
            assert_eq!(i.resolve(ev.workload), "AzureActiveDirectory");
            assert_eq!(i.resolve(ev.operation), "Sign-in activity");
            assert_eq!(i.resolve(ev.operation_raw), "Sign-in activity");
            assert_eq!(i.resolve(ev.ip), "81.2.69.144");
            assert_eq!(ev.error_code.get(), Some(50140));
            assert_eq!(ev.outcome, Outcome::Failure);
            assert!(i
                .resolve(ev.error_text)
                .starts_with("This error occurred due to 'Keep me"));
            assert_eq!(
                ev.record_id.text(&i),
                "8a4de8b5-095c-47d0-a96f-a75130c61d53"
            );
            assert_eq!(i.resolve(ev.app_id), "8a4de8b5-095c-47d0-a96f-a75130c61d53");
            assert_eq!(i.resolve(ev.object), "Office 365");
            assert_eq!(ev.file, 3);
            assert_eq!(ev.line, 7);
            assert_eq!(prop(&i, ev, "category"), Some(cats[n]));
            assert_eq!(prop(&i, ev, "city"), Some("Champs-Sur-Marne"));
            assert_eq!(prop(&i, ev, "state"), Some("Seine-Et-Marne"));
            assert_eq!(prop(&i, ev, "countryOrRegion"), Some("FR"));
            assert_eq!(prop(&i, ev, "latitude"), Some("48.12341234"));
            assert_eq!(prop(&i, ev, "longitude"), Some("2.12341234"));
            assert_eq!(prop(&i, ev, "operatingSystem"), Some("MacOs"));
            assert_eq!(prop(&i, ev, "browser"), Some("Chrome 77.0.3865"));
            assert_eq!(prop(&i, ev, "deviceId"), None, "empty values are dropped");
            assert_eq!(prop(&i, ev, "clientAppUsed"), Some("Browser"));
            assert_eq!(prop(&i, ev, "conditionalAccessStatus"), Some("notApplied"));
            assert_eq!(prop(&i, ev, "riskState"), Some("none"));
            assert_eq!(prop(&i, ev, "tokenIssuerType"), Some("AzureAD"));
            assert_eq!(
                prop(&i, ev, "correlationId"),
                Some("8a4de8b5-095c-47d0-a96f-a75130c61d53"),
                "the signIn's correlationId, not the envelope's"
            );
        }
        let first = &json(&i, lines[0]).unwrap()[0];
        assert_eq!(i.resolve(first.actor), "test@elastic.co");
        assert_eq!(i.resolve(first.mailbox), "test@elastic.co");
        assert_eq!(prop(&i, first, "additionalDetails"), None);
        let second = &json(&i, lines[1]).unwrap()[0];
        assert_eq!(
            i.resolve(second.actor),
            "c3813493-bf92-5123-2717-8a8b2979c38b"
        );
        assert_eq!(prop(&i, second, "additionalDetails"), Some("MFA required"));
    }

    #[test]
    fn graph_doc_sample_parses() {
        let Some(text) = sample("microsoft_graph_docs/signin-get.example-response.json") else {
            return;
        };
        let clean = strip_trailing_commas(&text);
        let doc: serde_json::Value = serde_json::from_str(&clean).expect("lenient copy parses");
        let obj = doc["value"][0].to_string();
        let i = Interner::new();
        let evs = json(&i, &obj).expect("parses");
        assert_eq!(evs.len(), 1);
        let ev = &evs[0];
        assert_eq!(ev.time.to_rfc3339(), "2020-03-13T19:15:41.619583Z");
        assert_eq!(i.resolve(ev.ip), "131.107.159.37");
        assert_eq!(ev.error_code.get(), Some(0));
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(ev.error_text, Sym::EMPTY);
        assert_eq!(ev.flags, flags::INTERACTIVE);
        assert_eq!(
            ev.record_id.text(&i),
            "66ea54eb-6301-4ee5-be62-ff5a759b0100"
        );
        assert_eq!(i.resolve(ev.actor), "testaccount1@contoso.com");
        assert_eq!(i.resolve(ev.app_id), "de8bc8b5-d9f9-48b1-a8ad-b748da725064");
        assert_eq!(i.resolve(ev.object), "Graph explorer");
        assert_eq!(prop(&i, ev, "resourceDisplayName"), Some("Microsoft Graph"));
        assert_eq!(
            prop(&i, ev, "resourceId"),
            Some("00000003-0000-0000-c000-000000000000")
        );
        assert_eq!(prop(&i, ev, "latitude"), Some("47.68050003051758"));
        assert_eq!(prop(&i, ev, "longitude"), Some("-122.12094116210938"));
        assert_eq!(prop(&i, ev, "countryOrRegion"), Some("US"));
        assert_eq!(prop(&i, ev, "operatingSystem"), Some("Windows 10"));
        assert_eq!(prop(&i, ev, "riskEventTypes"), None);
        assert_eq!(prop(&i, ev, "userDisplayName"), Some("Test Contoso"));

        // The raw inner object, trailing comma included, is junk for a strict parser.
        let start = text.find("\"value\"").unwrap();
        let inner = &text[text[start..].find('{').unwrap() + start..];
        assert!(json(&i, inner).is_err());
    }

    #[test]
    fn beta_and_powershell_shapes_with_any_key_case() {
        let i = Interner::new();
        let beta = r#"{"id":"a1","createdDateTime":"2025-12-04T08:19:41Z","userPrincipalName":"AdeleV@Contoso.com",
            "appId":"29d9ed98-a469-4536-ade2-f981bc1d605e","appDisplayName":"Microsoft Authentication Broker",
            "ipAddress":"[2001:db8::abcd]:443","userAgent":"axios/1.6.0","sessionId":"5b0c2a71",
            "uniqueTokenIdentifier":"3kVZRE8tFkinHtPA7_EFAA","authenticationProtocol":"deviceCode",
            "authenticationRequirement":"singleFactorAuthentication","incomingTokenType":"none",
            "autonomousSystemNumber":14061,"signInEventTypes":["nonInteractiveUser"],
            "riskEventTypes":[],"riskEventTypes_v2":["unfamiliarFeatures","anonymizedIPAddress"],
            "mfaDetail":{"authMethod":"SMS","authDetail":"+X XXXXXXXX12"},"userType":"member",
            "status":{"errorCode":"50126","failureReason":"Invalid username or password."},
            "authenticationDetails":[{"succeeded":false}],"unknownThing":{"x":[1,2,{"y":null}]}}"#;
        let ev = &json(&i, beta).unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2025-12-04T08:19:41Z");
        assert_eq!(i.resolve(ev.actor), "AdeleV@Contoso.com");
        assert_eq!(i.resolve(ev.actor_key), "adelev@contoso.com");
        assert_eq!(ev.mailbox, ev.actor_key);
        assert_eq!(i.resolve(ev.ip), "2001:db8::abcd");
        assert_eq!(i.resolve(ev.user_agent), "axios/1.6.0");
        assert_eq!(i.resolve(ev.session_id), "5b0c2a71");
        assert_eq!(i.resolve(ev.token_id), "3kVZRE8tFkinHtPA7_EFAA");
        assert_eq!(ev.error_code.get(), Some(50126));
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(i.resolve(ev.error_text), "Invalid username or password.");
        assert_eq!(ev.flags, flags::NON_INTERACTIVE, "from signInEventTypes");
        assert_eq!(prop(&i, ev, "authenticationProtocol"), Some("deviceCode"));
        assert_eq!(prop(&i, ev, "autonomousSystemNumber"), Some("14061"));
        assert_eq!(
            prop(&i, ev, "riskEventTypes"),
            Some("unfamiliarFeatures,anonymizedIPAddress")
        );
        assert_eq!(prop(&i, ev, "mfaAuthMethod"), Some("SMS"));
        assert_eq!(prop(&i, ev, "signInEventTypes"), Some("nonInteractiveUser"));
        assert_eq!(prop(&i, ev, "userType"), Some("member"));

        // Get-MgAuditLogSignIn | ConvertTo-Json (PS 5.1): PascalCase, /Date()/ dates.
        let ps = r#"{"Id":"b2","CreatedDateTime":"\/Date(1695693073000)\/","UserPrincipalName":"bob@contoso.com",
            "IPAddress":"203.0.113.45","IsInteractive":"True","AppDisplayName":"OfficeHome",
            "Status":{"ErrorCode":0,"FailureReason":null,"AdditionalDetails":null},
            "Location":{"City":"Lagos","CountryOrRegion":"NG","GeoCoordinates":{"Latitude":6.45,"Longitude":3.39}}}"#;
        let ev = &json(&i, ps).unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2023-09-26T01:51:13Z");
        assert_eq!(ev.flags, flags::INTERACTIVE);
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(ev.error_code.get(), Some(0));
        assert_eq!(ev.record_id.text(&i), "b2");
        assert_eq!(prop(&i, ev, "city"), Some("Lagos"));
        assert_eq!(prop(&i, ev, "latitude"), Some("6.45"));

        // Log Analytics row: TimeGenerated, ResultType, flat Location + LocationDetails.
        let la = r#"{"TimeGenerated":"2024-01-02T03:04:05.123000Z","ResultType":"0","Category":"SignInLogs",
            "UserPrincipalName":"carol@contoso.com","IPAddress":"198.51.100.7","Location":"DE",
            "LocationDetails":{"city":"Berlin","state":"Berlin","countryOrRegion":"DE"}}"#;
        let ev = &json(&i, la).unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2024-01-02T03:04:05.123000Z");
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(ev.flags, flags::INTERACTIVE);
        assert_eq!(prop(&i, ev, "city"), Some("Berlin"));
        assert_eq!(prop(&i, ev, "countryOrRegion"), Some("DE"));
    }

    #[test]
    fn json_near_misses_are_skipped() {
        let i = Interner::new();
        let cases = [
            ("{not json", "sign-in record is not valid JSON"),
            ("[1,2,3]", "sign-in record is not a JSON object"),
            ("\"text\"", "sign-in record is not a JSON object"),
            (
                r#"{"userPrincipalName":"a@b.c","status":{"errorCode":0}}"#,
                "sign-in time missing",
            ),
            (
                r#"{"createdDateTime":"yesterday","userPrincipalName":"a@b.c"}"#,
                "unparseable sign-in time",
            ),
            (
                r#"{"createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":"Oops"}}"#,
                "non-numeric sign-in error code",
            ),
            (
                r#"{"time":"2024-01-01T00:00:00Z","resultType":"Broken","properties":{"userPrincipalName":"a@b.c"}}"#,
                "non-numeric sign-in error code",
            ),
            (
                r#"{"createdDateTime":"2024-01-01T00:00:00Z","status":{"errorCode":0}}"#,
                "sign-in has no user or service principal",
            ),
            (
                r#"{"createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":-1}}"#,
                "non-numeric sign-in error code",
            ),
        ];
        for (text, reason) in cases {
            let err = json(&i, text).expect_err(text);
            assert_eq!(err.reason, reason, "{text}");
        }
        // Wrong types where objects are expected are tolerated, not fatal.
        let odd = r#"{"createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a@b.c",
            "status":"Failure","deviceDetail":[],"location":null,"isInteractive":"maybe","riskEventTypes":"none"}"#;
        let ev = &json(&i, odd).unwrap()[0];
        assert_eq!(ev.error_code.get(), None);
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(prop(&i, ev, "status"), Some("Failure"));
        assert_eq!(prop(&i, ev, "riskEventTypes"), Some("none"));
        assert_eq!(ev.flags, 0);
    }

    const PORTAL_HEADER: &str = "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,Incoming token type,Authentication Protocol,Unique token identifier,Original transfer method,Client credential type,Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,Session ID,IP address (seen by resource),Through Global Secure Access,Global Secure Access IP address,Autonomous system  number,Flagged for review,Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer";

    #[test]
    fn portal_interactive_csv_with_header_quirks() {
        // 56 distinct names plus the duplicated `Incoming token type`.
        assert_eq!(PORTAL_HEADER.split(',').count(), 57);
        let text = format!(
            "\u{feff}{PORTAL_HEADER}\r\n\
2025-12-04T08:19:41Z,0f1e2d3c-0000-4000-8000-000000000001,\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\",c0ffee00-0000-4000-8000-000000000002,f757cb79-dd91-4555-a45e-520c2525d932,Adele Vance,AdeleV@Contoso.com,Member,none,primaryRefreshToken,none,3kVZRE8tFkinHtPA7_EFAA,,,,,OfficeHome,4765445b-32c6-49b0-83e6-1d93765276ca,f8cdef31-a31e-4b4a-93e4-5f571e91255a,OfficeHome,4765445b-32c6-49b0-83e6-1d93765276ca,df233d94-fed3-4436-bf9a-a799fb85a159,,df233d94-fed3-4436-bf9a-a799fb85a159,Contoso,203.0.113.45,\"Lagos, Lagos, NG\",Failure,50074,Strong Authentication is required.,Browser,,Chrome 120.0.0,Windows10,False,False,,,,,Multifactor authentication,AdeleV@Contoso.com,5b0c2a71-0d7e-4c2f-9a55-3f1e8b7c6d20,,No,,AS14061,No,AzureAD,,,120,Not Applied,,,,\r\n\
2025-12-04T08:20:02Z,0f1e2d3c-0000-4000-8000-000000000003,Mozilla/5.0,c0ffee00-0000-4000-8000-000000000002,f757cb79-dd91-4555-a45e-520c2525d932,Adele Vance,AdeleV@Contoso.com,Member,none,none,none,4kVZ,,,,,OfficeHome,4765445b-32c6-49b0-83e6-1d93765276ca,,Office 365 Exchange Online,00000002-0000-0ff1-ce00-000000000000,,,,,[203.0.113.45]:5566,\"Redmond, , US\",Success,0,,Browser,dev-1,Edge,Windows10,True,True,Hybrid Azure AD joined,Success,Text message,Text message sent,Multifactor authentication,,5b0c2a71-0d7e-4c2f-9a55-3f1e8b7c6d20\r\n\
,0f1e2d3c-0000-4000-8000-000000000004,Mozilla/5.0,,,,AdeleV@Contoso.com\r\n\
2025-12-04T08:21:00Z,0f1e2d3c-0000-4000-8000-000000000005,Mozilla/5.0,,,,AdeleV@Contoso.com,Member,,,,,,,,,OfficeHome,,,,,,,,,203.0.113.45,,Failure,AADSTS50126\r\n"
        );
        let i = Interner::new();
        let rows = csv_rows(&i, &text).expect("header accepted");
        assert_eq!(rows.len(), 4);
        let ev = &rows[0].as_ref().expect("row 1")[0];
        assert_eq!(ev.time.to_rfc3339(), "2025-12-04T08:19:41Z");
        assert_eq!(
            ev.flags, 0,
            "the file name, not the header, says interactive"
        );
        assert_eq!(ev.line, 2);
        assert_eq!(i.resolve(ev.actor), "AdeleV@Contoso.com");
        assert_eq!(i.resolve(ev.mailbox), "adelev@contoso.com");
        assert_eq!(i.resolve(ev.ip), "203.0.113.45");
        assert!(i
            .resolve(ev.user_agent)
            .starts_with("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"));
        assert_eq!(
            i.resolve(ev.app_id),
            "4765445b-32c6-49b0-83e6-1d93765276ca",
            "`Application ID ` with its trailing space"
        );
        assert_eq!(
            i.resolve(ev.session_id),
            "5b0c2a71-0d7e-4c2f-9a55-3f1e8b7c6d20"
        );
        assert_eq!(i.resolve(ev.token_id), "3kVZRE8tFkinHtPA7_EFAA");
        assert_eq!(ev.error_code.get(), Some(50074));
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(
            i.resolve(ev.error_text),
            "Strong Authentication is required."
        );
        assert_eq!(i.resolve(ev.object), "OfficeHome");
        assert_eq!(
            ev.record_id.text(&i),
            "0f1e2d3c-0000-4000-8000-000000000001"
        );
        assert_eq!(prop(&i, ev, "city"), Some("Lagos"));
        assert_eq!(prop(&i, ev, "state"), Some("Lagos"));
        assert_eq!(prop(&i, ev, "countryOrRegion"), Some("NG"));
        assert_eq!(prop(&i, ev, "autonomousSystemNumber"), Some("AS14061"));
        assert_eq!(
            prop(&i, ev, "incomingTokenType"),
            Some("primaryRefreshToken"),
            "first of the duplicated columns"
        );
        assert_eq!(prop(&i, ev, "status"), Some("Failure"));
        assert_eq!(prop(&i, ev, "userType"), Some("Member"));
        assert_eq!(prop(&i, ev, "userDisplayName"), Some("Adele Vance"));
        assert_eq!(prop(&i, ev, "isCompliant"), Some("False"));
        assert_eq!(
            prop(&i, ev, "authenticationRequirement"),
            Some("Multifactor authentication")
        );
        assert_eq!(prop(&i, ev, "conditionalAccessStatus"), Some("Not Applied"));

        let ev = &rows[1].as_ref().expect("row 2")[0];
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(ev.error_code.get(), Some(0));
        assert_eq!(i.resolve(ev.ip), "203.0.113.45");
        assert_eq!(prop(&i, ev, "city"), Some("Redmond"));
        assert_eq!(prop(&i, ev, "state"), None);
        assert_eq!(prop(&i, ev, "countryOrRegion"), Some("US"));
        assert_eq!(prop(&i, ev, "trustType"), Some("Hybrid Azure AD joined"));
        assert_eq!(prop(&i, ev, "mfaResult"), Some("Success"));
        assert_eq!(prop(&i, ev, "mfaAuthMethod"), Some("Text message"));
        assert_eq!(prop(&i, ev, "deviceId"), Some("dev-1"));
        assert_eq!(
            prop(&i, ev, "resourceId"),
            Some("00000002-0000-0ff1-ce00-000000000000")
        );

        // Short row without a date; a row with a word for an error code.
        assert_eq!(rows[2].as_ref().unwrap_err().reason, "sign-in date missing");
        assert_eq!(
            rows[3].as_ref().unwrap_err().reason,
            "non-numeric sign-in error code"
        );
    }

    #[test]
    fn portal_service_principal_csv() {
        let text = "Date (UTC),Request ID,Correlation ID,Service principal ID,Service principal name,Credential key ID,Credential thumbprint,Application,Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Conditional Access\n\
2025-11-30T23:59:59.5Z,sp-req-1,corr-1,9a8b7c6d-0000-4000-8000-00000000000a,Evil Mail Sync,key-1,,Evil Mail Sync,11112222-3333-4444-5555-666677778888,tenant-x,Office 365 Exchange Online,00000002-0000-0ff1-ce00-000000000000,,,,,198.51.100.20,\"Amsterdam, Noord-Holland, NL\",Success,0,,Not Applied\n";
        let i = Interner::new();
        let rows = csv_rows(&i, text).unwrap();
        let ev = &rows[0].as_ref().unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2025-11-30T23:59:59.500000Z");
        assert_eq!(i.resolve(ev.actor), "Evil Mail Sync");
        assert_eq!(i.resolve(ev.actor_key), "evil mail sync");
        assert_eq!(ev.flags, flags::NON_INTERACTIVE);
        assert_eq!(i.resolve(ev.app_id), "11112222-3333-4444-5555-666677778888");
        assert_eq!(ev.outcome, Outcome::Success);
        assert_eq!(ev.record_id.text(&i), "sp-req-1");
        assert_eq!(
            prop(&i, ev, "servicePrincipalId"),
            Some("9a8b7c6d-0000-4000-8000-00000000000a")
        );
        assert_eq!(prop(&i, ev, "countryOrRegion"), Some("NL"));
    }

    #[test]
    fn older_export_with_locale_dates() {
        let text = "CreatedDateTime,UserPrincipalName,UserDisplayName,AppDisplayName,IPAddress,City,Country,Device,Browser,OS,Status,RiskState,RiskLevelDuringSignIn,RiskLevelAggregated,ConditionalAccessStatus\r\n\
3/12/2025 7:22:01 AM,adelev@contoso.com,Adele Vance,Office 365 Exchange Online,::ffff:10.11.12.13,Sydney,AU,,Chrome 120,Windows 10,Success,none,none,none,notApplied\r\n\
25/12/2025 7:22:01 PM,adelev@contoso.com,Adele Vance,OfficeHome,10.0.0.1,Sydney,AU,,Chrome 120,Windows 10,Failure,atRisk,high,medium,failure\r\n\
not a date,adelev@contoso.com,Adele Vance,OfficeHome,10.0.0.1,Sydney,AU,,,,Success,,,,\r\n";
        let i = Interner::new();
        let rows = csv_rows(&i, text).unwrap();
        let ev = &rows[0].as_ref().unwrap()[0];
        assert_eq!(
            ev.time.to_rfc3339(),
            "2025-03-12T07:22:01Z",
            "read month-first"
        );
        assert_eq!(ev.flags, flags::TIME_FROM_WRAPPER | flags::TIME_AMBIGUOUS);
        assert_eq!(ev.error_code.get(), None);
        assert_eq!(ev.outcome, Outcome::Success, "from the Status word");
        assert_eq!(i.resolve(ev.ip), "10.11.12.13");
        assert_eq!(i.resolve(ev.object), "Office 365 Exchange Online");
        assert_eq!(prop(&i, ev, "city"), Some("Sydney"));
        assert_eq!(prop(&i, ev, "countryOrRegion"), Some("AU"));
        assert_eq!(prop(&i, ev, "operatingSystem"), Some("Windows 10"));
        let ev = &rows[1].as_ref().unwrap()[0];
        assert_eq!(ev.time.to_rfc3339(), "2025-12-25T19:22:01Z");
        assert_eq!(ev.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(ev.outcome, Outcome::Failure);
        assert_eq!(prop(&i, ev, "riskLevelDuringSignIn"), Some("high"));
        assert_eq!(prop(&i, ev, "riskState"), Some("atRisk"));
        assert_eq!(
            rows[2].as_ref().unwrap_err().reason,
            "unparseable sign-in date"
        );
    }

    #[test]
    fn csv_headers_that_are_not_signins_are_refused() {
        let i = Interner::new();
        assert!(csv_rows(&i, "Request ID,Username,Status\nx,y,Success\n").is_err());
        assert!(csv_rows(
            &i,
            "Date (UTC),Request ID,Status\n2024-01-01T00:00:00Z,x,Success\n"
        )
        .is_err());
        // A row with the date but no account is skipped, not turned into an anonymous event.
        let rows = csv_rows(
            &i,
            "Date (UTC),Username,Status\n2024-01-01T00:00:00Z,,Success\n,,\n",
        )
        .unwrap();
        assert_eq!(
            rows[0].as_ref().unwrap_err().reason,
            "sign-in has no user or service principal"
        );
        assert_eq!(rows[1].as_ref().unwrap_err().reason, "blank row");
    }

    #[test]
    fn location_splitting() {
        assert_eq!(split_location("Lagos, Lagos, NG"), ("Lagos", "Lagos", "NG"));
        assert_eq!(split_location("Redmond, , US"), ("Redmond", "", "US"));
        assert_eq!(split_location("Paris, FR"), ("Paris", "", "FR"));
        assert_eq!(split_location("FR"), ("", "", "FR"));
        assert_eq!(split_location("Somewhere"), ("Somewhere", "", ""));
        assert_eq!(split_location("  "), ("", "", ""));
        assert_eq!(
            split_location("Washington, D.C., District of Columbia, US"),
            ("Washington, D.C.", "District of Columbia", "US")
        );
    }

    #[test]
    fn ci_values_are_tolerant() {
        assert_eq!(Val::S("50126".into()).code(), Ok(Some(50126)));
        assert_eq!(Val::S(" ".into()).code(), Ok(None));
        assert_eq!(Val::U(0).code(), Ok(Some(0)));
        assert_eq!(Val::F(50140.0).code(), Ok(Some(50140)));
        assert!(Val::F(1.5).code().is_err());
        assert!(Val::S("AADSTS50126".into()).code().is_err());
        assert_eq!(Val::S("TRUE".into()).flag(), Some(true));
        assert_eq!(Val::U(0).flag(), Some(false));
        assert_eq!(Val::S("x".into()).flag(), None);
        assert_eq!(Val::S("22761".into()).uint(), Some(22761));
        assert_eq!(Val::F(12.0).text(), "12");
        // Keys longer than the buffer are ignored, not an error.
        let long = format!(
            r#"{{"{}":1,"createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a@b.c"}}"#,
            "k".repeat(300)
        );
        let i = Interner::new();
        assert_eq!(json(&i, &long).unwrap().len(), 1);
    }

    use crate::event::Sym;
}

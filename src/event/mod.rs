//! The one normalised event model every analysis reads.
//!
//! Every export shape (UAL CSV/JSON, mailbox audit, message trace, Entra sign-ins) becomes a
//! stream of [`Event`]s. The struct is deliberately small: the columns every analysis groups or
//! joins on are interned [`Sym`]s, the time is eight bytes, and everything operation-specific
//! (cmdlet parameters, folder items, modified properties) lives behind one optional box,
//! [`Details`], so records that no detection looks at cost little. See `docs/event-model.md`.

pub mod footprint;
pub mod intern;
pub mod ip;
pub mod prop_list;
pub mod record_id;
mod text_arena;
pub mod time;
pub mod timestamp;

pub use footprint::Footprint;
pub use intern::{Interner, NameQuery, Sym, SymMemo};
pub use prop_list::PropList;
pub use record_id::RecordId;
pub use timestamp::Timestamp;

use serde::Serialize;

/// Which family of export an event came from. Dedupe keys are scoped by family, so a UAL
/// record read from a CSV and from a JSON export is kept once.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Unified Audit Log (any shape).
    #[default]
    Ual,
    /// `Search-MailboxAuditLog` export.
    MailboxAudit,
    /// Message trace (cmdlet CSV, reporting JSON, historical-search report).
    MessageTrace,
    /// Entra ID sign-in log (portal CSV/JSON, Graph, diagnostic settings).
    Signin,
}

impl SourceKind {
    /// The stable name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Ual => "ual",
            SourceKind::MailboxAudit => "mailbox-audit",
            SourceKind::MessageTrace => "message-trace",
            SourceKind::Signin => "signin",
        }
    }
}

/// Whether the action succeeded. Sign-ins are judged on their error code, never on
/// `ResultStatus` (a `UserLoginFailed` record says `ResultStatus: Success`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The record does not say.
    #[default]
    Unknown,
    /// Succeeded (including partially).
    Success,
    /// Failed.
    Failure,
}

/// Bit flags about how an event was read.
pub mod flags {
    /// The time came from a culture-formatted wrapper date whose day and month could be
    /// swapped (both ≤ 12); it was read month-first.
    pub const TIME_AMBIGUOUS: u8 = 1;
    /// The time came from a wrapper column, not from the record's own timestamp.
    pub const TIME_FROM_WRAPPER: u8 = 2;
    /// The sign-in was interactive (Entra `isInteractive`, interactive CSV).
    pub const INTERACTIVE: u8 = 4;
    /// The sign-in was explicitly non-interactive.
    pub const NON_INTERACTIVE: u8 = 8;
}

/// An optional `u32` in four bytes, where an `Option<u32>` takes eight: the event's error code
/// (eight bytes kept the event at 120 bytes instead of 112) and a mail item's size (two
/// million items at 4 GB). Held as the value plus one (0 is none); the one value that does not
/// fit, `u32::MAX`, reads back as `u32::MAX - 1` (no error code is either, and no mail item
/// comes near 4 GiB).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OptU32(Option<std::num::NonZeroU32>);

/// A numeric error code, or none ([`OptU32`]).
pub type ErrorCode = OptU32;

impl OptU32 {
    /// No value.
    pub const NONE: OptU32 = OptU32(None);

    /// The value, when there is one.
    #[inline]
    pub fn get(self) -> Option<u32> {
        self.0.map(|c| c.get() - 1)
    }
}

impl From<Option<u32>> for OptU32 {
    fn from(value: Option<u32>) -> Self {
        OptU32(value.and_then(|c| std::num::NonZeroU32::new(c.saturating_add(1))))
    }
}

impl From<u32> for OptU32 {
    fn from(value: u32) -> Self {
        OptU32::from(Some(value))
    }
}

/// Index of an input file in the ingest's file table.
pub type FileId = u32;

/// One normalised record.
#[derive(Clone, Debug, Default)]
pub struct Event {
    /// When it happened, UTC.
    pub time: Timestamp,
    /// Export family.
    pub source: SourceKind,
    /// [`flags`] bits.
    pub flags: u8,
    /// Success or failure.
    pub outcome: Outcome,
    /// UAL RecordType number (`None` when the source has none or it was unknown).
    pub record_type: Option<u16>,
    /// Numeric error code (`ErrorNumber`, `status.errorCode`, `Sign-in error code`), 0 = success.
    pub error_code: ErrorCode,
    /// Error name or failure reason (`LogonError`, `failureReason`, message-trace status).
    pub error_text: Sym,
    /// `Workload` (Exchange, AzureActiveDirectory, …) or a fixed name for non-UAL sources.
    pub workload: Sym,
    /// The operation as written (`Update user.`, `New-InboxRule`, `MailItemsAccessed`).
    pub operation_raw: Sym,
    /// The operation normalised: trimmed, no trailing period (`Update user`). Detections match on this.
    pub operation: Sym,
    /// Who acted, as written (for display).
    pub actor: Sym,
    /// Who acted, lower-cased (for joining).
    pub actor_key: Sym,
    /// The mailbox or account acted upon, lower-cased (`MailboxOwnerUPN`, recipient, sign-in user).
    pub mailbox: Sym,
    /// Client IP, normalised (no port, brackets or `::ffff:`; hostnames kept).
    pub ip: Sym,
    /// User agent or Exchange `ClientInfoString`.
    pub user_agent: Sym,
    /// Client application id (AppId, ApplicationId, appId).
    pub app_id: Sym,
    /// Session id (UAL `SessionId`, `AppAccessContext.AADSessionId`, `DeviceProperties.SessionId`, sign-in `sessionId`).
    pub session_id: Sym,
    /// Unique token id (`AppAccessContext.UniqueTokenId`, `uniqueTokenIdentifier`).
    pub token_id: Sym,
    /// The object acted on: rule name, folder, subject, InternetMessageId, target.
    pub object: Sym,
    /// The record's own identity (UAL `Id`, message-trace id + recipient, sign-in id); the dedupe key.
    pub record_id: RecordId,
    /// Input file (index into the ingest's file table).
    pub file: FileId,
    /// 1-based line where the record starts (CSV, NDJSON) or record index (JSON arrays).
    /// 32 bits, which keeps the event at 112 bytes; see [`Event::line_from`] for the rare
    /// file that has more lines.
    pub line: u32,
    /// Flattened Name/Value bags and kept scalar fields, shared with events whose props are
    /// equal (see [`PropList`]): most records repeat another's exactly.
    pub props: PropList,
    /// Operation-specific specifics; `None` when there are none.
    pub details: Option<Box<Details>>,
}

/// Which Name/Value bag (or other part of the record) a [`Prop`] came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "PascalCase")]
pub enum Bag {
    /// Exchange cmdlet `Parameters`.
    Parameters,
    /// `ExtendedProperties`.
    ExtendedProperties,
    /// `DeviceProperties`.
    DeviceProperties,
    /// `OperationProperties`.
    OperationProperties,
    /// `ModifiedProperties` (`value` is NewValue, `old` is OldValue).
    ModifiedProperties,
    /// Any other scalar field of the record worth keeping (LogonType, ClientAppId, status…).
    Field,
}

impl Bag {
    /// The name written in outputs (the UAL's own spelling of the bag).
    pub fn as_str(self) -> &'static str {
        match self {
            Bag::Parameters => "Parameters",
            Bag::ExtendedProperties => "ExtendedProperties",
            Bag::DeviceProperties => "DeviceProperties",
            Bag::OperationProperties => "OperationProperties",
            Bag::ModifiedProperties => "ModifiedProperties",
            Bag::Field => "Field",
        }
    }
}

/// One flattened Name/Value entry. Order is kept and names may repeat.
///
/// Values are interned like names: most repeat across millions of records (client strings,
/// owner UPNs, `Bind`/`Sync`, `False`), so a prop costs 16 bytes and no allocation of its own.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Prop {
    /// Which bag.
    pub bag: Bag,
    /// The entry's name as written.
    pub name: Sym,
    /// The value (NewValue for ModifiedProperties); empty when the record had none.
    pub value: Sym,
    /// OldValue for ModifiedProperties.
    pub old: Option<Sym>,
}

/// A mail item or folder an operation touched.
///
/// Strings are interned (empty = absent): folders and message ids repeat across the millions
/// of `MailItemsAccessed` records, and an item costs 16 bytes instead of three allocations.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MailItem {
    /// Folder path (`\Inbox`, `\Sent Items`).
    pub folder: Sym,
    /// RFC 5322 Message-ID, with angle brackets as written.
    pub internet_message_id: Sym,
    /// Subject line (attacker-controlled text).
    pub subject: Sym,
    /// Size in bytes when given ([`MailItem::size`]). 32 bits in four bytes (16-byte items
    /// instead of 32: a 4 GB export holds two million): Exchange Online refuses messages above
    /// 150 MB, and a larger value (a damaged or forged record) is kept as
    /// [`MailItem::MAX_SIZE`] by [`MailItem::size_from`].
    pub size: OptU32,
}

impl MailItem {
    /// The largest size an item records (4 GiB − 2: [`OptU32`] holds no more).
    pub const MAX_SIZE: u32 = u32::MAX - 1;

    /// A size as recorded, saturated at [`MailItem::MAX_SIZE`].
    pub fn size_from(bytes: u64) -> u32 {
        u32::try_from(bytes).map_or(Self::MAX_SIZE, |b| b.min(Self::MAX_SIZE))
    }

    /// The size in bytes, when known.
    pub fn size(&self) -> Option<u32> {
        self.size.get()
    }

    /// The folder path, when known.
    pub fn folder<'a>(&self, interner: &'a Interner) -> Option<&'a str> {
        non_empty(interner, self.folder)
    }

    /// The Message-ID, when known.
    pub fn internet_message_id<'a>(&self, interner: &'a Interner) -> Option<&'a str> {
        non_empty(interner, self.internet_message_id)
    }

    /// The subject, when known (attacker text: escape it wherever it is shown).
    pub fn subject<'a>(&self, interner: &'a Interner) -> Option<&'a str> {
        non_empty(interner, self.subject)
    }
}

fn non_empty(interner: &Interner, sym: Sym) -> Option<&str> {
    (!sym.is_empty()).then(|| interner.resolve(sym))
}

/// The specifics of an event. Forty bytes, allocated only when there are some: a million
/// `MailItemsAccessed` records carry one each. Strings are interned (empty = absent) and the
/// lists are boxed slices: nothing is added after parsing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    /// Items and folders touched (Item, AffectedItems, Folders[].FolderItems, message-trace message).
    pub items: Box<[MailItem]>,
    /// Destination folder of a move/copy.
    pub dest_folder: Sym,
    /// Sender address (message trace).
    pub sender: Sym,
    /// Recipient addresses as written (message trace).
    pub recipients: Box<[Sym]>,
}

impl Details {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.dest_folder.is_empty()
            && self.sender.is_empty()
            && self.recipients.is_empty()
    }

    /// The destination folder of a move or copy, when known.
    pub fn dest_folder<'a>(&self, interner: &'a Interner) -> Option<&'a str> {
        non_empty(interner, self.dest_folder)
    }

    /// The sender address, when known.
    pub fn sender<'a>(&self, interner: &'a Interner) -> Option<&'a str> {
        non_empty(interner, self.sender)
    }
}

/// The first value of `name` in `bag` among `props`, compared without regard to ASCII case.
pub fn find_prop<'a>(
    props: &[Prop],
    interner: &'a Interner,
    bag: Bag,
    name: &str,
) -> Option<&'a str> {
    find_prop_sym(props, interner, bag, name).map(|v| interner.resolve(v))
}

/// [`find_prop`]'s value as its symbol, for callers that collect distinct values before
/// resolving them.
pub fn find_prop_sym(props: &[Prop], interner: &Interner, bag: Bag, name: &str) -> Option<Sym> {
    // Detections look props up millions of times: after ingest the names are classified,
    // so this compares integers (and a name no record has is answered at once).
    let found = match interner.name_query(name) {
        NameQuery::Absent => None,
        NameQuery::Class(c) => {
            // The class table fetched once, not per prop (classes start at 1).
            let class_of = interner.name_classes();
            props
                .iter()
                .find(|p| p.bag == bag && class_of.get(p.name.index() as usize) == Some(&c))
        }
        NameQuery::Unknown => props
            .iter()
            .find(|p| p.bag == bag && interner.resolve(p.name).eq_ignore_ascii_case(name)),
    };
    found.map(|p| p.value)
}

impl Event {
    /// The first value of `name` in `bag` (ASCII case-insensitive), if the event has details.
    pub fn prop<'a>(&self, interner: &'a Interner, bag: Bag, name: &str) -> Option<&'a str> {
        find_prop(&self.props, interner, bag, name)
    }

    /// The props, or an empty slice.
    pub fn props(&self) -> &[Prop] {
        &self.props
    }

    /// The items, or an empty slice.
    pub fn items(&self) -> &[MailItem] {
        self.details.as_ref().map_or(&[], |d| &d.items)
    }

    /// Mutable details, created on first use.
    pub fn details_mut(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Default::default)
    }

    /// A record's line (or index) as [`Event::line`] holds it: saturated at `u32::MAX`. A file
    /// with more lines than that is some 400 GB of CSV; its later records would all name the
    /// last line, and are still read, parsed and deduplicated.
    pub fn line_from(line: u64) -> u32 {
        u32::try_from(line).unwrap_or(u32::MAX)
    }

    /// The total order events are analysed in: time, then input file, then line. Never
    /// depends on thread timing.
    pub fn time_key(&self) -> (Timestamp, FileId, u32) {
        (self.time, self.file, self.line)
    }

    /// The account the event is about: the affected mailbox, else the actor (lower-cased
    /// either way). Rules key per-account state on this symbol.
    pub fn account(&self) -> Sym {
        if self.mailbox.is_empty() {
            self.actor_key
        } else {
            self.mailbox
        }
    }

    /// True when the [`flags`] bit is set.
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Normalises an operation name: trims and drops trailing periods (`Update user.` → `Update user`).
pub fn normalize_operation(op: &str) -> &str {
    // Strip every trailing period and space together, so normalising twice changes nothing
    // (`". ."` must not become `"."` on a second pass; found by fuzzing).
    op.trim_start()
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_normalisation_drops_trailing_period() {
        assert_eq!(normalize_operation(" Update user. "), "Update user");
        assert_eq!(normalize_operation("New-InboxRule"), "New-InboxRule");
        assert_eq!(normalize_operation("..."), "");
        for op in [". .", "Update user. ", " x . . ", "a.b."] {
            let once = normalize_operation(op);
            assert_eq!(normalize_operation(once), once, "{op:?}");
        }
    }

    #[test]
    fn details_stay_compact() {
        assert!(std::mem::size_of::<Details>() <= 40);
        assert!(std::mem::size_of::<Prop>() <= 16);
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 4);
        assert!(std::mem::size_of::<MailItem>() <= 16);
    }

    #[test]
    fn error_codes_round_trip_in_four_bytes() {
        assert_eq!(std::mem::size_of::<ErrorCode>(), 4);
        for code in [0, 1, 50126, 2_147_942_405, u32::MAX - 1] {
            assert_eq!(ErrorCode::from(code).get(), Some(code));
        }
        assert_eq!(ErrorCode::from(None).get(), None);
        assert_eq!(ErrorCode::default(), ErrorCode::NONE);
        assert_eq!(ErrorCode::from(u32::MAX).get(), Some(u32::MAX - 1));
        assert_eq!(Event::line_from(7), 7);
        assert_eq!(Event::line_from(u64::MAX), u32::MAX);
    }

    #[test]
    fn item_sizes_beyond_32_bits_saturate() {
        assert_eq!(MailItem::size_from(153_806), 153_806);
        assert_eq!(MailItem::size_from(u64::from(u32::MAX)), MailItem::MAX_SIZE);
        assert_eq!(MailItem::size_from(5_000_000_000), MailItem::MAX_SIZE);
        let item = |bytes| MailItem {
            size: Some(MailItem::size_from(bytes)).into(),
            ..MailItem::default()
        };
        assert_eq!(item(5_000_000_000).size(), Some(MailItem::MAX_SIZE));
        assert_eq!(item(0).size(), Some(0));
        assert_eq!(MailItem::default().size(), None);
    }

    #[test]
    fn event_stays_compact() {
        // A regression guard for memory: the hot struct must not silently grow.
        assert!(
            std::mem::size_of::<Event>() <= 112,
            "{}",
            std::mem::size_of::<Event>()
        );
    }
}

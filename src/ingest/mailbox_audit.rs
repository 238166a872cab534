//! `Search-MailboxAuditLog -ShowDetails | Export-Csv` (deprecated cmdlet; old case files still
//! hold these exports).
//!
//! Each row is turned into an [`AuditData`] with the same meaning per slot and then goes through
//! the shared mapping ([`to_event`]), so mailbox-audit events read like their UAL twins. What
//! differs from a UAL record:
//!
//! * `source` = [`SourceKind::MailboxAudit`]; `record_type` = `None`; `workload` = `Exchange`.
//! * `time` = `LastAccessed`, a culture-formatted wrapper date: the event always carries
//!   [`TIME_FROM_WRAPPER`](crate::event::flags::TIME_FROM_WRAPPER), plus
//!   [`TIME_AMBIGUOUS`](crate::event::flags::TIME_AMBIGUOUS) when day and month could be swapped.
//! * `actor` = `LogonUserDisplayName` (this export has no actor UPN; `actor_key` is the display
//!   name lower-cased, so it will not join with UAL actors).
//! * `mailbox` = `MailboxOwnerUPN`, else `MailboxResolvedOwnerName`, else `actor_key`.
//! * `outcome` from `OperationResult` (Succeeded / PartiallySucceeded / Failed).
//! * `LogonType` is a name here (`Owner`, `Delegate`, `Admin`); the `LogonType` prop carries the
//!   UAL number (0, 2, 1) so detections read both exports alike.
//! * `ip` = `ClientIP`, else `ClientIPAddress`; `user_agent` = `ClientInfoString`; `session_id` =
//!   `SessionId`; `app_id` = `AppId`, else `ClientAppId`; `record_id` = `Identity`.
//! * Item: `ItemId`, `ItemSubject`, `ItemInternetMessageId`, `ItemAttachments` in the folder
//!   `FolderPathName`; `DestFolderPathName` → `dest_folder`; `MemberRights`/`MemberUpn` of a
//!   folder-permission change → `Field` props. A row without an item but with a folder
//!   (FolderBind) gives a folder-only item.
//! * The multi-item lists `SourceItemSubjectsList`, `SourceItemInternetMessageIdsList`,
//!   `SourceItemFolderPathNamesList` become one item each. How the cmdlet joins them is not
//!   documented, so splitting is tolerant: message ids are the `<…>` tokens (or `,`/`;`-separated
//!   words), folder paths split at a `,` or `;` that is followed by `\`, and subjects — which may
//!   contain commas — are split at `,` (then `;`) only when that gives as many parts as there are
//!   message ids / folders; otherwise the whole text goes to the first item and is also kept
//!   verbatim as the `Field` prop `SourceItemSubjectsList`.
//! * `OperationProperties` is flattened text (`MailAccessType:Bind IsThrottled:False`): each
//!   `Name:` that starts a word (outside brackets) opens a new entry of
//!   [`Bag::OperationProperties`](crate::event::Bag::OperationProperties). A JSON array there is
//!   read as a Name/Value array. `AuditOperationsCountInAggregatedRecord` → `OperationCount`.

use super::audit_data::{
    to_event, AuditData, Bag, Count, DateText, Enumish, Folder, Item, NameValue, Text,
};
use super::record::{CsvParser, Header, ParseCtx, ParseResult, Row, Skip};
use crate::event::{Bag as PropBag, Event, Prop, SourceKind};
use std::borrow::Cow;

/// Search-MailboxAuditLog CSV.
pub struct MailboxAuditCsv {
    operation: Option<usize>,
    result: Option<usize>,
    logon_type: Option<usize>,
    internal_logon_type: Option<usize>,
    external_access: Option<usize>,
    dest_folder: Option<usize>,
    folder: Option<usize>,
    folder_name: Option<usize>,
    member_rights: Option<usize>,
    member_upn: Option<usize>,
    client_info: Option<usize>,
    client_ip_address: Option<usize>,
    client_ip: Option<usize>,
    owner_upn: Option<usize>,
    owner_name: Option<usize>,
    dest_owner_upn: Option<usize>,
    cross_mailbox: Option<usize>,
    logon_user: Option<usize>,
    src_subjects: Option<usize>,
    src_folders: Option<usize>,
    src_imids: Option<usize>,
    item_id: Option<usize>,
    item_subject: Option<usize>,
    item_attachments: Option<usize>,
    item_imid: Option<usize>,
    session_id: Option<usize>,
    operation_properties: Option<usize>,
    operation_count: Option<usize>,
    app_id: Option<usize>,
    client_app_id: Option<usize>,
    last_accessed: Option<usize>,
    identity: Option<usize>,
}

impl MailboxAuditCsv {
    /// Maps the header's columns by name; needs `Operation` and `LastAccessed`.
    pub fn new(header: &Header) -> Result<Self, String> {
        let f = |n: &str| header.find(n);
        let p = MailboxAuditCsv {
            operation: f("Operation"),
            result: f("OperationResult"),
            logon_type: f("LogonType"),
            internal_logon_type: f("InternalLogonType"),
            external_access: f("ExternalAccess"),
            dest_folder: f("DestFolderPathName"),
            folder: f("FolderPathName"),
            folder_name: f("FolderName"),
            member_rights: f("MemberRights"),
            member_upn: f("MemberUpn"),
            client_info: f("ClientInfoString"),
            client_ip_address: f("ClientIPAddress"),
            client_ip: f("ClientIP"),
            owner_upn: f("MailboxOwnerUPN"),
            owner_name: f("MailboxResolvedOwnerName"),
            dest_owner_upn: f("DestMailboxOwnerUPN"),
            cross_mailbox: f("CrossMailboxOperation"),
            logon_user: f("LogonUserDisplayName"),
            src_subjects: f("SourceItemSubjectsList"),
            src_folders: f("SourceItemFolderPathNamesList"),
            src_imids: f("SourceItemInternetMessageIdsList"),
            item_id: f("ItemId"),
            item_subject: f("ItemSubject"),
            item_attachments: f("ItemAttachments"),
            item_imid: f("ItemInternetMessageId"),
            session_id: f("SessionId"),
            operation_properties: f("OperationProperties"),
            operation_count: f("AuditOperationsCountInAggregatedRecord"),
            app_id: f("AppId"),
            client_app_id: f("ClientAppId"),
            last_accessed: f("LastAccessed"),
            identity: f("Identity"),
        };
        if p.operation.is_none() || p.last_accessed.is_none() {
            return Err(
                "not a Search-MailboxAuditLog export: no Operation or LastAccessed column".into(),
            );
        }
        Ok(p)
    }
}

/// The cell as a text field, `None` when empty.
fn text<'r>(row: &Row<'r>, col: Option<usize>) -> Option<Text<'r>> {
    let v = row.get(col);
    (!v.is_empty()).then_some(Text(v))
}

/// Parses flattened `OperationProperties` (`MailAccessType:Bind IsThrottled:False`): a new
/// entry starts at each `Name:` that begins a word outside brackets. A JSON array is read as
/// a Name/Value array.
pub fn parse_flat_properties(s: &str) -> Vec<NameValue<'_>> {
    let t = s.trim();
    if t.starts_with('[') || t.starts_with('{') {
        if let Ok(b) = serde_json::from_str::<Bag<'_>>(t) {
            return b.0;
        }
    }
    let b = t.as_bytes();
    // Starts of `Name:` tokens: (name start, colon index).
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let mut depth: i32 = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth = (depth - 1).max(0),
            _ => {}
        }
        let word_start = i == 0 || b[i - 1].is_ascii_whitespace();
        if depth == 0 && word_start && c.is_ascii_alphabetic() {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
                j += 1;
            }
            if b.get(j) == Some(&b':') {
                starts.push((i, j));
                i = j + 1;
                continue;
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &(ns, colon)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(b.len(), |&(n, _)| n);
        out.push(NameValue {
            name: Cow::Borrowed(t.get(ns..colon).unwrap_or("")),
            value: Some(Cow::Borrowed(t.get(colon + 1..end).unwrap_or("").trim())),
            old: None,
        });
    }
    out
}

/// Message ids of a list: the `<…>` tokens, else `,`/`;`-separated words.
fn split_message_ids(s: &str) -> Vec<&str> {
    if s.contains('<') {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(a) = rest.find('<') {
            let tail = rest.get(a..).unwrap_or("");
            match tail.find('>') {
                Some(z) => {
                    out.push(tail.get(..=z).unwrap_or(""));
                    rest = tail.get(z + 1..).unwrap_or("");
                }
                None => break,
            }
        }
        out
    } else {
        split_simple(s, |c| c == ',' || c == ';')
    }
}

fn split_simple(s: &str, sep: impl Fn(char) -> bool) -> Vec<&str> {
    s.split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Folder paths: split at a `,` or `;` followed (after spaces) by `\`.
fn split_folders(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == ',' || c == ';' {
            let next = s.get(i + 1..).unwrap_or("").trim_start();
            if next.starts_with('\\') {
                out.push(s.get(start..i).unwrap_or("").trim());
                start = i + 1;
            }
        }
    }
    out.push(s.get(start..).unwrap_or("").trim());
    out.retain(|p| !p.is_empty());
    out
}

impl CsvParser for MailboxAuditCsv {
    fn parse_row(&self, row: &Row<'_>, ctx: &ParseCtx<'_>, out: &mut Vec<Event>) -> ParseResult {
        if row.is_blank() {
            return Ok(());
        }
        let op_props = row.get(self.operation_properties);
        let mut ad = AuditData {
            id: text(row, self.identity),
            creation_date: text(row, self.last_accessed).map(DateText),
            operation: text(row, self.operation),
            workload: Some(Text::borrowed("Exchange")),
            user_id: text(row, self.logon_user),
            result_status: text(row, self.result),
            logon_type: text(row, self.logon_type).map(|t| Enumish::from_text(t.0)),
            internal_logon_type: text(row, self.internal_logon_type)
                .map(|t| Enumish::from_text(t.0)),
            external_access: text(row, self.external_access),
            client_ip: text(row, self.client_ip),
            client_ip_address: text(row, self.client_ip_address),
            client_info_string: text(row, self.client_info),
            mailbox_owner_upn: text(row, self.owner_upn).or_else(|| text(row, self.owner_name)),
            dest_mailbox_owner_upn: text(row, self.dest_owner_upn),
            cross_mailbox_operation: text(row, self.cross_mailbox),
            session_id: text(row, self.session_id),
            app_id: text(row, self.app_id),
            client_app_id: text(row, self.client_app_id),
            operation_count: text(row, self.operation_count).map(|t| Count::from_text(&t)),
            operation_properties: Bag(parse_flat_properties(&op_props)),
            dest_folder: text(row, self.dest_folder).map(|p| Folder {
                path: Some(p),
                ..Folder::default()
            }),
            ..AuditData::default()
        };

        let folder = Folder {
            path: text(row, self.folder),
            name: text(row, self.folder_name),
            member_rights: text(row, self.member_rights),
            member_upn: text(row, self.member_upn),
        };
        let has_folder = folder != Folder::default();
        let item = Item {
            id: text(row, self.item_id),
            internet_message_id: text(row, self.item_imid),
            subject: text(row, self.item_subject),
            attachments: text(row, self.item_attachments),
            ..Item::default()
        };
        if item != Item::default() {
            ad.item = Some(Item {
                parent_folder: has_folder.then(|| folder.clone()),
                ..item
            });
        }
        if has_folder {
            ad.folder = Some(folder);
        }

        // Multi-item operations (Move, SoftDelete, HardDelete …).
        let subjects_cell = row.get(self.src_subjects);
        let imids_cell = row.get(self.src_imids);
        let folders_cell = row.get(self.src_folders);
        let imids = split_message_ids(&imids_cell);
        let folders = split_folders(&folders_cell);
        let n = imids.len().max(folders.len());
        let mut subjects: Vec<&str> = Vec::new();
        let mut subjects_guessed = false;
        let subj = subjects_cell.trim();
        if !subj.is_empty() {
            let by_comma = split_simple(subj, |c| c == ',');
            let by_semi = split_simple(subj, |c| c == ';');
            if n > 1 && by_comma.len() == n {
                subjects = by_comma;
            } else if n > 1 && by_semi.len() == n {
                subjects = by_semi;
            } else {
                subjects_guessed = n > 1;
                subjects.push(subj);
            }
        }
        let n = n.max(subjects.len());
        for k in 0..n {
            let f = folders
                .get(k)
                .or(if folders.len() == 1 {
                    folders.first()
                } else {
                    None
                })
                .copied();
            ad.affected_items.0.push(Item {
                internet_message_id: imids.get(k).map(|s| Text::borrowed(s)),
                subject: subjects.get(k).map(|s| Text::borrowed(s)),
                parent_folder: f.map(|p| Folder {
                    path: Some(Text::borrowed(p)),
                    ..Folder::default()
                }),
                ..Item::default()
            });
        }

        if ad.operation_str().is_none() {
            return Err(Skip::new("mailbox audit row has no Operation"));
        }
        let mut ev = to_event(&ad, SourceKind::MailboxAudit, ctx, row.line)?;
        if subjects_guessed {
            ev.props.extend([Prop {
                bag: PropBag::Field,
                name: ctx.interner.intern("SourceItemSubjectsList"),
                value: ctx.interner.intern(subj),
                old: None,
            }]);
        }
        out.push(ev);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{flags, Interner, MailItem, Outcome, Timestamp};

    /// The 55 columns of the export (formats.md B).
    const COLUMNS: &[&str] = &[
        "Operation",
        "OperationResult",
        "LogonType",
        "ExternalAccess",
        "DestFolderId",
        "DestFolderPathName",
        "FolderId",
        "FolderPathName",
        "FolderName",
        "MemberRights",
        "MemberSid",
        "MemberUpn",
        "ClientInfoString",
        "ClientIPAddress",
        "ClientIP",
        "ClientMachineName",
        "ClientProcessName",
        "ClientVersion",
        "InternalLogonType",
        "MailboxOwnerUPN",
        "MailboxOwnerSid",
        "DestMailboxOwnerUPN",
        "DestMailboxOwnerSid",
        "DestMailboxGuid",
        "CrossMailboxOperation",
        "LogonUserDisplayName",
        "LogonUserSid",
        "SourceItems",
        "SourceFolders",
        "SourceItemIdsList",
        "SourceItemSubjectsList",
        "SourceItemAttachmentsList",
        "SourceItemFolderPathNamesList",
        "SourceFolderPathNamesList",
        "SourceItemInternetMessageIdsList",
        "ItemId",
        "ItemSubject",
        "ItemAttachments",
        "ItemInternetMessageId",
        "DirtyProperties",
        "OriginatingServer",
        "SessionId",
        "OperationProperties",
        "AuditOperationsCountInAggregatedRecord",
        "AggregatedRecordFoldersData",
        "AppId",
        "ClientAppId",
        "ItemIsRecord",
        "ItemComplianceLabel",
        "MailboxGuid",
        "MailboxResolvedOwnerName",
        "LastAccessed",
        "Identity",
        "IsValid",
        "ObjectState",
    ];

    fn utc(s: &str) -> Timestamp {
        Timestamp::from_naive_utc(
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").expect("test literal"),
        )
    }

    /// Parses one row given as (column, value) pairs, the rest empty.
    fn parse(i: &Interner, cells: &[(&str, &str)]) -> Result<Event, Skip> {
        assert_eq!(COLUMNS.len(), 55);
        let header = Header::new(COLUMNS.iter().copied());
        let p = MailboxAuditCsv::new(&header).unwrap();
        let rec = csv::ByteRecord::from(
            COLUMNS
                .iter()
                .map(|c| cells.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v))
                .collect::<Vec<_>>(),
        );
        let row = Row::new(&rec, 9);
        let ctx = ParseCtx {
            interner: i,
            file: 2,
        };
        let mut out = Vec::new();
        p.parse_row(&row, &ctx, &mut out)?;
        assert_eq!(out.len(), 1);
        Ok(out.remove(0))
    }

    #[test]
    fn send_as_by_a_delegate() {
        let i = Interner::new();
        let e = parse(
            &i,
            &[
                ("Operation", "SendAs"),
                ("OperationResult", "Succeeded"),
                ("LogonType", "Delegate"),
                ("ExternalAccess", "False"),
                ("FolderPathName", "\\Sent Items"),
                ("ClientInfoString", "Client=OWA;Action=ViaProxy"),
                ("ClientIPAddress", "198.51.100.7"),
                ("ClientIP", "[198.51.100.7]:5000"),
                ("MailboxOwnerUPN", "Victim@Contoso.com"),
                ("LogonUserDisplayName", "Eve Attacker"),
                ("ItemSubject", "Updated bank details"),
                ("ItemInternetMessageId", "<abc@contoso.com>"),
                ("SessionId", "sess-9"),
                ("AppId", "app-1"),
                ("LastAccessed", "9/26/2023 1:56:15 AM"),
                ("Identity", "RgAAAAB1"),
                ("IsValid", "True"),
                ("ObjectState", "Unchanged"),
            ],
        )
        .unwrap();
        assert_eq!(e.source, SourceKind::MailboxAudit);
        assert_eq!(e.time, utc("2023-09-26T01:56:15"));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER);
        assert_eq!(e.record_type, None);
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(i.resolve(e.workload), "Exchange");
        assert_eq!(i.resolve(e.operation), "SendAs");
        assert_eq!(i.resolve(e.actor), "Eve Attacker");
        assert_eq!(i.resolve(e.actor_key), "eve attacker");
        assert_eq!(i.resolve(e.mailbox), "victim@contoso.com");
        assert_eq!(i.resolve(e.ip), "198.51.100.7");
        assert_eq!(i.resolve(e.user_agent), "Client=OWA;Action=ViaProxy");
        assert_eq!(i.resolve(e.session_id), "sess-9");
        assert_eq!(i.resolve(e.app_id), "app-1");
        assert_eq!(i.resolve(e.object), "Updated bank details");
        assert_eq!(e.record_id.text(&i), "RgAAAAB1");
        assert_eq!(e.line, 9);
        assert_eq!(e.file, 2);
        assert_eq!(e.prop(&i, PropBag::Field, "LogonType"), Some("2"));
        assert_eq!(e.prop(&i, PropBag::Field, "ExternalAccess"), Some("False"));
        assert_eq!(
            e.items(),
            &[MailItem {
                folder: i.intern("\\Sent Items"),
                internet_message_id: i.intern("<abc@contoso.com>"),
                subject: i.intern("Updated bank details"),
                size: Default::default(),
            }]
        );
    }

    #[test]
    fn moves_with_source_item_lists() {
        let i = Interner::new();
        let e = parse(
            &i,
            &[
                ("Operation", "MoveToDeletedItems"),
                ("OperationResult", "PartiallySucceeded"),
                ("LogonType", "Owner"),
                ("FolderPathName", "\\Inbox"),
                ("DestFolderPathName", "\\Deleted Items"),
                ("MailboxOwnerUPN", "bob@contoso.com"),
                ("LogonUserDisplayName", "Bob"),
                (
                    "SourceItemSubjectsList",
                    " New sign-in from unknown device, Your MFA method was changed",
                ),
                ("SourceItemInternetMessageIdsList", "<1@x>, <2@x>"),
                ("SourceItemFolderPathNamesList", "\\Inbox, \\Inbox\\Alerts"),
                ("LastAccessed", "25.03.2025 17:01:02"),
            ],
        )
        .unwrap();
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.time, utc("2025-03-25T17:01:02"));
        let d = e.details.as_deref().unwrap();
        assert_eq!(d.dest_folder(&i), Some("\\Deleted Items"));
        assert_eq!(d.items.len(), 2);
        assert_eq!(
            d.items[0].subject(&i),
            Some("New sign-in from unknown device")
        );
        assert_eq!(d.items[0].internet_message_id(&i), Some("<1@x>"));
        assert_eq!(d.items[0].folder(&i), Some("\\Inbox"));
        assert_eq!(d.items[1].subject(&i), Some("Your MFA method was changed"));
        assert_eq!(d.items[1].folder(&i), Some("\\Inbox\\Alerts"));
        assert_eq!(e.prop(&i, PropBag::Field, "LogonType"), Some("0"));

        // A comma inside a subject: the split is not trusted; the text is kept whole.
        let e = parse(
            &i,
            &[
                ("Operation", "HardDelete"),
                ("OperationResult", "Failed"),
                ("LogonUserDisplayName", "Bob"),
                ("SourceItemSubjectsList", "Invoice 7, final, Re: wire"),
                ("SourceItemInternetMessageIdsList", "<1@x>;<2@x>"),
                ("SourceItemFolderPathNamesList", "\\Sent Items"),
                ("LastAccessed", "2025-03-25T17:01:02"),
            ],
        )
        .unwrap();
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER);
        let items = e.items();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].subject(&i), Some("Invoice 7, final, Re: wire"));
        assert_eq!(items[1].subject(&i), None);
        assert_eq!(items[1].internet_message_id(&i), Some("<2@x>"));
        assert_eq!(items[1].folder(&i), Some("\\Sent Items"));
        assert_eq!(
            e.prop(&i, PropBag::Field, "SourceItemSubjectsList"),
            Some("Invoice 7, final, Re: wire")
        );
        assert_eq!(
            i.resolve(e.mailbox),
            "bob",
            "no owner UPN: falls back to the actor"
        );
    }

    #[test]
    fn mail_items_accessed_with_flattened_properties() {
        let i = Interner::new();
        let e = parse(
            &i,
            &[
                ("Operation", "MailItemsAccessed"),
                ("OperationResult", "Succeeded"),
                ("LogonType", "Owner"),
                ("MailboxResolvedOwnerName", "Victim"),
                ("LogonUserDisplayName", "Victim"),
                (
                    "OperationProperties",
                    "MailAccessType:Bind IsThrottled:False",
                ),
                ("AuditOperationsCountInAggregatedRecord", "12"),
                ("FolderPathName", "\\Inbox"),
                ("LastAccessed", "3/4/2024 10:00:00 PM"),
            ],
        )
        .unwrap();
        assert_eq!(e.time, utc("2024-03-04T22:00:00"));
        assert_eq!(e.flags, flags::TIME_FROM_WRAPPER | flags::TIME_AMBIGUOUS);
        assert_eq!(
            e.prop(&i, PropBag::OperationProperties, "MailAccessType"),
            Some("Bind")
        );
        assert_eq!(
            e.prop(&i, PropBag::OperationProperties, "IsThrottled"),
            Some("False")
        );
        assert_eq!(e.prop(&i, PropBag::Field, "OperationCount"), Some("12"));
        assert_eq!(i.resolve(e.mailbox), "victim");
        // FolderBind-like: the folder alone is the item.
        assert_eq!(e.items().len(), 1);
        assert_eq!(e.items()[0].folder(&i), Some("\\Inbox"));
        assert_eq!(e.items()[0].subject(&i), None);
    }

    #[test]
    fn folder_permission_change() {
        let i = Interner::new();
        let e = parse(
            &i,
            &[
                ("Operation", "ModifyFolderPermissions"),
                ("OperationResult", "Succeeded"),
                ("LogonType", "Admin"),
                ("FolderPathName", "\\Inbox"),
                ("MemberRights", "ReadAny"),
                ("MemberUpn", "Everyone"),
                ("LogonUserDisplayName", "Admin"),
                ("LastAccessed", "2024-01-01T00:00:00Z"),
            ],
        )
        .unwrap();
        assert_eq!(e.prop(&i, PropBag::Field, "MemberRights"), Some("ReadAny"));
        assert_eq!(e.prop(&i, PropBag::Field, "MemberUpn"), Some("Everyone"));
        assert_eq!(e.prop(&i, PropBag::Field, "LogonType"), Some("1"));
    }

    #[test]
    fn flattened_property_parsing() {
        let got: Vec<(String, String)> = parse_flat_properties(
            "RuleName:My rule RuleCondition:{((SenderSearchKey Equal SMTP:HELP@X.COM))} RuleState:  Empty: X:1:2",
        )
        .into_iter()
        .map(|nv| (nv.name.into_owned(), nv.value.unwrap_or_default().into_owned()))
        .collect();
        let want: Vec<(String, String)> = [
            ("RuleName", "My rule"),
            (
                "RuleCondition",
                "{((SenderSearchKey Equal SMTP:HELP@X.COM))}",
            ),
            ("RuleState", ""),
            ("Empty", ""),
            ("X", "1:2"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
        let json = parse_flat_properties(r#"[{"Name":"MailAccessType","Value":"Sync"}]"#);
        assert_eq!(json.len(), 1);
        assert_eq!(json[0].value.as_deref(), Some("Sync"));
        for junk in ["", ":", "::::", "a", "(((", "}}}a:b", "é:ü ö:ä"] {
            let _ = parse_flat_properties(junk);
        }
        assert_eq!(
            split_folders("\\A, \\B;\\C, not a split, \\D"),
            vec!["\\A", "\\B", "\\C, not a split", "\\D"]
        );
        assert_eq!(split_message_ids("<a@x>,<b@x> <c"), vec!["<a@x>", "<b@x>"]);
        assert_eq!(split_message_ids("a@x; b@x"), vec!["a@x", "b@x"]);
    }

    #[test]
    fn bad_rows_and_headers() {
        let i = Interner::new();
        assert_eq!(
            parse(&i, &[("Operation", "SendAs"), ("LastAccessed", "")])
                .unwrap_err()
                .reason,
            "record has no time"
        );
        assert_eq!(
            parse(&i, &[("Operation", "SendAs"), ("LastAccessed", "Tuesday")])
                .unwrap_err()
                .reason,
            "unparseable time"
        );
        assert_eq!(
            parse(
                &i,
                &[("LastAccessed", "2024-01-01T00:00:00"), ("Identity", "x")]
            )
            .unwrap_err()
            .reason,
            "mailbox audit row has no Operation"
        );
        assert!(MailboxAuditCsv::new(&Header::new(["Operation", "Identity"])).is_err());
        assert!(
            MailboxAuditCsv::new(&Header::new(["RunspaceId", "operation", "lastaccessed"])).is_ok()
        );
    }
}

//! `Search-MailboxAuditLog` CSV rows through `MailboxAuditCsv` (fixed header + fuzzed rows, or
//! the input's own header), plus the flattened `OperationProperties` reader on the raw text.
#![no_main]
use fuzz_support::run_csv;
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::mailbox_audit::{parse_flat_properties, MailboxAuditCsv};
use mailsleuth::ingest::record::{CsvParser, Header};

const HEADER: &str = r#""Operation","OperationResult","LogonType","ExternalAccess","DestFolderId","DestFolderPathName","FolderId","FolderPathName","FolderName","MemberRights","MemberSid","MemberUpn","ClientInfoString","ClientIPAddress","ClientIP","ClientMachineName","ClientProcessName","ClientVersion","InternalLogonType","MailboxOwnerUPN","MailboxOwnerSid","DestMailboxOwnerUPN","DestMailboxOwnerSid","DestMailboxGuid","CrossMailboxOperation","LogonUserDisplayName","LogonUserSid","SourceItems","SourceFolders","SourceItemIdsList","SourceItemSubjectsList","SourceItemAttachmentsList","SourceItemFolderPathNamesList","SourceFolderPathNamesList","SourceItemInternetMessageIdsList","ItemId","ItemSubject","ItemAttachments","ItemInternetMessageId","DirtyProperties","OriginatingServer","SessionId","OperationProperties","AuditOperationsCountInAggregatedRecord","AggregatedRecordFoldersData","AppId","ClientAppId","ItemIsRecord","ItemComplianceLabel","MailboxGuid","MailboxResolvedOwnerName","LastAccessed","Identity","IsValid","ObjectState""#;

fn build(h: &Header) -> Result<Box<dyn CsvParser>, String> {
    Ok(Box::new(MailboxAuditCsv::new(h)?))
}

fuzz_target!(|data: &[u8]| {
    run_csv(data, HEADER, build);
    if data.len() <= 4096 {
        let _ = parse_flat_properties(&String::from_utf8_lossy(data));
    }
});

//! Renders the case into the seven export files, each in its real shape and encoding.

use crate::jo;
use crate::mail::{mx_ip, Routing};
use crate::model::{Case, Mfa, Msg, Rec, SignIn};
use crate::util::*;
use crate::world::*;
use chrono::{Duration, NaiveDateTime};

pub struct Out {
    pub path: String,
    pub bytes: Vec<u8>,
    pub records: usize,
    pub first: String,
    pub last: String,
    pub shape: &'static str,
    pub encoding: &'static str,
}

fn range_of(ts: &[NaiveDateTime]) -> (String, String) {
    let first = ts.iter().min().map(|t| iso_z(*t)).unwrap_or_default();
    let last = ts.iter().max().map(|t| iso_z(*t)).unwrap_or_default();
    (first, last)
}

pub fn in_days(t: NaiveDateTime, d0: u32, d1: u32) -> bool {
    t >= at(d0, 0, 0, 0) && t < at(d1, 0, 0, 0) + Duration::days(1)
}

pub fn is_amelia(c: &Case, user_id: &str) -> bool {
    user_id.eq_ignore_ascii_case(&c.world.users[c.world.idx("amelia.hart")].upn)
}

/// UAL records sorted by time, then id.
pub fn sorted_recs(c: &Case) -> Vec<&Rec> {
    let mut v: Vec<&Rec> = c.recs.iter().collect();
    v.sort_by(|a, b| a.t.cmp(&b.t).then(a.id.cmp(&b.id)));
    v
}

// ------------------------------------------------------------------------------------------------
// A1 Purview

pub fn purview(c: &Case) -> Out {
    let recs = sorted_recs(c);
    let mut s = String::from(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n",
    );
    for r in recs.iter() {
        s.push_str(&format!(
            "{},{},{},{},{},{},,\r\n",
            r.id,
            us_date(r.t),
            r.rt,
            csv_min(&r.op),
            csv_min(&r.user_id),
            csv_min(&compact(&r.data, Esc::Ms))
        ));
    }
    let ts: Vec<NaiveDateTime> = recs.iter().map(|r| r.t).collect();
    let (first, last) = range_of(&ts);
    Out {
        path: "purview/AuditLog_2026-03-16_all-users.csv".into(),
        bytes: s.into_bytes(),
        records: recs.len(),
        first,
        last,
        shape: "new Purview portal UAL export (formats.md A1)",
        encoding: "UTF-8 without BOM, CRLF, RFC 4180; lines end `}\",,`",
    }
}

// ------------------------------------------------------------------------------------------------
// A4 Extractor-Suite JSON

pub fn record_type_name(rt: u32) -> &'static str {
    match rt {
        1 => "ExchangeAdmin",
        2 => "ExchangeItem",
        3 => "ExchangeItemGroup",
        6 => "SharePointFileOperation",
        8 => "AzureActiveDirectory",
        15 => "AzureActiveDirectoryStsLogon",
        50 => "ExchangeItemAggregated",
        101 => "ExchangeSearch",
        _ => "Unknown",
    }
}

pub fn extractor_recs(c: &Case) -> Vec<&Rec> {
    sorted_recs(c)
        .into_iter()
        .filter(|r| is_amelia(c, &r.user_id) && in_days(r.t, 8, 12))
        .collect()
}

pub fn extractor(c: &Case) -> Out {
    let recs = extractor_recs(c);
    let runspace = "8b0e3c47-5d2a-4f19-a6c3-2e7d91b05f68";
    let mut text = String::new();
    let mut ts = Vec::new();
    for d in 8..=12 {
        let day_recs: Vec<&&Rec> = recs.iter().filter(|r| in_days(r.t, d, d)).collect();
        if day_recs.is_empty() {
            continue;
        }
        let n = day_recs.len();
        let objs: Vec<J> = day_recs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                ts.push(r.t);
                jo! {
                    "RunspaceId" => runspace,
                    "RecordType" => record_type_name(r.rt),
                    "CreationDate" => format!("/Date({})/", epoch_ms(r.t)),
                    "UserIds" => r.user_id.as_str(),
                    "Operations" => r.op.as_str(),
                    "AuditData" => r.data.clone(),
                    "ResultIndex" => i + 1,
                    "ResultCount" => n,
                    "Identity" => r.id.as_str(),
                    "IsValid" => true,
                    "ObjectState" => "Unchanged",
                }
            })
            .collect();
        // A one-record window is unrolled by the pipeline into a bare object.
        let value = if objs.len() == 1 {
            objs.into_iter().next().unwrap_or(J::Null)
        } else {
            J::Arr(objs)
        };
        // JavaScriptSerializer writes DateTime as "\/Date(ms)\/": emulate by escaping the
        // slashes of that one value after serialisation.
        let compact_js = compact(&value, Esc::Js)
            .replace("\"/Date(", "\"\\/Date(")
            .replace(")/\"", ")\\/\"");
        text.push_str(&ps51_pretty(&compact_js));
        text.push_str("\r\n");
    }
    let (first, last) = range_of(&ts);
    Out {
        path: "extractor-suite/UAL-amelia.hart.json".into(),
        bytes: utf8_bom(&text),
        records: recs.len(),
        first,
        last,
        shape: "Microsoft-Extractor-Suite UAL JSON (formats.md A4): Search-UnifiedAuditLog objects through Windows PowerShell 5.1 `ConvertTo-Json -Depth 100 | Out-File -Append`, one top-level value per day",
        encoding: "UTF-8 with BOM, CRLF, 4-space PowerShell 5.1 layout",
    }
}

// ------------------------------------------------------------------------------------------------
// C1/C3 message trace and C5 summary report

/// (recipient, V2 status, ToIP, EAC event list) for every copy of a message.
pub fn fates(
    c: &Case,
    route: &Routing,
    m: &Msg,
) -> Vec<(String, &'static str, String, &'static str)> {
    let mut v = Vec::new();
    for rc in m.rcpts.iter() {
        match c.world.by_addr(rc) {
            Some(u) if route.forwarded(m, u) => {
                v.push((rc.clone(), "Resolved", String::new(), "Receive, Resolve"));
                v.push((
                    FORWARD_TO.to_string(),
                    "Delivered",
                    mx_ip(FORWARD_TO).to_string(),
                    "Receive, Send",
                ));
            }
            Some(_) if m.spam => v.push((
                rc.clone(),
                "FilteredAsSpam",
                String::new(),
                "Receive, Deliver",
            )),
            Some(_) => v.push((rc.clone(), "Delivered", String::new(), "Receive, Deliver")),
            None => v.push((
                rc.clone(),
                "Delivered",
                mx_ip(rc).to_string(),
                "Receive, Send",
            )),
        }
    }
    v
}

fn msgs_desc(c: &Case, d0: u32, d1: u32) -> Vec<&Msg> {
    let mut v: Vec<&Msg> = c.msgs.iter().filter(|m| in_days(m.t, d0, d1)).collect();
    v.sort_by(|a, b| {
        b.t.cmp(&a.t)
            .then(b.ticks.cmp(&a.ticks))
            .then(a.mid.cmp(&b.mid))
    });
    v
}

pub fn trace_v2(c: &Case, route: &Routing) -> Out {
    let runspace = "c4a1f7e2-93b8-4d05-8e6a-17f0b2d9c365";
    let mut s = String::from(
        "#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTraceResult\r\n",
    );
    let cols = [
        "PSComputerName",
        "RunspaceId",
        "PSShowComputerName",
        "Organization",
        "MessageId",
        "Received",
        "SenderAddress",
        "RecipientAddress",
        "Subject",
        "Status",
        "ToIP",
        "FromIP",
        "Size",
        "MessageTraceId",
        "StartDate",
        "EndDate",
        "Index",
    ];
    s.push_str(
        &cols
            .iter()
            .map(|c| csv_all(c))
            .collect::<Vec<_>>()
            .join(","),
    );
    s.push_str("\r\n");
    let mut n = 0usize;
    let mut ts = Vec::new();
    for m in msgs_desc(c, 2, 11) {
        for (rc, status, to_ip, _) in fates(c, route, m) {
            let row = [
                "outlook.office365.com".to_string(),
                runspace.to_string(),
                "False".to_string(),
                TENANT_DOMAIN.to_string(),
                m.mid.clone(),
                us_date(m.t),
                m.sender.clone(),
                rc,
                m.subject.clone(),
                status.to_string(),
                to_ip,
                m.from_ip.clone(),
                m.size.to_string(),
                m.trace_id.clone(),
                "3/2/2026 12:00:00 AM".to_string(),
                "3/12/2026 12:00:00 AM".to_string(),
                n.to_string(),
            ];
            s.push_str(
                &row.iter()
                    .map(|v| csv_all(&ps_ascii(v)))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            s.push_str("\r\n");
            n += 1;
            ts.push(m.t);
        }
    }
    let (first, last) = range_of(&ts);
    Out {
        path: "message-trace/MessageTrace_2026-03-02_2026-03-11.csv".into(),
        bytes: s.into_bytes(),
        records: n,
        first,
        last,
        shape: "`Get-MessageTraceV2 | Export-Csv` from Windows PowerShell 5.1 (formats.md C1/C3), one row per recipient, newest first",
        encoding: "ASCII (non-ASCII became `?`), CRLF, every field quoted, `#TYPE` first line",
    }
}

pub const EAC_GUID: &str = "0a6f3d2c-8e41-4b97-b5c2-7d19e04f8a63";

pub fn eac_summary(c: &Case, route: &Routing) -> Out {
    let cols = [
        "origin_timestamp_utc",
        "sender_address",
        "recipient_status",
        "message_subject",
        "total_bytes",
        "message_id",
        "network_message_id",
        "original_client_ip",
        "directionality",
        "connector_id",
        "delivery_priority",
    ];
    let mut s = cols
        .iter()
        .map(|c| csv_all(c))
        .collect::<Vec<_>>()
        .join(",");
    s.push_str("\r\n");
    let msgs = msgs_desc(c, 9, 10);
    let mut ts = Vec::new();
    for m in msgs.iter() {
        let rs: Vec<String> = fates(c, route, m)
            .into_iter()
            .map(|(rc, _, _, ev)| format!("{rc}##{ev}"))
            .collect();
        let row = [
            iso7_z(m.t, m.ticks),
            m.sender.clone(),
            rs.join(";"),
            m.subject.clone(),
            m.size.to_string(),
            m.mid.clone(),
            m.trace_id.clone(),
            m.from_ip.clone(),
            if m.incoming {
                "Incoming"
            } else {
                "Originating"
            }
            .to_string(),
            String::new(),
            "Normal".to_string(),
        ];
        s.push_str(&row.iter().map(|v| csv_all(v)).collect::<Vec<_>>().join(","));
        s.push_str("\r\n");
        ts.push(m.t);
    }
    let (first, last) = range_of(&ts);
    let path = format!("message-trace/MTSummary_Attack_Window_{EAC_GUID}.csv");

    Out {
            path,
            bytes: utf16le_bom(&s),
            records: msgs.len(),
            first,
            last,
            shape: "EAC historical search, summary report (formats.md C5), one row per message, newest first",
            encoding: "UTF-16LE with BOM, CRLF, every field quoted",
        }
}

// ------------------------------------------------------------------------------------------------
// D1 Entra CSV and D2 Graph JSON

pub const ENTRA_HEADER: &str = "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,Incoming token type,Authentication Protocol,Unique token identifier,Original transfer method,Client credential type,Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,Session ID,IP address (seen by resource),Through Global Secure Access,Global Secure Access IP address,Autonomous system  number,Flagged for review,Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer";

fn mfa_cols(s: &SignIn) -> (&'static str, &'static str, &'static str) {
    match (s.mfa, s.error) {
        (_, 50126) => ("", "", "Single-factor authentication"),
        (_, 50074) => ("", "", "Multifactor authentication"),
        (Mfa::Completed, _) => (
            "MFA successfully completed",
            "Mobile app notification",
            "Multifactor authentication",
        ),
        (Mfa::Claim, _) => (
            "MFA requirement satisfied by claim in the token",
            "",
            "Multifactor authentication",
        ),
        (Mfa::NotDone, _) => ("", "", "Multifactor authentication"),
    }
}

fn ca_status(s: &SignIn) -> &'static str {
    match s.error {
        50126 => "Not Applied",
        _ => "Success",
    }
}

pub fn interactive_desc(c: &Case) -> Vec<&SignIn> {
    let mut v: Vec<&SignIn> = c.signins.iter().filter(|s| s.interactive).collect();
    v.sort_by(|a, b| b.t.cmp(&a.t).then(a.request_id.cmp(&b.request_id)));
    v
}

pub fn entra_csv(c: &Case) -> Out {
    let mut s = String::from(ENTRA_HEADER);
    s.push('\n');
    let rows = interactive_desc(c);
    for si in rows.iter() {
        let u = &c.world.users[si.user];
        let g = geo(&si.ip);
        let (mfa_res, mfa_method, req) = mfa_cols(si);
        let vals: Vec<String> = vec![
            iso_z(si.t),
            si.request_id.clone(),
            si.ua.clone(),
            si.correlation_id.clone(),
            u.object_id.clone(),
            u.display.clone(),
            u.upn.clone(),
            "Member".into(),
            "None".into(),
            "None".into(),
            "None".into(),
            si.token_id.clone(),
            "None".into(),
            "None".into(),
            "Unbound".into(),
            String::new(),
            si.app.0.into(),
            si.app.1.into(),
            MS_TENANT.into(),
            si.resource.0.into(),
            si.resource.1.into(),
            ORG_ID.into(),
            MS_TENANT.into(),
            ORG_ID.into(),
            TENANT_NAME.into(),
            si.ip.clone(),
            format!("{}, {}, {}", g.city, g.state, g.cc),
            si.status().into(),
            si.error.to_string(),
            si.failure_reason().into(),
            si.client_app.into(),
            if si.joined_device {
                u.device_id.clone()
            } else {
                String::new()
            },
            si.entra_browser.clone(),
            si.entra_os.into(),
            if si.joined_device { "True" } else { "False" }.into(),
            if si.joined_device { "True" } else { "False" }.into(),
            if si.joined_device {
                "Microsoft Entra joined"
            } else {
                ""
            }
            .into(),
            mfa_res.into(),
            mfa_method.into(),
            String::new(),
            req.into(),
            si.typed.clone(),
            si.session_id.clone(),
            String::new(),
            "No".into(),
            String::new(),
            g.asn.to_string(),
            "No".into(),
            "AzureAD".into(),
            "None".into(),
            String::new(),
            si.latency.to_string(),
            ca_status(si).into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        s.push_str(
            &vals
                .iter()
                .map(|v| csv_min(v))
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push('\n');
    }
    let ts: Vec<NaiveDateTime> = rows.iter().map(|s| s.t).collect();
    let (first, last) = range_of(&ts);
    Out {
        path: "entra/InteractiveSignIns_2026-03-02_2026-03-15.csv".into(),
        bytes: utf8_bom(&s),
        records: rows.len(),
        first,
        last,
        shape: "Entra portal sign-in log download, interactive user sign-ins (formats.md D1), newest first",
        encoding: "UTF-8 with BOM, LF, quoting only where needed",
    }
}

pub fn graph_rows(c: &Case) -> Vec<&SignIn> {
    interactive_desc(c)
        .into_iter()
        .filter(|s| s.user == c.world.idx("amelia.hart") && in_days(s.t, 8, 12))
        .collect()
}

pub fn graph_json(c: &Case) -> Out {
    let rows = graph_rows(c);
    let mut vals = Vec::new();
    for si in rows.iter() {
        let u = &c.world.users[si.user];
        let g = geo(&si.ip);
        let (mfa_res, mfa_method, _) = mfa_cols(si);
        let req = match si.error {
            50126 => "singleFactorAuthentication",
            _ => "multiFactorAuthentication",
        };
        let mut steps = vec![jo! {
            "authenticationStepDateTime" => iso_z(si.t),
            "authenticationMethod" => if si.request_type == "Login:login" || si.error == 50126 { "Password" } else { "Previously satisfied" },
            "authenticationMethodDetail" => if si.request_type == "Login:login" || si.error == 50126 { J::from("Password in the cloud") } else { J::Null },
            "succeeded" => si.error != 50126,
            "authenticationStepResultDetail" => match si.error {
                50126 => "Invalid username or password or Invalid on-premise username or password.",
                _ if si.request_type == "Login:login" => "Correct password",
                _ => "First factor requirement satisfied by claim in the token",
            },
            "authenticationStepRequirement" => "Primary authentication",
        }];
        if si.mfa == Mfa::Completed {
            steps.push(jo! {
                "authenticationStepDateTime" => iso_z(si.t),
                "authenticationMethod" => "Mobile app notification",
                "authenticationMethodDetail" => J::Null,
                "succeeded" => true,
                "authenticationStepResultDetail" => "MFA successfully completed",
                "authenticationStepRequirement" => "Multifactor authentication",
            });
        }
        let policy = jo! {
            "id" => "0f4e9a7c-3b21-4d8e-a6f5-92c1e7b04d38",
            "displayName" => "Require MFA for all users",
            "enforcedGrantControls" => vec![J::from("Mfa")],
            "enforcedSessionControls" => Vec::<J>::new(),
            "result" => if si.error == 50126 { "notApplied" } else { "success" },
        };
        vals.push(jo! {
            "id" => si.request_id.as_str(),
            "createdDateTime" => iso_z(si.t),
            "userDisplayName" => u.display.as_str(),
            "userPrincipalName" => u.upn.as_str(),
            "userId" => u.object_id.as_str(),
            "appId" => si.app.1,
            "appDisplayName" => si.app.0,
            "ipAddress" => si.ip.as_str(),
            "ipAddressFromResourceProvider" => J::Null,
            "clientAppUsed" => si.client_app,
            "userAgent" => si.ua.as_str(),
            "correlationId" => si.correlation_id.as_str(),
            "conditionalAccessStatus" => if si.error == 50126 { "notApplied" } else { "success" },
            "originalRequestId" => si.request_id.as_str(),
            "isInteractive" => true,
            "tokenIssuerName" => "",
            "tokenIssuerType" => "AzureAD",
            "clientCredentialType" => "none",
            "processingTimeInMilliseconds" => si.latency,
            "riskDetail" => "none",
            "riskLevelAggregated" => "none",
            "riskLevelDuringSignIn" => "none",
            "riskState" => "none",
            "riskEventTypes" => Vec::<J>::new(),
            "riskEventTypes_v2" => Vec::<J>::new(),
            "resourceDisplayName" => si.resource.0,
            "resourceId" => si.resource.1,
            "resourceTenantId" => ORG_ID,
            "homeTenantId" => ORG_ID,
            "homeTenantName" => TENANT_NAME,
            "authenticationMethodsUsed" => Vec::<J>::new(),
            "authenticationRequirement" => req,
            "signInIdentifier" => si.typed.as_str(),
            "signInIdentifierType" => "userPrincipalName",
            "servicePrincipalName" => J::Null,
            "userType" => "member",
            "flaggedForReview" => false,
            "isTenantRestricted" => false,
            "autonomousSystemNumber" => g.asn,
            "crossTenantAccessType" => "none",
            "uniqueTokenIdentifier" => si.token_id.as_str(),
            "incomingTokenType" => "none",
            "authenticationProtocol" => "none",
            "sessionId" => si.session_id.as_str(),
            "originalTransferMethod" => "none",
            "signInEventTypes" => vec![J::from("interactiveUser")],
            "status" => jo! {
                "errorCode" => si.error,
                "failureReason" => if si.error == 0 { "Other." } else { si.failure_reason() },
                "additionalDetails" => match si.error {
                    0 => J::from(if mfa_res.is_empty() { "" } else { mfa_res }),
                    50126 => J::from("The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."),
                    _ => J::Null,
                },
            },
            "deviceDetail" => jo! {
                "deviceId" => if si.joined_device { u.device_id.as_str() } else { "" },
                "displayName" => if si.joined_device { J::from(u.device_name.as_str()) } else { J::Null },
                "operatingSystem" => si.entra_os,
                "browser" => si.entra_browser.as_str(),
                "isCompliant" => si.joined_device,
                "isManaged" => si.joined_device,
                "trustType" => if si.joined_device { J::from("Azure AD joined") } else { J::Null },
            },
            "location" => jo! {
                "city" => g.city,
                "state" => g.state,
                "countryOrRegion" => g.cc,
                "geoCoordinates" => jo! {
                    "altitude" => J::Null,
                    "latitude" => g.lat,
                    "longitude" => g.lon,
                },
            },
            "mfaDetail" => jo! {
                "authMethod" => if mfa_method.is_empty() { J::Null } else { J::from(mfa_method) },
                "authDetail" => J::Null,
            },
            "appliedConditionalAccessPolicies" => vec![policy],
            "authenticationDetails" => steps,
        });
    }
    let doc = jo! {
        "@odata.context" => "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
        "value" => vals,
    };
    let ts: Vec<NaiveDateTime> = rows.iter().map(|s| s.t).collect();
    let (first, last) = range_of(&ts);
    Out {
        path: "entra/SignIns_amelia.hart.json".into(),
        bytes: compact(&doc, Esc::Plain).into_bytes(),
        records: rows.len(),
        first,
        last,
        shape: "Graph beta `GET /auditLogs/signIns?$filter=userPrincipalName eq '…'` response body (formats.md D2), newest first",
        encoding: "UTF-8 without BOM, compact (one line, no trailing newline)",
    }
}

// ------------------------------------------------------------------------------------------------
// B mailbox audit log

const MBX_OPS: [&str; 8] = [
    "MailboxLogin",
    "MailItemsAccessed",
    "Send",
    "HardDelete",
    "SoftDelete",
    "MoveToDeletedItems",
    "Create",
    "Update",
];

pub fn mailbox_audit_recs(c: &Case) -> Vec<&Rec> {
    let amelia = &c.world.users[c.world.idx("amelia.hart")].upn;
    let mut v: Vec<&Rec> = c
        .recs
        .iter()
        .filter(|r| {
            MBX_OPS.contains(&r.op.as_str())
                && r.data.str_of("MailboxOwnerUPN") == *amelia
                && in_days(r.t, 9, 11)
        })
        .collect();
    v.sort_by(|a, b| b.t.cmp(&a.t).then(a.id.cmp(&b.id)));
    v
}

fn logon_word(n: &str) -> &'static str {
    match n {
        "1" => "Admin",
        "2" => "Delegate",
        _ => "Owner",
    }
}

pub fn mailbox_audit(c: &Case) -> Out {
    let cols = [
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
    let mut s = cols
        .iter()
        .map(|c| csv_all(c))
        .collect::<Vec<_>>()
        .join(",");
    s.push_str("\r\n");
    let recs = mailbox_audit_recs(c);
    for r in recs.iter() {
        let d = &r.data;
        let actor = c
            .world
            .users
            .iter()
            .find(|u| u.upn == r.user_id)
            .map(|u| u.display.clone())
            .unwrap_or_default();
        let owner = c
            .world
            .users
            .iter()
            .find(|u| u.upn == d.str_of("MailboxOwnerUPN"))
            .map(|u| u.display.clone())
            .unwrap_or_default();
        let path_id = |j: Option<&J>| -> (String, String) {
            match j {
                Some(x) => (x.str_of("Id"), x.str_of("Path")),
                None => (String::new(), String::new()),
            }
        };
        let item = d.get("Item");
        let (mut fid, mut fpath) = path_id(d.get("Folder"));
        if let Some(it) = item {
            (fid, fpath) = path_id(it.get("ParentFolder"));
        }
        if fid.is_empty() {
            if let Some(J::Arr(fs)) = d.get("Folders") {
                if let Some(first) = fs.first() {
                    (fid, fpath) = path_id(Some(first));
                }
            }
        }
        let fname = fpath.rsplit('\\').next().unwrap_or("").to_string();
        let (did, dpath) = path_id(d.get("DestFolder"));
        let group = d.get("AffectedItems");
        let list = |key: &str, sub: Option<&str>| -> String {
            match group {
                Some(J::Arr(items)) => items
                    .iter()
                    .map(|x| match sub {
                        Some(s) => x.get(key).map(|p| p.str_of(s)).unwrap_or_default(),
                        None => x.str_of(key),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            }
        };
        let opprops = match d.get("OperationProperties") {
            Some(J::Arr(v)) => v
                .iter()
                .map(|p| format!("{}:{}", p.str_of("Name"), p.str_of("Value")))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        let agg = match d.get("Folders") {
            Some(J::Arr(fs)) if r.op == "MailItemsAccessed" => {
                let v: Vec<J> = fs
                    .iter()
                    .map(|f| {
                        let items: Vec<J> = match f.get("FolderItems") {
                            Some(J::Arr(xs)) => xs
                                .iter()
                                .map(|x| jo! {
                                    "InternetMessageId" => x.str_of("InternetMessageId"),
                                    "SizeInBytes" => J::Num(x.str_of("SizeInBytes")),
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        let mut o = jo! { "FolderId" => f.str_of("Id"), "FolderPathName" => f.str_of("Path") };
                        if !items.is_empty() {
                            o.push("FolderItems", items);
                        }
                        o
                    })
                    .collect();
                compact(&J::Arr(v), Esc::Plain)
            }
            _ => String::new(),
        };
        let dirty = match d.get("ModifiedProperties") {
            Some(J::Arr(v)) => v
                .iter()
                .map(|x| match x {
                    J::Str(s) => s.clone(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        let is_group = group.is_some();
        let logon = logon_word(&d.str_of("LogonType"));
        let machine = if d.str_of("ClientInfoString") == Client::Desktop.info_string() {
            c.world
                .users
                .iter()
                .find(|u| u.upn == r.user_id)
                .map(|u| u.device_name.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let vals: Vec<String> = vec![
            r.op.clone(),
            "Succeeded".into(),
            logon.into(),
            "False".into(),
            did,
            dpath,
            fid,
            fpath,
            fname,
            String::new(),
            String::new(),
            String::new(),
            d.str_of("ClientInfoString"),
            d.str_of("ClientIPAddress"),
            d.str_of("ClientIPAddress"),
            machine,
            d.str_of("ClientProcessName"),
            d.str_of("ClientVersion"),
            logon_word(&d.str_of("InternalLogonType")).into(),
            d.str_of("MailboxOwnerUPN"),
            d.str_of("MailboxOwnerSid"),
            String::new(),
            String::new(),
            String::new(),
            if is_group { "False" } else { "" }.into(),
            actor,
            d.str_of("LogonUserSid"),
            if is_group {
                "System.Collections.Generic.List`1[Microsoft.Exchange.Management.SystemConfigurationTasks.MailboxAuditLogSourceItem]".into()
            } else {
                String::new()
            },
            if is_group {
                "System.Collections.Generic.List`1[Microsoft.Exchange.Management.SystemConfigurationTasks.MailboxAuditLogSourceFolder]".into()
            } else {
                String::new()
            },
            list("Id", None),
            list("Subject", None),
            String::new(),
            list("ParentFolder", Some("Path")),
            String::new(),
            list("InternetMessageId", None),
            item.map(|i| i.str_of("Id")).unwrap_or_default(),
            item.map(|i| i.str_of("Subject")).unwrap_or_default(),
            String::new(),
            item.map(|i| i.str_of("InternetMessageId"))
                .unwrap_or_default(),
            dirty,
            d.str_of("OriginatingServer"),
            d.str_of("SessionId"),
            opprops,
            d.str_of("OperationCount"),
            agg,
            d.str_of("AppId"),
            d.str_of("ClientAppId"),
            if item.is_some() { "False" } else { "" }.into(),
            String::new(),
            d.str_of("MailboxGuid"),
            owner,
            us_date(r.t),
            r.id.clone(),
            "True".into(),
            "Unchanged".into(),
        ];
        s.push_str(
            &vals
                .iter()
                .map(|v| csv_all(&ps_ascii(v)))
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push_str("\r\n");
    }
    let ts: Vec<NaiveDateTime> = recs.iter().map(|r| r.t).collect();
    let (first, last) = range_of(&ts);
    Out {
        path: "mailbox-audit/MailboxAudit_amelia.hart.csv".into(),
        bytes: s.into_bytes(),
        records: recs.len(),
        first,
        last,
        shape: "`Search-MailboxAuditLog -Identity amelia.hart -ShowDetails | Export-Csv -NoTypeInformation` (formats.md B), newest first",
        encoding: "ASCII (Windows PowerShell 5.1 default; non-ASCII became `?`), CRLF, every field quoted; `OriginatingServer` values end with a raw LF inside the quotes",
    }
}

//! Builders of AuditData objects in Microsoft's key order (common block first: `CreationTime,
//! Id, Operation, OrganizationId, RecordType, ResultStatus, UserKey, UserType, Version,
//! Workload, ClientIP, ObjectId, UserId`, then the workload fields; `AppAccessContext`, when
//! present, comes before everything, as in real Exchange records).

use crate::jo;
use crate::model::{Ctx, Mfa, Rec, SignIn};
use crate::util::{iso, newtonsoft_indented, nv, Rng, J};
use crate::world::*;
use chrono::NaiveDateTime;

pub const EXO_BUILD: &str = "15.20.8722.027";

/// Folder ids are stable per mailbox and folder.
pub fn folder_id(store_key: &str, folder: &str) -> String {
    let mut r = Rng::stream(&format!("folder:{store_key}:{folder}"));
    format!("LgAAAAA{store_key}AQC{}AAAAAAEMAAAB", r.b64(22))
}

pub fn item_id(store_key: &str, r: &mut Rng) -> String {
    format!(
        "RgAAAAA{store_key}BwC{}AAAAAAEMAAC{}AAAJ",
        r.b64(22),
        r.b64(24)
    )
}

pub fn sign_in(w: &World, s: &SignIn) -> Rec {
    let u = &w.users[s.user];
    let detail = match s.error {
        50140 | 50074 => "Redirect",
        _ => "Success",
    };
    let mut ext = vec![
        nv("ResultStatusDetail", detail),
        nv("UserAgent", s.ua.as_str()),
        nv(
            "UserAuthenticationMethod",
            if s.request_type == "Login:login" {
                "1"
            } else {
                "9"
            },
        ),
        nv("RequestType", s.request_type),
    ];
    if let Some(k) = s.kmsi {
        ext.push(nv("KeepMeSignedIn", if k { "True" } else { "False" }));
    }
    let mut dev = Vec::new();
    if s.joined_device {
        dev.push(nv("Id", u.device_id.as_str()));
        dev.push(nv("DisplayName", u.device_name.as_str()));
    }
    dev.push(nv("OS", s.os));
    dev.push(nv("BrowserType", s.browser_type));
    if s.joined_device {
        dev.push(nv("TrustType", "1"));
    }
    dev.push(nv(
        "IsCompliantAndManaged",
        if s.joined_device { "True" } else { "False" },
    ));
    if !s.session_id.is_empty() {
        dev.push(nv("SessionId", s.session_id.as_str()));
    }
    let mut d = jo! {
        "CreationTime" => iso(s.t),
        "Id" => s.ual_id.as_str(),
        "Operation" => s.ual_operation(),
        "OrganizationId" => ORG_ID,
        "RecordType" => 15u32,
        "ResultStatus" => "Success",
        "UserKey" => u.object_id.as_str(),
        "UserType" => 0u32,
        "Version" => 1u32,
        "Workload" => "AzureActiveDirectory",
        "ClientIP" => s.ip.as_str(),
        "ObjectId" => s.resource.1,
        "UserId" => s.typed.as_str(),
        "AzureActiveDirectoryEventType" => 1u32,
        "ExtendedProperties" => ext,
        "ModifiedProperties" => Vec::<J>::new(),
        "Actor" => vec![
            jo! { "ID" => u.object_id.as_str(), "Type" => 0u32 },
            jo! { "ID" => s.typed.as_str(), "Type" => 5u32 },
        ],
        "ActorContextId" => ORG_ID,
        "ActorIpAddress" => s.ip.as_str(),
        "InterSystemsId" => s.correlation_id.as_str(),
        "IntraSystemId" => s.request_id.as_str(),
        "SupportTicketId" => "",
        "Target" => vec![jo! { "ID" => s.resource.1, "Type" => 0u32 }],
        "TargetContextId" => ORG_ID,
        "ApplicationId" => s.app.1,
        "DeviceProperties" => dev,
        "ErrorNumber" => s.error.to_string(),
    };
    if !s.logon_error().is_empty() {
        d.push("LogonError", s.logon_error());
    }
    Rec {
        t: s.t,
        id: s.ual_id.clone(),
        rt: 15,
        op: s.ual_operation().to_string(),
        user_id: s.typed.clone(),
        data: d,
        attack: s.attack,
    }
}

fn app_access(token: &Option<(String, NaiveDateTime)>) -> Option<J> {
    token.as_ref().map(|(uti, issued)| {
        jo! { "IssuedAtTime" => iso(*issued), "UniqueTokenId" => uti.as_str() }
    })
}

/// An Exchange mailbox-audit record (RecordType 2 ExchangeItem, 3 ExchangeItemGroup,
/// 50 ExchangeItemAggregated). `specific` holds the operation's own fields; an
/// `OperationProperties` entry is put in its alphabetical place like Microsoft does.
#[allow(clippy::too_many_arguments)]
pub fn mailbox(
    w: &World,
    id: String,
    t: NaiveDateTime,
    op: &str,
    rt: u32,
    c: &Ctx,
    specific: Vec<(&str, J)>,
    attack: bool,
    r: &mut Rng,
) -> Rec {
    let a = &w.users[c.actor];
    let o = &w.users[c.owner];
    let mut d = jo! {
        "CreationTime" => iso(t),
        "Id" => id.as_str(),
        "Operation" => op,
        "OrganizationId" => ORG_ID,
        "RecordType" => rt,
        "ResultStatus" => "Succeeded",
        "UserKey" => a.puid.as_str(),
        "UserType" => 0u32,
        "Version" => 1u32,
        "Workload" => "Exchange",
        "ClientIP" => c.ip.as_str(),
        "UserId" => a.upn.as_str(),
    };
    if let Some(ac) = app_access(&c.token) {
        d.push_front("AppAccessContext", ac);
    }
    match c.client {
        Client::Desktop => {}
        Client::Owa => {
            d.push("AppId", RES_EXO.1);
            d.push("ClientAppId", "");
        }
        Client::Ios => {
            d.push("AppId", APP_OUTLOOK_MOBILE.1);
            d.push("ClientAppId", APP_OUTLOOK_MOBILE.1);
        }
    }
    d.push("ClientIPAddress", c.ip.as_str());
    d.push("ClientInfoString", c.client.info_string());
    if c.client == Client::Desktop {
        d.push("ClientProcessName", "OUTLOOK.EXE");
    }
    d.push("ClientRequestId", r.guid());
    if c.client == Client::Desktop {
        d.push("ClientVersion", "16.0.17928.20114");
    }
    d.push("ExternalAccess", false);
    d.push("InternalLogonType", c.logon_type);
    d.push("LogonType", c.logon_type);
    d.push("LogonUserSid", a.sid.as_str());
    d.push("MailboxGuid", o.mailbox_guid.as_str());
    d.push("MailboxOwnerSid", o.sid.as_str());
    d.push("MailboxOwnerUPN", o.upn.as_str());
    let mut rest = Vec::new();
    for (k, v) in specific {
        if k == "OperationProperties" {
            d.push(k, v);
        } else {
            rest.push((k, v));
        }
    }
    d.push("OrganizationName", TENANT_DOMAIN);
    // Real mailbox records end OriginatingServer with a raw newline.
    d.push("OriginatingServer", format!("{} ({EXO_BUILD})\n", o.server));
    d.push("SessionId", c.session.as_str());
    for (k, v) in rest {
        d.push(k, v);
    }
    Rec {
        t,
        id,
        rt,
        op: op.to_string(),
        user_id: a.upn.clone(),
        data: d,
        attack,
    }
}

pub fn op_props(access: &str) -> J {
    J::Arr(vec![
        nv("MailAccessType", access),
        nv("IsThrottled", "False"),
    ])
}

/// Who ran an Exchange admin cmdlet.
pub enum Admin<'a> {
    User {
        user: usize,
        ip_port: String,
        session: Option<&'a str>,
        token: Option<(String, NaiveDateTime)>,
        via_owa: bool,
    },
    System,
}

pub const SYSTEM_ACTOR: &str = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)";

/// An Exchange admin-audit record (RecordType 1): cmdlets from OWA, EAC, PowerShell, or the
/// service itself.
#[allow(clippy::too_many_arguments)]
pub fn admin(
    w: &World,
    id: String,
    t: NaiveDateTime,
    op: &str,
    who: Admin,
    object_id: String,
    params: Vec<J>,
    attack: bool,
) -> Rec {
    let (user_key, user_type, user_id, ip, server) = match &who {
        Admin::User { user, ip_port, .. } => {
            let u = &w.users[*user];
            (
                u.puid.clone(),
                if u.admin { 2u32 } else { 0u32 },
                u.upn.clone(),
                ip_port.clone(),
                u.server.clone(),
            )
        }
        Admin::System => (
            SYSTEM_ACTOR.to_string(),
            3u32,
            SYSTEM_ACTOR.to_string(),
            String::new(),
            SERVERS[0].to_string(),
        ),
    };
    let mut d = jo! {
        "CreationTime" => iso(t),
        "Id" => id.as_str(),
        "Operation" => op,
        "OrganizationId" => ORG_ID,
        "RecordType" => 1u32,
        "ResultStatus" => "True",
        "UserKey" => user_key,
        "UserType" => user_type,
        "Version" => 1u32,
        "Workload" => "Exchange",
        "ClientIP" => ip,
        "ObjectId" => object_id,
        "UserId" => user_id.as_str(),
    };
    match &who {
        Admin::User {
            token,
            via_owa,
            session,
            ..
        } => {
            if let Some(ac) = app_access(token) {
                d.push_front("AppAccessContext", ac);
            }
            d.push(
                "AppId",
                if *via_owa {
                    RES_EXO.1
                } else {
                    "497effe9-df71-4043-a8bb-14cf78c4b63b"
                },
            );
            d.push("ClientAppId", "");
            d.push("ExternalAccess", false);
            d.push("OrganizationName", TENANT_DOMAIN);
            d.push("OriginatingServer", format!("{server} ({EXO_BUILD})"));
            d.push("Parameters", params);
            if let Some(s) = session {
                d.push("SessionId", *s);
            }
        }
        Admin::System => {
            d.push("AppId", "");
            d.push("ClientAppId", "");
            d.push("ExternalAccess", true);
            d.push("OrganizationName", TENANT_DOMAIN);
            d.push("OriginatingServer", format!("{server} ({EXO_BUILD})"));
            d.push("Parameters", params);
        }
    }
    Rec {
        t,
        id,
        rt: 1,
        op: op.to_string(),
        user_id,
        data: d,
        attack,
    }
}

/// `Name`/`NewValue`/`OldValue` entry of `ModifiedProperties`.
pub fn modprop(name: &str, new: &str, old: &str) -> J {
    jo! { "Name" => name, "NewValue" => new, "OldValue" => old }
}

/// The `[{"MethodType": n, "Default": b}, …]` text Entra logs for StrongAuthenticationMethod.
pub fn methods_text(methods: &[(u32, bool)]) -> String {
    newtonsoft_indented(&J::Arr(
        methods
            .iter()
            .map(|(m, d)| jo! { "MethodType" => *m, "Default" => *d })
            .collect(),
    ))
}

pub fn phone_details_text(phone: Option<&str>) -> String {
    newtonsoft_indented(&J::Arr(vec![jo! {
        "PhoneNumber" => phone.map(|p| p.to_string()),
        "AlternativePhoneNumber" => J::Null,
        "Email" => J::Null,
        "VoiceOnlyPhoneNumber" => J::Null,
    }]))
}

fn user_refs(u: &User) -> Vec<J> {
    vec![
        jo! { "ID" => format!("User_{}", u.object_id), "Type" => 2u32 },
        jo! { "ID" => u.object_id.as_str(), "Type" => 2u32 },
        jo! { "ID" => "User", "Type" => 2u32 },
        jo! { "ID" => u.upn.as_str(), "Type" => 5u32 },
        jo! { "ID" => u.puid.as_str(), "Type" => 3u32 },
    ]
}

/// An Entra directory-audit record (RecordType 8). Operation names end with a period here.
#[allow(clippy::too_many_arguments)]
pub fn directory(
    w: &World,
    r: &mut Rng,
    t: NaiveDateTime,
    op: &str,
    actor: usize,
    ip: &str,
    ua: &str,
    object_id: &str,
    category: &str,
    modified: Vec<J>,
    target: Vec<J>,
    attack: bool,
) -> Rec {
    let u = &w.users[actor];
    let id = r.guid();
    let details = format!("{{\"User-Agent\":\"{ua}\"}}");
    let d = jo! {
        "CreationTime" => iso(t),
        "Id" => id.as_str(),
        "Operation" => op,
        "OrganizationId" => ORG_ID,
        "RecordType" => 8u32,
        "ResultStatus" => "Success",
        "UserKey" => format!("{}@{TENANT_DOMAIN}", u.puid),
        "UserType" => 0u32,
        "Version" => 1u32,
        "Workload" => "AzureActiveDirectory",
        "ClientIP" => ip,
        "ObjectId" => object_id,
        "UserId" => u.upn.as_str(),
        "AzureActiveDirectoryEventType" => 1u32,
        "ExtendedProperties" => vec![
            nv("additionalDetails", details),
            nv("extendedAuditEventCategory", category),
        ],
        "ModifiedProperties" => modified,
        "Actor" => user_refs(u),
        "ActorContextId" => ORG_ID,
        "ActorIpAddress" => ip,
        "InterSystemsId" => r.guid(),
        "IntraSystemId" => r.request_id(),
        "SupportTicketId" => "",
        "Target" => target,
        "TargetContextId" => ORG_ID,
    };
    Rec {
        t,
        id,
        rt: 8,
        op: op.to_string(),
        user_id: u.upn.clone(),
        data: d,
        attack,
    }
}

pub fn user_target(u: &User) -> Vec<J> {
    user_refs(u)
}

pub fn sp_target(name: &str, app_id: &str, obj: &str) -> Vec<J> {
    vec![
        jo! { "ID" => format!("ServicePrincipal_{obj}"), "Type" => 2u32 },
        jo! { "ID" => obj, "Type" => 2u32 },
        jo! { "ID" => "ServicePrincipal", "Type" => 2u32 },
        jo! { "ID" => name, "Type" => 1u32 },
        jo! { "ID" => app_id, "Type" => 4u32 },
    ]
}

/// A SharePoint/OneDrive `FileAccessed` record (RecordType 6).
#[allow(clippy::too_many_arguments)]
pub fn file_accessed(
    w: &World,
    r: &mut Rng,
    t: NaiveDateTime,
    user: usize,
    ip: &str,
    site: &str,
    rel: &str,
    file: &str,
) -> Rec {
    let u = &w.users[user];
    let id = r.guid();
    let ext = file.rsplit('.').next().unwrap_or("");
    let site_url = format!("https://{SP_HOST}/sites/{site}/");
    let (os, btype, _, _) = u.browser.names();
    let d = jo! {
        "CreationTime" => iso(t),
        "Id" => id.as_str(),
        "Operation" => "FileAccessed",
        "OrganizationId" => ORG_ID,
        "RecordType" => 6u32,
        "UserKey" => format!("i:0h.f|membership|{}@live.com", u.puid.to_ascii_lowercase()),
        "UserType" => 0u32,
        "Version" => 1u32,
        "Workload" => "SharePoint",
        "ClientIP" => ip,
        "ObjectId" => format!("{site_url}{rel}/{file}"),
        "UserId" => u.upn.as_str(),
        "ApplicationId" => "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7",
        "AuthenticationType" => "OAuth",
        "BrowserName" => btype,
        "BrowserVersion" => "122.0.0.0",
        "CorrelationId" => r.guid(),
        "EventSource" => "SharePoint",
        "GeoLocation" => "GBR",
        "IsManagedDevice" => u.browser.windows(),
        "ItemType" => "File",
        "ListId" => Rng::stream(&format!("list:{site}")).guid(),
        "ListItemUniqueId" => Rng::stream(&format!("file:{site}/{file}")).guid(),
        "Platform" => if os == "MacOs" { "MacOSX" } else { "WinDesktop" },
        "Site" => Rng::stream(&format!("site:{site}")).guid(),
        "UserAgent" => u.browser.ua(),
        "WebId" => Rng::stream(&format!("web:{site}")).guid(),
        "DeviceDisplayName" => ip,
        "FileSizeBytes" => 20_000 + r.below(900_000) as usize,
        "HighPriorityMediaProcessing" => false,
        "ListBaseType" => 1u32,
        "ListServerTemplate" => 101u32,
        "SourceFileExtension" => ext,
        "SiteUrl" => site_url.as_str(),
        "SourceRelativeUrl" => rel,
        "SourceFileName" => file,
    };
    Rec {
        t,
        id,
        rt: 6,
        op: "FileAccessed".to_string(),
        user_id: u.upn.clone(),
        data: d,
        attack: false,
    }
}

/// `SearchQueryInitiatedExchange` (RecordType 101, Audit Premium).
pub fn search(
    w: &World,
    r: &mut Rng,
    t: NaiveDateTime,
    c: &Ctx,
    query: &str,
    results: u32,
    attack: bool,
) -> Rec {
    let u = &w.users[c.actor];
    let id = r.guid();
    let mut d = jo! {
        "CreationTime" => iso(t),
        "Id" => id.as_str(),
        "Operation" => "SearchQueryInitiatedExchange",
        "OrganizationId" => ORG_ID,
        "RecordType" => 101u32,
        "ResultStatus" => "Succeeded",
        "UserKey" => u.puid.as_str(),
        "UserType" => 0u32,
        "Version" => 1u32,
        "Workload" => "Exchange",
        "ClientIP" => c.ip.as_str(),
        "UserId" => u.upn.as_str(),
        "ClientInfoString" => c.client.info_string(),
        "CorrelationId" => r.guid(),
        "LogonType" => c.logon_type,
        "MailboxGuid" => w.users[c.owner].mailbox_guid.as_str(),
        "MailboxOwnerUPN" => w.users[c.owner].upn.as_str(),
        "QuerySource" => "Search",
        "QueryText" => query,
        "ScenarioName" => "owa.react.mail.search",
        "SearchResultCount" => results,
        "SessionId" => c.session.as_str(),
    };
    if let Some(ac) = app_access(&c.token) {
        d.push_front("AppAccessContext", ac);
    }
    Rec {
        t,
        id,
        rt: 101,
        op: "SearchQueryInitiatedExchange".to_string(),
        user_id: u.upn.clone(),
        data: d,
        attack,
    }
}

/// A sign-in with everything derived from the user's device; callers override fields.
#[allow(clippy::too_many_arguments)]
pub fn new_sign_in(
    w: &World,
    r: &mut Rng,
    user: usize,
    t: NaiveDateTime,
    ip: &str,
    kind: Kind,
    request_type: &'static str,
    error: u32,
) -> SignIn {
    let u = &w.users[user];
    let (ua, os, bt, eos, eb, app, res, interactive, client_app, session, joined) = match kind {
        Kind::Browser(app, res) => {
            let (os, bt, eos, eb) = u.browser.names();
            (
                u.browser.ua().to_string(),
                os,
                bt,
                eos,
                eb.to_string(),
                app,
                res,
                true,
                "Browser",
                u.browser_session.clone(),
                u.browser.windows(),
            )
        }
        Kind::Desktop => (
            OUTLOOK_DESKTOP_UA.to_string(),
            "Windows10",
            "Other",
            "Windows10",
            "Rich Client 16.0.17928.20114".to_string(),
            APP_OFFICE,
            RES_EXO,
            false,
            "Mobile Apps and Desktop clients",
            u.desktop_session.clone(),
            true,
        ),
        Kind::Ios => (
            OUTLOOK_IOS_UA.to_string(),
            "Ios",
            "Safari",
            "Ios",
            "Mobile Safari".to_string(),
            APP_OUTLOOK_MOBILE,
            RES_EXO,
            false,
            "Mobile Apps and Desktop clients",
            u.ios_session.clone(),
            false,
        ),
    };
    let failed = error == 50126;
    SignIn {
        t,
        ual_id: r.guid(),
        user,
        typed: if interactive {
            u.typed.clone()
        } else {
            u.upn.clone()
        },
        request_id: r.request_id(),
        correlation_id: r.guid(),
        session_id: if failed { String::new() } else { session },
        token_id: if error == 0 {
            r.token_id()
        } else {
            String::new()
        },
        ip: ip.to_string(),
        ua,
        os,
        browser_type: bt,
        entra_os: eos,
        entra_browser: eb,
        app,
        resource: res,
        request_type,
        error,
        interactive,
        client_app,
        mfa: if failed { Mfa::NotDone } else { Mfa::Claim },
        joined_device: joined,
        kmsi: None,
        latency: 60 + r.below(240) as u32,
        attack: false,
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    Browser((&'static str, &'static str), (&'static str, &'static str)),
    Desktop,
    Ios,
}

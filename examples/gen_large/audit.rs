//! AuditData rendering: Microsoft's compact JSON, in its key order (common block first, then the
//! workload fields), `/` escaped as `\/`, written straight into a reused buffer. The same spec
//! always renders the same bytes, whatever the export.

use crate::incident::{Addr, Payload, ATTACKER_UA, FORWARD_TO, LURE_FROM, LURE_IP};
use crate::model::{Client, Op, Plan, SignKind, Spec};
use crate::out::*;
use crate::rng::{h, Rng};
use crate::world::*;

/// What the CSV wrappers need besides AuditData.
pub struct Meta<'a> {
    pub id: u128,
    pub rt: u32,
    pub op: &'static str,
    pub user: &'a str,
}

pub fn record_type_name(rt: u32) -> &'static str {
    match rt {
        1 => "ExchangeAdmin",
        2 => "ExchangeItem",
        3 => "ExchangeItemGroup",
        4 => "SharePoint",
        6 => "SharePointFileOperation",
        8 => "AzureActiveDirectory",
        15 => "AzureActiveDirectoryStsLogon",
        25 => "MicrosoftTeams",
        50 => "ExchangeItemAggregated",
        101 => "ExchangeSearch",
        _ => "Unknown",
    }
}

pub const SYNC_ACCOUNT: &str = "Sync_NWL-DC01_7c1f0e9b2a4d@northwindlogistics.onmicrosoft.com";

pub fn meta<'a>(p: &'a Plan, s: &Spec) -> Meta<'a> {
    let id = Rng::new(s.seed).u128();
    let u = &p.world.users[s.user as usize];
    let (rt, op): (u32, &'static str) = match s.op {
        Op::MiaBind | Op::MiaSync => (50, "MailItemsAccessed"),
        Op::MailboxLogin => (2, "MailboxLogin"),
        Op::Send => (2, "Send"),
        Op::Create => (2, "Create"),
        Op::Update => (2, "Update"),
        Op::SoftDelete => (3, "SoftDelete"),
        Op::MoveToDeleted => (3, "MoveToDeletedItems"),
        Op::HardDelete => (3, "HardDelete"),
        Op::Search => (101, "SearchQueryInitiatedExchange"),
        Op::NewInboxRule => (1, "New-InboxRule"),
        Op::SetInboxRule => (1, "Set-InboxRule"),
        Op::SetMailbox => (1, "Set-Mailbox"),
        Op::FileAccessed => (6, "FileAccessed"),
        Op::FileModified => (6, "FileModified"),
        Op::FilePreviewed => (6, "FilePreviewed"),
        Op::FileDownloaded => (6, "FileDownloaded"),
        Op::FileUploaded => (6, "FileUploaded"),
        Op::PageViewed => (4, "PageViewed"),
        Op::SignIn => (
            15,
            if signin_ok(s) {
                "UserLoggedIn"
            } else {
                "UserLoginFailed"
            },
        ),
        Op::TeamsSession => (25, "TeamsSessionStarted"),
        Op::TeamsMessage => (25, "MessageSent"),
        Op::SysSetMailbox => (1, "Set-Mailbox"),
        Op::SysSetMailboxPlan => (1, "Set-MailboxPlan"),
        Op::DirUpdateUser => (8, "Update user."),
        Op::DirAddMember => (8, "Add member to group."),
        Op::Inbound => (0, ""),
    };
    let user: &str = match s.op {
        Op::SysSetMailbox | Op::SysSetMailboxPlan => SYSTEM_ACTOR,
        Op::DirUpdateUser => SYNC_ACCOUNT,
        Op::SignIn if s.sk.interactive() => &u.typed,
        _ => &u.upn,
    };
    Meta { id, rt, op, user }
}

/// `UserLoggedIn` also carries the KMSI interrupt (50140); everything else non-zero is a failure.
pub fn signin_ok(s: &Spec) -> bool {
    s.err == 0 || s.err == 50140
}

// ------------------------------------------------------------------------------------------
// JSON helpers: each writes `,"key":value`.

#[inline]
fn k(b: &mut Vec<u8>, key: &str) {
    b.extend_from_slice(b",\"");
    b.extend_from_slice(key.as_bytes());
    b.extend_from_slice(b"\":");
}
#[inline]
fn ks(b: &mut Vec<u8>, key: &str, v: &str) {
    k(b, key);
    b.push(b'"');
    esc(b, v);
    b.push(b'"');
}
#[inline]
fn kn(b: &mut Vec<u8>, key: &str, v: u64) {
    k(b, key);
    num(b, v);
}
#[inline]
fn kb(b: &mut Vec<u8>, key: &str, v: bool) {
    k(b, key);
    b.extend_from_slice(if v { b"true" } else { b"false" });
}
#[inline]
fn kg(b: &mut Vec<u8>, key: &str, v: u128) {
    k(b, key);
    b.push(b'"');
    guid(b, v);
    b.push(b'"');
}
/// `{"Name":"…","Value":"…"}` (without a leading comma).
fn nv(b: &mut Vec<u8>, name: &str, v: &str) {
    b.extend_from_slice(b"{\"Name\":\"");
    esc(b, name);
    b.extend_from_slice(b"\",\"Value\":\"");
    esc(b, v);
    b.extend_from_slice(b"\"}");
}

/// The common block up to `UserId`, opening the object.
#[allow(clippy::too_many_arguments)]
fn common(
    b: &mut Vec<u8>,
    s: &Spec,
    id: u128,
    op: &str,
    rt: u32,
    status: &str,
    user_key: &str,
    user_type: u32,
    workload: &str,
    ip: &str,
    object_id: Option<&str>,
    user_id: &str,
) {
    b.extend_from_slice(b"{\"CreationTime\":\"");
    iso(b, s.t);
    b.extend_from_slice(b"\",\"Id\":\"");
    guid(b, id);
    b.extend_from_slice(b"\"");
    ks(b, "Operation", op);
    ks(b, "OrganizationId", ORG_ID);
    kn(b, "RecordType", rt as u64);
    if !status.is_empty() {
        ks(b, "ResultStatus", status);
    }
    ks(b, "UserKey", user_key);
    kn(b, "UserType", user_type as u64);
    kn(b, "Version", 1);
    ks(b, "Workload", workload);
    ks(b, "ClientIP", ip);
    if let Some(o) = object_id {
        ks(b, "ObjectId", o);
    }
    ks(b, "UserId", user_id);
}

fn app_access(b: &mut Vec<u8>, s: &Spec) {
    if s.token != 0 {
        b.extend_from_slice(b"{\"AppAccessContext\":{\"IssuedAtTime\":\"");
        iso(b, s.issued);
        b.extend_from_slice(b"\",\"UniqueTokenId\":\"");
        token(b, s.token);
        b.extend_from_slice(b"\"},\"CreationTime\":\"");
    } else {
        b.extend_from_slice(b"{\"CreationTime\":\"");
    }
}

fn client_info(c: Client) -> &'static str {
    match c {
        Client::Desktop => "Client=MSExchangeRPC",
        Client::Ios => "Client=OutlookService;Outlook-iOS/2.0",
        Client::Android => "Client=OutlookService;Outlook-Android/2.0",
        _ => "Client=OWA;Action=ViaProxy",
    }
}

/// Exchange mailbox records (RecordType 2, 3, 50, 101): common block and mailbox context up to
/// `SessionId`; the object is left open for the operation's own fields.
#[allow(clippy::too_many_arguments)]
fn exchange_head(
    p: &Plan,
    b: &mut Vec<u8>,
    s: &Spec,
    r: &mut Rng,
    id: u128,
    op: &str,
    rt: u32,
    access: Option<&str>,
) {
    let u = &p.world.users[s.user as usize];
    let ip = p.ip_str(s);
    app_access(b, s);
    iso(b, s.t);
    b.extend_from_slice(b"\",\"Id\":\"");
    guid(b, id);
    b.push(b'"');
    ks(b, "Operation", op);
    ks(b, "OrganizationId", ORG_ID);
    kn(b, "RecordType", rt as u64);
    ks(b, "ResultStatus", "Succeeded");
    ks(b, "UserKey", &u.puid);
    kn(b, "UserType", 0);
    kn(b, "Version", 1);
    ks(b, "Workload", "Exchange");
    ks(b, "ClientIP", ip);
    ks(b, "UserId", &u.upn);
    match s.client {
        Client::Desktop => {}
        Client::Ios | Client::Android => {
            ks(b, "AppId", APP_OUTLOOK_MOBILE.1);
            ks(b, "ClientAppId", APP_OUTLOOK_MOBILE.1);
        }
        _ => {
            ks(b, "AppId", RES_EXO.1);
            ks(b, "ClientAppId", "");
        }
    }
    ks(b, "ClientIPAddress", ip);
    ks(b, "ClientInfoString", client_info(s.client));
    if s.client == Client::Desktop {
        ks(b, "ClientProcessName", "OUTLOOK.EXE");
    }
    kg(b, "ClientRequestId", r.u128());
    if s.client == Client::Desktop {
        ks(b, "ClientVersion", "16.0.17928.20114");
    }
    kb(b, "ExternalAccess", false);
    kn(b, "InternalLogonType", 0);
    kn(b, "LogonType", 0);
    ks(b, "LogonUserSid", &u.sid);
    ks(b, "MailboxGuid", &u.mailbox_guid);
    ks(b, "MailboxOwnerSid", &u.sid);
    ks(b, "MailboxOwnerUPN", &u.upn);
    if let Some(a) = access {
        k(b, "OperationProperties");
        b.push(b'[');
        nv(b, "MailAccessType", a);
        b.push(b',');
        nv(b, "IsThrottled", "False");
        b.push(b']');
    }
    ks(b, "OrganizationName", TENANT_DOMAIN);
    // Real mailbox records end OriginatingServer with a raw newline.
    k(b, "OriginatingServer");
    b.push(b'"');
    b.extend_from_slice(u.server.as_bytes());
    b.extend_from_slice(b" (");
    b.extend_from_slice(EXO_BUILD.as_bytes());
    b.extend_from_slice(b")\\n\"");
    if s.session != 0 {
        kg(b, "SessionId", s.session);
    }
}

const FOLDERS: &[&str] = &[
    "\\Inbox",
    "\\Inbox",
    "\\Inbox",
    "\\Inbox",
    "\\Sent Items",
    "\\Archive",
    "\\Inbox\\Invoices",
    "\\Inbox\\Customers",
    "\\Drafts",
    "\\Deleted Items",
];

/// Stable folder id per (mailbox, folder).
fn folder_id(b: &mut Vec<u8>, p: &Plan, user: u32, path: &str) {
    let mut fh = 0xcbf2_9ce4_8422_2325u64;
    for &c in path.as_bytes() {
        fh = (fh ^ c as u64).wrapping_mul(0x1000_0000_01b3);
    }
    let us = h(p.seed, 0xf01d, user as u64);
    b.extend_from_slice(b"LgAAAAA");
    b64(b, us, 22);
    b.extend_from_slice(b"AQC");
    b64(b, h(us, fh, 1), 22);
    b.extend_from_slice(b"AAAAAAEMAAAB");
}

fn item_id(b: &mut Vec<u8>, p: &Plan, user: u32, x: u64) {
    let us = h(p.seed, 0xf01d, user as u64);
    b.extend_from_slice(b"RgAAAAA");
    b64(b, us, 22);
    b.extend_from_slice(b"BwC");
    b64(b, x, 22);
    b.extend_from_slice(b"AAAAAAEMAAC");
    b64(b, x ^ 0x55, 24);
    b.extend_from_slice(b"AAAJ");
}

/// An Exchange Online Message-ID: `<SERVER + hex@SERVER.GBRP265.PROD.OUTLOOK.COM>`.
fn exo_mid(b: &mut Vec<u8>, server: &str, x: u128) {
    b.push(b'<');
    b.extend_from_slice(server.as_bytes());
    hex_upper(b, (x >> 64) as u64, 16);
    hex_upper(b, x as u64, 13);
    b.push(b'@');
    b.extend_from_slice(server.as_bytes());
    b.extend_from_slice(b".GBRP265.PROD.OUTLOOK.COM>");
}

/// A Message-ID of a message from outside: `<yyyyMMddHHmmss.hex@domain>`.
fn ext_mid(b: &mut Vec<u8>, domain: &str, t: i64, x: u64) {
    b.push(b'<');
    let m = tm(t);
    num(b, m.y as u64);
    two(b, m.mo);
    two(b, m.d);
    two(b, m.h);
    two(b, m.mi);
    two(b, m.s);
    b.push(b'.');
    hex_lower(b, x, 12);
    b.push(b'@');
    b.extend_from_slice(domain.as_bytes());
    b.push(b'>');
}

/// A Message-ID of some message in a mailbox (inbound or internal).
fn any_mid(b: &mut Vec<u8>, p: &Plan, r: &mut Rng, t: i64) {
    if r.chance(5500) {
        let srv = *r.pick(SERVERS);
        exo_mid(b, srv, r.u128());
    } else {
        let d = *r.pick(PARTNERS);
        let back = r.range(600, 86_400 * 5) as i64;
        ext_mid(b, d, t - back, r.next());
    }
    let _ = p;
}

fn bind_items(b: &mut Vec<u8>, p: &Plan, s: &Spec, r: &mut Rng, n: u64) {
    b.extend_from_slice(b"\"FolderItems\":[");
    for i in 0..n {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"Id\":\"");
        let x = r.next();
        let mut tmp = Vec::with_capacity(96);
        item_id(&mut tmp, p, s.user, x);
        esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
        b.extend_from_slice(b"\",\"InternetMessageId\":\"");
        tmp.clear();
        any_mid(&mut tmp, p, r, s.t);
        esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
        b.extend_from_slice(b"\"");
        kn(b, "SizeInBytes", r.range(4_000, 400_000));
        b.push(b'}');
    }
    b.extend_from_slice(b"],");
}

fn folder_obj(b: &mut Vec<u8>, p: &Plan, user: u32, path: &str) {
    folder_named(b, p, user, path, None);
}

/// `"Id":…,["Name":…,]"Path":…` (the inside of a folder object).
fn folder_named(b: &mut Vec<u8>, p: &Plan, user: u32, path: &str, name: Option<&str>) {
    b.extend_from_slice(b"\"Id\":\"");
    let mut tmp = Vec::with_capacity(64);
    folder_id(&mut tmp, p, user, path);
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    if let Some(n) = name {
        b.extend_from_slice(b"\",\"Name\":\"");
        esc(b, n);
    }
    b.extend_from_slice(b"\",\"Path\":\"");
    esc(b, path);
    b.push(b'"');
}

/// A GUID derived from a few words (stable ids: sites, lists, groups).
fn stable_guid(p: &Plan, salt: u64, key: &str) -> u128 {
    let mut fh = 0xcbf2_9ce4_8422_2325u64;
    for &c in key.as_bytes() {
        fh = (fh ^ c as u64).wrapping_mul(0x1000_0000_01b3);
    }
    ((h(p.seed, salt, fh) as u128) << 64) | h(p.seed, salt ^ 0xff, fh) as u128
}

// ------------------------------------------------------------------------------------------
// Messages: the same message is a UAL Send and a message-trace row.

pub struct Msg {
    pub sender: Addr,
    pub rcpts: Vec<Addr>,
    pub size: u64,
    pub trace_id: u128,
    pub spam: bool,
    pub incoming: bool,
    mid_seed: u128,
    subj: Subj,
}

enum Subj {
    Tpl(u8, u32, u8),
    Lit(String),
}

const SUBJECTS: &[&str] = &[
    "Consignment # – delivery slot",
    "Invoice # query",
    "Weekly ops call",
    "Rate card 2026",
    "Customs docs for shipment #",
    "PO # approved",
    "Driver schedule week #",
    "Fuel surcharge update",
    "Re-booking for order #",
    "Warehouse stock count",
    "Q1 forecast – draft #",
    "Damaged pallet claim #",
    "Holiday cover",
    "Team lunch Friday",
    "Proof of delivery #",
    "Quote request: # pallets to Rotterdam",
    "Payment remittance #",
    "Contract renewal – \"Gold\" service tier",
    "Meeting notes",
    "Training: new TMS rollout",
    "Café order for the away day",
    "£ exposure on order #",
];

pub fn msg(p: &Plan, s: &Spec) -> Msg {
    let mut r = Rng::new(h(s.seed, 0x3e55, 0));
    if let Some(pl) = p.incident.payload(s) {
        match pl {
            Payload::Send { subject, rcpts } => {
                return Msg {
                    sender: Addr::User(s.user),
                    rcpts: rcpts.clone(),
                    size: r.range(18_000, 60_000),
                    trace_id: r.u128(),
                    spam: false,
                    incoming: false,
                    mid_seed: r.u128(),
                    subj: Subj::Lit(subject.clone()),
                }
            }
            Payload::Lure => {
                return Msg {
                    sender: Addr::Lit(LURE_FROM),
                    rcpts: vec![Addr::User(s.user)],
                    size: 41_372,
                    trace_id: r.u128(),
                    spam: false,
                    incoming: true,
                    mid_seed: r.u128(),
                    subj: Subj::Lit(format!(
                        "{} shared \"Q1 remittance advice.pdf\" with you",
                        p.world.users[s.user as usize].display
                    )),
                }
            }
            _ => {}
        }
    }
    let subj = Subj::Tpl(
        r.below(SUBJECTS.len() as u64) as u8,
        r.range(10_000, 99_999) as u32,
        r.below(4) as u8,
    );
    if s.op == Op::Inbound {
        let spam = r.chance(600);
        let pi = r.below(PARTNERS.len() as u64) as u8;
        let li = r.below(PARTNER_LOCALS.len() as u64) as u8;
        return Msg {
            sender: Addr::Partner(pi, li),
            rcpts: vec![Addr::User(s.user)],
            size: r.range(6_000, 2_500_000),
            trace_id: r.u128(),
            spam,
            incoming: true,
            mid_seed: r.u128(),
            subj,
        };
    }
    let n = 1 + r.below(3) as usize;
    let mut rcpts = Vec::with_capacity(n);
    for _ in 0..n {
        if r.chance(5500) {
            rcpts.push(Addr::User(p.world.pick_user(&mut r)));
        } else {
            rcpts.push(Addr::Partner(
                r.below(PARTNERS.len() as u64) as u8,
                r.below(PARTNER_LOCALS.len() as u64) as u8,
            ));
        }
    }
    Msg {
        sender: Addr::User(s.user),
        rcpts,
        size: r.range(9_000, 3_000_000),
        trace_id: r.u128(),
        spam: false,
        incoming: false,
        mid_seed: r.u128(),
        subj,
    }
}

impl Msg {
    pub fn subject(&self, b: &mut Vec<u8>) {
        match &self.subj {
            Subj::Lit(s) => b.extend_from_slice(s.as_bytes()),
            Subj::Tpl(i, n, re) => {
                match re {
                    0 => b.extend_from_slice(b"RE: "),
                    1 => b.extend_from_slice(b"FW: "),
                    _ => {}
                }
                let tpl = SUBJECTS[*i as usize % SUBJECTS.len()];
                for (j, part) in tpl.split('#').enumerate() {
                    if j > 0 {
                        num(b, *n as u64);
                    }
                    b.extend_from_slice(part.as_bytes());
                }
            }
        }
    }

    pub fn mid(&self, p: &Plan, t: i64, b: &mut Vec<u8>) {
        match &self.sender {
            Addr::User(u) => exo_mid(b, p.world.users[*u as usize].server, self.mid_seed),
            Addr::Partner(pi, _) => ext_mid(
                b,
                PARTNERS[*pi as usize % PARTNERS.len()],
                t,
                self.mid_seed as u64,
            ),
            Addr::Lit(a) => {
                let dom = a.rsplit('@').next().unwrap_or("example");
                b.push(b'<');
                hex_lower(b, self.mid_seed as u64, 16);
                hex_lower(b, (self.mid_seed >> 64) as u64, 16);
                b.push(b'@');
                b.extend_from_slice(dom.as_bytes());
                b.push(b'>');
            }
        }
    }

    /// The IP the message came from (trace `FromIP`).
    pub fn sender_ip<'a>(&self, p: &'a Plan, s: &Spec, tmp: &'a mut String) -> &'a str {
        match &self.sender {
            Addr::User(_) => p.ip_str(s),
            Addr::Partner(pi, _) => {
                *tmp = partner_ip(*pi as usize);
                tmp
            }
            Addr::Lit(_) => LURE_IP,
        }
    }
}

pub fn addr(p: &Plan, a: &Addr, b: &mut Vec<u8>) {
    match a {
        Addr::User(u) => b.extend_from_slice(p.world.users[*u as usize].upn.as_bytes()),
        Addr::Partner(pi, li) => {
            b.extend_from_slice(PARTNER_LOCALS[*li as usize % PARTNER_LOCALS.len()].as_bytes());
            b.push(b'@');
            b.extend_from_slice(PARTNERS[*pi as usize % PARTNERS.len()].as_bytes());
        }
        Addr::Lit(s) => b.extend_from_slice(s.as_bytes()),
    }
}

// ------------------------------------------------------------------------------------------

/// Writes the AuditData JSON of a UAL spec.
pub fn audit(p: &Plan, s: &Spec, b: &mut Vec<u8>) {
    let mut r = Rng::new(s.seed);
    let id = r.u128();
    let m = meta(p, s);
    let payload = p.incident.payload(s);
    match s.op {
        Op::MiaBind | Op::MiaSync => {
            let bind = s.op == Op::MiaBind;
            exchange_head(
                p,
                b,
                s,
                &mut r,
                id,
                m.op,
                50,
                Some(if bind { "Bind" } else { "Sync" }),
            );
            k(b, "Folders");
            b.push(b'[');
            if bind {
                let (n, folders) = match payload {
                    Some(Payload::Bind(n)) => (*n as u64, 1),
                    Some(Payload::OpenLure(_)) => (1, 1),
                    _ => (
                        1 + r.below(3) + r.below(3) * r.below(2),
                        if r.chance(1500) { 2 } else { 1 },
                    ),
                };
                let mut total = 0;
                for f in 0..folders {
                    if f > 0 {
                        b.push(b',');
                    }
                    b.push(b'{');
                    if let Some(Payload::OpenLure(src)) = payload {
                        // The victim opens the message the incident sent them.
                        open_lure_item(p, s, *src, b);
                    } else {
                        bind_items(b, p, s, &mut r, n);
                    }
                    let path = if f == 0 { "\\Inbox" } else { *r.pick(FOLDERS) };
                    folder_obj(b, p, s.user, path);
                    b.push(b'}');
                    total += n;
                }
                b.push(b']');
                kn(b, "OperationCount", total);
            } else {
                b.push(b'{');
                let path = if payload.is_some() {
                    "\\Inbox"
                } else {
                    *r.pick(FOLDERS)
                };
                folder_obj(b, p, s.user, path);
                b.extend_from_slice(b"}]");
                kn(b, "OperationCount", 1);
            }
            b.push(b'}');
        }
        Op::MailboxLogin => {
            exchange_head(p, b, s, &mut r, id, m.op, 2, None);
            b.push(b'}');
        }
        Op::Send => {
            exchange_head(p, b, s, &mut r, id, m.op, 2, None);
            let msg = msg(p, s);
            send_item(p, s, &msg, b);
            kb(b, "SaveToSentItems", true);
            b.push(b'}');
        }
        Op::Create | Op::Update => {
            exchange_head(p, b, s, &mut r, id, m.op, 2, None);
            let (folder, subj) = match r.below(3) {
                0 => (
                    "\\Calendar",
                    *r.pick(&[
                        "Weekly ops call",
                        "1:1",
                        "Supplier review",
                        "Depot visit",
                        "Quarterly planning",
                    ]),
                ),
                _ => (
                    "\\Drafts",
                    *r.pick(&[
                        "Notes for Thursday",
                        "Draft – rate proposal",
                        "RE: Consignment update",
                        "Follow-up",
                        "Out of office",
                    ]),
                ),
            };
            k(b, "Item");
            b.extend_from_slice(b"{\"Id\":\"");
            let mut tmp = Vec::with_capacity(96);
            item_id(&mut tmp, p, s.user, r.next());
            esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
            b.push(b'"');
            kb(b, "IsRecord", false);
            k(b, "ParentFolder");
            b.push(b'{');
            folder_named(b, p, s.user, folder, Some(&folder[1..]));
            b.push(b'}');
            kn(b, "SizeInBytes", r.range(3_000, 90_000));
            ks(b, "Subject", subj);
            b.push(b'}');
            if s.op == Op::Update {
                k(b, "ModifiedProperties");
                b.extend_from_slice(match r.below(3) {
                    0 => b"[\"Body\",\"Subject\"]".as_slice(),
                    1 => b"[\"Body\"]",
                    _ => b"[\"Start\",\"End\",\"Location\"]",
                });
            }
            b.push(b'}');
        }
        Op::SoftDelete | Op::MoveToDeleted | Op::HardDelete => {
            exchange_head(p, b, s, &mut r, id, m.op, 3, None);
            let folder = match (s.op, payload) {
                (_, Some(Payload::HardDelete(_))) => "\\Sent Items",
                (Op::MoveToDeleted, _) => "\\Inbox",
                _ => "\\Deleted Items",
            };
            k(b, "AffectedItems");
            b.push(b'[');
            if let Some(Payload::HardDelete(srcs)) = payload {
                for (j, &src) in srcs.iter().enumerate() {
                    if j > 0 {
                        b.push(b',');
                    }
                    if let Some(ss) = p.incident.specs.get(src) {
                        let mm = msg(p, ss);
                        affected(p, ss, &mm, folder, b);
                    }
                }
            } else {
                let n = 1 + r.below(2) * r.below(4);
                for j in 0..n {
                    if j > 0 {
                        b.push(b',');
                    }
                    let mut fake = *s;
                    fake.op = Op::Inbound;
                    fake.seed = r.next();
                    fake.inc = 0;
                    let mm = msg(p, &fake);
                    affected(p, &fake, &mm, folder, b);
                }
            }
            b.push(b']');
            kb(b, "CrossMailboxOperation", false);
            if s.op == Op::MoveToDeleted {
                k(b, "DestFolder");
                b.push(b'{');
                folder_obj(b, p, s.user, "\\Deleted Items");
                b.push(b'}');
            }
            k(b, "Folder");
            b.push(b'{');
            folder_obj(b, p, s.user, folder);
            b.extend_from_slice(b"}}");
        }
        Op::Search => {
            let u = &p.world.users[s.user as usize];
            app_access(b, s);
            iso(b, s.t);
            b.extend_from_slice(b"\",\"Id\":\"");
            guid(b, id);
            b.push(b'"');
            ks(b, "Operation", m.op);
            ks(b, "OrganizationId", ORG_ID);
            kn(b, "RecordType", 101);
            ks(b, "ResultStatus", "Succeeded");
            ks(b, "UserKey", &u.puid);
            kn(b, "UserType", 0);
            kn(b, "Version", 1);
            ks(b, "Workload", "Exchange");
            ks(b, "ClientIP", p.ip_str(s));
            ks(b, "UserId", &u.upn);
            ks(b, "ClientInfoString", client_info(s.client));
            kg(b, "CorrelationId", r.u128());
            kn(b, "LogonType", 0);
            ks(b, "MailboxGuid", &u.mailbox_guid);
            ks(b, "MailboxOwnerUPN", &u.upn);
            ks(b, "QuerySource", "Search");
            let q = match payload {
                Some(Payload::Search(q)) => q,
                _ => *r.pick(&[
                    "rate card",
                    "pallet",
                    "from:harbor",
                    "customs",
                    "timesheet",
                    "PO 4",
                    "meeting notes",
                    "fuel",
                ]),
            };
            ks(b, "QueryText", q);
            if s.client == Client::Owa {
                ks(b, "ScenarioName", "owa.react.mail.search");
            }
            kn(b, "SearchResultCount", r.range(0, 250));
            if s.session != 0 {
                kg(b, "SessionId", s.session);
            }
            b.push(b'}');
        }
        Op::NewInboxRule | Op::SetInboxRule | Op::SetMailbox => {
            admin_cmdlet(p, s, &mut r, id, m.op, payload, b)
        }
        Op::SysSetMailbox | Op::SysSetMailboxPlan => system_cmdlet(p, s, &mut r, id, m.op, b),
        Op::FileAccessed
        | Op::FileModified
        | Op::FilePreviewed
        | Op::FileDownloaded
        | Op::FileUploaded
        | Op::PageViewed => sharepoint(p, s, &mut r, id, m.op, m.rt, b),
        Op::SignIn => sign_in(p, s, id, b),
        Op::TeamsSession | Op::TeamsMessage => teams(p, s, &mut r, id, m.op, b),
        Op::DirUpdateUser | Op::DirAddMember => directory(p, s, &mut r, id, m.op, b),
        Op::Inbound => b.extend_from_slice(b"{}"),
    }
}

fn open_lure_item(p: &Plan, s: &Spec, src: usize, b: &mut Vec<u8>) {
    let Some(ls) = p.incident.specs.get(src) else {
        return;
    };
    let mm = msg(p, ls);
    let mut r = Rng::new(h(s.seed, 0x10e, 0));
    b.extend_from_slice(b"\"FolderItems\":[{\"Id\":\"");
    let mut tmp = Vec::with_capacity(96);
    item_id(&mut tmp, p, s.user, r.next());
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    b.extend_from_slice(b"\",\"InternetMessageId\":\"");
    tmp.clear();
    mm.mid(p, ls.t, &mut tmp);
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    b.push(b'"');
    kn(b, "SizeInBytes", mm.size);
    b.extend_from_slice(b"}],");
}

fn send_item(p: &Plan, s: &Spec, msg: &Msg, b: &mut Vec<u8>) {
    let mut r = Rng::new(h(s.seed, 0x17e, 0));
    k(b, "Item");
    b.extend_from_slice(b"{\"Id\":\"");
    let mut tmp = Vec::with_capacity(96);
    item_id(&mut tmp, p, s.user, r.next());
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    b.extend_from_slice(b"\",\"InternetMessageId\":\"");
    tmp.clear();
    msg.mid(p, s.t, &mut tmp);
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    b.push(b'"');
    kb(b, "IsRecord", false);
    k(b, "ParentFolder");
    b.push(b'{');
    folder_named(b, p, s.user, "\\Sent Items", Some("Sent Items"));
    b.push(b'}');
    kn(b, "SizeInBytes", msg.size);
    tmp.clear();
    msg.subject(&mut tmp);
    ks(b, "Subject", &String::from_utf8_lossy(&tmp));
    b.push(b'}');
}

fn affected(p: &Plan, s: &Spec, msg: &Msg, folder: &str, b: &mut Vec<u8>) {
    let mut r = Rng::new(h(s.seed, 0x17e, 0));
    b.extend_from_slice(b"{\"Id\":\"");
    let mut tmp = Vec::with_capacity(96);
    item_id(&mut tmp, p, s.user, r.next());
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    b.extend_from_slice(b"\",\"InternetMessageId\":\"");
    tmp.clear();
    msg.mid(p, s.t, &mut tmp);
    esc(b, std::str::from_utf8(&tmp).unwrap_or(""));
    b.push(b'"');
    k(b, "ParentFolder");
    b.push(b'{');
    folder_obj(b, p, s.user, folder);
    b.push(b'}');
    tmp.clear();
    msg.subject(&mut tmp);
    ks(b, "Subject", &String::from_utf8_lossy(&tmp));
    b.push(b'}');
}

/// Exchange cmdlets run by a user (OWA/EAC), RecordType 1.
fn admin_cmdlet(
    p: &Plan,
    s: &Spec,
    r: &mut Rng,
    id: u128,
    op: &str,
    payload: Option<&Payload>,
    b: &mut Vec<u8>,
) {
    let u = &p.world.users[s.user as usize];
    let mut ip = String::with_capacity(24);
    ip.push_str(p.ip_str(s));
    ip.push(':');
    ip.push_str(&r.range(49_152, 65_535).to_string());
    let mut obj = String::with_capacity(160);
    obj.push_str(OBJ_PREFIX);
    obj.push_str(&u.object_id);
    let rule_name = match payload {
        Some(Payload::Rule { name, .. }) => Some(*name),
        Some(Payload::Forward) => None,
        _ if s.op == Op::NewInboxRule => Some("Newsletters"),
        _ => None,
    };
    if let Some(n) = rule_name {
        obj.push('\\');
        obj.push_str(n);
    }
    app_access(b, s);
    iso(b, s.t);
    b.extend_from_slice(b"\",\"Id\":\"");
    guid(b, id);
    b.push(b'"');
    ks(b, "Operation", op);
    ks(b, "OrganizationId", ORG_ID);
    kn(b, "RecordType", 1);
    ks(b, "ResultStatus", "True");
    ks(b, "UserKey", &u.puid);
    kn(b, "UserType", if u.admin { 2 } else { 0 });
    kn(b, "Version", 1);
    ks(b, "Workload", "Exchange");
    ks(b, "ClientIP", &ip);
    ks(b, "ObjectId", &obj);
    ks(b, "UserId", &u.upn);
    ks(b, "AppId", RES_EXO.1);
    ks(b, "ClientAppId", "");
    kb(b, "ExternalAccess", false);
    ks(b, "OrganizationName", TENANT_DOMAIN);
    k(b, "OriginatingServer");
    b.push(b'"');
    b.extend_from_slice(u.server.as_bytes());
    b.extend_from_slice(b" (");
    b.extend_from_slice(EXO_BUILD.as_bytes());
    b.extend_from_slice(b")\"");
    k(b, "Parameters");
    b.push(b'[');
    match payload {
        Some(Payload::Rule { params, .. }) => {
            for (j, (n, v)) in params.iter().enumerate() {
                if j > 0 {
                    b.push(b',');
                }
                nv(b, n, v);
            }
        }
        Some(Payload::Forward) => {
            nv(b, "Identity", &u.object_id);
            b.push(b',');
            let fwd = format!("smtp:{FORWARD_TO}");
            nv(b, "ForwardingSmtpAddress", &fwd);
            b.push(b',');
            nv(b, "DeliverToMailboxAndForward", "False");
        }
        _ => {
            nv(b, "AlwaysDeleteOutlookRulesBlob", "False");
            b.push(b',');
            nv(b, "Force", "False");
            b.push(b',');
            nv(b, "From", "newsletter@industryweekly.example");
            b.push(b',');
            nv(b, "MoveToFolder", "Newsletters");
            b.push(b',');
            nv(b, "Name", "Newsletters");
            b.push(b',');
            nv(b, "StopProcessingRules", "False");
        }
    }
    b.push(b']');
    if s.session != 0 {
        kg(b, "SessionId", s.session);
    }
    b.push(b'}');
}

/// Service-side provisioning noise by `NT AUTHORITY\SYSTEM`, RecordType 1.
fn system_cmdlet(p: &Plan, s: &Spec, r: &mut Rng, id: u128, op: &str, b: &mut Vec<u8>) {
    let u = &p.world.users[s.user as usize];
    let mut obj = String::with_capacity(160);
    obj.push_str(OBJ_PREFIX);
    obj.push_str(&u.object_id);
    common(
        b,
        s,
        id,
        op,
        1,
        "True",
        SYSTEM_ACTOR,
        3,
        "Exchange",
        "",
        Some(&obj),
        SYSTEM_ACTOR,
    );
    ks(b, "AppId", "");
    ks(b, "ClientAppId", "");
    kb(b, "ExternalAccess", true);
    ks(b, "OrganizationName", TENANT_DOMAIN);
    let srv = *r.pick(SERVERS);
    k(b, "OriginatingServer");
    b.push(b'"');
    b.extend_from_slice(srv.as_bytes());
    b.extend_from_slice(b" (");
    b.extend_from_slice(EXO_BUILD.as_bytes());
    b.extend_from_slice(b")\"");
    k(b, "Parameters");
    b.push(b'[');
    nv(b, "Identity", &u.object_id);
    if s.op == Op::SysSetMailboxPlan {
        b.push(b',');
        nv(b, "MaxReceiveSize", "36 MB (37,748,736 bytes)");
        b.push(b',');
        nv(b, "MaxSendSize", "35 MB (36,700,160 bytes)");
        b.push(b',');
        nv(b, "RetainDeletedItemsFor", "14.00:00:00");
    } else if r.chance(5000) {
        b.push(b',');
        nv(b, "IssueWarningQuota", "98 GB (105,226,698,752 bytes)");
        b.push(b',');
        nv(b, "ProhibitSendQuota", "99 GB (106,300,440,576 bytes)");
        b.push(b',');
        nv(
            b,
            "ProhibitSendReceiveQuota",
            "100 GB (107,374,182,400 bytes)",
        );
        b.push(b',');
        nv(b, "RecoverableItemsQuota", "30 GB (32,212,254,720 bytes)");
    } else {
        b.push(b',');
        nv(b, "RetentionPolicy", "Default MRM Policy");
        b.push(b',');
        nv(b, "SingleItemRecoveryEnabled", "True");
    }
    b.push(b',');
    nv(b, "Force", "True");
    b.extend_from_slice(b"]}");
}

const SITES: &[&str] = &[
    "Finance",
    "Operations",
    "Sales",
    "HR",
    "Customs Compliance",
    "Marketing",
    "IT Service Desk",
    "Intranet",
    "Fleet",
    "Procurement",
];
const FILES: &[&str] = &[
    "Q1 Forecast v3.xlsx",
    "Fleet Maintenance Log.xlsx",
    "Rate Card 2026.pdf",
    "Customer List.xlsx",
    "Depot Rota February.docx",
    "Board Pack Jan 2026.pptx",
    "Supplier Contracts Register.xlsx",
    "Onboarding Checklist.docx",
    "Customs Tariff Codes.xlsx",
    "Budget 2026 – final.xlsx",
    "Incident Report Template.docx",
    "Pricing Model (do not share).xlsx",
    "Route Plan Week 7.xlsx",
];

fn sharepoint(p: &Plan, s: &Spec, r: &mut Rng, id: u128, op: &str, rt: u32, b: &mut Vec<u8>) {
    let u = &p.world.users[s.user as usize];
    let onedrive = op != "PageViewed" && r.chance(3000);
    let site = *r.pick(SITES);
    let file = if op == "PageViewed" {
        "Home.aspx"
    } else {
        *r.pick(FILES)
    };
    let mut site_url = String::with_capacity(96);
    site_url.push_str("https://");
    let rel = if onedrive {
        site_url.push_str(OD_HOST);
        site_url.push_str("/personal/");
        for c in u.upn.chars() {
            site_url.push(if c == '.' || c == '@' { '_' } else { c });
        }
        site_url.push('/');
        "Documents"
    } else {
        site_url.push_str(SP_HOST);
        site_url.push_str("/sites/");
        site_url.push_str(&site.replace(' ', ""));
        site_url.push('/');
        if op == "PageViewed" {
            "SitePages"
        } else {
            "Shared Documents"
        }
    };
    let object = format!("{site_url}{rel}/{file}");
    let ua = match s.client {
        Client::Ios => "Microsoft SharePoint/4.2 (iPhone; iOS 17.3) OneDrive/15.5",
        Client::Android => "OneDrive-Android/7.3 (Android 14)",
        _ => u.browser.ua(u.os),
    };
    let workload = if onedrive { "OneDrive" } else { "SharePoint" };
    b.extend_from_slice(b"{\"CreationTime\":\"");
    iso(b, s.t);
    b.extend_from_slice(b"\",\"Id\":\"");
    guid(b, id);
    b.push(b'"');
    ks(b, "Operation", op);
    ks(b, "OrganizationId", ORG_ID);
    kn(b, "RecordType", rt as u64);
    let mut key = String::with_capacity(64);
    key.push_str("i:0h.f|membership|");
    key.push_str(&u.puid.to_ascii_lowercase());
    key.push_str("@live.com");
    ks(b, "UserKey", &key);
    kn(b, "UserType", 0);
    kn(b, "Version", 1);
    ks(b, "Workload", workload);
    let ip = p.ip_str(s);
    ks(b, "ClientIP", ip);
    ks(b, "ObjectId", &object);
    ks(b, "UserId", &u.upn);
    ks(b, "ApplicationId", "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7");
    ks(b, "AuthenticationType", "OAuth");
    let (bt, _) = u.browser.names();
    ks(b, "BrowserName", bt);
    ks(b, "BrowserVersion", "122.0.0.0");
    kg(b, "CorrelationId", r.u128());
    ks(b, "EventSource", "SharePoint");
    ks(b, "GeoLocation", "GBR");
    kb(b, "IsManagedDevice", u.os == Os::Windows);
    ks(
        b,
        "ItemType",
        if op == "PageViewed" { "Page" } else { "File" },
    );
    kg(b, "ListId", stable_guid(p, 0x11, &site_url));
    kg(b, "ListItemUniqueId", r.u128());
    ks(
        b,
        "Platform",
        if u.os == Os::Mac {
            "MacOSX"
        } else {
            "WinDesktop"
        },
    );
    kg(b, "Site", stable_guid(p, 0x12, &site_url));
    ks(b, "UserAgent", ua);
    kg(b, "WebId", stable_guid(p, 0x13, &site_url));
    ks(b, "DeviceDisplayName", ip);
    if op != "PageViewed" {
        kn(b, "FileSizeBytes", r.range(20_000, 9_000_000));
        kb(b, "HighPriorityMediaProcessing", false);
        kn(b, "ListBaseType", 1);
        kn(b, "ListServerTemplate", if onedrive { 700 } else { 101 });
        ks(
            b,
            "SourceFileExtension",
            file.rsplit('.').next().unwrap_or(""),
        );
    }
    ks(b, "SiteUrl", &site_url);
    ks(b, "SourceRelativeUrl", rel);
    ks(b, "SourceFileName", file);
    b.push(b'}');
}

/// Sign-in facts shared by the UAL record, the Entra CSV row and the Graph object.
pub struct SignFacts {
    pub ua: &'static str,
    pub app: App,
    pub resource: App,
    pub request_type: &'static str,
    pub os: &'static str,
    pub browser_type: &'static str,
    pub entra_browser: &'static str,
    pub entra_os: &'static str,
    pub client_app: &'static str,
    pub joined: bool,
}

pub fn sign_facts(p: &Plan, s: &Spec) -> SignFacts {
    let u = &p.world.users[s.user as usize];
    let attacker = s.inc != 0;
    let (bt, eb) = u.browser.names();
    let win = u.os == Os::Windows;
    let browser = |app: App, res: App, rt: &'static str| SignFacts {
        ua: if attacker {
            ATTACKER_UA
        } else {
            u.browser.ua(u.os)
        },
        app,
        resource: res,
        request_type: rt,
        os: if attacker || win {
            "Windows10"
        } else {
            "MacOs"
        },
        browser_type: if attacker { "Chrome" } else { bt },
        entra_browser: if attacker { "Chrome 121.0.0" } else { eb },
        entra_os: if attacker || win {
            "Windows10"
        } else {
            "MacOs"
        },
        client_app: "Browser",
        joined: !attacker && win,
    };
    match (s.sk, s.client) {
        (SignKind::Login, _) => browser(APP_OFFICEHOME, RES_GRAPH, "Login:login"),
        (SignKind::Kmsi, _) => browser(APP_OFFICEHOME, RES_GRAPH, "Kmsi:kmsi"),
        (SignKind::Authorize, Client::Owa) => browser(APP_OWA, RES_EXO, "OAuth2:Authorize"),
        (SignKind::Authorize, _) => browser(APP_OFFICEHOME, RES_SPO, "OAuth2:Authorize"),
        (SignKind::Spray, _) => SignFacts {
            ua: SPRAY_UA,
            app: APP_AZ_PS,
            resource: RES_GRAPH,
            request_type: "OAuth2:Token",
            os: "",
            browser_type: "Other",
            entra_browser: "",
            entra_os: "",
            client_app: "Other clients",
            joined: false,
        },
        (SignKind::Refresh, Client::Desktop) => SignFacts {
            ua: OUTLOOK_DESKTOP_UA,
            app: APP_OFFICE,
            resource: RES_EXO,
            request_type: "OAuth2:Token",
            os: "Windows10",
            browser_type: "Other",
            entra_browser: "Rich Client 16.0.17928.20114",
            entra_os: "Windows10",
            client_app: "Mobile Apps and Desktop clients",
            joined: true,
        },
        (SignKind::Refresh, Client::Teams) => SignFacts {
            ua: TEAMS_UA,
            app: APP_TEAMS,
            resource: RES_TEAMS,
            request_type: "OAuth2:Token",
            os: if win { "Windows10" } else { "MacOs" },
            browser_type: "Other",
            entra_browser: "Rich Client 24004.1307.2669",
            entra_os: if win { "Windows10" } else { "MacOs" },
            client_app: "Mobile Apps and Desktop clients",
            joined: win,
        },
        (SignKind::Refresh, c) => SignFacts {
            ua: if c == Client::Ios {
                OUTLOOK_IOS_UA
            } else {
                OUTLOOK_ANDROID_UA
            },
            app: APP_OUTLOOK_MOBILE,
            resource: RES_EXO,
            request_type: "OAuth2:Token",
            os: if c == Client::Ios { "Ios" } else { "Android" },
            browser_type: "Other",
            entra_browser: "Mobile Safari",
            entra_os: if c == Client::Ios { "Ios" } else { "Android" },
            client_app: "Mobile Apps and Desktop clients",
            joined: false,
        },
    }
}

pub fn logon_error(err: u32) -> &'static str {
    match err {
        50126 => "InvalidUserNameOrPassword",
        50074 => "UserStrongAuthClientAuthNRequiredInterrupt",
        50140 => "KmsiInterrupt",
        500121 => "AuthenticationFailedSasError",
        50055 => "InvalidPasswordExpiredPassword",
        53003 => "BlockedByConditionalAccess",
        50053 => "IdsLocked",
        _ => "",
    }
}

pub fn failure_reason(err: u32) -> &'static str {
    match err {
        50126 => "Invalid username or password or Invalid on-premise username or password.",
        50074 => "Strong Authentication is required.",
        50140 => "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
        500121 => "Authentication failed during strong authentication request.",
        50055 => "The password is expired.",
        53003 => "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        50053 => "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        _ => "",
    }
}

/// Stable per-sign-in ids: (request id, correlation id).
pub fn signin_ids(s: &Spec) -> (u128, u128) {
    let mut r = Rng::new(h(s.seed, 0x5191, 0));
    (r.u128(), r.u128())
}

fn sign_in(p: &Plan, s: &Spec, id: u128, b: &mut Vec<u8>) {
    let u = &p.world.users[s.user as usize];
    let f = sign_facts(p, s);
    let ip = p.ip_str(s);
    let (req, corr) = signin_ids(s);
    let m = meta(p, s);
    common(
        b,
        s,
        id,
        m.op,
        15,
        "Success",
        &u.object_id,
        0,
        "AzureActiveDirectory",
        ip,
        Some(f.resource.1),
        m.user,
    );
    kn(b, "AzureActiveDirectoryEventType", 1);
    k(b, "ExtendedProperties");
    b.push(b'[');
    let detail = if s.err == 50140 || s.err == 50074 {
        "Redirect"
    } else {
        "Success"
    };
    nv(b, "ResultStatusDetail", detail);
    b.push(b',');
    nv(b, "UserAgent", f.ua);
    b.push(b',');
    nv(
        b,
        "UserAuthenticationMethod",
        if s.sk == SignKind::Login { "1" } else { "9" },
    );
    b.push(b',');
    nv(b, "RequestType", f.request_type);
    if s.sk == SignKind::Kmsi {
        b.push(b',');
        nv(b, "KeepMeSignedIn", "True");
    }
    b.extend_from_slice(b"],\"ModifiedProperties\":[],\"Actor\":[{\"ID\":\"");
    b.extend_from_slice(u.object_id.as_bytes());
    b.extend_from_slice(b"\",\"Type\":0},{\"ID\":\"");
    esc(b, m.user);
    b.extend_from_slice(b"\",\"Type\":5}]");
    ks(b, "ActorContextId", ORG_ID);
    ks(b, "ActorIpAddress", ip);
    kg(b, "InterSystemsId", corr);
    k(b, "IntraSystemId");
    b.push(b'"');
    request_id(b, req);
    b.push(b'"');
    ks(b, "SupportTicketId", "");
    b.extend_from_slice(b",\"Target\":[{\"ID\":\"");
    b.extend_from_slice(f.resource.1.as_bytes());
    b.extend_from_slice(b"\",\"Type\":0}]");
    ks(b, "TargetContextId", ORG_ID);
    ks(b, "ApplicationId", f.app.1);
    k(b, "DeviceProperties");
    b.push(b'[');
    if f.joined {
        nv(b, "Id", &u.device_id);
        b.push(b',');
        nv(b, "DisplayName", &u.device_name);
        b.push(b',');
    }
    nv(b, "OS", f.os);
    b.push(b',');
    nv(b, "BrowserType", f.browser_type);
    if f.joined {
        b.push(b',');
        nv(b, "TrustType", "1");
    }
    b.push(b',');
    nv(
        b,
        "IsCompliantAndManaged",
        if f.joined { "True" } else { "False" },
    );
    if s.session != 0 {
        b.push(b',');
        b.extend_from_slice(b"{\"Name\":\"SessionId\",\"Value\":\"");
        guid(b, s.session);
        b.extend_from_slice(b"\"}");
    }
    b.push(b']');
    k(b, "ErrorNumber");
    b.push(b'"');
    num(b, s.err as u64);
    b.push(b'"');
    let le = logon_error(s.err);
    if !le.is_empty() {
        ks(b, "LogonError", le);
    }
    b.push(b'}');
}

fn teams(p: &Plan, s: &Spec, r: &mut Rng, id: u128, op: &str, b: &mut Vec<u8>) {
    let u = &p.world.users[s.user as usize];
    let ip = p.ip_str(s);
    common(
        b,
        s,
        id,
        op,
        25,
        "",
        &u.object_id,
        0,
        "MicrosoftTeams",
        ip,
        None,
        &u.upn,
    );
    if s.op == Op::TeamsSession {
        k(b, "ExtraProperties");
        b.extend_from_slice(b"[{\"Key\":\"UserAgent\",\"Value\":\"");
        esc(b, TEAMS_UA);
        b.extend_from_slice(b"\"},{\"Key\":\"TimeZone\",\"Value\":\"Europe\\/London\"},{\"Key\":\"OsName\",\"Value\":\"");
        b.extend_from_slice(if u.os == Os::Mac { b"osx" } else { b"windows" });
        b.extend_from_slice(b"\"},{\"Key\":\"OsVersion\",\"Value\":\"10.0.22631\"},{\"Key\":\"Country\",\"Value\":\"gb\"},{\"Key\":\"ClientName\",\"Value\":\"skypeteams\"},{\"Key\":\"ClientVersion\",\"Value\":\"49\\/24011223715\"},{\"Key\":\"ClientUtcOffsetSeconds\",\"Value\":\"0\"}]");
        k(b, "AppAccessContext");
        b.extend_from_slice(b"{\"AADSessionId\":\"");
        guid(b, s.session | r.u128());
        b.extend_from_slice(b"\"}");
        kg(b, "DeviceId", r.u128());
    } else {
        k(b, "ChatThreadId");
        b.extend_from_slice(b"\"19:");
        hex_lower(b, r.next(), 16);
        hex_lower(b, r.next(), 16);
        b.extend_from_slice(b"@thread.v2\"");
        ks(
            b,
            "CommunicationType",
            if r.chance(6000) {
                "OneOnOne"
            } else {
                "GroupChat"
            },
        );
        k(b, "MessageId");
        b.push(b'"');
        num(b, 1_770_000_000_000 + (s.t as u64) * 1000 + r.below(1000));
        b.push(b'"');
        kn(b, "MessageSizeInBytes", r.range(200, 9_000));
        kn(b, "MessageVersion", 1);
        k(b, "Members");
        b.push(b'[');
        let n = 2 + r.below(4);
        for j in 0..n {
            if j > 0 {
                b.push(b',');
            }
            let who = if j == 0 { s.user } else { p.world.pick_user(r) };
            let m = &p.world.users[who as usize];
            b.extend_from_slice(b"{\"DisplayName\":\"");
            esc(b, &m.display);
            b.extend_from_slice(b"\",\"Role\":1,\"UPN\":\"");
            esc(b, &m.upn);
            b.extend_from_slice(b"\"}");
        }
        b.push(b']');
        ks(b, "ResourceTenantId", ORG_ID);
        ks(b, "TeamGuid", "");
    }
    b.push(b'}');
}

fn user_refs(b: &mut Vec<u8>, u: &User) {
    b.extend_from_slice(b"[{\"ID\":\"User_");
    b.extend_from_slice(u.object_id.as_bytes());
    b.extend_from_slice(b"\",\"Type\":2},{\"ID\":\"");
    b.extend_from_slice(u.object_id.as_bytes());
    b.extend_from_slice(b"\",\"Type\":2},{\"ID\":\"User\",\"Type\":2},{\"ID\":\"");
    esc(b, &u.upn);
    b.extend_from_slice(b"\",\"Type\":5},{\"ID\":\"");
    b.extend_from_slice(u.puid.as_bytes());
    b.extend_from_slice(b"\",\"Type\":3}]");
}

fn directory(p: &Plan, s: &Spec, r: &mut Rng, id: u128, op: &str, b: &mut Vec<u8>) {
    let u = &p.world.users[s.user as usize];
    let (actor_key, actor_id, ip) = if s.op == Op::DirUpdateUser {
        (
            "10032001A3B4C5D6@northwindlogistics.onmicrosoft.com".to_string(),
            SYNC_ACCOUNT,
            "",
        )
    } else {
        (
            format!("{}@{TENANT_DOMAIN}", u.puid),
            u.upn.as_str(),
            p.ip_str(s),
        )
    };
    let target = if s.op == Op::DirUpdateUser {
        s.user
    } else {
        p.world.pick_user(r)
    };
    let tu = &p.world.users[target as usize];
    let mut obj = String::with_capacity(40);
    obj.push_str(&tu.upn);
    common(
        b,
        s,
        id,
        op,
        8,
        "Success",
        &actor_key,
        0,
        "AzureActiveDirectory",
        ip,
        Some(&obj),
        actor_id,
    );
    kn(b, "AzureActiveDirectoryEventType", 1);
    k(b, "ExtendedProperties");
    b.push(b'[');
    nv(
        b,
        "additionalDetails",
        if s.op == Op::DirUpdateUser {
            "{}"
        } else {
            "{\"User-Agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36\"}"
        },
    );
    b.push(b',');
    nv(
        b,
        "extendedAuditEventCategory",
        if s.op == Op::DirUpdateUser {
            "User"
        } else {
            "Group"
        },
    );
    b.push(b']');
    k(b, "ModifiedProperties");
    b.push(b'[');
    if s.op == Op::DirUpdateUser {
        let mut newv = Vec::with_capacity(40);
        newv.extend_from_slice(b"[\r\n  \"");
        iso_z(&mut newv, s.t - 30);
        newv.extend_from_slice(b"\"\r\n]");
        let mut oldv = Vec::with_capacity(40);
        oldv.extend_from_slice(b"[\r\n  \"");
        iso_z(&mut oldv, s.t - 1830);
        oldv.extend_from_slice(b"\"\r\n]");
        b.extend_from_slice(b"{\"Name\":\"LastDirSyncTime\",\"NewValue\":\"");
        esc(b, &String::from_utf8_lossy(&newv));
        b.extend_from_slice(b"\",\"OldValue\":\"");
        esc(b, &String::from_utf8_lossy(&oldv));
        b.extend_from_slice(b"\"},{\"Name\":\"Included Updated Properties\",\"NewValue\":\"LastDirSyncTime\",\"OldValue\":\"\"}");
    } else {
        let g = *r.pick(&[
            "Finance Team",
            "All Staff",
            "Depot Managers",
            "Sales EMEA",
            "VPN Users",
        ]);
        b.extend_from_slice(b"{\"Name\":\"Group.ObjectID\",\"NewValue\":\"");
        guid(b, stable_guid(p, 0x6a0, g));
        b.extend_from_slice(
            b"\",\"OldValue\":\"\"},{\"Name\":\"Group.DisplayName\",\"NewValue\":\"",
        );
        esc(b, g);
        b.extend_from_slice(b"\",\"OldValue\":\"\"}");
    }
    b.push(b']');
    k(b, "Actor");
    if s.op == Op::DirUpdateUser {
        b.extend_from_slice(b"[{\"ID\":\"");
        esc(b, SYNC_ACCOUNT);
        b.extend_from_slice(b"\",\"Type\":5}]");
    } else {
        user_refs(b, u);
    }
    ks(b, "ActorContextId", ORG_ID);
    ks(b, "ActorIpAddress", ip);
    kg(b, "InterSystemsId", r.u128());
    k(b, "IntraSystemId");
    b.push(b'"');
    request_id(b, r.u128());
    b.push(b'"');
    ks(b, "SupportTicketId", "");
    k(b, "Target");
    user_refs(b, tu);
    ks(b, "TargetContextId", ORG_ID);
    b.push(b'}');
}

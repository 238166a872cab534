//! The exports, each in its real shape (formats.md A1, A3, A4, C1/C3, C5, D1, D2). Each sink
//! walks the plan on its own (records are pure functions of the seed), streams through a
//! `BufWriter`, and returns how many records it wrote.

use crate::audit::*;
use crate::incident::{Addr, FORWARD_MX, FORWARD_TO, REPLAY_IP, VPS_IP, VPS_IP2};
use crate::model::{Ip, Op, Plan, SignKind, Spec, DAYS, MINUTES};
use crate::out::*;
use crate::world::*;
use std::io::{self, Write};

pub type Out<'a> = &'a mut dyn Write;

const RUNSPACE: &str = "8b0e3c47-5d2a-4f19-a6c3-2e7d91b05f68";

/// Which users each scoped export covers, and its time window (day indices, end exclusive).
pub struct Scope {
    pub users: Vec<bool>,
    pub days: (u32, u32),
}

/// Records per day for a filter (the PowerShell exports print the window's ResultCount).
fn day_counts(p: &Plan, want: &dyn Fn(u32, Op) -> bool) -> io::Result<Vec<u64>> {
    let mut c = vec![0u64; DAYS as usize];
    p.walk(0, MINUTES, false, want, &mut |s| {
        if let Some(x) = c.get_mut((s.t.div_euclid(86_400)) as usize) {
            *x += 1;
        }
        Ok(())
    })?;
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// A1 Purview portal export.

/// Purview: all users, all UAL records, oldest first. The real portal caps an export at 50,000
/// rows; this benchmark ignores the cap on purpose, to exercise parsing at scale.
pub fn purview(p: &Plan, w: Out) -> io::Result<u64> {
    w.write_all(b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n")?;
    let mut aud = Vec::with_capacity(8192);
    let mut line = Vec::with_capacity(16384);
    let mut n = 0u64;
    let want = |_: u32, op: Op| op.in_ual();
    p.walk(0, MINUTES, false, &want, &mut |s| {
        aud.clear();
        audit(p, s, &mut aud);
        let m = meta(p, s);
        line.clear();
        guid(&mut line, m.id);
        line.push(b',');
        us(&mut line, s.t);
        line.push(b',');
        num(&mut line, m.rt as u64);
        line.push(b',');
        csv_min(&mut line, m.op.as_bytes());
        line.push(b',');
        csv_min(&mut line, m.user.as_bytes());
        line.push(b',');
        csv_q(&mut line, &aud);
        line.extend_from_slice(b",,\r\n");
        n += 1;
        w.write_all(&line)
    })?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// A3 Search-UnifiedAuditLog | Export-Csv (PowerShell 7: UTF-8 without BOM, every field quoted).

pub fn sual_csv(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    let want = |u: u32, op: Op| op.in_ual() && sc.users[u as usize];
    let counts = day_counts(p, &want)?;
    w.write_all(b"\"RunspaceId\",\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\n")?;
    let mut aud = Vec::with_capacity(8192);
    let mut line = Vec::with_capacity(16384);
    let mut n = 0u64;
    let mut day = -1i64;
    let mut idx = 0u64;
    p.walk(0, MINUTES, false, &want, &mut |s| {
        let d = s.t.div_euclid(86_400);
        if d != day {
            day = d;
            idx = 0;
        }
        idx += 1;
        aud.clear();
        audit(p, s, &mut aud);
        let m = meta(p, s);
        line.clear();
        line.push(b'"');
        line.extend_from_slice(RUNSPACE.as_bytes());
        line.extend_from_slice(b"\",\"");
        line.extend_from_slice(record_type_name(m.rt).as_bytes());
        line.extend_from_slice(b"\",\"");
        us(&mut line, s.t);
        line.extend_from_slice(b"\",");
        csv_q(&mut line, m.user.as_bytes());
        line.push(b',');
        csv_q(&mut line, m.op.as_bytes());
        line.push(b',');
        csv_q(&mut line, &aud);
        line.extend_from_slice(b",\"");
        num(&mut line, idx);
        line.extend_from_slice(b"\",\"");
        num(&mut line, counts.get(d as usize).copied().unwrap_or(idx));
        line.extend_from_slice(b"\",\"");
        guid(&mut line, m.id);
        line.extend_from_slice(b"\",\"True\",\"Unchanged\"\r\n");
        n += 1;
        w.write_all(&line)
    })?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// A4 Microsoft-Extractor-Suite `Get-UAL -Output JSON` under PowerShell 7: one window per day,
// `ConvertTo-Json -Depth 100 | Out-File -Append`, so the file is concatenated arrays.

pub fn extractor_json(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    let want = |u: u32, op: Op| op.in_ual() && sc.users[u as usize];
    let counts = day_counts(p, &want)?;
    let mut aud = Vec::with_capacity(8192);
    let mut line = Vec::with_capacity(32768);
    let mut n = 0u64;
    let mut day = -1i64;
    let mut idx = 0u64;
    p.walk(0, MINUTES, false, &want, &mut |s| {
        let d = s.t.div_euclid(86_400);
        line.clear();
        if d != day {
            if day >= 0 {
                line.extend_from_slice(b"\r\n]\r\n");
            }
            line.extend_from_slice(b"[\r\n");
            day = d;
            idx = 0;
        } else {
            line.extend_from_slice(b",\r\n");
        }
        idx += 1;
        aud.clear();
        audit(p, s, &mut aud);
        let m = meta(p, s);
        line.extend_from_slice(b"  {\r\n    \"RunspaceId\": \"");
        line.extend_from_slice(RUNSPACE.as_bytes());
        line.extend_from_slice(b"\",\r\n    \"RecordType\": \"");
        line.extend_from_slice(record_type_name(m.rt).as_bytes());
        line.extend_from_slice(b"\",\r\n    \"CreationDate\": \"");
        iso(&mut line, s.t);
        line.extend_from_slice(b"\",\r\n    \"UserIds\": \"");
        esc_plain(&mut line, m.user);
        line.extend_from_slice(b"\",\r\n    \"Operations\": \"");
        esc_plain(&mut line, m.op);
        line.extend_from_slice(b"\",\r\n    \"AuditData\": ");
        ps7_pretty(&mut line, &aud, 4);
        line.extend_from_slice(b",\r\n    \"ResultIndex\": ");
        num(&mut line, idx);
        line.extend_from_slice(b",\r\n    \"ResultCount\": ");
        num(&mut line, counts.get(d as usize).copied().unwrap_or(idx));
        line.extend_from_slice(b",\r\n    \"Identity\": \"");
        guid(&mut line, m.id);
        line.extend_from_slice(
            b"\",\r\n    \"IsValid\": true,\r\n    \"ObjectState\": \"Unchanged\"\r\n  }",
        );
        n += 1;
        w.write_all(&line)
    })?;
    if day >= 0 {
        w.write_all(b"\r\n]\r\n")?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// A4 NDJSON: one compact AuditData object per line (Extractor-Suite `-Output SOF-ELK`).

pub fn ual_ndjson(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    let want = |u: u32, op: Op| op.in_ual() && sc.users[u as usize];
    let mut aud = Vec::with_capacity(8192);
    let mut line = Vec::with_capacity(8192);
    let mut n = 0u64;
    p.walk(0, MINUTES, false, &want, &mut |s| {
        aud.clear();
        audit(p, s, &mut aud);
        line.clear();
        unslash(&mut line, &aud);
        line.push(b'\n');
        n += 1;
        w.write_all(&line)
    })?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// C1/C3 Get-MessageTraceV2 | Export-Csv (PowerShell 7), one row per recipient, newest first.

struct TraceRow<'a> {
    rcpt: &'a Addr,
    status: &'static str,
    to_ip: String,
    event: &'static str,
}

/// What happened to each copy of a message (V2 status, ToIP, EAC event list).
fn fates<'a>(p: &Plan, s: &Spec, m: &'a Msg, fwd: &'a Addr) -> Vec<TraceRow<'a>> {
    let inc = &p.incident;
    let mut v = Vec::with_capacity(m.rcpts.len() + 1);
    for rc in m.rcpts.iter() {
        match rc {
            Addr::User(u) if *u == inc.v1 && m.incoming && !m.spam && s.t >= inc.forward_at => {
                v.push(TraceRow {
                    rcpt: rc,
                    status: "Resolved",
                    to_ip: String::new(),
                    event: "Receive, Resolve",
                });
                v.push(TraceRow {
                    rcpt: fwd,
                    status: "Delivered",
                    to_ip: FORWARD_MX.to_string(),
                    event: "Receive, Send",
                });
            }
            Addr::User(_) if m.spam => v.push(TraceRow {
                rcpt: rc,
                status: "FilteredAsSpam",
                to_ip: String::new(),
                event: "Receive, Deliver",
            }),
            Addr::User(_) => v.push(TraceRow {
                rcpt: rc,
                status: "Delivered",
                to_ip: String::new(),
                event: "Receive, Deliver",
            }),
            Addr::Partner(pi, _) => v.push(TraceRow {
                rcpt: rc,
                status: if (m.trace_id as u64) % 400 == 0 {
                    "Failed"
                } else {
                    "Delivered"
                },
                to_ip: partner_ip(*pi as usize),
                event: "Receive, Send",
            }),
            Addr::Lit(_) => v.push(TraceRow {
                rcpt: rc,
                status: "Delivered",
                to_ip: "198.51.100.144".to_string(),
                event: "Receive, Send",
            }),
        }
    }
    v
}

fn is_mail(op: Op) -> bool {
    op == Op::Send || op == Op::Inbound
}

pub fn trace_v2(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    w.write_all(b"\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageId\",\"MessageTraceId\",\"Organization\"\r\n")?;
    let want = |_: u32, op: Op| is_mail(op);
    let mut line = Vec::with_capacity(4096);
    let mut tmp = Vec::with_capacity(512);
    let mut ipbuf = String::new();
    let fwd = Addr::Lit(FORWARD_TO);
    let mut n = 0u64;
    p.walk(sc.days.0 * 1440, sc.days.1 * 1440, true, &want, &mut |s| {
        let m = msg(p, s);
        line.clear();
        let from_ip = m.sender_ip(p, s, &mut ipbuf).to_string();
        for row in fates(p, s, &m, &fwd) {
            line.push(b'"');
            us(&mut line, s.t);
            line.extend_from_slice(b"\",");
            tmp.clear();
            addr(p, &m.sender, &mut tmp);
            csv_q(&mut line, &tmp);
            line.push(b',');
            tmp.clear();
            addr(p, row.rcpt, &mut tmp);
            csv_q(&mut line, &tmp);
            line.push(b',');
            tmp.clear();
            m.subject(&mut tmp);
            csv_q(&mut line, &tmp);
            line.extend_from_slice(b",\"");
            line.extend_from_slice(row.status.as_bytes());
            line.extend_from_slice(b"\",\"");
            line.extend_from_slice(row.to_ip.as_bytes());
            line.extend_from_slice(b"\",\"");
            line.extend_from_slice(from_ip.as_bytes());
            line.extend_from_slice(b"\",\"");
            num(&mut line, m.size);
            line.extend_from_slice(b"\",");
            tmp.clear();
            m.mid(p, s.t, &mut tmp);
            csv_q(&mut line, &tmp);
            line.extend_from_slice(b",\"");
            guid(&mut line, m.trace_id);
            line.extend_from_slice(b"\",\"");
            line.extend_from_slice(TENANT_DOMAIN.as_bytes());
            line.extend_from_slice(b"\"\r\n");
            n += 1;
        }
        w.write_all(&line)
    })?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// C5 EAC historical search, summary report: UTF-16LE with BOM, every field quoted, one row per
// message, newest first.

pub fn eac_summary(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    let mut line = Vec::with_capacity(4096);
    let mut wide = Vec::with_capacity(8192);
    let mut tmp = Vec::with_capacity(512);
    let mut ipbuf = String::new();
    let fwd = Addr::Lit(FORWARD_TO);
    let header = b"\"origin_timestamp_utc\",\"sender_address\",\"recipient_status\",\"message_subject\",\"total_bytes\",\"message_id\",\"network_message_id\",\"original_client_ip\",\"directionality\",\"connector_id\",\"delivery_priority\"\r\n";
    w.write_all(&[0xff, 0xfe])?;
    utf16le(&mut wide, header);
    w.write_all(&wide)?;
    let want = |_: u32, op: Op| is_mail(op);
    let mut n = 0u64;
    p.walk(sc.days.0 * 1440, sc.days.1 * 1440, true, &want, &mut |s| {
        let m = msg(p, s);
        line.clear();
        line.push(b'"');
        iso7_z(&mut line, s.t, (m.trace_id % 10_000_000) as u32);
        line.extend_from_slice(b"\",");
        tmp.clear();
        addr(p, &m.sender, &mut tmp);
        csv_q(&mut line, &tmp);
        line.push(b',');
        tmp.clear();
        for (j, row) in fates(p, s, &m, &fwd).iter().enumerate() {
            if j > 0 {
                tmp.push(b';');
            }
            addr(p, row.rcpt, &mut tmp);
            tmp.extend_from_slice(b"##");
            tmp.extend_from_slice(row.event.as_bytes());
        }
        csv_q(&mut line, &tmp);
        line.push(b',');
        tmp.clear();
        m.subject(&mut tmp);
        csv_q(&mut line, &tmp);
        line.extend_from_slice(b",\"");
        num(&mut line, m.size);
        line.extend_from_slice(b"\",");
        tmp.clear();
        m.mid(p, s.t, &mut tmp);
        csv_q(&mut line, &tmp);
        line.extend_from_slice(b",\"");
        guid(&mut line, m.trace_id);
        line.extend_from_slice(b"\",\"");
        line.extend_from_slice(m.sender_ip(p, s, &mut ipbuf).as_bytes());
        line.extend_from_slice(if m.incoming {
            b"\",\"Incoming\",\"\",\"Normal\"\r\n".as_slice()
        } else {
            b"\",\"Originating\",\"\",\"Normal\"\r\n"
        });
        wide.clear();
        utf16le(&mut wide, &line);
        n += 1;
        w.write_all(&wide)
    })?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Sign-ins: geography of an IP, for the Entra exports.

pub struct Geo {
    pub city: &'static str,
    pub state: &'static str,
    pub cc: &'static str,
    pub asn: u32,
    pub lat: &'static str,
    pub lon: &'static str,
}

fn geo(p: &Plan, s: &Spec) -> Geo {
    let u = &p.world.users[s.user as usize];
    let home = p.world.office_of(s.user);
    let at = |o: &'static Office, lat, lon| Geo {
        city: o.city,
        state: o.state,
        cc: o.cc,
        asn: o.asn,
        lat,
        lon,
    };
    match s.ip {
        Ip::Office(o, _) => {
            let off = &OFFICES[o as usize];
            let (lat, lon) = coords(off.city);
            at(off, lat, lon)
        }
        Ip::Home | Ip::Mobile => {
            let (lat, lon) = coords(home.city);
            let mut g = at(home, lat, lon);
            g.asn = if s.ip == Ip::Mobile {
                12576
            } else if u.home_ip.contains(':') {
                5607
            } else {
                2856
            };
            g
        }
        Ip::Spray(k) => {
            const SPRAY_GEO: &[(&str, &str, &str, u32, &str, &str)] = &[
                (
                    "Ho Chi Minh City",
                    "Ho Chi Minh",
                    "VN",
                    7552,
                    "10.8231",
                    "106.6297",
                ),
                (
                    "São Paulo",
                    "São Paulo",
                    "BR",
                    28573,
                    "-23.5505",
                    "-46.6333",
                ),
                ("Lagos", "Lagos", "NG", 37148, "6.5244", "3.3792"),
                (
                    "Amsterdam",
                    "Noord-Holland",
                    "NL",
                    60781,
                    "52.3676",
                    "4.9041",
                ),
                (
                    "Frankfurt am Main",
                    "Hesse",
                    "DE",
                    24940,
                    "50.1109",
                    "8.6821",
                ),
            ];
            let g = SPRAY_GEO[k as usize % SPRAY_GEO.len()];
            Geo {
                city: g.0,
                state: g.1,
                cc: g.2,
                asn: g.3,
                lat: g.4,
                lon: g.5,
            }
        }
        Ip::Fixed(ip) if ip == VPS_IP || ip == VPS_IP2 => Geo {
            city: "Linköping",
            state: "Östergötlands län",
            cc: "SE",
            asn: 29518,
            lat: "58.4167",
            lon: "15.6167",
        },
        Ip::Fixed(ip) if ip == REPLAY_IP => Geo {
            city: "Changchun",
            state: "Jilin Sheng",
            cc: "CN",
            asn: 4837,
            lat: "43.88",
            lon: "125.3228",
        },
        _ => {
            let (lat, lon) = coords(home.city);
            at(home, lat, lon)
        }
    }
}

fn coords(city: &str) -> (&'static str, &'static str) {
    match city {
        "London" => ("51.5142", "-0.0931"),
        "Manchester" => ("53.4809", "-2.2374"),
        "Milton" => ("47.2513", "-122.3149"),
        _ => ("51.9617", "1.3513"),
    }
}

fn signin_status(err: u32) -> &'static str {
    match err {
        0 => "Success",
        50074 | 50140 => "Interrupted",
        _ => "Failure",
    }
}

fn is_interactive_signin(s: &Spec) -> bool {
    s.op == Op::SignIn && s.sk.interactive()
}

// ---------------------------------------------------------------------------------------------
// D1 Entra portal CSV download (interactive sign-ins): UTF-8 BOM, LF, minimal quoting, newest first.

pub const ENTRA_HEADER: &str = "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,Incoming token type,Authentication Protocol,Unique token identifier,Original transfer method,Client credential type,Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,Session ID,IP address (seen by resource),Through Global Secure Access,Global Secure Access IP address,Autonomous system  number,Flagged for review,Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer";

fn mfa_cols(s: &Spec) -> (&'static str, &'static str, &'static str) {
    match s.err {
        50126 | 50053 | 50055 => ("", "", "Single-factor authentication"),
        50074 | 53003 => ("", "", "Multifactor authentication"),
        500121 => (
            "Authentication failed",
            "Mobile app notification",
            "Multifactor authentication",
        ),
        _ if s.sk == SignKind::Spray => ("", "", "Single-factor authentication"),
        _ if s.sk == SignKind::Login => (
            "MFA successfully completed",
            "Mobile app notification",
            "Multifactor authentication",
        ),
        _ => (
            "MFA requirement satisfied by claim in the token",
            "",
            "Multifactor authentication",
        ),
    }
}

pub fn entra_csv(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    w.write_all(&[0xef, 0xbb, 0xbf])?;
    w.write_all(ENTRA_HEADER.as_bytes())?;
    w.write_all(b"\n")?;
    let want = |_: u32, op: Op| op == Op::SignIn;
    let mut line = Vec::with_capacity(4096);
    let mut tmp = Vec::with_capacity(256);
    let mut n = 0u64;
    p.walk(sc.days.0 * 1440, sc.days.1 * 1440, true, &want, &mut |s| {
        if !is_interactive_signin(s) {
            return Ok(());
        }
        let u = &p.world.users[s.user as usize];
        let f = sign_facts(p, s);
        let g = geo(p, s);
        let (req, corr) = signin_ids(s);
        let (mfa_res, mfa_method, requirement) = mfa_cols(s);
        let m = meta(p, s);
        line.clear();
        let c = |line: &mut Vec<u8>| line.push(b',');
        iso_z(&mut line, s.t);
        c(&mut line);
        request_id(&mut line, req);
        c(&mut line);
        csv_min(&mut line, f.ua.as_bytes());
        c(&mut line);
        guid(&mut line, corr);
        c(&mut line);
        line.extend_from_slice(u.object_id.as_bytes());
        c(&mut line);
        csv_min(&mut line, u.display.as_bytes());
        c(&mut line);
        line.extend_from_slice(u.upn.as_bytes());
        line.extend_from_slice(b",Member,None,None,None,");
        if s.token != 0 && signin_ok(s) && s.err == 0 {
            token(&mut line, s.token);
        }
        line.extend_from_slice(b",None,None,Unbound,,");
        csv_min(&mut line, f.app.0.as_bytes());
        c(&mut line);
        line.extend_from_slice(f.app.1.as_bytes());
        c(&mut line);
        line.extend_from_slice(MS_TENANT.as_bytes());
        c(&mut line);
        csv_min(&mut line, f.resource.0.as_bytes());
        c(&mut line);
        line.extend_from_slice(f.resource.1.as_bytes());
        c(&mut line);
        line.extend_from_slice(ORG_ID.as_bytes());
        c(&mut line);
        line.extend_from_slice(MS_TENANT.as_bytes());
        c(&mut line);
        line.extend_from_slice(ORG_ID.as_bytes());
        c(&mut line);
        line.extend_from_slice(TENANT_NAME.as_bytes());
        c(&mut line);
        line.extend_from_slice(p.ip_str(s).as_bytes());
        c(&mut line);
        tmp.clear();
        tmp.extend_from_slice(g.city.as_bytes());
        tmp.extend_from_slice(b", ");
        tmp.extend_from_slice(g.state.as_bytes());
        tmp.extend_from_slice(b", ");
        tmp.extend_from_slice(g.cc.as_bytes());
        csv_min(&mut line, &tmp);
        c(&mut line);
        line.extend_from_slice(signin_status(s.err).as_bytes());
        c(&mut line);
        num(&mut line, s.err as u64);
        c(&mut line);
        csv_min(&mut line, failure_reason(s.err).as_bytes());
        c(&mut line);
        line.extend_from_slice(f.client_app.as_bytes());
        c(&mut line);
        if f.joined {
            line.extend_from_slice(u.device_id.as_bytes());
        }
        c(&mut line);
        line.extend_from_slice(f.entra_browser.as_bytes());
        c(&mut line);
        line.extend_from_slice(f.entra_os.as_bytes());
        line.extend_from_slice(if f.joined {
            b",True,True,Microsoft Entra joined,"
        } else {
            b",False,False,,"
        });
        line.extend_from_slice(mfa_res.as_bytes());
        c(&mut line);
        line.extend_from_slice(mfa_method.as_bytes());
        line.extend_from_slice(b",,");
        line.extend_from_slice(requirement.as_bytes());
        c(&mut line);
        line.extend_from_slice(m.user.as_bytes());
        c(&mut line);
        if s.session != 0 {
            guid(&mut line, s.session);
        }
        line.extend_from_slice(b",,No,,");
        num(&mut line, g.asn as u64);
        line.extend_from_slice(b",No,AzureAD,None,,");
        num(&mut line, 40 + (req as u64 % 400));
        c(&mut line);
        line.extend_from_slice(match s.err {
            53003 => b"Failure".as_slice(),
            50126 | 50053 | 50055 => b"Not Applied",
            _ => b"Success",
        });
        line.extend_from_slice(b",,,,\n");
        n += 1;
        w.write_all(&line)
    })?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// D2 Graph beta `auditLogs/signIns` responses, one page (≤ 1000) per line, appended.

fn js(b: &mut Vec<u8>, key: &str, v: &str) {
    b.extend_from_slice(b",\"");
    b.extend_from_slice(key.as_bytes());
    b.extend_from_slice(b"\":\"");
    esc_plain(b, v);
    b.push(b'"');
}

fn jr(b: &mut Vec<u8>, key: &str, raw: &[u8]) {
    b.extend_from_slice(b",\"");
    b.extend_from_slice(key.as_bytes());
    b.extend_from_slice(b"\":");
    b.extend_from_slice(raw);
}

fn graph_obj(p: &Plan, s: &Spec, b: &mut Vec<u8>) {
    let u = &p.world.users[s.user as usize];
    let f = sign_facts(p, s);
    let g = geo(p, s);
    let (req, corr) = signin_ids(s);
    let (mfa_res, mfa_method, requirement) = mfa_cols(s);
    let m = meta(p, s);
    b.extend_from_slice(b"{\"id\":\"");
    request_id(b, req);
    b.extend_from_slice(b"\",\"createdDateTime\":\"");
    iso_z(b, s.t);
    b.push(b'"');
    js(b, "userDisplayName", &u.display);
    js(b, "userPrincipalName", &u.upn);
    js(b, "userId", &u.object_id);
    js(b, "appId", f.app.1);
    js(b, "appDisplayName", f.app.0);
    js(b, "ipAddress", p.ip_str(s));
    jr(b, "ipAddressFromResourceProvider", b"null");
    js(b, "clientAppUsed", f.client_app);
    js(b, "userAgent", f.ua);
    b.extend_from_slice(b",\"correlationId\":\"");
    guid(b, corr);
    b.push(b'"');
    js(
        b,
        "conditionalAccessStatus",
        match s.err {
            53003 => "failure",
            50126 | 50053 | 50055 => "notApplied",
            _ => "success",
        },
    );
    b.extend_from_slice(b",\"originalRequestId\":\"");
    request_id(b, req);
    b.push(b'"');
    jr(b, "isInteractive", b"true");
    js(b, "tokenIssuerName", "");
    js(b, "tokenIssuerType", "AzureAD");
    js(b, "clientCredentialType", "none");
    b.extend_from_slice(b",\"processingTimeInMilliseconds\":");
    num(b, 40 + (req as u64 % 400));
    b.extend_from_slice(b",\"riskDetail\":\"none\",\"riskLevelAggregated\":\"none\",\"riskLevelDuringSignIn\":\"none\",\"riskState\":\"none\",\"riskEventTypes\":[],\"riskEventTypes_v2\":[]");
    js(b, "resourceDisplayName", f.resource.0);
    js(b, "resourceId", f.resource.1);
    js(b, "resourceTenantId", ORG_ID);
    js(b, "homeTenantId", ORG_ID);
    js(b, "homeTenantName", TENANT_NAME);
    jr(b, "authenticationMethodsUsed", b"[]");
    js(
        b,
        "authenticationRequirement",
        if requirement.starts_with("Single") {
            "singleFactorAuthentication"
        } else {
            "multiFactorAuthentication"
        },
    );
    js(b, "signInIdentifier", m.user);
    js(b, "signInIdentifierType", "userPrincipalName");
    jr(b, "servicePrincipalName", b"null");
    js(b, "userType", "member");
    jr(b, "flaggedForReview", b"false");
    jr(b, "isTenantRestricted", b"false");
    b.extend_from_slice(b",\"autonomousSystemNumber\":");
    num(b, g.asn as u64);
    js(b, "crossTenantAccessType", "none");
    b.extend_from_slice(b",\"uniqueTokenIdentifier\":\"");
    if s.token != 0 && s.err == 0 {
        token(b, s.token);
    }
    b.push(b'"');
    js(b, "incomingTokenType", "none");
    js(
        b,
        "authenticationProtocol",
        if s.sk == SignKind::Spray {
            "ropc"
        } else {
            "none"
        },
    );
    b.extend_from_slice(b",\"sessionId\":\"");
    if s.session != 0 {
        guid(b, s.session);
    }
    b.push(b'"');
    js(b, "originalTransferMethod", "none");
    jr(b, "signInEventTypes", b"[\"interactiveUser\"]");
    b.extend_from_slice(b",\"status\":{\"errorCode\":");
    num(b, s.err as u64);
    js(
        b,
        "failureReason",
        if s.err == 0 {
            "Other."
        } else {
            failure_reason(s.err)
        },
    );
    if s.err == 0 && !mfa_res.is_empty() {
        js(b, "additionalDetails", mfa_res);
    } else {
        jr(b, "additionalDetails", b"null");
    }
    b.extend_from_slice(b"},\"deviceDetail\":{\"deviceId\":\"");
    if f.joined {
        b.extend_from_slice(u.device_id.as_bytes());
        b.extend_from_slice(b"\",\"displayName\":\"");
        esc_plain(b, &u.device_name);
        b.push(b'"');
    } else {
        b.extend_from_slice(b"\",\"displayName\":null");
    }
    js(b, "operatingSystem", f.entra_os);
    js(b, "browser", f.entra_browser);
    jr(b, "isCompliant", if f.joined { b"true" } else { b"false" });
    jr(b, "isManaged", if f.joined { b"true" } else { b"false" });
    if f.joined {
        js(b, "trustType", "Azure AD joined");
    } else {
        jr(b, "trustType", b"null");
    }
    b.extend_from_slice(b"},\"location\":{\"city\":\"");
    esc_plain(b, g.city);
    b.push(b'"');
    js(b, "state", g.state);
    js(b, "countryOrRegion", g.cc);
    b.extend_from_slice(b",\"geoCoordinates\":{\"altitude\":null,\"latitude\":");
    b.extend_from_slice(g.lat.as_bytes());
    b.extend_from_slice(b",\"longitude\":");
    b.extend_from_slice(g.lon.as_bytes());
    b.extend_from_slice(b"}},\"mfaDetail\":{\"authMethod\":");
    if mfa_method.is_empty() {
        b.extend_from_slice(b"null");
    } else {
        b.push(b'"');
        b.extend_from_slice(mfa_method.as_bytes());
        b.push(b'"');
    }
    b.extend_from_slice(b",\"authDetail\":null},\"appliedConditionalAccessPolicies\":[{\"id\":\"0f4e9a7c-3b21-4d8e-a6f5-92c1e7b04d38\",\"displayName\":\"Require MFA for all users\",\"enforcedGrantControls\":[\"Mfa\"],\"enforcedSessionControls\":[],\"result\":\"");
    b.extend_from_slice(match s.err {
        50126 | 50053 | 50055 => b"notApplied".as_slice(),
        53003 | 500121 => b"failure",
        _ => b"success",
    });
    b.extend_from_slice(b"\"}],\"authenticationDetails\":[{\"authenticationStepDateTime\":\"");
    iso_z(b, s.t);
    let pw = s.sk == SignKind::Login || s.sk == SignKind::Spray || s.err == 50126;
    b.extend_from_slice(b"\"");
    js(
        b,
        "authenticationMethod",
        if pw {
            "Password"
        } else {
            "Previously satisfied"
        },
    );
    if pw {
        js(b, "authenticationMethodDetail", "Password in the cloud");
    } else {
        jr(b, "authenticationMethodDetail", b"null");
    }
    let bad_pw = s.err == 50126 || s.err == 50053;
    jr(b, "succeeded", if bad_pw { b"false" } else { b"true" });
    js(
        b,
        "authenticationStepResultDetail",
        if bad_pw {
            failure_reason(s.err)
        } else if pw {
            "Correct password"
        } else {
            "First factor requirement satisfied by claim in the token"
        },
    );
    js(b, "authenticationStepRequirement", "Primary authentication");
    b.extend_from_slice(b"}]}");
}

pub fn graph_json(p: &Plan, sc: &Scope, w: Out) -> io::Result<u64> {
    const PAGE: usize = 1000;
    const CTX: &[u8] = b"{\"@odata.context\":\"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns\",\"value\":[";
    let want = |u: u32, op: Op| op == Op::SignIn && sc.users[u as usize];
    let mut page = Vec::with_capacity(PAGE * 2600);
    let mut in_page = 0usize;
    let mut pages = 0u64;
    let mut n = 0u64;
    let flush = |w: &mut dyn Write,
                 page: &mut Vec<u8>,
                 last: bool,
                 pages: &mut u64|
     -> io::Result<()> {
        w.write_all(CTX)?;
        w.write_all(page)?;
        w.write_all(b"]")?;
        if !last {
            let mut link = Vec::with_capacity(160);
            link.extend_from_slice(b",\"@odata.nextLink\":\"https://graph.microsoft.com/beta/auditLogs/signIns?$top=1000&$skiptoken=");
            hex_lower(&mut link, crate::rng::h(p.seed, 0x9a9e, *pages), 16);
            link.extend_from_slice(b"\"");
            w.write_all(&link)?;
        }
        w.write_all(b"}\n")?;
        *pages += 1;
        page.clear();
        Ok(())
    };
    p.walk(sc.days.0 * 1440, sc.days.1 * 1440, true, &want, &mut |s| {
        if !is_interactive_signin(s) {
            return Ok(());
        }
        if in_page == PAGE {
            flush(w, &mut page, false, &mut pages)?;
            in_page = 0;
        }
        if in_page > 0 {
            page.push(b',');
        }
        graph_obj(p, s, &mut page);
        in_page += 1;
        n += 1;
        Ok(())
    })?;
    flush(w, &mut page, true, &mut pages)?;
    Ok(n)
}

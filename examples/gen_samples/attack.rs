//! The compromise of amelia.hart: AiTM phishing, inbox rule, mailbox reading, forwarding,
//! MFA and consent persistence, fraud and internal phishing mail, clean-up, token replay.

use crate::mail::{internal_mid, msg};
use crate::model::{Ctx, Facts, Mfa, Msg};
use crate::ordinary::Gen;
use crate::records::{self, Admin, Kind};
use crate::util::{at, iso, nv, Rng};
use crate::world::*;
use chrono::{Duration, NaiveDateTime};

pub const PHISH_SUBJECT: &str = "Amelia Hart shared \"Q1 remittance advice.pdf\" with you";
pub const FRAUD_SUBJECT: &str = "RE: Invoice HL-44817 – updated bank details";
pub const INTERNAL_TARGETS: [[&str; 3]; 2] = [
    ["sophie.turner", "james.okafor", "priya.shah"],
    ["tom.whitfield", "hannah.lewis", "marcus.bell"],
];

pub fn rule_at() -> NaiveDateTime {
    at(9, 9, 14, 7)
}
pub fn forward_at() -> NaiveDateTime {
    at(9, 9, 47, 26)
}

/// The attack's messages (the lure in, the fraud and phishing mail out).
pub fn messages(w: &World, msgs: &mut Vec<Msg>) {
    let mut r = Rng::stream("attack-mail");
    let amelia = &w.users[w.idx("amelia.hart")];
    let mut m = msg(
        at(9, 8, 12, 41),
        format!(
            "<{}@sharepoint-filedrop.example>",
            r.hex_upper(32).to_ascii_lowercase()
        ),
        PHISH_SENDER,
        vec![amelia.upn.clone()],
        PHISH_SUBJECT,
        48_213,
        PHISH_SENDER_IP,
        true,
    );
    m.attack = true;
    msgs.push(m);
    let mut m = msg(
        at(9, 10, 21, 46),
        internal_mid(&amelia.server, &mut r),
        &amelia.upn,
        vec![SUPPLIER_PAYABLES.to_string()],
        FRAUD_SUBJECT,
        36_904,
        ATTACKER_IP,
        false,
    );
    m.attack = true;
    msgs.push(m);
    for (k, group) in INTERNAL_TARGETS.iter().enumerate() {
        let t = if k == 0 {
            at(9, 10, 30, 20)
        } else {
            at(9, 10, 34, 4)
        };
        let mut m = msg(
            t,
            internal_mid(&amelia.server, &mut r),
            &amelia.upn,
            group.iter().map(|l| format!("{l}@{DOMAIN}")).collect(),
            PHISH_SUBJECT,
            52_377 + k as u32 * 18,
            ATTACKER_IP,
            false,
        );
        m.attack = true;
        msgs.push(m);
    }
}

fn step(f: &mut Facts, t: NaiveDateTime, op: &str, ip: &str, id: &str, what: String) {
    f.steps
        .push((iso(t), op.to_string(), ip.to_string(), id.to_string(), what));
}

pub fn run(g: &mut Gen) -> Facts {
    let w = g.w;
    let mut f = Facts::default();
    let mut r = Rng::stream("attack");
    let ai = w.idx("amelia.hart");
    let amelia = &w.users[ai];
    let find = |g: &Gen, subj: &str, sender: &str| -> Vec<usize> {
        (0..g.msgs.len())
            .filter(|&i| g.msgs[i].subject == subj && g.msgs[i].sender == sender)
            .collect()
    };
    let phish = find(g, PHISH_SUBJECT, PHISH_SENDER)[0];
    f.phish_mid = g.msgs[phish].mid.clone();

    // 0. Amelia opens the lure from her desk (victim action, not attacker activity).
    let desk = g.tokens.get(&(ai, 9)).and_then(|t| t.desk.clone());
    let c = g.ctx(ai, Client::Desktop, OFFICE_IPS[0], desk);
    let lure = g.boxes[ai]
        .iter()
        .position(|it| it.msg == phish)
        .unwrap_or(0);
    g.bind(at(9, 8, 58, 10), &c, &[lure], false);
    let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
    f.benign.push((
        iso(at(9, 8, 58, 10)),
        "MailItemsAccessed (Bind)".into(),
        OFFICE_IPS[0].into(),
        format!("Amelia opens the lure from her desk in Outlook ({id}); victim action, not attacker activity"),
    ));

    // 1. Phishing delivered (message trace only).
    step(
        &mut f,
        g.msgs[phish].t,
        "message delivered (trace)",
        PHISH_SENDER_IP,
        &g.msgs[phish].trace_id,
        format!(
            "from {PHISH_SENDER} to {}, subject `{PHISH_SUBJECT}`, MessageId `{}`",
            amelia.upn, g.msgs[phish].mid
        ),
    );

    // 2. AiTM sign-in: three failures, then success with MFA relayed.
    let home = Kind::Browser(APP_OFFICEHOME, RES_GRAPH);
    let mk = |r: &mut Rng, t: NaiveDateTime, rt: &'static str, err: u32, kind: Kind| {
        let mut s = records::new_sign_in(w, r, ai, t, ATTACKER_IP, kind, rt, err);
        s.ua = ATTACKER_UA.to_string();
        s.os = "Linux";
        s.browser_type = "Firefox";
        s.entra_os = "Linux";
        s.entra_browser = "Firefox 123.0".to_string();
        s.joined_device = false;
        s.attack = true;
        s.latency = 180 + r.below(200) as u32;
        s
    };
    for t in [at(9, 9, 2, 41), at(9, 9, 3, 58), at(9, 9, 5, 12)] {
        let s = mk(&mut r, t, "Login:login", 50126, home);
        step(
            &mut f,
            t,
            "UserLoginFailed",
            ATTACKER_IP,
            &s.ual_id,
            format!(
                "ErrorNumber 50126 InvalidUserNameOrPassword, Entra request id {}",
                s.request_id
            ),
        );
        g.signins.push(s);
    }
    let corr = r.guid();
    let mut s1 = mk(&mut r, at(9, 9, 6, 14), "Login:login", 0, home);
    s1.session_id = ATTACKER_SESSION.to_string();
    s1.correlation_id = corr.clone();
    s1.mfa = Mfa::Completed;
    let mut s2 = mk(
        &mut r,
        at(9, 9, 6, 19),
        "OAuth2:Authorize",
        0,
        Kind::Browser(APP_OFFICEHOME, RES_EXO),
    );
    s2.session_id = ATTACKER_SESSION.to_string();
    s2.correlation_id = corr;
    let token = (s2.token_id.clone(), s2.t);
    f.attacker_token = token.0.clone();
    f.attacker_token_issued = iso(token.1);
    for s in [&s1, &s2] {
        step(
            &mut f,
            s.t,
            "UserLoggedIn",
            ATTACKER_IP,
            &s.ual_id,
            format!(
                "RequestType {}, app OfficeHome, SessionId {ATTACKER_SESSION}, Entra request id {}, unique token id {}",
                s.request_type, s.request_id, s.token_id
            ),
        );
    }
    g.signins.push(s1);
    g.signins.push(s2);

    let tok = Some(token.clone());
    let owa = Ctx {
        actor: ai,
        owner: ai,
        client: Client::Owa,
        ip: ATTACKER_IP.to_string(),
        session: ATTACKER_SESSION.to_string(),
        token: tok.clone(),
        logon_type: 0,
    };
    let as_user = |ip: &str, port: u32| Admin::User {
        user: ai,
        ip_port: format!("{ip}:{port}"),
        session: Some(ATTACKER_SESSION),
        token: tok.clone(),
        via_owa: true,
    };
    let rule_obj = format!("{EXO_ORG_PATH}/{}\\{RULE_NAME}", amelia.object_id);

    // 3. The hiding rule.
    let rec = records::admin(
        w,
        r.guid(),
        rule_at(),
        "New-InboxRule",
        as_user(ATTACKER_IP, 51234),
        rule_obj.clone(),
        vec![
            nv("AlwaysDeleteOutlookRulesBlob", "False"),
            nv("Force", "False"),
            nv("From", SUPPLIER),
            nv("SubjectOrBodyContainsWords", "invoice;payment;remittance"),
            nv("MoveToFolder", "RSS Subscriptions"),
            nv("Name", RULE_NAME),
            nv("MarkAsRead", "True"),
            nv("StopProcessingRules", "True"),
        ],
        true,
    );
    step(&mut f, rule_at(), "New-InboxRule", "89.160.20.115:51234", &rec.id,
        format!("Name `..`, From {SUPPLIER}, SubjectOrBodyContainsWords `invoice;payment;remittance`, MoveToFolder `RSS Subscriptions`, MarkAsRead True, StopProcessingRules True"));
    g.recs.push(rec);

    // 4. Reading the mailbox.
    g.sync(at(9, 9, 17, 55), &owa, true);
    let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
    step(
        &mut f,
        at(9, 9, 17, 55),
        "MailItemsAccessed (Sync)",
        ATTACKER_IP,
        &id,
        "Sync of `\\Inbox`, ClientInfoString `Client=OWA;Action=ViaProxy`".into(),
    );
    let inbox: Vec<usize> = {
        let mut v: Vec<usize> = (0..g.boxes[ai].len())
            .filter(|&i| {
                let it = &g.boxes[ai][i];
                it.folder == "\\Inbox" && it.t < at(9, 9, 18, 0) && !g.msgs[it.msg].attack
            })
            .collect();
        v.sort_by(|&a, &b| g.boxes[ai][b].t.cmp(&g.boxes[ai][a].t).then(a.cmp(&b)));
        v
    };
    let invoices: Vec<usize> = inbox
        .iter()
        .copied()
        .filter(|&i| g.msgs[g.boxes[ai][i].msg].sender == SUPPLIER)
        .collect();
    let mut others: Vec<usize> = inbox
        .iter()
        .copied()
        .filter(|&i| {
            let m = &g.msgs[g.boxes[ai][i].msg];
            m.sender != SUPPLIER && !m.sender.starts_with("newsletter@")
        })
        .take(15)
        .collect();
    let mut read: Vec<usize> = invoices.clone();
    read.append(&mut others);
    r.shuffle(&mut read);
    for &i in invoices.iter().rev() {
        let m = &g.msgs[g.boxes[ai][i].msg];
        f.invoice_mids.push((m.subject.clone(), m.mid.clone()));
    }
    f.bound_by_attacker = read.len();
    let bind_times = [
        at(9, 9, 18, 32),
        at(9, 9, 22, 5),
        at(9, 9, 26, 47),
        at(9, 9, 31, 10),
        at(9, 9, 35, 52),
        at(9, 9, 39, 41),
    ];
    let sizes = [3usize, 4, 3, 4, 3, 3];
    let mut pos = 0;
    for (k, t) in bind_times.iter().enumerate() {
        let end = (pos + sizes[k]).min(read.len());
        if pos >= end {
            break;
        }
        let chunk: Vec<usize> = read[pos..end].to_vec();
        pos = end;
        g.bind(*t, &owa, &chunk, true);
        let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
        let mids: Vec<String> = chunk
            .iter()
            .map(|&i| g.msgs[g.boxes[ai][i].msg].mid.clone())
            .collect();
        step(
            &mut f,
            *t,
            "MailItemsAccessed (Bind)",
            ATTACKER_IP,
            &id,
            format!("{} items: {}", chunk.len(), mids.join(" ")),
        );
        if k == 1 {
            let ts = at(9, 9, 24, 13);
            let rec = records::search(w, &mut r, ts, &owa, "invoice", 14, true);
            step(
                &mut f,
                ts,
                "SearchQueryInitiatedExchange",
                ATTACKER_IP,
                &rec.id,
                "QueryText `invoice`".into(),
            );
            g.recs.push(rec);
        }
        if k == 3 {
            let ts = at(9, 9, 33, 20);
            let rec = records::search(w, &mut r, ts, &owa, "bank details", 3, true);
            step(
                &mut f,
                ts,
                "SearchQueryInitiatedExchange",
                ATTACKER_IP,
                &rec.id,
                "QueryText `bank details`".into(),
            );
            g.recs.push(rec);
        }
    }

    // 5. Forwarding everything out.
    let rec = records::admin(
        w,
        r.guid(),
        forward_at(),
        "Set-Mailbox",
        as_user(ATTACKER_IP, 51302),
        format!("{EXO_ORG_PATH}/{}", amelia.object_id),
        vec![
            nv("Identity", amelia.upn.as_str()),
            nv("ForwardingSmtpAddress", format!("smtp:{FORWARD_TO}")),
            nv("DeliverToMailboxAndForward", "False"),
        ],
        true,
    );
    step(&mut f, forward_at(), "Set-Mailbox", "89.160.20.115:51302", &rec.id,
        format!("Identity {}, ForwardingSmtpAddress `smtp:{FORWARD_TO}`, DeliverToMailboxAndForward False", amelia.upn));
    g.recs.push(rec);

    // 6. Attacker's phone as a second MFA method.
    let t = at(9, 9, 55, 38);
    let rec = records::directory(
        w,
        &mut r,
        t,
        "Update user.",
        ai,
        ATTACKER_IP,
        ATTACKER_UA,
        &amelia.upn,
        "User",
        vec![
            records::modprop(
                "StrongAuthenticationMethod",
                &records::methods_text(&[(6, true), (0, false)]),
                &records::methods_text(&[(6, true)]),
            ),
            records::modprop(
                "StrongAuthenticationUserDetails",
                &records::phone_details_text(Some("+46 701740633")),
                &records::phone_details_text(None),
            ),
            records::modprop(
                "Included Updated Properties",
                "StrongAuthenticationMethod, StrongAuthenticationUserDetails",
                "",
            ),
            records::modprop("TargetId.UserType", "Member", ""),
        ],
        records::user_target(amelia),
        true,
    );
    step(&mut f, t, "Update user.", ATTACKER_IP, &rec.id,
        "StrongAuthenticationMethod 1 method [MethodType 6] -> 2 methods [6, 0]; phone +46 701740633 added".into());
    g.recs.push(rec);

    // 7. Illicit consent grant (with the two records Entra writes alongside).
    let sp = records::sp_target(CONSENT_APP_NAME, CONSENT_APP_ID, CONSENT_SP_OBJECT_ID);
    let scope = "Mail.Read Mail.Send offline_access User.Read";
    let grant_id = "CVzht8pDYk2eGCx6D107lj9jz-VhLPZIl3Hcbz2a7Lk";
    let t = at(9, 10, 5, 9);
    let rec = records::directory(
        w,
        &mut r,
        t,
        "Add service principal.",
        ai,
        ATTACKER_IP,
        ATTACKER_UA,
        CONSENT_SP_OBJECT_ID,
        "ServicePrincipal",
        vec![
            records::modprop("AccountEnabled", "[\r\n  true\r\n]", "[]"),
            records::modprop(
                "AppPrincipalId",
                &format!("[\r\n  \"{CONSENT_APP_ID}\"\r\n]"),
                "[]",
            ),
            records::modprop(
                "DisplayName",
                &format!("[\r\n  \"{CONSENT_APP_NAME}\"\r\n]"),
                "[]",
            ),
            records::modprop(
                "Included Updated Properties",
                "AccountEnabled, AppPrincipalId, DisplayName",
                "",
            ),
        ],
        sp.clone(),
        true,
    );
    step(
        &mut f,
        t,
        "Add service principal.",
        ATTACKER_IP,
        &rec.id,
        format!("{CONSENT_APP_NAME} (appId {CONSENT_APP_ID}) instantiated in the tenant"),
    );
    g.recs.push(rec);
    let t = at(9, 10, 5, 11);
    let rec = records::directory(
        w,
        &mut r,
        t,
        "Add delegated permission grant.",
        ai,
        ATTACKER_IP,
        ATTACKER_UA,
        GRAPH_SP_OBJECT_ID,
        "ApplicationManagement",
        vec![
            records::modprop("DelegatedPermissionGrant.Scope", &format!(" {scope}"), ""),
            records::modprop("DelegatedPermissionGrant.ConsentType", "Principal", ""),
            records::modprop("ServicePrincipal.ObjectID", GRAPH_SP_OBJECT_ID, ""),
            records::modprop(
                "Included Updated Properties",
                "DelegatedPermissionGrant.Scope, DelegatedPermissionGrant.ConsentType",
                "",
            ),
        ],
        records::sp_target("Microsoft Graph", RES_GRAPH.1, GRAPH_SP_OBJECT_ID),
        true,
    );
    step(
        &mut f,
        t,
        "Add delegated permission grant.",
        ATTACKER_IP,
        &rec.id,
        format!("Scope `{scope}` on Microsoft Graph, ConsentType Principal"),
    );
    g.recs.push(rec);
    let t = at(9, 10, 5, 12);
    let perms = format!(
        "[] => [[Id: {grant_id}, ClientId: {CONSENT_SP_OBJECT_ID}, PrincipalId: {}, ResourceId: {GRAPH_SP_OBJECT_ID}, ConsentType: Principal, Scope:  {scope}, CreatedDateTime: , LastModifiedDateTime ]]; ",
        amelia.object_id
    );
    let rec = records::directory(
        w,
        &mut r,
        t,
        "Consent to application.",
        ai,
        ATTACKER_IP,
        ATTACKER_UA,
        CONSENT_SP_OBJECT_ID,
        "ServicePrincipal",
        vec![
            records::modprop("ConsentContext.IsAdminConsent", "False", ""),
            records::modprop("ConsentContext.IsAppOnly", "False", ""),
            records::modprop("ConsentContext.OnBehalfOfAll", "False", ""),
            records::modprop(
                "ConsentContext.Tags",
                "WindowsAzureActiveDirectoryIntegratedApp",
                "",
            ),
            records::modprop("ConsentAction.Permissions", &perms, ""),
            records::modprop("TargetId.ServicePrincipalNames", CONSENT_APP_ID, ""),
        ],
        sp,
        true,
    );
    step(&mut f, t, "Consent to application.", ATTACKER_IP, &rec.id,
        format!("app `{CONSENT_APP_NAME}` appId {CONSENT_APP_ID}, ConsentAction.Permissions Scope `{scope}`, IsAdminConsent False"));
    g.recs.push(rec);

    // 8. The fraud mail to the supplier and the internal phishing wave.
    let fraud = find(g, FRAUD_SUBJECT, &amelia.upn)[0];
    f.ext_send_mid = g.msgs[fraud].mid.clone();
    g.send(fraud, &owa, true);
    let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
    step(
        &mut f,
        g.msgs[fraud].t - Duration::seconds(2),
        "Send",
        ATTACKER_IP,
        &id,
        format!(
            "`{FRAUD_SUBJECT}` to {SUPPLIER_PAYABLES} (external), InternetMessageId `{}`",
            g.msgs[fraud].mid
        ),
    );
    let internal = find(g, PHISH_SUBJECT, &amelia.upn);
    for &i in internal.iter() {
        g.send(i, &owa, true);
        let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
        let m = &g.msgs[i];
        f.int_send_mids.push((m.mid.clone(), m.rcpts.clone()));
        step(
            &mut f,
            m.t - Duration::seconds(2),
            "Send",
            ATTACKER_IP,
            &id,
            format!(
                "`{PHISH_SUBJECT}` to {} (internal), InternetMessageId `{}`",
                m.rcpts.join(", "),
                m.mid
            ),
        );
    }

    // 9. Covering tracks in Sent Items.
    let mut sent_items: Vec<usize> = Vec::new();
    for &mi in std::iter::once(&fraud).chain(internal.iter()) {
        if let Some(p) = g.boxes[ai]
            .iter()
            .position(|it| it.msg == mi && it.folder == "\\Sent Items")
        {
            sent_items.push(p);
        }
    }
    let t = at(9, 10, 40, 29);
    g.delete(t, &owa, "HardDelete", &sent_items, true);
    let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
    step(
        &mut f,
        t,
        "HardDelete",
        ATTACKER_IP,
        &id,
        format!(
            "{} items from `\\Sent Items`: the supplier mail and both phishing sends",
            sent_items.len()
        ),
    );

    // Some colleagues open the internal phish (they do nothing else).
    for (local, t) in [
        ("sophie.turner", at(9, 10, 52, 3)),
        ("tom.whitfield", at(9, 11, 7, 44)),
        ("hannah.lewis", at(9, 13, 15, 9)),
    ] {
        let u = w.idx(local);
        let Some(pos) = g.boxes[u].iter().position(|it| internal.contains(&it.msg)) else {
            continue;
        };
        let me = &w.users[u];
        let ip = g
            .signins
            .iter()
            .rev()
            .find(|s| s.user == u && s.t.date() == crate::util::day(9))
            .map(|s| s.ip.clone())
            .unwrap_or_else(|| me.office_ip.to_string());
        let tk = g.tokens.get(&(u, 9)).cloned().unwrap_or_default();
        let c = if me.desktop {
            g.ctx(u, Client::Desktop, &ip, tk.desk)
        } else {
            g.ctx(u, Client::Owa, &ip, tk.owa)
        };
        g.bind(t, &c, &[pos], false);
        let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
        f.benign.push((
            iso(t),
            "MailItemsAccessed (Bind)".into(),
            ip,
            format!(
                "{} opens the internal phishing mail ({id}) and does nothing else",
                me.upn
            ),
        ));
    }

    // 10. Token replay from another country, same session and token, no sign-in.
    let replay = Ctx {
        ip: REPLAY_IP.to_string(),
        ..owa.clone()
    };
    g.sync(at(10, 6, 50, 12), &replay, true);
    let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
    step(
        &mut f,
        at(10, 6, 50, 12),
        "MailItemsAccessed (Sync)",
        REPLAY_IP,
        &id,
        format!(
            "token replay: SessionId {ATTACKER_SESSION}, UniqueTokenId {}",
            token.0
        ),
    );
    let inbox_now: Vec<usize> = (0..g.boxes[ai].len())
        .filter(|&i| g.boxes[ai][i].folder == "\\Inbox" && !g.msgs[g.boxes[ai][i].msg].attack)
        .collect();
    let mut pool: Vec<usize> = invoices.clone();
    pool.extend(inbox_now.iter().rev().take(6).copied());
    pool.dedup();
    for (k, t) in [at(10, 6, 52, 40), at(10, 6, 58, 5), at(10, 7, 6, 31)]
        .into_iter()
        .enumerate()
    {
        let chunk: Vec<usize> = pool.iter().skip(k * 3).take(3).copied().collect();
        if chunk.is_empty() {
            continue;
        }
        g.bind(t, &replay, &chunk, true);
        let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
        step(
            &mut f,
            t,
            "MailItemsAccessed (Bind)",
            REPLAY_IP,
            &id,
            format!("token replay, {} items", chunk.len()),
        );
    }
    let t = at(10, 7, 14, 48);
    let rec = records::admin(
        w,
        r.guid(),
        t,
        "Set-InboxRule",
        as_user(REPLAY_IP, 40112),
        rule_obj.clone(),
        vec![
            nv("AlwaysDeleteOutlookRulesBlob", "False"),
            nv("Force", "False"),
            nv("Identity", RULE_NAME),
            nv("DeleteMessage", "True"),
        ],
        true,
    );
    step(
        &mut f,
        t,
        "Set-InboxRule",
        "175.16.199.10:40112",
        &rec.id,
        "rule `..` gains DeleteMessage True (token replay, same SessionId and UniqueTokenId)"
            .into(),
    );
    g.recs.push(rec);
    let t = at(10, 7, 19, 55);
    let chunk: Vec<usize> = inbox_now.iter().rev().skip(6).take(2).copied().collect();
    if !chunk.is_empty() {
        g.bind(t, &replay, &chunk, true);
        let id = g.recs.last().map(|x| x.id.clone()).unwrap_or_default();
        step(
            &mut f,
            t,
            "MailItemsAccessed (Bind)",
            REPLAY_IP,
            &id,
            format!("token replay, {} items", chunk.len()),
        );
    }

    // 11. Clean-up of the rule from the original VPS.
    let t = at(11, 8, 30, 17);
    let rec = records::admin(
        w,
        r.guid(),
        t,
        "Remove-InboxRule",
        as_user(ATTACKER_IP, 52410),
        rule_obj,
        vec![
            nv("AlwaysDeleteOutlookRulesBlob", "False"),
            nv("Force", "False"),
            nv("Identity", RULE_NAME),
            nv("Confirm", "False"),
        ],
        true,
    );
    step(
        &mut f,
        t,
        "Remove-InboxRule",
        "89.160.20.115:52410",
        &rec.id,
        format!(
            "ObjectId `…/{}\\..` removed (attacker clean-up)",
            amelia.object_id
        ),
    );
    g.recs.push(rec);

    f
}

//! The planted incident (see the top of main.rs for the story). Every attacker record is a
//! `Spec` with an explicit payload, merged into the ordinary stream at its time.

use crate::model::{Client, Ip, Op, SignKind, Spec};
use crate::rng::{h, Rng};
use crate::world::*;

pub const VPS_IP: &str = "89.160.20.115";
pub const VPS_IP2: &str = "89.160.20.121";
pub const REPLAY_IP: &str = "175.16.199.10";
pub const LURE_IP: &str = "175.16.199.20";
pub const LURE_FROM: &str = "docs@sharepoint-filedrop.example";
pub const FORWARD_TO: &str = "ap.settlements@mailbox-relay.example";
pub const FORWARD_MX: &str = "192.0.2.201";
pub const ATTACKER_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36";
/// Day index (0 = Mon 2026-02-02) of the first attack day: Mon 2026-02-09.
pub const DAY1: i64 = 7;

#[derive(Clone, Debug)]
pub enum Addr {
    User(u32),
    Partner(u8, u8),
    Lit(&'static str),
}

#[derive(Clone, Debug)]
pub enum Payload {
    /// Attacker sign-in (UA and device differ from the victim's).
    SignIn,
    /// The phishing lure (message trace only).
    Lure,
    /// The victim opens the lure (or the internal phish) from their own desk.
    OpenLure(usize),
    Bind(u8),
    Sync,
    MailboxLogin,
    Search(&'static str),
    Rule {
        name: &'static str,
        params: Vec<(&'static str, String)>,
    },
    Forward,
    Send {
        subject: String,
        rcpts: Vec<Addr>,
    },
    /// Hard-deletes the items sent by these payload indices, from `\Sent Items`.
    HardDelete(Vec<usize>),
}

pub struct Incident {
    seed: u64,
    pub v1: u32,
    pub v2: u32,
    pub specs: Vec<Spec>,
    pub payloads: Vec<Payload>,
    pub forward_at: i64,
    pub session1: u128,
    pub session2: u128,
    pub token1: u128,
    pub token2: u128,
}

fn at(day: i64, hh: i64, mm: i64, ss: i64) -> i64 {
    day * 86_400 + hh * 3600 + mm * 60 + ss
}

impl Incident {
    pub fn new(w: &World, seed: u64) -> Incident {
        let n = w.users.len() as u64;
        // Victims: deterministic from the seed, never the same person.
        // Victim 1 works in Accounts Payable, victim 2 in Finance (any user if the small
        // tenants have nobody there).
        let v1 = w
            .someone_in(0x71c, 1, None)
            .unwrap_or((h(seed, 0x71c, 1) % n) as u32);
        let mut v2 = w
            .someone_in(0x71d, 0, Some(v1))
            .unwrap_or((h(seed, 0x71c, 2) % n) as u32);
        if v2 == v1 {
            v2 = (v1 + 1) % n as u32;
        }
        let mut r = Rng::new(h(seed, 0x1c1d, 0));
        let session1 = r.u128();
        let session2 = r.u128();
        let token1 = r.u128();
        let token2 = r.u128();
        let mut inc = Incident {
            seed,
            v1,
            v2,
            specs: Vec::new(),
            payloads: Vec::new(),
            forward_at: at(DAY1, 9, 47, 36),
            session1,
            session2,
            token1,
            token2,
        };
        let d1 = DAY1;
        let d2 = DAY1 + 1;
        let issued1 = at(d1, 9, 6, 19);
        let issued2 = at(d2, 11, 34, 9);
        let a1 = Ip::Fixed(VPS_IP);
        let a2 = Ip::Fixed(VPS_IP2);
        let rp = Ip::Fixed(REPLAY_IP);
        let v1_office = Ip::Office(w.users[v1 as usize].office, 0);
        let v2_office = Ip::Office(w.users[v2 as usize].office, 1);

        // --- victim 1 ---------------------------------------------------------------------
        let lure = inc.push(
            at(d1, 8, 12, 41),
            v1,
            Op::Inbound,
            Client::Service,
            Ip::Fixed(LURE_IP),
            Payload::Lure,
            None,
        );
        inc.push(
            at(d1, 8, 58, 10),
            v1,
            Op::MiaBind,
            Client::Desktop,
            v1_office,
            Payload::OpenLure(lure),
            None,
        );
        for (k, (mm, ss)) in [(2, 41), (3, 58), (5, 12)].into_iter().enumerate() {
            let i = inc.push(
                at(d1, 9, mm, ss),
                v1,
                Op::SignIn,
                Client::Browser,
                a1,
                Payload::SignIn,
                None,
            );
            inc.specs[i].sk = SignKind::Login;
            inc.specs[i].err = 50126;
            inc.specs[i].seq += k as u64;
        }
        let s1 = Some((session1, token1, issued1));
        let i = inc.push(
            at(d1, 9, 6, 14),
            v1,
            Op::SignIn,
            Client::Browser,
            a1,
            Payload::SignIn,
            s1,
        );
        inc.specs[i].sk = SignKind::Login;
        inc.specs[i].token = token1 ^ 0x5a5a;
        let i = inc.push(
            at(d1, 9, 6, 19),
            v1,
            Op::SignIn,
            Client::Owa,
            a1,
            Payload::SignIn,
            s1,
        );
        inc.specs[i].sk = SignKind::Authorize;
        inc.push(
            at(d1, 9, 7, 2),
            v1,
            Op::MailboxLogin,
            Client::Owa,
            a1,
            Payload::MailboxLogin,
            s1,
        );
        inc.push(
            at(d1, 9, 9, 30),
            v1,
            Op::MiaSync,
            Client::Owa,
            a1,
            Payload::Sync,
            s1,
        );
        for (mm, ss, items) in [
            (18, 4, 4),
            (22, 37, 3),
            (26, 50, 5),
            (31, 15, 2),
            (35, 41, 4),
            (40, 2, 2),
        ] {
            inc.push(
                at(d1, 9, mm, ss),
                v1,
                Op::MiaBind,
                Client::Owa,
                a1,
                Payload::Bind(items),
                s1,
            );
        }
        inc.push(
            at(d1, 9, 21, 10),
            v1,
            Op::Search,
            Client::Owa,
            a1,
            Payload::Search("invoice"),
            s1,
        );
        inc.push(
            at(d1, 9, 24, 55),
            v1,
            Op::Search,
            Client::Owa,
            a1,
            Payload::Search("bank details"),
            s1,
        );
        inc.push(
            at(d1, 9, 44, 12),
            v1,
            Op::NewInboxRule,
            Client::Owa,
            a1,
            Payload::Rule {
                name: "..",
                params: vec![
                    ("AlwaysDeleteOutlookRulesBlob", "False".into()),
                    ("Force", "False".into()),
                    ("From", "accounts@harbor-logistics.example".into()),
                    (
                        "SubjectOrBodyContainsWords",
                        "invoice;payment;remittance".into(),
                    ),
                    ("MoveToFolder", "RSS Subscriptions".into()),
                    ("Name", "..".into()),
                    ("MarkAsRead", "True".into()),
                    ("StopProcessingRules", "True".into()),
                ],
            },
            s1,
        );
        inc.push(
            inc.forward_at,
            v1,
            Op::SetMailbox,
            Client::Owa,
            a1,
            Payload::Forward,
            s1,
        );
        let fraud = inc.push(
            at(d1, 10, 12, 45),
            v1,
            Op::Send,
            Client::Owa,
            a1,
            Payload::Send {
                subject: "RE: Invoice HL-44817 – updated bank details".into(),
                rcpts: vec![Addr::Lit("payables@harbor-logistics.example")],
            },
            s1,
        );
        let v1_display = w.users[v1 as usize].display.clone();
        let phish = inc.push(
            at(d1, 10, 30, 18),
            v1,
            Op::Send,
            Client::Owa,
            a1,
            Payload::Send {
                subject: format!("{v1_display} shared \"Q1 remittance advice.pdf\" with you"),
                rcpts: vec![
                    Addr::User(v2),
                    Addr::User(((v2 as u64 + 7) % n) as u32),
                    Addr::User(((v2 as u64 + 13) % n) as u32),
                ],
            },
            s1,
        );
        inc.push(
            at(d1, 10, 40, 29),
            v1,
            Op::HardDelete,
            Client::Owa,
            a1,
            Payload::HardDelete(vec![fraud, phish]),
            s1,
        );
        // Token replay the next morning: same session and token, an IP with no sign-in.
        inc.push(
            at(d2, 6, 50, 12),
            v1,
            Op::MiaSync,
            Client::Owa,
            rp,
            Payload::Sync,
            s1,
        );
        for (hh, mm, ss, items) in [(6, 52, 40, 3), (6, 58, 5, 3), (7, 6, 31, 3), (7, 19, 55, 2)] {
            inc.push(
                at(d2, hh, mm, ss),
                v1,
                Op::MiaBind,
                Client::Owa,
                rp,
                Payload::Bind(items),
                s1,
            );
        }
        inc.push(
            at(d2, 7, 14, 48),
            v1,
            Op::SetInboxRule,
            Client::Owa,
            rp,
            Payload::Rule {
                name: "..",
                params: vec![
                    ("Identity", "..".into()),
                    ("DeleteMessage", "True".into()),
                    ("Force", "False".into()),
                ],
            },
            s1,
        );

        // --- victim 2 (opened the internal phish, then lost her password) -------------------
        inc.push(
            at(d1, 10, 52, 3),
            v2,
            Op::MiaBind,
            Client::Desktop,
            v2_office,
            Payload::OpenLure(phish),
            None,
        );
        for (k, (mm, ss)) in [(31, 7), (32, 40)].into_iter().enumerate() {
            let i = inc.push(
                at(d2, 11, mm, ss),
                v2,
                Op::SignIn,
                Client::Browser,
                a2,
                Payload::SignIn,
                None,
            );
            inc.specs[i].sk = SignKind::Login;
            inc.specs[i].err = 50126;
            inc.specs[i].seq += k as u64;
        }
        let s2 = Some((session2, token2, issued2));
        let i = inc.push(
            at(d2, 11, 34, 2),
            v2,
            Op::SignIn,
            Client::Browser,
            a2,
            Payload::SignIn,
            s2,
        );
        inc.specs[i].sk = SignKind::Login;
        inc.specs[i].token = token2 ^ 0xa5a5;
        let i = inc.push(
            at(d2, 11, 34, 9),
            v2,
            Op::SignIn,
            Client::Owa,
            a2,
            Payload::SignIn,
            s2,
        );
        inc.specs[i].sk = SignKind::Authorize;
        inc.push(
            at(d2, 11, 35, 20),
            v2,
            Op::MailboxLogin,
            Client::Owa,
            a2,
            Payload::MailboxLogin,
            s2,
        );
        for (mm, ss, items) in [(38, 11, 3), (44, 52, 4), (51, 30, 2)] {
            inc.push(
                at(d2, 11, mm, ss),
                v2,
                Op::MiaBind,
                Client::Owa,
                a2,
                Payload::Bind(items),
                s2,
            );
        }
        inc.push(
            at(d2, 11, 55, 48),
            v2,
            Op::NewInboxRule,
            Client::Owa,
            a2,
            Payload::Rule {
                name: "Clean",
                params: vec![
                    ("AlwaysDeleteOutlookRulesBlob", "False".into()),
                    ("Force", "False".into()),
                    (
                        "SubjectOrBodyContainsWords",
                        "phish;hacked;suspicious;remittance;password".into(),
                    ),
                    ("DeleteMessage", "True".into()),
                    ("Name", "Clean".into()),
                    ("StopProcessingRules", "True".into()),
                ],
            },
            s2,
        );
        let fraud2 = inc.push(
            at(d2, 12, 3, 14),
            v2,
            Op::Send,
            Client::Owa,
            a2,
            Payload::Send {
                subject: "Updated payment instructions for February invoices".into(),
                rcpts: vec![
                    Addr::Partner(1, 1),
                    Addr::Partner(4, 7),
                    Addr::Partner(8, 0),
                ],
            },
            s2,
        );
        inc.push(
            at(d2, 12, 9, 40),
            v2,
            Op::HardDelete,
            Client::Owa,
            a2,
            Payload::HardDelete(vec![fraud2]),
            s2,
        );
        inc
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        t: i64,
        user: u32,
        op: Op,
        client: Client,
        ip: Ip,
        payload: Payload,
        sess: Option<(u128, u128, i64)>,
    ) -> usize {
        let k = self.payloads.len();
        self.payloads.push(payload);
        let (session, token, issued) = sess.unwrap_or((0, 0, 0));
        self.specs.push(Spec {
            t,
            seq: u64::MAX / 2 + k as u64 * 16,
            user,
            op,
            client,
            sk: SignKind::Authorize,
            err: 0,
            ip,
            session,
            token,
            issued,
            seed: h(self.seed, 0x001c_1de7, k as u64),
            inc: k as u16 + 1,
        });
        k
    }

    pub fn payload(&self, s: &Spec) -> Option<&Payload> {
        if s.inc == 0 {
            None
        } else {
            self.payloads.get(s.inc as usize - 1)
        }
    }

    /// The attacker's records for the summary: (time, victim, operation, IP).
    pub fn attacker_specs(&self) -> Vec<&Spec> {
        let mut v: Vec<&Spec> = self
            .specs
            .iter()
            .filter(|s| matches!(s.ip, Ip::Fixed(ip) if ip == VPS_IP || ip == VPS_IP2 || ip == REPLAY_IP))
            .collect();
        v.sort_by_key(|s| (s.t, s.seq));
        v
    }
}

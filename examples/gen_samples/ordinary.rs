//! Everyday activity of every account, plus the benign look-alikes an analyzer must not flag.

use crate::jo;
use crate::mail::{plan_of, Plan, FIRST_DAY, LAST_DAY};
use crate::model::{Ctx, Item, Mfa, Msg, Rec, SignIn};
use crate::records::{self, folder_id, op_props, Admin, Kind};
use crate::util::{at, nv, Rng, J};
use crate::world::*;
use chrono::{Duration, NaiveDateTime};
use std::collections::BTreeMap;

pub type Token = Option<(String, NaiveDateTime)>;

#[derive(Default, Clone)]
pub struct DayTokens {
    pub owa: Token,
    pub desk: Token,
    pub ios: Token,
    pub home: Token,
}

pub struct Gen<'a> {
    pub w: &'a World,
    pub msgs: &'a [Msg],
    pub boxes: Vec<Vec<Item>>,
    pub bound: Vec<Vec<bool>>,
    pub signins: Vec<SignIn>,
    pub recs: Vec<Rec>,
    pub sessions: Vec<String>,
    pub tokens: BTreeMap<(usize, u32), DayTokens>,
    pub r: Rng,
}

impl<'a> Gen<'a> {
    pub fn new(w: &'a World, msgs: &'a [Msg], boxes: Vec<Vec<Item>>) -> Gen<'a> {
        let bound = boxes.iter().map(|b| vec![false; b.len()]).collect();
        Gen {
            w,
            msgs,
            boxes,
            bound,
            signins: Vec::new(),
            recs: Vec::new(),
            sessions: w.users.iter().map(|u| u.browser_session.clone()).collect(),
            tokens: BTreeMap::new(),
            r: Rng::stream("ordinary"),
        }
    }

    pub fn ctx(&self, u: usize, client: Client, ip: &str, token: Token) -> Ctx {
        let me = &self.w.users[u];
        Ctx {
            actor: u,
            owner: u,
            client,
            ip: ip.to_string(),
            session: match client {
                Client::Desktop => me.desktop_session.clone(),
                Client::Owa => self.sessions[u].clone(),
                Client::Ios => me.ios_session.clone(),
            },
            token,
            logon_type: 0,
        }
    }

    /// A MailItemsAccessed Bind over the given items of the owner's mailbox.
    pub fn bind(&mut self, t: NaiveDateTime, c: &Ctx, items: &[usize], attack: bool) {
        let owner = &self.w.users[c.owner];
        // Group by folder, keeping first-seen order.
        let mut folders: Vec<(&'static str, Vec<J>)> = Vec::new();
        for &i in items {
            let it = &self.boxes[c.owner][i];
            let m = &self.msgs[it.msg];
            let entry = jo! {
                "Id" => it.id.as_str(),
                "InternetMessageId" => m.mid.as_str(),
                "SizeInBytes" => m.size + 3_000,
            };
            match folders.iter_mut().find(|(f, _)| *f == it.folder) {
                Some((_, v)) => v.push(entry),
                None => folders.push((it.folder, vec![entry])),
            }
            self.bound[c.owner][i] = true;
        }
        let fj: Vec<J> = folders
            .into_iter()
            .map(|(f, v)| {
                jo! {
                    "FolderItems" => v,
                    "Id" => folder_id(&owner.store_key, f),
                    "Path" => f,
                }
            })
            .collect();
        let id = self.r.guid();
        let rec = records::mailbox(
            self.w,
            id,
            t,
            "MailItemsAccessed",
            50,
            c,
            vec![
                ("OperationProperties", op_props("Bind")),
                ("Folders", J::Arr(fj)),
                ("OperationCount", J::from(items.len())),
            ],
            attack,
            &mut self.r,
        );
        self.recs.push(rec);
    }

    pub fn sync(&mut self, t: NaiveDateTime, c: &Ctx, attack: bool) {
        let owner = &self.w.users[c.owner];
        let id = self.r.guid();
        let rec = records::mailbox(
            self.w,
            id,
            t,
            "MailItemsAccessed",
            50,
            c,
            vec![
                ("OperationProperties", op_props("Sync")),
                (
                    "Folders",
                    J::Arr(vec![jo! {
                        "Id" => folder_id(&owner.store_key, "\\Inbox"),
                        "Path" => "\\Inbox",
                    }]),
                ),
                ("OperationCount", J::from(1usize)),
            ],
            attack,
            &mut self.r,
        );
        self.recs.push(rec);
    }

    /// Items the owner has received before `t`, newest first, optionally only unread ones.
    pub fn received_before(&self, owner: usize, t: NaiveDateTime, unread_only: bool) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.boxes[owner].len())
            .filter(|&i| {
                let it = &self.boxes[owner][i];
                it.t < t
                    && it.folder != "\\Sent Items"
                    && it.folder != "\\Junk Email"
                    && !self.msgs[it.msg].attack
                    && (!unread_only || !self.bound[owner][i])
            })
            .collect();
        v.sort_by(|&a, &b| {
            self.boxes[owner][b]
                .t
                .cmp(&self.boxes[owner][a].t)
                .then(a.cmp(&b))
        });
        v
    }

    pub fn send(&mut self, m_idx: usize, c: &Ctx, attack: bool) {
        let m = &self.msgs[m_idx];
        let owner = &self.w.users[c.owner];
        let Some(it) = self.boxes[c.owner]
            .iter()
            .find(|it| it.msg == m_idx && it.folder == "\\Sent Items")
        else {
            return;
        };
        let item = jo! {
            "Id" => it.id.as_str(),
            "InternetMessageId" => m.mid.as_str(),
            "IsRecord" => false,
            "ParentFolder" => jo! {
                "Id" => folder_id(&owner.store_key, "\\Sent Items"),
                "Name" => "Sent Items",
                "Path" => "\\Sent Items",
            },
            "SizeInBytes" => m.size,
            "Subject" => m.subject.as_str(),
        };
        let id = self.r.guid();
        let t = m.t - Duration::seconds(2);
        let rec = records::mailbox(
            self.w,
            id,
            t,
            "Send",
            2,
            c,
            vec![("Item", item), ("SaveToSentItems", J::Bool(true))],
            attack,
            &mut self.r,
        );
        self.recs.push(rec);
    }

    /// MoveToDeletedItems / SoftDelete / HardDelete of items (RecordType 3).
    pub fn delete(&mut self, t: NaiveDateTime, c: &Ctx, op: &str, items: &[usize], attack: bool) {
        let owner = &self.w.users[c.owner];
        let from = self.boxes[c.owner][items[0]].folder;
        let affected: Vec<J> = items
            .iter()
            .map(|&i| {
                let it = &self.boxes[c.owner][i];
                let m = &self.msgs[it.msg];
                jo! {
                    "Id" => it.id.as_str(),
                    "InternetMessageId" => m.mid.as_str(),
                    "ParentFolder" => jo! {
                        "Id" => folder_id(&owner.store_key, it.folder),
                        "Path" => it.folder,
                    },
                    "Subject" => m.subject.as_str(),
                }
            })
            .collect();
        let mut spec = vec![
            ("AffectedItems", J::Arr(affected)),
            ("CrossMailboxOperation", J::Bool(false)),
        ];
        let dest = match op {
            "MoveToDeletedItems" => Some("\\Deleted Items"),
            "SoftDelete" => Some("\\Recoverable Items\\Deletions"),
            _ => None,
        };
        if op == "MoveToDeletedItems" {
            spec.push((
                "DestFolder",
                jo! { "Id" => folder_id(&owner.store_key, "\\Deleted Items"), "Path" => "\\Deleted Items" },
            ));
        }
        spec.push((
            "Folder",
            jo! { "Id" => folder_id(&owner.store_key, from), "Path" => from },
        ));
        let id = self.r.guid();
        let rec = records::mailbox(self.w, id, t, op, 3, c, spec, attack, &mut self.r);
        self.recs.push(rec);
        for &i in items {
            self.boxes[c.owner][i].folder = dest.unwrap_or("\\Recoverable Items\\Purges");
        }
    }

    fn create_or_update(&mut self, t: NaiveDateTime, c: &Ctx, update: bool) {
        let owner = &self.w.users[c.owner];
        let (folder, name, subj) = if self.r.chance(0.5) {
            (
                "\\Calendar",
                "Calendar",
                *self.r.pick(&[
                    "Depot walk-round",
                    "1:1",
                    "Weekly ops call",
                    "Supplier review",
                    "Dentist",
                ]),
            )
        } else {
            (
                "\\Drafts",
                "Drafts",
                *self.r.pick(&[
                    "RE: Delivery booking request",
                    "Notes for Thursday",
                    "Draft: rota changes",
                    "RE: Overtime sign-off",
                ]),
            )
        };
        let iid = records::item_id(&owner.store_key, &mut self.r);
        let item = jo! {
            "Id" => iid,
            "IsRecord" => false,
            "ParentFolder" => jo! {
                "Id" => folder_id(&owner.store_key, folder),
                "Name" => name,
                "Path" => folder,
            },
            "SizeInBytes" => 2_000 + self.r.below(30_000) as usize,
            "Subject" => subj,
        };
        let mut spec = vec![("Item", item)];
        if update {
            spec.push((
                "ModifiedProperties",
                J::Arr(if folder == "\\Calendar" {
                    vec![
                        J::from("StartTime"),
                        J::from("EndTime"),
                        J::from("Location"),
                    ]
                } else {
                    vec![J::from("Body"), J::from("Subject")]
                }),
            ));
        }
        let id = self.r.guid();
        let op = if update { "Update" } else { "Create" };
        let rec = records::mailbox(self.w, id, t, op, 2, c, spec, false, &mut self.r);
        self.recs.push(rec);
    }

    fn sign(
        &mut self,
        u: usize,
        t: NaiveDateTime,
        ip: &str,
        kind: Kind,
        rt: &'static str,
        err: u32,
    ) -> SignIn {
        records::new_sign_in(self.w, &mut self.r, u, t, ip, kind, rt, err)
    }

    fn at_in(&mut self, p: &Plan, lo_min: i64, hi_min: i64) -> NaiveDateTime {
        let span = (p.end - p.start).num_minutes();
        let hi = hi_min.min(span - 5).max(lo_min);
        p.start + Duration::seconds(self.r.range(lo_min * 60, hi * 60))
    }

    /// One working day of one person.
    fn workday(&mut self, u: usize, d: u32, p: &Plan) {
        let w = self.w;
        let me = &w.users[u];
        let ip = p.ip;
        let typo_days = [
            ("george.walsh", 3),
            ("hannah.lewis", 5),
            ("noah.fletcher", 10),
            ("olivia.grant", 11),
            ("chloe.patel", 12),
            ("amelia.hart", 12),
        ];
        let typo = typo_days.contains(&(me.local(), d));
        let full = (me.local() == "leo.marsh" && d == 2) || (!typo && self.r.chance(0.08));
        let t0 = p.start;
        let home_kind = Kind::Browser(APP_OFFICEHOME, RES_GRAPH);
        let mut tok = DayTokens::default();
        if typo {
            let s = self.sign(
                u,
                t0 - Duration::seconds(41),
                ip,
                home_kind,
                "Login:login",
                50126,
            );
            self.signins.push(s);
            let mut s = self.sign(u, t0, ip, home_kind, "Login:login", 0);
            s.session_id = self.sessions[u].clone();
            tok.home = Some((s.token_id.clone(), s.t));
            self.signins.push(s);
        } else if full {
            let sess = self.r.guid();
            self.sessions[u] = sess.clone();
            let corr = self.r.guid();
            let mut s1 = self.sign(u, t0, ip, home_kind, "Login:login", 50074);
            s1.session_id = sess.clone();
            s1.correlation_id = corr.clone();
            s1.mfa = Mfa::NotDone;
            let mut s2 = self.sign(
                u,
                t0 + Duration::seconds(27),
                ip,
                home_kind,
                "SAS:ProcessAuth",
                50140,
            );
            s2.session_id = sess.clone();
            s2.correlation_id = corr.clone();
            s2.mfa = Mfa::Completed;
            let mut s3 = self.sign(u, t0 + Duration::seconds(33), ip, home_kind, "Kmsi:kmsi", 0);
            s3.session_id = sess;
            s3.correlation_id = corr;
            s3.mfa = Mfa::Completed;
            s3.kmsi = Some(true);
            tok.home = Some((s3.token_id.clone(), s3.t));
            self.signins.push(s1);
            self.signins.push(s2);
            self.signins.push(s3);
        } else {
            let mut s = self.sign(u, t0, ip, home_kind, "OAuth2:Authorize", 0);
            s.session_id = self.sessions[u].clone();
            tok.home = Some((s.token_id.clone(), s.t));
            self.signins.push(s);
        }
        if me.admin {
            let t = self.at_in(p, 10, 40);
            let mut s = self.sign(
                u,
                t,
                ip,
                Kind::Browser(APP_AZURE_PORTAL, RES_AZURE_MGMT),
                "OAuth2:Authorize",
                0,
            );
            s.session_id = self.sessions[u].clone();
            self.signins.push(s);
        }
        let owa = !me.desktop || self.r.chance(0.2);
        if owa {
            let t = t0 + Duration::seconds(self.r.range(50, 140));
            let mut s = self.sign(
                u,
                t,
                ip,
                Kind::Browser(APP_OWA, RES_EXO),
                "OAuth2:Authorize",
                0,
            );
            s.session_id = self.sessions[u].clone();
            tok.owa = Some((s.token_id.clone(), s.t));
            self.signins.push(s);
        }
        if me.desktop {
            let t = t0 + Duration::seconds(self.r.range(60, 200));
            let s = self.sign(u, t, ip, Kind::Desktop, "OAuth2:Token", 0);
            tok.desk = Some((s.token_id.clone(), s.t));
            self.signins.push(s);
            if self.r.chance(0.4) {
                let t = self.at_in(p, 240, 330);
                let s = self.sign(u, t, ip, Kind::Desktop, "OAuth2:Token", 0);
                self.signins.push(s);
            }
        }
        let ios_t = if me.ios && self.r.chance(0.5) {
            let t = self.at_in(p, 200, 520);
            let s = self.sign(u, t, ip, Kind::Ios, "OAuth2:Token", 0);
            tok.ios = Some((s.token_id.clone(), s.t));
            self.signins.push(s);
            Some(t)
        } else {
            None
        };

        // Mailbox activity.
        let main = if me.desktop {
            self.ctx(u, Client::Desktop, ip, tok.desk.clone())
        } else {
            self.ctx(u, Client::Owa, ip, tok.owa.clone())
        };
        if me.desktop {
            let t = tok.desk.as_ref().map(|x| x.1).unwrap_or(t0) + Duration::seconds(21);
            let id = self.r.guid();
            let rec = records::mailbox(
                w,
                id,
                t,
                "MailboxLogin",
                2,
                &main,
                vec![],
                false,
                &mut self.r,
            );
            self.recs.push(rec);
            self.sync(t + Duration::seconds(4), &main, false);
        }
        for _ in 0..self.r.range(1, 3) {
            let t = self.at_in(p, 15, 520);
            let cand = self.received_before(u, t, true);
            if cand.is_empty() {
                continue;
            }
            let k = (self.r.range(1, 4) as usize).min(cand.len());
            self.bind(t, &main, &cand[..k], false);
        }
        if let (Some(t), true) = (ios_t, tok.ios.is_some()) {
            let c = self.ctx(u, Client::Ios, ip, tok.ios.clone());
            self.sync(t + Duration::seconds(9), &c, false);
            let cand = self.received_before(u, t, true);
            if !cand.is_empty() && self.r.chance(0.6) {
                let k = (self.r.range(1, 2) as usize).min(cand.len());
                self.bind(t + Duration::seconds(40), &c, &cand[..k], false);
            }
        }
        // Sends of the day.
        let sent: Vec<usize> = (0..self.msgs.len())
            .filter(|&i| {
                let m = &self.msgs[i];
                !m.attack && m.sender == me.upn && m.t.date() == crate::util::day(d)
            })
            .collect();
        for i in sent {
            self.send(i, &main, false);
        }
        // Tidy up newsletters.
        if self.r.chance(0.35) {
            let t = self.at_in(p, 60, 500);
            let news: Vec<usize> = (0..self.boxes[u].len())
                .filter(|&i| {
                    let it = &self.boxes[u][i];
                    it.t < t
                        && (it.folder == "\\Inbox" || it.folder == "\\Newsletters")
                        && (self.msgs[it.msg].sender.starts_with("newsletter@")
                            || self.msgs[it.msg].sender.starts_with("editor@"))
                })
                .collect();
            if !news.is_empty() {
                let k = (self.r.range(1, 3) as usize).min(news.len());
                let pick: Vec<usize> = news[..k].to_vec();
                self.delete(t, &main, "MoveToDeletedItems", &pick, false);
                if self.r.chance(0.3) {
                    let t2 = t + Duration::seconds(self.r.range(60, 3000));
                    self.delete(t2, &main, "SoftDelete", &pick[..1], false);
                }
            }
        }
        if self.r.chance(0.25) {
            let t = self.at_in(p, 30, 500);
            self.create_or_update(t, &main, false);
        }
        if self.r.chance(0.15) {
            let t = self.at_in(p, 30, 500);
            self.create_or_update(t, &main, true);
        }
        if self.r.chance(0.45) {
            let t = self.at_in(p, 20, 500);
            let (site, rel, file) = *self.r.pick(&FILES);
            let rec = records::file_accessed(w, &mut self.r, t, u, ip, site, rel, file);
            self.recs.push(rec);
        }
        self.tokens.insert((u, d), tok);
    }

    fn weekend(&mut self, u: usize, d: u32, p: &Plan) {
        let s = self.sign(u, p.start, p.ip, Kind::Ios, "OAuth2:Token", 0);
        let tok = Some((s.token_id.clone(), s.t));
        self.signins.push(s);
        let c = self.ctx(u, Client::Ios, p.ip, tok.clone());
        self.sync(p.start + Duration::seconds(8), &c, false);
        let cand = self.received_before(u, p.start, true);
        if !cand.is_empty() {
            let k = (self.r.range(1, 3) as usize).min(cand.len());
            self.bind(p.start + Duration::seconds(95), &c, &cand[..k], false);
        }
        self.tokens.insert(
            (u, d),
            DayTokens {
                ios: tok,
                ..Default::default()
            },
        );
    }

    pub fn run(&mut self, plans: &[Vec<Option<Plan>>]) {
        let w = self.w;
        let amelia = w.idx("amelia.hart");
        for d in FIRST_DAY..=LAST_DAY {
            for u in w.people() {
                let Some(p) = plan_of(plans, u, d) else {
                    continue;
                };
                let p = p.clone();
                if p.weekend {
                    self.weekend(u, d, &p);
                } else {
                    self.workday(u, d, &p);
                }
            }
            if d == 8 {
                // Amelia glances at her phone on Sunday evening: her only record that day.
                let me = &w.users[amelia];
                let ip = me.home_ip.unwrap_or(OFFICE_IPS[0]);
                let tok = Some((self.r.token_id(), at(8, 19, 41, 58)));
                let c = self.ctx(amelia, Client::Ios, ip, tok);
                self.sync(at(8, 19, 42, 7), &c, false);
            }
            self.delegates(d);
        }
        self.system_noise();
        self.benign_specials();
    }

    /// Sophie and James work the shared AP mailbox once they have FullAccess (03-04 11:22).
    fn delegates(&mut self, d: u32) {
        if d < 4 {
            return;
        }
        let w = self.w;
        let accounts = w.idx("accounts");
        for local in ["sophie.turner", "james.okafor"] {
            let u = w.idx(local);
            let Some(tok) = self.tokens.get(&(u, d)).cloned() else {
                continue;
            };
            let Some((_, issued)) = tok.desk.clone() else {
                continue;
            };
            let t = issued
                + Duration::seconds(if d == 4 { 3 * 3600 + 900 } else { 3600 })
                + Duration::seconds(self.r.range(0, 5 * 3600));
            if !self.r.chance(0.7) {
                continue;
            }
            let cand = self.received_before(accounts, t, true);
            if cand.is_empty() {
                continue;
            }
            let ip = self
                .signins
                .iter()
                .rev()
                .find(|s| s.user == u && s.t.date() == crate::util::day(d))
                .map(|s| s.ip.clone())
                .unwrap_or_else(|| OFFICE_IPS[0].to_string());
            let mut c = self.ctx(u, Client::Desktop, &ip, tok.desk.clone());
            c.owner = accounts;
            c.logon_type = 2;
            let k = (self.r.range(1, 3) as usize).min(cand.len());
            self.bind(t, &c, &cand[..k], false);
        }
    }

    fn system_noise(&mut self) {
        let w = self.w;
        let mut r = Rng::stream("system");
        let plan_param = |r: &mut Rng| {
            vec![
                nv(
                    "Identity",
                    "tailspinfreight.onmicrosoft.com\\ExchangeOnlineEnterprise-6e2b8a1f-4c07-4d3e-9b58-0f17c2ad9e34",
                ),
                nv("MaxSendSize", "35 MB (36,700,160 bytes)"),
                nv("MaxReceiveSize", "36 MB (37,748,736 bytes)"),
                nv("RetainDeletedItemsFor", format!("{}.00:00:00", 14 + r.below(1) * 16)),
            ]
        };
        for (d, h, m) in [(2, 3, 14), (9, 3, 22)] {
            let params = plan_param(&mut r);
            let rec = records::admin(
                w,
                r.guid(),
                at(d, h, m, r.range(0, 59) as u32),
                "Set-MailboxPlan",
                Admin::System,
                "ExchangeOnlineEnterprise-6e2b8a1f-4c07-4d3e-9b58-0f17c2ad9e34".to_string(),
                params,
                false,
            );
            self.recs.push(rec);
        }
        for d in FIRST_DAY..=LAST_DAY {
            if crate::mail::is_weekend(d) {
                continue;
            }
            let n = r.range(1, 2);
            for k in 0..n {
                let u = if d == 5 && k == 0 {
                    w.idx("amelia.hart")
                } else {
                    r.below(w.users.len() as u64) as usize
                };
                let target = &w.users[u];
                let params = vec![
                    nv("Identity", target.object_id.as_str()),
                    nv("IssueWarningQuota", "98 GB (105,226,698,752 bytes)"),
                    nv("ProhibitSendQuota", "99 GB (106,300,440,576 bytes)"),
                    nv("ProhibitSendReceiveQuota", "100 GB (107,374,182,400 bytes)"),
                    nv("RecoverableItemsQuota", "30 GB (32,212,254,720 bytes)"),
                    nv("Force", "True"),
                ];
                let rec = records::admin(
                    w,
                    r.guid(),
                    at(
                        d,
                        r.range(1, 4) as u32,
                        r.range(0, 59) as u32,
                        r.range(0, 59) as u32,
                    ),
                    "Set-Mailbox",
                    Admin::System,
                    format!("{EXO_ORG_PATH}/{}", target.object_id),
                    params,
                    false,
                );
                self.recs.push(rec);
            }
        }
    }

    fn benign_specials(&mut self) {
        let w = self.w;
        let mut r = Rng::stream("benign");
        // Daniel files newsletters with an ordinary OWA rule (day 2).
        let daniel = w.idx("daniel.price");
        let tok = self.tokens.get(&(daniel, 3)).and_then(|t| t.owa.clone());
        let ip = w.users[daniel].office_ip;
        let rec = records::admin(
            w,
            r.guid(),
            at(3, 10, 47, 22),
            "New-InboxRule",
            Admin::User {
                user: daniel,
                ip_port: format!("{ip}:{}", 50000 + r.below(10000)),
                session: Some(self.sessions[daniel].as_str()),
                token: tok,
                via_owa: true,
            },
            format!("{EXO_ORG_PATH}/{}\\Newsletters", w.users[daniel].object_id),
            vec![
                nv("AlwaysDeleteOutlookRulesBlob", "False"),
                nv("Force", "False"),
                nv("From", "newsletter@industryweekly.example"),
                nv("MoveToFolder", "Newsletters"),
                nv("Name", "Newsletters"),
                nv("StopProcessingRules", "False"),
            ],
            false,
        );
        self.recs.push(rec);

        // IT gives the two finance staff FullAccess to the shared AP mailbox (day 3).
        let admin = w.idx("it.admin");
        let tok = self.tokens.get(&(admin, 4)).and_then(|t| t.home.clone());
        for (k, who) in ["sophie.turner", "james.okafor"].iter().enumerate() {
            let rec = records::admin(
                w,
                r.guid(),
                at(4, 11, 21, 40) + Duration::seconds(35 * k as i64),
                "Add-MailboxPermission",
                Admin::User {
                    user: admin,
                    ip_port: format!("{}:{}", w.users[admin].office_ip, 50000 + r.below(10000)),
                    session: Some(self.sessions[admin].as_str()),
                    token: tok.clone(),
                    via_owa: false,
                },
                format!("{EXO_ORG_PATH}/accounts"),
                vec![
                    nv("Identity", format!("accounts@{DOMAIN}")),
                    nv("User", format!("{who}@{DOMAIN}")),
                    nv("AccessRights", "FullAccess"),
                    nv("InheritanceType", "All"),
                    nv("AutoMapping", "True"),
                ],
                false,
            );
            self.recs.push(rec);
        }

        // Leo, the new starter, registers a phone for MFA on his first morning.
        let leo = w.idx("leo.marsh");
        let t = self
            .signins
            .iter()
            .find(|s| s.user == leo && s.t.date() == crate::util::day(2) && s.kmsi.is_some())
            .map(|s| s.t)
            .unwrap_or(at(2, 8, 30, 0))
            + Duration::seconds(312);
        let me = &w.users[leo];
        let rec = records::directory(
            w,
            &mut r,
            t,
            "Update user.",
            leo,
            me.office_ip,
            me.browser.ua(),
            &me.upn,
            "User",
            vec![
                records::modprop(
                    "StrongAuthenticationMethod",
                    &records::methods_text(&[(6, true), (0, false)]),
                    &records::methods_text(&[(6, true)]),
                ),
                records::modprop(
                    "StrongAuthenticationUserDetails",
                    &records::phone_details_text(Some("+44 7700900412")),
                    &records::phone_details_text(None),
                ),
                records::modprop(
                    "Included Updated Properties",
                    "StrongAuthenticationMethod, StrongAuthenticationUserDetails",
                    "",
                ),
                records::modprop("TargetId.UserType", "Member", ""),
            ],
            records::user_target(me),
            false,
        );
        self.recs.push(rec);
    }
}

const FILES: [(&str, &str, &str); 10] = [
    (
        "Finance",
        "Shared Documents/AP",
        "Supplier Payment Run 2026-03.xlsx",
    ),
    ("Finance", "Shared Documents/AP", "Approved Suppliers.xlsx"),
    (
        "Finance",
        "Shared Documents/Month End",
        "Accruals February.xlsx",
    ),
    ("Operations", "Shared Documents", "Depot Schedule W10.xlsx"),
    (
        "Operations",
        "Shared Documents/Rotas",
        "Driver Rota March.xlsx",
    ),
    (
        "Operations",
        "Shared Documents",
        "Fleet Maintenance Log.xlsx",
    ),
    ("Sales", "Shared Documents/Rate Cards", "Rate Card 2026.pdf"),
    ("Sales", "Shared Documents", "Pipeline Q1.xlsx"),
    ("HR", "Shared Documents/Policies", "Expenses Policy.docx"),
    ("Intranet", "SitePages", "Home.aspx"),
];

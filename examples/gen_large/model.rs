//! The activity model: when things happen (a diurnal, weekday-heavy schedule of "slots"), what
//! each slot is (a weighted operation mix that differs by day and night), who does it, from which
//! client and IP. A slot is a pure function of (seed, slot index), so any export can re-derive
//! any record. Some slots have a follow-up record (an MFA interrupt then the success, a typo then
//! the retry): `Plan::bucket` gathers one minute at a time, follow-ups included, and sorts it, so
//! every export stays in time order while memory stays bounded by one minute of records.

use crate::incident::Incident;
use crate::rng::{h, Rng};
use crate::world::*;

pub const DAYS: u32 = 14;
pub const HOURS: u32 = DAYS * 24;
pub const MINUTES: u32 = DAYS * 1440;

#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Op {
    MiaBind,
    MiaSync,
    MailboxLogin,
    Send,
    Create,
    Update,
    SoftDelete,
    MoveToDeleted,
    HardDelete,
    Search,
    NewInboxRule,
    SetInboxRule,
    SetMailbox,
    FileAccessed,
    FileModified,
    FilePreviewed,
    FileDownloaded,
    FileUploaded,
    PageViewed,
    SignIn,
    TeamsSession,
    TeamsMessage,
    SysSetMailbox,
    SysSetMailboxPlan,
    DirUpdateUser,
    DirAddMember,
    /// An inbound message: message trace only, no UAL record.
    Inbound,
}

impl Op {
    /// Whether the slot produces a Unified Audit Log record.
    pub fn in_ual(self) -> bool {
        self != Op::Inbound
    }
}

/// Operation mix, weights per 10 000, for working hours.
const MIX_DAY: &[(Op, u32)] = &[
    (Op::MiaBind, 2750),
    (Op::MiaSync, 1150),
    (Op::FileAccessed, 1000),
    (Op::FileModified, 330),
    (Op::FilePreviewed, 240),
    (Op::FileDownloaded, 140),
    (Op::FileUploaded, 70),
    (Op::PageViewed, 240),
    (Op::SignIn, 1150),
    (Op::Send, 420),
    (Op::Inbound, 650),
    (Op::MailboxLogin, 300),
    (Op::Update, 300),
    (Op::Create, 200),
    (Op::SoftDelete, 150),
    (Op::MoveToDeleted, 220),
    (Op::TeamsSession, 240),
    (Op::TeamsMessage, 260),
    (Op::SysSetMailbox, 60),
    (Op::SysSetMailboxPlan, 10),
    (Op::DirUpdateUser, 40),
    (Op::DirAddMember, 4),
    (Op::Search, 40),
    (Op::NewInboxRule, 2),
];

/// Nights and weekends: phones syncing, token refreshes, service noise, sprays.
const MIX_NIGHT: &[(Op, u32)] = &[
    (Op::MiaSync, 3300),
    (Op::MiaBind, 1500),
    (Op::SignIn, 1700),
    (Op::Inbound, 1100),
    (Op::SysSetMailbox, 650),
    (Op::SysSetMailboxPlan, 100),
    (Op::FileAccessed, 300),
    (Op::TeamsSession, 200),
    (Op::DirUpdateUser, 120),
    (Op::Send, 150),
    (Op::MailboxLogin, 250),
    (Op::MoveToDeleted, 80),
    (Op::SoftDelete, 50),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Client {
    Desktop,
    Owa,
    Ios,
    Android,
    /// A web browser outside Outlook (SharePoint, Teams web, portal sign-ins).
    Browser,
    Teams,
    /// Service-side (admin noise, directory sync).
    Service,
}

/// Kinds of sign-in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SignKind {
    /// Interactive `Login:login` at the Office portal.
    Login,
    /// Interactive `OAuth2:Authorize` (OWA, SharePoint).
    Authorize,
    /// Interactive `Kmsi:kmsi`.
    Kmsi,
    /// Non-interactive token refresh from Outlook desktop, mobile or Teams.
    Refresh,
    /// Legacy-protocol password spray (ROPC).
    Spray,
}

impl SignKind {
    pub fn interactive(self) -> bool {
        !matches!(self, SignKind::Refresh)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ip {
    Office(u8, u8),
    Home,
    Mobile,
    Spray(u8),
    Fixed(&'static str),
    Empty,
}

/// One record (or trace-only message) to render.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Seconds since the period start.
    pub t: i64,
    /// Tie-break for equal times (slot index × 2 + follow-up; incidents above).
    pub seq: u64,
    pub user: u32,
    pub op: Op,
    pub client: Client,
    pub sk: SignKind,
    pub err: u32,
    pub ip: Ip,
    pub session: u128,
    pub token: u128,
    pub issued: i64,
    /// Seed of every detail (ids, items, subjects): the same in every export.
    pub seed: u64,
    /// Index + 1 into the incident's payloads; 0 for ordinary activity.
    pub inc: u16,
}

pub struct Plan {
    pub seed: u64,
    pub world: World,
    pub slots: u64,
    /// Slots before each hour; `cum[HOURS]` = `slots`.
    cum: Vec<u64>,
    pub incident: Incident,
    /// Calibration only: walk just these minutes.
    pub sample: Option<Vec<u32>>,
}

/// Relative activity by hour of day on weekdays (UTC; the tenant works UK hours).
const HOUR_W: [f64; 24] = [
    0.5, 0.4, 0.35, 0.35, 0.4, 0.7, 2.0, 6.0, 10.0, 11.0, 10.5, 10.0, 8.5, 10.0, 10.5, 10.0, 9.0,
    7.0, 4.0, 2.6, 2.0, 1.6, 1.1, 0.7,
];

pub fn weekend(day: u32) -> bool {
    day % 7 >= 5
}

fn hour_weight(hr: u32) -> f64 {
    let w = HOUR_W[(hr % 24) as usize];
    if weekend(hr / 24) {
        0.25 + w * 0.1
    } else {
        w
    }
}

pub fn is_night(t: i64) -> bool {
    let hr = (t.div_euclid(3600)) as u32;
    let hod = hr % 24;
    weekend(hr / 24) || !(6..21).contains(&hod)
}

impl Plan {
    pub fn new(seed: u64, world: World, slots: u64) -> Plan {
        let total: f64 = (0..HOURS).map(hour_weight).sum();
        let mut cum = Vec::with_capacity(HOURS as usize + 1);
        let mut acc = 0.0;
        cum.push(0);
        for hr in 0..HOURS {
            acc += hour_weight(hr);
            cum.push(((acc / total) * slots as f64).round() as u64);
        }
        if let Some(last) = cum.last_mut() {
            *last = slots;
        }
        let incident = Incident::new(&world, seed);
        Plan {
            seed,
            world,
            slots,
            cum,
            incident,
            sample: None,
        }
    }

    /// Slot range and times of one minute: (first slot, end slot, hour start slot, slots in hour).
    fn minute_slots(&self, m: u32) -> (u64, u64, u64, u64) {
        let hr = (m / 60) as usize;
        let j = (m % 60) as u64;
        let c0 = self.cum[hr];
        let n = self.cum[hr + 1] - c0;
        let k0 = (j * n).div_ceil(60);
        let k1 = ((j + 1) * n).div_ceil(60);
        (c0 + k0, c0 + k1, c0, n)
    }

    /// Builds the specs of slot `i` at time `t`: the record and, sometimes, its follow-up.
    /// `want` sees (user, op) before any detail is drawn, so filtered exports stay cheap.
    fn slot(&self, i: u64, t: i64, want: &dyn Fn(u32, Op) -> bool) -> Option<(Spec, Option<Spec>)> {
        let mut r = Rng::new(h(self.seed, SLOT_SALT, i));
        let night = is_night(t);
        let mix = if night { MIX_NIGHT } else { MIX_DAY };
        let op = pick_op(&mut r, mix);
        let w = &self.world;
        let user = match op {
            Op::SysSetMailbox | Op::SysSetMailboxPlan => r.below(w.users.len() as u64) as u32,
            _ => w.pick_user(&mut r),
        };
        if !want(user, op) {
            return None;
        }
        let u = &w.users[user as usize];
        let day = (t.div_euclid(86_400)) as u64;
        let mut s = Spec {
            t,
            seq: i * 2,
            user,
            op,
            client: Client::Owa,
            sk: SignKind::Authorize,
            err: 0,
            ip: Ip::Empty,
            session: 0,
            token: 0,
            issued: 0,
            seed: r.next(),
            inc: 0,
        };
        let mut follow = None;
        match op {
            Op::SysSetMailbox | Op::SysSetMailboxPlan | Op::DirUpdateUser => {
                s.client = Client::Service;
            }
            Op::Inbound => {
                s.client = Client::Service;
            }
            Op::FileAccessed
            | Op::FileModified
            | Op::FilePreviewed
            | Op::FileDownloaded
            | Op::FileUploaded
            | Op::PageViewed
            | Op::DirAddMember => {
                s.client = if op == Op::FileAccessed && u.mobile != Mobile::None && r.chance(800) {
                    if u.mobile == Mobile::Ios {
                        Client::Ios
                    } else {
                        Client::Android
                    }
                } else {
                    Client::Browser
                };
                s.ip = self.ip_for(user, s.client, t);
            }
            Op::TeamsSession | Op::TeamsMessage => {
                s.client = Client::Teams;
                s.ip = self.ip_for(user, s.client, t);
            }
            Op::SignIn => {
                self.sign_in(&mut r, &mut s, night);
                if s.sk.interactive() && s.sk != SignKind::Spray {
                    // Sequences that end in a success a few seconds later.
                    let roll = r.below(10_000);
                    let (err, gap) = match roll {
                        0..=599 => (50074, r.range(18, 55)),
                        600..=1099 => (50140, r.range(3, 15)),
                        1100..=1399 => (50126, r.range(25, 59)),
                        1400..=1449 => (500121, r.range(35, 59)),
                        1450..=1489 => (50055, 0),
                        1490..=1519 => (53003, 0),
                        1520..=1529 => (50053, 0),
                        _ => (0, 0),
                    };
                    s.err = err;
                    if err == 50126 || err == 50055 || err == 50053 || err == 53003 {
                        s.token = 0;
                        if err != 53003 {
                            s.session = 0;
                        }
                    }
                    if gap > 0 {
                        let mut f = s;
                        f.t = t + gap as i64;
                        f.seq = i * 2 + 1;
                        f.err = 0;
                        f.seed = r.next();
                        f.session = self.session(user, day, s.client, s.ip);
                        f.token = ((r.next() as u128) << 64) | r.next() as u128;
                        f.issued = f.t;
                        follow = Some(f);
                    }
                }
            }
            _ => {
                // Exchange mailbox activity.
                s.client = match op {
                    Op::NewInboxRule => Client::Owa,
                    _ => self.exchange_client(&mut r, user, night),
                };
                s.ip = self.ip_for(user, s.client, t);
                s.session = self.session(user, day, s.client, s.ip);
                let (tok, issued) = self.token(user, s.client, t);
                s.token = tok;
                s.issued = issued;
            }
        }
        Some((s, follow))
    }

    fn sign_in(&self, r: &mut Rng, s: &mut Spec, night: bool) {
        let u = &self.world.users[s.user as usize];
        let roll = r.below(100);
        let (sk, client) = if night {
            match roll {
                0..=39 if u.mobile != Mobile::None => (SignKind::Refresh, mobile_client(u)),
                0..=59 if u.desktop => (SignKind::Refresh, Client::Desktop),
                0..=74 => (SignKind::Refresh, Client::Teams),
                75..=92 => (SignKind::Spray, Client::Service),
                _ => (SignKind::Authorize, Client::Browser),
            }
        } else {
            match roll {
                0..=14 => (SignKind::Login, Client::Browser),
                15..=36 => (SignKind::Authorize, Client::Owa),
                37..=41 => (SignKind::Kmsi, Client::Browser),
                42..=66 if u.desktop => (SignKind::Refresh, Client::Desktop),
                42..=66 => (SignKind::Authorize, Client::Browser),
                67..=81 if u.mobile != Mobile::None => (SignKind::Refresh, mobile_client(u)),
                67..=81 => (SignKind::Authorize, Client::Owa),
                82..=96 => (SignKind::Refresh, Client::Teams),
                _ => (SignKind::Spray, Client::Service),
            }
        };
        s.sk = sk;
        s.client = client;
        let day = (s.t.div_euclid(86_400)) as u64;
        if sk == SignKind::Spray {
            s.ip = Ip::Spray(r.below(SPRAY_IPS.len() as u64) as u8);
            s.err = if r.chance(1200) { 50053 } else { 50126 };
            return;
        }
        s.ip = self.ip_for(s.user, client, s.t);
        s.session = self.session(s.user, day, client, s.ip);
        s.token = (r.next() as u128) << 64 | r.next() as u128;
        s.issued = s.t;
    }

    fn exchange_client(&self, r: &mut Rng, user: u32, night: bool) -> Client {
        let u = &self.world.users[user as usize];
        let roll = r.below(100);
        if night && u.mobile != Mobile::None && roll < 75 {
            return mobile_client(u);
        }
        match roll {
            0..=69 if u.desktop => Client::Desktop,
            0..=79 => Client::Owa,
            _ if u.mobile != Mobile::None => mobile_client(u),
            _ if u.desktop => Client::Desktop,
            _ => Client::Owa,
        }
    }

    /// Where a user is: the office NAT on working days, home otherwise; phones on the carrier.
    pub fn ip_for(&self, user: u32, client: Client, t: i64) -> Ip {
        let u = &self.world.users[user as usize];
        if matches!(client, Client::Ios | Client::Android) {
            return Ip::Mobile;
        }
        let day = t.div_euclid(86_400);
        let hod = (t.rem_euclid(86_400) / 3600) as u32;
        let wfh = h(self.seed, 0x3f4, h(user as u64, day as u64, 0)) % 10_000 < u.remote as u64;
        if weekend(day as u32) || !(7..19).contains(&hod) || wfh {
            return Ip::Home;
        }
        let office = &OFFICES[u.office as usize];
        // The office NAT hands out one of its addresses per (user, hour).
        let k = h(self.seed, 0x4a7, h(user as u64, (t / 3600) as u64, 0)) % office.ips.len() as u64;
        Ip::Office(u.office, k as u8)
    }

    /// Session id of a user's client at a place: a new session when the device changes
    /// network (home/office/carrier), so one benign session never spans networks. Installed
    /// apps (Outlook, Teams, phones) keep theirs for a week; browser sessions last a day.
    pub fn session(&self, user: u32, day: u64, client: Client, ip: Ip) -> u128 {
        let loc = match ip {
            Ip::Office(..) => 0u64,
            Ip::Home => 1,
            Ip::Mobile => 2,
            _ => 3,
        };
        let period = match client {
            Client::Owa | Client::Browser => day,
            _ => 1000 + day / 7,
        };
        let key = h(user as u64, period, ((client as u64) << 8) | loc);
        let a = h(self.seed, 0x5e55, key);
        let b = h(self.seed, 0x5e56, key);
        ((a as u128) << 64) | b as u128
    }

    /// Token of a user's client for the current hour, issued shortly before the hour started.
    pub fn token(&self, user: u32, client: Client, t: i64) -> (u128, i64) {
        let hr = t.div_euclid(3600);
        let a = h(self.seed, 0x70c, h(user as u64, hr as u64, client as u64));
        let b = h(self.seed, 0x70d, h(user as u64, hr as u64, client as u64));
        (
            ((a as u128) << 64) | b as u128,
            hr * 3600 - (a % 1500) as i64 - 60,
        )
    }

    pub fn ip_str<'a>(&'a self, s: &Spec) -> &'a str {
        let u = &self.world.users[s.user as usize];
        match s.ip {
            Ip::Office(o, k) => OFFICES[o as usize].ips[k as usize],
            Ip::Home => &u.home_ip,
            Ip::Mobile => &u.mobile_ip,
            Ip::Spray(k) => SPRAY_IPS[k as usize],
            Ip::Fixed(s) => s,
            Ip::Empty => "",
        }
    }

    /// The time of slot `k` of an hour holding `n` slots: evenly spread, plus a jitter of less
    /// than the spacing (so order is kept) and less than a minute (so a slot moves at most into
    /// the next minute).
    fn slot_time(&self, i: u64, hr: u32, k: u64, n: u64) -> i64 {
        let n = n.max(1);
        let base = k * 3_600_000 / n;
        let spacing = (3_600_000 / n).clamp(1, 59_999);
        let jitter = h(self.seed, 0x717, i) % spacing;
        hr as i64 * 3600 + ((base + jitter) / 1000) as i64
    }

    /// The specs of minute `m`, sorted by time. A slot's jitter (< 1 min) and its follow-up's
    /// delay (< 1 min) can move a record at most two minutes later, so minutes m-2..=m are read.
    pub fn bucket(&self, m: u32, want: &dyn Fn(u32, Op) -> bool, out: &mut Vec<Spec>) {
        out.clear();
        let lo = m as i64 * 60;
        let hi = lo + 60;
        for mm in [m.wrapping_sub(2), m.wrapping_sub(1), m] {
            if mm >= MINUTES {
                continue;
            }
            let (i0, i1, c0, n) = self.minute_slots(mm);
            let hr = mm / 60;
            for i in i0..i1 {
                let t = self.slot_time(i, hr, i - c0, n);
                if t >= hi {
                    continue;
                }
                if let Some((s, f)) = self.slot(i, t, want) {
                    if s.t >= lo {
                        out.push(s);
                    }
                    if let Some(f) = f {
                        if f.t >= lo && f.t < hi {
                            out.push(f);
                        }
                    }
                }
            }
        }
        for s in self.incident.specs.iter() {
            if s.t >= lo && s.t < hi && want(s.user, s.op) {
                out.push(*s);
            }
        }
        out.sort_unstable_by_key(|s| (s.t, s.seq));
    }

    /// Calls `emit` for every spec of minutes `from..to` (restricted to the calibration sample
    /// when one is set), oldest first or newest first.
    pub fn walk(
        &self,
        from: u32,
        to: u32,
        newest_first: bool,
        want: &dyn Fn(u32, Op) -> bool,
        emit: &mut dyn FnMut(&Spec) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let to = to.min(MINUTES);
        let mut minutes: Box<dyn Iterator<Item = u32>> = match &self.sample {
            Some(v) => Box::new(v.iter().copied().filter(|m| (from..to).contains(m))),
            None => Box::new(from..to),
        };
        if newest_first {
            let all: Vec<u32> = minutes.collect();
            minutes = Box::new(all.into_iter().rev());
        }
        for m in minutes {
            self.bucket(m, want, &mut buf);
            if newest_first {
                for s in buf.iter().rev() {
                    emit(s)?;
                }
            } else {
                for s in buf.iter() {
                    emit(s)?;
                }
            }
        }
        Ok(())
    }

    /// Minutes spread over the period, for calibration (about `target` slots in total).
    pub fn sample_minutes(&self, target: u64) -> Vec<u32> {
        let per_min = (self.slots as f64 / MINUTES as f64).max(1e-9);
        let k = ((target as f64 / per_min) as u32).clamp(1, MINUTES);
        let mut stride = (MINUTES / k).max(1);
        while stride > 1 && (stride % 2 == 0 || stride % 3 == 0 || stride % 5 == 0) {
            stride -= 1;
        }
        (0..MINUTES).step_by(stride as usize).collect()
    }

    pub fn slots_in_minute(&self, m: u32) -> u64 {
        let (i0, i1, _, _) = self.minute_slots(m);
        i1 - i0
    }
}

const SLOT_SALT: u64 = 0x510;

fn pick_op(r: &mut Rng, mix: &[(Op, u32)]) -> Op {
    let total: u32 = mix.iter().map(|x| x.1).sum();
    let mut x = r.below(total as u64) as u32;
    for &(op, w) in mix {
        if x < w {
            return op;
        }
        x -= w;
    }
    mix[0].0
}

pub fn mobile_client(u: &User) -> Client {
    if u.mobile == Mobile::Ios {
        Client::Ios
    } else {
        Client::Android
    }
}

//! Mail flow: who mailed whom, when, from which IP, and where each copy landed.

use crate::model::{Item, Msg};
use crate::records::item_id;
use crate::util::{at, day, Rng};
use crate::world::*;
use chrono::{Datelike, Duration, NaiveDateTime, Weekday};

/// A person's working day.
#[derive(Clone)]
pub struct Plan {
    pub ip: &'static str,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub weekend: bool,
}

pub const FIRST_DAY: u32 = 2;
pub const LAST_DAY: u32 = 15;

pub fn is_weekend(d: u32) -> bool {
    matches!(day(d).weekday(), Weekday::Sat | Weekday::Sun)
}

/// Day plans `[user][d - FIRST_DAY]`.
pub fn plans(w: &World) -> Vec<Vec<Option<Plan>>> {
    let mut r = Rng::stream("plans");
    let key_people = [
        "amelia.hart",
        "daniel.price",
        "sophie.turner",
        "james.okafor",
        "priya.shah",
        "tom.whitfield",
        "hannah.lewis",
        "marcus.bell",
        "leo.marsh",
        "it.admin",
    ];
    let mut out = Vec::new();
    for u in w.users.iter() {
        let mut days = Vec::new();
        for d in FIRST_DAY..=LAST_DAY {
            if u.shared {
                days.push(None);
                continue;
            }
            let key = key_people.contains(&u.local());
            if is_weekend(d) {
                // A little weekend mail on the phone, only for people who work from home.
                if u.home_ip.is_some() && u.ios && u.local() != "amelia.hart" && r.chance(0.6) {
                    let s = at(d, 9 + r.range(0, 10) as u32, r.range(0, 59) as u32, 0);
                    days.push(Some(Plan {
                        ip: u.home_ip.unwrap_or(OFFICE_IPS[0]),
                        start: s,
                        end: s + Duration::minutes(25),
                        weekend: true,
                    }));
                } else {
                    days.push(None);
                }
                continue;
            }
            if !key && r.chance(0.05) {
                days.push(None); // leave
                continue;
            }
            let friday = day(d).weekday() == Weekday::Fri;
            let home = match u.home_ip {
                Some(_) if u.local() == "amelia.hart" => friday,
                Some(_) => friday || r.chance(0.2),
                None => false,
            };
            let ip = if home {
                u.home_ip.unwrap_or(OFFICE_IPS[0])
            } else if r.chance(0.08) {
                // The office NAT occasionally hands out the other egress address.
                if u.office_ip == OFFICE_IPS[0] {
                    OFFICE_IPS[1]
                } else {
                    OFFICE_IPS[0]
                }
            } else {
                u.office_ip
            };
            let ip = if u.local() == "amelia.hart" && (9..=11).contains(&d) {
                OFFICE_IPS[0]
            } else {
                ip
            };
            let start_min = if u.local() == "amelia.hart" {
                r.range(7 * 60 + 40, 8 * 60 + 5)
            } else {
                r.range(7 * 60, 9 * 60 + 20)
            };
            let start = at(
                d,
                (start_min / 60) as u32,
                (start_min % 60) as u32,
                r.range(0, 59) as u32,
            );
            let len = r.range(8 * 60, 9 * 60 + 30);
            let mut end = start + Duration::minutes(len);
            let cap = at(d, 18, 20, 0);
            if end > cap {
                end = cap - Duration::minutes(r.range(0, 30));
            }
            days.push(Some(Plan {
                ip,
                start,
                end,
                weekend: false,
            }));
        }
        out.push(days);
    }
    out
}

pub fn plan_of(plans: &[Vec<Option<Plan>>], u: usize, d: u32) -> Option<&Plan> {
    plans
        .get(u)
        .and_then(|v| v.get((d - FIRST_DAY) as usize))
        .and_then(|p| p.as_ref())
}

pub fn internal_mid(server: &str, r: &mut Rng) -> String {
    format!(
        "<{server}{}@{server}.GBRP265.PROD.OUTLOOK.COM>",
        r.hex_upper(29)
    )
}

fn harbor_mid(r: &mut Rng) -> String {
    let srv = format!("AM9PR08MB{}", 6000 + r.below(3000));
    format!("<{srv}{}@{srv}.eurprd08.prod.outlook.com>", r.hex_upper(29))
}

/// External correspondents: (domain, sending IP, MX IP, contacts).
pub struct Ext {
    pub domain: &'static str,
    pub from_ip: &'static str,
    pub mx_ip: &'static str,
    pub contacts: &'static [&'static str],
}

pub const EXTS: [Ext; 7] = [
    Ext {
        domain: "harbor-logistics.example",
        from_ip: "40.107.22.51",
        mx_ip: "52.101.68.19",
        contacts: &["accounts", "payables", "ops"],
    },
    Ext {
        domain: "contoso-retail.example",
        from_ip: "203.0.113.45",
        mx_ip: "203.0.113.46",
        contacts: &["buying", "m.ross", "deliveries"],
    },
    Ext {
        domain: "northwind-traders.example",
        from_ip: "198.51.100.24",
        mx_ip: "198.51.100.25",
        contacts: &["logistics", "k.ahmed", "orders"],
    },
    Ext {
        domain: "fabrikam-foods.example",
        from_ip: "203.0.113.88",
        mx_ip: "203.0.113.89",
        contacts: &["supplychain", "j.ellis"],
    },
    Ext {
        domain: "adatum-parts.example",
        from_ip: "198.51.100.140",
        mx_ip: "198.51.100.141",
        contacts: &["invoices", "sales"],
    },
    Ext {
        domain: "woodgrove-bank.example",
        from_ip: "198.51.100.200",
        mx_ip: "198.51.100.201",
        contacts: &["alerts"],
    },
    Ext {
        domain: "mailbox-relay.example",
        from_ip: "198.51.100.77",
        mx_ip: "198.51.100.78",
        contacts: &["ap.settlements"],
    },
];

pub fn mx_ip(addr: &str) -> &'static str {
    let dom = addr.rsplit('@').next().unwrap_or("");
    EXTS.iter()
        .find(|e| e.domain == dom)
        .map(|e| e.mx_ip)
        .unwrap_or("203.0.113.250")
}

fn ext_mid(domain: &str, t: NaiveDateTime, r: &mut Rng) -> String {
    format!(
        "<{}.{}@{}>",
        t.format("%Y%m%d%H%M%S"),
        r.hex_upper(12).to_ascii_lowercase(),
        domain
    )
}

const INTERNAL_SUBJECTS: [&str; 24] = [
    "Depot schedule for next week",
    "RE: Felixstowe slot bookings",
    "Driver rota w/c 9 March",
    "Q1 forecast – draft for review",
    "Lunch & learn: new TMS screens",
    "Holiday request",
    "RE: Customer complaint ref 55812",
    "Pallet count discrepancy – Bay 4",
    "Invoice approval needed",
    "Fuel card statement February",
    "Updated rate card",
    "Team meeting notes",
    "Customs entry C88 query",
    "RE: Trailer 14 MOT",
    "Month-end close checklist",
    "RE: Warehouse racking inspection",
    "New starter induction – Leo",
    "Overtime sign-off",
    "RE: Manchester hub volumes",
    "Fire drill Thursday 10:00",
    "Credit note request CN-2231",
    "RE: Route optimisation trial",
    "Training: dangerous goods refresher",
    "FW: Port congestion update",
];

const CUSTOMER_SUBJECTS: [&str; 10] = [
    "Delivery booking request",
    "RE: Quote for 12 pallets to Leeds",
    "POD required for consignment",
    "Collection tomorrow 08:00?",
    "Rate enquiry – weekly trunking",
    "RE: Delayed delivery",
    "Order confirmation",
    "Updated delivery window",
    "Damaged goods claim",
    "RE: Invoice query",
];

pub struct MailOut {
    pub msgs: Vec<Msg>,
}

#[allow(clippy::too_many_arguments)]
pub fn msg(
    t: NaiveDateTime,
    mid: String,
    sender: &str,
    rcpts: Vec<String>,
    subject: &str,
    size: u32,
    from_ip: &str,
    incoming: bool,
) -> Msg {
    // Trace ids hang off the Message-ID, so they do not move when other mail is added.
    let mut r = Rng::stream(&format!("trace:{mid}"));
    Msg {
        t,
        ticks: r.below(10_000_000) as u32,
        trace_id: r.guid(),
        mid,
        sender: sender.to_string(),
        rcpts,
        subject: subject.to_string(),
        size,
        from_ip: from_ip.to_string(),
        incoming,
        spam: false,
        attack: false,
    }
}

pub const HL_INVOICES: [(u32, u32, u32, &str); 5] = [
    (
        2,
        10,
        14,
        "Invoice HL-44790 – February line-haul Manchester",
    ),
    (3, 14, 2, "Invoice HL-44802 – fuel surcharge adjustment"),
    (4, 9, 37, "Invoice HL-44811 – Felixstowe container drayage"),
    (
        5,
        11,
        26,
        "Invoice HL-44817 – March line-haul, £18,460.00 due 20/03",
    ),
    (6, 15, 48, "Invoice HL-44823 – warehousing Q1"),
];

/// Ordinary mail of the whole period (the attack's messages are added by `attack`).
pub fn ordinary(w: &World, plans: &[Vec<Option<Plan>>]) -> MailOut {
    let mut r = Rng::stream("mail");
    let mut msgs = Vec::new();
    let people: Vec<usize> = w.people().filter(|&i| !w.users[i].admin).collect();
    let accounts = w.idx("accounts");
    let amelia = w.idx("amelia.hart");

    for d in FIRST_DAY..=LAST_DAY {
        let weekend = is_weekend(d);
        // Newsletters (one message per subscriber).
        if !weekend {
            for local in [
                "daniel.price",
                "marcus.bell",
                "oliver.bennett",
                "isla.fraser",
                "lucy.barnes",
                "ethan.cole",
                "noah.fletcher",
                "samuel.reid",
                "freddie.lloyd",
                "william.hughes",
                "amelia.hart",
            ] {
                let t = at(d, 6, r.range(0, 9) as u32, r.range(0, 59) as u32);
                let subj = format!(
                    "Industry Weekly: freight rates, port news – {}",
                    day(d).format("%-d %B %Y")
                );
                let mut m = msg(
                    t,
                    ext_mid("mta2.industryweekly.example", t, &mut r),
                    "newsletter@industryweekly.example",
                    vec![format!("{local}@{DOMAIN}")],
                    &subj,
                    38_000 + r.below(40_000) as u32,
                    "203.0.113.120",
                    true,
                );
                m.spam = false;
                msgs.push(m);
            }
            // Bank alerts to finance.
            for local in ["sophie.turner", "chloe.patel"] {
                let t = at(d, 7, r.range(0, 20) as u32, r.range(0, 59) as u32);
                msgs.push(msg(
                    t,
                    ext_mid("woodgrove-bank.example", t, &mut r),
                    "alerts@woodgrove-bank.example",
                    vec![format!("{local}@{DOMAIN}")],
                    "Woodgrove Business: daily balance report",
                    14_000 + r.below(4_000) as u32,
                    EXTS[5].from_ip,
                    true,
                ));
            }
        }
        if d == 3 || d == 10 {
            let t = at(d, 5, 30, r.range(0, 59) as u32);
            for &u in people.iter() {
                msgs.push(msg(
                    t + Duration::seconds(r.range(0, 400)),
                    ext_mid("news.logisticstoday.example", t, &mut r),
                    "editor@logisticstoday.example",
                    vec![w.users[u].upn.clone()],
                    "Logistics Today – the week in freight",
                    62_000 + r.below(20_000) as u32,
                    "203.0.113.121",
                    true,
                ));
            }
        }
        // A little spam that EOP catches.
        if r.chance(0.6) {
            let u = *r.pick(&people);
            let t = at(d, r.range(0, 23) as u32, r.range(0, 59) as u32, 0);
            let mut m = msg(
                t,
                ext_mid("bulk-offers.example", t, &mut r),
                "promo@bulk-offers.example",
                vec![w.users[u].upn.clone()],
                "You have (1) pending pallet-jack discount",
                9_000 + r.below(9_000) as u32,
                "203.0.113.200",
                true,
            );
            m.spam = true;
            msgs.push(m);
        }
        for &u in people.iter() {
            let Some(p) = plan_of(plans, u, d) else {
                continue;
            };
            if p.weekend {
                continue;
            }
            let me = &w.users[u];
            let span = (p.end - p.start).num_seconds().max(3600);
            // Internal mail.
            let n = r.range(0, 3);
            for _ in 0..n {
                let t = p.start + Duration::seconds(r.range(600, span - 600));
                let k = r.range(1, 3) as usize;
                let mut rc: Vec<String> = Vec::new();
                while rc.len() < k {
                    let same: Vec<usize> = people
                        .iter()
                        .copied()
                        .filter(|&o| o != u && w.users[o].department == me.department)
                        .collect();
                    let o = if !same.is_empty() && r.chance(0.5) {
                        *r.pick(&same)
                    } else {
                        *r.pick(&people)
                    };
                    if o != u && !rc.contains(&w.users[o].upn) {
                        rc.push(w.users[o].upn.clone());
                    }
                }
                // Finance people copy Amelia and the shared mailbox now and then.
                if me.department == "Finance" && r.chance(0.3) && u != amelia {
                    let a = w.users[amelia].upn.clone();
                    if !rc.contains(&a) {
                        rc.push(a);
                    }
                }
                let subj = *r.pick(&INTERNAL_SUBJECTS);
                msgs.push(msg(
                    t,
                    internal_mid(&me.server, &mut r),
                    &me.upn,
                    rc,
                    subj,
                    9_000 + r.below(60_000) as u32,
                    p.ip,
                    false,
                ));
            }
            // Customer correspondence for front-office people.
            if matches!(
                me.department,
                "Sales" | "Customer Service" | "Transport Planning" | "Management"
            ) {
                for _ in 0..r.range(0, 2) {
                    let e = &EXTS[1 + r.below(3) as usize];
                    let who = format!("{}@{}", r.pick(e.contacts), e.domain);
                    let t = p.start + Duration::seconds(r.range(300, span - 300));
                    let subj = *r.pick(&CUSTOMER_SUBJECTS);
                    msgs.push(msg(
                        t,
                        ext_mid(e.domain, t, &mut r),
                        &who,
                        vec![me.upn.clone()],
                        subj,
                        12_000 + r.below(80_000) as u32,
                        e.from_ip,
                        true,
                    ));
                    if r.chance(0.6) {
                        let t2 = t + Duration::seconds(r.range(600, 5400));
                        if t2 < p.end {
                            let reply = if subj.starts_with("RE: ") {
                                subj.to_string()
                            } else {
                                format!("RE: {subj}")
                            };
                            msgs.push(msg(
                                t2,
                                internal_mid(&me.server, &mut r),
                                &me.upn,
                                vec![who.clone()],
                                &reply,
                                15_000 + r.below(40_000) as u32,
                                p.ip,
                                false,
                            ));
                        }
                    }
                }
            }
        }
        // Other suppliers invoice the shared mailbox and Amelia.
        if !weekend && r.chance(0.7) {
            let t = at(
                d,
                r.range(8, 16) as u32,
                r.range(0, 59) as u32,
                r.range(0, 59) as u32,
            );
            let n = 3100 + d * 7 + r.below(5) as u32;
            msgs.push(msg(
                t,
                ext_mid("adatum-parts.example", t, &mut r),
                "invoices@adatum-parts.example",
                vec![w.users[amelia].upn.clone(), w.users[accounts].upn.clone()],
                &format!("Adatum Parts invoice AP-{n}"),
                90_000 + r.below(120_000) as u32,
                EXTS[4].from_ip,
                true,
            ));
        }
    }

    // The Harbor Logistics invoice threads (what the attacker later reads).
    for (d, h, m, subj) in HL_INVOICES {
        let t = at(d, h, m, r.range(0, 59) as u32);
        msgs.push(msg(
            t,
            harbor_mid(&mut r),
            SUPPLIER,
            vec![w.users[amelia].upn.clone(), w.users[accounts].upn.clone()],
            subj,
            140_000 + r.below(200_000) as u32,
            EXTS[0].from_ip,
            true,
        ));
    }
    for (d, h, m, subj) in [
        (
            4,
            11,
            5,
            "RE: Invoice HL-44811 – Felixstowe container drayage",
        ),
        (
            5,
            14,
            40,
            "RE: Invoice HL-44817 – March line-haul, £18,460.00 due 20/03",
        ),
    ] {
        let t = at(d, h, m, r.range(0, 59) as u32);
        let ip = plan_of(plans, amelia, d)
            .map(|p| p.ip)
            .unwrap_or(OFFICE_IPS[0]);
        msgs.push(msg(
            t,
            internal_mid(&w.users[amelia].server, &mut r),
            &w.users[amelia].upn,
            vec![SUPPLIER.to_string()],
            subj,
            21_000 + r.below(9_000) as u32,
            ip,
            false,
        ));
    }
    // Harbor writes again after the attacker's mail; forwarding sends it away.
    let t = at(9, 13, 52, 8);
    msgs.push(msg(
        t,
        harbor_mid(&mut r),
        SUPPLIER_PAYABLES,
        vec![w.users[amelia].upn.clone()],
        "RE: Invoice HL-44817 – updated bank details",
        31_000,
        EXTS[0].from_ip,
        true,
    ));
    let t = at(10, 10, 5, 41);
    msgs.push(msg(
        t,
        harbor_mid(&mut r),
        SUPPLIER,
        vec![w.users[amelia].upn.clone()],
        "Remittance query – HL-44790",
        24_500,
        EXTS[0].from_ip,
        true,
    ));
    MailOut { msgs }
}

/// Where a copy for an internal recipient lands (None = not delivered to the mailbox).
pub struct Routing {
    pub daniel: usize,
    pub daniel_rule_at: NaiveDateTime,
    pub amelia: usize,
    pub rule_at: NaiveDateTime,
    pub forward_at: NaiveDateTime,
}

impl Routing {
    pub fn forwarded(&self, m: &Msg, rcpt: usize) -> bool {
        rcpt == self.amelia && m.t >= self.forward_at
    }

    pub fn folder(&self, m: &Msg, rcpt: usize) -> Option<&'static str> {
        if self.forwarded(m, rcpt) {
            return None;
        }
        if m.spam {
            return Some("\\Junk Email");
        }
        if rcpt == self.daniel
            && m.t >= self.daniel_rule_at
            && m.sender == "newsletter@industryweekly.example"
        {
            return Some("\\Newsletters");
        }
        if rcpt == self.amelia && m.t >= self.rule_at && m.sender == SUPPLIER {
            let s = m.subject.to_ascii_lowercase();
            if ["invoice", "payment", "remittance"]
                .iter()
                .any(|k| s.contains(k))
            {
                return Some("\\RSS Subscriptions");
            }
        }
        Some("\\Inbox")
    }
}

/// Puts every copy in its mailbox folder; senders keep theirs in Sent Items.
pub fn deliver(w: &World, msgs: &[Msg], route: &Routing) -> Vec<Vec<Item>> {
    let mut r = Rng::stream("deliver");
    let mut boxes: Vec<Vec<Item>> = vec![Vec::new(); w.users.len()];
    for (i, m) in msgs.iter().enumerate() {
        if let Some(s) = w.by_addr(&m.sender) {
            boxes[s].push(Item {
                t: m.t,
                msg: i,
                id: item_id(&w.users[s].store_key, &mut r),
                folder: "\\Sent Items",
            });
        }
        for rc in m.rcpts.iter() {
            if let Some(u) = w.by_addr(rc) {
                if let Some(f) = route.folder(m, u) {
                    boxes[u].push(Item {
                        t: m.t + Duration::seconds(2),
                        msg: i,
                        id: item_id(&w.users[u].store_key, &mut r),
                        folder: f,
                    });
                }
            }
        }
    }
    boxes
}

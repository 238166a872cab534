//! The fictitious tenant: Northwind Logistics Group, its users, offices, devices and the IP
//! addresses they use. Public IPs come from documentation ranges (RFC 5737, RFC 3849) or from
//! the ranges of MaxMind's *test* GeoIP databases (`../shared/geoip/`), never real networks.
//! The per-user table is the only state that grows with `--size` (about 1 user per 2 MB of
//! output, a few hundred bytes each).

use crate::rng::{h, Rng};

pub const TENANT_NAME: &str = "Northwind Logistics Group";
pub const DOMAIN: &str = "northwindlogistics.example";
pub const TENANT_DOMAIN: &str = "northwindlogistics.onmicrosoft.com";
pub const ORG_ID: &str = "3f6b2c1d-8e4a-4f7b-9c2d-5a1e0b7c9d42";
pub const MS_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
pub const SP_HOST: &str = "northwindlogistics.sharepoint.com";
pub const OD_HOST: &str = "northwindlogistics-my.sharepoint.com";
pub const EXO_BUILD: &str = "15.20.8722.027";
pub const SYSTEM_ACTOR: &str = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)";
pub const OBJ_PREFIX: &str =
    "GBRP265A005.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/northwindlogistics.onmicrosoft.com/";

/// (display name, app id) pairs.
pub type App = (&'static str, &'static str);
pub const APP_OFFICEHOME: App = ("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca");
pub const APP_OWA: App = ("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48");
pub const APP_OFFICE: App = ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c");
pub const APP_OUTLOOK_MOBILE: App = ("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4");
pub const APP_TEAMS: App = ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264");
pub const APP_AZ_PS: App = (
    "Azure Active Directory PowerShell",
    "1b730954-1685-4b74-9bfd-dac224a7b894",
);
pub const RES_GRAPH: App = ("Microsoft Graph", "00000003-0000-0000-c000-000000000000");
pub const RES_EXO: App = (
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
);
pub const RES_TEAMS: App = (
    "Microsoft Teams Services",
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
);
pub const RES_SPO: App = (
    "Office 365 SharePoint Online",
    "00000003-0000-0ff1-ce00-000000000000",
);

const FIRST: &[&str] = &[
    "Amelia",
    "Oliver",
    "Sophie",
    "James",
    "Priya",
    "Thomas",
    "Hannah",
    "Marcus",
    "Leo",
    "Charlotte",
    "George",
    "Isla",
    "Ethan",
    "Grace",
    "Noah",
    "Lucy",
    "Jack",
    "Emily",
    "Samuel",
    "Chloe",
    "William",
    "Olivia",
    "Benjamin",
    "Zoë",
    "Ryan",
    "Alice",
    "Freddie",
    "Maya",
    "Daniel",
    "Ava",
    "Henry",
    "Ella",
    "Oscar",
    "Mia",
    "Arthur",
    "Freya",
    "Harry",
    "Ivy",
    "Jacob",
    "Layla",
    "Lucas",
    "Nora",
    "Mason",
    "Ruby",
    "Aarav",
    "Sara",
    "José",
    "Elena",
    "Søren",
    "Ingrid",
    "Kwame",
    "Amara",
    "Hiroshi",
    "Mei",
    "Rafael",
    "Lucía",
    "Tomasz",
    "Zofia",
    "Omar",
    "Fatima",
    "Dmitri",
    "Anya",
    "Callum",
    "Niamh",
];
const LAST: &[&str] = &[
    "Hart",
    "Price",
    "Turner",
    "Okafor",
    "Shah",
    "Whitfield",
    "Lewis",
    "Bell",
    "Marsh",
    "Bennett",
    "Evans",
    "Walsh",
    "Fraser",
    "Cole",
    "Morgan",
    "Fletcher",
    "Barnes",
    "Doyle",
    "Rhodes",
    "Reid",
    "Patel",
    "Hughes",
    "Grant",
    "Ward",
    "Fischer",
    "McAllister",
    "Nowak",
    "Lloyd",
    "Khan",
    "Singh",
    "Brown",
    "Wilson",
    "Taylor",
    "Davies",
    "Roberts",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Harris",
    "Martin",
    "Cooper",
    "King",
    "Lee",
    "Baker",
    "Allen",
    "Young",
    "Mitchell",
    "Carter",
    "Phillips",
    "Mensah",
    "Tanaka",
    "Wang",
    "García",
    "Ferreira",
    "Kowalski",
    "Ivanova",
    "Andersson",
    "Nielsen",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Byrne",
    "Ryan",
    "Fitzgerald",
    "Moreau",
    "Dubois",
    "Rossi",
    "Bianchi",
    "Novak",
    "Horvat",
    "Yilmaz",
    "Demir",
    "Haddad",
    "Costa",
];
/// Departments: 0 Finance, 1 Accounts Payable, 2 Sales, 3 Operations, 4 Customer Service,
/// 5 Warehouse, 6 Transport Planning, 7 HR, 8 IT, 9 Marketing, 10 Legal, 11 Procurement,
/// 12 Management.
/// Relative head-count of each department (same order).
const DEPT_W: &[u32] = &[6, 4, 14, 16, 12, 14, 10, 4, 4, 5, 2, 5, 4];

/// Mailbox servers (Exchange Online database host names).
pub const SERVERS: &[&str] = &[
    "LO2P265MB4123",
    "LOYP265MB2047",
    "CWLP265MB3312",
    "LO4P265MB5870",
    "LO0P265MB6109",
    "CWXP265MB1743",
    "LNXP265MB2291",
    "LO3P265MB2208",
    "CWLP265MB4456",
    "LO6P265MB6835",
    "AM9PR08MB7305",
    "AM9PR08MB6560",
    "DB9PR08MB8193",
    "PAXPR08MB6583",
    "AS8PR08MB7779",
];

pub struct Office {
    pub city: &'static str,
    pub state: &'static str,
    pub cc: &'static str,
    pub asn: u32,
    pub ips: &'static [&'static str],
}

pub const OFFICES: &[Office] = &[
    Office {
        city: "London",
        state: "England",
        cc: "GB",
        asn: 20712,
        ips: &["81.2.69.150", "81.2.69.151", "81.2.69.152", "81.2.69.153"],
    },
    Office {
        city: "Manchester",
        state: "England",
        cc: "GB",
        asn: 5089,
        ips: &["198.51.100.20", "198.51.100.21", "198.51.100.22"],
    },
    Office {
        city: "Milton",
        state: "Washington",
        cc: "US",
        asn: 209,
        ips: &["216.160.83.57", "216.160.83.58"],
    },
    Office {
        city: "Felixstowe",
        state: "England",
        cc: "GB",
        asn: 2856,
        ips: &["198.51.100.70", "198.51.100.71"],
    },
];
/// Share of users per office (same order).
const OFFICE_W: &[u32] = &[55, 25, 10, 10];

/// Password-spray sources (a botnet): TEST-NET-3.
pub const SPRAY_IPS: &[&str] = &[
    "203.0.113.17",
    "203.0.113.45",
    "203.0.113.88",
    "203.0.113.102",
    "203.0.113.131",
    "203.0.113.166",
    "203.0.113.190",
    "203.0.113.203",
    "203.0.113.229",
    "203.0.113.250",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Windows,
    Mac,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Edge,
    Chrome,
    Firefox,
    Safari,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mobile {
    None,
    Ios,
    Android,
}

pub struct User {
    pub upn: String,
    /// How the person types their name at the sign-in prompt (case varies, as in real logs).
    pub typed: String,
    pub display: String,
    pub dept: u8,
    pub object_id: String,
    pub puid: String,
    pub sid: String,
    pub mailbox_guid: String,
    pub device_id: String,
    pub device_name: String,
    pub server: &'static str,
    pub office: u8,
    pub home_ip: String,
    pub mobile_ip: String,
    pub os: Os,
    pub browser: Browser,
    pub desktop: bool,
    pub mobile: Mobile,
    /// Share of weekdays worked from home, per 10 000.
    pub remote: u32,
    /// Relative activity (some people generate far more audit records than others).
    pub weight: f64,
    pub admin: bool,
}

pub struct World {
    pub seed: u64,
    pub users: Vec<User>,
    /// Cumulative activity weights (for weighted user choice).
    cum: Vec<f64>,
}

fn weighted(r: &mut Rng, w: &[u32]) -> usize {
    let total: u32 = w.iter().sum();
    let mut x = r.below(total as u64) as u32;
    for (i, &v) in w.iter().enumerate() {
        if x < v {
            return i;
        }
        x -= v;
    }
    w.len() - 1
}

fn fold_ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ë' | 'é' => Some('e'),
            'í' => Some('i'),
            'ø' => Some('o'),
            'á' => Some('a'),
            '\'' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}

fn guid_string(x: u128) -> String {
    let mut b = Vec::with_capacity(36);
    crate::out::guid(&mut b, x);
    String::from_utf8(b).unwrap_or_default()
}

impl World {
    pub fn build(seed: u64, n_users: usize) -> World {
        let mut users = Vec::with_capacity(n_users);
        let combos = FIRST.len() * LAST.len();
        for i in 0..n_users {
            let mut r = Rng::new(h(seed, 0x05e5, i as u64));
            // A permutation of (first, last) pairs so neighbours do not share a first name.
            let j = (i * 2_654_435_761usize + 17) % combos;
            let first = FIRST[j % FIRST.len()];
            let last = LAST[j / FIRST.len()];
            let dup = i / combos;
            let local = if dup == 0 {
                format!("{}.{}", fold_ascii(first), fold_ascii(last))
            } else {
                format!("{}.{}{}", fold_ascii(first), fold_ascii(last), dup + 1)
            };
            let upn = format!("{local}@{DOMAIN}");
            let typed = match r.below(10) {
                0 => {
                    let mut t: Vec<char> = local.chars().collect();
                    if let Some(c) = t.first_mut() {
                        *c = c.to_ascii_uppercase();
                    }
                    if let Some(p) = t.iter().position(|&c| c == '.') {
                        if let Some(c) = t.get_mut(p + 1) {
                            *c = c.to_ascii_uppercase();
                        }
                    }
                    format!("{}@{DOMAIN}", t.into_iter().collect::<String>())
                }
                1 => format!("{local}@NorthwindLogistics.example"),
                _ => upn.clone(),
            };
            let dept = weighted(&mut r, DEPT_W) as u8;
            let os = if r.chance(2000) { Os::Mac } else { Os::Windows };
            let browser = match (os, r.below(100)) {
                (Os::Mac, 0..=54) => Browser::Safari,
                (Os::Mac, _) => Browser::Chrome,
                (_, 0..=49) => Browser::Edge,
                (_, 50..=92) => Browser::Chrome,
                _ => Browser::Firefox,
            };
            let mobile = match r.below(100) {
                0..=44 => Mobile::Ios,
                45..=74 => Mobile::Android,
                _ => Mobile::None,
            };
            let home_ip = if i < 150 && r.chance(5000) {
                format!("192.0.2.{}", 20 + i)
            } else {
                format!(
                    "2001:db8:{:x}:{:x}::{:x}",
                    0x1000 + r.below(0xe000),
                    r.below(0xffff) + 1,
                    r.below(0xfff) + 1
                )
            };
            let mobile_ip = format!(
                "2001:db8:f{:03x}:{:x}:{:x}::1",
                r.below(0xfff),
                r.below(0xffff) + 1,
                r.below(0xffff) + 1
            );
            // Lognormal-ish activity: a few heavy users, a long tail of light ones.
            let weight =
                (r.unit() * 2.2 - 1.1).exp() * if dept == 0 || dept == 1 { 1.3 } else { 1.0 };
            let admin = dept == 8 && r.chance(4000);
            users.push(User {
                display: if dup == 0 {
                    format!("{first} {last}")
                } else {
                    format!("{first} {last} ({})", dup + 1)
                },
                upn,
                typed,
                dept,
                object_id: guid_string(r.u128()),
                puid: {
                    let mut b = b"100320".to_vec();
                    crate::out::hex_upper(&mut b, r.next(), 10);
                    String::from_utf8(b).unwrap_or_default()
                },
                sid: format!(
                    "S-1-5-21-2804197563-1375930712-3847102296-{}",
                    4_800_000 + i * 37 + r.below(37) as usize
                ),
                mailbox_guid: guid_string(r.u128()),
                device_id: guid_string(r.u128()),
                device_name: format!(
                    "NWL-{}-{}",
                    if os == Os::Mac { "MB" } else { "LT" },
                    1000 + i
                ),
                server: SERVERS[r.below(SERVERS.len() as u64) as usize],
                office: weighted(&mut r, OFFICE_W) as u8,
                home_ip,
                mobile_ip,
                os,
                browser,
                desktop: os == Os::Windows && r.chance(8000),
                mobile,
                remote: [0, 2000, 4000, 6000][r.below(4) as usize],
                weight,
                admin,
            });
        }
        let mut cum = Vec::with_capacity(users.len());
        let mut acc = 0.0;
        for u in users.iter() {
            acc += u.weight;
            cum.push(acc);
        }
        World { seed, users, cum }
    }

    /// A user drawn in proportion to activity.
    #[inline]
    pub fn pick_user(&self, r: &mut Rng) -> u32 {
        let total = self.cum.last().copied().unwrap_or(1.0);
        let x = r.unit() * total;
        self.cum
            .partition_point(|&c| c <= x)
            .min(self.users.len() - 1) as u32
    }

    /// Users in a deterministic shuffled order (people of the `prefer` departments first),
    /// first-come until `frac` of the activity is covered; always includes `force`. Used to
    /// scope the smaller exports.
    pub fn subset(&self, salt: u64, frac: f64, force: &[u32], prefer: &[u8]) -> Vec<bool> {
        let total = self.cum.last().copied().unwrap_or(1.0);
        let mut order: Vec<(bool, u64, usize)> = (0..self.users.len())
            .map(|i| {
                (
                    !prefer.contains(&self.users[i].dept),
                    h(self.seed, salt, i as u64),
                    i,
                )
            })
            .collect();
        order.sort_unstable();
        let mut inset = vec![false; self.users.len()];
        let mut acc = 0.0;
        for &f in force {
            if let Some(s) = inset.get_mut(f as usize) {
                if !*s {
                    *s = true;
                    acc += self.users[f as usize].weight;
                }
            }
        }
        for (_, _, i) in order {
            if acc >= frac * total {
                break;
            }
            if !inset[i] {
                inset[i] = true;
                acc += self.users[i].weight;
            }
        }
        inset
    }

    /// The first user (in a seeded order) of department `dept` other than `not`, if any.
    pub fn someone_in(&self, salt: u64, dept: u8, not: Option<u32>) -> Option<u32> {
        (0..self.users.len() as u32)
            .filter(|&i| self.users[i as usize].dept == dept && Some(i) != not)
            .min_by_key(|&i| h(self.seed, salt, i as u64))
    }

    pub fn office_of(&self, u: u32) -> &'static Office {
        &OFFICES[self.users[u as usize].office as usize]
    }
}

impl Browser {
    pub fn ua(self, os: Os) -> &'static str {
        match (os, self) {
            (Os::Mac, Browser::Safari) => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
            (Os::Mac, _) => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            (_, Browser::Edge) => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92",
            (_, Browser::Firefox) => "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
            _ => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
        }
    }

    /// (UAL BrowserType, Entra browser column).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Browser::Edge => ("Edge", "Edge 122.0.2365"),
            Browser::Chrome => ("Chrome", "Chrome 122.0.0"),
            Browser::Firefox => ("Firefox", "Firefox 123.0"),
            Browser::Safari => ("Safari", "Safari 17.3"),
        }
    }
}

pub const OUTLOOK_DESKTOP_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
pub const OUTLOOK_IOS_UA: &str = "Outlook-iOS/2.0";
pub const OUTLOOK_ANDROID_UA: &str = "Outlook-Android/2.0";
pub const TEAMS_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Teams/24004.1307.2669.7070";
pub const SPRAY_UA: &str = "BAV2ROPC";

/// External partners (mail correspondents).
pub const PARTNERS: &[&str] = &[
    "harbor-logistics.example",
    "fabrikam-shipping.example",
    "northwind-traders.example",
    "adventure-works.example",
    "litware-freight.example",
    "proseware.example",
    "tailwind-ports.example",
    "wingtip-customs.example",
    "contoso-fuel.example",
    "woodgrove-bank.example",
    "fourthcoffee.example",
    "alpine-ski-house.example",
];
pub const PARTNER_LOCALS: &[&str] = &[
    "accounts",
    "billing",
    "ops",
    "j.murray",
    "s.ahmed",
    "dispatch",
    "k.ahmed",
    "invoices",
    "p.novak",
    "support",
    "m.lindqvist",
    "customs",
    "r.costa",
    "sales",
];
/// MX-ish IPs of partner domains (RFC 5737 TEST-NET-2).
pub fn partner_ip(p: usize) -> String {
    format!("198.51.100.{}", 130 + p * 7)
}

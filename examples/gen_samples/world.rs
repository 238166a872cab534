//! The tenant, its people, their devices and the fixed facts of the case.

use crate::util::Rng;

pub const TENANT_NAME: &str = "Tailspin Freight Ltd";
pub const DOMAIN: &str = "tailspinfreight.example";
pub const TENANT_DOMAIN: &str = "tailspinfreight.onmicrosoft.com";
pub const ORG_ID: &str = "5d2e8f14-7c3b-4a96-b1e0-93f6a2c47d58";
/// Microsoft's first-party services tenant (owner of OfficeHome, Exchange Online …).
pub const MS_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
pub const EXO_ORG_PATH: &str =
    "GBRP265A005.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/tailspinfreight.onmicrosoft.com";
pub const SP_HOST: &str = "tailspinfreight.sharepoint.com";

pub const OFFICE_IPS: [&str; 2] = ["81.2.69.150", "81.2.69.151"];
pub const HOME_IPS: [&str; 6] = [
    "2.125.160.217",
    "2.125.160.218",
    "2.125.160.219",
    "2.125.160.220",
    "2.125.160.221",
    "2.125.160.222",
];

pub const ATTACKER_IP: &str = "89.160.20.115";
pub const REPLAY_IP: &str = "175.16.199.10";
pub const PHISH_SENDER_IP: &str = "175.16.199.20";
pub const ATTACKER_SESSION: &str = "7f3c9a1e-2b4d-4e8f-9c61-5a0d8e2f4b17";
pub const ATTACKER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0";
pub const PHISH_SENDER: &str = "docs@sharepoint-filedrop.example";
pub const SUPPLIER: &str = "accounts@harbor-logistics.example";
pub const SUPPLIER_PAYABLES: &str = "payables@harbor-logistics.example";
pub const FORWARD_TO: &str = "ap.settlements@mailbox-relay.example";
pub const RULE_NAME: &str = "..";
pub const CONSENT_APP_NAME: &str = "PDF Reader Online";
pub const CONSENT_APP_ID: &str = "3c9f6b2e-81d4-4e7a-a0b5-6f2d9c18e473";
pub const CONSENT_SP_OBJECT_ID: &str = "b7e41c09-5a3f-4d62-9e18-2c7a0f5d3b96";
pub const GRAPH_SP_OBJECT_ID: &str = "e1a94f3d-0c6b-4b27-8d53-71f2a9c0e845";

// First-party application ids.
pub const APP_OFFICEHOME: (&str, &str) = ("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca");
pub const APP_OWA: (&str, &str) = ("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48");
pub const APP_OFFICE: (&str, &str) = ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c");
pub const APP_OUTLOOK_MOBILE: (&str, &str) =
    ("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4");
pub const APP_AZURE_PORTAL: (&str, &str) = ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c");
pub const RES_EXO: (&str, &str) = (
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
);
pub const RES_GRAPH: (&str, &str) = ("Microsoft Graph", "00000003-0000-0000-c000-000000000000");
pub const RES_AZURE_MGMT: (&str, &str) = (
    "Windows Azure Service Management API",
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Browser {
    EdgeWin,
    ChromeWin,
    ChromeMac,
    EdgeMac,
}

impl Browser {
    pub fn ua(self) -> &'static str {
        match self {
            Browser::EdgeWin => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92",
            Browser::ChromeWin => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            Browser::ChromeMac => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            Browser::EdgeMac => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92",
        }
    }
    /// (`DeviceProperties` OS, `BrowserType`, Entra "Operating System", Entra "Browser").
    pub fn names(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Browser::EdgeWin => ("Windows10", "Edge", "Windows10", "Edge 122.0.2365"),
            Browser::ChromeWin => ("Windows10", "Chrome", "Windows10", "Chrome 122.0.0"),
            Browser::ChromeMac => ("MacOs", "Chrome", "MacOs", "Chrome 122.0.0"),
            Browser::EdgeMac => ("MacOs", "Edge", "MacOs", "Edge 122.0.2365"),
        }
    }
    pub fn windows(self) -> bool {
        matches!(self, Browser::EdgeWin | Browser::ChromeWin)
    }
}

pub const OUTLOOK_DESKTOP_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
pub const OUTLOOK_IOS_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 OutlookMobileApp/4.2408.0";

/// How a mailbox operation reached Exchange.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Client {
    Desktop,
    Owa,
    Ios,
}

impl Client {
    pub fn info_string(self) -> &'static str {
        match self {
            Client::Desktop => "Client=MSExchangeRPC",
            Client::Owa => "Client=OWA;Action=ViaProxy",
            Client::Ios => "Client=OutlookService;Outlook-iOS/2.0",
        }
    }
}

pub struct User {
    pub upn: String,
    pub display: String,
    pub department: &'static str,
    /// The login name as this person types it (case varies for a few people).
    pub typed: String,
    pub object_id: String,
    pub puid: String,
    pub sid: String,
    pub mailbox_guid: String,
    /// Mailbox server, e.g. `LO2P265MB4123` (used in Message-IDs and OriginatingServer).
    pub server: String,
    pub store_key: String,
    pub shared: bool,
    pub admin: bool,
    pub office_ip: &'static str,
    pub home_ip: Option<&'static str>,
    pub browser: Browser,
    pub desktop: bool,
    pub ios: bool,
    pub device_id: String,
    pub device_name: String,
    /// Long-lived Entra session ids, one per client (the SSO session of that device).
    pub browser_session: String,
    pub desktop_session: String,
    pub ios_session: String,
}

impl User {
    pub fn local(&self) -> &str {
        self.upn.split('@').next().unwrap_or("")
    }
}

/// (local part, display name, department, browser, outlook desktop, outlook iOS, home ip index)
type Person = (
    &'static str,
    &'static str,
    &'static str,
    Browser,
    bool,
    bool,
    Option<usize>,
);

const PEOPLE: [Person; 28] = [
    (
        "amelia.hart",
        "Amelia Hart",
        "Accounts Payable",
        Browser::EdgeWin,
        true,
        true,
        Some(2),
    ),
    (
        "daniel.price",
        "Daniel Price",
        "Operations",
        Browser::EdgeWin,
        false,
        true,
        None,
    ),
    (
        "sophie.turner",
        "Sophie Turner",
        "Finance",
        Browser::EdgeWin,
        true,
        true,
        Some(0),
    ),
    (
        "james.okafor",
        "James Okafor",
        "Finance",
        Browser::ChromeWin,
        true,
        false,
        None,
    ),
    (
        "priya.shah",
        "Priya Shah",
        "Finance",
        Browser::EdgeWin,
        true,
        true,
        None,
    ),
    (
        "tom.whitfield",
        "Tom Whitfield",
        "Operations",
        Browser::ChromeWin,
        true,
        false,
        Some(1),
    ),
    (
        "hannah.lewis",
        "Hannah Lewis",
        "Customer Service",
        Browser::EdgeWin,
        true,
        true,
        None,
    ),
    (
        "marcus.bell",
        "Marcus Bell",
        "Sales",
        Browser::ChromeMac,
        false,
        true,
        Some(3),
    ),
    (
        "leo.marsh",
        "Leo Marsh",
        "Operations",
        Browser::EdgeWin,
        true,
        true,
        None,
    ),
    (
        "oliver.bennett",
        "Oliver Bennett",
        "Management",
        Browser::EdgeMac,
        false,
        true,
        Some(4),
    ),
    (
        "charlotte.evans",
        "Charlotte Evans",
        "HR",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "george.walsh",
        "George Walsh",
        "Warehouse",
        Browser::ChromeWin,
        true,
        false,
        None,
    ),
    (
        "isla.fraser",
        "Isla Fraser",
        "Sales",
        Browser::ChromeMac,
        false,
        true,
        None,
    ),
    (
        "ethan.cole",
        "Ethan Cole",
        "Transport Planning",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "grace.morgan",
        "Grace Morgan",
        "Customer Service",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "noah.fletcher",
        "Noah Fletcher",
        "Transport Planning",
        Browser::ChromeWin,
        true,
        true,
        None,
    ),
    (
        "lucy.barnes",
        "Lucy Barnes",
        "Marketing",
        Browser::ChromeMac,
        false,
        true,
        Some(5),
    ),
    (
        "jack.doyle",
        "Jack Doyle",
        "Warehouse",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "emily.rhodes",
        "Emily Rhodes",
        "HR",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "samuel.reid",
        "Samuel Reid",
        "Transport Planning",
        Browser::EdgeWin,
        true,
        true,
        None,
    ),
    (
        "chloe.patel",
        "Chloe Patel",
        "Finance",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "william.hughes",
        "William Hughes",
        "Management",
        Browser::EdgeWin,
        true,
        true,
        None,
    ),
    (
        "olivia.grant",
        "Olivia Grant",
        "Sales",
        Browser::ChromeWin,
        true,
        true,
        None,
    ),
    (
        "benjamin.ward",
        "Benjamin Ward",
        "Operations",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "zoe.fischer",
        "Zoë Fischer",
        "Customs Compliance",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "ryan.mcallister",
        "Ryan McAllister",
        "Warehouse",
        Browser::ChromeWin,
        true,
        false,
        None,
    ),
    (
        "alice.nowak",
        "Alice Nowak",
        "Customer Service",
        Browser::EdgeWin,
        true,
        false,
        None,
    ),
    (
        "freddie.lloyd",
        "Freddie Lloyd",
        "Sales",
        Browser::ChromeMac,
        false,
        true,
        None,
    ),
];

pub const SERVERS: [&str; 5] = [
    "LO2P265MB4123",
    "LO4P265MB5870",
    "CWLP265MB3312",
    "LO0P265MB6109",
    "LOYP265MB2047",
];

pub struct World {
    pub users: Vec<User>,
}

impl World {
    pub fn build() -> World {
        let mut r = Rng::stream("users");
        let mut users = Vec::new();
        let mut push = |local: &str,
                        display: &str,
                        department: &'static str,
                        browser: Browser,
                        desktop: bool,
                        ios: bool,
                        home: Option<usize>,
                        shared: bool,
                        admin: bool,
                        r: &mut Rng| {
            let upn = format!("{local}@{DOMAIN}");
            let typed = match local {
                "george.walsh" => format!("George.Walsh@{DOMAIN}"),
                "olivia.grant" => "Olivia.Grant@TailspinFreight.example".to_string(),
                _ => upn.clone(),
            };
            let n = users.len();
            users.push(User {
                upn,
                display: display.to_string(),
                department,
                typed,
                object_id: r.guid(),
                puid: format!("100320{}", r.hex_upper(10)),
                sid: format!(
                    "S-1-5-21-2804197563-1375930712-3847102296-{}",
                    4_812_300 + n as u64 * 37 + r.below(30)
                ),
                mailbox_guid: r.guid(),
                server: SERVERS[n % SERVERS.len()].to_string(),
                store_key: r.b64(22),
                shared,
                admin,
                office_ip: if r.chance(0.35) {
                    OFFICE_IPS[1]
                } else {
                    OFFICE_IPS[0]
                },
                home_ip: home.map(|i| HOME_IPS[i]),
                browser,
                desktop,
                ios,
                device_id: r.guid(),
                device_name: format!("TSF-LT-{:03}", 100 + n * 7 % 97),
                browser_session: r.guid(),
                desktop_session: r.guid(),
                ios_session: r.guid(),
            });
        };
        for p in PEOPLE.iter() {
            push(p.0, p.1, p.2, p.3, p.4, p.5, p.6, false, false, &mut r);
        }
        push(
            "it.admin",
            "IT Administrator",
            "IT",
            Browser::EdgeWin,
            true,
            false,
            None,
            false,
            true,
            &mut r,
        );
        push(
            "accounts",
            "Accounts (shared)",
            "Finance",
            Browser::EdgeWin,
            false,
            false,
            None,
            true,
            false,
            &mut r,
        );
        // Amelia works from the main office egress.
        if let Some(a) = users.iter_mut().find(|u| u.upn.starts_with("amelia.hart@")) {
            a.office_ip = OFFICE_IPS[0];
        }
        World { users }
    }

    pub fn idx(&self, local: &str) -> usize {
        self.users
            .iter()
            .position(|u| u.local() == local)
            .unwrap_or_else(|| panic!("unknown user {local}"))
    }

    pub fn by_addr(&self, addr: &str) -> Option<usize> {
        let a = addr.to_ascii_lowercase();
        self.users.iter().position(|u| u.upn == a)
    }

    /// People who sign in (everyone but the shared mailbox).
    pub fn people(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.users.len()).filter(|&i| !self.users[i].shared)
    }
}

/// Geolocation, as MaxMind's test database answers for the case IPs, rendered the Entra way.
pub struct Geo {
    pub city: &'static str,
    pub state: &'static str,
    pub cc: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub asn: u32,
}

pub fn geo(ip: &str) -> Geo {
    if ip.starts_with("81.2.69.") {
        Geo {
            city: "London",
            state: "England",
            cc: "GB",
            lat: 51.5142,
            lon: -0.0931,
            asn: 20712,
        }
    } else if ip.starts_with("2.125.160.") {
        Geo {
            city: "Boxford",
            state: "England",
            cc: "GB",
            lat: 51.75,
            lon: -1.25,
            asn: 5607,
        }
    } else if ip.starts_with("89.160.20.") {
        Geo {
            city: "Linköping",
            state: "Östergötlands län",
            cc: "SE",
            lat: 58.4167,
            lon: 15.6167,
            asn: 29518,
        }
    } else {
        Geo {
            city: "Changchun",
            state: "Jilin Sheng",
            cc: "CN",
            lat: 43.88,
            lon: 125.3228,
            asn: 4837,
        }
    }
}

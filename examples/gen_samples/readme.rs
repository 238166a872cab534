//! `samples/README.md`: the case, the files, and the ground truth, with every count computed
//! from the generated data so the text cannot drift from the files.

use crate::attack::{FRAUD_SUBJECT, PHISH_SUBJECT};
use crate::export::{self, in_days, Out};
use crate::mail::Routing;
use crate::model::Case;
use crate::records::SYSTEM_ACTOR;
use crate::util::J;
use crate::world::*;
use std::collections::BTreeMap;
use std::fmt::Write;

fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

pub fn render(c: &Case, route: &Routing, outs: &[Out]) -> String {
    let w = &c.world;
    let f = &c.facts;
    let amelia = &w.users[w.idx("amelia.hart")];
    let mut s = String::new();
    let o = |s: &mut String, t: &str| {
        s.push_str(t);
        s.push('\n');
    };

    o(
        &mut s,
        "# Sample case: Tailspin Freight Ltd — compromise of amelia.hart (fictitious)",
    );
    o(&mut s, "");
    o(&mut s, "A complete, **fictitious** Microsoft 365 business-email-compromise case, as the exports an investigator would");
    o(&mut s, "collect. Every name, address, identifier and message is invented: domains end in `.example`, the tenant GUIDs are");
    o(&mut s, "made up, and the public IPs come from the ranges MaxMind uses in its *test* GeoIP databases (see");
    o(&mut s, "`../shared/geoip/`) or from the documentation ranges (RFC 5737). The exports reproduce the real shapes and quirks");
    o(&mut s, "described in `formats.md` (encodings, BOMs, quoting, culture dates, PowerShell layouts), so the folder doubles as");
    o(&mut s, "an end-to-end test input with a known answer.");
    o(&mut s, "");
    o(&mut s, "## How it was generated");
    o(&mut s, "");
    o(&mut s, "```sh");
    o(&mut s, "cargo run --example gen_samples -- samples");
    o(&mut s, "```");
    o(&mut s, "");
    o(&mut s, "`examples/gen_samples/` (std + chrono only) builds the tenant, fourteen days of ordinary activity, the attack and");
    o(&mut s, "the mail flow from one fixed-seed splitmix64 generator, then renders each export. No clock is read and no hash-map");
    o(&mut s, "order reaches the output: two runs produce byte-identical files (this README included). Edit the generator, not the");
    o(&mut s, "files. The generator also writes `.gitattributes` (`-text`) so git never rewrites line ends or encodings.");
    o(&mut s, "");

    // Tenant ---------------------------------------------------------------------------------
    o(&mut s, "## The tenant");
    o(&mut s, "");
    let _ = writeln!(s, "* Tenant **{TENANT_NAME}**, vanity domain `{DOMAIN}`, tenant domain `{TENANT_DOMAIN}`, OrganizationId / tenant id `{ORG_ID}`.");
    let _ = writeln!(s, "* {} accounts: {} people, `it.admin@{DOMAIN}` (the administrator) and the shared mailbox `accounts@{DOMAIN}` (Accounts Payable; no sign-ins).", w.users.len(), w.users.len() - 2);
    let _ = writeln!(s, "* Office in London: egress IPs `{}` and `{}` (GeoIP test DB: London, GB). Six people also work from home on `2.125.160.217`–`222` (Boxford, GB).", OFFICE_IPS[0], OFFICE_IPS[1]);
    o(&mut s, "* Clients: Edge/Chrome on Windows and Macs, Outlook desktop (`Client=MSExchangeRPC`), Outlook for iOS (`Client=OutlookService;Outlook-iOS/2.0`), OWA (`Client=OWA;Action=ViaProxy`).");
    o(&mut s, "* Period: 2026-03-02T00:00:00Z – 2026-03-15T23:59:59Z (Mon 2 – Sun 15 March; UK time equals UTC then). Working hours about 07:00–18:00 UTC on weekdays, a little weekend phone use.");
    o(&mut s, "");
    o(&mut s, "| UPN | Display name | Department | Object id |");
    o(&mut s, "|---|---|---|---|");
    for u in w.users.iter() {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | `{}` |",
            u.upn, u.display, u.department, u.object_id
        );
    }
    o(&mut s, "");

    // Files ----------------------------------------------------------------------------------
    o(&mut s, "## The files");
    o(&mut s, "");
    o(
        &mut s,
        "| File | Export shape | Encoding | Records | First – last (UTC) | Bytes |",
    );
    o(&mut s, "|---|---|---|---|---|---|");
    for x in outs.iter() {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} – {} | {} |",
            x.path,
            md(x.shape),
            md(x.encoding),
            x.records,
            x.first,
            x.last,
            x.bytes.len()
        );
    }
    o(&mut s, "");
    o(&mut s, "What counts as a record: UAL CSV rows / JSON wrapper objects; message-trace V2 rows (one per recipient);");
    o(&mut s, "summary-report rows (one per message); sign-in rows / `value[]` entries; mailbox-audit rows.");
    o(&mut s, "");
    let mut by_rt: BTreeMap<u32, usize> = BTreeMap::new();
    for r in c.recs.iter() {
        *by_rt.entry(r.rt).or_default() += 1;
    }
    let rt_list: Vec<String> = by_rt
        .iter()
        .map(|(k, v)| format!("{k} {} × {v}", export::record_type_name(*k)))
        .collect();
    o(&mut s, "Notes per file:");
    o(&mut s, "");
    let _ = writeln!(s, "* **Purview CSV** — all users, all UAL records, ascending by time. RecordType counts: {}. `CreationDate` is `M/d/yyyy h:mm:ss AM` (UTC, no zone). `AuditData` is Microsoft's compact JSON in its key order with `\\/` escapes; Exchange mailbox records keep the raw newline at the end of `OriginatingServer` (escaped `\\n` inside the JSON). Sign-in `UserId` keeps the case the person typed (`George.Walsh@{DOMAIN}`, `Olivia.Grant@TailspinFreight.example`).", rt_list.join(", "));
    o(&mut s, "* **Extractor-Suite JSON** — amelia's records (`UserIds` = amelia) from 2026-03-08 to 2026-03-12, one top-level value per UTC day, concatenated. 2026-03-08 held a single record, so that day is a bare **object**, not an array (what `$results | ConvertTo-Json` does with one element); the other days are arrays. Windows PowerShell 5.1 layout: `\"key\":  value` with two spaces, nested containers indented to the column after their key, empty arrays printed over three lines, `<`/`>`/`'`/`&` as `\\u003c`/`\\u003e`/`\\u0027`/`\\u0026` (so Message-IDs read `\\u003c…\\u003e`), `CreationDate` as `\"\\/Date(ms)\\/\"`, `RecordType` as the enum name, `AuditData` as a nested object, plus `RunspaceId`, `ResultIndex`, `ResultCount`, `Identity`, `IsValid`, `ObjectState`.");
    o(&mut s, "* **Message trace V2 CSV** — every message of every user received 2026-03-02 … 2026-03-11, one row per recipient, newest first, `Index` counting from 0. `StartDate`/`EndDate` are the query bounds. ASCII: `–` and `£` in subjects became `?`. Inbound rows have an empty `ToIP`; outbound rows carry the recipient MX IP; originating rows carry the sender's client IP in `FromIP` (the attacker's mails show `89.160.20.115`). After the forwarding was set, a message to amelia appears as a `Resolved` row for amelia plus a `Delivered` row for `ap.settlements@mailbox-relay.example` with the same `MessageId` and `MessageTraceId`. EOP spam appears as `FilteredAsSpam`.");
    o(&mut s, "* **Summary report (UTF-16)** — every message received 2026-03-09 … 2026-03-10, one row per message, `recipient_status` as `addr##Receive, Deliver;addr2##Receive, Deliver` (`Receive, Send` for external recipients, `Receive, Resolve` for the forwarded original recipient), `origin_timestamp_utc` with seven fractional digits, `directionality` `Incoming`/`Originating`, `network_message_id` = V2 `MessageTraceId`.");
    o(&mut s, "* **Entra CSV** — all interactive user sign-ins (successes, failures, interrupts), newest first. The header is the exact text of formats.md D1: `Application ID ` and `Resource ID ` with a trailing space, `Autonomous system  number` with two spaces, `Incoming token type` twice — note that this text has **57** comma-separated names although formats.md calls it the 56-column header. `Location` is `City, State, CC` (Linköping and Östergötlands län are UTF-8). Non-interactive token refreshes (Outlook desktop and mobile, `OAuth2:Token`) are only in the UAL, as UserLoggedIn records, not in this file.");
    o(&mut s, "* **Graph JSON** — amelia's interactive sign-ins 2026-03-08 … 2026-03-12 as one Graph beta response (`@odata.context`, `value`), newest first; `id` = CSV `Request ID`, plus `userAgent`, `sessionId`, `uniqueTokenIdentifier`, `authenticationRequirement`, `authenticationDetails`, `status`, `location`.");
    o(&mut s, "* **Mailbox audit CSV** — operations on amelia's mailbox 2026-03-09 … 2026-03-11 (MailboxLogin, MailItemsAccessed, Send, HardDelete, SoftDelete, MoveToDeletedItems, Create, Update), newest first, 55 columns. `LogonType` as words, `LastAccessed` as `M/d/yyyy h:mm:ss AM` (UTC), `OperationProperties` like `MailAccessType:Bind IsThrottled:False`, `AggregatedRecordFoldersData` holds the bound Message-IDs, `SourceItems` shows the .NET type name (what Export-Csv writes for a collection) while the `*List` columns carry the values joined with `, `. `Identity` is the UAL record id of the same event. `OriginatingServer` values end with a raw LF inside the quoted field, so those rows span two physical lines.");
    o(&mut s, "");

    // Ground truth ---------------------------------------------------------------------------
    o(&mut s, "## Ground truth");
    o(&mut s, "");
    let _ = writeln!(
        s,
        "* **Compromised account:** `{}` (Accounts Payable). Compare UPNs case-insensitively.",
        amelia.upn
    );
    let _ = writeln!(s, "* **Attacker IPs:** `{ATTACKER_IP}` (sign-ins and mailbox actions; GeoIP test DB: Linköping, SE, AS29518 Bredband2 AB — a VPS in the story) and `{REPLAY_IP}` (token replay; Changchun, CN). **Phishing sender IP:** `{PHISH_SENDER_IP}` (Changchun, CN) for `{PHISH_SENDER}`.");
    let _ = writeln!(s, "* **Attacker session:** `SessionId` / Entra `Session ID` `{ATTACKER_SESSION}` (UAL `DeviceProperties[SessionId]` of the attacker's UserLoggedIn records, `SessionId` of every attacker Exchange record, Entra CSV/JSON `Session ID`/`sessionId`).");
    let _ = writeln!(s, "* **Attacker token:** `AppAccessContext.UniqueTokenId` `{}` (issued {}Z) = Entra `Unique token identifier` / `uniqueTokenIdentifier` of the 09:06:19 OAuth2:Authorize sign-in. Every attacker Exchange record carries it, including the replayed ones.", f.attacker_token, f.attacker_token_issued);
    o(&mut s, "* **Compromise window:** start **2026-03-09T09:02:41Z** = the first attacker sign-in attempt (UserLoginFailed from 89.160.20.115); end **2026-03-11T08:30:17Z** = the attacker's Remove-InboxRule. The lure was delivered earlier (08:12:41) and is part of the story, not of the window. Nothing the attacker did happens outside the window; the forwarding address set at 09:47 is never removed inside the exports (the investigation starts on 03-16).");
    o(&mut s, "* **Expected verdict:** amelia.hart compromised; every other account clean (the six internal-phishing recipients received and some opened the mail, nothing else).");
    o(&mut s, "");
    o(&mut s, "### Attacker actions");
    o(&mut s, "");
    o(
        &mut s,
        "| Time (UTC) | Operation | IP | Record id / trace id | Key values |",
    );
    o(&mut s, "|---|---|---|---|---|");
    for (t, op, ip, id, what) in f.steps.iter() {
        let _ = writeln!(s, "| {t}Z | {op} | `{ip}` | `{id}` | {} |", md(what));
    }
    o(&mut s, "");
    let atk: Vec<&crate::model::Rec> = c.recs.iter().filter(|r| r.attack).collect();
    let mut by_op: BTreeMap<&str, usize> = BTreeMap::new();
    for r in atk.iter() {
        *by_op.entry(r.op.as_str()).or_default() += 1;
    }
    let _ = writeln!(
        s,
        "In the UAL that is **{} attacker records** ({}), all with `UserId` amelia, all from `{ATTACKER_IP}` or `{REPLAY_IP}`, all in the window. Every UAL record from those two IPs is an attacker record, and no attacker record comes from another IP.",
        atk.len(),
        by_op.iter().map(|(k, v)| format!("{k} × {v}")).collect::<Vec<_>>().join(", ")
    );
    o(&mut s, "");
    o(&mut s, "Details an analyzer should surface:");
    o(&mut s, "");
    o(&mut s, "* **Inbox rule** `..` (ObjectId ends `\\..`): From `accounts@harbor-logistics.example`, SubjectOrBodyContainsWords `invoice;payment;remittance`, MoveToFolder `RSS Subscriptions`, MarkAsRead True, StopProcessingRules True; later DeleteMessage True (Set-InboxRule, from the replay IP); removed on 03-11.");
    let _ = writeln!(s, "* **Forwarding:** Set-Mailbox `ForwardingSmtpAddress` `smtp:{FORWARD_TO}`, `DeliverToMailboxAndForward` False (external, hidden from the user).");
    o(&mut s, "* **MFA change:** `Update user.` on amelia with `StrongAuthenticationMethod` OldValue 1 method (MethodType 6) → NewValue 2 methods (6 and 0) and a Swedish phone number in `StrongAuthenticationUserDetails`, from the attacker IP, actor amelia.");
    let _ = writeln!(s, "* **Consent:** `Consent to application.` for `{CONSENT_APP_NAME}` appId `{CONSENT_APP_ID}` (service principal `{CONSENT_SP_OBJECT_ID}`), `ConsentAction.Permissions` scope `Mail.Read Mail.Send offline_access User.Read`, `ConsentContext.IsAdminConsent` False; with `Add service principal.` and `Add delegated permission grant.` seconds before.");
    o(&mut s, "* **Mail read by the attacker:** 20 distinct messages in six Bind records (09:18–09:40), among them the five Harbor Logistics invoice threads:");
    for (subj, mid) in f.invoice_mids.iter() {
        let _ = writeln!(s, "  * `{mid}` — {subj}");
    }
    let _ = writeln!(
        s,
        "* **Searches:** `invoice` and `bank details` (SearchQueryInitiatedExchange)."
    );
    let _ = writeln!(
        s,
        "* **Lure:** `{}` from `{PHISH_SENDER}`, subject `{}`.",
        f.phish_mid, PHISH_SUBJECT
    );
    let _ = writeln!(
        s,
        "* **External fraud mail:** `{}` to `{SUPPLIER_PAYABLES}`, subject `{}`.",
        f.ext_send_mid, FRAUD_SUBJECT
    );
    for (mid, rc) in f.int_send_mids.iter() {
        let _ = writeln!(
            s,
            "* **Internal phishing mail:** `{mid}` to {}.",
            rc.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    o(&mut s, "* **Deleted:** HardDelete of those three sent items from `\\Sent Items` (AffectedItems carry their subjects and InternetMessageIds).");
    let fwd: Vec<&crate::model::Msg> = c
        .msgs
        .iter()
        .filter(|m| {
            m.rcpts.iter().any(|r| w.by_addr(r) == Some(route.amelia)) && m.t >= route.forward_at
        })
        .collect();
    let fwd_v2 = fwd.iter().filter(|m| in_days(m.t, 2, 11)).count();
    let fwd_eac = fwd.iter().filter(|m| in_days(m.t, 9, 10)).count();
    let _ = writeln!(s, "* **Forwarded mail:** {} messages to amelia arrived after 09:47 on 03-09 ({} within the V2 trace, {} within the summary report); in the traces each shows amelia as `Resolved` and `{FORWARD_TO}` as delivered. The first is Harbor's reply `RE: Invoice HL-44817 – updated bank details` (13:52:08).", fwd.len(), fwd_v2, fwd_eac);
    let replay: Vec<&crate::model::Rec> = c
        .recs
        .iter()
        .filter(|r| r.data.str_of("ClientIP").starts_with(REPLAY_IP))
        .collect();
    let replay_signins = c.signins.iter().filter(|x| x.ip == REPLAY_IP).count();
    let _ = writeln!(s, "* **Token replay:** {} UAL records on 03-10 06:50–07:20 from `{REPLAY_IP}` carry the attacker `SessionId` and `UniqueTokenId`; there are {} sign-in records from that IP in any file (UAL, Entra CSV, Graph JSON).", replay.len(), replay_signins);
    o(&mut s, "");

    // Benign ---------------------------------------------------------------------------------
    o(&mut s, "## Benign look-alikes (must not be flagged)");
    o(&mut s, "");
    let sys: Vec<&crate::model::Rec> = c
        .recs
        .iter()
        .filter(|r| r.user_id == SYSTEM_ACTOR)
        .collect();
    let sys_amelia = sys
        .iter()
        .filter(|r| r.data.str_of("ObjectId").ends_with(&amelia.object_id))
        .count();
    let _ = writeln!(s, "* **Service provisioning:** {} Set-Mailbox / Set-MailboxPlan records by `{SYSTEM_ACTOR}` (quotas and plan limits, empty ClientIP), {} of them on amelia's mailbox (2026-03-05).", sys.len(), sys_amelia);
    let find = |op: &str, who: &str| -> Vec<&crate::model::Rec> {
        c.recs
            .iter()
            .filter(|r| r.op == op && r.user_id == who && !r.attack)
            .collect()
    };
    for r in find("New-InboxRule", &format!("daniel.price@{DOMAIN}")) {
        let _ = writeln!(s, "* **Ordinary inbox rule:** {}Z `{}` New-InboxRule via OWA from `{}` by daniel.price: Name `Newsletters`, From `newsletter@industryweekly.example`, MoveToFolder `Newsletters` (his later newsletters land in `\\Newsletters`).", crate::util::iso(r.t), r.id, r.data.str_of("ClientIP"));
    }
    for r in find("Add-MailboxPermission", &format!("it.admin@{DOMAIN}")) {
        let who = match r.data.get("Parameters") {
            Some(J::Arr(v)) => v
                .iter()
                .find(|p| p.str_of("Name") == "User")
                .map(|p| p.str_of("Value"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let _ = writeln!(s, "* **Delegation:** {}Z `{}` it.admin Add-MailboxPermission FullAccess on `accounts@{DOMAIN}` for `{who}` from `{}`.", crate::util::iso(r.t), r.id, r.data.str_of("ClientIP"));
    }
    let delegated = c
        .recs
        .iter()
        .filter(|r| r.data.str_of("LogonType") == "2")
        .count();
    let _ = writeln!(s, "* **Delegate access:** {delegated} MailItemsAccessed Bind records by sophie.turner / james.okafor on the shared mailbox afterwards (`LogonType` 2, `MailboxOwnerUPN` accounts@, from their usual office or home IPs and Outlook sessions).");
    for r in find("Update user.", &format!("leo.marsh@{DOMAIN}")) {
        let _ = writeln!(s, "* **MFA registration by a new starter:** {}Z `{}` `Update user.` by leo.marsh from `{}` (office, his own browser session) — same shape as the attacker's change (1 method → 2, phone added).", crate::util::iso(r.t), r.id, r.data.str_of("ClientIP"));
    }
    let typos: Vec<String> = c
        .signins
        .iter()
        .filter(|x| x.error == 50126 && !x.attack)
        .map(|x| {
            format!(
                "{} {}Z from `{}`",
                w.users[x.user].local(),
                crate::util::iso(x.t),
                x.ip
            )
        })
        .collect();
    let _ = writeln!(s, "* **Password typos:** {} UserLoginFailed 50126 (InvalidUserNameOrPassword) each followed ~40 s later by a success from the same usual IP: {}. One of them is amelia's own, at the office, after the compromise.", typos.len(), typos.join("; "));
    let i74 = c.signins.iter().filter(|x| x.error == 50074).count();
    let i140 = c.signins.iter().filter(|x| x.error == 50140).count();
    let _ = writeln!(s, "* **Interrupts, not credential failures:** {i74} UserLoginFailed with ErrorNumber 50074 (MFA required; Entra status Interrupted) and {i140} UserLoggedIn with ErrorNumber 50140 (KMSI interrupt), each part of a normal morning sign-in that ends in success.");
    for (t, op, ip, what) in f.benign.iter() {
        let _ = writeln!(s, "* **{op}** {t}Z from `{ip}`: {what}.");
    }
    o(&mut s, "* **Ordinary variety:** the office NAT sometimes hands out the other egress IP (.150 ↔ .151); home workers sign in from Boxford; Outlook mobile sessions on weekends; UserId case variants; newsletters moved to Deleted Items and soft-deleted; Create/Update of drafts and calendar items; SharePoint FileAccessed.");
    o(&mut s, "");

    // Duplicates -----------------------------------------------------------------------------
    o(&mut s, "## Expected duplicates between files");
    o(&mut s, "");
    let ext = export::extractor_recs(c).len();
    let _ = writeln!(s, "* **Purview CSV ∩ Extractor-Suite JSON:** {ext} records — every record of the JSON is also in the CSV, with the same `Id` (= CSV `RecordId` = JSON `Identity`). After dedupe on `AuditData.Id` the UAL has {} distinct records.", c.recs.len());
    let gj = export::graph_rows(c).len();
    let inter = c.signins.iter().filter(|x| x.interactive).count();
    let _ = writeln!(s, "* **Entra CSV ∩ Graph JSON:** {gj} sign-ins — every `value[].id` equals a CSV `Request ID`; {} distinct interactive sign-ins after dedupe.", inter);
    let _ = writeln!(s, "* **UAL ↔ Entra (same logon, different record):** each of the {inter} interactive sign-ins is also a UAL RecordType 15 record whose `IntraSystemId` equals the Entra `Request ID` and `InterSystemsId` the `Correlation ID`, with the same time, IP, user agent and session id. The other {} UAL sign-in records are non-interactive token refreshes with no Entra CSV row.", c.signins.len() - inter);
    let eac = outs
        .iter()
        .find(|o| o.path.contains("MTSummary"))
        .map(|o| o.records)
        .unwrap_or(0);
    let mut eac_rows = 0usize;
    for m in c.msgs.iter().filter(|m| in_days(m.t, 9, 10)) {
        eac_rows += export::fates(c, route, m).len();
    }
    let _ = writeln!(s, "* **Message trace V2 ∩ summary report:** all {eac} messages of the summary report are in the V2 CSV (same `MessageId`, `MessageTraceId` = `network_message_id`), i.e. {eac_rows} V2 rows describe the same deliveries.");
    let mbx = export::mailbox_audit_recs(c).len();
    let _ = writeln!(s, "* **Mailbox audit ↔ UAL:** all {mbx} mailbox-audit rows are UAL records of the Purview CSV (their `Identity` is the UAL `Id`); {} of them are also in the Extractor-Suite JSON.", export::mailbox_audit_recs(c).iter().filter(|r| in_days(r.t, 8, 12)).count());
    let _ = writeln!(s, "* **UAL Send ↔ message trace:** every UAL `Send` before 2026-03-12 has its `Item.InternetMessageId` in the V2 trace; the attacker's three sends appear there with `FromIP` `{ATTACKER_IP}`.");
    o(&mut s, "");
    s
}

//! The case as events: messages, sign-ins and UAL records, before they are rendered into the
//! export shapes. Every export is a projection of these, so the same event carries the same
//! id, time, IP and session everywhere.

use crate::util::J;
use crate::world::World;
use chrono::NaiveDateTime;

/// One message as transport saw it.
pub struct Msg {
    /// Received by Exchange Online Protection (message-trace `Received`).
    pub t: NaiveDateTime,
    pub ticks: u32,
    /// `Message-ID` header, with angle brackets.
    pub mid: String,
    /// Network message id = `MessageTraceId`.
    pub trace_id: String,
    pub sender: String,
    pub rcpts: Vec<String>,
    pub subject: String,
    pub size: u32,
    /// Sending client (originating mail) or sending server (incoming mail).
    pub from_ip: String,
    pub incoming: bool,
    pub spam: bool,
    pub attack: bool,
}

/// Where a delivered copy sits in a mailbox.
#[derive(Clone)]
pub struct Item {
    pub t: NaiveDateTime,
    pub msg: usize,
    pub id: String,
    pub folder: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mfa {
    /// Single sign-on inside an MFA session.
    Claim,
    /// MFA done during this sign-in (Authenticator push).
    Completed,
    /// No MFA step (password failures).
    NotDone,
}

/// One Entra sign-in; interactive ones are in the portal CSV / Graph JSON, and every one of
/// them is also a UAL `UserLoggedIn`/`UserLoginFailed` record.
pub struct SignIn {
    pub t: NaiveDateTime,
    pub ual_id: String,
    pub user: usize,
    pub typed: String,
    pub request_id: String,
    pub correlation_id: String,
    pub session_id: String,
    pub token_id: String,
    pub ip: String,
    pub ua: String,
    pub os: &'static str,
    pub browser_type: &'static str,
    pub entra_os: &'static str,
    pub entra_browser: String,
    pub app: (&'static str, &'static str),
    pub resource: (&'static str, &'static str),
    pub request_type: &'static str,
    pub error: u32,
    pub interactive: bool,
    pub client_app: &'static str,
    pub mfa: Mfa,
    pub joined_device: bool,
    pub kmsi: Option<bool>,
    pub latency: u32,
    pub attack: bool,
}

impl SignIn {
    pub fn status(&self) -> &'static str {
        match self.error {
            0 => "Success",
            50074 | 50140 => "Interrupted",
            _ => "Failure",
        }
    }
    pub fn failure_reason(&self) -> &'static str {
        match self.error {
            0 => "",
            50126 => "Error validating credentials due to invalid username or password.",
            50074 => "Strong Authentication is required.",
            50140 => "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
            _ => "Other.",
        }
    }
    pub fn logon_error(&self) -> &'static str {
        match self.error {
            50126 => "InvalidUserNameOrPassword",
            50074 => "UserStrongAuthClientAuthNRequiredInterrupt",
            50140 => "KmsiInterrupt",
            _ => "",
        }
    }
    pub fn ual_operation(&self) -> &'static str {
        match self.error {
            0 | 50140 => "UserLoggedIn",
            _ => "UserLoginFailed",
        }
    }
}

/// One UAL record (AuditData plus the columns every UAL export repeats).
pub struct Rec {
    pub t: NaiveDateTime,
    pub id: String,
    pub rt: u32,
    pub op: String,
    pub user_id: String,
    pub data: J,
    pub attack: bool,
}

/// A mailbox operation's context: who, on whose mailbox, through what, from where.
#[derive(Clone)]
pub struct Ctx {
    pub actor: usize,
    pub owner: usize,
    pub client: crate::world::Client,
    pub ip: String,
    pub session: String,
    /// (UniqueTokenId, IssuedAtTime) of the access token in use.
    pub token: Option<(String, NaiveDateTime)>,
    /// 0 owner, 1 admin, 2 delegated.
    pub logon_type: u32,
}

/// Everything the exports and the README need.
pub struct Case {
    pub world: World,
    pub msgs: Vec<Msg>,
    pub signins: Vec<SignIn>,
    pub recs: Vec<Rec>,
    pub facts: Facts,
}

/// Ground-truth values decided while generating, for the README.
#[derive(Default)]
pub struct Facts {
    pub attacker_token: String,
    pub attacker_token_issued: String,
    pub invoice_mids: Vec<(String, String)>,
    pub phish_mid: String,
    pub ext_send_mid: String,
    pub int_send_mids: Vec<(String, Vec<String>)>,
    /// (time, operation, ip, record id, summary)
    pub steps: Vec<(String, String, String, String, String)>,
    pub bound_by_attacker: usize,
    pub benign: Vec<(String, String, String, String)>,
}

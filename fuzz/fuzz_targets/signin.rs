//! Entra sign-ins, CSV and JSON. JSON-looking input goes through `SigninJson` (Graph, Azure
//! diagnostic, Log Analytics shapes); anything else through `SigninCsv` with its own header or,
//! by input length parity, the portal's 56-column header or the legacy one in front.
#![no_main]
use fuzz_support::{looks_json, run_csv, run_json};
use libfuzzer_sys::fuzz_target;
use mailsleuth::ingest::record::{CsvParser, Header};
use mailsleuth::ingest::signin::{SigninCsv, SigninJson};

const PORTAL: &str = "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,\
User type,Cross tenant access type,Incoming token type,Authentication Protocol,\
Unique token identifier,Original transfer method,Client credential type,\
Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,\
Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,\
Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,\
Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,\
Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,\
Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,\
Session ID,IP address (seen by resource),Through Global Secure Access,\
Global Secure Access IP address,Autonomous system  number,Flagged for review,\
Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,\
Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer";
const LEGACY: &str = "CreatedDateTime,UserPrincipalName,UserDisplayName,AppDisplayName,AppId,\
IPAddress,City,State,CountryOrRegion,ErrorCode,FailureReason,ClientAppUsed,IsInteractive,\
UserAgent,CorrelationId,Id";

fn build(h: &Header) -> Result<Box<dyn CsvParser>, String> {
    Ok(Box::new(SigninCsv::new(h)?))
}

fuzz_target!(|data: &[u8]| {
    if looks_json(data) {
        run_json(data, &SigninJson::new());
    } else {
        let header = if data.len().is_multiple_of(2) {
            PORTAL
        } else {
            LEGACY
        };
        run_csv(data, header, build);
    }
});

//! The campaign: which platforms to test, through which endpoints, against which controls.
//!
//! A campaign arrives as a plain object (from a data file or a news site's embed) and is
//! validated in full before any probe runs, so a mistake costs no traffic and names its field.
use alloc::{borrow::ToOwned, string::String, vec::Vec};

use crate::vocabulary::ProbeKind;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Most trials per endpoint; more only adds traffic to the visitor's connection.
pub const MAX_TRIALS: u32 = 10;
/// Most platforms per campaign; a page that probes hundreds of hosts is a scanner, not a test.
pub const MAX_PLATFORMS: usize = 64;
/// Most endpoints per platform (and controls per campaign).
pub const MAX_ENDPOINTS: usize = 16;
/// Longest accepted URL.
pub const MAX_URL_LEN: usize = 2048;
/// Longest accepted id or name.
pub const MAX_NAME_LEN: usize = 128;

/// One URL to probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub url: String,
    pub kind: ProbeKind,
    /// Expected size of the object in bytes, for throughput; only for larger objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// `false` when the endpoint must be fetched exactly as written (no cache-busting query).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub bust: bool,
}

/// A platform people check: its main site and its CDNs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    pub id: String,
    pub name: String,
    pub endpoints: Vec<Endpoint>,
}

/// What to measure and where to send the result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: String,
    pub controls: Vec<Endpoint>,
    pub platforms: Vec<Platform>,
    #[serde(default = "default_trials")]
    pub trials: u32,
    /// Where reports go (after consent); none means nothing is ever sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn default_trials() -> u32 {
    3
}

/// A campaign that cannot be run, with the path of the offending field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignError {
    /// Path of the field, e.g. `platforms[2].endpoints[0].url`.
    pub field: String,
    /// What is wrong with it, in words a web developer can act on.
    pub problem: &'static str,
}

impl fmt::Display for CampaignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid campaign: {}: {}", self.field, self.problem)
    }
}

impl core::error::Error for CampaignError {}

fn err(field: impl Into<String>, problem: &'static str) -> CampaignError {
    CampaignError {
        field: field.into(),
        problem,
    }
}

impl Campaign {
    /// Checks everything a run relies on.
    ///
    /// # Errors
    /// The first field that is missing, empty, too long, not an `https://` URL (plain `http://`
    /// is allowed only for loopback hosts, for tests), or out of range.
    pub fn validate(&self) -> Result<(), CampaignError> {
        check_name("id", &self.id)?;
        if self.controls.is_empty() {
            return Err(err(
                "controls",
                "at least one control is needed to tell a block from being offline",
            ));
        }
        if self.controls.len() > MAX_ENDPOINTS {
            return Err(err("controls", "too many controls (at most 16)"));
        }
        for (i, control) in self.controls.iter().enumerate() {
            check_endpoint(&indexed("controls", i), control)?;
        }
        if self.platforms.is_empty() {
            return Err(err("platforms", "at least one platform is needed"));
        }
        if self.platforms.len() > MAX_PLATFORMS {
            return Err(err("platforms", "too many platforms (at most 64)"));
        }
        for (i, platform) in self.platforms.iter().enumerate() {
            let at = indexed("platforms", i);
            check_name(&(at.clone() + ".id"), &platform.id)?;
            check_name(&(at.clone() + ".name"), &platform.name)?;
            if self.platforms[..i].iter().any(|p| p.id == platform.id) {
                return Err(err(at + ".id", "duplicate platform id"));
            }
            let endpoints_at = at + ".endpoints";
            if platform.endpoints.is_empty() {
                return Err(err(endpoints_at, "a platform needs at least one endpoint"));
            }
            if platform.endpoints.len() > MAX_ENDPOINTS {
                return Err(err(endpoints_at, "too many endpoints (at most 16)"));
            }
            for (j, endpoint) in platform.endpoints.iter().enumerate() {
                check_endpoint(&indexed(&endpoints_at, j), endpoint)?;
            }
        }
        if self.trials == 0 || self.trials > MAX_TRIALS {
            return Err(err("trials", "must be between 1 and 10"));
        }
        if let Some(url) = &self.collector {
            check_url("collector", url)?;
        }
        Ok(())
    }
}

impl Campaign {
    /// [`Campaign::validate`], and no URL on this machine: the check for a campaign a
    /// collector serves to visitors, where `localhost` or 127.0.0.1 would make each visitor's
    /// browser probe its own computer. Loopback stays allowed by `validate` alone, for the
    /// engine's tests and development.
    ///
    /// # Errors
    /// As `validate`, or the first control or endpoint URL on a loopback host.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn validate_served(&self) -> Result<(), CampaignError> {
        self.validate()?;
        let controls = (self.controls.iter().enumerate()).map(|(i, e)| (indexed("controls", i), e));
        let endpoints = self.platforms.iter().enumerate().flat_map(|(i, p)| {
            let at = indexed("platforms", i) + ".endpoints";
            (p.endpoints.iter().enumerate()).map(move |(j, e)| (indexed(&at, j), e))
        });
        for (at, endpoint) in controls.chain(endpoints) {
            if url_place(&endpoint.url) == Some(HostPlace::Loopback) {
                return Err(err(
                    at + ".url",
                    "must not point at this machine (loopback is for tests, not for campaigns served to visitors)",
                ));
            }
        }
        Ok(())
    }
}

/// Where a URL that passed [`check_url`] leads.
#[cfg(not(target_arch = "wasm32"))]
fn url_place(url: &str) -> Option<HostPlace> {
    let rest = (url.strip_prefix("https://"))
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    host_of(crate::text::before_any(rest, b"/?#")).and_then(host_place)
}

fn indexed(path: &str, i: usize) -> String {
    let mut s = String::with_capacity(path.len() + 4);
    s.push_str(path);
    s.push('[');
    crate::text::push_number(&mut s, i as u64);
    s.push(']');
    s
}

fn check_name(field: &str, value: &str) -> Result<(), CampaignError> {
    if value.chars().all(char::is_whitespace) {
        return Err(err(field, "must not be empty"));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(err(field, "too long (at most 128 bytes)"));
    }
    Ok(())
}

fn check_endpoint(at: &str, endpoint: &Endpoint) -> Result<(), CampaignError> {
    check_url(&(at.to_owned() + ".url"), &endpoint.url)?;
    if endpoint.bytes == Some(0) {
        return Err(err(
            at.to_owned() + ".bytes",
            "must be a positive size in bytes",
        ));
    }
    Ok(())
}

/// Accepts `https://host[:port][/path]`, and `http://` only for loopback hosts: over plain
/// HTTP a censor's block page would load like the real site and read as "reachable".
fn check_url(field: &str, url: &str) -> Result<(), CampaignError> {
    if url.len() > MAX_URL_LEN {
        return Err(err(field, "URL too long (at most 2048 bytes)"));
    }
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(err(field, "must be an https:// URL"));
    };
    let authority = crate::text::before_any(rest, b"/?#");
    if crate::text::find_any(authority, b"@").is_some() {
        return Err(err(field, "must not carry credentials"));
    }
    let host = host_of(authority).ok_or_else(|| err(field, "has no valid host name"))?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(field, "must not contain spaces or control characters"));
    }
    let place = host_place(host).ok_or_else(|| err(field, "has no valid host name"))?;
    if place == HostPlace::Local {
        return Err(err(field, "must not point at a private or local address"));
    }
    if !secure && place != HostPlace::Loopback {
        return Err(err(
            field,
            "must be an https:// URL (plain http:// is allowed only for loopback hosts)",
        ));
    }
    Ok(())
}

/// Where a URL's host leads, as the browser reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HostPlace {
    /// This machine: `localhost`, 127.0.0.0/8 in any form, `[::1]` (development and tests;
    /// `*.localhost` names are left to https, like any name).
    Loopback,
    /// The visitor's own network or nowhere: private, shared, link-local, unspecified,
    /// multicast and reserved IPv4 ranges, IPv6 literals other than `::1`, `.local` names.
    Local,
    /// Anywhere else.
    Public,
}

/// IPv4 ranges (network, prefix length) a campaign may not point at.
#[cfg(not(target_arch = "wasm32"))]
const LOCAL_V4: [(u32, u32); 7] = [
    (0x0000_0000, 8),  // 0.0.0.0/8, "this network" (0.0.0.0 reaches this machine)
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0x6440_0000, 10), // 100.64.0.0/10, carrier-grade NAT
    (0xA9FE_0000, 16), // 169.254.0.0/16, link-local (cloud metadata)
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0xC0A8_0000, 16), // 192.168.0.0/16
    (0xE000_0000, 3),  // 224.0.0.0/3, multicast, reserved, broadcast
];

/// Where `host` leads, in the engine: only whether it is this machine (`localhost`, `::1`, a
/// dotted 127.x address), for the http exception. Private and local addresses are refused by
/// the native check below, in the collector, which serves every campaign the page and the
/// embed run (they take campaigns from their own site only); doing it here too cost 639 B of
/// package. An integrator running the engine on its own campaigns is its own judge.
#[cfg(target_arch = "wasm32")]
fn host_place(host: &str) -> Option<HostPlace> {
    let loopback = host == "localhost"
        || host == "::1"
        || (host.starts_with("127.") && host.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    Some(if loopback {
        HostPlace::Loopback
    } else {
        HostPlace::Public
    })
}

/// Where `host` (a name, an IPv4 address in any form a browser accepts, or an IPv6 literal
/// without brackets) leads; `None` for a host that ends in a number but is no address (the
/// browser would refuse the URL).
#[cfg(not(target_arch = "wasm32"))]
fn host_place(host: &str) -> Option<HostPlace> {
    let name = host.strip_suffix('.').unwrap_or(host);
    if crate::text::find_any(name, b":").is_some() {
        // Written out in full or shortened, only `::1` is allowed: a campaign names its
        // hosts, and any other IPv6 literal is refused rather than classified.
        return Some(if name == "::1" {
            HostPlace::Loopback
        } else {
            HostPlace::Local
        });
    }
    let Some(address) = ipv4(name.as_bytes()) else {
        let local =
            name.len() > 6 && name.as_bytes()[name.len() - 6..].eq_ignore_ascii_case(b".local");
        return Some(if name.eq_ignore_ascii_case("localhost") {
            HostPlace::Loopback
        } else if local {
            HostPlace::Local
        } else {
            HostPlace::Public
        });
    };
    let address = address?;
    if address >> 24 == 127 {
        return Some(HostPlace::Loopback);
    }
    let local = LOCAL_V4
        .iter()
        .any(|&(network, prefix)| address >> (32 - prefix) == network >> (32 - prefix));
    Some(if local {
        HostPlace::Local
    } else {
        HostPlace::Public
    })
}

/// WHATWG URL's IPv4 parser, decimal only: a host whose last label is a number (`127.1`,
/// `2130706433`) is an address of one to four parts, the last filling the bytes left. `None`
/// for a name, `Some(None)` for a number that is no address, and for the hex and octal forms
/// browsers also read (`0x7f.1`, `0177.1`), refused rather than parsed.
#[cfg(not(target_arch = "wasm32"))]
fn ipv4(host: &[u8]) -> Option<Option<u32>> {
    let last = &host[host
        .iter()
        .rposition(|&b| b == b'.')
        .map_or(0, |dot| dot + 1)..];
    let numeric = match last {
        [b'0', b'x' | b'X', ..] => true,
        _ => !last.is_empty() && last.iter().all(u8::is_ascii_digit),
    };
    if !numeric {
        return None;
    }
    let mut parts = [0u64; 4];
    let mut count = 0;
    for part in host.split(|&b| b == b'.') {
        let decimal = !part.is_empty()
            && part.len() <= 10
            && part.iter().all(u8::is_ascii_digit)
            && (part.len() == 1 || part[0] != b'0');
        if count == 4 || !decimal {
            return Some(None);
        }
        parts[count] = part.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
        count += 1;
    }
    let (last, leading) = (parts[count - 1], &parts[..count - 1]);
    if leading.iter().any(|&p| p > 255) || last >= 1u64 << (8 * (5 - count)) {
        return Some(None);
    }
    let address = leading
        .iter()
        .enumerate()
        .fold(last, |a, (i, &p)| a + (p << (8 * (3 - i))));
    Some(Some(address as u32))
}

/// The host of `host[:port]` or `[v6][:port]`, if it is well formed.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix("[") {
        let end = crate::text::find_any(v6, b"]")?;
        let port = v6[end + 1..].strip_prefix(":");
        if !v6[end + 1..].is_empty() && port.is_none() {
            return None;
        }
        (&v6[..end], port)
    } else {
        match authority.bytes().rposition(|b| b == b':') {
            Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
            None => (authority, None),
        }
    };
    if let Some(port) = port {
        // 1 to 65535, digits only (no sign, as u16's parser would allow).
        let digits =
            !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return None;
        }
        let value = port.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        if value == 0 || value > 65535 {
            return None;
        }
    }
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b))
        && !matches!(host.as_bytes().first(), Some(b'.' | b'-'))
        && !crate::text::contains(host, "..");
    valid.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint {
            url: url.into(),
            kind: ProbeKind::Fetch,
            bytes: None,
            bust: true,
        }
    }

    fn campaign() -> Campaign {
        Campaign {
            id: "test".into(),
            controls: vec![endpoint("https://control.example/favicon.ico")],
            platforms: vec![Platform {
                id: "x".into(),
                name: "X (Twitter)".into(),
                endpoints: vec![endpoint("https://x.com/favicon.ico")],
            }],
            trials: 3,
            collector: None,
        }
    }

    fn field_of(c: &Campaign) -> String {
        c.validate().expect_err("campaign should be invalid").field
    }

    #[test]
    fn a_well_formed_campaign_is_valid() {
        assert_eq!(campaign().validate(), Ok(()));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let mut c = campaign();
        c.platforms[0].endpoints[0].url = "http://x.com/".into();
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "platforms[0].endpoints[0].url");
        assert!(e.problem.contains("https"));
        for ok in [
            "http://127.0.0.1:8000/a",
            "http://localhost/x",
            "http://[::1]:9/",
            "https://x.com:65535/",
        ] {
            c.platforms[0].endpoints[0].url = ok.into();
            assert_eq!(c.validate(), Ok(()), "{ok}");
        }
    }

    /// What the campaign's check says of `url` as an endpoint: `""` when it is accepted.
    fn problem_with(url: &str) -> String {
        let mut c = campaign();
        c.platforms[0].endpoints[0].url = url.into();
        c.validate()
            .err()
            .map(|e| e.problem.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn hosts_on_the_visitors_own_network_are_refused_in_every_form() {
        for local in [
            "https://10.0.0.1/",
            "https://10.1/",
            "https://167772161/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://100.64.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://0.0.0.0/",
            "https://0/",
            "http://0.0.0.0:8080/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://printer.local/",
            "https://NAS.Local./",
        ] {
            assert_eq!(
                problem_with(local),
                "must not point at a private or local address",
                "{local}"
            );
        }
        for bad in [
            "https://1.2.3.4.5/",
            "https://256.0.0.1/",
            "https://1.2.3.256/",
            "https://1.16777216/",
            "https://4294967296/",
            "https://1..2/",
            "https://09/",
            // Hex and octal forms: browsers read them (0xa.1 is 10.0.0.1), the check refuses.
            "https://0xa.0.0.1/",
            "https://012.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "https://1.0x2/",
        ] {
            assert_eq!(problem_with(bad), "has no valid host name", "{bad}");
        }
    }

    #[test]
    fn loopback_is_read_as_the_browser_reads_it() {
        for loopback in [
            "http://127.1/",
            "http://2130706433/",
            "http://127.255.255.254:9/",
            "http://LOCALHOST/",
            "http://[::1]/",
        ] {
            assert_eq!(problem_with(loopback), "", "{loopback}");
        }
        // Names that only start like loopback are names: https only.
        for name in [
            "http://127.evil.example/",
            "http://localhost.evil.example/",
            "http://app.localhost/",
        ] {
            assert!(problem_with(name).contains("https"), "{name}");
        }
        for public in [
            "https://8.8.8.8/",
            "https://172.32.0.1/",
            "https://100.128.0.1/",
            "https://x.com1/",
            "https://127.evil.example/",
        ] {
            assert_eq!(problem_with(public), "", "{public}");
        }
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn a_served_campaign_may_not_point_at_this_machine() {
        for loopback in ["http://127.1/", "http://LOCALHOST:8/x", "http://[::1]/"] {
            let mut c = campaign();
            c.controls[0].url = loopback.into();
            assert!(c.validate().is_ok(), "{loopback}: allowed for tests");
            let e = c.validate_served().unwrap_err();
            assert_eq!(e.field, "controls[0].url", "{loopback}");
            assert!(e.problem.contains("this machine"), "{loopback}");
            let mut c = campaign();
            c.platforms[0].endpoints[0].url = loopback.into();
            let e = c.validate_served().unwrap_err();
            assert_eq!(e.field, "platforms[0].endpoints[0].url", "{loopback}");
        }
        assert!(campaign().validate_served().is_ok());
        let mut c = campaign();
        c.controls[0].url = "https://127.evil.example/".into();
        assert!(c.validate_served().is_ok(), "a name, not this machine");
    }

    #[test]
    fn malformed_urls_name_their_field() {
        let mut c = campaign();
        for bad in [
            "x.com/favicon.ico",
            "https://",
            "https:///path",
            "https://a b.com/",
            "https://user:pw@x.com/",
            "https://x.com:0/",
            "https://x.com:99999/",
            "https://x.com:65536/",
            "https://x.com:+443/",
            "https://x.com:44a/",
            "https://x.com:/",
            "https://x.com:1234567/",
            "ftp://x.com/",
            "javascript:alert(1)",
        ] {
            c.controls[0].url = bad.into();
            assert_eq!(field_of(&c), "controls[0].url", "{bad}");
        }
    }

    #[test]
    fn empty_lists_are_refused() {
        let mut c = campaign();
        c.platforms.clear();
        assert_eq!(field_of(&c), "platforms");
        let mut c = campaign();
        c.controls.clear();
        assert_eq!(field_of(&c), "controls");
        let mut c = campaign();
        c.platforms[0].endpoints.clear();
        assert_eq!(field_of(&c), "platforms[0].endpoints");
    }

    #[test]
    fn trials_must_be_in_range() {
        let mut c = campaign();
        c.trials = 0;
        assert_eq!(field_of(&c), "trials");
        c.trials = 11;
        assert_eq!(field_of(&c), "trials");
    }

    #[test]
    fn duplicate_ids_empty_names_and_zero_bytes_are_refused() {
        let mut c = campaign();
        c.platforms.push(c.platforms[0].clone());
        assert_eq!(field_of(&c), "platforms[1].id");
        let mut c = campaign();
        c.platforms[0].name = " ".into();
        assert_eq!(field_of(&c), "platforms[0].name");
        let mut c = campaign();
        c.platforms[0].endpoints[0].bytes = Some(0);
        assert_eq!(field_of(&c), "platforms[0].endpoints[0].bytes");
        let mut c = campaign();
        c.collector = Some("http://collector.example/v1/reports".into());
        assert_eq!(field_of(&c), "collector");
    }

    #[test]
    fn unknown_kind_is_a_parse_error_naming_the_value() {
        let json = r#"{"url":"https://x.com/","kind":"websocket"}"#;
        let e = serde_json::from_str::<Endpoint>(json)
            .unwrap_err()
            .to_string();
        assert!(e.contains("websocket"), "{e}");
    }

    #[test]
    fn trials_default_to_three() {
        let json = r#"{"id":"d","controls":[],"platforms":[]}"#;
        let c: Campaign = serde_json::from_str(json).unwrap();
        assert_eq!(c.trials, 3);
    }
}

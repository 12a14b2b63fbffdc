//! Which web pages may make a visitor's browser submit a report: the collector's own and the
//! configured embedding origins, told apart by the `Origin` header that browsers set on every
//! `POST` and that no page can choose.
//!
//! The goal is that no other web page can make its visitors' browsers submit fabricated
//! reports from their real connections. A client that is not a browser can send any header it
//! likes; it is held back by the report checks and the rate limiter, not by this.
//!
//! The collector's own origin is `--public-origin` when given (the address visitors use, as
//! served by the TLS proxy in front). Without it, the own origin is read from the `Host`
//! header, but only when that names an IP address or `localhost` (a development machine, the
//! lab): a host name there could be an attacker's domain re-pointed at this collector (DNS
//! rebinding), whose pages the browser would then treat as this collector's.

use axum::http::{header, HeaderMap};
use std::fmt;
use std::net::IpAddr;

/// A web origin, `scheme://host[:port]`, lower-case, without the scheme's default port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    /// Parses `http(s)://host[:port]` (a trailing `/` is tolerated, nothing else after the
    /// host).
    ///
    /// # Errors
    /// What is wrong with `text`, for a command-line error.
    pub fn parse(text: &str) -> Result<Origin, String> {
        let text = text.trim().to_ascii_lowercase();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("must start with http:// or https://")?;
        let default_port = match scheme {
            "https" => 443,
            "http" => 80,
            _ => return Err("must start with http:// or https://".into()),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_port(authority).ok_or("must be scheme://host[:port] only")?;
        let valid_host = !host.is_empty()
            && (host.starts_with('[')
                || host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
        if !valid_host {
            return Err("must be scheme://host[:port] only (no path, user or query)".into());
        }
        Ok(Origin(match port {
            Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        }))
    }

    /// The host and the port (explicit or the scheme's default).
    fn host_port(&self) -> (&str, u16) {
        let (scheme, authority) = self.0.split_once("://").unwrap_or(("", ""));
        let default_port = if scheme == "https" { 443 } else { 80 };
        match split_port(authority) {
            Some((host, Some(port))) => (host, port),
            Some((host, None)) => (host, default_port),
            None => (authority, default_port),
        }
    }

    /// Whether this origin is served over https.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `host[:port]` (IPv6 in brackets) into its host and port; `None` if the port is not a number
/// or anything follows the host.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    if host.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    match port {
        Some(p) => Some((host, Some(p.parse().ok()?))),
        None => Some((host, None)),
    }
}

/// Why a submission was refused: every case is a 403.
#[derive(Debug, PartialEq, Eq)]
pub enum Forbidden {
    /// No `Origin` header: browsers send one on every `POST`.
    Missing,
    /// `Origin: null`: a sandboxed frame, a `data:` or `file:` page, a privacy redirect.
    Opaque,
    /// Another site, or a header that is not an origin.
    Other(String),
}

/// The origins whose pages may submit reports.
#[derive(Clone, Debug, Default)]
pub struct SubmitOrigins {
    /// `--public-origin`: the collector's own, when known.
    pub public: Option<Origin>,
    /// `--embed-origin`: other sites whose own pages run the engine and submit here.
    pub embed: Vec<Origin>,
}

impl SubmitOrigins {
    /// Whether the request comes from a page allowed to submit.
    ///
    /// # Errors
    /// [`Forbidden`], saying what the request carried.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Forbidden> {
        let stated = headers
            .get(header::ORIGIN)
            .ok_or(Forbidden::Missing)?
            .to_str()
            .map_err(|_| Forbidden::Other("(not text)".into()))?
            .trim();
        if stated == "null" {
            return Err(Forbidden::Opaque);
        }
        let other = || Forbidden::Other(stated.chars().take(100).collect());
        let origin = Origin::parse(stated).map_err(|_| other())?;
        if self.public.as_ref() == Some(&origin) || self.embed.contains(&origin) {
            return Ok(());
        }
        if self.public.is_none() && served_at(&origin, headers) {
            return Ok(());
        }
        Err(other())
    }

    /// How the own origin is known, for the start-up line.
    pub fn describe(&self) -> String {
        let own = match &self.public {
            Some(origin) => origin.to_string(),
            None => "the Host header when it is an IP address or localhost".into(),
        };
        if self.embed.is_empty() {
            own
        } else {
            let embed: Vec<String> = self.embed.iter().map(Origin::to_string).collect();
            format!("{own}, embedding {}", embed.join(" "))
        }
    }
}

/// Whether `origin` is the one the request was sent to (its `Host`), for a `Host` that no DNS
/// answer can re-point: an IP address or `localhost`.
fn served_at(origin: &Origin, headers: &HeaderMap) -> bool {
    let Some((host, port)) = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(split_port)
    else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host != "localhost" && bare.parse::<IpAddr>().is_err() {
        return false;
    }
    // Without a port in Host, the request went to the scheme's default one.
    let port = port.unwrap_or(if origin.is_https() { 443 } else { 80 });
    origin.host_port() == (host.as_str(), port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_are_normalized_and_anything_more_is_refused() {
        let parse = |s| Origin::parse(s).map(|o| o.to_string());
        assert_eq!(
            parse("HTTPS://News.Example/"),
            Ok("https://news.example".into())
        );
        assert_eq!(
            parse("https://news.example:443"),
            Ok("https://news.example".into())
        );
        assert_eq!(
            parse("http://10.0.0.1:8080"),
            Ok("http://10.0.0.1:8080".into())
        );
        assert_eq!(parse("http://[::1]:8080"), Ok("http://[::1]:8080".into()));
        for bad in [
            "news.example",
            "ftp://news.example",
            "https://news.example/path",
            "https://user@news.example",
            "https://news.example:x",
            "https://",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_public_origin_and_embedders_may_submit_nobody_else() {
        let allowed = SubmitOrigins {
            public: Some(Origin::parse("https://netreach.example").unwrap()),
            embed: vec![Origin::parse("https://news.example").unwrap()],
        };
        let from = |origin: &str| {
            allowed.check(&headers(&[
                ("host", "netreach.example"),
                ("origin", origin),
            ]))
        };
        assert_eq!(from("https://netreach.example"), Ok(()));
        assert_eq!(from("https://news.example"), Ok(()));
        assert_eq!(
            from("http://netreach.example"),
            Err(Forbidden::Other("http://netreach.example".into()))
        );
        assert_eq!(
            from("https://evil.example"),
            Err(Forbidden::Other("https://evil.example".into()))
        );
        assert_eq!(from("null"), Err(Forbidden::Opaque));
        assert_eq!(
            allowed.check(&headers(&[("host", "netreach.example")])),
            Err(Forbidden::Missing)
        );
    }

    #[test]
    fn without_a_public_origin_only_an_address_host_names_the_own_origin() {
        let allowed = SubmitOrigins::default();
        let from = |host: &str, origin: &str| {
            allowed
                .check(&headers(&[("host", host), ("origin", origin)]))
                .is_ok()
        };
        assert!(from("127.0.0.1:8080", "http://127.0.0.1:8080"));
        assert!(from("localhost:8080", "http://localhost:8080"));
        assert!(from("[::1]:8080", "http://[::1]:8080"));
        assert!(from("10.77.0.1", "http://10.77.0.1"));
        assert!(!from("127.0.0.1:8080", "http://127.0.0.1:8081"));
        assert!(!from("10.77.0.1", "https://10.77.0.1:8443"));
        // A rebound host name: the browser sends that name both as Host and as Origin.
        assert!(!from("evil.example:8080", "http://evil.example:8080"));
    }
}

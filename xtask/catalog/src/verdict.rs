//! The rules of www/campaigns/README.md ("How endpoints are chosen"), as checks: from what
//! the engine's load gave in one browser, and what a plain request answered (`http.rs`), one
//! status per endpoint and browser with the reason. The browser's load decides the status;
//! the plain answer only explains it, since the browser hides it from the page.

use std::fmt;

use netreach::campaign::Endpoint;
use netreach::vocabulary::{Outcome, ProbeKind};

use crate::http::Answer;

/// How a `bytes` size may differ from the declared one: 20 % (README: "whose wire size is
/// known to ±20 %").
const SIZE_TOLERANCE_PERCENT: u64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Loads as the engine needs it.
    Ok,
    /// The host answers, but the browser cannot use the object: a false `partial` or
    /// `blocked` waiting to happen.
    Unusable,
    /// No answer at all, from the browser or a plain request.
    Unreachable,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Unusable => "unusable",
            Status::Unreachable => "unreachable",
        })
    }
}

/// An endpoint's status in one browser, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub reason: String,
}

/// What the engine's one attempt on the endpoint gave in a browser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    /// `None`: no attempt was made (the run was cut short).
    pub outcome: Option<Outcome>,
    /// The attempt got a Resource Timing entry (a `duration_ms`).
    pub timed: bool,
    /// `encodedBodySize` of the entry; 0 unless the host sends `Timing-Allow-Origin`.
    pub page_size: u64,
}

/// Judges one endpoint in one browser.
pub fn judge(endpoint: &Endpoint, load: &Load, answer: &Result<Answer, String>) -> Verdict {
    match load.outcome {
        Some(Outcome::Ok) => match endpoint.bytes {
            None => ok(String::new()),
            Some(declared) => judge_size(declared, load, answer),
        },
        Some(outcome) => match answer {
            Ok(answer) => unusable(explain(endpoint.kind, outcome, answer)),
            // The engine's HEAD reached the host (`unusable`) though this request did not:
            // the browser's word stands.
            Err(why) if outcome == Outcome::Unusable => {
                unusable(format!("the host answers, the object is refused ({why})"))
            }
            Err(why) => Verdict {
                status: Status::Unreachable,
                reason: why.clone(),
            },
        },
        None => Verdict {
            status: Status::Unreachable,
            reason: "not attempted: the run ended first".into(),
        },
    }
}

/// A `bytes` endpoint that loaded: it needs a Resource Timing entry (README: "served
/// cacheable", and a body that Opaque Response Blocking lets through) and a size within
/// [`SIZE_TOLERANCE_PERCENT`] of `bytes`.
fn judge_size(declared: u64, load: &Load, answer: &Result<Answer, String>) -> Verdict {
    if !load.timed {
        let why = match answer {
            Ok(answer) if no_store(answer) => "Cache-Control: no-store".to_owned(),
            Ok(answer) if orb_blocks(answer) => orb(answer),
            Ok(_) => "the browser keeps it from the page".to_owned(),
            Err(why) => why.clone(),
        };
        return unusable(format!("no Resource Timing entry ({why})"));
    }
    // What the page sees when the host allows it, else the size of a plain request's body.
    let (size, source) = match (load.page_size, answer) {
        (
            0,
            Ok(Answer {
                wire_bytes: Some(n),
                ..
            }),
        ) => (*n, "plain request"),
        (0, _) => return ok("size not measured".into()),
        (n, _) => (n, "Resource Timing"),
    };
    if size.abs_diff(declared) * 100 > declared * SIZE_TOLERANCE_PERCENT {
        let off = (size as f64 / declared as f64 - 1.0) * 100.0;
        return unusable(format!(
            "size {size} B ({source}), declared {declared} B ({off:+.0} %)"
        ));
    }
    ok(format!("size {size} B ({source})"))
}

/// Why a host that answers gives an object the browser cannot use, in the order of the
/// README's rules: a redirect (to a login page, typically), the status, CORP, the type.
fn explain(kind: ProbeKind, outcome: Outcome, answer: &Answer) -> String {
    let mut why = Vec::new();
    if let Some(last) = answer.redirects.last() {
        why.push(format!("redirect to {last}"));
    }
    if !(200..300).contains(&answer.status) {
        why.push(format!("HTTP {}", answer.status));
    }
    if let Some(corp) = answer.corp.as_deref().filter(|c| restrictive_corp(c)) {
        why.push(format!("CORP {corp}"));
    }
    let content_type = answer.content_type.as_deref().unwrap_or("none");
    match kind {
        ProbeKind::Image if !essence(content_type).starts_with("image/") => {
            why.push(format!("content type {content_type}, not an image"));
        }
        ProbeKind::Fetch if orb_blocks(answer) => why.push(orb(answer)),
        _ => {}
    }
    if why.is_empty() {
        let browser = if outcome == Outcome::Timeout {
            "timed out in the browser"
        } else {
            "refused by the browser"
        };
        why.push(format!(
            "{browser}; a plain request gets HTTP {} {content_type}",
            answer.status
        ));
    }
    why.join(", ")
}

/// README: "No `Cross-Origin-Resource-Policy: same-origin` / `same-site`".
fn restrictive_corp(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    value == "same-origin" || value == "same-site"
}

fn no_store(answer: &Answer) -> bool {
    answer
        .cache_control
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("no-store"))
}

/// README: "Bodies that survive Opaque Response Blocking": HTML, JSON and XML are what ORB
/// keeps from pages (sniffed or by type); JavaScript, CSS, images and plain text pass.
fn orb_blocks(answer: &Answer) -> bool {
    let essence = essence(answer.content_type.as_deref().unwrap_or(""));
    essence == "text/html"
        || essence.ends_with("/json")
        || essence.ends_with("+json")
        || (essence.ends_with("/xml") || essence.ends_with("+xml")) && essence != "image/svg+xml"
}

fn orb(answer: &Answer) -> String {
    let content_type = answer.content_type.as_deref().unwrap_or("none");
    format!("ORB: content type {content_type}")
}

/// `text/html; charset=utf-8` → `text/html`.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn ok(reason: String) -> Verdict {
    Verdict {
        status: Status::Ok,
        reason,
    }
}

fn unusable(reason: String) -> Verdict {
    Verdict {
        status: Status::Unusable,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(kind: ProbeKind, bytes: Option<u64>) -> Endpoint {
        Endpoint {
            url: "https://cdn.example/x".into(),
            kind,
            bytes,
            bust: true,
        }
    }

    fn load(outcome: Outcome, timed: bool) -> Load {
        Load {
            outcome: Some(outcome),
            timed,
            page_size: 0,
        }
    }

    fn answer(status: u16, content_type: &str) -> Answer {
        Answer {
            status,
            content_type: Some(content_type.into()),
            ..Answer::default()
        }
    }

    #[test]
    fn a_failed_load_whose_host_answers_is_unusable_with_what_the_host_sent() {
        let image = endpoint(ProbeKind::Image, None);
        let failed = load(Outcome::Unusable, false);
        let v = judge(&image, &failed, &Ok(answer(404, "text/plain")));
        assert_eq!(v.status, Status::Unusable);
        assert!(v.reason.contains("HTTP 404"), "{}", v.reason);
        let mut login = answer(200, "text/html");
        login.redirects.push("https://sso.example/login".into());
        let v = judge(&image, &failed, &Ok(login));
        assert!(
            v.reason
                .starts_with("redirect to https://sso.example/login"),
            "{}",
            v.reason
        );
        let mut corp = answer(200, "text/plain");
        corp.corp = Some("same-origin".into());
        let fetch = endpoint(ProbeKind::Fetch, None);
        let v = judge(&fetch, &load(Outcome::Error, false), &Ok(corp));
        assert!(v.reason.contains("CORP same-origin"), "{}", v.reason);
    }

    #[test]
    fn a_failed_load_without_any_answer_is_unreachable() {
        let v = judge(
            &endpoint(ProbeKind::Fetch, None),
            &load(Outcome::Timeout, false),
            &Err("connect to cdn.example:443: Connection refused".into()),
        );
        assert_eq!(v.status, Status::Unreachable);
    }

    #[test]
    fn a_bytes_endpoint_needs_a_timing_entry_and_its_declared_size() {
        let bytes = endpoint(ProbeKind::Fetch, Some(50_000));
        let mut script = answer(200, "text/javascript");
        script.wire_bytes = Some(50_000);
        let v = judge(&bytes, &load(Outcome::Ok, true), &Ok(script.clone()));
        assert_eq!(v.status, Status::Ok, "{}", v.reason);

        script.wire_bytes = Some(61_000);
        let v = judge(&bytes, &load(Outcome::Ok, true), &Ok(script.clone()));
        assert_eq!(v.status, Status::Unusable);
        assert!(v.reason.contains("+22 %"), "{}", v.reason);

        script.cache_control = Some("no-store".into());
        let v = judge(&bytes, &load(Outcome::Ok, false), &Ok(script));
        assert_eq!(
            v.reason,
            "no Resource Timing entry (Cache-Control: no-store)"
        );
        let v = judge(
            &bytes,
            &load(Outcome::Ok, false),
            &Ok(answer(200, "application/json")),
        );
        assert!(v.reason.contains("ORB"), "{}", v.reason);
    }

    #[test]
    fn the_size_the_page_sees_wins_over_the_plain_request() {
        let bytes = endpoint(ProbeKind::Fetch, Some(50_000));
        let mut script = answer(200, "text/javascript");
        script.wire_bytes = Some(10_000);
        let seen = Load {
            page_size: 52_000,
            ..load(Outcome::Ok, true)
        };
        assert_eq!(judge(&bytes, &seen, &Ok(script)).status, Status::Ok);
    }
}

//! From a request body to a report fit to store, or the first thing wrong with it.
//!
//! Order matters for the answers a sender gets: malformed JSON (400) before schema errors
//! (422, naming the field), schema errors before completeness (422, naming what is missing)
//! and completeness before verdict checks (422), so that each answer names the most basic
//! problem. Only the fields of [`Report`] are kept: anything else the body carries is dropped,
//! so no identifier can ride along into storage.

use crate::campaigns::{valid_id, Campaigns, Descriptor};
use crate::time::{self, HOUR};
use netreach::campaign::{MAX_ENDPOINTS, MAX_PLATFORMS, MAX_URL_LEN};
use netreach::classify::{controls_down, figures};
use netreach::{classify_report, Attempt, Campaign, Condition, Endpoint, EndpointResult};
use netreach::{Reason, Report, Verdict, SCHEMA};
use std::collections::HashSet;

/// Most attempts per endpoint (twice the most trials a campaign may ask for, for retries).
pub const MAX_ATTEMPTS: usize = 2 * netreach::campaign::MAX_TRIALS as usize;
/// Longest run accepted, in milliseconds.
pub const MAX_RUNTIME_MS: u32 = 3_600_000;
/// Longest single attempt accepted, in milliseconds.
pub const MAX_ATTEMPT_MS: u32 = 600_000;
/// Reports older than this are refused: they would rewrite history already published.
pub const MAX_AGE_SECS: i64 = 30 * 86_400;
/// A body that is not an acceptable report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not JSON at all, or truncated: 400.
    Malformed(String),
    /// JSON, but a field is missing, of the wrong type, or out of bounds: 422.
    Schema { field: String, problem: String },
    /// Its campaign has ended (`expiration_date`): 410.
    Ended { campaign: String, at: String },
}

impl Rejection {
    fn field(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Rejection::Schema {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The message sent back to the client.
    pub fn message(&self) -> String {
        match self {
            Rejection::Malformed(m) => format!("malformed JSON: {m}"),
            Rejection::Schema { field, problem } => format!("{field}: {problem}"),
            Rejection::Ended { campaign, at } => crate::campaigns::ended_message(campaign, at),
        }
    }
}

/// Parses a body into a [`Report`], naming the field of a type error.
///
/// # Errors
/// [`Rejection::Malformed`] for syntax errors and truncation, [`Rejection::Schema`] for
/// missing fields and wrong types.
pub fn parse(body: &[u8]) -> Result<Report, Rejection> {
    // serde would also take a struct as a positional array: only an object is a report.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => Rejection::field("report", "must be a JSON object"),
                Err(e) => Rejection::Malformed(e.to_string()),
            },
        );
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let report: Report = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "report".into() } else { path };
                Rejection::field(field, strip_position(&inner.to_string()))
            }
            _ => Rejection::Malformed(inner.to_string()),
        }
    })?;
    de.end().map_err(|e| Rejection::Malformed(e.to_string()))?;
    Ok(report)
}

/// serde_json appends " at line L column C"; in a field-named message it only adds noise.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A report ready to store.
#[derive(Debug)]
pub struct Accepted {
    /// The report as it will be stored: only known fields, display figures recomputed from
    /// the attempts.
    pub report: Report,
    /// `started_at` in Unix seconds (a whole hour).
    pub started_at: i64,
}

/// Checks a parsed report in full: its header, its campaign (looked up in `campaigns`, and
/// not ended at `now`), its times and client, its endpoints against the campaign's, that it
/// measured the whole campaign (see [`Extent`]), and last its verdicts against the classifier.
/// The accepted report records the campaign revision it matched in `campaign_revision`: the
/// current one, or for a page that loaded the campaign before it was revised, the latest
/// earlier revision kept in the folder whose endpoints the report measured.
///
/// # Errors
/// [`Rejection::Ended`] for a campaign that has ended; [`Rejection::Schema`] naming the first
/// field out of bounds, not in the campaign, missing from it, or whose verdict does not follow
/// from the report's own attempts.
pub fn check(report: Report, campaigns: &Campaigns, now: i64) -> Result<Accepted, Rejection> {
    check_aged(report, campaigns, now, Some(MAX_AGE_SECS))
}

/// [`check`] with another age bound: runs started more than `max_age` seconds before `now`
/// are refused, none when `None` (`netreach-collector import --any-age`, restoring a backup).
/// Restoring, a campaign that has ended refuses only the runs started after its end: the
/// others are the reports it was run for.
///
/// # Errors
/// As [`check`].
pub fn check_aged(
    report: Report,
    campaigns: &Campaigns,
    now: i64,
    max_age: Option<i64>,
) -> Result<Accepted, Rejection> {
    check_header(&report)?;
    let current = campaigns.get(&report.campaign).map_err(|_| {
        Rejection::field(
            "campaign",
            format!("no campaign {:?} on this collector", report.campaign),
        )
    })?;
    if let Some(end) = current.expires_at() {
        let at = if max_age.is_none() {
            time::parse_hour(&report.started_at).unwrap_or(now)
        } else {
            now
        };
        if at >= end {
            return Err(Rejection::Ended {
                campaign: report.campaign.clone(),
                at: time::format_utc(end),
            });
        }
    }
    // Kept only when an earlier revision may still match (a clone per report otherwise).
    let retry = (current.revision() > 1).then(|| report.clone());
    let first = check_against(report, &current, now, max_age);
    let (Err(rejection), Some(report)) = (&first, retry) else {
        return first;
    };
    for revision in (1..current.revision()).rev() {
        let Ok(earlier) = campaigns.archived(&report.campaign, revision) else {
            continue;
        };
        if let Ok(accepted) = check_against(report.clone(), &earlier, now, max_age) {
            return Ok(accepted);
        }
    }
    Err(rejection.clone())
}

/// The checks of [`check_aged`] against one revision of the campaign.
fn check_against(
    mut report: Report,
    descriptor: &Descriptor,
    now: i64,
    max_age: Option<i64>,
) -> Result<Accepted, Rejection> {
    let campaign = &descriptor.campaign;
    let started_at = check_times(&mut report, now, max_age)?;
    check_client(&report)?;
    check_results(&mut report, campaign)?;
    check_complete(&report, campaign)?;
    check_verdicts(&mut report)?;
    // Whatever the sender wrote there, the revision is the one the report was checked against.
    report.campaign_revision = Some(descriptor.revision());
    Ok(Accepted { report, started_at })
}

fn check_header(report: &Report) -> Result<(), Rejection> {
    if report.schema != SCHEMA {
        return Err(Rejection::field("schema", format!("must be {SCHEMA:?}")));
    }
    if !valid_id(&report.campaign) {
        return Err(Rejection::field(
            "campaign",
            "must be a campaign id (letters, digits, - and _)",
        ));
    }
    Ok(())
}

/// The start hour in Unix seconds, written back in the engine's own form.
fn check_times(report: &mut Report, now: i64, max_age: Option<i64>) -> Result<i64, Rejection> {
    let started_at =
        time::parse_hour(&report.started_at).map_err(|p| Rejection::field("started_at", p))?;
    if started_at > time::floor_hour(now) + HOUR {
        return Err(Rejection::field("started_at", "is in the future"));
    }
    if let Some(max_age) = max_age.filter(|age| started_at < now - age) {
        return Err(Rejection::field(
            "started_at",
            format!("is more than {} days ago", max_age / time::DAY),
        ));
    }
    report.started_at = time::format_utc(started_at).replace('Z', ".000Z");
    if report.runtime_ms > MAX_RUNTIME_MS {
        return Err(Rejection::field("runtime_ms", "longer than an hour"));
    }
    Ok(started_at)
}

/// Browser and OS are closed lists (checked while parsing); the version must be a major one.
fn check_client(report: &Report) -> Result<(), Rejection> {
    if report.client.version > 999 {
        return Err(Rejection::field(
            "client.version",
            "must be a major version (0-999)",
        ));
    }
    if report.conditions.len() > Condition::ALL.len() {
        return Err(Rejection::field(
            "conditions",
            format!("too many conditions (at most {})", Condition::ALL.len()),
        ));
    }
    Ok(())
}

/// Controls and platforms must be the campaign's, each platform once.
fn check_results(report: &mut Report, campaign: &Campaign) -> Result<(), Rejection> {
    let whose = format!("the controls of campaign {:?}", campaign.id);
    check_endpoints("controls", &mut report.controls, &campaign.controls, &whose)?;
    if report.platforms.is_empty() {
        return Err(Rejection::field(
            "platforms",
            "at least one platform is needed",
        ));
    }
    if report.platforms.len() > MAX_PLATFORMS {
        return Err(Rejection::field(
            "platforms",
            format!("too many platforms (at most {MAX_PLATFORMS})"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, platform) in report.platforms.iter_mut().enumerate() {
        let at = format!("platforms[{i}]");
        let Some(known) = campaign.platforms.iter().find(|p| p.id == platform.id) else {
            return Err(Rejection::field(
                format!("{at}.id"),
                format!(
                    "no platform {:?} in campaign {:?}",
                    platform.id, campaign.id
                ),
            ));
        };
        if !seen.insert(platform.id.clone()) {
            return Err(Rejection::field(format!("{at}.id"), "duplicate platform"));
        }
        let whose = format!("platform {:?} in campaign {:?}", known.id, campaign.id);
        check_endpoints(
            &format!("{at}.endpoints"),
            &mut platform.endpoints,
            &known.endpoints,
            &whose,
        )?;
    }
    Ok(())
}

fn check_endpoints(
    at: &str,
    results: &mut [EndpointResult],
    allowed: &[Endpoint],
    whose: &str,
) -> Result<(), Rejection> {
    if results.len() > MAX_ENDPOINTS {
        return Err(Rejection::field(
            at,
            format!("too many endpoints (at most {MAX_ENDPOINTS})"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, result) in results.iter_mut().enumerate() {
        let at = format!("{at}[{i}]");
        if result.url.len() > MAX_URL_LEN {
            return Err(Rejection::field(format!("{at}.url"), "too long"));
        }
        // The engine reports each endpoint by its campaign URL, never a probe URL.
        let Some(endpoint) = allowed.iter().find(|e| e.url == result.url) else {
            return Err(Rejection::field(
                format!("{at}.url"),
                format!("not an endpoint of {whose}"),
            ));
        };
        if endpoint.kind != result.kind {
            return Err(Rejection::field(
                format!("{at}.kind"),
                format!("does not match the campaign's kind for this endpoint in {whose}"),
            ));
        }
        if !seen.insert(endpoint.url.as_str()) {
            return Err(Rejection::field(format!("{at}.url"), "duplicate endpoint"));
        }
        check_attempts(&at, &result.attempts)?;
    }
    Ok(())
}

/// How much of its campaign a run measured, as its report shows it. Leaving out endpoints,
/// controls or trials would make `blocked` cheap to claim: only these two ways of ending early
/// exist in the engine, and the report shows which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extent {
    /// Every control and every endpoint with the campaign's number of trials.
    Complete,
    /// The `cancelled` condition (the visitor's Cancel, the run's ceiling): each endpoint has
    /// the attempts made before, from none to the campaign's trials.
    Cancelled,
    /// The offline early stop: every control failed all its trials (the engine's own rule,
    /// [`controls_down`]); the engine then made one attempt per platform endpoint and stopped.
    StoppedOffline,
}

impl Extent {
    fn of(report: &Report) -> Extent {
        if report.conditions.contains(&Condition::Cancelled) {
            Extent::Cancelled
        } else if controls_down(report.controls.iter().map(|c| c.attempts.as_slice())) {
            Extent::StoppedOffline
        } else {
            Extent::Complete
        }
    }

    /// The attempts an endpoint (a control when `control`) may carry.
    fn attempts(self, control: bool, trials: usize) -> std::ops::RangeInclusive<usize> {
        match self {
            Extent::Complete => trials..=trials,
            Extent::Cancelled => 0..=trials,
            Extent::StoppedOffline if control => trials..=trials,
            Extent::StoppedOffline => 1..=1,
        }
    }

    /// How the run ended, for a message.
    fn ending(self) -> &'static str {
        match self {
            Extent::Complete => "complete",
            Extent::Cancelled => "cancelled",
            Extent::StoppedOffline => "stopped after every control failed",
        }
    }
}

/// Every control, platform and endpoint of the campaign must be in the report (they are
/// already known to be nothing else), each with the attempts its [`Extent`] allows; a platform
/// with fewer than the campaign's trials on any endpoint can only be `reachable` (a load
/// proves it) or `inconclusive`.
fn check_complete(report: &Report, campaign: &Campaign) -> Result<(), Rejection> {
    let missing = |results: &[EndpointResult], endpoints: &[Endpoint]| {
        endpoints
            .iter()
            .find(|e| !results.iter().any(|r| r.url == e.url))
            .map(|e| e.url.clone())
    };
    if let Some(url) = missing(&report.controls, &campaign.controls) {
        return Err(Rejection::field(
            "controls",
            format!("missing control {url} of campaign {:?}", campaign.id),
        ));
    }
    for platform in &campaign.platforms {
        let Some((i, result)) = report
            .platforms
            .iter()
            .enumerate()
            .find(|(_, p)| p.id == platform.id)
        else {
            return Err(Rejection::field(
                "platforms",
                format!(
                    "missing platform {:?} of campaign {:?}",
                    platform.id, campaign.id
                ),
            ));
        };
        if let Some(url) = missing(&result.endpoints, &platform.endpoints) {
            return Err(Rejection::field(
                format!("platforms[{i}].endpoints"),
                format!("missing endpoint {url} of platform {:?}", platform.id),
            ));
        }
    }

    let extent = Extent::of(report);
    let trials = campaign.trials as usize;
    let count = |at: String, result: &EndpointResult, control: bool| {
        let made = result.attempts.len();
        if extent.attempts(control, trials).contains(&made) {
            return Ok(());
        }
        let problem = match extent {
            Extent::StoppedOffline => format!(
                "{made} attempts; after every control failed the engine makes exactly one per platform endpoint"
            ),
            _ if made > trials => format!("{made} attempts, the campaign asks for {trials} trials"),
            _ => format!(
                "{made} attempts, the campaign asks for {trials} trials (a run that ended early says so: cancelled, or every control failed)"
            ),
        };
        Err(Rejection::field(format!("{at}.attempts"), problem))
    };
    for (j, control) in report.controls.iter().enumerate() {
        count(format!("controls[{j}]"), control, true)?;
    }
    for (i, platform) in report.platforms.iter().enumerate() {
        for (j, endpoint) in platform.endpoints.iter().enumerate() {
            count(format!("platforms[{i}].endpoints[{j}]"), endpoint, false)?;
        }
        let short = platform
            .endpoints
            .iter()
            .find(|e| e.attempts.len() < trials);
        let judged = matches!(
            platform.verdict,
            Verdict::Blocked | Verdict::Throttled | Verdict::Partial
        );
        if let (Some(short), true) = (short, judged) {
            return Err(Rejection::field(
                format!("platforms[{i}].verdict"),
                format!(
                    "{} needs all {trials} trials of every endpoint; this run was {} and made {} on {}",
                    platform.verdict.as_str(),
                    extent.ending(),
                    short.attempts.len(),
                    short.url
                ),
            ));
        }
    }
    Ok(())
}

fn check_attempts(at: &str, attempts: &[Attempt]) -> Result<(), Rejection> {
    if attempts.len() > MAX_ATTEMPTS {
        return Err(Rejection::field(
            format!("{at}.attempts"),
            format!("too many attempts (at most {MAX_ATTEMPTS})"),
        ));
    }
    for (j, attempt) in attempts.iter().enumerate() {
        let at = format!("{at}.attempts[{j}]");
        if attempt.ms > MAX_ATTEMPT_MS {
            return Err(Rejection::field(
                format!("{at}.ms"),
                "longer than 10 minutes",
            ));
        }
        if attempt.duration_ms.is_some_and(|d| d > MAX_ATTEMPT_MS) {
            return Err(Rejection::field(
                format!("{at}.duration_ms"),
                "longer than 10 minutes",
            ));
        }
        if attempt.bytes.is_some_and(|b| b > 1 << 30) {
            return Err(Rejection::field(format!("{at}.bytes"), "larger than 1 GiB"));
        }
    }
    Ok(())
}

/// The same classifier as the engine: every verdict must follow from the attempts sent.
/// Display figures are recomputed rather than trusted.
fn check_verdicts(report: &mut Report) -> Result<(), Rejection> {
    if let Some(m) = classify_report(report).first() {
        let name = |(verdict, reason): (Verdict, Reason)| {
            format!("{}/{}", verdict.as_str(), reason.as_str())
        };
        return Err(Rejection::field(
            format!("platforms[{}].verdict", m.platform),
            format!(
                "{} does not follow from its attempts (the classifier gives {})",
                name(m.stated),
                name(m.derived)
            ),
        ));
    }
    for platform in &mut report.platforms {
        (platform.median_ms, platform.kbps) = figures(&platform.endpoints);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_are_malformed_and_type_errors_name_the_field() {
        assert!(matches!(
            parse(b"{\"schema\":"),
            Err(Rejection::Malformed(_))
        ));
        assert!(matches!(parse(b"\xff\xfe"), Err(Rejection::Malformed(_))));
        let r = parse(br#"{"schema":"netreach.report/1","campaign":"t","started_at":"x","runtime_ms":"slow"}"#);
        assert_eq!(
            r.unwrap_err().message(),
            "runtime_ms: invalid type: string \"slow\", expected u32"
        );
        assert_eq!(
            parse(b" []").unwrap_err().message(),
            "report: must be a JSON object"
        );
        assert!(matches!(parse(b"[1,"), Err(Rejection::Malformed(_))));
    }
}

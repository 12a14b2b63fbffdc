//! `GET /v1/disruptions?campaign=&cc=&asn=&platform=&from=&to=` (JSON) and `GET /v1/disruptions.atom`
//! (the same events as an Atom 1.0 feed).
//!
//! The filters and range are parsed as for aggregates (`from` and `to` widened to whole
//! hours, by default the last 7 days); events that overlap the range are listed, newest first.
//! Detection always runs over every country (the global rule needs them all), reading the
//! 7 days before `from` as baseline; the filters then choose events: `cc` keeps that
//! country's events and global ones, `asn` that network's, `platform` those that include it
//! and the network-wide ones (outages and slowdowns, which take every platform with them).
//! `campaign` is different: detection then reads only that campaign's reports (its baseline
//! too), so its organisers see the events their own measurements show.
//! Both routes share the aggregates' allowance per client, their query slots and the length
//! of their cache (see [`crate::aggregate_guard`]).

use super::aggregates::{allow_read, Filters, K_HEADER};
use super::State;
use crate::disruptions::{self, Disruption, EventVerdict, Scope, Window, BASELINE_HOURS};
use crate::error::AppError;
use crate::storage::AggregateQuery;
use crate::time::{self, format_utc, HOUR};
use axum::extract::{ConnectInfo, Query, State as Extract};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub async fn get_disruptions(
    Extract(state): Extract<State>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, AppError> {
    let events = matching(&state, peer, &headers, &filters).await?;
    let answer = [
        (K_HEADER, state.k.to_string()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    Ok((
        answer,
        Json(super::Labelled {
            answer: &Answer {
                disruptions: &events,
            },
            synthetic: state.synthetic,
        }),
    )
        .into_response())
}

/// The JSON answer, fields in the order of the contract.
#[derive(Serialize)]
struct Answer<'a> {
    disruptions: &'a [Disruption],
}

pub async fn get_feed(
    Extract(state): Extract<State>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, AppError> {
    let events = matching(&state, peer, &headers, &filters).await?;
    let answer = [
        (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    let base = state
        .submit_origins
        .public
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let feed = atom(&events, &base, time::now(), state.synthetic);
    Ok((answer, feed).into_response())
}

/// The events of the query's range that its filters choose.
async fn matching(
    state: &State,
    peer: SocketAddr,
    headers: &HeaderMap,
    filters: &Filters,
) -> Result<Vec<Disruption>, AppError> {
    allow_read(state, peer, headers)?;
    let q = filters.query(HOUR, time::now())?;
    let all = detected(state, q.from, q.to, q.campaign.clone()).await?;
    Ok(all.iter().filter(|e| chosen(e, &q)).cloned().collect())
}

fn chosen(event: &Disruption, q: &AggregateQuery) -> bool {
    let cc =
        q.cc.as_ref()
            .is_none_or(|cc| event.scope == Scope::Global || event.cc.as_ref() == Some(cc));
    let asn = q.asn.is_none_or(|asn| event.asn == Some(asn));
    // An outage or slowdown of the network (no platforms of its own) takes every platform
    // with it: a card or dashboard of one platform must show it too.
    let platform = q
        .platform
        .as_ref()
        .is_none_or(|p| event.platforms.is_empty() || event.platforms.contains(p));
    cc && asn && platform
}

/// Every event of `[from, to)`: from the cache, or detected from storage when a slot is free.
async fn detected(
    state: &State,
    from: i64,
    to: i64,
    campaign: Option<String>,
) -> Result<Arc<Vec<Disruption>>, AppError> {
    let guard = &state.aggregates;
    let key = AggregateQuery {
        campaign: campaign.clone(),
        ..AggregateQuery::hourly(from, to)
    };
    if let Some(cached) = guard.disruptions.get(&key, Instant::now()) {
        return Ok(cached);
    }
    let _slot = guard.slot().ok_or(AppError::Busy)?;
    let counts = state
        .storage
        .hourly_counts(from - BASELINE_HOURS * HOUR, to, campaign, guard.max_rows)
        .await?
        .ok_or(AppError::TooManyHours {
            max: guard.max_rows,
        })?;
    let window = Window {
        from,
        to,
        now: time::now(),
    };
    let events = Arc::new(disruptions::detect(&counts, state.k, window));
    guard.disruptions.put(key, events.clone(), Instant::now());
    Ok(events)
}

/// Before every title of a demo collector's feed.
const SYNTHETIC_LABEL: &str = "SYNTHETIC DEMO DATA: ";

/// What a platform verdict means in a title.
fn verb(verdict: EventVerdict) -> &'static str {
    match verdict {
        EventVerdict::Blocked => "blocked",
        EventVerdict::Throttled => "throttled",
        EventVerdict::Partial => "partially blocked",
        EventVerdict::Outage | EventVerdict::Slowdown => "disrupted",
    }
}

/// `x`, `x and y`, `x, y and z`.
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `2026-12-02 21:00`.
fn plain_hour(t: i64) -> String {
    format_utc(t)[..16].replace('T', " ")
}

/// The event in plain words: "x blocked on AS17557 in PK since 2026-12-02 21:00 UTC",
/// "Internet outage on AS17557 in PK since …". Controls failing or slow everywhere at once
/// are said to be the controls' own trouble, never an outage or a slowdown.
pub fn title(e: &Disruption) -> String {
    let place = match (e.scope, &e.cc, e.asn) {
        (Scope::Network, Some(cc), Some(asn)) => format!("on AS{asn} in {cc}"),
        (Scope::Country, Some(cc), _) => format!("across networks in {cc}"),
        _ => "in most countries at once".to_owned(),
    };
    let what = match (e.verdict, e.scope) {
        (EventVerdict::Outage, Scope::Global) => {
            format!("Control endpoints failing {place} (broken controls, not an outage)")
        }
        (EventVerdict::Slowdown, Scope::Global) => {
            format!("Control endpoints slow {place} (slow controls, not a slowdown)")
        }
        (EventVerdict::Outage, _) => format!("Internet outage {place}"),
        (EventVerdict::Slowdown, _) => format!("Internet slowdown {place}"),
        (verdict, Scope::Global) => format!(
            "{} {} {place} (a platform outage or a broken endpoint)",
            listed(&e.platforms),
            verb(verdict)
        ),
        (verdict, _) => format!("{} {} {place}", listed(&e.platforms), verb(verdict)),
    };
    let when = match e.end {
        None => format!("since {} UTC", plain_hour(e.start)),
        Some(end) => format!("from {} to {} UTC", plain_hour(e.start), plain_hour(end)),
    };
    format!("{what} {when}")
}

/// What the event's share counts, in words.
fn share_of(verdict: EventVerdict) -> &'static str {
    match verdict {
        EventVerdict::Outage => "of reports made offline (no control endpoint loaded)",
        EventVerdict::Slowdown => {
            "of online reports with control endpoints far slower than usual for the network"
        }
        _ => "of conclusive verdicts failing",
    }
}

/// The volume signal in words (supporting evidence, never proof).
fn volume_words(volume: Option<f64>) -> String {
    match volume {
        Some(v) => format!("{v:.1} times the usual number of reports (supporting evidence only)"),
        None => "no usual number of reports to compare with".to_owned(),
    }
}

/// A stable id: the same event keeps it as it goes on and after it ends.
fn entry_id(e: &Disruption) -> String {
    let cc = e.cc.as_deref().unwrap_or("-");
    let asn = e.asn.map_or("-".to_owned(), |a| a.to_string());
    format!(
        "urn:netreach:disruption:{}:{cc}:{asn}:{}:{}",
        e.scope.as_str(),
        e.verdict.as_str(),
        format_utc(e.start)
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The events as an Atom 1.0 feed (RFC 4287): one entry per event, `updated` the end of the
/// event or, while under way, its latest flagged hour. `base` is the collector's public
/// origin (`--public-origin`), for an absolute `self` link; without it the link is relative.
/// A `synthetic` feed (`--demo`) says so in its title and in every entry's title and content.
pub fn atom(events: &[Disruption], base: &str, now: i64, synthetic: bool) -> String {
    let label = if synthetic { SYNTHETIC_LABEL } else { "" };
    let updated = |e: &Disruption| e.end.unwrap_or(e.last);
    let feed_updated = events
        .iter()
        .map(updated)
        .max()
        .unwrap_or(time::floor_hour(now));
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml += "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n";
    xml += "  <id>urn:netreach:disruptions</id>\n";
    let _ = writeln!(
        xml,
        "  <title>{label}netreach: disruptions detected</title>"
    );
    let _ = writeln!(xml, "  <updated>{}</updated>", format_utc(feed_updated));
    xml += "  <author><name>netreach collector</name></author>\n";
    let _ = writeln!(
        xml,
        "  <link rel=\"self\" href=\"{}/v1/disruptions.atom\"/>",
        escape(base)
    );
    for e in events {
        let senders = e.senders;
        let platforms = if e.verdict.network_wide() {
            "none (the whole network)".to_owned()
        } else {
            e.platforms.join(", ")
        };
        let content = format!(
            "{label}Confidence {:.3} (one-sided binomial test against the previous 7 days); {senders} senders; \
             {:.0} % {}; {}; scope: {}; platforms: {platforms}.",
            e.confidence,
            e.share * 100.0,
            share_of(e.verdict),
            volume_words(e.volume),
            e.scope.as_str(),
        );
        xml += "  <entry>\n";
        let _ = writeln!(xml, "    <id>{}</id>", escape(&entry_id(e)));
        let _ = writeln!(xml, "    <title>{label}{}</title>", escape(&title(e)));
        let _ = writeln!(xml, "    <published>{}</published>", format_utc(e.start));
        let _ = writeln!(xml, "    <updated>{}</updated>", format_utc(updated(e)));
        let _ = writeln!(
            xml,
            "    <content type=\"text\">{}</content>",
            escape(&content)
        );
        xml += "  </entry>\n";
    }
    xml += "</feed>\n";
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_796_245_200; // 2026-12-02T21:00Z

    fn event(scope: Scope, cc: Option<&str>, asn: Option<u32>, platforms: &[&str]) -> Disruption {
        Disruption {
            cc: cc.map(str::to_owned),
            asn,
            scope,
            platforms: platforms.iter().map(|p| p.to_string()).collect(),
            verdict: EventVerdict::Blocked,
            start: T,
            end: None,
            confidence: 0.99,
            senders: 42,
            share: 0.9,
            volume: Some(2.5),
            last: T + HOUR,
        }
    }

    #[test]
    fn titles_say_what_where_and_since_when_in_plain_words() {
        let network = event(Scope::Network, Some("PK"), Some(17557), &["x"]);
        assert_eq!(
            title(&network),
            "x blocked on AS17557 in PK since 2026-12-02 21:00 UTC"
        );
        let mut country = event(
            Scope::Country,
            Some("PK"),
            None,
            &["facebook", "x", "youtube"],
        );
        country.verdict = EventVerdict::Throttled;
        country.end = Some(T + 3 * HOUR);
        assert_eq!(
            title(&country),
            "facebook, x and youtube throttled across networks in PK from 2026-12-02 21:00 to 2026-12-03 00:00 UTC"
        );
        let global = event(Scope::Global, None, None, &["x"]);
        assert_eq!(
            title(&global),
            "x blocked in most countries at once (a platform outage or a broken endpoint) since 2026-12-02 21:00 UTC"
        );
        assert_eq!(
            entry_id(&global),
            "urn:netreach:disruption:global:-:-:blocked:2026-12-02T21:00:00Z"
        );
    }

    #[test]
    fn outages_and_slowdowns_are_titled_as_the_network_s_not_a_platform_s() {
        let mut outage = event(Scope::Network, Some("PK"), Some(17557), &[]);
        outage.verdict = EventVerdict::Outage;
        assert_eq!(
            title(&outage),
            "Internet outage on AS17557 in PK since 2026-12-02 21:00 UTC"
        );
        assert_eq!(
            entry_id(&outage),
            "urn:netreach:disruption:network:PK:17557:outage:2026-12-02T21:00:00Z"
        );
        let mut slowdown = event(Scope::Country, Some("PK"), None, &[]);
        slowdown.verdict = EventVerdict::Slowdown;
        slowdown.end = Some(T + 2 * HOUR);
        assert_eq!(
            title(&slowdown),
            "Internet slowdown across networks in PK from 2026-12-02 21:00 to 2026-12-02 23:00 UTC"
        );
        // Controls failing or slow everywhere are the controls' trouble, not an outage.
        let mut controls = event(Scope::Global, None, None, &[]);
        controls.verdict = EventVerdict::Outage;
        assert_eq!(
            title(&controls),
            "Control endpoints failing in most countries at once (broken controls, not an outage) since 2026-12-02 21:00 UTC"
        );
        controls.verdict = EventVerdict::Slowdown;
        assert_eq!(
            title(&controls),
            "Control endpoints slow in most countries at once (slow controls, not a slowdown) since 2026-12-02 21:00 UTC"
        );
    }

    #[test]
    fn entries_say_what_the_share_counts_and_the_volume_beside_it() {
        let mut outage = event(Scope::Network, Some("PK"), Some(17557), &[]);
        outage.verdict = EventVerdict::Outage;
        let block = event(Scope::Network, Some("PK"), Some(9541), &["x"]);
        let mut unknown = event(Scope::Network, Some("PK"), Some(45669), &[]);
        unknown.verdict = EventVerdict::Slowdown;
        unknown.volume = None;
        let xml = atom(&[outage, block, unknown], "", T, false);
        assert!(
            xml.contains(
                "90 % of reports made offline (no control endpoint loaded); 2.5 times the usual \
                 number of reports (supporting evidence only); scope: network; platforms: none (the whole network)."
            ),
            "{xml}"
        );
        assert!(
            xml.contains("90 % of conclusive verdicts failing; 2.5 times the usual number of reports (supporting evidence only); scope: network; platforms: x."),
            "{xml}"
        );
        assert!(
            xml.contains("90 % of online reports with control endpoints far slower than usual for the network; no usual number of reports to compare with;"),
            "{xml}"
        );
    }

    #[test]
    fn the_feed_escapes_what_it_quotes_and_links_itself() {
        let odd = event(Scope::Network, Some("PK"), Some(1), &["a<b&c"]);
        let xml = atom(&[odd], "https://netreach.example", T, false);
        assert!(
            xml.contains("<title>a&lt;b&amp;c blocked on AS1 in PK"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<link rel=\"self\" href=\"https://netreach.example/v1/disruptions.atom\"/>"
            ),
            "{xml}"
        );
        // Under way: updated is the last flagged hour; the feed's is the newest entry's.
        assert!(
            xml.contains("<updated>2026-12-02T22:00:00Z</updated>"),
            "{xml}"
        );
        let empty = atom(&[], "", T + 1800, false);
        assert!(
            empty.contains("<updated>2026-12-02T21:00:00Z</updated>"),
            "{empty}"
        );
        assert!(!empty.contains("<entry>"));
        assert!(!xml.contains("SYNTHETIC"));
    }

    #[test]
    fn a_demo_feed_says_synthetic_in_every_title_and_entry() {
        let e = event(Scope::Network, Some("PK"), Some(9541), &["x"]);
        let xml = atom(&[e], "", T, true);
        assert!(
            xml.contains("<title>SYNTHETIC DEMO DATA: netreach: disruptions detected</title>"),
            "{xml}"
        );
        assert!(
            xml.contains("<title>SYNTHETIC DEMO DATA: x blocked on AS9541 in PK"),
            "{xml}"
        );
        assert!(
            xml.contains("<content type=\"text\">SYNTHETIC DEMO DATA: Confidence"),
            "{xml}"
        );
    }
}

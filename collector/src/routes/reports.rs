//! `POST /v1/reports`: check a report in full, locate its sender coarsely, store it, answer
//! `201 {"id": n}` once it is durable.
//!
//! The sender's address lives only in this handler's stack: it is looked up (country, ASN)
//! and hashed for rate limiting, then dropped. Nothing here logs a request.

use super::State;
use crate::error::AppError;
use crate::geo::Location;
use crate::intake::{self, Accepted};
use crate::storage::{NewReport, VerdictRow};
use crate::time;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{ConnectInfo, State as Extract};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Handles one report and counts the answer by status.
pub async fn post_report(
    Extract(state): Extract<State>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let client = client_ip(peer.ip(), &headers, state.trusted_proxy);
    let response = accept(&state, client, &headers, body)
        .await
        .map(|id| (StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
        .into_response();
    state.metrics.report_answered(response.status().as_u16());
    response
}

/// The client's address: the peer, or behind a trusted proxy the last `X-Forwarded-For`
/// entry (the one the proxy appended; earlier entries are whatever the client claimed).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxy: bool) -> IpAddr {
    if !trusted_proxy {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .and_then(|v| {
            v.parse::<IpAddr>()
                .ok()
                .or_else(|| v.parse::<SocketAddr>().ok().map(|s| s.ip()))
        })
        .unwrap_or(peer)
}

/// From request to stored report: each step refuses with the most basic problem first.
async fn accept(
    state: &State,
    client: IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<i64, AppError> {
    // Before anything else: another site's request is not even read.
    state.submit_origins.check(headers)?;
    state.limiter.check(client, Instant::now())?;
    require_report_type(headers)?;
    let body = read_body(headers, body, state.max_body).await?;
    let now = time::now();
    let accepted = intake::check(intake::parse(&body)?, &state.campaigns, now)?;
    let report = to_store(accepted, state.geo.locate(client), now)?;
    state
        .storage
        .insert(report)
        .await
        .map_err(AppError::NotStored)
}

/// JSON, or plain text: what sendBeacon and CORS-simple fetches send (no preflight).
fn require_report_type(headers: &HeaderMap) -> Result<(), AppError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim());
    match essence {
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("text/plain") => Ok(()),
        _ => Err(AppError::UnsupportedContentType),
    }
}

/// The whole body, refused as soon as it is known to exceed `limit` bytes: from its declared
/// length before reading, else while reading.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AppError::TooLarge { limit });
    }
    to_bytes(body, limit).await.map_err(|e| {
        if is_length_limit(e.into_inner().as_ref()) {
            AppError::TooLarge { limit }
        } else {
            AppError::UnreadableBody
        }
    })
}

fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// The row to store: the checked report with its sender's coarse location, and its times
/// rounded to the hour.
///
/// # Errors
/// The report cannot be serialized again (not expected of a value that was just parsed).
fn to_store(accepted: Accepted, location: Location, now: i64) -> Result<NewReport, AppError> {
    let report = accepted.report;
    let verdicts = report
        .platforms
        .iter()
        .map(|p| VerdictRow {
            platform: p.id.clone(),
            verdict: p.verdict,
            reason: p.reason,
        })
        .collect();
    Ok(NewReport {
        received_at: time::floor_hour(now),
        started_at: accepted.started_at,
        json: serde_json::to_string(&report)?,
        campaign: report.campaign,
        cc: location.country,
        asn: location.asn,
        client: report.client,
        runtime_ms: report.runtime_ms,
        verdicts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_used_only_behind_a_trusted_proxy_and_only_its_last_entry() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        assert_eq!(client_ip(peer, &h, false), peer);
        assert_eq!(
            client_ip(peer, &h, true),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(peer, &h, true), peer);
        h.insert("x-forwarded-for", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(
            client_ip(peer, &h, true),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn json_and_plain_text_bodies_are_accepted() {
        let mut h = HeaderMap::new();
        assert!(require_report_type(&h).is_err());
        h.insert(
            header::CONTENT_TYPE,
            "text/plain;charset=UTF-8".parse().unwrap(),
        );
        assert!(require_report_type(&h).is_ok());
        h.insert(header::CONTENT_TYPE, "Application/JSON".parse().unwrap());
        assert!(require_report_type(&h).is_ok());
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert!(matches!(
            require_report_type(&h),
            Err(AppError::UnsupportedContentType)
        ));
    }
}

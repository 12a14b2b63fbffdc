//! `POST /v1/reports`: check a report in full, locate its sender coarsely, judge its connection
//! condition, store it, answer `201 {"id": n, "connection": …, "typical": …}` once it is durable
//! (`n` random, see [`crate::storage::Storage::insert`]; the condition and the network's
//! typical control figures for that hour of day, or `null`, see [`crate::connection`]).
//!
//! The sender's address lives only in this handler's stack: it is looked up (country, ASN)
//! and hashed for rate limiting and for counting distinct senders (a set emptied every hour,
//! see [`crate::senders`]), then dropped. Nothing here logs a request.

use super::State;
use crate::connection::Judged;
use crate::error::AppError;
use crate::intake;
use crate::senders::Sender;
use crate::storage::NewReport;
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
    let client = state.proxies.client_ip(peer.ip(), &headers);
    let response = accept(&state, client, &headers, body)
        .await
        .map(|(id, judged)| {
            let answer = serde_json::json!({
                "id": id,
                "connection": judged.connection,
                "typical": judged.typical,
            });
            (StatusCode::CREATED, Json(answer))
        })
        .into_response();
    state.metrics.report_answered(response.status().as_u16());
    response
}

/// From request to stored report, with its id and how its connection was judged: each step
/// refuses with the most basic problem first.
async fn accept(
    state: &State,
    client: IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<(i64, Judged), AppError> {
    // Before anything else: another site's request is not even read.
    state.submit_origins.check(headers)?;
    state.limiter.check(client, Instant::now())?;
    require_report_type(headers)?;
    let body = read_body(headers, body, state.max_body).await?;
    let now = time::now();
    let accepted = intake::check(intake::parse(&body)?, &state.campaigns, now)?;
    let location = state.geo.locate(client);
    let (started_at, cc, asn) = (accepted.started_at, location.country.clone(), location.asn);
    let sender = state.senders.admit(client, &cc, asn, started_at, now);
    if sender == Sender::Uncounted {
        state.metrics.sender_uncounted();
    }
    // A lookup in the table the rollups' task keeps: nothing read from storage here.
    let judged = state
        .baselines
        .judge(&accepted.report.controls, &cc, asn, started_at);
    let received = time::floor_hour(now);
    let report = NewReport::checked(accepted, location, sender.counts(), received, &judged)?;
    let stored = state.storage.insert(report).await;
    if stored.is_err() && sender.counts() {
        // Not stored, so not counted: the retry should count.
        state.senders.forget(client, &cc, asn, started_at, now);
    }
    Ok((stored.map_err(AppError::NotStored)?, judged))
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
        let e = e.into_inner();
        if caused_by::<http_body_util::LengthLimitError>(e.as_ref()) {
            AppError::TooLarge { limit }
        } else if caused_by::<tower_http::timeout::TimeoutError>(e.as_ref()) {
            AppError::BodyTimeout
        } else {
            AppError::UnreadableBody
        }
    })
}

fn caused_by<E: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if err.is::<E>() {
            return true;
        }
        cause = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

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

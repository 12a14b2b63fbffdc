//! `POST /v1/reports`: check a report in full, locate its sender coarsely, store it, answer
//! `201 {"id": n}` once it is durable.
//!
//! The sender's address lives only in this handler's stack: it is looked up (country, ASN)
//! and hashed for rate limiting, then dropped. Nothing here logs a request.

use super::State;
use crate::error::ApiError;
use crate::intake::{self, Rejection};
use crate::storage::{NewReport, VerdictRow};
use crate::time;
use axum::body::{to_bytes, Body};
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
    let response = match accept(&state, client, &headers, body).await {
        Ok(id) => (StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response(),
        Err(e) => e.into_response(),
    };
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

fn content_type_ok(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    // text/plain is what sendBeacon and CORS-simple fetches send (no preflight).
    essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case("text/plain")
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("report larger than {limit} bytes"),
    )
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

async fn accept(
    state: &State,
    client: IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<i64, ApiError> {
    if let Err(seconds) = state.limiter.check(client, Instant::now()) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many reports from this network; try again in {seconds} s"),
        );
        e.retry_after = Some(seconds);
        return Err(e);
    }
    if !content_type_ok(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json or text/plain",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body as u64) {
        return Err(too_large(state.max_body));
    }
    let body = to_bytes(body, state.max_body).await.map_err(|e| {
        let e = e.into_inner();
        if is_length_limit(e.as_ref()) {
            too_large(state.max_body)
        } else {
            ApiError::bad_request("the request body could not be read")
        }
    })?;
    let report = intake::parse(&body).map_err(reject)?;
    let now = time::now();
    let accepted = intake::check(report, &state.campaigns, now).map_err(reject)?;
    let location = state.geo.locate(client);
    let report = accepted.report;
    let new = NewReport {
        received_at: time::floor_hour(now),
        started_at: accepted.started_at,
        campaign: report.campaign.clone(),
        cc: location.country,
        asn: location.asn,
        client: report.client.clone(),
        runtime_ms: report.runtime_ms,
        verdicts: report
            .platforms
            .iter()
            .map(|p| VerdictRow {
                platform: p.id.clone(),
                verdict: p.verdict,
                reason: p.reason,
            })
            .collect(),
        json: serde_json::to_string(&report).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot encode: {e}"),
            )
        })?,
    };
    state.storage.insert(new).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage is unavailable; the report was not stored, please retry",
        )
    })
}

fn reject(r: Rejection) -> ApiError {
    match r {
        Rejection::Malformed(_) => ApiError::bad_request(r.message()),
        Rejection::Schema { .. } => ApiError::unprocessable(r.message()),
    }
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
        assert!(!content_type_ok(&h));
        h.insert(
            header::CONTENT_TYPE,
            "text/plain;charset=UTF-8".parse().unwrap(),
        );
        assert!(content_type_ok(&h));
        h.insert(header::CONTENT_TYPE, "Application/JSON".parse().unwrap());
        assert!(content_type_ok(&h));
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert!(!content_type_ok(&h));
    }
}

//! `GET /v1/export/ooni?cc=&asn=&platform=&from=&to=`: the published hour cells as JSON lines
//! in OONI's base data format (see [`crate::ooni`]).
//!
//! Parameters, range, errors and bounds are those of `/v1/aggregates` with `bucket=hour`, and
//! so is the answer's content: it is the same aggregate (the same cache entry), one line per
//! cell, cells under k left out. The cells' attempts are then counted from the stored reports
//! of the range, a page at a time, in a query slot; reading more than `--max-aggregate-rows`
//! reports is refused with 400 (a shorter range is asked for), and the lines are cached as
//! long as aggregates.

use super::aggregates::{aggregate, allow_read, Filters, K_HEADER};
use super::State;
use crate::aggregate::Aggregate;
use crate::error::AppError;
use crate::ooni::AttemptTally;
use crate::storage::{AggregateQuery, ReportQuery, StorageError, StoredReports};
use crate::time::{self, HOUR};
use axum::extract::{ConnectInfo, Query, State as Extract};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub async fn get_export(
    Extract(state): Extract<State>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, AppError> {
    state.metrics.aggregate_requested();
    allow_read(&state, peer, &headers)?;
    let q = filters.query(HOUR, time::now())?;
    let lines = lines(&state, q).await?;
    let answer = [
        (K_HEADER, state.k.to_string()),
        (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    Ok((answer, lines.to_string()).into_response())
}

/// The query's lines: from the cache, or made from the aggregate and the stored reports.
async fn lines(state: &State, q: AggregateQuery) -> Result<Arc<String>, AppError> {
    let guard = &state.aggregates;
    if let Some(cached) = guard.ooni.get(&q, Instant::now()) {
        return Ok(cached);
    }
    let cells = aggregate(state, q.clone()).await?;
    let attempts = attempts(state, &q, &cells).await?;
    let lines = crate::ooni::to_jsonl(&cells.cells, &attempts, cells.k, state.synthetic)
        .map_err(AppError::Encode)?;
    let lines = Arc::new(lines);
    guard.ooni.put(q, lines.clone(), Instant::now());
    Ok(lines)
}

/// The attempts of the published cells, from the stored reports of the query's range.
async fn attempts(
    state: &State,
    q: &AggregateQuery,
    cells: &Aggregate,
) -> Result<AttemptTally, AppError> {
    let mut tally = AttemptTally::new(&cells.cells);
    if cells.cells.is_empty() {
        return Ok(tally);
    }
    let guard = &state.aggregates;
    let _slot = guard.slot().ok_or(AppError::Busy)?;
    let query = ReportQuery {
        campaign: q.campaign.clone(),
        from: q.from,
        to: q.to,
    };
    let mut reports = StoredReports::new(&*state.storage, query);
    let mut read = 0;
    while let Some(stored) = reports.next().await? {
        read += 1;
        if read > guard.max_rows {
            return Err(AppError::TooManyReports {
                max: guard.max_rows,
            });
        }
        if !tally.wants(&stored.cc, stored.asn) {
            continue;
        }
        let report = serde_json::from_str(&stored.json)
            .map_err(|e| StorageError::Unreadable(format!("stored report {}: {e}", stored.id)))?;
        tally.add(stored.started_at, &stored.cc, stored.asn, &report);
    }
    Ok(tally)
}

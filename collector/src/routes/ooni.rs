//! `GET /v1/export/ooni?cc=&asn=&platform=&from=&to=`: the published hour cells as JSON lines
//! in OONI's base data format (see [`crate::ooni`]).
//!
//! Parameters, range, errors and bounds are those of `/v1/aggregates` with `bucket=hour`, and
//! so is the answer's content: it is the same aggregate (the same cache entry), one line per
//! cell, cells under k left out.

use super::aggregates::{aggregate, allow_read, Filters, K_HEADER};
use super::State;
use crate::error::AppError;
use crate::time::{self, HOUR};
use axum::extract::{ConnectInfo, Query, State as Extract};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

pub async fn get_export(
    Extract(state): Extract<State>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, AppError> {
    state.metrics.aggregate_requested();
    allow_read(&state, peer, &headers)?;
    let q = filters.query(HOUR, time::now())?;
    let cells = aggregate(&state, q).await?;
    let lines =
        crate::ooni::to_jsonl(&cells.cells, cells.k, state.synthetic).map_err(AppError::Encode)?;
    let answer = [
        (K_HEADER, cells.k.to_string()),
        (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    Ok((answer, lines).into_response())
}

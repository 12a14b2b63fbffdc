//! `GET /healthz` (public and admin) and `GET /metrics` (admin only).

use super::State;
use crate::storage::StorageError;
use axum::extract::State as Extract;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use std::sync::atomic::Ordering;

/// Checks storage (and, on SQLite, that the writer thread is alive); a failure is logged
/// with its cause when it starts, and recovery when it ends.
async fn check(state: &State) -> Result<(), StorageError> {
    let result = state.storage.health().await;
    let was_healthy = state.healthy.swap(result.is_ok(), Ordering::Relaxed);
    match (&result, was_healthy) {
        (Err(e), true) => eprintln!("netreach-collector: unhealthy: {e}"),
        (Ok(()), false) => eprintln!("netreach-collector: healthy again"),
        _ => {}
    }
    result
}

/// 200 `ok`, or 503 `unavailable` without the cause (which may name the database's host or
/// state; it goes to the log and to the admin listener's `/healthz`).
pub async fn healthz(Extract(state): Extract<State>) -> impl IntoResponse {
    match check(&state).await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable\n"),
    }
}

/// 200 `ok`, or 503 with the cause.
pub async fn healthz_detailed(Extract(state): Extract<State>) -> impl IntoResponse {
    match check(&state).await {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}

/// Prometheus text exposition.
pub async fn metrics(Extract(state): Extract<State>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(
            state.storage.kind(),
            state.limiter.clients(),
            state.senders.len(),
        ),
    )
}

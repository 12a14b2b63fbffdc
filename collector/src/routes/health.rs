//! `GET /healthz` and `GET /metrics`.

use super::State;
use axum::extract::State as Extract;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

/// 200 `ok` when storage answers, 503 with the reason otherwise.
pub async fn healthz(Extract(state): Extract<State>) -> impl IntoResponse {
    match state.storage.health().await {
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
        state
            .metrics
            .render(state.storage.kind(), state.limiter.clients()),
    )
}

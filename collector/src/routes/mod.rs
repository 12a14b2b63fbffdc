//! The HTTP routes and the state they share.

mod aggregates;
mod campaigns;
mod health;
mod reports;

use crate::campaigns::Campaigns;
use crate::cli::Config;
use crate::geo::Geo;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::storage::Storage;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

/// Everything a handler needs; built once at start.
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub campaigns: Campaigns,
    pub geo: Geo,
    pub limiter: RateLimiter,
    pub metrics: Arc<Metrics>,
    pub k: u32,
    pub max_body: usize,
    pub trusted_proxy: bool,
}

/// Shared state as handlers receive it.
pub type State = Arc<AppState>;

/// The API under `/v1`, `/healthz`, `/metrics`, the dashboard, and `www/` for the rest.
pub fn router(state: State, config: &Config) -> Router {
    // Any news site may embed the test and submit from its own origin; nothing is
    // credentialed (no cookies exist), so a wildcard origin is safe.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([
            aggregates::SUPPRESSED_HEADER,
            aggregates::K_HEADER,
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(86_400));
    let api = Router::new()
        .route("/v1/reports", post(reports::post_report))
        .route("/v1/campaigns/{id}", get(campaigns::get_campaign))
        .route("/v1/aggregates", get(aggregates::get_aggregates))
        .layer(cors);
    Router::new()
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route_service(
            "/dashboard",
            ServeFile::new(config.www.join("dashboard.html")),
        )
        .fallback_service(static_files(config))
        // Pages, scripts and JSON (aggregates can be large) gzipped for clients that ask;
        // a response that already has an encoding (the package's twins) passes untouched.
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// `www/`. Where a file has a gzipped twin (`cargo xtask build` writes `www/pkg/*.gz`), a
/// browser that accepts gzip gets the twin: the engine is about a third of its size on the
/// wire, which matters most on a throttled network.
fn static_files(config: &Config) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(&config.www).precompressed_gzip())
        .layer(map_response(vary_on_encoding))
}

/// Shared caches must not hand the gzipped body to a client that did not ask for it.
async fn vary_on_encoding(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let varies = headers.get_all(header::VARY).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

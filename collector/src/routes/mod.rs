//! The HTTP routes and the state they share.

mod aggregates;
mod campaigns;
pub mod cross_origin;
mod disruptions;
mod health;
mod ooni;
mod reports;
pub mod security;

use crate::aggregate_guard::AggregateGuard;
use crate::campaigns::Campaigns;
use crate::cli::Config;
use crate::geo::Geo;
use crate::metrics::Metrics;
use crate::origin::{Origin, SubmitOrigins};
use crate::proxy::TrustedProxies;
use crate::rate_limit::RateLimiter;
use crate::senders::Senders;
use crate::storage::Storage;
use axum::body::Body;
use axum::extract::{Request, State as Extract};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, map_request, map_response, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use security::SecurityHeaders;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::{TimeoutBody, TimeoutLayer};

/// Everything a handler needs; built once at start.
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    /// Every network's typical control figures, kept by the rollups' task; intake judges each
    /// report's connection against them.
    pub baselines: Arc<crate::connection::Baselines>,
    pub campaigns: Campaigns,
    pub geo: Geo,
    pub limiter: RateLimiter,
    /// Who already counts as a sender this hour (k counts distinct senders).
    pub senders: Senders,
    pub metrics: Arc<Metrics>,
    pub k: u32,
    pub max_body: usize,
    pub proxies: TrustedProxies,
    pub aggregates: AggregateGuard,
    /// Whether the last health check passed (a failure is logged when it starts).
    pub healthy: AtomicBool,
    /// The pages that may submit reports.
    pub submit_origins: SubmitOrigins,
    /// The database holds synthetic demo data (`--demo`): every answer says so.
    pub synthetic: bool,
}

/// Says on every answer that the data are synthetic, for a collector started with `--demo`.
pub const SYNTHETIC_HEADER: HeaderName = HeaderName::from_static("x-netreach-synthetic");

/// A JSON answer with `"synthetic": true` beside its own fields under `--demo` (nothing
/// added otherwise).
#[derive(serde::Serialize)]
pub struct Labelled<'a, T: serde::Serialize> {
    #[serde(flatten)]
    pub answer: &'a T,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

async fn label_synthetic(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(SYNTHETIC_HEADER, HeaderValue::from_static("true"));
    response
}

/// Shared state as handlers receive it.
pub type State = Arc<AppState>;

/// The API under `/v1`, `/healthz`, the dashboard, and `www/` for the rest; every answer with
/// the security headers of [`security`]; every request within `--request-timeout-ms` (503 past
/// it) and its body within `--body-timeout-ms` between pieces.
pub fn router(state: State, config: &Config) -> Router {
    let body_timeout = Duration::from_millis(config.body_timeout_ms);
    // Anyone may read the campaigns and aggregates; nothing is credentialed (no cookies
    // exist), so a wildcard origin is safe. CORS only decides whether a page may read an
    // answer: who may submit is decided by the report's Origin (`crate::origin`), before its
    // body is read, since a simple cross-site POST needs no preflight.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([aggregates::K_HEADER, SYNTHETIC_HEADER, header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(86_400));
    let synthetic = state.synthetic;
    let api = Router::new()
        .route("/v1/reports", post(reports::post_report))
        .route("/v1/campaigns", get(campaigns::list_campaigns))
        .route("/v1/campaigns/{id}", get(campaigns::get_campaign))
        .route("/v1/aggregates", get(aggregates::get_aggregates))
        .route("/v1/disruptions", get(disruptions::get_disruptions))
        .route("/v1/disruptions.atom", get(disruptions::get_feed))
        .route("/v1/export/ooni", get(ooni::get_export))
        .layer(cors);
    let app = Router::new()
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route_service(
            "/dashboard",
            ServeFile::new(config.www.join("dashboard.html")),
        )
        .fallback_service(static_files(config))
        // Pages, scripts and JSON (aggregates can be large) gzipped for clients that ask;
        // a response that already has an encoding (the package's twins) passes untouched.
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(
            SecurityHeaders {
                https: config.public_origin.as_ref().is_some_and(Origin::is_https),
            },
            security::add,
        ))
        .layer(map_request(move |request: Request| async move {
            request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)))
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(config.request_timeout_ms),
        ));
    // Every answer of a demo collector, pages and errors included, says the data are made up.
    let app = if synthetic {
        app.layer(map_response(label_synthetic))
    } else {
        app
    };
    app.with_state(state)
}

/// The admin listener's routes (`--admin-listen`): `/metrics`, and `/healthz` with the cause
/// of a failure.
pub fn admin_router(state: State) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz_detailed))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// `www/`. Where a file has a gzipped twin (`cargo xtask build` writes `www/pkg/*.gz`), a
/// browser that accepts gzip gets the twin: the engine is about a third of its size on the
/// wire, which matters most on a throttled network. What other sites load (`embed.js`,
/// `pkg/`) carries CORS, and the pinned copies an immutable cache header ([`cross_origin`]).
fn static_files(config: &Config) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(&config.www).precompressed_gzip())
        .layer(map_response(vary_on_encoding))
        .layer(from_fn(cross_origin::add))
        .layer(from_fn_with_state(
            Arc::new(config.www.clone()),
            fresh_twins_only,
        ))
}

/// A twin older than its file (the package rebuilt by wasm-pack alone, say) would send last
/// build's bytes: such a request loses its gzip preference here, so the file itself goes out
/// (gzipped on the way by the outer layer, which read the preference before).
async fn fresh_twins_only(
    Extract(www): Extract<Arc<PathBuf>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(file) = file_under(&www, request.uri().path()) {
        if twin_is_stale(&file) {
            request.headers_mut().remove(header::ACCEPT_ENCODING);
        }
    }
    next.run(request).await
}

/// The file a plain request path names under `www` (no `..`, no percent escapes: anything else
/// is left to ServeDir, which serves no twin check but its own safe resolution).
fn file_under(www: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.strip_prefix('/')?;
    let plain = !relative.is_empty()
        && !relative.contains('%')
        && relative
            .split('/')
            .all(|part| !part.is_empty() && part != "..");
    plain.then(|| www.join(relative))
}

fn twin_is_stale(file: &Path) -> bool {
    let mut twin = file.as_os_str().to_owned();
    twin.push(".gz");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (modified(file), modified(Path::new(&twin))) {
        (Some(file), Some(twin)) => twin < file,
        _ => false,
    }
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

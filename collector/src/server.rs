//! Start-up and shutdown: open storage and geo databases, serve, and on SIGTERM or Ctrl-C
//! stop accepting, answer the requests in flight and drain the write queue before exiting.

use crate::campaigns::Campaigns;
use crate::cli::Config;
use crate::geo::Geo;
use crate::metrics::Metrics;
use crate::origin::SubmitOrigins;
use crate::rate_limit::RateLimiter;
use crate::routes::{router, AppState};
use crate::storage;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Runs the collector until a shutdown signal.
///
/// # Errors
/// Storage, geo databases or the listening socket cannot be opened.
pub async fn run(config: Config) -> Result<(), String> {
    let metrics = Arc::new(Metrics::default());
    let storage = storage::open(&config.database, config.pool_size, metrics.clone())
        .await
        .map_err(|e| format!("database: {e}"))?;
    let geo = Geo::open(config.geo_country.as_deref(), config.geo_asn.as_deref())?;
    let described_geo = geo.describe();
    if config.public_origin.is_none() && !config.listen.ip().is_loopback() {
        eprintln!(
            "netreach-collector: warning: no --public-origin; reports are accepted only from pages opened at an IP address"
        );
    }
    let state = Arc::new(AppState {
        storage: storage.clone(),
        campaigns: Campaigns::new(config.campaigns.clone()),
        geo,
        limiter: RateLimiter::new(config.rate_limit),
        metrics,
        k: config.k,
        max_body: config.max_body,
        trusted_proxy: config.trusted_proxy,
        submit_origins: SubmitOrigins {
            public: config.public_origin.clone(),
            embed: config.embed_origins.clone(),
        },
    });
    let described_origins = state.submit_origins.describe();
    let app = router(state, &config);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("{}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The database URL may hold a password: only its kind is logged.
    eprintln!(
        "netreach-collector: listening on http://{addr} (storage {}, k={}, geo {}, rate limit {}/min, trusted proxy {}, reports from {})",
        storage.kind(),
        config.k,
        described_geo,
        config.rate_limit,
        if config.trusted_proxy { "yes" } else { "no" },
        described_origins,
    );

    let (stop, mut stopping) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let mut graceful = stopping.clone();
    let serve = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|s| *s).await;
    });
    let mut server = tokio::spawn(async move { serve.await });
    let served = tokio::select! {
        r = &mut server => r,
        _ = stopping.wait_for(|s| *s) => {
            eprintln!("netreach-collector: shutting down, answering requests in flight");
            match tokio::time::timeout(Duration::from_secs(config.drain_seconds), &mut server).await {
                Ok(r) => r,
                Err(_) => {
                    eprintln!("netreach-collector: requests still open after {} s, closing them", config.drain_seconds);
                    server.abort();
                    Ok(Ok(()))
                }
            }
        }
    };
    storage.close().await;
    eprintln!("netreach-collector: stopped; every acknowledged report is stored");
    match served {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("server: {e}")),
        Err(e) => Err(format!("server task: {e}")),
    }
}

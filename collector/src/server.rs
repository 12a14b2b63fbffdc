//! Start-up and shutdown: open storage and geo databases, serve, and on SIGTERM or Ctrl-C
//! stop accepting, answer the requests in flight and drain the write queue before exiting.

use crate::aggregate_guard::{AggregateCache, AggregateGuard};
use crate::campaigns::Campaigns;
use crate::cli::Config;
use crate::geo::Geo;
use crate::listener::CappedListener;
use crate::metrics::Metrics;
use crate::origin::SubmitOrigins;
use crate::proxy::TrustedProxies;
use crate::rate_limit::RateLimiter;
use crate::routes::{admin_router, router, AppState};
use crate::senders::Senders;
use crate::storage::{self, StorageOptions};
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
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
    if config.demo && config.database == crate::cli::DEFAULT_DATABASE {
        return Err(format!(
            "--demo serves synthetic data: give it a database of its own (--database sqlite://data/demo.db), never the real {}",
            crate::cli::DEFAULT_DATABASE
        ));
    }
    let metrics = Arc::new(Metrics::default());
    let options = StorageOptions {
        db_ca: config.db_ca.clone(),
        pool_size: config.pool_size,
        write_queue: config.write_queue as usize,
        timeout: Duration::from_millis(config.db_timeout_ms),
    };
    let storage = storage::open(&config.database, options, metrics.clone())
        .await
        .map_err(|e| format!("database: {e}"))?;
    let baselines = Arc::new(crate::connection::Baselines::new(config.k));
    tokio::spawn(crate::rollup::run(
        storage.clone(),
        Duration::from_millis(config.db_timeout_ms),
        baselines.clone(),
    ));
    tokio::spawn(crate::retention::run(storage.clone(), config.retain_days));
    let geo = Geo::open(config.geo_country.as_deref(), config.geo_asn.as_deref())?;
    let clients = config.rate_limit_clients as usize;
    let described_geo = geo.describe();
    if config.public_origin.is_none() && !config.listen.ip().is_loopback() {
        eprintln!(
            "netreach-collector: warning: no --public-origin; reports are accepted only from pages opened at an IP address"
        );
    }
    let state = Arc::new(AppState {
        storage: storage.clone(),
        baselines,
        campaigns: Campaigns::new(config.campaigns.clone()),
        geo,
        limiter: RateLimiter::new(config.rate_limit, clients),
        senders: Senders::new(config.max_senders as usize),
        metrics,
        k: config.k,
        max_body: config.max_body,
        proxies: TrustedProxies::new(config.trusted_proxy.clone(), config.trusted_hops as usize),
        aggregates: AggregateGuard::new(
            AggregateCache::new(Duration::from_secs(config.aggregate_cache_seconds)),
            config.max_concurrent_aggregates as usize,
            RateLimiter::new(config.aggregate_rate_limit, clients),
            config.max_aggregate_rows as usize,
        ),
        healthy: AtomicBool::new(true),
        submit_origins: SubmitOrigins {
            public: config.public_origin.clone(),
            embed: config.embed_origins.clone(),
        },
        synthetic: config.demo,
    });
    let described_proxies = state.proxies.describe();
    let described_origins = state.submit_origins.describe();
    let app = router(state.clone(), &config);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("{}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let admin = match config.admin_listen {
        Some(admin) => Some(
            TcpListener::bind(admin)
                .await
                .map_err(|e| format!("--admin-listen {admin}: {e}"))?,
        ),
        None => None,
    };
    if let Some(admin) = admin {
        let admin_addr = admin.local_addr().map_err(|e| e.to_string())?;
        eprintln!(
            "netreach-collector: admin (/metrics, /healthz with causes) on http://{admin_addr}"
        );
        if !admin_addr.ip().is_loopback() {
            eprintln!("netreach-collector: warning: the admin listener is not on loopback; keep it off the public network");
        }
        let admin_app = admin_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(admin, admin_app).await {
                eprintln!("netreach-collector: admin listener: {e}");
            }
        });
    }
    // The database URL may hold a password: only its kind is logged.
    eprintln!(
        "netreach-collector: listening on http://{addr} (storage {}, k={}, reports kept {}, geo {}, rate limit {}/min, trusted proxy {described_proxies}, at most {} connections, reports from {described_origins})",
        storage.kind(),
        config.k,
        match config.retain_days {
            0 => "forever".to_owned(),
            days => format!("{days} days"),
        },
        described_geo,
        config.rate_limit,
        config.max_connections,
    );
    // The tap is a no-op: it lets the connection's peer address reach the handlers.
    let listener = CappedListener::new(listener, config.max_connections as usize).tap_io(|_| {});

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

//! The lab's HTTPS servers: one listener per address, each answering for its host name with
//! the lab certificate (or, for the interceptor, a certificate of its own), after an optional
//! server-side latency; and the DNS server (`dns`) with the same latency.

use crate::content::Content;
use crate::dns::{self, Zone};
use crate::error::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// Running servers; dropping them stops accepting and closes their connections.
#[derive(Default)]
pub struct Servers {
    tasks: Vec<JoinHandle<()>>,
    /// Connections accepted by any of them: every probe opens or reuses one.
    connections: Arc<AtomicU64>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Servers {
    /// Starts an HTTPS server on `ip:443`.
    ///
    /// # Errors
    /// If the address cannot be bound (not configured in this namespace, or taken).
    pub async fn start(
        &mut self,
        ip: Ipv4Addr,
        tls: TlsAcceptor,
        content: Arc<Content>,
        latency: Duration,
    ) -> Result<()> {
        let addr = SocketAddr::from((ip, 443));
        let listener = TcpListener::bind(addr)
            .await
            .context(format_args!("binding {addr}"))?;
        let connections = self.connections.clone();
        self.tasks.push(tokio::spawn(accept(
            listener,
            tls,
            content,
            latency,
            connections,
        )));
        Ok(())
    }

    /// Starts the lab's DNS server on `at` (UDP and TCP), answering from `zone` after
    /// `latency`.
    ///
    /// # Errors
    /// If `at` cannot be bound.
    pub async fn start_dns(&mut self, at: SocketAddr, zone: Zone, latency: Duration) -> Result<()> {
        self.tasks.extend(dns::serve(at, zone, latency).await?);
        Ok(())
    }

    /// Starts a plain-HTTP server on `addr` answering `html` to every request: the news article
    /// that embeds the test. Its connections are not counted: the article is what the reader
    /// opens before any consent.
    ///
    /// # Errors
    /// If `addr` cannot be bound.
    pub async fn start_page(&mut self, addr: SocketAddr, html: String) -> Result<()> {
        let listener = TcpListener::bind(addr)
            .await
            .context(format_args!("binding {addr}"))?;
        let html = Bytes::from(html);
        self.tasks.push(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let html = html.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_| {
                        let page = Response::builder()
                            .header("content-type", "text/html; charset=utf-8")
                            .body(Full::new(html.clone()));
                        async move { page }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }));
        Ok(())
    }

    /// Connections accepted so far, by every server together.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn accept(
    listener: TcpListener,
    tls: TlsAcceptor,
    content: Arc<Content>,
    latency: Duration,
    connections: Arc<AtomicU64>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.fetch_add(1, Ordering::SeqCst);
        let (tls, content) = (tls.clone(), content.clone());
        tokio::spawn(async move {
            // A failed handshake is what the interceptor exists for: nothing to report.
            let Ok(stream) = tls.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |request| {
                respond(request, content.clone(), latency)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(
    request: Request<Incoming>,
    content: Arc<Content>,
    latency: Duration,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let answer = content.answer(request.uri().path());
    // Like the platforms' own edges: no CORP and no Timing-Allow-Origin, so the browser
    // treats these loads exactly as it treats the real ones.
    let response = Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type)
        .header("cache-control", "no-store")
        .body(Full::new(answer.body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())));
    Ok(response)
}

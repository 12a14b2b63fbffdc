//! The security headers of every answer, whatever the route (static files, API, errors):
//! no MIME sniffing, no referrer, a Content-Security-Policy that lets the page run the engine
//! and its probes but nothing injected, no framing except of the documents made for articles
//! (the embed frame and the status card), and HSTS when the collector is served over https.

use axum::extract::{Request, State as Extract};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The documents meant to be framed by other sites (both inserted by `www/embed.js`): the
/// test, whose Start and Submit only the reader can press in the frame, and the status card,
/// which has no button at all. The page and the dashboard stay unframeable.
pub const FRAMEABLE_PATHS: [&str; 2] = ["/embed.html", "/card.html"];

/// The policy of every answer, before its `frame-ancestors`. Scripts only from the collector
/// (no inline script, no `eval`), plus compiling the engine's WebAssembly; styles only from its
/// style sheets. The probes load images from and fetch the campaigns' endpoints, which are
/// `https://` (campaign validation allows plain http only on loopback, for tests: a page served
/// here cannot probe a visitor's own machine over http), and the page may submit to a
/// campaign's `https://` collector. Objects, `<base>` and form targets elsewhere: none.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' https:; \
     connect-src 'self' https:; object-src 'none'; base-uri 'none'; form-action 'self'";

/// HSTS for a year, this host only (the collector may share a domain with other services).
const HSTS: &str = "max-age=31536000";

/// What differs between deployments.
#[derive(Clone, Copy, Debug)]
pub struct SecurityHeaders {
    /// Served over https (`--public-origin https://…`): browsers then never try plain http.
    pub https: bool,
}

impl SecurityHeaders {
    /// Sets the headers on an answer; `frameable` for a document any site may frame.
    pub fn apply(self, headers: &mut HeaderMap, frameable: bool) {
        let ancestors = if frameable { "*" } else { "'none'" };
        let policy = format!("{CONTENT_SECURITY_POLICY}; frame-ancestors {ancestors}");
        if let Ok(policy) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        if frameable {
            headers.remove(header::X_FRAME_OPTIONS);
        } else {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if self.https {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
    }
}

/// The middleware: every answer leaves with the headers.
pub async fn add(
    Extract(policy): Extract<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let frameable = FRAMEABLE_PATHS.contains(&request.uri().path());
    let mut response = next.run(request).await;
    policy.apply(response.headers_mut(), frameable);
    response
}

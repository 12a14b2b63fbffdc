//! One plain HTTP request to an endpoint, outside any browser. A page sees nothing of a
//! cross-origin `no-cors` answer (status, headers, size are hidden), so when a browser could
//! not use an endpoint, this request says why: the status, a redirect, the content type, the
//! `Cross-Origin-Resource-Policy` and `Cache-Control` headers, and the size on the wire. It
//! never decides a verdict; the browser's load does (see `verdict.rs`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use netreach::ProbeKind;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// Longest one request (every redirect and the body included) may take.
const LIMIT: Duration = Duration::from_secs(20);
/// Redirects followed before giving up, as a browser would (it allows 20; five is plenty to
/// reach a login page).
const MAX_REDIRECTS: usize = 5;
/// Largest body counted; a `bytes` object is a few hundred KB at most.
const MAX_BODY: u64 = 50_000_000;
/// What Chromium sends: the same compression, so the size on the wire is the browser's.
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                          Chrome/156.0.0.0 Safari/537.36";

/// What the endpoint's host answered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    /// The `Location` of each redirect followed, in order.
    pub redirects: Vec<String>,
    /// The status of the last answer.
    pub status: u16,
    pub content_type: Option<String>,
    /// `Cross-Origin-Resource-Policy`.
    pub corp: Option<String>,
    pub cache_control: Option<String>,
    /// Body bytes as sent (compressed when the server compressed them), when counted.
    pub wire_bytes: Option<u64>,
}

/// What Chromium accepts for an `<img>`: some CDNs answer by it (WebP for browsers).
const ACCEPT_IMAGE: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

/// GETs `url` as the browser would for a probe of `kind`, following redirects, and counts
/// the body when `count_body` is set.
///
/// # Errors
/// No answer: the host name does not resolve, the connection is refused or times out, TLS
/// fails; the message says which.
pub async fn request(url: &str, kind: ProbeKind, count_body: bool) -> Result<Answer, String> {
    let accept = match kind {
        ProbeKind::Image => ACCEPT_IMAGE,
        ProbeKind::Fetch => "*/*",
    };
    match tokio::time::timeout(LIMIT, follow(url, accept, count_body)).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no answer within {} s", LIMIT.as_secs())),
    }
}

async fn follow(url: &str, accept: &str, count_body: bool) -> Result<Answer, String> {
    let mut redirects = Vec::new();
    let mut uri: Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    loop {
        let (status, headers, wire_bytes) = get(&uri, accept, count_body).await?;
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .filter(|_| (300..400).contains(&status));
        if let Some(location) = location {
            if redirects.len() == MAX_REDIRECTS {
                return Err(format!("more than {MAX_REDIRECTS} redirects"));
            }
            let next = resolve(&uri, location);
            redirects.push(next.clone());
            uri = next
                .parse()
                .map_err(|e| format!("bad redirect {next}: {e}"))?;
            continue;
        }
        let text = |name: &str| headers.get(name).map(text);
        return Ok(Answer {
            redirects,
            status,
            content_type: text("content-type"),
            corp: text("cross-origin-resource-policy"),
            cache_control: text("cache-control"),
            wire_bytes,
        });
    }
}

fn text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// A `Location` made absolute against the URL that answered with it.
fn resolve(base: &Uri, location: &str) -> String {
    let scheme = base.scheme_str().unwrap_or("https");
    let authority = base.authority().map_or("", |a| a.as_str());
    if location.contains("://") {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{scheme}://{authority}{dir}{location}")
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One request on its own connection: status, headers, and the body's size if asked.
async fn get(
    uri: &Uri,
    accept: &str,
    count_body: bool,
) -> Result<(u16, HeaderMap, Option<u64>), String> {
    let host = uri.host().ok_or("URL without a host")?.to_owned();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => return Err(format!("unsupported scheme {other:?}")),
    };
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("connect to {host}:{port}: {e}"))?;
    let stream: Box<dyn Io> = if https {
        let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
        let tls = TlsConnector::from(tls_config())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP with {host}: {e}"))?;
    tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(
            "host",
            uri.authority().map_or(host.as_str(), |a| a.as_str()),
        )
        .header("user-agent", USER_AGENT)
        .header("accept", accept)
        .header("accept-encoding", ACCEPT_ENCODING)
        .header("connection", "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP with {host}: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if !count_body {
        return Ok((status, headers, None));
    }
    let mut body = response.into_body();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("body from {host}: {e}"))?;
        if let Ok(data) = frame.into_data() {
            size += data.len() as u64;
            if size > MAX_BODY {
                break;
            }
        }
    }
    Ok((status, headers, Some(size)))
}

/// TLS 1.2/1.3 with Mozilla's root certificates, HTTP/1.1 only; built once.
fn tls_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            // The provider named, not the process default, which another crate's features
            // could make ambiguous.
            let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
            let mut config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_made_absolute_against_the_url_that_sent_it() {
        let base: Uri = "https://a.example/img/logo.png?x=1".parse().unwrap();
        assert_eq!(resolve(&base, "/login"), "https://a.example/login");
        assert_eq!(
            resolve(&base, "other.png"),
            "https://a.example/img/other.png"
        );
        assert_eq!(resolve(&base, "//b.example/x"), "https://b.example/x");
        assert_eq!(resolve(&base, "http://c.example/"), "http://c.example/");
    }
}

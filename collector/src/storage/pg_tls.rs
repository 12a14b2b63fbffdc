//! TLS to PostgreSQL through rustls (ring), with libpq's `sslmode` words.
//!
//! tokio-postgres knows `disable`, `prefer` (its default) and `require`, and leaves the
//! certificate to the connector. So `sslmode` is read here first: `verify-ca` and
//! `verify-full` become `require` for tokio-postgres, and decide what this connector checks.
//!
//! | `sslmode` | TLS | certificate |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `prefer` (default) | if the server offers it | not checked, or its chain with `--db-ca` |
//! | `require` | always | not checked (encryption only), or its chain with `--db-ca` |
//! | `verify-ca` | always | chain to a CA in `--db-ca` (required) |
//! | `verify-full` | always | chain to `--db-ca` and the host name (or IP) of the URL |
//!
//! Without a check, the connection is encrypted but a machine in the path could stand in for
//! the server: use `verify-full` wherever the network between collector and database is not
//! trusted.

use super::StorageError;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore,
    SignatureScheme,
};

/// What `sslmode` asks of the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// `disable`, `prefer`, `require`: no CA given, nothing to check against.
    Nothing,
    /// `verify-ca`, or `prefer`/`require` with `--db-ca`: the chain.
    Chain,
    /// `verify-full`: the chain and the name.
    ChainAndName,
}

/// The URL for tokio-postgres (with `sslmode` one of its own words) and the connector that
/// checks what `sslmode` and `--db-ca` ask for.
///
/// # Errors
/// `verify-ca` or `verify-full` without `--db-ca`, a CA file that cannot be read or holds no
/// certificate, or an unknown `sslmode`.
pub fn configure(url: &str, ca: Option<&Path>) -> Result<(String, RustlsConnect), StorageError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = "prefer";
    let mut params: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("sslmode=") {
            Some(value) => mode = value,
            None => params.push(pair.to_owned()),
        }
    }
    let (tokio_mode, check) = match (mode, ca) {
        ("disable", _) => ("disable", Check::Nothing),
        ("prefer" | "require", None) => (mode, Check::Nothing),
        ("prefer" | "require", Some(_)) => (mode, Check::Chain),
        ("verify-ca", Some(_)) => ("require", Check::Chain),
        ("verify-full", Some(_)) => ("require", Check::ChainAndName),
        ("verify-ca" | "verify-full", None) => {
            return Err(StorageError::Unavailable(format!(
                "postgres: sslmode={mode} needs the CA that signed the server's certificate: --db-ca FILE.pem"
            )))
        }
        (other, _) => {
            return Err(StorageError::Unavailable(format!(
                "postgres: unknown sslmode={other:?} (disable, prefer, require, verify-ca, verify-full)"
            )))
        }
    };
    params.push(format!("sslmode={tokio_mode}"));
    let url = format!("{base}?{}", params.join("&"));
    let roots = match ca {
        Some(file) if check != Check::Nothing => Some(read_roots(file)?),
        _ => None,
    };
    Ok((url, RustlsConnect::new(check, roots)?))
}

fn read_roots(file: &Path) -> Result<RootCertStore, StorageError> {
    let failed = |what: String| {
        StorageError::Unavailable(format!("postgres: --db-ca {}: {what}", file.display()))
    };
    let pem = std::fs::read(file).map_err(|e| failed(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| failed(format!("not PEM certificates ({e})")))?;
        roots
            .add(cert)
            .map_err(|e| failed(format!("not a CA certificate ({e})")))?;
    }
    if roots.is_empty() {
        return Err(failed("no certificate in it".into()));
    }
    Ok(roots)
}

/// Makes a rustls connection for each new PostgreSQL connection of the pool.
#[derive(Clone)]
pub struct RustlsConnect {
    config: Arc<ClientConfig>,
}

impl RustlsConnect {
    fn new(check: Check, roots: Option<RootCertStore>) -> Result<Self, StorageError> {
        let provider = Arc::new(crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StorageError::Unavailable(format!("postgres: TLS: {e}")))?;
        let webpki = match roots {
            Some(roots) if check != Check::Nothing => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| StorageError::Unavailable(format!("postgres: TLS: {e}")))?,
            ),
            _ => None,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match webpki {
            Some(webpki) if check == Check::ChainAndName => webpki,
            chain => Arc::new(Lenient { chain, provider }),
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(RustlsConnect {
            config: Arc::new(config),
        })
    }
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnectOne;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> io::Result<RustlsConnectOne> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(RustlsConnectOne {
            config: self.config.clone(),
            name,
        })
    }
}

/// One connection's handshake, to the host of the URL.
pub struct RustlsConnectOne {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnectOne
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await
                .map(RustlsStream)
        })
    }
}

/// A PostgreSQL connection inside TLS.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM then authenticates without binding to this TLS session.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// What webpki checks, less: nothing of the certificate (`prefer`, `require` without a CA:
/// encryption, no authentication), or its chain but not its name (`verify-ca`). Either way
/// the handshake's signatures are checked against the certificate presented.
#[derive(Debug)]
struct Lenient {
    /// The chain's checks, `None` for none.
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the name last, once the chain is good.
        match chain.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.provider.signature_verification_algorithms;
        crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.provider.signature_verification_algorithms;
        crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_and_check(url: &str, ca: Option<&Path>) -> Result<String, String> {
        configure(url, ca)
            .map(|(url, _)| url)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sslmode_words_tokio_postgres_lacks_become_require() {
        let base = "postgres://u@db.example/n";
        assert_eq!(
            url_and_check(base, None),
            Ok(format!("{base}?sslmode=prefer"))
        );
        assert_eq!(
            url_and_check(&format!("{base}?application_name=c&sslmode=require"), None),
            Ok(format!("{base}?application_name=c&sslmode=require"))
        );
        assert_eq!(
            url_and_check(&format!("{base}?sslmode=disable"), None),
            Ok(format!("{base}?sslmode=disable"))
        );
        let error = url_and_check(&format!("{base}?sslmode=verify-full"), None).unwrap_err();
        assert!(error.contains("needs the CA"), "{error}");
        let error = url_and_check(&format!("{base}?sslmode=allow"), None).unwrap_err();
        assert!(error.contains("unknown sslmode"), "{error}");
        let error = url_and_check(
            &format!("{base}?sslmode=verify-ca"),
            Some(Path::new("/nope")),
        )
        .unwrap_err();
        assert!(error.contains("--db-ca /nope"), "{error}");
    }
}

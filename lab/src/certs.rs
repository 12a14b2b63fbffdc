//! Certificates for the real host names, made fresh for every run. Chromium trusts the lab's
//! key through `--ignore-certificate-errors-spki-list`; the interceptor's key is not in the list,
//! so it fails the way a TLS-intercepting censor's certificate does.

use crate::error::{Context, Result};
use base64::Engine as _;
use rcgen::PublicKeyData as _;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// A self-signed certificate for a set of host names, with its key.
pub struct Identity {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
    /// Base64 of the SHA-256 of the SubjectPublicKeyInfo: what Chromium's SPKI list takes.
    pub spki_sha256: String,
}

impl Identity {
    /// A new key pair and a certificate naming every one of `names`.
    ///
    /// # Errors
    /// If key generation or signing fails.
    pub fn generate(names: &[&str]) -> Result<Self> {
        let key = rcgen::KeyPair::generate().context("key generation")?;
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .context("certificate names")?;
        let cert = params.self_signed(&key).context("self-signing")?;
        let spki_sha256 = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(key.subject_public_key_info()));
        Ok(Identity {
            cert: cert.der().clone(),
            key: key.serialize_der(),
            spki_sha256,
        })
    }

    /// A TLS acceptor presenting this certificate (HTTP/1.1 only, like a plain CDN edge).
    ///
    /// # Errors
    /// If rustls refuses the key.
    pub fn acceptor(&self) -> Result<TlsAcceptor> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .context("TLS certificate")?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

//! Certificates for the real host names, made fresh for every run: a lab CA, and the servers'
//! certificate signed by it. Firefox trusts the CA (added to its profile's certificate
//! database; it never trusts a self-signed server certificate), Chromium the servers' key
//! (`--ignore-certificate-errors-spki-list`). The interceptor's certificate is self-signed by
//! a key of its own, trusted by neither, so it fails the way a TLS-intercepting censor's does.

use crate::error::{Context, Result};
use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rcgen::{DnType, ExtendedKeyUsagePurpose, PublicKeyData as _};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The lab's certificate authority: what Firefox is told to trust.
pub struct Authority {
    params: CertificateParams,
    key: KeyPair,
    /// The CA certificate (DER), for the browser's trust store.
    pub cert: CertificateDer<'static>,
}

impl Authority {
    /// A new CA key and its self-signed certificate.
    ///
    /// # Errors
    /// If key generation or signing fails.
    pub fn generate() -> Result<Self> {
        let key = KeyPair::generate().context("CA key generation")?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "netreach lab CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).context("self-signing the CA")?;
        Ok(Authority {
            params,
            key,
            cert: cert.der().clone(),
        })
    }

    /// A server certificate naming every one of `names`, signed by this CA.
    ///
    /// # Errors
    /// If key generation or signing fails.
    pub fn issue(&self, names: &[&str]) -> Result<Identity> {
        let key = KeyPair::generate().context("key generation")?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = server_params(names)?
            .signed_by(&key, &issuer)
            .context("signing with the lab CA")?;
        Ok(Identity::new(cert.der().clone(), &key))
    }
}

fn server_params(names: &[&str]) -> Result<CertificateParams> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .context("certificate names")?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

/// A server certificate for a set of host names, with its key.
pub struct Identity {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
    /// Base64 of the SHA-256 of the SubjectPublicKeyInfo: what Chromium's SPKI list takes.
    pub spki_sha256: String,
}

impl Identity {
    fn new(cert: CertificateDer<'static>, key: &KeyPair) -> Self {
        Identity {
            cert,
            key: key.serialize_der(),
            spki_sha256: base64::engine::general_purpose::STANDARD
                .encode(Sha256::digest(key.subject_public_key_info())),
        }
    }

    /// A new key pair and a self-signed certificate naming every one of `names` (the
    /// interceptor's: no browser in the lab trusts it).
    ///
    /// # Errors
    /// If key generation or signing fails.
    pub fn self_signed(names: &[&str]) -> Result<Self> {
        let key = KeyPair::generate().context("key generation")?;
        let cert = server_params(names)?
            .self_signed(&key)
            .context("self-signing")?;
        Ok(Identity::new(cert.der().clone(), &key))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::rustls::client::danger::ServerCertVerifier;
    use tokio_rustls::rustls::client::WebPkiServerVerifier;
    use tokio_rustls::rustls::pki_types::{ServerName, UnixTime};
    use tokio_rustls::rustls::RootCertStore;

    /// Whether a client that trusts only `ca` (as the Firefox profile does) accepts `server`
    /// for `name`.
    fn trusted(ca: &Authority, server: &Identity, name: &'static str) -> bool {
        let mut roots = RootCertStore::empty();
        roots.add(ca.cert.clone()).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        verifier
            .verify_server_cert(
                &server.cert,
                &[],
                &ServerName::try_from(name).unwrap(),
                &[],
                UnixTime::now(),
            )
            .is_ok()
    }

    #[test]
    fn the_servers_chain_to_the_lab_ca_and_the_interceptor_does_not() {
        let ca = Authority::generate().unwrap();
        let names = ["x.com", "abs.twimg.com"];
        let servers = ca.issue(&names).unwrap();
        assert!(trusted(&ca, &servers, "x.com"));
        assert!(trusted(&ca, &servers, "abs.twimg.com"));
        assert!(
            !trusted(&ca, &servers, "www.youtube.com"),
            "a name it was not issued for"
        );
        let interceptor = Identity::self_signed(&names).unwrap();
        assert!(!trusted(&ca, &interceptor, "x.com"));
        assert_ne!(servers.spki_sha256, interceptor.spki_sha256);
    }
}

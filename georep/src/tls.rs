//! Mutual TLS for geo-links: a dev CA, PEM loading, rustls configs and the
//! check that a peer's certificate names the region it claims to be.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::{Error, RegionId, TlsMaterial};

/// DNS name a region's certificate carries (and that dialers verify).
pub fn region_dns_name(region: RegionId) -> String {
    format!("region-{region}.meridian")
}

/// A throwaway group CA (for `meridian dev` and tests).
pub struct DevCa {
    issuer: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    ca_pem: String,
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

impl DevCa {
    pub fn new() -> Result<DevCa, Error> {
        let key = KeyPair::generate().map_err(tls_err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "meridian dev group CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(tls_err)?;
        Ok(DevCa {
            ca_der: cert.der().to_vec(),
            ca_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    fn issue_inner(&self, region: RegionId) -> Result<(rcgen::Certificate, KeyPair), Error> {
        let key = KeyPair::generate().map_err(tls_err)?;
        let mut params = CertificateParams::new(vec![region_dns_name(region)]).map_err(tls_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, region_dns_name(region));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // Every region is both a QUIC server and a client.
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.issuer).map_err(tls_err)?;
        Ok((cert, key))
    }

    /// Certificate and key for `region`, signed by this CA.
    pub fn issue(&self, region: RegionId) -> Result<TlsMaterial, Error> {
        let (cert, key) = self.issue_inner(region)?;
        Ok(TlsMaterial {
            ca_der: self.ca_der.clone(),
            cert_chain_der: vec![cert.der().to_vec()],
            key_der: key.serialize_der(),
            revoked: Vec::new(),
        })
    }

    /// Same as [`DevCa::issue`] as PEM text: (certificate, key).
    pub fn issue_pem(&self, region: RegionId) -> Result<(String, String), Error> {
        let (cert, key) = self.issue_inner(region)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    pub fn ca_der(&self) -> Vec<u8> {
        self.ca_der.clone()
    }
}

/// Loads the group CA, this region's certificate chain and its key from PEM files.
pub fn load_pem(ca: &Path, cert: &Path, key: &Path) -> Result<TlsMaterial, Error> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::Tls(format!("reading {}: {e}", p.display())))
    };
    let ca_pem = read(ca)?;
    let ca_der = CertificateDer::pem_slice_iter(&ca_pem)
        .next()
        .ok_or_else(|| Error::Tls(format!("no certificate in {}", ca.display())))?
        .map_err(tls_err)?
        .to_vec();
    let cert_pem = read(cert)?;
    let cert_chain_der = CertificateDer::pem_slice_iter(&cert_pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(tls_err)?;
    if cert_chain_der.is_empty() {
        return Err(Error::Tls(format!("no certificate in {}", cert.display())));
    }
    let key_pem = read(key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| Error::Tls(format!("key {}: {e}", key.display())))?
        .secret_der()
        .to_vec();
    Ok(TlsMaterial {
        ca_der,
        cert_chain_der,
        key_der,
        revoked: Vec::new(),
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn parts(
    tls: &TlsMaterial,
) -> Result<
    (
        Arc<rustls::RootCertStore>,
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
    ),
    Error,
> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(tls.ca_der.clone()))
        .map_err(tls_err)?;
    let chain = tls
        .cert_chain_der
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let key = PrivateKeyDer::try_from(tls.key_der.clone()).map_err(tls_err)?;
    Ok((Arc::new(roots), chain, key))
}

/// QUIC server config: requires a client certificate chaining to the group CA.
pub(crate) fn server_config(
    tls: &TlsMaterial,
    transport: Arc<quinn::TransportConfig>,
) -> Result<quinn::ServerConfig, Error> {
    let (roots, chain, key) = parts(tls)?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider())
        .build()
        .map_err(tls_err)?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![crate::wire::ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(cfg).map_err(tls_err)?;
    let mut sc = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    sc.transport_config(transport);
    Ok(sc)
}

/// QUIC client config: presents our certificate, trusts only the group CA.
pub(crate) fn client_config(
    tls: &TlsMaterial,
    transport: Arc<quinn::TransportConfig>,
) -> Result<quinn::ClientConfig, Error> {
    let (roots, chain, key) = parts(tls)?;
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![crate::wire::ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(cfg).map_err(tls_err)?;
    let mut cc = quinn::ClientConfig::new(Arc::new(crypto));
    cc.transport_config(transport);
    Ok(cc)
}

/// Whether the (already CA-verified) end-entity certificate names `region`.
pub(crate) fn cert_names_region(cert_der: &[u8], region: RegionId) -> bool {
    let der = CertificateDer::from(cert_der);
    let Ok(ee) = webpki::EndEntityCert::try_from(&der) else {
        return false;
    };
    let Ok(name) = ServerName::try_from(region_dns_name(region)) else {
        return false;
    };
    ee.verify_is_valid_for_subject_name(&name).is_ok()
}

/// SHA-256 of a DER certificate (what `openssl x509 -fingerprint -sha256` prints).
pub fn fingerprint(cert_der: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, cert_der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The fingerprint (openssl's form) of the first certificate in PEM text.
pub fn pem_fingerprint(pem: &str) -> Result<String, Error> {
    let der = CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .ok_or_else(|| Error::Tls("no certificate in PEM text".into()))?
        .map_err(tls_err)?;
    Ok(fingerprint_hex(&fingerprint(der.as_ref())))
}

/// A fingerprint as hex pairs joined by `:` (openssl's form).
pub fn fingerprint_hex(fp: &[u8; 32]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The peer's end-entity certificate on `conn`, if it presented one.
fn peer_cert(conn: &quinn::Connection) -> Option<CertificateDer<'static>> {
    let id = conn.peer_identity()?;
    let certs = id.downcast::<Vec<CertificateDer<'static>>>().ok()?;
    certs.first().cloned()
}

/// The revoked certificates of this endpoint, and which of them were already logged.
#[derive(Debug, Default)]
pub(crate) struct Revoked {
    list: Vec<[u8; 32]>,
    logged: std::sync::Mutex<std::collections::BTreeSet<[u8; 32]>>,
}

impl Revoked {
    pub(crate) fn new(list: Vec<[u8; 32]>) -> Revoked {
        Revoked {
            list,
            logged: Default::default(),
        }
    }

    /// The fingerprint of the peer's certificate on `conn` if it is revoked. The first
    /// refusal of each certificate is logged as a warning, the ones after (the peer keeps
    /// redialing) at debug level.
    pub(crate) fn check(&self, conn: &quinn::Connection, peer: RegionId) -> Option<String> {
        if self.list.is_empty() {
            return None;
        }
        let fp = fingerprint(peer_cert(conn)?.as_ref());
        if !self.list.contains(&fp) {
            return None;
        }
        let hex = fingerprint_hex(&fp);
        let first = self.logged.lock().map(|mut l| l.insert(fp)).unwrap_or(true);
        if first {
            tracing::warn!(peer, fingerprint = %hex, "refusing the peer: its certificate is revoked");
        } else {
            tracing::debug!(peer, fingerprint = %hex, "refusing the peer again: its certificate is revoked");
        }
        Some(hex)
    }
}

/// Whether the peer on `conn` authenticated with a certificate naming `region`.
pub(crate) fn peer_is_region(conn: &quinn::Connection, region: RegionId) -> bool {
    peer_cert(conn).is_some_and(|c| cert_names_region(c.as_ref(), region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_cert_names_its_region_only() {
        let ca = DevCa::new().expect("ca");
        let m = ca.issue(3).expect("issue");
        assert!(cert_names_region(&m.cert_chain_der[0], 3));
        assert!(!cert_names_region(&m.cert_chain_der[0], 4));
        assert!(!cert_names_region(b"garbage", 3));
        let t = Arc::new(quinn::TransportConfig::default());
        server_config(&m, t.clone()).expect("server config");
        client_config(&m, t).expect("client config");
    }

    #[test]
    fn fingerprint_is_sha256_in_openssl_form() {
        let fp = fingerprint(b"abc");
        assert_eq!(
            fingerprint_hex(&fp),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn pem_round_trip() {
        let ca = DevCa::new().expect("ca");
        let (cert, key) = ca.issue_pem(1).expect("issue");
        let dir = std::env::temp_dir().join(format!("georep-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (c, k, a) = (dir.join("c.pem"), dir.join("k.pem"), dir.join("ca.pem"));
        std::fs::write(&c, cert).expect("w");
        std::fs::write(&k, key).expect("w");
        std::fs::write(&a, ca.ca_pem()).expect("w");
        let m = load_pem(&a, &c, &k).expect("load");
        assert_eq!(m.ca_der, ca.ca_der());
        assert!(cert_names_region(&m.cert_chain_der[0], 1));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(load_pem(&a, &c, &dir.join("missing")).is_err());
    }
}

//! RSA key pairs for PDND clients and for the simulator's own PDND signing key.
//!
//! Keys are generated at run time (never committed): RSA 2048, private key as PKCS#8 PEM,
//! public key as SubjectPublicKeyInfo PEM, the same formats the PDND back-office accepts.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::sync::OnceLock;

/// A freshly generated RSA key pair with its key id.
#[derive(Clone)]
pub struct CoppiaChiavi {
    /// Key id: base64url of the SHA-256 of the public key DER, so it is stable for a key.
    pub kid: String,
    /// Private key, PKCS#8 PEM ("PRIVATE KEY").
    pub private_pem: String,
    /// Public key, SubjectPublicKeyInfo PEM ("PUBLIC KEY").
    pub public_pem: String,
}

impl fmt::Debug for CoppiaChiavi {
    // The private key must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoppiaChiavi")
            .field("kid", &self.kid)
            .field("private_pem", &"<riservata>")
            .finish()
    }
}

/// Generates a new RSA 2048 key pair.
pub fn genera_coppia() -> CoppiaChiavi {
    // aws-lc only fails here if the system RNG is broken: nothing sensible can continue then.
    let coppia = KeyPair::generate(KeySize::Rsa2048).expect("generazione chiave RSA fallita");
    let privata = coppia.as_der().expect("codifica PKCS#8 fallita");
    let pubblica = coppia.public_key().as_der().expect("codifica SPKI fallita");
    CoppiaChiavi {
        kid: kid_di(pubblica.as_ref()),
        private_pem: pem::encode(&pem::Pem::new("PRIVATE KEY", privata.as_ref().to_vec())),
        public_pem: pem::encode(&pem::Pem::new("PUBLIC KEY", pubblica.as_ref().to_vec())),
    }
}

/// One key pair per process, for tests that need "a client key" and do not care which.
pub fn coppia_condivisa() -> &'static CoppiaChiavi {
    static COPPIA: OnceLock<CoppiaChiavi> = OnceLock::new();
    COPPIA.get_or_init(genera_coppia)
}

/// A second shared pair, for tests that need a key the simulator does not know.
pub fn coppia_estranea() -> &'static CoppiaChiavi {
    static COPPIA: OnceLock<CoppiaChiavi> = OnceLock::new();
    COPPIA.get_or_init(genera_coppia)
}

fn kid_di(spki_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(spki_der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

    #[test]
    fn la_coppia_firma_e_verifica_rs256() {
        let c = coppia_condivisa();
        assert!(c.private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(c.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let enc = EncodingKey::from_rsa_pem(c.private_pem.as_bytes()).unwrap();
        let dec = DecodingKey::from_rsa_pem(c.public_pem.as_bytes()).unwrap();
        let claims = serde_json::json!({"exp": 4_000_000_000u64, "x": 1});
        let jws = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &enc).unwrap();
        let v = Validation::new(Algorithm::RS256);
        jsonwebtoken::decode::<serde_json::Value>(&jws, &dec, &v).unwrap();
    }

    #[test]
    fn il_debug_non_mostra_la_chiave_privata() {
        let c = coppia_condivisa();
        let s = format!("{c:?}");
        assert!(!s.contains("BEGIN PRIVATE KEY"));
        assert!(s.contains(&c.kid));
    }

    #[test]
    fn il_kid_e_di_43_caratteri_base64url() {
        // SHA-256 is 32 bytes: 43 characters of unpadded base64url.
        assert_eq!(coppia_condivisa().kid.len(), 43);
        assert_ne!(coppia_condivisa().kid, coppia_estranea().kid);
    }
}

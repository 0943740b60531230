//! ModI security for the PDND e-services (NOTES §3): the Agid-JWT-TrackingEvidence
//! (AUDIT_REST_02), the client assertion bound to it, the per-call Digest and
//! Agid-JWT-Signature (INTEGRITY_REST_02). Pure functions: no I/O, the clock is injected.

use crate::config::{AnprConfig, ChiavePrivata, MAX_LUNGHEZZA_CLAIM};
use base64::Engine as _;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// Time source, so that tests can move time and vouchers can expire on demand.
pub trait Orologio: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn adesso_ms(&self) -> i64;

    fn adesso_s(&self) -> i64 {
        self.adesso_ms().div_euclid(1000)
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrologioSistema;

impl Orologio for OrologioSistema {
    fn adesso_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// GovWay refuses `iat`/`nbf` in the future; our clock may be ahead of its clock by a little.
pub const ANTICIPO_S: i64 = 5;
/// Lifetime of the client assertion (PDND wants it short-lived).
pub const DURATA_ASSERTION_S: i64 = 120;
/// Lifetime of the per-call Agid-JWT-Signature.
pub const DURATA_FIRMA_S: i64 = 300;
/// Lifetime of the tracking evidence: PDND vouchers last at most 600 s, and the evidence must
/// outlive the voucher bound to it, including the time the token request takes.
pub const DURATA_EVIDENZA_S: i64 = 600 + 120;

/// Who a call is made for: the `userID`, `userLocation` and `LoA` claims.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContestoTracciamento {
    pub user_id: String,
    pub user_location: String,
    pub loa: String,
}

impl ContestoTracciamento {
    /// The values `anpr check` uses: those of the onboarding file.
    pub fn da_config(c: &AnprConfig) -> Self {
        ContestoTracciamento {
            user_id: c.user_id.clone(),
            user_location: c.user_location.clone(),
            loa: c.loa.clone(),
        }
    }

    /// Refuses empty claims and the lengths GovWay refuses, before anything is signed.
    pub fn valida(&self) -> Result<(), ErroreSicurezza> {
        for (claim, valore) in [
            ("userID", &self.user_id),
            ("userLocation", &self.user_location),
            ("LoA", &self.loa),
        ] {
            if valore.trim().is_empty() {
                return Err(ErroreSicurezza::ClaimVuoto { claim });
            }
        }
        for (claim, valore) in [("userLocation", &self.user_location), ("LoA", &self.loa)] {
            let n = valore.chars().count();
            if n > MAX_LUNGHEZZA_CLAIM {
                return Err(ErroreSicurezza::ClaimTroppoLungo {
                    claim,
                    max: MAX_LUNGHEZZA_CLAIM,
                    trovati: n,
                });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreSicurezza {
    #[error("claim {claim} vuoto: la tracking evidence lo richiede")]
    ClaimVuoto { claim: &'static str },
    #[error("claim {claim} troppo lungo: al massimo {max} caratteri, trovati {trovati}")]
    ClaimTroppoLungo {
        claim: &'static str,
        max: usize,
        trovati: usize,
    },
    #[error("firma RS256 non riuscita: {0}")]
    Firma(String),
}

/// Claims of the Agid-JWT-TrackingEvidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsEvidenza {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    #[serde(rename = "purposeId")]
    pub purpose_id: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// 13-digit random number, as a string.
    pub dnonce: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "userLocation")]
    pub user_location: String,
    #[serde(rename = "LoA")]
    pub loa: String,
}

/// Claims of the client assertion sent to the PDND token endpoint (no `nbf`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsAssertion {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    #[serde(rename = "purposeId")]
    pub purpose_id: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub digest: DigestClaim,
}

/// `{"alg":"SHA256","value":<lowercase hex>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestClaim {
    pub alg: String,
    pub value: String,
}

/// Claims of the Agid-JWT-Signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsFirma {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub signed_headers: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Signs the three JWS of a PDND client with its key.
#[derive(Debug, Clone)]
pub struct Firmatario {
    pub client_id: String,
    pub kid: String,
    chiave: ChiavePrivata,
}

impl Firmatario {
    pub fn new(
        client_id: impl Into<String>,
        kid: impl Into<String>,
        chiave: ChiavePrivata,
    ) -> Self {
        Firmatario {
            client_id: client_id.into(),
            kid: kid.into(),
            chiave,
        }
    }

    pub fn da_config(c: &AnprConfig) -> Self {
        Firmatario::new(&c.client_id, &c.kid, c.chiave_privata.clone())
    }

    /// The Agid-JWT-TrackingEvidence for `aud` (the service audience) at time `ora` (seconds).
    pub fn tracking_evidence(
        &self,
        aud: &str,
        purpose_id: &str,
        contesto: &ContestoTracciamento,
        ora: i64,
    ) -> Result<(String, ClaimsEvidenza), ErroreSicurezza> {
        contesto.valida()?;
        let iat = ora - ANTICIPO_S;
        let claims = ClaimsEvidenza {
            iss: self.client_id.clone(),
            sub: self.client_id.clone(),
            aud: aud.to_string(),
            purpose_id: purpose_id.to_string(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            nbf: iat,
            exp: ora + DURATA_EVIDENZA_S,
            dnonce: dnonce(),
            user_id: contesto.user_id.clone(),
            user_location: contesto.user_location.clone(),
            loa: contesto.loa.clone(),
        };
        Ok((self.firma(&claims)?, claims))
    }

    /// The client assertion, carrying the hex SHA-256 of the tracking evidence.
    pub fn client_assertion(
        &self,
        aud: &str,
        purpose_id: &str,
        tracking_evidence: &str,
        ora: i64,
    ) -> Result<String, ErroreSicurezza> {
        let iat = ora - ANTICIPO_S;
        let claims = ClaimsAssertion {
            iss: self.client_id.clone(),
            sub: self.client_id.clone(),
            aud: aud.to_string(),
            purpose_id: purpose_id.to_string(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            exp: ora + DURATA_ASSERTION_S,
            digest: DigestClaim {
                alg: "SHA256".into(),
                value: sha256_hex(tracking_evidence.as_bytes()),
            },
        };
        self.firma(&claims)
    }

    /// A fresh Agid-JWT-Signature over the `Digest` and `Content-Type` actually sent.
    pub fn agid_signature(
        &self,
        aud: &str,
        digest: &str,
        content_type: &str,
        ora: i64,
    ) -> Result<String, ErroreSicurezza> {
        let iat = ora - ANTICIPO_S;
        let intestazione = |nome: &str, valore: &str| {
            let mut m = serde_json::Map::new();
            m.insert(nome.to_string(), json!(valore));
            m
        };
        let claims = ClaimsFirma {
            iss: self.client_id.clone(),
            sub: self.client_id.clone(),
            aud: aud.to_string(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            nbf: iat,
            exp: ora + DURATA_FIRMA_S,
            signed_headers: vec![
                intestazione("digest", digest),
                intestazione("content-type", content_type),
            ],
        };
        self.firma(&claims)
    }

    fn firma<T: Serialize>(&self, claims: &T) -> Result<String, ErroreSicurezza> {
        self.chiave
            .jws_rs256(&self.kid, claims)
            .map_err(ErroreSicurezza::Firma)
    }
}

/// `SHA-256=<base64 of the SHA-256 of the exact body bytes>` (RFC 3230).
pub fn digest_header(corpo: &[u8]) -> String {
    let h = Sha256::digest(corpo);
    format!(
        "SHA-256={}",
        base64::engine::general_purpose::STANDARD.encode(h)
    )
}

/// Lowercase hex SHA-256 (the voucher `digest.value`), never base64.
pub fn sha256_hex(dati: &[u8]) -> String {
    hex::encode(Sha256::digest(dati))
}

/// A 13-digit random number as a string (no leading zero, so always 13 digits).
pub fn dnonce() -> String {
    rand::rng()
        .random_range(1_000_000_000_000u64..10_000_000_000_000u64)
        .to_string()
}

/// Reads the claims of a JWS without verifying it: used only on our own voucher, to learn its
/// `exp` (the signature is PDND's business, checked by the gateway).
pub fn claims_non_verificati(jws: &str) -> Option<serde_json::Value> {
    let payload = jws.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_chiavi::{chiave_pem, pubblica_pem};
    use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};

    fn firmatario() -> Firmatario {
        let chiave = ChiavePrivata::da_pem(chiave_pem(false).as_bytes()).unwrap();
        Firmatario::new("client-1", "kid-1", chiave)
    }

    fn contesto() -> ContestoTracciamento {
        ContestoTracciamento {
            user_id: "MLLNGL82B14G838U".into(),
            user_location: "26.2.12.23".into(),
            loa: "SPID".into(),
        }
    }

    fn verifica(jws: &str) -> (Header, serde_json::Value) {
        let k = DecodingKey::from_rsa_pem(pubblica_pem().as_bytes()).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_aud = false;
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let d = jsonwebtoken::decode::<serde_json::Value>(jws, &k, &v).unwrap();
        (d.header, d.claims)
    }

    const AUD: &str = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR/C001-servizioNotifica/v1";
    const ORA: i64 = 1_750_000_000;

    #[test]
    fn tracking_evidence_as_in_notes() {
        let (jws, _) = firmatario()
            .tracking_evidence(AUD, "purpose-1", &contesto(), ORA)
            .unwrap();
        let (h, c) = verifica(&jws);
        assert_eq!(h.alg, Algorithm::RS256);
        assert_eq!(h.kid.as_deref(), Some("kid-1"));
        assert_eq!(h.typ.as_deref(), Some("JWT"));
        assert_eq!(c["iss"], "client-1");
        assert_eq!(c["sub"], "client-1");
        assert_eq!(c["aud"], AUD);
        assert_eq!(c["purposeId"], "purpose-1");
        assert_eq!(c["userID"], "MLLNGL82B14G838U");
        assert_eq!(c["userLocation"], "26.2.12.23");
        assert_eq!(c["LoA"], "SPID");
        assert_eq!(c["iat"], ORA - 5);
        assert_eq!(c["nbf"], ORA - 5);
        // Outlives the longest voucher PDND issues (600 s).
        assert!(c["exp"].as_i64().unwrap() >= ORA + 600);
        let dn = c["dnonce"].as_str().unwrap();
        assert_eq!(dn.len(), 13);
        assert!(dn.bytes().all(|b| b.is_ascii_digit()));
        assert!(uuid::Uuid::parse_str(c["jti"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn lengths_are_checked_before_signing() {
        let mut ctx = contesto();
        ctx.loa = "L".repeat(21);
        let e = firmatario()
            .tracking_evidence(AUD, "p", &ctx, ORA)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "claim LoA troppo lungo: al massimo 20 caratteri, trovati 21"
        );
        let mut ctx = contesto();
        ctx.user_location = "U".repeat(20);
        assert!(firmatario().tracking_evidence(AUD, "p", &ctx, ORA).is_ok());
        ctx.user_location = "U".repeat(21);
        assert!(firmatario().tracking_evidence(AUD, "p", &ctx, ORA).is_err());
        ctx.user_location = "U".into();
        ctx.user_id = " ".into();
        assert_eq!(
            ctx.valida(),
            Err(ErroreSicurezza::ClaimVuoto { claim: "userID" })
        );
    }

    #[test]
    fn client_assertion_binds_the_evidence_without_nbf() {
        let f = firmatario();
        let (te, _) = f
            .tracking_evidence(AUD, "purpose-1", &contesto(), ORA)
            .unwrap();
        let ca = f
            .client_assertion(
                "auth.uat.interop.pagopa.it/client-assertion",
                "purpose-1",
                &te,
                ORA,
            )
            .unwrap();
        let (h, c) = verifica(&ca);
        assert_eq!(h.typ.as_deref(), Some("JWT"));
        assert_eq!(h.kid.as_deref(), Some("kid-1"));
        assert_eq!(c["aud"], "auth.uat.interop.pagopa.it/client-assertion");
        assert_eq!(c["purposeId"], "purpose-1");
        assert!(c.get("nbf").is_none());
        assert_eq!(c["digest"]["alg"], "SHA256");
        let atteso = hex::encode(Sha256::digest(te.as_bytes()));
        assert_eq!(c["digest"]["value"], atteso.as_str());
        assert_eq!(c["digest"]["value"].as_str().unwrap().len(), 64);
        assert!(c["exp"].as_i64().unwrap() > ORA);
    }

    #[test]
    fn signature_lists_digest_then_content_type() {
        let corpo = br#"{"idOperazioneClient":"1"}"#;
        let d = digest_header(corpo);
        let jws = firmatario()
            .agid_signature(AUD, &d, "application/json", ORA)
            .unwrap();
        let (_, c) = verifica(&jws);
        assert_eq!(
            c["signed_headers"],
            json!([{"digest": d}, {"content-type": "application/json"}])
        );
        assert_eq!(c["aud"], AUD);
        assert_eq!(c["nbf"], ORA - 5);
    }

    #[test]
    fn digest_of_known_bytes() {
        // SHA-256("abc") = ba7816bf…15ad, base64 "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=".
        assert_eq!(
            digest_header(b"abc"),
            "SHA-256=ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn unverified_claims_read_exp() {
        let (te, claims) = firmatario()
            .tracking_evidence(AUD, "p", &contesto(), ORA)
            .unwrap();
        let c = claims_non_verificati(&te).unwrap();
        assert_eq!(c["exp"], claims.exp);
        assert!(claims_non_verificati("non-un-jws").is_none());
    }
}

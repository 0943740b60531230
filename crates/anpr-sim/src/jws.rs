//! RS256 compact JWS checks shared by the token endpoint and the gateway.
//!
//! Signature verification is done by jsonwebtoken; every claim check is explicit here so each
//! failure has its own reason (the same reasons GovWay logs: "claim 'aud' non valido", …).

use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Allowed clock skew for iat/nbf in the future, in seconds.
pub const TOLLERANZA_OROLOGIO_S: i64 = 5;

pub fn adesso() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The header of a compact JWS, without verifying anything.
pub fn intestazione(jws: &str) -> Result<Header, String> {
    jsonwebtoken::decode_header(jws).map_err(|e| format!("intestazione JWS non leggibile: {e}"))
}

/// Verifies an RS256 signature with a PEM public key and returns the claims.
pub fn verifica_firma(jws: &str, chiave_pem: &str) -> Result<Value, String> {
    let chiave = DecodingKey::from_rsa_pem(chiave_pem.as_bytes())
        .map_err(|_| "chiave pubblica registrata non valida".to_owned())?;
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jws, &chiave, &v)
        .map(|d| d.claims)
        .map_err(|e| format!("firma non valida: {e}"))
}

pub fn stringa<'a>(claims: &'a Value, nome: &str) -> Result<&'a str, String> {
    claims
        .get(nome)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("claim '{nome}' assente"))
}

pub fn intero(claims: &Value, nome: &str) -> Result<i64, String> {
    claims
        .get(nome)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("claim '{nome}' assente"))
}

/// `aud` may be a string or an array of strings (RFC 7519); it must contain `atteso`.
pub fn controlla_aud(claims: &Value, atteso: &str) -> Result<(), String> {
    let ok = match claims.get("aud") {
        Some(Value::String(s)) => s == atteso,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(atteso)),
        _ => return Err("claim 'aud' assente".to_owned()),
    };
    if ok {
        Ok(())
    } else {
        Err("Token contenente un claim 'aud' non valido".to_owned())
    }
}

/// exp in the future; iat and (when present or required) nbf not in the future.
pub fn controlla_tempi(claims: &Value, nbf_obbligatorio: bool) -> Result<(), String> {
    let ora = adesso();
    let exp = intero(claims, "exp")?;
    if exp <= ora {
        return Err("token scaduto (claim 'exp')".to_owned());
    }
    let iat = intero(claims, "iat")?;
    if iat > ora + TOLLERANZA_OROLOGIO_S {
        return Err("claim 'iat' nel futuro".to_owned());
    }
    let nbf = claims
        .get("nbf")
        .map(|_| intero(claims, "nbf"))
        .transpose()?;
    match nbf {
        Some(n) if n > ora + TOLLERANZA_OROLOGIO_S => {
            return Err("token non ancora valido (claim 'nbf')".to_owned());
        }
        None if nbf_obbligatorio => return Err("claim 'nbf' assente".to_owned()),
        _ => {}
    }
    Ok(())
}

pub fn sha256_hex(testo: &[u8]) -> String {
    hex::encode(Sha256::digest(testo))
}

//! The PDND token endpoint: `POST /token.oauth2` (client_credentials with a client assertion,
//! NOTES §3 steps 3–4, pdnd-interop-auth-v2.yaml).

use crate::jws::{self, stringa};
use crate::problemi::ErrorePdnd;
use crate::servizi::ServizioSim;
use crate::stato::{RichiestaRicevuta, Stato, jti_nuovo};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub const TIPO_ASSERZIONE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The voucher issuer: the collaudo PDND's, since the simulator stands in for collaudo.
pub const ISS_VOUCHER: &str = "uat.interop.pagopa.it";

pub async fn token(State(stato): State<Arc<Stato>>, corpo: Bytes) -> Response {
    let esito = emetti(&stato, &corpo);
    let (codice, testo, motivo, client_id) = match esito {
        Ok((v, client_id)) => (StatusCode::OK, v.to_string(), None, Some(client_id)),
        Err(e) => (
            e.stato,
            e.corpo().to_string(),
            Some(e.dettaglio.clone()),
            None,
        ),
    };
    stato.registra(RichiestaRicevuta {
        metodo: "POST".into(),
        percorso: "/token.oauth2".into(),
        servizio: None,
        client_id,
        corpo: String::from_utf8_lossy(&corpo).into_owned(),
        stato: codice.as_u16(),
        risposta: testo.clone(),
        motivo,
    });
    let mut r = (codice, testo).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    r
}

fn emetti(stato: &Stato, corpo: &[u8]) -> Result<(Value, String), ErrorePdnd> {
    let campi = url_form(corpo).map_err(|d| ErrorePdnd::richiesta("015-0001", d))?;
    let campo = |n: &str| campi.get(n).map(String::as_str).unwrap_or("");
    if campo("grant_type") != "client_credentials" {
        return Err(ErrorePdnd::richiesta(
            "015-0002",
            "grant_type deve essere client_credentials",
        ));
    }
    if campo("client_assertion_type") != TIPO_ASSERZIONE {
        return Err(ErrorePdnd::richiesta(
            "015-0003",
            "client_assertion_type non valido",
        ));
    }
    let asserzione = campo("client_assertion");
    let verificata = verifica_asserzione(stato, asserzione, campi.get("client_id"))?;
    let voucher = firma_voucher(stato, &verificata)?;
    let risposta = json!({
        "access_token": voucher,
        "token_type": "Bearer",
        "expires_in": stato.durata_voucher_s,
    });
    Ok((risposta, verificata.client_id))
}

/// What a valid client assertion says.
struct Asserzione {
    client_id: String,
    purpose_id: String,
    servizio: ServizioSim,
    digest: Option<Value>,
}

fn verifica_asserzione(
    stato: &Stato,
    asserzione: &str,
    client_id_modulo: Option<&String>,
) -> Result<Asserzione, ErrorePdnd> {
    let intest = jws::intestazione(asserzione).map_err(|d| ErrorePdnd::richiesta("015-0004", d))?;
    if intest.alg != Algorithm::RS256 {
        return Err(ErrorePdnd::richiesta(
            "015-0004",
            "si può firmare solo con RS256",
        ));
    }
    let kid = intest
        .kid
        .ok_or_else(|| ErrorePdnd::richiesta("015-0004", "kid assente"))?;
    let non_firmati = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(asserzione)
        .map_err(|_| ErrorePdnd::richiesta("015-0004", "claim non leggibili"))?;
    let iss = stringa(&non_firmati, "iss").map_err(|d| ErrorePdnd::richiesta("015-0005", d))?;
    let cliente = stato.clienti.get(iss).ok_or_else(|| {
        ErrorePdnd::non_autorizzato("015-0006", format!("client {iss} sconosciuto"))
    })?;
    let pem = cliente.chiavi.get(&kid).ok_or_else(|| {
        ErrorePdnd::non_autorizzato(
            "015-0007",
            format!("kid {kid} non registrato per il client"),
        )
    })?;
    let claims = jws::verifica_firma(asserzione, pem)
        .map_err(|d| ErrorePdnd::non_autorizzato("015-0008", d))?;
    controlla_claims(stato, &claims, &cliente.client_id, client_id_modulo)?;
    let purpose_id =
        stringa(&claims, "purposeId").map_err(|d| ErrorePdnd::richiesta("015-0011", d))?;
    let servizio = cliente
        .purposes
        .get(purpose_id)
        .and_then(|s| ServizioSim::da_codice(s))
        .ok_or_else(|| {
            ErrorePdnd::richiesta(
                "015-0011",
                format!("purposeId {purpose_id} non associato al client"),
            )
        })?;
    let digest = claims.get("digest").cloned();
    if let Some(d) = &digest {
        controlla_forma_digest(d)?;
    }
    controlla_replay(stato, &claims, &cliente.client_id)?;
    Ok(Asserzione {
        client_id: cliente.client_id.clone(),
        purpose_id: purpose_id.to_owned(),
        servizio,
        digest,
    })
}

fn controlla_claims(
    stato: &Stato,
    claims: &Value,
    client_id: &str,
    client_id_modulo: Option<&String>,
) -> Result<(), ErrorePdnd> {
    let sub = stringa(claims, "sub").map_err(|d| ErrorePdnd::richiesta("015-0005", d))?;
    if sub != client_id || client_id_modulo.is_some_and(|c| c != client_id) {
        return Err(ErrorePdnd::richiesta(
            "015-0005",
            "iss, sub e client_id devono coincidere",
        ));
    }
    jws::controlla_aud(claims, &stato.client_assertion_aud())
        .map_err(|d| ErrorePdnd::richiesta("015-0009", d))?;
    jws::controlla_tempi(claims, false).map_err(|d| ErrorePdnd::non_autorizzato("015-0010", d))?;
    stringa(claims, "jti").map_err(|d| ErrorePdnd::richiesta("015-0012", d))?;
    Ok(())
}

/// Last of the checks, so a refused assertion does not use up its jti.
fn controlla_replay(stato: &Stato, claims: &Value, client_id: &str) -> Result<(), ErrorePdnd> {
    let jti = stringa(claims, "jti").map_err(|d| ErrorePdnd::richiesta("015-0012", d))?;
    let exp = jws::intero(claims, "exp").unwrap_or_default();
    if !jti_nuovo(&stato.jti_asserzioni, format!("{client_id}/{jti}"), exp) {
        return Err(ErrorePdnd::non_autorizzato(
            "015-0012",
            "jti già usato (replay)",
        ));
    }
    Ok(())
}

/// `digest` must be exactly `{"alg":"SHA256","value":<64 lowercase hex>}`.
fn controlla_forma_digest(d: &Value) -> Result<(), ErrorePdnd> {
    let errore =
        |m: &str| ErrorePdnd::richiesta("015-0013", format!("claim 'digest' non valido: {m}"));
    let o = d.as_object().ok_or_else(|| errore("non è un oggetto"))?;
    if o.len() != 2 || o.get("alg").and_then(Value::as_str) != Some("SHA256") {
        return Err(errore("atteso {alg:\"SHA256\", value}"));
    }
    let v = o
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| errore("value assente"))?;
    if v.len() != 64
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(errore(
            "value deve essere l'hash SHA-256 in esadecimale minuscolo",
        ));
    }
    Ok(())
}

fn firma_voucher(stato: &Stato, a: &Asserzione) -> Result<String, ErrorePdnd> {
    let mut h = Header::new(Algorithm::RS256);
    h.typ = Some("at+jwt".into());
    h.kid = Some(stato.chiave_pdnd.kid.clone());
    let ora = jws::adesso();
    let mut claims = json!({
        "aud": stato.audience(a.servizio.segmento()),
        "sub": a.client_id,
        "client_id": a.client_id,
        "purposeId": a.purpose_id,
        "iss": ISS_VOUCHER,
        "iat": ora,
        "nbf": ora,
        "exp": ora + stato.durata_voucher_s as i64,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(d) = &a.digest {
        claims["digest"] = d.clone();
    }
    jsonwebtoken::encode(&h, &claims, &stato.codifica_pdnd)
        .map_err(|_| ErrorePdnd::richiesta("015-0014", "firma del voucher non riuscita"))
}

/// application/x-www-form-urlencoded, decoded strictly (a bad escape is an error).
fn url_form(corpo: &[u8]) -> Result<HashMap<String, String>, String> {
    let testo = std::str::from_utf8(corpo).map_err(|_| "modulo non UTF-8".to_owned())?;
    let mut campi = HashMap::new();
    for coppia in testo.split('&').filter(|c| !c.is_empty()) {
        let (k, v) = coppia.split_once('=').unwrap_or((coppia, ""));
        campi.insert(decodifica(k)?, decodifica(v)?);
    }
    Ok(campi)
}

fn decodifica(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let v = h
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("escape % non valido")?;
                out.push(v);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "modulo non UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn il_modulo_si_decodifica() {
        let m = url_form(b"a=1&client_assertion_type=urn%3Aietf%3Aparams&x=a+b").unwrap();
        assert_eq!(m["client_assertion_type"], "urn:ietf:params");
        assert_eq!(m["x"], "a b");
        assert!(url_form(b"a=%zz").is_err());
    }

    #[test]
    fn forma_del_digest() {
        let buono = json!({"alg":"SHA256","value": "a".repeat(64)});
        assert!(controlla_forma_digest(&buono).is_ok());
        for cattivo in [
            json!({"alg":"SHA256","value": "A".repeat(64)}),
            json!({"alg":"SHA-256","value": "a".repeat(64)}),
            json!({"alg":"SHA256","value": "a".repeat(44)}),
            json!({"alg":"SHA256","value": "a".repeat(64), "x": 1}),
            json!("a".repeat(64)),
        ] {
            assert!(controlla_forma_digest(&cattivo).is_err(), "{cattivo}");
        }
    }
}

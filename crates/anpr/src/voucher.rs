//! PDND vouchers: the token request (client_credentials with an RS256 client assertion bound
//! to a tracking evidence) and the cache that reuses each (voucher, evidence) pair until 60 s
//! before it expires, per (purposeId, audience, tracking context).

use crate::risposta::{Classificazione, EsitoHttp, Origine, classifica};
use crate::security::{
    ClaimsEvidenza, ContestoTracciamento, Firmatario, Orologio, claims_non_verificati,
};
use crate::servizi::Servizio;
use crate::types::{CLIENT_ASSERTION_TYPE, ClientCredentialsResponse};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A pair is dropped this long before its voucher expires.
pub const MARGINE_RINNOVO_S: i64 = 60;

/// A voucher. Its value never appears in Debug or Display.
#[derive(Clone, PartialEq, Eq)]
pub struct Voucher(String);

impl Voucher {
    /// The bearer token, only for the `Authorization` header.
    pub fn segreto(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Voucher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Voucher(<omesso>)")
    }
}

/// A voucher with the tracking evidence whose hash it carries.
#[derive(Debug, Clone)]
pub struct CoppiaVoucher {
    pub voucher: Voucher,
    pub tracking_evidence: String,
    pub evidenza: ClaimsEvidenza,
    /// The voucher's `exp` (epoch seconds).
    pub scade_s: i64,
    /// Reused until then (epoch seconds).
    pub riuso_fino_s: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ChiaveCache {
    purpose_id: String,
    aud: String,
    contesto: ContestoTracciamento,
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<CoppiaVoucher>>>>;

/// Gets and caches vouchers from the PDND token endpoint.
pub struct EmettitoreVoucher {
    http: reqwest::Client,
    token_url: String,
    client_assertion_aud: String,
    firmatario: Firmatario,
    orologio: Arc<dyn Orologio>,
    slot: Mutex<HashMap<ChiaveCache, Slot>>,
}

impl EmettitoreVoucher {
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_assertion_aud: String,
        firmatario: Firmatario,
        orologio: Arc<dyn Orologio>,
    ) -> Self {
        EmettitoreVoucher {
            http,
            token_url,
            client_assertion_aud,
            firmatario,
            orologio,
            slot: Mutex::new(HashMap::new()),
        }
    }

    pub fn firmatario(&self) -> &Firmatario {
        &self.firmatario
    }

    fn slot(&self, k: ChiaveCache) -> Slot {
        let mut m = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(k).or_default().clone()
    }

    /// A valid pair for the purpose, audience and context, from the cache or fresh from PDND.
    /// Calls for the same key wait for one token request rather than each making one.
    pub async fn coppia(
        &self,
        purpose_id: &str,
        aud: &str,
        contesto: &ContestoTracciamento,
    ) -> Result<Arc<CoppiaVoucher>, Classificazione> {
        let slot = self.slot(ChiaveCache {
            purpose_id: purpose_id.to_string(),
            aud: aud.to_string(),
            contesto: contesto.clone(),
        });
        let mut g = slot.lock().await;
        if let Some(c) = g.as_ref()
            && self.orologio.adesso_s() < c.riuso_fino_s
        {
            return Ok(c.clone());
        }
        let nuova = Arc::new(self.richiedi(purpose_id, aud, contesto).await?);
        *g = Some(nuova.clone());
        Ok(nuova)
    }

    /// Drops the cached pair if it still holds the voucher the gateway refused.
    pub async fn scarta(
        &self,
        purpose_id: &str,
        aud: &str,
        contesto: &ContestoTracciamento,
        rifiutato: &Voucher,
    ) {
        let slot = self.slot(ChiaveCache {
            purpose_id: purpose_id.to_string(),
            aud: aud.to_string(),
            contesto: contesto.clone(),
        });
        let mut g = slot.lock().await;
        if g.as_ref().is_some_and(|c| &c.voucher == rifiutato) {
            *g = None;
        }
    }

    async fn richiedi(
        &self,
        purpose_id: &str,
        aud: &str,
        contesto: &ContestoTracciamento,
    ) -> Result<CoppiaVoucher, Classificazione> {
        let ora = self.orologio.adesso_s();
        let (te, evidenza) = self
            .firmatario
            .tracking_evidence(aud, purpose_id, contesto, ora)
            .map_err(|e| fallita(format!("tracking evidence non costruita: {e}")))?;
        let assertion = self
            .firmatario
            .client_assertion(&self.client_assertion_aud, purpose_id, &te, ora)
            .map_err(|e| fallita(format!("client assertion non firmata: {e}")))?;
        let modulo = [
            ("client_id", self.firmatario.client_id.as_str()),
            ("client_assertion", assertion.as_str()),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("grant_type", "client_credentials"),
        ];
        let esito = match self.http.post(&self.token_url).form(&modulo).send().await {
            Ok(r) => leggi(r).await,
            Err(e) => errore_trasporto(&e),
        };
        let corpo = match &esito {
            EsitoHttp::Risposta {
                status: 200, corpo, ..
            } => corpo,
            _ => return Err(classifica(Servizio::C030, Origine::Token, &esito)),
        };
        let risposta: ClientCredentialsResponse = serde_json::from_slice(corpo)
            .map_err(|_| classifica(Servizio::C030, Origine::Token, &esito))?;
        Ok(coppia(risposta, te, evidenza, ora))
    }
}

fn coppia(
    r: ClientCredentialsResponse,
    te: String,
    evidenza: ClaimsEvidenza,
    ora: i64,
) -> CoppiaVoucher {
    let da_expires_in = ora + r.expires_in;
    let da_claim = claims_non_verificati(&r.access_token)
        .and_then(|c| c.get("exp").and_then(serde_json::Value::as_i64));
    let scade_s = da_claim.map_or(da_expires_in, |e| e.min(da_expires_in));
    let riuso_fino_s = scade_s.min(evidenza.exp) - MARGINE_RINNOVO_S;
    CoppiaVoucher {
        voucher: Voucher(r.access_token),
        tracking_evidence: te,
        evidenza,
        scade_s,
        riuso_fino_s,
    }
}

fn fallita(spiegazione: String) -> Classificazione {
    Classificazione::Fallita {
        status: None,
        spiegazione,
        risposta: String::new(),
    }
}

/// Reads status, body and `Retry-After` (seconds) of an answer.
pub(crate) async fn leggi(r: reqwest::Response) -> EsitoHttp {
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match r.bytes().await {
        Ok(b) => EsitoHttp::Risposta {
            status,
            corpo: b.to_vec(),
            retry_after,
        },
        Err(e) => errore_trasporto(&e),
    }
}

pub(crate) fn errore_trasporto(e: &reqwest::Error) -> EsitoHttp {
    if e.is_timeout() {
        EsitoHttp::Timeout
    } else {
        // The error text may hold the URL, never a secret: headers are not part of it.
        EsitoHttp::Connessione(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_is_reused_until_a_minute_before_the_voucher_expires() {
        let evidenza = ClaimsEvidenza {
            iss: "c".into(),
            sub: "c".into(),
            aud: "a".into(),
            purpose_id: "p".into(),
            jti: "j".into(),
            iat: 995,
            nbf: 995,
            exp: 1_000 + 720,
            dnonce: "1234567890123".into(),
            user_id: "u".into(),
            user_location: "l".into(),
            loa: "LoA2".into(),
        };
        let r = ClientCredentialsResponse {
            access_token: "non.un.jws".into(),
            token_type: "Bearer".into(),
            expires_in: 600,
        };
        let c = coppia(r, "te".into(), evidenza, 1_000);
        assert_eq!(c.scade_s, 1_600);
        assert_eq!(c.riuso_fino_s, 1_540);
        assert!(c.evidenza.exp >= c.scade_s);
        assert!(!format!("{c:?}").contains("non.un.jws"));
    }
}

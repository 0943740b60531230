//! The GovWay gateway in front of ANPR: ModI checks in the issue's order, quota, concurrency
//! cap and injected faults, then ANPR's answer (`risposte`).

use crate::jws::{self, sha256_hex, stringa};
use crate::problemi::{ErroreGovWay as E, Rifiuto, corpo_govway, intestazioni_problema};
use crate::servizi::ServizioSim;
use crate::stato::{RichiestaRicevuta, Stato, blocca, jti_nuovo};
use crate::{risposte, validazione};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Rome;
use jsonwebtoken::Algorithm;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const H_TRACKING: &str = "agid-jwt-trackingevidence";
const H_FIRMA: &str = "agid-jwt-signature";
const H_DIGEST: &str = "digest";

/// What the gateway learnt from a valid voucher.
struct Voucher {
    client_id: String,
    purpose_id: String,
    digest: String,
}

/// The outcome of one call, before it becomes an HTTP answer.
struct Esito {
    stato: StatusCode,
    corpo: String,
    problema: bool,
    motivo: Option<String>,
    client_id: Option<String>,
    message_id: Option<String>,
    retry_after: Option<u64>,
}

impl Esito {
    fn rifiuto(r: Rifiuto, govway_id: &str, client_id: Option<String>) -> Self {
        let retry_after = match r.errore {
            E::LimiteSuperato => Some(secondi_a_mezzanotte()),
            E::TroppeRichieste | E::GatewayNonDisponibile => Some(1),
            _ => None,
        };
        Self {
            stato: r.errore.stato(),
            corpo: corpo_govway(&r, govway_id).to_string(),
            problema: true,
            motivo: Some(r.motivo),
            client_id,
            message_id: None,
            retry_after,
        }
    }
}

pub async fn e002(
    st: State<Arc<Stato>>,
    seg: Path<String>,
    m: Method,
    h: HeaderMap,
    corpo: Bytes,
) -> Response {
    gestisci(st, seg, m, h, corpo, true).await
}

pub async fn status(
    st: State<Arc<Stato>>,
    seg: Path<String>,
    m: Method,
    h: HeaderMap,
    corpo: Bytes,
) -> Response {
    gestisci(st, seg, m, h, corpo, false).await
}

pub async fn non_trovato(
    State(st): State<Arc<Stato>>,
    m: Method,
    uri: Uri,
    corpo: Bytes,
) -> Response {
    let govway_id = uuid::Uuid::new_v4().to_string();
    let r = Rifiuto::new(E::NonTrovato, format!("risorsa {} inesistente", uri.path()));
    let esito = Esito::rifiuto(r, &govway_id, None);
    rispondi(&st, &m, uri.path(), None, &corpo, esito, &govway_id)
}

async fn gestisci(
    State(st): State<Arc<Stato>>,
    Path(segmento): Path<String>,
    metodo: Method,
    h: HeaderMap,
    corpo: Bytes,
    e002: bool,
) -> Response {
    let govway_id = uuid::Uuid::new_v4().to_string();
    let percorso = format!(
        "/{segmento}/{}",
        if e002 { "anpr-service-e002" } else { "status" }
    );
    let atteso = if e002 { Method::POST } else { Method::GET };
    let esito = match ServizioSim::da_segmento(&segmento) {
        None => Esito::rifiuto(
            Rifiuto::new(E::NonTrovato, format!("servizio {segmento} inesistente")),
            &govway_id,
            None,
        ),
        Some(_) if metodo != atteso => Esito::rifiuto(
            Rifiuto::new(E::MetodoNonAmmesso, format!("metodo {metodo}")),
            &govway_id,
            None,
        ),
        Some(servizio) => elabora(&st, servizio, &segmento, &h, &corpo, e002, &govway_id).await,
    };
    let codice = ServizioSim::da_segmento(&segmento).map(|s| s.codice().to_owned());
    rispondi(&st, &metodo, &percorso, codice, &corpo, esito, &govway_id)
}

fn rispondi(
    st: &Stato,
    metodo: &Method,
    percorso: &str,
    servizio: Option<String>,
    corpo: &[u8],
    e: Esito,
    govway_id: &str,
) -> Response {
    st.registra(RichiestaRicevuta {
        metodo: metodo.to_string(),
        percorso: percorso.to_owned(),
        servizio,
        client_id: e.client_id.clone(),
        corpo: String::from_utf8_lossy(corpo).into_owned(),
        stato: e.stato.as_u16(),
        risposta: e.corpo.clone(),
        motivo: e.motivo.clone(),
    });
    let mut intest = intestazioni_problema(govway_id);
    if !e.problema {
        intest.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Some(id) = e
        .message_id
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        intest.insert("GovWay-Message-ID", id);
    }
    if let Some(s) = e.retry_after {
        intest.insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    (e.stato, intest, e.corpo).into_response()
}

async fn elabora(
    st: &Stato,
    servizio: ServizioSim,
    segmento: &str,
    h: &HeaderMap,
    corpo: &[u8],
    e002: bool,
    govway_id: &str,
) -> Esito {
    let aud = st.audience(segmento);
    let v = match controlla_voucher(st, servizio, &aud, h) {
        Ok(v) => v,
        Err(r) => return Esito::rifiuto(r, govway_id, None),
    };
    conta(st, &v.client_id, servizio);
    let cid = Some(v.client_id.clone());
    let controlli = controlla_tracking(st, &v, &aud, h).and_then(|()| {
        if e002 {
            controlla_integrita(st, &v, &aud, h, corpo).map(Some)
        } else {
            nessuna_firma(h).map(|()| None)
        }
    });
    let message_id = match controlli {
        Ok(m) => m,
        Err(r) => return Esito::rifiuto(r, govway_id, cid),
    };
    let richiesta = if e002 {
        match validazione::valida(corpo, servizio) {
            Ok(r) => Some(r),
            Err(m) => {
                return Esito::rifiuto(Rifiuto::new(E::ContenutoNonValido, m), govway_id, cid);
            }
        }
    } else {
        None
    };
    if let Err(r) = controlla_quota(st, &v.client_id, servizio) {
        return Esito::rifiuto(r, govway_id, cid);
    }
    let Some(_posto) = Posto::prendi(st) else {
        return Esito::rifiuto(
            Rifiuto::new(E::TroppeRichieste, "limite di concorrenza"),
            govway_id,
            cid,
        );
    };
    let mut esito = match guasti_e_attesa(st).await {
        Some(r) => Esito::rifiuto(r, govway_id, cid.clone()),
        None => match &richiesta {
            Some(r) => {
                let a = risposte::rispondi(st, &v.client_id, servizio, r);
                let stato =
                    StatusCode::from_u16(a.stato).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let problema = a.stato != 200;
                Esito {
                    stato,
                    corpo: a.corpo,
                    problema,
                    motivo: None,
                    client_id: cid,
                    message_id: None,
                    retry_after: None,
                }
            }
            None => Esito {
                stato: StatusCode::OK,
                corpo: r#"{"listaErrori":[]}"#.to_owned(),
                problema: true,
                motivo: None,
                client_id: cid,
                message_id: None,
                retry_after: None,
            },
        },
    };
    if esito.stato == StatusCode::OK && e002 && estrai(st.manopole().guasti.malformato) {
        let meta = esito.corpo.len() / 2;
        esito.corpo.truncate(meta);
        esito.motivo = Some("guasto iniettato: corpo malformato".into());
    }
    esito.message_id = message_id;
    esito
}

fn conta(st: &Stato, client_id: &str, servizio: ServizioSim) {
    *blocca(&st.totali)
        .entry((client_id.to_owned(), servizio.codice().to_owned()))
        .or_insert(0) += 1;
    *blocca(&st.giornalieri)
        .entry((client_id.to_owned(), servizio, oggi()))
        .or_insert(0) += 1;
}

fn oggi() -> NaiveDate {
    Utc::now().with_timezone(&Rome).date_naive()
}

fn secondi_a_mezzanotte() -> u64 {
    let ora = Utc::now().with_timezone(&Rome);
    let domani = ora
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    domani
        .and_then(|d| d.and_local_timezone(Rome).earliest())
        .map_or(3600, |m| (m - ora).num_seconds().max(1) as u64)
}

fn intestazione<'a>(h: &'a HeaderMap, nome: &str) -> Option<&'a str> {
    h.get(nome).and_then(|v| v.to_str().ok())
}

fn controlla_voucher(
    st: &Stato,
    servizio: ServizioSim,
    aud: &str,
    h: &HeaderMap,
) -> Result<Voucher, Rifiuto> {
    let no = |m: String| Rifiuto::new(E::AutenticazioneRichiesta, m);
    let token = intestazione(h, "authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or_else(|| no("voucher assente (Authorization: Bearer)".into()))?;
    let testa = jws::intestazione(token).map_err(no)?;
    if testa.alg != Algorithm::RS256 || testa.kid.as_deref() != Some(&st.chiave_pdnd.kid) {
        return Err(no("voucher non firmato dalla PDND".into()));
    }
    let c = jws::verifica_firma(token, &st.chiave_pdnd.public_pem).map_err(no)?;
    jws::controlla_tempi(&c, false).map_err(no)?;
    let inv = |m: String| Rifiuto::new(E::InteroperabilitaNonValida, format!("voucher: {m}"));
    jws::controlla_aud(&c, aud).map_err(inv)?;
    let client_id = stringa(&c, "client_id").map_err(inv)?.to_owned();
    let purpose_id = stringa(&c, "purposeId").map_err(inv)?.to_owned();
    let del_servizio = st
        .clienti
        .get(&client_id)
        .and_then(|cl| cl.purposes.get(&purpose_id))
        .is_some_and(|s| ServizioSim::da_codice(s) == Some(servizio));
    if !del_servizio {
        return Err(inv(format!(
            "purposeId {purpose_id} non appartiene al servizio {}",
            servizio.codice()
        )));
    }
    let digest = c
        .get("digest")
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        .ok_or_else(|| inv("voucher senza digest".into()))?
        .to_owned();
    Ok(Voucher {
        client_id,
        purpose_id,
        digest,
    })
}

/// Verifies a client-signed ModI JWS: kid of that client, RS256 signature, aud, time claims.
fn verifica_jws_cliente(
    st: &Stato,
    v: &Voucher,
    aud: &str,
    jws_: &str,
    nome: &str,
) -> Result<Value, Rifiuto> {
    let inv = |m: String| {
        Rifiuto::new(
            E::InteroperabilitaNonValida,
            format!("[Header '{nome}'] {m}"),
        )
    };
    let testa = jws::intestazione(jws_).map_err(inv)?;
    if testa.alg != Algorithm::RS256 {
        return Err(inv("algoritmo diverso da RS256".into()));
    }
    let kid = testa.kid.ok_or_else(|| inv("kid assente".into()))?;
    let pem = st
        .clienti
        .get(&v.client_id)
        .and_then(|c| c.chiavi.get(&kid))
        .ok_or_else(|| inv(format!("kid {kid} non registrato per il client")))?;
    let c = jws::verifica_firma(jws_, pem).map_err(inv)?;
    jws::controlla_aud(&c, aud).map_err(inv)?;
    jws::controlla_tempi(&c, true).map_err(inv)?;
    for claim in ["iss", "sub"] {
        if c.get(claim).is_some()
            && c.get(claim).and_then(Value::as_str) != Some(v.client_id.as_str())
        {
            return Err(inv(format!(
                "Token contenente un claim '{claim}' non valido"
            )));
        }
    }
    Ok(c)
}

fn controlla_tracking(st: &Stato, v: &Voucher, aud: &str, h: &HeaderMap) -> Result<(), Rifiuto> {
    let nome = "Agid-JWT-TrackingEvidence";
    let inv = |m: String| {
        Rifiuto::new(
            E::InteroperabilitaNonValida,
            format!("[Header '{nome}'] {m}"),
        )
    };
    let te = intestazione(h, H_TRACKING).ok_or_else(|| inv("header assente".into()))?;
    let c = verifica_jws_cliente(st, v, aud, te, nome)?;
    for claim in ["iss", "sub", "jti", "userID"] {
        stringa(&c, claim).map_err(inv)?;
    }
    if stringa(&c, "purposeId").map_err(inv)? != v.purpose_id {
        return Err(inv("purposeId diverso da quello del voucher".into()));
    }
    let dnonce = stringa(&c, "dnonce").map_err(inv)?;
    if dnonce.len() != 13 || !dnonce.bytes().all(|b| b.is_ascii_digit()) {
        return Err(inv("claim 'dnonce' non è un numero di 13 cifre".into()));
    }
    for claim in ["userLocation", "LoA"] {
        if stringa(&c, claim).map_err(inv)?.chars().count() > 20 {
            return Err(inv(format!("claim '{claim}' più lungo di 20 caratteri")));
        }
    }
    if sha256_hex(te.as_bytes()) != v.digest {
        return Err(inv(
            "digest del voucher diverso dall'hash della TrackingEvidence".into(),
        ));
    }
    Ok(())
}

/// Agid-JWT-Signature and Digest (INTEGRITY_REST_02). Returns the signature's jti.
fn controlla_integrita(
    st: &Stato,
    v: &Voucher,
    aud: &str,
    h: &HeaderMap,
    corpo: &[u8],
) -> Result<String, Rifiuto> {
    let nome = "Agid-JWT-Signature";
    let inv = |m: String| {
        Rifiuto::new(
            E::InteroperabilitaNonValida,
            format!("[Header '{nome}'] {m}"),
        )
    };
    let firma = intestazione(h, H_FIRMA).ok_or_else(|| inv("header assente".into()))?;
    let c = verifica_jws_cliente(st, v, aud, firma, nome)?;
    let jti = stringa(&c, "jti").map_err(inv)?.to_owned();
    let exp = jws::intero(&c, "exp").unwrap_or_default();
    if !jti_nuovo(&st.jti_firme, (v.client_id.clone(), jti.clone()), exp) {
        return Err(inv("jti già usato (replay)".into()));
    }
    controlla_signed_headers(&c, h).map_err(inv)?;
    let digest = intestazione(h, H_DIGEST)
        .ok_or_else(|| Rifiuto::new(E::InteroperabilitaNonValida, "header Digest assente"))?;
    let atteso = format!("SHA-256={}", STANDARD.encode(Sha256::digest(corpo)));
    if digest != atteso {
        return Err(Rifiuto::new(
            E::InteroperabilitaNonValida,
            "header Digest diverso dall'hash del corpo",
        ));
    }
    Ok(jti)
}

/// `signed_headers` lists header names with the exact values sent: Digest and Content-Type
/// at least, and any other listed header must match too.
fn controlla_signed_headers(c: &Value, h: &HeaderMap) -> Result<(), String> {
    let lista = c
        .get("signed_headers")
        .and_then(Value::as_array)
        .ok_or("claim 'signed_headers' assente")?;
    let mut visti = Vec::new();
    for voce in lista {
        let o = voce
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or("voce di 'signed_headers' non valida")?;
        let (nome, valore) = o.iter().next().ok_or("voce vuota")?;
        let inviato = intestazione(h, &nome.to_ascii_lowercase());
        if valore.as_str() != inviato || inviato.is_none() {
            return Err(format!(
                "signed_headers: '{nome}' diverso dall'header inviato"
            ));
        }
        visti.push(nome.to_ascii_lowercase());
    }
    for obbligatorio in ["digest", "content-type"] {
        if !visti.iter().any(|v| v == obbligatorio) {
            return Err(format!("signed_headers senza '{obbligatorio}'"));
        }
    }
    Ok(())
}

/// `GET /status` has no body: a body signature there is refused (italia/anpr#5235).
fn nessuna_firma(h: &HeaderMap) -> Result<(), Rifiuto> {
    if h.contains_key(H_FIRMA) || h.contains_key(H_DIGEST) {
        return Err(Rifiuto::new(
            E::InteroperabilitaNonValida,
            "Agid-JWT-Signature o Digest su una GET senza corpo",
        ));
    }
    Ok(())
}

fn controlla_quota(st: &Stato, client_id: &str, servizio: ServizioSim) -> Result<(), Rifiuto> {
    let Some(quota) = st.manopole().quote.get(servizio.codice()).copied() else {
        return Ok(());
    };
    let fatte = blocca(&st.giornalieri)
        .get(&(client_id.to_owned(), servizio, oggi()))
        .copied()
        .unwrap_or(0);
    if fatte > quota {
        return Err(Rifiuto::new(
            E::LimiteSuperato,
            format!("quota giornaliera {quota} superata"),
        ));
    }
    Ok(())
}

/// A slot under the concurrency cap, released on drop.
struct Posto<'a>(&'a Stato);

impl<'a> Posto<'a> {
    fn prendi(st: &'a Stato) -> Option<Self> {
        let prima = st.in_volo.fetch_add(1, Ordering::SeqCst);
        if st.manopole().cap.is_some_and(|cap| prima >= cap) {
            st.in_volo.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Posto(st))
    }
}

impl Drop for Posto<'_> {
    fn drop(&mut self) {
        self.0.in_volo.fetch_sub(1, Ordering::SeqCst);
    }
}

fn estrai(p: f64) -> bool {
    p > 0.0 && rand::random::<f64>() < p
}

/// Sleeps the configured latency, then maybe injects a fault.
async fn guasti_e_attesa(st: &Stato) -> Option<Rifiuto> {
    let m = st.manopole();
    let extra = if m.latenza.jitter_ms > 0 {
        rand::random_range(0..=m.latenza.jitter_ms)
    } else {
        0
    };
    let attesa = m.latenza.base_ms + extra;
    if attesa > 0 {
        tokio::time::sleep(Duration::from_millis(attesa)).await;
    }
    if estrai(m.guasti.timeout) {
        tokio::time::sleep(Duration::from_millis(m.timeout_ms)).await;
        return Some(Rifiuto::new(E::TempoScaduto, "guasto iniettato: timeout"));
    }
    if estrai(m.guasti.p503) {
        return Some(Rifiuto::new(
            E::GatewayNonDisponibile,
            "guasto iniettato: 503",
        ));
    }
    if estrai(m.guasti.p429) {
        return Some(Rifiuto::new(E::TroppeRichieste, "guasto iniettato: 429"));
    }
    None
}

//! The Comune's own SOAP channel (`../shared/anpr-specs/NOTES-ws-comuni.md`): consultazione
//! 3002 at `/ANPR3000ServiziConsultazione/AnprService3000` and the connectivity test at
//! `/ANPRTestConn/TestConn`, on the same listener as the PDND part.
//!
//! | module | what |
//! |---|---|
//! | `certificati` | the test CA and the Comune/workstation certificates it issues |
//! | `sicurezza` | the WS-Security gate: signatures, certificates, Timestamp, SAML, source IP |
//! | `cms` | `IdPostazioneFirmato` (CMS SignedData) verification |
//! | `richiesta` | the strict reading of the request bodies, in XSD order |
//! | `ricerca` | header checks, document rules, search, residents-only filter |
//! | `blocchi` | `datiSoggetto` in XSD order |
//! | `risposta` | the answer envelopes and the faults |

mod blocchi;
pub mod certificati;
mod cms;
mod ricerca;
mod richiesta;
mod risposta;
mod sicurezza;
mod tipi;
mod xml;

pub use blocchi::{CARTACEA, ELETTRONICA};
pub use certificati::{CertificatiWs, emetti_certificati_ws};
pub use ricerca::{CODICE_DESTINATARIO, CODICE_TIPO_INVIO};

use crate::config::{ComuneWs, ConfigWs};
use crate::risposte::{CODICE_ID_INFERIORE, CODICE_ID_NON_NUMERICO};
use crate::stato::{RichiestaRicevuta, Stato, blocca};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Rome;
use richiesta::Testata;
use risposta::Errore;
use sha2::{Digest as _, Sha256};
use sicurezza::{Autenticato, Contesto, Guasto, Rifiuto};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

pub const PERCORSO_3002: &str = "/ANPR3000ServiziConsultazione/AnprService3000";
pub const PERCORSO_TEST_CONN: &str = "/ANPRTestConn/TestConn";

/// A Comune's registration, with the certificates decoded once.
#[derive(Debug, Clone)]
pub(crate) struct ComuneRegistrato {
    pub certificati: Vec<Vec<u8>>,
    pub postazioni: Vec<Vec<u8>>,
    /// Upper case.
    pub operatori: HashSet<String>,
    pub indirizzi: Option<Vec<IpAddr>>,
}

fn certificato_der(pem_: &str) -> Result<Vec<u8>, String> {
    let p = pem::parse(pem_).map_err(|e| format!("PEM non leggibile: {e}"))?;
    if p.tag() != "CERTIFICATE" {
        return Err(format!("PEM di tipo {} invece di CERTIFICATE", p.tag()));
    }
    <x509_cert::Certificate as der::Decode>::from_der(p.contents())
        .map_err(|e| format!("certificato X.509 non valido: {e}"))?;
    Ok(p.contents().to_vec())
}

impl ComuneRegistrato {
    fn da(c: &ComuneWs) -> Result<Self, String> {
        if c.istat.len() != 6 || !c.istat.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("codice ISTAT '{}' non di 6 cifre", c.istat));
        }
        let leggi = |v: &[String], che: &str| {
            v.iter()
                .enumerate()
                .map(|(i, p)| certificato_der(p).map_err(|m| format!("{che} n. {}: {m}", i + 1)))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            certificati: leggi(&c.certificati, "certificato")?,
            postazioni: leggi(&c.postazioni, "postazione")?,
            operatori: c
                .operatori
                .iter()
                .map(|o| o.trim().to_ascii_uppercase())
                .collect(),
            indirizzi: c.indirizzi.clone(),
        })
    }
}

impl ComuneRegistrato {
    fn unisci(&mut self, altro: ComuneRegistrato) {
        self.certificati.extend(altro.certificati);
        self.postazioni.extend(altro.postazioni);
        self.operatori.extend(altro.operatori);
        self.indirizzi = match (self.indirizzi.take(), altro.indirizzi) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            // Either registration accepts any address.
            _ => None,
        };
    }
}

/// Checks a registration as the clients file carries it.
pub fn controlla_comune(c: &ComuneWs) -> Result<(), String> {
    ComuneRegistrato::da(c).map(|_| ())
}

/// The knobs a test may turn while the simulator runs.
#[derive(Debug, Clone, Default)]
struct ManopoleWs {
    richiedi_rilascio_ci: bool,
    en210_non_residenti: bool,
    /// KOs to give, one per 3002 call that reaches the search, in order.
    ko_forzati: VecDeque<(String, String)>,
}

/// Operation ids and stored answers of each Comune.
#[derive(Debug, Default)]
struct Operazioni {
    /// (ISTAT, idOperazioneComune) → the answer sent.
    archivio: HashMap<(String, String), String>,
    /// ISTAT → the highest idOperazioneComune accepted.
    massimi: HashMap<String, u128>,
}

/// The channel's state, beside the PDND one.
pub struct StatoWs {
    stato: Arc<Stato>,
    comuni: HashMap<String, ComuneRegistrato>,
    tipo_invio: String,
    finestra_s: i64,
    manopole: Mutex<ManopoleWs>,
    operazioni: Mutex<Operazioni>,
    /// 3002 calls past the security gate, per Comune.
    chiamate: Mutex<BTreeMap<String, u64>>,
    /// Lookups in the registry (not replays, not refusals before the search), per Comune.
    ricerche: Mutex<BTreeMap<String, u64>>,
}

impl StatoWs {
    pub(crate) fn new(config: &ConfigWs, stato: Arc<Stato>) -> Result<Self, String> {
        let mut comuni: HashMap<String, ComuneRegistrato> = HashMap::new();
        for c in &config.comuni {
            let r = ComuneRegistrato::da(c).map_err(|m| format!("comune {}: {m}", c.istat))?;
            match comuni.get_mut(&c.istat) {
                // Several registrations of one Comune (one per application, or merged clients
                // files) add up.
                Some(g) => g.unisci(r),
                None => {
                    comuni.insert(c.istat.clone(), r);
                }
            }
        }
        Ok(Self {
            stato,
            comuni,
            tipo_invio: config.tipo_invio.clone(),
            finestra_s: config.finestra_s,
            manopole: Mutex::new(ManopoleWs {
                richiedi_rilascio_ci: config.richiedi_rilascio_ci,
                en210_non_residenti: config.en210_non_residenti,
                ko_forzati: VecDeque::new(),
            }),
            operazioni: Mutex::default(),
            chiamate: Mutex::default(),
            ricerche: Mutex::default(),
        })
    }

    pub fn imposta_richiedi_rilascio_ci(&self, si: bool) {
        blocca(&self.manopole).richiedi_rilascio_ci = si;
    }

    pub fn imposta_en210_non_residenti(&self, si: bool) {
        blocca(&self.manopole).en210_non_residenti = si;
    }

    pub fn forza_ko(&self, codice: &str, testo: &str) {
        blocca(&self.manopole)
            .ko_forzati
            .push_back((codice.to_owned(), testo.to_owned()));
    }

    pub fn chiamate(&self) -> BTreeMap<String, u64> {
        blocca(&self.chiamate).clone()
    }

    pub fn ricerche(&self) -> BTreeMap<String, u64> {
        blocca(&self.ricerche).clone()
    }
}

/// One handled call, before it becomes an HTTP answer.
struct Esito {
    stato: StatusCode,
    corpo: String,
    istat: Option<String>,
    motivo: Option<String>,
}

impl Esito {
    fn guasto(r: Rifiuto) -> Self {
        Self {
            stato: StatusCode::INTERNAL_SERVER_ERROR,
            corpo: risposta::guasto(r.guasto),
            istat: r.istat,
            motivo: Some(r.motivo),
        }
    }
}

pub(crate) async fn servizio_3002(
    State(ws): State<Arc<StatoWs>>,
    ConnectInfo(da): ConnectInfo<SocketAddr>,
    corpo: Bytes,
) -> Response {
    let esito = gestisci(&ws, da.ip(), &corpo, true);
    rispondi(&ws, PERCORSO_3002, "3002", &corpo, esito)
}

pub(crate) async fn test_conn(
    State(ws): State<Arc<StatoWs>>,
    ConnectInfo(da): ConnectInfo<SocketAddr>,
    corpo: Bytes,
) -> Response {
    let esito = gestisci(&ws, da.ip(), &corpo, false);
    rispondi(&ws, PERCORSO_TEST_CONN, "TestConn", &corpo, esito)
}

fn rispondi(ws: &StatoWs, percorso: &str, servizio: &str, corpo: &[u8], e: Esito) -> Response {
    ws.stato.registra(RichiestaRicevuta {
        metodo: "POST".into(),
        percorso: percorso.to_owned(),
        servizio: Some(servizio.to_owned()),
        client_id: e.istat.clone(),
        corpo: String::from_utf8_lossy(corpo).into_owned(),
        stato: e.stato.as_u16(),
        risposta: e.corpo.clone(),
        motivo: e.motivo.clone(),
    });
    (
        e.stato,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=UTF-8"),
        )],
        e.corpo,
    )
        .into_response()
}

fn gestisci(ws: &StatoWs, ip: IpAddr, corpo: &[u8], e3002: bool) -> Esito {
    let Ok(testo) = std::str::from_utf8(corpo) else {
        return Esito::guasto(Rifiuto {
            guasto: Guasto::ErroreInterno,
            motivo: "corpo non in UTF-8".into(),
            istat: None,
        });
    };
    let doc = match xml::analizza(testo) {
        Ok(d) => d,
        Err(m) => {
            return Esito::guasto(Rifiuto {
                guasto: Guasto::ErroreInterno,
                motivo: m,
                istat: None,
            });
        }
    };
    let adesso = Utc::now();
    let contesto = Contesto {
        comuni: &ws.comuni,
        finestra_s: ws.finestra_s,
        adesso,
        ip,
    };
    let a = match sicurezza::controlla(&doc, testo, &contesto) {
        Ok(a) => a,
        Err(r) => return Esito::guasto(r),
    };
    let (corpo, motivo) = if e3002 {
        consultazione(ws, &doc, &a, adesso)
    } else {
        connessione(ws, &doc, &a)
    };
    Esito {
        stato: StatusCode::OK,
        corpo,
        istat: Some(a.istat),
        motivo,
    }
}

/// idOperazioneANPR: in test mode a pure function of (Comune, idOperazioneComune), like the
/// PDND part's; otherwise random.
fn id_operazione_anpr(ws: &StatoWs, istat: &str, id: &str) -> String {
    let n = if ws.stato.modalita_test {
        let d = Sha256::new()
            .chain_update(istat.as_bytes())
            .chain_update([0])
            .chain_update(id.as_bytes())
            .finalize();
        let mut otto = [0u8; 8];
        otto.copy_from_slice(&d[..8]);
        u64::from_be_bytes(otto)
    } else {
        rand::random::<u64>()
    };
    format!("{:010}", n % 10_000_000_000)
}

/// EN527, appended by ANPR to every KO (#1168).
fn en527(adesso: DateTime<Utc>, id_anpr: &str) -> Errore {
    let data = adesso.with_timezone(&Rome).format("%d/%m/%Y %H:%M:%S");
    Errore::e(
        "EN527",
        format!(
            "Informazioni sull'operazione da fornire in caso di assistenza : data {data}, idOperazioneANPR {id_anpr}"
        ),
    )
}

fn ko(t: &Testata, id_anpr: &str, mut errori: Vec<Errore>, adesso: DateTime<Utc>) -> String {
    errori.push(en527(adesso, id_anpr));
    risposta::ko_3002(t, id_anpr, &errori)
}

/// The header of a request that could not be read, echoed as far as it can be.
fn testata_grezza(doc: &bergshamra::xml::uppsala::Document<'_>, a: &Autenticato) -> Testata {
    let t = xml::figli_nominati(doc, a.carico, None, "testataRichiesta")
        .first()
        .copied();
    let campo = |nome: &str| {
        t.and_then(|t| xml::testo_figlio(doc, t, nome))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    Testata {
        id_operazione_comune: campo("idOperazioneComune"),
        cod_mittente: a.istat.clone(),
        cod_destinatario: campo("codDestinatario"),
        operazione_richiesta: campo("operazioneRichiesta"),
        data_ora_richiesta: campo("dataOraRichiesta"),
        ..Testata::default()
    }
}

fn conta(m: &Mutex<BTreeMap<String, u64>>, istat: &str) {
    *blocca(m).entry(istat.to_owned()).or_insert(0) += 1;
}

/// 3002 past the gate: strict reading (EN489), replay of a known id, the id's order
/// (EN902, EN901), then ANPR's answer, stored for replay.
fn consultazione(
    ws: &StatoWs,
    doc: &bergshamra::xml::uppsala::Document<'_>,
    a: &Autenticato,
    adesso: DateTime<Utc>,
) -> (String, Option<String>) {
    conta(&ws.chiamate, &a.istat);
    let r = match richiesta::leggi_3002(doc, a.carico) {
        Ok(r) => r,
        Err(m) => {
            let t = testata_grezza(doc, a);
            let id_anpr = id_operazione_anpr(ws, &a.istat, &t.id_operazione_comune);
            let e = Errore::e("EN489", ricerca::TESTO_EN489);
            return (ko(&t, &id_anpr, vec![e], adesso), Some(m));
        }
    };
    let t = &r.testata;
    let id = t.id_operazione_comune.clone();
    let id_anpr = id_operazione_anpr(ws, &a.istat, &id);
    let chiave = (a.istat.clone(), id.clone());
    let mut op = blocca(&ws.operazioni);
    if let Some(memo) = op.archivio.get(&chiave) {
        return (memo.clone(), Some("replay dell'idOperazioneComune".into()));
    }
    let Ok(n) = id.parse::<u128>() else {
        let e = Errore::e(
            CODICE_ID_NON_NUMERICO,
            "Il campo idOperazioneComune deve essere numerico",
        )
        .su("idOperazioneComune", Some(&id));
        return (ko(t, &id_anpr, vec![e], adesso), None);
    };
    let massimo = op.massimi.entry(a.istat.clone()).or_insert(0);
    if n <= *massimo {
        let e = Errore::e(
            CODICE_ID_INFERIORE,
            "idOperazioneComune inferiore o uguale all'ultimo inviato",
        )
        .su("idOperazioneComune", Some(&id));
        return (ko(t, &id_anpr, vec![e], adesso), None);
    }
    *massimo = n;
    let corpo = elabora(ws, &r, &a.istat, &id_anpr, adesso);
    op.archivio.insert(chiave, corpo.clone());
    (corpo, None)
}

/// ANPR's answer to a readable request with a fresh id.
fn elabora(
    ws: &StatoWs,
    r: &richiesta::Richiesta3002,
    istat: &str,
    id_anpr: &str,
    adesso: DateTime<Utc>,
) -> String {
    let t = &r.testata;
    if let Err(e) = ricerca::controlla_testata(t, &ws.tipo_invio, "3002") {
        return ko(t, id_anpr, vec![e], adesso);
    }
    let m = blocca(&ws.manopole).clone();
    if let Some((codice, testo)) = blocca(&ws.manopole).ko_forzati.pop_front() {
        return ko(t, id_anpr, vec![Errore::e(&codice, testo)], adesso);
    }
    conta(&ws.ricerche, istat);
    let regole = ricerca::Regole {
        richiedi_rilascio_ci: m.richiedi_rilascio_ci,
        en210_non_residenti: m.en210_non_residenti,
    };
    match ricerca::cerca(&ws.stato.popolazione, r, &regole) {
        ricerca::Esito::Trovati(soggetti) => risposta::ok_3002(t, id_anpr, &soggetti),
        ricerca::Esito::Ko(errori) => ko(t, id_anpr, errori, adesso),
    }
}

/// TestConn past the gate: the header read strictly and checked; `esitoOperazione` says
/// whether it passed (`RispostaConnessione` has no error list).
fn connessione(
    ws: &StatoWs,
    doc: &bergshamra::xml::uppsala::Document<'_>,
    a: &Autenticato,
) -> (String, Option<String>) {
    let (t, motivo) = match richiesta::leggi_connessione(doc, a.carico) {
        Ok(t) => {
            let m = ricerca::controlla_testata(&t, &ws.tipo_invio, &t.operazione_richiesta)
                .err()
                .map(|e| format!("{} {}", e.codice, e.testo));
            (t, m)
        }
        Err(m) => (testata_grezza(doc, a), Some(m)),
    };
    let id_anpr = id_operazione_anpr(ws, &a.istat, &t.id_operazione_comune);
    let esito = if motivo.is_some() {
        risposta::ESITO_KO
    } else {
        risposta::ESITO_OK
    };
    (risposta::connessione(&t, &id_anpr, esito), motivo)
}

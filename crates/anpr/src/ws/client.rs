//! `WsClient`: one 3002 lookup on the Comune's own channel (DESIGN §4), and the TestConn probe.
//!
//! Operation ids: the Comune's software and Rivesto share one `idOperazioneComune` space, and
//! ANPR refuses an unseen id lower than the last one sent. So calls go out one at a time per
//! Comune by default (a semaphore of `concurrency` permits, taken before the id is drawn, so ids
//! leave in order); a call refused for a low id is retried once with a fresh id; a call redone
//! after a crash reuses its stored id, and ANPR replays its stored answer.
//!
//! The answer table of DESIGN §4 (3002 rows) is [`classifica_http`] and [`classifica_risposta`],
//! pure functions tested here; the loopback tests against the simulator live in `tests/it/ws.rs`.

use super::config::WsConfig;
use super::messaggi::{
    CriterioWs, ErroreWs, Richiesta3002, RichiestaTestConn, RispostaSoap, TestataRisposta,
    completa_esistenza_in_vita, leggi_risposta, richiesta_3002, richiesta_test_conn, tabella16,
    valida_criterio,
};
use super::sicurezza::imbusta;
use crate::archivio::{ArchivioIdOperazione, ErroreArchivio, IdOperazione};
use crate::client::PoliticaRitentativi;
use crate::risposta::EsitoHttp;
use crate::security::Orologio;
use crate::voucher::{errore_trasporto, leggi};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rand::Rng as _;
use serde_json::{Map, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The `rispostaKO` code for an unseen `idOperazioneComune` lower than the last one sent.
/// ANPR's own code is not public: `EN901` is the simulator's choice (the same as the PDND
/// simulator's), and [`id_basso`] also recognises the error by its text.
pub const CODICE_ID_INFERIORE_3002: &str = "EN901";
/// ANPR appends it to every error: "Informazioni sull'operazione da fornire in caso di
/// assistenza : data …, idOperazioneANPR …".
pub const CODICE_INFO_ASSISTENZA: &str = "EN527";

/// What ANPR said about the person.
#[derive(Debug, Clone, PartialEq)]
pub enum Esito3002 {
    /// One person: the `datiSoggetto` in the PDND JSON shape (blocks of one idANPR merged).
    Trovato(Value),
    /// Nobody: `rispostaKO` EN122, EN130 or EN133, or an OK answer without subjects (no code).
    NonTrovato {
        codice: Option<String>,
        testo: Option<String>,
    },
    /// EN204, EN210: the person is not the Comune's resident (never reveal more).
    FuoriAmbito { codice: String },
    /// Several people: the number of distinct subjects in the answer, 0 when ANPR said so with
    /// EN095 or EN115 without listing them.
    Ambiguo(usize),
    /// ANPR refused this row (its code and text, in Italian for the document criteria's
    /// EHR41, EHR67, EHR68), or the answer is about another person (empty code: no ANPR code).
    Errore { codice: String, testo: String },
}

/// The outcome of one call, with the ids to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Risposta3002Classificata {
    pub id_operazione_comune: String,
    /// From `testataRisposta`, or read from EN527's text.
    pub id_operazione_anpr: Option<String>,
    pub esito: Esito3002,
    /// Warnings of `listaAnomalie`, and on a KO the errors other than the deciding one (EN527…).
    pub anomalie: Vec<ErroreWs>,
    /// HTTP attempts made.
    pub tentativi: u32,
}

/// `datiRichiesta` of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatiWs {
    pub data_riferimento: NaiveDate,
    /// Tabella 16 codes (see `messaggi::dati_richiesti`). Generalità (2) and the document block
    /// a document search needs (16 or 17) are added when missing, for the identity check.
    pub dati_richiesti: Vec<u8>,
    /// `false`: only the Comune's residents (scope COMUNE); `true`: national search.
    pub ricerca_nazionale: bool,
    /// `protocolloComune`, sent only when it fits `[0-9a-zA-Z\-_/]{1,20}`.
    pub protocollo: Option<String>,
}

/// Construction knobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpzioniWs {
    /// Transport errors, timeouts and 5xx without a SOAP answer.
    pub politica: PoliticaRitentativi,
    /// The engine forgets a call's key itself, once the row's outcome is stored (as with
    /// `ArchivioStore::per_motore`): the client then never calls `archivio.completa`.
    pub completa_dopo_registrazione: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreCanaleWs {
    /// The row's key cannot be sent (ERRORE on the row).
    #[error("canale del Comune (3002): criterio di ricerca non ammesso: {0}")]
    CriterioNonAmmesso(String),
    /// Security or configuration refused: the whole request stops (FALLITA).
    #[error("canale del Comune (3002): {spiegazione}{}", risposta_tra_parentesi(.risposta))]
    Fallita {
        spiegazione: String,
        risposta: String,
    },
    /// No usable answer after the bounded retries (ERRORE on the row).
    #[error("canale del Comune (3002): errore temporaneo dopo {tentativi} tentativi: {motivo}")]
    Transitorio { motivo: String, tentativi: u32 },
    #[error(transparent)]
    Archivio(#[from] ErroreArchivio),
    #[error("canale del Comune (3002): client HTTP non costruito: {0}")]
    Http(String),
}

fn risposta_tra_parentesi(r: &str) -> String {
    if r.is_empty() {
        String::new()
    } else {
        format!(" — risposta: {r}")
    }
}

impl ErroreCanaleWs {
    /// The request must stop as FALLITA (configuration, certificates or security wrong).
    pub fn ferma_richiesta(&self) -> bool {
        matches!(
            self,
            ErroreCanaleWs::Fallita { .. } | ErroreCanaleWs::Archivio(_) | ErroreCanaleWs::Http(_)
        )
    }
}

pub struct WsClient {
    http: reqwest::Client,
    config: WsConfig,
    archivio: Arc<dyn ArchivioIdOperazione>,
    orologio: Arc<dyn Orologio>,
    opzioni: OpzioniWs,
    /// `concurrency` permits, taken before an id is drawn.
    turni: tokio::sync::Semaphore,
    indirizzo: tokio::sync::OnceCell<String>,
}

impl WsClient {
    pub fn new(
        config: WsConfig,
        archivio: Arc<dyn ArchivioIdOperazione>,
        orologio: Arc<dyn Orologio>,
    ) -> Result<Self, ErroreCanaleWs> {
        let mut b = reqwest::Client::builder().timeout(config.timeout);
        if let Some(pem) = &config.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ErroreCanaleWs::Http(format!("[anpr_ws].ca_file non valido: {e}")))?;
            b = b.tls_certs_merge(certs);
        }
        let http = b.build().map_err(|e| ErroreCanaleWs::Http(e.to_string()))?;
        Ok(WsClient {
            http,
            turni: tokio::sync::Semaphore::new(config.concurrency.max(1)),
            config,
            archivio,
            orologio,
            opzioni: OpzioniWs::default(),
            indirizzo: tokio::sync::OnceCell::new(),
        })
    }

    pub fn con_opzioni(mut self, opzioni: OpzioniWs) -> Self {
        self.opzioni = opzioni;
        self
    }

    pub fn config(&self) -> &WsConfig {
        &self.config
    }

    /// One 3002 lookup. `chiave_chiamata` identifies the call across restarts: redoing it
    /// reuses its operation id, so ANPR replays its answer.
    pub async fn consulta(
        &self,
        criterio: CriterioWs,
        dati: &DatiWs,
        chiave_chiamata: &str,
    ) -> Result<Risposta3002Classificata, ErroreCanaleWs> {
        self.consulta_con(criterio, dati, chiave_chiamata, |url, busta| {
            self.invia(url, busta)
        })
        .await
    }

    /// [`consulta`](Self::consulta) with the HTTP exchange given (tests script it).
    async fn consulta_con<F, Fut>(
        &self,
        criterio: CriterioWs,
        dati: &DatiWs,
        chiave: &str,
        mut invia: F,
    ) -> Result<Risposta3002Classificata, ErroreCanaleWs>
    where
        F: FnMut(String, String) -> Fut,
        Fut: Future<Output = EsitoHttp>,
    {
        valida_criterio(&criterio).map_err(ErroreCanaleWs::CriterioNonAmmesso)?;
        let dati_richiesti = dati_per(&criterio, &dati.dati_richiesti);
        let indirizzo = self.indirizzo_client().await;
        let _turno = self
            .turni
            .acquire()
            .await
            .map_err(|_| ErroreCanaleWs::Http("coda delle chiamate chiusa".into()))?;
        let mut id = self.archivio.id_per(chiave)?;
        let mut id_rinnovato = false;
        let mut transitori = 0u32;
        let mut tentativi = 0u32;
        loop {
            let id_operazione = self.id_testo(id)?;
            let corpo = richiesta_3002(&Richiesta3002 {
                id_operazione_comune: id_operazione.clone(),
                cod_mittente: self.config.identita.id_sede.clone(),
                data_ora: self.data_ora(),
                protocollo_comune: dati.protocollo.clone(),
                tipo_invio: self.config.tipo_invio.clone(),
                criterio: criterio.clone(),
                data_riferimento: dati.data_riferimento,
                dati_richiesti: dati_richiesti.clone(),
                ricerca_nazionale: dati.ricerca_nazionale,
                applicativo: self.config.applicativo(),
            });
            let busta = self.busta(&corpo, &indirizzo)?;
            tentativi += 1;
            let esito = invia(self.config.url_3002(), busta).await;
            match classifica_http(&esito, &criterio) {
                Classe::IdBasso { .. } if !id_rinnovato => {
                    id_rinnovato = true;
                    id = self.archivio.nuovo_id(chiave)?;
                }
                Classe::IdBasso {
                    codice,
                    testo,
                    id_operazione_anpr,
                    anomalie,
                } => {
                    let esito = Esito3002::Errore {
                        codice,
                        testo: format!(
                            "{testo} (id di operazione rifiutato perché inferiore all'ultimo \
                             inviato dal Comune anche dopo un nuovo id: un altro software del \
                             Comune usa id più alti, concordare [anpr_ws].id_prefix e id_length \
                             con il fornitore)"
                        ),
                    };
                    return Ok(self.fine(
                        chiave,
                        id_operazione,
                        id_operazione_anpr,
                        esito,
                        anomalie,
                        tentativi,
                    ));
                }
                Classe::Transitorio(_) if transitori + 1 < self.opzioni.politica.tentativi_max => {
                    transitori += 1;
                    tokio::time::sleep(attesa(&self.opzioni.politica, transitori - 1)).await;
                }
                Classe::Transitorio(motivo) => {
                    return Err(ErroreCanaleWs::Transitorio { motivo, tentativi });
                }
                Classe::Fallita {
                    spiegazione,
                    risposta,
                } => {
                    return Err(ErroreCanaleWs::Fallita {
                        spiegazione,
                        risposta,
                    });
                }
                Classe::Esito {
                    mut esito,
                    id_operazione_anpr,
                    anomalie,
                } => {
                    if let Esito3002::Trovato(s) = &mut esito {
                        let decesso = dati_richiesti.iter().any(|c| {
                            *c == tabella16::DATI_DECESSO || *c == tabella16::SCHEDA_COMPLETA
                        });
                        completa_esistenza_in_vita(s, decesso);
                    }
                    return Ok(self.fine(
                        chiave,
                        id_operazione,
                        id_operazione_anpr,
                        esito,
                        anomalie,
                        tentativi,
                    ));
                }
            }
        }
    }

    /// The final answer: forgets the call key unless the engine does it after storing the row.
    fn fine(
        &self,
        chiave: &str,
        id_operazione_comune: String,
        id_operazione_anpr: Option<String>,
        esito: Esito3002,
        anomalie: Vec<ErroreWs>,
        tentativi: u32,
    ) -> Risposta3002Classificata {
        if !self.opzioni.completa_dopo_registrazione {
            // A failure to forget only leaves a key behind: the answer stands.
            let _ = self.archivio.completa(chiave);
        }
        Risposta3002Classificata {
            id_operazione_comune,
            id_operazione_anpr,
            esito,
            anomalie,
            tentativi,
        }
    }

    /// TestConn: a signed `RichiestaConnessione`, answered by `RispostaConnessione`. It proves
    /// the endpoint, the certificates, the operator and the source address in one call. Its id
    /// comes from the same archive as the lookups, so it never goes below them.
    pub async fn test_conn(&self) -> Result<TestataRisposta, ErroreCanaleWs> {
        let indirizzo = self.indirizzo_client().await;
        let _turno = self
            .turni
            .acquire()
            .await
            .map_err(|_| ErroreCanaleWs::Http("coda delle chiamate chiusa".into()))?;
        let chiave = format!("ws-testconn-{}", self.orologio.adesso_ms());
        let id = self.archivio.id_per(&chiave)?;
        let corpo = richiesta_test_conn(&RichiestaTestConn {
            id_operazione_comune: self.id_testo(id)?,
            cod_mittente: self.config.identita.id_sede.clone(),
            data_ora: self.data_ora(),
            tipo_invio: self.config.tipo_invio.clone(),
            applicativo: self.config.applicativo(),
        });
        let busta = self.busta(&corpo, &indirizzo)?;
        let esito = self.invia(self.config.url_test_conn(), busta).await;
        let _ = self.archivio.completa(&chiave);
        match esito_test_conn(&esito) {
            Ok(t) => Ok(t),
            Err(Classe::Fallita {
                spiegazione,
                risposta,
            }) => Err(ErroreCanaleWs::Fallita {
                spiegazione,
                risposta,
            }),
            Err(Classe::Transitorio(motivo)) => Err(ErroreCanaleWs::Transitorio {
                motivo,
                tentativi: 1,
            }),
            Err(altro) => Err(ErroreCanaleWs::Fallita {
                spiegazione: format!("risposta inattesa a TestConn: {altro:?}"),
                risposta: String::new(),
            }),
        }
    }

    fn id_testo(&self, id: IdOperazione) -> Result<String, ErroreCanaleWs> {
        self.config
            .id_operazione(id)
            .map_err(|spiegazione| ErroreCanaleWs::Fallita {
                spiegazione,
                risposta: String::new(),
            })
    }

    fn adesso(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.orologio.adesso_ms()).unwrap_or_default()
    }

    /// `dataOraRichiesta` in Italian time, as the public samples write it.
    fn data_ora(&self) -> DateTime<FixedOffset> {
        self.adesso()
            .with_timezone(&chrono_tz::Europe::Rome)
            .fixed_offset()
    }

    fn busta(&self, corpo: &str, indirizzo: &str) -> Result<String, ErroreCanaleWs> {
        imbusta(corpo, &self.config.identita, indirizzo, self.adesso()).map_err(|e| {
            ErroreCanaleWs::Fallita {
                spiegazione: format!("messaggio non firmato: {e}"),
                risposta: String::new(),
            }
        })
    }

    async fn invia(&self, url: String, busta: String) -> EsitoHttp {
        match self
            .http
            .post(url)
            .header("Content-Type", "text/xml; charset=UTF-8")
            .header("SOAPAction", "\"\"")
            .body(busta)
            .send()
            .await
        {
            Ok(r) => leggi(r).await,
            Err(e) => errore_trasporto(&e),
        }
    }

    /// The address for the assertion's `SubjectLocality`. The socket's local address is only
    /// known once a request is under way, so this is a best effort without settings, done once:
    /// `127.0.0.1` (`::1`) for a loopback endpoint, else the address of the interface the system
    /// would route to the endpoint through (a UDP socket connected to it, nothing sent), else
    /// `127.0.0.1`. Behind NAT this is the private address, not the public one ANPR allow-lists:
    /// ANPR checks the source address of the connection itself, not this attribute.
    async fn indirizzo_client(&self) -> String {
        self.indirizzo
            .get_or_init(|| indirizzo_verso(&self.config.endpoint))
            .await
            .clone()
    }
}

async fn indirizzo_verso(endpoint: &str) -> String {
    const RIPIEGO: &str = "127.0.0.1";
    let Ok(u) = url::Url::parse(endpoint) else {
        return RIPIEGO.into();
    };
    let porta = u.port_or_known_default().unwrap_or(443);
    match u.host() {
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => return ip.to_string(),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => return ip.to_string(),
        Some(url::Host::Domain("localhost")) => return RIPIEGO.into(),
        None => return RIPIEGO.into(),
        _ => {}
    }
    let host = match u.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(h) => h.to_string(),
        None => return RIPIEGO.into(),
    };
    let locale = async {
        let destinazione = tokio::net::lookup_host((host.as_str(), porta))
            .await
            .ok()?
            .next()?;
        let origine = if destinazione.is_ipv6() {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        };
        let s = tokio::net::UdpSocket::bind(origine).await.ok()?;
        s.connect(destinazione).await.ok()?;
        Some(s.local_addr().ok()?.ip().to_string())
    };
    tokio::time::timeout(Duration::from_secs(5), locale)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| RIPIEGO.into())
}

/// Backoff with full jitter between half and all of `attesa_iniziale × 2^tentativo`, capped.
fn attesa(p: &PoliticaRitentativi, tentativo: u32) -> Duration {
    let esp = p
        .attesa_iniziale
        .saturating_mul(1u32 << tentativo.min(16))
        .min(p.attesa_max);
    let ms = esp.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(ms / 2..=ms))
}

/// The codes sent: generalità (2) always, and for a document search its block (16 or 17), so
/// that the identity check can read the number back; nothing is added to a full record (1).
fn dati_per(criterio: &CriterioWs, chiesti: &[u8]) -> Vec<u8> {
    let mut out = chiesti.to_vec();
    if out.contains(&tabella16::SCHEDA_COMPLETA) {
        return out;
    }
    let mut servono = vec![tabella16::GENERALITA];
    match criterio {
        CriterioWs::CartaIdentita { .. } => servono.push(tabella16::CARTA_IDENTITA),
        CriterioWs::Permesso { .. } | CriterioWs::Passaporto(_) => {
            servono.push(tabella16::PERMESSO_SOGGIORNO)
        }
        CriterioWs::CodiceFiscale(_) | CriterioWs::IdAnpr(_) => {}
    }
    for c in servono {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort_unstable();
    out
}

/// What one HTTP exchange means.
#[derive(Debug, Clone, PartialEq)]
enum Classe {
    Esito {
        esito: Esito3002,
        id_operazione_anpr: Option<String>,
        anomalie: Vec<ErroreWs>,
    },
    /// `rispostaKO` for a low operation id: retried once with a fresh id.
    IdBasso {
        codice: String,
        testo: String,
        id_operazione_anpr: Option<String>,
        anomalie: Vec<ErroreWs>,
    },
    /// Stops the request (FALLITA).
    Fallita {
        spiegazione: String,
        risposta: String,
    },
    /// Worth retrying with backoff.
    Transitorio(String),
}

fn testo_corpo(corpo: &[u8]) -> String {
    String::from_utf8_lossy(corpo).chars().take(300).collect()
}

/// DESIGN §4, 3002 rows: transport and SOAP level.
fn classifica_http(esito: &EsitoHttp, criterio: &CriterioWs) -> Classe {
    match leggi_http(esito) {
        Ok(RispostaSoap::TestConnOk { .. }) => Classe::Fallita {
            spiegazione: "l'endpoint ha risposto come il servizio TestConn a una richiesta 3002: \
                          controllare [anpr_ws].endpoint"
                .into(),
            risposta: String::new(),
        },
        Ok(r) => classifica_risposta(r, criterio),
        Err(c) => c,
    }
}

/// The SOAP answer of an exchange, or how the exchange failed.
fn leggi_http(esito: &EsitoHttp) -> Result<RispostaSoap, Classe> {
    let (status, corpo) = match esito {
        EsitoHttp::Timeout => {
            return Err(Classe::Transitorio(
                "nessuna risposta entro il timeout".into(),
            ));
        }
        EsitoHttp::Connessione(e) => {
            return Err(Classe::Transitorio(format!(
                "connessione non riuscita: {e}"
            )));
        }
        EsitoHttp::Risposta { status, corpo, .. } => (*status, corpo.as_slice()),
    };
    let letta = std::str::from_utf8(corpo)
        .map_err(|_| "risposta non in UTF-8".to_string())
        .and_then(leggi_risposta);
    match letta {
        Ok(RispostaSoap::Fault { codice, testo }) => Err(Classe::Fallita {
            spiegazione: spiegazione_fault(&testo),
            risposta: format!("HTTP {status}, SOAP fault {codice}: {testo}"),
        }),
        Ok(r) => Ok(r),
        Err(e) if status == 429 || status >= 500 => Err(Classe::Transitorio(format!(
            "HTTP {status} senza una risposta SOAP ({e})"
        ))),
        Err(e) if status == 200 => Err(Classe::Transitorio(format!(
            "HTTP 200 con una risposta SOAP non leggibile: {e}"
        ))),
        Err(_) => Err(Classe::Fallita {
            spiegazione: format!(
                "l'endpoint ha risposto HTTP {status} senza una risposta SOAP: controllare \
                 [anpr_ws].endpoint (es. https://ws.anpr.interno.it, senza il percorso del servizio)"
            ),
            risposta: testo_corpo(corpo),
        }),
    }
}

fn esito_test_conn(esito: &EsitoHttp) -> Result<TestataRisposta, Classe> {
    match leggi_http(esito)? {
        RispostaSoap::TestConnOk { testata } => Ok(testata),
        RispostaSoap::Ko { errori, .. } => Err(Classe::Fallita {
            spiegazione: "ANPR ha rifiutato TestConn".into(),
            risposta: errori
                .iter()
                .map(|e| format!("{} {}", e.codice, e.testo))
                .collect::<Vec<_>>()
                .join("; "),
        }),
        altro => Err(Classe::Fallita {
            spiegazione: "l'endpoint non ha risposto come il servizio TestConn: controllare \
                          [anpr_ws].endpoint"
                .into(),
            risposta: format!("{altro:?}").chars().take(300).collect(),
        }),
    }
}

/// The likely cause, in Italian, of ANPR's SOAP faults (NOTES §2, §6).
pub fn spiegazione_fault(testo: &str) -> String {
    if testo.contains("Rejected by policy") {
        "ANPR ha rifiutato la chiamata per la politica di sicurezza (\"Rejected by policy\"). \
         Cause più frequenti: il certificato del Comune (cert_file o p12_file) non è registrato in \
         ANPR o è scaduto; il codice fiscale dell'operatore (operator_cf) non è censito o non è \
         abilitato ai servizi; l'indirizzo IP pubblico da cui parte la chiamata non è tra quelli \
         autorizzati nell'applicazione web ANPR (Amministrazione → Dati/Informazioni aggiuntive); \
         il certificato della postazione non corrisponde a id_postazione"
            .to_string()
    } else if testo.contains("Internal Error") {
        "ANPR non ha accettato la sicurezza del messaggio (\"Internal Error\"): manca la firma del \
         Timestamp e del Body, o non è fatta come ANPR la attende (firma XML con il certificato \
         del Comune). Controllare signature_alg e i certificati in [anpr_ws]"
            .to_string()
    } else {
        format!("ANPR ha risposto con un errore SOAP ({testo}): la richiesta non è stata elaborata")
    }
}

/// An unseen id lower than the last one sent: [`CODICE_ID_INFERIORE_3002`], or ANPR's text
/// about `idOperazioneComune` ("se non esiste ed e' inferiore all'ultimo inviato,
/// l'elaborazione termina con errore").
pub fn id_basso(e: &ErroreWs) -> bool {
    if e.codice == CODICE_ID_INFERIORE_3002 {
        return true;
    }
    let testo = e.testo.to_lowercase();
    let campo = e.campo.as_deref() == Some("idOperazioneComune");
    (campo || testo.contains("idoperazionecomune"))
        && (testo.contains("inferiore") || testo.contains("crescente"))
}

/// The digits after "idOperazioneANPR" in EN527's text.
fn id_anpr_da_en527(errori: &[ErroreWs]) -> Option<String> {
    let e = errori.iter().find(|e| e.codice == CODICE_INFO_ASSISTENZA)?;
    let (_, dopo) = e.testo.split_once("idOperazioneANPR")?;
    let cifre: String = dopo
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!cifre.is_empty()).then_some(cifre)
}

/// Italian explanations of ANPR's errors about the document criteria.
fn spiegazione_codice(codice: &str) -> Option<&'static str> {
    match codice {
        "EHR41" => Some(
            "per cercare con la carta d'identità ANPR vuole anche il comune o il consolato che \
             l'ha rilasciata: indicare il comune o il consolato di rilascio della carta d'identità",
        ),
        "EHR67" => Some(
            "per cercare un permesso di soggiorno ANPR vuole o il numero del passaporto o i dati \
             del permesso (questura e numero), uno dei due e non entrambi",
        ),
        "EHR68" => Some(
            "per cercare con il permesso di soggiorno ANPR vuole sia la questura di rilascio sia il \
             numero del permesso",
        ),
        _ => None,
    }
}

/// DESIGN §4, 3002 rows: the meaning of a `Risposta3002_OK` or `rispostaKO`.
fn classifica_risposta(r: RispostaSoap, criterio: &CriterioWs) -> Classe {
    match r {
        RispostaSoap::Ok3002 {
            testata,
            soggetti,
            anomalie,
        } => Classe::Esito {
            esito: esito_ok(soggetti, criterio),
            id_operazione_anpr: testata.id_operazione_anpr,
            anomalie,
        },
        RispostaSoap::Ko { testata, errori } => {
            let id_operazione_anpr = testata
                .id_operazione_anpr
                .or_else(|| id_anpr_da_en527(&errori));
            let indice = errori
                .iter()
                .position(|e| e.codice != CODICE_INFO_ASSISTENZA)
                .or(if errori.is_empty() { None } else { Some(0) });
            let Some(i) = indice else {
                return Classe::Esito {
                    esito: Esito3002::Errore {
                        codice: String::new(),
                        testo: "rispostaKO senza errori".into(),
                    },
                    id_operazione_anpr,
                    anomalie: Vec::new(),
                };
            };
            let mut anomalie = errori;
            let e = anomalie.remove(i);
            if id_basso(&e) {
                return Classe::IdBasso {
                    codice: e.codice,
                    testo: e.testo,
                    id_operazione_anpr,
                    anomalie,
                };
            }
            let esito = match e.codice.as_str() {
                "EN122" | "EN130" | "EN133" => Esito3002::NonTrovato {
                    codice: Some(e.codice),
                    testo: Some(e.testo),
                },
                "EN204" | "EN210" => Esito3002::FuoriAmbito { codice: e.codice },
                "EN095" | "EN115" => Esito3002::Ambiguo(0),
                codice => Esito3002::Errore {
                    testo: match spiegazione_codice(codice) {
                        Some(s) if e.testo.is_empty() => s.to_string(),
                        Some(s) => format!("{s} (ANPR: {})", e.testo),
                        None => e.testo,
                    },
                    codice: e.codice,
                },
            };
            Classe::Esito {
                esito,
                id_operazione_anpr,
                anomalie,
            }
        }
        RispostaSoap::Fault { testo, codice } => Classe::Fallita {
            spiegazione: spiegazione_fault(&testo),
            risposta: format!("SOAP fault {codice}: {testo}"),
        },
        RispostaSoap::TestConnOk { .. } => Classe::Fallita {
            spiegazione:
                "risposta di TestConn a una richiesta 3002: controllare [anpr_ws].endpoint".into(),
            risposta: String::new(),
        },
    }
}

fn testo_in(v: &Value, puntatore: &str) -> Option<String> {
    v.pointer(puntatore)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Who a `datiSoggetto` is: its idANPR, else its CF, else its legacy numeric ANPR id.
fn chiave_soggetto(s: &Value) -> Option<String> {
    testo_in(s, "/identificativi/idANPR")
        .map(|i| format!("idANPR {i}"))
        .or_else(|| testo_in(s, "/generalita/codiceFiscale/codFiscale").map(|c| format!("CF {c}")))
        .or_else(|| testo_in(s, "/generalita/idSchedaSoggettoANPR").map(|c| format!("scheda {c}")))
}

/// Adds to `a` the members of `b` it lacks (one person's blocks split over two `datiSoggetto`).
fn unisci(a: &mut Value, b: Value) {
    if let (Value::Object(a), Value::Object(b)) = (a, b) {
        for (k, v) in b {
            a.entry(k).or_insert(v);
        }
    }
}

/// An OK answer: nobody, one person (identity checked), or several.
fn esito_ok(soggetti: Vec<Value>, criterio: &CriterioWs) -> Esito3002 {
    if soggetti.is_empty() {
        return Esito3002::NonTrovato {
            codice: None,
            testo: None,
        };
    }
    let mut chiavi: Vec<String> = Vec::new();
    let mut senza_chiave = 0usize;
    for s in &soggetti {
        match chiave_soggetto(s) {
            Some(k) if !chiavi.contains(&k) => chiavi.push(k),
            Some(_) => {}
            None => senza_chiave += 1,
        }
    }
    // Subjects without any identifier are told apart from nobody: each counts on its own,
    // unless they can only be the one identified person.
    let distinti = if chiavi.is_empty() {
        senza_chiave
    } else {
        chiavi.len()
    };
    if distinti > 1 {
        return Esito3002::Ambiguo(distinti);
    }
    let mut tutti = soggetti.into_iter();
    let mut uno = tutti.next().unwrap_or_else(|| Value::Object(Map::new()));
    for altro in tutti {
        unisci(&mut uno, altro);
    }
    match verifica_identita(criterio, &uno) {
        Ok(()) => Esito3002::Trovato(uno),
        Err(testo) => Esito3002::Errore {
            codice: String::new(),
            testo,
        },
    }
}

/// The answer must be about the person asked for: the same CF, idANPR or document number.
fn verifica_identita(criterio: &CriterioWs, s: &Value) -> Result<(), String> {
    let (cosa, atteso, puntatore) = match criterio {
        CriterioWs::CodiceFiscale(cf) => {
            ("codice fiscale", cf, "/generalita/codiceFiscale/codFiscale")
        }
        CriterioWs::IdAnpr(id) => ("ID ANPR", id, "/identificativi/idANPR"),
        CriterioWs::CartaIdentita { numero, .. } => {
            ("carta d'identità", numero, "/cartaIdentita/numero")
        }
        CriterioWs::Permesso { numero, .. } => (
            "permesso di soggiorno",
            numero,
            "/permessoSoggiorno/numeroSoggiorno",
        ),
        CriterioWs::Passaporto(numero) => {
            ("passaporto", numero, "/permessoSoggiorno/numeroPassaporto")
        }
    };
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect()
    };
    let trovato = testo_in(s, puntatore);
    if trovato.as_deref().map(norm) == Some(norm(atteso)) {
        return Ok(());
    }
    Err(format!(
        "risposta relativa a un soggetto diverso: chiesto {cosa} {atteso}, ricevuto {}",
        trovato.unwrap_or_else(|| "nessun valore".into())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archivio::ArchivioMemoria;
    use crate::ws::credenziali::prova;
    use crate::ws::sicurezza::{AlgoritmoFirma, IdentitaWs};
    use serde_json::json;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fermo;
    impl Orologio for Fermo {
        fn adesso_ms(&self) -> i64 {
            1_750_000_000_000
        }
    }

    fn config(concurrency: usize) -> WsConfig {
        WsConfig {
            endpoint: "http://127.0.0.1:9".into(),
            tipo_invio: "TEST".into(),
            identita: IdentitaWs {
                comune: prova::co(),
                postazione: prova::pc(),
                operatore_cf: "RSSMRA80A01H501U".into(),
                id_sede: "058091".into(),
                id_postazione: "058091-PC-0001".into(),
                id_applicazione: "12345".into(),
                algoritmo: AlgoritmoFirma::RsaSha256,
            },
            ca_file: None,
            ca_pem: None,
            concurrency,
            id_prefix: "9".into(),
            id_length: 20,
            use_for: vec![TipoIdentificativo::Ci],
            timeout: Duration::from_secs(5),
            nome_applicativo: "Rivesto".into(),
            versione_applicativo: "1.0".into(),
            fornitore_applicativo: "Rivesto".into(),
        }
    }

    use domain::tipo::TipoIdentificativo;

    fn client(concurrency: usize, opzioni: OpzioniWs) -> (WsClient, Arc<ArchivioMemoria>) {
        let archivio = Arc::new(ArchivioMemoria::new(Arc::new(Fermo)));
        let c = WsClient::new(config(concurrency), archivio.clone(), Arc::new(Fermo))
            .unwrap()
            .con_opzioni(opzioni);
        (c, archivio)
    }

    fn rapida() -> OpzioniWs {
        OpzioniWs {
            politica: PoliticaRitentativi {
                tentativi_max: 3,
                attesa_iniziale: Duration::from_millis(1),
                attesa_max: Duration::from_millis(2),
                retry_after_max: Duration::from_millis(2),
            },
            completa_dopo_registrazione: false,
        }
    }

    fn dati() -> DatiWs {
        DatiWs {
            data_riferimento: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            dati_richiesti: vec![2, 10],
            ricerca_nazionale: false,
            protocollo: Some("RIGA-7".into()),
        }
    }

    fn cf() -> CriterioWs {
        CriterioWs::CodiceFiscale("RSSMRA80A01H501U".into())
    }

    fn soggetto(id: &str, cf: &str) -> String {
        format!(
            "<datiSoggetto><identificativi><idANPR>{id}</idANPR></identificativi><generalita>\
             <codiceFiscale><codFiscale>{cf}</codFiscale></codiceFiscale><cognome>ROSSI</cognome>\
             <nome>MARIO</nome></generalita></datiSoggetto>"
        )
    }

    fn busta(interno: &str) -> String {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soapenv:Body><ns2:Risposta3002 xmlns:ns2=\"http://sogei.it/ANPR/3000consultazione\">\
             {interno}</ns2:Risposta3002></soapenv:Body></soapenv:Envelope>"
        )
    }

    fn ok(soggetti: &str) -> String {
        busta(&format!(
            "<ns2:Risposta3002_OK><testataRisposta><idOperazioneComune>1</idOperazioneComune>\
             <idOperazioneANPR>555</idOperazioneANPR><esitoOperazione>0000</esitoOperazione>\
             </testataRisposta><listaSoggetti>{soggetti}</listaSoggetti></ns2:Risposta3002_OK>"
        ))
    }

    fn ok_vuota() -> String {
        busta(
            "<ns2:Risposta3002_OK><testataRisposta><idOperazioneComune>1</idOperazioneComune>\
             </testataRisposta></ns2:Risposta3002_OK>",
        )
    }

    fn errore_xml(codice: &str, testo: &str) -> String {
        format!(
            "<errore><codiceErroreAnomalia>{codice}</codiceErroreAnomalia><tipoErroreAnomalia>E\
             </tipoErroreAnomalia><testoErroreAnomalia>{testo}</testoErroreAnomalia></errore>"
        )
    }

    /// A KO with ANPR's EN527 after the real error.
    fn ko(codice: &str, testo: &str) -> String {
        busta(&format!(
            "<ns2:rispostaKO><testataRisposta><idOperazioneComune>1</idOperazioneComune>\
             <esitoOperazione>XXXX</esitoOperazione></testataRisposta><listaErrori>{}{}\
             </listaErrori></ns2:rispostaKO>",
            errore_xml(codice, testo),
            errore_xml(
                "EN527",
                "Informazioni sull'operazione da fornire in caso di assistenza : data \
                 01/03/2025 10:00:01, idOperazioneANPR 987654321"
            )
        ))
    }

    fn fault(testo: &str) -> String {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode>\
             <faultstring>{testo}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        )
    }

    fn http(status: u16, corpo: &str) -> EsitoHttp {
        EsitoHttp::Risposta {
            status,
            corpo: corpo.as_bytes().to_vec(),
            retry_after: None,
        }
    }

    fn esito(c: Classe) -> (Esito3002, Option<String>, Vec<ErroreWs>) {
        match c {
            Classe::Esito {
                esito,
                id_operazione_anpr,
                anomalie,
            } => (esito, id_operazione_anpr, anomalie),
            altro => panic!("atteso un esito, trovato {altro:?}"),
        }
    }

    fn classe(status: u16, corpo: &str, criterio: &CriterioWs) -> Classe {
        classifica_http(&http(status, corpo), criterio)
    }

    #[test]
    fn table_ok_answers() {
        let uno = soggetto("AB12345CD", "RSSMRA80A01H501U");
        let (e, id, _) = esito(classe(200, &ok(&uno), &cf()));
        let Esito3002::Trovato(s) = e else {
            panic!("{e:?}")
        };
        assert_eq!(s["identificativi"]["idANPR"], "AB12345CD");
        assert_eq!(id.as_deref(), Some("555"));
        // By ID ANPR too.
        let (e, _, _) = esito(classe(
            200,
            &ok(&uno),
            &CriterioWs::IdAnpr("ab12345cd".into()),
        ));
        assert!(matches!(e, Esito3002::Trovato(_)), "{e:?}");
        // No subject.
        let (e, id, _) = esito(classe(200, &ok_vuota(), &cf()));
        assert_eq!(
            e,
            Esito3002::NonTrovato {
                codice: None,
                testo: None
            }
        );
        assert_eq!(id, None);
        // Two people (a shared document).
        let due = format!("{uno}{}", soggetto("ZZ99999ZZ", "RSSMRA81A01H501Y"));
        let ci = CriterioWs::CartaIdentita {
            numero: "CA00000AA".into(),
            rilascio: None,
        };
        assert_eq!(esito(classe(200, &ok(&due), &ci)).0, Esito3002::Ambiguo(2));
        // Two blocks of one person are one person.
        let stesso = format!(
            "{uno}<datiSoggetto><identificativi><idANPR>AB12345CD</idANPR></identificativi>\
             <generalita><cognome>ROSSI</cognome></generalita><statoCivile><statoCivile>1\
             </statoCivile></statoCivile></datiSoggetto>"
        );
        let (e, _, _) = esito(classe(200, &ok(&stesso), &cf()));
        let Esito3002::Trovato(s) = e else {
            panic!("{e:?}")
        };
        assert_eq!(s["statoCivile"]["statoCivile"], "1");
        assert_eq!(s["generalita"]["nome"], "MARIO");
        // Another person than the one asked for.
        let (e, _, _) = esito(classe(
            200,
            &ok(&uno),
            &CriterioWs::CodiceFiscale("BNCLRA82B41H501X".into()),
        ));
        assert_eq!(
            e,
            Esito3002::Errore {
                codice: String::new(),
                testo: "risposta relativa a un soggetto diverso: chiesto codice fiscale \
                        BNCLRA82B41H501X, ricevuto RSSMRA80A01H501U"
                    .into()
            }
        );
    }

    #[test]
    fn identity_check_by_document() {
        let con = |blocco: &str| {
            json!({"generalita": {"cognome": "ROSSI"}, "cartaIdentita": {"numero": "CA 00000AA"},
                   "permessoSoggiorno": {"numeroSoggiorno": "I00000001", "numeroPassaporto": "YA0000000"},
                   "altro": blocco})
        };
        let s = con("");
        let ci = |n: &str| CriterioWs::CartaIdentita {
            numero: n.into(),
            rilascio: None,
        };
        let pds = |n: &str| CriterioWs::Permesso {
            questura: "ROMA".into(),
            numero: n.into(),
        };
        assert!(verifica_identita(&ci("ca00000aa"), &s).is_ok());
        assert!(verifica_identita(&pds("I00000001"), &s).is_ok());
        assert!(verifica_identita(&CriterioWs::Passaporto("YA0000000".into()), &s).is_ok());
        let e = verifica_identita(&ci("CA11111BB"), &s).unwrap_err();
        assert_eq!(
            e,
            "risposta relativa a un soggetto diverso: chiesto carta d'identità CA11111BB, \
             ricevuto CA 00000AA"
        );
        assert!(verifica_identita(&pds("I00000002"), &s).is_err());
        let senza = json!({"generalita": {"cognome": "ROSSI"}});
        let e = verifica_identita(&CriterioWs::Passaporto("YA0000000".into()), &senza).unwrap_err();
        assert!(e.ends_with("ricevuto nessun valore"), "{e}");
        assert!(verifica_identita(&CriterioWs::IdAnpr("AB12345CD".into()), &senza).is_err());
    }

    #[test]
    fn table_ko_answers() {
        for codice in ["EN122", "EN130", "EN133"] {
            let (e, id, anomalie) = esito(classe(500, &ko(codice, "Nessun soggetto"), &cf()));
            assert_eq!(
                e,
                Esito3002::NonTrovato {
                    codice: Some(codice.into()),
                    testo: Some("Nessun soggetto".into())
                }
            );
            // EN527's idOperazioneANPR is kept, and EN527 itself stays among the anomalies.
            assert_eq!(id.as_deref(), Some("987654321"));
            assert_eq!(anomalie.len(), 1);
            assert_eq!(anomalie[0].codice, "EN527");
        }
        for codice in ["EN204", "EN210"] {
            let (e, _, _) = esito(classe(200, &ko(codice, "Comune non competente"), &cf()));
            assert_eq!(
                e,
                Esito3002::FuoriAmbito {
                    codice: codice.into()
                }
            );
        }
        for codice in ["EN095", "EN115"] {
            let (e, _, _) = esito(classe(200, &ko(codice, "piu' cittadini"), &cf()));
            assert_eq!(e, Esito3002::Ambiguo(0));
        }
        // Any other code: ERRORE with its code and text.
        let (e, _, _) = esito(classe(200, &ko("EN050", "dati non ammessi"), &cf()));
        assert_eq!(
            e,
            Esito3002::Errore {
                codice: "EN050".into(),
                testo: "dati non ammessi".into()
            }
        );
        // The document criteria's errors get an Italian explanation.
        for (codice, parola) in [
            (
                "EHR41",
                "indicare il comune o il consolato di rilascio della carta d'identità",
            ),
            ("EHR67", "o il numero del passaporto o i dati del permesso"),
            (
                "EHR68",
                "sia la questura di rilascio sia il numero del permesso",
            ),
        ] {
            let (e, _, _) = esito(classe(200, &ko(codice, "testo ANPR"), &cf()));
            let Esito3002::Errore { codice: c, testo } = e else {
                panic!("{e:?}")
            };
            assert_eq!(c, codice);
            assert!(
                testo.contains(parola) && testo.ends_with("(ANPR: testo ANPR)"),
                "{testo}"
            );
        }
        // EN527 first: the deciding error is the first other one; the testata's id wins.
        let xml = busta(&format!(
            "<ns2:rispostaKO><testataRisposta><idOperazioneComune>1</idOperazioneComune>\
             <idOperazioneANPR>111</idOperazioneANPR></testataRisposta><listaErrori>{}{}\
             </listaErrori></ns2:rispostaKO>",
            errore_xml("EN527", "idOperazioneANPR 222"),
            errore_xml("EN122", "nessuno")
        ));
        let (e, id, _) = esito(classe(200, &xml, &cf()));
        assert!(matches!(e, Esito3002::NonTrovato { .. }), "{e:?}");
        assert_eq!(id.as_deref(), Some("111"));
    }

    #[test]
    fn low_ids_are_recognised() {
        assert!(matches!(
            classe(200, &ko(CODICE_ID_INFERIORE_3002, "id basso"), &cf()),
            Classe::IdBasso { .. }
        ));
        let e = |codice: &str, testo: &str, campo: Option<&str>| ErroreWs {
            codice: codice.into(),
            testo: testo.into(),
            campo: campo.map(str::to_string),
            ..ErroreWs::default()
        };
        assert!(id_basso(&e(
            "EN999",
            "idOperazioneComune inferiore all'ultimo inviato",
            None
        )));
        assert!(id_basso(&e(
            "EN999",
            "valore non crescente",
            Some("idOperazioneComune")
        )));
        assert!(!id_basso(&e(
            "EN999",
            "valore inferiore",
            Some("dataRiferimento")
        )));
    }

    #[test]
    fn table_faults_and_transport() {
        let c = classe(500, &fault("Rejected by policy. (from client)"), &cf());
        let Classe::Fallita {
            spiegazione,
            risposta,
        } = c
        else {
            panic!("{c:?}")
        };
        for parola in ["certificato", "operator_cf", "indirizzo IP"] {
            assert!(spiegazione.contains(parola), "{spiegazione}");
        }
        assert!(risposta.contains("Rejected by policy"), "{risposta}");
        let c = classe(500, &fault("Internal Error"), &cf());
        let Classe::Fallita { spiegazione, .. } = c else {
            panic!("{c:?}")
        };
        assert!(
            spiegazione.contains("manca la firma del Timestamp e del Body"),
            "{spiegazione}"
        );
        assert!(matches!(
            classifica_http(&EsitoHttp::Timeout, &cf()),
            Classe::Transitorio(_)
        ));
        assert!(matches!(
            classifica_http(&EsitoHttp::Connessione("rifiutata".into()), &cf()),
            Classe::Transitorio(_)
        ));
        assert!(matches!(
            classe(503, "Service Unavailable", &cf()),
            Classe::Transitorio(_)
        ));
        assert!(matches!(classe(429, "", &cf()), Classe::Transitorio(_)));
        assert!(matches!(
            classe(200, "<non chiuso", &cf()),
            Classe::Transitorio(_)
        ));
        let c = classe(404, "<html><body>Not Found</body></html>", &cf());
        let Classe::Fallita {
            spiegazione,
            risposta,
        } = c
        else {
            panic!("{c:?}")
        };
        assert!(spiegazione.contains("[anpr_ws].endpoint"), "{spiegazione}");
        assert!(risposta.contains("Not Found"));
        let tc = "<ns2:RispostaConnessione xmlns:ns2=\"http://sogei.it/ANPR/connessione\">\
                  <testataRisposta><idOperazioneComune>1</idOperazioneComune></testataRisposta>\
                  </ns2:RispostaConnessione>";
        assert!(matches!(classe(200, tc, &cf()), Classe::Fallita { .. }));
        assert_eq!(
            esito_test_conn(&http(200, tc))
                .unwrap()
                .id_operazione_comune,
            "1"
        );
        assert!(matches!(
            esito_test_conn(&http(200, &ok_vuota())),
            Err(Classe::Fallita { .. })
        ));
        assert!(matches!(
            esito_test_conn(&http(500, &fault("Rejected by policy. (from client)"))),
            Err(Classe::Fallita { .. })
        ));
    }

    #[test]
    fn errors_that_stop_the_request() {
        let fallita = ErroreCanaleWs::Fallita {
            spiegazione: "x".into(),
            risposta: "y".into(),
        };
        assert!(fallita.ferma_richiesta());
        assert_eq!(
            fallita.to_string(),
            "canale del Comune (3002): x — risposta: y"
        );
        assert!(ErroreCanaleWs::Http("x".into()).ferma_richiesta());
        assert!(
            !ErroreCanaleWs::Transitorio {
                motivo: "x".into(),
                tentativi: 3
            }
            .ferma_richiesta()
        );
        assert!(!ErroreCanaleWs::CriterioNonAmmesso("x".into()).ferma_richiesta());
    }

    #[test]
    fn requested_codes_serve_the_identity_check() {
        let ci = CriterioWs::CartaIdentita {
            numero: "CA00000AA".into(),
            rilascio: None,
        };
        assert_eq!(dati_per(&ci, &[10]), vec![2, 10, 16]);
        assert_eq!(
            dati_per(&CriterioWs::Passaporto("X1".into()), &[]),
            vec![2, 17]
        );
        assert_eq!(
            dati_per(
                &CriterioWs::Permesso {
                    questura: "ROMA".into(),
                    numero: "1".into()
                },
                &[2, 17]
            ),
            vec![2, 17]
        );
        assert_eq!(dati_per(&cf(), &[28, 3]), vec![2, 3, 28]);
        assert_eq!(dati_per(&ci, &[1]), vec![1]);
    }

    /// The id of `<idOperazioneComune>` in a signed envelope.
    fn id_inviato(busta: &str) -> String {
        let (_, dopo) = busta.split_once("<idOperazioneComune>").unwrap();
        dopo.split_once('<').unwrap().0.to_string()
    }

    /// Scripted answers, in order, and the envelopes sent.
    struct Copione {
        risposte: Mutex<Vec<EsitoHttp>>,
        inviate: Mutex<Vec<(String, String)>>,
    }

    impl Copione {
        fn new(risposte: Vec<EsitoHttp>) -> Arc<Self> {
            Arc::new(Copione {
                risposte: Mutex::new(risposte.into_iter().rev().collect()),
                inviate: Mutex::new(Vec::new()),
            })
        }

        fn invia(self: &Arc<Self>) -> impl FnMut(String, String) -> std::future::Ready<EsitoHttp> {
            let c = self.clone();
            move |url, busta| {
                c.inviate.lock().unwrap().push((url, busta));
                std::future::ready(c.risposte.lock().unwrap().pop().expect("risposta in più"))
            }
        }

        fn ids(&self) -> Vec<String> {
            self.inviate
                .lock()
                .unwrap()
                .iter()
                .map(|(_, b)| id_inviato(b))
                .collect()
        }
    }

    #[tokio::test]
    async fn a_low_id_is_retried_once_with_a_fresh_id() {
        let (c, archivio) = client(1, rapida());
        let copione = Copione::new(vec![
            http(
                200,
                &ko(CODICE_ID_INFERIORE_3002, "id inferiore all'ultimo"),
            ),
            http(200, &ok(&soggetto("AB12345CD", "RSSMRA80A01H501U"))),
        ]);
        let r = c
            .consulta_con(cf(), &dati(), "riga-1", copione.invia())
            .await
            .unwrap();
        assert!(matches!(r.esito, Esito3002::Trovato(_)), "{:?}", r.esito);
        assert_eq!(r.tentativi, 2);
        assert_eq!(r.id_operazione_anpr.as_deref(), Some("555"));
        let ids = copione.ids();
        assert_eq!(ids, vec!["90001750000000000000", "90001750000000000001"]);
        assert_eq!(r.id_operazione_comune, ids[1]);
        let (url, busta) = copione.inviate.lock().unwrap()[0].clone();
        assert_eq!(
            url,
            "http://127.0.0.1:9/ANPR3000ServiziConsultazione/AnprService3000"
        );
        assert!(busta.contains("<codiceFiscale>RSSMRA80A01H501U</codiceFiscale>"));
        assert!(busta.contains("<protocolloComune>RIGA-7</protocolloComune>"));
        assert!(busta.contains("<ricercaNazionale>0</ricercaNazionale>"));
        assert!(
            busta.contains("<dataOraRichiesta>2025-06-15T17:06:40.000+02:00</dataOraRichiesta>")
        );
        // The key was forgotten after the final answer: a new call gets a new id.
        assert_eq!(
            archivio.id_per("riga-1").unwrap(),
            IdOperazione(1_750_000_000_000_002)
        );

        // Refused again with the fresh id: no third attempt, ERRORE with the code.
        let copione = Copione::new(vec![
            http(
                200,
                &ko(CODICE_ID_INFERIORE_3002, "id inferiore all'ultimo"),
            ),
            http(
                200,
                &ko(CODICE_ID_INFERIORE_3002, "id inferiore all'ultimo"),
            ),
        ]);
        let r = c
            .consulta_con(cf(), &dati(), "riga-2", copione.invia())
            .await
            .unwrap();
        let Esito3002::Errore { codice, testo } = &r.esito else {
            panic!("{:?}", r.esito)
        };
        assert_eq!(codice, CODICE_ID_INFERIORE_3002);
        assert!(testo.contains("id_prefix"), "{testo}");
        assert_eq!(r.tentativi, 2);
        assert_eq!(r.id_operazione_anpr.as_deref(), Some("987654321"));
    }

    #[tokio::test]
    async fn transient_failures_are_retried_then_reported() {
        let (c, _) = client(1, rapida());
        let copione = Copione::new(vec![
            EsitoHttp::Timeout,
            http(503, "busy"),
            http(200, &ko("EN122", "nessuno")),
        ]);
        let r = c
            .consulta_con(cf(), &dati(), "riga-1", copione.invia())
            .await
            .unwrap();
        assert!(matches!(r.esito, Esito3002::NonTrovato { .. }));
        assert_eq!(r.tentativi, 3);
        // A redone call keeps its id: ANPR replays.
        let ids = copione.ids();
        assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");

        let copione = Copione::new(vec![
            EsitoHttp::Timeout,
            EsitoHttp::Timeout,
            EsitoHttp::Timeout,
        ]);
        let e = c
            .consulta_con(cf(), &dati(), "riga-2", copione.invia())
            .await
            .unwrap_err();
        assert!(
            matches!(e, ErroreCanaleWs::Transitorio { tentativi: 3, .. }),
            "{e:?}"
        );
        assert!(!e.ferma_richiesta());
    }

    #[tokio::test]
    async fn faults_stop_and_keep_the_id() {
        let (c, archivio) = client(1, rapida());
        let copione = Copione::new(vec![http(500, &fault("Rejected by policy. (from client)"))]);
        let e = c
            .consulta_con(cf(), &dati(), "riga-1", copione.invia())
            .await
            .unwrap_err();
        assert!(e.ferma_richiesta(), "{e:?}");
        assert!(e.to_string().contains("Rejected by policy"), "{e}");
        // Not completed: redoing the call would reuse the id.
        assert_eq!(
            archivio.id_per("riga-1").unwrap().to_string(),
            copione.ids()[0][1..].trim_start_matches('0')
        );
    }

    #[tokio::test]
    async fn the_engine_may_forget_keys_itself() {
        let mut o = rapida();
        o.completa_dopo_registrazione = true;
        let (c, archivio) = client(1, o);
        let copione = Copione::new(vec![http(200, &ko("EN122", "nessuno"))]);
        c.consulta_con(cf(), &dati(), "riga-1", copione.invia())
            .await
            .unwrap();
        assert_eq!(
            archivio.id_per("riga-1").unwrap(),
            IdOperazione(1_750_000_000_000_000)
        );
    }

    #[tokio::test]
    async fn death_asked_marks_the_living_and_bad_criteria_never_leave() {
        let (c, _) = client(1, rapida());
        let copione = Copione::new(vec![http(
            200,
            &ok(&soggetto("AB12345CD", "RSSMRA80A01H501U")),
        )]);
        let mut d = dati();
        d.dati_richiesti = vec![2, 28];
        let r = c
            .consulta_con(cf(), &d, "riga-1", copione.invia())
            .await
            .unwrap();
        let Esito3002::Trovato(s) = r.esito else {
            panic!()
        };
        assert_eq!(s["infoSoggettoEnte"][0]["valore"], "S");
        let copione = Copione::new(vec![]);
        let e = c
            .consulta_con(
                CriterioWs::Passaporto("YA/1".into()),
                &dati(),
                "riga-2",
                copione.invia(),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ErroreCanaleWs::CriterioNonAmmesso(_)), "{e:?}");
        assert!(copione.ids().is_empty());
    }

    /// With `concurrency` permits, at most that many calls are in flight, and with one permit
    /// the ids leave in increasing order.
    async fn in_volo(concurrency: usize) -> (usize, Vec<String>) {
        let (c, _) = client(concurrency, rapida());
        let attivi = Arc::new(AtomicUsize::new(0));
        let massimo = Arc::new(AtomicUsize::new(0));
        let inviati = Arc::new(Mutex::new(Vec::new()));
        let chiamata = |n: usize| {
            let (attivi, massimo, inviati) = (attivi.clone(), massimo.clone(), inviati.clone());
            let c = &c;
            async move {
                c.consulta_con(cf(), &dati(), &format!("riga-{n}"), move |_, busta| {
                    let (attivi, massimo, inviati) =
                        (attivi.clone(), massimo.clone(), inviati.clone());
                    async move {
                        inviati.lock().unwrap().push(id_inviato(&busta));
                        let ora = attivi.fetch_add(1, Ordering::SeqCst) + 1;
                        massimo.fetch_max(ora, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        attivi.fetch_sub(1, Ordering::SeqCst);
                        http(200, &ko("EN122", "nessuno"))
                    }
                })
                .await
                .unwrap()
            }
        };
        tokio::join!(chiamata(1), chiamata(2), chiamata(3), chiamata(4));
        let ids = inviati.lock().unwrap().clone();
        (massimo.load(Ordering::SeqCst), ids)
    }

    #[tokio::test]
    async fn calls_go_out_one_at_a_time_in_id_order() {
        let (massimo, ids) = in_volo(1).await;
        assert_eq!(massimo, 1);
        let mut ordinati = ids.clone();
        ordinati.sort();
        ordinati.dedup();
        assert_eq!(ids, ordinati);
        assert_eq!(ids.len(), 4);
        let (massimo, _) = in_volo(2).await;
        assert_eq!(massimo, 2);
    }

    #[tokio::test]
    async fn client_address_best_effort() {
        assert_eq!(indirizzo_verso("http://127.0.0.1:9").await, "127.0.0.1");
        assert_eq!(indirizzo_verso("http://[::1]:9").await, "::1");
        assert_eq!(indirizzo_verso("http://localhost:9").await, "127.0.0.1");
        // A routed address (TEST-NET-1: nothing is sent): some local address, or the fallback.
        let a = indirizzo_verso("https://192.0.2.1").await;
        assert!(a.parse::<std::net::IpAddr>().is_ok(), "{a}");
    }
}

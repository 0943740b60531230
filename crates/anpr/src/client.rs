//! The PDND client: one E002 call with ModI security, operation ids and replay, the answer
//! table, retries with backoff, quota share and a circuit breaker per service.

use crate::archivio::{ArchivioIdOperazione, ErroreArchivio, IdOperazione};
use crate::circuito::Circuito;
use crate::config::AnprConfig;
use crate::quota::{ContatoreQuota, QuotaMemoria};
use crate::risposta::{
    Classificazione, EsitoHttp, IdentitaAttesa, Origine, classifica, spiegazione_govway,
    verifica_identita,
};
use crate::security::{ContestoTracciamento, Firmatario, Orologio, OrologioSistema, digest_header};
use crate::servizi::Servizio;
use crate::types::{
    RichiestaE002, TipoCriteriRicercaE002, TipoDatiRichiestaE002, TipoDatiSoggettiEnte,
    TipoErroriAnomalia,
};
use crate::voucher::{CoppiaVoucher, EmettitoreVoucher, errore_trasporto, leggi};
use chrono::{DateTime, Utc};
use rand::Rng as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The step a failure happened at (`anpr check` names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passo {
    TrackingEvidence,
    Voucher,
    Chiamata,
}

impl std::fmt::Display for Passo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Passo::TrackingEvidence => "costruzione della tracking evidence",
            Passo::Voucher => "richiesta del voucher PDND",
            Passo::Chiamata => "chiamata al servizio ANPR",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreAnpr {
    #[error("servizio {0} non configurato: manca il purposeId in [anpr.purposes]")]
    ServizioNonConfigurato(Servizio),
    #[error("{servizio}: criteri di ricerca non ammessi: {motivo}")]
    CriteriNonAmmessi { servizio: Servizio, motivo: String },
    /// Our request or configuration is wrong: the whole request stops (FALLITA).
    #[error("{passo} ({servizio}) non riuscita: {spiegazione}{}", risposta_tra_parentesi(.risposta))]
    Fallita {
        servizio: Servizio,
        passo: Passo,
        status: Option<u16>,
        spiegazione: String,
        risposta: String,
    },
    /// The service pauses until midnight Europe/Rome (`sospesa`).
    #[error("{servizio}: quota giornaliera esaurita fino a {fino_a}{}", if *.da_anpr { " (segnalato dal gateway ANPR)" } else { "" })]
    QuotaEsaurita {
        servizio: Servizio,
        fino_a: DateTime<Utc>,
        da_anpr: bool,
    },
    #[error("{servizio}: errore temporaneo dopo {tentativi} tentativi: {motivo}")]
    Transitorio {
        servizio: Servizio,
        motivo: String,
        tentativi: u32,
    },
    #[error("{servizio}: troppi errori consecutivi, chiamate sospese fino a {fino_a}")]
    CircuitoAperto {
        servizio: Servizio,
        fino_a: DateTime<Utc>,
    },
    /// ANPR refused this row (ERRORE with its code and text).
    #[error("{servizio}: ANPR ha risposto {codice}: {testo} (HTTP {status})")]
    RifiutoAnpr {
        servizio: Servizio,
        status: u16,
        codice: String,
        testo: String,
    },
    /// The answer is about another person than the one asked (ERRORE).
    #[error("{servizio}: {motivo}")]
    PersonaDiversa { servizio: Servizio, motivo: String },
    #[error(transparent)]
    Archivio(#[from] ErroreArchivio),
    #[error("client HTTP non costruito: {0}")]
    Http(String),
    /// The Comune's own channel (3002).
    #[error(transparent)]
    CanaleWs(#[from] crate::ws::client::ErroreCanaleWs),
}

fn risposta_tra_parentesi(r: &str) -> String {
    if r.is_empty() {
        String::new()
    } else {
        format!(" — risposta: {r}")
    }
}

impl ErroreAnpr {
    /// The request must stop as FALLITA (configuration or request wrong).
    pub fn ferma_richiesta(&self) -> bool {
        matches!(
            self,
            ErroreAnpr::Fallita { .. }
                | ErroreAnpr::ServizioNonConfigurato(_)
                | ErroreAnpr::Http(_)
                | ErroreAnpr::Archivio(_)
        ) || matches!(self, ErroreAnpr::CanaleWs(e) if e.ferma_richiesta())
    }

    /// The service must pause until the given instant.
    pub fn sospende_fino_a(&self) -> Option<DateTime<Utc>> {
        match self {
            ErroreAnpr::QuotaEsaurita { fino_a, .. }
            | ErroreAnpr::CircuitoAperto { fino_a, .. } => Some(*fino_a),
            _ => None,
        }
    }
}

/// Who a call is for, taken at submission (DESIGN §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestoChiamata {
    pub user_id: String,
    pub user_location: String,
    pub loa: String,
    /// The convention's purposeId, when it differs from the onboarding file's.
    pub purpose_id: Option<String>,
    /// The CF the row asked for, to check the first answer that carries `generalita` when the
    /// call itself is by idANPR.
    pub cf_atteso: Option<String>,
}

impl ContestoChiamata {
    /// The onboarding file's own values (`anpr check`).
    pub fn da_config(c: &AnprConfig) -> Self {
        ContestoChiamata {
            user_id: c.user_id.clone(),
            user_location: c.user_location.clone(),
            loa: c.loa.clone(),
            purpose_id: None,
            cf_atteso: None,
        }
    }

    fn tracciamento(&self) -> ContestoTracciamento {
        ContestoTracciamento {
            user_id: self.user_id.clone(),
            user_location: self.user_location.clone(),
            loa: self.loa.clone(),
        }
    }
}

/// `datiRichiesta` without `casoUso`, which the client sets from the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatiRichiesta {
    /// YYYY-MM-DD.
    pub data_riferimento_richiesta: String,
    pub motivo_richiesta: String,
}

/// What ANPR said about the person.
#[derive(Debug, Clone, PartialEq)]
pub enum EsitoAnpr {
    /// One person (C021: the family members), blocks merged by idANPR.
    Trovato(Vec<TipoDatiSoggettiEnte>),
    Ambiguo(Vec<String>),
    NonTrovato {
        codice: Option<String>,
        testo: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RispostaClassificata {
    pub esito: EsitoAnpr,
    pub id_operazione_client: IdOperazione,
    pub id_operazione_anpr: Option<String>,
    /// Warnings such as EN148.
    pub anomalie: Vec<TipoErroriAnomalia>,
    /// HTTP attempts made (each one counted against the quota).
    pub tentativi: u32,
}

/// Bounded retries with exponential backoff and full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoliticaRitentativi {
    pub tentativi_max: u32,
    pub attesa_iniziale: Duration,
    pub attesa_max: Duration,
    /// Retry-After beyond this is capped (a batch must not hang on one header).
    pub retry_after_max: Duration,
}

impl Default for PoliticaRitentativi {
    fn default() -> Self {
        PoliticaRitentativi {
            tentativi_max: 4,
            attesa_iniziale: Duration::from_millis(250),
            attesa_max: Duration::from_secs(8),
            retry_after_max: Duration::from_secs(60),
        }
    }
}

impl PoliticaRitentativi {
    fn attesa(&self, tentativo: u32, retry_after: Option<Duration>) -> Duration {
        let esp = self
            .attesa_iniziale
            .saturating_mul(1u32 << tentativo.min(16))
            .min(self.attesa_max);
        let jitter = rand::rng().random_range(0..=esp.as_millis() as u64);
        let base = Duration::from_millis(jitter.max(esp.as_millis() as u64 / 2));
        retry_after.map_or(base, |ra| ra.min(self.retry_after_max).max(base))
    }
}

/// Construction knobs; the defaults suit production except the archive, which is mandatory.
#[derive(Clone)]
pub struct OpzioniClient {
    /// The Comune the quota counters belong to.
    pub comune: String,
    pub orologio: Arc<dyn Orologio>,
    pub quota: Arc<dyn ContatoreQuota>,
    pub politica: PoliticaRitentativi,
    pub soglia_circuito: u32,
    pub pausa_circuito: Duration,
}

impl OpzioniClient {
    pub fn new(comune: impl Into<String>) -> Self {
        OpzioniClient {
            comune: comune.into(),
            orologio: Arc::new(OrologioSistema),
            quota: Arc::new(QuotaMemoria::new()),
            politica: PoliticaRitentativi::default(),
            soglia_circuito: 5,
            pausa_circuito: Duration::from_secs(30),
        }
    }
}

pub struct PdndClient {
    http: reqwest::Client,
    config: Arc<AnprConfig>,
    opzioni: OpzioniClient,
    archivio: Arc<dyn ArchivioIdOperazione>,
    voucher: EmettitoreVoucher,
    circuiti: HashMap<Servizio, Circuito>,
    // C001/C004: one call at a time per service, in id order.
    in_ordine: HashMap<Servizio, tokio::sync::Mutex<()>>,
}

/// The answer to `GET …/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatoServizio {
    pub status: u16,
    pub corpo: String,
}

impl PdndClient {
    pub fn new(
        config: AnprConfig,
        archivio: Arc<dyn ArchivioIdOperazione>,
        opzioni: OpzioniClient,
    ) -> Result<Self, ErroreAnpr> {
        let http = client_http(&config)?;
        let voucher = EmettitoreVoucher::new(
            http.clone(),
            config.token_url.clone(),
            config.client_assertion_aud.clone(),
            Firmatario::da_config(&config),
            opzioni.orologio.clone(),
        );
        let circuiti = Servizio::ALL
            .into_iter()
            .map(|s| {
                (
                    s,
                    Circuito::new(opzioni.soglia_circuito, opzioni.pausa_circuito),
                )
            })
            .collect();
        let in_ordine = Servizio::ALL
            .into_iter()
            .filter(|s| s.ordina_id())
            .map(|s| (s, tokio::sync::Mutex::new(())))
            .collect();
        Ok(PdndClient {
            http,
            config: Arc::new(config),
            opzioni,
            archivio,
            voucher,
            circuiti,
            in_ordine,
        })
    }

    pub fn config(&self) -> &AnprConfig {
        &self.config
    }

    /// The first of `servizi` whose circuit breaker is open now, and when it may be tried again.
    /// A row whose plan needs it should wait instead of redoing its earlier calls.
    pub fn in_pausa(&self, servizi: &[Servizio]) -> Option<(Servizio, DateTime<Utc>)> {
        let ora = self.opzioni.orologio.adesso_ms();
        servizi.iter().find_map(|s| {
            let fino_a = self.circuiti[s].in_pausa_fino_a(ora)?;
            Some((*s, DateTime::from_timestamp_millis(fino_a)?))
        })
    }

    pub fn quota(&self) -> &Arc<dyn ContatoreQuota> {
        &self.opzioni.quota
    }

    /// The (voucher, tracking evidence) pair a call to `servizio` would use: `anpr check`
    /// shows its steps with it.
    pub async fn coppia_voucher(
        &self,
        servizio: Servizio,
        contesto: &ContestoChiamata,
    ) -> Result<Arc<CoppiaVoucher>, ErroreAnpr> {
        let purpose = self.purpose(servizio, contesto)?;
        let aud = self
            .config
            .endpoint(servizio)
            .audience(&self.config.audience_base);
        self.voucher
            .coppia(&purpose, &aud, &contesto.tracciamento())
            .await
            .map_err(|c| errore_voucher(servizio, c, 0))
    }

    fn purpose(&self, servizio: Servizio, c: &ContestoChiamata) -> Result<String, ErroreAnpr> {
        c.purpose_id
            .clone()
            .or_else(|| self.config.purpose(servizio).map(str::to_string))
            .ok_or(ErroreAnpr::ServizioNonConfigurato(servizio))
    }

    /// One E002 lookup. `chiave_chiamata` identifies the call across restarts (e.g. request,
    /// row and service): redoing it reuses its operation id, so ANPR replays its answer.
    pub async fn chiama(
        &self,
        servizio: Servizio,
        criteri: TipoCriteriRicercaE002,
        dati: DatiRichiesta,
        contesto: &ContestoChiamata,
        chiave_chiamata: &str,
    ) -> Result<RispostaClassificata, ErroreAnpr> {
        controlla_criteri(servizio, &criteri)?;
        let purpose = self.purpose(servizio, contesto)?;
        let _turno = match self.in_ordine.get(&servizio) {
            Some(m) => Some(m.lock().await),
            None => None,
        };
        let mut chiamata = Chiamata {
            client: self,
            servizio,
            purpose,
            contesto,
            chiave: chiave_chiamata,
            richiesta: RichiestaE002 {
                id_operazione_client: String::new(),
                criteri_ricerca: criteri,
                verifica: None,
                dati_richiesta: TipoDatiRichiestaE002 {
                    data_riferimento_richiesta: dati.data_riferimento_richiesta,
                    motivo_richiesta: dati.motivo_richiesta,
                    caso_uso: servizio.caso_uso().to_string(),
                },
            },
            id: self.archivio.id_per(chiave_chiamata)?,
            tentativi: 0,
        };
        chiamata.esegui().await
    }

    /// `GET …/status`: voucher and tracking evidence only (no Digest, no Agid-JWT-Signature:
    /// ANPR refuses a body signature on a GET without body, italia/anpr#5235).
    pub async fn status(
        &self,
        servizio: Servizio,
        contesto: &ContestoChiamata,
    ) -> Result<StatoServizio, ErroreAnpr> {
        let purpose = self.purpose(servizio, contesto)?;
        let endpoint = self.config.endpoint(servizio);
        let aud = endpoint.audience(&self.config.audience_base);
        let url = endpoint.status_url(&self.config.base_url);
        let tracc = contesto.tracciamento();
        for rinnovo in [false, true] {
            let coppia = self
                .voucher
                .coppia(&purpose, &aud, &tracc)
                .await
                .map_err(|c| errore_voucher(servizio, c, 1))?;
            self.prenota(servizio)?;
            let esito = match self
                .http
                .get(&url)
                .bearer_auth(coppia.voucher.segreto())
                .header("Agid-JWT-TrackingEvidence", &coppia.tracking_evidence)
                .send()
                .await
            {
                Ok(r) => leggi(r).await,
                Err(e) => errore_trasporto(&e),
            };
            match (&esito, classifica(servizio, Origine::Gateway, &esito)) {
                (
                    EsitoHttp::Risposta {
                        status: 200, corpo, ..
                    },
                    _,
                ) => {
                    return Ok(StatoServizio {
                        status: 200,
                        corpo: String::from_utf8_lossy(corpo).into_owned(),
                    });
                }
                (_, Classificazione::VoucherRifiutato { .. }) if !rinnovo => {
                    self.voucher
                        .scarta(&purpose, &aud, &tracc, &coppia.voucher)
                        .await;
                }
                (_, c) => return Err(errore_finale(servizio, c, 1, &self.opzioni)),
            }
        }
        unreachable!("il ciclo termina sempre con un return")
    }

    fn prenota(&self, servizio: Servizio) -> Result<(), ErroreAnpr> {
        // Without a configured share the counter still runs: it records the calls and holds
        // a pause set by ANPR's own LimitExceeded.
        let limite = self
            .config
            .quotas
            .get(&servizio)
            .copied()
            .unwrap_or(u64::MAX);
        let ora = self.opzioni.orologio.adesso_ms();
        self.opzioni
            .quota
            .prenota(&self.opzioni.comune, servizio, ora, limite)
            .map(|_| ())
            .map_err(|q| ErroreAnpr::QuotaEsaurita {
                servizio,
                fino_a: q.fino_a,
                da_anpr: false,
            })
    }
}

fn client_http(config: &AnprConfig) -> Result<reqwest::Client, ErroreAnpr> {
    let mut b = reqwest::Client::builder()
        .timeout(config.timeout)
        .pool_max_idle_per_host(256);
    if let Some(pem) = &config.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| ErroreAnpr::Http(format!("[anpr].ca_file non valido: {e}")))?;
        b = b.tls_certs_merge(certs);
    }
    if let Some(id) = &config.identita_tls {
        let identita = reqwest::Identity::from_pem(&id.0)
            .map_err(|e| ErroreAnpr::Http(format!("identità mTLS non valida: {e}")))?;
        b = b.identity(identita);
    }
    b.build().map_err(|e| ErroreAnpr::Http(e.to_string()))
}

/// Exactly one kind of search key; C030 takes no idANPR.
fn controlla_criteri(servizio: Servizio, c: &TipoCriteriRicercaE002) -> Result<(), ErroreAnpr> {
    let anagrafici = c.cognome.is_some() || c.nome.is_some() || c.dati_nascita.is_some();
    let tipi = [c.codice_fiscale.is_some(), c.id_anpr.is_some(), anagrafici]
        .iter()
        .filter(|x| **x)
        .count();
    let motivo = if tipi != 1 {
        "serve esattamente uno tra codice fiscale, ID ANPR e dati anagrafici"
    } else if c.id_anpr.is_some() && !servizio.accetta_id_anpr() {
        "C030 non accetta l'ID ANPR come criterio"
    } else {
        return Ok(());
    };
    Err(ErroreAnpr::CriteriNonAmmessi {
        servizio,
        motivo: motivo.into(),
    })
}

/// One E002 call in progress.
struct Chiamata<'a> {
    client: &'a PdndClient,
    servizio: Servizio,
    purpose: String,
    contesto: &'a ContestoChiamata,
    chiave: &'a str,
    richiesta: RichiestaE002,
    id: IdOperazione,
    tentativi: u32,
}

/// What to do after one attempt.
enum Seguito {
    Fine(Result<RispostaClassificata, ErroreAnpr>),
    Ritenta(Option<Duration>),
}

impl Chiamata<'_> {
    async fn esegui(&mut self) -> Result<RispostaClassificata, ErroreAnpr> {
        let mut voucher_rinnovato = false;
        let mut ritentato_500 = false;
        let mut id_rinnovato = false;
        let mut transitori = 0u32;
        loop {
            let (esito, coppia) = self.tentativo().await?;
            let classe = classifica(self.servizio, Origine::Gateway, &esito);
            let seguito = match classe {
                Classificazione::VoucherRifiutato { .. } if !voucher_rinnovato => {
                    voucher_rinnovato = true;
                    if let Some(c) = &coppia {
                        self.scarta_voucher(c).await;
                    }
                    Seguito::Ritenta(None)
                }
                Classificazione::ErroreAnpr {
                    ritenta_una_volta: true,
                    ..
                } if !ritentato_500 => {
                    ritentato_500 = true;
                    Seguito::Ritenta(None)
                }
                Classificazione::ErroreAnpr { id_basso: true, .. }
                    if self.servizio.ordina_id() && !id_rinnovato =>
                {
                    id_rinnovato = true;
                    self.id = self.client.archivio.nuovo_id(self.chiave)?;
                    Seguito::Ritenta(None)
                }
                Classificazione::Transitorio { retry_after, .. }
                    if transitori + 1 < self.client.opzioni.politica.tentativi_max =>
                {
                    transitori += 1;
                    self.circuito().fallimento(self.ora_ms());
                    Seguito::Ritenta(Some(
                        self.client
                            .opzioni
                            .politica
                            .attesa(transitori - 1, retry_after),
                    ))
                }
                altro => self.conclusione(altro),
            };
            match seguito {
                Seguito::Fine(r) => return r,
                Seguito::Ritenta(Some(attesa)) => tokio::time::sleep(attesa).await,
                Seguito::Ritenta(None) => {}
            }
        }
    }

    fn ora_ms(&self) -> i64 {
        self.client.opzioni.orologio.adesso_ms()
    }

    fn circuito(&self) -> &Circuito {
        &self.client.circuiti[&self.servizio]
    }

    async fn scarta_voucher(&self, coppia: &CoppiaVoucher) {
        let aud = self.aud();
        let tracc = self.contesto.tracciamento();
        self.client
            .voucher
            .scarta(&self.purpose, &aud, &tracc, &coppia.voucher)
            .await;
    }

    fn aud(&self) -> String {
        let c = &self.client.config;
        c.endpoint(self.servizio).audience(&c.audience_base)
    }

    /// One HTTP attempt: circuit, voucher, quota slot, signature, POST. A token endpoint that
    /// is temporarily down comes back as a transport failure, to be retried like one.
    async fn tentativo(&mut self) -> Result<(EsitoHttp, Option<Arc<CoppiaVoucher>>), ErroreAnpr> {
        let servizio = self.servizio;
        self.circuito()
            .permesso(self.ora_ms())
            .map_err(|fino| ErroreAnpr::CircuitoAperto {
                servizio,
                fino_a: DateTime::from_timestamp_millis(fino).unwrap_or_default(),
            })?;
        let aud = self.aud();
        let coppia = match self
            .client
            .voucher
            .coppia(&self.purpose, &aud, &self.contesto.tracciamento())
            .await
        {
            Ok(c) => c,
            Err(Classificazione::Transitorio { motivo, .. }) => {
                return Ok((
                    EsitoHttp::Connessione(format!("voucher PDND: {motivo}")),
                    None,
                ));
            }
            Err(c) => return Err(errore_voucher(servizio, c, self.tentativi)),
        };
        self.client.prenota(servizio)?;
        self.tentativi += 1;
        self.richiesta.id_operazione_client = self.id.to_string();
        // Serialised once: the Digest and the bytes sent must be the same.
        let corpo =
            serde_json::to_vec(&self.richiesta).expect("RichiestaE002 è sempre serializzabile");
        let digest = digest_header(&corpo);
        let firma = self
            .client
            .voucher
            .firmatario()
            .agid_signature(
                &aud,
                &digest,
                "application/json",
                self.client.opzioni.orologio.adesso_s(),
            )
            .map_err(|e| ErroreAnpr::Fallita {
                servizio,
                passo: Passo::Chiamata,
                status: None,
                spiegazione: e.to_string(),
                risposta: String::new(),
            })?;
        let c = &self.client.config;
        let url = c.endpoint(servizio).endpoint_url(&c.base_url);
        let esito = match self
            .client
            .http
            .post(url)
            .bearer_auth(coppia.voucher.segreto())
            .header("Content-Type", "application/json")
            .header("Digest", &digest)
            .header("Agid-JWT-Signature", firma)
            .header("Agid-JWT-TrackingEvidence", &coppia.tracking_evidence)
            .body(corpo)
            .send()
            .await
        {
            Ok(r) => leggi(r).await,
            Err(e) => errore_trasporto(&e),
        };
        Ok((esito, Some(coppia)))
    }

    fn conclusione(&self, classe: Classificazione) -> Seguito {
        let risposta =
            |esito: EsitoAnpr, r: Option<&crate::types::RispostaE002OK>| RispostaClassificata {
                esito,
                id_operazione_client: self.id,
                id_operazione_anpr: r.and_then(|r| r.id_operazione_anpr.clone()),
                anomalie: r.and_then(|r| r.lista_anomalie.clone()).unwrap_or_default(),
                tentativi: self.tentativi,
            };
        let finale = match classe {
            Classificazione::Trovato {
                soggetti,
                risposta: r,
            } => match verifica_identita(&self.attesa(), &soggetti) {
                Ok(()) => Ok(risposta(EsitoAnpr::Trovato(soggetti), Some(&r))),
                Err(motivo) => Err(ErroreAnpr::PersonaDiversa {
                    servizio: self.servizio,
                    motivo,
                }),
            },
            Classificazione::Ambiguo {
                id_anpr,
                risposta: r,
            } => Ok(risposta(EsitoAnpr::Ambiguo(id_anpr), Some(&r))),
            Classificazione::NessunSoggetto { codice, testo } => {
                Ok(risposta(EsitoAnpr::NonTrovato { codice, testo }, None))
            }
            altro => Err(errore_finale(
                self.servizio,
                altro,
                self.tentativi,
                &self.client.opzioni,
            )),
        };
        self.registra(&finale);
        Seguito::Fine(finale)
    }

    fn attesa(&self) -> IdentitaAttesa {
        let c = &self.richiesta.criteri_ricerca;
        IdentitaAttesa {
            id_anpr: c.id_anpr.clone(),
            codice_fiscale: c
                .codice_fiscale
                .clone()
                .or_else(|| self.contesto.cf_atteso.clone()),
        }
    }

    /// Updates the circuit and forgets the call key once ANPR gave a final answer.
    fn registra(&self, finale: &Result<RispostaClassificata, ErroreAnpr>) {
        match finale {
            Err(ErroreAnpr::Transitorio { .. }) => self.circuito().fallimento(self.ora_ms()),
            Err(ErroreAnpr::Fallita { .. } | ErroreAnpr::QuotaEsaurita { .. }) => {}
            _ => {
                self.circuito().successo();
                // A failure to forget only leaves a file behind: the answer stands.
                let _ = self.client.archivio.completa(self.chiave);
            }
        }
    }
}

fn errore_voucher(servizio: Servizio, c: Classificazione, tentativi: u32) -> ErroreAnpr {
    match c {
        Classificazione::Fallita {
            status,
            spiegazione,
            risposta,
        } => ErroreAnpr::Fallita {
            servizio,
            passo: if status.is_none() && spiegazione.starts_with("tracking") {
                Passo::TrackingEvidence
            } else {
                Passo::Voucher
            },
            status,
            spiegazione,
            risposta,
        },
        Classificazione::Transitorio { motivo, .. } => ErroreAnpr::Transitorio {
            servizio,
            motivo,
            tentativi,
        },
        altro => ErroreAnpr::Transitorio {
            servizio,
            motivo: format!("{altro:?}"),
            tentativi,
        },
    }
}

/// The error for a classification that ends the call without data.
fn errore_finale(
    servizio: Servizio,
    c: Classificazione,
    tentativi: u32,
    o: &OpzioniClient,
) -> ErroreAnpr {
    match c {
        Classificazione::ErroreAnpr { status, errore, .. } => ErroreAnpr::RifiutoAnpr {
            servizio,
            status,
            codice: errore.codice_errore_anomalia.unwrap_or_else(|| "?".into()),
            testo: errore.testo_errore_anomalia.unwrap_or_default(),
        },
        Classificazione::Fallita {
            status,
            spiegazione,
            risposta,
        } => ErroreAnpr::Fallita {
            servizio,
            passo: Passo::Chiamata,
            status,
            spiegazione,
            risposta,
        },
        Classificazione::VoucherRifiutato { risposta } => ErroreAnpr::Fallita {
            servizio,
            passo: Passo::Chiamata,
            status: Some(401),
            spiegazione: spiegazione_govway("AuthenticationRequired", None),
            risposta,
        },
        Classificazione::QuotaEsaurita { .. } => {
            let ora = o.orologio.adesso_ms();
            o.quota.esaurisci(&o.comune, servizio, ora);
            ErroreAnpr::QuotaEsaurita {
                servizio,
                fino_a: crate::quota::mezzanotte_roma(ora),
                da_anpr: true,
            }
        }
        Classificazione::Transitorio { motivo, .. } => ErroreAnpr::Transitorio {
            servizio,
            motivo,
            tentativi,
        },
        altro => ErroreAnpr::Transitorio {
            servizio,
            motivo: format!("{altro:?}"),
            tentativi,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_checks() {
        let cf = TipoCriteriRicercaE002::per_codice_fiscale("STTSGT90A01H501J");
        assert!(controlla_criteri(Servizio::C030, &cf).is_ok());
        let id = TipoCriteriRicercaE002::per_id_anpr("AF41450AS");
        assert!(controlla_criteri(Servizio::C015, &id).is_ok());
        let e = controlla_criteri(Servizio::C030, &id)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "C030: criteri di ricerca non ammessi: C030 non accetta l'ID ANPR come criterio"
        );
        let due = TipoCriteriRicercaE002 {
            id_anpr: Some("AF41450AS".into()),
            ..cf
        };
        assert!(controlla_criteri(Servizio::C015, &due).is_err());
        assert!(controlla_criteri(Servizio::C015, &TipoCriteriRicercaE002::default()).is_err());
    }

    #[test]
    fn backoff_grows_is_bounded_and_honours_retry_after() {
        let p = PoliticaRitentativi {
            tentativi_max: 5,
            attesa_iniziale: Duration::from_millis(100),
            attesa_max: Duration::from_millis(1000),
            retry_after_max: Duration::from_secs(5),
        };
        for t in 0..10 {
            let a = p.attesa(t, None);
            let tetto = Duration::from_millis(100 * (1u64 << t.min(16))).min(p.attesa_max);
            assert!(a <= tetto && a >= tetto / 2, "tentativo {t}: {a:?}");
        }
        assert_eq!(
            p.attesa(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.attesa(0, Some(Duration::from_secs(300))),
            Duration::from_secs(5)
        );
    }
}

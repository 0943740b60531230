//! Runs one row's call plan through the PDND client and turns the answers into an outcome
//! (DESIGN §3 and §4): C030 first for CF input, the residence check for a restricted scope, then
//! the data services, merging the blocks that share an idANPR.

use anpr::client::{ContestoChiamata, DatiRichiesta, ErroreAnpr, EsitoAnpr, PdndClient};
use anpr::piano::{Criterio, PassoWs, Piano};
use anpr::servizi::Servizio;
use anpr::types::{TipoCriteriRicercaE002, TipoDatiSoggettiEnte};
use domain::esito::Esito;
use domain::richiesta::Sospensione;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One input row, valid and ready to be looked up.
pub struct Riga<'a> {
    /// The normalised identifier: a CF or an idANPR, as the plan's first step expects.
    pub identificativo: &'a str,
    pub piano: &'a Piano,
    pub dati: DatiRichiesta,
    pub contesto: ContestoChiamata,
    /// The convention's own purposeId per service; the others use `contesto.purpose_id` or
    /// the Comune's default.
    pub purpose_per_servizio: &'a BTreeMap<Servizio, String>,
    /// Identifies the row across restarts; each call's key is this plus the service code.
    pub chiave: String,
    /// ISTAT codes of the Comuni in scope; `None` for scope ITALIA.
    pub comuni_in_ambito: Option<&'a BTreeSet<String>>,
    /// The row's kind, and its `rilascio` (a CI's issuing Comune by ISTAT code, a permesso's
    /// questura): the Comune's channel searches documents with them.
    pub tipo: domain::tipo::TipoIdentificativo,
    pub rilascio: Option<&'a str>,
    /// The Comune's channel, when the plan has a 3002 step.
    pub ws: Option<&'a crate::canale_ws::CanaleWs>,
}

/// What the row's lookups produced.
#[derive(Debug, Default)]
pub struct EsitoRiga {
    pub esito: Option<Esito>,
    pub messaggio: String,
    pub id_operazione_anpr: Vec<String>,
    /// The person's merged `datiSoggetto`, when found and in scope.
    pub soggetto: Option<Value>,
    /// C021's members, intestatario first as ANPR sends them.
    pub famiglia: Vec<Value>,
    /// The person's CF and idANPR as ANPR returned them, when found: the archive keeps their
    /// keyed hashes so that "chi ha consultato" finds the person by either (issue 6).
    pub cf: Option<String>,
    pub id_anpr: Option<String>,
    /// Every call that got an answer, in call order: what the archive records.
    pub chiamate: Vec<ChiamataSvolta>,
}

/// One answered call: its service code (`C030`…, or `3002` for the Comune's channel) and both
/// operation ids (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChiamataSvolta {
    pub servizio: &'static str,
    pub id_operazione_client: String,
    pub id_operazione_anpr: Option<String>,
}

/// Stops the row. `Err` means the whole request must stop or pause (FALLITA, `sospesa`).
pub(crate) enum Arresto {
    Esito(Esito, String),
    Richiesta(ErroreAnpr),
}

pub async fn esegui(client: Option<&PdndClient>, riga: Riga<'_>) -> Result<EsitoRiga, ErroreAnpr> {
    // A row stopped at a paused service would be released and redone, repeating (and counting
    // against the quota) every call before it: while any service of the plan is paused, wait.
    if let Some((servizio, fino_a)) = client.and_then(|c| c.in_pausa(&riga.piano.servizi())) {
        return Err(ErroreAnpr::CircuitoAperto { servizio, fino_a });
    }
    let mut r = EsitoRiga::default();
    match passi(client, &riga, &mut r).await {
        Ok(()) => {
            r.esito = Some(Esito::Trovato);
        }
        Err(Arresto::Esito(e, m)) => {
            r.esito = Some(e);
            r.messaggio = m;
            r.soggetto = None;
            r.famiglia.clear();
            r.cf = None;
            r.id_anpr = None;
        }
        Err(Arresto::Richiesta(e)) => return Err(e),
    }
    for (_, m) in &riga.piano.celle_vuote {
        aggiungi_messaggio(&mut r.messaggio, m);
    }
    Ok(r)
}

async fn passi(
    client: Option<&PdndClient>,
    riga: &Riga<'_>,
    r: &mut EsitoRiga,
) -> Result<(), Arresto> {
    if riga.piano.ws == Some(PassoWs::Prima) {
        crate::canale_ws::passo(riga, r, PassoWs::Prima).await?;
        // The PDND steps that follow search by the idANPR 3002 returned, never by the row's
        // own identifier (a document number is no idANPR).
        if r.id_anpr.is_none() && !riga.piano.passi.is_empty() {
            return Err(Arresto::Esito(
                Esito::Errore,
                "il canale del Comune (3002) non ha restituito l'ID ANPR: i dati degli e-service PDND \
                 non si possono cercare"
                    .into(),
            ));
        }
    }
    let mut id_anpr = r.id_anpr.clone();
    let restretto = riga.comuni_in_ambito.is_some();
    for passo in &riga.piano.passi {
        let Some(client) = client else {
            return Err(Arresto::Esito(
                Esito::NonSupportato,
                format!(
                    "il servizio {} richiede l'accesso PDND ([anpr]), non configurato",
                    passo.servizio
                ),
            ));
        };
        let criteri = match passo.criterio {
            Criterio::CodiceFiscale => {
                TipoCriteriRicercaE002::per_codice_fiscale(riga.identificativo)
            }
            Criterio::IdAnpr => TipoCriteriRicercaE002::per_id_anpr(
                id_anpr
                    .clone()
                    .unwrap_or_else(|| riga.identificativo.to_string()),
            ),
        };
        let chiave = chiave_chiamata(&riga.chiave, passo.servizio);
        let contesto = contesto_per(riga, passo.servizio);
        let inizio = std::time::Instant::now();
        let risposta = client
            .chiama(
                passo.servizio,
                criteri,
                riga.dati.clone(),
                &contesto,
                &chiave,
            )
            .await;
        crate::metriche::chiamata(passo.servizio, &risposta, inizio.elapsed());
        let risposta = risposta.map_err(errore_riga)?;
        r.chiamate.push(ChiamataSvolta {
            servizio: passo.servizio.codice(),
            id_operazione_client: risposta.id_operazione_client.to_string(),
            id_operazione_anpr: risposta.id_operazione_anpr.clone(),
        });
        if let Some(id) = risposta.id_operazione_anpr {
            r.id_operazione_anpr.push(id);
        }
        let soggetti = match risposta.esito {
            EsitoAnpr::Trovato(s) => s,
            EsitoAnpr::NonTrovato { codice, testo } => {
                return Err(non_trovato(restretto, codice, testo));
            }
            EsitoAnpr::Ambiguo(ids) => return Err(ambiguo(restretto, &ids)),
        };
        let (persona, famiglia) = separa(passo.servizio, soggetti, id_anpr.as_deref());
        if let Some(p) = persona {
            id_anpr = id_anpr.or_else(|| p.id_anpr().map(str::to_string));
            r.id_anpr.clone_from(&id_anpr);
            if r.cf.is_none() {
                r.cf = p.codice_fiscale().map(str::to_string);
            }
            unisci(
                r.soggetto.get_or_insert(Value::Object(Default::default())),
                json(&p),
            );
        }
        if !famiglia.is_empty() {
            r.famiglia = famiglia.iter().map(json).collect();
        }
        if restretto && passo.servizio.porta(domain::gruppi::GruppoCampi::Residenza) {
            controlla_ambito(riga, r.soggetto.as_ref())?;
        }
    }
    if riga.piano.ws == Some(PassoWs::Dopo) {
        crate::canale_ws::passo(riga, r, PassoWs::Dopo).await?;
    }
    Ok(())
}

/// The key of a row's call to a service, under which its operation id is stored.
pub(crate) fn chiave_chiamata(chiave_riga: &str, servizio: Servizio) -> String {
    format!("{chiave_riga}:{servizio}")
}

/// The row's context with the convention's own purposeId for the service, if it has one.
fn contesto_per<'a>(
    riga: &'a Riga<'_>,
    servizio: Servizio,
) -> std::borrow::Cow<'a, ContestoChiamata> {
    match riga.purpose_per_servizio.get(&servizio) {
        Some(p) => std::borrow::Cow::Owned(ContestoChiamata {
            purpose_id: Some(p.clone()),
            ..riga.contesto.clone()
        }),
        None => std::borrow::Cow::Borrowed(&riga.contesto),
    }
}

/// C021 answers with every member: the person is the one with the idANPR asked for.
fn separa(
    servizio: Servizio,
    soggetti: Vec<TipoDatiSoggettiEnte>,
    id_anpr: Option<&str>,
) -> (Option<TipoDatiSoggettiEnte>, Vec<TipoDatiSoggettiEnte>) {
    if servizio != Servizio::C021 {
        return (soggetti.into_iter().next(), Vec::new());
    }
    let persona = soggetti
        .iter()
        .find(|s| id_anpr.is_some() && s.id_anpr() == id_anpr)
        .cloned();
    (persona, soggetti)
}

fn controlla_ambito(riga: &Riga<'_>, soggetto: Option<&Value>) -> Result<(), Arresto> {
    let Some(ammessi) = riga.comuni_in_ambito else {
        return Ok(());
    };
    let istat = soggetto
        .and_then(|s| s.pointer("/residenza/0/indirizzo/comune/codiceIstat"))
        .and_then(Value::as_str);
    match istat {
        Some(c) if ammessi.contains(c) => Ok(()),
        _ => Err(Arresto::Esito(
            Esito::FuoriAmbito,
            MESSAGGIO_FUORI_AMBITO.into(),
        )),
    }
}

pub(crate) const MESSAGGIO_FUORI_AMBITO: &str =
    "nessun residente con questo identificativo nell'ambito territoriale del profilo";

pub(crate) fn non_trovato(
    restretto: bool,
    codice: Option<String>,
    testo: Option<String>,
) -> Arresto {
    if restretto {
        return Arresto::Esito(Esito::FuoriAmbito, MESSAGGIO_FUORI_AMBITO.into());
    }
    let m = match (codice, testo) {
        (Some(c), Some(t)) => format!("{c}: {t}"),
        (Some(c), None) => c,
        _ => "ANPR non ha restituito alcun soggetto".into(),
    };
    Arresto::Esito(Esito::NonTrovato, m)
}

/// PDND cannot tell whether every match lives in scope, so a restricted scope says FUORI_AMBITO.
pub(crate) fn ambiguo(restretto: bool, ids: &[String]) -> Arresto {
    if restretto {
        return Arresto::Esito(Esito::FuoriAmbito, MESSAGGIO_FUORI_AMBITO.into());
    }
    Arresto::Esito(
        Esito::Ambiguo,
        format!(
            "{} soggetti distinti rispondono a questo identificativo",
            ids.len()
        ),
    )
}

pub(crate) fn errore_riga(e: ErroreAnpr) -> Arresto {
    if e.ferma_richiesta() || e.sospende_fino_a().is_some() {
        Arresto::Richiesta(e)
    } else {
        Arresto::Esito(Esito::Errore, e.to_string())
    }
}

pub(crate) fn json(s: &TipoDatiSoggettiEnte) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// Later blocks add to earlier ones; a field present in both keeps the later value, and lists
/// (`infoSoggettoEnte` from C015 and from C001, say) keep every distinct item.
pub(crate) fn unisci(base: &mut Value, altro: Value) {
    match (base, altro) {
        (Value::Array(b), Value::Array(a)) => {
            for v in a {
                if !b.contains(&v) {
                    b.push(v);
                }
            }
        }
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in a {
                match b.get_mut(&k) {
                    Some(esistente) => unisci(esistente, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, a) => *b = a,
    }
}

pub(crate) fn aggiungi_messaggio(m: &mut String, altro: &str) {
    if !m.is_empty() {
        m.push_str("; ");
    }
    m.push_str(altro);
}

/// What the worker does with the request when a row's lookup stops it (DESIGN §4's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interruzione {
    /// The ANPR access is misconfigured: FALLITA, with the client's Italian explanation.
    Fallita { motivo: String },
    /// A service's daily share is used up: the request is `sospesa` until midnight Europe/Rome.
    Sospesa(Sospensione),
    /// A circuit breaker opened: the row goes back to the queue until `fino_a_ms`. It is not
    /// `sospesa`, which is only for quotas.
    Pausa { servizio: Servizio, fino_a_ms: i64 },
}

/// Maps an `Err` of [`esegui`] to the request's fate.
pub fn interruzione(e: &ErroreAnpr) -> Interruzione {
    match e {
        ErroreAnpr::QuotaEsaurita {
            servizio, fino_a, ..
        } => Interruzione::Sospesa(Sospensione {
            servizio: servizio.codice().to_string(),
            fino_a_ms: fino_a.timestamp_millis(),
        }),
        ErroreAnpr::CircuitoAperto { servizio, fino_a } => Interruzione::Pausa {
            servizio: *servizio,
            fino_a_ms: fino_a.timestamp_millis(),
        },
        altro => Interruzione::Fallita {
            motivo: altro.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quota_sospende_circuito_mette_in_pausa_configurazione_fa_fallire() {
        // 2026-11-26 23:00 UTC: midnight of the 27th in Rome.
        let mezzanotte = chrono::DateTime::from_timestamp_millis(1_795_734_000_000).unwrap();
        let i = interruzione(&ErroreAnpr::QuotaEsaurita {
            servizio: Servizio::C030,
            fino_a: mezzanotte,
            da_anpr: false,
        });
        let Interruzione::Sospesa(s) = i else {
            panic!("{i:?}")
        };
        assert_eq!(
            s.messaggio(),
            "quota giornaliera esaurita per C030, ripresa alle 00:00"
        );
        assert_eq!(
            interruzione(&ErroreAnpr::CircuitoAperto {
                servizio: Servizio::C020,
                fino_a: mezzanotte,
            }),
            Interruzione::Pausa {
                servizio: Servizio::C020,
                fino_a_ms: 1_795_734_000_000
            }
        );
        assert_eq!(
            interruzione(&ErroreAnpr::ServizioNonConfigurato(Servizio::C018)),
            Interruzione::Fallita {
                motivo: "servizio C018 non configurato: manca il purposeId in [anpr.purposes]"
                    .into()
            }
        );
    }

    #[test]
    fn unione_aggiunge_e_sovrascrive() {
        let mut a =
            json!({"generalita": {"nome": "A", "cognome": "B"}, "identificativi": {"idANPR": "X"}});
        unisci(
            &mut a,
            json!({"generalita": {"nome": "C"}, "residenza": [{"cap": "00100"}]}),
        );
        assert_eq!(
            a,
            json!({"generalita": {"nome": "C", "cognome": "B"}, "identificativi": {"idANPR": "X"},
                   "residenza": [{"cap": "00100"}]})
        );
        // C015 brings the death date, C001 the esistenza in vita: both stay.
        let mut b = json!({"infoSoggettoEnte": [{"id": "1015", "valoreData": "2021-11-13"}], "residenza": [{"cap": "1"}]});
        unisci(
            &mut b,
            json!({"infoSoggettoEnte": [{"id": "1003", "valore": "N"}], "residenza": [{"cap": "1"}]}),
        );
        assert_eq!(
            b,
            json!({"infoSoggettoEnte": [{"id": "1015", "valoreData": "2021-11-13"}, {"id": "1003", "valore": "N"}],
                   "residenza": [{"cap": "1"}]})
        );
    }
}

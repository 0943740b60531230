//! A row's step on the Comune's own channel (consultazione 3002, DESIGN §4): the criterion
//! from the row, the Comuni asked in turn, and the answer turned into the row's outcome.

use crate::rivestizione::{
    Arresto, ChiamataSvolta, EsitoRiga, MESSAGGIO_FUORI_AMBITO, Riga, aggiungi_messaggio,
    errore_riga, unisci,
};
use anpr::piano::PassoWs;
use anpr::ws::client::{DatiWs, Esito3002, WsClient};
use anpr::ws::messaggi::{CriterioWs, RilascioCi};
use domain::esito::Esito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The code of 3002 calls in the archive's call list.
pub const CODICE_3002: &str = "3002";

/// The Comune's channel for a request.
pub struct CanaleWs {
    /// The Comuni to ask, in turn, each through its own channel (ISTAT code, client): the
    /// convention's Comune alone, or under COMUNI_CONVENZIONATI every convened Comune that has
    /// the channel, the convention's first.
    pub comuni: Vec<(String, Arc<WsClient>)>,
    /// `ricercaNazionale` = 1: scope ITALIA with the convention's national-search opt-in.
    pub ricerca_nazionale: bool,
    /// The Tabella 16 codes the profile's groups need.
    pub dati_richiesti: Vec<u8>,
    /// Those for a call that only completes the document fields (`PassoWs::Dopo`).
    pub dati_richiesti_documenti: Vec<u8>,
}

impl CanaleWs {
    pub fn new(
        comuni: Vec<(String, Arc<WsClient>)>,
        ricerca_nazionale: bool,
        gruppi: &BTreeSet<GruppoCampi>,
    ) -> CanaleWs {
        CanaleWs {
            comuni,
            ricerca_nazionale,
            dati_richiesti: anpr::ws::messaggi::dati_richiesti(gruppi),
            dati_richiesti_documenti: anpr::ws::messaggi::dati_richiesti(&BTreeSet::from([
                GruppoCampi::Documenti,
            ])),
        }
    }
}

/// The key of a row's 3002 call to a Comune, under which its idOperazioneComune is stored.
pub(crate) fn chiave_chiamata_ws(chiave_riga: &str, istat: &str) -> String {
    format!("{chiave_riga}:{CODICE_3002}:{istat}")
}

/// The row's 3002 step. `Prima`: the row's own identifier, and its outcome decides the row's.
/// `Dopo`: the person was found by PDND; this call only adds the document fields, and a failure
/// leaves them empty with a message rather than changing the row's outcome.
pub(crate) async fn passo(
    riga: &Riga<'_>,
    r: &mut EsitoRiga,
    posizione: PassoWs,
) -> Result<(), Arresto> {
    let Some(canale) = riga.ws else {
        return Err(Arresto::Esito(
            Esito::NonSupportato,
            "il canale del Comune (servizio 3002) non è configurato".into(),
        ));
    };
    let criterio = match posizione {
        PassoWs::Prima => criterio_riga(riga)?,
        PassoWs::Dopo => match (&r.id_anpr, riga.tipo) {
            (Some(id), _) => CriterioWs::IdAnpr(id.clone()),
            (None, TipoIdentificativo::Cf) => CriterioWs::CodiceFiscale(riga.identificativo.into()),
            (None, _) => CriterioWs::IdAnpr(riga.identificativo.into()),
        },
    };
    let data_riferimento =
        chrono::NaiveDate::parse_from_str(&riga.dati.data_riferimento_richiesta, "%Y-%m-%d")
            .map_err(|_| {
                Arresto::Esito(
                    Esito::Errore,
                    format!(
                        "data di riferimento non valida: {}",
                        riga.dati.data_riferimento_richiesta
                    ),
                )
            })?;
    let protocollo = Some(riga.dati.motivo_richiesta.trim().to_string())
        .filter(|m| anpr::ws::messaggi::protocollo_valido(m));
    let dati = DatiWs {
        data_riferimento,
        dati_richiesti: match posizione {
            PassoWs::Prima => canale.dati_richiesti.clone(),
            PassoWs::Dopo => canale.dati_richiesti_documenti.clone(),
        },
        ricerca_nazionale: canale.ricerca_nazionale,
        protocollo,
    };
    let residenza = r
        .soggetto
        .as_ref()
        .and_then(|s| s.pointer("/residenza/0/indirizzo/comune/codiceIstat"))
        .and_then(Value::as_str)
        .map(str::to_string);
    // The Comune of residence first when PDND already told it: only it will answer.
    let mut comuni: Vec<&(String, Arc<WsClient>)> = canale.comuni.iter().collect();
    if let Some(res) = &residenza {
        comuni.sort_by_key(|(istat, _)| istat != res);
    }
    let restretto = riga.comuni_in_ambito.is_some();
    let mut nessuno: Option<(Option<String>, Option<String>)> = None;
    for (istat, client) in comuni {
        let chiave = chiave_chiamata_ws(&riga.chiave, istat);
        let inizio = std::time::Instant::now();
        let risposta = client.consulta(criterio.clone(), &dati, &chiave).await;
        crate::metriche::chiamata_ws(&risposta, inizio.elapsed());
        let risposta = match risposta {
            Ok(x) => x,
            Err(e) => match posizione {
                PassoWs::Prima => return Err(errore_riga(e.into())),
                PassoWs::Dopo if e.ferma_richiesta() => return Err(errore_riga(e.into())),
                PassoWs::Dopo => {
                    aggiungi_messaggio(&mut r.messaggio, &format!("documenti non letti: {e}"));
                    return Ok(());
                }
            },
        };
        r.chiamate.push(ChiamataSvolta {
            servizio: CODICE_3002,
            id_operazione_client: risposta.id_operazione_comune.clone(),
            id_operazione_anpr: risposta.id_operazione_anpr.clone(),
        });
        if let Some(id) = &risposta.id_operazione_anpr {
            r.id_operazione_anpr.push(id.clone());
        }
        match risposta.esito {
            Esito3002::Trovato(soggetto) => {
                if r.id_anpr.is_none() {
                    r.id_anpr = soggetto
                        .pointer("/identificativi/idANPR")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                if r.cf.is_none() {
                    r.cf = soggetto
                        .pointer("/generalita/codiceFiscale/codFiscale")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                unisci(
                    r.soggetto.get_or_insert(Value::Object(Default::default())),
                    soggetto,
                );
                return Ok(());
            }
            Esito3002::NonTrovato { codice, testo } => {
                nessuno = Some((codice, testo));
            }
            // EN204/EN210: the person lives elsewhere. Never say more than "not found here".
            Esito3002::FuoriAmbito { .. } => {
                nessuno = nessuno.or(Some((None, None)));
            }
            Esito3002::Ambiguo(n) => {
                return match posizione {
                    // With ricercaNazionale = 0 every match is a resident: in scope (DESIGN §3).
                    PassoWs::Prima => Err(Arresto::Esito(
                        Esito::Ambiguo,
                        format!("{n} soggetti distinti rispondono a questo identificativo"),
                    )),
                    PassoWs::Dopo => {
                        aggiungi_messaggio(
                            &mut r.messaggio,
                            "documenti non letti: il canale del Comune indica più soggetti",
                        );
                        Ok(())
                    }
                };
            }
            Esito3002::Errore { codice, testo } => {
                let m = if codice.is_empty() {
                    testo
                } else {
                    format!("{codice}: {testo}")
                };
                return match posizione {
                    PassoWs::Prima => Err(Arresto::Esito(Esito::Errore, m)),
                    PassoWs::Dopo => {
                        aggiungi_messaggio(&mut r.messaggio, &format!("documenti non letti: {m}"));
                        Ok(())
                    }
                };
            }
        }
    }
    let (codice, testo) = nessuno.unwrap_or((None, None));
    match posizione {
        PassoWs::Prima if restretto => Err(Arresto::Esito(
            Esito::FuoriAmbito,
            MESSAGGIO_FUORI_AMBITO.into(),
        )),
        PassoWs::Prima if !canale.ricerca_nazionale => Err(Arresto::Esito(
            Esito::NonTrovato,
            MESSAGGIO_SOLO_RESIDENTI.into(),
        )),
        PassoWs::Prima => {
            let m = match (codice, testo) {
                (Some(c), Some(t)) => format!("{c}: {t}"),
                _ => "ANPR non ha restituito alcun soggetto".into(),
            };
            Err(Arresto::Esito(Esito::NonTrovato, m))
        }
        PassoWs::Dopo => {
            aggiungi_messaggio(&mut r.messaggio, MESSAGGIO_DOCUMENTI_NON_RESIDENTE);
            Ok(())
        }
    }
}

/// Scope ITALIA without the convention's national-search opt-in: 3002 searched the Comune's
/// residents only, and says nothing about anyone else.
pub const MESSAGGIO_SOLO_RESIDENTI: &str = "nessun residente del Comune con questo identificativo: \
     la convenzione non abilita la ricerca nazionale sul canale del Comune (servizio 3002)";

const MESSAGGIO_DOCUMENTI_NON_RESIDENTE: &str = "documenti non disponibili: il canale del Comune \
     (servizio 3002) li fornisce solo per i residenti del Comune";

/// The 3002 criterion for the row's own identifier.
fn criterio_riga(riga: &Riga<'_>) -> Result<CriterioWs, Arresto> {
    let id = riga.identificativo.to_string();
    Ok(match riga.tipo {
        TipoIdentificativo::Cf => CriterioWs::CodiceFiscale(id),
        TipoIdentificativo::IdAnpr => CriterioWs::IdAnpr(id),
        TipoIdentificativo::Ci => CriterioWs::CartaIdentita {
            numero: id,
            rilascio: match riga.rilascio {
                None => None,
                Some(istat) => {
                    let c = domain::luoghi::comune_per_istat(istat).ok_or_else(|| {
                        Arresto::Esito(
                            Esito::NonValido,
                            format!("comune di rilascio sconosciuto: {istat}"),
                        )
                    })?;
                    Some(RilascioCi::Comune {
                        nome: c.nome.to_uppercase(),
                        codice_istat: istat.to_string(),
                        sigla_provincia: c.sigla_provincia.to_string(),
                    })
                }
            },
        },
        TipoIdentificativo::Pds => CriterioWs::Permesso {
            questura: riga
                .rilascio
                .ok_or_else(|| {
                    Arresto::Esito(
                        Esito::NonValido,
                        "permesso di soggiorno senza questura di rilascio".into(),
                    )
                })?
                .to_string(),
            numero: id,
        },
        TipoIdentificativo::Pass => CriterioWs::Passaporto(id),
    })
}

//! ANPR's side of an E002 call: operation-id rules and replay, the search, and the blocks each
//! service returns (NOTES §1.1, §2.2–§2.6).

use crate::popolazione::{Anagrafici, LuogoNascita, LuogoResidenza, Soggetto};
use crate::servizi::ServizioSim;
use crate::stato::{RispostaAnpr, Stato, blocca};
use anpr::types::*;
use chrono::NaiveDate;
use domain::Sesso;
use sha2::{Digest as _, Sha256};

/// The codes ANPR uses for these refusals are not published: the simulator's own (README).
pub const CODICE_ID_TROPPO_LUNGO: &str = "EN900";
pub const CODICE_ID_INFERIORE: &str = "EN901";
pub const CODICE_ID_NON_NUMERICO: &str = "EN902";

const TESTO_EN148: &str = "Il D.M. Ministero dell'Interno 3 marzo 2023 (art.3 comma 3) prevede l'accesso ad ANPR esclusivamente con identificativo unico nazionale (ID ANPR), si  rappresenta pertanto l'urgenza di provvedere all'integrazione dei propri sistemi.";

fn s(x: impl Into<String>) -> Option<String> {
    Some(x.into())
}

fn errore(
    codice: &str,
    testo: &str,
    campo: Option<&str>,
    valore: Option<&str>,
) -> TipoErroriAnomalia {
    TipoErroriAnomalia {
        codice_errore_anomalia: s(codice),
        tipo_errore_anomalia: s("E"),
        testo_errore_anomalia: s(testo),
        campo_errore_anomalia: campo.map(str::to_owned),
        valore_errore_anomalia: valore.map(str::to_owned),
        ..Default::default()
    }
}

fn ko(stato: u16, id_anpr: &str, e: TipoErroriAnomalia) -> RispostaAnpr {
    let r = RispostaKO {
        id_operazione_anpr: s(id_anpr),
        lista_errori: Some(vec![e]),
    };
    RispostaAnpr {
        stato,
        corpo: serde_json::to_string(&r).expect("serializzazione di tipi semplici"),
    }
}

/// Answers one validated request for `client` (replaying a stored answer when the id repeats).
pub fn rispondi(
    st: &Stato,
    client: &str,
    servizio: ServizioSim,
    r: &RichiestaE002,
) -> RispostaAnpr {
    let id = r.id_operazione_client.as_str();
    let id_anpr = id_operazione_anpr(st, client, servizio, r);
    if id.chars().count() > 30 {
        let testo = "Lunghezza del campo idOperazioneClient maggiore del massimo consentito 30";
        return ko(
            400,
            &id_anpr,
            errore(
                CODICE_ID_TROPPO_LUNGO,
                testo,
                Some("idOperazioneClient"),
                Some(id),
            ),
        );
    }
    let chiave = (client.to_owned(), servizio, id.to_owned());
    if let Some(memo) = blocca(&st.archivio).get(&chiave) {
        return memo.clone();
    }
    if servizio.id_crescenti()
        && let Err(rifiuto) = controlla_ordine(st, client, servizio, id, &id_anpr)
    {
        return rifiuto;
    }
    let risposta = cerca_e_rispondi(st, servizio, r, &id_anpr);
    let mut archivio = blocca(&st.archivio);
    archivio.entry(chiave).or_insert(risposta).clone()
}

/// C001/C004: numeric ids, and an unseen id below the highest seen (minus the tolerance) is
/// refused. The highest seen moves up as soon as an id is accepted.
fn controlla_ordine(
    st: &Stato,
    client: &str,
    servizio: ServizioSim,
    id: &str,
    id_anpr: &str,
) -> Result<(), RispostaAnpr> {
    let Ok(n) = id.parse::<u128>() else {
        let testo = "Il campo idOperazioneClient deve essere numerico";
        return Err(ko(
            400,
            id_anpr,
            errore(
                CODICE_ID_NON_NUMERICO,
                testo,
                Some("idOperazioneClient"),
                Some(id),
            ),
        ));
    };
    let mut massimi = blocca(&st.massimi_id);
    let massimo = massimi.entry((client.to_owned(), servizio)).or_insert(0);
    if n.saturating_add(u128::from(st.tolleranza_id)) < *massimo {
        let testo = "idOperazioneClient inferiore all'ultimo inviato";
        return Err(ko(
            400,
            id_anpr,
            errore(
                CODICE_ID_INFERIORE,
                testo,
                Some("idOperazioneClient"),
                Some(id),
            ),
        ));
    }
    *massimo = (*massimo).max(n);
    Ok(())
}

/// In test mode a pure function of (client, service, search key, reference date).
fn id_operazione_anpr(
    st: &Stato,
    client: &str,
    servizio: ServizioSim,
    r: &RichiestaE002,
) -> String {
    if !st.modalita_test {
        return uuid::Uuid::new_v4().to_string();
    }
    let criteri = serde_json::to_string(&r.criteri_ricerca).unwrap_or_default();
    let mut h = Sha256::new();
    for parte in [
        client,
        servizio.codice(),
        &criteri,
        &r.dati_richiesta.data_riferimento_richiesta,
    ] {
        h.update(parte.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 byte")) % 10_000_000_000;
    format!("{n:010}")
}

fn cerca_e_rispondi(
    st: &Stato,
    servizio: ServizioSim,
    r: &RichiestaE002,
    id_anpr: &str,
) -> RispostaAnpr {
    let data = NaiveDate::parse_from_str(&r.dati_richiesta.data_riferimento_richiesta, "%Y-%m-%d")
        .expect("data già validata");
    if servizio.richiede_verifica()
        && r.verifica
            .as_ref()
            .and_then(|v| v.dati_decesso.as_ref())
            .and_then(|d| d.data_evento.as_ref())
            .is_none()
    {
        let testo = "Devi specificare i dati del decesso per questo caso d'uso";
        return ko(
            400,
            id_anpr,
            errore("EN148", testo, Some("verifica.datiDecesso"), None),
        );
    }
    let c = &r.criteri_ricerca;
    let per_cf = c.codice_fiscale.is_some();
    let trovati: Vec<Soggetto> = if let Some(cf) = &c.codice_fiscale {
        st.popolazione.per_cf(cf).into_iter().collect()
    } else if let Some(id) = &c.id_anpr {
        st.popolazione.per_id_anpr(id).into_iter().collect()
    } else {
        st.popolazione.per_anagrafici(&anagrafici(c))
    };
    let vivi: Vec<&Soggetto> = trovati.iter().filter(|p| p.esiste_al(data)).collect();
    if vivi.is_empty()
        || (servizio == ServizioSim::C021 && vivi.iter().all(|p| p.deceduto_al(data).is_some()))
    {
        let testo = if trovati.iter().any(|p| p.cancellato) {
            "Soggetto cancellato da ANPR"
        } else {
            "Soggetto non registrato in ANPR"
        };
        return ko(404, id_anpr, errore("EN122", testo, None, None));
    }
    let mut dati = Vec::new();
    for p in vivi {
        dati.extend(blocchi(st, servizio, p, data, r));
    }
    let anomalie = (per_cf && servizio.avvisa_en148()).then(|| {
        vec![TipoErroriAnomalia {
            codice_errore_anomalia: s("EN148"),
            tipo_errore_anomalia: s("W"),
            testo_errore_anomalia: s(TESTO_EN148),
            ..Default::default()
        }]
    });
    let ok = RispostaE002OK {
        id_operazione_anpr: s(id_anpr),
        lista_soggetti: Some(TipoListaSoggetti {
            dati_soggetto: Some(dati),
        }),
        lista_anomalie: anomalie,
    };
    RispostaAnpr {
        stato: 200,
        corpo: serde_json::to_string(&ok).expect("serializzazione di tipi semplici"),
    }
}

fn anagrafici(c: &TipoCriteriRicercaE002) -> Anagrafici {
    let nascita = c.dati_nascita.clone().unwrap_or_default();
    let luogo = nascita.luogo_nascita.clone().unwrap_or_default();
    let comune = luogo.comune.unwrap_or_default();
    let localita = luogo.localita.unwrap_or_default();
    let belfiore = if c
        .dati_nascita
        .as_ref()
        .and_then(|d| d.luogo_nascita.as_ref())
        .and_then(|l| l.comune.as_ref())
        .is_some()
    {
        crate::popolazione::belfiore_comune(
            comune.codice_istat.as_deref(),
            comune.nome_comune.as_deref(),
            comune.sigla_provincia_istat.as_deref(),
        )
    } else {
        crate::popolazione::belfiore_stato(
            localita.codice_stato.as_deref(),
            localita.descrizione_stato.as_deref(),
        )
    };
    let data = nascita
        .data_evento
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    Anagrafici {
        cognome: c.cognome.clone().filter(|_| c.senza_cognome.is_none()),
        nome: c.nome.clone().filter(|_| c.senza_nome.is_none()),
        sesso: match c.sesso.as_deref() {
            Some("F") => Some(Sesso::F),
            Some("M") => Some(Sesso::M),
            _ => None,
        },
        data_nascita: data.unwrap_or_default(),
        senza_giorno: nascita.senza_giorno.as_deref() == Some("1"),
        senza_giorno_mese: nascita.senza_giorno_mese.as_deref() == Some("1"),
        belfiore,
        nome_luogo: luogo.luogo_eccezionale.or(localita.descrizione_stato),
    }
}

fn blocchi(
    st: &Stato,
    servizio: ServizioSim,
    p: &Soggetto,
    data: NaiveDate,
    r: &RichiestaE002,
) -> Vec<TipoDatiSoggettiEnte> {
    use ServizioSim::*;
    let ident = Some(TipoIdentificativi {
        id_anpr: s(&p.id_anpr),
    });
    let base = TipoDatiSoggettiEnte {
        identificativi: ident.clone(),
        ..Default::default()
    };
    let gener = Some(generalita(p, data));
    let decesso: Vec<TipoInfoSoggettoEnte> = data_decesso(p, data).into_iter().collect();
    let info = |v: Vec<TipoInfoSoggettoEnte>| (!v.is_empty()).then_some(v);
    let uno = match servizio {
        C030 => base,
        C015 => TipoDatiSoggettiEnte {
            generalita: gener,
            stato_civile: Some(stato_civile(p)),
            info_soggetto_ente: info(decesso),
            ..base
        },
        C017 => TipoDatiSoggettiEnte {
            generalita: gener,
            stato_civile: Some(stato_civile(p)),
            matrimonio: matrimonio(st, p, data),
            ..base
        },
        C018 => TipoDatiSoggettiEnte {
            generalita: gener,
            cittadinanza: Some(cittadinanza(p)),
            ..base
        },
        C019 => {
            let mut v = vec![esistenza_in_vita(p, data)];
            v.extend(decesso);
            TipoDatiSoggettiEnte {
                generalita: gener,
                info_soggetto_ente: Some(v),
                ..base
            }
        }
        C020 => TipoDatiSoggettiEnte {
            generalita: gener,
            residenza: residenza(p, data),
            info_soggetto_ente: info(decesso),
            ..base
        },
        C001 => {
            let mut v = vec![esistenza_in_vita(p, data)];
            v.extend(domicilio_digitale(p));
            TipoDatiSoggettiEnte {
                generalita: gener,
                residenza: residenza(p, data),
                info_soggetto_ente: Some(v),
                ..base
            }
        }
        C004 => TipoDatiSoggettiEnte {
            info_soggetto_ente: Some(vec![verifica_decesso(p, data, r)]),
            ..Default::default()
        },
        C021 => return famiglia(st, p, data),
    };
    vec![uno]
}

fn data_iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn generalita(p: &Soggetto, data: NaiveDate) -> TipoGeneralita {
    let luogo = match &p.luogo_nascita {
        LuogoNascita::Comune {
            istat, nome, sigla, ..
        } => TipoLuogoEvento {
            comune: Some(TipoComune {
                nome_comune: s(nome),
                codice_istat: s(istat),
                sigla_provincia_istat: s(sigla),
                ..Default::default()
            }),
            ..Default::default()
        },
        LuogoNascita::Estero {
            codice_stato,
            stato,
            ..
        } => TipoLuogoEvento {
            localita: Some(TipoLocalita {
                descrizione_stato: s(stato),
                codice_stato: s(codice_stato),
                ..Default::default()
            }),
            ..Default::default()
        },
        LuogoNascita::Eccezionale { descrizione } => TipoLuogoEvento {
            luogo_eccezionale: s(descrizione),
            ..Default::default()
        },
    };
    let uno = |b: bool| b.then(|| "1".to_owned());
    TipoGeneralita {
        codice_fiscale: Some(TipoCodiceFiscale {
            cod_fiscale: s(&p.codice_fiscale),
            validita_cf: s("1"),
            ..Default::default()
        }),
        cognome: p.cognome.clone(),
        senza_cognome: uno(p.cognome.is_none()),
        nome: p.nome.clone(),
        senza_nome: uno(p.nome.is_none()),
        sesso: s(p.sesso.to_string()),
        data_nascita: s(data_iso(p.data_nascita)),
        senza_giorno: uno(p.senza_giorno),
        senza_giorno_mese: uno(p.senza_giorno_mese),
        luogo_nascita: Some(luogo),
        soggetto_aire: s(if p.aire_al(data) { "S" } else { "N" }),
        ..Default::default()
    }
}

fn residenza(p: &Soggetto, data: NaiveDate) -> Option<Vec<TipoResidenza>> {
    let r = p.residenza_al(data)?;
    let res = match &r.luogo {
        LuogoResidenza::Italia {
            istat,
            comune,
            sigla,
            cap,
            cod_specie,
            specie,
            denominazione,
            civico,
        } => TipoResidenza {
            tipo_indirizzo: s("1"),
            indirizzo: Some(TipoIndirizzo {
                cap: s(cap),
                comune: Some(TipoComune {
                    nome_comune: s(comune),
                    codice_istat: s(istat),
                    sigla_provincia_istat: s(sigla),
                    ..Default::default()
                }),
                toponimo: Some(TipoToponimo {
                    cod_specie: s(cod_specie),
                    specie: s(specie),
                    denominazione_toponimo: s(denominazione),
                    ..Default::default()
                }),
                numero_civico: Some(TipoNumeroCivico {
                    numero: s(civico),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            data_decorrenza_residenza: s(data_iso(r.dal)),
            ..Default::default()
        },
        LuogoResidenza::Estero {
            codice_stato,
            stato,
            localita,
            indirizzo,
            civico,
            consolato,
        } => TipoResidenza {
            tipo_indirizzo: s("4"),
            localita_estera: Some(TipoLocalitaEstera1 {
                indirizzo_estero: Some(TipoIndirizzoEstero {
                    localita: Some(TipoDatoLocalitaEstera {
                        descrizione_localita: s(localita),
                        descrizione_stato: s(stato),
                        codice_stato: s(codice_stato),
                        ..Default::default()
                    }),
                    toponimo: Some(TipoToponimoEstero {
                        denominazione: s(indirizzo),
                        numero_civico: s(civico),
                    }),
                    ..Default::default()
                }),
                consolato: Some(TipoConsolato {
                    descrizione_consolato: s(consolato),
                    ..Default::default()
                }),
            }),
            data_decorrenza_residenza: s(data_iso(r.dal)),
            ..Default::default()
        },
    };
    Some(vec![res])
}

fn info(id: Option<&str>, chiave: &str) -> TipoInfoSoggettoEnte {
    TipoInfoSoggettoEnte {
        id: id.map(str::to_owned),
        chiave: s(chiave),
        ..Default::default()
    }
}

fn data_decesso(p: &Soggetto, data: NaiveDate) -> Option<TipoInfoSoggettoEnte> {
    let d = p.deceduto_al(data)?;
    Some(TipoInfoSoggettoEnte {
        valore_data: s(data_iso(d)),
        ..info(Some("1015"), "Data decesso")
    })
}

fn esistenza_in_vita(p: &Soggetto, data: NaiveDate) -> TipoInfoSoggettoEnte {
    let vivo = p.deceduto_al(data).is_none();
    TipoInfoSoggettoEnte {
        valore: s(if vivo { "S" } else { "N" }),
        ..info(Some("1003"), "Verifica esistenza in vita")
    }
}

/// Key name not published (NOTES §2.6 lists it only as "in infoSoggettoEnte"): README.
fn domicilio_digitale(p: &Soggetto) -> Option<TipoInfoSoggettoEnte> {
    let pec = p.domicilio_digitale.as_ref()?;
    Some(TipoInfoSoggettoEnte {
        valore_testo: s(pec),
        ..info(None, "Domicilio digitale")
    })
}

fn verifica_decesso(p: &Soggetto, data: NaiveDate, r: &RichiestaE002) -> TipoInfoSoggettoEnte {
    let dichiarata = r
        .verifica
        .as_ref()
        .and_then(|v| v.dati_decesso.as_ref())
        .and_then(|d| d.data_evento.clone());
    let corrisponde = p.deceduto_al(data).map(data_iso) == dichiarata;
    TipoInfoSoggettoEnte {
        valore: s(if corrisponde { "S" } else { "N" }),
        dettaglio: (!corrisponde).then(|| "Dato non corrispondente".to_owned()),
        ..info(None, "Verifica dichiarazione morte")
    }
}

fn stato_civile(p: &Soggetto) -> TipoStatoCivile {
    TipoStatoCivile {
        stato_civile: s(p.stato_civile.to_string()),
        ..Default::default()
    }
}

fn cittadinanza(p: &Soggetto) -> Vec<TipoCittadinanza> {
    p.cittadinanze
        .iter()
        .map(|(c, d)| TipoCittadinanza {
            codice_stato: s(c),
            descrizione_stato: s(d),
            ..Default::default()
        })
        .collect()
}

fn matrimonio(st: &Stato, p: &Soggetto, data: NaiveDate) -> Option<TipoMatrimonio> {
    let quando = p.matrimonio.filter(|d| *d <= data)?;
    let coniuge = st.popolazione.coniuge(p)?;
    Some(TipoMatrimonio {
        coniuge: Some(generalita(&coniuge, data)),
        dati_matrimonio: Some(TipoDatiEvento {
            data_evento: s(data_iso(quando)),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// C021: one `datiSoggetto` per member living at the date (the dead leave the family).
fn famiglia(st: &Stato, p: &Soggetto, data: NaiveDate) -> Vec<TipoDatiSoggettiEnte> {
    st.popolazione
        .famiglia(p)
        .into_iter()
        .filter(|m| m.esiste_al(data) && m.deceduto_al(data).is_none())
        .enumerate()
        .map(|(k, m)| TipoDatiSoggettiEnte {
            generalita: Some(generalita(&m, data)),
            identificativi: Some(TipoIdentificativi {
                id_anpr: s(&m.id_anpr),
            }),
            legame_soggetto: Some(TipoLegameSoggettoCompleto {
                tipo_legame: s("1"),
                codice_legame: s(format!("{:02}", m.famiglia.legame)),
                data_decorrenza: s(data_iso(m.famiglia.dal)),
                progressivo_componente: s((k + 1).to_string()),
                data_decorrenza_legame: s(data_iso(m.famiglia.dal)),
            }),
            ..Default::default()
        })
        .collect()
}

//! One `datiSoggetto` of a 3002 answer (`tipoDatiRispostaEstrazioneSoggetti`, tipoDato.xsd):
//! the blocks asked by `datiAnagraficiRichiesti` (Tabella 16), in the schema's element order.

use super::xml::Scrittore;
use crate::popolazione::{LuogoNascita, LuogoResidenza, Popolazione, Soggetto};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// Tabella 16 codes the simulator fills; 1 (scheda completa) stands for all of them.
/// Generalità (2) and the identifiers are always written.
pub mod tabella16 {
    pub const SCHEDA_COMPLETA: u8 = 1;
    pub const STATO_CIVILE: u8 = 3;
    pub const CITTADINANZA: u8 = 6;
    pub const RESIDENZA: u8 = 10;
    pub const MATRIMONIO: u8 = 13;
    pub const CARTA_IDENTITA: u8 = 16;
    pub const PERMESSO_SOGGIORNO: u8 = 17;
    pub const DOMICILIO_DIGITALE: u8 = 25;
    pub const DATI_DECESSO: u8 = 28;
    /// The highest code of Tabella 16 (30 destinazione).
    pub const MASSIMO: u8 = 30;
}

/// `tipoCartaceaElettronica` is one digit whose values are not published (NOTES §6); the
/// simulator follows the element's name: 1 cartacea, 2 elettronica (README).
pub const CARTACEA: &str = "1";
pub const ELETTRONICA: &str = "2";

/// INAD, the register of citizens' domicili digitali, opened on 6 July 2023: the population
/// has no date for a domicilio, so that is its `dataInizioValidita`.
fn inizio_inad() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 7, 6).unwrap_or_default()
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The content of `<datiSoggetto>` for `p` at `data`. With `solo_generalita` (several
/// subjects found) only `identificativi` and `generalita` are written, as ANPR does since
/// ANPR02.
pub fn dati_soggetto(
    pop: &Popolazione,
    p: &Soggetto,
    data: NaiveDate,
    richiesti: &BTreeSet<u8>,
    solo_generalita: bool,
) -> String {
    use tabella16::*;
    let chiesto = |c: u8| {
        !solo_generalita && (richiesti.contains(&c) || richiesti.contains(&SCHEDA_COMPLETA))
    };
    let mut w = Scrittore::default();
    w.blocco("identificativi", |w| w.campo("idANPR", &p.id_anpr));
    w.blocco("generalita", |w| generalita(w, p, data));
    if chiesto(STATO_CIVILE) {
        w.blocco("statoCivile", |w| {
            w.campo("statoCivile", &p.stato_civile.to_string());
        });
    }
    if chiesto(CITTADINANZA) {
        for (codice, descrizione) in &p.cittadinanze {
            w.blocco("cittadinanza", |w| {
                w.campo("descrizioneStato", descrizione);
                w.campo("codiceStato", codice);
            });
        }
    }
    if chiesto(RESIDENZA) {
        residenza(&mut w, p, data);
    }
    if chiesto(MATRIMONIO) {
        matrimonio(&mut w, pop, p, data);
    }
    if chiesto(CARTA_IDENTITA) {
        carta_identita(&mut w, p, data);
    }
    if chiesto(PERMESSO_SOGGIORNO) {
        permesso(&mut w, p, data);
    }
    if chiesto(DOMICILIO_DIGITALE)
        && let Some(pec) = &p.domicilio_digitale
        && data >= inizio_inad()
    {
        w.blocco("domicilioDigitale", |w| {
            w.campo("indirizzoDigitale", pec);
            w.campo("dataInizioValidita", &iso(inizio_inad()));
        });
    }
    if chiesto(DATI_DECESSO)
        && let Some(d) = p.deceduto_al(data)
    {
        w.blocco("datiDecesso", |w| w.campo("dataEvento", &iso(d)));
    }
    w.s
}

/// `tipoGeneralita`.
fn generalita(w: &mut Scrittore, p: &Soggetto, data: NaiveDate) {
    w.blocco("codiceFiscale", |w| {
        w.campo("codFiscale", &p.codice_fiscale);
        w.campo("validitaCF", "1");
    });
    match &p.cognome {
        Some(c) => w.campo("cognome", c),
        None => w.campo("senzaCognome", "1"),
    }
    match &p.nome {
        Some(n) => w.campo("nome", n),
        None => w.campo("senzaNome", "1"),
    }
    w.campo("sesso", &p.sesso.to_string());
    w.campo("dataNascita", &iso(p.data_nascita));
    if p.senza_giorno {
        w.campo("senzaGiorno", "1");
    }
    if p.senza_giorno_mese {
        w.campo("senzaGiornoMese", "1");
    }
    w.blocco("luogoNascita", |w| match &p.luogo_nascita {
        LuogoNascita::Comune {
            istat, nome, sigla, ..
        } => comune(w, "comune", nome, istat, sigla),
        LuogoNascita::Estero {
            codice_stato,
            stato,
            ..
        } => w.blocco("localita", |w| {
            w.campo("descrizioneStato", stato);
            w.campo("codiceStato", codice_stato);
        }),
        LuogoNascita::Eccezionale { descrizione } => w.campo("luogoEccezionale", descrizione),
    });
    w.campo("soggettoAIRE", if p.aire_al(data) { "S" } else { "N" });
}

/// `tipoComune` with its three mandatory-in-practice parts.
fn comune(w: &mut Scrittore, nome_elemento: &str, nome: &str, istat: &str, sigla: &str) {
    w.blocco(nome_elemento, |w| {
        w.campo("nomeComune", nome);
        w.campo("codiceIstat", istat);
        w.campo("siglaProvinciaIstat", sigla);
    });
}

/// A consulate's code: ANPR's list is not public; the population's rule (the state's ISTAT
/// code followed by `0001`) is repeated here for residences abroad.
fn codice_consolato(codice_stato: &str) -> String {
    format!("{codice_stato}0001")
}

/// `tipoResidenza`: the residence at the reference date.
fn residenza(w: &mut Scrittore, p: &Soggetto, data: NaiveDate) {
    let Some(r) = p.residenza_al(data) else {
        return;
    };
    w.blocco("residenza", |w| {
        match &r.luogo {
            LuogoResidenza::Italia {
                istat,
                comune: nome,
                sigla,
                cap,
                cod_specie,
                specie,
                denominazione,
                civico,
            } => {
                w.campo("tipoIndirizzo", "1");
                w.blocco("indirizzo", |w| {
                    w.campo("cap", cap);
                    comune(w, "comune", nome, istat, sigla);
                    w.blocco("toponimo", |w| {
                        w.campo("codSpecie", cod_specie);
                        w.campo("specie", specie);
                        w.campo("denominazioneToponimo", denominazione);
                    });
                    w.blocco("numeroCivico", |w| w.campo("numero", civico));
                });
            }
            LuogoResidenza::Estero {
                codice_stato,
                stato,
                localita,
                indirizzo,
                civico,
                consolato,
            } => {
                w.campo("tipoIndirizzo", "4");
                w.blocco("localitaEstera", |w| {
                    w.blocco("indirizzoEstero", |w| {
                        w.blocco("localita", |w| {
                            w.campo("descrizioneLocalita", localita);
                            w.campo("descrizioneStato", stato);
                            w.campo("codiceStato", codice_stato);
                        });
                        w.blocco("toponimo", |w| {
                            w.campo("denominazione", indirizzo);
                            w.campo("numeroCivico", civico);
                        });
                    });
                    w.blocco("consolato", |w| {
                        w.campo("codiceConsolato", &codice_consolato(codice_stato));
                        w.campo("descrizioneConsolato", consolato);
                    });
                });
            }
        }
        w.campo("dataDecorrenzaResidenza", &iso(r.dal));
    });
}

/// `tipoMatrimonio`: the spouse's generalità and the date, once married.
fn matrimonio(w: &mut Scrittore, pop: &Popolazione, p: &Soggetto, data: NaiveDate) {
    let Some(quando) = p.matrimonio.filter(|d| *d <= data) else {
        return;
    };
    let Some(coniuge) = pop.coniuge(p) else {
        return;
    };
    w.blocco("matrimonio", |w| {
        w.blocco("coniuge", |w| generalita(w, &coniuge, data));
        w.blocco("datiMatrimonio", |w| w.campo("dataEvento", &iso(quando)));
    });
}

/// `tipoCartaIdentita`: the card held at the reference date (issued by then).
fn carta_identita(w: &mut Scrittore, p: &Soggetto, data: NaiveDate) {
    let Some(c) = p
        .carta_identita
        .as_ref()
        .filter(|c| c.data_rilascio <= data)
    else {
        return;
    };
    w.blocco("cartaIdentita", |w| {
        w.campo("numero", &c.numero);
        w.campo("dataRilascio", &iso(c.data_rilascio));
        w.campo(
            "cartaceaElettronica",
            if c.elettronica { ELETTRONICA } else { CARTACEA },
        );
        w.campo(
            "interdizioneEspatrio",
            if c.interdizione_espatrio { "S" } else { "N" },
        );
        if let Some((nome, istat, sigla)) = &c.comune_rilascio {
            comune(w, "comuneRilascio", nome, istat, sigla);
        } else if let Some((codice, descrizione)) = &c.consolato_rilascio {
            w.blocco("consolatoRilascio", |w| {
                w.campo("codiceConsolato", codice);
                w.campo("descrizioneConsolato", descrizione);
            });
        }
        w.campo("dataScadenza", &iso(c.data_scadenza));
    });
}

/// `tipoPermessoSoggiorno`: the permesso held at the reference date (issued by then).
fn permesso(w: &mut Scrittore, p: &Soggetto, data: NaiveDate) {
    let Some(ps) = p.permesso.as_ref().filter(|ps| ps.data_rilascio <= data) else {
        return;
    };
    w.blocco("permessoSoggiorno", |w| {
        w.campo("numeroSoggiorno", &ps.numero);
        w.campo("tipoSoggiorno", &ps.tipo.to_string());
        w.campo("dataRilascio", &iso(ps.data_rilascio));
        w.campo_opt("dataScadenza", ps.data_scadenza.map(iso).as_deref());
        w.campo("questuraRilascioSoggiorno", &ps.questura);
        w.campo_opt("numeroPassaporto", ps.numero_passaporto.as_deref());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::popolazione::Popolazione;

    fn data() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn l_ordine_dei_blocchi_e_quello_dello_schema() {
        let pop = Popolazione::new(9, 5_000);
        let e = pop.esempi();
        let (cf, _) = &e.carte_identita[0];
        let p = pop.per_cf(cf).unwrap();
        let x = dati_soggetto(&pop, &p, data(), &BTreeSet::from([1]), false);
        let pos = |t: &str| x.find(&format!("<{t}>"));
        let ordine = [
            "identificativi",
            "generalita",
            "statoCivile",
            "cittadinanza",
            "residenza",
            "cartaIdentita",
        ];
        let posizioni: Vec<usize> = ordine.iter().map(|t| pos(t).unwrap()).collect();
        assert!(posizioni.windows(2).all(|w| w[0] < w[1]), "{x}");
        assert!(x.contains(&format!("<codFiscale>{cf}</codFiscale>")));
    }

    #[test]
    fn con_piu_soggetti_solo_le_generalita() {
        let pop = Popolazione::new(9, 5_000);
        let (cf, _) = &pop.esempi().carte_identita[0];
        let p = pop.per_cf(cf).unwrap();
        let x = dati_soggetto(&pop, &p, data(), &BTreeSet::from([1]), true);
        assert!(x.starts_with("<identificativi><idANPR>"));
        assert!(x.ends_with("</generalita>"));
    }

    #[test]
    fn solo_i_blocchi_chiesti() {
        let pop = Popolazione::new(9, 5_000);
        let (cf, _, _) = &pop.esempi().permessi[0];
        let p = pop.per_cf(cf).unwrap();
        let x = dati_soggetto(&pop, &p, data(), &BTreeSet::from([2, 17]), false);
        assert!(x.contains("<permessoSoggiorno><numeroSoggiorno>"));
        assert!(!x.contains("<residenza>"));
        assert!(!x.contains("<cartaIdentita>"));
        assert!(!x.contains("<statoCivile>"));
    }
}

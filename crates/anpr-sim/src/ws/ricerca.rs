//! ANPR's side of a valid `Richiesta3002`: the header checks, the document-criteria rules
//! (EHR41, EHR67, EHR68), the search, the residents-only filter of `ricercaNazionale` 0, and
//! the choice between one full subject, several subjects with generalità only, and the KOs.

use super::blocchi::{dati_soggetto, tabella16};
use super::richiesta::{CriterioCarta, CriterioPermesso, Richiesta3002, Testata};
use super::risposta::Errore;
use crate::popolazione::{LuogoResidenza, Popolazione, Soggetto};
use std::collections::BTreeSet;

/// Codes the simulator chose where ANPR's are not published (README).
pub const CODICE_DESTINATARIO: &str = "EN903";
pub const CODICE_TIPO_INVIO: &str = "EN904";

pub const TESTO_EN122: &str = "La richiesta effettuata non produce alcun risultato";
pub const TESTO_EN489: &str = "La richiesta non risulta valida secondo i nuovi XSD";
const TESTO_EN053: &str = "Servizio non attivo con i parametri di ricerca impostati";
const TESTO_EN095: &str = "La richiesta per dati di un soggetto ha individuato piu' cittadini: restringere i parametri della ricerca";

/// The settings the rules read.
pub struct Regole {
    pub richiedi_rilascio_ci: bool,
    pub en210_non_residenti: bool,
}

/// What a searched request produced: the `datiSoggetto` contents, or the errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Esito {
    Trovati(Vec<String>),
    Ko(Vec<Errore>),
}

/// `@` placeholders of ANPR's texts, filled in order.
fn riempi(testo: &str, valori: &[&str]) -> String {
    let mut out = String::new();
    let mut v = valori.iter();
    for (i, parte) in testo.split('@').enumerate() {
        if i > 0 {
            out.push_str(v.next().copied().unwrap_or(""));
        }
        out.push_str(parte);
    }
    out
}

/// `codDestinatario`, `operazioneRichiesta`, `tipoOperazione`, `tipoInvio`.
pub fn controlla_testata(t: &Testata, tipo_invio: &str, operazione: &str) -> Result<(), Errore> {
    if t.cod_destinatario != "ANPR05" {
        return Err(Errore::e(
            CODICE_DESTINATARIO,
            format!("CodDestinatario diverso da ANPR05: {}", t.cod_destinatario),
        )
        .su("codDestinatario", Some(&t.cod_destinatario)));
    }
    if t.operazione_richiesta != operazione {
        return Err(
            Errore::e("SP000", "Tipo operazione non ammesso per il servizio")
                .su("operazioneRichiesta", Some(&t.operazione_richiesta)),
        );
    }
    if t.tipo_operazione != "C" {
        let testo = riempi(
            "Valore del campo tipoOperazione @ non ammesso. Valori possibili: C=richiesta del cittadino",
            &[&t.tipo_operazione],
        );
        return Err(Errore::e("EHR26", testo).su("tipoOperazione", Some(&t.tipo_operazione)));
    }
    if t.tipo_invio != tipo_invio {
        return Err(Errore::e(
            CODICE_TIPO_INVIO,
            format!(
                "tipoInvio {} non compatibile con l'ambiente (atteso {tipo_invio})",
                t.tipo_invio
            ),
        )
        .su("tipoInvio", Some(&t.tipo_invio)));
    }
    Ok(())
}

/// Tabella 16 codes: known (EC025), not repeated (EC026), 1 alone (EC020).
fn dati_richiesti(codici: &[u8]) -> Result<BTreeSet<u8>, Errore> {
    let mut visti = BTreeSet::new();
    for c in codici {
        if *c == 0 || *c > tabella16::MASSIMO {
            return Err(
                Errore::e("EC025", "Codice datiAnagraficiRichiesti non valido")
                    .su("datiAnagraficiRichiesti", Some(&c.to_string())),
            );
        }
        if !visti.insert(*c) {
            return Err(Errore::e(
                "EC026",
                "I codici specificati tra i  datiAnagraficiRichiesti sono ripetuti una o piu' volte",
            )
            .su("datiAnagraficiRichiesti", Some(&c.to_string())));
        }
    }
    if visti.contains(&tabella16::SCHEDA_COMPLETA) && visti.len() > 1 {
        return Err(Errore::e(
            "EC020",
            "Il codice richiesta = 1 (scheda individuale completa) non puo' essere selezionato contemporaneamente ad altri codici richiesta",
        ));
    }
    Ok(visti)
}

/// EHR41: comune and consolato of issue are alternatives (both is always an error; neither
/// only when the simulator is told ANPR enforces it).
fn regole_carta(c: &CriterioCarta, r: &Regole) -> Result<(), Errore> {
    let entrambi = c.comune_rilascio.is_some() && c.consolato_rilascio.is_some();
    let nessuno = c.comune_rilascio.is_none() && c.consolato_rilascio.is_none();
    if entrambi || (nessuno && r.richiedi_rilascio_ci) {
        let comune = c
            .comune_rilascio
            .as_ref()
            .and_then(|c| c.istat.as_deref())
            .unwrap_or("");
        let testo = riempi(
            "I campi comune rilascio carta di identita' @ e  codice consolato rilascio @ devono essere valorizzati in alternativa",
            &[comune, c.consolato_rilascio.as_deref().unwrap_or("")],
        );
        return Err(Errore::e("EHR41", testo).su("cartaIdentita3000", None));
    }
    Ok(())
}

/// EHR67 (passport or permesso, exactly one) and EHR68 (questura and number together).
fn regole_permesso(p: &CriterioPermesso) -> Result<(), Errore> {
    match (&p.numero_passaporto, &p.soggiorno) {
        (Some(_), Some(_)) | (None, None) => {
            let (q, n) = p.soggiorno.clone().unwrap_or_default();
            let testo = riempi(
                "Valorizzare in alternativa: questura rilascio e numero del permesso di soggiorno @ oppure numero passaporto @",
                &[
                    &format!("{} {}", q.unwrap_or_default(), n.unwrap_or_default()),
                    p.numero_passaporto.as_deref().unwrap_or(""),
                ],
            );
            Err(Errore::e("EHR67", testo).su("permessoDiSoggiorno3000", None))
        }
        (None, Some((q, n))) if q.is_none() || n.is_none() => {
            let testo = riempi(
                "Valorizzare sia questura rilascio @  che numero del permesso di soggiorno @",
                &[q.as_deref().unwrap_or(""), n.as_deref().unwrap_or("")],
            );
            Err(Errore::e("EHR68", testo).su("datiSoggiorno30XX", None))
        }
        _ => Ok(()),
    }
}

fn uguali(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Every criterion the request gave holds for `s`.
fn corrisponde(s: &Soggetto, r: &Richiesta3002) -> bool {
    let c = &r.criteri;
    let cf = c
        .codice_fiscale
        .as_ref()
        .is_none_or(|v| uguali(v, &s.codice_fiscale));
    let id = c.id_anpr.as_ref().is_none_or(|v| uguali(v, &s.id_anpr));
    let cognome = c
        .cognome
        .as_ref()
        .is_none_or(|v| s.cognome.as_deref().is_some_and(|x| uguali(v, x)));
    let nome = c
        .nome
        .as_ref()
        .is_none_or(|v| s.nome.as_deref().is_some_and(|x| uguali(v, x)));
    let sesso = c
        .sesso
        .as_ref()
        .is_none_or(|v| uguali(v, &s.sesso.to_string()));
    let nascita = r.data_nascita.is_none_or(|d| d == s.data_nascita);
    let carta = c
        .carta_identita
        .as_ref()
        .is_none_or(|q| carta_corrisponde(s, q));
    let permesso = c
        .permesso
        .as_ref()
        .is_none_or(|q| permesso_corrisponde(s, q));
    cf && id && cognome && nome && sesso && nascita && carta && permesso
}

fn carta_corrisponde(s: &Soggetto, q: &CriterioCarta) -> bool {
    let Some(c) = &s.carta_identita else {
        return false;
    };
    let comune = q.comune_rilascio.as_ref().is_none_or(|qc| {
        c.comune_rilascio
            .as_ref()
            .is_some_and(|(_, istat, _)| qc.istat.as_deref() == Some(istat.as_str()))
    });
    let consolato = q.consolato_rilascio.as_ref().is_none_or(|qc| {
        c.consolato_rilascio
            .as_ref()
            .is_some_and(|(codice, _)| codice == qc)
    });
    uguali(&q.numero, &c.numero) && comune && consolato
}

fn permesso_corrisponde(s: &Soggetto, q: &CriterioPermesso) -> bool {
    let Some(p) = &s.permesso else {
        return false;
    };
    match (&q.numero_passaporto, &q.soggiorno) {
        (Some(n), _) => p.numero_passaporto.as_deref().is_some_and(|x| uguali(n, x)),
        (None, Some((Some(qu), Some(n)))) => uguali(qu, &p.questura) && uguali(n, &p.numero),
        _ => false,
    }
}

/// The first search key in schema order, and the value to name in the errors.
fn candidati(pop: &Popolazione, r: &Richiesta3002) -> Option<(Vec<Soggetto>, String)> {
    let c = &r.criteri;
    if let Some(cf) = &c.codice_fiscale {
        return Some((pop.per_cf(cf).into_iter().collect(), cf.clone()));
    }
    if let Some(q) = &c.carta_identita {
        return Some((pop.per_carta_identita(&q.numero), q.numero.clone()));
    }
    if let Some(q) = &c.permesso {
        return match (&q.numero_passaporto, &q.soggiorno) {
            (Some(n), _) => Some((pop.per_passaporto(n), n.clone())),
            (None, Some((Some(qu), Some(n)))) => Some((pop.per_permesso(qu, n), n.clone())),
            _ => None,
        };
    }
    if let Some(id) = &c.id_anpr {
        return Some((pop.per_id_anpr(id).into_iter().collect(), id.clone()));
    }
    None
}

fn residente(s: &Soggetto, istat: &str, data: chrono::NaiveDate) -> bool {
    matches!(
        s.residenza_al(data).map(|r| &r.luogo),
        Some(LuogoResidenza::Italia { istat: i, .. }) if i == istat
    )
}

/// Runs the rules and the search for a request of Comune `istat` whose header passed.
pub fn cerca(pop: &Popolazione, r: &Richiesta3002, regole: &Regole) -> Esito {
    match cerca_o_ko(pop, r, regole) {
        Ok(v) => Esito::Trovati(v),
        Err(e) => Esito::Ko(vec![e]),
    }
}

fn cerca_o_ko(
    pop: &Popolazione,
    r: &Richiesta3002,
    regole: &Regole,
) -> Result<Vec<String>, Errore> {
    let dati = &r.dati;
    if dati.scheda_anagrafica != "1" {
        return Err(Errore::e("EN053", TESTO_EN053)
            .su("schedaAnagraficaRichiesta", Some(&dati.scheda_anagrafica)));
    }
    let nazionale = match dati.ricerca_nazionale.as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(altro) => {
            return Err(Errore::e("EN053", TESTO_EN053).su("ricercaNazionale", Some(altro)));
        }
    };
    let richiesti = dati_richiesti(&dati.dati_richiesti)?;
    if let Some(c) = &r.criteri.carta_identita {
        regole_carta(c, regole)?;
    }
    if let Some(p) = &r.criteri.permesso {
        regole_permesso(p)?;
    }
    let (trovati, chiave) = candidati(pop, r).ok_or_else(|| {
        Errore::e("EN053", TESTO_EN053).su("criteriRicerca", r.criteri.non_gestiti.first().copied())
    })?;
    let data = dati.data_riferimento;
    let esistenti: Vec<Soggetto> = trovati
        .into_iter()
        .filter(|s| s.esiste_al(data) && corrisponde(s, r))
        .collect();
    if esistenti.is_empty() {
        return Err(Errore::e("EN122", TESTO_EN122));
    }
    let istat = &r.testata.cod_mittente;
    let ammessi: Vec<Soggetto> = esistenti
        .into_iter()
        .filter(|s| nazionale || residente(s, istat, data))
        .collect();
    if ammessi.is_empty() {
        if regole.en210_non_residenti {
            let testo = riempi(
                "Comune richiedente non competente sul codice fiscale @ (o non competente alla data della richiesta)",
                &[&chiave],
            );
            return Err(Errore::e("EN210", testo.trim_end().to_owned()));
        }
        return Err(Errore::e("EN122", TESTO_EN122));
    }
    if ammessi.len() > 1 && r.criteri.codice_fiscale.is_some() {
        return Err(Errore::e("EN095", TESTO_EN095));
    }
    let solo_generalita = ammessi.len() > 1;
    Ok(ammessi
        .iter()
        .map(|s| dati_soggetto(pop, s, data, &richiesti, solo_generalita))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::richiesta::{Comune, Criteri, DatiRichiesta};
    use chrono::NaiveDate;

    fn richiesta(criteri: Criteri, nazionale: &str) -> Richiesta3002 {
        Richiesta3002 {
            testata: Testata {
                id_operazione_comune: "1".into(),
                cod_mittente: "058091".into(),
                cod_destinatario: "ANPR05".into(),
                operazione_richiesta: "3002".into(),
                data_ora_richiesta: "2026-01-01T10:00:00Z".into(),
                tipo_operazione: "C".into(),
                tipo_invio: "TEST".into(),
                ..Testata::default()
            },
            criteri,
            data_nascita: None,
            dati: DatiRichiesta {
                scheda_anagrafica: "1".into(),
                data_riferimento: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                dati_richiesti: vec![1],
                ricerca_nazionale: Some(nazionale.into()),
                comune_residenza: None,
            },
        }
    }

    const REGOLE: Regole = Regole {
        richiedi_rilascio_ci: false,
        en210_non_residenti: false,
    };

    fn codice(e: Esito) -> String {
        match e {
            Esito::Ko(v) => v[0].codice.clone(),
            Esito::Trovati(v) => format!("{} soggetti", v.len()),
        }
    }

    #[test]
    fn le_regole_dei_documenti() {
        let pop = Popolazione::new(3, 2_000);
        let p = |numero_passaporto: Option<&str>,
                 soggiorno: Option<(Option<&str>, Option<&str>)>| {
            let c = Criteri {
                permesso: Some(CriterioPermesso {
                    numero_passaporto: numero_passaporto.map(str::to_owned),
                    soggiorno: soggiorno.map(|(q, n)| (q.map(str::to_owned), n.map(str::to_owned))),
                }),
                ..Criteri::default()
            };
            codice(cerca(&pop, &richiesta(c, "1"), &REGOLE))
        };
        assert_eq!(p(Some("YA1"), Some((Some("ROMA"), Some("1")))), "EHR67");
        assert_eq!(p(None, None), "EHR67");
        assert_eq!(p(None, Some((Some("ROMA"), None))), "EHR68");
        assert_eq!(p(None, Some((None, Some("I1")))), "EHR68");
        assert_eq!(p(Some("NESSUNO1"), None), "EN122");
        let ci = |comune: bool, consolato: bool, regole: &Regole| {
            let c = Criteri {
                carta_identita: Some(CriterioCarta {
                    comune_rilascio: comune.then(|| Comune {
                        nome: "ROMA".into(),
                        istat: Some("058091".into()),
                        sigla: "RM".into(),
                    }),
                    consolato_rilascio: consolato.then(|| "2160001".into()),
                    numero: "ZZ0000000".into(),
                }),
                ..Criteri::default()
            };
            codice(cerca(&pop, &richiesta(c, "1"), regole))
        };
        assert_eq!(ci(true, true, &REGOLE), "EHR41");
        assert_eq!(ci(false, false, &REGOLE), "EN122");
        let rigide = Regole {
            richiedi_rilascio_ci: true,
            ..REGOLE
        };
        assert_eq!(ci(false, false, &rigide), "EHR41");
        assert_eq!(ci(true, false, &rigide), "EN122");
    }

    #[test]
    fn dati_richiesti_e_testata() {
        assert_eq!(dati_richiesti(&[2, 16]).unwrap().len(), 2);
        assert_eq!(dati_richiesti(&[31]).unwrap_err().codice, "EC025");
        assert_eq!(dati_richiesti(&[2, 2]).unwrap_err().codice, "EC026");
        assert_eq!(dati_richiesti(&[1, 2]).unwrap_err().codice, "EC020");
        let mut t = richiesta(Criteri::default(), "1").testata;
        assert!(controlla_testata(&t, "TEST", "3002").is_ok());
        t.tipo_operazione = "V".into();
        let e = controlla_testata(&t, "TEST", "3002").unwrap_err();
        assert_eq!(e.codice, "EHR26");
        assert!(
            e.testo.contains("tipoOperazione V non ammesso"),
            "{}",
            e.testo
        );
        t.tipo_operazione = "C".into();
        t.tipo_invio = "PROD".into();
        assert_eq!(
            controlla_testata(&t, "TEST", "3002").unwrap_err().codice,
            CODICE_TIPO_INVIO
        );
        t.cod_destinatario = "ANPR04".into();
        assert_eq!(
            controlla_testata(&t, "TEST", "3002").unwrap_err().codice,
            CODICE_DESTINATARIO
        );
    }

    #[test]
    fn residenti_soltanto_o_tutti() {
        let pop = Popolazione::new(3, 2_000);
        let e = pop.esempi();
        let (cf, _) = &e.carte_identita[0];
        let s = pop.per_cf(cf).unwrap();
        let data = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let Some(LuogoResidenza::Italia { istat, .. }) =
            s.residenza_al(data).map(|r| r.luogo.clone())
        else {
            panic!("il primo esempio risiede in Italia");
        };
        let c = Criteri {
            codice_fiscale: Some(cf.clone()),
            ..Criteri::default()
        };
        let mut r = richiesta(c, "0");
        r.testata.cod_mittente = istat.clone();
        assert_eq!(codice(cerca(&pop, &r, &REGOLE)), "1 soggetti");
        r.testata.cod_mittente = if istat == "015146" {
            "058091"
        } else {
            "015146"
        }
        .into();
        assert_eq!(codice(cerca(&pop, &r, &REGOLE)), "EN122");
        let en210 = Regole {
            en210_non_residenti: true,
            ..REGOLE
        };
        assert_eq!(codice(cerca(&pop, &r, &en210)), "EN210");
        r.dati.ricerca_nazionale = Some("1".into());
        assert_eq!(codice(cerca(&pop, &r, &REGOLE)), "1 soggetti");
    }

    #[test]
    fn il_documento_condiviso_da_due_soggetti() {
        let pop = Popolazione::new(3, 2_000);
        let (numero, _) = pop.esempi().documento_condiviso;
        let c = Criteri {
            carta_identita: Some(CriterioCarta {
                numero,
                ..CriterioCarta::default()
            }),
            ..Criteri::default()
        };
        match cerca(&pop, &richiesta(c, "1"), &REGOLE) {
            Esito::Trovati(v) => {
                assert_eq!(v.len(), 2);
                assert!(v.iter().all(|s| s.ends_with("</generalita>")));
            }
            altro => panic!("{altro:?}"),
        }
    }

    #[test]
    fn i_testi_con_segnaposto() {
        assert_eq!(riempi("a @ b @ c", &["1", "2"]), "a 1 b 2 c");
        assert_eq!(riempi("a @ b @", &["1"]), "a 1 b ");
    }
}

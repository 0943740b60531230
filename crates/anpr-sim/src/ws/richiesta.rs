//! A strict reading of `Richiesta3002` and `RichiestaConnessione` in the order of ANPR's
//! schemas (`3000consultazione.xsd`, `vocabolario3000consultazione.xsd`, `tipoDato.xsd`,
//! `connessione.xsd`): an element out of order, unknown, repeated or missing, or a value
//! outside its simple type, makes the request invalid (EN489 in `ricerca`).

use super::tipi::{self, *};
use super::xml::{Sequenza, e};
use bergshamra::xml::uppsala::{Document, NodeId};
use chrono::NaiveDate;

/// `tipoDatoTestataRichiesta`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Testata {
    pub id_operazione_comune: String,
    pub cod_mittente: String,
    pub cod_destinatario: String,
    pub operazione_richiesta: String,
    pub data_ora_richiesta: String,
    pub tipo_operazione: String,
    pub protocollo_comune: Option<String>,
    pub data_protocollo_comune: Option<String>,
    pub tipo_invio: String,
    pub data_decorrenza: Option<String>,
}

/// `tipoComune` / `tipoComuneRichiesta` (the latter has `codiceIstat` mandatory and no
/// `descrizioneLocalita`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comune {
    pub nome: String,
    pub istat: Option<String>,
    pub sigla: String,
}

/// `cartaIdentita3000`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriterioCarta {
    pub comune_rilascio: Option<Comune>,
    pub consolato_rilascio: Option<String>,
    pub numero: String,
}

/// `permessoDiSoggiorno3000`. The schema makes passport and permesso a choice; both are read
/// so that ANPR's business error for it (EHR67) can be given instead of a schema error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriterioPermesso {
    pub numero_passaporto: Option<String>,
    /// `datiSoggiorno30XX` when present: (questura, numero), each optional in the schema.
    pub soggiorno: Option<(Option<String>, Option<String>)>,
}

/// `tipoCriteriRicerca`, only the parts the simulator uses kept as values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteri {
    pub codice_fiscale: Option<String>,
    pub cognome: Option<String>,
    pub nome: Option<String>,
    pub sesso: Option<String>,
    pub carta_identita: Option<CriterioCarta>,
    pub permesso: Option<CriterioPermesso>,
    pub id_anpr: Option<String>,
    /// The criteria the simulator does not search by (schede comunali, the legacy numeric
    /// idSchedaSoggettoANPR, famiglie).
    pub non_gestiti: Vec<&'static str>,
}

/// `tipoDatiRichiesta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatiRichiesta {
    pub scheda_anagrafica: String,
    pub data_riferimento: NaiveDate,
    pub dati_richiesti: Vec<u8>,
    pub ricerca_nazionale: Option<String>,
    pub comune_residenza: Option<Comune>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Richiesta3002 {
    pub testata: Testata,
    pub criteri: Criteri,
    /// `datiNascita/dataEvento`, used as a filter.
    pub data_nascita: Option<NaiveDate>,
    pub dati: DatiRichiesta,
}

/// Reads `<ns:Richiesta3002>` (the Body's only child).
pub fn leggi_3002(doc: &Document<'_>, radice: NodeId) -> Result<Richiesta3002, String> {
    if !e(doc, radice, Some(super::xml::NS_3000), "Richiesta3002") {
        return Err("il Body non contiene Richiesta3002".into());
    }
    let mut s = Sequenza::di(doc, radice, "Richiesta3002")?;
    let t = s.richiesto("testataRichiesta")?;
    let testata = testata(doc, t, &s.percorso("testataRichiesta"))?;
    let c = s.richiesto("criteriRicerca")?;
    let criteri = criteri(doc, c, &s.percorso("criteriRicerca"))?;
    let data_nascita = match s.opzionale("datiNascita") {
        Some(n) => Some(dati_nascita(doc, n, &s.percorso("datiNascita"))?),
        None => None,
    };
    if let Some(r) = s.opzionale("residenzaIscrizioneAIRE") {
        residenza_aire(doc, r, &s.percorso("residenzaIscrizioneAIRE"))?;
    }
    let d = s.richiesto("datiRichiesta")?;
    let dati = dati_richiesta(doc, d, &s.percorso("datiRichiesta"))?;
    s.fine()?;
    Ok(Richiesta3002 {
        testata,
        criteri,
        data_nascita,
        dati,
    })
}

/// Reads `<ns:RichiestaConnessione>`: only its `testataRichiesta`.
pub fn leggi_connessione(doc: &Document<'_>, radice: NodeId) -> Result<Testata, String> {
    if !e(
        doc,
        radice,
        Some(super::xml::NS_CONNESSIONE),
        "RichiestaConnessione",
    ) {
        return Err("il Body non contiene RichiestaConnessione".into());
    }
    let mut s = Sequenza::di(doc, radice, "RichiestaConnessione")?;
    let t = s.richiesto("testataRichiesta")?;
    let testata = testata(doc, t, &s.percorso("testataRichiesta"))?;
    s.fine()?;
    Ok(testata)
}

fn testata(doc: &Document<'_>, id: NodeId, p: &str) -> Result<Testata, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let t = Testata {
        id_operazione_comune: s.testo_richiesto("idOperazioneComune", alfanumerico(1, 30))?,
        cod_mittente: s.testo_richiesto("codMittente", codice_6)?,
        cod_destinatario: s.testo_richiesto("codDestinatario", codice_6)?,
        operazione_richiesta: s.testo_richiesto("operazioneRichiesta", lunghezza(4, 4))?,
        data_ora_richiesta: s.testo_richiesto("dataOraRichiesta", data_ora)?,
        tipo_operazione: s.testo_richiesto("tipoOperazione", lunghezza(1, 1))?,
        protocollo_comune: s.testo_opzionale("protocolloComune", protocollo)?,
        data_protocollo_comune: s.testo_opzionale("dataProtocolloComune", data)?,
        tipo_invio: s.testo_richiesto("tipoInvio", lunghezza(1, 20))?,
        data_decorrenza: s.testo_opzionale("dataDecorrenza", data)?,
    };
    s.testo_opzionale("dataDefinizionePratica", data)?;
    s.testo_opzionale("nomeApplicativo", nome_applicativo)?;
    s.testo_opzionale("versioneApplicativo", versione_applicativo)?;
    s.testo_opzionale("fornitoreApplicativo", versione_applicativo)?;
    s.fine()?;
    Ok(t)
}

fn criteri(doc: &Document<'_>, id: NodeId, p: &str) -> Result<Criteri, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let mut c = Criteri {
        codice_fiscale: s.testo_opzionale("codiceFiscale", alfanumerico(11, 16))?,
        cognome: s.testo_opzionale("cognome", caratteri(1, 80, nome_cognome))?,
        ..Criteri::default()
    };
    if s.testo_opzionale("senzaCognome", senza)?.is_some() {
        c.non_gestiti.push("senzaCognome");
    }
    c.nome = s.testo_opzionale("nome", caratteri(1, 80, nome_cognome))?;
    if s.testo_opzionale("senzaNome", senza)?.is_some() {
        c.non_gestiti.push("senzaNome");
    }
    c.sesso = s.testo_opzionale("sesso", tipi::sesso)?;
    if s.testo_opzionale("soggettoAIRE", sn)?.is_some() {
        c.non_gestiti.push("soggettoAIRE");
    }
    if let Some(n) = s.opzionale("idSchedaSoggettoComune") {
        let mut q = Sequenza::di(doc, n, &s.percorso("idSchedaSoggettoComune"))?;
        q.testo_richiesto("idSchedaSoggettoComuneIstat", numerico(6, 6))?;
        q.testo_richiesto("idSchedaSoggetto", id_scheda)?;
        q.fine()?;
        c.non_gestiti.push("idSchedaSoggettoComune");
    }
    if s.testo_opzionale("idSchedaSoggettoANPR", numerico(1, 16))?
        .is_some()
    {
        c.non_gestiti.push("idSchedaSoggettoANPR");
    }
    if s.testo_opzionale("tipoScheda", numerico(1, 1))?.is_some() {
        c.non_gestiti.push("tipoScheda");
    }
    if let Some(n) = s.opzionale("idFamigliaConvivenzaComune") {
        let mut q = Sequenza::di(doc, n, &s.percorso("idFamigliaConvivenzaComune"))?;
        q.testo_richiesto("idFamigliaConvivenzaComuneIstat", numerico(6, 6))?;
        q.testo_richiesto("idFamigliaConvivenza", alfanumerico(1, 20))?;
        q.fine()?;
        c.non_gestiti.push("idFamigliaConvivenzaComune");
    }
    if s.testo_opzionale("identificativoANPR", lunghezza(1, 20))?
        .is_some()
    {
        c.non_gestiti.push("identificativoANPR");
    }
    if let Some(n) = s.opzionale("cartaIdentita3000") {
        c.carta_identita = Some(carta(doc, n, &s.percorso("cartaIdentita3000"))?);
    }
    if let Some(n) = s.opzionale("permessoDiSoggiorno3000") {
        c.permesso = Some(permesso(doc, n, &s.percorso("permessoDiSoggiorno3000"))?);
    }
    c.id_anpr = s.testo_opzionale("idANPR", qualsiasi)?;
    s.fine()?;
    Ok(c)
}

fn carta(doc: &Document<'_>, id: NodeId, p: &str) -> Result<CriterioCarta, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let comune_rilascio = match s.opzionale("comuneRilascio") {
        Some(n) => Some(comune_richiesta(doc, n, &s.percorso("comuneRilascio"))?),
        None => None,
    };
    let consolato_rilascio = s.testo_opzionale("codiceConsolatoRilascio", numerico(1, 7))?;
    let numero = s.testo_richiesto("numero", numero_carta)?;
    s.fine()?;
    Ok(CriterioCarta {
        comune_rilascio,
        consolato_rilascio,
        numero,
    })
}

fn permesso(doc: &Document<'_>, id: NodeId, p: &str) -> Result<CriterioPermesso, String> {
    let mut c = CriterioPermesso::default();
    let mut s = Sequenza::di(doc, id, p)?;
    // The two alternatives in either order, each at most once (see the type's comment).
    for _ in 0..2 {
        if c.numero_passaporto.is_none()
            && let Some(n) = s.testo_opzionale("numeroPassaporto", numero_passaporto)?
        {
            c.numero_passaporto = Some(n);
        } else if c.soggiorno.is_none()
            && let Some(n) = s.opzionale("datiSoggiorno30XX")
        {
            let mut q = Sequenza::di(doc, n, &s.percorso("datiSoggiorno30XX"))?;
            let questura = q.testo_opzionale("questuraRilascioSoggiorno", questura)?;
            let numero = q.testo_opzionale("numeroSoggiorno", numero_soggiorno)?;
            q.fine()?;
            c.soggiorno = Some((questura, numero));
        }
    }
    s.fine()?;
    Ok(c)
}

fn comune_richiesta(doc: &Document<'_>, id: NodeId, p: &str) -> Result<Comune, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let c = Comune {
        nome: s.testo_richiesto("nomeComune", caratteri(1, 80, alfanumerico_slash))?,
        istat: Some(s.testo_richiesto("codiceIstat", numerico(6, 6))?),
        sigla: s.testo_richiesto("siglaProvinciaIstat", provincia)?,
    };
    s.fine()?;
    Ok(c)
}

/// `tipoComune`.
fn comune(doc: &Document<'_>, id: NodeId, p: &str) -> Result<Comune, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let c = Comune {
        nome: s.testo_richiesto("nomeComune", caratteri(1, 80, alfanumerico_slash))?,
        istat: s.testo_opzionale("codiceIstat", numerico(6, 6))?,
        sigla: s.testo_richiesto("siglaProvinciaIstat", provincia)?,
    };
    s.testo_opzionale("descrizioneLocalita", caratteri(1, 120, alfanumerico_base))?;
    s.fine()?;
    Ok(c)
}

/// `tipoLocalita`.
fn localita(doc: &Document<'_>, id: NodeId, p: &str) -> Result<(), String> {
    let mut s = Sequenza::di(doc, id, p)?;
    s.testo_opzionale("descrizioneLocalita", caratteri(1, 120, alfanumerico_slash))?;
    s.testo_richiesto("descrizioneStato", caratteri(1, 120, alfanumerico_base))?;
    s.testo_richiesto("codiceStato", numerico(3, 3))?;
    s.testo_opzionale("provinciaContea", caratteri(1, 30, alfanumerico_slash))?;
    s.fine()
}

/// `tipoDatiNascita3000`: the date is kept, the place is only checked.
fn dati_nascita(doc: &Document<'_>, id: NodeId, p: &str) -> Result<NaiveDate, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let data_evento = s.testo_richiesto("dataEvento", data)?;
    s.testo_opzionale("senzaGiorno", senza)?;
    s.testo_opzionale("senzaGiornoMese", senza)?;
    if let Some(n) = s.opzionale("luogoNascita") {
        let pl = s.percorso("luogoNascita");
        let mut q = Sequenza::di(doc, n, &pl)?;
        q.testo_opzionale("luogoEccezionale", sn)?;
        if let Some(c) = q.opzionale("comune") {
            comune(doc, c, &q.percorso("comune"))?;
        } else if let Some(l) = q.opzionale("localita") {
            localita(doc, l, &q.percorso("localita"))?;
        } else {
            return Err(format!("{pl}: manca comune o localita"));
        }
        q.fine()?;
    }
    s.fine()?;
    tipi::leggi_data(&data_evento).ok_or_else(|| format!("{p}/dataEvento non valida"))
}

/// `tipoResidenzaIscrizioneAIRE`: checked, not used.
fn residenza_aire(doc: &Document<'_>, id: NodeId, p: &str) -> Result<(), String> {
    let mut s = Sequenza::di(doc, id, p)?;
    if let Some(c) = s.opzionale("comune") {
        comune(doc, c, &s.percorso("comune"))?;
    }
    if let Some(l) = s.opzionale("localita") {
        localita(doc, l, &s.percorso("localita"))?;
    }
    s.testo_opzionale("codiceConsolato", lunghezza(1, 7))?;
    s.fine()
}

fn dati_richiesta(doc: &Document<'_>, id: NodeId, p: &str) -> Result<DatiRichiesta, String> {
    let mut s = Sequenza::di(doc, id, p)?;
    let scheda_anagrafica = s.testo_richiesto("schedaAnagraficaRichiesta", numerico(1, 1))?;
    let data_riferimento = s.testo_richiesto("dataRiferimentoRichiesta", data)?;
    let mut dati_richiesti = Vec::new();
    for n in s.ripetuto("datiAnagraficiRichiesti") {
        let pd = s.percorso("datiAnagraficiRichiesti");
        let t = super::xml::testo(doc, n).map_err(|m| format!("{pd}: {m}"))?;
        let t = t.trim();
        if !numerico(1, 2)(t) {
            return Err(format!("{pd}: valore '{t}' non valido"));
        }
        dati_richiesti.push(t.parse::<u8>().map_err(|_| format!("{pd}: '{t}'"))?);
    }
    let ricerca_nazionale = s.testo_opzionale("ricercaNazionale", numerico(1, 1))?;
    let comune_residenza = match s.opzionale("comuneResidenza") {
        Some(n) => Some(comune(doc, n, &s.percorso("comuneResidenza"))?),
        None => None,
    };
    s.ripetuto("parametriANPR");
    s.fine()?;
    Ok(DatiRichiesta {
        scheda_anagrafica,
        data_riferimento: tipi::leggi_data(&data_riferimento)
            .ok_or_else(|| format!("{p}/dataRiferimentoRichiesta non valida"))?,
        dati_richiesti,
        ricerca_nazionale,
        comune_residenza,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::xml::analizza;

    const TESTATA: &str = "<testataRichiesta><idOperazioneComune>2025000001</idOperazioneComune>\
        <codMittente>058091</codMittente><codDestinatario>ANPR05</codDestinatario>\
        <operazioneRichiesta>3002</operazioneRichiesta><dataOraRichiesta>2025-03-01T10:00:00.000+01:00</dataOraRichiesta>\
        <tipoOperazione>C</tipoOperazione><tipoInvio>TEST</tipoInvio></testataRichiesta>";
    const DATI: &str = "<datiRichiesta><schedaAnagraficaRichiesta>1</schedaAnagraficaRichiesta>\
        <dataRiferimentoRichiesta>2025-03-01</dataRiferimentoRichiesta>\
        <datiAnagraficiRichiesti>16</datiAnagraficiRichiesti><datiAnagraficiRichiesti>2</datiAnagraficiRichiesti>\
        <ricercaNazionale>1</ricercaNazionale></datiRichiesta>";

    fn leggi(criteri: &str, dati: &str) -> Result<Richiesta3002, String> {
        let x = format!(
            r#"<ns2:Richiesta3002 xmlns:ns2="http://sogei.it/ANPR/3000consultazione">{TESTATA}<criteriRicerca>{criteri}</criteriRicerca>{dati}</ns2:Richiesta3002>"#
        );
        let d = analizza(&x).unwrap();
        leggi_3002(&d, d.document_element().unwrap())
    }

    #[test]
    fn la_richiesta_minima_per_carta_d_identita() {
        let r = leggi(
            "<cartaIdentita3000><numero>CA00000AA</numero></cartaIdentita3000>",
            DATI,
        )
        .unwrap();
        assert_eq!(r.testata.id_operazione_comune, "2025000001");
        assert_eq!(r.testata.tipo_invio, "TEST");
        assert_eq!(r.criteri.carta_identita.unwrap().numero, "CA00000AA");
        assert_eq!(r.dati.dati_richiesti, vec![16, 2]);
        assert_eq!(r.dati.ricerca_nazionale.as_deref(), Some("1"));
        assert_eq!(
            r.dati.data_riferimento,
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()
        );
    }

    #[test]
    fn permesso_passaporto_e_comune_di_rilascio() {
        let r = leggi(
            "<cartaIdentita3000><comuneRilascio><nomeComune>ROMA</nomeComune><codiceIstat>058091</codiceIstat>\
             <siglaProvinciaIstat>RM</siglaProvinciaIstat></comuneRilascio><numero>CA1</numero></cartaIdentita3000>\
             <permessoDiSoggiorno3000><datiSoggiorno30XX><questuraRilascioSoggiorno>ROMA</questuraRilascioSoggiorno>\
             </datiSoggiorno30XX><numeroPassaporto>YA1</numeroPassaporto></permessoDiSoggiorno3000><idANPR>AB12345CD</idANPR>",
            DATI,
        )
        .unwrap();
        let ci = r.criteri.carta_identita.unwrap();
        assert_eq!(ci.comune_rilascio.unwrap().istat.as_deref(), Some("058091"));
        let p = r.criteri.permesso.unwrap();
        assert_eq!(p.numero_passaporto.as_deref(), Some("YA1"));
        assert_eq!(p.soggiorno, Some((Some("ROMA".into()), None)));
        assert_eq!(r.criteri.id_anpr.as_deref(), Some("AB12345CD"));
    }

    #[test]
    fn ordine_elementi_sconosciuti_e_obbligatori() {
        // idANPR is the last element of criteriRicerca.
        let e = leggi(
            "<idANPR>X</idANPR><codiceFiscale>RSSMRA80A01H501U</codiceFiscale>",
            DATI,
        )
        .unwrap_err();
        assert!(e.contains("codiceFiscale"), "{e}");
        let e = leggi("<codiceFiscal>RSSMRA80A01H501U</codiceFiscal>", DATI).unwrap_err();
        assert!(e.contains("codiceFiscal"), "{e}");
        let e = leggi(
            "<cartaIdentita3000><comuneRilascio><nomeComune>ROMA</nomeComune>\
             <siglaProvinciaIstat>RM</siglaProvinciaIstat></comuneRilascio><numero>1</numero></cartaIdentita3000>",
            DATI,
        )
        .unwrap_err();
        assert!(e.contains("codiceIstat"), "{e}");
        let senza_data = DATI.replace(
            "<dataRiferimentoRichiesta>2025-03-01</dataRiferimentoRichiesta>",
            "",
        );
        assert!(leggi("<idANPR>X</idANPR>", &senza_data).is_err());
        let e = leggi("<codiceFiscale>RSS</codiceFiscale>", DATI).unwrap_err();
        assert!(e.contains("non valido"), "{e}");
        assert!(leggi("<idANPR>X</idANPR>", &DATI.replace(">16<", ">160<")).is_err());
    }

    #[test]
    fn la_richiesta_di_connessione() {
        let x = format!(
            r#"<a:RichiestaConnessione xmlns:a="http://sogei.it/ANPR/connessione">{TESTATA}</a:RichiestaConnessione>"#
        );
        let d = analizza(&x).unwrap();
        let t = leggi_connessione(&d, d.document_element().unwrap()).unwrap();
        assert_eq!(t.cod_mittente, "058091");
        let x = x.replace(
            "</a:RichiestaConnessione>",
            "<altro/></a:RichiestaConnessione>",
        );
        let d = analizza(&x).unwrap();
        assert!(leggi_connessione(&d, d.document_element().unwrap()).is_err());
    }
}

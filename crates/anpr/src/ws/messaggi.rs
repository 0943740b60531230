//! The 3002 and TestConn messages: requests written in the XSD's element order, answers and SOAP
//! faults read back (NOTES-ws-comuni §4–§6).
//!
//! Requests are written by hand, not through a serializer, because the schema is strict about
//! order (`idANPR` is the last element of `criteriRicerca`, for instance) and a contract test
//! validates the output against the official XSD.
//!
//! Answers are read into a small element tree first, by local name only: real answers use
//! whatever prefix the server likes (`a:`, `ns2:`…) and may carry a SOAP Header. Each
//! `datiSoggetto` is then turned into the JSON shape of the PDND `TipoDatiSoggettiEnte`, so that
//! the file writers read the 3002 answer with the same paths as a PDND one.

use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::gruppi::GruppoCampi;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Namespace of `Richiesta3002` / `Risposta3002` (children unqualified).
pub const NS_3000: &str = "http://sogei.it/ANPR/3000consultazione";
/// Namespace of `RichiestaConnessione` / `RispostaConnessione`.
pub const NS_CONNESSIONE: &str = "http://sogei.it/ANPR/connessione";
/// The ANPR interface version: values below ANPR05 are refused since 2024-07-01 (NOTES §4).
pub const COD_DESTINATARIO: &str = "ANPR05";
pub const OPERAZIONE_3002: &str = "3002";
/// `operazioneRichiesta` of TestConn. No current document gives it; the Ministry's own client
/// example (italia/anpr-client-example, `request/TestConn/testConn_FREE.req`, 2017) sends `OP01`,
/// and the field only has to be 4 characters long (`tipoOperazioneRichiesta`).
pub const OPERAZIONE_TEST_CONN: &str = "OP01";
/// `tipoOperazione`: a request on behalf of the citizen (every public sample uses it).
pub const TIPO_OPERAZIONE: &str = "C";
/// `schedaAnagraficaRichiesta`: the individual record (1). Families (2) and convivenze (3) are not
/// asked for.
pub const SCHEDA_INDIVIDUALE: &str = "1";

/// Tabella 16 (`datiAnagraficiRichiesti`) codes used here.
pub mod tabella16 {
    pub const SCHEDA_COMPLETA: u8 = 1;
    pub const GENERALITA: u8 = 2;
    pub const STATO_CIVILE: u8 = 3;
    pub const CITTADINANZA: u8 = 6;
    pub const RESIDENZA: u8 = 10;
    pub const MATRIMONIO: u8 = 13;
    pub const CARTA_IDENTITA: u8 = 16;
    pub const PERMESSO_SOGGIORNO: u8 = 17;
    pub const DOMICILIO_DIGITALE: u8 = 25;
    pub const DATI_DECESSO: u8 = 28;
}

/// The one search key of a 3002 call (NOTES §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CriterioWs {
    CodiceFiscale(String),
    /// The national identifier (9 characters), element `idANPR`.
    IdAnpr(String),
    /// Carta d'identità, electronic or paper; the issuer narrows the search when given.
    CartaIdentita {
        numero: String,
        rilascio: Option<RilascioCi>,
    },
    /// Permesso di soggiorno: ANPR wants both the questura and the number (EHR68).
    Permesso {
        questura: String,
        numero: String,
    },
    /// Passport number: ANPR holds it only inside a foreigner's permesso record.
    Passaporto(String),
}

/// Who issued a carta d'identità (`comuneRilascio` or `codiceConsolatoRilascio`, EHR41).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RilascioCi {
    Comune {
        nome: String,
        codice_istat: String,
        sigla_provincia: String,
    },
    /// The consulate's code (digits).
    Consolato(String),
}

/// The data of one `Richiesta3002`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Richiesta3002 {
    pub id_operazione_comune: String,
    /// The Comune's ISTAT code.
    pub cod_mittente: String,
    pub data_ora: DateTime<FixedOffset>,
    /// Written only when [`protocollo_valido`].
    pub protocollo_comune: Option<String>,
    /// `TEST` or `PROD`.
    pub tipo_invio: String,
    pub criterio: CriterioWs,
    pub data_riferimento: NaiveDate,
    /// Tabella 16 codes, written in the given order.
    pub dati_richiesti: Vec<u8>,
    /// `true`: every Comune (1); `false`: only the residents of `cod_mittente` (0).
    pub ricerca_nazionale: bool,
    /// Name, version and vendor of the application.
    pub applicativo: (String, String, String),
}

/// The data of one `RichiestaConnessione` (TestConn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RichiestaTestConn {
    pub id_operazione_comune: String,
    pub cod_mittente: String,
    pub data_ora: DateTime<FixedOffset>,
    pub tipo_invio: String,
    pub applicativo: (String, String, String),
}

/// `tipoProtocolloComune`: `[0-9a-zA-Z\-_/]{1,20}`.
pub fn protocollo_valido(s: &str) -> bool {
    (1..=20).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
}

/// Checks a criterion against the XSD's patterns before anything is signed, so that a bad
/// value becomes an error on its row instead of a request ANPR refuses as a whole.
pub fn valida_criterio(c: &CriterioWs) -> Result<(), String> {
    let ammessi = |s: &str, min: usize, max: usize, extra: &str| {
        let n = s.chars().count();
        (min..=max).contains(&n)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    let controlla = |ok: bool, cosa: &str, regola: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{cosa} non valido per ANPR: {regola}"))
        }
    };
    match c {
        CriterioWs::CodiceFiscale(cf) => controlla(
            ammessi(cf, 11, 16, ""),
            "codice fiscale",
            "da 11 a 16 lettere o cifre",
        ),
        CriterioWs::IdAnpr(id) => controlla(
            ammessi(id, 1, 30, ""),
            "ID ANPR",
            "lettere e cifre, al massimo 30",
        ),
        CriterioWs::CartaIdentita { numero, rilascio } => {
            controlla(
                ammessi(numero, 1, 20, " ") && !numero.trim().is_empty(),
                "numero della carta d'identità",
                "da 1 a 20 lettere, cifre o spazi",
            )?;
            match rilascio {
                None => Ok(()),
                Some(RilascioCi::Comune {
                    nome,
                    codice_istat,
                    sigla_provincia,
                }) => {
                    controlla(
                        (1..=80).contains(&nome.trim().chars().count()),
                        "comune di rilascio della carta d'identità",
                        "da 1 a 80 caratteri",
                    )?;
                    controlla(
                        codice_istat.len() == 6 && codice_istat.bytes().all(|b| b.is_ascii_digit()),
                        "codice ISTAT del comune di rilascio",
                        "6 cifre",
                    )?;
                    controlla(
                        sigla_provincia.chars().count() == 2
                            && sigla_provincia.chars().all(|c| c.is_alphabetic()),
                        "sigla della provincia di rilascio",
                        "2 lettere",
                    )
                }
                Some(RilascioCi::Consolato(codice)) => controlla(
                    (1..=7).contains(&codice.len()) && codice.bytes().all(|b| b.is_ascii_digit()),
                    "codice del consolato di rilascio",
                    "da 1 a 7 cifre",
                ),
            }
        }
        CriterioWs::Permesso { questura, numero } => {
            controlla(
                ammessi(questura, 1, 50, "'-. ()") && !questura.trim().is_empty(),
                "questura di rilascio del permesso di soggiorno",
                "da 1 a 50 lettere, cifre, spazi o ' - . ( )",
            )?;
            controlla(
                ammessi(numero, 1, 20, "-./ ") && !numero.trim().is_empty(),
                "numero del permesso di soggiorno",
                "da 1 a 20 lettere, cifre, spazi o - . /",
            )
        }
        CriterioWs::Passaporto(numero) => controlla(
            ammessi(numero, 1, 30, " ") && !numero.trim().is_empty(),
            "numero del passaporto",
            "da 1 a 30 lettere, cifre o spazi",
        ),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.sss±hh:mm`, as in every public sample.
fn data_ora(d: &DateTime<FixedOffset>) -> String {
    d.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

fn elemento(out: &mut String, nome: &str, testo: &str) {
    out.push('<');
    out.push_str(nome);
    out.push('>');
    out.push_str(&escape(testo));
    out.push_str("</");
    out.push_str(nome);
    out.push('>');
}

/// The values of a `testataRichiesta`.
struct Testata<'a> {
    id: &'a str,
    cod_mittente: &'a str,
    operazione: &'a str,
    quando: &'a DateTime<FixedOffset>,
    protocollo: Option<&'a str>,
    tipo_invio: &'a str,
    applicativo: &'a (String, String, String),
}

/// `tipoDatoTestataRichiesta`, in its sequence order.
fn testata(out: &mut String, t: &Testata<'_>) {
    out.push_str("<testataRichiesta>");
    elemento(out, "idOperazioneComune", t.id);
    elemento(out, "codMittente", t.cod_mittente);
    elemento(out, "codDestinatario", COD_DESTINATARIO);
    elemento(out, "operazioneRichiesta", t.operazione);
    elemento(out, "dataOraRichiesta", &data_ora(t.quando));
    elemento(out, "tipoOperazione", TIPO_OPERAZIONE);
    if let Some(p) = t.protocollo.filter(|p| protocollo_valido(p)) {
        elemento(out, "protocolloComune", p);
    }
    elemento(out, "tipoInvio", t.tipo_invio);
    elemento(out, "nomeApplicativo", &t.applicativo.0);
    elemento(out, "versioneApplicativo", &t.applicativo.1);
    elemento(out, "fornitoreApplicativo", &t.applicativo.2);
    out.push_str("</testataRichiesta>");
}

/// `criteriRicerca` with its one criterion (the XSD's order only matters inside the document
/// blocks, and `idANPR` is last anyway).
fn criteri(out: &mut String, c: &CriterioWs) {
    out.push_str("<criteriRicerca>");
    match c {
        CriterioWs::CodiceFiscale(cf) => elemento(out, "codiceFiscale", cf),
        CriterioWs::IdAnpr(id) => elemento(out, "idANPR", id),
        CriterioWs::CartaIdentita { numero, rilascio } => {
            out.push_str("<cartaIdentita3000>");
            match rilascio {
                Some(RilascioCi::Comune {
                    nome,
                    codice_istat,
                    sigla_provincia,
                }) => {
                    out.push_str("<comuneRilascio>");
                    elemento(out, "nomeComune", nome);
                    elemento(out, "codiceIstat", codice_istat);
                    elemento(out, "siglaProvinciaIstat", sigla_provincia);
                    out.push_str("</comuneRilascio>");
                }
                Some(RilascioCi::Consolato(codice)) => {
                    elemento(out, "codiceConsolatoRilascio", codice);
                }
                None => {}
            }
            elemento(out, "numero", numero);
            out.push_str("</cartaIdentita3000>");
        }
        CriterioWs::Permesso { questura, numero } => {
            out.push_str("<permessoDiSoggiorno3000><datiSoggiorno30XX>");
            elemento(out, "questuraRilascioSoggiorno", questura);
            elemento(out, "numeroSoggiorno", numero);
            out.push_str("</datiSoggiorno30XX></permessoDiSoggiorno3000>");
        }
        CriterioWs::Passaporto(numero) => {
            out.push_str("<permessoDiSoggiorno3000>");
            elemento(out, "numeroPassaporto", numero);
            out.push_str("</permessoDiSoggiorno3000>");
        }
    }
    out.push_str("</criteriRicerca>");
}

/// The `Richiesta3002` element (the SOAP Body's only child), declaring its own namespace.
pub fn richiesta_3002(r: &Richiesta3002) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("<ns2:Richiesta3002 xmlns:ns2=\"");
    out.push_str(NS_3000);
    out.push_str("\">");
    testata(
        &mut out,
        &Testata {
            id: &r.id_operazione_comune,
            cod_mittente: &r.cod_mittente,
            operazione: OPERAZIONE_3002,
            quando: &r.data_ora,
            protocollo: r.protocollo_comune.as_deref(),
            tipo_invio: &r.tipo_invio,
            applicativo: &r.applicativo,
        },
    );
    criteri(&mut out, &r.criterio);
    out.push_str("<datiRichiesta>");
    elemento(&mut out, "schedaAnagraficaRichiesta", SCHEDA_INDIVIDUALE);
    elemento(
        &mut out,
        "dataRiferimentoRichiesta",
        &r.data_riferimento.format("%Y-%m-%d").to_string(),
    );
    for codice in &r.dati_richiesti {
        elemento(&mut out, "datiAnagraficiRichiesti", &codice.to_string());
    }
    elemento(
        &mut out,
        "ricercaNazionale",
        if r.ricerca_nazionale { "1" } else { "0" },
    );
    out.push_str("</datiRichiesta></ns2:Richiesta3002>");
    out
}

/// The `RichiestaConnessione` element of TestConn.
pub fn richiesta_test_conn(r: &RichiestaTestConn) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<ns2:RichiestaConnessione xmlns:ns2=\"");
    out.push_str(NS_CONNESSIONE);
    out.push_str("\">");
    testata(
        &mut out,
        &Testata {
            id: &r.id_operazione_comune,
            cod_mittente: &r.cod_mittente,
            operazione: OPERAZIONE_TEST_CONN,
            quando: &r.data_ora,
            protocollo: None,
            tipo_invio: &r.tipo_invio,
            applicativo: &r.applicativo,
        },
    );
    out.push_str("</ns2:RichiestaConnessione>");
    out
}

/// The Tabella 16 codes the field groups need, sorted. Generalità (2) is always asked: the
/// identity check reads the CF from it, and ANPR returns it anyway.
///
/// 3002 cannot fill [`GruppoCampi::Famiglia`]: the family is another record
/// (`schedaAnagraficaRichiesta` 2, whose answer is not documented publicly) and stays with C021.
/// Esistenza in vita and data di decesso both come from `datiDecesso` (28).
pub fn dati_richiesti(gruppi: &BTreeSet<GruppoCampi>) -> Vec<u8> {
    use tabella16::*;
    let mut codici = BTreeSet::from([GENERALITA]);
    for g in gruppi {
        codici.extend(match g {
            GruppoCampi::IdAnpr | GruppoCampi::Generalita | GruppoCampi::Famiglia => &[][..],
            GruppoCampi::StatoCivile => &[STATO_CIVILE],
            GruppoCampi::Residenza => &[RESIDENZA],
            GruppoCampi::Cittadinanza => &[CITTADINANZA],
            GruppoCampi::DataDecesso | GruppoCampi::EsistenzaInVita => &[DATI_DECESSO],
            GruppoCampi::DomicilioDigitale => &[DOMICILIO_DIGITALE],
            GruppoCampi::Matrimonio => &[MATRIMONIO],
            GruppoCampi::Documenti => &[CARTA_IDENTITA, PERMESSO_SOGGIORNO],
        });
    }
    codici.into_iter().collect()
}

/// Whether a 3002 answer can fill the group (everything but [`GruppoCampi::Famiglia`], see
/// [`dati_richiesti`]).
pub fn copre(g: GruppoCampi) -> bool {
    g != GruppoCampi::Famiglia
}

// ---------------------------------------------------------------------------------------------
// Answers

/// `testataRisposta` (`tipoDatoTestataRisposta`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestataRisposta {
    pub id_operazione_comune: String,
    pub cod_mittente: Option<String>,
    pub cod_destinatario: Option<String>,
    pub operazione_richiesta: Option<String>,
    pub data_ora_richiesta: Option<String>,
    pub protocollo_comune: Option<String>,
    pub id_operazione_anpr: Option<String>,
    /// `0000` on OK and `XXXX` on KO in the answers seen (NOTES §4).
    pub esito_operazione: Option<String>,
}

/// One `errore` of `listaErrori` / `listaAnomalie` (`tipoErroriAnomalia`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErroreWs {
    pub codice: String,
    /// `E` blocking error, `W` warning.
    pub tipo: String,
    pub testo: String,
    pub oggetto: Option<String>,
    pub campo: Option<String>,
    pub valore: Option<String>,
}

/// What the SOAP answer says.
#[derive(Debug, Clone, PartialEq)]
pub enum RispostaSoap {
    /// `Risposta3002_OK`: each subject in the PDND JSON shape, plus the warnings of `listaAnomalie`.
    Ok3002 {
        testata: TestataRisposta,
        soggetti: Vec<Value>,
        anomalie: Vec<ErroreWs>,
    },
    /// `rispostaKO`.
    Ko {
        testata: TestataRisposta,
        errori: Vec<ErroreWs>,
    },
    /// `RispostaConnessione`.
    TestConnOk { testata: TestataRisposta },
    /// A SOAP fault (security refusals: "Rejected by policy", "Internal Error").
    Fault { codice: String, testo: String },
}

/// An element by local name, its text (entities resolved), its child elements.
#[derive(Debug, Default)]
struct Nodo {
    nome: String,
    testo: String,
    figli: Vec<Nodo>,
}

impl Nodo {
    fn figlio(&self, nome: &str) -> Option<&Nodo> {
        self.figli.iter().find(|f| f.nome == nome)
    }

    fn figli<'a>(&'a self, nome: &'a str) -> impl Iterator<Item = &'a Nodo> {
        self.figli.iter().filter(move |f| f.nome == nome)
    }

    fn testo_di(&self, nome: &str) -> Option<String> {
        self.figlio(nome).map(|f| f.testo.trim().to_string())
    }
}

fn nome_locale(qname: &str) -> String {
    qname.rsplit(':').next().unwrap_or(qname).to_string()
}

/// The document's root element as a tree. DTDs are refused: an answer never needs one.
fn albero(xml: &str) -> Result<Nodo, String> {
    let mut reader = Reader::from_str(xml);
    let mut pila: Vec<Nodo> = Vec::new();
    let mut radice: Option<Nodo> = None;
    let errore = |e: &dyn std::fmt::Display, pos: u64| format!("XML non valido (byte {pos}): {e}");
    loop {
        let pos = reader.buffer_position();
        let evento = reader.read_event().map_err(|e| errore(&e, pos))?;
        match evento {
            Event::Start(e) => pila.push(Nodo {
                nome: nome_locale(e.name().as_ref()),
                ..Nodo::default()
            }),
            Event::Empty(e) => {
                let nodo = Nodo {
                    nome: nome_locale(e.name().as_ref()),
                    ..Nodo::default()
                };
                chiudi(&mut pila, &mut radice, nodo)?;
            }
            Event::End(_) => {
                let nodo = pila
                    .pop()
                    .ok_or_else(|| "XML non valido: chiusura senza apertura".to_string())?;
                chiudi(&mut pila, &mut radice, nodo)?;
            }
            Event::Text(t) => {
                if let Some(n) = pila.last_mut() {
                    n.testo.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(n) = pila.last_mut() {
                    n.testo.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let carattere = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                        .ok_or_else(|| {
                            format!("XML non valido: entità sconosciuta &{};", r.xml10_content())
                        })?
                        .to_string(),
                    Err(e) => return Err(errore(&e, pos)),
                };
                if let Some(n) = pila.last_mut() {
                    n.testo.push_str(&carattere);
                }
            }
            Event::DocType(_) => return Err("XML non valido: DTD non ammessa".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !pila.is_empty() {
        return Err("XML non valido: documento troncato".into());
    }
    radice.ok_or_else(|| "XML non valido: nessun elemento".into())
}

fn chiudi(pila: &mut [Nodo], radice: &mut Option<Nodo>, nodo: Nodo) -> Result<(), String> {
    match pila.last_mut() {
        Some(padre) => padre.figli.push(nodo),
        None if radice.is_none() => *radice = Some(nodo),
        None => return Err("XML non valido: più di un elemento radice".into()),
    }
    Ok(())
}

/// Reads a SOAP answer of 3002 or TestConn (or a fault). The payload may also come bare,
/// without the envelope.
pub fn leggi_risposta(xml: &str) -> Result<RispostaSoap, String> {
    let radice = albero(xml)?;
    let carico = if radice.nome == "Envelope" {
        let corpo = radice.figlio("Body").ok_or("risposta SOAP senza Body")?;
        corpo
            .figli
            .first()
            .ok_or("risposta SOAP con il Body vuoto")?
    } else {
        &radice
    };
    match carico.nome.as_str() {
        "Fault" => Ok(fault(carico)),
        "Risposta3002" => {
            let interno = carico
                .figli
                .first()
                .ok_or("Risposta3002 vuota: né Risposta3002_OK né rispostaKO")?;
            risposta_3002(interno)
        }
        "Risposta3002_OK" | "rispostaKO" => risposta_3002(carico),
        "RispostaConnessione" => Ok(RispostaSoap::TestConnOk {
            testata: testata_risposta(carico)?,
        }),
        altro @ ("Richiesta3002" | "RichiestaConnessione") => Err(format!(
            "il documento è una richiesta ({altro}), non una risposta"
        )),
        altro => Err(format!("risposta SOAP inattesa: elemento {altro}")),
    }
}

/// SOAP 1.1 (`faultcode`, `faultstring`) or, to be lenient, SOAP 1.2 (`Code/Value`, `Reason/Text`).
fn fault(n: &Nodo) -> RispostaSoap {
    let codice = n
        .testo_di("faultcode")
        .or_else(|| n.figlio("Code").and_then(|c| c.testo_di("Value")))
        .unwrap_or_default();
    let testo = n
        .testo_di("faultstring")
        .or_else(|| n.figlio("Reason").and_then(|r| r.testo_di("Text")))
        .unwrap_or_default();
    RispostaSoap::Fault { codice, testo }
}

fn risposta_3002(n: &Nodo) -> Result<RispostaSoap, String> {
    let testata = testata_risposta(n)?;
    match n.nome.as_str() {
        "Risposta3002_OK" => Ok(RispostaSoap::Ok3002 {
            testata,
            soggetti: n
                .figlio("listaSoggetti")
                .into_iter()
                .flat_map(|l| l.figli("datiSoggetto"))
                .map(soggetto_json)
                .collect(),
            anomalie: errori(n.figlio("listaAnomalie")),
        }),
        "rispostaKO" => Ok(RispostaSoap::Ko {
            testata,
            errori: errori(n.figlio("listaErrori")),
        }),
        altro => Err(format!("Risposta3002 inattesa: elemento {altro}")),
    }
}

fn testata_risposta(n: &Nodo) -> Result<TestataRisposta, String> {
    let t = n
        .figlio("testataRisposta")
        .ok_or_else(|| format!("{} senza testataRisposta", n.nome))?;
    let opz = |nome: &str| t.testo_di(nome).filter(|s| !s.is_empty());
    Ok(TestataRisposta {
        id_operazione_comune: t.testo_di("idOperazioneComune").unwrap_or_default(),
        cod_mittente: opz("codMittente"),
        cod_destinatario: opz("codDestinatario"),
        operazione_richiesta: opz("operazioneRichiesta"),
        data_ora_richiesta: opz("dataOraRichiesta"),
        protocollo_comune: opz("protocolloComune"),
        id_operazione_anpr: opz("idOperazioneANPR"),
        esito_operazione: opz("esitoOperazione"),
    })
}

fn errori(lista: Option<&Nodo>) -> Vec<ErroreWs> {
    lista
        .into_iter()
        .flat_map(|l| l.figli("errore"))
        .map(errore_ws)
        .collect()
}

fn errore_ws(e: &Nodo) -> ErroreWs {
    let opz = |nome: &str| e.testo_di(nome).filter(|s| !s.is_empty());
    ErroreWs {
        codice: e.testo_di("codiceErroreAnomalia").unwrap_or_default(),
        tipo: e.testo_di("tipoErroreAnomalia").unwrap_or_default(),
        testo: e.testo_di("testoErroreAnomalia").unwrap_or_default(),
        oggetto: opz("oggettoErroreAnomalia"),
        campo: opz("campoErroreAnomalia"),
        valore: opz("valoreErroreAnomalia"),
    }
}

/// The elements of `tipoDatiRispostaEstrazioneSoggetti` (tipoDato.xsd) that may repeat
/// (`maxOccurs="unbounded"`), as paths from `datiSoggetto`: every element reachable from that type
/// was walked. These become JSON arrays even with one element, like the PDND arrays; every
/// other element becomes an object or a string.
const RIPETIBILI: &[&str] = &[
    "cittadinanza",
    "residenza",
    "altraLingua",
    "erroriAnomalie",
    "listaElettoraleCompleta/liste",
    "listaElettoraleCompleta/liste/sezione/altraLinguaSezione",
    "listaDatiPoligamia/poligamia",
];

/// `infoSoggettoEnte` entries of the PDND answers, whose ids and keys the file writer reads.
const INFO_ESISTENZA_IN_VITA: (&str, &str) = ("1003", "Verifica esistenza in vita");
const INFO_DATA_DECESSO: (&str, &str) = ("1015", "Data decesso");

fn in_json(n: &Nodo, percorso: &str) -> Value {
    if n.figli.is_empty() {
        return Value::String(n.testo.trim().to_string());
    }
    let mut m = Map::new();
    for f in &n.figli {
        let p = if percorso.is_empty() {
            f.nome.clone()
        } else {
            format!("{percorso}/{}", f.nome)
        };
        let v = in_json(f, &p);
        let ripetibile = RIPETIBILI.contains(&p.as_str());
        match m.get_mut(&f.nome) {
            Some(Value::Array(a)) if ripetibile => a.push(v),
            // An element the schema does not let repeat came twice: keep both rather than
            // lose one.
            Some(esistente) => {
                let primo = esistente.take();
                *esistente = match primo {
                    Value::Array(mut a) => {
                        a.push(v);
                        Value::Array(a)
                    }
                    altro => Value::Array(vec![altro, v]),
                };
            }
            None if ripetibile => {
                m.insert(f.nome.clone(), Value::Array(vec![v]));
            }
            None => {
                m.insert(f.nome.clone(), v);
            }
        }
    }
    Value::Object(m)
}

/// One `datiSoggetto` in the PDND shape. 3002 has death in `datiDecesso`, where PDND services
/// also put it in `infoSoggettoEnte` ("Data decesso", id 1015; "Verifica esistenza in vita",
/// id 1003): both PDND-shaped entries are added here when `datiDecesso` is present, so that the
/// file writer reads one place. "Alive" cannot be told from the answer alone: see
/// [`completa_esistenza_in_vita`].
fn soggetto_json(n: &Nodo) -> Value {
    let mut v = in_json(n, "");
    if !v.is_object() {
        v = Value::Object(Map::new());
    }
    let data = v
        .pointer("/datiDecesso/dataEvento")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    if v.get("datiDecesso").is_some() {
        let mut info = vec![json!({
            "id": INFO_ESISTENZA_IN_VITA.0,
            "chiave": INFO_ESISTENZA_IN_VITA.1,
            "valore": "N",
        })];
        if let Some(d) = data {
            info.push(json!({
                "id": INFO_DATA_DECESSO.0,
                "chiave": INFO_DATA_DECESSO.1,
                "valoreData": d,
            }));
        }
        aggiungi_info(&mut v, info);
    }
    v
}

fn aggiungi_info(soggetto: &mut Value, voci: Vec<Value>) {
    if let Some(m) = soggetto.as_object_mut() {
        match m
            .entry("infoSoggettoEnte")
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(a) => a.extend(voci),
            altro => {
                let primo = altro.take();
                let mut a = vec![primo];
                a.extend(voci);
                *altro = Value::Array(a);
            }
        }
    }
}

/// Marks the subject alive ("Verifica esistenza in vita" = S) when `datiDecesso` was asked for
/// (`decesso_richiesto`: Tabella 16 code 28 or 1) and the answer has none. Without the request
/// the absence means nothing, and nothing is added.
pub fn completa_esistenza_in_vita(soggetto: &mut Value, decesso_richiesto: bool) {
    if !decesso_richiesto || soggetto.get("datiDecesso").is_some() {
        return;
    }
    let gia = soggetto
        .get("infoSoggettoEnte")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|e| e.get("id").and_then(Value::as_str) == Some(INFO_ESISTENZA_IN_VITA.0))
        });
    if !gia {
        aggiungi_info(
            soggetto,
            vec![json!({
                "id": INFO_ESISTENZA_IN_VITA.0,
                "chiave": INFO_ESISTENZA_IN_VITA.1,
                "valore": "S",
            })],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn richiesta(criterio: CriterioWs) -> Richiesta3002 {
        Richiesta3002 {
            id_operazione_comune: "90001750000000000123".into(),
            cod_mittente: "058091".into(),
            data_ora: FixedOffset::east_opt(3600)
                .unwrap()
                .with_ymd_and_hms(2025, 3, 1, 10, 0, 0)
                .unwrap(),
            protocollo_comune: None,
            tipo_invio: "TEST".into(),
            criterio,
            data_riferimento: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            dati_richiesti: vec![2, 16],
            ricerca_nazionale: false,
            applicativo: ("Rivesto".into(), "1.2.3".into(), "Rivesto".into()),
        }
    }

    const TESTATA: &str = "<ns2:Richiesta3002 xmlns:ns2=\"http://sogei.it/ANPR/3000consultazione\">\
        <testataRichiesta><idOperazioneComune>90001750000000000123</idOperazioneComune>\
        <codMittente>058091</codMittente><codDestinatario>ANPR05</codDestinatario>\
        <operazioneRichiesta>3002</operazioneRichiesta>\
        <dataOraRichiesta>2025-03-01T10:00:00.000+01:00</dataOraRichiesta>\
        <tipoOperazione>C</tipoOperazione><tipoInvio>TEST</tipoInvio>\
        <nomeApplicativo>Rivesto</nomeApplicativo><versioneApplicativo>1.2.3</versioneApplicativo>\
        <fornitoreApplicativo>Rivesto</fornitoreApplicativo></testataRichiesta>";

    const DATI: &str = "<datiRichiesta><schedaAnagraficaRichiesta>1</schedaAnagraficaRichiesta>\
        <dataRiferimentoRichiesta>2025-03-01</dataRiferimentoRichiesta>\
        <datiAnagraficiRichiesti>2</datiAnagraficiRichiesti>\
        <datiAnagraficiRichiesti>16</datiAnagraficiRichiesti>\
        <ricercaNazionale>0</ricercaNazionale></datiRichiesta></ns2:Richiesta3002>";

    fn atteso(criteri: &str) -> String {
        format!("{TESTATA}<criteriRicerca>{criteri}</criteriRicerca>{DATI}")
    }

    #[test]
    fn one_request_per_criterion_kind() {
        let casi = [
            (
                CriterioWs::CodiceFiscale("RSSMRA80A01H501U".into()),
                "<codiceFiscale>RSSMRA80A01H501U</codiceFiscale>",
            ),
            (
                CriterioWs::IdAnpr("AB12345CD".into()),
                "<idANPR>AB12345CD</idANPR>",
            ),
            (
                CriterioWs::CartaIdentita {
                    numero: "CA00000AA".into(),
                    rilascio: None,
                },
                "<cartaIdentita3000><numero>CA00000AA</numero></cartaIdentita3000>",
            ),
            (
                CriterioWs::CartaIdentita {
                    numero: "AX 1234567".into(),
                    rilascio: Some(RilascioCi::Comune {
                        nome: "ROMA".into(),
                        codice_istat: "058091".into(),
                        sigla_provincia: "RM".into(),
                    }),
                },
                "<cartaIdentita3000><comuneRilascio><nomeComune>ROMA</nomeComune>\
                 <codiceIstat>058091</codiceIstat><siglaProvinciaIstat>RM</siglaProvinciaIstat>\
                 </comuneRilascio><numero>AX 1234567</numero></cartaIdentita3000>",
            ),
            (
                CriterioWs::CartaIdentita {
                    numero: "CA00000AA".into(),
                    rilascio: Some(RilascioCi::Consolato("1234".into())),
                },
                "<cartaIdentita3000><codiceConsolatoRilascio>1234</codiceConsolatoRilascio>\
                 <numero>CA00000AA</numero></cartaIdentita3000>",
            ),
            (
                CriterioWs::Permesso {
                    questura: "ROMA".into(),
                    numero: "I00000001".into(),
                },
                "<permessoDiSoggiorno3000><datiSoggiorno30XX>\
                 <questuraRilascioSoggiorno>ROMA</questuraRilascioSoggiorno>\
                 <numeroSoggiorno>I00000001</numeroSoggiorno></datiSoggiorno30XX>\
                 </permessoDiSoggiorno3000>",
            ),
            (
                CriterioWs::Passaporto("YA0000000".into()),
                "<permessoDiSoggiorno3000><numeroPassaporto>YA0000000</numeroPassaporto>\
                 </permessoDiSoggiorno3000>",
            ),
        ];
        for (criterio, criteri) in casi {
            assert!(valida_criterio(&criterio).is_ok(), "{criterio:?}");
            assert_eq!(richiesta_3002(&richiesta(criterio)), atteso(criteri));
        }
    }

    #[test]
    fn protocol_national_search_and_escaping() {
        let mut r = richiesta(CriterioWs::Permesso {
            questura: "L'AQUILA".into(),
            numero: "A<1>&2".into(),
        });
        r.protocollo_comune = Some("RIV-2025/7_a".into());
        r.ricerca_nazionale = true;
        r.dati_richiesti = vec![];
        let x = richiesta_3002(&r);
        assert!(
            x.contains(
                "<tipoOperazione>C</tipoOperazione><protocolloComune>RIV-2025/7_a</protocolloComune>\
                 <tipoInvio>"
            ),
            "{x}"
        );
        assert!(x.contains("<questuraRilascioSoggiorno>L&apos;AQUILA</questuraRilascioSoggiorno>"));
        assert!(x.contains("<numeroSoggiorno>A&lt;1&gt;&amp;2</numeroSoggiorno>"));
        assert!(x.contains(
            "<dataRiferimentoRichiesta>2025-03-01</dataRiferimentoRichiesta>\
             <ricercaNazionale>1</ricercaNazionale>"
        ));
        // A protocol outside the XSD's pattern is left out, not sent to be refused.
        r.protocollo_comune = Some("con spazi".into());
        assert!(!richiesta_3002(&r).contains("protocolloComune"));
        assert!(protocollo_valido("A-1_b/2") && !protocollo_valido(""));
        assert!(!protocollo_valido("123456789012345678901") && !protocollo_valido("è"));
    }

    #[test]
    fn test_conn_request() {
        let r = RichiestaTestConn {
            id_operazione_comune: "90001750000000000124".into(),
            cod_mittente: "058091".into(),
            data_ora: FixedOffset::east_opt(7200)
                .unwrap()
                .with_ymd_and_hms(2025, 7, 1, 9, 30, 5)
                .unwrap(),
            tipo_invio: "PROD".into(),
            applicativo: ("Rivesto".into(), "1.2.3".into(), "Rivesto".into()),
        };
        assert_eq!(
            richiesta_test_conn(&r),
            "<ns2:RichiestaConnessione xmlns:ns2=\"http://sogei.it/ANPR/connessione\">\
             <testataRichiesta><idOperazioneComune>90001750000000000124</idOperazioneComune>\
             <codMittente>058091</codMittente><codDestinatario>ANPR05</codDestinatario>\
             <operazioneRichiesta>OP01</operazioneRichiesta>\
             <dataOraRichiesta>2025-07-01T09:30:05.000+02:00</dataOraRichiesta>\
             <tipoOperazione>C</tipoOperazione><tipoInvio>PROD</tipoInvio>\
             <nomeApplicativo>Rivesto</nomeApplicativo><versioneApplicativo>1.2.3</versioneApplicativo>\
             <fornitoreApplicativo>Rivesto</fornitoreApplicativo></testataRichiesta>\
             </ns2:RichiestaConnessione>"
        );
    }

    #[test]
    fn criteria_outside_the_schema_are_refused() {
        let casi = [
            (
                CriterioWs::CodiceFiscale("RSSMRA80".into()),
                "codice fiscale",
            ),
            (CriterioWs::IdAnpr("AB-12".into()), "ID ANPR"),
            (
                CriterioWs::CartaIdentita {
                    numero: "CA/0000".into(),
                    rilascio: None,
                },
                "numero della carta d'identità",
            ),
            (
                CriterioWs::CartaIdentita {
                    numero: "CA00000AA".into(),
                    rilascio: Some(RilascioCi::Comune {
                        nome: "ROMA".into(),
                        codice_istat: "58091".into(),
                        sigla_provincia: "RM".into(),
                    }),
                },
                "codice ISTAT del comune di rilascio",
            ),
            (
                CriterioWs::CartaIdentita {
                    numero: "CA00000AA".into(),
                    rilascio: Some(RilascioCi::Consolato("12A".into())),
                },
                "codice del consolato",
            ),
            (
                CriterioWs::Permesso {
                    questura: "".into(),
                    numero: "I00000001".into(),
                },
                "questura",
            ),
            (
                CriterioWs::Permesso {
                    questura: "ROMA".into(),
                    numero: "I0000000100000000000001".into(),
                },
                "numero del permesso",
            ),
            (CriterioWs::Passaporto("  ".into()), "numero del passaporto"),
        ];
        for (c, atteso) in casi {
            let e = valida_criterio(&c).unwrap_err();
            assert!(e.starts_with(atteso), "{c:?}: {e}");
        }
    }

    #[test]
    fn requested_data_per_group() {
        use GruppoCampi as G;
        assert_eq!(dati_richiesti(&BTreeSet::new()), vec![2]);
        assert_eq!(
            dati_richiesti(&BTreeSet::from([G::IdAnpr, G::Generalita, G::Famiglia])),
            vec![2]
        );
        assert_eq!(
            dati_richiesti(&BTreeSet::from(GruppoCampi::ALL)),
            vec![2, 3, 6, 10, 13, 16, 17, 25, 28]
        );
        assert_eq!(
            dati_richiesti(&BTreeSet::from([G::DataDecesso, G::EsistenzaInVita])),
            vec![2, 28]
        );
        assert_eq!(
            dati_richiesti(&BTreeSet::from([G::Documenti])),
            vec![2, 16, 17]
        );
        for g in GruppoCampi::ALL {
            assert_eq!(copre(g), g != G::Famiglia, "{g:?}");
        }
    }

    /// A full `Risposta3002_OK` as the XSD allows it, with prefixes and a Header.
    const OK_UNO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Header><x:Qualcosa xmlns:x="urn:x">1</x:Qualcosa></soapenv:Header>
  <soapenv:Body>
    <a:Risposta3002 xmlns:a="http://sogei.it/ANPR/3000consultazione">
      <a:Risposta3002_OK>
        <testataRisposta>
          <idOperazioneComune>90001750000000000123</idOperazioneComune>
          <codMittente>058091</codMittente><codDestinatario>ANPR05</codDestinatario>
          <operazioneRichiesta>3002</operazioneRichiesta>
          <dataOraRichiesta>2025-03-01T10:00:00.000+01:00</dataOraRichiesta>
          <idOperazioneANPR>123456789</idOperazioneANPR><esitoOperazione>0000</esitoOperazione>
        </testataRisposta>
        <listaSoggetti>
          <datiSoggetto>
            <identificativi><idANPR>AB12345CD</idANPR></identificativi>
            <generalita>
              <codiceFiscale><codFiscale>RSSMRA80A01H501U</codFiscale><validitaCF>1</validitaCF></codiceFiscale>
              <cognome>ROSSI</cognome><nome>MARIO</nome><sesso>M</sesso>
              <dataNascita>1980-01-01</dataNascita>
              <luogoNascita><comune><nomeComune>ROMA</nomeComune><codiceIstat>058091</codiceIstat><siglaProvinciaIstat>RM</siglaProvinciaIstat></comune></luogoNascita>
            </generalita>
            <statoCivile><statoCivile>2</statoCivile></statoCivile>
            <cittadinanza><descrizioneStato>ITALIA</descrizioneStato><codiceStato>100</codiceStato></cittadinanza>
            <residenza>
              <tipoIndirizzo>1</tipoIndirizzo>
              <indirizzo>
                <cap>00184</cap>
                <comune><nomeComune>ROMA</nomeComune><codiceIstat>058091</codiceIstat><siglaProvinciaIstat>RM</siglaProvinciaIstat></comune>
                <toponimo><specie>VIA</specie><denominazioneToponimo>DEI FORI &amp; ARCHI</denominazioneToponimo></toponimo>
                <numeroCivico><numero>12</numero><lettera>B</lettera></numeroCivico>
              </indirizzo>
              <dataDecorrenzaResidenza>2010-05-04</dataDecorrenzaResidenza>
            </residenza>
            <matrimonio>
              <coniuge><codiceFiscale><codFiscale>BNCLRA82B41H501X</codFiscale></codiceFiscale><cognome>BIANCHI</cognome><nome>LAURA</nome></coniuge>
              <datiMatrimonio><dataEvento>2008-06-21</dataEvento></datiMatrimonio>
            </matrimonio>
            <cartaIdentita>
              <numero>CA00000AA</numero><dataRilascio>2020-01-10</dataRilascio>
              <cartaceaElettronica>1</cartaceaElettronica><interdizioneEspatrio>N</interdizioneEspatrio>
              <comuneRilascio><nomeComune>ROMA</nomeComune><codiceIstat>058091</codiceIstat><siglaProvinciaIstat>RM</siglaProvinciaIstat></comuneRilascio>
              <dataScadenza>2031-01-01</dataScadenza>
            </cartaIdentita>
            <domicilioDigitale><indirizzoDigitale>mario.rossi@pec.example.it</indirizzoDigitale></domicilioDigitale>
            <datiDecesso><dataEvento>2024-11-02</dataEvento></datiDecesso>
          </datiSoggetto>
        </listaSoggetti>
        <listaAnomalie>
          <errore><codiceErroreAnomalia>EN148</codiceErroreAnomalia><tipoErroreAnomalia>W</tipoErroreAnomalia>
          <testoErroreAnomalia>usare l'identificativo unico nazionale</testoErroreAnomalia></errore>
        </listaAnomalie>
      </a:Risposta3002_OK>
    </a:Risposta3002>
  </soapenv:Body>
</soapenv:Envelope>"#;

    #[test]
    fn reads_an_ok_answer_in_the_pdnd_shape() {
        let RispostaSoap::Ok3002 {
            testata,
            soggetti,
            anomalie,
        } = leggi_risposta(OK_UNO).unwrap()
        else {
            panic!("atteso Ok3002");
        };
        assert_eq!(testata.id_operazione_comune, "90001750000000000123");
        assert_eq!(testata.id_operazione_anpr.as_deref(), Some("123456789"));
        assert_eq!(testata.esito_operazione.as_deref(), Some("0000"));
        assert_eq!(testata.cod_destinatario.as_deref(), Some("ANPR05"));
        assert_eq!(anomalie.len(), 1);
        assert_eq!(anomalie[0].codice, "EN148");
        assert_eq!(anomalie[0].tipo, "W");
        assert_eq!(soggetti.len(), 1);
        let s = &soggetti[0];
        // The paths the file writer reads (crates/files/src/output/catalogo.rs, estrazione.rs).
        let p = |x: &str| s.pointer(x).and_then(Value::as_str).unwrap_or("<assente>");
        assert_eq!(p("/identificativi/idANPR"), "AB12345CD");
        assert_eq!(
            p("/generalita/codiceFiscale/codFiscale"),
            "RSSMRA80A01H501U"
        );
        assert_eq!(
            p("/generalita/luogoNascita/comune/siglaProvinciaIstat"),
            "RM"
        );
        assert_eq!(p("/statoCivile/statoCivile"), "2");
        assert_eq!(p("/cittadinanza/0/codiceStato"), "100");
        assert_eq!(p("/residenza/0/indirizzo/cap"), "00184");
        assert_eq!(
            p("/residenza/0/indirizzo/toponimo/denominazioneToponimo"),
            "DEI FORI & ARCHI"
        );
        assert_eq!(p("/residenza/0/indirizzo/numeroCivico/lettera"), "B");
        assert_eq!(
            p("/matrimonio/coniuge/codiceFiscale/codFiscale"),
            "BNCLRA82B41H501X"
        );
        assert_eq!(p("/matrimonio/datiMatrimonio/dataEvento"), "2008-06-21");
        assert_eq!(p("/cartaIdentita/numero"), "CA00000AA");
        assert_eq!(p("/cartaIdentita/comuneRilascio/nomeComune"), "ROMA");
        assert_eq!(p("/cartaIdentita/dataScadenza"), "2031-01-01");
        assert_eq!(
            p("/domicilioDigitale/indirizzoDigitale"),
            "mario.rossi@pec.example.it"
        );
        // Repeating elements are arrays even with one element; the others are not.
        assert!(s["cittadinanza"].is_array() && s["residenza"].is_array());
        assert!(s["generalita"].is_object() && s["cartaIdentita"].is_object());
        // Death as PDND's infoSoggettoEnte entries.
        let info = s["infoSoggettoEnte"].as_array().unwrap();
        assert!(info.contains(
            &json!({"id": "1003", "chiave": "Verifica esistenza in vita", "valore": "N"})
        ));
        assert!(info.contains(
            &json!({"id": "1015", "chiave": "Data decesso", "valoreData": "2024-11-02"})
        ));
        // The PDND answer type reads it as it reads a C0NN answer.
        let pdnd: crate::types::TipoDatiSoggettiEnte = serde_json::from_value(s.clone()).unwrap();
        assert_eq!(pdnd.id_anpr(), Some("AB12345CD"));
        assert_eq!(pdnd.codice_fiscale(), Some("RSSMRA80A01H501U"));
        let residenza = &pdnd.residenza.as_ref().unwrap()[0];
        assert_eq!(
            residenza.indirizzo.as_ref().unwrap().cap.as_deref(),
            Some("00184")
        );
        assert_eq!(pdnd.cittadinanza.as_ref().unwrap().len(), 1);
        assert_eq!(
            pdnd.stato_civile.unwrap().stato_civile.as_deref(),
            Some("2")
        );
        let matrimonio = pdnd.matrimonio.unwrap();
        assert_eq!(
            matrimonio.coniuge.unwrap().cognome.as_deref(),
            Some("BIANCHI")
        );
        let info = pdnd.info_soggetto_ente.unwrap();
        assert_eq!(info[1].valore_data.as_deref(), Some("2024-11-02"));
        assert_eq!(
            pdnd.dati_decesso.unwrap().data_evento.as_deref(),
            Some("2024-11-02")
        );
        // Asking for death again changes nothing.
        let mut copia = s.clone();
        completa_esistenza_in_vita(&mut copia, true);
        assert_eq!(&copia, s);
    }

    #[test]
    fn alive_only_when_death_was_asked() {
        let mut s = json!({"generalita": {"cognome": "ROSSI"}});
        completa_esistenza_in_vita(&mut s, false);
        assert!(s.get("infoSoggettoEnte").is_none());
        completa_esistenza_in_vita(&mut s, true);
        assert_eq!(
            s["infoSoggettoEnte"],
            json!([{"id": "1003", "chiave": "Verifica esistenza in vita", "valore": "S"}])
        );
        completa_esistenza_in_vita(&mut s, true);
        assert_eq!(s["infoSoggettoEnte"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn reads_a_ko_with_en122_and_en527() {
        let xml = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>
<ns2:Risposta3002 xmlns:ns2="http://sogei.it/ANPR/3000consultazione"><ns2:rispostaKO>
<testataRisposta><idOperazioneComune>90001750000000000123</idOperazioneComune><codMittente>058091</codMittente>
<codDestinatario>ANPR05</codDestinatario><operazioneRichiesta>3002</operazioneRichiesta>
<dataOraRichiesta>2025-03-01T10:00:00.000+01:00</dataOraRichiesta><esitoOperazione>XXXX</esitoOperazione></testataRisposta>
<listaErrori>
<errore><codiceErroreAnomalia>EN122</codiceErroreAnomalia><tipoErroreAnomalia>E</tipoErroreAnomalia>
<testoErroreAnomalia>La richiesta effettuata non produce alcun risultato</testoErroreAnomalia></errore>
<errore><codiceErroreAnomalia>EN527</codiceErroreAnomalia><tipoErroreAnomalia>E</tipoErroreAnomalia>
<testoErroreAnomalia>Informazioni sull'operazione da fornire in caso di assistenza : data 01/03/2025 10:00:01, idOperazioneANPR 987654321</testoErroreAnomalia>
<campoErroreAnomalia>idOperazioneANPR</campoErroreAnomalia></errore>
</listaErrori></ns2:rispostaKO></ns2:Risposta3002></S:Body></S:Envelope>"#;
        let RispostaSoap::Ko { testata, errori } = leggi_risposta(xml).unwrap() else {
            panic!("atteso Ko");
        };
        assert_eq!(testata.esito_operazione.as_deref(), Some("XXXX"));
        assert_eq!(testata.id_operazione_anpr, None);
        assert_eq!(errori.len(), 2);
        assert_eq!(errori[0].codice, "EN122");
        assert_eq!(errori[0].tipo, "E");
        assert_eq!(errori[0].campo, None);
        assert_eq!(errori[1].codice, "EN527");
        assert!(errori[1].testo.ends_with("idOperazioneANPR 987654321"));
        assert_eq!(errori[1].campo.as_deref(), Some("idOperazioneANPR"));
    }

    #[test]
    fn reads_a_multi_subject_answer() {
        let soggetto = |id: &str, cf: &str| {
            format!(
                "<datiSoggetto><identificativi><idANPR>{id}</idANPR></identificativi><generalita>\
                 <codiceFiscale><codFiscale>{cf}</codFiscale></codiceFiscale><cognome>ROSSI</cognome>\
                 <nome>MARIO</nome></generalita></datiSoggetto>"
            )
        };
        let xml = format!(
            "<Risposta3002 xmlns=\"http://sogei.it/ANPR/3000consultazione\"><Risposta3002_OK xmlns=\"\">\
             <testataRisposta><idOperazioneComune>1</idOperazioneComune><idOperazioneANPR>5</idOperazioneANPR>\
             </testataRisposta><listaSoggetti>{}{}</listaSoggetti></Risposta3002_OK></Risposta3002>",
            soggetto("AB12345CD", "RSSMRA80A01H501U"),
            soggetto("ZZ99999ZZ", "RSSMRA81A01H501Y")
        );
        let RispostaSoap::Ok3002 { soggetti, .. } = leggi_risposta(&xml).unwrap() else {
            panic!("atteso Ok3002");
        };
        assert_eq!(soggetti.len(), 2);
        assert_eq!(soggetti[1]["identificativi"]["idANPR"], "ZZ99999ZZ");
        assert_eq!(soggetti[0]["generalita"]["nome"], "MARIO");
        assert!(soggetti[0].get("infoSoggettoEnte").is_none());
    }

    #[test]
    fn reads_soap_faults_and_test_conn() {
        let fault = r#"<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>
<env:Fault><faultcode>env:Client</faultcode><faultstring>Rejected by policy. (from client)</faultstring></env:Fault>
</env:Body></env:Envelope>"#;
        assert_eq!(
            leggi_risposta(fault).unwrap(),
            RispostaSoap::Fault {
                codice: "env:Client".into(),
                testo: "Rejected by policy. (from client)".into()
            }
        );
        let fault12 = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><e:Fault>
<e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang="en">Internal Error</e:Text></e:Reason>
</e:Fault></e:Body></e:Envelope>"#;
        assert_eq!(
            leggi_risposta(fault12).unwrap(),
            RispostaSoap::Fault {
                codice: "e:Sender".into(),
                testo: "Internal Error".into()
            }
        );
        let tc = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<ns2:RispostaConnessione xmlns:ns2="http://sogei.it/ANPR/connessione"><testataRisposta>
<idOperazioneComune>77</idOperazioneComune><codMittente>058091</codMittente><idOperazioneANPR>42</idOperazioneANPR>
<esitoOperazione>0000</esitoOperazione></testataRisposta></ns2:RispostaConnessione></soapenv:Body></soapenv:Envelope>"#;
        let RispostaSoap::TestConnOk { testata } = leggi_risposta(tc).unwrap() else {
            panic!("atteso TestConnOk");
        };
        assert_eq!(testata.id_operazione_comune, "77");
        assert_eq!(testata.id_operazione_anpr.as_deref(), Some("42"));
    }

    #[test]
    fn malformed_or_unexpected_documents_are_errors() {
        let casi = [
            ("", "XML non valido: nessun elemento"),
            ("<a><b></a>", "XML non valido"),
            ("<a>", "XML non valido: documento troncato"),
            ("<a/><b/>", "più di un elemento radice"),
            (
                "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
                "DTD non ammessa",
            ),
            ("<a>&x;</a>", "entità sconosciuta"),
            (
                "<s:Envelope xmlns:s=\"u\"><s:Header/></s:Envelope>",
                "risposta SOAP senza Body",
            ),
            (
                "<s:Envelope xmlns:s=\"u\"><s:Body/></s:Envelope>",
                "Body vuoto",
            ),
            ("<Risposta3002/>", "Risposta3002 vuota"),
            (
                "<Risposta3002_OK/>",
                "Risposta3002_OK senza testataRisposta",
            ),
            (
                "<html><body>404</body></html>",
                "risposta SOAP inattesa: elemento html",
            ),
        ];
        for (xml, atteso) in casi {
            let e = leggi_risposta(xml).unwrap_err();
            assert!(e.contains(atteso), "{xml}: {e}");
        }
    }

    /// The Ministry's 2017 stub (client-example-2017/stub-3002.xml, read from
    /// $RIVESTO_ANPR_SPECS, never copied): despite its name it is a `Richiesta3002` template, not
    /// an answer, so reading it as an answer must say so rather than invent a result.
    #[test]
    fn the_2017_stub_is_a_request_and_is_told_apart() {
        let Ok(cartella) = std::env::var("RIVESTO_ANPR_SPECS") else {
            println!("stub-3002.xml non letto: RIVESTO_ANPR_SPECS non impostata");
            return;
        };
        let file =
            std::path::Path::new(&cartella).join("ws-comuni/client-example-2017/stub-3002.xml");
        let testo = std::fs::read_to_string(&file).unwrap();
        let e = leggi_risposta(&testo).unwrap_err();
        assert_eq!(
            e,
            "il documento è una richiesta (Richiesta3002), non una risposta"
        );
    }
}

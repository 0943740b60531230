//! Reads catalogue fields out of a merged ANPR `datiSoggetto` (NOTES §2.3, §2.6, §5).
//!
//! The input is plain `serde_json::Value`, so this module does not depend on the ANPR client's
//! types: the client merges the blocks that share an idANPR and hands over the object. A value
//! ANPR did not send is an empty cell, never an invented one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalogo::{CodiceCampo, Fonte};
use super::tabelle::Tabella;

/// How dates are written (DESIGN §5: `gg/mm/aaaa` by default, ISO for software).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatoData {
    #[default]
    GgMmAaaa,
    Iso,
}

/// Coded values (Tabelle 01, 05, 25, 8) as Italian text or as ANPR codes, per profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValoriCodificati {
    #[default]
    Testo,
    Codici,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpzioniEstrazione {
    pub formato_data: FormatoData,
    pub valori_codificati: ValoriCodificati,
}

/// The columns of the one-row-per-family-member file, after riferimento, tipo, identificativo.
pub const CAMPI_COMPONENTE: &[CodiceCampo] = &[
    CodiceCampo::FamigliaProgressivo,
    CodiceCampo::IdAnpr,
    CodiceCampo::CodiceFiscale,
    CodiceCampo::Cognome,
    CodiceCampo::Nome,
    CodiceCampo::Sesso,
    CodiceCampo::DataNascita,
    CodiceCampo::FamigliaLegameIntestatario,
    CodiceCampo::FamigliaDecorrenzaLegame,
];

const CHIAVE_ESISTENZA_IN_VITA: (&str, &str) = ("1003", "Verifica esistenza in vita");
const CHIAVE_DATA_DECESSO: (&str, &str) = ("1015", "Data decesso");

/// The values of `campi` for one person, in the same order.
pub fn estrai(campi: &[CodiceCampo], soggetto: &Value, opzioni: &OpzioniEstrazione) -> Vec<String> {
    estrai_con_famiglia(campi, soggetto, &[], opzioni)
}

/// As [`estrai`], with the C021 answer (one `datiSoggetto` per member, the person included), which
/// the family fields need.
pub fn estrai_con_famiglia(
    campi: &[CodiceCampo],
    soggetto: &Value,
    famiglia: &[Value],
    opzioni: &OpzioniEstrazione,
) -> Vec<String> {
    campi
        .iter()
        .map(|&c| valore(c, soggetto, famiglia, opzioni).unwrap_or_default())
        .collect()
}

/// One row per family member, with the columns of [`CAMPI_COMPONENTE`], in ANPR's order.
pub fn estrai_componenti(famiglia: &[Value], opzioni: &OpzioniEstrazione) -> Vec<Vec<String>> {
    famiglia
        .iter()
        .map(|m| estrai(CAMPI_COMPONENTE, m, opzioni))
        .collect()
}

fn valore(
    campo: CodiceCampo,
    s: &Value,
    famiglia: &[Value],
    o: &OpzioniEstrazione,
) -> Option<String> {
    let def = campo.definizione();
    let grezzo = match def.fonte {
        Fonte::Json(_) | Fonte::Ws3002(_) => {
            let p = def.fonte.percorso_json()?;
            testo_in(s, &p).or_else(|| legame_da_famiglia(campo, s, famiglia, &p))?
        }
        Fonte::Derivata(_) => return derivato(campo, s, famiglia, o),
    };
    Some(match def.tabella {
        Some(t) => decodifica(t, &grezzo, o.valori_codificati),
        None if def.data => formatta_data(&grezzo, o.formato_data),
        None => grezzo,
    })
}

/// C021 may carry the person's `legameSoggetto` only in the member block with its idANPR.
fn legame_da_famiglia(
    campo: CodiceCampo,
    s: &Value,
    famiglia: &[Value],
    p: &str,
) -> Option<String> {
    if campo != CodiceCampo::FamigliaLegameIntestatario {
        return None;
    }
    let id = testo_in(s, "identificativi.idANPR")?;
    let membro = famiglia
        .iter()
        .find(|m| testo_in(m, "identificativi.idANPR").as_deref() == Some(id.as_str()))?;
    testo_in(membro, p)
}

fn derivato(
    campo: CodiceCampo,
    s: &Value,
    famiglia: &[Value],
    o: &OpzioniEstrazione,
) -> Option<String> {
    use CodiceCampo as C;
    match campo {
        C::DataNascita => data_nascita(s, o.formato_data),
        C::StatoNascita => testo_in(s, "generalita.luogoNascita.localita.descrizioneStato")
            .or_else(|| percorso(s, "generalita.luogoNascita.comune").map(|_| "ITALIA".to_owned())),
        C::ResidenzaToponimo => unisci(
            s,
            "residenza[0].indirizzo.toponimo",
            &[("", "specie"), (" ", "denominazioneToponimo")],
        ),
        C::ResidenzaCivico => unisci(
            s,
            "residenza[0].indirizzo.numeroCivico",
            &[("", "numero"), ("/", "lettera"), (" ", "esponente1")],
        ),
        C::ResidenzaInterno => unisci(
            s,
            "residenza[0].indirizzo.numeroCivico.civicoInterno",
            &[("", "interno1"), ("/", "espInterno1")],
        ),
        C::ResidenzaEsteraIndirizzo => unisci(
            s,
            "residenza[0].localitaEstera.indirizzoEstero.toponimo",
            &[("", "denominazione"), (" ", "numeroCivico")],
        ),
        C::Cittadinanze => cittadinanze(s, o.valori_codificati),
        C::EsistenzaInVita => info_soggetto(s, CHIAVE_ESISTENZA_IN_VITA, "valore"),
        C::DataDecesso => info_soggetto(s, CHIAVE_DATA_DECESSO, "valoreData")
            .or_else(|| testo_in(s, "datiDecesso.dataEvento"))
            .map(|d| formatta_data(&d, o.formato_data)),
        C::DomicilioDigitale => domicilio_digitale(s),
        C::FamigliaComponenti => (!famiglia.is_empty()).then(|| famiglia.len().to_string()),
        C::FamigliaDecorrenzaLegame => testo_in(s, "legameSoggetto.dataDecorrenzaLegame")
            .or_else(|| testo_in(s, "legameSoggetto.dataDecorrenza"))
            .map(|d| formatta_data(&d, o.formato_data)),
        C::CartaIdentitaComuneRilascio => testo_in(s, "cartaIdentita.comuneRilascio.nomeComune")
            .or_else(|| testo_in(s, "cartaIdentita.consolatoRilascio.descrizioneConsolato")),
        _ => None,
    }
}

/// Walks a dotted path; `nome[0]` takes the first element (or the object itself, when a
/// converter turned a one-element list into an object).
fn percorso<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |v, seg| match seg.strip_suffix("[0]") {
            Some(nome) => match v.get(nome)? {
                Value::Array(a) => a.first(),
                altro => Some(altro),
            },
            None => v.get(seg),
        })
}

fn testo(v: &Value) -> Option<String> {
    let t = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!t.is_empty()).then_some(t)
}

fn testo_in(v: &Value, path: &str) -> Option<String> {
    percorso(v, path).and_then(testo)
}

/// Joins the non-empty parts of an object, each after its separator (skipped for the first part).
fn unisci(s: &Value, base: &str, parti: &[(&str, &str)]) -> Option<String> {
    let obj = percorso(s, base)?;
    let mut out = String::new();
    for (sep, chiave) in parti {
        if let Some(t) = obj.get(*chiave).and_then(testo) {
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(&t);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn elementi(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        Some(altro @ Value::Object(_)) => std::slice::from_ref(altro),
        _ => &[],
    }
}

fn cittadinanze(s: &Value, modo: ValoriCodificati) -> Option<String> {
    let (prima, seconda) = match modo {
        ValoriCodificati::Testo => ("descrizioneStato", "codiceStato"),
        ValoriCodificati::Codici => ("codiceStato", "descrizioneStato"),
    };
    let voci: Vec<String> = elementi(s.get("cittadinanza"))
        .iter()
        .filter_map(|c| {
            c.get(prima)
                .and_then(testo)
                .or_else(|| c.get(seconda).and_then(testo))
        })
        .collect();
    (!voci.is_empty()).then(|| voci.join(" | "))
}

/// `infoSoggettoEnte` entries are matched by id, or by chiave when ANPR leaves the id out.
fn info_soggetto(s: &Value, (id, chiave): (&str, &str), campo: &str) -> Option<String> {
    elementi(s.get("infoSoggettoEnte"))
        .iter()
        .find(|e| {
            e.get("id").and_then(testo).as_deref() == Some(id)
                || e.get("chiave")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.trim().eq_ignore_ascii_case(chiave))
        })
        .and_then(|e| e.get(campo))
        .and_then(testo)
}

/// NOTES §1.2: C001 carries it in `infoSoggettoEnte`, whose key is not published; the full
/// model has a `domicilioDigitale` block. Both are read.
fn domicilio_digitale(s: &Value) -> Option<String> {
    testo_in(s, "domicilioDigitale.indirizzoDigitale").or_else(|| {
        elementi(s.get("infoSoggettoEnte"))
            .iter()
            .find(|e| {
                e.get("chiave")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.to_lowercase().contains("domicilio digitale"))
            })
            .and_then(|e| e.get("valoreTesto"))
            .and_then(testo)
    })
}

fn bandiera(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => !matches!(s.trim(), "" | "0" | "N" | "n" | "false"),
        Some(Value::Number(n)) => n.as_u64() != Some(0),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}

/// A birth date without day (or without day and month) is written with what is known.
fn data_nascita(s: &Value, formato: FormatoData) -> Option<String> {
    let g = s.get("generalita")?;
    let grezzo = g.get("dataNascita").and_then(testo)?;
    let Some((a, m, gg)) = scomponi_data(&grezzo) else {
        return Some(grezzo);
    };
    Some(if bandiera(g.get("senzaGiornoMese")) {
        a.to_owned()
    } else if bandiera(g.get("senzaGiorno")) {
        match formato {
            FormatoData::GgMmAaaa => format!("{m}/{a}"),
            FormatoData::Iso => format!("{a}-{m}"),
        }
    } else {
        componi_data(a, m, gg, formato)
    })
}

/// Splits `aaaa-mm-gg` (optionally followed by a time) or `gg/mm/aaaa`.
fn scomponi_data(s: &str) -> Option<(&str, &str, &str)> {
    let cifre = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    if s.len() >= 10 && s.is_char_boundary(10) {
        let d = &s[..10];
        let (a, m, g) = (&d[..4], d.get(5..7)?, d.get(8..10)?);
        if cifre(a, 4) && cifre(m, 2) && cifre(g, 2) && &d[4..5] == "-" && &d[7..8] == "-" {
            return Some((a, m, g));
        }
    }
    let mut parti = s.split('/');
    let (g, m, a) = (parti.next()?, parti.next()?, parti.next()?);
    (parti.next().is_none() && cifre(g, 2) && cifre(m, 2) && cifre(a, 4)).then_some((a, m, g))
}

fn componi_data(a: &str, m: &str, g: &str, formato: FormatoData) -> String {
    match formato {
        FormatoData::GgMmAaaa => format!("{g}/{m}/{a}"),
        FormatoData::Iso => format!("{a}-{m}-{g}"),
    }
}

/// A date in the layout's format; a value that is not a date is written as ANPR sent it.
pub fn formatta_data(grezzo: &str, formato: FormatoData) -> String {
    match scomponi_data(grezzo.trim()) {
        Some((a, m, g)) => componi_data(a, m, g, formato),
        None => grezzo.to_owned(),
    }
}

/// An unknown code is written as the code, so nothing ANPR said is lost.
fn decodifica(t: Tabella, codice: &str, modo: ValoriCodificati) -> String {
    match modo {
        ValoriCodificati::Testo => t
            .descrizione(codice)
            .map(str::to_owned)
            .unwrap_or_else(|| Tabella::codice_normalizzato(codice)),
        ValoriCodificati::Codici => Tabella::codice_normalizzato(codice),
    }
}

#[cfg(test)]
mod tests;

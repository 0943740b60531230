//! GovWay's OpenAPI validation of a `RichiestaE002` body, written from the specs (C001, C004,
//! C021, C030): unknown members refused, every member a string or the declared object,
//! required members present, dates YYYY-MM-DD. Then the rules the schema implies for a lookup:
//! exactly one search criterion, `casoUso` equal to the service, `verifica` only where declared.

use crate::servizi::ServizioSim;
use anpr::types::RichiestaE002;
use serde_json::{Map, Value};

#[derive(Clone, Copy)]
enum Forma {
    Testo,
    Data,
    Oggetto(&'static [Membro]),
}

/// (name, shape, required)
type Membro = (&'static str, Forma, bool);

use Forma::{Data, Oggetto, Testo};

const COMUNE: &[Membro] = &[
    ("nomeComune", Testo, false),
    ("codiceIstat", Testo, false),
    ("siglaProvinciaIstat", Testo, false),
    ("descrizioneLocalita", Testo, false),
];
const LOCALITA: &[Membro] = &[
    ("descrizioneLocalita", Testo, false),
    ("descrizioneStato", Testo, false),
    ("codiceStato", Testo, false),
    ("provinciaContea", Testo, false),
];
const LUOGO: &[Membro] = &[
    ("luogoEccezionale", Testo, false),
    ("comune", Oggetto(COMUNE), false),
    ("localita", Oggetto(LOCALITA), false),
];
const DATI_NASCITA: &[Membro] = &[
    ("dataEvento", Data, false),
    ("senzaGiorno", Testo, false),
    ("senzaGiornoMese", Testo, false),
    ("luogoNascita", Oggetto(LUOGO), false),
];
const CRITERI: &[Membro] = &[
    ("codiceFiscale", Testo, false),
    ("idANPR", Testo, false),
    ("cognome", Testo, false),
    ("senzaCognome", Testo, false),
    ("nome", Testo, false),
    ("senzaNome", Testo, false),
    ("sesso", Testo, false),
    ("datiNascita", Oggetto(DATI_NASCITA), false),
];
/// C030's criteria: the same without `idANPR`.
const CRITERI_C030: &[Membro] = &[
    ("codiceFiscale", Testo, false),
    ("cognome", Testo, false),
    ("senzaCognome", Testo, false),
    ("nome", Testo, false),
    ("senzaNome", Testo, false),
    ("sesso", Testo, false),
    ("datiNascita", Oggetto(DATI_NASCITA), false),
];
const ATTO: &[Membro] = &[
    ("comuneRegistrazione", Oggetto(COMUNE), false),
    ("ufficioMunicipio", Testo, false),
    ("anno", Testo, false),
    ("parte", Testo, false),
    ("serie", Testo, false),
    ("numeroAtto", Testo, false),
    ("volume", Testo, false),
    ("dataFormazioneAtto", Data, false),
    ("trascritto", Testo, false),
];
const DATI_EVENTO: &[Membro] = &[
    ("dataEvento", Data, false),
    ("senzaGiorno", Testo, false),
    ("senzaGiornoMese", Testo, false),
    ("luogoEvento", Oggetto(LUOGO), false),
    ("attoEvento", Oggetto(ATTO), false),
];
const VERIFICA_C004: &[Membro] = &[("datiDecesso", Oggetto(DATI_EVENTO), false)];
const DATI_RICHIESTA: &[Membro] = &[
    ("dataRiferimentoRichiesta", Data, true),
    ("motivoRichiesta", Testo, true),
    ("casoUso", Testo, true),
];

fn radice(servizio: ServizioSim) -> Vec<Membro> {
    let criteri = if servizio.accetta_id_anpr() {
        CRITERI
    } else {
        CRITERI_C030
    };
    let mut v = vec![
        ("idOperazioneClient", Testo, true),
        ("criteriRicerca", Oggetto(criteri), true),
        ("datiRichiesta", Oggetto(DATI_RICHIESTA), true),
    ];
    if servizio.ammette_verifica() {
        v.push(("verifica", Oggetto(VERIFICA_C004), false));
    }
    v
}

/// Validates the body; the error is the reason GovWay would give.
pub fn valida(corpo: &[u8], servizio: ServizioSim) -> Result<RichiestaE002, String> {
    let v: Value = serde_json::from_slice(corpo).map_err(|e| format!("JSON non valido: {e}"))?;
    let o = v.as_object().ok_or("il corpo non è un oggetto JSON")?;
    controlla_oggetto(o, &radice(servizio), "")?;
    regole_della_ricerca(&v, servizio)?;
    serde_json::from_value(v).map_err(|e| format!("corpo non conforme: {e}"))
}

fn controlla_oggetto(
    o: &Map<String, Value>,
    membri: &[Membro],
    percorso: &str,
) -> Result<(), String> {
    for chiave in o.keys() {
        if !membri.iter().any(|(n, _, _)| n == chiave) {
            return Err(format!(
                "membro '{percorso}{chiave}' non previsto dallo schema"
            ));
        }
    }
    for (nome, forma, obbligatorio) in membri {
        let qui = format!("{percorso}{nome}");
        match o.get(*nome) {
            None if *obbligatorio => return Err(format!("membro obbligatorio '{qui}' assente")),
            None => {}
            Some(v) => controlla_valore(v, *forma, &qui)?,
        }
    }
    Ok(())
}

fn controlla_valore(v: &Value, forma: Forma, qui: &str) -> Result<(), String> {
    match (forma, v) {
        (Testo, Value::String(_)) => Ok(()),
        (Data, Value::String(s)) if data_valida(s) => Ok(()),
        (Data, _) => Err(format!("'{qui}' deve essere una data YYYY-MM-DD")),
        (Oggetto(m), Value::Object(o)) => controlla_oggetto(o, m, &format!("{qui}.")),
        (Oggetto(_), _) => Err(format!("'{qui}' deve essere un oggetto")),
        (Testo, _) => Err(format!("'{qui}' deve essere una stringa")),
    }
}

pub fn data_valida(s: &str) -> bool {
    s.len() == 10
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[7] == b'-'
        && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn testo<'a>(v: &'a Value, percorso: &[&str]) -> Option<&'a str> {
    percorso
        .iter()
        .try_fold(v, |v, k| v.get(*k))?
        .as_str()
        .filter(|s| !s.trim().is_empty())
}

fn regole_della_ricerca(v: &Value, servizio: ServizioSim) -> Result<(), String> {
    let caso = testo(v, &["datiRichiesta", "casoUso"]).unwrap_or_default();
    if caso != servizio.codice() {
        return Err(format!(
            "casoUso '{caso}' diverso dal servizio {}",
            servizio.codice()
        ));
    }
    let c = &v["criteriRicerca"];
    let per_cf = testo(c, &["codiceFiscale"]).is_some();
    let per_id = testo(c, &["idANPR"]).is_some();
    let anagrafici = [
        "cognome",
        "senzaCognome",
        "nome",
        "senzaNome",
        "sesso",
        "datiNascita",
    ]
    .iter()
    .any(|k| c.get(*k).is_some());
    match (per_cf, per_id, anagrafici) {
        (true, false, false) | (false, true, false) => Ok(()),
        (false, false, true) => anagrafici_completi(c),
        (false, false, false) => Err("criteriRicerca vuoto: serve un criterio di ricerca".into()),
        _ => Err("criteriRicerca deve contenere un solo criterio: codiceFiscale, idANPR o dati anagrafici".into()),
    }
}

fn anagrafici_completi(c: &Value) -> Result<(), String> {
    let manca = |m: &str| Err(format!("ricerca per dati anagrafici: manca {m}"));
    if testo(c, &["cognome"]).is_none() && testo(c, &["senzaCognome"]).is_none() {
        return manca("cognome (o senzaCognome)");
    }
    if testo(c, &["nome"]).is_none() && testo(c, &["senzaNome"]).is_none() {
        return manca("nome (o senzaNome)");
    }
    if !matches!(testo(c, &["sesso"]), Some("M" | "F")) {
        return manca("sesso (M o F)");
    }
    if testo(c, &["datiNascita", "dataEvento"]).is_none() {
        return manca("datiNascita.dataEvento");
    }
    let l = &c["datiNascita"]["luogoNascita"];
    if l.get("comune").is_none()
        && l.get("localita").is_none()
        && l.get("luogoEccezionale").is_none()
    {
        return manca("datiNascita.luogoNascita (comune, localita o luogoEccezionale)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn corpo(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    fn buona(criteri: Value, caso: &str) -> Value {
        json!({"idOperazioneClient":"1","criteriRicerca":criteri,
               "datiRichiesta":{"dataRiferimentoRichiesta":"2024-05-16","motivoRichiesta":"1","casoUso":caso}})
    }

    #[test]
    fn la_richiesta_del_client_ufficiale_passa() {
        // The body of the official Java sample (NOTES §2.8).
        let b = br#"{"idOperazioneClient":"1","criteriRicerca":{"codiceFiscale":"QNTSGT90A01H501X"},"datiRichiesta":{"dataRiferimentoRichiesta":"2024-05-16","motivoRichiesta":"1","casoUso":"C030"}}"#;
        let r = valida(b, ServizioSim::C030).unwrap();
        assert_eq!(
            r.criteri_ricerca.codice_fiscale.as_deref(),
            Some("QNTSGT90A01H501X")
        );
    }

    #[test]
    fn membri_sconosciuti_e_tipi_sbagliati_sono_rifiutati() {
        let mut v = buona(json!({"codiceFiscale":"X"}), "C020");
        v["criteriRicerca"]["numeroCartaIdentita"] = json!("CA00000AA");
        let e = valida(&corpo(v), ServizioSim::C020).unwrap_err();
        assert!(e.contains("criteriRicerca.numeroCartaIdentita"), "{e}");
        let v = buona(json!({"codiceFiscale": 5}), "C020");
        assert!(
            valida(&corpo(v), ServizioSim::C020)
                .unwrap_err()
                .contains("stringa")
        );
        let v = buona(json!({"idANPR":"AF41450AS"}), "C030");
        assert!(
            valida(&corpo(v), ServizioSim::C030)
                .unwrap_err()
                .contains("idANPR")
        );
    }

    #[test]
    fn date_casi_uso_e_criteri() {
        let mut v = buona(json!({"idANPR":"AF41450AS"}), "C020");
        v["datiRichiesta"]["dataRiferimentoRichiesta"] = json!("16/05/2024");
        assert!(
            valida(&corpo(v), ServizioSim::C020)
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        let v = buona(json!({"idANPR":"AF41450AS"}), "C015");
        assert!(
            valida(&corpo(v), ServizioSim::C020)
                .unwrap_err()
                .contains("casoUso")
        );
        let v = buona(json!({"idANPR":"AF41450AS","codiceFiscale":"X"}), "C020");
        assert!(
            valida(&corpo(v), ServizioSim::C020)
                .unwrap_err()
                .contains("un solo criterio")
        );
        let v = buona(json!({}), "C020");
        assert!(valida(&corpo(v), ServizioSim::C020).is_err());
        let v = json!({"idOperazioneClient":"1","criteriRicerca":{"idANPR":"A"}});
        assert!(
            valida(&corpo(v), ServizioSim::C020)
                .unwrap_err()
                .contains("datiRichiesta")
        );
    }

    #[test]
    fn anagrafici_e_verifica() {
        let anag = json!({"cognome":"ROSSI","nome":"LUIGI","sesso":"M",
            "datiNascita":{"dataEvento":"1990-03-24","luogoNascita":{"comune":{"nomeComune":"ROMA","siglaProvinciaIstat":"RM"}}}});
        assert!(valida(&corpo(buona(anag.clone(), "C030")), ServizioSim::C030).is_ok());
        let mut senza_sesso = anag;
        senza_sesso.as_object_mut().unwrap().remove("sesso");
        assert!(valida(&corpo(buona(senza_sesso, "C030")), ServizioSim::C030).is_err());
        let mut v = buona(json!({"idANPR":"AF41450AS"}), "C004");
        v["verifica"] = json!({"datiDecesso":{"dataEvento":"2021-11-13"}});
        assert!(valida(&corpo(v.clone()), ServizioSim::C004).is_ok());
        v["datiRichiesta"]["casoUso"] = json!("C020");
        assert!(
            valida(&corpo(v), ServizioSim::C020)
                .unwrap_err()
                .contains("verifica")
        );
    }
}

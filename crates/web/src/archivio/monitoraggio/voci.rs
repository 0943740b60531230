//! How an audit entry reads in Italian: its action's label, what it was about, and a summary of
//! its details. Database ids in the details (`convenzione_id`, `token_id`…) are never shown: the
//! pages speak in names and opaque ids only.

use crate::richieste::etichetta_stato;
use serde_json::{Map, Value};

/// Every action the archive records, with its label, in the order the filter offers them.
pub const AZIONI: &[(&str, &str)] = &[
    ("ACCESSO", "Accesso"),
    ("ACCESSO_FALLITO", "Accesso non riuscito"),
    ("ACCESSO_BLOCCATO", "Accesso sospeso per troppi tentativi"),
    ("USCITA", "Uscita"),
    ("RICHIESTA_CREATA", "Bozza creata"),
    ("RICHIESTA_SCARTATA", "Bozza scartata"),
    (
        "RICHIESTA_IN_ATTESA_CONVALIDA",
        "Richiesta inviata per la convalida",
    ),
    ("RICHIESTA_CONVALIDATA", "Richiesta approvata"),
    ("RICHIESTA_RIAVVIATA", "Richiesta ripresa dopo l'errore"),
    ("RICHIESTA_RESPINTA", "Richiesta respinta"),
    ("RICHIESTA_ANNULLATA", "Richiesta annullata"),
    ("RICHIESTA_IN_ELABORAZIONE", "Elaborazione avviata"),
    ("RICHIESTA_COMPLETATA", "Elaborazione completata"),
    ("RICHIESTA_FALLITA", "Elaborazione fallita"),
    ("RICHIESTA_SOSPESA", "Elaborazione sospesa (quota)"),
    (
        "RICHIESTA_RIPRESA",
        "Elaborazione ripresa dopo la sospensione",
    ),
    ("CHIAMATE_ANPR", "Chiamate ad ANPR"),
    ("FILE_RISPOSTA_SCRITTO", "File di risposta scritto"),
    ("FILE_RISPOSTA_SCARICATO", "File di risposta scaricato"),
    ("RISULTATI_ELIMINATI", "Dati dei risultati eliminati"),
    (
        "RICHIESTA_PURGATA",
        "Conservazione scaduta: identificativi e file eliminati",
    ),
    ("CONSULTAZIONE_SOGGETTO", "Ricerca «chi ha consultato»"),
    ("UTENTE_CREATO", "Utente creato"),
    ("UTENTE_DISATTIVATO", "Utente disattivato"),
    ("UTENTE_RIATTIVATO", "Utente riattivato"),
    ("UTENTE_EMAIL_IMPOSTATA", "E-mail dell'utente modificata"),
    ("PROFILO_IMPOSTATO", "Profilo impostato"),
    ("PASSWORD_CAMBIATA", "Password cambiata"),
    ("RESET_PASSWORD_EMESSO", "Codice di reimpostazione emesso"),
    ("RESET_PASSWORD_USATO", "Codice di reimpostazione usato"),
    ("TOTP_ISCRITTO", "Secondo fattore attivato"),
    ("TOTP_RIMOSSO", "Secondo fattore disattivato"),
    ("TOKEN_API_CREATO", "Token API creato"),
    ("TOKEN_API_REVOCATO", "Token API revocato"),
    ("COMUNE_CREATO", "Comune creato"),
    ("ENTE_CREATO", "Ente creato"),
    ("CONVENZIONE_CREATA", "Convenzione creata"),
    ("ACCESSO_ANPR_IMPOSTATO", "Accesso ANPR configurato"),
    ("ANPR_VERIFICA_STATUS", "Verifica del collegamento ANPR"),
    ("ANPR_VERIFICA_RICERCA", "Ricerca di prova su ANPR"),
];

/// The label of an action; an action this version does not know shows its code.
pub fn etichetta_azione(codice: &str) -> String {
    AZIONI
        .iter()
        .find(|(c, _)| *c == codice)
        .map_or_else(|| codice.to_string(), |(_, e)| (*e).to_string())
}

/// "top.roma (TOP)", or "sistema".
pub fn chi(attore: &str, ruolo: Option<&str>) -> String {
    match ruolo {
        Some(r) if !r.is_empty() => format!("{attore} ({r})"),
        _ => attore.to_string(),
    }
}

/// What an entry is about, in words. A request is named by the caller (it has the motivo and
/// the opaque id); here only the other kinds.
pub fn oggetto(oggetto: &str, nome_comune: Option<&str>) -> String {
    match oggetto.split_once(':') {
        Some(("utente", u)) => format!("utente {u}"),
        Some(("comune", c)) => match nome_comune {
            Some(n) => format!("Comune di {n}"),
            None => format!("Comune {c}"),
        },
        Some(("ente", e)) => format!("Ente {e}"),
        Some(("convenzione", c)) => format!("convenzione «{c}»"),
        // A draft discarded since: its number means nothing to anyone.
        Some(("richiesta", _)) => "bozza eliminata".into(),
        None if oggetto == "accesso" => "accesso con un nome utente sconosciuto".into(),
        _ => oggetto.to_string(),
    }
}

fn testo(d: &Map<String, Value>, chiave: &str) -> Option<String> {
    match d.get(chiave)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "sì" } else { "no" }.into()),
        _ => None,
    }
}

fn stato(d: &Map<String, Value>, chiave: &str) -> Option<String> {
    testo(d, chiave).map(|s| etichetta_stato(&s).to_string())
}

/// A short Italian summary of an entry's details.
pub fn riassunto(azione: &str, dettagli: &str) -> String {
    let Ok(Value::Object(d)) = serde_json::from_str::<Value>(dettagli) else {
        return String::new();
    };
    let parti: Vec<String> = match azione {
        "ACCESSO" => [
            testo(&d, "loa").map(|v| format!("livello {v}")),
            testo(&d, "metodo").map(|v| format!("metodo {v}")),
            testo(&d, "indirizzo").map(|v| format!("da {v}")),
        ]
        .into_iter()
        .flatten()
        .collect(),
        "ACCESSO_FALLITO" | "ACCESSO_BLOCCATO" => [
            testo(&d, "fase").map(|v| format!("fase {v}")),
            testo(&d, "indirizzo").map(|v| format!("da {v}")),
        ]
        .into_iter()
        .flatten()
        .collect(),
        "CHIAMATE_ANPR" => {
            let chiamate = d
                .get("chiamate")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let righe = testo(&d, "righe").unwrap_or_else(|| "0".into());
            vec![format!("{righe} righe, {chiamate} chiamate")]
        }
        "FILE_RISPOSTA_SCRITTO" | "FILE_RISPOSTA_SCARICATO" => file(&d),
        a if a.starts_with("RICHIESTA_") && d.contains_key("a") => transizione(&d),
        "RICHIESTA_SOSPESA" => testo(&d, "motivo").into_iter().collect(),
        _ => generico(&d),
    };
    parti.join("; ")
}

fn transizione(d: &Map<String, Value>) -> Vec<String> {
    let mut v = Vec::new();
    if let (Some(da), Some(a)) = (stato(d, "da"), stato(d, "a")) {
        v.push(format!("da «{da}» a «{a}»"));
    }
    if let Some(n) = testo(d, "nota") {
        v.push(format!("motivo: {}", accorcia(&n)));
    }
    v
}

fn file(d: &Map<String, Value>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(n) = testo(d, "nome").or_else(|| testo(d, "file")) {
        v.push(n);
    }
    if let Some(r) = testo(d, "righe") {
        v.push(format!("{r} righe"));
    }
    if let Some(s) = testo(d, "sha256") {
        v.push(format!("SHA-256 {s}"));
    }
    if d.get("parziale").and_then(Value::as_bool) == Some(true) {
        v.push("parziale".into());
    }
    v
}

/// Every scalar detail but database ids (`…_id`), raw instants (`…_ms`) and the worker's
/// process name.
fn generico(d: &Map<String, Value>) -> Vec<String> {
    d.iter()
        .filter(|(k, _)| !k.ends_with("_id") && !k.ends_with("_ms") && k.as_str() != "processo")
        .filter_map(|(k, v)| {
            let valore = match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => testo(d, k)?,
            };
            Some(format!("{}: {}", k.replace('_', " "), accorcia(&valore)))
        })
        .collect()
}

/// Long texts (hashes, reasons) are cut for the table; the CSV export has the same text.
fn accorcia(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn etichette() {
        assert_eq!(etichetta_azione("ACCESSO_FALLITO"), "Accesso non riuscito");
        assert_eq!(etichetta_azione("NUOVA_AZIONE"), "NUOVA_AZIONE");
        assert_eq!(chi("top.roma", Some("TOP")), "top.roma (TOP)");
        assert_eq!(chi("sistema", None), "sistema");
    }

    #[test]
    fn oggetti() {
        assert_eq!(oggetto("utente:mario", None), "utente mario");
        assert_eq!(oggetto("comune:058091", Some("Roma")), "Comune di Roma");
        assert_eq!(oggetto("comune:058091", None), "Comune 058091");
        assert_eq!(oggetto("richiesta:17", None), "bozza eliminata");
        assert_eq!(
            oggetto("accesso", None),
            "accesso con un nome utente sconosciuto"
        );
    }

    #[test]
    fn riassunti_senza_id_interni() {
        assert_eq!(
            riassunto(
                "RICHIESTA_RESPINTA",
                r#"{"da":"IN_ATTESA_CONVALIDA","a":"RESPINTA","nota":"manca il protocollo"}"#
            ),
            "da «In attesa di convalida» a «Respinta»; motivo: manca il protocollo"
        );
        assert_eq!(
            riassunto("RICHIESTA_CREATA", r#"{"convenzione_id":7,"righe":3}"#),
            "righe: 3"
        );
        assert_eq!(
            riassunto(
                "CHIAMATE_ANPR",
                r#"{"processo":"w1","righe":2,"chiamate":[{},{},{}]}"#
            ),
            "2 righe, 3 chiamate"
        );
        assert_eq!(
            riassunto(
                "PROFILO_IMPOSTATO",
                r#"{"convenzione_id":3,"campi":["generalita","residenza"],"ambito":"COMUNE"}"#
            ),
            // The details' own order (serde_json keeps it: `preserve_order`).
            "campi: generalita, residenza; ambito: COMUNE"
        );
        assert_eq!(
            riassunto(
                "ACCESSO",
                r#"{"loa":"LoA2","metodo":"totp","indirizzo":"192.0.2.1"}"#
            ),
            "livello LoA2; metodo totp; da 192.0.2.1"
        );
        assert_eq!(
            riassunto(
                "FILE_RISPOSTA_SCARICATO",
                r#"{"file":"richiesta-7-parte-001.csv","sha256":"ab"}"#
            ),
            "richiesta-7-parte-001.csv; SHA-256 ab"
        );
        assert_eq!(riassunto("X", "non json"), "");
        assert_eq!(riassunto("UTENTE_CREATO", r#"{"totp":true}"#), "totp: sì");
    }
}

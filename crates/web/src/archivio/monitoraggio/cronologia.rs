//! A request's timeline, for its detail page: who submitted it and when, who approved it (or
//! silent consent), rejections, cancellations and resumptions, processing, the ANPR call chunks
//! (counted), the files written with their SHA-256, and who downloaded which file when. It is
//! read from the request's audit entries; the caller has checked that the user may see it.

use super::voci::{chi, etichetta_azione};
use crate::ErroreWeb;
use crate::pagina::data_ora;
use crate::richieste::etichetta_stato;
use serde_json::Value;
use store::VoceAudit;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoceCronologia {
    pub quando: String,
    pub testo: String,
}

/// A download of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaricamento {
    pub nome: String,
    pub sha256: String,
    /// "mario.rossi (STANDARD), 02/03/2026 11:05".
    pub descrizione: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cronologia {
    pub voci: Vec<VoceCronologia>,
    pub scaricamenti: Vec<Scaricamento>,
}

impl Cronologia {
    /// The downloads of the file with this name and hash, oldest first.
    pub fn scaricamenti_di(&self, nome: &str, sha256: &str) -> Vec<String> {
        self.scaricamenti
            .iter()
            .filter(|s| s.nome == nome && s.sha256.eq_ignore_ascii_case(sha256))
            .map(|s| s.descrizione.clone())
            .collect()
    }
}

pub async fn cronologia(
    stato: &crate::stato::StatoApp,
    richiesta_id: i64,
) -> Result<Cronologia, ErroreWeb> {
    let c = stato.store.cronologia_richiesta(richiesta_id).await?;
    let mut out = Cronologia::default();
    let mut blocchi = match (c.primo_blocco_id, c.primo_blocco_ms, c.ultimo_blocco_ms) {
        (Some(id), Some(primo), Some(ultimo)) => {
            Some((id, blocchi_anpr(c.blocchi_anpr, primo, ultimo)))
        }
        _ => None,
    };
    for v in &c.voci {
        // The chunks' line goes where the first chunk was, among the other entries.
        if blocchi.as_ref().is_some_and(|(primo, _)| *primo < v.id)
            && let Some((_, voce)) = blocchi.take()
        {
            out.voci.push(voce);
        }
        let d: Value = serde_json::from_str(&v.dettagli).unwrap_or(Value::Null);
        if v.azione == "FILE_RISPOSTA_SCARICATO" {
            out.scaricamenti.push(Scaricamento {
                nome: campo(&d, "file"),
                sha256: campo(&d, "sha256"),
                descrizione: format!(
                    "{}, {}",
                    chi(&v.attore, v.ruolo.as_deref()),
                    data_ora(v.istante_ms)
                ),
            });
        }
        out.voci.push(VoceCronologia {
            quando: data_ora(v.istante_ms),
            testo: testo(v, &d),
        });
    }
    if let Some((_, voce)) = blocchi {
        out.voci.push(voce);
    }
    Ok(out)
}

fn blocchi_anpr(n: i64, primo: i64, ultimo: i64) -> VoceCronologia {
    let quanti = if n == 1 {
        "1 blocco di chiamate registrato".to_string()
    } else {
        format!("{n} blocchi di chiamate registrati")
    };
    VoceCronologia {
        quando: data_ora(primo),
        testo: format!(
            "Chiamate ad ANPR (sistema): {quanti}, dal {} al {}",
            data_ora(primo),
            data_ora(ultimo)
        ),
    }
}

fn campo(d: &Value, chiave: &str) -> String {
    match d.get(chiave) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The sentence of one entry.
fn testo(v: &VoceAudit, d: &Value) -> String {
    let chi = chi(&v.attore, v.ruolo.as_deref());
    let sistema = v.attore == "sistema";
    let nota = match campo(d, "nota") {
        n if n.is_empty() => String::new(),
        n => format!(": {n}"),
    };
    match v.azione.as_str() {
        "RICHIESTA_CREATA" => format!("Bozza creata da {chi} ({} righe)", campo(d, "righe")),
        "RICHIESTA_IN_ATTESA_CONVALIDA" => format!("Inviata per la convalida da {chi}"),
        "RICHIESTA_RIAVVIATA" => {
            format!("Ripresa da {chi}: saranno rielaborate solo le righe non elaborate")
        }
        "RICHIESTA_CONVALIDATA" if sistema => "Approvata per silenzio-assenso (sistema)".into(),
        "RICHIESTA_CONVALIDATA" => format!("Approvata da {chi}"),
        "RICHIESTA_RESPINTA" if sistema => format!("Respinta d'ufficio (sistema){nota}"),
        "RICHIESTA_RESPINTA" => format!("Respinta da {chi}{nota}"),
        "RICHIESTA_ANNULLATA" => format!("Annullata da {chi}"),
        "RICHIESTA_IN_ELABORAZIONE" => format!("Elaborazione avviata ({chi})"),
        "RICHIESTA_COMPLETATA" => format!("Elaborazione conclusa: completata ({chi})"),
        "RICHIESTA_FALLITA" => format!("Elaborazione interrotta: fallita ({chi}){nota}"),
        "RICHIESTA_SOSPESA" => format!("Elaborazione sospesa: {}", campo(d, "motivo")),
        "RICHIESTA_RIPRESA" => "Elaborazione ripresa dopo la sospensione (sistema)".into(),
        "FILE_RISPOSTA_SCRITTO" => file_scritto(d),
        "FILE_RISPOSTA_SCARICATO" => format!("File {} scaricato da {chi}", campo(d, "file")),
        "RISULTATI_ELIMINATI" => {
            "Dati dei risultati cancellati dal database: restano solo nei file".into()
        }
        "RICHIESTA_PURGATA" => {
            "Fine del periodo di conservazione: identificativi e file eliminati".into()
        }
        altra => match campo(d, "a") {
            a if !a.is_empty() => format!("{} ({chi})", etichetta_stato(&a)),
            _ => format!("{} ({chi})", etichetta_azione(altra)),
        },
    }
}

fn file_scritto(d: &Value) -> String {
    let parziale = if d.get("parziale").and_then(Value::as_bool) == Some(true) {
        ", parziale"
    } else {
        ""
    };
    format!(
        "File {} scritto: {} righe{parziale}, SHA-256 {}",
        campo(d, "nome"),
        campo(d, "righe"),
        campo(d, "sha256")
    )
}

#[cfg(test)]
mod test {
    use super::*;

    fn voce(attore: &str, ruolo: Option<&str>, azione: &str, dettagli: &str) -> VoceAudit {
        VoceAudit {
            id: 1,
            istante_ms: 0,
            attore: attore.into(),
            ruolo: ruolo.map(str::to_string),
            comune: None,
            ente: None,
            oggetto: "richiesta:1".into(),
            azione: azione.into(),
            dettagli: dettagli.into(),
            hash_precedente: String::new(),
            hash: String::new(),
        }
    }

    fn frase(attore: &str, ruolo: Option<&str>, azione: &str, dettagli: &str) -> String {
        let v = voce(attore, ruolo, azione, dettagli);
        testo(&v, &serde_json::from_str(dettagli).unwrap())
    }

    #[test]
    fn approvazioni_e_riprese() {
        let da = |s: &str| format!(r#"{{"da":"{s}","a":"CONVALIDATA","nota":null}}"#);
        assert_eq!(
            frase(
                "top.roma",
                Some("TOP"),
                "RICHIESTA_CONVALIDATA",
                &da("IN_ATTESA_CONVALIDA")
            ),
            "Approvata da top.roma (TOP)"
        );
        assert_eq!(
            frase(
                "sistema",
                None,
                "RICHIESTA_CONVALIDATA",
                &da("IN_ATTESA_CONVALIDA")
            ),
            "Approvata per silenzio-assenso (sistema)"
        );
        assert_eq!(
            frase(
                "top.roma",
                Some("TOP"),
                "RICHIESTA_RIAVVIATA",
                &da("FALLITA")
            ),
            "Ripresa da top.roma (TOP): saranno rielaborate solo le righe non elaborate"
        );
        assert_eq!(
            frase(
                "sistema",
                None,
                "RICHIESTA_RESPINTA",
                r#"{"da":"IN_ATTESA_CONVALIDA","a":"RESPINTA","nota":"convenzione scaduta"}"#
            ),
            "Respinta d'ufficio (sistema): convenzione scaduta"
        );
    }

    #[test]
    fn file() {
        assert_eq!(
            frase(
                "sistema",
                None,
                "FILE_RISPOSTA_SCRITTO",
                r#"{"nome":"r-1.csv","righe":5,"sha256":"ab12","dimensione":9,"parziale":true}"#
            ),
            "File r-1.csv scritto: 5 righe, parziale, SHA-256 ab12"
        );
        let c = Cronologia {
            voci: vec![],
            scaricamenti: vec![Scaricamento {
                nome: "r-1.csv".into(),
                sha256: "AB12".into(),
                descrizione: "mario".into(),
            }],
        };
        assert_eq!(c.scaricamenti_di("r-1.csv", "ab12"), ["mario"]);
        assert!(c.scaricamenti_di("r-2.csv", "ab12").is_empty());
    }
}

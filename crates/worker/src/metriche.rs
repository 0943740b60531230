//! The engine's counters and histograms (through the `metrics` facade; the binary installs the
//! Prometheus recorder, elsewhere they do nothing):
//! - `rivesto_anpr_chiamate_totale{servizio, esito}`: every lookup the client ran, by outcome
//!   (`trovato`, `non_trovato`, `ambiguo`, `errore`);
//! - `rivesto_anpr_errori_totale{servizio, codice}`: the failed ones, by ANPR error code, HTTP
//!   status (`HTTP_503`) or kind (`QUOTA_ESAURITA`, `TRANSITORIO`…);
//! - `rivesto_anpr_durata_secondi{servizio}`: each lookup's latency, retries included;
//! - `rivesto_righe_elaborate_totale{esito}`: rows whose outcome was recorded.

use anpr::client::{ErroreAnpr, EsitoAnpr, RispostaClassificata};
use anpr::servizi::Servizio;
use anpr::ws::client::{ErroreCanaleWs, Esito3002, Risposta3002Classificata};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

pub const CHIAMATE: &str = "rivesto_anpr_chiamate_totale";
pub const ERRORI: &str = "rivesto_anpr_errori_totale";
pub const DURATA: &str = "rivesto_anpr_durata_secondi";
pub const RIGHE: &str = "rivesto_righe_elaborate_totale";

/// Records one `PdndClient::chiama`.
pub fn chiamata(
    servizio: Servizio,
    esito: &Result<RispostaClassificata, ErroreAnpr>,
    durata: Duration,
) {
    let s = servizio.codice();
    let nome_esito = match esito {
        Ok(r) => match r.esito {
            EsitoAnpr::Trovato(_) => "trovato",
            EsitoAnpr::NonTrovato { .. } => "non_trovato",
            EsitoAnpr::Ambiguo(_) => "ambiguo",
        },
        Err(e) => {
            metrics::counter!(ERRORI, "servizio" => s, "codice" => codice_errore(e)).increment(1);
            "errore"
        }
    };
    metrics::counter!(CHIAMATE, "servizio" => s, "esito" => nome_esito).increment(1);
    metrics::histogram!(DURATA, "servizio" => s).record(durata.as_secs_f64());
}

/// The error's label: ANPR's own code when it sent one, else the HTTP status, else the kind.
fn codice_errore(e: &ErroreAnpr) -> String {
    match e {
        ErroreAnpr::RifiutoAnpr { codice, .. } => codice.clone(),
        ErroreAnpr::Fallita {
            status: Some(s), ..
        } => format!("HTTP_{s}"),
        ErroreAnpr::Fallita { .. } => "FALLITA".into(),
        ErroreAnpr::QuotaEsaurita { .. } => "QUOTA_ESAURITA".into(),
        ErroreAnpr::Transitorio { .. } => "TRANSITORIO".into(),
        ErroreAnpr::CircuitoAperto { .. } => "CIRCUITO_APERTO".into(),
        ErroreAnpr::PersonaDiversa { .. } => "PERSONA_DIVERSA".into(),
        ErroreAnpr::ServizioNonConfigurato(_) => "NON_CONFIGURATO".into(),
        ErroreAnpr::CriteriNonAmmessi { .. } => "CRITERI_NON_AMMESSI".into(),
        ErroreAnpr::Archivio(_) => "ARCHIVIO".into(),
        ErroreAnpr::Http(_) => "HTTP_CLIENT".into(),
        ErroreAnpr::CanaleWs(e) => codice_errore_ws(e).into(),
    }
}

fn codice_errore_ws(e: &ErroreCanaleWs) -> &'static str {
    match e {
        ErroreCanaleWs::CriterioNonAmmesso(_) => "CRITERI_NON_AMMESSI",
        ErroreCanaleWs::Fallita { .. } => "FALLITA",
        ErroreCanaleWs::Transitorio { .. } => "TRANSITORIO",
        ErroreCanaleWs::Archivio(_) => "ARCHIVIO",
        ErroreCanaleWs::Http(_) => "HTTP_CLIENT",
    }
}

/// One call on the Comune's channel (service label `3002`), like [`chiamata`].
pub fn chiamata_ws(esito: &Result<Risposta3002Classificata, ErroreCanaleWs>, durata: Duration) {
    let s = crate::canale_ws::CODICE_3002;
    let nome_esito = match esito {
        Ok(r) => match &r.esito {
            Esito3002::Trovato(_) => "trovato",
            Esito3002::NonTrovato { .. } | Esito3002::FuoriAmbito { .. } => "non_trovato",
            Esito3002::Ambiguo(_) => "ambiguo",
            Esito3002::Errore { codice, .. } => {
                let codice = if codice.is_empty() {
                    "PERSONA_DIVERSA"
                } else {
                    codice
                };
                metrics::counter!(ERRORI, "servizio" => s, "codice" => codice.to_string())
                    .increment(1);
                "errore"
            }
        },
        Err(e) => {
            metrics::counter!(ERRORI, "servizio" => s, "codice" => codice_errore_ws(e))
                .increment(1);
            "errore"
        }
    };
    metrics::counter!(CHIAMATE, "servizio" => s, "esito" => nome_esito).increment(1);
    metrics::histogram!(DURATA, "servizio" => s).record(durata.as_secs_f64());
}

/// Records the outcomes of `esiti` whose rows are among `registrate` (the rows stored).
pub fn righe(esiti: &[store::richieste::EsitoRiga], registrate: &[i64]) {
    let registrate: HashSet<i64> = registrate.iter().copied().collect();
    let mut per_esito: BTreeMap<&'static str, u64> = BTreeMap::new();
    for e in esiti.iter().filter(|e| registrate.contains(&e.riga_id)) {
        *per_esito.entry(e.esito.as_str()).or_default() += 1;
    }
    for (esito, n) in per_esito {
        metrics::counter!(RIGHE, "esito" => esito).increment(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codici_degli_errori() {
        let rifiuto = ErroreAnpr::RifiutoAnpr {
            servizio: Servizio::C030,
            status: 404,
            codice: "EN122".into(),
            testo: "soggetto non trovato".into(),
        };
        assert_eq!(codice_errore(&rifiuto), "EN122");
        let fallita = ErroreAnpr::Fallita {
            servizio: Servizio::C020,
            passo: anpr::client::Passo::Voucher,
            status: Some(401),
            spiegazione: String::new(),
            risposta: String::new(),
        };
        assert_eq!(codice_errore(&fallita), "HTTP_401");
    }
}

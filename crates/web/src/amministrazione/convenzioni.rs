//! `/amministrazione/convenzioni` (TOP): a new convention between the TOP's Comune and an Ente
//! (one already convened, one found by its code, or one just created).

use super::enti::EnteMostrato;
use super::{
    AMBITI, Campi, attore, codice_gruppo, comune_del_top, decodifica, gruppo_da, nome_ambito,
    nome_gruppo,
};
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use anpr::servizi::Servizio;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use serde::Deserialize;
use std::collections::BTreeMap;
use store::anagrafiche::{Approvazione, NuovaConvenzione};

pub(super) fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/amministrazione/convenzioni/nuova", get(modulo))
        .route("/amministrazione/convenzioni", post(crea))
}

struct Opzione {
    valore: String,
    etichetta: &'static str,
}

#[derive(Template)]
#[template(path = "amministrazione/convenzione_nuova.html")]
struct PaginaConvenzione {
    p: Pagina,
    ente: EnteMostrato,
    gruppi: Vec<Opzione>,
    ambiti: Vec<Opzione>,
    servizi: Vec<&'static str>,
    oggi: String,
    errore: Option<String>,
}

#[derive(Deserialize)]
struct PerEnte {
    ente: String,
}

async fn componi(
    stato: &StatoApp,
    u: &UtenteConnesso,
    ente_id: i64,
) -> Result<PaginaConvenzione, ErroreWeb> {
    let ente = stato.store.ente(ente_id).await?;
    Ok(PaginaConvenzione {
        p: Pagina::per(stato, u).await,
        ente: EnteMostrato::da(stato, &ente),
        gruppi: GruppoCampi::ALL
            .into_iter()
            .map(|g| Opzione {
                valore: codice_gruppo(g),
                etichetta: nome_gruppo(g),
            })
            .collect(),
        ambiti: AMBITI
            .into_iter()
            .map(|a| Opzione {
                valore: a.as_str().to_string(),
                etichetta: nome_ambito(a),
            })
            .collect(),
        servizi: Servizio::ALL.iter().map(|s| s.codice()).collect(),
        // `aaaa-mm-gg`: the only value `<input type="date">` accepts.
        oggi: store::giorno_roma(stato.adesso_ms()),
        errore: None,
    })
}

async fn modulo(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<PerEnte>,
) -> Result<Response, ErroreWeb> {
    comune_del_top(&u)?;
    // Enti are global (DESIGN §1): any existing Ente may be convened.
    let ente_id = decodifica(&stato, Tipo::Ente, &q.ente)?;
    html(&componi(&stato, &u, ente_id).await?)
}

/// Midnight in Rome of a `AAAA-MM-GG` (or `gg/mm/aaaa`) date, as epoch ms.
fn inizio_giorno(testo: &str) -> Option<i64> {
    use chrono::TimeZone as _;
    let d = NaiveDate::parse_from_str(testo.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(testo.trim(), "%d/%m/%Y"))
        .ok()?;
    chrono_tz::Europe::Rome
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.timestamp_millis())
}

fn intero_opzionale(c: &Campi, nome: &str, etichetta: &str) -> Result<Option<i64>, String> {
    match c.uno(nome).trim() {
        "" => Ok(None),
        t => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| {
                format!("{etichetta}: indichi un numero intero positivo, o lasci vuoto.")
            }),
    }
}

/// The convention described by the form, checked; messages say what to fix.
fn dal_modulo(c: &Campi, comune_id: i64, ente_id: i64) -> Result<NuovaConvenzione, String> {
    let nome = c.uno("nome").trim().to_string();
    if nome.is_empty() || nome.chars().count() > 200 {
        return Err("Indichi il nome della convenzione (al massimo 200 caratteri).".into());
    }
    let campi: Vec<GruppoCampi> = GruppoCampi::ALL
        .into_iter()
        .filter(|g| c.tutti("campi").any(|v| gruppo_da(v) == Some(*g)))
        .collect();
    if campi.is_empty() {
        return Err("Scelga almeno un gruppo di campi.".into());
    }
    let ambito = super::ambito_da(c.uno("ambito")).ok_or("Scelga l'ambito territoriale.")?;
    let approvazione = match c.uno("approvazione") {
        "MANUALE" => Approvazione::Manuale,
        "SILENZIO_ASSENSO" => {
            let ore: f64 = c
                .uno("ritardo_ore")
                .trim()
                .replace(',', ".")
                .parse()
                .unwrap_or(-1.0);
            if !(0.0..=24.0 * 90.0).contains(&ore) {
                return Err("Il ritardo del silenzio-assenso è in ore, da 0 a 2160.".into());
            }
            Approvazione::SilenzioAssenso {
                ritardo_ms: (ore * 3_600_000.0).round() as i64,
            }
        }
        _ => return Err("Scelga come si approvano le richieste.".into()),
    };
    let mut finalita = BTreeMap::new();
    for s in Servizio::ALL {
        let v = c.uno(&format!("finalita_{}", s.codice())).trim();
        if !v.is_empty() {
            finalita.insert(s.codice().to_string(), v.to_string());
        }
    }
    let valida_dal_ms =
        inizio_giorno(c.uno("valida_dal")).ok_or("Indichi la data di inizio validità.")?;
    let valida_al_ms = match c.uno("valida_al").trim() {
        "" => None,
        t => {
            Some(inizio_giorno(t).ok_or("La data di fine validità non è valida.")? + 86_400_000 - 1)
        }
    };
    if valida_al_ms.is_some_and(|al| al < valida_dal_ms) {
        return Err("La fine della validità precede l'inizio.".into());
    }
    let conservazione_giorni = match c.uno("conservazione_giorni").trim() {
        "" => 7,
        t => t
            .parse::<i64>()
            .ok()
            .filter(|g| (1..=365).contains(g))
            .ok_or("La conservazione dei file va da 1 a 365 giorni.")?,
    };
    let layout = files::output::Layout::per_gruppi(&campi);
    Ok(NuovaConvenzione {
        comune_id,
        ente_id,
        nome,
        tracciato: serde_json::to_value(layout).map_err(|e| e.to_string())?,
        campi,
        ambito,
        approvazione,
        finalita,
        valida_dal_ms,
        valida_al_ms,
        max_righe_richiesta: intero_opzionale(c, "max_righe_richiesta", "Righe per richiesta")?,
        max_soggetti_giorno: intero_opzionale(c, "max_soggetti_giorno", "Soggetti al giorno")?,
        conservazione_giorni,
        // National search is an explicit opt-in, and only under scope ITALIA (DESIGN §4).
        ricerca_nazionale: ambito == Ambito::Italia && c.uno("ricerca_nazionale") == "si",
    })
}

async fn crea(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    corpo: Bytes,
) -> Result<Response, ErroreWeb> {
    let comune_id = comune_del_top(&u)?;
    let c = Campi::da(&corpo);
    let ente_id = decodifica(&stato, Tipo::Ente, c.uno("ente"))?;
    stato.store.ente(ente_id).await?;
    match dal_modulo(&c, comune_id, ente_id) {
        Ok(nuova) => {
            let a = attore(&stato, &u).await?;
            stato.store.crea_convenzione(&nuova, &a).await?;
            let pubblico = stato.ids.codifica(Tipo::Ente, ente_id);
            Ok(Redirect::to(&format!("/amministrazione/enti/{pubblico}")).into_response())
        }
        Err(m) => {
            let mut p = componi(&stato, &u, ente_id).await?;
            p.errore = Some(m);
            Ok((StatusCode::BAD_REQUEST, html(&p)?).into_response())
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn campi(coppie: &[(&str, &str)]) -> Campi {
        Campi(
            coppie
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn convenzione_dal_modulo() {
        let c = campi(&[
            ("nome", "Verifiche"),
            ("campi", "residenza"),
            ("campi", "generalita"),
            ("ambito", "COMUNE"),
            ("approvazione", "SILENZIO_ASSENSO"),
            ("ritardo_ore", "1,5"),
            ("finalita_C030", "purpose-1"),
            ("valida_dal", "2026-03-01"),
            ("valida_al", "2026-12-31"),
            ("max_righe_richiesta", "1000"),
            ("ricerca_nazionale", "si"),
        ]);
        let n = dal_modulo(&c, 1, 2).unwrap();
        assert_eq!(n.campi, [GruppoCampi::Generalita, GruppoCampi::Residenza]);
        assert_eq!(
            n.approvazione,
            Approvazione::SilenzioAssenso {
                ritardo_ms: 5_400_000
            }
        );
        assert_eq!(
            n.finalita.get("C030").map(String::as_str),
            Some("purpose-1")
        );
        // 2026-03-01 00:00 in Rome is 2026-02-28T23:00Z.
        assert_eq!(n.valida_dal_ms, 1_772_319_600_000);
        assert_eq!(n.max_righe_richiesta, Some(1000));
        assert_eq!(n.max_soggetti_giorno, None);
        assert_eq!(n.conservazione_giorni, 7);
        assert!(!n.ricerca_nazionale, "only under ITALIA");
        assert_eq!(
            n.tracciato,
            serde_json::to_value(files::output::Layout::per_gruppi(&n.campi)).unwrap()
        );
        let senza_campi = campi(&[
            ("nome", "x"),
            ("ambito", "COMUNE"),
            ("approvazione", "MANUALE"),
        ]);
        assert!(
            dal_modulo(&senza_campi, 1, 2)
                .unwrap_err()
                .contains("gruppo")
        );
    }
}

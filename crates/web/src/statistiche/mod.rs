//! Statistics pages (issue 6): periods, breakdowns, server-rendered SVG charts with their data
//! tables, CSV and XLSX exports.
//!
//! `GET /statistiche` (TOP: its Comune; ADMIN: its Ente; STANDARD: refused) takes a GET form:
//! `periodo` (giorno, settimana, mese), `dal` and `al` (`aaaa-mm-gg` as a date input sends it,
//! or `gg/mm/aaaa` typed by hand; default the last 30 days), `ripartizione` (totale, ente,
//! utente, convenzione, esito, servizio). `GET /statistiche/export.csv` and `export.xlsx` take
//! the same query and export the same view; the CSV holds the figures, or the quota lines with
//! `tabella=quota`. What each number counts is documented in `store::statistiche`.

mod esporta;
mod formato;
mod grafici;
mod vista;

use crate::ErroreWeb;
use crate::pagina::{Pagina, html};
use crate::richieste::ambito_monitor;
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use store::elenchi::AmbitoElenco;
use store::statistiche::{FiltroStatistiche, Periodo, Ripartizione, Statistiche};
use vista::{GraficoVista, QuoteConfigurate, Tabella};

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/statistiche", get(pagina))
        .route("/statistiche/export.csv", get(esporta_csv))
        .route("/statistiche/export.xlsx", get(esporta_xlsx))
}

/// The default range: the last 30 days, today included.
const GIORNI_PREDEFINITI: u64 = 30;

#[derive(Debug, Default, Deserialize)]
pub struct QueryStatistiche {
    periodo: Option<String>,
    dal: Option<String>,
    al: Option<String>,
    ripartizione: Option<String>,
    tabella: Option<String>,
}

/// `aaaa-mm-gg` (a date input) or `gg/mm/aaaa` (typed by hand).
fn leggi_data(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

fn oggi(stato: &StatoApp) -> NaiveDate {
    NaiveDate::parse_from_str(&store::giorno_roma(stato.adesso_ms()), "%Y-%m-%d")
        .unwrap_or_default()
}

/// The filter the query asks for, or what is wrong with it (shown above the form).
fn filtro(
    ambito: AmbitoElenco,
    q: &QueryStatistiche,
    oggi: NaiveDate,
) -> Result<FiltroStatistiche, String> {
    fn valore(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let periodo = match valore(&q.periodo) {
        None => Periodo::Giorno,
        Some(p) => {
            Periodo::parse(p).ok_or("Periodo sconosciuto: scelga giorno, settimana o mese.")?
        }
    };
    let ripartizione = match valore(&q.ripartizione) {
        None => Ripartizione::Totale,
        Some(r) => Ripartizione::parse(r)
            .ok_or("Ripartizione sconosciuta: scelga una delle voci dell'elenco.")?,
    };
    let data = |v: &Option<String>, nome: &str, predefinita: NaiveDate| match valore(v) {
        None => Ok(predefinita),
        Some(s) => leggi_data(s).ok_or(format!(
            "La data {nome} «{s}» non è valida: la scriva come gg/mm/aaaa, per esempio 02/03/2026."
        )),
    };
    let al = data(&q.al, "finale", oggi)?;
    let dal = data(
        &q.dal,
        "iniziale",
        al.checked_sub_days(Days::new(GIORNI_PREDEFINITI - 1))
            .unwrap_or(al),
    )?;
    FiltroStatistiche::nuovo(ambito, dal, al, periodo, ripartizione).map_err(|e| {
        let mut m = e.to_string();
        if let Some(prima) = m.get(..1) {
            m = prima.to_uppercase() + &m[1..];
        }
        m + "."
    })
}

/// The query of a view, for its export links.
fn query_di(f: &FiltroStatistiche) -> String {
    format!(
        "periodo={}&dal={}&al={}&ripartizione={}",
        f.periodo().as_str(),
        f.dal().format("%Y-%m-%d"),
        f.al().format("%Y-%m-%d"),
        f.ripartizione().as_str()
    )
}

/// The daily quotas in each Comune's onboarding TOML (`[anpr.quotas]`, calls per service per
/// day). A Comune without access or without a quota for a service: "not configured".
async fn quote_configurate(stato: &StatoApp, comuni: BTreeSet<i64>) -> QuoteConfigurate {
    let mut out = BTreeMap::new();
    for id in comuni {
        let testo = match stato.store.accesso_anpr(id, &stato.chiave).await {
            Ok(Some(a)) => a.toml,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(comune = id, errore = %e, "quote giornaliere non leggibili");
                continue;
            }
        };
        out.insert(id, quote_da_toml(&testo));
    }
    out
}

fn quote_da_toml(testo: &str) -> BTreeMap<String, i64> {
    let Ok(radice) = testo.parse::<toml::Table>() else {
        return BTreeMap::new();
    };
    radice
        .get("anpr")
        .and_then(|a| a.get("quotas"))
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.iter()
                .filter_map(|(s, v)| Some((s.clone(), v.as_integer()?)))
                .collect()
        })
        .unwrap_or_default()
}

pub struct Opzione {
    pub valore: &'static str,
    pub etichetta: &'static str,
    pub scelta: bool,
}

/// What a view shows once its figures are read.
pub struct Risultato {
    pub intervallo: String,
    pub vuota: bool,
    pub riepilogo: Tabella,
    pub grafici: Vec<GraficoVista>,
    pub quota: Option<GraficoVista>,
    pub nota_quota: &'static str,
    pub query: String,
}

#[derive(Template)]
#[template(path = "statistiche/pagina.html")]
struct PaginaStatistiche {
    p: Pagina,
    ambito: &'static str,
    periodi: Vec<Opzione>,
    ripartizioni: Vec<Opzione>,
    dal: String,
    al: String,
    errore: Option<String>,
    risultato: Option<Risultato>,
}

/// The figures of a filter and the quotas they are measured against.
async fn leggi(
    stato: &StatoApp,
    f: &FiltroStatistiche,
) -> Result<(Statistiche, QuoteConfigurate), ErroreWeb> {
    let st = stato.store.statistiche(f).await?;
    let comuni = st.quote.iter().map(|q| q.comune_id).collect();
    let quote = quote_configurate(stato, comuni).await;
    Ok((st, quote))
}

async fn risultato(stato: &StatoApp, f: &FiltroStatistiche) -> Result<Risultato, ErroreWeb> {
    let (st, quote) = leggi(stato, f).await?;
    Ok(Risultato {
        intervallo: format!(
            "dal {} al {}, per {}",
            formato::data(f.dal()),
            formato::data(f.al()),
            vista::nome_periodo(f.periodo()).to_lowercase()
        ),
        vuota: st.vuota(),
        riepilogo: vista::riepilogo(f, &st),
        grafici: vista::grafici(f, &st),
        quota: vista::grafico_quota(f, &st, &quote),
        nota_quota: vista::nota_quota(st.fonte_quota),
        query: query_di(f),
    })
}

fn opzioni<T: Copy + PartialEq>(
    tutte: &[T],
    scelta: Option<T>,
    valore: fn(T) -> &'static str,
    etichetta: fn(T) -> &'static str,
) -> Vec<Opzione> {
    tutte
        .iter()
        .map(|t| Opzione {
            valore: valore(*t),
            etichetta: etichetta(*t),
            scelta: Some(*t) == scelta,
        })
        .collect()
}

pub async fn pagina(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryStatistiche>,
) -> Result<Response, ErroreWeb> {
    let ambito = ambito_monitor(&u)?;
    let esito = filtro(ambito, &q, oggi(&stato));
    let (periodo, ripartizione) = match &esito {
        Ok(f) => (Some(f.periodo()), Some(f.ripartizione())),
        Err(_) => (
            q.periodo.as_deref().and_then(Periodo::parse),
            q.ripartizione.as_deref().and_then(Ripartizione::parse),
        ),
    };
    let (dal, al, errore, risultato) = match &esito {
        Ok(f) => (
            f.dal().format("%Y-%m-%d").to_string(),
            f.al().format("%Y-%m-%d").to_string(),
            None,
            Some(risultato(&stato, f).await?),
        ),
        Err(m) => (
            q.dal.clone().unwrap_or_default(),
            q.al.clone().unwrap_or_default(),
            Some(m.clone()),
            None,
        ),
    };
    let pagina = PaginaStatistiche {
        p: Pagina::per(&stato, &u).await,
        ambito: match ambito {
            AmbitoElenco::Comune(_) => "Le richieste sulle convenzioni del Comune",
            _ => "Le richieste dell'ente",
        },
        periodi: opzioni(&Periodo::ALL, periodo, Periodo::as_str, vista::nome_periodo),
        ripartizioni: opzioni(
            &Ripartizione::ALL,
            ripartizione,
            Ripartizione::as_str,
            vista::nome_ripartizione,
        ),
        dal,
        al,
        errore,
        risultato,
    };
    let mut r = html(&pagina)?;
    if esito.is_err() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// The filter of an export: the page's, or 400 with what is wrong.
fn filtro_export(
    stato: &StatoApp,
    u: &UtenteConnesso,
    q: &QueryStatistiche,
) -> Result<FiltroStatistiche, ErroreWeb> {
    let ambito = ambito_monitor(u)?;
    filtro(ambito, q, oggi(stato)).map_err(ErroreWeb::NonValido)
}

fn allegato(tipo: &str, nome: String, corpo: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, tipo.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{nome}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        corpo,
    )
        .into_response()
}

fn nome_file(f: &FiltroStatistiche, parte: &str, estensione: &str) -> String {
    format!(
        "statistiche{parte}-{}-{}-{}.{estensione}",
        f.dal().format("%Y%m%d"),
        f.al().format("%Y%m%d"),
        f.periodo().as_str()
    )
}

pub async fn esporta_csv(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryStatistiche>,
) -> Result<Response, ErroreWeb> {
    let f = filtro_export(&stato, &u, &q)?;
    let (st, quote) = leggi(&stato, &f).await?;
    let (parte, foglio) = match q.tabella.as_deref() {
        Some("quota") => (
            "-quota",
            esporta::foglio_quota(&f, &st, &vista::linee_quota(&st, &quote)),
        ),
        None | Some("") | Some("cifre") => ("", esporta::foglio_cifre(&f, &st)),
        Some(_) => {
            return Err(ErroreWeb::NonValido(
                "Tabella sconosciuta: scelga «cifre» o «quota».".into(),
            ));
        }
    };
    Ok(allegato(
        "text/csv; charset=utf-8",
        nome_file(&f, parte, "csv"),
        esporta::csv(&foglio),
    ))
}

pub async fn esporta_xlsx(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryStatistiche>,
) -> Result<Response, ErroreWeb> {
    let f = filtro_export(&stato, &u, &q)?;
    let (st, quote) = leggi(&stato, &f).await?;
    let cifre = esporta::foglio_cifre(&f, &st);
    let quota = esporta::foglio_quota(&f, &st, &vista::linee_quota(&st, &quote));
    Ok(allegato(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        nome_file(&f, "", "xlsx"),
        esporta::xlsx(&cifre, &quota)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(periodo: &str, dal: &str, al: &str, rip: &str) -> QueryStatistiche {
        let s = |v: &str| Some(v.to_string());
        QueryStatistiche {
            periodo: s(periodo),
            dal: s(dal),
            al: s(al),
            ripartizione: s(rip),
            tabella: None,
        }
    }

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    #[test]
    fn filtro_dal_modulo() {
        let oggi = d(2026, 3, 2);
        let a = AmbitoElenco::Comune(1);
        // Defaults: the last 30 days by day, no breakdown.
        let f = filtro(a, &QueryStatistiche::default(), oggi).unwrap();
        assert_eq!((f.dal(), f.al()), (d(2026, 2, 1), oggi));
        assert_eq!(
            (f.periodo(), f.ripartizione()),
            (Periodo::Giorno, Ripartizione::Totale)
        );
        // Both date forms.
        let f = filtro(a, &q("mese", "02/03/2026", "2026-03-15", "utente"), oggi).unwrap();
        assert_eq!((f.dal(), f.al()), (d(2026, 3, 2), d(2026, 3, 15)));
        assert_eq!(f.ripartizione(), Ripartizione::Utente);
        assert_eq!(
            filtro(a, &q("giorno", "31/02/2026", "", ""), oggi).unwrap_err(),
            "La data iniziale «31/02/2026» non è valida: la scriva come gg/mm/aaaa, per esempio 02/03/2026."
        );
        assert_eq!(
            filtro(a, &q("giorno", "2026-03-10", "2026-03-01", ""), oggi).unwrap_err(),
            "La data iniziale (10/03/2026) è successiva a quella finale (01/03/2026)."
        );
        assert!(filtro(a, &q("anno", "", "", ""), oggi).is_err());
    }

    #[test]
    fn quote_dal_toml() {
        let t = "[anpr]\nclient_id = \"x\"\n[anpr.quotas]\nC030 = 5000\nC020 = 10\n";
        let q = quote_da_toml(t);
        assert_eq!(q.get("C030"), Some(&5000));
        assert_eq!(q.get("C020"), Some(&10));
        assert!(quote_da_toml("[anpr]\nclient_id = \"x\"\n").is_empty());
        assert!(quote_da_toml("non toml [").is_empty());
    }
}

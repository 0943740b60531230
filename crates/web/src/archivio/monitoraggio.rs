//! The monitoring pages (issue 6): the request list `/monitoraggio` (TOP and ADMIN) and the
//! activity log `/archivio` over the audit entries (every role), both with filters (user, Ente,
//! convention, dates, action, request, outcome) and a CSV export of the same view; and each
//! request's timeline ([`cronologia`]), shown on its detail page.
//!
//! Scope: a TOP sees its Comune, an ADMIN its Ente (only under the managing Comune's
//! conventions when the account has one), a STANDARD its own requests and sign-ins. The scope
//! is a condition of the store's queries (`store::registro`); an id in a filter that lies
//! outside it answers 404, like one that does not exist.

pub(crate) mod cronologia;
mod csv;
mod filtri;
mod voci;

use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, data_ora, html};
use crate::richieste::{VoceVista, ambito_monitor, etichetta_stato};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use filtri::{Filtri, ModuloFiltri, Osservatore, QueryFiltri, Scelte};
use store::elenchi::VoceRichiesta;
use store::registro::{AmbitoRegistro, FiltroMonitoraggio, FiltroRegistro, VoceRegistro};

/// Rows a page shows; more than that asks to narrow the filters.
const LIMITE_PAGINA: i64 = 200;
/// Rows an export holds at most.
const LIMITE_CSV: i64 = 10_000;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/monitoraggio", get(richieste))
        .route("/archivio", get(registro))
}

/// What the page says about the user's scope.
async fn descrizione(stato: &StatoApp, o: Osservatore) -> Result<String, ErroreWeb> {
    Ok(match o {
        Osservatore::Top { comune_id } => {
            format!("Comune di {}", stato.store.comune(comune_id).await?.nome)
        }
        Osservatore::Admin { ente_id, comune_id } => {
            let ente = stato.store.ente(ente_id).await?.nome;
            match comune_id {
                Some(c) => format!(
                    "{ente}, convenzioni con il Comune di {}",
                    stato.store.comune(c).await?.nome
                ),
                None => ente,
            }
        }
        Osservatore::Standard => "le sue richieste e i suoi accessi".into(),
    })
}

/// An HTML page, 400 when the form holds a mistake to fix.
fn pagina<T: Template>(t: &T, errore: bool) -> Result<Response, ErroreWeb> {
    let r = html(t)?;
    Ok(if errore {
        (StatusCode::BAD_REQUEST, r).into_response()
    } else {
        r
    })
}

/// A file name with today's date (Europe/Rome, by the app's clock).
fn nome_file(stato: &StatoApp, prefisso: &str) -> String {
    format!("{prefisso}-{}.csv", store::giorno_roma(stato.adesso_ms()))
}

// --- Requests --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "richieste/monitoraggio.html")]
struct PaginaMonitoraggio {
    p: Pagina,
    ambito: String,
    filtri: ModuloFiltri,
    errore: Option<String>,
    voci: Vec<VoceVista>,
    altre: bool,
    limite: i64,
    limite_csv: i64,
    filtrato: bool,
}

fn filtro_richieste(
    ambito: store::elenchi::AmbitoElenco,
    f: &Filtri,
    limite: i64,
) -> FiltroMonitoraggio {
    let (dal_ms, al_ms) = f.intervallo_ms();
    FiltroMonitoraggio {
        ambito,
        richiedente: f.utente.clone(),
        ente_id: f.ente.as_ref().map(|e| e.id),
        convenzione_id: f.convenzione.as_ref().map(|c| c.id),
        dal_ms,
        al_ms,
        stato: f.stato.map(|s| s.as_str().to_string()),
        richiesta_id: f.richiesta,
        limite,
    }
}

/// GET `/monitoraggio`: the requests of the TOP's Comune or the ADMIN's Ente, filtered.
async fn richieste(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryFiltri>,
) -> Result<Response, ErroreWeb> {
    let ambito = ambito_monitor(&u)?;
    let o = Osservatore::di(&u)?;
    let scelte = Scelte::di(&stato, &u, o).await?;
    let (f, errore) = filtri::leggi(&stato, &u, o, &scelte, &q, |q| &q.stato).await?;
    if q.csv() && errore.is_none() {
        let filtro = filtro_richieste(ambito, &f, LIMITE_CSV);
        let elenco = stato.store.richieste_monitorate(&filtro).await?;
        return Ok(csv_richieste(&stato, elenco.voci).risposta(&nome_file(&stato, "richieste")));
    }
    let filtro = filtro_richieste(ambito, &f, LIMITE_PAGINA);
    let elenco = stato.contatori.monitorate(&stato.store, &filtro).await?;
    let filtri = ModuloFiltri::nuovo(&stato, "/monitoraggio", o, &scelte, &f, &q, "stato", false);
    let t = PaginaMonitoraggio {
        p: Pagina::per(&stato, &u).await,
        ambito: descrizione(&stato, o).await?,
        filtri,
        voci: VoceVista::tutte(&stato, elenco.voci, u.utente.id).await?,
        altre: elenco.altre,
        limite: LIMITE_PAGINA,
        limite_csv: LIMITE_CSV,
        filtrato: f.attivi(),
        errore,
    };
    pagina(&t, t.errore.is_some())
}

fn csv_richieste(stato: &StatoApp, voci: Vec<VoceRichiesta>) -> csv::Csv {
    let mut c = csv::Csv::nuovo(&[
        "richiesta",
        "inviata",
        "creata",
        "motivo",
        "convenzione",
        "comune",
        "ente",
        "richiedente",
        "stato",
        "righe",
        "righe_completate",
    ]);
    for v in voci {
        let r = &v.richiesta;
        c.riga([
            stato.ids.codifica(Tipo::Richiesta, r.id).as_str(),
            &r.inviata_ms.map(data_ora).unwrap_or_default(),
            &data_ora(r.creata_ms),
            &r.motivo,
            &v.convenzione,
            &v.comune,
            &v.ente,
            &v.richiedente,
            etichetta_stato(&r.stato),
            &v.righe_totali.to_string(),
            &v.righe_finali.to_string(),
        ]);
    }
    c
}

// --- Activity log ----------------------------------------------------------------------------

/// One entry as the log shows it.
pub struct VoceRegistroVista {
    pub quando: String,
    /// "top.roma (TOP)"; the CSV has the two apart.
    pub chi: String,
    pub attore: String,
    pub ruolo: String,
    /// The Ente and Comune the entry belongs to.
    pub ambito: String,
    pub azione: String,
    pub codice_azione: String,
    pub oggetto: String,
    /// The request's page, when the entry is about one the user may open.
    pub url: Option<String>,
    /// The request's opaque id (CSV).
    pub richiesta: String,
    pub dettagli: String,
}

#[derive(Template)]
#[template(path = "archivio/registro.html")]
struct PaginaRegistro {
    p: Pagina,
    ambito: String,
    filtri: ModuloFiltri,
    errore: Option<String>,
    voci: Vec<VoceRegistroVista>,
    altre: bool,
    limite: i64,
    limite_csv: i64,
    filtrato: bool,
}

/// The store's scope of the log for this user.
async fn ambito_registro(
    stato: &StatoApp,
    u: &UtenteConnesso,
    o: Osservatore,
) -> Result<AmbitoRegistro, ErroreWeb> {
    Ok(match o {
        Osservatore::Top { comune_id } => {
            AmbitoRegistro::Comune(stato.store.comune(comune_id).await?.codice_istat)
        }
        Osservatore::Admin { ente_id, comune_id } => AmbitoRegistro::Ente {
            ente: stato.store.ente(ente_id).await?.codice,
            comune: match comune_id {
                Some(c) => Some(stato.store.comune(c).await?.codice_istat),
                None => None,
            },
        },
        Osservatore::Standard => AmbitoRegistro::Utente {
            id: u.utente.id,
            username: u.utente.username.clone(),
        },
    })
}

fn filtro_registro(ambito: AmbitoRegistro, f: &Filtri, limite: i64) -> FiltroRegistro {
    let (dal_ms, al_ms) = f.intervallo_ms();
    FiltroRegistro {
        ambito,
        attore: f.utente.clone(),
        ente: f.ente.as_ref().map(|e| e.codice.clone()),
        convenzione: f.convenzione.as_ref().map(|c| (c.id, c.nome.clone())),
        dal_ms,
        al_ms,
        azione: f.azione.clone(),
        richiesta_id: f.richiesta,
        esito: f.stato.map(|s| s.as_str().to_string()),
        limite,
    }
}

fn vista(stato: &StatoApp, v: VoceRegistro) -> VoceRegistroVista {
    let ambito = [
        v.nome_ente.clone().or(v.ente.clone()),
        v.nome_comune
            .clone()
            .map(|c| format!("Comune di {c}"))
            .or(v.comune.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let richiesta = v
        .richiesta_id
        .map(|id| stato.ids.codifica(Tipo::Richiesta, id));
    let oggetto = match &v.motivo_richiesta {
        Some(m) if richiesta.is_some() => format!("richiesta «{m}»"),
        _ => voci::oggetto(&v.oggetto, v.nome_comune.as_deref()),
    };
    VoceRegistroVista {
        quando: data_ora(v.istante_ms),
        chi: voci::chi(&v.attore, v.ruolo.as_deref()),
        ambito,
        azione: voci::etichetta_azione(&v.azione),
        dettagli: voci::riassunto(&v.azione, &v.dettagli),
        oggetto,
        url: richiesta.as_ref().map(|r| format!("/richieste/{r}")),
        richiesta: richiesta.unwrap_or_default(),
        attore: v.attore,
        ruolo: v.ruolo.unwrap_or_default(),
        codice_azione: v.azione,
    }
}

/// GET `/archivio`: the audit entries of the user's scope, filtered.
async fn registro(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Query(q): Query<QueryFiltri>,
) -> Result<Response, ErroreWeb> {
    let o = Osservatore::di(&u)?;
    let ambito = ambito_registro(&stato, &u, o).await?;
    let scelte = Scelte::di(&stato, &u, o).await?;
    let (f, errore) = filtri::leggi(&stato, &u, o, &scelte, &q, |q| &q.esito).await?;
    if q.csv() && errore.is_none() {
        let elenco = stato
            .store
            .voci_registro(&filtro_registro(ambito, &f, LIMITE_CSV))
            .await?;
        let voci = elenco.voci.into_iter().map(|v| vista(&stato, v)).collect();
        return Ok(csv_registro(voci).risposta(&nome_file(&stato, "registro-attivita")));
    }
    let elenco = stato
        .store
        .voci_registro(&filtro_registro(ambito, &f, LIMITE_PAGINA))
        .await?;
    let filtri = ModuloFiltri::nuovo(&stato, "/archivio", o, &scelte, &f, &q, "esito", true);
    let t = PaginaRegistro {
        p: Pagina::per(&stato, &u).await,
        ambito: descrizione(&stato, o).await?,
        filtri,
        voci: elenco.voci.into_iter().map(|v| vista(&stato, v)).collect(),
        altre: elenco.altre,
        limite: LIMITE_PAGINA,
        limite_csv: LIMITE_CSV,
        filtrato: f.attivi(),
        errore,
    };
    pagina(&t, t.errore.is_some())
}

fn csv_registro(voci: Vec<VoceRegistroVista>) -> csv::Csv {
    let mut c = csv::Csv::nuovo(&[
        "data_ora",
        "utente",
        "ruolo",
        "ambito",
        "codice_azione",
        "azione",
        "oggetto",
        "richiesta",
        "dettagli",
    ]);
    for v in &voci {
        c.riga([
            v.quando.as_str(),
            &v.attore,
            &v.ruolo,
            &v.ambito,
            &v.codice_azione,
            &v.azione,
            &v.oggetto,
            &v.richiesta,
            &v.dettagli,
        ]);
    }
    c
}

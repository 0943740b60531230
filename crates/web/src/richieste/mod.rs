//! Requests (DESIGN §2, issue 5 "Pages"): a new request by text or upload with its validation
//! preview, "Le mie richieste" with live progress, the detail page with downloads, the TOP's
//! approval queue with the impact estimate. Monitoring (`/monitoraggio`) is in
//! [`crate::archivio`].
//!
//! [`operazioni`] holds what pages and the JSON API share; roles and tenancy are checked there.

pub mod analisi;
mod convalida;
mod dettaglio;
pub mod operazioni;
mod pagine;
mod vista;

use crate::stato::StatoApp;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use convalida::pagina_home;
// The monitoring pages (`crate::archivio`) list requests as the other lists do.
pub(crate) use convalida::ambito_monitor;
pub(crate) use vista::{VoceVista, etichetta_stato, numero};

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/richieste", get(pagine::elenco))
        .route("/richieste/elenco", get(pagine::frammento_elenco))
        // Uploads are bounded by the configured input limit while they are read (see
        // `pagine::leggi_modulo`), with the parser's message, not by axum's fixed default.
        .route(
            "/richieste/nuova",
            get(pagine::nuova)
                .post(pagine::crea)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/richieste/{id}", get(dettaglio::dettaglio))
        .route("/richieste/{id}/file/{fid}", get(pagine::scarica))
        .route("/richieste/{id}/{azione}", post(dettaglio::azione))
        .route("/convalida", get(convalida::convalida))
}

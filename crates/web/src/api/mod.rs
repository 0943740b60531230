//! The JSON API for offices that automate (issue 5, DESIGN §6 `rivesto client`).
//!
//! - `/profilo/token`: a signed-in user creates and revokes API tokens ([`token`]).
//! - `/api/v1/…`: the endpoints, authenticated by `Authorization: Bearer rvt_…` only
//!   ([`token::UtenteApi`]), with the same rights as the pages: they call the same operations
//!   (`crate::richieste::operazioni`). Errors are JSON ([`errore::ErroreApi`]); an object outside
//!   the caller's scope is 404, exactly like a missing one.
//! - `/api/openapi.json`: the OpenAPI 3.1 document, served without authentication
//!   ([`documento`]).

pub mod documento;
pub mod errore;
pub mod richieste;
pub mod token;

use crate::stato::StatoApp;
use axum::Router;

pub use errore::ErroreApi;
pub use token::UtenteApi;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .merge(token::rotte())
        .merge(richieste::rotte())
        .merge(documento::rotte())
}

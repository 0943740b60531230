//! Rivesto's web application (DESIGN §1–§3, §5, §6): server-rendered Italian pages (askama, with
//! htmx where it helps), the JSON API with its OpenAPI document, sign-in with Argon2id and TOTP,
//! database sessions, CSRF protection, roles and tenant isolation.
//!
//! The binary builds an [`Applicazione`] from a [`ConfigWeb`] and serves [`Applicazione::router`]
//! (see `server` for plain HTTP and TLS). Tests bind port 0 and do the same.

pub mod amministrazione;
pub mod api;
pub mod archivio;
pub mod auth;
pub mod contatori;
pub mod demo;
pub mod errore;
pub mod ids;
pub mod metriche;
pub mod notifiche;
pub mod onboarding;
pub mod pagina;
pub mod richieste;
pub mod salute;
pub mod scadenze;
pub mod server;
pub mod sessione;
mod statici;
pub mod statistiche;
pub mod stato;
pub mod traccia;

pub use errore::ErroreWeb;
pub use stato::{Applicazione, ConfigWeb, StatoApp};

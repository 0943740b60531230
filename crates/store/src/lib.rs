//! Rivesto's storage: SQLite (embedded default) and PostgreSQL (scale) behind one type, the
//! migrations of each engine, typed repositories, leases for rows and jobs, quota counters,
//! operation ids, server secrets and the audit chain (DESIGN §1, §2, §4, §6).
//!
//! Every function that changes state appends its audit entry in the same transaction.

#[macro_use]
mod macros;

pub mod anagrafiche;
pub mod audit;
pub mod audit_checkpoint;
pub mod autenticazione;
mod connessione;
pub mod consultazioni;
pub mod elenchi;
mod errore;
pub mod gestione;
pub mod id_operazione;
pub mod jobs;
mod migrazioni;
pub mod notifiche;
pub mod operativo;
pub mod quote;
pub mod registro;
#[macro_use]
pub mod richieste;
pub mod conservazione;
mod lease;
pub mod segreti;
mod sessioni;
pub mod statistiche;
mod tempo;
pub mod token_api;

pub use audit::{Attore, Audit, EsitoVerifica, VoceAudit};
pub use connessione::Store;
pub use errore::ErroreStore;
pub use migrazioni::{
    OpzioniMigrazione, RUOLO_RUNTIME_PREDEFINITO, crea_database_postgres,
    elimina_database_postgres, migra,
};
pub use segreti::{ChiaveMaestra, Segreto, genera_master_key};
pub use tempo::{giorno_roma, limiti_giorno_roma};

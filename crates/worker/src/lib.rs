//! Rivesto's batch engine (DESIGN §2–§4, §6): it claims rows with leases, runs each row's call
//! plan through `anpr`, records outcomes with their call ids and encrypted result fields,
//! assembles and encrypts the result files, and runs the timers (silent consent, quota resume,
//! purge). See README.md.
//!
//! The binary calls [`Motore::new`] with [`OpzioniMotore`], then [`Motore::esegui_finche`];
//! [`Motore::passo`] runs one iteration (tests, demo).

pub mod accesso;
pub mod adattatori;
pub mod assemblaggio;
mod blocco;
pub mod canale_ws;
pub mod cifratura;
mod errore;
pub mod invio;
pub mod istantanea;
pub mod latenze;
pub mod metriche;
mod motore;
pub mod rivestizione;
pub mod stima;
pub mod stima_richiesta;
pub mod timer;

pub use accesso::{OpzioniAccesso, client_con, client_per_comune, client_ws_per_comune};
pub use assemblaggio::{identita_file, identita_file_tutte, ruota_identita_file};
pub use errore::ErroreWorker;
pub use istantanea::Istantanea;
pub use motore::{LavoroSvolto, Motore, OpzioniMotore};
pub use stima_richiesta::stima_richiesta;

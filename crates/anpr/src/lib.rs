//! ANPR client for the PDND e-services: E002 types, ModI security, call planner, answer table.
//! See README.md.

pub mod archivio;
pub mod check;
pub mod circuito;
pub mod client;
pub mod config;
pub mod piano;
pub mod quota;
pub mod risposta;
pub mod scadenze;
pub mod security;
pub mod servizi;
pub mod types;
pub mod voucher;
pub mod ws;

#[cfg(test)]
mod test_chiavi;

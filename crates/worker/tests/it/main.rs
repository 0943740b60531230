//! The worker's integration tests: one binary, a module per feature. Engine tests run on
//! SQLite and on PostgreSQL (`su_entrambi!`, see `banca`).

mod adattatori;
mod banca;
mod cifratura;
mod crash;
mod elaborazione;
mod guasti;
mod invio;
mod processi;
mod quota;
mod rivestizione;
mod supporto;
mod timer;

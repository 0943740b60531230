//! The web app over real HTTP on loopback: a fresh SQLite database, master key and ANPR
//! simulator per test (see `aiuto`). One module per feature.

mod aiuto;

mod amministrazione;
mod api;
mod archivio_consultazioni;
mod archivio_copertura;
mod archivio_monitoraggio;
mod aspetto;
mod autenticazione;
mod canale_comune;
mod contatori;
mod frammenti;
mod isolamento;
mod navigatore;
mod notifiche;
mod richieste;
mod salute;
mod scadenze;
mod segreti;
mod statistiche;

//! A faithful ANPR + PDND simulator (see README.md): the PDND token endpoint, the GovWay
//! gateway with its ModI checks, and ANPR's E002 behaviour over a synthetic population.
//! Embeddable in-process (`avvia`) and run by `rivesto anpr-sim`.

pub mod chiavi;
pub mod config;
mod gateway;
pub mod init;
mod jws;
mod pdnd;
pub mod popolazione;
mod problemi;
mod risposte;
pub mod servizi;
mod stato;
mod validazione;

pub use config::{ClienteRegistrato, ErroreConfig, FileClienti, Guasti, Latenza, SimConfig};
pub use popolazione::{Esempi, Popolazione, Soggetto};
pub use risposte::{CODICE_ID_INFERIORE, CODICE_ID_NON_NUMERICO, CODICE_ID_TROPPO_LUNGO};
pub use stato::RichiestaRicevuta;

use axum::Router;
use axum::routing::{any, post};
use stato::{Stato, blocca};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum ErroreAvvio {
    #[error("simulatore: indirizzo di ascolto non leggibile: {0}")]
    Indirizzo(std::io::Error),
}

/// A running simulator.
pub struct SimHandle {
    stato: Arc<Stato>,
    arresto: Option<tokio::sync::oneshot::Sender<()>>,
    servitore: tokio::task::JoinHandle<()>,
}

/// Starts the simulator on `listener` (bind to port 0 for tests) and returns at once.
pub async fn avvia(config: SimConfig, listener: TcpListener) -> Result<SimHandle, ErroreAvvio> {
    let indirizzo = listener.local_addr().map_err(ErroreAvvio::Indirizzo)?;
    let chiave_pdnd = chiavi::genera_coppia();
    let stato = Arc::new(Stato::new(config, indirizzo, chiave_pdnd));
    let app = Router::new()
        .route("/token.oauth2", post(pdnd::token))
        .route(
            "/govway/rest/in/MinInternoPortaANPR-PDND/{servizio}/v1/anpr-service-e002",
            any(gateway::e002),
        )
        .route(
            "/govway/rest/in/MinInternoPortaANPR-PDND/{servizio}/v1/status",
            any(gateway::status),
        )
        .fallback(gateway::non_trovato)
        .with_state(stato.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let servitore = tokio::spawn(async move {
        let servizio = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = servizio.await {
            tracing::error!("simulatore ANPR: il server si è fermato: {e}");
        }
    });
    tracing::info!(%indirizzo, "simulatore ANPR in ascolto");
    Ok(SimHandle {
        stato,
        arresto: Some(tx),
        servitore,
    })
}

impl SimHandle {
    pub fn indirizzo(&self) -> SocketAddr {
        self.stato.indirizzo
    }

    /// `http://ADDR/govway/rest/in/MinInternoPortaANPR-PDND`
    pub fn base_url(&self) -> String {
        format!(
            "http://{}/govway/rest/in/MinInternoPortaANPR-PDND",
            self.stato.indirizzo
        )
    }

    /// `http://ADDR/govway/rest/in/MinInternoPortaANPR` (no `-PDND`)
    pub fn audience_base(&self) -> String {
        self.stato.audience_base()
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/token.oauth2", self.stato.indirizzo)
    }

    /// The client-assertion audience: `ADDR/client-assertion` (no scheme, like PDND's).
    pub fn client_assertion_aud(&self) -> String {
        self.stato.client_assertion_aud()
    }

    /// The public key the simulator's PDND signs vouchers with.
    pub fn chiave_pubblica_pdnd(&self) -> &str {
        &self.stato.chiave_pdnd.public_pem
    }

    /// Calls that reached the gateway past the voucher check, per (client_id, service code).
    pub fn conteggi(&self) -> BTreeMap<(String, String), u64> {
        blocca(&self.stato.totali).clone()
    }

    pub fn conteggio(&self, client_id: &str, servizio: &str) -> u64 {
        blocca(&self.stato.totali)
            .get(&(client_id.to_owned(), servizio.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Every request received (token endpoint and gateway), oldest first, with its answer.
    pub fn richieste_ricevute(&self) -> Vec<RichiestaRicevuta> {
        blocca(&self.stato.registro).iter().cloned().collect()
    }

    pub fn svuota_registro(&self) {
        blocca(&self.stato.registro).clear();
    }

    pub fn imposta_guasti(&self, guasti: Guasti) {
        blocca(&self.stato.manopole).guasti = guasti;
    }

    pub fn imposta_latenza(&self, latenza: Latenza) {
        blocca(&self.stato.manopole).latenza = latenza;
    }

    /// Daily quota per client for a service code; `None` removes it.
    pub fn imposta_quota(&self, servizio: &str, quota: Option<u64>) {
        let mut m = blocca(&self.stato.manopole);
        match quota {
            Some(q) => m.quote.insert(servizio.to_owned(), q),
            None => m.quote.remove(servizio),
        };
    }

    pub fn imposta_cap_concorrenza(&self, cap: Option<usize>) {
        blocca(&self.stato.manopole).cap = cap;
    }

    pub fn imposta_timeout_ms(&self, ms: u64) {
        blocca(&self.stato.manopole).timeout_ms = ms;
    }

    pub fn popolazione(&self) -> &Popolazione {
        &self.stato.popolazione
    }

    pub fn soggetto_per_cf(&self, cf: &str) -> Option<Soggetto> {
        self.stato.popolazione.per_cf(cf)
    }

    pub fn soggetto_per_id_anpr(&self, id: &str) -> Option<Soggetto> {
        self.stato.popolazione.per_id_anpr(id)
    }

    pub fn esempi(&self) -> Esempi {
        self.stato.popolazione.esempi()
    }

    /// Stops accepting connections; idle keep-alive connections get one second to close.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.arresto.take() {
            let _ = tx.send(());
        }
        if tokio::time::timeout(std::time::Duration::from_secs(1), &mut self.servitore)
            .await
            .is_err()
        {
            self.servitore.abort();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.servitore.abort();
    }
}

//! A faithful ANPR + PDND simulator (see README.md): the PDND token endpoint, the GovWay
//! gateway with its ModI checks, and ANPR's E002 behaviour over a synthetic population; and
//! the Comune's own SOAP channel (3002 and TestConn, `ws`).
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
pub mod ws;

pub use config::{
    ClienteRegistrato, ComuneWs, ConfigWs, ErroreConfig, FileClienti, Guasti, Latenza, SimConfig,
};
pub use popolazione::{Esempi, Popolazione, Soggetto};
pub use risposte::{CODICE_ID_INFERIORE, CODICE_ID_NON_NUMERICO, CODICE_ID_TROPPO_LUNGO};
pub use stato::RichiestaRicevuta;
pub use ws::{CertificatiWs, emetti_certificati_ws};

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
    #[error("simulatore: configurazione del canale del Comune non valida: {0}")]
    ConfigWs(String),
}

/// A running simulator.
pub struct SimHandle {
    stato: Arc<Stato>,
    ws: Arc<ws::StatoWs>,
    arresto: Option<tokio::sync::oneshot::Sender<()>>,
    servitore: tokio::task::JoinHandle<()>,
}

/// Starts the simulator on `listener` (bind to port 0 for tests) and returns at once.
pub async fn avvia(config: SimConfig, listener: TcpListener) -> Result<SimHandle, ErroreAvvio> {
    let indirizzo = listener.local_addr().map_err(ErroreAvvio::Indirizzo)?;
    let chiave_pdnd = chiavi::genera_coppia();
    let config_ws = config.ws.clone();
    let stato = Arc::new(Stato::new(config, indirizzo, chiave_pdnd));
    let stato_ws =
        Arc::new(ws::StatoWs::new(&config_ws, stato.clone()).map_err(ErroreAvvio::ConfigWs)?);
    let canale_ws = Router::new()
        .route(ws::PERCORSO_3002, post(ws::servizio_3002))
        .route(ws::PERCORSO_TEST_CONN, post(ws::test_conn))
        .with_state(stato_ws.clone());
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
        .with_state(stato.clone())
        .merge(canale_ws);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let servitore = tokio::spawn(async move {
        // The Comune channel checks the caller's address against the Comune's allow-list.
        let servizio = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = servizio.await {
            tracing::error!("simulatore ANPR: il server si è fermato: {e}");
        }
    });
    tracing::info!(%indirizzo, "simulatore ANPR in ascolto");
    Ok(SimHandle {
        stato,
        ws: stato_ws,
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

    /// `http://ADDR`: the Comune channel's base (`endpoint` of `[anpr_ws]`).
    pub fn endpoint_ws(&self) -> String {
        format!("http://{}", self.stato.indirizzo)
    }

    /// `http://ADDR/ANPR3000ServiziConsultazione/AnprService3000`
    pub fn url_3002(&self) -> String {
        format!("{}{}", self.endpoint_ws(), ws::PERCORSO_3002)
    }

    /// `http://ADDR/ANPRTestConn/TestConn`
    pub fn url_test_conn(&self) -> String {
        format!("{}{}", self.endpoint_ws(), ws::PERCORSO_TEST_CONN)
    }

    /// 3002 calls that passed the security gate, per Comune (replays and KOs included).
    pub fn chiamate_ws(&self) -> BTreeMap<String, u64> {
        self.ws.chiamate()
    }

    pub fn chiamate_ws_comune(&self, istat: &str) -> u64 {
        self.ws.chiamate().get(istat).copied().unwrap_or(0)
    }

    /// Registry lookups made for a Comune's 3002 calls: a replayed id or a refused id makes
    /// none.
    pub fn ricerche_ws_comune(&self, istat: &str) -> u64 {
        self.ws.ricerche().get(istat).copied().unwrap_or(0)
    }

    /// EHR41 when a search by carta d'identità names neither comune nor consolato of issue.
    pub fn imposta_richiedi_rilascio_ci(&self, si: bool) {
        self.ws.imposta_richiedi_rilascio_ci(si);
    }

    /// EN210 instead of EN122 for a non-resident on a residents-only search.
    pub fn imposta_en210_non_residenti(&self, si: bool) {
        self.ws.imposta_en210_non_residenti(si);
    }

    /// The next 3002 call that reaches the search answers `rispostaKO` with this code and
    /// text (EN130, EN133, EN115… that the registry never produces by itself); several calls
    /// queue up.
    pub fn forza_ko_ws(&self, codice: &str, testo: &str) {
        self.ws.forza_ko(codice, testo);
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

//! Probes for load balancers and orchestrators, on the main listener and without a session:
//! `/healthz` says the process answers (it touches nothing), `/readyz` that it can work: the
//! database answers and its migrations are current.

use crate::stato::StatoApp;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;

/// A database that takes longer than this is as good as gone for a probe (the PostgreSQL pool
/// would otherwise wait 30 s for a connection).
const ATTESA_DATABASE: Duration = Duration::from_secs(3);

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/healthz", get(vivo))
        .route("/readyz", get(pronto))
}

fn testo(stato: StatusCode, corpo: &'static str) -> Response {
    (
        stato,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        corpo,
    )
        .into_response()
}

async fn vivo() -> Response {
    testo(StatusCode::OK, "ok\n")
}

async fn pronto(State(stato): State<StatoApp>) -> Response {
    match tokio::time::timeout(ATTESA_DATABASE, stato.store.pronto()).await {
        Ok(Ok(())) => testo(StatusCode::OK, "pronto\n"),
        Ok(Err(store::operativo::NonPronto::Migrazioni)) => testo(
            StatusCode::SERVICE_UNAVAILABLE,
            "non pronto: migrazioni del database non aggiornate (eseguire `rivesto migrate`)\n",
        ),
        Ok(Err(store::operativo::NonPronto::Database(e))) => {
            // The cause goes to the log only: the probe is public.
            tracing::warn!(errore = %e, "readyz: database non raggiungibile");
            testo(
                StatusCode::SERVICE_UNAVAILABLE,
                "non pronto: database non raggiungibile\n",
            )
        }
        Err(_) => {
            tracing::warn!("readyz: il database non risponde");
            testo(
                StatusCode::SERVICE_UNAVAILABLE,
                "non pronto: il database non risponde\n",
            )
        }
    }
}

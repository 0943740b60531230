//! The latency of every answer of the main listener, as the histogram
//! `rivesto_http_durata_secondi{rotta, metodo, classe}`. The route is the router's template
//! (`/richieste/{id}`), never the path itself, so ids do not multiply the series; paths no
//! route matches count as `rotta="(nessuna)"`. Without an installed recorder (tests, `demo`)
//! the calls do nothing.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub const DURATA_HTTP: &str = "rivesto_http_durata_secondi";

/// The route template, carried from routing (inside) to the timer (outside) on the response.
#[derive(Clone)]
struct Rotta(MatchedPath);

/// Outermost layer: times the whole answer, sessions and CSRF included.
pub async fn misura(req: Request, next: Next) -> Response {
    let inizio = Instant::now();
    let metodo = req.method().as_str().to_string();
    let risposta = next.run(req).await;
    let rotta = risposta
        .extensions()
        .get::<Rotta>()
        .map_or_else(|| "(nessuna)".to_string(), |r| r.0.as_str().to_string());
    let classe = format!("{}xx", risposta.status().as_u16() / 100);
    metrics::histogram!(DURATA_HTTP, "rotta" => rotta, "metodo" => metodo, "classe" => classe)
        .record(inizio.elapsed().as_secs_f64());
    risposta
}

/// Route layer (runs after routing, where the matched template is known).
pub async fn segna_rotta(req: Request, next: Next) -> Response {
    let rotta = req.extensions().get::<MatchedPath>().cloned();
    let mut risposta = next.run(req).await;
    if let Some(r) = rotta {
        risposta.extensions_mut().insert(Rotta(r));
    }
    risposta
}

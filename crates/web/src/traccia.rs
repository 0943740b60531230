//! A request id for every HTTP request: taken from `X-Request-Id` when the caller (a reverse
//! proxy, the `rivesto client`) sent a safe one, otherwise a fresh UUID. Every log line written
//! while the request is served carries it, through the `richiesta_http` span, and the answer
//! returns it, so an operator can match a user's report, the proxy's log and Rivesto's log.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument as _;

pub const INTESTAZIONE: HeaderName = HeaderName::from_static("x-request-id");
const LUNGHEZZA_MASSIMA: usize = 64;

/// The caller's id when it is 1–64 characters of `[A-Za-z0-9._:-]`: anything else could forge
/// log lines or carry data into them, and is replaced.
pub fn id_accettabile(valore: &str) -> bool {
    !valore.is_empty()
        && valore.len() <= LUNGHEZZA_MASSIMA
        && valore
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn id_richiesta(req: &Request) -> String {
    req.headers()
        .get(&INTESTAZIONE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| id_accettabile(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The outermost layer. Only the path is logged, never the query string: a query may carry a
/// token or a personal identifier.
pub async fn traccia(mut req: Request, next: Next) -> Response {
    let id = id_richiesta(&req);
    let span = tracing::info_span!(
        "richiesta_http",
        request_id = %id,
        metodo = %req.method(),
        percorso = %req.uri().path(),
        // Filled in by handlers of a request's path (`registra_richiesta`).
        richiesta_id = tracing::field::Empty,
    );
    // Handlers (and the `rivesto client`) can read the id the request is logged under.
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(INTESTAZIONE, v);
    }
    let inizio = Instant::now();
    let mut risposta = next.run(req).instrument(span.clone()).await;
    let _dentro = span.enter();
    tracing::info!(
        stato = risposta.status().as_u16(),
        durata_ms = u64::try_from(inizio.elapsed().as_millis()).unwrap_or(u64::MAX),
        "richiesta HTTP servita"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        risposta.headers_mut().insert(INTESTAZIONE, v);
    }
    risposta
}

/// Adds the richiesta's number to the HTTP request's span, so that its lines can be joined with
/// the worker's lines for the same richiesta.
pub fn registra_richiesta(id: i64) {
    tracing::Span::current().record("richiesta_id", id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accetta_solo_id_brevi_e_sicuri() {
        assert!(id_accettabile("abc-123"));
        assert!(id_accettabile("proxy:9f.2_A"));
        assert!(id_accettabile(&"a".repeat(64)));
        assert!(!id_accettabile(&"a".repeat(65)));
        assert!(!id_accettabile(""));
        assert!(!id_accettabile("a b"));
        assert!(!id_accettabile("riga\nfalsa"));
        assert!(!id_accettabile("{\"x\":1}"));
        assert!(!id_accettabile("è"));
    }
}

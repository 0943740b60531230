//! Security headers on every answer: a CSP without `'unsafe-inline'` (pages carry no inline
//! script or style; htmx is served from /static), no framing, no MIME sniffing, no Referer
//! (so nothing in a URL leaks to another site), and HSTS when the public URL is https.

use crate::stato::StatoApp;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
pub const HSTS: &str = "max-age=31536000";

pub async fn aggiungi(State(stato): State<StatoApp>, req: Request, next: Next) -> Response {
    let mut risposta = next.run(req).await;
    let h = risposta.headers_mut();
    let mut metti = |nome: HeaderName, valore: &'static str| {
        // A handler that set its own value (e.g. a stricter CSP) keeps it.
        if !h.contains_key(&nome) {
            h.insert(nome, HeaderValue::from_static(valore));
        }
    };
    metti(header::CONTENT_SECURITY_POLICY, CSP);
    metti(header::X_FRAME_OPTIONS, "DENY");
    metti(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    metti(header::REFERRER_POLICY, "no-referrer");
    if stato.config.https() {
        metti(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    risposta
}

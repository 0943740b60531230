//! CSRF protection by synchronizer token: every POST, PUT, PATCH and DELETE must carry the
//! session's token, from the `X-CSRF-Token` header (htmx), the urlencoded field `_csrf`, or the
//! `_csrf` part of a multipart body. The sign-in form is covered too: its token lives in an
//! anonymous session. The only exemption is the JSON API under `/api/`, which authenticates by
//! bearer token and never looks at cookies, so a forged cross-site request has nothing to ride on.

use crate::ErroreWeb;
use crate::sessione::Sessione;
use crate::stato::StatoApp;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use subtle::ConstantTimeEq as _;

pub const CAMPO: &str = "_csrf";
pub const INTESTAZIONE: &str = "x-csrf-token";
/// Room for the other form fields next to the largest upload.
const MARGINE_BYTE: u64 = 1024 * 1024;

pub async fn proteggi(State(stato): State<StatoApp>, req: Request, next: Next) -> Response {
    if !cambia_stato(req.method()) || esente(&req) {
        return next.run(req).await;
    }
    let Some(atteso) = req
        .extensions()
        .get::<Sessione>()
        .map(|s| s.dati.csrf.clone())
    else {
        return rifiuto();
    };
    if let Some(dato) = req.headers().get(INTESTAZIONE) {
        return if uguali(dato.as_bytes(), atteso.as_bytes()) {
            next.run(req).await
        } else {
            rifiuto()
        };
    }
    let (parti, corpo) = req.into_parts();
    let limite = stato
        .config
        .limiti_input
        .max_byte
        .saturating_add(MARGINE_BYTE);
    let byte =
        match axum::body::to_bytes(corpo, usize::try_from(limite).unwrap_or(usize::MAX)).await {
            Ok(b) => b,
            Err(_) => return troppo_grande(stato.config.limiti_input.max_byte),
        };
    let dato = token_dal_corpo(&parti.headers, &byte);
    match dato {
        Some(d) if uguali(d.as_bytes(), atteso.as_bytes()) => {
            next.run(Request::from_parts(parti, Body::from(byte))).await
        }
        _ => rifiuto(),
    }
}

fn cambia_stato(m: &Method) -> bool {
    !matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The JSON API (`/api/…`) authenticates by bearer token only and never reads the session
/// cookie (`api::UtenteApi`), so a forged cross-site request has nothing to ride on; a call
/// without a token gets the API's own JSON 401, not this HTML refusal. (Edited by W4.)
fn esente(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
}

fn uguali(a: &[u8], b: &[u8]) -> bool {
    !b.is_empty() && bool::from(a.ct_eq(b))
}

fn token_dal_corpo(h: &HeaderMap, corpo: &Bytes) -> Option<String> {
    let tipo = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if tipo.starts_with("application/x-www-form-urlencoded") {
        return url::form_urlencoded::parse(corpo)
            .find(|(k, _)| k == CAMPO)
            .map(|(_, v)| v.into_owned());
    }
    if tipo.starts_with("multipart/form-data") {
        let confine = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(confine_multipart)?;
        return campo_multipart(corpo, &confine, CAMPO);
    }
    None
}

/// The `boundary` parameter of a multipart Content-Type (quoted or not).
fn confine_multipart(tipo: &str) -> Option<String> {
    tipo.split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// The text of the part named `nome` in a multipart body (RFC 7578). Parsed here rather than
/// with the `Multipart` extractor, whose default body limit is far below the upload limit.
fn campo_multipart(corpo: &[u8], confine: &str, nome: &str) -> Option<String> {
    let delimitatore = format!("--{confine}");
    let intestazione = format!("name=\"{nome}\"");
    let mut resto = corpo;
    while let Some(i) = trova(resto, delimitatore.as_bytes()) {
        resto = &resto[i + delimitatore.len()..];
        let fine_parte = trova(resto, delimitatore.as_bytes()).unwrap_or(resto.len());
        let parte = &resto[..fine_parte];
        let Some(inizio_dati) = trova(parte, b"\r\n\r\n") else {
            continue;
        };
        let testata = String::from_utf8_lossy(&parte[..inizio_dati]);
        let dichiara = testata.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("content-disposition:")
                && l.split(';').any(|p| p.trim() == intestazione)
        });
        if dichiara {
            let dati = &parte[inizio_dati + 4..];
            let dati = dati.strip_suffix(b"\r\n").unwrap_or(dati);
            return String::from_utf8(dati.to_vec()).ok();
        }
    }
    None
}

fn trova(pagliaio: &[u8], ago: &[u8]) -> Option<usize> {
    pagliaio.windows(ago.len()).position(|w| w == ago)
}

fn rifiuto() -> Response {
    ErroreWeb::Vietato(
        "La richiesta non è stata accettata: il modulo è scaduto oppure non proviene da una \
         pagina di Rivesto (protezione CSRF). Ricarichi la pagina e riprovi."
            .into(),
    )
    .into_response()
}

fn troppo_grande(massimo: u64) -> Response {
    let mb = massimo as f64 / 1_000_000.0;
    crate::pagina::pagina_errore(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Invio troppo grande",
        &format!("Il file inviato supera la dimensione massima consentita ({mb:.0} MB)."),
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn campo_da_multipart() {
        let corpo =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
Content-Type: text/csv\r\n\r\nCF\r\nRSSMRA80A01H501U\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok-123\r\n--XyZ--\r\n";
        assert_eq!(
            confine_multipart("multipart/form-data; boundary=\"XyZ\""),
            Some("XyZ".into())
        );
        assert_eq!(
            campo_multipart(corpo, "XyZ", "_csrf"),
            Some("tok-123".into())
        );
        assert_eq!(campo_multipart(corpo, "XyZ", "altro"), None);
        // A file whose name mentions _csrf is not the field.
        let finto = b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"name=_csrf\"\r\n\r\nx\r\n--B--";
        assert_eq!(campo_multipart(finto, "B", "_csrf"), None);
    }

    #[test]
    fn confronto() {
        assert!(uguali(b"abc", b"abc"));
        assert!(!uguali(b"abd", b"abc"));
        assert!(!uguali(b"", b""), "an empty expected token never matches");
    }
}

//! Sign-in (password, TOTP, throttling), sign-out, the profile page, CSRF protection, the
//! security headers.
//!
//! Sign-in walks the session through its phases (`sessione::Fase`): the password (or an
//! administrator's reset code), then a new password after a reset, then the TOTP code, or its
//! enrolment for TOP and ADMIN who have none. Each step gets a fresh session id. STANDARD users
//! without a TOTP end with LoA1, everyone who gave a second factor with LoA2 (DESIGN §4).

mod accesso;
pub mod csrf;
pub mod intestazioni;
pub mod limiti;
pub mod password;
mod profilo;
pub mod totp;

pub use password::{VALIDITA_RESET_MS, codice_reset, controlla_password, emetti_codice_reset};

use crate::ErroreWeb;
use crate::sessione::{self, DatiSessione};
use crate::stato::StatoApp;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use store::Attore;
use store::anagrafiche::Utente;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/", get(accesso::radice))
        .route("/accedi", post(accesso::accedi))
        .route("/accedi/totp", post(accesso::codice_totp))
        .route(
            "/accedi/totp/iscrizione",
            post(accesso::conferma_iscrizione),
        )
        .route("/accedi/totp/salta", post(accesso::salta_iscrizione))
        .route("/accedi/password", post(accesso::nuova_password))
        .route("/totp/qr.svg", get(accesso::qr_iscrizione))
        .route("/esci", post(accesso::esci))
        .route("/profilo", get(profilo::pagina))
        .route("/profilo/password", post(profilo::cambia_password))
        .route("/profilo/totp/nuovo", post(profilo::inizia_totp))
        .route("/profilo/totp/conferma", post(profilo::conferma_totp))
        .route("/profilo/totp/annulla", post(profilo::annulla_totp))
        .route("/profilo/totp/rimuovi", post(profilo::rimuovi_totp))
}

/// Who the archive names for `u`: username, role, and the codes of its Comune or Ente.
pub(crate) async fn attore(stato: &StatoApp, u: &Utente) -> Attore {
    // Sign-in events are audited even when the Comune or Ente cannot be read: then with the
    // name and role alone.
    match crate::richieste::operazioni::attore(stato, u).await {
        Ok(a) => a,
        Err(_) => Attore {
            nome: u.username.clone(),
            ruolo: Some(u.ruolo.clone()),
            comune: None,
            ente: None,
        },
    }
}

/// TOP and ADMIN must have a second factor.
pub(crate) fn totp_obbligatorio(ruolo: &str) -> bool {
    matches!(ruolo, "TOP" | "ADMIN")
}

/// The client address (see `limiti::indirizzo_cliente`), as an extractor.
pub(crate) struct IndirizzoCliente(pub IpAddr);

impl FromRequestParts<StatoApp> for IndirizzoCliente {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        stato: &StatoApp,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(IndirizzoCliente(limiti::indirizzo_cliente(
            stato,
            peer,
            &parts.headers,
        )))
    }
}

/// Moves to `dati` under a new session id (deleting `vecchio`) and sends the browser to `/`.
pub(crate) async fn passa_a(
    stato: &StatoApp,
    vecchio: Option<&str>,
    dati: &DatiSessione,
) -> Result<Response, ErroreWeb> {
    let id = sessione::rinnova(stato, vecchio, dati).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_string()),
            (header::SET_COOKIE, sessione::cookie(stato, &id)),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response())
}

/// The encryption context of a user's enrolled TOTP secret: bound to the user, so a row
/// copied onto another user does not decrypt.
pub(crate) fn contesto_totp(utente_id: i64) -> String {
    format!("rivesto-totp:{utente_id}")
}

fn contesto_iscrizione(utente_id: i64) -> String {
    format!("rivesto-totp-iscrizione:{utente_id}")
}

/// Puts a fresh TOTP secret, encrypted, into the session being enrolled.
pub(crate) fn prepara_iscrizione(
    stato: &StatoApp,
    dati: &mut DatiSessione,
    utente_id: i64,
) -> Result<(), ErroreWeb> {
    use base64::Engine as _;
    let segreto = totp::nuovo_segreto();
    let cifrato = stato
        .chiave
        .cifra(&contesto_iscrizione(utente_id), &segreto)
        .map_err(ErroreWeb::interno)?;
    dati.totp_in_iscrizione = Some(base64::engine::general_purpose::STANDARD.encode(cifrato));
    Ok(())
}

/// The TOTP secret being enrolled in this session, if any.
pub(crate) fn segreto_in_iscrizione(
    stato: &StatoApp,
    dati: &DatiSessione,
) -> Result<Option<store::Segreto>, ErroreWeb> {
    use base64::Engine as _;
    let (Some(testo), Some(utente_id)) = (&dati.totp_in_iscrizione, dati.utente_id) else {
        return Ok(None);
    };
    let cifrato = base64::engine::general_purpose::STANDARD
        .decode(testo)
        .map_err(ErroreWeb::interno)?;
    let segreto = stato
        .chiave
        .decifra(&contesto_iscrizione(utente_id), &cifrato)
        .map_err(ErroreWeb::interno)?;
    Ok(Some(segreto))
}

/// Verifies `codice` against the user's enrolled TOTP and spends its step. False for a wrong
/// code, a reused one, or no TOTP at all.
pub(crate) async fn verifica_totp_iscritto(
    stato: &StatoApp,
    utente_id: i64,
    codice: &str,
) -> Result<bool, ErroreWeb> {
    let Some(t) = stato.store.totp_utente(utente_id).await? else {
        return Ok(false);
    };
    let segreto = stato
        .chiave
        .decifra(&contesto_totp(utente_id), &t.segreto_cifrato)
        .map_err(ErroreWeb::interno)?;
    let Some(passo) = totp::verifica(segreto.esponi(), codice, stato.adesso_ms()) else {
        return Ok(false);
    };
    Ok(stato.store.usa_passo_totp(utente_id, passo).await?)
}

/// Enrols the secret of this session's enrolment if `codice` is its current code. False for
/// a wrong code (the enrolment stays pending).
pub(crate) async fn completa_iscrizione(
    stato: &StatoApp,
    dati: &DatiSessione,
    utente: &Utente,
    codice: &str,
) -> Result<bool, ErroreWeb> {
    let Some(segreto) = segreto_in_iscrizione(stato, dati)? else {
        return Ok(false);
    };
    let ora = stato.adesso_ms();
    let Some(passo) = totp::verifica(segreto.esponi(), codice, ora) else {
        return Ok(false);
    };
    let cifrato = stato
        .chiave
        .cifra(&contesto_totp(utente.id), segreto.esponi())
        .map_err(ErroreWeb::interno)?;
    let a = attore(stato, utente).await;
    stato
        .store
        .imposta_totp(utente.id, &cifrato, passo, ora, &a)
        .await?;
    Ok(true)
}

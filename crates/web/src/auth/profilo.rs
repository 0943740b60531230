//! `/profilo`: change password, enrol or (STANDARD only) remove the TOTP, link to API tokens.

use super::{attore, totp_obbligatorio};
use crate::ErroreWeb;
use crate::pagina::{Pagina, html};
use crate::sessione::{self, Sessione, UtenteConnesso};
use crate::stato::StatoApp;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/profilo.html")]
struct PaginaProfilo {
    p: Pagina,
    messaggio: Option<String>,
    username: String,
    ruolo: String,
    loa: String,
    totp_attivo: bool,
    puo_rimuovere: bool,
}

// No Debug: passwords.
#[derive(Deserialize)]
pub(super) struct ModuloPassword {
    #[serde(default)]
    attuale: String,
    #[serde(default)]
    nuova: String,
    #[serde(default)]
    conferma: String,
}

#[derive(Deserialize)]
pub(super) struct ModuloCodice {
    #[serde(default)]
    codice: String,
}

async fn mostra(
    stato: &StatoApp,
    u: &UtenteConnesso,
    s: &Sessione,
    avviso: Option<&str>,
    messaggio: Option<String>,
    codice: StatusCode,
) -> Result<Response, ErroreWeb> {
    let mut p = Pagina::per(stato, u).await;
    if let Some(a) = avviso {
        p = p.con_avviso(a);
    }
    // An enrolment started from this page is shown until confirmed.
    if s.dati.totp_in_iscrizione.is_some() {
        let r = super::accesso::pagina_iscrizione(
            stato,
            p,
            &s.dati,
            &u.utente,
            "/profilo/totp/conferma",
            messaggio,
        )?;
        return Ok((codice, r).into_response());
    }
    let totp_attivo = stato.store.totp_utente(u.utente.id).await?.is_some();
    let r = html(&PaginaProfilo {
        p,
        messaggio,
        username: u.utente.username.clone(),
        ruolo: u.utente.ruolo.clone(),
        loa: u.loa.clone(),
        totp_attivo,
        puo_rimuovere: !totp_obbligatorio(&u.utente.ruolo),
    })?;
    Ok((codice, r).into_response())
}

/// GET `/profilo`.
pub(super) async fn pagina(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Extension(s): Extension<Sessione>,
) -> Result<Response, ErroreWeb> {
    mostra(&stato, &u, &s, None, None, StatusCode::OK).await
}

/// POST `/profilo/password`: the current password, then a new one that meets the policy.
pub(super) async fn cambia_password(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Extension(s): Extension<Sessione>,
    Form(m): Form<ModuloPassword>,
) -> Result<Response, ErroreWeb> {
    let corretta = stato
        .store
        .verifica_password(&u.utente.username, &m.attuale)
        .await?
        .is_some();
    let errore = if !corretta {
        Some("La password attuale non è corretta.".to_string())
    } else if m.nuova != m.conferma {
        Some("Le due password nuove non coincidono.".to_string())
    } else if m.nuova == m.attuale {
        Some("La nuova password deve essere diversa da quella attuale.".to_string())
    } else {
        super::controlla_password(&m.nuova, &u.utente.username).err()
    };
    if let Some(msg) = errore {
        return mostra(&stato, &u, &s, None, Some(msg), StatusCode::BAD_REQUEST).await;
    }
    let a = attore(&stato, &u.utente).await;
    stato
        .store
        .imposta_password(u.utente.id, &m.nuova, false, &a)
        .await?;
    mostra(
        &stato,
        &u,
        &s,
        Some("Password cambiata."),
        None,
        StatusCode::OK,
    )
    .await
}

/// POST `/profilo/totp/nuovo`: starts an enrolment (a fresh secret in the session).
pub(super) async fn inizia_totp(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Extension(mut s): Extension<Sessione>,
) -> Result<Response, ErroreWeb> {
    if stato.store.totp_utente(u.utente.id).await?.is_some() {
        return Err(ErroreWeb::NonValido(
            "Il secondo fattore è già attivo.".into(),
        ));
    }
    super::prepara_iscrizione(&stato, &mut s.dati, u.utente.id)?;
    sessione::salva(&stato, &s.id, &s.dati).await?;
    Ok(Redirect::to("/profilo").into_response())
}

/// POST `/profilo/totp/conferma`: the first code enrols it; this session becomes LoA2.
pub(super) async fn conferma_totp(
    State(stato): State<StatoApp>,
    mut u: UtenteConnesso,
    Extension(mut s): Extension<Sessione>,
    Form(m): Form<ModuloCodice>,
) -> Result<Response, ErroreWeb> {
    if !super::completa_iscrizione(&stato, &s.dati, &u.utente, &m.codice).await? {
        let msg = "Codice non valido. Controlli l'ora del telefono e riprovi con il codice \
                   attuale.";
        return mostra(
            &stato,
            &u,
            &s,
            None,
            Some(msg.into()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    s.dati.totp_in_iscrizione = None;
    s.dati.loa = "LoA2".into();
    sessione::salva(&stato, &s.id, &s.dati).await?;
    u.loa = s.dati.loa.clone();
    let avviso = Some("Secondo fattore attivato: dal prossimo accesso le sarà chiesto il codice.");
    mostra(&stato, &u, &s, avviso, None, StatusCode::OK).await
}

/// POST `/profilo/totp/annulla`: drops an enrolment started here and not confirmed.
pub(super) async fn annulla_totp(
    State(stato): State<StatoApp>,
    _u: UtenteConnesso,
    Extension(mut s): Extension<Sessione>,
) -> Result<Response, ErroreWeb> {
    s.dati.totp_in_iscrizione = None;
    sessione::salva(&stato, &s.id, &s.dati).await?;
    Ok(Redirect::to("/profilo").into_response())
}

/// POST `/profilo/totp/rimuovi`: STANDARD only; this session goes back to LoA1.
pub(super) async fn rimuovi_totp(
    State(stato): State<StatoApp>,
    mut u: UtenteConnesso,
    Extension(mut s): Extension<Sessione>,
) -> Result<Response, ErroreWeb> {
    if totp_obbligatorio(&u.utente.ruolo) {
        return Err(ErroreWeb::Vietato(
            "Per il suo ruolo il secondo fattore è obbligatorio.".into(),
        ));
    }
    let a = attore(&stato, &u.utente).await;
    stato.store.rimuovi_totp(u.utente.id, &a).await?;
    s.dati.loa = "LoA1".into();
    sessione::salva(&stato, &s.id, &s.dati).await?;
    u.loa = s.dati.loa.clone();
    mostra(
        &stato,
        &u,
        &s,
        Some("Secondo fattore disattivato."),
        None,
        StatusCode::OK,
    )
    .await
}

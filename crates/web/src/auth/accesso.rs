//! The sign-in pages: `/` (form, or the next step, or the home page), the password, the TOTP
//! code, the TOTP enrolment, the new password after a reset, and sign-out.

use super::{IndirizzoCliente, attore, limiti, passa_a, totp, totp_obbligatorio};
use crate::ErroreWeb;
use crate::pagina::{Pagina, html};
use crate::sessione::{self, DatiSessione, Fase, Sessione, UtenteConnesso};
use crate::stato::StatoApp;
use askama::Template;
use axum::extract::{Extension, Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::LazyLock;
use store::anagrafiche::Utente;
use store::{Attore, Audit};

/// The same words for an unknown user and a wrong password: no account enumeration.
const CREDENZIALI_ERRATE: &str = "Nome utente o password non corretti.";
const CODICE_ERRATO: &str =
    "Codice non valido o già usato. Attenda il codice successivo dell'app e riprovi.";

/// A hash to verify against when the username does not exist, so that the answer takes as
/// long as for a real account.
static HASH_FINTO: LazyLock<String> = LazyLock::new(|| {
    store::anagrafiche::hash_password("rivesto: utente inesistente").unwrap_or_default()
});

#[derive(Template)]
#[template(path = "auth/accesso.html")]
struct PaginaAccesso {
    p: Pagina,
    username: String,
    messaggio: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/totp.html")]
struct PaginaTotp {
    p: Pagina,
    messaggio: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/iscrizione.html")]
struct PaginaIscrizione {
    p: Pagina,
    messaggio: Option<String>,
    username: String,
    segreto: String,
    azione: &'static str,
    salta_demo: bool,
    obbligatoria: bool,
}

#[derive(Template)]
#[template(path = "auth/cambio_password.html")]
struct PaginaCambioPassword {
    p: Pagina,
    messaggio: Option<String>,
}

// No Debug: these carry passwords and codes.
#[derive(Deserialize)]
pub(super) struct ModuloAccesso {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub(super) struct ModuloCodice {
    #[serde(default)]
    codice: String,
}

#[derive(Deserialize)]
pub(super) struct ModuloNuovaPassword {
    #[serde(default)]
    nuova: String,
    #[serde(default)]
    conferma: String,
}

fn con_stato(codice: StatusCode, r: Response) -> Response {
    (codice, r).into_response()
}

fn modulo(
    stato: &StatoApp,
    csrf: &str,
    username: &str,
    messaggio: Option<String>,
    codice: StatusCode,
) -> Result<Response, ErroreWeb> {
    let t = PaginaAccesso {
        p: Pagina::anonima(stato, csrf.to_string()),
        username: username.to_string(),
        messaggio,
    };
    Ok(con_stato(codice, html(&t)?))
}

/// GET `/`: the home page when signed in, the current sign-in step, or the sign-in form.
pub(super) async fn radice(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
    utente: Result<UtenteConnesso, ErroreWeb>,
) -> Result<Response, ErroreWeb> {
    if let Ok(u) = utente {
        return crate::richieste::pagina_home(&stato, &u).await;
    }
    if let Some(Extension(s)) = sessione {
        match s.dati.fase {
            Fase::Anonima => return modulo(&stato, &s.dati.csrf, "", None, StatusCode::OK),
            // The user was disabled or deleted: start over.
            Fase::Completa => {}
            _ => {
                if let Some(u) = utente_della_fase(&stato, &s).await? {
                    return pagina_fase(&stato, &s, &u, None, StatusCode::OK);
                }
            }
        }
        stato.store.elimina_sessione(&s.id).await?;
    }
    nuova_anonima(&stato).await
}

/// The sign-in form in a new anonymous session, which carries the form's CSRF token.
async fn nuova_anonima(stato: &StatoApp) -> Result<Response, ErroreWeb> {
    let dati = DatiSessione::anonima(stato.adesso_ms());
    let id = sessione::apri(stato, &dati).await?;
    let mut r = modulo(stato, &dati.csrf, "", None, StatusCode::OK)?;
    let cookie =
        HeaderValue::from_str(&sessione::cookie(stato, &id)).map_err(ErroreWeb::interno)?;
    r.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(r)
}

/// The user of a session midway through sign-in, while the account is enabled.
async fn utente_della_fase(stato: &StatoApp, s: &Sessione) -> Result<Option<Utente>, ErroreWeb> {
    let Some(id) = s.dati.utente_id else {
        return Ok(None);
    };
    match stato.store.utente(id).await {
        Ok(u) if u.attivo => Ok(Some(u)),
        Ok(_) | Err(store::ErroreStore::NonTrovato { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The session if it is in `fase` with an enabled user; otherwise back to `/`.
async fn in_fase(
    stato: &StatoApp,
    sessione: Option<Extension<Sessione>>,
    fase: Fase,
) -> Result<(Sessione, Utente), ErroreWeb> {
    let Some(Extension(s)) = sessione else {
        return Err(ErroreWeb::NonAutenticato);
    };
    if s.dati.fase != fase {
        return Err(ErroreWeb::NonAutenticato);
    }
    match utente_della_fase(stato, &s).await? {
        Some(u) => Ok((s, u)),
        None => {
            stato.store.elimina_sessione(&s.id).await?;
            Err(ErroreWeb::NonAutenticato)
        }
    }
}

fn pagina_fase(
    stato: &StatoApp,
    s: &Sessione,
    u: &Utente,
    messaggio: Option<String>,
    codice: StatusCode,
) -> Result<Response, ErroreWeb> {
    let p = Pagina::anonima(stato, s.dati.csrf.clone());
    let r = match s.dati.fase {
        Fase::AttesaTotp => html(&PaginaTotp { p, messaggio })?,
        Fase::IscrizioneTotp => {
            pagina_iscrizione(stato, p, &s.dati, u, "/accedi/totp/iscrizione", messaggio)?
        }
        Fase::CambioPassword => html(&PaginaCambioPassword { p, messaggio })?,
        Fase::Anonima | Fase::Completa => return Err(ErroreWeb::NonAutenticato),
    };
    Ok(con_stato(codice, r))
}

/// The enrolment page (QR code and the key in text), for sign-in and for the profile.
pub(super) fn pagina_iscrizione(
    stato: &StatoApp,
    p: Pagina,
    dati: &DatiSessione,
    u: &Utente,
    azione: &'static str,
    messaggio: Option<String>,
) -> Result<Response, ErroreWeb> {
    let segreto = super::segreto_in_iscrizione(stato, dati)?.ok_or(ErroreWeb::NonAutenticato)?;
    html(&PaginaIscrizione {
        p,
        messaggio,
        username: u.username.clone(),
        segreto: totp::base32_a_gruppi(segreto.esponi()),
        azione,
        salta_demo: stato.config.demo && dati.fase == Fase::IscrizioneTotp,
        obbligatoria: totp_obbligatorio(&u.ruolo),
    })
}

enum Credenziali {
    Errate(Option<Utente>),
    /// The right password of a disabled account.
    Disattivato(Utente),
    Password(Utente),
    Reset(Utente),
}

async fn verifica_credenziali(
    stato: &StatoApp,
    username: &str,
    password: &str,
) -> Result<Credenziali, ErroreWeb> {
    let Some(u) = stato.store.utente_per_username(username).await? else {
        let p = password.to_string();
        tokio::task::spawn_blocking(move || store::anagrafiche::password_corretta(&p, &HASH_FINTO))
            .await
            .map_err(ErroreWeb::interno)?;
        return Ok(Credenziali::Errate(None));
    };
    if stato
        .store
        .verifica_password(username, password)
        .await?
        .is_some()
    {
        return Ok(if u.attivo {
            Credenziali::Password(u)
        } else {
            Credenziali::Disattivato(u)
        });
    }
    if u.attivo {
        let a = attore(stato, &u).await;
        let ora = stato.adesso_ms();
        if stato
            .store
            .usa_codice_reset(u.id, password, ora, &a)
            .await?
        {
            return Ok(Credenziali::Reset(u));
        }
    }
    Ok(Credenziali::Errate(Some(u)))
}

/// The archive's entry of a sign-in attempt that did not succeed. The typed password never
/// goes anywhere; an unknown username is not recorded either (it may be a password typed in the
/// wrong field).
async fn audit_tentativo(
    stato: &StatoApp,
    utente: Option<&Utente>,
    ip: IpAddr,
    fase: &str,
    azione: &str,
) -> Audit {
    match utente {
        Some(u) => Audit::nuovo(
            &attore(stato, u).await,
            format!("utente:{}", u.username),
            azione,
        ),
        None => Audit::nuovo(
            &Attore {
                nome: "sconosciuto".into(),
                ..Attore::sistema()
            },
            "accesso",
            azione,
        ),
    }
    .con_dettagli(json!({ "indirizzo": ip.to_string(), "fase": fase }))
}

/// Records a failed step (password, TOTP code, disabled account) for throttling and the
/// archive, in one transaction.
async fn registra_errore(
    stato: &StatoApp,
    username: &str,
    utente: Option<&Utente>,
    ip: IpAddr,
    fase: &str,
) -> Result<(), ErroreWeb> {
    let audit = audit_tentativo(stato, utente, ip, fase, "ACCESSO_FALLITO").await;
    limiti::registra_fallimento(stato, username, ip, &audit).await
}

/// Records an attempt refused because sign-in is suspended for the account or the address:
/// one archive entry per attempt, not counted again as a failure, so the attempts a block
/// refuses do not prolong it.
async fn registra_blocco(
    stato: &StatoApp,
    utente: Option<&Utente>,
    ip: IpAddr,
    fase: &str,
) -> Result<(), ErroreWeb> {
    let audit = audit_tentativo(stato, utente, ip, fase, "ACCESSO_BLOCCATO").await;
    stato.store.appendi_audit(&audit).await?;
    Ok(())
}

/// POST `/accedi`: username and password (or an administrator's reset code).
pub(super) async fn accedi(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
    IndirizzoCliente(ip): IndirizzoCliente,
    Form(m): Form<ModuloAccesso>,
) -> Result<Response, ErroreWeb> {
    let Some(Extension(s)) = sessione else {
        return Err(ErroreWeb::NonAutenticato);
    };
    let username = m.username.trim();
    let csrf = &s.dati.csrf;
    if let Some(msg) = limiti::blocco(&stato, username, ip).await? {
        let u = stato.store.utente_per_username(username).await?;
        registra_blocco(&stato, u.as_ref(), ip, "password").await?;
        return modulo(
            &stato,
            csrf,
            username,
            Some(msg),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match verifica_credenziali(&stato, username, &m.password).await? {
        Credenziali::Errate(u) => {
            registra_errore(&stato, username, u.as_ref(), ip, "password").await?;
            let msg = Some(CREDENZIALI_ERRATE.to_string());
            modulo(&stato, csrf, username, msg, StatusCode::UNAUTHORIZED)
        }
        Credenziali::Disattivato(u) => {
            registra_errore(&stato, username, Some(&u), ip, "disattivato").await?;
            let msg = "L'account è disattivato: si rivolga al suo amministratore.";
            modulo(
                &stato,
                csrf,
                username,
                Some(msg.into()),
                StatusCode::FORBIDDEN,
            )
        }
        Credenziali::Password(u) => dopo_password(&stato, &s.id, &u, ip).await,
        Credenziali::Reset(u) => {
            let dati = DatiSessione {
                fase: Fase::CambioPassword,
                utente_id: Some(u.id),
                ..DatiSessione::anonima(stato.adesso_ms())
            };
            passa_a(&stato, Some(&s.id), &dati).await
        }
    }
}

/// After the password: the TOTP code if enrolled; enrolment for TOP and ADMIN without one;
/// otherwise signed in with LoA1.
async fn dopo_password(
    stato: &StatoApp,
    vecchio: &str,
    u: &Utente,
    ip: IpAddr,
) -> Result<Response, ErroreWeb> {
    let mut dati = DatiSessione {
        fase: Fase::AttesaTotp,
        utente_id: Some(u.id),
        ..DatiSessione::anonima(stato.adesso_ms())
    };
    if stato.store.totp_utente(u.id).await?.is_none() {
        if !totp_obbligatorio(&u.ruolo) {
            return completa(stato, vecchio, u, "LoA1", ip, "password").await;
        }
        dati.fase = Fase::IscrizioneTotp;
        super::prepara_iscrizione(stato, &mut dati, u.id)?;
    }
    passa_a(stato, Some(vecchio), &dati).await
}

/// Signed in: audited, account failures forgotten, a new session id.
async fn completa(
    stato: &StatoApp,
    vecchio: &str,
    u: &Utente,
    loa: &str,
    ip: IpAddr,
    metodo: &str,
) -> Result<Response, ErroreWeb> {
    let a = attore(stato, u).await;
    let audit = Audit::nuovo(&a, format!("utente:{}", u.username), "ACCESSO")
        .con_dettagli(json!({ "loa": loa, "metodo": metodo, "indirizzo": ip.to_string() }));
    stato.store.appendi_audit(&audit).await?;
    stato
        .store
        .azzera_accessi_falliti(&limiti::chiave_account(&u.username))
        .await?;
    let dati = DatiSessione {
        fase: Fase::Completa,
        utente_id: Some(u.id),
        loa: loa.to_string(),
        ..DatiSessione::anonima(stato.adesso_ms())
    };
    passa_a(stato, Some(vecchio), &dati).await
}

/// POST `/accedi/totp`: the code of an enrolled TOTP.
pub(super) async fn codice_totp(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
    IndirizzoCliente(ip): IndirizzoCliente,
    Form(m): Form<ModuloCodice>,
) -> Result<Response, ErroreWeb> {
    let (s, u) = in_fase(&stato, sessione, Fase::AttesaTotp).await?;
    if let Some(msg) = limiti::blocco(&stato, &u.username, ip).await? {
        registra_blocco(&stato, Some(&u), ip, "totp").await?;
        return pagina_fase(&stato, &s, &u, Some(msg), StatusCode::TOO_MANY_REQUESTS);
    }
    if super::verifica_totp_iscritto(&stato, u.id, &m.codice).await? {
        return completa(&stato, &s.id, &u, "LoA2", ip, "totp").await;
    }
    registra_errore(&stato, &u.username, Some(&u), ip, "totp").await?;
    let msg = Some(CODICE_ERRATO.to_string());
    pagina_fase(&stato, &s, &u, msg, StatusCode::UNAUTHORIZED)
}

/// POST `/accedi/totp/iscrizione`: the first code confirms the enrolment.
pub(super) async fn conferma_iscrizione(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
    IndirizzoCliente(ip): IndirizzoCliente,
    Form(m): Form<ModuloCodice>,
) -> Result<Response, ErroreWeb> {
    let (s, u) = in_fase(&stato, sessione, Fase::IscrizioneTotp).await?;
    if super::completa_iscrizione(&stato, &s.dati, &u, &m.codice).await? {
        return completa(&stato, &s.id, &u, "LoA2", ip, "totp-iscrizione").await;
    }
    registra_errore(&stato, &u.username, Some(&u), ip, "totp-iscrizione").await?;
    let msg = Some(CODICE_ERRATO.to_string());
    pagina_fase(&stato, &s, &u, msg, StatusCode::BAD_REQUEST)
}

/// POST `/accedi/totp/salta`: demo only, TOP and ADMIN may go on without a second factor.
pub(super) async fn salta_iscrizione(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
    IndirizzoCliente(ip): IndirizzoCliente,
) -> Result<Response, ErroreWeb> {
    let (s, u) = in_fase(&stato, sessione, Fase::IscrizioneTotp).await?;
    if !stato.config.demo {
        return Err(ErroreWeb::Vietato(
            "Il secondo fattore si può saltare solo nell'ambiente dimostrativo.".into(),
        ));
    }
    completa(&stato, &s.id, &u, "LoA1", ip, "totp-saltato-demo").await
}

/// POST `/accedi/password`: the new password after a reset code; the reset also cleared the
/// TOTP, so TOP and ADMIN enrol a new one next.
pub(super) async fn nuova_password(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
    IndirizzoCliente(ip): IndirizzoCliente,
    Form(m): Form<ModuloNuovaPassword>,
) -> Result<Response, ErroreWeb> {
    let (s, u) = in_fase(&stato, sessione, Fase::CambioPassword).await?;
    let errore = if m.nuova != m.conferma {
        Some("Le due password non coincidono.".to_string())
    } else {
        super::controlla_password(&m.nuova, &u.username).err()
    };
    if let Some(msg) = errore {
        return pagina_fase(&stato, &s, &u, Some(msg), StatusCode::BAD_REQUEST);
    }
    let a = attore(&stato, &u).await;
    stato
        .store
        .imposta_password(u.id, &m.nuova, true, &a)
        .await?;
    dopo_password(&stato, &s.id, &u, ip).await
}

/// GET `/totp/qr.svg`: the QR code of the enrolment in progress in this session (sign-in or
/// profile), as a separate image so the page needs no inline content.
pub(super) async fn qr_iscrizione(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
) -> Result<Response, ErroreWeb> {
    let Some(Extension(s)) = sessione else {
        return Err(ErroreWeb::NonTrovato);
    };
    if !matches!(s.dati.fase, Fase::IscrizioneTotp | Fase::Completa) {
        return Err(ErroreWeb::NonTrovato);
    }
    let (Some(segreto), Some(u)) = (
        super::segreto_in_iscrizione(&stato, &s.dati)?,
        utente_della_fase(&stato, &s).await?,
    ) else {
        return Err(ErroreWeb::NonTrovato);
    };
    let svg = totp::qr_svg(&totp::uri(segreto.esponi(), &u.username))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

/// POST `/esci`: the session ends on the server, the cookie is removed.
pub(super) async fn esci(
    State(stato): State<StatoApp>,
    sessione: Option<Extension<Sessione>>,
) -> Result<Response, ErroreWeb> {
    if let Some(Extension(s)) = sessione {
        stato.store.elimina_sessione(&s.id).await?;
        if let (Fase::Completa, Some(id)) = (s.dati.fase, s.dati.utente_id)
            && let Ok(u) = stato.store.utente(id).await
        {
            let a = attore(&stato, &u).await;
            let audit = Audit::nuovo(&a, format!("utente:{}", u.username), "USCITA");
            stato.store.appendi_audit(&audit).await?;
        }
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_string()),
            (header::SET_COOKIE, sessione::cookie_cancellato(&stato)),
        ],
    )
        .into_response())
}

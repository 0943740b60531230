//! The common page frame: every template gets a [`Pagina`] with the signed-in user (if any),
//! the CSRF token for its forms, the unread notices and the demo banner.

use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// What the base layout (`templates/base.html`) needs on every page.
#[derive(Debug, Clone, Default)]
pub struct Pagina {
    /// `None` on the sign-in and error pages.
    pub utente: Option<UtenteMenu>,
    /// Put in every form as `<input type="hidden" name="_csrf" value="{{ p.csrf }}">`.
    pub csrf: String,
    pub notifiche_non_lette: i64,
    /// The demo banner: accounts may skip TOTP.
    pub demo: bool,
    /// A one-line confirmation shown above the content ("Richiesta inviata").
    pub avviso: Option<String>,
    /// The expiry banner: only for the TOP users of a Comune (see [`crate::scadenze`]).
    pub scadenze: Vec<crate::scadenze::AvvisoScadenza>,
}

#[derive(Debug, Clone)]
pub struct UtenteMenu {
    pub username: String,
    /// `TOP`, `ADMIN` or `STANDARD`.
    pub ruolo: String,
    /// The Comune or Ente the user belongs to, for the header.
    pub appartenenza: String,
}

impl Pagina {
    /// The frame for a signed-in user.
    pub async fn per(stato: &StatoApp, u: &UtenteConnesso) -> Pagina {
        let appartenenza = appartenenza(stato, &u.utente).await;
        let notifiche_non_lette = crate::notifiche::non_lette(stato, u.utente.id).await;
        let scadenze = match u.utente.comune_id {
            Some(c) if u.utente.ruolo == "TOP" => crate::scadenze::avvisi(stato, c).await,
            _ => Vec::new(),
        };
        Pagina {
            utente: Some(UtenteMenu {
                username: u.utente.username.clone(),
                ruolo: u.utente.ruolo.clone(),
                appartenenza,
            }),
            csrf: u.csrf.clone(),
            notifiche_non_lette,
            demo: stato.config.demo,
            avviso: None,
            scadenze,
        }
    }

    /// The frame for someone not signed in (sign-in form, errors).
    pub fn anonima(stato: &StatoApp, csrf: String) -> Pagina {
        Pagina {
            csrf,
            demo: stato.config.demo,
            ..Pagina::default()
        }
    }

    pub fn con_avviso(mut self, avviso: impl Into<String>) -> Self {
        self.avviso = Some(avviso.into());
        self
    }

    pub fn ruolo(&self) -> &str {
        self.utente.as_ref().map_or("", |u| u.ruolo.as_str())
    }
}

async fn appartenenza(stato: &StatoApp, u: &store::anagrafiche::Utente) -> String {
    if u.ente_id.is_none() && u.comune_id.is_none() {
        return String::new();
    }
    // Both names in one statement; one not found (or not read) is left out.
    let (ente, comune) = stato
        .store
        .nomi_ente_comune(u.ente_id, u.comune_id)
        .await
        .unwrap_or_default();
    // An Ente's account may also name the Comune that manages it: the Ente comes first.
    match (ente, comune) {
        (Some(e), Some(c)) => format!("{e} (Comune di {c})"),
        (Some(e), None) => e,
        (None, Some(c)) => format!("Comune di {c}"),
        (None, None) => String::new(),
    }
}

/// Renders a template as an HTML answer. Pages are personal: never stored by caches.
pub fn html<T: Template>(t: &T) -> Result<Response, crate::ErroreWeb> {
    let corpo = t.render()?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(corpo)).into_response())
}

#[derive(Template)]
#[template(path = "errore.html")]
struct PaginaErrore<'a> {
    p: Pagina,
    titolo: &'a str,
    messaggio: &'a str,
    codice: u16,
}

/// The error page: no user data, no internal details.
pub fn pagina_errore(stato: StatusCode, titolo: &str, messaggio: &str) -> Response {
    let t = PaginaErrore {
        p: Pagina::default(),
        titolo,
        messaggio,
        codice: stato.as_u16(),
    };
    match t.render() {
        Ok(corpo) => (stato, [(header::CACHE_CONTROL, "no-store")], Html(corpo)).into_response(),
        Err(_) => (stato, titolo.to_string()).into_response(),
    }
}

/// Dates and times are stored as UTC epoch-ms and shown in Europe/Rome (DESIGN §7).
pub fn data_ora(ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono_tz::Europe::Rome
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod test {
    #[test]
    fn ora_di_roma() {
        // 2026-07-01T10:00:00Z is 12:00 in Rome (CEST); 2026-01-15T10:00:00Z is 11:00 (CET).
        assert_eq!(super::data_ora(1_782_900_000_000), "01/07/2026 12:00");
        assert_eq!(super::data_ora(1_768_471_200_000), "15/01/2026 11:00");
    }
}

//! Sessions stored in the database (DESIGN §6: `store` keeps them; the table holds only the
//! SHA-256 of each id). A session ends after 30 minutes idle or 12 hours in all, whichever
//! comes first, by the injected clock; logout deletes it on the server.
//!
//! The cookie is HttpOnly and SameSite=Strict; it is `__Host-rivesto` and Secure whenever the
//! public URL is https (also behind a reverse proxy that ends TLS), `rivesto` otherwise.
//!
//! [`carica`] is the middleware that finds the session of each request and puts a [`Sessione`]
//! in its extensions; [`UtenteConnesso`] is the extractor for pages that need a signed-in user.

use crate::ErroreWeb;
use crate::stato::StatoApp;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

pub const INATTIVITA_MS: i64 = 30 * 60 * 1000;
pub const DURATA_MASSIMA_MS: i64 = 12 * 60 * 60 * 1000;
/// The last-seen time is written back at most this often, not on every request.
const AGGIORNA_OGNI_MS: i64 = 60 * 1000;

/// How far the sign-in has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fase {
    /// Nobody signed in: the session only carries the sign-in form's CSRF token.
    Anonima,
    /// Password accepted; the TOTP code is next.
    AttesaTotp,
    /// Password accepted; the user must enrol a TOTP (TOP and ADMIN) before going on.
    IscrizioneTotp,
    /// Password accepted; an administrator's reset requires a new password before going on.
    CambioPassword,
    /// Signed in.
    Completa,
}

/// What a session row holds (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatiSessione {
    pub fase: Fase,
    pub utente_id: Option<i64>,
    /// The synchronizer token that every state-changing request must carry.
    pub csrf: String,
    /// `LoA1` (password only) or `LoA2` (with a second factor), DESIGN §4.
    pub loa: String,
    pub creata_ms: i64,
    pub ultimo_ms: i64,
    /// The TOTP secret being enrolled, until the first code confirms it: encrypted with the
    /// master key (bound to the user) and base64-encoded, so the sessions table holds no
    /// usable secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_in_iscrizione: Option<String>,
}

impl DatiSessione {
    pub fn anonima(ora_ms: i64) -> Self {
        DatiSessione {
            fase: Fase::Anonima,
            utente_id: None,
            csrf: token_casuale(),
            loa: "LoA1".into(),
            creata_ms: ora_ms,
            ultimo_ms: ora_ms,
            totp_in_iscrizione: None,
        }
    }

    /// When the session ends if nothing happens: idle limit, capped by the absolute one.
    pub fn scadenza_ms(&self) -> i64 {
        (self.ultimo_ms + INATTIVITA_MS).min(self.creata_ms + DURATA_MASSIMA_MS)
    }

    pub fn valida(&self, ora_ms: i64) -> bool {
        ora_ms < self.scadenza_ms()
    }
}

/// The session of the current request, put in the request's extensions by [`carica`].
#[derive(Debug, Clone)]
pub struct Sessione {
    /// The cookie value (never logged).
    pub id: String,
    pub dati: DatiSessione,
}

/// 256 random bits, URL-safe.
pub fn token_casuale() -> String {
    use base64::Engine as _;
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn nome_cookie(stato: &StatoApp) -> &'static str {
    if stato.config.https() {
        "__Host-rivesto"
    } else {
        "rivesto"
    }
}

/// The `Set-Cookie` value for session `id`. No Max-Age: the browser forgets it when closed, and
/// the server forgets it after the idle or absolute limit anyway.
pub fn cookie(stato: &StatoApp, id: &str) -> String {
    let sicuro = if stato.config.https() { "; Secure" } else { "" };
    format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict{sicuro}",
        nome_cookie(stato)
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cookie_cancellato(stato: &StatoApp) -> String {
    let sicuro = if stato.config.https() { "; Secure" } else { "" };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{sicuro}",
        nome_cookie(stato)
    )
}

fn id_dal_cookie(stato: &StatoApp, intestazioni: &HeaderMap) -> Option<String> {
    let nome = nome_cookie(stato);
    intestazioni
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, v)| *n == nome && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// Creates a session in the store and returns its id (for [`cookie`]).
pub async fn apri(stato: &StatoApp, dati: &DatiSessione) -> Result<String, ErroreWeb> {
    let id = token_casuale();
    salva(stato, &id, dati).await?;
    Ok(id)
}

/// Replaces session `vecchio` with a new id holding `dati`, and returns the new id. Used at
/// every step of sign-in, so an id that existed before (possibly planted by someone else:
/// session fixation) never becomes a signed-in one.
pub async fn rinnova(
    stato: &StatoApp,
    vecchio: Option<&str>,
    dati: &DatiSessione,
) -> Result<String, ErroreWeb> {
    if let Some(v) = vecchio {
        stato.store.elimina_sessione(v).await?;
    }
    apri(stato, dati).await
}

pub async fn salva(stato: &StatoApp, id: &str, dati: &DatiSessione) -> Result<(), ErroreWeb> {
    let json = serde_json::to_string(dati).map_err(ErroreWeb::interno)?;
    stato
        .store
        .salva_sessione(id, &json, dati.scadenza_ms())
        .await?;
    Ok(())
}

/// Middleware: finds the request's session (if its cookie names a live one), refreshes its
/// last-seen time, and puts a [`Sessione`] in the request's extensions.
pub async fn carica(State(stato): State<StatoApp>, mut req: Request, next: Next) -> Response {
    if let Some(id) = id_dal_cookie(&stato, req.headers()) {
        let ora = stato.adesso_ms();
        match stato.store.carica_sessione(&id, ora).await {
            Ok(Some(json)) => match serde_json::from_str::<DatiSessione>(&json) {
                Ok(mut dati) if dati.valida(ora) => {
                    if ora - dati.ultimo_ms >= AGGIORNA_OGNI_MS {
                        dati.ultimo_ms = ora;
                        if let Err(e) = salva(&stato, &id, &dati).await {
                            tracing::warn!(errore = %e, "sessione non aggiornata");
                        }
                    }
                    req.extensions_mut().insert(Sessione { id, dati });
                }
                Ok(_) => {
                    let _ = stato.store.elimina_sessione(&id).await;
                }
                Err(e) => tracing::warn!(errore = %e, "sessione illeggibile: ignorata"),
            },
            Ok(None) => {}
            Err(e) => tracing::error!(errore = %e, "sessione non caricata"),
        }
    }
    next.run(req).await
}

/// A signed-in user (session in phase `Completa`, account enabled). Pages take it as an
/// argument; without one the browser goes to the sign-in form.
#[derive(Debug, Clone)]
pub struct UtenteConnesso {
    pub utente: store::anagrafiche::Utente,
    pub sessione_id: String,
    pub csrf: String,
    pub loa: String,
}

impl UtenteConnesso {
    pub fn ruolo(&self) -> &str {
        &self.utente.ruolo
    }

    /// Refuses (403) unless the user has one of `ruoli`.
    pub fn richiedi(&self, ruoli: &[&str]) -> Result<(), ErroreWeb> {
        if ruoli.contains(&self.utente.ruolo.as_str()) {
            Ok(())
        } else {
            Err(ErroreWeb::Vietato(
                "Questa funzione non è disponibile per il suo ruolo.".into(),
            ))
        }
    }
}

impl FromRequestParts<StatoApp> for UtenteConnesso {
    type Rejection = ErroreWeb;

    async fn from_request_parts(
        parts: &mut Parts,
        stato: &StatoApp,
    ) -> Result<Self, Self::Rejection> {
        let Some(s) = parts.extensions.get::<Sessione>() else {
            return Err(ErroreWeb::NonAutenticato);
        };
        let (Fase::Completa, Some(id)) = (s.dati.fase, s.dati.utente_id) else {
            return Err(ErroreWeb::NonAutenticato);
        };
        let utente = match stato.store.utente(id).await {
            Ok(u) => u,
            Err(store::ErroreStore::NonTrovato { .. }) => return Err(ErroreWeb::NonAutenticato),
            Err(e) => return Err(e.into()),
        };
        if !utente.attivo {
            // A disabled account loses its sessions at once.
            let _ = stato.store.elimina_sessione(&s.id).await;
            return Err(ErroreWeb::NonAutenticato);
        }
        Ok(UtenteConnesso {
            utente,
            sessione_id: s.id.clone(),
            csrf: s.dati.csrf.clone(),
            loa: s.dati.loa.clone(),
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn scadenza_inattivita_e_assoluta() {
        let mut d = DatiSessione::anonima(0);
        assert_eq!(d.scadenza_ms(), INATTIVITA_MS);
        assert!(d.valida(INATTIVITA_MS - 1));
        assert!(!d.valida(INATTIVITA_MS));
        // Active all day: the absolute limit still ends it at 12 hours.
        d.ultimo_ms = DURATA_MASSIMA_MS - 1000;
        assert_eq!(d.scadenza_ms(), DURATA_MASSIMA_MS);
        assert!(!d.valida(DURATA_MASSIMA_MS));
    }

    #[test]
    fn token_diversi() {
        assert_ne!(token_casuale(), token_casuale());
        assert_eq!(token_casuale().len(), 43);
    }
}

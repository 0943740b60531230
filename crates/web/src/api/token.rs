//! API tokens: the page where a signed-in user creates and revokes them (`/profilo/token`), and
//! the [`UtenteApi`] extractor that authenticates API calls by `Authorization: Bearer rvt_…`.
//!
//! A token is `rvt_` followed by 32 random bytes in base64url. Only its SHA-256 is stored; it is
//! shown once, on the answer to its creation, and never again. It carries the LoA of the session
//! that created it (DESIGN §4: LoA2 only for a user who signed in with a second factor).

use super::errore::{ErroreApi, NON_AUTENTICATO};
use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, data_ora, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing};
use serde::Deserialize;
use store::anagrafiche::Utente;
use store::token_api::NuovoTokenApi;

pub const PREFISSO: &str = "rvt_";
/// The longest token name the page accepts.
pub const MAX_NOME: usize = 80;
const NON_VALIDO: &str = "Token non valido o revocato.";

/// A fresh token: `rvt_` and 256 random bits, URL-safe (never logged).
pub fn genera_token() -> String {
    format!("{PREFISSO}{}", crate::sessione::token_casuale())
}

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/profilo/token", routing::get(elenco).post(crea))
        .route("/profilo/token/{id}/revoca", routing::post(revoca))
}

/// The caller of an API endpoint, authenticated by a bearer token only (never by the session
/// cookie, so the API needs no CSRF protection and a browser cannot be tricked into using it).
#[derive(Debug, Clone)]
pub struct UtenteApi {
    pub utente: Utente,
    pub token_id: i64,
    /// The LoA recorded on the token at its creation.
    pub loa: String,
}

impl UtenteApi {
    /// Refuses (403) unless the user has one of `ruoli`.
    pub fn richiedi(&self, ruoli: &[&str]) -> Result<(), ErroreApi> {
        if ruoli.contains(&self.utente.ruolo.as_str()) {
            Ok(())
        } else {
            Err(ErroreApi::Vietato(
                "Questa operazione non è disponibile per il suo ruolo.".into(),
            ))
        }
    }
}

/// The token of an `Authorization: Bearer …` header, if the header has that form.
fn token_bearer(parts: &Parts) -> Option<&str> {
    let valore = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (schema, token) = valore.trim().split_once(' ')?;
    schema
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<StatoApp> for UtenteApi {
    type Rejection = ErroreApi;

    async fn from_request_parts(
        parts: &mut Parts,
        stato: &StatoApp,
    ) -> Result<Self, Self::Rejection> {
        let token = token_bearer(parts).ok_or(ErroreApi::NonAutenticato(NON_AUTENTICATO))?;
        if !token.starts_with(PREFISSO) {
            return Err(ErroreApi::NonAutenticato(NON_VALIDO));
        }
        let t = stato
            .store
            .usa_token_api(token, stato.adesso_ms())
            .await?
            .ok_or(ErroreApi::NonAutenticato(NON_VALIDO))?;
        let utente = match stato.store.utente(t.utente_id).await {
            Ok(u) => u,
            Err(store::ErroreStore::NonTrovato { .. }) => {
                return Err(ErroreApi::NonAutenticato(NON_VALIDO));
            }
            Err(e) => return Err(e.into()),
        };
        // A disabled account's tokens stop working at once, with the same answer as a
        // revoked one: the caller learns nothing about the account.
        if !utente.attivo {
            return Err(ErroreApi::NonAutenticato(NON_VALIDO));
        }
        Ok(UtenteApi {
            utente,
            token_id: t.id,
            loa: t.loa,
        })
    }
}

/// One token as the list shows it.
struct VoceToken {
    id: String,
    nome: String,
    loa: String,
    creato: String,
    ultimo_uso: Option<String>,
    revocato: Option<String>,
}

#[derive(Template)]
#[template(path = "api/token.html")]
struct PaginaToken {
    p: Pagina,
    token: Vec<VoceToken>,
    loa_sessione: String,
    max_nome: usize,
    errore: Option<String>,
}

#[derive(Template)]
#[template(path = "api/token_creato.html")]
struct PaginaTokenCreato {
    p: Pagina,
    nome: String,
    token: String,
}

async fn pagina_elenco(
    stato: &StatoApp,
    u: &UtenteConnesso,
    errore: Option<String>,
) -> Result<Response, ErroreWeb> {
    let token = stato
        .store
        .token_api_utente(u.utente.id)
        .await?
        .into_iter()
        .map(|t| VoceToken {
            id: stato.ids.codifica(Tipo::Token, t.id),
            nome: t.nome,
            loa: t.loa,
            creato: data_ora(t.creato_ms),
            ultimo_uso: t.ultimo_uso_ms.map(data_ora),
            revocato: t.revocato_ms.map(data_ora),
        })
        .collect();
    let pagina = PaginaToken {
        p: Pagina::per(stato, u).await,
        token,
        loa_sessione: loa_token(&u.loa).into(),
        max_nome: MAX_NOME,
        errore,
    };
    let mut r = html(&pagina)?;
    if pagina.errore.is_some() {
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

async fn elenco(State(stato): State<StatoApp>, u: UtenteConnesso) -> Result<Response, ErroreWeb> {
    pagina_elenco(&stato, &u, None).await
}

/// DESIGN §4: an API token gives LoA2 only to a user who has a second factor, i.e. one whose
/// session reached LoA2; anything else is LoA1.
fn loa_token(loa_sessione: &str) -> &'static str {
    if loa_sessione == "LoA2" {
        "LoA2"
    } else {
        "LoA1"
    }
}

#[derive(Deserialize)]
struct FormToken {
    #[serde(default)]
    nome: String,
}

async fn crea(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Form(f): Form<FormToken>,
) -> Result<Response, ErroreWeb> {
    let nome = f.nome.trim().to_string();
    let lunghezza = nome.chars().count();
    if lunghezza == 0 || lunghezza > MAX_NOME || nome.chars().any(char::is_control) {
        let errore = format!("Indichi un nome per il token, da 1 a {MAX_NOME} caratteri.");
        return pagina_elenco(&stato, &u, Some(errore)).await;
    }
    let token = genera_token();
    let nuovo = NuovoTokenApi {
        utente_id: u.utente.id,
        nome: nome.clone(),
        loa: loa_token(&u.loa).into(),
    };
    let attore = crate::richieste::operazioni::attore(&stato, &u.utente).await?;
    stato
        .store
        .crea_token_api(&nuovo, &token, stato.adesso_ms(), &attore)
        .await?;
    let pagina = PaginaTokenCreato {
        p: Pagina::per(&stato, &u).await,
        nome,
        token,
    };
    html(&pagina)
}

async fn revoca(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(id): Path<String>,
) -> Result<Response, ErroreWeb> {
    let id = stato
        .ids
        .decodifica(Tipo::Token, &id)
        .ok_or(ErroreWeb::NonTrovato)?;
    let attore = crate::richieste::operazioni::attore(&stato, &u.utente).await?;
    stato
        .store
        .revoca_token_api(u.utente.id, id, stato.adesso_ms(), &attore)
        .await?;
    Ok(Redirect::to("/profilo/token").into_response())
}

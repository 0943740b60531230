//! The JSON API's errors: `{"errore": "...", "dettagli": [...]}` with the right status, in
//! Italian, never an HTML page and never an internal detail (those go to the log).

use crate::ErroreWeb;
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

// The body of every error answer. Its doc comments are the OpenAPI descriptions, hence Italian.
#[derive(Debug, Clone, Serialize, ToSchema)]
/// Il corpo di ogni risposta di errore.
pub struct CorpoErrore {
    /// Che cosa non va, in italiano, da leggere a una persona.
    pub errore: String,
    /// Altre righe quando servono (ad esempio una per riga rifiutata).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dettagli: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreApi {
    /// No token, or a token that is unknown, revoked or of a disabled account.
    #[error("{0}")]
    NonAutenticato(&'static str),
    /// Also the answer for every object outside the caller's scope (DESIGN §1).
    #[error("risorsa non trovata")]
    NonTrovato,
    #[error("{0}")]
    Vietato(String),
    #[error("{messaggio}")]
    NonValido {
        messaggio: String,
        dettagli: Vec<String>,
    },
    #[error("errore interno: {0}")]
    Interno(String),
}

impl ErroreApi {
    pub fn non_valido(messaggio: impl Into<String>) -> Self {
        ErroreApi::NonValido {
            messaggio: messaggio.into(),
            dettagli: Vec::new(),
        }
    }

    pub fn interno(e: impl std::fmt::Display) -> Self {
        ErroreApi::Interno(e.to_string())
    }

    pub fn stato_http(&self) -> StatusCode {
        match self {
            ErroreApi::NonAutenticato(_) => StatusCode::UNAUTHORIZED,
            ErroreApi::NonTrovato => StatusCode::NOT_FOUND,
            ErroreApi::Vietato(_) => StatusCode::FORBIDDEN,
            ErroreApi::NonValido { .. } => StatusCode::BAD_REQUEST,
            ErroreApi::Interno(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ErroreWeb> for ErroreApi {
    fn from(e: ErroreWeb) -> Self {
        match e {
            ErroreWeb::NonTrovato => ErroreApi::NonTrovato,
            ErroreWeb::NonAutenticato => ErroreApi::NonAutenticato(NON_AUTENTICATO),
            ErroreWeb::Vietato(m) => ErroreApi::Vietato(m),
            ErroreWeb::NonValido(m) => ErroreApi::non_valido(m),
            ErroreWeb::Interno(m) => ErroreApi::Interno(m),
        }
    }
}

impl From<store::ErroreStore> for ErroreApi {
    fn from(e: store::ErroreStore) -> Self {
        ErroreWeb::from(e).into()
    }
}

pub(crate) const NON_AUTENTICATO: &str = "Autenticazione richiesta: invii l'intestazione «Authorization: Bearer <token>» con un token API valido.";

impl IntoResponse for ErroreApi {
    fn into_response(self) -> Response {
        let stato = self.stato_http();
        let corpo = match self {
            ErroreApi::NonAutenticato(m) => CorpoErrore {
                errore: m.into(),
                dettagli: Vec::new(),
            },
            ErroreApi::NonTrovato => CorpoErrore {
                errore: "Risorsa non trovata, oppure non è nel suo ambito.".into(),
                dettagli: Vec::new(),
            },
            ErroreApi::Vietato(m) => CorpoErrore {
                errore: m,
                dettagli: Vec::new(),
            },
            ErroreApi::NonValido {
                messaggio,
                dettagli,
            } => CorpoErrore {
                errore: messaggio,
                dettagli,
            },
            ErroreApi::Interno(dettaglio) => {
                tracing::error!(errore = %dettaglio, "errore interno nella risposta API");
                CorpoErrore {
                    errore: "Errore interno: riprovi più tardi; se il problema persiste, avvisi \
                             l'amministratore del sistema."
                        .into(),
                    dettagli: Vec::new(),
                }
            }
        };
        let mut r = (stato, [(header::CACHE_CONTROL, "no-store")], Json(corpo)).into_response();
        if stato == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"rivesto\""),
            );
        }
        r
    }
}

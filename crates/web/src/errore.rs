//! The error every page handler can `?` into. It renders an Italian error page with the right
//! status, and never shows internal details (they go to the log, without secrets).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use store::ErroreStore;

#[derive(Debug, thiserror::Error)]
pub enum ErroreWeb {
    /// Also the answer for every object outside the user's scope (DESIGN §1).
    #[error("pagina non trovata")]
    NonTrovato,
    /// Not signed in: pages send the browser to the sign-in form.
    #[error("accesso richiesto")]
    NonAutenticato,
    /// Signed in, but the role may not do this (never used to hide tenants: that is 404).
    #[error("{0}")]
    Vietato(String),
    /// The request is wrong in a way the user can fix; the message is shown as is.
    #[error("{0}")]
    NonValido(String),
    #[error("errore interno: {0}")]
    Interno(String),
}

impl ErroreWeb {
    pub fn interno(e: impl std::fmt::Display) -> Self {
        ErroreWeb::Interno(e.to_string())
    }

    pub fn stato_http(&self) -> StatusCode {
        match self {
            ErroreWeb::NonTrovato => StatusCode::NOT_FOUND,
            ErroreWeb::NonAutenticato => StatusCode::SEE_OTHER,
            ErroreWeb::Vietato(_) => StatusCode::FORBIDDEN,
            ErroreWeb::NonValido(_) => StatusCode::BAD_REQUEST,
            ErroreWeb::Interno(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ErroreStore> for ErroreWeb {
    fn from(e: ErroreStore) -> Self {
        match e {
            ErroreStore::NonTrovato { .. } => ErroreWeb::NonTrovato,
            ErroreStore::StatoNonAmmesso { .. } => ErroreWeb::NonValido(e.to_string()),
            altro => ErroreWeb::interno(altro),
        }
    }
}

impl From<askama::Error> for ErroreWeb {
    fn from(e: askama::Error) -> Self {
        ErroreWeb::interno(e)
    }
}

impl IntoResponse for ErroreWeb {
    fn into_response(self) -> Response {
        let (titolo, messaggio) = match &self {
            ErroreWeb::NonAutenticato => return Redirect::to("/").into_response(),
            ErroreWeb::NonTrovato => (
                "Pagina non trovata",
                "La pagina o l'oggetto richiesto non esiste, oppure non è nel suo ambito."
                    .to_string(),
            ),
            ErroreWeb::Vietato(m) => ("Operazione non consentita", m.clone()),
            ErroreWeb::NonValido(m) => ("Richiesta non valida", m.clone()),
            ErroreWeb::Interno(dettaglio) => {
                tracing::error!(errore = %dettaglio, "errore interno nella risposta web");
                (
                    "Errore interno",
                    "Si è verificato un errore imprevisto. Riprovi più tardi; se il problema \
                     persiste, avvisi l'amministratore del sistema."
                        .to_string(),
                )
            }
        };
        crate::pagina::pagina_errore(self.stato_http(), titolo, &messaggio)
    }
}

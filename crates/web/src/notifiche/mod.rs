//! In-app notifications and e-mail (W3): the user's list at `/notifiche` (newest first), marking
//! one or all as read, the unread counter in the page header, and the e-mail dispatcher
//! ([`avvia_posta`]). The notices themselves are written by the store in the same transaction
//! as the request's state change (`store::notifiche`).

mod posta;

pub use posta::{avvia_posta, invia_posta_dovuta};

use crate::ErroreWeb;
use crate::ids::Tipo;
use crate::pagina::{Pagina, data_ora, html};
use crate::sessione::UtenteConnesso;
use crate::stato::StatoApp;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use store::notifiche::{Notifica, tipo};

/// Notices shown on the page (older ones stay in the database).
const MASSIMO_ELENCO: i64 = 200;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/notifiche", get(elenco))
        .route("/notifiche/lette", post(segna_tutte))
        .route("/notifiche/{id}/letta", post(segna_una))
}

/// Unread notices of user `utente_id`, for the counter in the header. A failure only hides the
/// counter: the page itself must still render.
pub async fn non_lette(stato: &StatoApp, utente_id: i64) -> i64 {
    match stato
        .store
        .notifiche_non_lette(utente_id, stato.adesso_ms())
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(errore = %e, "conteggio delle notifiche non riuscito");
            0
        }
    }
}

/// Where a notice leads: the approval queue for a TOP, the request's page for its submitter.
pub(crate) fn collegamento(stato: &StatoApp, n: &Notifica) -> Option<String> {
    let id = n.richiesta_id?;
    Some(match n.tipo.as_str() {
        tipo::IN_ATTESA_CONVALIDA | tipo::PROMEMORIA_SILENZIO => "/convalida".to_string(),
        _ => format!("/richieste/{}", stato.ids.codifica(Tipo::Richiesta, id)),
    })
}

struct VoceNotifica {
    id: String,
    titolo: String,
    testo: String,
    quando: String,
    letta: bool,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "notifiche/elenco.html")]
struct PaginaNotifiche {
    p: Pagina,
    voci: Vec<VoceNotifica>,
    non_lette: usize,
}

async fn elenco(State(stato): State<StatoApp>, u: UtenteConnesso) -> Result<Response, ErroreWeb> {
    let notifiche = stato
        .store
        .notifiche(u.utente.id, stato.adesso_ms(), MASSIMO_ELENCO)
        .await?;
    let voci: Vec<VoceNotifica> = notifiche
        .iter()
        .map(|n| VoceNotifica {
            id: stato.ids.codifica(Tipo::Notifica, n.id),
            titolo: n.titolo.clone(),
            testo: n.testo.clone(),
            quando: data_ora(n.quando_ms()),
            letta: n.letta_ms.is_some(),
            link: collegamento(&stato, n),
        })
        .collect();
    let non_lette = voci.iter().filter(|v| !v.letta).count();
    html(&PaginaNotifiche {
        p: Pagina::per(&stato, &u).await,
        voci,
        non_lette,
    })
}

async fn segna_una(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
    Path(id): Path<String>,
) -> Result<Redirect, ErroreWeb> {
    let id = stato
        .ids
        .decodifica(Tipo::Notifica, &id)
        .ok_or(ErroreWeb::NonTrovato)?;
    // Someone else's notice is "not found", like a missing one.
    stato
        .store
        .segna_notifica_letta(u.utente.id, id, stato.adesso_ms())
        .await?;
    Ok(Redirect::to("/notifiche"))
}

async fn segna_tutte(
    State(stato): State<StatoApp>,
    u: UtenteConnesso,
) -> Result<Redirect, ErroreWeb> {
    stato
        .store
        .segna_tutte_lette(u.utente.id, stato.adesso_ms())
        .await?;
    Ok(Redirect::to("/notifiche"))
}

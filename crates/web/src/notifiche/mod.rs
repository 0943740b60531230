//! In-app notifications and e-mail (W3).

use crate::stato::StatoApp;
use axum::Router;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
}

/// Unread notices of user `utente_id`, for the counter in the header.
pub async fn non_lette(_stato: &StatoApp, _utente_id: i64) -> i64 {
    0
}

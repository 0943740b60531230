//! The archive (issue 6): "chi ha consultato questo soggetto?", the activity log with its filters
//! and CSV export, and each request's timeline.

mod consultazioni;
pub(crate) mod monitoraggio;

use crate::stato::StatoApp;
use axum::Router;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .merge(consultazioni::rotte())
        .merge(monitoraggio::rotte())
}

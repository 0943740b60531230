//! Statistics pages (issue 6): periods, breakdowns, server-rendered SVG charts with their data
//! tables, CSV and XLSX exports.

use crate::stato::StatoApp;
use axum::Router;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
}

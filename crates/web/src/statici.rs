//! Embedded assets: the stylesheet and htmx 2 (vendored, 0BSD; see static/htmx.LICENSE). The
//! binary runs from any folder, so nothing is read from disk.

use crate::stato::StatoApp;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const CSS: &str = include_str!("../static/rivesto.css");
const HTMX: &str = include_str!("../static/htmx.min.js");

pub fn rotte() -> Router<StatoApp> {
    Router::new()
        .route("/static/rivesto.css", get(css))
        .route("/static/htmx.min.js", get(htmx))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

async fn htmx() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        HTMX,
    )
}

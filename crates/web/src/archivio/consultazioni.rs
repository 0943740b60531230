use crate::stato::StatoApp;
use axum::Router;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
}

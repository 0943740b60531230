//! Security headers (W1 fills this in).

use crate::stato::StatoApp;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub async fn aggiungi(State(_stato): State<StatoApp>, req: Request, next: Next) -> Response {
    next.run(req).await
}

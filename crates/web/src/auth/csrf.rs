//! CSRF protection (W1 replaces this pass-through with the synchronizer-token check).

use crate::stato::StatoApp;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub async fn proteggi(State(_stato): State<StatoApp>, req: Request, next: Next) -> Response {
    next.run(req).await
}

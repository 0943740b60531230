//! Sign-in (password, TOTP, throttling), sign-out, the profile page, CSRF protection, the
//! security headers. Owned by the authentication work (W1).

pub mod csrf;
pub mod intestazioni;

use crate::stato::StatoApp;
use axum::Router;

pub fn rotte() -> Router<StatoApp> {
    Router::new()
}

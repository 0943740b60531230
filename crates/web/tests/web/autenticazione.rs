//! Tests: autenticazione.

//! Tests: richieste.

//! Contract tests: autenticazione.

//! Contract tests: gestione.

//! Contract tests: elenchi.

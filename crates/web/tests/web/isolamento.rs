//! Tests: isolamento.

//! Tests: amministrazione.

//! The worker's integration tests: one binary, a module per feature.

mod cifratura;
mod rivestizione;
mod supporto;

//! Integration tests of the domain crate: one binary, a module per feature.

mod cf;
mod documenti;
mod id_anpr;
mod luoghi;

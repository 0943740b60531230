//! Rivesto's domain: identifiers, places, outcomes, scopes and field groups. No I/O.

pub mod ambito;
pub mod esito;
pub mod gruppi;
pub mod tipo;

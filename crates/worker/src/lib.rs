//! The batch engine's parts that need no database: the row executor, the impact estimate and
//! the encryption of result files. See README.md.

pub mod cifratura;
pub mod rivestizione;
pub mod stima;

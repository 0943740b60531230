//! Input and output files (DESIGN §5).

pub mod input;
pub mod output;

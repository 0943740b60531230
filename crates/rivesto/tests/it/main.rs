//! Drives the compiled `rivesto` binary as a user would.

mod admin;
mod anpr_check;
mod audit;
mod bench;
mod client;
mod copia_pg;
mod demo;
mod input_check;
mod metriche;
mod migrate;
mod operazioni;
mod rotazione;
mod scala;
mod serve;
mod worker;

use std::path::Path;
use std::process::{Command, Output};

pub fn rivesto(cartella: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rivesto"));
    c.current_dir(cartella)
        .env_remove("RIVESTO_DATA_DIR")
        .env_remove("RIVESTO_DATABASE_URL")
        .env_remove("RIVESTO_MASTER_KEY_FILE");
    c
}

pub fn testo(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

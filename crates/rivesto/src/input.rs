//! `rivesto input check FILE [--json]`.

use crate::cli::InputComando;
use files::input::Limiti;
use std::process::ExitCode;

pub fn esegui(comando: InputComando) -> anyhow::Result<ExitCode> {
    let InputComando::Check {
        file,
        json,
        max_byte,
        max_righe,
    } = comando;
    let mut limiti = Limiti::default();
    if let Some(n) = max_byte {
        limiti.max_byte = n;
    }
    if let Some(n) = max_righe {
        limiti.max_righe = n;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = files::input::controlla_file(&file, limiti, json, &mut out);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(2)))
}

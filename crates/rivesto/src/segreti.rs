//! The master key and passwords as the commands obtain them: the key from its file, passwords
//! from a file or stdin (never from argv, where `ps` and shell history would show them).

use crate::cli::Globali;
use anyhow::Context as _;
use std::io::BufRead as _;
use std::path::Path;
use store::{Attore, ChiaveMaestra};

/// The actor of every mutation made by `rivesto admin`: an operator at the server's console,
/// distinct from `sistema` (silent consent, timers, the worker), so the archive tells them apart.
pub fn attore_admin_cli() -> Attore {
    Attore {
        nome: "admin-cli".into(),
        ruolo: None,
        comune: None,
        ente: None,
    }
}

/// The master key, or an error that says how to make one.
pub fn master_key(g: &Globali) -> anyhow::Result<ChiaveMaestra> {
    let percorso = g.percorso_master_key();
    if !percorso.exists() {
        anyhow::bail!(
            "master key non trovata in {} (impostare RIVESTO_MASTER_KEY_FILE o --master-key-file); \
             per crearla: rivesto admin gen-master-key",
            percorso.display()
        );
    }
    Ok(ChiaveMaestra::da_file(&percorso)?)
}

/// The first line of a file, without its line ending; an empty line is refused.
pub fn leggi_prima_riga(percorso: &Path, cosa: &str) -> anyhow::Result<String> {
    let testo = std::fs::read_to_string(percorso)
        .with_context(|| format!("{cosa}: lettura di {} non riuscita", percorso.display()))?;
    prima_riga(&testo).with_context(|| format!("{cosa}: {} è vuoto", percorso.display()))
}

/// The first line of standard input.
pub fn leggi_da_stdin(cosa: &str) -> anyhow::Result<String> {
    let mut riga = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut riga)
        .with_context(|| format!("{cosa}: lettura dallo standard input non riuscita"))?;
    prima_riga(&riga).with_context(|| format!("{cosa}: standard input vuoto"))
}

fn prima_riga(testo: &str) -> Option<String> {
    let riga = testo.lines().next()?.trim_end_matches('\r');
    (!riga.is_empty()).then(|| riga.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prima_riga_senza_a_capo() {
        assert_eq!(
            prima_riga("pass word\r\naltro").as_deref(),
            Some("pass word")
        );
        assert_eq!(prima_riga("solo").as_deref(), Some("solo"));
        assert_eq!(prima_riga("\nseconda"), None);
        assert_eq!(prima_riga(""), None);
    }
}

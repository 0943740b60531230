//! The configuration reference, generated from the command-line definition itself (every
//! command, flag, environment variable, default and help text), so docs/configuration.md
//! cannot drift from the code: `rivesto doc config --write docs/configuration.md` refreshes its
//! generated section, and a test fails while the file is stale.

use crate::cli::Cli;
use clap::{Arg, ArgAction, Command, CommandFactory as _};
use std::fmt::Write as _;
use std::path::Path;

pub const INIZIO: &str =
    "<!-- BEGIN GENERATED: rivesto doc config --write docs/configuration.md -->";
pub const FINE: &str = "<!-- END GENERATED -->";
pub const COMANDO_AGGIORNA: &str =
    "cargo run -p rivesto -- doc config --write docs/configuration.md";

/// The generated section, markers excluded.
pub fn genera() -> String {
    let mut cli = Cli::command();
    let mut out = String::new();
    out.push_str(
        "\n## Reference (generated)\n\nEvery command and flag, with its environment variable \
         and default, as `rivesto --help` has them. Global flags are accepted before or after \
         the command name.\n\n### Global flags\n",
    );
    let globali: Vec<&Arg> = cli.get_arguments().filter(|a| mostrato(a)).collect();
    tabella(&mut out, &globali);
    cli.build();
    for sotto in cli.get_subcommands() {
        comando(&mut out, sotto, "rivesto");
    }
    out.push('\n');
    out
}

fn mostrato(a: &Arg) -> bool {
    !a.is_hide_set() && !matches!(a.get_action(), ArgAction::Help | ArgAction::Version)
}

fn comando(out: &mut String, c: &Command, genitore: &str) {
    if c.is_hide_set() || c.get_name() == "help" {
        return;
    }
    let nome = format!("{genitore} {}", c.get_name());
    let _ = writeln!(out, "\n### `{nome}`");
    if let Some(testo) = c.get_long_about().or(c.get_about()) {
        let _ = writeln!(out, "\n{}", frase(&una_riga(&testo.to_string())));
    }
    // Globals propagate into every subcommand once built; they are listed once above.
    let propri: Vec<&Arg> = c
        .get_arguments()
        .filter(|a| mostrato(a) && !a.is_global_set())
        .collect();
    if !propri.is_empty() {
        tabella(out, &propri);
    }
    for sotto in c.get_subcommands() {
        comando(out, sotto, &nome);
    }
}

fn tabella(out: &mut String, argomenti: &[&Arg]) {
    out.push_str("\n| flag | environment | default | meaning |\n|---|---|---|---|\n");
    for a in argomenti {
        let env = a
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        // A switch's implicit `false` says nothing: it is off unless given.
        let predefinito: Vec<String> = if a.get_action().takes_values() {
            a.get_default_values()
                .iter()
                .map(|v| format!("`{}`", v.to_string_lossy()))
                .collect()
        } else {
            vec!["off".to_string()]
        };
        let _ = writeln!(
            out,
            "| {} | {env} | {} | {} |",
            forma(a),
            predefinito.join(", "),
            significato(a)
        );
    }
}

/// `--flag VALUE`, `--switch`, or `FILE` for a positional argument.
fn forma(a: &Arg) -> String {
    let valore = a
        .get_value_names()
        .and_then(|n| n.first().map(|s| s.to_string()))
        .unwrap_or_else(|| a.get_id().as_str().to_ascii_uppercase());
    let prende_valore = !matches!(
        a.get_action(),
        ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count
    );
    let ripetibile = matches!(a.get_action(), ArgAction::Append);
    let testo = match a.get_long() {
        Some(l) if prende_valore => format!("--{l} {valore}"),
        Some(l) => format!("--{l}"),
        None => valore,
    };
    let mut s = format!("`{testo}`");
    if a.is_required_set() {
        s.push_str(" (required)");
    }
    if ripetibile {
        s.push_str(" (repeatable)");
    }
    s
}

fn significato(a: &Arg) -> String {
    let mut s = a
        .get_long_help()
        .or(a.get_help())
        .map(|h| frase(&una_riga(&h.to_string())))
        .unwrap_or_default();
    let valori: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    // Booleans have possible values (true/false) too; only a real choice is worth listing.
    if !valori.is_empty() && a.get_action().takes_values() {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "One of: {}.", valori.join(", "));
    }
    s
}

/// Clap drops the final full stop of a one-line doc comment; the reference puts it back.
fn frase(testo: &str) -> String {
    match testo.chars().last() {
        None => String::new(),
        Some('.' | '!' | '?' | ':') => testo.to_string(),
        Some(_) => format!("{testo}."),
    }
}

/// Help text on one table line: newlines joined, and the characters that would break a
/// Markdown table or be read as HTML escaped.
fn una_riga(testo: &str) -> String {
    let riga = testo.split_whitespace().collect::<Vec<_>>().join(" ");
    // Inside a code span an entity would show as written: escape only outside backticks.
    riga.split('`')
        .enumerate()
        .map(|(i, parte)| {
            let parte = parte.replace('|', "\\|");
            if i % 2 == 0 {
                parte.replace('<', "&lt;").replace('>', "&gt;")
            } else {
                parte
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// The generated section in `testo` (between the markers), if the markers are there.
pub fn sezione(testo: &str) -> Option<&str> {
    let inizio = testo.find(INIZIO)? + INIZIO.len();
    let fine = inizio + testo[inizio..].find(FINE)?;
    Some(&testo[inizio..fine])
}

/// `testo` with its generated section replaced by `nuova`.
pub fn sostituisci(testo: &str, nuova: &str) -> Option<String> {
    let vecchia = sezione(testo)?;
    let inizio = testo.find(INIZIO)? + INIZIO.len();
    let fine = inizio + vecchia.len();
    Some(format!("{}{nuova}{}", &testo[..inizio], &testo[fine..]))
}

/// Rewrites the generated section of `file`; `true` when it changed.
pub fn scrivi(file: &Path) -> anyhow::Result<bool> {
    use anyhow::Context as _;
    let testo = std::fs::read_to_string(file)
        .with_context(|| format!("{}: lettura non riuscita", file.display()))?;
    let Some(nuovo) = sostituisci(&testo, &genera()) else {
        anyhow::bail!(
            "{}: mancano i marcatori della sezione generata ({INIZIO} … {FINE}); aggiungerli \
             dove deve comparire il riferimento, poi eseguire {COMANDO_AGGIORNA}",
            file.display()
        );
    };
    if nuovo == testo {
        return Ok(false);
    }
    std::fs::write(file, nuovo)
        .with_context(|| format!("{}: scrittura non riuscita", file.display()))?;
    Ok(true)
}

/// `rivesto doc config [--write FILE]`.
pub fn esegui(file: Option<std::path::PathBuf>) -> anyhow::Result<std::process::ExitCode> {
    match file {
        None => print!("{}", genera()),
        Some(f) if scrivi(&f)? => eprintln!(
            "{}: riferimento della configurazione aggiornato",
            f.display()
        ),
        Some(f) => eprintln!("{}: già aggiornato", f.display()),
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documento() -> (std::path::PathBuf, String) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let t = std::fs::read_to_string(&p).expect("docs/configuration.md leggibile");
        (p, t)
    }

    #[test]
    fn configuration_md_e_aggiornato() {
        let (p, testo) = documento();
        let presente = sezione(&testo).unwrap_or_else(|| {
            panic!(
                "{}: mancano i marcatori {INIZIO} … {FINE}; aggiungerli e poi eseguire: {COMANDO_AGGIORNA}",
                p.display()
            )
        });
        assert!(
            presente == genera(),
            "docs/configuration.md non corrisponde alle opzioni del codice (cli.rs): \
             eseguire `{COMANDO_AGGIORNA}` e rileggere il risultato"
        );
    }

    #[test]
    fn ogni_opzione_visibile_compare_con_la_sua_variabile() {
        let g = genera();
        // Written by hand from cli.rs: a global, a nested command, a flag with its variable
        // and default, and a hidden flag that must not appear.
        assert!(g.contains(
            "| `--database-url DATABASE_URL` | `RIVESTO_DATABASE_URL` | `sqlite://rivesto-data/rivesto.db` |"
        ), "{g}");
        assert!(g.contains("### `rivesto admin comune add`"), "{g}");
        assert!(g.contains(
            "| `--shutdown-timeout-secs SHUTDOWN_TIMEOUT_SECS` | `RIVESTO_SHUTDOWN_TIMEOUT_SECS` | `30` |"
        ), "{g}");
        assert!(
            g.contains("`--log-format LOG_FORMAT` | `RIVESTO_LOG_FORMAT` | `text`"),
            "{g}"
        );
        assert!(g.contains("One of: `text`, `json`."), "{g}");
        assert!(!g.contains("--password "), "opzione nascosta mostrata: {g}");
        assert!(!g.contains("`rivesto doc"), "comando nascosto mostrato");
        assert!(!g.contains("### `rivesto help`"));
    }

    #[test]
    fn testo_su_una_riga_senza_html() {
        assert_eq!(
            una_riga("a <dir>\n  b | `<x>`"),
            "a &lt;dir&gt; b \\| `<x>`"
        );
    }

    #[test]
    fn sostituisce_solo_la_sezione_generata() {
        let t = format!("prima\n{INIZIO}\nvecchio\n{FINE}\ndopo\n");
        let n = sostituisci(&t, "\nnuovo\n").unwrap();
        assert_eq!(n, format!("prima\n{INIZIO}\nnuovo\n{FINE}\ndopo\n"));
        assert_eq!(sostituisci("senza marcatori", "x"), None);
    }
}

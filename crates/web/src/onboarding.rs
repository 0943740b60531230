//! Importing a Comune's onboarding file (`anpr.toml`) into the database.
//!
//! The file names its keys and certificates by path (`private_key_file`, `ca_file`,
//! `client_cert_file`, `client_key_file`, and any other `*_file` key). The import reads each
//! one and rewrites its key to a bare file name, under which the content is stored (encrypted
//! with the master key). So the stored pair is self-contained: writing the files into a private
//! folder and reading the stored TOML from there (`AnprConfig::from_str(toml, folder)`)
//! rebuilds the same configuration on any machine.

use anyhow::Context as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The stored form of an onboarding file: the rewritten TOML and its files by bare name.
#[derive(Debug)]
pub struct AccessoImportato {
    pub toml: String,
    pub file: Vec<(String, Vec<u8>)>,
}

/// Reads `anpr.toml` and the files it names, and checks that the result is a valid
/// configuration before anything is written to the database.
pub fn importa(percorso: &Path) -> anyhow::Result<AccessoImportato> {
    let testo = std::fs::read_to_string(percorso)
        .with_context(|| format!("lettura di {} non riuscita", percorso.display()))?;
    let mut radice: Table = testo
        .parse()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("{}: {e}", percorso.display()))?;
    let cartella = percorso.parent().unwrap_or(Path::new("."));
    let mut file = FileRaccolti::default();
    for (sezione, valore) in radice.iter_mut() {
        if let Value::Table(t) = valore {
            raccogli(sezione, t, cartella, &mut file)?;
        }
    }
    let toml = toml::to_string(&radice)?;
    let importato = AccessoImportato {
        toml,
        file: file
            .per_nome
            .into_iter()
            .map(|(n, (_, c))| (n, c))
            .collect(),
    };
    verifica(&importato)?;
    Ok(importato)
}

#[derive(Default)]
struct FileRaccolti {
    /// Bare name → (source path, content).
    per_nome: BTreeMap<String, (PathBuf, Vec<u8>)>,
}

impl FileRaccolti {
    /// The bare name for `sorgente`: its file name, or `<key>-<file name>` when another file
    /// already took that name.
    fn aggiungi(&mut self, chiave: &str, sorgente: PathBuf) -> anyhow::Result<String> {
        let base = sorgente
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .with_context(|| format!("{chiave}: percorso senza nome di file"))?;
        for nome in [base.clone(), format!("{chiave}-{base}")] {
            match self.per_nome.get(&nome) {
                Some((p, _)) if *p == sorgente => return Ok(nome),
                Some(_) => continue,
                None => {
                    let contenuto = std::fs::read(&sorgente).with_context(|| {
                        format!("{chiave} = {}: lettura non riuscita", sorgente.display())
                    })?;
                    self.per_nome.insert(nome.clone(), (sorgente, contenuto));
                    return Ok(nome);
                }
            }
        }
        anyhow::bail!("{chiave}: nome di file {base} già usato da un altro file")
    }
}

fn raccogli(
    percorso_tabella: &str,
    t: &mut Table,
    cartella: &Path,
    file: &mut FileRaccolti,
) -> anyhow::Result<()> {
    for (k, v) in t.iter_mut() {
        let chiave = format!("[{percorso_tabella}].{k}");
        match v {
            Value::Table(sotto) => {
                raccogli(&format!("{percorso_tabella}.{k}"), sotto, cartella, file)?
            }
            Value::String(p) if k.ends_with("_file") => {
                let sorgente = PathBuf::from(p.trim());
                let sorgente = if sorgente.is_absolute() {
                    sorgente
                } else {
                    cartella.join(sorgente)
                };
                *p = file.aggiungi(&chiave, sorgente)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rebuilds the configuration from the stored form, in a private temporary folder: what the
/// worker will do, so a file that would fail there fails here, at import time.
fn verifica(a: &AccessoImportato) -> anyhow::Result<()> {
    let cartella = tempfile::tempdir()?;
    for (nome, contenuto) in &a.file {
        std::fs::write(cartella.path().join(nome), contenuto)?;
    }
    anpr::config::AnprConfig::opzionale(&a.toml, cartella.path())
        .map_err(|e| anyhow::anyhow!("file di onboarding non valido: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i_percorsi_diventano_nomi_e_i_file_sono_letti() {
        let dir = tempfile::tempdir().unwrap();
        let net = std::net::SocketAddr::from(([127, 0, 0, 1], 9400));
        let init = anpr_sim::init::scrivi(&dir.path().join("sim"), net).unwrap();
        let a = importa(&init.anpr_toml).unwrap();
        assert_eq!(a.file.len(), 1);
        assert_eq!(a.file[0].0, "chiave-client.pem");
        assert_eq!(a.file[0].1, std::fs::read(&init.chiave_privata).unwrap());
        let t: Table = a.toml.parse().unwrap();
        assert_eq!(
            t["anpr"]["private_key_file"].as_str(),
            Some("chiave-client.pem")
        );
        assert!(!a.toml.contains(&dir.path().display().to_string()));
    }

    #[test]
    fn stesso_nome_da_due_cartelle() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = FileRaccolti::default();
        for sotto in ["a", "b"] {
            std::fs::create_dir(dir.path().join(sotto)).unwrap();
            std::fs::write(dir.path().join(sotto).join("k.pem"), sotto).unwrap();
        }
        assert_eq!(
            f.aggiungi("x", dir.path().join("a/k.pem")).unwrap(),
            "k.pem"
        );
        assert_eq!(
            f.aggiungi("y", dir.path().join("a/k.pem")).unwrap(),
            "k.pem"
        );
        assert_eq!(
            f.aggiungi("y", dir.path().join("b/k.pem")).unwrap(),
            "y-k.pem"
        );
    }

    #[test]
    fn file_mancante_nominato() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("anpr.toml");
        std::fs::write(&p, "[anpr]\nprivate_key_file = \"manca.pem\"\n").unwrap();
        let e = format!("{:#}", importa(&p).unwrap_err());
        assert!(e.contains("[anpr].private_key_file"), "{e}");
        assert!(e.contains("manca.pem"), "{e}");
    }
}

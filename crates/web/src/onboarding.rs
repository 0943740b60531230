//! Importing a Comune's onboarding file (`anpr.toml`) into the database.
//!
//! The file names its keys and certificates by path (`private_key_file`, `ca_file`,
//! `client_cert_file`, `client_key_file`, and any other `*_file` key). The import reads each
//! one and rewrites its key to a bare file name, under which the content is stored (encrypted
//! with the master key). So the stored pair is self-contained: writing the files into a private
//! folder and reading the stored TOML from there (`AnprConfig::from_str(toml, folder)`)
//! rebuilds the same configuration on any machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The stored form of an onboarding file: the rewritten TOML and its files by bare name.
pub struct AccessoImportato {
    pub toml: String,
    pub file: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for AccessoImportato {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The files are private keys: only their names and sizes.
        let file: Vec<(&str, usize)> = self
            .file
            .iter()
            .map(|(n, c)| (n.as_str(), c.len()))
            .collect();
        f.debug_struct("AccessoImportato")
            .field("file", &file)
            .finish_non_exhaustive()
    }
}

/// Why an onboarding file was refused. Messages are Italian and name the key or file at fault;
/// they never carry file contents.
#[derive(Debug, thiserror::Error)]
pub enum ErroreOnboarding {
    #[error("lettura di {percorso} non riuscita: {fonte}")]
    Lettura {
        percorso: String,
        fonte: std::io::Error,
    },
    #[error("{origine}: TOML non valido: {messaggio}")]
    Toml { origine: String, messaggio: String },
    #[error("{chiave}: {motivo}")]
    File { chiave: String, motivo: String },
    #[error("file di onboarding non valido: {0}")]
    Configurazione(String),
    #[error("verifica del file di onboarding non riuscita: {0}")]
    Interno(String),
}

/// Where the files named by the TOML come from.
enum Sorgente<'a> {
    /// `rivesto admin comune add`: paths relative to the TOML's folder (or absolute).
    Cartella(&'a Path),
    /// A web upload: the files sent with the TOML, by file name. A `*_file` key matches the
    /// uploaded file with the same name as the last component of its path.
    Caricati(&'a BTreeMap<String, Vec<u8>>),
}

/// Reads `anpr.toml` and the files it names, and checks that the result is a valid
/// configuration before anything is written to the database.
pub fn importa(percorso: &Path) -> Result<AccessoImportato, ErroreOnboarding> {
    let testo = std::fs::read_to_string(percorso).map_err(|fonte| ErroreOnboarding::Lettura {
        percorso: percorso.display().to_string(),
        fonte,
    })?;
    let cartella = percorso.parent().unwrap_or(Path::new("."));
    importa_da(
        &testo,
        &percorso.display().to_string(),
        Sorgente::Cartella(cartella),
    )
}

/// The same import from an upload: the TOML's text and the files sent with it, by file name.
/// Files sent but not named by the TOML are not stored (see [`non_richiesti`]).
pub fn importa_caricati(
    testo: &str,
    caricati: &BTreeMap<String, Vec<u8>>,
) -> Result<AccessoImportato, ErroreOnboarding> {
    importa_da(testo, "file TOML caricato", Sorgente::Caricati(caricati))
}

/// The uploaded files that the import did not use (an upload stores each file under its own
/// name, so a name not among the stored ones was not asked for).
pub fn non_richiesti(a: &AccessoImportato, caricati: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    caricati
        .keys()
        .filter(|n| !a.file.iter().any(|(m, _)| m == *n))
        .cloned()
        .collect()
}

fn importa_da(
    testo: &str,
    origine: &str,
    sorgente: Sorgente<'_>,
) -> Result<AccessoImportato, ErroreOnboarding> {
    let mut radice: Table = testo
        .parse()
        .map_err(|e: toml::de::Error| ErroreOnboarding::Toml {
            origine: origine.to_string(),
            messaggio: e.message().to_string(),
        })?;
    let mut file = FileRaccolti::default();
    for (sezione, valore) in radice.iter_mut() {
        if let Value::Table(t) = valore {
            raccogli(sezione, t, &sorgente, &mut file)?;
        }
    }
    let toml = toml::to_string(&radice).map_err(|e| ErroreOnboarding::Interno(e.to_string()))?;
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
    fn aggiungi(
        &mut self,
        chiave: &str,
        sorgente: PathBuf,
        leggi: impl Fn(&Path, &str) -> Result<Vec<u8>, String>,
    ) -> Result<String, ErroreOnboarding> {
        let errore = |motivo: String| ErroreOnboarding::File {
            chiave: chiave.to_string(),
            motivo,
        };
        let base = sorgente
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| errore("percorso senza nome di file".into()))?;
        for nome in [base.clone(), format!("{chiave}-{base}")] {
            match self.per_nome.get(&nome) {
                Some((p, _)) if *p == sorgente => return Ok(nome),
                Some(_) => continue,
                None => {
                    let contenuto = leggi(&sorgente, &base).map_err(errore)?;
                    self.per_nome.insert(nome.clone(), (sorgente, contenuto));
                    return Ok(nome);
                }
            }
        }
        Err(errore(format!(
            "nome di file {base} già usato da un altro file"
        )))
    }
}

fn raccogli(
    percorso_tabella: &str,
    t: &mut Table,
    sorgente: &Sorgente<'_>,
    file: &mut FileRaccolti,
) -> Result<(), ErroreOnboarding> {
    for (k, v) in t.iter_mut() {
        let chiave = format!("[{percorso_tabella}].{k}");
        match v {
            Value::Table(sotto) => {
                raccogli(&format!("{percorso_tabella}.{k}"), sotto, sorgente, file)?
            }
            Value::String(p) if k.ends_with("_file") => {
                *p = match sorgente {
                    Sorgente::Cartella(cartella) => {
                        let percorso = PathBuf::from(p.trim());
                        let percorso = if percorso.is_absolute() {
                            percorso
                        } else {
                            cartella.join(percorso)
                        };
                        file.aggiungi(&chiave, percorso, |p, _| {
                            std::fs::read(p).map_err(|e| {
                                format!("= {}: lettura non riuscita ({e})", p.display())
                            })
                        })?
                    }
                    Sorgente::Caricati(caricati) => {
                        // The bare name identifies an uploaded file.
                        let nome = Path::new(p.trim()).file_name().map(PathBuf::from);
                        let nome = nome.unwrap_or_default();
                        file.aggiungi(&chiave, nome, |_, base| {
                            caricati.get(base).cloned().ok_or_else(|| {
                                format!(
                                    "il file {base} non è stato caricato: lo aggiunga al modulo"
                                )
                            })
                        })?
                    }
                };
            }
            _ => {}
        }
    }
    Ok(())
}

/// The Comune's channel speaks for one Comune: `[anpr_ws].id_sede` (also `codMittente`) must be
/// the ISTAT code of the Comune the access is stored for, or every 3002 call would be made in
/// another Comune's name (or refused by ANPR, its certificates being registered elsewhere).
pub fn controlla_sede(a: &AccessoImportato, istat: &str) -> Result<(), ErroreOnboarding> {
    let radice: Table = a
        .toml
        .parse()
        .map_err(|e: toml::de::Error| ErroreOnboarding::Interno(e.to_string()))?;
    let sede = radice
        .get("anpr_ws")
        .and_then(|t| t.get("id_sede"))
        .and_then(Value::as_str);
    match sede {
        Some(s) if s != istat => Err(ErroreOnboarding::Configurazione(format!(
            "[anpr_ws].id_sede è {s}, ma l'accesso è per il Comune con codice ISTAT {istat}: il canale del \
             Comune (servizio 3002) parla a nome del Comune indicato in id_sede"
        ))),
        _ => Ok(()),
    }
}

/// Rebuilds the configuration from the stored form, in a private temporary folder: what the
/// worker will do, so a file that would fail there fails here, at import time.
fn verifica(a: &AccessoImportato) -> Result<(), ErroreOnboarding> {
    let interno = |e: std::io::Error| ErroreOnboarding::Interno(e.to_string());
    let cartella = tempfile::tempdir().map_err(interno)?;
    for (nome, contenuto) in &a.file {
        std::fs::write(cartella.path().join(nome), contenuto).map_err(interno)?;
    }
    // The files sit in a private temporary folder: its path means nothing to the user and
    // says something about the server, so messages name the files only.
    let prefisso = format!("{}{}", cartella.path().display(), std::path::MAIN_SEPARATOR);
    let configurazione = |e: anpr::config::ErroreConfig| {
        ErroreOnboarding::Configurazione(e.to_string().replace(&prefisso, ""))
    };
    let pdnd =
        anpr::config::AnprConfig::opzionale(&a.toml, cartella.path()).map_err(configurazione)?;
    let ws =
        anpr::ws::config::WsConfig::opzionale(&a.toml, cartella.path()).map_err(configurazione)?;
    if pdnd.is_none() && ws.is_none() {
        return Err(ErroreOnboarding::Configurazione(
            "manca sia la sezione [anpr] (e-service PDND) sia [anpr_ws] (canale del Comune, servizio 3002)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Comune channel's four files that `init` writes beside `anpr.toml`, by bare name, as
    /// a TOP uploads them.
    fn file_ws(init: &anpr_sim::init::FileInit) -> BTreeMap<String, Vec<u8>> {
        let cartella = init
            .anpr_toml
            .parent()
            .unwrap()
            .join(format!("ws-{}", anpr_sim::init::ISTAT_WS));
        [
            anpr_sim::init::FILE_CO_CERT,
            anpr_sim::init::FILE_CO_KEY,
            anpr_sim::init::FILE_PC_CERT,
            anpr_sim::init::FILE_PC_KEY,
        ]
        .into_iter()
        .map(|n| (n.to_string(), std::fs::read(cartella.join(n)).unwrap()))
        .collect()
    }

    #[test]
    fn una_chiave_rovinata_e_nominata_senza_cartelle_del_server() {
        let dir = tempfile::tempdir().unwrap();
        let net = std::net::SocketAddr::from(([127, 0, 0, 1], 9400));
        let init = anpr_sim::init::scrivi(&dir.path().join("sim"), net).unwrap();
        let toml = std::fs::read_to_string(&init.anpr_toml).unwrap();
        let mut caricati = file_ws(&init);
        caricati.insert(
            "chiave-client.pem".to_string(),
            b"-----BEGIN PRIVATE KEY-----\nrotta\n-----END PRIVATE KEY-----\n".to_vec(),
        );
        let e = importa_caricati(&toml, &caricati).unwrap_err().to_string();
        assert!(e.contains("chiave-client.pem"), "{e}");
        assert!(!e.contains(std::path::MAIN_SEPARATOR), "{e}");
    }

    #[test]
    fn i_percorsi_diventano_nomi_e_i_file_sono_letti() {
        let dir = tempfile::tempdir().unwrap();
        let net = std::net::SocketAddr::from(([127, 0, 0, 1], 9400));
        let init = anpr_sim::init::scrivi(&dir.path().join("sim"), net).unwrap();
        let a = importa(&init.anpr_toml).unwrap();
        // The PDND key and the Comune channel's two certificates with their keys.
        assert_eq!(a.file.len(), 5, "{a:?}");
        let per_nome: BTreeMap<_, _> = a.file.iter().cloned().collect();
        assert_eq!(
            per_nome["chiave-client.pem"],
            std::fs::read(&init.chiave_privata).unwrap()
        );
        for (nome, contenuto) in file_ws(&init) {
            assert_eq!(per_nome[&nome], contenuto, "{nome}");
        }
        let t: Table = a.toml.parse().unwrap();
        assert_eq!(
            t["anpr"]["private_key_file"].as_str(),
            Some("chiave-client.pem")
        );
        assert_eq!(
            t["anpr_ws"]["cert_file"].as_str(),
            Some(anpr_sim::init::FILE_CO_CERT)
        );
        assert!(!a.toml.contains(&dir.path().display().to_string()));
    }

    #[test]
    fn id_sede_deve_essere_il_comune_dell_accesso() {
        let dir = tempfile::tempdir().unwrap();
        let net = std::net::SocketAddr::from(([127, 0, 0, 1], 9400));
        let init = anpr_sim::init::scrivi(&dir.path().join("sim"), net).unwrap();
        let a = importa(&init.anpr_toml).unwrap();
        controlla_sede(&a, anpr_sim::init::ISTAT_WS).unwrap();
        let e = controlla_sede(&a, "015146").unwrap_err().to_string();
        assert!(e.contains("[anpr_ws].id_sede è 058091"), "{e}");
        assert!(e.contains("015146"), "{e}");
        // Without the Comune's channel there is nothing to compare.
        let solo_pdnd = AccessoImportato {
            toml: "[anpr]\nclient_id = \"x\"\n".into(),
            file: Vec::new(),
        };
        controlla_sede(&solo_pdnd, "015146").unwrap();
    }

    #[test]
    fn stesso_nome_da_due_cartelle() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = FileRaccolti::default();
        for sotto in ["a", "b"] {
            std::fs::create_dir(dir.path().join(sotto)).unwrap();
            std::fs::write(dir.path().join(sotto).join("k.pem"), sotto).unwrap();
        }
        let leggi = |p: &Path, _: &str| std::fs::read(p).map_err(|e| e.to_string());
        assert_eq!(
            f.aggiungi("x", dir.path().join("a/k.pem"), leggi).unwrap(),
            "k.pem"
        );
        assert_eq!(
            f.aggiungi("y", dir.path().join("a/k.pem"), leggi).unwrap(),
            "k.pem"
        );
        assert_eq!(
            f.aggiungi("y", dir.path().join("b/k.pem"), leggi).unwrap(),
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

    #[test]
    fn caricati_per_nome_come_da_cartella() {
        let dir = tempfile::tempdir().unwrap();
        let net = std::net::SocketAddr::from(([127, 0, 0, 1], 9400));
        let init = anpr_sim::init::scrivi(&dir.path().join("sim"), net).unwrap();
        let da_cartella = importa(&init.anpr_toml).unwrap();
        let testo = std::fs::read_to_string(&init.anpr_toml).unwrap();
        let chiave = std::fs::read(&init.chiave_privata).unwrap();
        let mut caricati = file_ws(&init);
        caricati.insert("chiave-client.pem".to_string(), chiave.clone());
        caricati.insert("altro.txt".to_string(), b"non richiesto".to_vec());
        let a = importa_caricati(&testo, &caricati).unwrap();
        assert_eq!(a.toml, da_cartella.toml);
        assert_eq!(a.file, da_cartella.file);
        assert!(a.file.contains(&("chiave-client.pem".to_string(), chiave)));
        assert_eq!(non_richiesti(&a, &caricati), ["altro.txt"]);
        assert!(!format!("{a:?}").contains("PRIVATE"), "{a:?}");
        // Without the key: the message names the key and the file to add.
        caricati.remove("chiave-client.pem");
        let e = importa_caricati(&testo, &caricati).unwrap_err().to_string();
        assert!(e.contains("[anpr].private_key_file"), "{e}");
        assert!(e.contains("chiave-client.pem non è stato caricato"), "{e}");
        let e = importa_caricati("[anpr\n", &caricati)
            .unwrap_err()
            .to_string();
        assert!(e.contains("TOML non valido"), "{e}");
    }
}

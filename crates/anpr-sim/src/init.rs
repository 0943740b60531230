//! `rivesto anpr-sim init --out DIR`: a simulator clients file, a matching client `anpr.toml`
//! and the client's private key, so `rivesto anpr check --config DIR/anpr.toml` works at once
//! against `rivesto anpr-sim --clients DIR/sim-clients.toml --listen ADDR`.

use crate::chiavi::genera_coppia;
use crate::config::{ClienteRegistrato, FileClienti};
use crate::servizi::ServizioSim;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const FILE_CLIENTI: &str = "sim-clients.toml";
pub const FILE_ANPR: &str = "anpr.toml";
pub const FILE_CHIAVE: &str = "chiave-client.pem";
/// The share of the daily calls written in `[anpr.quotas]` for every service.
pub const QUOTA_CLIENT: u64 = 5_000;

/// The files written by [`scrivi`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInit {
    pub clienti: PathBuf,
    pub anpr_toml: PathBuf,
    pub chiave_privata: PathBuf,
    pub client_id: String,
    pub kid: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreInit {
    #[error("anpr-sim init: impossibile creare {percorso}: {causa}")]
    Scrittura {
        percorso: String,
        causa: std::io::Error,
    },
    #[error("anpr-sim init: serializzazione TOML non riuscita: {0}")]
    Toml(#[from] toml::ser::Error),
}

fn scrivi_file(percorso: &Path, testo: &str) -> Result<(), ErroreInit> {
    std::fs::write(percorso, testo).map_err(|causa| ErroreInit::Scrittura {
        percorso: percorso.display().to_string(),
        causa,
    })
}

/// Writes the three files in `out_dir` (created if missing) for a simulator at `listen`.
pub fn scrivi(out_dir: &Path, listen: SocketAddr) -> Result<FileInit, ErroreInit> {
    let errore = |causa| ErroreInit::Scrittura {
        percorso: out_dir.display().to_string(),
        causa,
    };
    std::fs::create_dir_all(out_dir).map_err(errore)?;
    let dir = out_dir.canonicalize().map_err(errore)?;
    let coppia = genera_coppia();
    let client_id = uuid::Uuid::new_v4().to_string();
    let purposes: BTreeMap<String, String> = ServizioSim::TUTTI
        .iter()
        .map(|s| (uuid::Uuid::new_v4().to_string(), s.codice().to_owned()))
        .collect();
    let cliente = ClienteRegistrato {
        client_id: client_id.clone(),
        chiavi: BTreeMap::from([(coppia.kid.clone(), coppia.public_pem.clone())]),
        purposes: purposes.clone(),
    };
    let clienti = dir.join(FILE_CLIENTI);
    let file = FileClienti {
        clients: vec![cliente],
        quotas: BTreeMap::new(),
    };
    scrivi_file(&clienti, &toml::to_string(&file)?)?;

    let chiave_privata = dir.join(FILE_CHIAVE);
    scrivi_file(&chiave_privata, &coppia.private_pem)?;
    proteggi(&chiave_privata)?;

    let anpr_toml = dir.join(FILE_ANPR);
    scrivi_file(
        &anpr_toml,
        &anpr_toml_testo(listen, &client_id, &coppia.kid, &chiave_privata, &purposes)?,
    )?;
    Ok(FileInit {
        clienti,
        anpr_toml,
        chiave_privata,
        client_id,
        kid: coppia.kid,
    })
}

fn anpr_toml_testo(
    listen: SocketAddr,
    client_id: &str,
    kid: &str,
    chiave: &Path,
    purposes: &BTreeMap<String, String>,
) -> Result<String, ErroreInit> {
    use toml::{Table, Value};
    let mut anpr = Table::new();
    let mut metti = |k: &str, v: String| {
        anpr.insert(k.to_owned(), Value::String(v));
    };
    metti("token_url", format!("http://{listen}/token.oauth2"));
    metti("client_assertion_aud", format!("{listen}/client-assertion"));
    metti(
        "base_url",
        format!("http://{listen}/govway/rest/in/MinInternoPortaANPR-PDND"),
    );
    metti(
        "audience_base",
        format!("http://{listen}/govway/rest/in/MinInternoPortaANPR"),
    );
    metti("client_id", client_id.to_owned());
    metti("kid", kid.to_owned());
    metti("private_key_file", chiave.display().to_string());
    metti("user_id_mode", "richiedente".into());
    metti("user_id", "OPERATORE-SIM".into());
    metti("user_location", "UFFICIO-ANAGRAFE".into());
    metti("loa", "LoA2".into());
    let per_servizio: Table = purposes
        .iter()
        .map(|(p, s)| (s.clone(), Value::String(p.clone())))
        .collect();
    let quote: Table = purposes
        .values()
        .map(|s| (s.clone(), Value::Integer(QUOTA_CLIENT as i64)))
        .collect();
    anpr.insert("purposes".into(), Value::Table(per_servizio));
    anpr.insert("quotas".into(), Value::Table(quote));
    let mut radice = Table::new();
    radice.insert("anpr".into(), Value::Table(anpr));
    Ok(format!(
        "# Scritto da `rivesto anpr-sim init`: configurazione del client verso il simulatore.\n{}",
        toml::to_string(&radice)?
    ))
}

#[cfg(unix)]
fn proteggi(p: &Path) -> Result<(), ErroreInit> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).map_err(|causa| {
        ErroreInit::Scrittura {
            percorso: p.display().to_string(),
            causa,
        }
    })
}

#[cfg(not(unix))]
fn proteggi(_: &Path) -> Result<(), ErroreInit> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn i_file_scritti_si_corrispondono() {
        let dir = tempfile::tempdir().unwrap();
        let addr: SocketAddr = "127.0.0.1:9400".parse().unwrap();
        let f = scrivi(dir.path(), addr).unwrap();
        let cfg = SimConfig::from_clients_file(&f.clienti).unwrap();
        assert_eq!(cfg.clients.len(), 1);
        assert_eq!(cfg.clients[0].client_id, f.client_id);
        assert!(cfg.clients[0].chiavi.contains_key(&f.kid));
        let anpr: toml::Table = std::fs::read_to_string(&f.anpr_toml)
            .unwrap()
            .parse()
            .unwrap();
        let a = anpr["anpr"].as_table().unwrap();
        assert_eq!(
            a["base_url"].as_str(),
            Some("http://127.0.0.1:9400/govway/rest/in/MinInternoPortaANPR-PDND")
        );
        assert_eq!(
            a["client_assertion_aud"].as_str(),
            Some("127.0.0.1:9400/client-assertion")
        );
        assert_eq!(a["client_id"].as_str(), Some(f.client_id.as_str()));
        let c030 = a["purposes"]["C030"].as_str().unwrap();
        assert_eq!(cfg.clients[0].purposes[c030], "C030");
        let pem = std::fs::read_to_string(a["private_key_file"].as_str().unwrap()).unwrap();
        assert!(jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).is_ok());
    }
}

//! `rivesto anpr-sim init --out DIR`: a simulator clients file, a matching client `anpr.toml`
//! and the client's private key, so `rivesto anpr check --config DIR/anpr.toml` works at once
//! against `rivesto anpr-sim --clients DIR/sim-clients.toml --listen ADDR`. The same files set
//! up the Comune channel too: the demo Comune's certificates and keys, its `[ws]` registration
//! in the clients file and `[anpr_ws]` in `anpr.toml` (`rivesto anpr check --ws`).

use crate::chiavi::genera_coppia;
use crate::config::{ClienteRegistrato, ComuneWs, ConfigWs, FileClienti};
use crate::servizi::ServizioSim;
use crate::ws::{CertificatiWs, emetti_certificati_ws};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const FILE_CLIENTI: &str = "sim-clients.toml";
pub const FILE_ANPR: &str = "anpr.toml";
pub const FILE_CHIAVE: &str = "chiave-client.pem";
/// The share of the daily calls written in `[anpr.quotas]` for every service.
pub const QUOTA_CLIENT: u64 = 5_000;
/// The Comune of the channel `init` sets up: Roma, one of the simulated residences.
pub const ISTAT_WS: &str = "058091";
/// The enabled Anagrafe operator of the demo Comune (a well-formed, fictitious CF).
pub const OPERATORE_WS: &str = "RSSMRA80A01H501U";
/// The files of a Comune's certificates and keys, under `dir/ws-<istat>/`.
pub const FILE_CO_CERT: &str = "comune-cert.pem";
pub const FILE_CO_KEY: &str = "comune-key.pem";
pub const FILE_PC_CERT: &str = "postazione-cert.pem";
pub const FILE_PC_KEY: &str = "postazione-key.pem";

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
/// The Comune channel is set up for the demo Comune [`ISTAT_WS`].
pub fn scrivi(out_dir: &Path, listen: SocketAddr) -> Result<FileInit, ErroreInit> {
    scrivi_per_comune(out_dir, listen, ISTAT_WS)
}

/// As [`scrivi`], with the Comune channel set up for `istat` (callers that run one `init` per
/// Comune in one simulator merge the `[ws]` registrations of the clients files).
pub fn scrivi_per_comune(
    out_dir: &Path,
    listen: SocketAddr,
    istat: &str,
) -> Result<FileInit, ErroreInit> {
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
    let (comune, anpr_ws) = ws_per_comune(istat, &dir, listen)?;
    let clienti = dir.join(FILE_CLIENTI);
    let file = FileClienti {
        clients: vec![cliente],
        quotas: BTreeMap::new(),
        ws: ConfigWs {
            comuni: vec![comune],
            ..ConfigWs::default()
        },
    };
    scrivi_file(&clienti, &toml::to_string(&file)?)?;

    let chiave_privata = dir.join(FILE_CHIAVE);
    scrivi_file(&chiave_privata, &coppia.private_pem)?;
    proteggi(&chiave_privata)?;

    let anpr_toml = dir.join(FILE_ANPR);
    let testo = anpr_toml_testo(listen, &client_id, &coppia.kid, &chiave_privata, &purposes)?;
    scrivi_file(&anpr_toml, &format!("{testo}\n{anpr_ws}"))?;
    Ok(FileInit {
        clienti,
        anpr_toml,
        chiave_privata,
        client_id,
        kid: coppia.kid,
    })
}

/// Issues a Comune's certificates (progressivo 1), writes them with their keys under
/// `dir/ws-<istat>/` (keys mode 0600), and returns the simulator's registration of that Comune
/// with the `[anpr_ws]` section of its `anpr.toml` for a simulator at `listen`: what `scrivi`
/// writes, for callers (the demo) that register several Comuni in one simulator.
pub fn ws_per_comune(
    istat: &str,
    dir: &Path,
    listen: SocketAddr,
) -> Result<(ComuneWs, String), ErroreInit> {
    let cartella = dir.join(format!("ws-{istat}"));
    std::fs::create_dir_all(&cartella).map_err(|causa| ErroreInit::Scrittura {
        percorso: cartella.display().to_string(),
        causa,
    })?;
    let c = emetti_certificati_ws(istat, 1);
    let mut percorsi = Vec::new();
    for (nome, testo, privato) in [
        (FILE_CO_CERT, &c.co_cert_pem, false),
        (FILE_CO_KEY, &c.co_key_pem, true),
        (FILE_PC_CERT, &c.pc_cert_pem, false),
        (FILE_PC_KEY, &c.pc_key_pem, true),
    ] {
        let p = cartella.join(nome);
        scrivi_file(&p, testo)?;
        if privato {
            proteggi(&p)?;
        }
        percorsi.push(p.display().to_string());
    }
    let comune = ComuneWs {
        istat: istat.to_owned(),
        certificati: vec![c.co_cert_pem.clone()],
        postazioni: vec![c.pc_cert_pem.clone()],
        operatori: vec![OPERATORE_WS.to_owned()],
        indirizzi: None,
    };
    Ok((comune, anpr_ws_testo(istat, listen, &percorsi)?))
}

/// `[anpr_ws]` with the files written by [`ws_per_comune`] (in that order).
fn anpr_ws_testo(istat: &str, listen: SocketAddr, file: &[String]) -> Result<String, ErroreInit> {
    use toml::{Table, Value};
    let mut ws = Table::new();
    let mut metti = |k: &str, v: Value| {
        ws.insert(k.to_owned(), v);
    };
    let testo = |s: &str| Value::String(s.to_owned());
    metti("endpoint", Value::String(format!("http://{listen}")));
    metti("tipo_invio", testo("TEST"));
    for (k, f) in [
        "cert_file",
        "key_file",
        "postazione_cert_file",
        "postazione_key_file",
    ]
    .into_iter()
    .zip(file)
    {
        metti(k, testo(f));
    }
    metti("operator_cf", testo(OPERATORE_WS));
    metti("id_sede", testo(istat));
    metti(
        "id_postazione",
        Value::String(CertificatiWs::id_postazione(istat, 1)),
    );
    metti("id_applicazione", testo("RIVESTO"));
    metti("signature_alg", testo("rsa-sha256"));
    metti("id_prefix", testo("9"));
    metti("id_length", Value::Integer(20));
    metti(
        "use_for",
        Value::Array(["CI", "PDS", "PASS"].into_iter().map(testo).collect()),
    );
    let mut radice = Table::new();
    radice.insert("anpr_ws".into(), Value::Table(ws));
    Ok(format!(
        "# Canale del Comune (3002), verso il simulatore.\n{}",
        toml::to_string(&radice)?
    ))
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

    #[test]
    fn un_altro_comune() {
        let dir = tempfile::tempdir().unwrap();
        let addr: SocketAddr = "127.0.0.1:9402".parse().unwrap();
        let f = scrivi_per_comune(dir.path(), addr, "015146").unwrap();
        let cfg = SimConfig::from_clients_file(&f.clienti).unwrap();
        assert_eq!(cfg.ws.comuni[0].istat, "015146");
        let t: toml::Table = std::fs::read_to_string(&f.anpr_toml)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(t["anpr_ws"]["id_sede"].as_str(), Some("015146"));
        assert_eq!(
            t["anpr_ws"]["id_postazione"].as_str(),
            Some("015146-PC-0001")
        );
    }

    #[test]
    fn il_canale_del_comune_e_registrato_e_configurato() {
        let dir = tempfile::tempdir().unwrap();
        let addr: SocketAddr = "127.0.0.1:9401".parse().unwrap();
        let f = scrivi(dir.path(), addr).unwrap();
        let cfg = SimConfig::from_clients_file(&f.clienti).unwrap();
        assert_eq!(cfg.ws.comuni.len(), 1);
        let comune = &cfg.ws.comuni[0];
        assert_eq!(comune.istat, ISTAT_WS);
        assert_eq!(comune.operatori, [OPERATORE_WS]);
        assert_eq!(cfg.ws.tipo_invio, "TEST");
        let t: toml::Table = std::fs::read_to_string(&f.anpr_toml)
            .unwrap()
            .parse()
            .unwrap();
        assert!(t.contains_key("anpr"));
        let ws = t["anpr_ws"].as_table().unwrap();
        assert_eq!(ws["endpoint"].as_str(), Some("http://127.0.0.1:9401"));
        assert_eq!(ws["id_sede"].as_str(), Some(ISTAT_WS));
        assert_eq!(ws["id_postazione"].as_str(), Some("058091-PC-0001"));
        assert_eq!(ws["id_length"].as_integer(), Some(20));
        // The files named are the registered certificates and their keys.
        let leggi = |k: &str| std::fs::read_to_string(ws[k].as_str().unwrap()).unwrap();
        assert_eq!(leggi("cert_file"), comune.certificati[0]);
        assert_eq!(leggi("postazione_cert_file"), comune.postazioni[0]);
        assert!(leggi("key_file").starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(leggi("postazione_key_file").starts_with("-----BEGIN PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let modo = std::fs::metadata(ws["key_file"].as_str().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(modo & 0o777, 0o600);
        }
    }
}

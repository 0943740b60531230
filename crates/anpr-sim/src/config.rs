//! The simulator's configuration: registered PDND clients, population, quotas and fault knobs,
//! and the Comuni registered on the SOAP channel (3002 and TestConn).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// A PDND client known to the simulator's token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClienteRegistrato {
    pub client_id: String,
    /// Public keys uploaded to the client, by kid (SubjectPublicKeyInfo or PKCS#1 PEM).
    #[serde(rename = "keys")]
    pub chiavi: BTreeMap<String, String>,
    /// purposeId → service code (e.g. "C030").
    pub purposes: BTreeMap<String, String>,
}

/// Added latency for every gateway answer: `base_ms` plus a uniform draw in `0..=jitter_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latenza {
    pub base_ms: u64,
    pub jitter_ms: u64,
}

impl Latenza {
    pub fn fissa(ms: u64) -> Self {
        Self {
            base_ms: ms,
            jitter_ms: 0,
        }
    }
}

/// Share of calls (0.0–1.0) that get each injected fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Guasti {
    /// 503 GatewayError.
    pub p503: f64,
    /// No answer before `timeout_ms`, then 504.
    pub timeout: f64,
    /// 429 TooManyRequests.
    pub p429: f64,
    /// 200 with a truncated JSON body.
    pub malformato: f64,
}

/// Everything the simulator needs to start.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the synthetic population (and of nothing else: answers stay deterministic).
    pub seed: u64,
    /// Number of synthetic people; generated lazily, any size up to `popolazione::CAPIENZA`.
    pub population: u32,
    pub clients: Vec<ClienteRegistrato>,
    /// Daily calls per (client, service), by service code. A missing service has no quota.
    pub quote: BTreeMap<String, u64>,
    /// At most this many gateway calls in flight; beyond it 429 TooManyRequests.
    pub concurrency_cap: Option<usize>,
    pub latenza: Latenza,
    pub guasti: Guasti,
    /// How long a "timeout" fault holds the call before answering 504.
    pub timeout_ms: u64,
    /// C001/C004: how many ids below the highest seen are still accepted (open question, README).
    pub tolleranza_id: u64,
    /// Test mode: idOperazioneANPR is a pure function of the question, not of the call.
    pub modalita_test: bool,
    /// Voucher lifetime in seconds (PDND: at most 600).
    pub durata_voucher_s: u64,
    /// The Comune channel (SOAP 3002 and TestConn).
    pub ws: ConfigWs,
}

/// A Comune as ANPR's security console knows it (NOTES-ws-comuni §7): the certificates it
/// downloaded, the workstations it registered, the operators it enabled and the source
/// addresses it declared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComuneWs {
    /// ISTAT code (`codMittente`, `IdSede`).
    pub istat: String,
    /// The Comune's `<ISTAT>-CO-nnnn` certificates (PEM): they sign the message and the
    /// SAML assertion.
    #[serde(default)]
    pub certificati: Vec<String>,
    /// Registered workstation certificates (PEM): the signer of `IdPostazioneFirmato` must be
    /// one of them, with CN = `IdPostazione`.
    #[serde(default)]
    pub postazioni: Vec<String>,
    /// Codici fiscali of the operators enabled on ANPR (the SAML NameID).
    #[serde(default)]
    pub operatori: Vec<String>,
    /// Source addresses allowed to call; `None` accepts any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indirizzi: Option<Vec<IpAddr>>,
}

/// The SOAP channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigWs {
    pub comuni: Vec<ComuneWs>,
    /// The environment's `tipoInvio` (`TEST` on wstest, `PROD` in production).
    pub tipo_invio: String,
    /// EHR41 when a search by carta d'identità names neither the issuing comune nor the
    /// consolato (the rule reads "in alternativa"; whether ANPR enforces it is unknown).
    pub richiedi_rilascio_ci: bool,
    /// Answer EN210 ("Comune non competente") instead of EN122 for a person who is not the
    /// Comune's resident on a residents-only search.
    pub en210_non_residenti: bool,
    /// Timestamp and SAML time tolerance, in seconds.
    pub finestra_s: i64,
}

impl Default for ConfigWs {
    fn default() -> Self {
        Self {
            comuni: Vec::new(),
            tipo_invio: "TEST".into(),
            richiedi_rilascio_ci: false,
            en210_non_residenti: false,
            finestra_s: 300,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            population: 10_000,
            clients: Vec::new(),
            quote: BTreeMap::new(),
            concurrency_cap: None,
            latenza: Latenza::default(),
            guasti: Guasti::default(),
            timeout_ms: 30_000,
            tolleranza_id: 0,
            modalita_test: true,
            durata_voucher_s: 600,
            ws: ConfigWs::default(),
        }
    }
}

/// The clients file written by `rivesto anpr-sim init`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileClienti {
    #[serde(default)]
    pub clients: Vec<ClienteRegistrato>,
    /// Optional default quotas, by service code.
    #[serde(default)]
    pub quotas: BTreeMap<String, u64>,
    /// The Comuni registered on the SOAP channel.
    #[serde(default)]
    pub ws: ConfigWs,
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreConfig {
    #[error("file dei client {percorso}: lettura non riuscita: {causa}")]
    Lettura {
        percorso: String,
        causa: std::io::Error,
    },
    #[error("file dei client {percorso}: TOML non valido: {causa}")]
    Formato {
        percorso: String,
        causa: toml::de::Error,
    },
    #[error(
        "file dei client {percorso}: il client {client_id} usa il servizio sconosciuto {servizio}"
    )]
    ServizioSconosciuto {
        percorso: String,
        client_id: String,
        servizio: String,
    },
    #[error("file dei client {percorso}: il client {client_id} ha una chiave {kid} non valida")]
    ChiaveNonValida {
        percorso: String,
        client_id: String,
        kid: String,
    },
    #[error("file dei client {percorso}: [ws] comune {istat}: {motivo}")]
    ComuneWsNonValido {
        percorso: String,
        istat: String,
        motivo: String,
    },
}

impl SimConfig {
    /// A default configuration with the clients (and quotas) of a clients file.
    pub fn from_clients_file(path: &Path) -> Result<Self, ErroreConfig> {
        let percorso = path.display().to_string();
        let testo = std::fs::read_to_string(path).map_err(|causa| ErroreConfig::Lettura {
            percorso: percorso.clone(),
            causa,
        })?;
        let file: FileClienti = toml::from_str(&testo).map_err(|causa| ErroreConfig::Formato {
            percorso: percorso.clone(),
            causa,
        })?;
        for c in &file.clients {
            controlla_cliente(&percorso, c)?;
        }
        for c in &file.ws.comuni {
            crate::ws::controlla_comune(c).map_err(|motivo| ErroreConfig::ComuneWsNonValido {
                percorso: percorso.clone(),
                istat: c.istat.clone(),
                motivo,
            })?;
        }
        Ok(Self {
            clients: file.clients,
            quote: file.quotas,
            ws: file.ws,
            ..Self::default()
        })
    }
}

fn controlla_cliente(percorso: &str, c: &ClienteRegistrato) -> Result<(), ErroreConfig> {
    for servizio in c.purposes.values() {
        if crate::servizi::ServizioSim::da_codice(servizio).is_none() {
            return Err(ErroreConfig::ServizioSconosciuto {
                percorso: percorso.to_owned(),
                client_id: c.client_id.clone(),
                servizio: servizio.clone(),
            });
        }
    }
    for (kid, pem) in &c.chiavi {
        if jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).is_err() {
            return Err(ErroreConfig::ChiaveNonValida {
                percorso: percorso.to_owned(),
                client_id: c.client_id.clone(),
                kid: kid.clone(),
            });
        }
    }
    Ok(())
}

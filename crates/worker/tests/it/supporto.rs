//! A simulator on a loopback port with one registered client, and a PDND client for it.

use anpr::archivio::ArchivioFile;
use anpr::client::{
    ContestoChiamata, DatiRichiesta, OpzioniClient, PdndClient, PoliticaRitentativi,
};
use anpr::config::AnprConfig;
use anpr::servizi::Servizio;
use anpr_sim::chiavi::{CoppiaChiavi, coppia_condivisa};
use anpr_sim::{ClienteRegistrato, SimConfig, SimHandle};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

pub const CLIENT_ID: &str = "client-rivesto-worker";

pub struct Ambiente {
    pub sim: SimHandle,
    pub dir: TempDir,
    pub chiavi: &'static CoppiaChiavi,
}

fn purpose(s: Servizio) -> String {
    format!("purpose-{}", s.codice())
}

pub async fn ambiente() -> Ambiente {
    let chiavi = coppia_condivisa();
    let config = SimConfig {
        population: 2_000,
        clients: vec![ClienteRegistrato {
            client_id: CLIENT_ID.into(),
            chiavi: BTreeMap::from([(chiavi.kid.clone(), chiavi.public_pem.clone())]),
            purposes: Servizio::ALL
                .into_iter()
                .map(|s| (purpose(s), s.codice().to_string()))
                .collect(),
        }],
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = anpr_sim::avvia(config, listener).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("client.key"), &chiavi.private_pem).unwrap();
    Ambiente { sim, dir, chiavi }
}

impl Ambiente {
    /// The onboarding file; `modifica` edits its text (to plant a mistake).
    pub fn config(&self, modifica: impl FnOnce(String) -> String) -> AnprConfig {
        let percorso = self.dir.path().join("anpr.toml");
        std::fs::write(&percorso, modifica(self.testo_config())).unwrap();
        AnprConfig::from_file(&percorso).unwrap()
    }

    /// The onboarding TOML text (its key file is `client.key`, beside it).
    pub fn testo_config(&self) -> String {
        let mut purposes = String::new();
        for s in Servizio::ALL {
            purposes.push_str(&format!("{} = \"{}\"\n", s.codice(), purpose(s)));
        }
        format!(
            "[anpr]\ntoken_url = \"{}\"\nclient_assertion_aud = \"{}\"\nbase_url = \"{}\"\naudience_base = \"{}\"\n\
             client_id = \"{CLIENT_ID}\"\nkid = \"{}\"\nprivate_key_file = \"client.key\"\nuser_id = \"OPERATORE1\"\n\
             user_location = \"UFFICIO-01\"\nloa = \"LoA2\"\ntimeout_ms = 2000\n\n[anpr.purposes]\n{purposes}",
            self.sim.token_url(),
            self.sim.client_assertion_aud(),
            self.sim.base_url(),
            self.sim.audience_base(),
            self.chiavi.kid
        )
    }

    pub fn client_con(&self, config: AnprConfig) -> PdndClient {
        let mut o = OpzioniClient::new("H501");
        o.politica = PoliticaRitentativi {
            tentativi_max: 3,
            attesa_iniziale: Duration::from_millis(20),
            attesa_max: Duration::from_millis(100),
            retry_after_max: Duration::from_millis(200),
        };
        let archivio =
            ArchivioFile::apri(&self.dir.path().join("dati"), o.orologio.clone()).unwrap();
        PdndClient::new(config, Arc::new(archivio), o).unwrap()
    }

    pub fn client(&self) -> PdndClient {
        self.client_con(self.config(|t| t))
    }

    /// Calls that reached the simulator's data services, per service code.
    pub fn chiamate(&self, servizio: Servizio) -> u64 {
        self.sim.conteggio(CLIENT_ID, servizio.codice())
    }
}

pub fn contesto(cf_atteso: Option<&str>) -> ContestoChiamata {
    ContestoChiamata {
        user_id: "MARIO.ROSSI".into(),
        user_location: "UFFICIO-01".into(),
        loa: "LoA2".into(),
        purpose_id: None,
        cf_atteso: cf_atteso.map(str::to_string),
    }
}

pub fn dati() -> DatiRichiesta {
    DatiRichiesta {
        data_riferimento_richiesta: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        motivo_richiesta: "PROT-2026-0001".into(),
    }
}

/// Unique row keys within a test.
pub fn chiave(n: &str) -> String {
    format!("richiesta-test:{n}:{}", uuid::Uuid::new_v4())
}

//! A fresh database per test (SQLite in a temporary folder; PostgreSQL in the cluster named by
//! `RIVESTO_TEST_DATABASE_URL`, skipped with a printed reason when unset, except under
//! `CI=true`), seeded with a Comune whose ANPR access points at the in-process simulator.

use crate::supporto::{Ambiente, ambiente};
use anpr::client::PoliticaRitentativi;
use anpr::security::Orologio;
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo;
use sqlx::{Connection as _, Executor as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use store::anagrafiche::{
    Approvazione, NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte,
};
use store::richieste::{NuovaRichiesta, NuovaRiga, stato};
use store::{Attore, ChiaveMaestra, OpzioniMigrazione, Store};
use worker::{Istantanea, Motore, OpzioniMotore};

/// Instantiates each named engine test for both database engines.
#[macro_export]
macro_rules! su_entrambi {
    ($($nome:ident),* $(,)?) => { $(
        mod $nome {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::banca::Db::sqlite().await;
                super::$nome(&db).await;
                db.fine().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = $crate::banca::Db::postgres().await else { return };
                super::$nome(&db).await;
                db.fine().await;
            }
        }
    )* };
}

pub struct Db {
    pub url: String,
    pub store: Store,
    pg: Option<(String, String)>,
    _cartella: Option<tempfile::TempDir>,
}

impl Db {
    pub async fn sqlite() -> Db {
        let cartella = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/rivesto.db", cartella.path().display());
        store::migra(&url, &OpzioniMigrazione::default())
            .await
            .unwrap();
        let store = Store::connetti(&url).await.unwrap();
        Db {
            url,
            store,
            pg: None,
            _cartella: Some(cartella),
        }
    }

    pub async fn postgres() -> Option<Db> {
        let Ok(cluster) = std::env::var("RIVESTO_TEST_DATABASE_URL") else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "RIVESTO_TEST_DATABASE_URL non impostata: in CI i test PostgreSQL sono obbligatori"
                );
            }
            println!(
                "PostgreSQL non disponibile: test saltato (RIVESTO_TEST_DATABASE_URL non impostata)"
            );
            return None;
        };
        let nome = format!("rivesto_worker_{}", uuid::Uuid::new_v4().simple());
        let mut c = sqlx::PgConnection::connect(&cluster).await.unwrap();
        c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {nome}")))
            .await
            .unwrap();
        c.close().await.unwrap();
        let mut u = url::Url::parse(&cluster).unwrap();
        u.set_path(&format!("/{nome}"));
        let url = u.to_string();
        store::migra(&url, &OpzioniMigrazione::default())
            .await
            .unwrap();
        let store = Store::connetti(&url).await.unwrap();
        Some(Db {
            url,
            store,
            pg: Some((cluster, nome)),
            _cartella: None,
        })
    }

    pub async fn fine(self) {
        self.store.chiudi().await;
        if let Some((cluster, nome)) = self.pg {
            let mut c = sqlx::PgConnection::connect(&cluster).await.unwrap();
            let sql = format!("DROP DATABASE IF EXISTS {nome} WITH (FORCE)");
            c.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
        }
    }
}

/// A clock the test moves by hand (it starts at the real time).
pub struct OrologioTest(AtomicI64);

impl OrologioTest {
    pub fn adesso() -> Arc<OrologioTest> {
        Arc::new(OrologioTest(AtomicI64::new(
            chrono::Utc::now().timestamp_millis(),
        )))
    }
    pub fn imposta(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Orologio for OrologioTest {
    fn adesso_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub const MASTER_KEY: [u8; 32] = [42; 32];

pub fn chiave() -> ChiaveMaestra {
    ChiaveMaestra::da_byte(&MASTER_KEY).unwrap()
}

pub fn top() -> Attore {
    Attore {
        nome: "top.roma".into(),
        ruolo: Some("TOP".into()),
        comune: Some("058091".into()),
        ente: None,
    }
}

/// Roma with its access to the simulator, an Ente, a convention and a user.
pub struct Scenario {
    pub campi: Vec<GruppoCampi>,
    pub amb: Arc<Ambiente>,
    pub comune_id: i64,
    pub convenzione_id: i64,
    pub utente_id: i64,
    pub file: tempfile::TempDir,
}

pub async fn scenario(s: &Store, campi: &[GruppoCampi], toml_extra: &str) -> Scenario {
    scenario_con(
        s,
        campi,
        toml_extra,
        Approvazione::SilenzioAssenso { ritardo_ms: 0 },
    )
    .await
}

pub async fn scenario_con(
    s: &Store,
    campi: &[GruppoCampi],
    toml_extra: &str,
    approvazione: Approvazione,
) -> Scenario {
    let amb = Arc::new(ambiente().await);
    semina(s, amb, campi, toml_extra, approvazione).await
}

async fn semina(
    s: &Store,
    amb: Arc<Ambiente>,
    campi: &[GruppoCampi],
    toml_extra: &str,
    approvazione: Approvazione,
) -> Scenario {
    let a = top();
    let comune_id = s
        .crea_comune(
            &NuovoComune {
                codice_istat: "058091".into(),
                belfiore: "H501".into(),
                nome: "Roma".into(),
                sigla: "RM".into(),
            },
            &a,
        )
        .await
        .unwrap();
    imposta_accesso(s, &amb, comune_id, toml_extra).await;
    let ente_id = s
        .crea_ente(
            "80012345678",
            TipoCodiceEnte::CodiceFiscale,
            "Polizia Locale",
            "PL-RM-01",
            &a,
        )
        .await
        .unwrap();
    let tracciato: Vec<&str> = vec![
        "id_anpr",
        "codice_fiscale",
        "cognome",
        "nome",
        "sesso",
        "data_nascita",
    ];
    let convenzione_id = s
        .crea_convenzione(
            &NuovaConvenzione {
                comune_id,
                ente_id,
                nome: "PL Roma".into(),
                campi: campi.to_vec(),
                ambito: Ambito::Italia,
                approvazione,
                finalita: Default::default(),
                valida_dal_ms: 0,
                valida_al_ms: None,
                max_righe_richiesta: None,
                max_soggetti_giorno: None,
                tracciato: serde_json::json!(tracciato),
                conservazione_giorni: 7,
                ricerca_nazionale: false,
            },
            &a,
        )
        .await
        .unwrap();
    let utente_id = s
        .crea_utente(
            &NuovoUtente {
                username: "mario.rossi".into(),
                password: "una password lunga".into(),
                ruolo: "STANDARD".into(),
                comune_id: None,
                ente_id: Some(ente_id),
                codice_utente: "MR01".into(),
            },
            &a,
        )
        .await
        .unwrap();
    Scenario {
        campi: campi.to_vec(),
        amb,
        comune_id,
        convenzione_id,
        utente_id,
        file: tempfile::tempdir().unwrap(),
    }
}

/// Imports the onboarding TOML (with `extra` appended) and its key file, as `admin comune add`
/// would.
pub async fn imposta_accesso(s: &Store, amb: &Ambiente, comune_id: i64, extra: &str) {
    let toml = format!("{}\n{extra}", amb.testo_config());
    s.imposta_accesso_anpr(
        comune_id,
        &toml,
        &[(
            "client.key".into(),
            amb.chiavi.private_pem.clone().into_bytes(),
        )],
        &chiave(),
        &top(),
    )
    .await
    .unwrap();
}

pub fn riga(numero: i64, tipo: TipoIdentificativo, id: &str) -> NuovaRiga {
    NuovaRiga {
        numero,
        tipo,
        identificativo: id.into(),
        riferimento: Some(format!("R{numero}")),
        rilascio: None,
        motivo: None,
        duplicato_di: None,
        esito: None,
        messaggio: None,
    }
}

impl Scenario {
    /// The same Comune, Ente, convention and user on another database, with the same
    /// simulator (another installation's view of the same ANPR).
    pub async fn su_simulatore(s: &Store, altro: &Scenario) -> Scenario {
        semina(
            s,
            altro.amb.clone(),
            &altro.campi,
            "",
            Approvazione::SilenzioAssenso { ritardo_ms: 0 },
        )
        .await
    }

    pub fn opzioni(&self, orologio: Arc<dyn Orologio>) -> OpzioniMotore {
        let mut o = OpzioniMotore::new(self.file.path());
        o.orologio = orologio;
        o.dimensione_blocco = 40;
        o.concorrenza_per_comune = 4;
        o.durata_lease = Duration::from_secs(30);
        o.intervallo_timer = Duration::ZERO;
        o.pausa_inattivo = Duration::from_millis(5);
        o.politica = PoliticaRitentativi {
            tentativi_max: 4,
            attesa_iniziale: Duration::from_millis(5),
            attesa_max: Duration::from_millis(40),
            retry_after_max: Duration::from_millis(50),
        };
        o
    }

    pub fn motore(&self, store: &Store, orologio: Arc<dyn Orologio>) -> Motore {
        Motore::new(store.clone(), chiave(), self.opzioni(orologio))
    }

    /// Creates the request and submits it; silent consent (delay 0) approves it on the
    /// engine's first pass.
    pub async fn invia(&self, s: &Store, righe: &[NuovaRiga]) -> i64 {
        let ist = Istantanea::componi(s, self.convenzione_id, self.utente_id, "LoA2")
            .await
            .unwrap();
        let utente = Attore {
            nome: "mario.rossi".into(),
            ruolo: Some("STANDARD".into()),
            comune: None,
            ente: Some("80012345678".into()),
        };
        let id = s
            .crea_richiesta(
                &NuovaRichiesta {
                    convenzione_id: self.convenzione_id,
                    utente_id: self.utente_id,
                    motivo: "PROT-2026-0042".into(),
                    data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
                    snapshot: ist.json(),
                },
                righe,
                &utente,
            )
            .await
            .unwrap();
        s.cambia_stato_richiesta(
            id,
            &[stato::BOZZA],
            stato::IN_ATTESA_CONVALIDA,
            None,
            &utente,
        )
        .await
        .unwrap();
        id
    }
}

/// Runs passes until the request reaches one of `stati` (and is not suspended), or panics
/// after `massimo` passes.
pub async fn fino_a(m: &Motore, s: &Store, id: i64, stati: &[&str], massimo: usize) -> String {
    for _ in 0..massimo {
        m.passo().await.unwrap();
        let r = s.richiesta(id).await.unwrap();
        if stati.contains(&r.stato.as_str()) {
            return r.stato;
        }
    }
    let r = s.richiesta(id).await.unwrap();
    panic!(
        "richiesta {id} ancora {} ({:?}) dopo {massimo} passi",
        r.stato, r.motivo_sospensione
    );
}

/// The decrypted text of the request's files (partial or not), in order.
pub async fn testi(s: &Store, id: i64, parziali: bool) -> Vec<(String, String)> {
    let identita = worker::identita_file(s, &chiave()).await.unwrap();
    let mut v = Vec::new();
    for f in s.file_risposta(id).await.unwrap() {
        if f.parziale != parziali {
            continue;
        }
        let mut chiaro = Vec::new();
        let (byte, sha) =
            worker::cifratura::decifra(std::path::Path::new(&f.percorso), &identita, &mut chiaro)
                .unwrap();
        assert_eq!(sha, f.sha256, "{}", f.nome);
        assert_eq!(byte as i64, f.dimensione);
        v.push((f.nome, String::from_utf8(chiaro).unwrap()));
    }
    v
}

//! A fresh database per test. SQLite: a file in a temporary folder. PostgreSQL: a new database
//! in the cluster named by `RIVESTO_TEST_DATABASE_URL` (an owner or superuser URL); when it is
//! unset the PostgreSQL half is skipped with a printed reason, except under `CI=true`.

use sqlx::{Connection as _, Executor as _};
use store::{Attore, OpzioniMigrazione, Store};

pub struct Db {
    pub url: String,
    pub store: Store,
    /// Cluster URL and database name, to drop the database at the end.
    pg: Option<(String, String)>,
    /// Further empty databases made by `database_vuoto`, dropped at the end.
    altri_pg: std::sync::Mutex<Vec<String>>,
    _cartella: Option<tempfile::TempDir>,
}

pub fn top() -> Attore {
    Attore {
        nome: "top.c030".into(),
        ruolo: Some("TOP".into()),
        comune: Some("015146".into()),
        ente: None,
    }
}

impl Db {
    pub async fn sqlite() -> Db {
        let cartella = tempfile::tempdir().unwrap();
        // A folder that does not exist yet: connetti and migra must create it.
        let url = format!("sqlite://{}/dati/rivesto.db", cartella.path().display());
        store::migra(&url, &OpzioniMigrazione::default())
            .await
            .unwrap();
        let store = Store::connetti(&url).await.unwrap();
        Db {
            url,
            store,
            pg: None,
            altri_pg: Default::default(),
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
        let nome = format!("rivesto_test_{}", uuid_semplice());
        let mut c = sqlx::PgConnection::connect(&cluster).await.unwrap();
        c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {nome}")))
            .await
            .unwrap();
        c.close().await.unwrap();
        let url = url_con_database(&cluster, &nome);
        store::migra(&url, &OpzioniMigrazione::default())
            .await
            .unwrap();
        let store = Store::connetti(&url).await.unwrap();
        Some(Db {
            url,
            store,
            pg: Some((cluster, nome)),
            altri_pg: Default::default(),
            _cartella: None,
        })
    }

    /// The URL of another, empty database on the same engine.
    pub async fn database_vuoto(&self) -> String {
        match &self.pg {
            Some((cluster, _)) => {
                let nome = crea_database_pg(cluster).await;
                self.altri_pg.lock().unwrap().push(nome.clone());
                url_con_database(cluster, &nome)
            }
            None => {
                let cartella = self._cartella.as_ref().unwrap().path();
                format!(
                    "sqlite://{}/vuoto-{}/rivesto.db",
                    cartella.display(),
                    uuid_semplice()
                )
            }
        }
    }

    /// A second handle on the same database, as another process would have.
    pub async fn altro_store(&self) -> Store {
        Store::connetti(&self.url).await.unwrap()
    }

    /// Runs raw SQL as the owner (to tamper with rows the API would never touch).
    pub async fn sql_proprietario(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        if self.pg.is_some() {
            let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
            c.execute(sql).await.unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            c.execute(sql).await.unwrap();
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    pub async fn fine(self) {
        self.store.chiudi().await;
        if let Some((cluster, nome)) = self.pg {
            let mut c = sqlx::PgConnection::connect(&cluster).await.unwrap();
            let altri = self.altri_pg.into_inner().unwrap();
            for nome in std::iter::once(nome).chain(altri) {
                let sql = format!("DROP DATABASE IF EXISTS {nome} WITH (FORCE)");
                c.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            }
        }
    }
}

async fn crea_database_pg(cluster: &str) -> String {
    let nome = format!("rivesto_test_{}", uuid_semplice());
    let mut c = sqlx::PgConnection::connect(cluster).await.unwrap();
    c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {nome}")))
        .await
        .unwrap();
    c.close().await.unwrap();
    nome
}

pub fn url_con_database(cluster: &str, nome: &str) -> String {
    let mut u = url::Url::parse(cluster).unwrap();
    u.set_path(&format!("/{nome}"));
    u.to_string()
}

fn uuid_semplice() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        t % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A Comune (C030's home: Milano), an Ente and a convention between them, as a TOP creates them.
pub struct Base {
    pub comune_id: i64,
    pub ente_id: i64,
    pub convenzione_id: i64,
    pub utente_id: i64,
}

/// A second tenant: Roma, an ASL convened with it, and its operator `anna.verdi`, created by
/// `a`; `utente_del_comune` files the operator under Roma as well as under the ASL.
pub async fn tenant_roma(s: &Store, a: &Attore, utente_del_comune: bool) -> Base {
    use domain::ambito::Ambito;
    use store::anagrafiche::{
        Approvazione, NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte,
    };
    let comune_id = s
        .crea_comune(
            &NuovoComune {
                codice_istat: "058091".into(),
                belfiore: "H501".into(),
                nome: "Roma".into(),
                sigla: "RM".into(),
            },
            a,
        )
        .await
        .unwrap();
    let ente_id = s
        .crea_ente("asl_rm1", TipoCodiceEnte::Ipa, "ASL Roma 1", "ASL-RM1", a)
        .await
        .unwrap();
    let convenzione_id = s
        .crea_convenzione(
            &NuovaConvenzione {
                comune_id,
                ente_id,
                nome: "ASL Roma".into(),
                campi: vec![],
                ambito: Ambito::Comune,
                approvazione: Approvazione::Manuale,
                finalita: Default::default(),
                valida_dal_ms: 0,
                valida_al_ms: None,
                max_righe_richiesta: None,
                max_soggetti_giorno: None,
                tracciato: serde_json::json!({}),
                conservazione_giorni: 7,
                ricerca_nazionale: false,
            },
            a,
        )
        .await
        .unwrap();
    let utente_id = s
        .crea_utente(
            &NuovoUtente {
                username: "anna.verdi".into(),
                password: "un'altra password lunga".into(),
                ruolo: "STANDARD".into(),
                comune_id: utente_del_comune.then_some(comune_id),
                ente_id: Some(ente_id),
                codice_utente: "AV01".into(),
            },
            a,
        )
        .await
        .unwrap();
    Base {
        comune_id,
        ente_id,
        convenzione_id,
        utente_id,
    }
}

pub async fn base(s: &Store) -> Base {
    use domain::ambito::Ambito;
    use domain::gruppi::GruppoCampi;
    use store::anagrafiche::{
        Approvazione, NuovaConvenzione, NuovoComune, NuovoUtente, TipoCodiceEnte,
    };
    let a = top();
    let comune_id = s
        .crea_comune(
            &NuovoComune {
                codice_istat: "015146".into(),
                belfiore: "F205".into(),
                nome: "Milano".into(),
                sigla: "MI".into(),
            },
            &a,
        )
        .await
        .unwrap();
    let ente_id = s
        .crea_ente(
            "80012345678",
            TipoCodiceEnte::CodiceFiscale,
            "Polizia Locale",
            "PL-MI-01",
            &a,
        )
        .await
        .unwrap();
    let convenzione_id = s
        .crea_convenzione(
            &NuovaConvenzione {
                comune_id,
                ente_id,
                nome: "PL Milano".into(),
                campi: vec![GruppoCampi::Generalita, GruppoCampi::Residenza],
                ambito: Ambito::Comune,
                approvazione: Approvazione::SilenzioAssenso { ritardo_ms: 0 },
                finalita: [("C030".to_string(), "purpose-1".to_string())].into(),
                valida_dal_ms: 0,
                valida_al_ms: None,
                max_righe_richiesta: Some(1000),
                max_soggetti_giorno: Some(5000),
                tracciato: serde_json::json!({"separatore": ";"}),
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
    Base {
        comune_id,
        ente_id,
        convenzione_id,
        utente_id,
    }
}

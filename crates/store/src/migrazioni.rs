//! Migrations per engine, embedded in the binary, and the PostgreSQL runtime role.
//!
//! `migra` needs only the database URL: no master key, no configuration. On PostgreSQL it runs
//! as the owner role (the URL's user): it creates the tables, creates the runtime role when it
//! is missing and grants it what `serve` and `worker` need, except UPDATE, DELETE and TRUNCATE
//! on the audit tables (`audit_entries`, `audit_checkpoints`).

use crate::ErroreStore;
use crate::connessione::{opzioni_sqlite, senza_password};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{AssertSqlSafe, ConnectOptions as _, PgPool, Row as _, SqlSafeStr as _};
use std::borrow::Cow;
use std::str::FromStr as _;

pub const RUOLO_RUNTIME_PREDEFINITO: &str = "rivesto_app";

const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../migrations/sqlite/0001_schema.sql"),
    ),
    (
        2,
        "autenticazione",
        include_str!("../migrations/sqlite/0002_autenticazione.sql"),
    ),
    (
        3,
        "notifiche",
        include_str!("../migrations/sqlite/0003_notifiche.sql"),
    ),
    (
        4,
        "token_api",
        include_str!("../migrations/sqlite/0004_token_api.sql"),
    ),
    (
        5,
        "richieste_web",
        include_str!("../migrations/sqlite/0005_richieste_web.sql"),
    ),
    (
        6,
        "audit_checkpoint",
        include_str!("../migrations/sqlite/0006_audit_checkpoint.sql"),
    ),
    (
        7,
        "consultazioni",
        include_str!("../migrations/sqlite/0007_consultazioni.sql"),
    ),
    (
        8,
        "statistiche",
        include_str!("../migrations/sqlite/0008_statistiche.sql"),
    ),
    (
        9,
        "id_richieste",
        include_str!("../migrations/sqlite/0009_id_richieste.sql"),
    ),
    (
        10,
        "righe_caricamento",
        include_str!("../migrations/sqlite/0010_righe_caricamento.sql"),
    ),
    (
        11,
        "duplicati_in_attesa",
        include_str!("../migrations/sqlite/0011_duplicati_in_attesa.sql"),
    ),
    (
        12,
        "hmac_128",
        include_str!("../migrations/sqlite/0012_hmac_128.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../migrations/postgres/0001_schema.sql"),
    ),
    (
        2,
        "autenticazione",
        include_str!("../migrations/postgres/0002_autenticazione.sql"),
    ),
    (
        3,
        "notifiche",
        include_str!("../migrations/postgres/0003_notifiche.sql"),
    ),
    (
        4,
        "token_api",
        include_str!("../migrations/postgres/0004_token_api.sql"),
    ),
    (
        5,
        "richieste_web",
        include_str!("../migrations/postgres/0005_richieste_web.sql"),
    ),
    (
        6,
        "audit_checkpoint",
        include_str!("../migrations/postgres/0006_audit_checkpoint.sql"),
    ),
    (
        7,
        "consultazioni",
        include_str!("../migrations/postgres/0007_consultazioni.sql"),
    ),
    (
        8,
        "statistiche",
        include_str!("../migrations/postgres/0008_statistiche.sql"),
    ),
    (
        9,
        "id_richieste",
        include_str!("../migrations/postgres/0009_id_richieste.sql"),
    ),
    (
        10,
        "righe_caricamento",
        include_str!("../migrations/postgres/0010_righe_caricamento.sql"),
    ),
    (
        11,
        "duplicati_in_attesa",
        include_str!("../migrations/postgres/0011_duplicati_in_attesa.sql"),
    ),
    (
        12,
        "hmac_128",
        include_str!("../migrations/postgres/0012_hmac_128.sql"),
    ),
];

/// Options of `migra`. Only PostgreSQL reads them.
#[derive(Clone)]
pub struct OpzioniMigrazione {
    /// The runtime role, created when missing (default `rivesto_app`).
    pub ruolo_runtime: String,
    /// Its password. `None` leaves the role without one (or its current one): it then logs in
    /// through `pg_hba.conf` (peer, trust or certificates). `Some` sets it at every run.
    pub password_runtime: Option<String>,
}

impl Default for OpzioniMigrazione {
    fn default() -> Self {
        OpzioniMigrazione {
            ruolo_runtime: RUOLO_RUNTIME_PREDEFINITO.to_string(),
            password_runtime: None,
        }
    }
}

impl std::fmt::Debug for OpzioniMigrazione {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpzioniMigrazione")
            .field("ruolo_runtime", &self.ruolo_runtime)
            .field(
                "password_runtime",
                &self.password_runtime.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

fn migratore(elenco: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        elenco
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    Cow::Borrowed(*d),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Applies the pending migrations to the database at `url` (an empty database is fine); on
/// PostgreSQL it also ensures the runtime role and its grants. Running it again is harmless.
pub async fn migra(url: &str, opzioni: &OpzioniMigrazione) -> Result<(), ErroreStore> {
    if url.starts_with("sqlite:") {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opzioni_sqlite(url)?)
            .await?;
        migratore(SQLITE).run(&pool).await?;
        pool.close().await;
        return Ok(());
    }
    // Statement logging off: ALTER ROLE … PASSWORD carries the password as a literal.
    let connessione = PgConnectOptions::from_str(url)
        .map_err(|_| ErroreStore::UrlNonValido(senza_password(url)))?
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(connessione)
        .await?;
    migratore(POSTGRES).run(&pool).await?;
    ruolo_runtime(&pool, opzioni).await?;
    pool.close().await;
    Ok(())
}

impl crate::Store {
    /// Whether every migration embedded in this binary has been applied: `serve` and `worker`
    /// run as the runtime role and cannot migrate, so they check this at start-up.
    pub async fn schema_aggiornato(&self) -> Result<bool, ErroreStore> {
        let (elenco, applicate) = match &self.motore {
            crate::connessione::Motore::Sqlite(s) => (SQLITE, versioni_applicate(&s.lettura).await),
            crate::connessione::Motore::Postgres(p) => (POSTGRES, versioni_applicate(p).await),
        };
        let applicate = match applicate {
            Ok(v) => v,
            // No migrations table: an empty database.
            Err(sqlx::Error::Database(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        Ok(elenco.iter().all(|(v, _, _)| applicate.contains(v)))
    }
}

async fn versioni_applicate<'c, E>(ex: E) -> Result<Vec<i64>, sqlx::Error>
where
    E: sqlx::Executor<'c>,
    i64: for<'r> sqlx::Decode<'r, E::Database> + sqlx::Type<E::Database>,
    usize: sqlx::ColumnIndex<<E::Database as sqlx::Database>::Row>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
{
    let righe = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(ex)
        .await?;
    righe.iter().map(|r| r.try_get::<i64, _>(0)).collect()
}

fn nome_valido(nome: &str) -> bool {
    let mut c = nome.chars();
    c.next().is_some_and(|p| p.is_ascii_lowercase() || p == '_')
        && c.all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == '_')
        && nome.len() <= 63
}

/// A statement quoted by PostgreSQL itself (`format` with `%I` and `%L`), then run.
async fn esegui_formattato(
    pool: &PgPool,
    modello: &'static str,
    argomenti: &[&str],
) -> Result<(), sqlx::Error> {
    let mut q = sqlx::query(modello);
    for a in argomenti {
        q = q.bind(*a);
    }
    let sql: String = q.fetch_one(pool).await?.try_get(0)?;
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

/// Creates an empty database `nome` in the PostgreSQL cluster of `url` (a role allowed to
/// CREATE DATABASE) and returns its URL: the benches' and tests' throwaway databases.
pub async fn crea_database_postgres(url: &str, nome: &str) -> Result<String, ErroreStore> {
    let (pool, nuovo) = cluster(url, nome).await?;
    esegui_formattato(&pool, "SELECT format('CREATE DATABASE %I', $1)", &[nome]).await?;
    pool.close().await;
    Ok(nuovo)
}

/// Drops the database `nome` of the cluster of `url`, ending its open connections.
pub async fn elimina_database_postgres(url: &str, nome: &str) -> Result<(), ErroreStore> {
    let (pool, _) = cluster(url, nome).await?;
    esegui_formattato(
        &pool,
        "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1)",
        &[nome],
    )
    .await?;
    pool.close().await;
    Ok(())
}

/// A one-connection pool on the cluster of `url`, and the URL of database `nome` in it.
async fn cluster(url: &str, nome: &str) -> Result<(PgPool, String), ErroreStore> {
    if !nome_valido(nome) {
        return Err(ErroreStore::DatoNonValido {
            campo: "nome del database",
            motivo: format!("{nome:?}: ammessi a-z, 0-9, _"),
        });
    }
    let mut nuovo =
        url::Url::parse(url).map_err(|_| ErroreStore::UrlNonValido(senza_password(url)))?;
    if !matches!(nuovo.scheme(), "postgres" | "postgresql") {
        return Err(ErroreStore::UrlNonValido(senza_password(url)));
    }
    nuovo.set_path(&format!("/{nome}"));
    let opzioni = PgConnectOptions::from_str(url)
        .map_err(|_| ErroreStore::UrlNonValido(senza_password(url)))?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opzioni)
        .await?;
    Ok((pool, nuovo.to_string()))
}

async fn ruolo_runtime(pool: &PgPool, opzioni: &OpzioniMigrazione) -> Result<(), ErroreStore> {
    let ruolo = opzioni.ruolo_runtime.as_str();
    if !nome_valido(ruolo) {
        return Err(ErroreStore::RuoloNonValido(ruolo.to_string()));
    }
    let esiste = sqlx::query("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(ruolo)
        .fetch_optional(pool)
        .await?
        .is_some();
    if !esiste {
        // Roles belong to the cluster: another database's migration may create it meanwhile.
        match esegui_formattato(pool, "SELECT format('CREATE ROLE %I LOGIN', $1)", &[ruolo]).await {
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42710") | Some("23505")) => {}
            altro => altro?,
        }
    }
    if let Some(password) = &opzioni.password_runtime {
        esegui_formattato(
            pool,
            "SELECT format('ALTER ROLE %I PASSWORD %L', $1, $2)",
            &[ruolo, password],
        )
        .await?;
    }
    for modello in [
        "SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1)",
        "SELECT format('GRANT USAGE ON SCHEMA public TO %I', $1)",
        "SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', $1)",
        "SELECT format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', $1)",
        // The audit chain and its checkpoints are append-only for the runtime role.
        "SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM %I', $1)",
        "SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM %I', $1)",
        "SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM %I', $1)",
    ] {
        esegui_formattato(pool, modello, &[ruolo]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nomi_di_ruolo() {
        assert!(nome_valido("rivesto_app"));
        assert!(nome_valido("_r2"));
        assert!(!nome_valido(""));
        assert!(!nome_valido("Rivesto"));
        assert!(!nome_valido("a\"; DROP"));
        assert!(!nome_valido("2a"));
    }

    #[test]
    fn le_migrazioni_dei_due_motori_hanno_le_stesse_versioni() {
        fn v(e: &[(i64, &'static str, &'static str)]) -> Vec<(i64, &'static str)> {
            e.iter().map(|m| (m.0, m.1)).collect()
        }
        assert_eq!(v(SQLITE), v(POSTGRES));
    }

    /// Migration 0012 cuts the hashes stored before it exactly as the code now computes them,
    /// so "chi ha consultato" still finds the rows of older requests.
    #[tokio::test]
    async fn la_0012_taglia_gli_hash_salvati_come_quelli_nuovi() {
        use aws_lc_rs::hmac;
        let cartella = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", cartella.path().join("m.db").display());
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opzioni_sqlite(&url).unwrap())
            .await
            .unwrap();
        migratore(&SQLITE[..11]).run(&pool).await.unwrap();
        // As written before 0012: the whole HMAC-SHA256 tag in hex.
        let intero = hex::encode(
            hmac::sign(
                &hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32]),
                b"CF\nRSSMRA80A01F205X",
            )
            .as_ref(),
        );
        assert_eq!(intero.len(), 64);
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO righe (richiesta_id, numero, tipo, stato, identificativo_hmac, cf_hmac) \
             VALUES (1, 1, 'CF', 'FINALE', ?, ?), (1, 2, 'CF', 'DA_ELABORARE', NULL, NULL)",
        )
        .bind(&intero)
        .bind(&intero)
        .execute(&pool)
        .await
        .unwrap();
        migratore(SQLITE).run(&pool).await.unwrap();
        let righe: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT identificativo_hmac, cf_hmac, id_anpr_hmac FROM righe ORDER BY numero",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let nuovo = crate::conservazione::hmac_identificativo(
            &crate::Segreto::new(vec![7u8; 32]),
            "CF",
            "RSSMRA80A01F205X",
        );
        assert_eq!(nuovo.len(), 32);
        assert_eq!(
            righe,
            vec![(Some(nuovo.clone()), Some(nuovo), None), (None, None, None)]
        );
    }
}

//! `rivesto migrate` on an empty database with nothing else: no master key, no configuration.

use crate::{rivesto, testo};
use sqlx::{Connection as _, Executor as _};

#[tokio::test]
async fn migrate_su_sqlite_nuovo() {
    let dir = tempfile::tempdir().unwrap();
    // A folder that does not exist yet, no data dir, no master key.
    let url = format!("sqlite://{}/nuova/rivesto.db", dir.path().display());
    let o = rivesto(dir.path())
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("Migrazioni applicate: sqlite://"),
        "{}",
        testo(&o)
    );
    let store = store::Store::connetti(&url).await.unwrap();
    assert!(store.schema_aggiornato().await.unwrap());
    store.chiudi().await;
    assert!(
        !dir.path().join("rivesto-data").exists(),
        "migrate non crea altro"
    );
    // A second run is harmless.
    let o = rivesto(dir.path())
        .env("RIVESTO_DATABASE_URL", &url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    // SQLite has no roles: a password for one is a mistake worth saying.
    std::fs::write(dir.path().join("pw"), "x\n").unwrap();
    let o = rivesto(dir.path())
        .env("RIVESTO_DATABASE_URL", &url)
        .args(["migrate", "--runtime-password-file", "pw"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("vale solo per PostgreSQL"));
}

#[test]
fn admin_rifiuta_un_database_non_migrato() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path())
        .args(["admin", "ente", "add", "--nome", "ASL", "--ipa", "asl_rm1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("eseguire prima rivesto migrate"),
        "{}",
        testo(&o)
    );
}

/// The cluster of `RIVESTO_TEST_DATABASE_URL` (an owner or superuser URL), or a skip.
pub fn cluster_postgres() -> Option<String> {
    match std::env::var("RIVESTO_TEST_DATABASE_URL") {
        Ok(u) => Some(u),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "RIVESTO_TEST_DATABASE_URL non impostata: in CI i test PostgreSQL sono obbligatori"
            )
        }
        Err(_) => {
            println!(
                "PostgreSQL non disponibile: test saltato (RIVESTO_TEST_DATABASE_URL non impostata)"
            );
            None
        }
    }
}

pub fn con_utente(url: &str, utente: &str, database: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_username(utente).unwrap();
    u.set_password(None).unwrap();
    u.set_path(&format!("/{database}"));
    u.to_string()
}

/// A fresh, empty database in the cluster: its name and owner URL.
pub async fn database_nuovo(cluster: &str, prefisso: &str) -> (String, String) {
    let nome = format!("{prefisso}_{}", std::process::id());
    elimina_database(cluster, &nome).await;
    let mut c = sqlx::PgConnection::connect(cluster).await.unwrap();
    c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {nome}")))
        .await
        .unwrap();
    c.close().await.unwrap();
    let mut u = url::Url::parse(cluster).unwrap();
    u.set_path(&format!("/{nome}"));
    (nome, u.to_string())
}

pub async fn elimina_database(cluster: &str, nome: &str) {
    let mut c = sqlx::PgConnection::connect(cluster).await.unwrap();
    let sql = format!("DROP DATABASE IF EXISTS {nome} WITH (FORCE)");
    c.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
async fn migrate_su_postgres_crea_il_ruolo_runtime() {
    let Some(cluster) = cluster_postgres() else {
        return;
    };
    let (nome, url) = database_nuovo(&cluster, "rivesto_cli_migrate").await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "password del runtime\n").unwrap();
    let o = rivesto(dir.path())
        .args(["migrate", "--database-url", &url])
        .args(["--runtime-role", "rivesto_cli_prova"])
        .args(["--runtime-password-file", "pw"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Ruolo runtime: rivesto_cli_prova"),
        "{}",
        testo(&o)
    );
    assert!(!testo(&o).contains("password del runtime"), "{}", testo(&o));

    let store = store::Store::connetti(&url).await.unwrap();
    assert!(store.schema_aggiornato().await.unwrap());
    store.chiudi().await;
    // The runtime role exists, may read the chain and may not rewrite it.
    let mut r = sqlx::PgConnection::connect(&con_utente(&cluster, "rivesto_cli_prova", &nome))
        .await
        .unwrap();
    r.execute("SELECT COUNT(*) FROM audit_entries")
        .await
        .unwrap();
    let e = r.execute("DELETE FROM audit_entries").await.unwrap_err();
    let codice = e.as_database_error().and_then(|d| d.code()).unwrap();
    assert_eq!(codice, "42501", "{e}");
    r.close().await.unwrap();
    // The password file was applied (the test cluster trusts loopback, so logging in above
    // does not prove it; the catalogue does).
    let mut c = sqlx::PgConnection::connect(&cluster).await.unwrap();
    let con_password: bool = sqlx::query_scalar(
        "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'rivesto_cli_prova'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(con_password);
    c.close().await.unwrap();
    elimina_database(&cluster, &nome).await;
}

//! scripts/pg-backup-restore on a PostgreSQL database with real activity: the dump restores
//! into a new database whose audit chain `rivesto audit verify` accepts; run again it only
//! verifies; and a restored copy altered afterwards fails the verification.

use crate::anpr_check::{Figlio, attendi, porta_libera};
use crate::migrate::{cluster_postgres, con_utente, database_nuovo, elimina_database};
use crate::worker::{bootstrap, ok};
use crate::{rivesto, testo};
use sqlx::{Connection as _, Executor as _};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use store::richieste::stato;

fn script(d: &Path, args: &[&str]) -> Output {
    let percorso = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-backup-restore");
    std::process::Command::new("bash")
        .arg(percorso)
        .args(args)
        .current_dir(d)
        .env("RIVESTO_BIN", env!("CARGO_BIN_EXE_rivesto"))
        .env_remove("RIVESTO_DATABASE_URL")
        .output()
        .unwrap()
}

/// A request processed by a worker process: CHIAMATE_ANPR, state changes and a file in the
/// archive.
async fn attivita(d: &Path, proprietario: &str, runtime: &str) {
    let indirizzo = porta_libera().to_string();
    ok(
        d,
        &["anpr-sim", "init", "--out", "sim", "--listen", &indirizzo],
    );
    let _sim = Figlio::new(
        rivesto(d)
            .args([
                "anpr-sim",
                "--clients",
                "sim/sim-clients.toml",
                "--listen",
                &indirizzo,
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    attendi(indirizzo.parse().unwrap());
    ok(d, &["migrate", "--database-url", proprietario]);
    ok(d, &["admin", "gen-master-key"]);
    let (conv, utente) = bootstrap(d, runtime);
    let s = store::Store::connetti(runtime).await.unwrap();
    let id = crate::operazioni::invia(&s, conv, utente, 4).await;
    let w = Figlio::new(
        rivesto(d)
            .env("RIVESTO_DATABASE_URL", runtime)
            .arg("worker")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let inizio = Instant::now();
    while s.richiesta(id).await.unwrap().stato != stato::COMPLETATA {
        assert!(
            inizio.elapsed() < Duration::from_secs(60),
            "richiesta non completata"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crate::operazioni::termina(&w);
    let o = tokio::task::spawn_blocking(move || w.uscita())
        .await
        .unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    s.chiudi().await;
}

async fn voci(url: &str) -> usize {
    let s = store::Store::connetti(url).await.unwrap();
    let n = s.voci_audit(0, 100_000).await.unwrap().len();
    s.chiudi().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_ripristinato_in_un_nuovo_database_e_verificato() {
    let Some(cluster) = cluster_postgres() else {
        return;
    };
    let (nome, proprietario) = database_nuovo(&cluster, "rivesto_cli_copia").await;
    let copia = format!("{nome}_ripristino");
    elimina_database(&cluster, &copia).await;
    let runtime = con_utente(&cluster, "rivesto_app", &nome);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    attivita(d, &proprietario, &runtime).await;
    let originali = voci(&proprietario).await;
    assert!(originali >= 5, "{originali}");

    let dump = d.join("rivesto.dump");
    let o = script(
        d,
        &[
            "--from",
            &proprietario,
            "--to",
            &copia,
            "--dump",
            dump.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    assert!(dump.is_file());
    let url_copia = url::Url::parse(&proprietario)
        .unwrap()
        .join(&copia)
        .unwrap()
        .to_string();
    assert_eq!(voci(&url_copia).await, originali);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("catena di audit intatta"), "{}", testo(&o));

    // Again: nothing restored twice, only verified.
    let o = script(d, &["--from", &proprietario, "--to", &copia]);
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("la verifico soltanto"),
        "{}",
        testo(&o)
    );
    assert_eq!(voci(&url_copia).await, originali);

    // The verification is real: an entry changed in the copy (as a superuser) is caught.
    let mut c = sqlx::PgConnection::connect(&url_copia).await.unwrap();
    c.execute(
        "UPDATE audit_entries SET dettagli = '{}' WHERE id = (SELECT min(id) FROM audit_entries)",
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    let o = script(d, &["--from", &proprietario, "--to", &copia]);
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));

    // --replace restores afresh from the intact source.
    let o = script(d, &["--from", &proprietario, "--to", &copia, "--replace"]);
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));

    // Bad arguments: exit 2, nothing touched.
    let o = script(d, &["--from", &proprietario, "--to", "Nome; DROP"]);
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let o = script(d, &["--from", &proprietario, "--to", &nome]);
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));

    elimina_database(&cluster, &copia).await;
    elimina_database(&cluster, &nome).await;
}

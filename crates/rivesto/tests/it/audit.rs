//! `rivesto audit verify | checkpoint | purge` on a SQLite database, tampered with directly
//! through SQL as an intruder with the file would.

use crate::{rivesto, testo};
use sqlx::{Connection as _, Executor as _};
use std::path::Path;
use std::process::Output;

fn esegui(dir: &Path, args: &[&str]) -> Output {
    rivesto(dir).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const DB: &str = "rivesto-data/rivesto.db";

/// A migrated database with a master key and `enti` audited creations (one entry each).
fn installazione(dir: &Path, enti: usize) {
    for args in [&["migrate"][..], &["admin", "gen-master-key"]] {
        let o = esegui(dir, args);
        assert!(o.status.success(), "{}", testo(&o));
    }
    for n in 0..enti {
        let ipa = format!("ente_{n}");
        let o = esegui(
            dir,
            &["admin", "ente", "add", "--nome", "Ente", "--ipa", &ipa],
        );
        assert!(o.status.success(), "{}", testo(&o));
    }
}

async fn sql(dir: &Path, sql: &str) {
    let url = format!("sqlite://{}", dir.join(DB).display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    c.execute(sqlx::AssertSqlSafe(sql.to_string()))
        .await
        .unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
async fn verify_senza_master_key_integra_poi_manomessa() {
    let dir = tempfile::tempdir().unwrap();
    installazione(dir.path(), 3);
    // verify needs only the database.
    std::fs::remove_file(dir.path().join("rivesto-data/master.key")).unwrap();
    let o = esegui(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let out = stdout(&o);
    assert!(out.contains("Voci verificate: 3 (dalla 1 alla 3)"), "{out}");
    assert!(out.ends_with("Esito: catena integra\n"), "{out}");

    sql(
        dir.path(),
        "UPDATE audit_entries SET dettagli = '{\"nome\":\"Altro\"}' WHERE id = 2",
    )
    .await;
    let o = esegui(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Esito: CATENA ALTERATA, 1 anomalia\n"),
        "{out}"
    );
    assert!(
        out.contains("  - voce 2: il contenuto non corrisponde al suo hash"),
        "{out}"
    );

    sql(dir.path(), "DELETE FROM audit_entries WHERE id = 2").await;
    let o = esegui(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    assert!(
        stdout(&o).contains("  - voci mancanti da 2 a 2 (1 voce cancellata)\n"),
        "{}",
        testo(&o)
    );
}

#[tokio::test]
async fn checkpoint_su_file_rivela_il_troncamento() {
    let dir = tempfile::tempdir().unwrap();
    installazione(dir.path(), 4);
    let o = esegui(dir.path(), &["audit", "checkpoint", "--out", "cp.json"]);
    assert!(o.status.success(), "{}", testo(&o));
    assert!(stdout(&o).starts_with("Checkpoint scritto in cp.json: voce 4 del "));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cp.json")).unwrap())
            .unwrap();
    assert_eq!(file["fino_a_id"], 4);
    assert_eq!(file["tipo"], "SU_RICHIESTA");
    assert_eq!(file["formato"], "rivesto-audit-checkpoint-v1");
    // A checkpoint file is never overwritten.
    let o = esegui(dir.path(), &["audit", "checkpoint", "--out", "cp.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let o = esegui(dir.path(), &["audit", "verify", "--checkpoint", "cp.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    assert!(
        stdout(&o).contains("fino alla voce 4): confermato\n"),
        "{}",
        testo(&o)
    );

    // The tail cut, and the stored checkpoints removed with it.
    sql(dir.path(), "DELETE FROM audit_entries WHERE id >= 3").await;
    sql(dir.path(), "DELETE FROM audit_checkpoints").await;
    let o = esegui(dir.path(), &["audit", "verify"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "senza il file non si vede: {}",
        testo(&o)
    );
    let o = esegui(dir.path(), &["audit", "verify", "--checkpoint", "cp.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    assert!(
        stdout(&o).contains(
            "  - coda della catena troncata: voci mancanti da 3 a 4 (2 voci cancellate; il \
             checkpoint del file cp.json certifica la catena fino alla voce 4)\n"
        ),
        "{}",
        testo(&o)
    );

    // A file that is not a checkpoint, or is missing: usage error.
    std::fs::write(dir.path().join("altro.json"), "{\"a\": 1}").unwrap();
    for file in ["altro.json", "manca.json"] {
        let o = esegui(dir.path(), &["audit", "verify", "--checkpoint", file]);
        assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    }
}

#[tokio::test]
async fn purge_rifiutata_entro_la_conservazione() {
    let dir = tempfile::tempdir().unwrap();
    installazione(dir.path(), 1);
    let un_anno_fa = (chrono::Utc::now() - chrono::Duration::days(365))
        .format("%Y-%m-%d")
        .to_string();
    let o = esegui(dir.path(), &["audit", "purge", "--before", &un_anno_fa]);
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("è entro il periodo di conservazione di 24 mesi"),
        "{err}"
    );
    // With 6 months of retention the date is allowed; every entry is newer, so nothing goes.
    let o = esegui(
        dir.path(),
        &[
            "audit",
            "purge",
            "--before",
            &un_anno_fa,
            "--retention-months",
            "6",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    assert!(
        stdout(&o).starts_with("Nessuna voce anteriore al "),
        "{}",
        testo(&o)
    );
    let o = esegui(dir.path(), &["audit", "purge", "--before", "01/01/2020"]);
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));
}

#[tokio::test]
async fn purge_di_voci_vecchie_lascia_una_catena_verificabile() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join(DB).display());
    // Ten entries, one a day from 01/01/2023 00:00 in Rome (2022-12-31T23:00Z).
    store::migra(&url, &store::OpzioniMigrazione::default())
        .await
        .unwrap();
    let s = store::Store::connetti(&url).await.unwrap();
    s.popola_audit_sintetico(10, 1_672_527_600_000, 86_400_000)
        .await
        .unwrap();
    s.chiudi().await;
    let o = esegui(dir.path(), &["admin", "gen-master-key"]);
    assert!(o.status.success(), "{}", testo(&o));
    // Before 05/01/2023: entries 1..=4.
    let o = esegui(dir.path(), &["audit", "purge", "--before", "2023-01-05"]);
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "Rimosse 4 voci di audit anteriori al 05/01/2023 (dalla 1 alla 4).\n\
             Checkpoint TAGLIO firmato alla voce 4 (hash "
        ),
        "{out}"
    );
    assert!(
        out.contains("La purga è registrata nella voce 11.\n"),
        "{out}"
    );
    let o = esegui(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Voci verificate: 7 (dalla 5 alla 11)\n"),
        "{out}"
    );
    assert!(
        out.contains("Taglio della purga: voci fino alla 4 rimosse, la catena riparte dalla 5\n"),
        "{out}"
    );
}

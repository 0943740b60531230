use crate::supporto::{Db, base};
use store::{EsitoVerifica, OpzioniMigrazione, Store};

crate::contratto!(
    migra_db_vuoto_ed_e_ripetibile,
    ruolo_runtime_con_nome_non_valido
);

async fn migra_db_vuoto_ed_e_ripetibile(db: &Db) {
    // An empty database, with nothing else: no master key, no configuration.
    let url = db.database_vuoto().await;
    let s = Store::connetti(&url).await.unwrap();
    assert!(!s.schema_aggiornato().await.unwrap());
    store::migra(&url, &OpzioniMigrazione::default())
        .await
        .unwrap();
    assert!(s.schema_aggiornato().await.unwrap());
    // A second run changes nothing and fails nothing.
    store::migra(&url, &OpzioniMigrazione::default())
        .await
        .unwrap();
    assert!(s.schema_aggiornato().await.unwrap());
    let b = base(&s).await;
    assert!(b.convenzione_id > 0);
    // Four creations, four audit entries, one valid chain.
    match s.verifica_catena().await.unwrap() {
        EsitoVerifica::Valida { voci, .. } => assert_eq!(voci, 4),
        altro => panic!("catena non valida: {altro:?}"),
    }
    s.chiudi().await;
}

async fn ruolo_runtime_con_nome_non_valido(db: &Db) {
    let opzioni = OpzioniMigrazione {
        ruolo_runtime: "app; DROP TABLE comuni".into(),
        password_runtime: None,
    };
    let esito = store::migra(&db.url, &opzioni).await;
    // SQLite has no roles and ignores the option; PostgreSQL refuses the name.
    assert_eq!(esito.is_err(), db.is_postgres(), "{esito:?}");
}

use crate::supporto::{Db, url_con_database};
use store::{Attore, Audit, EsitoVerifica};

crate::contratto!(
    catena_valida_e_manomissione_rilevata,
    appendi_concorrenti,
    ruolo_runtime_non_altera_audit
);

fn voce(n: usize) -> Audit {
    Audit::nuovo(&Attore::sistema(), format!("prova:{n}"), "PROVA")
        .con_dettagli(serde_json::json!({"n": n, "testo": "àèì \"virgolette\""}))
}

async fn catena_valida_e_manomissione_rilevata(db: &Db) {
    let s = &db.store;
    assert_eq!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida {
            voci: 0,
            ultimo_hash: store::audit::HASH_INIZIALE.into()
        }
    );
    for n in 1..=5 {
        assert_eq!(s.appendi_audit(&voce(n)).await.unwrap(), n as i64);
    }
    let voci = s.voci_audit(0, 10).await.unwrap();
    assert_eq!(voci[0].hash_precedente, store::audit::HASH_INIZIALE);
    assert_eq!(voci[1].hash_precedente, voci[0].hash);
    assert_eq!(voci[2].dettagli, r#"{"n":3,"testo":"àèì \"virgolette\""}"#);
    match s.verifica_catena().await.unwrap() {
        EsitoVerifica::Valida {
            voci: 5,
            ultimo_hash,
        } => assert_eq!(ultimo_hash, voci[4].hash),
        altro => panic!("{altro:?}"),
    }
    // Editing any stored column of entry 3 breaks the chain there.
    db.sql_proprietario("UPDATE audit_entries SET dettagli = '{\"n\":33}' WHERE id = 3")
        .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Rotta { id: 3, .. }
    ));
    db.sql_proprietario(&format!(
        "UPDATE audit_entries SET dettagli = '{}' WHERE id = 3",
        voci[2].dettagli.replace('\'', "''")
    ))
    .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { voci: 5, .. }
    ));
    db.sql_proprietario("UPDATE audit_entries SET comune = '015146' WHERE id = 4")
        .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Rotta { id: 4, .. }
    ));
    // A deleted entry is a gap.
    db.sql_proprietario("UPDATE audit_entries SET comune = NULL WHERE id = 4")
        .await;
    db.sql_proprietario("DELETE FROM audit_entries WHERE id = 2")
        .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Rotta { id: 3, .. }
    ));
}

async fn appendi_concorrenti(db: &Db) {
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for (p, s) in [
        db.store.clone(),
        altro.clone(),
        db.store.clone(),
        altro.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        compiti.push(tokio::spawn(async move {
            for n in 0..15 {
                s.appendi_audit(&voce(p * 100 + n)).await.unwrap();
            }
        }));
    }
    for c in compiti {
        c.await.unwrap();
    }
    assert!(matches!(
        db.store.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { voci: 60, .. }
    ));
    altro.chiudi().await;
}

/// PostgreSQL only (DESIGN §6): the runtime role may read and append the chain, never rewrite it.
async fn ruolo_runtime_non_altera_audit(db: &Db) {
    use sqlx::{Connection as _, Executor as _};
    if !db.is_postgres() {
        return;
    }
    db.store.appendi_audit(&voce(1)).await.unwrap();
    let mut u = url::Url::parse(&db.url).unwrap();
    u.set_username(store::RUOLO_RUNTIME_PREDEFINITO).unwrap();
    u.set_password(None).unwrap();
    let url_runtime = url_con_database(u.as_str(), u.path().trim_start_matches('/'));
    let runtime = store::Store::connetti(&url_runtime).await.unwrap();
    // What serve and worker do works as the runtime role, audit append included.
    runtime.appendi_audit(&voce(2)).await.unwrap();
    let b = crate::supporto::base(&runtime).await;
    assert!(
        runtime
            .riserva_chiamata(b.comune_id, "C030", 1_000, 5)
            .await
            .unwrap()
    );
    runtime.id_operazione_per("k", 1_000).await.unwrap();
    let k = store::ChiaveMaestra::da_byte(&[3u8; 32]).unwrap();
    runtime.chiave_hmac_identificativi(&k).await.unwrap();
    let mut c = sqlx::PgConnection::connect(&url_runtime).await.unwrap();
    for sql in [
        "UPDATE audit_entries SET azione = 'X' WHERE id = 1",
        "DELETE FROM audit_entries WHERE id = 1",
        "TRUNCATE audit_entries",
    ] {
        let errore = c.execute(sql).await.expect_err(sql);
        let codice = errore
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(codice.as_deref(), Some("42501"), "{sql}: {errore}");
    }
    assert!(matches!(
        db.store.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { voci: 6, .. }
    ));
    runtime.chiudi().await;
}

use crate::supporto::Db;
use store::ChiaveMaestra;

crate::contratto!(
    segreti_generati_una_volta_e_cifrati,
    segreto_ruotato_conserva_il_precedente
);

async fn segreti_generati_una_volta_e_cifrati(db: &Db) {
    let k = ChiaveMaestra::da_byte(&[9u8; 32]).unwrap();
    let altro = db.altro_store().await;
    let (a, b) = tokio::join!(
        db.store.chiave_hmac_identificativi(&k),
        altro.chiave_hmac_identificativi(&k)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.esponi().len(), 32);
    assert_eq!(a, b, "two processes end with the same key");
    assert_eq!(db.store.chiave_hmac_identificativi(&k).await.unwrap(), a);
    let ed = db.store.chiave_checkpoint_audit(&k).await.unwrap();
    assert!(aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(ed.esponi()).is_ok());
    assert_ne!(ed.esponi(), a.esponi());
    // Without the right master key nothing decrypts.
    let sbagliata = ChiaveMaestra::da_byte(&[8u8; 32]).unwrap();
    assert!(
        db.store
            .chiave_hmac_identificativi(&sbagliata)
            .await
            .is_err()
    );
    altro.chiudi().await;
}

async fn segreto_ruotato_conserva_il_precedente(db: &Db) {
    let k = ChiaveMaestra::da_byte(&[9u8; 32]).unwrap();
    let s = &db.store;
    let attore = store::Attore::sistema();
    let primo = s
        .segreto_o_genera("identita_prova", &k, || Ok(b"uno".to_vec()))
        .await
        .unwrap();
    assert_eq!(primo.esponi(), b"uno");
    s.ruota_segreto(
        "identita_prova",
        "identita_prova_ritirata_1",
        b"due",
        &k,
        &attore,
    )
    .await
    .unwrap();
    s.ruota_segreto(
        "identita_prova",
        "identita_prova_ritirata_2",
        b"tre",
        &k,
        &attore,
    )
    .await
    .unwrap();
    let attuale = s.segreto("identita_prova", &k).await.unwrap().unwrap();
    assert_eq!(attuale.esponi(), b"tre");
    let ritirati: Vec<(String, Vec<u8>)> = s
        .segreti_con_prefisso("identita_prova_ritirata_", &k)
        .await
        .unwrap()
        .into_iter()
        .map(|(n, v)| (n, v.esponi().to_vec()))
        .collect();
    assert_eq!(
        ritirati,
        vec![
            ("identita_prova_ritirata_1".to_string(), b"uno".to_vec()),
            ("identita_prova_ritirata_2".to_string(), b"due".to_vec()),
        ]
    );
    // A prefix is a prefix: the current secret is not among the retired ones.
    assert_eq!(
        s.segreti_con_prefisso("identita_prova", &k)
            .await
            .unwrap()
            .len(),
        3
    );
    let voci = s.voci_audit(0, 1000).await.unwrap();
    let rotazioni: Vec<_> = voci
        .iter()
        .filter(|v| v.azione == "SEGRETO_RUOTATO")
        .collect();
    assert_eq!(rotazioni.len(), 2);
    assert!(!rotazioni[0].dettagli.contains("uno") && !rotazioni[0].dettagli.contains("due"));
}

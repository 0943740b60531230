use crate::supporto::Db;
use store::ChiaveMaestra;

crate::contratto!(segreti_generati_una_volta_e_cifrati);

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

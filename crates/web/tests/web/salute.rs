//! `/healthz` and `/readyz` on the main listener, without a session.

use crate::aiuto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_e_readyz_senza_sessione() {
    let app = aiuto::avvia().await;
    let b = app.browser();
    let r = b.get("/healthz").await;
    assert_eq!(r.stato, 200);
    assert_eq!(r.corpo, "ok\n");
    assert!(r.intestazione("set-cookie").is_none(), "nessuna sessione");
    let r = b.get("/readyz").await;
    assert_eq!((r.stato, r.corpo.as_str()), (200, "pronto\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_503_con_una_migrazione_mancante() {
    let app = aiuto::avvia().await;
    // As if this binary were newer than the database: its last migration is not applied.
    let url = format!(
        "sqlite://{}",
        app.cartella.path().join("rivesto.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let tolte = sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(tolte, 1);
    pool.close().await;

    let r = app.browser().get("/readyz").await;
    assert_eq!(r.stato, 503);
    assert!(r.corpo.contains("rivesto migrate"), "{}", r.corpo);
    // Alive all the same.
    assert_eq!(app.browser().get("/healthz").await.stato, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_503_senza_database_healthz_resta_200() {
    let app = aiuto::avvia().await;
    app.store.chiudi().await;
    let r = app.browser().get("/readyz").await;
    assert_eq!(r.stato, 503);
    assert_eq!(r.corpo, "non pronto: database non raggiungibile\n");
    // /healthz does not touch the database.
    let r = app.browser().get("/healthz").await;
    assert_eq!((r.stato, r.corpo.as_str()), (200, "ok\n"));
}

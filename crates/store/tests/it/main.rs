//! The storage contract: every test is written once, as an async fn over a fresh database, and
//! runs on SQLite and on PostgreSQL (see `supporto` for how the PostgreSQL half is found).

mod supporto;

mod anagrafiche;
mod audit;
mod autenticazione;
mod concorrenza;
mod consultazioni;
mod elenchi;
mod gestione;
mod jobs;
mod migrazioni;
mod notifiche;
mod operativo;
mod registro;
mod richieste;
mod segreti;
mod sessioni;
mod statistiche;
mod token_api;

/// Instantiates each named contract test for both engines.
#[macro_export]
macro_rules! contratto {
    ($($nome:ident),* $(,)?) => { $(
        mod $nome {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::supporto::Db::sqlite().await;
                super::$nome(&db).await;
                db.fine().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = $crate::supporto::Db::postgres().await else { return };
                super::$nome(&db).await;
                db.fine().await;
            }
        }
    )* };
}

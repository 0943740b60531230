//! The same SQL body for both engines. Repository bodies are written once and expanded for
//! each pool, so the two engines cannot drift apart; the few statements that differ choose by
//! the `pg` flag the macro binds.

/// Runs `$body` in a write transaction and commits it. A `?` inside the body returns early and
/// drops the transaction, which rolls it back.
///
/// SQLite: `BEGIN IMMEDIATE` on the single write connection. The write lock is taken at the
/// start, so a transaction never fails half-way when it upgrades from reader to writer, and
/// other processes on the same file wait on `busy_timeout` instead of failing.
macro_rules! scrivi {
    ($store:expr, |$tx:ident, $pg:ident| $body:block) => {
        match &$store.motore {
            $crate::connessione::Motore::Sqlite(s) => {
                let mut $tx = s.scrittura.begin_with("BEGIN IMMEDIATE").await?;
                let $pg = false;
                let esito = $body;
                $tx.commit().await?;
                esito
            }
            $crate::connessione::Motore::Postgres(p) => {
                let mut $tx = p.begin().await?;
                let $pg = true;
                let esito = $body;
                $tx.commit().await?;
                esito
            }
        }
    };
    ($store:expr, |$tx:ident| $body:block) => {
        scrivi!($store, |$tx, _pg| $body)
    };
}

/// Runs `$body` with a pool for reading (`$ex` is `&SqlitePool` or `&PgPool`).
macro_rules! leggi {
    ($store:expr, |$ex:ident| $body:block) => {
        match &$store.motore {
            $crate::connessione::Motore::Sqlite(s) => {
                let $ex = &s.lettura;
                $body
            }
            $crate::connessione::Motore::Postgres(p) => {
                let $ex = p;
                $body
            }
        }
    };
}

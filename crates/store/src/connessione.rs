//! The one storage type over two concrete pools.

use crate::ErroreStore;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

/// SQLite waits this long for another writer (another process on the same file) before it
/// reports the database as busy.
const ATTESA_SQLITE: Duration = Duration::from_secs(30);

/// The page cache of the write connection, 8 MiB (`cache_size` in KiB when negative) instead
/// of SQLite's 2 MiB: a chunk's outcomes change a few thousand pages of `righe` and its
/// indexes in one transaction. The cache fills only as it is used, and only on the one write
/// connection: the readers keep SQLite's default. Uploads raise it for their own transaction
/// ([`CACHE_CARICAMENTO`]).
pub(crate) const CACHE_SCRITTURA: &str = "-8192";

/// The write connection's page cache while an upload stores its rows, 32 MiB. A write
/// transaction keeps the pages it changed in the cache until COMMIT; when the cache is full it
/// spills them to the WAL and reads them back at their next change. An upload of a million
/// rows changes `righe_identificativo_hmac` at random places: with 2 MiB nearly every row
/// spilled and reloaded a page. With 32 MiB a 1,000,000-row upload peaks at about 135 MiB of
/// process memory and takes about 14 s on the bench machine, since the hashes were cut to
/// 32 hex digits (migration 0012; 19 s with 64 digits; 64 MiB of cache gave 15–16 s with 64
/// digits, at 169 MiB). The upload sets [`CACHE_SCRITTURA`] back before it commits, so the
/// engine's writes that follow do not keep 32 MiB of pages.
pub(crate) const CACHE_CARICAMENTO: &str = "-32768";

/// Storage on SQLite or PostgreSQL. Cloning is cheap: the pools are shared.
///
/// The times it stamps (creation, submission, updates, job due times, leases) come from its
/// clock: the system clock, or the one a test or the worker injects with [`Store::con_orologio`],
/// so that a process and its store never disagree about "now". Audit entries are the exception:
/// they record the real time at which they were appended.
///
/// The HMAC key for identifiers ([`Store::con_chiave_hmac`]) lets the store keep, for every row,
/// the keyed hashes that "chi ha consultato" searches (see [`crate::consultazioni`]). The web
/// app and the worker always set it; a store without it (unit tests, console tools) writes rows
/// with no hash, which the worker fills in when it records the outcome and the retention purge
/// fills in at the latest.
#[derive(Clone)]
pub struct Store {
    pub(crate) motore: Motore,
    orologio: Arc<dyn Fn() -> i64 + Send + Sync>,
    chiave_hmac: Option<Arc<crate::Segreto>>,
}

#[derive(Clone, Debug)]
pub(crate) enum Motore {
    Sqlite(PoolSqlite),
    Postgres(PgPool),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("motore", &self.motore)
            .field("chiave_hmac", &self.chiave_hmac.is_some())
            .finish_non_exhaustive()
    }
}

/// SQLite allows one writer at a time. A pool of ONE write connection queues this process's
/// writers in memory, where waiting is cheap and fair, instead of letting them collide on the
/// file lock; `BEGIN IMMEDIATE` (see `scrivi!`) then orders this process against others on the
/// same file. Readers use their own pool and, under WAL, never block the writer.
#[derive(Clone, Debug)]
pub struct PoolSqlite {
    pub(crate) scrittura: SqlitePool,
    pub(crate) lettura: SqlitePool,
}

impl Store {
    /// Opens `sqlite://path` (creating the file and its folder if missing) or `postgres://…`.
    /// It does not migrate: see [`crate::migra`].
    pub async fn connetti(url: &str) -> Result<Store, ErroreStore> {
        if url.starts_with("sqlite:") {
            Ok(Store::nuovo(Motore::Sqlite(connetti_sqlite(url).await?)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opzioni = PgConnectOptions::from_str(url)
                .map_err(|_| ErroreStore::UrlNonValido(senza_password(url)))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opzioni)
                .await?;
            Ok(Store::nuovo(Motore::Postgres(pool)))
        } else {
            Err(ErroreStore::UrlNonValido(senza_password(url)))
        }
    }

    fn nuovo(motore: Motore) -> Store {
        Store {
            motore,
            orologio: Arc::new(crate::tempo::adesso_ms),
            chiave_hmac: None,
        }
    }

    /// The same store with the HMAC key for identifiers
    /// ([`Store::chiave_hmac_identificativi`]): rows get their keyed hashes when they are
    /// written.
    pub fn con_chiave_hmac(mut self, chiave: crate::Segreto) -> Store {
        self.chiave_hmac = Some(Arc::new(chiave));
        self
    }

    /// The HMAC key for identifiers, when this store was given one.
    pub fn chiave_hmac(&self) -> Option<&crate::Segreto> {
        self.chiave_hmac.as_deref()
    }

    /// The same store with another clock (milliseconds since the Unix epoch).
    pub fn con_orologio(mut self, orologio: impl Fn() -> i64 + Send + Sync + 'static) -> Store {
        self.orologio = Arc::new(orologio);
        self
    }

    /// "Now" by this store's clock.
    pub fn adesso_ms(&self) -> i64 {
        (self.orologio)()
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.motore, Motore::Postgres(_))
    }

    /// Closes the pools, waiting for connections in use.
    pub async fn chiudi(&self) {
        match &self.motore {
            Motore::Sqlite(s) => {
                s.scrittura.close().await;
                s.lettura.close().await;
            }
            Motore::Postgres(p) => p.close().await,
        }
    }
}

pub(crate) fn opzioni_sqlite(url: &str) -> Result<SqliteConnectOptions, ErroreStore> {
    let opzioni = SqliteConnectOptions::from_str(url)
        .map_err(|_| ErroreStore::UrlNonValido(url.to_string()))?;
    crea_cartella(opzioni.get_filename())?;
    Ok(opzioni
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(ATTESA_SQLITE)
        .foreign_keys(true))
}

async fn connetti_sqlite(url: &str) -> Result<PoolSqlite, ErroreStore> {
    let opzioni = opzioni_sqlite(url)?;
    let scrittura = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ATTESA_SQLITE)
        .connect_with(opzioni.clone().pragma("cache_size", CACHE_SCRITTURA))
        .await?;
    let lettura = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opzioni)
        .await?;
    Ok(PoolSqlite { scrittura, lettura })
}

fn crea_cartella(file: &Path) -> Result<(), ErroreStore> {
    match file.parent() {
        Some(cartella) if !cartella.as_os_str().is_empty() => std::fs::create_dir_all(cartella)
            .map_err(|e| ErroreStore::Io {
                percorso: cartella.display().to_string(),
                motivo: e.to_string(),
            }),
        _ => Ok(()),
    }
}

/// The URL as it may appear in an error: without its password.
pub(crate) fn senza_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(indirizzo illeggibile)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn url_non_valido_senza_password() {
        let e = Store::connetti("mysql://utente:segreta@db.example/rivesto")
            .await
            .unwrap_err();
        let testo = e.to_string();
        assert!(
            testo.contains("indirizzo del database non valido"),
            "{testo}"
        );
        assert!(!testo.contains("segreta"), "{testo}");
        assert!(testo.contains("***"), "{testo}");
    }
}

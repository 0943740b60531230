//! Web sessions (the web crate's session store). Rows are keyed by the SHA-256 of the session
//! id, so a copy of the table gives no cookie that works. Sessions are not audited: the web
//! app audits sign-ins and sign-outs itself with `appendi_audit`.

use crate::{ErroreStore, Store};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

fn chiave(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

impl Store {
    /// Creates or replaces the session `id`.
    pub async fn salva_sessione(
        &self,
        id: &str,
        dati: &str,
        scadenza_ms: i64,
    ) -> Result<(), ErroreStore> {
        scrivi!(self, |tx| {
            sqlx::query(
                "INSERT INTO sessioni (id_hash, dati, scadenza_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (id_hash) DO UPDATE SET dati = excluded.dati, scadenza_ms = excluded.scadenza_ms",
            )
            .bind(chiave(id))
            .bind(dati)
            .bind(scadenza_ms)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// The session's data, if it exists and has not expired at `ora_ms`.
    pub async fn carica_sessione(
        &self,
        id: &str,
        ora_ms: i64,
    ) -> Result<Option<String>, ErroreStore> {
        Ok(leggi!(self, |ex| {
            sqlx::query("SELECT dati FROM sessioni WHERE id_hash = $1 AND scadenza_ms > $2")
                .bind(chiave(id))
                .bind(ora_ms)
                .fetch_optional(ex)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?
        }))
    }

    pub async fn elimina_sessione(&self, id: &str) -> Result<(), ErroreStore> {
        scrivi!(self, |tx| {
            sqlx::query("DELETE FROM sessioni WHERE id_hash = $1")
                .bind(chiave(id))
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Deletes the sessions expired at `ora_ms`; returns how many.
    pub async fn elimina_sessioni_scadute(&self, ora_ms: i64) -> Result<u64, ErroreStore> {
        Ok(scrivi!(self, |tx| {
            sqlx::query("DELETE FROM sessioni WHERE scadenza_ms <= $1")
                .bind(ora_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        }))
    }
}

//! Quota counters per (Comune, service, Europe/Rome day) (DESIGN §4). Every call that reaches
//! the gateway is counted before it is sent, and the share is never exceeded.

use crate::{ErroreStore, Store, giorno_roma};
use sqlx::Row as _;

impl Store {
    /// Counts one call of `servizio` for the Comune on the Rome day of `ora_ms` if fewer than
    /// `quota` were counted; `false` when the share is used up. One statement, atomic on both
    /// engines: the conditional upsert locks the counter row.
    pub async fn riserva_chiamata(
        &self,
        comune_id: i64,
        servizio: &str,
        ora_ms: i64,
        quota: i64,
    ) -> Result<bool, ErroreStore> {
        Ok(self
            .riserva_chiamata_contata(comune_id, servizio, ora_ms, quota)
            .await?
            .is_some())
    }

    /// [`riserva_chiamata`](Self::riserva_chiamata) that also says how many calls the day now
    /// counts (this one included), from the same statement: `None` when the share is used up.
    pub async fn riserva_chiamata_contata(
        &self,
        comune_id: i64,
        servizio: &str,
        ora_ms: i64,
        quota: i64,
    ) -> Result<Option<i64>, ErroreStore> {
        if quota <= 0 {
            return Ok(None);
        }
        let giorno = giorno_roma(ora_ms);
        let contata = scrivi!(self, |tx| {
            match sqlx::query(
                "INSERT INTO quote_contatori (comune_id, servizio, giorno, usate) \
                 VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (comune_id, servizio, giorno) \
                 DO UPDATE SET usate = quote_contatori.usate + 1 \
                 WHERE quote_contatori.usate < $4 \
                 RETURNING usate",
            )
            .bind(comune_id)
            .bind(servizio)
            .bind(&giorno)
            .bind(quota)
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(r) => Some(r.try_get::<i64, _>(0)?),
                None => None,
            }
        });
        Ok(contata)
    }

    /// Calls counted for the Comune and service on a Rome day (`AAAA-MM-GG`).
    pub async fn chiamate_contate(
        &self,
        comune_id: i64,
        servizio: &str,
        giorno: &str,
    ) -> Result<i64, ErroreStore> {
        Ok(leggi!(self, |ex| {
            sqlx::query(
                "SELECT usate FROM quote_contatori \
                 WHERE comune_id = $1 AND servizio = $2 AND giorno = $3",
            )
            .bind(comune_id)
            .bind(servizio)
            .bind(giorno)
            .fetch_optional(ex)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(0)
        }))
    }
}

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

    /// Counts a block of calls at once, for a process that hands the slots out itself (the
    /// engine: one write per block instead of one per call). It takes at most `massimo` slots,
    /// and at most a quarter of what is left of the share (at least one), so that near the end
    /// of the share the other processes are not starved by slots held here. Returns the slots
    /// taken and the day's count with them, or `None` when the share is used up. Slots not
    /// used go back with [`restituisci_chiamate`](Self::restituisci_chiamate); a process that
    /// dies holding some leaves them counted, which errs on the safe side.
    pub async fn riserva_chiamate(
        &self,
        comune_id: i64,
        servizio: &str,
        ora_ms: i64,
        quota: i64,
        massimo: i64,
    ) -> Result<Option<(i64, i64)>, ErroreStore> {
        if quota <= 0 || massimo <= 0 {
            return Ok(None);
        }
        let giorno = giorno_roma(ora_ms);
        Ok(scrivi!(self, |tx, pg| {
            sqlx::query(
                "INSERT INTO quote_contatori (comune_id, servizio, giorno, usate) \
                 VALUES ($1, $2, $3, 0) ON CONFLICT (comune_id, servizio, giorno) DO NOTHING",
            )
            .bind(comune_id)
            .bind(servizio)
            .bind(&giorno)
            .execute(&mut *tx)
            .await?;
            let sql = if pg {
                "SELECT usate FROM quote_contatori \
                 WHERE comune_id = $1 AND servizio = $2 AND giorno = $3 FOR UPDATE"
            } else {
                "SELECT usate FROM quote_contatori \
                 WHERE comune_id = $1 AND servizio = $2 AND giorno = $3"
            };
            let usate: i64 = sqlx::query(sql)
                .bind(comune_id)
                .bind(servizio)
                .bind(&giorno)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            let resto = quota - usate;
            if resto <= 0 {
                None
            } else {
                let presi = massimo.min((resto / 4).max(1));
                sqlx::query(
                    "UPDATE quote_contatori SET usate = usate + $4 \
                     WHERE comune_id = $1 AND servizio = $2 AND giorno = $3",
                )
                .bind(comune_id)
                .bind(servizio)
                .bind(&giorno)
                .bind(presi)
                .execute(&mut *tx)
                .await?;
                Some((presi, usate + presi))
            }
        }))
    }

    /// Gives back `n` slots taken with [`riserva_chiamate`](Self::riserva_chiamate) and not
    /// used, on the Rome day (`AAAA-MM-GG`) they were taken. The count never goes below zero.
    pub async fn restituisci_chiamate(
        &self,
        comune_id: i64,
        servizio: &str,
        giorno: &str,
        n: i64,
    ) -> Result<(), ErroreStore> {
        if n <= 0 {
            return Ok(());
        }
        scrivi!(self, |tx| {
            sqlx::query(
                "UPDATE quote_contatori SET usate = CASE WHEN usate > $4 THEN usate - $4 ELSE 0 END \
                 WHERE comune_id = $1 AND servizio = $2 AND giorno = $3",
            )
            .bind(comune_id)
            .bind(servizio)
            .bind(giorno)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
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

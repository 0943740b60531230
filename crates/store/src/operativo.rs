//! What an operator watches: readiness, and the figures that the metrics listener reads from
//! the database at every scrape (requests by state, the queue, quota use, convention ends).
//! Every process that shares the database reads the same figures.

use crate::{ErroreStore, Store};
use sqlx::Row as _;

/// Why the process is not ready to serve.
#[derive(Debug, thiserror::Error)]
pub enum NonPronto {
    #[error("migrazioni del database non aggiornate: eseguire `rivesto migrate`")]
    Migrazioni,
    #[error("database non raggiungibile")]
    Database(#[source] ErroreStore),
}

/// A convention with an end date, for the expiry metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FineConvenzione {
    pub convenzione_id: i64,
    pub comune_id: i64,
    pub nome: String,
    pub valida_al_ms: i64,
}

impl Store {
    /// Ready: the database answers and every migration embedded in this binary is applied
    /// (newer migrations from a newer binary are fine: that is a rolling upgrade).
    pub async fn pronto(&self) -> Result<(), NonPronto> {
        match self.schema_aggiornato().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(NonPronto::Migrazioni),
            Err(e) => Err(NonPronto::Database(e)),
        }
    }

    /// How many requests are in each state (states with none are absent).
    pub async fn richieste_per_stato(&self) -> Result<Vec<(String, i64)>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query("SELECT stato, COUNT(*) FROM richieste GROUP BY stato")
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push((r.try_get(0)?, r.try_get(1)?));
            }
            Ok(v)
        })
    }

    /// Rows a worker could claim at `ora_ms`: the queue in front of ANPR (the same condition as
    /// the claim, without the lease).
    pub async fn righe_in_attesa(&self, ora_ms: i64) -> Result<i64, ErroreStore> {
        Ok(leggi!(self, |ex| {
            sqlx::query(
                "SELECT COUNT(*) FROM righe g JOIN richieste r ON r.id = g.richiesta_id \
                 WHERE r.stato IN ('CONVALIDATA', 'IN_ELABORAZIONE') \
                   AND (r.sospesa_fino_a_ms IS NULL OR r.sospesa_fino_a_ms <= $1) \
                   AND g.duplicato_di IS NULL \
                   AND (g.stato = 'DA_ELABORARE' \
                        OR (g.stato = 'IN_CORSO' AND g.lease_scadenza_ms < $1))",
            )
            .bind(ora_ms)
            .fetch_one(ex)
            .await?
            .try_get::<i64, _>(0)?
        }))
    }

    /// Jobs due at `ora_ms` and not taken (or taken under an expired lease).
    pub async fn job_scaduti(&self, ora_ms: i64) -> Result<i64, ErroreStore> {
        Ok(leggi!(self, |ex| {
            sqlx::query(
                "SELECT COUNT(*) FROM jobs WHERE eseguire_dopo_ms <= $1 \
                 AND (stato = 'IN_CODA' OR (stato = 'IN_CORSO' AND lease_scadenza_ms < $1))",
            )
            .bind(ora_ms)
            .fetch_one(ex)
            .await?
            .try_get::<i64, _>(0)?
        }))
    }

    /// `(comune_id, service, calls)` counted on a Rome day (`AAAA-MM-GG`), for every Comune, or
    /// for one.
    pub async fn chiamate_del_giorno(
        &self,
        giorno: &str,
        comune_id: Option<i64>,
    ) -> Result<Vec<(i64, String, i64)>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT comune_id, servizio, usate FROM quote_contatori \
                 WHERE giorno = $1 AND ($2 IS NULL OR comune_id = $2) \
                 ORDER BY comune_id, servizio",
            )
            .bind(giorno)
            .bind(comune_id)
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
            }
            Ok(v)
        })
    }

    /// Conventions (of every Comune, or of one) whose end (`valida_al_ms`) is at or after
    /// `dal_ms`, soonest first.
    pub async fn fini_convenzioni(
        &self,
        dal_ms: i64,
        comune_id: Option<i64>,
    ) -> Result<Vec<FineConvenzione>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT id, comune_id, nome, valida_al_ms FROM convenzioni \
                 WHERE valida_al_ms IS NOT NULL AND valida_al_ms >= $1 \
                   AND ($2 IS NULL OR comune_id = $2) \
                 ORDER BY valida_al_ms, id",
            )
            .bind(dal_ms)
            .bind(comune_id)
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(FineConvenzione {
                    convenzione_id: r.try_get(0)?,
                    comune_id: r.try_get(1)?,
                    nome: r.try_get(2)?,
                    valida_al_ms: r.try_get(3)?,
                });
            }
            Ok(v)
        })
    }
}

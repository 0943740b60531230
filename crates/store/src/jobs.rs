//! Jobs with leases and heartbeats: timers (silent consent, quota resume, purge) and batch work.
//! A job with a `chiave` exists once: enqueuing the same key again is a no-op, so a timer
//! scheduled by several processes runs once. A lease that expires (its holder died) makes the
//! job claimable again.

use crate::{ErroreStore, Store};
use sqlx::Row as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovoJob {
    pub tipo: String,
    /// Unique key, e.g. `silenzio-assenso:42`; `None` for jobs that may repeat.
    pub chiave: Option<String>,
    pub payload: serde_json::Value,
    pub eseguire_dopo_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub tipo: String,
    pub chiave: Option<String>,
    pub payload: serde_json::Value,
    pub stato: String,
    pub eseguire_dopo_ms: i64,
    pub lease_proprietario: Option<String>,
    pub lease_scadenza_ms: Option<i64>,
    pub tentativi: i64,
    pub errore: Option<String>,
}

const COLONNE: &str = "id, tipo, chiave, payload, stato, eseguire_dopo_ms, lease_proprietario, \
                       lease_scadenza_ms, tentativi, errore";

macro_rules! job_da_riga {
    ($r:expr) => {{
        let payload: String = $r.try_get("payload")?;
        Job {
            id: $r.try_get("id")?,
            tipo: $r.try_get("tipo")?,
            chiave: $r.try_get("chiave")?,
            payload: serde_json::from_str(&payload).map_err(|e| ErroreStore::json("payload", e))?,
            stato: $r.try_get("stato")?,
            eseguire_dopo_ms: $r.try_get("eseguire_dopo_ms")?,
            lease_proprietario: $r.try_get("lease_proprietario")?,
            lease_scadenza_ms: $r.try_get("lease_scadenza_ms")?,
            tentativi: $r.try_get("tentativi")?,
            errore: $r.try_get("errore")?,
        }
    }};
}

impl Store {
    /// Enqueues a job; `None` when a job with the same key already exists.
    pub async fn accoda_job(&self, job: &NuovoJob) -> Result<Option<i64>, ErroreStore> {
        Ok(scrivi!(self, |tx| {
            sqlx::query(
                "INSERT INTO jobs (tipo, chiave, payload, stato, eseguire_dopo_ms, creato_ms) \
                 VALUES ($1, $2, $3, 'IN_CODA', $4, $5) ON CONFLICT (chiave) DO NOTHING RETURNING id",
            )
            .bind(&job.tipo)
            .bind(&job.chiave)
            .bind(job.payload.to_string())
            .bind(job.eseguire_dopo_ms)
            .bind(self.adesso_ms())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
        }))
    }

    /// Claims the next due job of one of `tipi` (queued and due, or running with an expired
    /// lease) for `proprietario` until `ora_ms + lease_ms`.
    pub async fn reclama_job(
        &self,
        tipi: &[&str],
        proprietario: &str,
        ora_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>, ErroreStore> {
        let tipi: Vec<String> = tipi.iter().map(|t| t.to_string()).collect();
        let tipi_json = serde_json::to_string(&tipi).map_err(|e| ErroreStore::json("tipi", e))?;
        Ok(scrivi!(self, |tx, pg| {
            // The list of types goes in as one JSON text, read by each engine's JSON functions,
            // so the statement has a fixed number of parameters.
            let sql = if pg {
                "SELECT id FROM jobs WHERE tipo IN (SELECT json_array_elements_text($1::json)) \
                 AND ((stato = 'IN_CODA' AND eseguire_dopo_ms <= $2) \
                   OR (stato = 'IN_CORSO' AND lease_scadenza_ms < $2)) \
                 ORDER BY eseguire_dopo_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            } else {
                "SELECT id FROM jobs WHERE tipo IN (SELECT value FROM json_each($1)) \
                 AND ((stato = 'IN_CODA' AND eseguire_dopo_ms <= $2) \
                   OR (stato = 'IN_CORSO' AND lease_scadenza_ms < $2)) \
                 ORDER BY eseguire_dopo_ms, id LIMIT 1"
            };
            let id: Option<i64> = sqlx::query(sql)
                .bind(&tipi_json)
                .bind(ora_ms)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            match id {
                None => None,
                Some(id) => {
                    let sql = format!(
                        "UPDATE jobs SET stato = 'IN_CORSO', lease_proprietario = $1, \
                         lease_scadenza_ms = $2, tentativi = tentativi + 1 WHERE id = $3 \
                         RETURNING {COLONNE}"
                    );
                    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(proprietario)
                        .bind(ora_ms + lease_ms)
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                    Some(job_da_riga!(r))
                }
            }
        }))
    }

    /// Extends the lease; `false` when it is no longer ours (it expired and was reclaimed).
    pub async fn rinnova_job(
        &self,
        id: i64,
        proprietario: &str,
        scadenza_ms: i64,
    ) -> Result<bool, ErroreStore> {
        Ok(scrivi!(self, |tx| {
            sqlx::query(
                "UPDATE jobs SET lease_scadenza_ms = $1 \
                 WHERE id = $2 AND stato = 'IN_CORSO' AND lease_proprietario = $3",
            )
            .bind(scadenza_ms)
            .bind(id)
            .bind(proprietario)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Ends a job we hold: done (`errore` None), failed for good, or back in the queue at
    /// `riprova_dopo_ms`. `false` when the lease is no longer ours.
    pub async fn concludi_job(
        &self,
        id: i64,
        proprietario: &str,
        errore: Option<&str>,
        riprova_dopo_ms: Option<i64>,
    ) -> Result<bool, ErroreStore> {
        let stato = match (errore, riprova_dopo_ms) {
            (_, Some(_)) => "IN_CODA",
            (None, None) => "FATTO",
            (Some(_), None) => "FALLITO",
        };
        Ok(scrivi!(self, |tx| {
            sqlx::query(
                "UPDATE jobs SET stato = $1, errore = $2, \
                 eseguire_dopo_ms = COALESCE($3, eseguire_dopo_ms), \
                 lease_proprietario = NULL, lease_scadenza_ms = NULL \
                 WHERE id = $4 AND stato = 'IN_CORSO' AND lease_proprietario = $5",
            )
            .bind(stato)
            .bind(errore)
            .bind(riprova_dopo_ms)
            .bind(id)
            .bind(proprietario)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        }))
    }

    pub async fn job(&self, id: i64) -> Result<Job, ErroreStore> {
        let sql = format!("SELECT {COLONNE} FROM jobs WHERE id = $1");
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("job {id}")))?;
            Ok(job_da_riga!(r))
        })
    }
}

//! Operation ids (`idOperazioneClient`, `idOperazioneComune`; DESIGN §4): numeric, at most 30
//! digits, from the clock, never below the persisted high-water mark, unique across processes,
//! and stored for their call key before the call is sent, so a redone call reuses its id.
//!
//! These methods mirror `anpr::archivio::ArchivioIdOperazione` (`id_per`, `nuovo_id`,
//! `completa`); the worker adapts them. The high-water mark is one row locked by the write
//! transaction (SQLite) or `FOR UPDATE` (PostgreSQL), so two processes never draw the same id.

use crate::{ErroreStore, Store};
use sqlx::Row as _;

/// Ids are `epoch_ms × 1000 + n`, as in `anpr::archivio`: a thousand ids per millisecond
/// before they run ahead of the clock.
pub const MOLTIPLICATORE: u128 = 1000;
const MASSIMO: u128 = 10u128.pow(30) - 1;

fn prossimo(ora_ms: i64, ultimo: u128) -> Result<u128, ErroreStore> {
    let dal_clock = (ora_ms.max(0) as u128) * MOLTIPLICATORE;
    let id = dal_clock.max(ultimo + 1);
    if id > MASSIMO {
        return Err(ErroreStore::IdEsauriti);
    }
    Ok(id)
}

fn numero(testo: &str) -> Result<u128, ErroreStore> {
    testo.parse().map_err(|_| ErroreStore::DatoNonValido {
        campo: "id_operazione",
        motivo: format!("non numerico: {testo}"),
    })
}

impl Store {
    /// The id stored for `chiave`, or a fresh one (above the high-water mark and `ora_ms`),
    /// persisted with the mark before it is returned.
    pub async fn id_operazione_per(&self, chiave: &str, ora_ms: i64) -> Result<u128, ErroreStore> {
        self.assegna_id(chiave, ora_ms, true).await
    }

    /// A fresh id that replaces the stored one for `chiave` (ANPR refused a low id it never
    /// answered).
    pub async fn nuovo_id_operazione(
        &self,
        chiave: &str,
        ora_ms: i64,
    ) -> Result<u128, ErroreStore> {
        self.assegna_id(chiave, ora_ms, false).await
    }

    /// The call got its final answer: its key is forgotten. The high-water mark stays.
    pub async fn completa_id_operazione(&self, chiave: &str) -> Result<(), ErroreStore> {
        scrivi!(self, |tx| {
            sqlx::query("DELETE FROM id_operazione_chiamate WHERE chiave = $1")
                .bind(chiave)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// [`completa_id_operazione`](Self::completa_id_operazione) for many calls in one
    /// transaction: a chunk's calls are forgotten together once its outcomes are stored.
    pub async fn completa_id_operazioni(&self, chiavi: &[String]) -> Result<(), ErroreStore> {
        if chiavi.is_empty() {
            return Ok(());
        }
        scrivi!(self, |tx| {
            for blocco in chiavi.chunks(500) {
                let mut q =
                    sqlx::QueryBuilder::new("DELETE FROM id_operazione_chiamate WHERE chiave IN (");
                let mut elenco = q.separated(", ");
                for k in blocco {
                    elenco.push_bind(k);
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
        });
        Ok(())
    }

    /// Ids for many calls in one transaction, before they are made (the engine does this for
    /// a chunk's rows): a key that already has an id keeps it, the others get fresh ones above
    /// the high-water mark, which moves once. Returns every key with its id and whether the id
    /// is new, in input order. Keys repeated in `chiavi` get one id.
    pub async fn prealloca_id_operazioni(
        &self,
        chiavi: &[String],
        ora_ms: i64,
    ) -> Result<Vec<(String, u128, bool)>, ErroreStore> {
        if chiavi.is_empty() {
            return Ok(Vec::new());
        }
        let creato = self.adesso_ms();
        Ok(scrivi!(self, |tx, pg| {
            // The mark first: on PostgreSQL its row lock orders this transaction against every
            // other that assigns ids, so the keys read next cannot change under it.
            let sql = if pg {
                "SELECT ultimo FROM id_operazione_hwm WHERE unico = 1 FOR UPDATE"
            } else {
                "SELECT ultimo FROM id_operazione_hwm WHERE unico = 1"
            };
            let ultimo: String = sqlx::query(sql).fetch_one(&mut *tx).await?.try_get(0)?;
            let mut ultimo = numero(&ultimo)?;
            let mut esistenti = std::collections::HashMap::<String, u128>::new();
            for blocco in chiavi.chunks(500) {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT chiave, id FROM id_operazione_chiamate WHERE chiave IN (",
                );
                let mut elenco = q.separated(", ");
                for k in blocco {
                    elenco.push_bind(k);
                }
                q.push(")");
                for r in q.build().fetch_all(&mut *tx).await? {
                    let id: String = r.try_get(1)?;
                    esistenti.insert(r.try_get(0)?, numero(&id)?);
                }
            }
            let mut nuove: Vec<(String, u128)> = Vec::new();
            let mut tutte = Vec::with_capacity(chiavi.len());
            for k in chiavi {
                let (id, nuovo) = match esistenti.get(k) {
                    Some(id) => (*id, false),
                    None => {
                        let id = prossimo(ora_ms, ultimo)?;
                        ultimo = id;
                        esistenti.insert(k.clone(), id);
                        nuove.push((k.clone(), id));
                        (id, true)
                    }
                };
                tutte.push((k.clone(), id, nuovo));
            }
            if !nuove.is_empty() {
                sqlx::query("UPDATE id_operazione_hwm SET ultimo = $1 WHERE unico = 1")
                    .bind(ultimo.to_string())
                    .execute(&mut *tx)
                    .await?;
                for blocco in nuove.chunks(300) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO id_operazione_chiamate (chiave, id, creato_ms) ",
                    );
                    q.push_values(blocco, |mut v, (k, id)| {
                        v.push_bind(k).push_bind(id.to_string()).push_bind(creato);
                    });
                    q.build().execute(&mut *tx).await?;
                }
            }
            tutte
        }))
    }

    /// The persisted high-water mark.
    pub async fn id_operazione_massimo(&self) -> Result<u128, ErroreStore> {
        let testo: String = leggi!(self, |ex| {
            sqlx::query("SELECT ultimo FROM id_operazione_hwm WHERE unico = 1")
                .fetch_one(ex)
                .await?
                .try_get(0)?
        });
        numero(&testo)
    }

    async fn assegna_id(
        &self,
        chiave: &str,
        ora_ms: i64,
        riusa: bool,
    ) -> Result<u128, ErroreStore> {
        Ok(scrivi!(self, |tx, pg| {
            let esistente: Option<String> = if riusa {
                sqlx::query("SELECT id FROM id_operazione_chiamate WHERE chiave = $1")
                    .bind(chiave)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?
            } else {
                None
            };
            match esistente {
                Some(id) => numero(&id)?,
                None => {
                    let sql = if pg {
                        "SELECT ultimo FROM id_operazione_hwm WHERE unico = 1 FOR UPDATE"
                    } else {
                        "SELECT ultimo FROM id_operazione_hwm WHERE unico = 1"
                    };
                    let ultimo: String = sqlx::query(sql).fetch_one(&mut *tx).await?.try_get(0)?;
                    let id = prossimo(ora_ms, numero(&ultimo)?)?;
                    sqlx::query("UPDATE id_operazione_hwm SET ultimo = $1 WHERE unico = 1")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO id_operazione_chiamate (chiave, id, creato_ms) \
                         VALUES ($1, $2, $3) \
                         ON CONFLICT (chiave) DO UPDATE SET id = excluded.id, creato_ms = excluded.creato_ms",
                    )
                    .bind(chiave)
                    .bind(id.to_string())
                    .bind(self.adesso_ms())
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dal_clock_ma_mai_sotto_il_massimo() {
        assert_eq!(
            prossimo(1_700_000_000_000, 0).unwrap(),
            1_700_000_000_000_000
        );
        assert_eq!(
            prossimo(5, 1_700_000_000_000_000).unwrap(),
            1_700_000_000_000_001
        );
        assert!(prossimo(0, MASSIMO).is_err());
    }
}

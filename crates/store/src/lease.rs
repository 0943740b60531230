//! Row leases for the worker: claim in chunks, heartbeat, release, record outcomes. A lease
//! that expires (its worker died) makes the row claimable again; an outcome is recorded only
//! by the lease's holder, so a row reclaimed by another worker is never written twice.

use crate::audit::ConnessioneAudit as _;
use crate::conservazione::hmac_normalizzato;
use crate::richieste::{
    COLONNE_RIGA, EsitoRiga, FileRisposta, NuovoFileRisposta, Riga, contesto_risultato, esito_da,
    json_opzionale, tipo_da,
};
use crate::statistiche::ConnessioneStatistiche as _;
use crate::{Attore, Audit, ChiaveMaestra, ErroreStore, Store};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use serde_json::json;
use sqlx::Row as _;

/// The keyed hashes of one recorded outcome; `None` where there is nothing to hash or no key.
#[derive(Default)]
struct HashEsito {
    identificativo: Option<String>,
    cf: Option<String>,
    id_anpr: Option<String>,
}

/// Outcomes per statement in [`Store::registra_esiti`]: 8 parameters each, 4,000 in all,
/// below both engines' limits.
const ESITI_PER_STATEMENT: usize = 500;

/// An outcome ready to write: its row's request, and what is computed outside the transaction.
struct EsitoPreparato<'a> {
    esito: &'a EsitoRiga,
    richiesta_id: i64,
    id_operazioni: String,
    cifrato: Option<Vec<u8>>,
    hash: HashEsito,
}

/// Claimable: pending, or held under an expired lease; not a duplicate; of a request that is
/// CONVALIDATA or IN_ELABORAZIONE and not suspended at `$2`; of request `$5` when it is set.
/// `$stato` is the condition on the row's state.
macro_rules! candidate {
    ($stato:literal) => {
        concat!(
            "SELECT g.id, g.richiesta_id, g.numero FROM righe g \
             JOIN richieste r ON r.id = g.richiesta_id \
             WHERE ",
            $stato,
            " AND r.stato IN ('CONVALIDATA', 'IN_ELABORAZIONE') \
              AND (r.sospesa_fino_a_ms IS NULL OR r.sospesa_fino_a_ms <= $2) \
              AND ($5 IS NULL OR r.id = $5) \
              AND g.duplicato_di IS NULL \
             ORDER BY g.richiesta_id, g.numero LIMIT $4"
        )
    };
}

/// PostgreSQL: one scan of both states, which skips the rows another worker is claiming.
const CANDIDATE_PG: &str = concat!(
    candidate!("(g.stato = 'DA_ELABORARE' OR (g.stato = 'IN_CORSO' AND g.lease_scadenza_ms < $2))"),
    " FOR UPDATE OF g SKIP LOCKED"
);

/// SQLite: the first `$4` rows of each state, each read in the order of the
/// `righe_da_elaborare` index (state, request, number) and stopped there, then the first `$4`
/// of both. Written with one OR, SQLite read every pending row of every request and sorted
/// them for each claim: 1.1–1.7 s per chunk with a million rows pending, against 8 ms now.
const CANDIDATE_SQLITE: &str = concat!(
    "SELECT id FROM (SELECT * FROM (",
    candidate!("g.stato = 'DA_ELABORARE'"),
    ") UNION ALL SELECT * FROM (",
    candidate!("g.stato = 'IN_CORSO' AND g.lease_scadenza_ms < $2"),
    ")) ORDER BY richiesta_id, numero LIMIT $4"
);

impl Store {
    /// Claims up to `quanti` rows for `proprietario` until `ora_ms + lease_ms`, optionally only
    /// of one request. PostgreSQL skips rows another worker is claiming (`SKIP LOCKED`);
    /// SQLite's write lock makes claims one at a time.
    pub async fn reclama_righe(
        &self,
        proprietario: &str,
        ora_ms: i64,
        lease_ms: i64,
        quanti: i64,
        richiesta_id: Option<i64>,
    ) -> Result<Vec<Riga>, ErroreStore> {
        Ok(scrivi!(self, |tx, pg| {
            let sql = if pg {
                format!(
                    "UPDATE righe SET stato = 'IN_CORSO', lease_proprietario = $1, \
                     lease_scadenza_ms = $3 WHERE id IN (SELECT c.id FROM ({CANDIDATE_PG}) c) \
                     RETURNING {COLONNE_RIGA}"
                )
            } else {
                format!(
                    "UPDATE righe SET stato = 'IN_CORSO', lease_proprietario = $1, \
                     lease_scadenza_ms = $3 WHERE id IN ({CANDIDATE_SQLITE}) \
                     RETURNING {COLONNE_RIGA}"
                )
            };
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(proprietario)
                .bind(ora_ms)
                .bind(ora_ms + lease_ms)
                .bind(quanti)
                .bind(richiesta_id)
                .fetch_all(&mut *tx)
                .await?;
            let mut v = righe_da_righe!(righe);
            v.sort_by_key(|r| (r.richiesta_id, r.numero));
            v
        }))
    }

    /// Extends our leases on `ids` to `scadenza_ms`; returns the ids still ours.
    pub async fn rinnova_righe(
        &self,
        ids: &[i64],
        proprietario: &str,
        scadenza_ms: i64,
    ) -> Result<Vec<i64>, ErroreStore> {
        let mut nostri = Vec::with_capacity(ids.len());
        scrivi!(self, |tx| {
            for id in ids {
                let n = sqlx::query(
                    "UPDATE righe SET lease_scadenza_ms = $1 \
                     WHERE id = $2 AND stato = 'IN_CORSO' AND lease_proprietario = $3",
                )
                .bind(scadenza_ms)
                .bind(id)
                .bind(proprietario)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    nostri.push(*id);
                }
            }
        });
        Ok(nostri)
    }

    /// Gives rows back to the queue without an outcome (e.g. the service is suspended).
    pub async fn rilascia_righe(
        &self,
        ids: &[i64],
        proprietario: &str,
    ) -> Result<u64, ErroreStore> {
        let mut rilasciate = 0;
        scrivi!(self, |tx| {
            for id in ids {
                rilasciate += sqlx::query(
                    "UPDATE righe SET stato = 'DA_ELABORARE', lease_proprietario = NULL, \
                     lease_scadenza_ms = NULL \
                     WHERE id = $1 AND stato = 'IN_CORSO' AND lease_proprietario = $2",
                )
                .bind(id)
                .bind(proprietario)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
        });
        Ok(rilasciate)
    }

    /// Gives back everything `proprietario` still holds: its rows go back to DA_ELABORARE and
    /// its jobs back to the queue, leases cleared. A worker that stops before its work ends
    /// calls it, so other workers take the work over at once instead of after the lease
    /// expires. Returns (rows, jobs) released.
    pub async fn rilascia_lease_di(&self, proprietario: &str) -> Result<(u64, u64), ErroreStore> {
        Ok(scrivi!(self, |tx| {
            let righe = sqlx::query(
                "UPDATE righe SET stato = 'DA_ELABORARE', lease_proprietario = NULL, \
                 lease_scadenza_ms = NULL WHERE stato = 'IN_CORSO' AND lease_proprietario = $1",
            )
            .bind(proprietario)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let job = sqlx::query(
                "UPDATE jobs SET stato = 'IN_CODA', lease_proprietario = NULL, \
                 lease_scadenza_ms = NULL WHERE stato = 'IN_CORSO' AND lease_proprietario = $1",
            )
            .bind(proprietario)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            (righe, job)
        }))
    }

    /// Records the outcomes of rows we hold, with their call ids and encrypted result fields,
    /// and the chunk's audit entry (calls, ids and outcome codes; no personal data), in one
    /// transaction. Returns the ids recorded: a row whose lease was lost is skipped.
    ///
    /// With the store's HMAC key, a TROVATO row also keeps the keyed hashes of the CF and the
    /// idANPR that ANPR returned (never the values), and a row created without a hash gets the
    /// one of its submitted identifier. Without the key no hash is written.
    pub async fn registra_esiti(
        &self,
        proprietario: &str,
        esiti: &[EsitoRiga],
        audit: Option<&Audit>,
        chiave: &ChiaveMaestra,
    ) -> Result<Vec<i64>, ErroreStore> {
        // The statistics count the calls on the day their outcomes are recorded (issue 6).
        let giorno = crate::giorno_roma(self.adesso_ms());
        // Everything that needs no lock is prepared before the write transaction (rows read,
        // hashes, encryption): a row's request, kind and identifier never change, and the
        // UPDATE below checks the lease. The transaction then writes in a few statements.
        let mut origini = std::collections::HashMap::with_capacity(esiti.len());
        for pezzo in esiti.chunks(ESITI_PER_STATEMENT) {
            let righe: Vec<(i64, i64, String, Option<String>)> = leggi!(self, |ex| {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT id, richiesta_id, tipo, identificativo FROM righe WHERE id IN (",
                );
                let mut ids = q.separated(", ");
                for e in pezzo {
                    ids.push_bind(e.riga_id);
                }
                q.push(")");
                let mut v = Vec::with_capacity(pezzo.len());
                for r in q.build().fetch_all(ex).await? {
                    v.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
                }
                Ok::<_, ErroreStore>(v)
            })?;
            for (id, richiesta_id, tipo, identificativo) in righe {
                origini.insert(id, (richiesta_id, tipo, identificativo));
            }
        }
        let mut preparati = Vec::with_capacity(esiti.len());
        for e in esiti {
            let Some((richiesta_id, tipo, identificativo)) = origini.remove(&e.riga_id) else {
                continue;
            };
            let hash = self.hash_esito(e, tipo, identificativo)?;
            let cifrato = match &e.risultato {
                Some(v) => Some(
                    chiave.cifra(&contesto_risultato(richiesta_id), v.to_string().as_bytes())?,
                ),
                None => None,
            };
            preparati.push(EsitoPreparato {
                esito: e,
                richiesta_id,
                id_operazioni: e.id_operazioni.to_string(),
                cifrato,
                hash,
            });
        }
        let registrati = scrivi!(self, |tx| {
            let mut registrati = Vec::with_capacity(preparati.len());
            let mut chiamate = crate::statistiche::ChiamateRegistrate::default();
            for pezzo in preparati.chunks(ESITI_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "WITH v (id, esito, messaggio, id_operazioni, cifrato, hmac, cf_hmac, \
                     id_anpr_hmac) AS (",
                );
                q.push_values(pezzo, |mut b, p| {
                    b.push_bind(p.esito.riga_id)
                        .push_bind(p.esito.esito.as_str())
                        .push_bind(p.esito.messaggio.as_deref())
                        .push_bind(p.id_operazioni.as_str())
                        .push_bind(p.cifrato.as_deref())
                        .push_bind(p.hash.identificativo.as_deref())
                        .push_bind(p.hash.cf.as_deref())
                        .push_bind(p.hash.id_anpr.as_deref());
                });
                q.push(
                    ") UPDATE righe SET stato = 'FINALE', esito = v.esito, \
                     messaggio = v.messaggio, id_operazioni = v.id_operazioni, \
                     risultato_cifrato = v.cifrato, lease_proprietario = NULL, \
                     lease_scadenza_ms = NULL, \
                     identificativo_hmac = COALESCE(righe.identificativo_hmac, v.hmac), \
                     cf_hmac = v.cf_hmac, id_anpr_hmac = v.id_anpr_hmac \
                     FROM v WHERE righe.id = v.id AND righe.stato = 'IN_CORSO' \
                     AND righe.lease_proprietario = ",
                );
                q.push_bind(proprietario);
                q.push(" RETURNING righe.id");
                let fatti: std::collections::HashSet<i64> = q
                    .build()
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<_, _>>()?;
                for p in pezzo {
                    if fatti.contains(&p.esito.riga_id) {
                        registrati.push(p.esito.riga_id);
                        chiamate.aggiungi(p.richiesta_id, &p.esito.id_operazioni);
                    }
                }
            }
            tx.conta_chiamate_anpr(&chiamate, &giorno).await?;
            if let Some(a) = audit {
                tx.appendi_audit(a).await?;
            }
            registrati
        });
        Ok(registrati)
    }

    /// Whether a request still has rows waiting or in flight: one index probe
    /// (`righe_da_elaborare`), where counting its rows reads them all. The engine asks after
    /// every chunk.
    pub async fn ha_righe_non_finali(&self, richiesta_id: i64) -> Result<bool, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT EXISTS (SELECT 1 FROM righe WHERE stato IN ('DA_ELABORARE', 'IN_CORSO') \
                 AND richiesta_id = $1)",
            )
            .bind(richiesta_id)
            .fetch_one(ex)
            .await?;
            Ok(r.try_get::<bool, _>(0)?)
        })
    }

    /// The keyed hashes an outcome stores (see [`Store::registra_esiti`]).
    fn hash_esito(
        &self,
        e: &EsitoRiga,
        tipo: String,
        identificativo: Option<String>,
    ) -> Result<HashEsito, ErroreStore> {
        let Some(k) = self.chiave_hmac() else {
            return Ok(HashEsito::default());
        };
        let tipo = tipo_da(tipo)?;
        // Only a TROVATO row names a person: the other outcomes say nothing about who answered.
        let trovato = e.esito == Esito::Trovato;
        let restituito = |valore: &Option<String>, tipo| {
            valore
                .as_deref()
                .filter(|_| trovato)
                .map(|v| hmac_normalizzato(k, tipo, v))
        };
        Ok(HashEsito {
            identificativo: identificativo.map(|v| hmac_normalizzato(k, tipo, &v)),
            cf: restituito(&e.cf_restituito, TipoIdentificativo::Cf),
            id_anpr: restituito(&e.id_anpr_restituito, TipoIdentificativo::IdAnpr),
        })
    }

    /// Gives each pending duplicate row its original's outcome, call ids, result and the
    /// hashes of the person ANPR returned, with `messaggio` "duplicato della riga N", once the
    /// original is final. Returns how many.
    pub async fn completa_duplicati(&self, richiesta_id: i64) -> Result<u64, ErroreStore> {
        Ok(scrivi!(self, |tx| {
            sqlx::query(
                "UPDATE righe SET stato = 'FINALE', \
                 esito = (SELECT o.esito FROM righe o WHERE o.richiesta_id = righe.richiesta_id \
                          AND o.numero = righe.duplicato_di), \
                 id_operazioni = (SELECT o.id_operazioni FROM righe o \
                          WHERE o.richiesta_id = righe.richiesta_id AND o.numero = righe.duplicato_di), \
                 risultato_cifrato = (SELECT o.risultato_cifrato FROM righe o \
                          WHERE o.richiesta_id = righe.richiesta_id AND o.numero = righe.duplicato_di), \
                 identificativo_hmac = COALESCE(identificativo_hmac, (SELECT o.identificativo_hmac \
                          FROM righe o WHERE o.richiesta_id = righe.richiesta_id \
                          AND o.numero = righe.duplicato_di)), \
                 cf_hmac = (SELECT o.cf_hmac FROM righe o \
                          WHERE o.richiesta_id = righe.richiesta_id AND o.numero = righe.duplicato_di), \
                 id_anpr_hmac = (SELECT o.id_anpr_hmac FROM righe o \
                          WHERE o.richiesta_id = righe.richiesta_id AND o.numero = righe.duplicato_di), \
                 messaggio = 'duplicato della riga ' || CAST(duplicato_di AS TEXT) \
                 WHERE richiesta_id = $1 AND duplicato_di IS NOT NULL AND stato <> 'FINALE' \
                   AND EXISTS (SELECT 1 FROM righe o WHERE o.richiesta_id = righe.richiesta_id \
                          AND o.numero = righe.duplicato_di AND o.stato = 'FINALE')",
            )
            .bind(richiesta_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        }))
    }

    /// The decrypted result fields of a row, if it has any.
    pub async fn risultato_riga(
        &self,
        riga_id: i64,
        chiave: &ChiaveMaestra,
    ) -> Result<Option<serde_json::Value>, ErroreStore> {
        let trovato: Option<(i64, Option<Vec<u8>>)> = leggi!(self, |ex| {
            let r = sqlx::query("SELECT richiesta_id, risultato_cifrato FROM righe WHERE id = $1")
                .bind(riga_id)
                .fetch_optional(ex)
                .await?;
            match r {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            }
        });
        let Some((richiesta_id, Some(cifrato))) = trovato else {
            return Ok(None);
        };
        let chiaro = chiave.decifra(&contesto_risultato(richiesta_id), &cifrato)?;
        serde_json::from_slice(chiaro.esponi())
            .map(Some)
            .map_err(|e| ErroreStore::json("risultato", e))
    }

    /// Records a result file (SHA-256 and rows of the plaintext) with its audit entry.
    pub async fn registra_file_risposta(
        &self,
        f: &NuovoFileRisposta,
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let audit = Audit::nuovo(
            attore,
            format!("richiesta:{}", f.richiesta_id),
            "FILE_RISPOSTA_SCRITTO",
        )
        .con_dettagli(json!({
            "nome": f.nome, "righe": f.righe, "sha256": f.sha256,
            "dimensione": f.dimensione, "parziale": f.parziale,
        }));
        Ok(scrivi!(self, |tx| {
            let (comune, ente) = parti_richiesta!(tx, f.richiesta_id);
            let audit = audit.con_comune(comune).con_ente(ente);
            let id: i64 = sqlx::query(
                "INSERT INTO file_risposta (richiesta_id, nome, percorso, righe, sha256, \
                 dimensione, parziale, creato_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(f.richiesta_id)
            .bind(&f.nome)
            .bind(&f.percorso)
            .bind(f.righe)
            .bind(&f.sha256)
            .bind(f.dimensione)
            .bind(f.parziale)
            .bind(self.adesso_ms())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    pub async fn file_risposta(&self, richiesta_id: i64) -> Result<Vec<FileRisposta>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT id, richiesta_id, nome, percorso, righe, sha256, dimensione, parziale, \
                 creato_ms, eliminato_ms FROM file_risposta WHERE richiesta_id = $1 ORDER BY id",
            )
            .bind(richiesta_id)
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(FileRisposta {
                    id: r.try_get("id")?,
                    richiesta_id: r.try_get("richiesta_id")?,
                    nome: r.try_get("nome")?,
                    percorso: r.try_get("percorso")?,
                    righe: r.try_get("righe")?,
                    sha256: r.try_get("sha256")?,
                    dimensione: r.try_get("dimensione")?,
                    parziale: r.try_get("parziale")?,
                    creato_ms: r.try_get("creato_ms")?,
                    eliminato_ms: r.try_get("eliminato_ms")?,
                });
            }
            Ok(v)
        })
    }
}

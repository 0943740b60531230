//! Lists for the web pages (web W2): requests by scope (a user's own, a Comune's, an Ente's)
//! with their convention and progress, the validation preview of a BOZZA (problem rows and
//! warnings), and discarding a BOZZA.
//!
//! Scope is a filter in SQL, never a check after the fact: a list holds only rows of the scope
//! asked for. Which scope a user may ask for is decided by the caller (the web layer).

use crate::audit::ConnessioneAudit as _;
use crate::richieste::{Richiesta, stato};
use crate::{Attore, Audit, ErroreStore, Store};
use serde_json::json;
use sqlx::Row as _;

/// Whose requests a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmbitoElenco {
    /// The requests a user submitted, drafts included.
    Utente(i64),
    /// The requests under the conventions of a Comune (by id), drafts excluded.
    Comune(i64),
    /// The requests under the conventions of an Ente (by id), drafts excluded.
    Ente(i64),
    /// The requests under the conventions of an Ente (first id) with one Comune (second id),
    /// drafts excluded: what an Ente's account managed by that Comune monitors.
    EnteComune(i64, i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiltroRichieste {
    pub ambito: AmbitoElenco,
    /// Only requests in this state (`BOZZA`, `IN_ATTESA_CONVALIDA`, …).
    pub stato: Option<String>,
    pub limite: i64,
}

/// One request in a list, with what the lists show next to it.
#[derive(Debug, Clone, PartialEq)]
pub struct VoceRichiesta {
    pub richiesta: Richiesta,
    pub convenzione: String,
    pub comune: String,
    pub ente: String,
    /// The submitter's username.
    pub richiedente: String,
    pub righe_totali: i64,
    pub righe_finali: i64,
}

/// A row the validation preview lists: invalid (with its message) or a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemaRiga {
    pub numero: i64,
    pub messaggio: Option<String>,
    /// The line this row repeats.
    pub duplicato_di: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConteggioProblemi {
    pub non_valide: i64,
    pub duplicate: i64,
}

/// The columns of a listed request but its counts.
macro_rules! colonne_richiesta {
    () => {
        "q.id, q.convenzione_id, q.utente_id, q.stato, q.sospesa_fino_a_ms, \
         q.motivo_sospensione, q.motivo, q.data_riferimento, q.snapshot, q.nota_stato, \
         q.inviata_ms, q.creata_ms, q.aggiornata_ms, v.nome AS nome_convenzione, \
         c.nome AS nome_comune, e.nome AS nome_ente, u.username AS richiedente"
    };
}

/// Counting the rows of the request `q`: all of them, and the final ones.
macro_rules! conta_totali {
    () => {
        "(SELECT COUNT(*) FROM righe g WHERE g.richiesta_id = q.id)"
    };
}
macro_rules! conta_finali {
    () => {
        "(SELECT COUNT(*) FROM righe g WHERE g.richiesta_id = q.id AND g.stato = 'FINALE')"
    };
}

pub(crate) const COLONNE: &str = concat!(
    colonne_richiesta!(),
    ", ",
    conta_totali!(),
    " AS righe_totali, ",
    conta_finali!(),
    " AS righe_finali"
);

/// [`COLONNE`] for a list that leaves big requests uncounted: a request with a row numbered
/// `soglia` or more gets -1 for both counts (see [`Store::elenco_richieste_contando`]). Finding
/// such a row is one probe of the `(richiesta_id, numero)` index, whatever the request's size.
pub(crate) fn colonne_contando(soglia: i64) -> String {
    // An i64 formatted into the statement cannot inject anything.
    let grande = format!(
        "EXISTS (SELECT 1 FROM righe g WHERE g.richiesta_id = q.id AND g.numero >= {soglia})"
    );
    format!(
        "{}, CASE WHEN {grande} THEN -1 ELSE {} END AS righe_totali, \
         CASE WHEN {grande} THEN -1 ELSE {} END AS righe_finali",
        colonne_richiesta!(),
        conta_totali!(),
        conta_finali!()
    )
}

/// One request of a list that may leave big requests uncounted
/// ([`Store::elenco_richieste_contando`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VoceElenco {
    /// With `contata` false, `righe_totali` and `righe_finali` are 0: not read.
    pub voce: VoceRichiesta,
    /// Whether its rows were counted, with the rest of the list (same statement).
    pub contata: bool,
}

impl VoceElenco {
    pub(crate) fn da(mut voce: VoceRichiesta) -> VoceElenco {
        let contata = voce.righe_totali >= 0 && voce.righe_finali >= 0;
        if !contata {
            (voce.righe_totali, voce.righe_finali) = (0, 0);
        }
        VoceElenco { voce, contata }
    }
}

pub(crate) const DA: &str = "FROM richieste q JOIN convenzioni v ON v.id = q.convenzione_id \
    JOIN comuni c ON c.id = v.comune_id JOIN enti e ON e.id = v.ente_id \
    JOIN utenti u ON u.id = q.utente_id";

/// The WHERE clause of a scope (and state): `$1` is the scope's id, `$2` the state if any.
fn condizione(ambito: AmbitoElenco, con_stato: bool) -> String {
    let mut w = match ambito {
        AmbitoElenco::Utente(_) => "q.utente_id = $1".to_string(),
        // A draft is its author's until submitted: monitors do not see it.
        AmbitoElenco::Comune(_) => format!("v.comune_id = $1 AND q.stato <> '{}'", stato::BOZZA),
        AmbitoElenco::Ente(_) => format!("v.ente_id = $1 AND q.stato <> '{}'", stato::BOZZA),
        // An i64 formatted into the statement cannot inject anything.
        AmbitoElenco::EnteComune(_, comune) => format!(
            "v.ente_id = $1 AND v.comune_id = {comune} AND q.stato <> '{}'",
            stato::BOZZA
        ),
    };
    if con_stato {
        w.push_str(" AND q.stato = $2");
    }
    w
}

fn id_ambito(a: AmbitoElenco) -> i64 {
    match a {
        AmbitoElenco::Utente(id)
        | AmbitoElenco::Comune(id)
        | AmbitoElenco::Ente(id)
        | AmbitoElenco::EnteComune(id, _) => id,
    }
}

macro_rules! voce_da_riga {
    ($r:expr) => {
        VoceRichiesta {
            richiesta: Richiesta {
                id: $r.try_get("id")?,
                convenzione_id: $r.try_get("convenzione_id")?,
                utente_id: $r.try_get("utente_id")?,
                stato: $r.try_get("stato")?,
                sospesa_fino_a_ms: $r.try_get("sospesa_fino_a_ms")?,
                motivo_sospensione: $r.try_get("motivo_sospensione")?,
                motivo: $r.try_get("motivo")?,
                data_riferimento: $r.try_get("data_riferimento")?,
                snapshot: serde_json::from_str(&$r.try_get::<String, _>("snapshot")?)
                    .map_err(|e| ErroreStore::json("snapshot", e))?,
                nota_stato: $r.try_get("nota_stato")?,
                inviata_ms: $r.try_get("inviata_ms")?,
                creata_ms: $r.try_get("creata_ms")?,
                aggiornata_ms: $r.try_get("aggiornata_ms")?,
            },
            convenzione: $r.try_get("nome_convenzione")?,
            comune: $r.try_get("nome_comune")?,
            ente: $r.try_get("nome_ente")?,
            richiedente: $r.try_get("richiedente")?,
            righe_totali: $r.try_get("righe_totali")?,
            righe_finali: $r.try_get("righe_finali")?,
        }
    };
}
pub(crate) use voce_da_riga;

impl Store {
    /// Requests of a scope, newest first, at most `f.limite`.
    pub async fn elenco_richieste(
        &self,
        f: &FiltroRichieste,
    ) -> Result<Vec<VoceRichiesta>, ErroreStore> {
        self.elenco(f, COLONNE.to_string()).await
    }

    /// As [`Store::elenco_richieste`], but the rows of a request that has a row numbered
    /// `soglia` or more are not counted (`contata` false): counting them costs in proportion to
    /// its rows, and the caller may know them already (the web app's `contatori`). Rows are
    /// numbered from 1 (the upload's line numbers), distinct within a request: a request of
    /// `soglia` rows or more has such a row; one with fewer may have one too (numbers skip the
    /// header and blank lines), and is then left for the caller to count as well. The counts of
    /// the other requests are read with them, in the same statement.
    pub async fn elenco_richieste_contando(
        &self,
        f: &FiltroRichieste,
        soglia: i64,
    ) -> Result<Vec<VoceElenco>, ErroreStore> {
        let voci = self.elenco(f, colonne_contando(soglia)).await?;
        Ok(voci.into_iter().map(VoceElenco::da).collect())
    }

    async fn elenco(
        &self,
        f: &FiltroRichieste,
        colonne: String,
    ) -> Result<Vec<VoceRichiesta>, ErroreStore> {
        let con_stato = f.stato.is_some();
        let limite = if con_stato { "$3" } else { "$2" };
        let sql = format!(
            "SELECT {colonne} {DA} WHERE {} ORDER BY q.id DESC LIMIT {limite}",
            condizione(f.ambito, con_stato)
        );
        leggi!(self, |ex| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id_ambito(f.ambito));
            if let Some(s) = &f.stato {
                q = q.bind(s.as_str());
            }
            let righe = q.bind(f.limite).fetch_all(ex).await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(voce_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// One request with what the lists show, whatever its scope (the caller checks it).
    pub async fn voce_richiesta(&self, id: i64) -> Result<VoceRichiesta, ErroreStore> {
        let sql = format!("SELECT {COLONNE} {DA} WHERE q.id = $1");
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {id}")))?;
            Ok(voce_da_riga!(r))
        })
    }

    /// The names of an Ente and a Comune (`None` for an id not given or not found), in one
    /// statement: the header of every page names the user's.
    pub async fn nomi_ente_comune(
        &self,
        ente_id: Option<i64>,
        comune_id: Option<i64>,
    ) -> Result<(Option<String>, Option<String>), ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT (SELECT nome FROM enti WHERE id = $1), \
                 (SELECT nome FROM comuni WHERE id = $2)",
            )
            .bind(ente_id)
            .bind(comune_id)
            .fetch_one(ex)
            .await?;
            Ok((r.try_get(0)?, r.try_get(1)?))
        })
    }

    /// How many requests of a scope are in `stato` (all states with `None`).
    pub async fn conta_richieste(
        &self,
        ambito: AmbitoElenco,
        stato: Option<&str>,
    ) -> Result<i64, ErroreStore> {
        let sql = format!(
            "SELECT COUNT(*) {DA} WHERE {}",
            condizione(ambito, stato.is_some())
        );
        Ok(leggi!(self, |ex| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id_ambito(ambito));
            if let Some(s) = stato {
                q = q.bind(s);
            }
            q.fetch_one(ex).await?.try_get::<i64, _>(0)?
        }))
    }

    /// The invalid and duplicate rows of a request, in line order, at most `limite`.
    pub async fn righe_con_problemi(
        &self,
        richiesta_id: i64,
        limite: i64,
    ) -> Result<Vec<ProblemaRiga>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT numero, messaggio, duplicato_di FROM righe WHERE richiesta_id = $1 \
                 AND (esito = 'NON_VALIDO' OR duplicato_di IS NOT NULL) ORDER BY numero LIMIT $2",
            )
            .bind(richiesta_id)
            .bind(limite)
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(ProblemaRiga {
                    numero: r.try_get(0)?,
                    messaggio: r.try_get(1)?,
                    duplicato_di: r.try_get(2)?,
                });
            }
            Ok(v)
        })
    }

    pub async fn conteggio_problemi(
        &self,
        richiesta_id: i64,
    ) -> Result<ConteggioProblemi, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT COALESCE(SUM(CASE WHEN esito = 'NON_VALIDO' AND duplicato_di IS NULL \
                 THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN duplicato_di IS NOT NULL THEN 1 ELSE 0 END), 0) \
                 FROM righe WHERE richiesta_id = $1",
            )
            .bind(richiesta_id)
            .fetch_one(ex)
            .await?;
            Ok(ConteggioProblemi {
                non_valide: r.try_get(0)?,
                duplicate: r.try_get(1)?,
            })
        })
    }

    /// Keeps the validation preview's warnings of a BOZZA (replacing earlier ones).
    pub async fn salva_avvisi_bozza(
        &self,
        richiesta_id: i64,
        avvisi: &[String],
    ) -> Result<(), ErroreStore> {
        let testo = serde_json::to_string(avvisi).map_err(|e| ErroreStore::json("avvisi", e))?;
        scrivi!(self, |tx| {
            sqlx::query(
                "INSERT INTO avvisi_bozza (richiesta_id, avvisi) VALUES ($1, $2) \
                 ON CONFLICT (richiesta_id) DO UPDATE SET avvisi = excluded.avvisi",
            )
            .bind(richiesta_id)
            .bind(&testo)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// The warnings kept by [`Store::salva_avvisi_bozza`]; none when there are none.
    pub async fn avvisi_bozza(&self, richiesta_id: i64) -> Result<Vec<String>, ErroreStore> {
        let testo: Option<String> = leggi!(self, |ex| {
            match sqlx::query("SELECT avvisi FROM avvisi_bozza WHERE richiesta_id = $1")
                .bind(richiesta_id)
                .fetch_optional(ex)
                .await?
            {
                Some(r) => Some(r.try_get::<String, _>(0)?),
                None => None,
            }
        });
        match testo {
            Some(t) => serde_json::from_str(&t).map_err(|e| ErroreStore::json("avvisi", e)),
            None => Ok(Vec::new()),
        }
    }

    /// Deletes a BOZZA with its rows and preview (DESIGN §2: a discarded draft is deleted),
    /// with its audit entry, in one transaction. Any other state is refused.
    pub async fn elimina_bozza(&self, id: i64, attore: &Attore) -> Result<(), ErroreStore> {
        scrivi!(self, |tx, pg| {
            let sql = if pg {
                "SELECT q.stato, c.codice_istat, e.codice FROM richieste q \
                 JOIN convenzioni v ON v.id = q.convenzione_id JOIN comuni c ON c.id = v.comune_id \
                 JOIN enti e ON e.id = v.ente_id WHERE q.id = $1 FOR UPDATE OF q"
            } else {
                "SELECT q.stato, c.codice_istat, e.codice FROM richieste q \
                 JOIN convenzioni v ON v.id = q.convenzione_id JOIN comuni c ON c.id = v.comune_id \
                 JOIN enti e ON e.id = v.ente_id WHERE q.id = $1"
            };
            let r = sqlx::query(sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {id}")))?;
            let attuale: String = r.try_get(0)?;
            if attuale != stato::BOZZA {
                return Err(ErroreStore::StatoNonAmmesso {
                    oggetto: format!("richiesta {id}"),
                    attuale,
                    attesi: stato::BOZZA.into(),
                });
            }
            let righe = sqlx::query("DELETE FROM righe WHERE richiesta_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for sql in [
                "DELETE FROM avvisi_bozza WHERE richiesta_id = $1",
                "DELETE FROM richieste WHERE id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            let audit = Audit::nuovo(attore, format!("richiesta:{id}"), "RICHIESTA_SCARTATA")
                .con_comune(Some(r.try_get::<String, _>(1)?))
                .con_ente(Some(r.try_get::<String, _>(2)?))
                .con_dettagli(json!({"righe": righe}));
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }
}

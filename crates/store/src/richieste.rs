//! Richieste (DESIGN §2), their righe, row leases for the worker, and the file di risposta.
//!
//! The store enforces only compare-and-set on states (a change names the states it may start
//! from); which transitions are allowed, and for whom, is decided in `domain`.

use crate::audit::ConnessioneAudit as _;
use crate::conservazione::ChiaveHmac;
use crate::notifiche::{ConnessioneNotifiche as _, Transizione};
use crate::{Attore, Audit, ErroreStore, Store};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use serde_json::json;
use sqlx::Row as _;

/// The states of a request, as stored.
pub mod stato {
    pub const BOZZA: &str = "BOZZA";
    pub const IN_ATTESA_CONVALIDA: &str = "IN_ATTESA_CONVALIDA";
    pub const CONVALIDATA: &str = "CONVALIDATA";
    pub const IN_ELABORAZIONE: &str = "IN_ELABORAZIONE";
    pub const COMPLETATA: &str = "COMPLETATA";
    pub const RESPINTA: &str = "RESPINTA";
    pub const ANNULLATA: &str = "ANNULLATA";
    pub const FALLITA: &str = "FALLITA";
}

/// The per-row processing states, as stored.
pub mod stato_riga {
    pub const DA_ELABORARE: &str = "DA_ELABORARE";
    pub const IN_CORSO: &str = "IN_CORSO";
    pub const FINALE: &str = "FINALE";
}

#[derive(Debug, Clone, PartialEq)]
pub struct NuovaRichiesta {
    pub convenzione_id: i64,
    pub utente_id: i64,
    pub motivo: String,
    /// `AAAA-MM-GG`.
    pub data_riferimento: String,
    /// Profile, userID/LoA/userLocation and convention settings taken at submission.
    pub snapshot: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Richiesta {
    pub id: i64,
    pub convenzione_id: i64,
    pub utente_id: i64,
    pub stato: String,
    pub sospesa_fino_a_ms: Option<i64>,
    pub motivo_sospensione: Option<String>,
    pub motivo: String,
    pub data_riferimento: String,
    pub snapshot: serde_json::Value,
    /// Why it was rejected, failed or cancelled.
    pub nota_stato: Option<String>,
    pub inviata_ms: Option<i64>,
    pub creata_ms: i64,
    pub aggiornata_ms: i64,
}

/// One input row. A row with `esito` set (e.g. NON_VALIDO) is final from the start; a row with
/// `duplicato_di` is never claimed: it takes its original's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovaRiga {
    pub numero: i64,
    pub tipo: TipoIdentificativo,
    pub identificativo: String,
    pub riferimento: Option<String>,
    pub rilascio: Option<String>,
    pub motivo: Option<String>,
    pub duplicato_di: Option<i64>,
    pub esito: Option<Esito>,
    pub messaggio: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Riga {
    pub id: i64,
    pub richiesta_id: i64,
    pub numero: i64,
    pub tipo: TipoIdentificativo,
    /// `None` after the retention purge.
    pub identificativo: Option<String>,
    pub riferimento: Option<String>,
    pub rilascio: Option<String>,
    pub motivo: Option<String>,
    pub duplicato_di: Option<i64>,
    pub stato: String,
    pub esito: Option<Esito>,
    pub messaggio: Option<String>,
    pub id_operazioni: Option<serde_json::Value>,
    pub lease_proprietario: Option<String>,
    pub lease_scadenza_ms: Option<i64>,
}

/// The outcome of one claimed row, stored with its call ids and (encrypted) result fields.
#[derive(Debug, Clone, PartialEq)]
pub struct EsitoRiga {
    pub riga_id: i64,
    pub esito: Esito,
    pub messaggio: Option<String>,
    pub id_operazioni: serde_json::Value,
    pub risultato: Option<serde_json::Value>,
    /// The CF that ANPR returned for a TROVATO row. Never stored in clear: only its keyed hash
    /// (`righe.cf_hmac`), for "chi ha consultato" (see [`crate::consultazioni`]).
    pub cf_restituito: Option<String>,
    /// The idANPR that ANPR returned for a TROVATO row; only its keyed hash is stored
    /// (`righe.id_anpr_hmac`).
    pub id_anpr_restituito: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConteggioRighe {
    pub totali: i64,
    pub da_elaborare: i64,
    pub in_corso: i64,
    pub finali: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovoFileRisposta {
    pub richiesta_id: i64,
    pub nome: String,
    pub percorso: String,
    pub righe: i64,
    /// SHA-256 of the plaintext, lowercase hex.
    pub sha256: String,
    pub dimensione: i64,
    pub parziale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRisposta {
    pub id: i64,
    pub richiesta_id: i64,
    pub nome: String,
    pub percorso: String,
    pub righe: i64,
    pub sha256: String,
    pub dimensione: i64,
    pub parziale: bool,
    pub creato_ms: i64,
    pub eliminato_ms: Option<i64>,
}

const COLONNE_RICHIESTA: &str = "id, convenzione_id, utente_id, stato, sospesa_fino_a_ms, \
    motivo_sospensione, motivo, data_riferimento, snapshot, nota_stato, inviata_ms, creata_ms, \
    aggiornata_ms";

/// Rows per INSERT while a request's rows are stored: 12 parameters a row, 6,000 in all, below
/// both engines' limits (SQLite 32,766, PostgreSQL 65,535).
const RIGHE_PER_INSERT: usize = 500;

/// The multi-row INSERT of `n` rows (12 parameters each, in [`inserisci_righe`]'s order).
///
/// On SQLite it is `OR FAIL` and uses `?` placeholders. A multi-row statement that may fail on
/// a constraint and undo itself alone (the default, `ABORT`, or an immediate foreign key) gets a
/// statement journal, a copy of every page it changes; with the random keys of
/// `identificativo_hmac` that is about one 4 KiB page per row. `FAIL` stops the statement
/// without undoing it, and the foreign key to `richieste` is checked at COMMIT (migration
/// 0010), so none is kept. A failing row still fails the whole request: the error drops the
/// transaction, which rolls back. The numbered `$N` are avoided because SQLite finds a named
/// parameter by a linear search, once per parameter: quadratic in a 6,000-parameter statement.
fn sql_inserisci_righe(pg: bool, n: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(200 + n * 80);
    sql.push_str(if pg {
        "INSERT INTO righe "
    } else {
        "INSERT OR FAIL INTO righe "
    });
    sql.push_str(
        "(richiesta_id, numero, tipo, identificativo, riferimento, rilascio, motivo, \
         duplicato_di, stato, esito, messaggio, identificativo_hmac) VALUES ",
    );
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        if pg {
            let p = i * 12;
            sql.push('(');
            for j in 1..=12 {
                let _ = write!(sql, "{}${}", if j == 1 { "" } else { ", " }, p + j);
            }
            sql.push(')');
        } else {
            sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        }
    }
    sql
}

/// A row ready to be inserted: the row and the keyed hash of its identifier.
type RigaPronta = (NuovaRiga, Option<String>);

/// The INSERT of a request's rows (at most [`RIGHE_PER_INSERT`]), with every value bound by
/// move. The SQL of a full piece is built once per engine and kept prepared; a shorter piece
/// (the last of a request) is prepared for once.
fn inserisci_righe<DB>(
    pg: bool,
    richiesta_id: i64,
    righe: Vec<RigaPronta>,
) -> sqlx::query::Query<'static, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    i64: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    &'static str: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    Option<&'static str>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
{
    static SQL_PG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static SQL_SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let intero = righe.len() == RIGHE_PER_INSERT;
    let mut q = if intero {
        let sql = if pg { &SQL_PG } else { &SQL_SQLITE };
        let sql: &'static str = sql.get_or_init(|| sql_inserisci_righe(pg, RIGHE_PER_INSERT));
        sqlx::query(sql)
    } else {
        sqlx::query(sqlx::AssertSqlSafe(sql_inserisci_righe(pg, righe.len())))
    }
    .persistent(intero);
    for (riga, hash) in righe {
        let stato = match riga.esito {
            Some(_) => stato_riga::FINALE,
            None => stato_riga::DA_ELABORARE,
        };
        q = q
            .bind(richiesta_id)
            .bind(riga.numero)
            .bind(riga.tipo.as_str())
            .bind(riga.identificativo)
            .bind(riga.riferimento)
            .bind(riga.rilascio)
            .bind(riga.motivo)
            .bind(riga.duplicato_di)
            .bind(stato)
            .bind(riga.esito.map(Esito::as_str))
            .bind(riga.messaggio)
            .bind(hash);
    }
    q
}

/// Where [`Store::crea_bozza`] takes a request's rows from.
enum Sorgente<'a> {
    /// Every row at once ([`Store::crea_richiesta`]).
    Tutte(std::slice::Chunks<'a, NuovaRiga>),
    /// Pieces from the parser ([`Store::crea_richiesta_a_flusso`]), and what is left of the
    /// current one.
    Canale {
        righe: tokio::sync::mpsc::Receiver<BloccoRighe>,
        resto: std::vec::IntoIter<NuovaRiga>,
    },
}

impl Sorgente<'_> {
    /// The next rows to insert (at most [`RIGHE_PER_INSERT`]) with their keyed hashes, or
    /// `None` when every row was sent.
    async fn prossime(
        &mut self,
        chiave: Option<&ChiaveHmac>,
    ) -> Result<Option<Vec<RigaPronta>>, ErroreStore> {
        let righe: Vec<NuovaRiga> = match self {
            Sorgente::Tutte(pezzi) => match pezzi.next() {
                Some(pezzo) => pezzo.to_vec(),
                None => return Ok(None),
            },
            Sorgente::Canale { righe, resto } => {
                while resto.len() == 0 {
                    match righe.recv().await {
                        Some(BloccoRighe::Righe(b)) => *resto = b.into_iter(),
                        Some(BloccoRighe::Fine) => return Ok(None),
                        // The caller drops the transaction: the whole request is rolled back.
                        None => {
                            return Err(ErroreStore::DatoNonValido {
                                campo: "righe",
                                motivo: "caricamento interrotto prima della fine".into(),
                            });
                        }
                    }
                }
                resto.by_ref().take(RIGHE_PER_INSERT).collect()
            }
        };
        Ok(Some(
            righe
                .into_iter()
                .map(|riga| {
                    let hash = chiave.map(|k| k.hmac_normalizzato(riga.tipo, &riga.identificativo));
                    (riga, hash)
                })
                .collect(),
        ))
    }
}

/// A piece of a request's rows for [`Store::crea_richiesta_a_flusso`].
pub enum BloccoRighe {
    Righe(Vec<NuovaRiga>),
    /// Every row was sent: the request may be committed.
    Fine,
}

pub(crate) const COLONNE_RIGA: &str = "id, richiesta_id, numero, tipo, identificativo, riferimento, \
    rilascio, motivo, duplicato_di, stato, esito, messaggio, id_operazioni, lease_proprietario, \
    lease_scadenza_ms";

/// Result fields are bound to their request: a ciphertext moved to another request does not
/// decrypt, while duplicates within one request share their original's.
pub(crate) fn contesto_risultato(richiesta_id: i64) -> String {
    format!("righe.risultato:{richiesta_id}")
}

pub(crate) fn esito_da(s: Option<String>) -> Result<Option<Esito>, ErroreStore> {
    s.map(|s| {
        Esito::parse(&s).ok_or(ErroreStore::DatoNonValido {
            campo: "esito",
            motivo: s.clone(),
        })
    })
    .transpose()
}

pub(crate) fn tipo_da(s: String) -> Result<TipoIdentificativo, ErroreStore> {
    TipoIdentificativo::parse(&s).ok_or(ErroreStore::DatoNonValido {
        campo: "tipo",
        motivo: s,
    })
}

pub(crate) fn json_opzionale(
    campo: &'static str,
    s: Option<String>,
) -> Result<Option<serde_json::Value>, ErroreStore> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| ErroreStore::json(campo, e)))
        .transpose()
}

macro_rules! richiesta_da_riga {
    ($r:expr) => {
        Richiesta {
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
        }
    };
}

macro_rules! riga_da_riga {
    ($r:expr) => {
        Riga {
            id: $r.try_get("id")?,
            richiesta_id: $r.try_get("richiesta_id")?,
            numero: $r.try_get("numero")?,
            tipo: tipo_da($r.try_get("tipo")?)?,
            identificativo: $r.try_get("identificativo")?,
            riferimento: $r.try_get("riferimento")?,
            rilascio: $r.try_get("rilascio")?,
            motivo: $r.try_get("motivo")?,
            duplicato_di: $r.try_get("duplicato_di")?,
            stato: $r.try_get("stato")?,
            esito: esito_da($r.try_get("esito")?)?,
            messaggio: $r.try_get("messaggio")?,
            id_operazioni: json_opzionale("id_operazioni", $r.try_get("id_operazioni")?)?,
            lease_proprietario: $r.try_get("lease_proprietario")?,
            lease_scadenza_ms: $r.try_get("lease_scadenza_ms")?,
        }
    };
}

macro_rules! righe_da_righe {
    ($righe:expr) => {{
        let mut v = Vec::with_capacity($righe.len());
        for r in &$righe {
            v.push(riga_da_riga!(r));
        }
        v
    }};
}

/// The ISTAT code of the convention's Comune and the code of its Ente: the `comune` and `ente`
/// of the request's audit entries, so each side's monitors find them.
macro_rules! parti_convenzione {
    ($tx:expr, $convenzione_id:expr) => {{
        let r = sqlx::query(
            "SELECT c.codice_istat, e.codice FROM convenzioni v \
             JOIN comuni c ON c.id = v.comune_id JOIN enti e ON e.id = v.ente_id WHERE v.id = $1",
        )
        .bind($convenzione_id)
        .fetch_optional(&mut *$tx)
        .await?
        .ok_or_else(|| ErroreStore::non_trovato(format!("convenzione {}", $convenzione_id)))?;
        (
            Some(r.try_get::<String, _>(0)?),
            Some(r.try_get::<String, _>(1)?),
        )
    }};
}

/// What a state change does to the rows: `ANNULLATA` and `FALLITA` make the rows not yet final
/// NON_ELABORATO; resuming a FALLITA request queues its NON_ELABORATO rows again.
fn effetto_sulle_righe(da: &str, a: &str) -> Option<&'static str> {
    if a == stato::ANNULLATA || a == stato::FALLITA {
        Some(
            "UPDATE righe SET stato = 'FINALE', esito = 'NON_ELABORATO', \
             lease_proprietario = NULL, lease_scadenza_ms = NULL \
             WHERE richiesta_id = $1 AND stato <> 'FINALE'",
        )
    } else if da == stato::FALLITA && a == stato::CONVALIDATA {
        Some(
            "UPDATE righe SET stato = 'DA_ELABORARE', esito = NULL, messaggio = NULL \
             WHERE richiesta_id = $1 AND esito = 'NON_ELABORATO'",
        )
    } else {
        None
    }
}

/// Like `parti_convenzione!`, from a request id.
macro_rules! parti_richiesta {
    ($tx:expr, $richiesta_id:expr) => {{
        let r = sqlx::query(
            "SELECT c.codice_istat, e.codice FROM richieste q \
             JOIN convenzioni v ON v.id = q.convenzione_id \
             JOIN comuni c ON c.id = v.comune_id JOIN enti e ON e.id = v.ente_id WHERE q.id = $1",
        )
        .bind($richiesta_id)
        .fetch_optional(&mut *$tx)
        .await?
        .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {}", $richiesta_id)))?;
        (
            Some(r.try_get::<String, _>(0)?),
            Some(r.try_get::<String, _>(1)?),
        )
    }};
}

impl Store {
    /// Creates a request in BOZZA with its rows, in one transaction. With the store's HMAC key
    /// each row gets the keyed hash of its normalised identifier now (`identificativo_hmac`),
    /// so "chi ha consultato" finds it from the start; without the key it stays empty until the
    /// worker records the outcome or the retention purge.
    pub async fn crea_richiesta(
        &self,
        r: &NuovaRichiesta,
        righe: &[NuovaRiga],
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let sorgente = Sorgente::Tutte(righe.chunks(RIGHE_PER_INSERT));
        Ok(self.crea_bozza(r, sorgente, attore).await?.0)
    }

    /// [`crea_richiesta`](Self::crea_richiesta) with the rows arriving in pieces while the
    /// parser still reads the file: memory holds a few pieces, not the whole request, and the
    /// parsing overlaps the writing. All or nothing: the BOZZA is committed only on
    /// [`BloccoRighe::Fine`]; a channel closed before it (the file was refused) stores nothing.
    /// Returns the request's id and its rows.
    pub async fn crea_richiesta_a_flusso(
        &self,
        r: &NuovaRichiesta,
        righe: tokio::sync::mpsc::Receiver<BloccoRighe>,
        attore: &Attore,
    ) -> Result<(i64, u64), ErroreStore> {
        let sorgente = Sorgente::Canale {
            righe,
            resto: Vec::new().into_iter(),
        };
        self.crea_bozza(r, sorgente, attore).await
    }

    /// The BOZZA, its rows and its audit entry, in one transaction, for both ways in. The next
    /// rows are taken and hashed while the database stores the previous ones.
    async fn crea_bozza(
        &self,
        r: &NuovaRichiesta,
        mut sorgente: Sorgente<'_>,
        attore: &Attore,
    ) -> Result<(i64, u64), ErroreStore> {
        let ora = self.adesso_ms();
        let chiave = self.chiave_hmac().map(ChiaveHmac::new);
        let chiave = chiave.as_ref();
        Ok(scrivi!(self, |tx, pg| {
            if !pg {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "PRAGMA cache_size = {}",
                    crate::connessione::CACHE_CARICAMENTO
                )))
                .execute(&mut *tx)
                .await?;
            }
            let esito: Result<(i64, u64), ErroreStore> = async {
                let (comune, ente) = parti_convenzione!(tx, r.convenzione_id);
                // Never an id used before (migration 0009): SQLite would reuse a discarded draft's.
                let id: i64 = sqlx::query(
                    "UPDATE id_richieste SET ultimo = ultimo + 1 WHERE unico = 1 RETURNING ultimo",
                )
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                sqlx::query(
                    "INSERT INTO richieste (id, convenzione_id, utente_id, stato, motivo, \
                 data_riferimento, snapshot, creata_ms, aggiornata_ms) \
                 VALUES ($7, $1, $2, 'BOZZA', $3, $4, $5, $6, $6)",
                )
                .bind(r.convenzione_id)
                .bind(r.utente_id)
                .bind(&r.motivo)
                .bind(&r.data_riferimento)
                .bind(r.snapshot.to_string())
                .bind(ora)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let mut n = 0u64;
                let mut pronte = sorgente.prossime(chiave).await?;
                while let Some(righe) = pronte {
                    n += righe.len() as u64;
                    let (scritte, dopo) = tokio::join!(
                        inserisci_righe(pg, id, righe).execute(&mut *tx),
                        sorgente.prossime(chiave),
                    );
                    scritte?;
                    pronte = dopo?;
                }
                let audit = Audit::nuovo(attore, format!("richiesta:{id}"), "RICHIESTA_CREATA")
                    .con_comune(comune)
                    .con_ente(ente)
                    .con_dettagli(json!({"convenzione_id": r.convenzione_id, "righe": n}));
                tx.appendi_audit(&audit).await?;
                Ok((id, n))
            }
            .await;
            // Back to the usual size whether the upload was stored or not: this connection
            // serves every write that follows. The upload's own error comes first.
            let ripristino = if pg {
                Ok(())
            } else {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "PRAGMA cache_size = {}",
                    crate::connessione::CACHE_SCRITTURA
                )))
                .execute(&mut *tx)
                .await
                .map(|_| ())
            };
            let fatto = esito?;
            ripristino?;
            fatto
        }))
    }

    pub async fn richiesta(&self, id: i64) -> Result<Richiesta, ErroreStore> {
        let sql = format!("SELECT {COLONNE_RICHIESTA} FROM richieste WHERE id = $1");
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {id}")))?;
            Ok(richiesta_da_riga!(r))
        })
    }

    /// Requests in a state, oldest first (for timers and the worker).
    pub async fn richieste_in_stato(
        &self,
        stato: &str,
        limite: i64,
    ) -> Result<Vec<Richiesta>, ErroreStore> {
        let sql = format!(
            "SELECT {COLONNE_RICHIESTA} FROM richieste WHERE stato = $1 ORDER BY id LIMIT $2"
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(stato)
                .bind(limite)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(richiesta_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// Moves a request from one of `da` to `a`, with its audit entry, in one transaction.
    /// `ANNULLATA` and `FALLITA` turn the rows not yet final into NON_ELABORATO; `FALLITA` →
    /// `CONVALIDATA` (resume) puts the NON_ELABORATO rows back in the queue. Entering
    /// IN_ATTESA_CONVALIDA records the submission time; the approval (IN_ATTESA_CONVALIDA →
    /// CONVALIDATA, by a TOP or by silent consent; a resume keeps the first) and COMPLETATA
    /// record theirs, for the statistics (SET expressions read the old `stato` on both engines).
    /// The change's notices (`notifiche`) are written in the same transaction.
    pub async fn cambia_stato_richiesta(
        &self,
        id: i64,
        da: &[&str],
        a: &str,
        nota: Option<&str>,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let ora = self.adesso_ms();
        scrivi!(self, |tx, pg| {
            let sql = if pg {
                "SELECT stato, convenzione_id FROM richieste WHERE id = $1 FOR UPDATE"
            } else {
                "SELECT stato, convenzione_id FROM richieste WHERE id = $1"
            };
            let r = sqlx::query(sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {id}")))?;
            let attuale: String = r.try_get(0)?;
            let convenzione_id: i64 = r.try_get(1)?;
            if !da.contains(&attuale.as_str()) {
                return Err(ErroreStore::StatoNonAmmesso {
                    oggetto: format!("richiesta {id}"),
                    attuale,
                    attesi: da.join(", "),
                });
            }
            let (comune, ente) = parti_convenzione!(tx, convenzione_id);
            sqlx::query(
                "UPDATE richieste SET stato = $1, nota_stato = COALESCE($2, nota_stato), \
                 aggiornata_ms = $3, \
                 inviata_ms = CASE WHEN $1 = 'IN_ATTESA_CONVALIDA' THEN $3 ELSE inviata_ms END, \
                 convalidata_ms = CASE WHEN $1 = 'CONVALIDATA' AND stato = 'IN_ATTESA_CONVALIDA' \
                 THEN $3 ELSE convalidata_ms END, \
                 completata_ms = CASE WHEN $1 = 'COMPLETATA' THEN $3 ELSE completata_ms END, \
                 sospesa_fino_a_ms = CASE WHEN $1 = 'IN_ELABORAZIONE' THEN sospesa_fino_a_ms END, \
                 motivo_sospensione = CASE WHEN $1 = 'IN_ELABORAZIONE' THEN motivo_sospensione END \
                 WHERE id = $4",
            )
            .bind(a)
            .bind(nota)
            .bind(ora)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(sql) = effetto_sulle_righe(&attuale, a) {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            // The notices of the change (TOPs, submitter) commit or roll back with it.
            tx.notifica_transizione(&Transizione {
                richiesta_id: id,
                da: &attuale,
                a,
                nota,
                attore,
                ora_ms: ora,
            })
            .await?;
            // Resuming a failed request is not a second approval: it has its own action.
            let azione = if attuale == stato::FALLITA && a == stato::CONVALIDATA {
                "RICHIESTA_RIAVVIATA".to_string()
            } else {
                format!("RICHIESTA_{a}")
            };
            let audit = Audit::nuovo(attore, format!("richiesta:{id}"), azione)
                .con_comune(comune)
                .con_ente(ente)
                .con_dettagli(json!({"da": attuale, "a": a, "nota": nota}));
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// Sets (`Some`) or clears (`None`) the `sospesa` flag of a running request, with the
    /// reason the UI shows. A flag that already has this value is left alone, with no audit
    /// entry: several workers meet the same exhausted quota at once (in one process or in
    /// many), and the request is suspended once. The check is part of the UPDATE, so two
    /// processes racing cannot both see the old value.
    pub async fn sospendi_richiesta(
        &self,
        id: i64,
        fino_a_ms: Option<i64>,
        motivo: Option<&str>,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let azione = if fino_a_ms.is_some() {
            "RICHIESTA_SOSPESA"
        } else {
            "RICHIESTA_RIPRESA"
        };
        scrivi!(self, |tx| {
            let cambiata = sqlx::query(
                "UPDATE richieste SET sospesa_fino_a_ms = $1, motivo_sospensione = $2, \
                 aggiornata_ms = $3 WHERE id = $4 AND sospesa_fino_a_ms IS DISTINCT FROM $1 \
                 RETURNING convenzione_id",
            )
            .bind(fino_a_ms)
            .bind(motivo)
            .bind(self.adesso_ms())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(cambiata) = cambiata else {
                sqlx::query("SELECT 1 FROM richieste WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| ErroreStore::non_trovato(format!("richiesta {id}")))?;
                return Ok(());
            };
            let convenzione_id: i64 = cambiata.try_get(0)?;
            let (comune, ente) = parti_convenzione!(tx, convenzione_id);
            let audit = Audit::nuovo(attore, format!("richiesta:{id}"), azione)
                .con_comune(comune)
                .con_ente(ente)
                .con_dettagli(json!({"fino_a_ms": fino_a_ms, "motivo": motivo}));
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// Rows of a request with `numero` greater than `dopo_numero`, in order.
    pub async fn righe(
        &self,
        richiesta_id: i64,
        dopo_numero: i64,
        limite: i64,
    ) -> Result<Vec<Riga>, ErroreStore> {
        let sql = format!(
            "SELECT {COLONNE_RIGA} FROM righe WHERE richiesta_id = $1 AND numero > $2 \
             ORDER BY numero LIMIT $3"
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(richiesta_id)
                .bind(dopo_numero)
                .bind(limite)
                .fetch_all(ex)
                .await?;
            Ok(righe_da_righe!(righe))
        })
    }

    pub async fn conteggio_righe(&self, richiesta_id: i64) -> Result<ConteggioRighe, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT stato, COUNT(*) FROM righe WHERE richiesta_id = $1 GROUP BY stato",
            )
            .bind(richiesta_id)
            .fetch_all(ex)
            .await?;
            let mut c = ConteggioRighe::default();
            for r in &righe {
                let n: i64 = r.try_get(1)?;
                c.totali += n;
                match r.try_get::<String, _>(0)?.as_str() {
                    stato_riga::DA_ELABORARE => c.da_elaborare += n,
                    stato_riga::IN_CORSO => c.in_corso += n,
                    _ => c.finali += n,
                }
            }
            Ok(c)
        })
    }

    /// Rows of the requests submitted under a convention in `[da_ms, a_ms)` (BOZZA never
    /// counts), for the cap on subjects per Ente per day.
    pub async fn soggetti_inviati(
        &self,
        convenzione_id: i64,
        da_ms: i64,
        a_ms: i64,
    ) -> Result<i64, ErroreStore> {
        Ok(leggi!(self, |ex| {
            sqlx::query(
                "SELECT COUNT(*) FROM righe g JOIN richieste r ON r.id = g.richiesta_id \
                 WHERE r.convenzione_id = $1 AND r.inviata_ms >= $2 AND r.inviata_ms < $3",
            )
            .bind(convenzione_id)
            .bind(da_ms)
            .bind(a_ms)
            .fetch_one(ex)
            .await?
            .try_get::<i64, _>(0)?
        }))
    }
}

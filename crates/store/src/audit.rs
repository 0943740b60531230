//! The audit chain: `audit_entries`, appended in the same transaction as the change it records.
//!
//! Canonical encoding (version 1). An entry's `hash` is the lowercase hex SHA-256 of:
//!
//! ```text
//! "rivesto-audit-v1\n"
//! T(hash_precedente) I(id) I(istante_ms) T(attore) O(ruolo) O(comune) O(ente)
//! T(oggetto) T(azione) T(dettagli)
//! ```
//!
//! where `I(n)` is the 8-byte big-endian two's complement of `n`, `T(s)` is the 4-byte big-endian
//! length of the UTF-8 bytes of `s` followed by those bytes, and `O(x)` is the byte 0 for NULL or
//! the byte 1 followed by `T(x)`. `dettagli` is the JSON text exactly as stored. The first entry
//! has id 1 and `hash_precedente` 64 zeros; ids have no gaps, so a deleted entry breaks the chain.
//! The one exception is the retention purge, which removes a prefix 1..=K and leaves a signed
//! TAGLIO checkpoint of entry K: the chain then starts at K + 1 (see [`crate::audit_checkpoint`]).

use crate::{ErroreStore, Store, tempo::adesso_ms};
use aws_lc_rs::digest::{Context, SHA256};
#[cfg(test)]
use sha2::{Digest as _, Sha256};
use sqlx::{PgConnection, Row as _, SqliteConnection};

/// The `hash_precedente` of the first entry.
pub const HASH_INIZIALE: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const DOMINIO: &[u8] = b"rivesto-audit-v1\n";
/// Key of the PostgreSQL advisory lock that serialises appends across processes.
pub(crate) const LOCK_CATENA: i64 = 0x7269_7665_7374_6f01;

/// Who acts: a user, or `sistema` (silent consent, timers, the worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attore {
    pub nome: String,
    pub ruolo: Option<String>,
    pub comune: Option<String>,
    pub ente: Option<String>,
}

impl Attore {
    pub fn sistema() -> Self {
        Attore {
            nome: "sistema".into(),
            ruolo: None,
            comune: None,
            ente: None,
        }
    }
}

/// An entry to append. `comune` and `ente` start as the actor's and can be narrowed to the
/// object's (e.g. `sistema` acting on a request of C030).
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    pub attore: String,
    pub ruolo: Option<String>,
    pub comune: Option<String>,
    pub ente: Option<String>,
    pub oggetto: String,
    pub azione: String,
    pub dettagli: serde_json::Value,
}

impl Audit {
    pub fn nuovo(attore: &Attore, oggetto: impl Into<String>, azione: impl Into<String>) -> Self {
        Audit {
            attore: attore.nome.clone(),
            ruolo: attore.ruolo.clone(),
            comune: attore.comune.clone(),
            ente: attore.ente.clone(),
            oggetto: oggetto.into(),
            azione: azione.into(),
            dettagli: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn con_dettagli(mut self, dettagli: serde_json::Value) -> Self {
        self.dettagli = dettagli;
        self
    }
    pub fn con_comune(mut self, comune: Option<String>) -> Self {
        self.comune = comune;
        self
    }
    pub fn con_ente(mut self, ente: Option<String>) -> Self {
        self.ente = ente;
        self
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoceAudit {
    pub id: i64,
    pub istante_ms: i64,
    pub attore: String,
    pub ruolo: Option<String>,
    pub comune: Option<String>,
    pub ente: Option<String>,
    pub oggetto: String,
    pub azione: String,
    pub dettagli: String,
    pub hash_precedente: String,
    pub hash: String,
}

impl VoceAudit {
    /// The hash this entry should have (see the module documentation).
    pub fn calcola_hash(&self) -> String {
        let hex = self.letta().hash_calcolato();
        String::from_utf8_lossy(&hex).into_owned()
    }

    pub(crate) fn letta(&self) -> VoceLetta<'_> {
        VoceLetta {
            id: self.id,
            istante_ms: self.istante_ms,
            attore: &self.attore,
            ruolo: self.ruolo.as_deref(),
            comune: self.comune.as_deref(),
            ente: self.ente.as_deref(),
            oggetto: &self.oggetto,
            azione: &self.azione,
            dettagli: &self.dettagli,
            hash_precedente: &self.hash_precedente,
            hash: &self.hash,
        }
    }
}

/// An entry borrowed from the row it was read from: the verification hashes a million of them
/// without allocating for each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VoceLetta<'a> {
    pub id: i64,
    pub istante_ms: i64,
    pub attore: &'a str,
    pub ruolo: Option<&'a str>,
    pub comune: Option<&'a str>,
    pub ente: Option<&'a str>,
    pub oggetto: &'a str,
    pub azione: &'a str,
    pub dettagli: &'a str,
    pub hash_precedente: &'a str,
    pub hash: &'a str,
}

impl VoceLetta<'_> {
    /// The lowercase hex of the canonical hash, on the stack.
    pub fn hash_calcolato(&self) -> [u8; 64] {
        // aws-lc's SHA-256 (assembly) rather than sha2's: this is most of a verification's
        // time.
        let mut h = Context::new(&SHA256);
        h.update(DOMINIO);
        testo(&mut h, self.hash_precedente);
        h.update(&self.id.to_be_bytes());
        h.update(&self.istante_ms.to_be_bytes());
        testo(&mut h, self.attore);
        for campo in [self.ruolo, self.comune, self.ente] {
            opzionale(&mut h, campo);
        }
        testo(&mut h, self.oggetto);
        testo(&mut h, self.azione);
        testo(&mut h, self.dettagli);
        let mut digest = [0u8; 32];
        digest.copy_from_slice(h.finish().as_ref());
        esadecimale(&digest)
    }
}

/// Lowercase hex of a SHA-256, the form stored in `hash` and `hash_precedente`.
pub(crate) fn esadecimale(digest: &[u8; 32]) -> [u8; 64] {
    const CIFRE: &[u8; 16] = b"0123456789abcdef";
    let mut uscita = [0u8; 64];
    for (i, b) in digest.iter().enumerate() {
        uscita[2 * i] = CIFRE[usize::from(b >> 4)];
        uscita[2 * i + 1] = CIFRE[usize::from(b & 0x0f)];
    }
    uscita
}

fn testo(h: &mut Context, s: &str) {
    let lunghezza = u32::try_from(s.len()).unwrap_or(u32::MAX);
    h.update(&lunghezza.to_be_bytes());
    h.update(s.as_bytes());
}

fn opzionale(h: &mut Context, s: Option<&str>) {
    match s {
        None => h.update(&[0u8]),
        Some(s) => {
            h.update(&[1u8]);
            testo(h, s);
        }
    }
}

/// The result of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EsitoVerifica {
    Valida { voci: u64, ultimo_hash: String },
    Rotta { id: i64, motivo: String },
}

/// Appending on a connection that is inside the caller's transaction. Repository functions
/// append as the LAST step of their transaction: the chain's lock is then the last lock the
/// transaction takes and is held only until commit, so it can never be part of a deadlock.
pub(crate) trait ConnessioneAudit {
    async fn appendi_audit(&mut self, audit: &Audit) -> Result<i64, ErroreStore>;
}

macro_rules! corpo_appendi {
    ($conn:expr, $audit:expr) => {{
        let ultima = sqlx::query("SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *$conn)
            .await?;
        let (id, precedente) = match ultima {
            Some(r) => (r.try_get::<i64, _>(0)? + 1, r.try_get::<String, _>(1)?),
            None => (1, HASH_INIZIALE.to_string()),
        };
        let voce = voce_da_audit($audit, id, precedente);
        sqlx::query(
            "INSERT INTO audit_entries (id, istante_ms, attore, ruolo, comune, ente, oggetto, \
             azione, dettagli, hash_precedente, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(voce.id)
        .bind(voce.istante_ms)
        .bind(&voce.attore)
        .bind(&voce.ruolo)
        .bind(&voce.comune)
        .bind(&voce.ente)
        .bind(&voce.oggetto)
        .bind(&voce.azione)
        .bind(&voce.dettagli)
        .bind(&voce.hash_precedente)
        .bind(&voce.hash)
        .execute(&mut *$conn)
        .await?;
        Ok(id)
    }};
}

fn voce_da_audit(a: &Audit, id: i64, hash_precedente: String) -> VoceAudit {
    let mut voce = VoceAudit {
        id,
        istante_ms: adesso_ms(),
        attore: a.attore.clone(),
        ruolo: a.ruolo.clone(),
        comune: a.comune.clone(),
        ente: a.ente.clone(),
        oggetto: a.oggetto.clone(),
        azione: a.azione.clone(),
        dettagli: a.dettagli.to_string(),
        hash_precedente,
        hash: String::new(),
    };
    voce.hash = voce.calcola_hash();
    voce
}

impl ConnessioneAudit for SqliteConnection {
    // The transaction began with BEGIN IMMEDIATE: it already holds the database's write lock.
    async fn appendi_audit(&mut self, audit: &Audit) -> Result<i64, ErroreStore> {
        corpo_appendi!(self, audit)
    }
}

impl ConnessioneAudit for PgConnection {
    // The advisory lock lasts until commit or rollback, so the next appender reads this entry.
    async fn appendi_audit(&mut self, audit: &Audit) -> Result<i64, ErroreStore> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_CATENA)
            .execute(&mut *self)
            .await?;
        corpo_appendi!(self, audit)
    }
}

macro_rules! voce_audit_da_riga {
    ($r:expr) => {
        VoceAudit {
            id: $r.try_get("id")?,
            istante_ms: $r.try_get("istante_ms")?,
            attore: $r.try_get("attore")?,
            ruolo: $r.try_get("ruolo")?,
            comune: $r.try_get("comune")?,
            ente: $r.try_get("ente")?,
            oggetto: $r.try_get("oggetto")?,
            azione: $r.try_get("azione")?,
            dettagli: $r.try_get("dettagli")?,
            hash_precedente: $r.try_get("hash_precedente")?,
            hash: $r.try_get("hash")?,
        }
    };
}
pub(crate) use voce_audit_da_riga;

impl Store {
    /// Appends one entry in its own transaction, for events that change no other state.
    pub async fn appendi_audit(&self, audit: &Audit) -> Result<i64, ErroreStore> {
        Ok(scrivi!(self, |tx| { tx.appendi_audit(audit).await? }))
    }

    /// Entries with id greater than `dopo_id`, in order, at most `limite`.
    pub async fn voci_audit(
        &self,
        dopo_id: i64,
        limite: i64,
    ) -> Result<Vec<VoceAudit>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT id, istante_ms, attore, ruolo, comune, ente, oggetto, azione, dettagli, \
                 hash_precedente, hash FROM audit_entries WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(dopo_id)
            .bind(limite)
            .fetch_all(ex)
            .await?;
            let mut voci = Vec::with_capacity(righe.len());
            for r in &righe {
                voci.push(voce_audit_da_riga!(r));
            }
            Ok(voci)
        })
    }

    /// Recomputes the whole chain, a page at a time, against the database's own checkpoints
    /// (see [`crate::audit_checkpoint`]); the first fault found is the answer. It needs no
    /// master key.
    pub async fn verifica_catena(&self) -> Result<EsitoVerifica, ErroreStore> {
        let r = self.verifica_audit(&[]).await?;
        Ok(match r.anomalie.first() {
            None => EsitoVerifica::Valida {
                voci: r.voci,
                ultimo_hash: r.ultimo_hash,
            },
            Some(a) => EsitoVerifica::Rotta {
                id: a.id(),
                motivo: a.to_string(),
            },
        })
    }
}

/// Rows per INSERT of the synthetic chain. More is slower on SQLite: binding a parameter looks
/// its `$N` name up among all the statement's names.
const RIGHE_PER_INSERT: usize = 40;

impl Store {
    /// Fills an EMPTY chain with `n` synthetic entries, valid and chained, one every `passo_ms`
    /// from `primo_istante_ms`, in one transaction: for `rivesto bench audit` and for tests
    /// that need old entries. They look like real ones (sign-ins, requests, ANPR call chunks,
    /// downloads) and hold no personal data. A chain that is not empty is refused.
    pub async fn popola_audit_sintetico(
        &self,
        n: u64,
        primo_istante_ms: i64,
        passo_ms: i64,
    ) -> Result<(), ErroreStore> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        scrivi!(self, |tx| {
            let presente = sqlx::query("SELECT id FROM audit_entries LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
            if presente.is_some() {
                return Err(ErroreStore::StatoNonAmmesso {
                    oggetto: "catena di audit".into(),
                    attuale: "non vuota".into(),
                    attesi: "vuota".into(),
                });
            }
            let mut precedente = HASH_INIZIALE.to_string();
            let mut id = 1;
            while id <= n {
                let quante = usize::try_from((n - id + 1).min(RIGHE_PER_INSERT as i64))
                    .unwrap_or(RIGHE_PER_INSERT);
                let mut voci = Vec::with_capacity(quante);
                for _ in 0..quante {
                    let voce =
                        voce_sintetica(id, primo_istante_ms + (id - 1) * passo_ms, precedente);
                    precedente = voce.hash.clone();
                    voci.push(voce);
                    id += 1;
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql_inserimento(quante)));
                for v in &voci {
                    q = q
                        .bind(v.id)
                        .bind(v.istante_ms)
                        .bind(&v.attore)
                        .bind(&v.ruolo)
                        .bind(&v.comune)
                        .bind(&v.ente)
                        .bind(&v.oggetto)
                        .bind(&v.azione)
                        .bind(&v.dettagli)
                        .bind(&v.hash_precedente)
                        .bind(&v.hash);
                }
                q.execute(&mut *tx).await?;
            }
        });
        Ok(())
    }
}

fn sql_inserimento(righe: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO audit_entries (id, istante_ms, attore, ruolo, comune, ente, oggetto, \
         azione, dettagli, hash_precedente, hash) VALUES ",
    );
    for r in 0..righe {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..11 {
            if c > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("${}", r * 11 + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// A plausible entry, by its position in a cycle of ten: four ANPR call chunks, two sign-ins,
/// a request created, one approved, a download and a sign-out.
fn voce_sintetica(id: i64, istante_ms: i64, hash_precedente: String) -> VoceAudit {
    use serde_json::json;
    let richiesta = id / 10 + 1;
    let utente = format!("utente.{:03}", id % 97);
    let (attore, ruolo, oggetto, azione, dettagli) = match id % 10 {
        0 | 5 => (
            utente.clone(),
            Some("STANDARD"),
            format!("utente:{utente}"),
            "ACCESSO",
            json!({"metodo": "password", "secondo_fattore": id % 20 == 0}),
        ),
        1 => (
            utente.clone(),
            Some("STANDARD"),
            format!("richiesta:{richiesta}"),
            "RICHIESTA_CREATA",
            json!({"convenzione_id": 3, "righe": 120, "motivo": format!("PROT-2026-{richiesta:06}")}),
        ),
        4 => (
            "top.c030".to_string(),
            Some("TOP"),
            format!("richiesta:{richiesta}"),
            "RICHIESTA_CONVALIDATA",
            json!({"da": "IN_ATTESA_CONVALIDA", "a": "CONVALIDATA", "nota": null}),
        ),
        8 => (
            utente.clone(),
            Some("STANDARD"),
            format!("richiesta:{richiesta}"),
            "FILE_RISPOSTA_SCARICATO",
            json!({"file": format!("esito-{richiesta}.csv.age"), "righe": 120,
                   "sha256": hex::encode(aws_lc_rs::digest::digest(&SHA256, &id.to_be_bytes()))}),
        ),
        9 => (
            utente.clone(),
            Some("STANDARD"),
            format!("utente:{utente}"),
            "USCITA",
            json!({}),
        ),
        _ => {
            let chiamate: Vec<_> = (0..3)
                .map(|k| {
                    json!({
                        "riga": (id % 40) * 3 + k + 1,
                        "servizio": "C030",
                        "id_operazione_client": format!("{}", 1_766_578_458_000 + id * 3 + k),
                        "id_operazione_anpr": format!("{}", 9_120_000_000_000i64 + id * 3 + k),
                        "esito": if k == 2 { "NON_TROVATO" } else { "TROVATO" },
                    })
                })
                .collect();
            (
                "sistema".to_string(),
                None,
                format!("richiesta:{richiesta}"),
                "CHIAMATE_ANPR",
                json!({"processo": "worker-4242-1a2b3c4d", "righe": 3, "chiamate": chiamate}),
            )
        }
    };
    let mut voce = VoceAudit {
        id,
        istante_ms,
        attore,
        ruolo: ruolo.map(str::to_string),
        comune: Some("015146".into()),
        ente: (id % 10 != 4).then(|| "80012345678".to_string()),
        oggetto,
        azione: azione.into(),
        dettagli: dettagli.to_string(),
        hash_precedente,
        hash: String::new(),
    };
    voce.hash = voce.calcola_hash();
    voce
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codifica_canonica_scritta_a_mano() {
        let v = VoceAudit {
            id: 1,
            istante_ms: 2,
            attore: "sistema".into(),
            ruolo: None,
            comune: Some("C".into()),
            ente: None,
            oggetto: "o".into(),
            azione: "a".into(),
            dettagli: "{}".into(),
            hash_precedente: HASH_INIZIALE.into(),
            hash: String::new(),
        };
        let mut b = b"rivesto-audit-v1\n".to_vec();
        b.extend([0, 0, 0, 64]);
        b.extend([b'0'; 64]);
        b.extend([0, 0, 0, 0, 0, 0, 0, 1]);
        b.extend([0, 0, 0, 0, 0, 0, 0, 2]);
        b.extend([0, 0, 0, 7]);
        b.extend(b"sistema");
        b.extend([0, 1, 0, 0, 0, 1, b'C', 0]);
        b.extend([0, 0, 0, 1, b'o', 0, 0, 0, 1, b'a', 0, 0, 0, 2, b'{', b'}']);
        assert_eq!(v.calcola_hash(), hex::encode(Sha256::digest(&b)));
        // NULL and empty text differ.
        let mut vuoto = v.clone();
        vuoto.ruolo = Some(String::new());
        assert_ne!(vuoto.calcola_hash(), v.calcola_hash());
    }

    fn voce(attore: String, oggetto: String, ruolo: Option<String>) -> VoceAudit {
        VoceAudit {
            id: 7,
            istante_ms: 1_780_000_000_000,
            attore,
            ruolo,
            comune: None,
            ente: None,
            oggetto,
            azione: "A".into(),
            dettagli: "{}".into(),
            hash_precedente: HASH_INIZIALE.into(),
            hash: String::new(),
        }
    }

    proptest::proptest! {
        /// Moving bytes across a field boundary always changes the hash: the encoding is
        /// unambiguous.
        #[test]
        fn confini_dei_campi(a in ".{0,12}", b in ".{0,12}", taglio in 0usize..12) {
            let unito = format!("{a}{b}");
            let taglio = (0..=taglio.min(unito.len())).rev().find(|i| unito.is_char_boundary(*i)).unwrap_or(0);
            let (x, y) = unito.split_at(taglio);
            let h1 = voce(a.clone(), b.clone(), None).calcola_hash();
            let h2 = voce(x.to_string(), y.to_string(), None).calcola_hash();
            proptest::prop_assert_eq!(h1 == h2, a == x);
        }

        #[test]
        fn ogni_campo_conta(a in ".{0,12}", r in proptest::option::of(".{0,6}")) {
            let base = voce(a.clone(), "o".into(), r.clone());
            let mut altro = base.clone();
            altro.ruolo = Some(format!("{}x", r.clone().unwrap_or_default()));
            proptest::prop_assert_ne!(base.calcola_hash(), altro.calcola_hash());
            let mut id = base.clone();
            id.id += 1;
            proptest::prop_assert_ne!(base.calcola_hash(), id.calcola_hash());
        }
    }
}

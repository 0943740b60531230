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

use crate::{ErroreStore, Store, tempo::adesso_ms};
use sha2::{Digest as _, Sha256};
use sqlx::{PgConnection, Row as _, SqliteConnection};

/// The `hash_precedente` of the first entry.
pub const HASH_INIZIALE: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const DOMINIO: &[u8] = b"rivesto-audit-v1\n";
/// Key of the PostgreSQL advisory lock that serialises appends across processes.
const LOCK_CATENA: i64 = 0x7269_7665_7374_6f01;

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
        let mut h = Sha256::new();
        h.update(DOMINIO);
        testo(&mut h, &self.hash_precedente);
        h.update(self.id.to_be_bytes());
        h.update(self.istante_ms.to_be_bytes());
        testo(&mut h, &self.attore);
        for campo in [&self.ruolo, &self.comune, &self.ente] {
            opzionale(&mut h, campo.as_deref());
        }
        testo(&mut h, &self.oggetto);
        testo(&mut h, &self.azione);
        testo(&mut h, &self.dettagli);
        hex::encode(h.finalize())
    }
}

fn testo(h: &mut Sha256, s: &str) {
    let lunghezza = u32::try_from(s.len()).unwrap_or(u32::MAX);
    h.update(lunghezza.to_be_bytes());
    h.update(s.as_bytes());
}

fn opzionale(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
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

macro_rules! voce_da_riga {
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
                voci.push(voce_da_riga!(r));
            }
            Ok(voci)
        })
    }

    /// Recomputes the whole chain, a page at a time. It needs no master key.
    pub async fn verifica_catena(&self) -> Result<EsitoVerifica, ErroreStore> {
        let mut precedente = HASH_INIZIALE.to_string();
        let mut atteso = 1i64;
        loop {
            let voci = self.voci_audit(atteso - 1, 1000).await?;
            if voci.is_empty() {
                return Ok(EsitoVerifica::Valida {
                    voci: (atteso - 1) as u64,
                    ultimo_hash: precedente,
                });
            }
            for v in voci {
                if let Some(motivo) = difetto(&v, atteso, &precedente) {
                    return Ok(EsitoVerifica::Rotta { id: v.id, motivo });
                }
                precedente = v.hash;
                atteso += 1;
            }
        }
    }
}

fn difetto(v: &VoceAudit, atteso: i64, precedente: &str) -> Option<String> {
    if v.id != atteso {
        Some(format!(
            "voce mancante: attesa la {atteso}, trovata la {}",
            v.id
        ))
    } else if v.hash_precedente != precedente {
        Some("hash_precedente diverso dall'hash della voce precedente".into())
    } else if v.calcola_hash() != v.hash {
        Some("hash non corrispondente al contenuto: voce modificata".into())
    } else {
        None
    }
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

//! Signed checkpoints of the audit chain, the verification against them, the periodic
//! checkpoint and the retention purge (issue 6 "Integrity").
//!
//! A checkpoint attests that entry `fino_a_id` of `audit_entries` had hash `hash` at
//! `istante_ms`. It is signed with Ed25519 by the key kept encrypted in `segreti` (DESIGN §6)
//! and carries its public key, so verification needs only the database, plus any checkpoint
//! files kept elsewhere. Since each entry's hash covers the previous one, a checkpoint pins
//! every entry up to `fino_a_id`: rewriting them, even with every hash recomputed, or cutting
//! the tail below `fino_a_id` no longer matches it.
//!
//! Signed message (version 1), with `I` and `T` as in the chain's encoding ([`crate::audit`]):
//!
//! ```text
//! "rivesto-audit-checkpoint-v1\n" I(fino_a_id) T(hash) I(istante_ms) T(tipo)
//! ```
//!
//! `tipo` is `PERIODICO` (the worker's), `SU_RICHIESTA` (`rivesto audit checkpoint`) or
//! `TAGLIO` (a purge: the entries up to `fino_a_id` were removed, and the chain goes on from
//! `fino_a_id + 1`, whose `hash_precedente` is `hash`). The JSON file of a checkpoint holds the
//! same fields plus `formato`, the public key and the signature, in lowercase hex.

use crate::audit::{Attore, Audit, ConnessioneAudit as _, HASH_INIZIALE, LOCK_CATENA, VoceLetta};
use crate::connessione::Motore;
use crate::segreti::ChiaveMaestra;
use crate::tempo::adesso_ms;
use crate::{ErroreStore, Store};
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use chrono::{Months, NaiveDate, TimeZone as _};
use chrono_tz::Europe::Rome;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use std::fmt;

/// The `formato` of a checkpoint file, and the name of the signed message's version.
pub const FORMATO_CHECKPOINT: &str = "rivesto-audit-checkpoint-v1";
const DOMINIO: &[u8] = b"rivesto-audit-checkpoint-v1\n";
/// How long the archive is kept when the operator does not say otherwise.
pub const MESI_CONSERVAZIONE_PREDEFINITI: u32 = 24;
/// The worker's checkpoint interval.
pub const INTERVALLO_PERIODICO_MS: i64 = 3_600_000;
/// Entries read per query while verifying. An engine's chunk entry lists every call of the
/// chunk, about 160 KB for 640 rows: 10,000 entries per query held over 200 MB at once in the
/// hourly checkpoint of a 1,000,000-row run (1,426 such entries). 64 keep a page near 10 MB at
/// worst; the id index makes each query a seek.
const PAGINA: i64 = 64;
/// Faults listed one by one; beyond this they are only counted.
const MAX_ANOMALIE: usize = 100;
/// Serialises the periodic checkpoint's check-then-insert across PostgreSQL processes.
const LOCK_CHECKPOINT: i64 = 0x7269_7665_7374_6f02;

const SQL_PAGINA: &str = "SELECT id, istante_ms, attore, ruolo, comune, ente, oggetto, azione, \
                          dettagli, hash_precedente, hash FROM audit_entries WHERE id > $1 \
                          ORDER BY id LIMIT $2";
const SQL_CHECKPOINT: &str = "SELECT id, fino_a_id, hash, istante_ms, tipo, chiave_pubblica, \
                              firma FROM audit_checkpoints ORDER BY id";
const SQL_INSERISCI: &str = "INSERT INTO audit_checkpoints (fino_a_id, hash, istante_ms, tipo, \
                             chiave_pubblica, firma) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// Why a checkpoint was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TipoCheckpoint {
    Periodico,
    SuRichiesta,
    Taglio,
}

impl TipoCheckpoint {
    pub fn come_testo(self) -> &'static str {
        match self {
            TipoCheckpoint::Periodico => "PERIODICO",
            TipoCheckpoint::SuRichiesta => "SU_RICHIESTA",
            TipoCheckpoint::Taglio => "TAGLIO",
        }
    }

    pub fn da_testo(s: &str) -> Option<Self> {
        [Self::Periodico, Self::SuRichiesta, Self::Taglio]
            .into_iter()
            .find(|t| t.come_testo() == s)
    }
}

/// A signed checkpoint, as stored in `audit_checkpoints` and as written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub formato: String,
    pub fino_a_id: i64,
    pub hash: String,
    pub istante_ms: i64,
    pub tipo: TipoCheckpoint,
    /// The Ed25519 public key, 32 bytes in hex.
    pub chiave_pubblica: String,
    /// The signature of [`Checkpoint::messaggio`], 64 bytes in hex.
    pub firma: String,
}

impl Checkpoint {
    /// The signed bytes (see the module documentation).
    pub fn messaggio(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(DOMINIO.len() + 100);
        m.extend_from_slice(DOMINIO);
        m.extend_from_slice(&self.fino_a_id.to_be_bytes());
        testo(&mut m, &self.hash);
        m.extend_from_slice(&self.istante_ms.to_be_bytes());
        testo(&mut m, self.tipo.come_testo());
        m
    }

    /// Whether the signature is valid for the public key the checkpoint carries. Whether that
    /// key is the installation's is for the caller to judge (see [`RapportoVerifica`]).
    pub fn firma_valida(&self) -> bool {
        let (Ok(chiave), Ok(firma)) =
            (hex::decode(&self.chiave_pubblica), hex::decode(&self.firma))
        else {
            return false;
        };
        self.formato == FORMATO_CHECKPOINT
            && chiave.len() == 32
            && UnparsedPublicKey::new(&ED25519, &chiave)
                .verify(&self.messaggio(), &firma)
                .is_ok()
    }

    /// The file form: pretty JSON with a final newline.
    pub fn in_json(&self) -> Result<String, ErroreAudit> {
        let mut s =
            serde_json::to_string_pretty(self).map_err(|e| ErroreStore::json("checkpoint", e))?;
        s.push('\n');
        Ok(s)
    }

    pub fn da_json(testo: &str) -> Result<Self, ErroreAudit> {
        serde_json::from_str(testo).map_err(|e| ErroreAudit::CheckpointIlleggibile(e.to_string()))
    }
}

fn testo(m: &mut Vec<u8>, s: &str) {
    let lunghezza = u32::try_from(s.len()).unwrap_or(u32::MAX);
    m.extend_from_slice(&lunghezza.to_be_bytes());
    m.extend_from_slice(s.as_bytes());
}

/// A checkpoint kept outside the database, with the name it is reported by (its file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointEsterno {
    pub nome: String,
    pub checkpoint: Checkpoint,
}

/// Errors of checkpoints and of the purge. Italian: the operator reads them.
#[derive(Debug, thiserror::Error)]
pub enum ErroreAudit {
    #[error(transparent)]
    Store(#[from] ErroreStore),
    #[error("la catena di audit è vuota: nessuna voce da certificare")]
    CatenaVuota,
    #[error(
        "la catena di audit non è integra, operazione rifiutata (dettagli con rivesto audit verify): {0}"
    )]
    CatenaAlterata(String),
    #[error(
        "i checkpoint del database sono firmati con la chiave {trovata}, non con quella di questo \
         server ({attesa}): operazione rifiutata"
    )]
    ChiaveDiversa { attesa: String, trovata: String },
    #[error(
        "la data {prima_di} è entro il periodo di conservazione di {mesi} mesi: la più recente \
         ammessa è il {limite}"
    )]
    EntroConservazione {
        prima_di: String,
        mesi: u32,
        limite: String,
    },
    #[error(
        "il ruolo PostgreSQL {ruolo} non può cancellare da audit_entries: la purga va eseguita \
         come proprietario del database, con il suo URL (come rivesto migrate)"
    )]
    RuoloNonProprietario { ruolo: String },
    #[error("file di checkpoint non valido: {0}")]
    CheckpointIlleggibile(String),
    #[error("chiave dei checkpoint: {0}")]
    Chiave(&'static str),
}

impl From<sqlx::Error> for ErroreAudit {
    fn from(e: sqlx::Error) -> Self {
        ErroreAudit::Store(e.into())
    }
}

/// Where a checkpoint comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origine {
    /// A row of `audit_checkpoints`, by its id.
    Database { id: i64 },
    /// A checkpoint given to the verification, by the name it came with (its file).
    Esterno { nome: String },
}

impl fmt::Display for Origine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origine::Database { id } => write!(f, "checkpoint n. {id} del database"),
            Origine::Esterno { nome } => write!(f, "checkpoint del file {nome}"),
        }
    }
}

/// A fault found by the verification, naming the entry or the range it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomalia {
    /// The entry's columns do not give its hash: edited, or swapped with another entry.
    VoceAlterata {
        id: i64,
    },
    /// The entry's `hash_precedente` is not the previous entry's hash.
    CollegamentoRotto {
        id: i64,
    },
    /// Ids missing inside the chain, or at its start.
    VociMancanti {
        da: i64,
        a: i64,
    },
    /// The tail is missing up to an entry a checkpoint certifies.
    CodaTroncata {
        da: i64,
        a: i64,
        origine: Origine,
    },
    /// Entries at or below a purge cut, which the purge removed.
    VociPrimaDelTaglio {
        da: i64,
        a: i64,
        taglio: i64,
    },
    FirmaNonValida {
        origine: Origine,
        fino_a_id: i64,
    },
    /// A valid signature by another key than the reference one (see [`RapportoVerifica`]).
    ChiaveDiversa {
        origine: Origine,
        fino_a_id: i64,
    },
    /// The checkpoint's hash is not the stored hash of the entry it certifies.
    HashDiverso {
        origine: Origine,
        fino_a_id: i64,
    },
}

impl Anomalia {
    /// The first entry id the fault concerns.
    pub fn id(&self) -> i64 {
        match self {
            Anomalia::VoceAlterata { id } | Anomalia::CollegamentoRotto { id } => *id,
            Anomalia::VociMancanti { da, .. }
            | Anomalia::CodaTroncata { da, .. }
            | Anomalia::VociPrimaDelTaglio { da, .. } => *da,
            Anomalia::FirmaNonValida { fino_a_id, .. }
            | Anomalia::ChiaveDiversa { fino_a_id, .. }
            | Anomalia::HashDiverso { fino_a_id, .. } => *fino_a_id,
        }
    }
}

fn voci_cancellate(n: i64) -> String {
    if n == 1 {
        "1 voce cancellata".into()
    } else {
        format!(
            "{} voci cancellate",
            domain::numeri::migliaia(n.unsigned_abs())
        )
    }
}

impl fmt::Display for Anomalia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomalia::VoceAlterata { id } => write!(
                f,
                "voce {id}: il contenuto non corrisponde al suo hash (voce modificata, o \
                 scambiata con un'altra)"
            ),
            Anomalia::CollegamentoRotto { id: 1 } => write!(
                f,
                "voce 1: hash_precedente diverso dal valore iniziale della catena (64 zeri)"
            ),
            Anomalia::CollegamentoRotto { id } => write!(
                f,
                "voce {id}: hash_precedente diverso dall'hash della voce {} (voci riordinate, o \
                 una delle due riscritta)",
                id - 1
            ),
            Anomalia::VociMancanti { da, a } => write!(
                f,
                "voci mancanti da {da} a {a} ({})",
                voci_cancellate(a - da + 1)
            ),
            Anomalia::CodaTroncata { da, a, origine } => write!(
                f,
                "coda della catena troncata: voci mancanti da {da} a {a} ({}; il {origine} \
                 certifica la catena fino alla voce {a})",
                voci_cancellate(a - da + 1)
            ),
            Anomalia::VociPrimaDelTaglio { da, a, taglio } => write!(
                f,
                "voci da {da} a {a} presenti sotto il taglio della purga (voce {taglio}): la \
                 purga le aveva rimosse"
            ),
            Anomalia::FirmaNonValida { origine, fino_a_id } => write!(
                f,
                "{origine} (fino alla voce {fino_a_id}): firma non valida"
            ),
            Anomalia::ChiaveDiversa { origine, fino_a_id } => write!(
                f,
                "{origine} (fino alla voce {fino_a_id}): firmato con una chiave diversa da \
                 quella di riferimento"
            ),
            Anomalia::HashDiverso { origine, fino_a_id } => write!(
                f,
                "{origine}: l'hash certificato per la voce {fino_a_id} non è quello della voce \
                 nel database (catena riscritta)"
            ),
        }
    }
}

/// What became of a checkpoint given from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatoCheckpoint {
    /// Its hash is the stored hash of its entry (or of the purge cut).
    Confermato,
    /// It certifies entries a later purge removed: nothing left to compare.
    AnterioreAlTaglio,
    /// A fault (see the report's faults).
    NonConfermato,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsitoCheckpoint {
    pub origine: Origine,
    pub fino_a_id: i64,
    pub tipo: TipoCheckpoint,
    pub istante_ms: i64,
    pub stato: StatoCheckpoint,
}

/// The result of a verification. The reference key is the first external checkpoint's, or
/// else the first stored checkpoint's: checkpoints signed by any other key are faults and are
/// not trusted, so a key forged into the database is caught by a file kept elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RapportoVerifica {
    /// Entries recomputed (those after the purge cut).
    pub voci: u64,
    pub primo_id: Option<i64>,
    pub ultimo_id: Option<i64>,
    /// The last entry's stored hash (the cut's, or 64 zeros, when there is none).
    pub ultimo_hash: String,
    /// The latest purge cut: the chain starts after this id.
    pub taglio: Option<i64>,
    pub checkpoint_database: u64,
    /// Checkpoints (stored or external) whose hash matched their entry or the cut.
    pub checkpoint_confermati: u64,
    /// The highest entry a trusted checkpoint certifies.
    pub ultimo_checkpoint: Option<i64>,
    /// The reference public key, in hex.
    pub chiave_pubblica: Option<String>,
    pub esterni: Vec<EsitoCheckpoint>,
    pub anomalie: Vec<Anomalia>,
    /// Faults beyond the listed ones.
    pub anomalie_omesse: u64,
}

impl RapportoVerifica {
    pub fn integra(&self) -> bool {
        self.anomalie.is_empty()
    }

    /// The faults on one line, for an error message.
    pub fn riassunto(&self) -> String {
        let mut s = self
            .anomalie
            .iter()
            .take(5)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let altre = (self.anomalie.len() as u64).saturating_sub(5) + self.anomalie_omesse;
        if altre > 0 {
            s.push_str(&format!("; e altre {altre}"));
        }
        s
    }
}

struct Candidato {
    origine: Origine,
    cp: Checkpoint,
    stato: StatoCheckpoint,
}

/// The chain recomputed one entry at a time: the state is a few integers and the previous
/// hash, so memory does not grow with the chain.
struct Verificatore {
    candidati: Vec<Candidato>,
    /// Trusted checkpoints above the cut, by `fino_a_id`; `cursore` is the next to meet.
    da_incontrare: Vec<usize>,
    cursore: usize,
    taglio: i64,
    atteso: i64,
    precedente: Vec<u8>,
    dopo_lacuna: bool,
    voci: u64,
    primo_id: Option<i64>,
    ultimo_id: Option<i64>,
    confermati: u64,
    checkpoint_database: u64,
    chiave: Option<String>,
    anomalie: Vec<Anomalia>,
    omesse: u64,
}

impl Verificatore {
    /// A walk of the entries after `dopo_id`, the first of which must link to `hash`.
    fn da(dopo_id: i64, hash: &str) -> Self {
        Verificatore {
            candidati: Vec::new(),
            da_incontrare: Vec::new(),
            cursore: 0,
            taglio: dopo_id,
            atteso: dopo_id + 1,
            precedente: hash.as_bytes().to_vec(),
            dopo_lacuna: false,
            voci: 0,
            primo_id: None,
            ultimo_id: None,
            confermati: 0,
            checkpoint_database: 0,
            chiave: None,
            anomalie: Vec::new(),
            omesse: 0,
        }
    }

    /// The whole chain against these checkpoints: their signatures and keys are judged first,
    /// and the latest trusted cut sets where the chain starts.
    fn con_checkpoint(salvati: Vec<(i64, Checkpoint)>, esterni: &[CheckpointEsterno]) -> Self {
        let mut v = Verificatore::da(0, HASH_INIZIALE);
        v.checkpoint_database = salvati.len() as u64;
        let esterni = esterni.iter().map(|e| {
            let origine = Origine::Esterno {
                nome: e.nome.clone(),
            };
            (origine, e.checkpoint.clone())
        });
        let salvati = salvati
            .into_iter()
            .map(|(id, cp)| (Origine::Database { id }, cp));
        v.candidati = esterni
            .chain(salvati)
            .map(|(origine, cp)| Candidato {
                origine,
                cp,
                stato: StatoCheckpoint::NonConfermato,
            })
            .collect();
        let fidati = v.giudica_firme();
        v.imposta_taglio(&fidati);
        v
    }

    fn giudica_firme(&mut self) -> Vec<usize> {
        let mut fidati = Vec::new();
        let mut anomalie = Vec::new();
        for (i, c) in self.candidati.iter().enumerate() {
            let (origine, fino_a_id) = (c.origine.clone(), c.cp.fino_a_id);
            if !c.cp.firma_valida() {
                anomalie.push(Anomalia::FirmaNonValida { origine, fino_a_id });
                continue;
            }
            match &self.chiave {
                None => self.chiave = Some(c.cp.chiave_pubblica.clone()),
                Some(k) if *k != c.cp.chiave_pubblica => {
                    anomalie.push(Anomalia::ChiaveDiversa { origine, fino_a_id });
                    continue;
                }
                Some(_) => {}
            }
            fidati.push(i);
        }
        for a in anomalie {
            self.anomalia(a);
        }
        fidati
    }

    fn imposta_taglio(&mut self, fidati: &[usize]) {
        let taglio = fidati
            .iter()
            .map(|&i| &self.candidati[i].cp)
            .filter(|cp| cp.tipo == TipoCheckpoint::Taglio)
            .max_by_key(|cp| cp.fino_a_id)
            .map(|cp| (cp.fino_a_id, cp.hash.clone()));
        if let Some((id, hash)) = &taglio {
            self.taglio = *id;
            self.atteso = id + 1;
            self.precedente = hash.as_bytes().to_vec();
        }
        let mut anomalie = Vec::new();
        for &i in fidati {
            let c = &mut self.candidati[i];
            if c.cp.fino_a_id > self.taglio {
                self.da_incontrare.push(i);
            } else if c.cp.fino_a_id < self.taglio {
                c.stato = StatoCheckpoint::AnterioreAlTaglio;
            } else if c.cp.hash.as_bytes() == self.precedente.as_slice() {
                c.stato = StatoCheckpoint::Confermato;
                self.confermati += 1;
            } else {
                anomalie.push(Anomalia::HashDiverso {
                    origine: c.origine.clone(),
                    fino_a_id: c.cp.fino_a_id,
                });
            }
        }
        let candidati = &self.candidati;
        self.da_incontrare
            .sort_by_key(|&i| candidati[i].cp.fino_a_id);
        for a in anomalie {
            self.anomalia(a);
        }
    }

    fn anomalia(&mut self, a: Anomalia) {
        if self.anomalie.len() < MAX_ANOMALIE {
            self.anomalie.push(a);
        } else {
            self.omesse += 1;
        }
    }

    fn prima_del_taglio(&mut self, da: i64, a: i64) {
        let taglio = self.taglio;
        self.anomalia(Anomalia::VociPrimaDelTaglio { da, a, taglio });
    }

    /// The next entry by id.
    fn voce(&mut self, v: &VoceLetta<'_>) {
        self.lacuna_prima_di(v.id);
        // After a gap the link cannot match: the gap already names the fault.
        if !self.dopo_lacuna && v.hash_precedente.as_bytes() != self.precedente.as_slice() {
            self.anomalia(Anomalia::CollegamentoRotto { id: v.id });
        }
        if v.hash_calcolato().as_slice() != v.hash.as_bytes() {
            self.anomalia(Anomalia::VoceAlterata { id: v.id });
        }
        self.incontra_checkpoint(v.id, v.hash);
        self.precedente.clear();
        self.precedente.extend_from_slice(v.hash.as_bytes());
        self.dopo_lacuna = false;
        self.contata(v.id);
    }

    /// An entry whose columns do not even decode (SQLite lets a BLOB or a number into a TEXT
    /// column): altered, and its hash unknown, so the next link is not judged.
    fn voce_illeggibile(&mut self, id: i64) {
        self.lacuna_prima_di(id);
        self.anomalia(Anomalia::VoceAlterata { id });
        self.incontra_checkpoint(id, "");
        self.precedente.clear();
        self.dopo_lacuna = true;
        self.contata(id);
    }

    fn lacuna_prima_di(&mut self, id: i64) {
        if id > self.atteso {
            let da = self.atteso;
            self.anomalia(Anomalia::VociMancanti { da, a: id - 1 });
            self.dopo_lacuna = true;
        }
    }

    fn contata(&mut self, id: i64) {
        self.primo_id.get_or_insert(id);
        self.ultimo_id = Some(id);
        self.voci += 1;
        self.atteso = id + 1;
    }

    /// Compares the checkpoints that certify entry `id`; those that certified an entry of a
    /// gap are passed over (the gap is the fault).
    fn incontra_checkpoint(&mut self, id: i64, hash: &str) {
        while let Some(&i) = self.da_incontrare.get(self.cursore) {
            let c = &mut self.candidati[i];
            if c.cp.fino_a_id > id {
                break;
            }
            self.cursore += 1;
            if c.cp.fino_a_id < id {
                continue;
            }
            if c.cp.hash == hash {
                c.stato = StatoCheckpoint::Confermato;
                self.confermati += 1;
            } else {
                let a = Anomalia::HashDiverso {
                    origine: c.origine.clone(),
                    fino_a_id: id,
                };
                self.anomalia(a);
            }
        }
    }

    fn rapporto(mut self) -> RapportoVerifica {
        let ultimo = self.ultimo_id.unwrap_or(self.taglio);
        let oltre = self.da_incontrare[self.cursore..]
            .iter()
            .map(|&i| &self.candidati[i])
            .max_by_key(|c| c.cp.fino_a_id)
            .map(|c| (c.cp.fino_a_id, c.origine.clone()));
        if let Some((a, origine)) = oltre {
            self.anomalia(Anomalia::CodaTroncata {
                da: ultimo + 1,
                a,
                origine,
            });
        }
        let ultimo_checkpoint = self
            .da_incontrare
            .last()
            .map(|&i| self.candidati[i].cp.fino_a_id)
            .or((self.taglio > 0).then_some(self.taglio));
        let esterni = self
            .candidati
            .iter()
            .filter(|c| matches!(c.origine, Origine::Esterno { .. }))
            .map(|c| EsitoCheckpoint {
                origine: c.origine.clone(),
                fino_a_id: c.cp.fino_a_id,
                tipo: c.cp.tipo,
                istante_ms: c.cp.istante_ms,
                stato: c.stato,
            })
            .collect();
        RapportoVerifica {
            voci: self.voci,
            primo_id: self.primo_id,
            ultimo_id: self.ultimo_id,
            ultimo_hash: String::from_utf8_lossy(&self.precedente).into_owned(),
            taglio: (self.taglio > 0).then_some(self.taglio),
            checkpoint_database: self.checkpoint_database,
            checkpoint_confermati: self.confermati,
            ultimo_checkpoint,
            chiave_pubblica: self.chiave,
            esterni,
            anomalie: self.anomalie,
            anomalie_omesse: self.omesse,
        }
    }
}

/// Reads the stored checkpoints on `$ex`. A row whose `tipo` is unknown (the CHECK dropped
/// and the row forged) is kept with a `formato` that no signature matches, so it is reported.
macro_rules! leggi_checkpoint {
    ($ex:expr) => {{
        let righe = sqlx::query(SQL_CHECKPOINT).fetch_all($ex).await?;
        let mut salvati = Vec::with_capacity(righe.len());
        for r in &righe {
            let tipo: String = r.try_get(4)?;
            let (tipo, formato) = match TipoCheckpoint::da_testo(&tipo) {
                Some(t) => (t, FORMATO_CHECKPOINT.to_string()),
                None => (
                    TipoCheckpoint::Periodico,
                    format!("tipo sconosciuto {tipo}"),
                ),
            };
            let cp = Checkpoint {
                formato,
                fino_a_id: r.try_get(1)?,
                hash: r.try_get(2)?,
                istante_ms: r.try_get(3)?,
                tipo,
                chiave_pubblica: r.try_get(5)?,
                firma: r.try_get(6)?,
            };
            salvati.push((r.try_get::<i64, _>(0)?, cp));
        }
        salvati
    }};
}

/// An entry's columns, borrowed from its row.
fn voce_letta<'r, R>(r: &'r R, id: i64) -> Result<VoceLetta<'r>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(VoceLetta {
        id,
        istante_ms: r.try_get(1)?,
        attore: r.try_get(2)?,
        ruolo: r.try_get(3)?,
        comune: r.try_get(4)?,
        ente: r.try_get(5)?,
        oggetto: r.try_get(6)?,
        azione: r.try_get(7)?,
        dettagli: r.try_get(8)?,
        hash_precedente: r.try_get(9)?,
        hash: r.try_get(10)?,
    })
}

/// Feeds `$v` every entry after `$dopo`, a page at a time, decoding the text columns as
/// slices of the rows.
macro_rules! percorri {
    ($conn:expr, $v:expr, $dopo:expr) => {{
        let mut dopo: i64 = $dopo;
        loop {
            let righe = sqlx::query(SQL_PAGINA)
                .bind(dopo)
                .bind(PAGINA)
                .fetch_all(&mut *$conn)
                .await?;
            for r in &righe {
                let id: i64 = r.try_get(0)?;
                match voce_letta(r, id) {
                    Ok(voce) => $v.voce(&voce),
                    Err(_) => $v.voce_illeggibile(id),
                }
                dopo = id;
            }
            if (righe.len() as i64) < PAGINA {
                break;
            }
        }
    }};
}

/// The whole verification inside one read transaction `$tx`, so that it sees one state of
/// the database even while entries are appended.
macro_rules! verifica_in {
    ($tx:expr, $esterni:expr) => {{
        let salvati = leggi_checkpoint!(&mut *$tx);
        let mut v = Verificatore::con_checkpoint(salvati, $esterni);
        if v.taglio > 0 {
            let r = sqlx::query("SELECT MIN(id), MAX(id) FROM audit_entries WHERE id <= $1")
                .bind(v.taglio)
                .fetch_one(&mut *$tx)
                .await?;
            if let (Some(da), Some(a)) = (r.try_get::<Option<i64>, _>(0)?, r.try_get(1)?) {
                v.prima_del_taglio(da, a);
            }
        }
        let dopo = v.taglio;
        percorri!($tx, v, dopo);
        v.rapporto()
    }};
}

/// Inserts `$cp` on the transaction `$tx`; evaluates to the new row's id.
macro_rules! inserisci {
    ($tx:expr, $cp:expr) => {{
        let cp: &Checkpoint = $cp;
        let r = sqlx::query(SQL_INSERISCI)
            .bind(cp.fino_a_id)
            .bind(&cp.hash)
            .bind(cp.istante_ms)
            .bind(cp.tipo.come_testo())
            .bind(&cp.chiave_pubblica)
            .bind(&cp.firma)
            .fetch_one(&mut *$tx)
            .await?;
        r.try_get::<i64, _>(0)?
    }};
}

/// The key that signs checkpoints, with its public half in hex.
struct Firmatario {
    coppia: Ed25519KeyPair,
    pubblica: String,
}

impl Firmatario {
    fn firma(&self, fino_a_id: i64, hash: &str, tipo: TipoCheckpoint) -> Checkpoint {
        let mut cp = Checkpoint {
            formato: FORMATO_CHECKPOINT.into(),
            fino_a_id,
            hash: hash.into(),
            istante_ms: adesso_ms(),
            tipo,
            chiave_pubblica: self.pubblica.clone(),
            firma: String::new(),
        };
        cp.firma = hex::encode(self.coppia.sign(&cp.messaggio()).as_ref());
        cp
    }
}

/// The Europe/Rome midnight that starts `giorno`, in UTC epoch ms.
fn inizio_giorno_roma(giorno: NaiveDate) -> i64 {
    let mezzanotte = giorno.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Midnight always exists in Rome: the DST changes happen at 02:00 and 03:00.
    Rome.from_local_datetime(&mezzanotte)
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

fn oggi_roma(ora_ms: i64) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(ora_ms).unwrap_or_default();
    Rome.from_utc_datetime(&utc.naive_utc()).date_naive()
}

/// The latest `--before` date the retention allows on `oggi`: `oggi` minus `mesi` months (the
/// last day of the month when that day does not exist).
pub fn limite_conservazione(oggi: NaiveDate, mesi: u32) -> NaiveDate {
    oggi.checked_sub_months(Months::new(mesi))
        .unwrap_or(NaiveDate::MIN)
}

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsitoPurga {
    pub voci_rimosse: u64,
    /// The removed ids, `da_id..=a_id`; `None` when nothing was older than the date.
    pub intervallo: Option<(i64, i64)>,
    /// The TAGLIO checkpoint left at the cut.
    pub checkpoint: Option<Checkpoint>,
    /// The id of the purge's own audit entry.
    pub voce_audit: Option<i64>,
}

/// The purge's parameters, computed before its transaction.
struct Taglio {
    prima_di: NaiveDate,
    mesi: u32,
    /// Entries from this instant on are kept.
    istante_ms: i64,
    /// The last id the preceding verification covered: the cut never goes beyond it.
    verificata: i64,
}

/// The purge's writes on `$tx`, which holds the chain's lock. The audit entry is appended
/// BEFORE the delete: the table is then never empty, so the entry links to the last one
/// rather than starting a new chain at id 1.
macro_rules! purga_in {
    ($tx:expr, $taglio:expr, $f:expr, $attore:expr) => {{
        let t: &Taglio = $taglio;
        let r = sqlx::query("SELECT MIN(id), MAX(id) FROM audit_entries")
            .fetch_one(&mut *$tx)
            .await?;
        let (primo, ultimo): (Option<i64>, Option<i64>) = (r.try_get(0)?, r.try_get(1)?);
        let r = sqlx::query("SELECT MIN(id) FROM audit_entries WHERE istante_ms >= $1")
            .bind(t.istante_ms)
            .fetch_one(&mut *$tx)
            .await?;
        let primo_tenuto: Option<i64> = r.try_get(0)?;
        let k = primo_tenuto
            .map(|m| m - 1)
            .or(ultimo)
            .unwrap_or(0)
            .min(t.verificata);
        match primo {
            Some(primo) if k >= primo => {
                let hash_k: String = sqlx::query("SELECT hash FROM audit_entries WHERE id = $1")
                    .bind(k)
                    .fetch_one(&mut *$tx)
                    .await?
                    .try_get(0)?;
                let cp = $f.firma(k, &hash_k, TipoCheckpoint::Taglio);
                let cp_id = inserisci!($tx, &cp);
                let audit = Audit::nuovo($attore, "audit", "AUDIT_PURGATO").con_dettagli(
                    serde_json::json!({
                        "prima_di": t.prima_di.format("%Y-%m-%d").to_string(),
                        "mesi_conservazione": t.mesi,
                        "da_id": primo,
                        "a_id": k,
                        "voci_rimosse": k - primo + 1,
                        "hash_taglio": hash_k,
                        "checkpoint_id": cp_id,
                    }),
                );
                let voce = $tx.appendi_audit(&audit).await?;
                let rimosse = sqlx::query("DELETE FROM audit_entries WHERE id <= $1")
                    .bind(k)
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected();
                EsitoPurga {
                    voci_rimosse: rimosse,
                    intervallo: Some((primo, k)),
                    checkpoint: Some(cp),
                    voce_audit: Some(voce),
                }
            }
            _ => EsitoPurga {
                voci_rimosse: 0,
                intervallo: None,
                checkpoint: None,
                voce_audit: None,
            },
        }
    }};
}

impl Store {
    /// Verifies the chain against the stored checkpoints and `esterni`, in one read
    /// transaction, a page at a time. It needs no master key: signatures are checked with the
    /// public key each checkpoint carries.
    pub async fn verifica_audit(
        &self,
        esterni: &[CheckpointEsterno],
    ) -> Result<RapportoVerifica, ErroreStore> {
        match &self.motore {
            Motore::Sqlite(s) => {
                // Under WAL a read transaction sees one snapshot from its first read on.
                let mut tx = s.lettura.begin().await?;
                let rapporto = verifica_in!(tx, esterni);
                tx.rollback().await?;
                Ok(rapporto)
            }
            Motore::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                let rapporto = verifica_in!(tx, esterni);
                tx.rollback().await?;
                Ok(rapporto)
            }
        }
    }

    /// The stored checkpoints, oldest first, with their row ids.
    pub async fn checkpoint_audit_salvati(&self) -> Result<Vec<(i64, Checkpoint)>, ErroreStore> {
        Ok(leggi!(self, |ex| { leggi_checkpoint!(ex) }))
    }

    async fn firmatario(&self, chiave: &ChiaveMaestra) -> Result<Firmatario, ErroreAudit> {
        let pkcs8 = self.chiave_checkpoint_audit(chiave).await?;
        let coppia = Ed25519KeyPair::from_pkcs8(pkcs8.esponi())
            .map_err(|_| ErroreAudit::Chiave("chiave Ed25519 memorizzata non leggibile"))?;
        let pubblica = hex::encode(coppia.public_key().as_ref());
        Ok(Firmatario { coppia, pubblica })
    }

    /// Verifies the whole chain and refuses to sign over a fault, or next to checkpoints of
    /// another key (the next verification would reject ours).
    async fn verifica_per_firmare(&self, f: &Firmatario) -> Result<RapportoVerifica, ErroreAudit> {
        let rapporto = self.verifica_audit(&[]).await?;
        if !rapporto.integra() {
            return Err(ErroreAudit::CatenaAlterata(rapporto.riassunto()));
        }
        match &rapporto.chiave_pubblica {
            Some(k) if *k != f.pubblica => Err(ErroreAudit::ChiaveDiversa {
                attesa: f.pubblica.clone(),
                trovata: k.clone(),
            }),
            _ => Ok(rapporto),
        }
    }

    async fn salva_checkpoint(&self, cp: &Checkpoint) -> Result<i64, ErroreStore> {
        Ok(scrivi!(self, |tx| { inserisci!(tx, cp) }))
    }

    /// A checkpoint on demand (`rivesto audit checkpoint`): the whole chain is verified, then
    /// its last entry is signed and stored. The caller writes it out as a file too.
    pub async fn checkpoint_audit(
        &self,
        chiave: &ChiaveMaestra,
    ) -> Result<Checkpoint, ErroreAudit> {
        let f = self.firmatario(chiave).await?;
        let rapporto = self.verifica_per_firmare(&f).await?;
        let Some(ultimo) = rapporto.ultimo_id else {
            return Err(ErroreAudit::CatenaVuota);
        };
        let cp = f.firma(ultimo, &rapporto.ultimo_hash, TipoCheckpoint::SuRichiesta);
        self.salva_checkpoint(&cp).await?;
        Ok(cp)
    }

    /// The worker's checkpoint: taken when the chain has grown since the last checkpoint and
    /// that one is at least `intervallo_ms` old. Only the entries after the latest checkpoint
    /// signed by this key are verified (that checkpoint vouches for those before). Many
    /// workers may call it at once: the condition is checked again under a lock before the
    /// insert, so each interval stores one checkpoint.
    pub async fn checkpoint_periodico(
        &self,
        chiave: &ChiaveMaestra,
        intervallo_ms: i64,
    ) -> Result<Option<Checkpoint>, ErroreAudit> {
        if !self.checkpoint_dovuto(adesso_ms(), intervallo_ms).await? {
            return Ok(None);
        }
        let f = self.firmatario(chiave).await?;
        let (base_id, base_hash) = self.ultimo_checkpoint_firmato(&f).await?;
        let rapporto = self.percorri_da(base_id, &base_hash).await?;
        if !rapporto.integra() {
            return Err(ErroreAudit::CatenaAlterata(rapporto.riassunto()));
        }
        let Some(ultimo) = rapporto.ultimo_id else {
            return Ok(None);
        };
        let cp = f.firma(ultimo, &rapporto.ultimo_hash, TipoCheckpoint::Periodico);
        let salvato = scrivi!(self, |tx, pg| {
            if pg {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOCK_CHECKPOINT)
                    .execute(&mut *tx)
                    .await?;
            }
            let r = sqlx::query("SELECT MAX(istante_ms), MAX(fino_a_id) FROM audit_checkpoints")
                .fetch_one(&mut *tx)
                .await?;
            let istante: Option<i64> = r.try_get(0)?;
            let coperto: Option<i64> = r.try_get(1)?;
            let presto = istante.is_some_and(|t| cp.istante_ms - t < intervallo_ms);
            if presto || coperto.is_some_and(|c| c >= cp.fino_a_id) {
                false
            } else {
                inserisci!(tx, &cp);
                true
            }
        });
        Ok(salvato.then_some(cp))
    }

    /// The cheap test run at every timer scan: one query, no key.
    async fn checkpoint_dovuto(
        &self,
        ora_ms: i64,
        intervallo_ms: i64,
    ) -> Result<bool, ErroreStore> {
        let (istante, coperto, ultima): (Option<i64>, Option<i64>, Option<i64>) =
            leggi!(self, |ex| {
                let r = sqlx::query(
                    "SELECT (SELECT MAX(istante_ms) FROM audit_checkpoints), \
                     (SELECT MAX(fino_a_id) FROM audit_checkpoints), \
                     (SELECT MAX(id) FROM audit_entries)",
                )
                .fetch_one(ex)
                .await?;
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)
            });
        let cresciuta = ultima.is_some_and(|u| coperto.is_none_or(|c| u > c));
        Ok(cresciuta && istante.is_none_or(|t| ora_ms - t >= intervallo_ms))
    }

    /// Where the incremental verification starts: the entry of the latest stored checkpoint
    /// with a valid signature by `f`, or the chain's start.
    async fn ultimo_checkpoint_firmato(
        &self,
        f: &Firmatario,
    ) -> Result<(i64, String), ErroreStore> {
        let base = self
            .checkpoint_audit_salvati()
            .await?
            .into_iter()
            .map(|(_, cp)| cp)
            .filter(|cp| cp.chiave_pubblica == f.pubblica && cp.firma_valida())
            .max_by_key(|cp| cp.fino_a_id);
        Ok(base.map_or((0, HASH_INIZIALE.to_string()), |cp| (cp.fino_a_id, cp.hash)))
    }

    /// The entries after `dopo_id`, the first linking to `hash`, with no checkpoint.
    async fn percorri_da(&self, dopo_id: i64, hash: &str) -> Result<RapportoVerifica, ErroreStore> {
        let mut v = Verificatore::da(dopo_id, hash);
        match &self.motore {
            Motore::Sqlite(s) => {
                let mut c = s.lettura.acquire().await?;
                percorri!(c, v, dopo_id);
            }
            Motore::Postgres(p) => {
                let mut c = p.acquire().await?;
                percorri!(c, v, dopo_id);
            }
        }
        Ok(v.rapporto())
    }

    /// The retention purge (`rivesto audit purge`). It removes the entries older than the
    /// Europe/Rome start of `prima_di`, as a prefix of ids 1..=K, and in the same transaction
    /// leaves a TAGLIO checkpoint of entry K (so the chain verifies from K + 1) and appends
    /// its own entry `AUDIT_PURGATO`. A date less than `mesi` months before today is refused,
    /// as is a chain that does not verify (the purge would erase the evidence). On
    /// PostgreSQL it needs the owner: the runtime role cannot delete from `audit_entries`.
    pub async fn purga_audit(
        &self,
        prima_di: NaiveDate,
        mesi: u32,
        chiave: &ChiaveMaestra,
        attore: &Attore,
    ) -> Result<EsitoPurga, ErroreAudit> {
        let limite = limite_conservazione(oggi_roma(self.adesso_ms()), mesi);
        if prima_di > limite {
            return Err(ErroreAudit::EntroConservazione {
                prima_di: prima_di.format("%d/%m/%Y").to_string(),
                mesi,
                limite: limite.format("%d/%m/%Y").to_string(),
            });
        }
        self.richiedi_proprietario().await?;
        let f = self.firmatario(chiave).await?;
        let verificata = self.verifica_per_firmare(&f).await?.ultimo_id.unwrap_or(0);
        let taglio = Taglio {
            prima_di,
            mesi,
            istante_ms: inizio_giorno_roma(prima_di),
            verificata,
        };
        Ok(scrivi!(self, |tx, pg| {
            if pg {
                // Taken first, before any other lock: appenders wait for the purge to commit.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOCK_CATENA)
                    .execute(&mut *tx)
                    .await?;
            }
            purga_in!(tx, &taglio, &f, attore)
        }))
    }

    async fn richiedi_proprietario(&self) -> Result<(), ErroreAudit> {
        if let Motore::Postgres(p) = &self.motore {
            let r = sqlx::query(
                "SELECT has_table_privilege('audit_entries', 'DELETE'), current_user::text",
            )
            .fetch_one(p)
            .await?;
            if !r.try_get::<bool, _>(0)? {
                return Err(ErroreAudit::RuoloNonProprietario {
                    ruolo: r.try_get(1)?,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp() -> Checkpoint {
        Checkpoint {
            formato: FORMATO_CHECKPOINT.into(),
            fino_a_id: 2,
            hash: "ab".into(),
            istante_ms: 3,
            tipo: TipoCheckpoint::Taglio,
            chiave_pubblica: String::new(),
            firma: String::new(),
        }
    }

    #[test]
    fn messaggio_firmato_scritto_a_mano() {
        let mut atteso = b"rivesto-audit-checkpoint-v1\n".to_vec();
        atteso.extend([0, 0, 0, 0, 0, 0, 0, 2]);
        atteso.extend([0, 0, 0, 2, b'a', b'b']);
        atteso.extend([0, 0, 0, 0, 0, 0, 0, 3]);
        atteso.extend([0, 0, 0, 6]);
        atteso.extend(b"TAGLIO");
        assert_eq!(cp().messaggio(), atteso);
    }

    #[test]
    fn firma_e_verifica() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new()).unwrap();
        let coppia = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let f = Firmatario {
            pubblica: hex::encode(coppia.public_key().as_ref()),
            coppia,
        };
        let firmato = f.firma(2, "ab", TipoCheckpoint::Periodico);
        assert!(firmato.firma_valida());
        assert_eq!(firmato.firma.len(), 128);
        // Every signed field counts, and so does the format.
        for altera in [
            (|c: &mut Checkpoint| c.fino_a_id += 1) as fn(&mut Checkpoint),
            |c| c.hash.push('0'),
            |c| c.istante_ms += 1,
            |c| c.tipo = TipoCheckpoint::Taglio,
            |c| c.formato = "rivesto-audit-checkpoint-v2".into(),
            |c| c.firma = "zz".into(),
            |c| c.chiave_pubblica.truncate(62),
        ] {
            let mut c = firmato.clone();
            altera(&mut c);
            assert!(!c.firma_valida(), "{c:?}");
        }
    }

    #[test]
    fn conservazione_per_mesi_di_calendario() {
        let d = |a, m, g| NaiveDate::from_ymd_opt(a, m, g).unwrap();
        assert_eq!(limite_conservazione(d(2026, 3, 2), 24), d(2024, 3, 2));
        // 31 March minus one month: the last day of February.
        assert_eq!(limite_conservazione(d(2026, 3, 31), 1), d(2026, 2, 28));
        assert_eq!(limite_conservazione(d(2024, 2, 29), 12), d(2023, 2, 28));
        // Midnight in Rome: 2023-01-01T00:00+01:00, and in summer +02:00.
        assert_eq!(inizio_giorno_roma(d(2023, 1, 1)), 1_672_527_600_000);
        assert_eq!(inizio_giorno_roma(d(2023, 7, 1)), 1_688_162_400_000);
        assert_eq!(oggi_roma(1_672_527_600_000), d(2023, 1, 1));
        assert_eq!(oggi_roma(1_672_527_599_999), d(2022, 12, 31));
    }

    #[test]
    fn tipi_come_testo() {
        for t in [
            TipoCheckpoint::Periodico,
            TipoCheckpoint::SuRichiesta,
            TipoCheckpoint::Taglio,
        ] {
            assert_eq!(TipoCheckpoint::da_testo(t.come_testo()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.come_testo()));
        }
        assert_eq!(TipoCheckpoint::da_testo("taglio"), None);
    }
}

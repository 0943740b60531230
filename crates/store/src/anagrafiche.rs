//! Comuni (with their ANPR access), Enti, Convenzioni, Utenti and Profili (DESIGN §1).

use crate::audit::ConnessioneAudit as _;
use crate::{Attore, Audit, ChiaveMaestra, ErroreStore, Segreto, Store};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use serde_json::json;
use sqlx::Row as _;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovoComune {
    pub codice_istat: String,
    pub belfiore: String,
    pub nome: String,
    pub sigla: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comune {
    pub id: i64,
    pub codice_istat: String,
    pub belfiore: String,
    pub nome: String,
    pub sigla: String,
    pub ha_accesso_anpr: bool,
}

/// The ANPR access of a Comune: the onboarding TOML and the files it names (keys,
/// certificates), decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessoAnpr {
    pub toml: String,
    pub file: BTreeMap<String, Segreto>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoCodiceEnte {
    CodiceFiscale,
    Ipa,
}

impl TipoCodiceEnte {
    fn as_str(self) -> &'static str {
        match self {
            TipoCodiceEnte::CodiceFiscale => "CF",
            TipoCodiceEnte::Ipa => "IPA",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ente {
    pub id: i64,
    pub codice: String,
    pub tipo_codice: TipoCodiceEnte,
    pub nome: String,
    /// `userLocation` of the PDND tracking evidence, at most 20 characters.
    pub codice_ufficio: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approvazione {
    /// A TOP of the Comune approves.
    Manuale,
    /// `sistema` approves when the delay has passed (0: at once).
    SilenzioAssenso { ritardo_ms: i64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Convenzione {
    pub id: i64,
    pub comune_id: i64,
    pub ente_id: i64,
    pub nome: String,
    pub campi: Vec<GruppoCampi>,
    pub ambito: Ambito,
    pub approvazione: Approvazione,
    /// purposeId per ANPR service (`C030` → purposeId).
    pub finalita: BTreeMap<String, String>,
    pub valida_dal_ms: i64,
    pub valida_al_ms: Option<i64>,
    /// Caps checked at submission; `None`: no cap.
    pub max_righe_richiesta: Option<i64>,
    /// Subjects the Ente may submit per Europe/Rome day under this convention.
    pub max_soggetti_giorno: Option<i64>,
    /// The output layout (DESIGN §5), as the `files` crate reads it.
    pub tracciato: serde_json::Value,
    pub conservazione_giorni: i64,
    pub ricerca_nazionale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utente {
    pub id: i64,
    pub username: String,
    pub ruolo: String,
    pub comune_id: Option<i64>,
    pub ente_id: Option<i64>,
    pub codice_utente: String,
    pub attivo: bool,
}

/// A user to create. `ruolo` is `TOP`, `ADMIN` or `STANDARD` (the database checks it).
#[derive(Clone, PartialEq, Eq)]
pub struct NuovoUtente {
    pub username: String,
    pub password: String,
    pub ruolo: String,
    pub comune_id: Option<i64>,
    pub ente_id: Option<i64>,
    pub codice_utente: String,
}

impl std::fmt::Debug for NuovoUtente {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NuovoUtente")
            .field("username", &self.username)
            .field("ruolo", &self.ruolo)
            .finish_non_exhaustive()
    }
}

/// An account as an administrator creates it (see [`Store::crea_account`]).
pub struct NuovoAccount<'a> {
    pub utente: &'a NuovoUtente,
    pub email: Option<&'a str>,
    /// The one-time code the user signs in with first; never stored as is.
    pub codice_reset: &'a str,
    pub scadenza_reset_ms: i64,
}

/// Inserts a user row (active), returning its id.
macro_rules! inserisci_utente {
    ($tx:expr, $u:expr, $hash:expr, $ora:expr) => {{
        let id: i64 = sqlx::query(
            "INSERT INTO utenti (username, password_hash, ruolo, comune_id, ente_id, \
             codice_utente, attivo, creato_ms) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) \
             RETURNING id",
        )
        .bind(&$u.username)
        .bind($hash)
        .bind(&$u.ruolo)
        .bind($u.comune_id)
        .bind($u.ente_id)
        .bind(&$u.codice_utente)
        .bind($ora)
        .fetch_one(&mut *$tx)
        .await?
        .try_get(0)?;
        id
    }};
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profilo {
    pub id: i64,
    pub utente_id: i64,
    pub convenzione_id: i64,
    pub campi: Vec<GruppoCampi>,
    pub ambito: Ambito,
}

fn json_testo<T: serde::Serialize>(campo: &'static str, v: &T) -> Result<String, ErroreStore> {
    serde_json::to_string(v).map_err(|e| ErroreStore::json(campo, e))
}

fn da_json<T: serde::de::DeserializeOwned>(campo: &'static str, s: &str) -> Result<T, ErroreStore> {
    serde_json::from_str(s).map_err(|e| ErroreStore::json(campo, e))
}

fn ambito_da(s: &str) -> Result<Ambito, ErroreStore> {
    da_json("ambito", &format!("\"{s}\""))
}

fn contesto_file(comune_id: i64, nome: &str) -> String {
    format!("comuni_file_accesso:{comune_id}:{nome}")
}

macro_rules! comune_da_riga {
    ($r:expr) => {
        Comune {
            id: $r.try_get("id")?,
            codice_istat: $r.try_get("codice_istat")?,
            belfiore: $r.try_get("belfiore")?,
            nome: $r.try_get("nome")?,
            sigla: $r.try_get("sigla")?,
            ha_accesso_anpr: $r.try_get::<Option<String>, _>("anpr_toml")?.is_some(),
        }
    };
}

impl Store {
    pub async fn crea_comune(&self, c: &NuovoComune, attore: &Attore) -> Result<i64, ErroreStore> {
        let audit = Audit::nuovo(
            attore,
            format!("comune:{}", c.codice_istat),
            "COMUNE_CREATO",
        )
        .con_comune(Some(c.codice_istat.clone()))
        .con_dettagli(json!({"nome": c.nome, "belfiore": c.belfiore, "sigla": c.sigla}));
        Ok(scrivi!(self, |tx| {
            let id: i64 = sqlx::query(
                "INSERT INTO comuni (codice_istat, belfiore, nome, sigla, creato_ms) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&c.codice_istat)
            .bind(&c.belfiore)
            .bind(&c.nome)
            .bind(&c.sigla)
            .bind(self.adesso_ms())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    pub async fn comune(&self, id: i64) -> Result<Comune, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT id, codice_istat, belfiore, nome, sigla, anpr_toml FROM comuni WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(ex)
            .await?
            .ok_or_else(|| ErroreStore::non_trovato(format!("comune {id}")))?;
            Ok(comune_da_riga!(r))
        })
    }

    pub async fn comune_per_istat(&self, codice: &str) -> Result<Option<Comune>, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT id, codice_istat, belfiore, nome, sigla, anpr_toml FROM comuni \
                 WHERE codice_istat = $1",
            )
            .bind(codice)
            .fetch_optional(ex)
            .await?;
            match r {
                Some(r) => Ok(Some(comune_da_riga!(r))),
                None => Ok(None),
            }
        })
    }

    pub async fn elenco_comuni(&self) -> Result<Vec<Comune>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT id, codice_istat, belfiore, nome, sigla, anpr_toml FROM comuni ORDER BY nome",
            )
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(comune_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// Sets the Comune's ANPR access: the onboarding TOML and the files it names, encrypted
    /// with the master key. It replaces any previous access.
    pub async fn imposta_accesso_anpr(
        &self,
        comune_id: i64,
        toml: &str,
        file: &[(String, Vec<u8>)],
        chiave: &ChiaveMaestra,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let comune = self.comune(comune_id).await?;
        let mut cifrati = Vec::with_capacity(file.len());
        for (nome, contenuto) in file {
            cifrati.push((
                nome,
                chiave.cifra(&contesto_file(comune_id, nome), contenuto)?,
            ));
        }
        let nomi: Vec<&String> = file.iter().map(|(n, _)| n).collect();
        let audit = Audit::nuovo(
            attore,
            format!("comune:{}", comune.codice_istat),
            "ACCESSO_ANPR_IMPOSTATO",
        )
        .con_comune(Some(comune.codice_istat.clone()))
        .con_dettagli(json!({"file": nomi}));
        scrivi!(self, |tx| {
            sqlx::query("UPDATE comuni SET anpr_toml = $1 WHERE id = $2")
                .bind(toml)
                .bind(comune_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM comuni_file_accesso WHERE comune_id = $1")
                .bind(comune_id)
                .execute(&mut *tx)
                .await?;
            for (nome, cifrato) in &cifrati {
                sqlx::query(
                    "INSERT INTO comuni_file_accesso (comune_id, nome, contenuto_cifrato) \
                     VALUES ($1, $2, $3)",
                )
                .bind(comune_id)
                .bind(*nome)
                .bind(cifrato)
                .execute(&mut *tx)
                .await?;
            }
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// The Comune's ANPR access, decrypted; `None` when it has none yet.
    pub async fn accesso_anpr(
        &self,
        comune_id: i64,
        chiave: &ChiaveMaestra,
    ) -> Result<Option<AccessoAnpr>, ErroreStore> {
        let (toml, file): (Option<String>, Vec<(String, Vec<u8>)>) = leggi!(self, |ex| {
            let toml = sqlx::query("SELECT anpr_toml FROM comuni WHERE id = $1")
                .bind(comune_id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("comune {comune_id}")))?
                .try_get(0)?;
            let righe = sqlx::query(
                "SELECT nome, contenuto_cifrato FROM comuni_file_accesso WHERE comune_id = $1",
            )
            .bind(comune_id)
            .fetch_all(ex)
            .await?;
            let mut file = Vec::with_capacity(righe.len());
            for r in &righe {
                file.push((r.try_get(0)?, r.try_get(1)?));
            }
            (toml, file)
        });
        let Some(toml) = toml else { return Ok(None) };
        let mut chiari = BTreeMap::new();
        for (nome, cifrato) in file {
            let s = chiave.decifra(&contesto_file(comune_id, &nome), &cifrato)?;
            chiari.insert(nome, s);
        }
        Ok(Some(AccessoAnpr { toml, file: chiari }))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NuovaConvenzione {
    pub comune_id: i64,
    pub ente_id: i64,
    pub nome: String,
    pub campi: Vec<GruppoCampi>,
    pub ambito: Ambito,
    pub approvazione: Approvazione,
    pub finalita: BTreeMap<String, String>,
    pub valida_dal_ms: i64,
    pub valida_al_ms: Option<i64>,
    /// Caps checked at submission; `None`: no cap.
    pub max_righe_richiesta: Option<i64>,
    /// Subjects the Ente may submit per Europe/Rome day under this convention.
    pub max_soggetti_giorno: Option<i64>,
    pub tracciato: serde_json::Value,
    /// Default 7 (DESIGN §2).
    pub conservazione_giorni: i64,
    pub ricerca_nazionale: bool,
}

const COLONNE_CONVENZIONE: &str = "id, comune_id, ente_id, nome, campi, ambito, approvazione, \
    ritardo_silenzio_ms, finalita, valida_dal_ms, valida_al_ms, max_righe_richiesta, \
    max_soggetti_giorno, tracciato, conservazione_giorni, ricerca_nazionale";

macro_rules! convenzione_da_riga {
    ($r:expr) => {{
        let approvazione: String = $r.try_get("approvazione")?;
        let ritardo_ms: i64 = $r.try_get("ritardo_silenzio_ms")?;
        Convenzione {
            id: $r.try_get("id")?,
            comune_id: $r.try_get("comune_id")?,
            ente_id: $r.try_get("ente_id")?,
            nome: $r.try_get("nome")?,
            campi: da_json("campi", &$r.try_get::<String, _>("campi")?)?,
            ambito: ambito_da(&$r.try_get::<String, _>("ambito")?)?,
            approvazione: match approvazione.as_str() {
                "MANUALE" => Approvazione::Manuale,
                _ => Approvazione::SilenzioAssenso { ritardo_ms },
            },
            finalita: da_json("finalita", &$r.try_get::<String, _>("finalita")?)?,
            valida_dal_ms: $r.try_get("valida_dal_ms")?,
            valida_al_ms: $r.try_get("valida_al_ms")?,
            max_righe_richiesta: $r.try_get("max_righe_richiesta")?,
            max_soggetti_giorno: $r.try_get("max_soggetti_giorno")?,
            tracciato: da_json("tracciato", &$r.try_get::<String, _>("tracciato")?)?,
            conservazione_giorni: $r.try_get("conservazione_giorni")?,
            ricerca_nazionale: $r.try_get("ricerca_nazionale")?,
        }
    }};
}

macro_rules! utente_da_riga {
    ($r:expr) => {
        Utente {
            id: $r.try_get("id")?,
            username: $r.try_get("username")?,
            ruolo: $r.try_get("ruolo")?,
            comune_id: $r.try_get("comune_id")?,
            ente_id: $r.try_get("ente_id")?,
            codice_utente: $r.try_get("codice_utente")?,
            attivo: $r.try_get("attivo")?,
        }
    };
}

pub(crate) use utente_da_riga;

pub(crate) const COLONNE_UTENTE: &str =
    "id, username, ruolo, comune_id, ente_id, codice_utente, attivo";

/// An Ente from a row with its columns (`id, codice, tipo_codice, nome, codice_ufficio`).
macro_rules! ente_da_riga {
    ($r:expr) => {{
        let tipo: String = $r.try_get("tipo_codice")?;
        Ente {
            id: $r.try_get("id")?,
            codice: $r.try_get("codice")?,
            tipo_codice: if tipo == "IPA" {
                TipoCodiceEnte::Ipa
            } else {
                TipoCodiceEnte::CodiceFiscale
            },
            nome: $r.try_get("nome")?,
            codice_ufficio: $r.try_get("codice_ufficio")?,
        }
    }};
}
pub(crate) use ente_da_riga;

impl Store {
    pub async fn crea_ente(
        &self,
        codice: &str,
        tipo_codice: TipoCodiceEnte,
        nome: &str,
        codice_ufficio: &str,
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let audit = Audit::nuovo(attore, format!("ente:{codice}"), "ENTE_CREATO")
            .con_ente(Some(codice.to_string()))
            .con_dettagli(json!({"nome": nome, "codice_ufficio": codice_ufficio}));
        Ok(scrivi!(self, |tx| {
            let id: i64 = sqlx::query(
                "INSERT INTO enti (codice, tipo_codice, nome, codice_ufficio, creato_ms) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(codice)
            .bind(tipo_codice.as_str())
            .bind(nome)
            .bind(codice_ufficio)
            .bind(self.adesso_ms())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    pub async fn ente(&self, id: i64) -> Result<Ente, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT id, codice, tipo_codice, nome, codice_ufficio FROM enti WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(ex)
            .await?
            .ok_or_else(|| ErroreStore::non_trovato(format!("ente {id}")))?;
            Ok(ente_da_riga!(r))
        })
    }

    pub async fn crea_convenzione(
        &self,
        c: &NuovaConvenzione,
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let comune = self.comune(c.comune_id).await?;
        let ente = self.ente(c.ente_id).await?;
        let (approvazione, ritardo) = match c.approvazione {
            Approvazione::Manuale => ("MANUALE", 0),
            Approvazione::SilenzioAssenso { ritardo_ms } => ("SILENZIO_ASSENSO", ritardo_ms),
        };
        let campi = json_testo("campi", &c.campi)?;
        let finalita = json_testo("finalita", &c.finalita)?;
        let audit = Audit::nuovo(
            attore,
            format!("convenzione:{}", c.nome),
            "CONVENZIONE_CREATA",
        )
        .con_comune(Some(comune.codice_istat))
        .con_ente(Some(ente.codice))
        .con_dettagli(json!({
            "campi": c.campi, "ambito": c.ambito, "approvazione": approvazione,
            "ritardo_silenzio_ms": ritardo, "finalita": c.finalita,
            "valida_dal_ms": c.valida_dal_ms, "valida_al_ms": c.valida_al_ms,
            "max_righe_richiesta": c.max_righe_richiesta,
            "max_soggetti_giorno": c.max_soggetti_giorno,
            "conservazione_giorni": c.conservazione_giorni,
            "ricerca_nazionale": c.ricerca_nazionale,
        }));
        Ok(scrivi!(self, |tx| {
            let id: i64 = sqlx::query(
                "INSERT INTO convenzioni (comune_id, ente_id, nome, campi, ambito, approvazione, \
                 ritardo_silenzio_ms, finalita, valida_dal_ms, valida_al_ms, max_righe_richiesta, \
                 max_soggetti_giorno, tracciato, conservazione_giorni, ricerca_nazionale, creato_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 RETURNING id",
            )
            .bind(c.comune_id)
            .bind(c.ente_id)
            .bind(&c.nome)
            .bind(&campi)
            .bind(c.ambito.as_str())
            .bind(approvazione)
            .bind(ritardo)
            .bind(&finalita)
            .bind(c.valida_dal_ms)
            .bind(c.valida_al_ms)
            .bind(c.max_righe_richiesta)
            .bind(c.max_soggetti_giorno)
            .bind(c.tracciato.to_string())
            .bind(c.conservazione_giorni)
            .bind(c.ricerca_nazionale)
            .bind(self.adesso_ms())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    pub async fn convenzione(&self, id: i64) -> Result<Convenzione, ErroreStore> {
        let sql = format!("SELECT {COLONNE_CONVENZIONE} FROM convenzioni WHERE id = $1");
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("convenzione {id}")))?;
            Ok(convenzione_da_riga!(r))
        })
    }

    /// The conventions of a Comune (`per_ente` false) or of an Ente (true), by id.
    pub async fn convenzioni(
        &self,
        id: i64,
        per_ente: bool,
    ) -> Result<Vec<Convenzione>, ErroreStore> {
        let colonna = if per_ente { "ente_id" } else { "comune_id" };
        let sql = format!(
            "SELECT {COLONNE_CONVENZIONE} FROM convenzioni WHERE {colonna} = $1 ORDER BY id"
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(convenzione_da_riga!(r));
            }
            Ok(v)
        })
    }

    /// The Comune and Ente codes that the audit entries about an account carry: the account's
    /// own, so that its Comune's TOP and its Ente's ADMIN find them whoever acted; the actor's
    /// where the account has none (a TOP has no Ente).
    pub(crate) async fn con_ambito_utente(
        &self,
        audit: Audit,
        comune_id: Option<i64>,
        ente_id: Option<i64>,
    ) -> Result<Audit, ErroreStore> {
        let comune = match comune_id {
            Some(id) => Some(self.comune(id).await?.codice_istat),
            None => audit.comune.clone(),
        };
        let ente = match ente_id {
            Some(id) => Some(self.ente(id).await?.codice),
            None => audit.ente.clone(),
        };
        Ok(audit.con_comune(comune).con_ente(ente))
    }

    /// Creates a user with an Argon2id hash of the password (never stored or logged as is).
    pub async fn crea_utente(&self, u: &NuovoUtente, attore: &Attore) -> Result<i64, ErroreStore> {
        let hash = hash_password(&u.password)?;
        let audit = Audit::nuovo(attore, format!("utente:{}", u.username), "UTENTE_CREATO")
            .con_dettagli(
                json!({"ruolo": u.ruolo, "comune_id": u.comune_id, "ente_id": u.ente_id}),
            );
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        let ora = self.adesso_ms();
        Ok(scrivi!(self, |tx| {
            let id = inserisci_utente!(tx, u, &hash, ora);
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    /// What an administrator creates in one step: the account, its e-mail address for notices
    /// and its first one-time reset code (only the code's SHA-256 is stored), in one
    /// transaction with one audit entry that holds neither the address nor the code.
    pub async fn crea_account(
        &self,
        a: &NuovoAccount<'_>,
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let u = a.utente;
        let hash = hash_password(&u.password)?;
        let email = a.email.map(str::trim).filter(|e| !e.is_empty());
        let audit = Audit::nuovo(attore, format!("utente:{}", u.username), "UTENTE_CREATO")
            .con_dettagli(json!({
                "ruolo": u.ruolo, "comune_id": u.comune_id, "ente_id": u.ente_id,
                "email": email.is_some(), "codice_reset_scadenza_ms": a.scadenza_reset_ms,
            }));
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        let ora = self.adesso_ms();
        Ok(scrivi!(self, |tx| {
            let id = inserisci_utente!(tx, u, &hash, ora);
            sqlx::query("UPDATE utenti SET email = $1 WHERE id = $2")
                .bind(email)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO reset_password (utente_id, codice_hash, scadenza_ms, creato_ms) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(crate::autenticazione::sha256_hex(a.codice_reset))
            .bind(a.scadenza_reset_ms)
            .bind(ora)
            .execute(&mut *tx)
            .await?;
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    pub async fn utente(&self, id: i64) -> Result<Utente, ErroreStore> {
        let sql = format!("SELECT {COLONNE_UTENTE} FROM utenti WHERE id = $1");
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(ex)
                .await?
                .ok_or_else(|| ErroreStore::non_trovato(format!("utente {id}")))?;
            Ok(utente_da_riga!(r))
        })
    }

    pub async fn utente_per_username(&self, username: &str) -> Result<Option<Utente>, ErroreStore> {
        let sql = format!("SELECT {COLONNE_UTENTE} FROM utenti WHERE username = $1");
        leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(username)
                .fetch_optional(ex)
                .await?;
            Ok(match r {
                Some(r) => Some(utente_da_riga!(r)),
                None => None,
            })
        })
    }

    /// The user when `password` matches its hash, whether active or not (the caller decides);
    /// `None` for an unknown username or a wrong password.
    pub async fn verifica_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Utente>, ErroreStore> {
        let sql = format!("SELECT {COLONNE_UTENTE}, password_hash FROM utenti WHERE username = $1");
        let trovato: Option<(Utente, String)> = leggi!(self, |ex| {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(username)
                .fetch_optional(ex)
                .await?;
            match r {
                Some(r) => Some((utente_da_riga!(r), r.try_get::<String, _>("password_hash")?)),
                None => None,
            }
        });
        Ok(trovato.and_then(|(u, hash)| password_corretta(password, &hash).then_some(u)))
    }

    pub async fn imposta_utente_attivo(
        &self,
        id: i64,
        attivo: bool,
        attore: &Attore,
    ) -> Result<(), ErroreStore> {
        let u = self.utente(id).await?;
        let azione = if attivo {
            "UTENTE_RIATTIVATO"
        } else {
            "UTENTE_DISATTIVATO"
        };
        let audit = Audit::nuovo(attore, format!("utente:{}", u.username), azione);
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        scrivi!(self, |tx| {
            sqlx::query("UPDATE utenti SET attivo = $1 WHERE id = $2")
                .bind(attivo)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.appendi_audit(&audit).await?;
        });
        Ok(())
    }

    /// Sets (or replaces) what a user may ask under a convention.
    pub async fn imposta_profilo(
        &self,
        utente_id: i64,
        convenzione_id: i64,
        campi: &[GruppoCampi],
        ambito: Ambito,
        attore: &Attore,
    ) -> Result<i64, ErroreStore> {
        let u = self.utente(utente_id).await?;
        let testo_campi = json_testo("campi", &campi)?;
        let audit = Audit::nuovo(
            attore,
            format!("utente:{}", u.username),
            "PROFILO_IMPOSTATO",
        )
        .con_dettagli(json!({"convenzione_id": convenzione_id, "campi": campi, "ambito": ambito}));
        let audit = self
            .con_ambito_utente(audit, u.comune_id, u.ente_id)
            .await?;
        Ok(scrivi!(self, |tx| {
            let id: i64 = sqlx::query(
                "INSERT INTO profili (utente_id, convenzione_id, campi, ambito) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (utente_id, convenzione_id) \
                 DO UPDATE SET campi = excluded.campi, ambito = excluded.ambito RETURNING id",
            )
            .bind(utente_id)
            .bind(convenzione_id)
            .bind(&testo_campi)
            .bind(ambito.as_str())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            tx.appendi_audit(&audit).await?;
            id
        }))
    }

    pub async fn profilo(
        &self,
        utente_id: i64,
        convenzione_id: i64,
    ) -> Result<Option<Profilo>, ErroreStore> {
        leggi!(self, |ex| {
            let r = sqlx::query(
                "SELECT id, utente_id, convenzione_id, campi, ambito FROM profili \
                 WHERE utente_id = $1 AND convenzione_id = $2",
            )
            .bind(utente_id)
            .bind(convenzione_id)
            .fetch_optional(ex)
            .await?;
            match r {
                None => Ok(None),
                Some(r) => Ok(Some(Profilo {
                    id: r.try_get("id")?,
                    utente_id: r.try_get("utente_id")?,
                    convenzione_id: r.try_get("convenzione_id")?,
                    campi: da_json("campi", &r.try_get::<String, _>("campi")?)?,
                    ambito: ambito_da(&r.try_get::<String, _>("ambito")?)?,
                })),
            }
        })
    }
}

/// Argon2id with the crate's default parameters (19 MiB, 2 passes) and a random salt, in PHC
/// string form.
pub fn hash_password(password: &str) -> Result<String, ErroreStore> {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
    let mut casuali = [0u8; 16];
    SystemRandom::new()
        .fill(&mut casuali)
        .map_err(|_| ErroreStore::Password("generatore casuale non disponibile".into()))?;
    let sale =
        SaltString::encode_b64(&casuali).map_err(|e| ErroreStore::Password(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &sale)
        .map(|h| h.to_string())
        .map_err(|e| ErroreStore::Password(e.to_string()))
}

/// Whether `password` matches a stored PHC hash; an unreadable hash matches nothing.
pub fn password_corretta(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_verifica() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(password_corretta("correct horse", &h));
        assert!(!password_corretta("Correct horse", &h));
        assert!(!password_corretta("correct horse", "non-un-hash"));
    }
}

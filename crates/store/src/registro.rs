//! The archive's read side for the monitoring pages (issue 6): requests by filters within a
//! scope, the activity log over `audit_entries`, and the entries of one request for its
//! timeline.
//!
//! Scope is a condition in SQL, as in [`crate::elenchi`]: a list holds only rows of the scope
//! asked for, and the caller (the web layer) decides which scope a user may ask for. Entries are
//! tied to a request by their `oggetto`, `richiesta:<id>`; the join reads the id back from it.
//! Lists are bounded: one row more than asked is read, so the caller can say "affina i filtri".

use crate::audit::VoceAudit;
use crate::audit::voce_audit_da_riga;
use crate::elenchi::{
    AmbitoElenco, COLONNE, DA, VoceElenco, VoceRichiesta, colonne_contando, voce_da_riga,
};
// `Richiesta` is named by `voce_da_riga!`.
use crate::richieste::{Richiesta, stato};
use crate::{ErroreStore, Store};
use sqlx::Row as _;

/// The sign-in events a STANDARD sees about its own account.
const AZIONI_ACCESSO: &str = "('ACCESSO', 'ACCESSO_FALLITO', 'ACCESSO_BLOCCATO', 'USCITA')";
/// The entry that records one chunk of ANPR calls of the worker.
pub const AZIONE_CHIAMATE_ANPR: &str = "CHIAMATE_ANPR";
/// A request's entries, other than its call chunks, kept for its timeline at most.
const LIMITE_CRONOLOGIA: i64 = 2_000;

/// The `oggetto` of a request's entries.
pub fn oggetto_richiesta(id: i64) -> String {
    format!("richiesta:{id}")
}

/// Whose entries the activity log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmbitoRegistro {
    /// A TOP: the entries of its Comune (by ISTAT code).
    Comune(String),
    /// An ADMIN: the entries of its Ente (by code), and only of the Comune that manages the
    /// account when it has one (the web README's tenancy rule).
    Ente {
        ente: String,
        comune: Option<String>,
    },
    /// A STANDARD: the entries about its own requests and its own sign-ins.
    Utente { id: i64, username: String },
}

/// The filters of the request monitoring list. `None` leaves a filter out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiltroMonitoraggio {
    pub ambito: AmbitoElenco,
    /// The submitter's username.
    pub richiedente: Option<String>,
    pub ente_id: Option<i64>,
    pub convenzione_id: Option<i64>,
    /// Submitted (created, for a draft) at or after this instant.
    pub dal_ms: Option<i64>,
    /// Submitted (created, for a draft) before this instant.
    pub al_ms: Option<i64>,
    pub stato: Option<String>,
    pub richiesta_id: Option<i64>,
    pub limite: i64,
}

/// The filters of the activity log. `None` leaves a filter out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiltroRegistro {
    pub ambito: AmbitoRegistro,
    /// Who acted (a username, or `sistema`).
    pub attore: Option<String>,
    /// The Ente's code.
    pub ente: Option<String>,
    /// Entries about the requests under this convention (by id), and about the convention itself
    /// (by name: its creation entry names it).
    pub convenzione: Option<(i64, String)>,
    pub dal_ms: Option<i64>,
    pub al_ms: Option<i64>,
    pub azione: Option<String>,
    pub richiesta_id: Option<i64>,
    /// Entries about requests that are now in this state.
    pub esito: Option<String>,
    pub limite: i64,
}

/// A bounded list: `altre` says that more rows matched than were returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Limitato<T> {
    pub voci: Vec<T>,
    pub altre: bool,
}

/// One entry of the activity log, with what the page shows next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoceRegistro {
    pub id: i64,
    pub istante_ms: i64,
    pub attore: String,
    pub ruolo: Option<String>,
    pub comune: Option<String>,
    pub ente: Option<String>,
    pub oggetto: String,
    pub azione: String,
    pub dettagli: String,
    /// The request the entry is about, when it still exists.
    pub richiesta_id: Option<i64>,
    pub motivo_richiesta: Option<String>,
    pub stato_richiesta: Option<String>,
    pub convenzione: Option<String>,
    pub nome_comune: Option<String>,
    pub nome_ente: Option<String>,
}

/// A request's entries for its timeline: every entry but the ANPR call chunks, which are
/// counted (a large request has thousands of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CronologiaRichiesta {
    pub voci: Vec<VoceAudit>,
    pub blocchi_anpr: i64,
    /// The first chunk's entry id, to place the chunks among the other entries.
    pub primo_blocco_id: Option<i64>,
    pub primo_blocco_ms: Option<i64>,
    pub ultimo_blocco_ms: Option<i64>,
}

/// A value bound to a numbered parameter.
#[derive(Debug, Clone)]
enum Valore {
    Intero(i64),
    Testo(String),
}

/// WHERE conditions with their parameters, numbered as they are added.
#[derive(Debug, Default)]
struct Condizioni {
    testo: Vec<String>,
    valori: Vec<Valore>,
}

impl Condizioni {
    fn intero(&mut self, v: i64) -> String {
        self.valori.push(Valore::Intero(v));
        format!("${}", self.valori.len())
    }

    fn testo(&mut self, v: &str) -> String {
        self.valori.push(Valore::Testo(v.to_string()));
        format!("${}", self.valori.len())
    }

    fn e(&mut self, condizione: String) {
        self.testo.push(condizione);
    }

    fn where_(&self) -> String {
        if self.testo.is_empty() {
            "TRUE".into()
        } else {
            self.testo.join(" AND ")
        }
    }
}

/// Binds a [`Condizioni`]'s values in order, then `$extra` (the limit).
macro_rules! lega {
    ($sql:expr, $valori:expr $(, $extra:expr)*) => {{
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql));
        for v in $valori {
            q = match v {
                Valore::Intero(i) => q.bind(*i),
                Valore::Testo(t) => q.bind(t.as_str()),
            };
        }
        $(q = q.bind($extra);)*
        q
    }};
}

fn condizioni_monitoraggio(f: &FiltroMonitoraggio) -> Condizioni {
    let mut c = Condizioni::default();
    // A draft is its author's until submitted: monitors never see it (as in `elenchi`).
    let bozza = stato::BOZZA;
    match f.ambito {
        AmbitoElenco::Utente(id) => {
            let p = c.intero(id);
            c.e(format!("q.utente_id = {p}"));
        }
        AmbitoElenco::Comune(id) => {
            let p = c.intero(id);
            c.e(format!("v.comune_id = {p} AND q.stato <> '{bozza}'"));
        }
        AmbitoElenco::Ente(id) => {
            let p = c.intero(id);
            c.e(format!("v.ente_id = {p} AND q.stato <> '{bozza}'"));
        }
        AmbitoElenco::EnteComune(ente, comune) => {
            let (pe, pc) = (c.intero(ente), c.intero(comune));
            c.e(format!(
                "v.ente_id = {pe} AND v.comune_id = {pc} AND q.stato <> '{bozza}'"
            ));
        }
    }
    if let Some(u) = &f.richiedente {
        let p = c.testo(u);
        c.e(format!("u.username = {p}"));
    }
    if let Some(id) = f.ente_id {
        let p = c.intero(id);
        c.e(format!("v.ente_id = {p}"));
    }
    if let Some(id) = f.convenzione_id {
        let p = c.intero(id);
        c.e(format!("q.convenzione_id = {p}"));
    }
    let quando = "COALESCE(q.inviata_ms, q.creata_ms)";
    if let Some(ms) = f.dal_ms {
        let p = c.intero(ms);
        c.e(format!("{quando} >= {p}"));
    }
    if let Some(ms) = f.al_ms {
        let p = c.intero(ms);
        c.e(format!("{quando} < {p}"));
    }
    if let Some(s) = &f.stato {
        let p = c.testo(s);
        c.e(format!("q.stato = {p}"));
    }
    if let Some(id) = f.richiesta_id {
        let p = c.intero(id);
        c.e(format!("q.id = {p}"));
    }
    c
}

/// The request an entry is about, read back from `oggetto` (`richiesta:<id>`), so that the
/// join uses the requests' primary key.
const RICHIESTA_DELLA_VOCE: &str = "(CASE WHEN a.oggetto LIKE 'richiesta:%' \
    THEN CAST(SUBSTR(a.oggetto, 11) AS BIGINT) END)";

const COLONNE_REGISTRO: &str = "a.id, a.istante_ms, a.attore, a.ruolo, a.comune, a.ente, \
    a.oggetto, a.azione, a.dettagli, q.id AS richiesta_id, q.motivo AS motivo_richiesta, \
    q.stato AS stato_richiesta, v.nome AS convenzione, c.nome AS nome_comune, \
    e.nome AS nome_ente";

/// Joins an entry to the request it is about. SQLite may give a discarded draft's id to the
/// next request (its ids are not AUTOINCREMENT), so the entries of the deleted draft (its
/// creation by another user, its discarding) must not be read as the new request's: a draft's
/// entries are its author's alone.
fn da_registro() -> String {
    format!(
        "FROM audit_entries a LEFT JOIN richieste q ON q.id = {RICHIESTA_DELLA_VOCE} \
         AND a.azione <> 'RICHIESTA_SCARTATA' AND (a.azione <> 'RICHIESTA_CREATA' \
         OR a.attore = (SELECT qu.username FROM utenti qu WHERE qu.id = q.utente_id)) \
         LEFT JOIN convenzioni v ON v.id = q.convenzione_id \
         LEFT JOIN comuni c ON c.codice_istat = a.comune \
         LEFT JOIN enti e ON e.codice = a.ente"
    )
}

fn ambito_registro(c: &mut Condizioni, ambito: &AmbitoRegistro) {
    // Monitors see a request's entries once it is submitted, as they see the request; the
    // entries of a draft, or of one discarded, stay its author's.
    let inviata = format!(
        "(a.oggetto NOT LIKE 'richiesta:%' OR (q.id IS NOT NULL AND q.stato <> '{}'))",
        stato::BOZZA
    );
    match ambito {
        AmbitoRegistro::Comune(codice) => {
            let p = c.testo(codice);
            c.e(format!("a.comune = {p} AND {inviata}"));
        }
        AmbitoRegistro::Ente { ente, comune } => {
            let p = c.testo(ente);
            c.e(format!("a.ente = {p} AND {inviata}"));
            if let Some(comune) = comune {
                let p = c.testo(comune);
                c.e(format!("a.comune = {p}"));
            }
        }
        AmbitoRegistro::Utente { id, username } => {
            let (pu, pi, pn) = (
                c.testo(&format!("utente:{username}")),
                c.intero(*id),
                c.testo(username),
            );
            // Its sign-ins; every entry about its requests; and what it did on requests that
            // are gone (a discarded draft).
            c.e(format!(
                "((a.oggetto = {pu} AND a.azione IN {AZIONI_ACCESSO}) OR q.utente_id = {pi} \
                 OR (a.attore = {pn} AND a.oggetto LIKE 'richiesta:%'))"
            ));
        }
    }
}

fn condizioni_registro(f: &FiltroRegistro) -> Condizioni {
    let mut c = Condizioni::default();
    ambito_registro(&mut c, &f.ambito);
    if let Some(a) = &f.attore {
        let p = c.testo(a);
        c.e(format!("a.attore = {p}"));
    }
    if let Some(e) = &f.ente {
        let p = c.testo(e);
        c.e(format!("a.ente = {p}"));
    }
    if let Some((id, nome)) = &f.convenzione {
        let (pi, pn) = (c.intero(*id), c.testo(&format!("convenzione:{nome}")));
        c.e(format!("(q.convenzione_id = {pi} OR a.oggetto = {pn})"));
    }
    if let Some(ms) = f.dal_ms {
        let p = c.intero(ms);
        c.e(format!("a.istante_ms >= {p}"));
    }
    if let Some(ms) = f.al_ms {
        let p = c.intero(ms);
        c.e(format!("a.istante_ms < {p}"));
    }
    if let Some(a) = &f.azione {
        let p = c.testo(a);
        c.e(format!("a.azione = {p}"));
    }
    if let Some(id) = f.richiesta_id {
        let p = c.testo(&oggetto_richiesta(id));
        c.e(format!("a.oggetto = {p}"));
    }
    if let Some(s) = &f.esito {
        let p = c.testo(s);
        c.e(format!("q.stato = {p}"));
    }
    c
}

macro_rules! voce_registro {
    ($r:expr) => {
        VoceRegistro {
            id: $r.try_get("id")?,
            istante_ms: $r.try_get("istante_ms")?,
            attore: $r.try_get("attore")?,
            ruolo: $r.try_get("ruolo")?,
            comune: $r.try_get("comune")?,
            ente: $r.try_get("ente")?,
            oggetto: $r.try_get("oggetto")?,
            azione: $r.try_get("azione")?,
            dettagli: $r.try_get("dettagli")?,
            richiesta_id: $r.try_get("richiesta_id")?,
            motivo_richiesta: $r.try_get("motivo_richiesta")?,
            stato_richiesta: $r.try_get("stato_richiesta")?,
            convenzione: $r.try_get("convenzione")?,
            nome_comune: $r.try_get("nome_comune")?,
            nome_ente: $r.try_get("nome_ente")?,
        }
    };
}

/// Keeps `limite` rows and says whether there were more.
fn limita<T>(mut voci: Vec<T>, limite: i64) -> Limitato<T> {
    let limite = usize::try_from(limite.max(0)).unwrap_or(usize::MAX);
    let altre = voci.len() > limite;
    voci.truncate(limite);
    Limitato { voci, altre }
}

impl Store {
    /// Requests of a scope that match the filters, newest first, at most `f.limite`.
    pub async fn richieste_monitorate(
        &self,
        f: &FiltroMonitoraggio,
    ) -> Result<Limitato<VoceRichiesta>, ErroreStore> {
        self.monitorate(f, COLONNE.to_string()).await
    }

    /// As [`Store::richieste_monitorate`], leaving the rows of big requests uncounted as
    /// [`Store::elenco_richieste_contando`] does.
    pub async fn richieste_monitorate_contando(
        &self,
        f: &FiltroMonitoraggio,
        soglia: i64,
    ) -> Result<Limitato<VoceElenco>, ErroreStore> {
        let l = self.monitorate(f, colonne_contando(soglia)).await?;
        Ok(Limitato {
            voci: l.voci.into_iter().map(VoceElenco::da).collect(),
            altre: l.altre,
        })
    }

    async fn monitorate(
        &self,
        f: &FiltroMonitoraggio,
        colonne: String,
    ) -> Result<Limitato<VoceRichiesta>, ErroreStore> {
        let c = condizioni_monitoraggio(f);
        let limite = format!("${}", c.valori.len() + 1);
        let sql = format!(
            "SELECT {colonne} {DA} WHERE {} ORDER BY q.id DESC LIMIT {limite}",
            c.where_()
        );
        let voci = leggi!(self, |ex| {
            let righe = lega!(sql, &c.valori, f.limite.max(0) + 1)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(voce_da_riga!(r));
            }
            v
        });
        Ok(limita(voci, f.limite))
    }

    /// Audit entries of a scope that match the filters, newest first, at most `f.limite`.
    pub async fn voci_registro(
        &self,
        f: &FiltroRegistro,
    ) -> Result<Limitato<VoceRegistro>, ErroreStore> {
        let c = condizioni_registro(f);
        let limite = format!("${}", c.valori.len() + 1);
        let sql = format!(
            "SELECT {COLONNE_REGISTRO} {} WHERE {} ORDER BY a.id DESC LIMIT {limite}",
            da_registro(),
            c.where_()
        );
        let voci = leggi!(self, |ex| {
            let righe = lega!(sql, &c.valori, f.limite.max(0) + 1)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(voce_registro!(r));
            }
            v
        });
        Ok(limita(voci, f.limite))
    }

    /// The entries about request `id`, oldest first, with its ANPR call chunks counted
    /// rather than listed. Whoever calls it has checked that the user may see the request.
    pub async fn cronologia_richiesta(&self, id: i64) -> Result<CronologiaRichiesta, ErroreStore> {
        let oggetto = oggetto_richiesta(id);
        // One statement (the request's page reads it at every load): the chunks' summary
        // comes on every row, and on a row of its own, with no entry, when there is none.
        // From the request's own creation on: an earlier draft with the same id (see
        // `da_registro`) is not part of its history.
        let sql = "WITH dal AS (SELECT COALESCE(MAX(id), 0) AS id FROM audit_entries \
             WHERE oggetto = $1 AND azione = 'RICHIESTA_CREATA'), \
             blocchi AS (SELECT COUNT(*) AS blocchi_anpr, MIN(id) AS primo_blocco_id, \
             MIN(istante_ms) AS primo_blocco_ms, MAX(istante_ms) AS ultimo_blocco_ms \
             FROM audit_entries WHERE oggetto = $1 AND azione = $2 \
             AND id >= (SELECT id FROM dal)), \
             voci AS (SELECT id, istante_ms, attore, ruolo, comune, ente, oggetto, azione, \
             dettagli, hash_precedente, hash FROM audit_entries WHERE oggetto = $1 \
             AND azione <> $2 AND id >= (SELECT id FROM dal) ORDER BY id LIMIT $3) \
             SELECT b.blocchi_anpr, b.primo_blocco_id, b.primo_blocco_ms, b.ultimo_blocco_ms, \
             v.id, v.istante_ms, v.attore, v.ruolo, v.comune, v.ente, v.oggetto, v.azione, \
             v.dettagli, v.hash_precedente, v.hash \
             FROM blocchi b LEFT JOIN voci v ON 1 = 1 ORDER BY v.id";
        leggi!(self, |ex| {
            let righe = sqlx::query(sql)
                .bind(&oggetto)
                .bind(AZIONE_CHIAMATE_ANPR)
                .bind(LIMITE_CRONOLOGIA)
                .fetch_all(ex)
                .await?;
            // The summary's row is always there (an aggregate, LEFT JOINed).
            let b = righe.first().ok_or(sqlx::Error::RowNotFound)?;
            let mut voci = Vec::with_capacity(righe.len());
            for r in &righe {
                if r.try_get::<Option<i64>, _>("id")?.is_some() {
                    voci.push(voce_audit_da_riga!(r));
                }
            }
            Ok(CronologiaRichiesta {
                voci,
                blocchi_anpr: b.try_get("blocchi_anpr")?,
                primo_blocco_id: b.try_get("primo_blocco_id")?,
                primo_blocco_ms: b.try_get("primo_blocco_ms")?,
                ultimo_blocco_ms: b.try_get("ultimo_blocco_ms")?,
            })
        })
    }
}

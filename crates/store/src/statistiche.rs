//! Statistics over requests, rows and ANPR calls, by period and breakdown (issue 6).
//!
//! What goes where:
//! - A request belongs to the period of its **submission** (`inviata_ms`, Europe/Rome calendar);
//!   its rows (the subjects), their outcomes and its two durations go with it. Drafts never
//!   count (they have no submission time).
//! - ANPR **calls** belong to the Europe/Rome day on which their outcomes were recorded
//!   (`chiamate_anpr_giorno`, counted by `registra_esiti` from each row's call ids), whatever the
//!   day the request was submitted: that is the day they used the quota. These are the calls
//!   that got an answer; a call lost in transport, or made by a row that was given back and
//!   redone, shows only in the quota counters.
//! - **Quota use**: for a Comune scope, the Comune's own quota counters (`quote_contatori`:
//!   every call that reached the gateway, retries included, under all its conventions); for an
//!   Ente scope, the Ente's recorded calls, i.e. its share of the Comune's quota (the other Enti'
//!   use is not its to see). The configured daily quota lives in the Comune's onboarding TOML,
//!   which the caller reads: [`UsoQuota::frazione`] takes it.
//! - **Shares** of outcomes are over the rows that have one (`righe_concluse`): rows still
//!   waiting or running do not dilute them.
//! - **Durations**: submission → approval (`convalidata_ms`, by a TOP or by silent consent) and
//!   approval → completion (`completata_ms`), of the requests that reached those states. Their
//!   median and 90th percentile use the nearest-rank definition, see [`percentile`].
//!
//! The scope is a filter in SQL, as in [`crate::elenchi`]; figures are added up in Rust, so the
//! two engines share one definition of every number.

use crate::elenchi::AmbitoElenco;
use crate::{ErroreStore, Store};
use chrono::{Datelike as _, Days, Months, NaiveDate, TimeZone as _, Weekday};
use chrono_tz::Europe::Rome;
use domain::esito::Esito;
use sqlx::{PgConnection, Row as _, SqliteConnection};
use std::collections::{BTreeMap, HashMap};

/// The most periods one view may hold (a year of days fits).
pub const MAX_PERIODI: usize = 400;

/// The calendar unit of the buckets, in Europe/Rome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Periodo {
    Giorno,
    /// ISO 8601 week: Monday to Sunday, numbered within its ISO year.
    Settimana,
    Mese,
}

impl Periodo {
    pub const ALL: [Periodo; 3] = [Periodo::Giorno, Periodo::Settimana, Periodo::Mese];

    pub fn as_str(self) -> &'static str {
        match self {
            Periodo::Giorno => "giorno",
            Periodo::Settimana => "settimana",
            Periodo::Mese => "mese",
        }
    }

    pub fn parse(s: &str) -> Option<Periodo> {
        Periodo::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The period that holds `d`: its key (`2026-03-02`, `2026-W10`, `2026-03`), first and
    /// last day.
    pub fn contenente(self, d: NaiveDate) -> (String, NaiveDate, NaiveDate) {
        match self {
            Periodo::Giorno => (d.format("%Y-%m-%d").to_string(), d, d),
            Periodo::Settimana => {
                let s = d.iso_week();
                let lunedi =
                    NaiveDate::from_isoywd_opt(s.year(), s.week(), Weekday::Mon).unwrap_or(d);
                let domenica = lunedi.checked_add_days(Days::new(6)).unwrap_or(d);
                (format!("{}-W{:02}", s.year(), s.week()), lunedi, domenica)
            }
            Periodo::Mese => {
                let primo = d.with_day(1).unwrap_or(d);
                let ultimo = primo
                    .checked_add_months(Months::new(1))
                    .and_then(|m| m.pred_opt())
                    .unwrap_or(d);
                (d.format("%Y-%m").to_string(), primo, ultimo)
            }
        }
    }
}

/// What the figures are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ripartizione {
    /// No breakdown: one line per period.
    Totale,
    Ente,
    /// The submitter.
    Utente,
    Convenzione,
    /// The rows' outcome: subjects per outcome (and requests with at least one such row).
    Esito,
    /// The ANPR service: calls per service.
    Servizio,
}

impl Ripartizione {
    pub const ALL: [Ripartizione; 6] = [
        Ripartizione::Totale,
        Ripartizione::Ente,
        Ripartizione::Utente,
        Ripartizione::Convenzione,
        Ripartizione::Esito,
        Ripartizione::Servizio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ripartizione::Totale => "totale",
            Ripartizione::Ente => "ente",
            Ripartizione::Utente => "utente",
            Ripartizione::Convenzione => "convenzione",
            Ripartizione::Esito => "esito",
            Ripartizione::Servizio => "servizio",
        }
    }

    pub fn parse(s: &str) -> Option<Ripartizione> {
        Ripartizione::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Requests and their durations are figures of this breakdown (a request has one Ente,
    /// one submitter, one convention; it has many outcomes and services).
    pub fn per_richiesta(self) -> bool {
        !matches!(self, Ripartizione::Esito | Ripartizione::Servizio)
    }

    /// Subjects and outcome shares are figures of this breakdown.
    pub fn con_esiti(self) -> bool {
        self != Ripartizione::Servizio
    }

    /// ANPR calls are figures of this breakdown (a call has no outcome of its own).
    pub fn con_chiamate(self) -> bool {
        self != Ripartizione::Esito
    }
}

/// A filter that is known to be valid: `dal ≤ al`, at most [`MAX_PERIODI`] periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiltroStatistiche {
    ambito: AmbitoElenco,
    dal: NaiveDate,
    al: NaiveDate,
    periodo: Periodo,
    ripartizione: Ripartizione,
    periodi: Vec<PeriodoStatistico>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreFiltro {
    #[error("la data iniziale ({dal}) è successiva a quella finale ({al})")]
    IntervalloRovesciato { dal: String, al: String },
    #[error(
        "l'intervallo comprende più di {MAX_PERIODI} periodi: scelga un periodo più lungo \
         (settimana o mese) o un intervallo più breve"
    )]
    TroppiPeriodi,
}

/// One bucket: its key, first and last calendar day, and how many of its days fall within the
/// filter's dates (the days whose quota it can use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodoStatistico {
    pub chiave: String,
    pub dal: NaiveDate,
    pub al: NaiveDate,
    pub giorni_nel_filtro: i64,
}

impl FiltroStatistiche {
    /// `dal` and `al` are Europe/Rome calendar days, both included.
    pub fn nuovo(
        ambito: AmbitoElenco,
        dal: NaiveDate,
        al: NaiveDate,
        periodo: Periodo,
        ripartizione: Ripartizione,
    ) -> Result<FiltroStatistiche, ErroreFiltro> {
        if dal > al {
            return Err(ErroreFiltro::IntervalloRovesciato {
                dal: dal.format("%d/%m/%Y").to_string(),
                al: al.format("%d/%m/%Y").to_string(),
            });
        }
        let mut periodi = Vec::new();
        let mut giorno = dal;
        while giorno <= al {
            if periodi.len() == MAX_PERIODI {
                return Err(ErroreFiltro::TroppiPeriodi);
            }
            let (chiave, inizio, fine) = periodo.contenente(giorno);
            let giorni = (fine.min(al) - inizio.max(dal)).num_days() + 1;
            periodi.push(PeriodoStatistico {
                chiave,
                dal: inizio,
                al: fine,
                giorni_nel_filtro: giorni,
            });
            let Some(dopo) = fine.succ_opt() else { break };
            giorno = dopo;
        }
        Ok(FiltroStatistiche {
            ambito,
            dal,
            al,
            periodo,
            ripartizione,
            periodi,
        })
    }

    pub fn ambito(&self) -> AmbitoElenco {
        self.ambito
    }
    pub fn dal(&self) -> NaiveDate {
        self.dal
    }
    pub fn al(&self) -> NaiveDate {
        self.al
    }
    pub fn periodo(&self) -> Periodo {
        self.periodo
    }
    pub fn ripartizione(&self) -> Ripartizione {
        self.ripartizione
    }
    pub fn periodi(&self) -> &[PeriodoStatistico] {
        &self.periodi
    }
}

/// A median and a 90th percentile over some requests, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Durate {
    /// How many requests the figures are over.
    pub campioni: i64,
    pub mediana_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Durate {
    pub fn da_campioni(mut campioni: Vec<i64>) -> Durate {
        campioni.sort_unstable();
        Durate {
            campioni: campioni.len() as i64,
            mediana_ms: percentile(&campioni, 50),
            p90_ms: percentile(&campioni, 90),
        }
    }
}

/// The `p`-th percentile of `ordinati` (ascending) by the **nearest-rank** method: the value at
/// rank `k = ⌈p·n/100⌉` (1-based, at least 1), so always one of the samples, never an
/// interpolation. The median is `p = 50`: of an even number of samples, the lower middle one.
/// E.g. of 1, 2, 3, 4: median rank ⌈2⌉ = 2 → 2; 90th rank ⌈3.6⌉ = 4 → 4. `None` when empty.
pub fn percentile(ordinati: &[i64], p: u32) -> Option<i64> {
    let n = ordinati.len();
    if n == 0 {
        return None;
    }
    let rango = (p as usize * n).div_ceil(100).max(1);
    ordinati.get(rango.min(n) - 1).copied()
}

/// The figures of one period and group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cifre {
    /// Requests submitted (with [`Ripartizione::Esito`]: those with a row of that outcome).
    pub richieste: i64,
    /// Rows of those requests (with [`Ripartizione::Esito`]: rows with that outcome).
    pub soggetti: i64,
    /// Rows of the period's requests that have an outcome: the denominator of the shares
    /// (with [`Ripartizione::Esito`], of the whole period, so the groups' shares add up).
    pub righe_concluse: i64,
    pub trovati: i64,
    pub non_trovati: i64,
    pub fuori_ambito: i64,
    pub ambigui: i64,
    /// ANPR calls recorded on the period's days.
    pub chiamate: i64,
    /// Submission → approval.
    pub attesa_convalida: Durate,
    /// Approval → completion.
    pub durata_elaborazione: Durate,
}

impl Cifre {
    /// `n` over the concluded rows, as a fraction; `None` when no row is concluded.
    pub fn frazione(&self, n: i64) -> Option<f64> {
        (self.righe_concluse > 0).then(|| n as f64 / self.righe_concluse as f64)
    }
}

/// A breakdown's group: a stable key and what the page shows. For [`Ripartizione::Esito`] and
/// [`Ripartizione::Servizio`] both are the code (`TROVATO`, `C030`); rows without an outcome
/// yet are the group [`DA_CONCLUDERE`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gruppo {
    pub chiave: String,
    pub etichetta: String,
}

/// The outcome group of rows still waiting or running.
pub const DA_CONCLUDERE: &str = "DA_CONCLUDERE";

impl Gruppo {
    fn totale() -> Gruppo {
        Gruppo {
            chiave: String::new(),
            etichetta: "Totale".into(),
        }
    }
    fn codice(c: &str) -> Gruppo {
        Gruppo {
            chiave: c.into(),
            etichetta: c.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoceStatistica {
    /// Index into [`Statistiche::periodi`].
    pub periodo: usize,
    pub gruppo: Gruppo,
    pub cifre: Cifre,
}

/// Quota use of one period, Comune and service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsoQuota {
    pub periodo: usize,
    pub comune_id: i64,
    pub comune: String,
    pub servizio: String,
    /// Calls counted against the quota (see [`FonteQuota`]).
    pub usate: i64,
    /// The period's days within the filter.
    pub giorni: i64,
}

impl UsoQuota {
    /// The calls the configured daily quota allowed over the period's days in the filter.
    pub fn disponibili(&self, quota_giornaliera: i64) -> i64 {
        quota_giornaliera.saturating_mul(self.giorni)
    }

    /// Used over allowed, as a fraction; `None` when nothing was allowed (quota 0).
    pub fn frazione(&self, quota_giornaliera: i64) -> Option<f64> {
        let d = self.disponibili(quota_giornaliera);
        (d > 0).then(|| self.usate as f64 / d as f64)
    }
}

/// Where [`UsoQuota::usate`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FonteQuota {
    /// The Comune's quota counters: every call that reached the gateway.
    ContatoriComune,
    /// The scope's recorded calls (an Ente's share of its Comune's quota).
    ChiamateAmbito,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statistiche {
    pub periodi: Vec<PeriodoStatistico>,
    /// By period, then group (outcomes in the order of [`Esito::ALL`], others by label). With
    /// [`Ripartizione::Totale`] every period has its line, even an empty one; otherwise only
    /// groups with something to count appear.
    pub voci: Vec<VoceStatistica>,
    /// The same figures over the whole filter, per group (durations over all its requests).
    pub totali: Vec<(Gruppo, Cifre)>,
    pub quote: Vec<UsoQuota>,
    pub fonte_quota: FonteQuota,
}

impl Statistiche {
    /// Nothing submitted and no call recorded in the filter.
    pub fn vuota(&self) -> bool {
        self.totali
            .iter()
            .all(|(_, c)| c.richieste == 0 && c.soggetti == 0 && c.chiamate == 0)
    }
}

// --- Reading --------------------------------------------------------------------------------

/// What a request's groups are made of.
#[derive(Debug, Clone)]
struct Attributi {
    ente_id: i64,
    ente: String,
    utente_id: i64,
    utente: String,
    convenzione_id: i64,
    convenzione: String,
    comune_id: i64,
    comune: String,
}

struct RecRichiesta {
    id: i64,
    attributi: Attributi,
    inviata_ms: i64,
    convalidata_ms: Option<i64>,
    completata_ms: Option<i64>,
}

struct RecChiamate {
    attributi: Attributi,
    servizio: String,
    giorno: String,
    chiamate: i64,
}

/// Rows of a request per outcome (`None`: not concluded yet).
type EsitiRichiesta = HashMap<i64, Vec<(Option<Esito>, i64)>>;

const ATTRIBUTI: &str = "e.id AS ente_id, e.nome AS ente, u.id AS utente_id, \
    u.username AS utente, v.id AS convenzione_id, v.nome AS convenzione, c.id AS comune_id, \
    c.nome AS comune";

const JOIN: &str = "JOIN convenzioni v ON v.id = q.convenzione_id \
    JOIN enti e ON e.id = v.ente_id JOIN comuni c ON c.id = v.comune_id \
    JOIN utenti u ON u.id = q.utente_id";

/// The scope as a condition on `q` (richieste) and `v` (convenzioni); `$1` is its id.
fn condizione(ambito: AmbitoElenco) -> String {
    match ambito {
        AmbitoElenco::Utente(_) => "q.utente_id = $1".into(),
        AmbitoElenco::Comune(_) => "v.comune_id = $1".into(),
        AmbitoElenco::Ente(_) => "v.ente_id = $1".into(),
        // An i64 formatted into the statement cannot inject anything.
        AmbitoElenco::EnteComune(_, comune) => {
            format!("v.ente_id = $1 AND v.comune_id = {comune}")
        }
    }
}

fn id_ambito(a: AmbitoElenco) -> i64 {
    match a {
        AmbitoElenco::Utente(id)
        | AmbitoElenco::Comune(id)
        | AmbitoElenco::Ente(id)
        | AmbitoElenco::EnteComune(id, _) => id,
    }
}

macro_rules! attributi_da_riga {
    ($r:expr) => {
        Attributi {
            ente_id: $r.try_get("ente_id")?,
            ente: $r.try_get("ente")?,
            utente_id: $r.try_get("utente_id")?,
            utente: $r.try_get("utente")?,
            convenzione_id: $r.try_get("convenzione_id")?,
            convenzione: $r.try_get("convenzione")?,
            comune_id: $r.try_get("comune_id")?,
            comune: $r.try_get("comune")?,
        }
    };
}

/// The first instant (UTC epoch ms) of a Europe/Rome calendar day.
fn inizio_giorno_roma(d: NaiveDate) -> i64 {
    let mezzanotte = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Midnight always exists in Rome: the DST changes happen at 02:00 and 03:00.
    Rome.from_local_datetime(&mezzanotte)
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

/// The Europe/Rome calendar day of an instant.
fn data_roma(ms: i64) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    Rome.from_utc_datetime(&utc.naive_utc()).date_naive()
}

impl Store {
    /// The statistics of a scope over a date range (module docs: what is counted where).
    pub async fn statistiche(&self, f: &FiltroStatistiche) -> Result<Statistiche, ErroreStore> {
        let da_ms = inizio_giorno_roma(f.dal);
        let a_ms = inizio_giorno_roma(f.al.succ_opt().unwrap_or(f.al));
        let richieste = self.richieste_statistiche(f.ambito, da_ms, a_ms).await?;
        let esiti = self.esiti_statistiche(f.ambito, da_ms, a_ms).await?;
        let chiamate = self.chiamate_statistiche(f).await?;
        let mut agg = Aggregatore::nuovo(f);
        agg.richieste(&richieste, &esiti);
        agg.chiamate(&chiamate);
        let (voci, totali) = agg.concludi();
        let (quote, fonte_quota) = match f.ambito {
            AmbitoElenco::Comune(c) => (
                quote_da(f, self.contatori_quota(c, f).await?),
                FonteQuota::ContatoriComune,
            ),
            _ => (
                quote_da(
                    f,
                    chiamate.iter().map(|k| {
                        let a = &k.attributi;
                        (
                            a.comune_id,
                            a.comune.clone(),
                            k.servizio.clone(),
                            k.giorno.clone(),
                            k.chiamate,
                        )
                    }),
                ),
                FonteQuota::ChiamateAmbito,
            ),
        };
        Ok(Statistiche {
            periodi: f.periodi.clone(),
            voci,
            totali,
            quote,
            fonte_quota,
        })
    }

    async fn richieste_statistiche(
        &self,
        ambito: AmbitoElenco,
        da_ms: i64,
        a_ms: i64,
    ) -> Result<Vec<RecRichiesta>, ErroreStore> {
        let sql = format!(
            "SELECT q.id, q.inviata_ms, q.convalidata_ms, q.completata_ms, {ATTRIBUTI} \
             FROM richieste q {JOIN} \
             WHERE {} AND q.inviata_ms >= $2 AND q.inviata_ms < $3 ORDER BY q.id",
            condizione(ambito)
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id_ambito(ambito))
                .bind(da_ms)
                .bind(a_ms)
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(RecRichiesta {
                    id: r.try_get("id")?,
                    attributi: attributi_da_riga!(r),
                    inviata_ms: r.try_get("inviata_ms")?,
                    convalidata_ms: r.try_get("convalidata_ms")?,
                    completata_ms: r.try_get("completata_ms")?,
                });
            }
            Ok(v)
        })
    }

    async fn esiti_statistiche(
        &self,
        ambito: AmbitoElenco,
        da_ms: i64,
        a_ms: i64,
    ) -> Result<EsitiRichiesta, ErroreStore> {
        let sql = format!(
            "SELECT g.richiesta_id, g.esito, COUNT(*) AS n FROM righe g \
             JOIN richieste q ON q.id = g.richiesta_id \
             JOIN convenzioni v ON v.id = q.convenzione_id \
             WHERE {} AND q.inviata_ms >= $2 AND q.inviata_ms < $3 \
             GROUP BY g.richiesta_id, g.esito",
            condizione(ambito)
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id_ambito(ambito))
                .bind(da_ms)
                .bind(a_ms)
                .fetch_all(ex)
                .await?;
            let mut m: EsitiRichiesta = HashMap::new();
            for r in &righe {
                let esito = crate::richieste::esito_da(r.try_get("esito")?)?;
                m.entry(r.try_get("richiesta_id")?)
                    .or_default()
                    .push((esito, r.try_get("n")?));
            }
            Ok(m)
        })
    }

    async fn chiamate_statistiche(
        &self,
        f: &FiltroStatistiche,
    ) -> Result<Vec<RecChiamate>, ErroreStore> {
        let sql = format!(
            "SELECT k.servizio, k.giorno, k.chiamate, {ATTRIBUTI} \
             FROM chiamate_anpr_giorno k JOIN richieste q ON q.id = k.richiesta_id {JOIN} \
             WHERE {} AND k.giorno >= $2 AND k.giorno <= $3 ORDER BY k.giorno",
            condizione(f.ambito)
        );
        leggi!(self, |ex| {
            let righe = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id_ambito(f.ambito))
                .bind(f.dal.format("%Y-%m-%d").to_string())
                .bind(f.al.format("%Y-%m-%d").to_string())
                .fetch_all(ex)
                .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push(RecChiamate {
                    attributi: attributi_da_riga!(r),
                    servizio: r.try_get("servizio")?,
                    giorno: r.try_get("giorno")?,
                    chiamate: r.try_get("chiamate")?,
                });
            }
            Ok(v)
        })
    }

    /// The Comune's quota counters in the filter's days: (Comune, name, service, day, used).
    async fn contatori_quota(
        &self,
        comune_id: i64,
        f: &FiltroStatistiche,
    ) -> Result<Vec<(i64, String, String, String, i64)>, ErroreStore> {
        leggi!(self, |ex| {
            let righe = sqlx::query(
                "SELECT k.servizio, k.giorno, k.usate, c.nome FROM quote_contatori k \
                 JOIN comuni c ON c.id = k.comune_id \
                 WHERE k.comune_id = $1 AND k.giorno >= $2 AND k.giorno <= $3",
            )
            .bind(comune_id)
            .bind(f.dal.format("%Y-%m-%d").to_string())
            .bind(f.al.format("%Y-%m-%d").to_string())
            .fetch_all(ex)
            .await?;
            let mut v = Vec::with_capacity(righe.len());
            for r in &righe {
                v.push((
                    comune_id,
                    r.try_get::<String, _>(3)?,
                    r.try_get::<String, _>(0)?,
                    r.try_get::<String, _>(1)?,
                    r.try_get::<i64, _>(2)?,
                ));
            }
            Ok(v)
        })
    }
}

// --- Adding up ------------------------------------------------------------------------------

#[derive(Default)]
struct Accumulo {
    cifre: Cifre,
    attese: Vec<i64>,
    elaborazioni: Vec<i64>,
}

/// Figures per (period or `None` for the whole filter, group key).
struct Aggregatore<'a> {
    f: &'a FiltroStatistiche,
    indice: HashMap<&'a str, usize>,
    voci: BTreeMap<(Option<usize>, String), (Gruppo, Accumulo)>,
    /// Concluded rows per period, for the outcome breakdown's shares.
    concluse: HashMap<Option<usize>, i64>,
}

fn gruppo_richiesta(r: Ripartizione, a: &Attributi) -> Option<Gruppo> {
    let (chiave, etichetta) = match r {
        Ripartizione::Totale => return Some(Gruppo::totale()),
        Ripartizione::Ente => (format!("ente:{}", a.ente_id), a.ente.clone()),
        Ripartizione::Utente => (format!("utente:{}", a.utente_id), a.utente.clone()),
        Ripartizione::Convenzione => (
            format!("convenzione:{}", a.convenzione_id),
            a.convenzione.clone(),
        ),
        Ripartizione::Esito | Ripartizione::Servizio => return None,
    };
    Some(Gruppo { chiave, etichetta })
}

/// Adds `n` rows of outcome `esito` to the figures.
fn somma_esito(c: &mut Cifre, esito: Option<Esito>, n: i64) {
    c.soggetti += n;
    let Some(e) = esito else { return };
    c.righe_concluse += n;
    match e {
        Esito::Trovato => c.trovati += n,
        Esito::NonTrovato => c.non_trovati += n,
        Esito::FuoriAmbito => c.fuori_ambito += n,
        Esito::Ambiguo => c.ambigui += n,
        _ => {}
    }
}

impl<'a> Aggregatore<'a> {
    fn nuovo(f: &'a FiltroStatistiche) -> Aggregatore<'a> {
        let indice = f
            .periodi
            .iter()
            .enumerate()
            .map(|(i, p)| (p.chiave.as_str(), i))
            .collect();
        Aggregatore {
            f,
            indice,
            voci: BTreeMap::new(),
            concluse: HashMap::new(),
        }
    }

    fn periodo_di(&self, d: NaiveDate) -> Option<usize> {
        let (chiave, _, _) = self.f.periodo.contenente(d);
        self.indice.get(chiave.as_str()).copied()
    }

    /// Applies `agg` to the group's figures of the period and of the whole filter.
    fn su_entrambi(&mut self, periodo: usize, g: &Gruppo, agg: impl Fn(&mut Accumulo)) {
        for p in [Some(periodo), None] {
            let voce = self
                .voci
                .entry((p, g.chiave.clone()))
                .or_insert_with(|| (g.clone(), Accumulo::default()));
            agg(&mut voce.1);
        }
    }

    fn richieste(&mut self, richieste: &[RecRichiesta], esiti: &EsitiRichiesta) {
        let nessuno = Vec::new();
        for r in richieste {
            let Some(p) = self.periodo_di(data_roma(r.inviata_ms)) else {
                continue;
            };
            let righe = esiti.get(&r.id).unwrap_or(&nessuno);
            let concluse: i64 = righe
                .iter()
                .filter(|(e, _)| e.is_some())
                .map(|(_, n)| n)
                .sum();
            for chiave in [Some(p), None] {
                *self.concluse.entry(chiave).or_default() += concluse;
            }
            match gruppo_richiesta(self.f.ripartizione, &r.attributi) {
                Some(g) => {
                    let attesa = r.convalidata_ms.map(|c| c - r.inviata_ms);
                    let elaborazione = r.convalidata_ms.zip(r.completata_ms).map(|(c, f)| f - c);
                    self.su_entrambi(p, &g, |a| {
                        a.cifre.richieste += 1;
                        for (e, n) in righe {
                            somma_esito(&mut a.cifre, *e, *n);
                        }
                        a.attese.extend(attesa);
                        a.elaborazioni.extend(elaborazione);
                    });
                }
                None if self.f.ripartizione == Ripartizione::Esito => {
                    for (e, n) in righe {
                        let g = Gruppo::codice(e.map_or(DA_CONCLUDERE, Esito::as_str));
                        self.su_entrambi(p, &g, |a| {
                            a.cifre.richieste += 1;
                            somma_esito(&mut a.cifre, *e, *n);
                        });
                    }
                }
                None => {}
            }
        }
    }

    fn chiamate(&mut self, chiamate: &[RecChiamate]) {
        for k in chiamate {
            let Ok(giorno) = NaiveDate::parse_from_str(&k.giorno, "%Y-%m-%d") else {
                continue;
            };
            let Some(p) = self.periodo_di(giorno) else {
                continue;
            };
            let g = match self.f.ripartizione {
                Ripartizione::Servizio => Gruppo::codice(&k.servizio),
                r => match gruppo_richiesta(r, &k.attributi) {
                    Some(g) => g,
                    None => continue,
                },
            };
            self.su_entrambi(p, &g, |a| a.cifre.chiamate += k.chiamate);
        }
    }

    fn concludi(mut self) -> (Vec<VoceStatistica>, Vec<(Gruppo, Cifre)>) {
        if self.f.ripartizione == Ripartizione::Totale {
            // A period with nothing in it is a zero, not a gap, on a time axis.
            for p in 0..self.f.periodi.len() {
                self.su_entrambi(p, &Gruppo::totale(), |_| {});
            }
        }
        let esito = self.f.ripartizione == Ripartizione::Esito;
        let mut voci = Vec::new();
        let mut totali = Vec::new();
        for ((periodo, _), (gruppo, a)) in self.voci {
            let mut cifre = Cifre {
                attesa_convalida: Durate::da_campioni(a.attese),
                durata_elaborazione: Durate::da_campioni(a.elaborazioni),
                ..a.cifre
            };
            if esito {
                cifre.righe_concluse = self.concluse.get(&periodo).copied().unwrap_or(0);
            }
            match periodo {
                Some(periodo) => voci.push(VoceStatistica {
                    periodo,
                    gruppo,
                    cifre,
                }),
                None => totali.push((gruppo, cifre)),
            }
        }
        voci.sort_by_key(|v| (v.periodo, ordine(&v.gruppo)));
        totali.sort_by_key(|t| ordine(&t.0));
        (voci, totali)
    }
}

/// Outcomes in the order of [`Esito::ALL`] then "to conclude"; other groups by label, then key.
fn ordine(g: &Gruppo) -> (usize, String, String) {
    let posto = Esito::parse(&g.chiave)
        .and_then(|e| Esito::ALL.iter().position(|x| *x == e))
        .unwrap_or(if g.chiave == DA_CONCLUDERE {
            Esito::ALL.len()
        } else {
            Esito::ALL.len() + 1
        });
    (posto, g.etichetta.to_lowercase(), g.chiave.clone())
}

/// Quota use per (period, Comune, service) from (Comune, name, service, day, calls) records.
fn quote_da(
    f: &FiltroStatistiche,
    record: impl IntoIterator<Item = (i64, String, String, String, i64)>,
) -> Vec<UsoQuota> {
    let indice: HashMap<&str, usize> = f
        .periodi
        .iter()
        .enumerate()
        .map(|(i, p)| (p.chiave.as_str(), i))
        .collect();
    let mut m: BTreeMap<(usize, String, i64, String), i64> = BTreeMap::new();
    for (comune_id, comune, servizio, giorno, n) in record {
        let Ok(d) = NaiveDate::parse_from_str(&giorno, "%Y-%m-%d") else {
            continue;
        };
        let (chiave, _, _) = f.periodo.contenente(d);
        if let Some(p) = indice.get(chiave.as_str()) {
            *m.entry((*p, comune, comune_id, servizio)).or_default() += n;
        }
    }
    m.into_iter()
        .map(|((periodo, comune, comune_id, servizio), usate)| UsoQuota {
            periodo,
            comune_id,
            comune,
            servizio,
            usate,
            giorni: f.periodi[periodo].giorni_nel_filtro,
        })
        .collect()
}

// --- Counting calls where outcomes are recorded ---------------------------------------------

/// The ANPR calls of the outcomes recorded in one transaction, per request and service.
#[derive(Debug, Default)]
pub(crate) struct ChiamateRegistrate(BTreeMap<(i64, String), i64>);

impl ChiamateRegistrate {
    /// Counts the calls of a row's `id_operazioni` (one object with its `servizio` per call).
    pub(crate) fn aggiungi(&mut self, richiesta_id: i64, id_operazioni: &serde_json::Value) {
        let chiamate = id_operazioni.as_array().into_iter().flatten();
        for servizio in chiamate.filter_map(|c| c.get("servizio")?.as_str()) {
            *self
                .0
                .entry((richiesta_id, servizio.to_string()))
                .or_default() += 1;
        }
    }
}

/// Adding the recorded calls to `chiamate_anpr_giorno` inside the caller's transaction.
pub(crate) trait ConnessioneStatistiche {
    /// `giorno`: the Europe/Rome day (`AAAA-MM-GG`) the outcomes are recorded on.
    async fn conta_chiamate_anpr(
        &mut self,
        chiamate: &ChiamateRegistrate,
        giorno: &str,
    ) -> Result<(), ErroreStore>;
}

macro_rules! corpo_conta_chiamate {
    ($conn:expr, $chiamate:expr, $giorno:expr) => {{
        for ((richiesta_id, servizio), n) in &$chiamate.0 {
            sqlx::query(
                "INSERT INTO chiamate_anpr_giorno (richiesta_id, servizio, giorno, chiamate) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (richiesta_id, servizio, giorno) \
                 DO UPDATE SET chiamate = chiamate_anpr_giorno.chiamate + excluded.chiamate",
            )
            .bind(richiesta_id)
            .bind(servizio)
            .bind($giorno)
            .bind(n)
            .execute(&mut *$conn)
            .await?;
        }
        Ok(())
    }};
}

impl ConnessioneStatistiche for SqliteConnection {
    async fn conta_chiamate_anpr(
        &mut self,
        chiamate: &ChiamateRegistrate,
        giorno: &str,
    ) -> Result<(), ErroreStore> {
        corpo_conta_chiamate!(self, chiamate, giorno)
    }
}

impl ConnessioneStatistiche for PgConnection {
    async fn conta_chiamate_anpr(
        &mut self,
        chiamate: &ChiamateRegistrate,
        giorno: &str,
    ) -> Result<(), ErroreStore> {
        corpo_conta_chiamate!(self, chiamate, giorno)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: i32, m: u32, g: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(a, m, g).unwrap()
    }

    #[test]
    fn percentile_per_rango_piu_vicino() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[7], 90), Some(7));
        // n = 4: median rank ⌈2⌉ = 2, 90th rank ⌈3.6⌉ = 4.
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 90), Some(4));
        // n = 10: 90th rank ⌈9⌉ = 9, median rank 5.
        let dieci: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&dieci, 90), Some(9));
        assert_eq!(percentile(&dieci, 50), Some(5));
        // n = 5: median rank ⌈2.5⌉ = 3.
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 50), Some(30));
    }

    #[test]
    fn periodi_del_calendario() {
        // 2026-03-02 is a Monday of ISO week 10; 2027-01-01 (a Friday) is in 2026-W53.
        assert_eq!(
            Periodo::Settimana.contenente(d(2026, 3, 4)),
            ("2026-W10".into(), d(2026, 3, 2), d(2026, 3, 8))
        );
        assert_eq!(Periodo::Settimana.contenente(d(2027, 1, 1)).0, "2026-W53");
        assert_eq!(
            Periodo::Mese.contenente(d(2028, 2, 10)),
            ("2028-02".into(), d(2028, 2, 1), d(2028, 2, 29))
        );
        assert_eq!(
            Periodo::Mese.contenente(d(2026, 12, 31)),
            ("2026-12".into(), d(2026, 12, 1), d(2026, 12, 31))
        );
    }

    #[test]
    fn filtro_con_giorni_nel_filtro() {
        // 2026-03-05 (Thu) .. 2026-03-17 (Tue): W10 has 4 days in (5..8), W11 7, W12 2.
        let f = FiltroStatistiche::nuovo(
            AmbitoElenco::Comune(1),
            d(2026, 3, 5),
            d(2026, 3, 17),
            Periodo::Settimana,
            Ripartizione::Totale,
        )
        .unwrap();
        let giorni: Vec<(&str, i64)> = f
            .periodi()
            .iter()
            .map(|p| (p.chiave.as_str(), p.giorni_nel_filtro))
            .collect();
        assert_eq!(giorni, [("2026-W10", 4), ("2026-W11", 7), ("2026-W12", 2)]);
        let rovesciato = FiltroStatistiche::nuovo(
            AmbitoElenco::Comune(1),
            d(2026, 3, 5),
            d(2026, 3, 4),
            Periodo::Giorno,
            Ripartizione::Totale,
        );
        assert!(matches!(
            rovesciato,
            Err(ErroreFiltro::IntervalloRovesciato { .. })
        ));
        // 400 days are 400 periods: the limit; 401 are refused.
        let inizio = d(2025, 1, 1);
        let fine = inizio.checked_add_days(Days::new(399)).unwrap();
        let f = FiltroStatistiche::nuovo(
            AmbitoElenco::Comune(1),
            inizio,
            fine,
            Periodo::Giorno,
            Ripartizione::Totale,
        );
        assert_eq!(f.unwrap().periodi().len(), 400);
        let troppi = FiltroStatistiche::nuovo(
            AmbitoElenco::Comune(1),
            inizio,
            fine.succ_opt().unwrap(),
            Periodo::Giorno,
            Ripartizione::Totale,
        );
        assert_eq!(troppi, Err(ErroreFiltro::TroppiPeriodi));
    }

    #[test]
    fn giorni_di_roma() {
        // 2026-03-10T23:00Z is already 2026-03-11 in Rome (CET, UTC+1).
        assert_eq!(data_roma(1_773_183_600_000), d(2026, 3, 11));
        assert_eq!(inizio_giorno_roma(d(2026, 3, 11)), 1_773_183_600_000);
        // Summer time (UTC+2): 2026-07-02 starts at 2026-07-01T22:00Z.
        assert_eq!(inizio_giorno_roma(d(2026, 7, 2)), 1_782_943_200_000);
    }

    #[test]
    fn chiamate_dagli_id_operazione() {
        let mut c = ChiamateRegistrate::default();
        c.aggiungi(
            5,
            &serde_json::json!([
                {"servizio": "C030", "id_operazione_client": "1"},
                {"servizio": "C020", "id_operazione_client": "2"},
            ]),
        );
        c.aggiungi(5, &serde_json::json!([{"servizio": "C030"}]));
        c.aggiungi(6, &serde_json::json!([]));
        let v: Vec<_> = c.0.into_iter().collect();
        assert_eq!(v, [((5, "C020".into()), 1), ((5, "C030".into()), 2)]);
    }
}

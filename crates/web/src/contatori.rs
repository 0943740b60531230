//! A short-lived, per-process cache of a big request's row counts, for the pages, the request
//! lists and the API status call that show its progress. A list counts the rows of its small
//! requests in its own statement and leaves those of a request that may be big (one with a row
//! numbered [`SOGLIA_RIGHE`] or more) to this cache ([`Contatori::elenco`]).
//!
//! Counting the rows of a request costs in proportion to its rows (tens of milliseconds for
//! 100,000), and while it is processing every open page polls for it and API clients ask for its
//! status: fifty people following the same request would count it fifty times a second. Here
//! a request of at least [`SOGLIA_RIGHE`] rows is counted at most once per
//! [`DURATA_CONTEGGI`] in this process, however many ask meanwhile (one counts, the others
//! wait for that count and reuse it). Smaller requests are counted afresh every time: that
//! is cheap, and what was just processed shows at once.
//!
//! A reused count is bound to the request's state and last update (`stato`, `aggiornata_ms`,
//! read afresh by every caller): after a state change (approval, completion, failure,
//! suspension) the first page counts again, so a page never shows a request's new state with
//! the counts of the old one. Within a state the counts may lag the worker by at most
//! [`DURATA_CONTEGGI`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::elenchi::{FiltroRichieste, VoceElenco, VoceRichiesta};
use store::registro::{FiltroMonitoraggio, Limitato};
use store::richieste::Richiesta;
use store::{ErroreStore, Store};

/// Requests with fewer rows than this are never cached.
pub const SOGLIA_RIGHE: i64 = 10_000;
/// How long the counts of a big request (total and final rows, with the names the pages show
/// next to them) are reused.
pub const DURATA_CONTEGGI: Duration = Duration::from_secs(1);
/// How long its count of invalid rows is reused. It only feeds the estimate of the time
/// left; it is a scan of the request's rows, and it hardly changes while processing (rows
/// invalid from the upload stay so; the worker marks a few more).
pub const DURATA_NON_VALIDE: Duration = Duration::from_secs(30);
/// Past this many requests cached, those nobody is reading are forgotten.
const MASSIMO_VOCI: usize = 1_024;

/// What a cached count is valid for: the request as its reader just read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Versione {
    stato: String,
    aggiornata_ms: i64,
}

impl Versione {
    fn di(r: &Richiesta) -> Versione {
        Versione {
            stato: r.stato.clone(),
            aggiornata_ms: r.aggiornata_ms,
        }
    }
}

/// One request's cached counts; each kind has its own lock, so that the rare scan for the
/// invalid rows never holds up the counts.
#[derive(Default)]
struct Cella {
    voce: tokio::sync::Mutex<Option<(Versione, Instant, VoceRichiesta)>>,
    non_valide: tokio::sync::Mutex<Option<(Versione, Instant, i64)>>,
}

/// The cache (one per process, in [`crate::StatoApp`]).
#[derive(Default)]
pub struct Contatori {
    celle: Mutex<HashMap<i64, Arc<Cella>>>,
}

impl std::fmt::Debug for Contatori {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contatori").finish_non_exhaustive()
    }
}

impl Contatori {
    fn cella(&self, id: i64) -> Arc<Cella> {
        let mut celle = self.celle.lock().unwrap_or_else(|e| e.into_inner());
        if celle.len() >= MASSIMO_VOCI && !celle.contains_key(&id) {
            // Only cells someone is reading right now are kept.
            celle.retain(|_, c| Arc::strong_count(c) > 1);
        }
        celle.entry(id).or_default().clone()
    }

    /// The request with its names and its row counts ([`Store::voce_richiesta`]): for a big
    /// request, at most [`DURATA_CONTEGGI`] old and of the same state and update as `r`.
    pub async fn voce(&self, store: &Store, r: &Richiesta) -> Result<VoceRichiesta, ErroreStore> {
        let cella = self.cella(r.id);
        // Whoever finds the count too old counts while holding the lock; the others wait for
        // that count instead of running the same scan at the same time.
        let mut g = cella.voce.lock().await;
        let versione = Versione::di(r);
        if let Some((v, letta, voce)) = g.as_ref()
            && *v == versione
            && letta.elapsed() < DURATA_CONTEGGI
        {
            return Ok(voce.clone());
        }
        let voce = store.voce_richiesta(r.id).await?;
        *g = (voce.righe_totali >= SOGLIA_RIGHE).then(|| (versione, Instant::now(), voce.clone()));
        Ok(voce)
    }

    /// The requests of a list ([`Store::elenco_richieste`]) with their counts: those of a big
    /// request as [`Contatori::voce`] gives them, the others read with the list.
    pub async fn elenco(
        &self,
        store: &Store,
        f: &FiltroRichieste,
    ) -> Result<Vec<VoceRichiesta>, ErroreStore> {
        let voci = store.elenco_richieste_contando(f, SOGLIA_RIGHE).await?;
        self.completa(store, voci).await
    }

    /// [`Store::richieste_monitorate`], with counts as [`Contatori::elenco`] gives them.
    pub async fn monitorate(
        &self,
        store: &Store,
        f: &FiltroMonitoraggio,
    ) -> Result<Limitato<VoceRichiesta>, ErroreStore> {
        let l = store.richieste_monitorate_contando(f, SOGLIA_RIGHE).await?;
        Ok(Limitato {
            voci: self.completa(store, l.voci).await?,
            altre: l.altre,
        })
    }

    /// Counts what the list left uncounted (a request that may be big), through
    /// [`Contatori::voce`]: the count is of the state the list read, or later. A request gone
    /// since the list was read (a discarded draft) leaves it.
    async fn completa(
        &self,
        store: &Store,
        voci: Vec<VoceElenco>,
    ) -> Result<Vec<VoceRichiesta>, ErroreStore> {
        let mut v = Vec::with_capacity(voci.len());
        for VoceElenco { mut voce, contata } in voci {
            if !contata {
                match self.voce(store, &voce.richiesta).await {
                    Ok(c) => {
                        (voce.righe_totali, voce.righe_finali) = (c.righe_totali, c.righe_finali)
                    }
                    Err(ErroreStore::NonTrovato { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
            v.push(voce);
        }
        Ok(v)
    }

    /// The request's invalid rows ([`Store::conteggio_problemi`]); for a request of `totali`
    /// rows at least [`SOGLIA_RIGHE`], at most [`DURATA_NON_VALIDE`] old and of the same state
    /// and update as `r`.
    pub async fn non_valide(
        &self,
        store: &Store,
        r: &Richiesta,
        totali: i64,
    ) -> Result<i64, ErroreStore> {
        if totali < SOGLIA_RIGHE {
            return Ok(store.conteggio_problemi(r.id).await?.non_valide);
        }
        let cella = self.cella(r.id);
        let mut g = cella.non_valide.lock().await;
        let versione = Versione::di(r);
        if let Some((v, letta, n)) = g.as_ref()
            && *v == versione
            && letta.elapsed() < DURATA_NON_VALIDE
        {
            return Ok(*n);
        }
        let n = store.conteggio_problemi(r.id).await?.non_valide;
        *g = Some((versione, Instant::now(), n));
        Ok(n)
    }
}

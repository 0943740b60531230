//! The `anpr` client's operation-id archive and quota counter over the database, so that every
//! process sharing it draws unique ids above one high-water mark and counts against one quota
//! (DESIGN §4, §6).
//!
//! The client's traits are synchronous and the store is async: each method blocks its worker
//! thread with `block_in_place` on the current runtime, which must be tokio's multi-thread one
//! (the binary's is). The call that blocks is a single short statement.

use anpr::archivio::{ArchivioIdOperazione, ErroreArchivio, IdOperazione};
use anpr::quota::{ContatoreQuota, QuotaEsaurita, mezzanotte_roma};
use anpr::security::Orologio;
use anpr::servizi::Servizio;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use store::{ErroreStore, Store, giorno_roma};

fn blocca<T>(f: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// Retries a store call that failed for a reason a retry may cure (a busy SQLite file, a
/// PostgreSQL serialization failure): the client would otherwise stop the whole request.
fn con_ritentativi<T, F, Fut>(f: F) -> Result<T, ErroreStore>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ErroreStore>>,
{
    blocca(ritenta(f))
}

/// [`con_ritentativi`] for async callers.
async fn ritenta<T, F, Fut>(mut f: F) -> Result<T, ErroreStore>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ErroreStore>>,
{
    let mut attesa = std::time::Duration::from_millis(50);
    for _ in 0..5 {
        match f().await {
            Err(e) if e.transitorio() => {
                tracing::warn!(errore = %e, "database occupato: nuovo tentativo");
                tokio::time::sleep(attesa).await;
                attesa *= 2;
            }
            altro => return altro,
        }
    }
    f().await
}

fn errore_archivio(e: ErroreStore) -> ErroreArchivio {
    match e {
        ErroreStore::IdEsauriti => ErroreArchivio::Esaurito,
        altro => ErroreArchivio::Io {
            percorso: "database".into(),
            motivo: altro.to_string(),
        },
    }
}

/// Operation ids in `id_operazione_hwm` / `id_operazione_chiamate`.
pub struct ArchivioStore {
    store: Store,
    orologio: Arc<dyn Orologio>,
    /// The engine forgets a call's key only once the row's outcome is stored (in the same
    /// pass, after `registra_esiti`): a call answered just before a crash is then redone with
    /// its id, and ANPR replays its answer instead of making a new lookup.
    completa_dopo_registrazione: bool,
    /// Ids already stored for their keys by [`prealloca`](Self::prealloca), handed out once
    /// without touching the database again, each with whether it was drawn there (new).
    pronti: Mutex<HashMap<String, (u128, bool)>>,
}

impl ArchivioStore {
    /// Keys are forgotten when the client says the call got its final answer.
    pub fn new(store: Store, orologio: Arc<dyn Orologio>) -> Self {
        ArchivioStore {
            store,
            orologio,
            completa_dopo_registrazione: false,
            pronti: Mutex::new(HashMap::new()),
        }
    }

    /// Keys are kept until the caller stores the outcome and forgets them
    /// (`Store::completa_id_operazione`).
    pub fn per_motore(store: Store, orologio: Arc<dyn Orologio>) -> Self {
        ArchivioStore {
            completa_dopo_registrazione: true,
            ..ArchivioStore::new(store, orologio)
        }
    }

    /// Stores ids for these call keys in one transaction (a key that has one keeps it), so
    /// that the calls find them here instead of writing one each. Only for services whose
    /// calls need not go out in id order: ids drawn together would not be sent in their order.
    pub async fn prealloca(&self, chiavi: &[String]) -> Result<(), ErroreStore> {
        let ora = self.orologio.adesso_ms();
        let ids = ritenta(|| self.store.prealloca_id_operazioni(chiavi, ora)).await?;
        let mut g = self.pronti.lock().unwrap_or_else(|e| e.into_inner());
        g.extend(ids.into_iter().map(|(k, id, nuovo)| (k, (id, nuovo))));
        Ok(())
    }

    /// The chunk is over: drops its pre-allocated ids that no call took, and returns the keys
    /// of those that were new, which the caller may delete from the database (no call was ever
    /// sent with them). An unused id that was already stored stays: a call made with it before
    /// may have been answered, and must be redone with it.
    pub fn dimentica(&self, chiavi: &[String]) -> Vec<String> {
        let mut g = self.pronti.lock().unwrap_or_else(|e| e.into_inner());
        chiavi
            .iter()
            .filter(|k| matches!(g.remove(k.as_str()), Some((_, true))))
            .cloned()
            .collect()
    }

    fn pronto(&self, chiave: &str) -> Option<u128> {
        let mut g = self.pronti.lock().unwrap_or_else(|e| e.into_inner());
        g.remove(chiave).map(|(id, _)| id)
    }
}

impl ArchivioIdOperazione for ArchivioStore {
    fn id_per(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        if let Some(id) = self.pronto(chiave) {
            return Ok(IdOperazione(id));
        }
        let ora = self.orologio.adesso_ms();
        con_ritentativi(|| self.store.id_operazione_per(chiave, ora))
            .map(IdOperazione)
            .map_err(errore_archivio)
    }

    fn nuovo_id(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        self.pronto(chiave);
        let ora = self.orologio.adesso_ms();
        con_ritentativi(|| self.store.nuovo_id_operazione(chiave, ora))
            .map(IdOperazione)
            .map_err(errore_archivio)
    }

    fn completa(&self, chiave: &str) -> Result<(), ErroreArchivio> {
        if self.completa_dopo_registrazione {
            return Ok(());
        }
        con_ritentativi(|| self.store.completa_id_operazione(chiave)).map_err(errore_archivio)
    }
}

/// The quota counters of one Comune in `quote_contatori`. Days follow the engine's clock (the
/// system clock in production; an injected one in tests), not the client's, which must stay
/// real for the signatures.
pub struct QuotaStore {
    store: Store,
    comune_id: i64,
    orologio: Arc<dyn Orologio>,
    /// Days ANPR itself said LimitExceeded: the store has no "used up" marker, so this process
    /// remembers them; other processes learn it from the request's `sospesa` flag or from their
    /// own 429.
    esauriti: Mutex<HashSet<(Servizio, String)>>,
    /// Slots taken per block from the database (at most this many at once; 1 takes each call
    /// on its own, for one-shot commands that never give slots back).
    blocco: i64,
    /// Slots taken and not used yet, per service and Rome day, with the day's count when they
    /// were taken. Never held across a wait.
    scorte: Mutex<HashMap<(Servizio, String), Scorta>>,
    /// Held (inside `block_in_place`) by the one call that takes a new block from the
    /// database, so that calls finding the pool empty together take one block, not one each.
    riservando: Mutex<()>,
    /// Per service, the calls planned by the chunks in flight
    /// ([`prepara_blocco`](Self::prepara_blocco)): the pool is kept up to this, and what is
    /// above it goes back when a chunk ends.
    impegni: Mutex<HashMap<Servizio, i64>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Scorta {
    libere: i64,
    contate: i64,
}

/// Slots an engine's call takes at once when the chunk's own ran out (retries, a share nearly
/// used up).
pub const BLOCCO_QUOTA_MOTORE: i64 = 32;

impl QuotaStore {
    pub fn new(store: Store, comune_id: i64, orologio: Arc<dyn Orologio>) -> Self {
        QuotaStore {
            store,
            comune_id,
            orologio,
            esauriti: Mutex::new(HashSet::new()),
            blocco: 1,
            scorte: Mutex::new(HashMap::new()),
            riservando: Mutex::new(()),
            impegni: Mutex::new(HashMap::new()),
        }
    }

    /// For the engine: a chunk's slots are taken before it runs
    /// ([`prepara_blocco`](Self::prepara_blocco)), calls that find none take
    /// [`BLOCCO_QUOTA_MOTORE`] at a time (fewer near the end of the share, see
    /// `Store::riserva_chiamate`), and the ones left over go back when the chunk ends
    /// ([`fine_blocco`](Self::fine_blocco)).
    pub fn per_motore(store: Store, comune_id: i64, orologio: Arc<dyn Orologio>) -> Self {
        QuotaStore {
            blocco: BLOCCO_QUOTA_MOTORE,
            ..QuotaStore::new(store, comune_id, orologio)
        }
    }

    /// Takes a slot from the pool, if one is there for the service and day.
    fn dalla_scorta(&self, servizio: Servizio, giorno: &str) -> Option<u64> {
        let mut g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
        let s = g.get_mut(&(servizio, giorno.to_string()))?;
        if s.libere <= 0 {
            return None;
        }
        s.libere -= 1;
        Some((s.contate - s.libere).max(0) as u64)
    }

    /// A chunk is about to make up to `n` calls per service (`limite` is the service's
    /// share): the pool is filled up to what the chunks in flight planned, in one write per
    /// service, so that their calls do not each write (or wait for) the counter. What the
    /// database refuses (the share running out) the calls ask for one block at a time, and
    /// are refused when it is gone. End the chunk with [`fine_blocco`](Self::fine_blocco).
    pub async fn prepara_blocco(&self, fabbisogno: &[(Servizio, u64, i64)]) {
        let ora = self.orologio.adesso_ms();
        let giorno = giorno_roma(ora);
        for &(servizio, limite, n) in fabbisogno {
            let impegno = {
                let mut g = self.impegni.lock().unwrap_or_else(|e| e.into_inner());
                let i = g.entry(servizio).or_default();
                *i += n;
                *i
            };
            if self.esaurito(servizio, ora) {
                continue;
            }
            let mancano = impegno - self.libere(servizio, &giorno);
            if mancano <= 0 {
                continue;
            }
            let quota = i64::try_from(limite).unwrap_or(i64::MAX);
            let codice = servizio.codice();
            match ritenta(|| {
                self.store
                    .riserva_chiamate(self.comune_id, codice, ora, quota, mancano)
            })
            .await
            {
                Ok(Some((presi, contate))) => {
                    let mut g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
                    let s = g.entry((servizio, giorno.clone())).or_default();
                    s.libere += presi;
                    s.contate = contate;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(errore = %e, servizio = codice, "chiamate non riservate per il blocco");
                }
            }
        }
    }

    /// The chunk that planned `fabbisogno` is over: the slots above what the chunks still in
    /// flight planned go back, and so do those of another day.
    pub async fn fine_blocco(&self, fabbisogno: &[(Servizio, u64, i64)]) {
        let giorno = giorno_roma(self.orologio.adesso_ms());
        let impegni: HashMap<Servizio, i64> = {
            let mut g = self.impegni.lock().unwrap_or_else(|e| e.into_inner());
            for &(servizio, _, n) in fabbisogno {
                if let Some(i) = g.get_mut(&servizio) {
                    *i = (*i - n).max(0);
                }
            }
            g.clone()
        };
        let eccedenze: Vec<((Servizio, String), i64)> = {
            let mut g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
            let v = g
                .iter_mut()
                .filter_map(|((servizio, g_scorta), s)| {
                    let tenute = if *g_scorta == giorno {
                        impegni.get(servizio).copied().unwrap_or(0)
                    } else {
                        0
                    };
                    let eccesso = s.libere - tenute;
                    (eccesso > 0).then(|| {
                        s.libere -= eccesso;
                        ((*servizio, g_scorta.clone()), eccesso)
                    })
                })
                .collect();
            g.retain(|(_, g_scorta), s| *g_scorta == giorno || s.libere > 0);
            v
        };
        self.rendi(eccedenze).await;
    }

    fn libere(&self, servizio: Servizio, giorno: &str) -> i64 {
        let g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
        g.get(&(servizio, giorno.to_string()))
            .map_or(0, |s| s.libere)
    }

    async fn rendi(&self, scorte: Vec<((Servizio, String), i64)>) {
        for ((servizio, giorno), n) in scorte {
            let codice = servizio.codice();
            if let Err(e) = ritenta(|| {
                self.store
                    .restituisci_chiamate(self.comune_id, codice, &giorno, n)
            })
            .await
            {
                // Left counted: the share is under-used, never exceeded.
                tracing::warn!(errore = %e, servizio = codice, n, "chiamate riservate non restituite");
            }
        }
    }

    /// Gives back the slots taken and not used, so the database's counters are the calls
    /// actually made (other processes may then use them).
    pub async fn restituisci(&self) {
        let scorte: Vec<((Servizio, String), i64)> = {
            let mut g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
            let v = g
                .iter_mut()
                .filter(|(_, s)| s.libere > 0)
                .map(|(k, s)| (k.clone(), std::mem::take(&mut s.libere)))
                .collect();
            g.clear();
            v
        };
        self.rendi(scorte).await;
    }

    fn esaurito(&self, servizio: Servizio, ora_ms: i64) -> bool {
        let g = self.esauriti.lock().unwrap_or_else(|e| e.into_inner());
        g.contains(&(servizio, giorno_roma(ora_ms)))
    }

    fn prenota_a_blocchi(
        &self,
        servizio: Servizio,
        ora: i64,
        quota: i64,
        rifiuto: QuotaEsaurita,
    ) -> Result<u64, QuotaEsaurita> {
        let giorno = giorno_roma(ora);
        if let Some(n) = self.dalla_scorta(servizio, &giorno) {
            return Ok(n);
        }
        let codice = servizio.codice();
        tokio::task::block_in_place(|| {
            let _turno = self.riservando.lock().unwrap_or_else(|e| e.into_inner());
            // Another call may have filled the pool while this one waited for its turn.
            if let Some(n) = self.dalla_scorta(servizio, &giorno) {
                return Ok(n);
            }
            let presi = tokio::runtime::Handle::current().block_on(ritenta(|| {
                self.store
                    .riserva_chiamate(self.comune_id, codice, ora, quota, self.blocco)
            }));
            match presi {
                Ok(Some((presi, contate))) => {
                    let mut g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
                    let s = g.entry((servizio, giorno.clone())).or_default();
                    s.libere += presi - 1;
                    s.contate = contate;
                    Ok((contate - s.libere).max(0) as u64)
                }
                Ok(None) => Err(rifiuto),
                Err(e) => {
                    tracing::warn!(errore = %e, servizio = codice, "contatore di quota non disponibile");
                    Err(QuotaEsaurita {
                        fino_a: chrono::DateTime::from_timestamp_millis(ora + 60_000)
                            .unwrap_or_default(),
                        ..rifiuto
                    })
                }
            }
        })
    }
}

impl ContatoreQuota for QuotaStore {
    fn prenota(
        &self,
        _comune: &str,
        servizio: Servizio,
        _ora_client_ms: i64,
        limite: u64,
    ) -> Result<u64, QuotaEsaurita> {
        let ora = self.orologio.adesso_ms();
        let rifiuto = QuotaEsaurita {
            servizio,
            limite,
            fino_a: mezzanotte_roma(ora),
        };
        if self.esaurito(servizio, ora) {
            return Err(rifiuto);
        }
        let quota = i64::try_from(limite).unwrap_or(i64::MAX);
        let codice = servizio.codice();
        if self.blocco > 1 {
            return self.prenota_a_blocchi(servizio, ora, quota, rifiuto);
        }
        let contata = con_ritentativi(|| {
            self.store
                .riserva_chiamata_contata(self.comune_id, codice, ora, quota)
        });
        match contata {
            Ok(Some(n)) => Ok(n.max(0) as u64),
            Ok(None) => Err(rifiuto),
            // A counter we cannot read must not let calls through unbounded: the service waits
            // a minute (the trait has no other refusal than a pause).
            Err(e) => {
                tracing::warn!(errore = %e, servizio = codice, "contatore di quota non disponibile");
                Err(QuotaEsaurita {
                    fino_a: chrono::DateTime::from_timestamp_millis(ora + 60_000)
                        .unwrap_or_default(),
                    ..rifiuto
                })
            }
        }
    }

    fn usate(&self, _comune: &str, servizio: Servizio, _ora_client_ms: i64) -> u64 {
        let ora = self.orologio.adesso_ms();
        if self.esaurito(servizio, ora) {
            return u64::MAX;
        }
        let giorno = giorno_roma(ora);
        let libere = {
            let g = self.scorte.lock().unwrap_or_else(|e| e.into_inner());
            g.get(&(servizio, giorno)).map_or(0, |s| s.libere)
        };
        blocca(
            self.store
                .chiamate_contate(self.comune_id, servizio.codice(), &giorno_roma(ora)),
        )
        .map(|n| (n - libere).max(0) as u64)
        .unwrap_or(0)
    }

    fn esaurisci(&self, _comune: &str, servizio: Servizio, _ora_client_ms: i64) {
        let ora = self.orologio.adesso_ms();
        let mut g = self.esauriti.lock().unwrap_or_else(|e| e.into_inner());
        g.insert((servizio, giorno_roma(ora)));
    }
}

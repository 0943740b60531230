//! The engine: one loop per process that runs the due timers and then one chunk of rows.
//! Everything it coordinates with other processes goes through the database (leases, jobs,
//! quota counters, operation ids), never through this process's memory.

use crate::ErroreWorker;
use crate::accesso::{OpzioniAccesso, costruisci, leggi_accesso};
use crate::adattatori::{ArchivioStore, QuotaStore};
use anpr::client::{PdndClient, PoliticaRitentativi};
use anpr::security::{Orologio, OrologioSistema};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{ChiaveMaestra, Store};
use tokio::sync::Semaphore;

/// How the engine runs.
#[derive(Clone)]
pub struct OpzioniMotore {
    /// Owner name of leases; unique per process (host, pid and a random part by default).
    pub id_processo: String,
    /// Rows claimed at a time.
    pub dimensione_blocco: i64,
    /// A lease not renewed for this long is reclaimed by another worker.
    pub durata_lease: Duration,
    /// Rows of one Comune looked up at the same time (toward ANPR).
    pub concorrenza_per_comune: usize,
    /// Where result files are written (encrypted).
    pub cartella_file: PathBuf,
    /// The engine's clock: leases, quota days, timers. Tests inject one to pass midnight.
    pub orologio: Arc<dyn Orologio>,
    /// Retries of transient ANPR failures.
    pub politica: PoliticaRitentativi,
    /// Wait between passes when there was nothing to do.
    pub pausa_inattivo: Duration,
    /// The timers' scan of requests (silent consent, expiry, resumes) runs at most this often.
    pub intervallo_timer: Duration,
    /// On stop, how long the pass in progress may take to finish; past it the pass is dropped
    /// and this process's leases are released.
    pub tempo_arresto: Duration,
    /// Chunks this process works on at the same time. With two, the next chunk is claimed
    /// and its rows take the Comune's free slots while the last one's tail runs and its
    /// outcomes are recorded, so the calls in flight stay at `concorrenza_per_comune`.
    pub blocchi_in_parallelo: usize,
}

impl OpzioniMotore {
    pub fn new(cartella_file: impl Into<PathBuf>) -> Self {
        OpzioniMotore {
            id_processo: format!("worker-{}-{}", std::process::id(), &uuid_breve()),
            dimensione_blocco: 50,
            durata_lease: Duration::from_secs(60),
            concorrenza_per_comune: 8,
            cartella_file: cartella_file.into(),
            orologio: Arc::new(OrologioSistema),
            politica: PoliticaRitentativi::default(),
            // Short enough that a small request starts promptly (issue 8: 10 rows in 1 s plus
            // two ANPR latencies); an idle pass is three small indexed queries.
            pausa_inattivo: Duration::from_millis(250),
            intervallo_timer: Duration::from_secs(5),
            tempo_arresto: Duration::from_secs(30),
            blocchi_in_parallelo: 2,
        }
    }
}

fn uuid_breve() -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(std::process::id().to_le_bytes());
    h.update(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes(),
    );
    hex::encode(&h.finalize()[..4])
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LavoroSvolto {
    /// Rows given their final outcome.
    pub righe_finali: usize,
    /// Rows given back to the queue (quota, circuit breaker, request stopped).
    pub righe_rilasciate: usize,
    /// Jobs run (timers, file assembly, purge).
    pub job: usize,
}

impl LavoroSvolto {
    /// Nothing moved: the loop may wait.
    pub fn nulla(&self) -> bool {
        self.righe_finali == 0 && self.job == 0
    }

    pub(crate) fn somma(&mut self, altro: LavoroSvolto) {
        self.righe_finali += altro.righe_finali;
        self.righe_rilasciate += altro.righe_rilasciate;
        self.job += altro.job;
    }
}

/// A Comune's client, kept while its stored access does not change.
pub(crate) struct ClientComune {
    pub impronta: String,
    /// `None` when the Comune has only its own channel.
    pub client: Option<Arc<PdndClient>>,
    /// The Comune's own channel (3002), when configured.
    pub ws: Option<Arc<anpr::ws::client::WsClient>>,
    pub archivio: Arc<ArchivioStore>,
    pub quota: Arc<QuotaStore>,
}

pub struct Motore {
    pub(crate) store: Store,
    pub(crate) chiave: Arc<ChiaveMaestra>,
    pub(crate) opzioni: OpzioniMotore,
    client: Mutex<HashMap<i64, Arc<ClientComune>>>,
    semafori: Mutex<HashMap<i64, Arc<Semaphore>>>,
    /// Accesses (by fingerprint) that answered at least one row: until then a Comune's rows go
    /// one at a time, so a broken configuration costs at most one call per service.
    pub(crate) verificati: Mutex<HashSet<String>>,
    ultima_scansione: Mutex<Option<Instant>>,
    /// Job keys this process already queued: the scan does not write them again every time
    /// (the database's unique key is what makes them exist once across processes).
    pub(crate) accodati: Mutex<HashSet<String>>,
    /// `store` with the HMAC key for identifiers, which outcomes need for their keyed hashes
    /// (see [`Motore::store_archivio`]).
    con_chiave_hmac: tokio::sync::OnceCell<Store>,
    /// Claim-to-outcome time of the rows this process stored (`rivesto bench`).
    pub(crate) latenze: Arc<crate::latenze::IstogrammaLatenze>,
}

impl Motore {
    pub fn new(store: Store, chiave: ChiaveMaestra, opzioni: OpzioniMotore) -> Motore {
        // The store stamps its rows with the engine's clock, so that due times, leases and
        // submission days agree with the timers that read them.
        let orologio = opzioni.orologio.clone();
        Motore {
            store: store.con_orologio(move || orologio.adesso_ms()),
            chiave: Arc::new(chiave),
            opzioni,
            client: Mutex::new(HashMap::new()),
            semafori: Mutex::new(HashMap::new()),
            verificati: Mutex::new(HashSet::new()),
            ultima_scansione: Mutex::new(None),
            accodati: Mutex::new(HashSet::new()),
            con_chiave_hmac: tokio::sync::OnceCell::new(),
            latenze: Arc::default(),
        }
    }

    /// The store that records outcomes: with the HMAC key for identifiers, so that every row
    /// keeps the keyed hashes "chi ha consultato" searches (`store::consultazioni`). The key is
    /// read (or generated) from the database on first use, since `new` cannot wait for it; a
    /// store given with its key already is used as it is.
    pub(crate) async fn store_archivio(&self) -> Result<&Store, ErroreWorker> {
        if self.store.chiave_hmac().is_some() {
            return Ok(&self.store);
        }
        self.con_chiave_hmac
            .get_or_try_init(|| async {
                let k = self.store.chiave_hmac_identificativi(&self.chiave).await?;
                Ok::<_, ErroreWorker>(self.store.clone().con_chiave_hmac(k))
            })
            .await
    }

    /// The owner name of this engine's leases.
    pub fn id_processo(&self) -> &str {
        &self.opzioni.id_processo
    }

    /// Per-row latency of the rows this engine stored, from their claim to their outcome.
    pub fn latenze(&self) -> &Arc<crate::latenze::IstogrammaLatenze> {
        &self.latenze
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn opzioni(&self) -> &OpzioniMotore {
        &self.opzioni
    }

    pub(crate) fn adesso_ms(&self) -> i64 {
        self.opzioni.orologio.adesso_ms()
    }

    pub(crate) fn lease_ms(&self) -> i64 {
        i64::try_from(self.opzioni.durata_lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// One iteration: the timers' scan (when due), the due jobs, then one chunk of rows.
    pub async fn passo(&self) -> Result<LavoroSvolto, ErroreWorker> {
        let mut fatto = LavoroSvolto::default();
        if self.scansione_dovuta() {
            self.scansiona().await?;
        } else {
            self.scansiona_nuove_in_attesa().await?;
        }
        fatto.somma(self.esegui_job_dovuti().await?);
        fatto.somma(self.elabora_blocco().await?);
        Ok(fatto)
    }

    /// Runs passes until `arresto` completes, in `blocchi_in_parallelo` lanes: the first runs
    /// whole passes (timers, jobs, a chunk), the others only chunks. On `arresto` no lane
    /// starts a new pass, and the passes in progress get `tempo_arresto` to finish (their
    /// rows get their outcomes); past that they are dropped and every lease this process holds
    /// is released, so other workers take the rows over at once (their ANPR operation ids are
    /// kept, so a redone call is replayed, not repeated). Errors are logged and the lane goes
    /// on after a pause: a database or network outage must not stop the worker.
    ///
    /// The lanes are polled by this one task: nothing they run inline may block its thread
    /// (rows, whose ANPR client blocks on the store adapters, always run in tasks of their own).
    pub async fn esegui_finche(&self, arresto: impl Future<Output = ()>) {
        let (ferma, fermato) = tokio::sync::watch::channel(false);
        // On the heap so it can be dropped before the leases are released: a lane cut short
        // may hold the database's write connection (a chunk's transaction in progress), which
        // only dropping it gives back.
        let mut corsie = Box::pin(futures_util::future::join_all(
            (0..self.opzioni.blocchi_in_parallelo.max(1))
                .map(|i| self.corsia(i == 0, fermato.clone())),
        ));
        tokio::pin!(arresto);
        let finito = tokio::select! {
            biased;
            () = &mut arresto => {
                let _ = ferma.send(true);
                tokio::time::timeout(self.opzioni.tempo_arresto, &mut corsie)
                    .await
                    .is_ok()
            }
            // The lanes end only when told to.
            _ = &mut corsie => true,
        };
        drop(corsie);
        self.concludi_arresto(finito).await;
    }

    /// One lane of [`esegui_finche`](Self::esegui_finche): passes (or only chunks) until
    /// `fermato` turns true, with the idle pause between passes that found nothing.
    async fn corsia(&self, principale: bool, mut fermato: tokio::sync::watch::Receiver<bool>) {
        while !*fermato.borrow() {
            let esito = if principale {
                self.passo().await
            } else {
                self.elabora_blocco().await
            };
            let attesa = match esito {
                Ok(l) if !l.nulla() => continue,
                // The first lane picks new work up promptly; the others join within a second,
                // without each idle process claiming several times a second per lane.
                Ok(_) if principale => self.opzioni.pausa_inattivo,
                Ok(_) => (self.opzioni.pausa_inattivo * 4).max(Duration::from_secs(1)),
                Err(e) => {
                    tracing::error!(errore = %e, "passo del worker non riuscito");
                    self.opzioni.pausa_inattivo.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                biased;
                // The sender is dropped only after the lanes: an error here cannot happen.
                _ = fermato.changed() => {}
                () = tokio::time::sleep(attesa) => {}
            }
        }
    }

    /// Releases whatever this process still holds (after a dropped pass, or a pass that ended
    /// in an error and left rows under lease).
    async fn concludi_arresto(&self, passo_finito: bool) {
        if !passo_finito {
            tracing::warn!(
                secondi = self.opzioni.tempo_arresto.as_secs(),
                "lavoro in corso non concluso entro il tempo di arresto: rilascio i lease"
            );
        }
        match self
            .store
            .rilascia_lease_di(&self.opzioni.id_processo)
            .await
        {
            Ok((0, 0)) => {}
            Ok((righe, job)) => {
                tracing::info!(righe, job, "lease rilasciati all'arresto");
            }
            Err(e) => tracing::error!(
                errore = %e,
                "rilascio dei lease all'arresto non riuscito: scadranno da soli"
            ),
        }
    }

    fn scansione_dovuta(&self) -> bool {
        let mut g = self
            .ultima_scansione
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let dovuta = g.is_none_or(|t| t.elapsed() >= self.opzioni.intervallo_timer);
        if dovuta {
            *g = Some(Instant::now());
        }
        dovuta
    }

    /// The Comune's client, rebuilt when its stored access changed (a fixed configuration).
    pub(crate) async fn client(&self, comune_id: i64) -> Result<Arc<ClientComune>, ErroreWorker> {
        let (impronta, accesso) = leggi_accesso(&self.store, &self.chiave, comune_id).await?;
        if let Some(c) = self.client_in_cache(comune_id)
            && c.impronta == impronta
        {
            return Ok(c);
        }
        let opzioni = OpzioniAccesso {
            orologio: self.opzioni.orologio.clone(),
            politica: self.opzioni.politica,
            completa_dopo_registrazione: true,
        };
        let c = costruisci(&self.store, comune_id, &accesso, &opzioni).await?;
        let c = Arc::new(ClientComune {
            impronta,
            client: c.client.map(Arc::new),
            ws: c.ws.map(Arc::new),
            archivio: c.archivio,
            quota: c.quota,
        });
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(comune_id, c.clone());
        Ok(c)
    }

    fn client_in_cache(&self, comune_id: i64) -> Option<Arc<ClientComune>> {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&comune_id)
            .cloned()
    }

    pub(crate) fn semaforo(&self, comune_id: i64) -> Arc<Semaphore> {
        self.semafori
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(comune_id)
            .or_insert_with(|| Arc::new(Semaphore::new(self.opzioni.concorrenza_per_comune.max(1))))
            .clone()
    }

    /// Queues a job unless this process already did.
    pub(crate) async fn accoda_una_volta(
        &self,
        job: &store::jobs::NuovoJob,
    ) -> Result<(), ErroreWorker> {
        let chiave = job.chiave.clone().unwrap_or_default();
        if self
            .accodati
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&chiave)
        {
            return Ok(());
        }
        self.store.accoda_job(job).await?;
        self.accodati
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(chiave);
        Ok(())
    }

    pub(crate) fn verificato(&self, impronta: &str) -> bool {
        self.verificati
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(impronta)
    }

    pub(crate) fn segna_verificato(&self, impronta: &str) {
        self.verificati
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(impronta.to_string());
    }
}

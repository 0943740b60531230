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
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use store::{ErroreStore, Store, giorno_roma};

fn blocca<T>(f: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// Retries a store call that failed for a reason a retry may cure (a busy SQLite file, a
/// PostgreSQL serialization failure): the client would otherwise stop the whole request.
fn con_ritentativi<T, F, Fut>(mut f: F) -> Result<T, ErroreStore>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ErroreStore>>,
{
    blocca(async {
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
    })
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
}

impl ArchivioStore {
    /// Keys are forgotten when the client says the call got its final answer.
    pub fn new(store: Store, orologio: Arc<dyn Orologio>) -> Self {
        ArchivioStore {
            store,
            orologio,
            completa_dopo_registrazione: false,
        }
    }

    /// Keys are kept until the caller stores the outcome and forgets them
    /// (`Store::completa_id_operazione`).
    pub fn per_motore(store: Store, orologio: Arc<dyn Orologio>) -> Self {
        ArchivioStore {
            store,
            orologio,
            completa_dopo_registrazione: true,
        }
    }
}

impl ArchivioIdOperazione for ArchivioStore {
    fn id_per(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
        let ora = self.orologio.adesso_ms();
        con_ritentativi(|| self.store.id_operazione_per(chiave, ora))
            .map(IdOperazione)
            .map_err(errore_archivio)
    }

    fn nuovo_id(&self, chiave: &str) -> Result<IdOperazione, ErroreArchivio> {
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
}

impl QuotaStore {
    pub fn new(store: Store, comune_id: i64, orologio: Arc<dyn Orologio>) -> Self {
        QuotaStore {
            store,
            comune_id,
            orologio,
            esauriti: Mutex::new(HashSet::new()),
        }
    }

    fn esaurito(&self, servizio: Servizio, ora_ms: i64) -> bool {
        let g = self.esauriti.lock().unwrap_or_else(|e| e.into_inner());
        g.contains(&(servizio, giorno_roma(ora_ms)))
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
        blocca(
            self.store
                .chiamate_contate(self.comune_id, servizio.codice(), &giorno_roma(ora)),
        )
        .map(|n| n.max(0) as u64)
        .unwrap_or(0)
    }

    fn esaurisci(&self, _comune: &str, servizio: Servizio, _ora_client_ms: i64) {
        let ora = self.orologio.adesso_ms();
        let mut g = self.esauriti.lock().unwrap_or_else(|e| e.into_inner());
        g.insert((servizio, giorno_roma(ora)));
    }
}

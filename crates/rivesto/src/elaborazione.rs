//! `rivesto worker`: the batch engine alone, until Ctrl-C or SIGTERM. It needs the master key
//! (the Comuni's ANPR keys and the result files' identity are stored encrypted with it) and a
//! migrated database; on PostgreSQL it connects as the runtime role.

use crate::admin::apri_store;
use crate::cli::{Globali, WorkerArgs};
use crate::segreti::master_key;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use worker::{Motore, OpzioniMotore};

/// Where the engine writes the encrypted result files: every process that serves downloads
/// or runs the worker must see the same folder. Absolute, because the path is stored in the
/// database and read by processes started from other folders.
pub fn cartella_risultati(data_dir: &Path) -> std::io::Result<PathBuf> {
    std::path::absolute(data_dir.join("risultati"))
}

/// The engine's settings from the command line.
pub fn opzioni(g: &Globali, a: &WorkerArgs) -> std::io::Result<OpzioniMotore> {
    Ok(OpzioniMotore {
        durata_lease: std::time::Duration::from_secs(a.lease_secs),
        dimensione_blocco: a.chunk_size,
        concorrenza_per_comune: usize::try_from(a.concurrency).unwrap_or(8),
        blocchi_in_parallelo: usize::try_from(a.chunks_in_flight).unwrap_or(2),
        tempo_arresto: std::time::Duration::from_secs(a.shutdown_timeout_secs),
        ..OpzioniMotore::new(cartella_risultati(&g.data_dir)?)
    })
}

pub async fn esegui(g: &Globali, a: &WorkerArgs) -> anyhow::Result<ExitCode> {
    let chiave = master_key(g)?;
    let store = apri_store(g).await?;
    let opzioni = opzioni(g, a)?;
    crate::logging::messaggio(&format!(
        "Worker {} avviato su {}; file di risposta in {}. Ctrl-C o SIGTERM per fermarlo.",
        opzioni.id_processo,
        crate::migrazione::url_visibile(&g.database_url),
        opzioni.cartella_file.display()
    ));
    let metriche = crate::metriche::avvia(a.metrics_listen, &store, master_key(g)?).await?;
    let motore = Motore::new(store.clone(), chiave, opzioni);
    motore.esegui_finche(arresto()).await;
    if let Some(m) = metriche {
        m.abort();
    }
    store.chiudi().await;
    crate::logging::messaggio("Worker fermato.");
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM (what systemd and container runtimes send). The engine
/// finishes the pass in progress, so no lease is left to expire.
pub async fn arresto() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = sigterm.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(errore = %e, "SIGTERM non intercettabile: solo Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The nice value of the engine's threads when it shares a process with the web app (see
/// [`MotoreSeparato`]): weight 110 against the web threads' 1024 at nice 0, so that a page
/// waiting for the CPU behind the engine's signatures gets it first, while an idle web app
/// leaves the engine every core.
pub const NICE_MOTORE: i8 = 10;

/// The batch engine in [`MotoreSeparato`] on its own runtime, at [`NICE_MOTORE`], until
/// `arresto` completes ([`Motore::esegui_finche`]: the rows in flight finish within the
/// shutdown time, or their leases are released).
pub fn avvia_motore(
    motore: Motore,
    arresto: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<MotoreSeparato> {
    let mut m = MotoreSeparato::nuovo(Some(NICE_MOTORE))?;
    m.avvia(async move { motore.esegui_finche(arresto).await });
    Ok(m)
}

/// A tokio runtime of its own for the batch engine, in the processes that also serve the web
/// app (`serve`, `demo`, `bench web`): the engine's CPU work (an RS256 signature per ANPR call,
/// tens of rows in flight) runs on its own OS threads, named `rivesto-motore`, at a lower
/// scheduling weight, and never sits in the queue of the web app's threads.
///
/// Whatever is opened on it ([`MotoreSeparato::handle`]) is driven by the engine's threads:
/// `serve` opens the engine's PostgreSQL pool there. The runtime lives until this is dropped, so
/// connections opened on it stay usable until the caller has closed its stores.
#[derive(Debug)]
pub struct MotoreSeparato {
    runtime: Option<tokio::runtime::Runtime>,
    compito: Option<tokio::task::JoinHandle<()>>,
}

impl MotoreSeparato {
    /// One worker thread per core, at nice `nice` (unchanged with `None`).
    pub fn nuovo(nice: Option<i8>) -> std::io::Result<MotoreSeparato> {
        let thread = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(thread)
            .thread_name("rivesto-motore")
            .on_thread_start(move || {
                if let Some(n) = nice {
                    abbassa_priorita(n);
                }
            })
            .enable_all()
            .build()?;
        Ok(MotoreSeparato {
            runtime: Some(runtime),
            compito: None,
        })
    }

    /// The engine's runtime, to open there what the engine will use.
    pub fn handle(&self) -> tokio::runtime::Handle {
        match &self.runtime {
            Some(r) => r.handle().clone(),
            None => unreachable!("the runtime is taken only on drop"),
        }
    }

    /// Runs `lavoro` on the engine's runtime; [`MotoreSeparato::attendi`] waits for it.
    pub fn avvia(&mut self, lavoro: impl Future<Output = ()> + Send + 'static) {
        self.compito = Some(self.handle().spawn(lavoro));
    }

    /// Completes when the work started by [`MotoreSeparato::avvia`] has ended.
    pub async fn attendi(&mut self) {
        if let Some(compito) = self.compito.take()
            && let Err(e) = compito.await
        {
            tracing::error!(errore = %e, "il worker si è interrotto");
        }
    }
}

impl Drop for MotoreSeparato {
    fn drop(&mut self) {
        // Allowed inside another runtime, unlike dropping it: what is still running there is
        // dropped (an engine not waited for leaves its leases to expire).
        if let Some(r) = self.runtime.take() {
            r.shutdown_background();
        }
    }
}

/// The calling thread's nice value to `nice` (positive: less CPU when others want it). A
/// failure is logged and otherwise ignored: the engine still works, only at the same weight.
fn abbassa_priorita(nice: i8) {
    use thread_priority::unix::{NICENESS_MAX, NICENESS_MIN};
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    // For the normal policies thread-priority turns its 0..=99 into a nice value with
    // `(39 * (1 - p / 99)) as i8 - 20` (thread-priority 3.1's `to_posix`): the first value
    // giving `nice`.
    let ampiezza = f32::from(NICENESS_MAX.unsigned_abs() + NICENESS_MIN.unsigned_abs());
    let esito = (0u8..=99)
        .find(|&p| (ampiezza * (1.0 - f32::from(p) / 99.0)) as i8 + NICENESS_MAX == nice)
        .and_then(|p| ThreadPriorityValue::try_from(p).ok())
        .map(|v| thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(v)));
    match esito {
        Some(Ok(())) => {}
        Some(Err(e)) => tracing::warn!(errore = ?e, nice, "priorità del worker non abbassata"),
        None => tracing::warn!(nice, "priorità del worker non valida"),
    }
}

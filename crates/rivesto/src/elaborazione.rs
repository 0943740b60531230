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

//! `rivesto serve`: the web application, with the batch engine in the same process unless
//! `--no-worker` (DESIGN §6). It refuses to start without the master key and says how to make
//! one. On SQLite it applies pending migrations at start-up (one file, one owner); on
//! PostgreSQL migrations are `rivesto migrate`'s job, run as the owner role.

use crate::admin::apri_store;
use crate::cli::{Globali, ServeArgs};
use crate::segreti::master_key;
use std::process::ExitCode;
use store::OpzioniMigrazione;
use web::stato::ConfigSmtp;
use web::{Applicazione, ConfigWeb};
use worker::Motore;

pub async fn esegui(g: &Globali, a: ServeArgs) -> anyhow::Result<ExitCode> {
    let chiave = master_key(g)?;
    if g.database_url.starts_with("sqlite:") {
        store::migra(&g.database_url, &OpzioniMigrazione::default()).await?;
    }
    let store = apri_store(g).await?;
    let mut config = ConfigWeb::new(crate::elaborazione::cartella_risultati(&g.data_dir)?);
    config.public_url = a.public_url.clone();
    config.proxy_fidati = a.trusted_proxy.clone();
    config.smtp = a.smtp_url.clone().map(|url| ConfigSmtp {
        url,
        mittente: a.smtp_from.clone(),
    });
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(web::server::ConfigTls::da_file(c, k)?),
        _ => None,
    };
    let app = Applicazione::costruisci(store.clone(), chiave, config).await?;
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let schema = if tls.is_some() { "https" } else { "http" };
    println!(
        "Rivesto in ascolto su {schema}://{}",
        listener.local_addr()?
    );
    if let Some(u) = &a.public_url {
        println!("URL pubblico: {u}");
    }
    let metriche = crate::metriche::avvia(a.worker.metrics_listen, &store, master_key(g)?).await?;

    // One signal handler; the web server, the worker and the bound below all wait on it.
    let (ferma, fermato) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        crate::elaborazione::arresto().await;
        let _ = ferma.send(true);
    });
    let arresto = move || {
        let mut rx = fermato.clone();
        async move {
            let _ = rx.wait_for(|f| *f).await;
        }
    };

    // The engine runs on a runtime of its own, at a lower scheduling weight: its signatures
    // never queue in front of the pages (crate::elaborazione::MotoreSeparato).
    let mut motore = if a.no_worker {
        println!("Worker non avviato (--no-worker): avviare `rivesto worker` a parte.");
        None
    } else {
        let opzioni = crate::elaborazione::opzioni(g, &a.worker)?;
        let mut separato =
            crate::elaborazione::MotoreSeparato::nuovo(Some(crate::elaborazione::NICE_MOTORE))?;
        // On PostgreSQL the engine has its own pool, opened on its runtime, so that its
        // connections are driven by its threads and the web app's by the web app's. SQLite's
        // connections have threads of their own, and the single writer must stay single.
        let store_motore = if store.is_postgres() {
            let g = g.clone();
            separato
                .handle()
                .spawn(async move { apri_store(&g).await })
                .await??
        } else {
            store.clone()
        };
        let motore = Motore::new(store_motore.clone(), master_key(g)?, opzioni);
        println!(
            "Worker {} avviato nello stesso processo.",
            motore.id_processo()
        );
        let arresto_worker = arresto();
        separato.avvia(async move {
            motore.esegui_finche(arresto_worker).await;
        });
        Some((separato, store_motore))
    };
    // E-mail notifications (a no-op task without --smtp-url).
    let posta = web::notifiche::avvia_posta(app.stato.clone());
    let router = app.router();
    let servizio = async {
        match tls {
            Some(tls) => web::server::servi_tls(listener, router, tls, arresto()).await,
            None => web::server::servi(listener, router, arresto()).await,
        }
    };
    // Requests in flight may end, within the bound; a client that keeps its request open
    // (a stalled download) does not hold the process up past it.
    let limite = std::time::Duration::from_secs(a.worker.shutdown_timeout_secs);
    let scaduto = {
        let arresto = arresto();
        async move {
            arresto.await;
            tokio::time::sleep(limite).await;
        }
    };
    let esito = tokio::select! {
        e = servizio => e,
        () = scaduto => {
            tracing::warn!(secondi = limite.as_secs(), "richieste HTTP ancora aperte dopo il tempo di arresto: chiuse");
            Ok(())
        }
    };
    posta.abort();
    if let Some(m) = metriche {
        m.abort();
    }
    if let Some((m, store_motore)) = &mut motore {
        m.attendi().await;
        if store_motore.is_postgres() {
            store_motore.chiudi().await;
        }
    }
    store.chiudi().await;
    // The engine's runtime last: its connections stayed usable until now.
    drop(motore);
    esito?;
    crate::logging::messaggio("Rivesto fermato.");
    Ok(ExitCode::SUCCESS)
}

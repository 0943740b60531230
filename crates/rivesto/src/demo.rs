//! `rivesto demo`: the whole product on an embedded SQLite under `<data-dir>/demo` (fresh each
//! run), with the ANPR simulator and the batch engine in the same process. It serves the web
//! app (first line: `Rivesto in ascolto su http://ADDR`), seeds two Comuni, three Enti, their
//! conventions and users of every role, prints the accounts, and runs the two example requests
//! from `examples/` (PDND lookups by CF and ID ANPR; identity documents through the Comune's own
//! channel, service 3002) so that the operator finds completed requests with files to download.

use crate::cli::{DemoArgs, Globali};
use anpr_sim::SimHandle;
use anyhow::Context as _;
use domain::richiesta::{Azione, EsitoTransizione, StatoRichiesta};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use store::richieste::{NuovaRichiesta, stato};
use store::{ChiaveMaestra, OpzioniMigrazione, Store};
use web::demo::{Account, Onboarding, RICHIESTA_DOCUMENTI, RICHIESTA_ESEMPIO, Seme};
use web::{Applicazione, ConfigWeb};
use worker::{Istantanea, Motore, OpzioniMotore};

const ATTESA_MASSIMA: Duration = Duration::from_secs(120);

pub async fn esegui(g: &Globali, a: DemoArgs) -> anyhow::Result<ExitCode> {
    let cartella = std::path::absolute(g.data_dir.join("demo"))?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| {
            format!(
                "impossibile ascoltare su {}: la porta è occupata? Provi --listen 127.0.0.1:0",
                a.listen
            )
        })?;
    let indirizzo = listener.local_addr()?;
    println!("Rivesto in ascolto su http://{indirizzo}");
    if cartella.exists() {
        std::fs::remove_dir_all(&cartella)
            .with_context(|| format!("pulizia di {} non riuscita", cartella.display()))?;
    }
    let listener_sim = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let indirizzo_sim = listener_sim.local_addr()?;
    let (sim, onboarding) = avvia_simulatore(&cartella, listener_sim).await?;

    let chiave_file = cartella.join("master.key");
    store::genera_master_key(&chiave_file)?;
    let url = format!("sqlite://{}", cartella.join("rivesto.db").display());
    store::migra(&url, &OpzioniMigrazione::default()).await?;
    let store = Store::connetti(&url).await?;
    // The example request's rows get their keyed hashes when they are created (the archive's
    // "chi ha consultato" finds them), like those made in the web app.
    let hmac = store
        .chiave_hmac_identificativi(&ChiaveMaestra::da_file(&chiave_file)?)
        .await?;
    let store = store.con_chiave_hmac(hmac);
    let seme =
        web::demo::semina(&store, &ChiaveMaestra::da_file(&chiave_file)?, &onboarding).await?;

    let risultati = crate::elaborazione::cartella_risultati(&cartella)?;
    let mut config = ConfigWeb::new(&risultati);
    config.demo = true;
    let app =
        Applicazione::costruisci(store.clone(), ChiaveMaestra::da_file(&chiave_file)?, config)
            .await?;
    let server = tokio::spawn(web::server::servi(
        listener,
        app.router(),
        crate::elaborazione::arresto(),
    ));
    stampa_account(&seme.account);
    println!("\nSimulatore ANPR (dati sintetici) su http://{indirizzo_sim}");
    println!("Database: {url}");

    let motore = Motore::new(
        store.clone(),
        ChiaveMaestra::da_file(&chiave_file)?,
        OpzioniMotore {
            pausa_inattivo: Duration::from_millis(200),
            intervallo_timer: Duration::from_secs(1),
            ..OpzioniMotore::new(risultati)
        },
    );
    // On a runtime of its own, as in `serve` (crate::elaborazione::MotoreSeparato).
    let mut worker = crate::elaborazione::avvia_motore(motore, crate::elaborazione::arresto())?;
    let esempi = [
        Esempio {
            file: "examples/richiesta-esempio.csv",
            testo: RICHIESTA_ESEMPIO,
            convenzione: &seme.convenzione_manuale,
            motivo: "DEMO-2026/0001 verifica residenza",
        },
        Esempio {
            file: "examples/richiesta-documenti.csv",
            testo: RICHIESTA_DOCUMENTI,
            convenzione: &seme.convenzione_documenti,
            motivo: "DEMO-2026/0002 verifica documenti",
        },
    ];
    for e in &esempi {
        if let Err(errore) = richiesta_esempio(&store, &seme, e).await {
            eprintln!(
                "richiesta di esempio non completata ({}): {errore:#}",
                e.file
            );
        }
    }
    println!("\nPronto: apra http://{indirizzo} nel browser. Ctrl-C per fermare.");
    let esito = server.await;
    worker.attendi().await;
    println!(
        "Chiamate ANPR per servizio: {}; canale del Comune (3002): {}",
        conteggi(&sim),
        sim.chiamate_ws().values().sum::<u64>()
    );
    sim.shutdown().await;
    store.chiudi().await;
    drop(worker);
    esito??;
    Ok(ExitCode::SUCCESS)
}

fn stampa_account(account: &[Account]) {
    println!(
        "\n== Account demo (password generate a ogni avvio; il secondo fattore TOTP si può saltare solo nella demo)"
    );
    for a in account {
        println!(
            "{:<22} {:<9} {:<34} {}",
            a.username, a.ruolo, a.appartenenza, a.password
        );
    }
}

/// One example request the demo submits.
struct Esempio<'a> {
    file: &'static str,
    testo: &'static str,
    convenzione: &'a store::anagrafiche::Convenzione,
    motivo: &'static str,
}

/// Submits an example as the Polizia Locale operator, approves it as the TOP of Roma and waits
/// for the worker to complete it.
async fn richiesta_esempio(store: &Store, seme: &Seme, e: &Esempio<'_>) -> anyhow::Result<()> {
    let righe = web::demo::righe_da_testo(e.testo)?;
    let conv = e.convenzione;
    let istantanea = Istantanea::componi(store, conv.id, seme.standard.id, "LoA1").await?;
    let nuova = NuovaRichiesta {
        convenzione_id: conv.id,
        utente_id: seme.standard.id,
        motivo: e.motivo.into(),
        data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        snapshot: istantanea.json(),
    };
    let id = store
        .crea_richiesta(&nuova, &righe, &seme.standard.attore)
        .await?;
    worker::invio::invia(
        store,
        id,
        &seme.standard.dominio(seme.standard.id, conv.comune_id),
        &seme.standard.attore,
        chrono::Utc::now().timestamp_millis(),
    )
    .await?;
    let r = store.richiesta(id).await?;
    let da = StatoRichiesta::parse(&r.stato).context("stato della richiesta sconosciuto")?;
    let chi = seme.top.dominio(r.utente_id, conv.comune_id);
    let EsitoTransizione::Stato(a) = domain::richiesta::transizione(da, &Azione::Approva, &chi)?
    else {
        anyhow::bail!("la demo non elimina richieste");
    };
    store
        .cambia_stato_richiesta(id, &[da.as_str()], a.as_str(), None, &seme.top.attore)
        .await?;
    println!(
        "\n== Richiesta di esempio {id} ({}, {} righe): inviata da {}, approvata da {}",
        e.file,
        righe.len(),
        seme.standard.username,
        seme.top.username
    );
    attendi_completamento(store, id).await?;
    for f in store.file_risposta(id).await? {
        println!(
            "COMPLETATA: {} ({} righe), da scaricare come {} in «Le mie richieste»",
            f.nome, f.righe, seme.standard.username
        );
    }
    Ok(())
}

async fn attendi_completamento(store: &Store, id: i64) -> anyhow::Result<()> {
    let inizio = Instant::now();
    loop {
        let r = store.richiesta(id).await?;
        match r.stato.as_str() {
            stato::COMPLETATA => return Ok(()),
            stato::FALLITA | stato::ANNULLATA | stato::RESPINTA => anyhow::bail!(
                "la richiesta è {}: {}",
                r.stato,
                r.nota_stato.unwrap_or_default()
            ),
            _ => {}
        }
        anyhow::ensure!(
            inizio.elapsed() < ATTESA_MASSIMA,
            "la richiesta non è completata dopo {} s (stato {})",
            ATTESA_MASSIMA.as_secs(),
            r.stato
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn conteggi(sim: &SimHandle) -> String {
    let mut per_servizio = std::collections::BTreeMap::<String, u64>::new();
    for ((_, servizio), n) in sim.conteggi() {
        *per_servizio.entry(servizio).or_default() += n;
    }
    per_servizio
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts the simulator with one registered client per Comune and writes each Comune's
/// matching `anpr.toml` and key under `cartella/anpr-sim/<istat>`.
pub async fn avvia_simulatore(
    cartella: &Path,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<(SimHandle, Onboarding)> {
    let indirizzo = listener.local_addr()?;
    let mut config = anpr_sim::SimConfig::default();
    let mut file = Vec::new();
    for istat in web::demo::codici_istat() {
        let init = anpr_sim::init::scrivi_per_comune(
            &cartella.join("anpr-sim").join(istat),
            indirizzo,
            istat,
        )?;
        let registrati = anpr_sim::SimConfig::from_clients_file(&init.clienti)?;
        config.clients.extend(registrati.clients);
        config.ws.comuni.extend(registrati.ws.comuni);
        file.push(init.anpr_toml);
    }
    let sim = anpr_sim::avvia(config, listener).await?;
    Ok((sim, Onboarding(file)))
}

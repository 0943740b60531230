//! `rivesto demo`: the whole product on an embedded SQLite under `<data-dir>/demo` (fresh each
//! run) with the ANPR simulator in-process. It seeds two Comuni, three Enti, their conventions
//! and users of every role, then submits the example request in `examples/`, approves it as a
//! TOP, processes it with the batch engine and shows the (decrypted) result file. Until the web
//! application lands, this is the product's tour.

use crate::cli::{DemoArgs, Globali};
use anpr_sim::SimHandle;
use anyhow::Context as _;
use domain::richiesta::{Attore as AttoreDominio, Azione, EsitoTransizione, StatoRichiesta};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use store::richieste::{NuovaRichiesta, stato};
use store::{Attore, ChiaveMaestra, OpzioniMigrazione, Store};
use web::demo::{Account, Onboarding, Seme};
use worker::{Istantanea, Motore, OpzioniMotore};

use web::demo::RICHIESTA_ESEMPIO;
const RIGHE_ANTEPRIMA: usize = 6;
const ATTESA_MASSIMA: Duration = Duration::from_secs(120);

pub async fn esegui(g: &Globali, a: DemoArgs) -> anyhow::Result<ExitCode> {
    let cartella = g.data_dir.join("demo");
    if cartella.exists() {
        std::fs::remove_dir_all(&cartella)
            .with_context(|| format!("pulizia di {} non riuscita", cartella.display()))?;
    }
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let indirizzo = listener.local_addr()?;
    let (sim, onboarding) = avvia_simulatore(&cartella, listener).await?;
    println!("Simulatore ANPR in ascolto su http://{indirizzo}");

    let chiave_file = cartella.join("master.key");
    store::genera_master_key(&chiave_file)?;
    let url = format!("sqlite://{}", cartella.join("rivesto.db").display());
    store::migra(&url, &OpzioniMigrazione::default()).await?;
    let store = Store::connetti(&url).await?;
    let chiave = ChiaveMaestra::da_file(&chiave_file)?;
    println!("Database: {url}");
    println!("Master key: {}\n", chiave_file.display());

    let seme = web::demo::semina(&store, &chiave, &onboarding).await?;
    stampa_account(&seme.account);

    let risultato = richiesta_esempio(&store, &seme, &chiave_file, &cartella).await;
    println!("\nChiamate ANPR per servizio: {}", conteggi(&sim));
    sim.shutdown().await;
    store.chiudi().await;
    risultato?;
    Ok(ExitCode::SUCCESS)
}

fn stampa_account(account: &[Account]) {
    println!("== Account demo (password generate a ogni avvio)");
    for a in account {
        println!(
            "{:<22} {:<9} {:<34} {}",
            a.username, a.ruolo, a.appartenenza, a.password
        );
    }
}

async fn richiesta_esempio(
    store: &Store,
    seme: &Seme,
    chiave_file: &Path,
    cartella: &Path,
) -> anyhow::Result<()> {
    let richiesta = invia(store, seme).await?;
    println!(
        "\n== Richiesta {richiesta}: examples/richiesta-esempio.csv, convenzione «{}» (approvazione manuale)",
        seme.convenzione_manuale.nome
    );
    println!("inviata da {}", seme.standard.username);
    let comune = seme.convenzione_manuale.comune_id;
    let richiedente = store.richiesta(richiesta).await?.utente_id;
    applica(
        store,
        richiesta,
        &Azione::Approva,
        &seme.top.dominio(richiedente, comune),
        &seme.top.attore,
    )
    .await?;
    println!("approvata da {} (TOP)", seme.top.username);

    let opzioni = OpzioniMotore {
        pausa_inattivo: Duration::from_millis(20),
        intervallo_timer: Duration::from_millis(200),
        ..OpzioniMotore::new(crate::elaborazione::cartella_risultati(cartella)?)
    };
    let motore = Motore::new(store.clone(), ChiaveMaestra::da_file(chiave_file)?, opzioni);
    elabora(&motore, richiesta).await?;
    println!("elaborata dal worker: COMPLETATA\n");
    stampa_esiti(store, richiesta).await?;
    let chiave = ChiaveMaestra::da_file(chiave_file)?;
    stampa_file(store, &chiave, richiesta, cartella).await
}

/// Parses the example, snapshots the profile and submits it as the STANDARD user.
async fn invia(store: &Store, seme: &Seme) -> anyhow::Result<i64> {
    let righe = web::demo::righe_da_testo(RICHIESTA_ESEMPIO)?;
    let conv = &seme.convenzione_manuale;
    let istantanea = Istantanea::componi(store, conv.id, seme.standard.id, "LoA2").await?;
    let nuova = NuovaRichiesta {
        convenzione_id: conv.id,
        utente_id: seme.standard.id,
        motivo: "DEMO-2026/0001 verifica residenza".into(),
        data_riferimento: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        snapshot: istantanea.json(),
    };
    let id = store
        .crea_richiesta(&nuova, &righe, &seme.standard.attore)
        .await?;
    // Submission checks the convention's validity and caps before the transition.
    worker::invio::invia(
        store,
        id,
        &seme.standard.dominio(seme.standard.id, conv.comune_id),
        &seme.standard.attore,
        chrono::Utc::now().timestamp_millis(),
    )
    .await?;
    Ok(id)
}

/// One transition of DESIGN §2, checked by `domain` before the store applies it.
async fn applica(
    store: &Store,
    id: i64,
    azione: &Azione,
    chi: &AttoreDominio,
    attore: &Attore,
) -> anyhow::Result<()> {
    let r = store.richiesta(id).await?;
    let da = StatoRichiesta::parse(&r.stato).context("stato della richiesta sconosciuto")?;
    let EsitoTransizione::Stato(a) = domain::richiesta::transizione(da, azione, chi)? else {
        anyhow::bail!("la demo non elimina richieste");
    };
    store
        .cambia_stato_richiesta(id, &[da.as_str()], a.as_str(), None, attore)
        .await?;
    Ok(())
}

/// Runs the engine's passes until the request is COMPLETATA.
async fn elabora(motore: &Motore, richiesta: i64) -> anyhow::Result<()> {
    let inizio = Instant::now();
    loop {
        let fatto = motore.passo().await?;
        let r = motore.store().richiesta(richiesta).await?;
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
        if fatto.nulla() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Where the encrypted files are, and a decrypted copy of each with its first lines.
async fn stampa_file(
    store: &Store,
    chiave: &ChiaveMaestra,
    richiesta: i64,
    cartella: &Path,
) -> anyhow::Result<()> {
    let identita = worker::identita_file(store, chiave).await?;
    println!("\n== File di risposta (cifrati con age a riposo)");
    for f in store.file_risposta(richiesta).await? {
        let mut chiaro = Vec::new();
        let (_, sha) = worker::cifratura::decifra(Path::new(&f.percorso), &identita, &mut chiaro)?;
        anyhow::ensure!(
            sha == f.sha256,
            "{}: SHA-256 diverso da quello registrato",
            f.nome
        );
        let copia = cartella.join(&f.nome);
        std::fs::write(&copia, &chiaro)?;
        println!(
            "{} ({} righe, sha256 {})\ncopia in chiaro per la demo: {}",
            f.percorso,
            f.righe,
            f.sha256,
            copia.display()
        );
        let testo = String::from_utf8_lossy(&chiaro);
        for riga in testo
            .trim_start_matches('\u{feff}')
            .lines()
            .take(RIGHE_ANTEPRIMA)
        {
            println!("  {riga}");
        }
    }
    Ok(())
}

fn conteggi(sim: &anpr_sim::SimHandle) -> String {
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
        let init = anpr_sim::init::scrivi(&cartella.join("anpr-sim").join(istat), indirizzo)?;
        let registrati = anpr_sim::SimConfig::from_clients_file(&init.clienti)?;
        config.clients.extend(registrati.clients);
        file.push(init.anpr_toml);
    }
    let sim = anpr_sim::avvia(config, listener).await?;
    Ok((sim, Onboarding(file)))
}

/// Each row's outcome, as the engine stored it.
async fn stampa_esiti(store: &Store, richiesta: i64) -> anyhow::Result<()> {
    println!("== Esiti per riga");
    for r in store.righe(richiesta, 0, 10_000).await? {
        println!(
            "riga {:>3} {:<6} {:<16} {:<13} {}",
            r.numero,
            r.tipo.as_str(),
            r.identificativo.as_deref().unwrap_or(""),
            r.esito.map(|e| e.to_string()).unwrap_or_default(),
            r.messaggio.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

//! `rivesto bench scala`: the scale-out on PostgreSQL (issue 8). The same request of N CF
//! subjects (the bench profile, C030 then C020) is processed by 1, 2 and 3 `rivesto worker`
//! child processes sharing one fresh database, against the simulator in this process at a
//! fixed latency. Each run gets its own database in the cluster of `--database-url`, dropped
//! at the end. The bound is workers × concurrency ÷ latency calls/s: each worker keeps at
//! most `concurrency` calls of a Comune in flight.

use super::ambiente::{Ambiente, OpzioniAmbiente};
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::{Child, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub struct ArgsScala {
    /// A PostgreSQL URL whose role may CREATE DATABASE (e.g. the test cluster's).
    pub url: String,
    pub subjects: u32,
    pub latency_ms: u64,
    /// Each worker's `--concurrency`.
    pub concurrency: u64,
    /// Each worker's `--chunk-size`.
    pub chunk_size: i64,
    /// The worker counts to measure, in order.
    pub workers: Vec<u32>,
}

struct Misura {
    processi: u32,
    secondi: f64,
    soggetti_al_s: f64,
    chiamate_al_s: f64,
    limite: f64,
}

/// A child process killed when dropped (an error half-way leaves no worker behind).
struct Figlio(Child);

impl Drop for Figlio {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn scala(a: ArgsScala) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        a.url.starts_with("postgres://") || a.url.starts_with("postgresql://"),
        "bench scala vuole --database-url postgres://… (un ruolo che può creare database): \
         ogni misura usa un database nuovo, eliminato alla fine"
    );
    anyhow::ensure!(
        !a.workers.is_empty() && !a.workers.contains(&0),
        "--workers: numeri di processi worker, almeno 1 ciascuno"
    );
    println!(
        "bench scala: {} soggetti CF, profilo generalità + residenza (C030 poi C020), \
         simulatore in questo processo a {} ms, worker con --concurrency {} --chunk-size {}",
        a.subjects, a.latency_ms, a.concurrency, a.chunk_size
    );
    let mut misure = Vec::new();
    for &n in &a.workers {
        let m = scenario(&a, n).await?;
        println!(
            "  {n} worker: {:.1} s, {:.1} soggetti/s, {:.1} chiamate/s",
            m.secondi, m.soggetti_al_s, m.chiamate_al_s
        );
        misure.push(m);
    }
    println!();
    println!(
        "| worker | concorrenza | secondi | soggetti/s | chiamate/s | limite chiamate/s (worker × concorrenza ÷ latenza) | % del limite |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for m in &misure {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0}% |",
            m.processi,
            a.concurrency,
            m.secondi,
            m.soggetti_al_s,
            m.chiamate_al_s,
            m.limite,
            100.0 * m.chiamate_al_s / m.limite
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One measure on its own database, dropped whatever the outcome.
async fn scenario(a: &ArgsScala, processi: u32) -> anyhow::Result<Misura> {
    let nome = format!("rivesto_bench_scala_{}_{processi}", std::process::id());
    store::elimina_database_postgres(&a.url, &nome).await?;
    let url = store::crea_database_postgres(&a.url, &nome)
        .await
        .context("creazione del database della misura")?;
    let esito = misura(a, processi, &url).await;
    store::elimina_database_postgres(&a.url, &nome).await?;
    esito
}

async fn misura(a: &ArgsScala, processi: u32, url: &str) -> anyhow::Result<Misura> {
    let amb = Ambiente::nuovo(&OpzioniAmbiente {
        url: Some(url.to_string()),
        popolazione: a.subjects,
        latenza_ms: a.latency_ms,
        sim_separato: false,
    })
    .await?;
    let file = amb.scrivi_ingresso("scala.csv", 0, a.subjects)?;
    let caricata = amb.carica(&amb.convenzione, &file).await?;
    amb.approva(caricata.richiesta_id).await?;
    let prima = amb.chiamate_sim().unwrap_or(0);
    // From the workers' start (connection and key loading included) to COMPLETATA, files
    // written.
    let inizio = Instant::now();
    let figli = (0..processi)
        .map(|i| avvia_worker(&amb, url, a, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    amb.attendi_completata(
        caricata.richiesta_id,
        Duration::from_secs(3_600),
        Duration::from_millis(20),
    )
    .await?;
    let secondi = inizio.elapsed().as_secs_f64();
    // A worker that died early would make the figure one of fewer processes: say so.
    for (i, mut f) in figli.into_iter().enumerate() {
        if let Some(uscita) = f.0.try_wait()? {
            let log = std::fs::read_to_string(amb.cartella.path().join(format!("worker-{i}.log")))
                .unwrap_or_default();
            anyhow::bail!("il worker {i} è uscito prima della fine ({uscita}):\n{log}");
        }
    }
    let chiamate = amb.chiamate_sim().unwrap_or(0) - prima;
    amb.chiudi().await;
    let latenza_s = (a.latency_ms.max(1)) as f64 / 1000.0;
    Ok(Misura {
        processi,
        secondi,
        soggetti_al_s: f64::from(a.subjects) / secondi,
        chiamate_al_s: chiamate as f64 / secondi,
        limite: f64::from(processi) * a.concurrency as f64 / latenza_s,
    })
}

fn avvia_worker(amb: &Ambiente, url: &str, a: &ArgsScala, i: u32) -> anyhow::Result<Figlio> {
    let log = std::fs::File::create(amb.cartella.path().join(format!("worker-{i}.log")))?;
    // RIVESTO_BIN: a test binary running the bench is not `rivesto`.
    let programma = match std::env::var_os("RIVESTO_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?,
    };
    let figlio = std::process::Command::new(programma)
        .arg("worker")
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(amb.cartella.path())
        .arg("--master-key-file")
        .arg(&amb.chiave_file)
        .args(["--concurrency", &a.concurrency.to_string()])
        .args(["--chunk-size", &a.chunk_size.to_string()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("avvio di rivesto worker non riuscito")?;
    Ok(Figlio(figlio))
}

//! `rivesto bench e2e`: a request of N CF subjects uploaded, approved, processed by the real
//! engine against the simulator and assembled into files, at zero latency and then at the
//! chosen latency; beside it the floor figures (RS256 signatures/s, the minimal client's
//! calls/s) and the ratios the performance targets ask for; last, a 10-row request under
//! silent consent with the engine's default pauses.

use super::ambiente::{Ambiente, OpzioniAmbiente};
use super::minimo;
use crate::memoria::{azzera_picco, mib, picco_rss};
use anpr::servizi::Servizio;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use worker::{Motore, OpzioniMotore};

#[derive(Debug, Clone)]
pub struct ArgsE2e {
    pub subjects: u32,
    pub concurrency: usize,
    pub latency_ms: u64,
    pub separate_sim: bool,
    /// Rows claimed at a time by the engine.
    pub chunk: i64,
    /// Calls of the minimal client per scenario.
    pub minimal_calls: u32,
    /// Only the upload of the zero-latency scenario (1,000,000 rows: the 15 s target).
    pub upload_only: bool,
    /// Only the scenario at `latency_ms`.
    pub skip_zero: bool,
}

/// One scenario's figures.
struct Figure {
    chiamate_al_s: f64,
}

pub async fn e2e(a: ArgsE2e) -> anyhow::Result<ExitCode> {
    println!(
        "bench e2e: {} soggetti CF, profilo generalità + residenza (C030 poi C020), concorrenza {}, \
         blocchi di {} righe, simulatore {}",
        a.subjects,
        a.concurrency,
        a.chunk,
        if a.separate_sim {
            "in un processo separato"
        } else {
            "in questo processo"
        }
    );
    println!(
        "firme RS256/s (il limite inferiore, una firma per chiamata): {:.0}",
        super::firme_al_secondo(Duration::from_secs(2))
    );
    if !(a.skip_zero && a.latency_ms > 0) {
        let zero = scenario(&a, 0).await?;
        if let Some(min) = zero.1.filter(|_| !a.upload_only) {
            println!(
                "rapporto a latenza 0: chiamate/s end-to-end ÷ client minimo = {:.0}% (obiettivo ≥ 60%)",
                100.0 * zero.0.chiamate_al_s / min
            );
        }
    }
    if a.upload_only {
        return Ok(ExitCode::SUCCESS);
    }
    if a.latency_ms > 0 {
        let (f, min) = scenario(&a, a.latency_ms).await?;
        let limite = a.concurrency as f64 / (a.latency_ms as f64 / 1000.0);
        println!(
            "rapporto a latenza {} ms: chiamate/s ÷ (concorrenza ÷ latenza = {limite:.0}/s) = {:.0}% (obiettivo ≥ 90%)",
            a.latency_ms,
            100.0 * f.chiamate_al_s / limite
        );
        if let Some(min) = min {
            println!(
                "  per confronto, a latenza {} ms: chiamate/s end-to-end ÷ client minimo = {:.0}%",
                a.latency_ms,
                100.0 * f.chiamate_al_s / min
            );
        }
    }
    piccola(&a).await?;
    Ok(ExitCode::SUCCESS)
}

/// The big request at `latenza_ms`, in a fresh environment; returns its figures and, when the
/// simulator runs in this process, the minimal client's calls/s against it.
async fn scenario(a: &ArgsE2e, latenza_ms: u64) -> anyhow::Result<(Figure, Option<f64>)> {
    let nome = format!("[latenza {latenza_ms} ms]");
    let amb = Ambiente::nuovo(&OpzioniAmbiente {
        url: None,
        popolazione: a.subjects.max(a.minimal_calls),
        latenza_ms,
        sim_separato: a.separate_sim,
    })
    .await?;
    println!(
        "{nome} database {}, simulatore su http://{}",
        amb.url, amb.indirizzo_sim
    );
    let file = amb.scrivi_ingresso("ingresso.csv", 0, a.subjects)?;
    azzera_picco();
    let car = amb.carica(&amb.convenzione, &file).await?;
    println!(
        "{nome} caricamento: {} righe lette, validate e scritte nel database in {:.2} s ({:.0} righe/s)",
        car.righe,
        car.secondi,
        car.righe as f64 / car.secondi
    );
    if a.upload_only {
        println!(
            "{nome} picco di memoria del processo rivesto durante il caricamento: {}",
            picco_rss()
                .map(|b| format!("{:.1} MiB", mib(b)))
                .unwrap_or_else(|| "n/d".into())
        );
        amb.chiudi().await;
        return Ok((Figure { chiamate_al_s: 0.0 }, None));
    }
    let da_elaborare = amb
        .store
        .conteggio_righe(car.richiesta_id)
        .await?
        .da_elaborare;
    let motore = amb.motore(a.concurrency, a.chunk)?;
    let (ferma, fermato) = tokio::sync::oneshot::channel::<()>();
    let inizio = Instant::now();
    amb.approva(car.richiesta_id).await?;
    let lavoro = async {
        motore
            .esegui_finche(async {
                let _ = fermato.await;
            })
            .await;
    };
    let attesa = async {
        let esito = attendi(&amb, &motore, car.richiesta_id, da_elaborare, inizio).await;
        let _ = ferma.send(());
        esito
    };
    let (esito, ()) = tokio::join!(attesa, lavoro);
    let (t_righe, t_file) = esito?;
    let conteggio = amb.store.conteggio_righe(car.richiesta_id).await?;
    println!(
        "{nome} righe finali: {} su {}",
        conteggio.finali, conteggio.totali
    );
    let chiamate = chiamate_contate(&amb).await?;
    let soggetti_al_s = da_elaborare as f64 / t_righe;
    let chiamate_al_s = chiamate as f64 / t_righe;
    println!(
        "{nome} elaborazione: {da_elaborare} soggetti in {t_righe:.2} s: {soggetti_al_s:.1} soggetti/s, \
         {chiamate_al_s:.1} chiamate ANPR/s, {:.2} chiamate/soggetto",
        chiamate as f64 / da_elaborare.max(1) as f64
    );
    let ms = |q| {
        motore
            .latenze()
            .quantile(q)
            .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "n/d".into())
    };
    println!(
        "{nome} latenza per riga (dal reclamo del blocco all'esito registrato): p50 {}, p99 {}",
        ms(0.5),
        ms(0.99)
    );
    println!(
        "{nome} file di risposta pronti {:.2} s dopo l'ultima riga",
        t_file - t_righe
    );
    let picco = picco_rss()
        .map(|b| format!("{:.1} MiB", mib(b)))
        .unwrap_or_else(|| "n/d".into());
    println!(
        "{nome} picco di memoria del processo rivesto, dal caricamento ai file: {picco}{}",
        if a.separate_sim {
            ""
        } else {
            " (simulatore compreso)"
        }
    );
    let minimo = if a.minimal_calls > 0 {
        Some(misura_minimo(&amb, a, &nome).await?)
    } else {
        None
    };
    amb.chiudi().await;
    Ok((Figure { chiamate_al_s }, minimo))
}

/// Polls (in memory, 50 ms) until the engine stored every row, then (in the database) until
/// the files are ready. Returns both times in seconds from approval.
async fn attendi(
    amb: &Ambiente,
    motore: &Motore,
    id: i64,
    righe: i64,
    inizio: Instant,
) -> anyhow::Result<(f64, f64)> {
    let righe = u64::try_from(righe).unwrap_or(0);
    while motore.latenze().righe() < righe {
        let r = amb.store.richiesta(id).await?;
        anyhow::ensure!(
            !matches!(r.stato.as_str(), "FALLITA" | "ANNULLATA"),
            "richiesta {id} {}: {}",
            r.stato,
            r.nota_stato.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t_righe = inizio.elapsed().as_secs_f64();
    amb.attendi_completata(id, Duration::from_secs(3600), Duration::from_millis(50))
        .await?;
    Ok((t_righe, inizio.elapsed().as_secs_f64()))
}

/// ANPR calls counted today for Roma (the bench conventions' Comune), all services.
async fn chiamate_contate(amb: &Ambiente) -> anyhow::Result<i64> {
    let giorno = store::giorno_roma(chrono::Utc::now().timestamp_millis());
    let mut n = 0;
    for s in Servizio::ALL {
        n += amb
            .store
            .chiamate_contate(amb.convenzione.comune_id, s.codice(), &giorno)
            .await?;
    }
    Ok(n)
}

async fn misura_minimo(amb: &Ambiente, a: &ArgsE2e, nome: &str) -> anyhow::Result<f64> {
    let config = anpr::config::AnprConfig::from_file(&amb.anpr_toml[0])?;
    let cf: Vec<String> = (0..a.minimal_calls)
        .filter_map(|i| amb.codice_fiscale(i))
        .collect();
    let m = minimo::misura(config, cf, a.concurrency).await?;
    println!(
        "{nome} client minimo: {} chiamate C030 in {:.2} s: {:.1} chiamate/s ({} errori)",
        m.chiamate,
        m.secondi,
        m.al_secondo(),
        m.errori
    );
    Ok(m.al_secondo())
}

/// 10 rows under silent consent with no delay, on an engine with the default pauses, from
/// the upload to the files ready: target 1 s + 2 × the simulator's latency.
async fn piccola(a: &ArgsE2e) -> anyhow::Result<()> {
    let amb = Ambiente::nuovo(&OpzioniAmbiente {
        url: None,
        popolazione: 1000,
        latenza_ms: a.latency_ms,
        sim_separato: a.separate_sim,
    })
    .await?;
    let motore = Motore::new(
        amb.store.clone(),
        amb.chiave()?,
        OpzioniMotore::new(&amb.risultati),
    );
    let (ferma, fermato) = tokio::sync::oneshot::channel::<()>();
    let file = amb.scrivi_ingresso("piccola.csv", 0, 10)?;
    // The engine is idle (its first scan done) before the request arrives, as in service.
    let lavoro = motore.esegui_finche(async {
        let _ = fermato.await;
    });
    let misura = async {
        let t = async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let inizio = Instant::now();
            let car = amb.carica(&amb.convenzione_silenzio, &file).await?;
            amb.attendi_completata(
                car.richiesta_id,
                Duration::from_secs(120),
                Duration::from_millis(5),
            )
            .await?;
            anyhow::Ok(inizio.elapsed().as_secs_f64())
        }
        .await;
        let _ = ferma.send(());
        t
    };
    let (t, ()) = tokio::join!(misura, lavoro);
    let t = t?;
    let obiettivo = 1.0 + 2.0 * a.latency_ms as f64 / 1000.0;
    println!(
        "richiesta piccola: 10 righe, silenzio assenso 0, latenza {} ms: {:.0} ms dall'invio ai file \
         scaricabili (obiettivo ≤ {:.0} ms)",
        a.latency_ms,
        t * 1000.0,
        obiettivo * 1000.0
    );
    amb.chiudi().await;
    Ok(())
}

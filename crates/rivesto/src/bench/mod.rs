//! `rivesto bench anpr`, `bench files`, `bench audit`, `bench e2e` and `bench web`: figures,
//! never pass/fail.

pub mod ambiente;
pub mod e2e;
pub mod minimo;
pub mod scala;
pub mod web;

use crate::cli::Globali;
use crate::memoria::{azzera_picco, mib, picco_rss};
use anpr::archivio::ArchivioMemoria;
use anpr::client::{ContestoChiamata, DatiRichiesta, OpzioniClient, PdndClient};
use anpr::config::AnprConfig;
use anpr::security::{Orologio, OrologioSistema};
use anpr::servizi::Servizio;
use anpr::types::TipoCriteriRicercaE002;
use anpr_sim::{Latenza, SimHandle};
use domain::esito::Esito;
use files::input::{Limiti, Opzioni};
use files::output::{CodiceCampo, Layout, RigaRisultato, ScrittoreRisultati};
use std::io::BufWriter;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// RS256 signatures per second on this machine: every ANPR call needs at least one.
pub fn firme_al_secondo(durata: Duration) -> f64 {
    let coppia = anpr_sim::chiavi::genera_coppia();
    let chiave = anpr::config::ChiavePrivata::da_pem(coppia.private_pem.as_bytes())
        .expect("chiave appena generata");
    let claims =
        serde_json::json!({"iss": "bench", "aud": "bench", "jti": "0", "iat": 0, "exp": 1});
    let inizio = Instant::now();
    let mut n = 0u64;
    while inizio.elapsed() < durata {
        chiave.jws_rs256("bench", &claims).expect("firma RS256");
        n += 1;
    }
    n as f64 / inizio.elapsed().as_secs_f64()
}

pub async fn anpr(lookups: u32, concorrenza: usize, latenza_ms: u64) -> anyhow::Result<ExitCode> {
    println!("bench anpr: {lookups} ricerche C030 per scenario, concorrenza {concorrenza}");
    println!(
        "firme RS256/s (il limite inferiore, una firma per chiamata): {:.0}",
        firme_al_secondo(Duration::from_secs(2))
    );
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let init = anpr_sim::init::scrivi(dir.path(), listener.local_addr()?)?;
    let mut config_sim = anpr_sim::SimConfig::from_clients_file(&init.clienti)?;
    config_sim.population = lookups.max(1000);
    config_sim.quote.clear();
    let sim = anpr_sim::avvia(config_sim, listener).await?;
    let mut config = AnprConfig::from_file(&init.anpr_toml)?;
    // The bench measures throughput, not Rivesto's share of the daily quota.
    config.quotas.clear();
    let orologio: Arc<dyn Orologio> = Arc::new(OrologioSistema);
    let mut opzioni = OpzioniClient::new("bench");
    opzioni.orologio = orologio.clone();
    let client = Arc::new(PdndClient::new(
        config,
        Arc::new(ArchivioMemoria::new(orologio)),
        opzioni,
    )?);
    for (nome, lat, conc) in [
        ("latenza 0", 0, concorrenza),
        (
            &*format!("latenza {latenza_ms} ms"),
            latenza_ms,
            concorrenza,
        ),
    ] {
        sim.imposta_latenza(Latenza::fissa(lat));
        let (secondi, errori) = scenario(&client, &sim, lookups, conc).await;
        let al_secondo = f64::from(lookups) / secondi;
        print!(
            "{nome:<18} concorrenza {conc:>3}: {al_secondo:>8.1} ricerche/s ({secondi:.2} s, {errori} errori)"
        );
        if lat > 0 {
            let limite = conc as f64 / (lat as f64 / 1000.0);
            print!(
                ", {:.0}% del limite concorrenza/latenza ({limite:.0}/s)",
                100.0 * al_secondo / limite
            );
        }
        println!();
    }
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn scenario(
    client: &Arc<PdndClient>,
    sim: &SimHandle,
    n: u32,
    concorrenza: usize,
) -> (f64, u32) {
    let cf: Vec<String> = (0..n)
        .filter_map(|i| sim.popolazione().sintetico(i))
        .map(|s| s.codice_fiscale)
        .collect();
    let semaforo = Arc::new(tokio::sync::Semaphore::new(concorrenza));
    let oggi = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let inizio = Instant::now();
    let mut compiti = tokio::task::JoinSet::new();
    for (i, cf) in cf.into_iter().enumerate() {
        let permesso = semaforo
            .clone()
            .acquire_owned()
            .await
            .expect("semaforo aperto");
        let client = client.clone();
        let dati = DatiRichiesta {
            data_riferimento_richiesta: oggi.clone(),
            motivo_richiesta: "BENCH".into(),
        };
        compiti.spawn(async move {
            let contesto = ContestoChiamata::da_config(client.config());
            let chiave = format!("bench:{}:{i}", uuid::Uuid::new_v4());
            let r = client
                .chiama(
                    Servizio::C030,
                    TipoCriteriRicercaE002::per_codice_fiscale(cf),
                    dati,
                    &contesto,
                    &chiave,
                )
                .await;
            drop(permesso);
            r.is_ok()
        });
    }
    let mut errori = 0;
    while let Some(r) = compiti.join_next().await {
        if !matches!(r, Ok(true)) {
            errori += 1;
        }
    }
    (inizio.elapsed().as_secs_f64(), errori)
}

pub fn files(g: &Globali, righe: u64) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let percorso = dir.path().join("ingresso.csv");
    {
        let mut out = BufWriter::new(std::fs::File::create(&percorso)?);
        files::input::genera_file_prova(righe, 42, &mut out)?;
    }
    let byte = std::fs::metadata(&percorso)?.len();
    println!("bench files: {righe} righe, file di {:.1} MiB", mib(byte));
    let limiti = Limiti {
        max_byte: byte.max(Limiti::default().max_byte),
        max_righe: righe,
        ..Limiti::default()
    };

    azzera_picco();
    let inizio = Instant::now();
    let mut valide = 0u64;
    let rapporto = files::input::analizza_file(&percorso, limiti, Opzioni::oggi(), |r| {
        if matches!(r.esito, files::input::EsitoRiga::Valida) {
            valide += 1;
        }
    });
    let t = inizio.elapsed().as_secs_f64();
    let rapporto = rapporto.map_err(|e| anyhow::anyhow!("{e}"))?;
    stampa("lettura e validazione", righe, t);
    println!(
        "  righe valide {valide}, codice di uscita {}",
        rapporto.exit_code()
    );

    azzera_picco();
    let inizio = Instant::now();
    scrivi_risultati(dir.path(), righe)?;
    stampa(
        "scrittura dei risultati (CSV)",
        righe,
        inizio.elapsed().as_secs_f64(),
    );
    let _ = g;
    Ok(ExitCode::SUCCESS)
}

fn stampa(fase: &str, righe: u64, secondi: f64) {
    let picco = picco_rss()
        .map(|b| format!("{:.1} MiB", mib(b)))
        .unwrap_or_else(|| "n/d".into());
    println!(
        "{fase:<32} {:>12.0} righe/s  ({secondi:.2} s, picco di memoria del processo {picco})",
        righe as f64 / secondi
    );
}

fn scrivi_risultati(cartella: &std::path::Path, righe: u64) -> anyhow::Result<()> {
    let campi = vec![
        CodiceCampo::IdAnpr,
        CodiceCampo::CodiceFiscale,
        CodiceCampo::Cognome,
        CodiceCampo::Nome,
        CodiceCampo::DataNascita,
        CodiceCampo::ResidenzaComune,
        CodiceCampo::ResidenzaCap,
    ];
    let mut s = ScrittoreRisultati::nuovo(cartella, "bench", Layout::new(campi))?;
    let mut riga = RigaRisultato {
        riferimento: String::new(),
        tipo: "CF".into(),
        identificativo: "RSSMRA85T10A562S".into(),
        esito: Esito::Trovato,
        messaggio: String::new(),
        id_operazione_anpr: vec!["1766578458".into(), "1766578459".into()],
        valori: vec![
            "AF41450AS".into(),
            "RSSMRA85T10A562S".into(),
            "ROSSI".into(),
            "MARIO".into(),
            "10/12/1985".into(),
            "ROMA".into(),
            "00100".into(),
        ],
        componenti_famiglia: Vec::new(),
    };
    for i in 0..righe {
        riga.riferimento.clear();
        riga.riferimento.push_str(&i.to_string());
        s.scrivi(&riga)?;
    }
    s.chiudi()?;
    Ok(())
}

/// 2024-01-01T00:00Z: the synthetic chain's first entry, then one every 30 seconds.
const INIZIO_CATENA_MS: i64 = 1_704_067_200_000;

/// Builds a fresh SQLite chain of `voci` valid entries (one transaction), then times
/// `rivesto audit verify`'s work on it: every entry read and its hash recomputed.
pub async fn audit(voci: u64) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bench-audit.db");
    let url = format!("sqlite://{}", file.display());
    store::migra(&url, &store::OpzioniMigrazione::default()).await?;
    let store = store::Store::connetti(&url).await?;
    println!("bench audit: {voci} voci in una catena nuova su SQLite");
    let inizio = Instant::now();
    store
        .popola_audit_sintetico(voci, INIZIO_CATENA_MS, 30_000)
        .await?;
    let t = inizio.elapsed().as_secs_f64();
    let byte: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", file.display())).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{:<32} {:>12.0} voci/s  ({t:.2} s, database di {:.1} MiB)",
        "preparazione (una transazione)",
        voci as f64 / t,
        mib(byte)
    );
    azzera_picco();
    let inizio = Instant::now();
    let rapporto = store.verifica_audit(&[]).await?;
    let t = inizio.elapsed().as_secs_f64();
    store.chiudi().await;
    anyhow::ensure!(
        rapporto.integra() && rapporto.voci == voci,
        "catena di prova non valida: {}",
        rapporto.riassunto()
    );
    let picco = picco_rss()
        .map(|b| format!("{:.1} MiB", mib(b)))
        .unwrap_or_else(|| "n/d".into());
    println!(
        "{:<32} {:>12.0} voci/s  ({t:.2} s, picco di memoria del processo {picco})",
        "verifica della catena",
        voci as f64 / t
    );
    Ok(ExitCode::SUCCESS)
}

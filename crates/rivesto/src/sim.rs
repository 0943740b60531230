//! `rivesto anpr-sim` and `rivesto anpr-sim init`.

use crate::cli::{SimArgs, SimAvvio, SimComando};
use anpr_sim::{Guasti, Latenza, SimConfig};
use std::process::ExitCode;

pub async fn esegui(a: SimArgs) -> anyhow::Result<ExitCode> {
    match a.comando {
        Some(SimComando::Init { out, listen }) => {
            let f = anpr_sim::init::scrivi(&out, listen)?;
            println!("file dei client del simulatore: {}", f.clienti.display());
            println!("configurazione del client:      {}", f.anpr_toml.display());
            println!(
                "chiave privata del client:      {}",
                f.chiave_privata.display()
            );
            println!();
            println!(
                "avvio:    rivesto anpr-sim --clients {} --listen {listen}",
                f.clienti.display()
            );
            println!(
                "verifica: rivesto anpr check --config {}",
                f.anpr_toml.display()
            );
            println!(
                "          rivesto anpr check --config {} --ws   (canale del Comune, servizio 3002)",
                f.anpr_toml.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => servi(a.avvio).await,
    }
}

fn config(a: &SimAvvio) -> anyhow::Result<SimConfig> {
    let mut c = match &a.clients {
        Some(p) => SimConfig::from_clients_file(p)?,
        None => SimConfig::default(),
    };
    c.population = a.population;
    c.seed = a.seed;
    c.latenza = Latenza {
        base_ms: a.latency_ms,
        jitter_ms: a.latency_jitter_ms,
    };
    c.guasti = Guasti {
        p503: a.error_rate_503,
        timeout: a.error_rate_timeout,
        p429: a.error_rate_429,
        malformato: a.error_rate_malformed,
    };
    for (svc, n) in &a.quote {
        c.quote.insert(svc.clone(), *n);
    }
    c.concurrency_cap = a.concurrency_cap;
    Ok(c)
}

async fn servi(a: SimAvvio) -> anyhow::Result<ExitCode> {
    let config = config(&a)?;
    if config.clients.is_empty() {
        eprintln!(
            "attenzione: nessun client registrato; ogni richiesta di voucher sarà rifiutata. \
             Creare i file con `rivesto anpr-sim init --out DIR` e passare --clients DIR/sim-clients.toml"
        );
    }
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let sim = anpr_sim::avvia(config, listener).await?;
    println!("Simulatore ANPR in ascolto su http://{}", sim.indirizzo());
    println!("  token PDND:  {}", sim.token_url());
    println!("  e-service:   {}", sim.base_url());
    println!("Ctrl-C per fermarlo.");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

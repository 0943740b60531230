//! Command-line surface (DESIGN §6 "Commands").

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rivesto",
    version,
    about = "Rivestizione dati anagrafici da ANPR"
)]
pub struct Cli {
    #[command(flatten)]
    pub globali: Globali,
    #[command(subcommand)]
    pub comando: Comando,
}

#[derive(Args, Debug, Clone)]
pub struct Globali {
    /// Database URL (used from the storage issue on).
    #[arg(
        long,
        global = true,
        env = "RIVESTO_DATABASE_URL",
        default_value = "sqlite://rivesto-data/rivesto.db"
    )]
    pub database_url: String,
    /// Folder for local state: operation ids, demo keys, result files.
    #[arg(
        long,
        global = true,
        env = "RIVESTO_DATA_DIR",
        default_value = "rivesto-data"
    )]
    pub data_dir: PathBuf,
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Comando {
    /// Starts the ANPR simulator in-process and runs sample lookups through the client.
    Demo(DemoArgs),
    /// ANPR onboarding tools.
    Anpr {
        #[command(subcommand)]
        comando: AnprComando,
    },
    /// The ANPR/PDND simulator.
    AnprSim(SimArgs),
    /// Input files.
    Input {
        #[command(subcommand)]
        comando: InputComando,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        comando: BenchComando,
    },
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Address for the simulator (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

#[derive(Subcommand, Debug)]
pub enum AnprComando {
    /// Probes the configured services, or does one real lookup.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[arg(long)]
    pub config: PathBuf,
    /// Use the Comune's SOAP channel (service 3002): not available yet.
    #[arg(long)]
    pub ws: bool,
    #[arg(long, conflicts_with_all = ["id_anpr", "ci"])]
    pub cf: Option<String>,
    #[arg(long, conflicts_with = "ci")]
    pub id_anpr: Option<String>,
    #[arg(long)]
    pub ci: Option<String>,
    #[arg(long, requires = "ci")]
    pub rilascio: Option<String>,
    #[arg(long, default_value = "VERIFICA-COLLEGAMENTO")]
    pub motivo: String,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimArgs {
    #[command(subcommand)]
    pub comando: Option<SimComando>,
    #[command(flatten)]
    pub avvio: SimAvvio,
}

#[derive(Subcommand, Debug)]
pub enum SimComando {
    /// Writes a simulator clients file, a matching anpr.toml and a key pair.
    Init {
        #[arg(long)]
        out: PathBuf,
        /// The address the simulator will listen on (written into anpr.toml).
        #[arg(long, default_value = "127.0.0.1:9400")]
        listen: SocketAddr,
    },
}

#[derive(Args, Debug, Clone)]
pub struct SimAvvio {
    #[arg(long, default_value = "127.0.0.1:9400")]
    pub listen: SocketAddr,
    /// Clients file written by `anpr-sim init`.
    #[arg(long)]
    pub clients: Option<PathBuf>,
    #[arg(long, default_value_t = 10_000)]
    pub population: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fixed latency in milliseconds added to every gateway answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Extra random latency, uniform in 0..=jitter, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// Share of calls answered 503 (0.0 - 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_503: f64,
    /// Share of calls that never answer within the client's timeout.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_timeout: f64,
    /// Share of calls answered 429 TooManyRequests.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_429: f64,
    /// Share of calls answered with a malformed body.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_malformed: f64,
    /// Daily quota per client and service, as SERVICE=N (repeatable).
    #[arg(long = "quota", value_parser = parse_quota)]
    pub quote: Vec<(String, u64)>,
    /// At most this many calls in flight (429 TooManyRequests beyond).
    #[arg(long)]
    pub concurrency_cap: Option<usize>,
}

fn parse_quota(s: &str) -> Result<(String, u64), String> {
    let (svc, n) = s
        .split_once('=')
        .ok_or_else(|| format!("formato atteso SERVIZIO=N, trovato {s:?}"))?;
    let n = n
        .parse()
        .map_err(|_| format!("quota non numerica: {n:?}"))?;
    Ok((svc.trim().to_ascii_uppercase(), n))
}

#[derive(Subcommand, Debug)]
pub enum InputComando {
    /// Checks an input file and prints the report; exit 0, 1 or 2.
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// Size limit in bytes.
        #[arg(long)]
        max_byte: Option<u64>,
        /// Row limit.
        #[arg(long)]
        max_righe: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchComando {
    /// Lookups/s through the client against the simulator, and RS256 signatures/s.
    Anpr {
        /// Lookups per scenario.
        #[arg(long, default_value_t = 2_000)]
        lookups: u32,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
    },
    /// Parses and validates a generated file, then writes as many result rows.
    Files {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
}

pub async fn esegui(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.globali;
    match cli.comando {
        Comando::Demo(a) => crate::demo::esegui(&g, a).await,
        Comando::Anpr {
            comando: AnprComando::Check(a),
        } => crate::verifica::esegui(&g, a).await,
        Comando::AnprSim(a) => crate::sim::esegui(a).await,
        Comando::Input { comando } => crate::input::esegui(comando),
        Comando::Bench {
            comando:
                BenchComando::Anpr {
                    lookups,
                    concurrency,
                    latency_ms,
                },
        } => crate::bench::anpr(lookups, concurrency, latency_ms).await,
        Comando::Bench {
            comando: BenchComando::Files { rows },
        } => crate::bench::files(&g, rows),
    }
}

//! `rivesto`: the one binary (DESIGN §6).

mod admin;
mod audit;
mod bench;
mod cli;
mod client;
mod demo;
mod elaborazione;
mod input;
mod logging;
mod manutenzione;
mod memoria;
mod metriche;
mod migrazione;
mod riferimento;
mod segreti;
mod servizio;
mod sim;
mod valori;
mod verifica;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc returns the pages it frees to the system; glibc's malloc kept the memory that an
/// upload or a burst of work had freed, for the life of the process (docs/PERFORMANCE.md,
/// "Memory").
#[global_allocator]
static ALLOCATORE: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.globali.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("errore: impossibile avviare il runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::esegui(cli)) {
        Ok(code) => code,
        Err(e) => {
            crate::logging::messaggio(&format!("errore: {e:#}"));
            ExitCode::from(2)
        }
    }
}

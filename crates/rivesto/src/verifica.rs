//! `rivesto anpr check`: the onboarding probe (logic in `anpr::check`).

use crate::cli::{CheckArgs, Globali};
use anpr::check::{Identificativo, OpzioniCheck};
use std::process::ExitCode;

pub async fn esegui(g: &Globali, a: CheckArgs) -> anyhow::Result<ExitCode> {
    if a.ws || a.ci.is_some() {
        anyhow::bail!(
            "il canale del Comune (servizio 3002, --ws e --ci) non è ancora disponibile in questa versione: \
             usare --cf o --id-anpr sul canale PDND"
        );
    }
    let identificativo = match (a.cf, a.id_anpr) {
        (Some(cf), _) => Some(Identificativo::CodiceFiscale(cf)),
        (None, Some(id)) => Some(Identificativo::IdAnpr(id)),
        (None, None) => None,
    };
    let opzioni = OpzioniCheck {
        identificativo,
        motivo: a.motivo,
    };
    let mut out = std::io::stdout();
    match anpr::check::esegui_check(&a.config, &g.data_dir, &opzioni, &mut out).await {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("verifica non riuscita: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

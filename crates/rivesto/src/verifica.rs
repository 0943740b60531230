//! `rivesto anpr check`: the onboarding probe (logic in `anpr::check`).

use crate::cli::{CheckArgs, Globali};
use anpr::check::{Identificativo, OpzioniCheck};
use anpr::ws::check::OpzioniCheckWs;
use anpr::ws::messaggi::{CriterioWs, RilascioCi};
use std::process::ExitCode;

pub async fn esegui(g: &Globali, a: CheckArgs) -> anyhow::Result<ExitCode> {
    if a.ws {
        return esegui_ws(g, a).await;
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

/// `--ws`: TestConn, or one 3002 lookup by CF, ID ANPR or carta d'identità.
async fn esegui_ws(g: &Globali, a: CheckArgs) -> anyhow::Result<ExitCode> {
    if a.rilascio.is_some() && a.ci.is_none() {
        anyhow::bail!(
            "--rilascio vale solo con --ci (il Comune di rilascio della carta d'identità)"
        );
    }
    let criterio = match (a.cf, a.id_anpr, a.ci) {
        (Some(cf), _, _) => Some(CriterioWs::CodiceFiscale(
            domain::CodiceFiscale::parse(&cf)
                .map_err(|e| anyhow::anyhow!("--cf: {e}"))?
                .as_str()
                .to_string(),
        )),
        (None, Some(id), _) => Some(CriterioWs::IdAnpr(
            domain::IdAnpr::parse(&id)
                .map_err(|e| anyhow::anyhow!("--id-anpr: {e}"))?
                .as_str()
                .to_string(),
        )),
        (None, None, Some(ci)) => Some(CriterioWs::CartaIdentita {
            numero: domain::documenti::CartaIdentita::parse(&ci)
                .map_err(|e| anyhow::anyhow!("--ci: {e}"))?
                .as_str()
                .to_string(),
            rilascio: a.rilascio.as_deref().map(rilascio).transpose()?,
        }),
        (None, None, None) => None,
    };
    if matches!(
        criterio,
        Some(CriterioWs::CartaIdentita { rilascio: None, .. })
    ) {
        eprintln!(
            "avviso: --rilascio non indicato; se ANPR risponde EHR41, indichi il Comune di rilascio della carta"
        );
    }
    let opzioni = OpzioniCheckWs {
        criterio,
        motivo: a.motivo,
    };
    let mut out = std::io::stdout();
    match anpr::ws::check::esegui_check_ws(&a.config, &g.data_dir, &opzioni, &mut out).await {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("verifica non riuscita: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `--rilascio`: the issuing Comune by ISTAT code or by name (with the province in brackets
/// when the name is ambiguous), as the input files take it.
fn rilascio(valore: &str) -> anyhow::Result<RilascioCi> {
    let v = valore.trim();
    let comune = if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        domain::luoghi::comune_per_istat(v)
            .ok_or_else(|| anyhow::anyhow!("--rilascio: codice ISTAT sconosciuto: {v}"))?
    } else {
        let (nome, sigla) = match v.split_once('(') {
            Some((n, s)) => (
                n.trim(),
                Some(s.trim_end_matches(')').trim().to_uppercase()),
            ),
            None => (v, None),
        };
        let candidati: Vec<_> = domain::luoghi::comuni_per_nome(nome)
            .into_iter()
            .filter(|c| c.attuale && sigla.as_deref().is_none_or(|s| c.sigla_provincia == s))
            .collect();
        match candidati.as_slice() {
            [c] => *c,
            [] => anyhow::bail!("--rilascio: comune sconosciuto: {v}"),
            _ => anyhow::bail!(
                "--rilascio: comune ambiguo: {v}; indichi il codice ISTAT o la provincia tra parentesi"
            ),
        }
    };
    let istat = comune
        .codice_istat
        .ok_or_else(|| anyhow::anyhow!("--rilascio: {} non esiste più", comune.nome))?;
    Ok(RilascioCi::Comune {
        nome: comune.nome.to_uppercase(),
        codice_istat: istat.to_string(),
        sigla_provincia: comune.sigla_provincia.to_string(),
    })
}

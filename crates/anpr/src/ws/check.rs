//! `rivesto anpr check --ws`: the onboarding probe of the Comune's own channel. Without an
//! identifier it calls the connectivity test `TestConn` (NOTES-ws §3); with a CF, an idANPR or a
//! carta d'identità it does one 3002 lookup and prints the idANPR found. Every step is a line;
//! a failure names its step.

use crate::archivio::{ArchivioFile, ArchivioIdOperazione};
use crate::check::ErroreCheck;
use crate::security::{Orologio, OrologioSistema};
use crate::ws::client::{DatiWs, Esito3002, WsClient};
use crate::ws::config::WsConfig;
use crate::ws::credenziali::Credenziali;
use crate::ws::messaggi::{CriterioWs, dati_richiesti};
use chrono_tz::Europe::Rome;
use domain::gruppi::GruppoCampi;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpzioniCheckWs {
    /// `None`: TestConn only.
    pub criterio: Option<CriterioWs>,
    /// Sent as `protocolloComune` when it fits its pattern.
    pub motivo: String,
}

/// Reads `[anpr_ws]` of the onboarding file, keeps operation ids under `data_dir`, and runs
/// the check. `Ok(Some(idANPR))` after a lookup, `Ok(None)` after TestConn.
pub async fn esegui_check_ws(
    config: &Path,
    data_dir: &Path,
    opzioni: &OpzioniCheckWs,
    out: &mut (dyn Write + Send),
) -> Result<Option<String>, ErroreCheck> {
    let Some(config) = WsConfig::da_file(config)? else {
        return Err(ErroreCheck::EsitoInatteso(
            "il file di onboarding non ha la sezione [anpr_ws] (canale del Comune)".into(),
        ));
    };
    let orologio: Arc<dyn Orologio> = Arc::new(OrologioSistema);
    let archivio: Arc<dyn ArchivioIdOperazione> = Arc::new(
        ArchivioFile::apri(data_dir, orologio.clone()).map_err(crate::client::ErroreAnpr::from)?,
    );
    let client =
        WsClient::new(config, archivio, orologio).map_err(crate::client::ErroreAnpr::from)?;
    check_ws(&client, opzioni, out).await
}

/// The check with an already built client.
pub async fn check_ws(
    client: &WsClient,
    opzioni: &OpzioniCheckWs,
    out: &mut (dyn Write + Send),
) -> Result<Option<String>, ErroreCheck> {
    let c = client.config();
    let id = &c.identita;
    writeln!(
        out,
        "configurazione letta: Comune {} ({}), operatore {}, postazione {}, firma {}",
        id.id_sede,
        c.tipo_invio,
        id.operatore_cf,
        id.id_postazione,
        id.algoritmo.as_str()
    )?;
    scrivi_certificato(out, "certificato del Comune", &id.comune)?;
    scrivi_certificato(out, "certificato della postazione", &id.postazione)?;
    let Some(criterio) = &opzioni.criterio else {
        writeln!(out, "TestConn: POST {}", c.url_test_conn())?;
        let t = client
            .test_conn()
            .await
            .map_err(|e| passo_fallito("TestConn", e))?;
        writeln!(
            out,
            "TestConn: risposta ricevuta (idOperazioneComune {}, idOperazioneANPR {}, esito {})",
            t.id_operazione_comune,
            t.id_operazione_anpr.as_deref().unwrap_or("-"),
            t.esito_operazione.as_deref().unwrap_or("-"),
        )?;
        return Ok(None);
    };
    writeln!(out, "3002: POST {}", c.url_3002())?;
    let dati = DatiWs {
        data_riferimento: chrono::Utc::now().with_timezone(&Rome).date_naive(),
        dati_richiesti: dati_richiesti(&BTreeSet::from([GruppoCampi::Generalita])),
        ricerca_nazionale: false,
        protocollo: Some(opzioni.motivo.clone())
            .filter(|m| crate::ws::messaggi::protocollo_valido(m)),
    };
    let chiave = format!("ws-check-{}", uuid::Uuid::new_v4());
    let r = client
        .consulta(criterio.clone(), &dati, &chiave)
        .await
        .map_err(|e| passo_fallito("3002", e))?;
    writeln!(
        out,
        "3002: risposta ricevuta (idOperazioneComune {}, idOperazioneANPR {})",
        r.id_operazione_comune,
        r.id_operazione_anpr.as_deref().unwrap_or("-")
    )?;
    for a in &r.anomalie {
        writeln!(out, "3002: avviso {}: {}", a.codice, a.testo)?;
    }
    match r.esito {
        Esito3002::Trovato(s) => {
            let id_anpr = s
                .pointer("/identificativi/idANPR")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_string();
            writeln!(out, "ID ANPR: {id_anpr}")?;
            Ok(Some(id_anpr))
        }
        Esito3002::NonTrovato { codice, testo } => Err(ErroreCheck::EsitoInatteso(format!(
            "3002: nessun soggetto trovato tra i residenti del Comune ({}: {})",
            codice.as_deref().unwrap_or("-"),
            testo.as_deref().unwrap_or("-")
        ))),
        Esito3002::FuoriAmbito { codice } => Err(ErroreCheck::EsitoInatteso(format!(
            "3002: la persona non è residente nel Comune ({codice})"
        ))),
        Esito3002::Ambiguo(n) => Err(ErroreCheck::EsitoInatteso(format!(
            "3002: più soggetti rispondono a questo identificativo ({n})"
        ))),
        Esito3002::Errore { codice, testo } => Err(ErroreCheck::EsitoInatteso(format!(
            "3002: ANPR ha rifiutato la ricerca: {codice}: {testo}"
        ))),
    }
}

fn scrivi_certificato(
    out: &mut (dyn Write + Send),
    nome: &str,
    c: &Credenziali,
) -> std::io::Result<()> {
    let scadenza = c
        .scadenza()
        .map(|d| d.with_timezone(&Rome).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "sconosciuta".into());
    writeln!(
        out,
        "{nome}: {}, scade il {scadenza}",
        c.cn().unwrap_or_else(|| "CN assente".into())
    )
}

fn passo_fallito(passo: &str, e: crate::ws::client::ErroreCanaleWs) -> ErroreCheck {
    ErroreCheck::EsitoInatteso(format!("{passo} non riuscito: {e}"))
}

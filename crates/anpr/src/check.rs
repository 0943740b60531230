//! `rivesto anpr check`: the onboarding probe. Without an identifier it probes each configured
//! service's `GET /status`; with a CF it does one C030 lookup, with an idANPR one C015 lookup.
//! Every step is written as a line, and a failure names its step, the gateway's answer and the
//! likely cause.

use crate::archivio::ArchivioFile;
use crate::client::{
    ContestoChiamata, DatiRichiesta, ErroreAnpr, EsitoAnpr, OpzioniClient, Passo, PdndClient,
};
use crate::config::{AnprConfig, ErroreConfig};
use crate::security::{Orologio, OrologioSistema};
use crate::servizi::Servizio;
use crate::types::TipoCriteriRicercaE002;
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Rome;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

pub const MOTIVO_PREDEFINITO: &str = "VERIFICA-COLLEGAMENTO";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identificativo {
    CodiceFiscale(String),
    IdAnpr(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpzioniCheck {
    pub identificativo: Option<Identificativo>,
    pub motivo: String,
}

impl Default for OpzioniCheck {
    fn default() -> Self {
        OpzioniCheck {
            identificativo: None,
            motivo: MOTIVO_PREDEFINITO.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreCheck {
    #[error("configurazione: {0}")]
    Config(#[from] ErroreConfig),
    #[error("{0}")]
    Anpr(#[from] ErroreAnpr),
    #[error("nessun servizio configurato in [anpr.purposes]: niente da verificare")]
    NessunServizio,
    #[error("{falliti} servizi su {totale} non raggiungibili")]
    StatusFalliti { falliti: usize, totale: usize },
    #[error("{0}")]
    EsitoInatteso(String),
    #[error("scrittura dell'avanzamento non riuscita: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads the onboarding file, keeps operation ids under `data_dir`, and runs the check.
/// `Ok(Some(idANPR))` after a lookup, `Ok(None)` after a successful probe.
pub async fn esegui_check(
    config: &Path,
    data_dir: &Path,
    opzioni: &OpzioniCheck,
    out: &mut (dyn Write + Send),
) -> Result<Option<String>, ErroreCheck> {
    let config = AnprConfig::from_file(config)?;
    writeln!(
        out,
        "configurazione letta: client_id {}, kid {}",
        config.client_id, config.kid
    )?;
    let orologio: Arc<dyn Orologio> = Arc::new(OrologioSistema);
    let archivio =
        Arc::new(ArchivioFile::apri(data_dir, orologio.clone()).map_err(ErroreAnpr::from)?);
    let mut o = OpzioniClient::new(config.client_id.clone());
    o.orologio = orologio;
    let client = PdndClient::new(config, archivio, o)?;
    check(&client, opzioni, out).await
}

/// The check with an already built client.
pub async fn check(
    client: &PdndClient,
    opzioni: &OpzioniCheck,
    out: &mut (dyn Write + Send),
) -> Result<Option<String>, ErroreCheck> {
    match &opzioni.identificativo {
        None => sonda_status(client, out).await.map(|_| None),
        Some(id) => ricerca(client, id, &opzioni.motivo, out).await.map(Some),
    }
}

async fn sonda_status(
    client: &PdndClient,
    out: &mut (dyn Write + Send),
) -> Result<(), ErroreCheck> {
    let servizi = client.config().servizi_abilitati();
    if servizi.is_empty() {
        return Err(ErroreCheck::NessunServizio);
    }
    let contesto = ContestoChiamata::da_config(client.config());
    let mut falliti = 0;
    for s in &servizi {
        let c = client.config();
        writeln!(out, "{s}: GET {}", c.endpoint(*s).status_url(&c.base_url))?;
        if let Err(e) = passi_voucher(client, *s, &contesto, out).await {
            falliti += 1;
            scrivi_errore(out, &e, Passo::Voucher)?;
            continue;
        }
        match client.status(*s, &contesto).await {
            Ok(st) => writeln!(out, "{s}: raggiungibile (HTTP {})", st.status)?,
            Err(e) => {
                falliti += 1;
                scrivi_errore(out, &e, Passo::Chiamata)?;
            }
        }
    }
    if falliti > 0 {
        return Err(ErroreCheck::StatusFalliti {
            falliti,
            totale: servizi.len(),
        });
    }
    writeln!(
        out,
        "tutti i {} servizi configurati rispondono",
        servizi.len()
    )?;
    Ok(())
}

/// Steps 1 and 2: the tracking evidence and the voucher bound to it.
async fn passi_voucher(
    client: &PdndClient,
    servizio: Servizio,
    contesto: &ContestoChiamata,
    out: &mut (dyn Write + Send),
) -> Result<(), ErroreAnpr> {
    let coppia = client.coppia_voucher(servizio, contesto).await?;
    let te = &coppia.evidenza;
    // Written only once both exist: the evidence is built just before the token request.
    let _ = writeln!(
        out,
        "{servizio}: tracking evidence costruita (aud {}, userID {}, userLocation {}, LoA {}, scade {})",
        te.aud,
        te.user_id,
        te.user_location,
        te.loa,
        ora_roma(te.exp)
    );
    let _ = writeln!(
        out,
        "{servizio}: voucher PDND ottenuto, scade {}",
        ora_roma(coppia.scade_s)
    );
    Ok(())
}

async fn ricerca(
    client: &PdndClient,
    id: &Identificativo,
    motivo: &str,
    out: &mut (dyn Write + Send),
) -> Result<String, ErroreCheck> {
    let (servizio, criteri) = match id {
        Identificativo::CodiceFiscale(cf) => (
            Servizio::C030,
            TipoCriteriRicercaE002::per_codice_fiscale(cf.trim().to_uppercase()),
        ),
        Identificativo::IdAnpr(i) => (
            Servizio::C015,
            TipoCriteriRicercaE002::per_id_anpr(i.trim().to_uppercase()),
        ),
    };
    let contesto = ContestoChiamata::da_config(client.config());
    if let Err(e) = passi_voucher(client, servizio, &contesto, out).await {
        scrivi_errore(out, &e, Passo::Voucher)?;
        return Err(e.into());
    }
    let c = client.config();
    writeln!(
        out,
        "{servizio}: chiamata inviata a {}",
        c.endpoint(servizio).endpoint_url(&c.base_url)
    )?;
    let dati = DatiRichiesta {
        data_riferimento_richiesta: Utc::now()
            .with_timezone(&Rome)
            .format("%Y-%m-%d")
            .to_string(),
        motivo_richiesta: motivo.to_string(),
    };
    let chiave = format!("anpr-check:{servizio}:{}", uuid::Uuid::new_v4());
    let r = match client
        .chiama(servizio, criteri, dati, &contesto, &chiave)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            scrivi_errore(out, &e, Passo::Chiamata)?;
            return Err(e.into());
        }
    };
    for a in &r.anomalie {
        writeln!(
            out,
            "{servizio}: avviso {}: {}",
            a.codice_errore_anomalia.as_deref().unwrap_or("?"),
            a.testo_errore_anomalia.as_deref().unwrap_or("")
        )?;
    }
    let riferimento = format!(
        "idOperazioneClient {}, idOperazioneANPR {}",
        r.id_operazione_client,
        r.id_operazione_anpr.as_deref().unwrap_or("-")
    );
    match r.esito {
        EsitoAnpr::Trovato(s) => {
            let id = s
                .first()
                .and_then(|s| s.id_anpr())
                .unwrap_or_default()
                .to_string();
            writeln!(out, "{servizio}: risposta ricevuta ({riferimento})")?;
            writeln!(out, "ID ANPR: {id}")?;
            Ok(id)
        }
        EsitoAnpr::NonTrovato { codice, testo } => {
            let m = format!(
                "il collegamento funziona, ma ANPR non ha trovato il soggetto ({}: {}; {riferimento})",
                codice.as_deref().unwrap_or("nessun soggetto"),
                testo.as_deref().unwrap_or("")
            );
            writeln!(out, "{servizio}: {m}")?;
            Err(ErroreCheck::EsitoInatteso(m))
        }
        EsitoAnpr::Ambiguo(ids) => {
            let m = format!(
                "più soggetti rispondono: {} ({riferimento})",
                ids.join(", ")
            );
            writeln!(out, "{servizio}: {m}")?;
            Err(ErroreCheck::EsitoInatteso(m))
        }
    }
}

/// Every failure names its step; a transport failure has no gateway answer, so the likely cause
/// is where the address or the network is wrong.
fn scrivi_errore(
    out: &mut (dyn Write + Send),
    e: &ErroreAnpr,
    passo: Passo,
) -> std::io::Result<()> {
    match e {
        ErroreAnpr::Fallita {
            servizio,
            passo,
            spiegazione,
            risposta,
            ..
        } => {
            writeln!(out, "{servizio}: ERRORE al passo «{passo}»")?;
            if !risposta.is_empty() {
                writeln!(out, "  risposta: {risposta}")?;
            }
            writeln!(out, "  causa probabile: {spiegazione}")
        }
        ErroreAnpr::Transitorio {
            servizio, motivo, ..
        } => {
            writeln!(out, "{servizio}: ERRORE al passo «{passo}»")?;
            writeln!(out, "  risposta: nessuna ({motivo})")?;
            writeln!(out, "  causa probabile: {}", causa_trasporto(passo))
        }
        altro => {
            writeln!(out, "ERRORE al passo «{passo}»")?;
            writeln!(out, "  {altro}")
        }
    }
}

fn causa_trasporto(passo: Passo) -> &'static str {
    match passo {
        Passo::Voucher | Passo::TrackingEvidence => {
            "il token endpoint PDND non risponde: verificare token_url, la rete o il proxy in uscita, \
             e in collaudo il certificato della CA privata (ca_file)"
        }
        Passo::Chiamata => {
            "il gateway ANPR non risponde: verificare base_url, la rete o il proxy in uscita, e in \
             collaudo il certificato della CA privata (ca_file); se il problema persiste, il servizio \
             potrebbe essere temporaneamente non disponibile"
        }
    }
}

fn ora_roma(epoch_s: i64) -> String {
    DateTime::from_timestamp(epoch_s, 0)
        .unwrap_or_default()
        .with_timezone(&Rome)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

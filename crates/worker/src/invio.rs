//! Submitting a request (BOZZA → IN_ATTESA_CONVALIDA, DESIGN §2): the convention must be valid
//! today and its caps respected — rows per request, and subjects per Ente per Europe/Rome day —
//! before the transition is applied. Everything is checked before anything changes.

use domain::convenzione::{ErroreLimite, LimitiConvenzione};
use domain::richiesta::{
    Attore as AttoreDominio, Azione, ErroreTransizione, EsitoTransizione, StatoRichiesta,
    transizione,
};
use store::{Attore, ErroreStore, Store, limiti_giorno_roma};

#[derive(Debug, thiserror::Error)]
pub enum ErroreInvio {
    #[error("la convenzione non è in vigore oggi: la richiesta non può essere inviata")]
    ConvenzioneNonValida,
    #[error("{0}")]
    Limite(#[from] ErroreLimite),
    #[error("{0}")]
    Transizione(#[from] ErroreTransizione),
    #[error("stato della richiesta sconosciuto: {0}")]
    StatoSconosciuto(String),
    #[error(transparent)]
    Store(#[from] ErroreStore),
}

/// Submits request `id` for approval on behalf of `chi` (the domain's view of the actor, for the
/// role checks) and `attore` (who the audit entry names).
pub async fn invia(
    store: &Store,
    id: i64,
    chi: &AttoreDominio,
    attore: &Attore,
    ora_ms: i64,
) -> Result<(), ErroreInvio> {
    let richiesta = store.richiesta(id).await?;
    let da = StatoRichiesta::parse(&richiesta.stato)
        .ok_or_else(|| ErroreInvio::StatoSconosciuto(richiesta.stato.clone()))?;
    let EsitoTransizione::Stato(a) = transizione(da, &Azione::Invia, chi)? else {
        // `Invia` never deletes; the domain would have refused anything else.
        return Err(ErroreInvio::StatoSconosciuto(richiesta.stato));
    };
    let conv = store.convenzione(richiesta.convenzione_id).await?;
    if ora_ms < conv.valida_dal_ms || conv.valida_al_ms.is_some_and(|al| ora_ms >= al) {
        return Err(ErroreInvio::ConvenzioneNonValida);
    }
    let righe = store.conteggio_righe(id).await?.totali;
    let (inizio, fine) = limiti_giorno_roma(ora_ms);
    let gia_oggi = store.soggetti_inviati(conv.id, inizio, fine).await?;
    let limiti = LimitiConvenzione {
        max_righe_richiesta: conv.max_righe_richiesta.map(non_negativo),
        max_soggetti_giorno_ente: conv.max_soggetti_giorno.map(non_negativo),
    };
    limiti.controlla(non_negativo(righe), non_negativo(gia_oggi))?;
    // The state check inside the store makes a concurrent second submission fail cleanly.
    store
        .cambia_stato_richiesta(id, &[da.as_str()], a.as_str(), None, attore)
        .await?;
    Ok(())
}

fn non_negativo(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

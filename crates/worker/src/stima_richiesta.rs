//! The impact estimate of a stored request (issue 4), before approval: its rows counted by
//! kind from the database, the calls its plan needs, today's share left per service (the
//! Comune's `[anpr.quotas]` and the database counters), and the expected completion day.

use crate::ErroreWorker;
use crate::accesso::{OpzioniAccesso, costruisci, leggi_accesso};
use crate::blocco::normalizza;
use crate::istantanea::Istantanea;
use crate::stima::{ConteggioRighe, DatiStima, QuotaServizio, Stima, stima};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use std::collections::BTreeMap;
use store::{ChiaveMaestra, Store, giorno_roma};

pub async fn stima_richiesta(
    store: &Store,
    chiave: &ChiaveMaestra,
    richiesta_id: i64,
    ora_ms: i64,
) -> Result<Stima, ErroreWorker> {
    let r = store.richiesta(richiesta_id).await?;
    let ist = Istantanea::da_json(richiesta_id, &r.snapshot)?;
    let conv = store.convenzione(r.convenzione_id).await?;
    let (_, accesso) = leggi_accesso(store, chiave, conv.comune_id).await?;
    let canali = costruisci(store, conv.comune_id, &accesso, &OpzioniAccesso::default()).await?;
    let config = canali.client.as_ref().map(|c| c.config());
    let abilitati = match config {
        Some(c) => ist.servizi_abilitati(&c.servizi_abilitati()),
        None => Vec::new(),
    };
    let ws_use_for = canali.ws.as_ref().map(|w| w.config().use_for.clone());
    let giorno = giorno_roma(ora_ms);
    let mut quote = BTreeMap::new();
    for s in &abilitati {
        let usate = store
            .chiamate_contate(conv.comune_id, s.codice(), &giorno)
            .await?;
        quote.insert(
            *s,
            QuotaServizio {
                quota_giornaliera: config.and_then(|c| c.quotas.get(s).copied()),
                usate_oggi: u64::try_from(usate).unwrap_or(0),
            },
        );
    }
    let righe = conta_righe(store, richiesta_id).await?;
    let gruppi = ist.gruppi();
    Ok(stima(&DatiStima {
        righe: &righe,
        gruppi: &gruppi,
        ambito: ist.ambito,
        abilitati: &abilitati,
        quote: &quote,
        ora_ms,
        ws_use_for: ws_use_for.as_deref(),
    }))
}

/// Rows per kind: duplicates, invalid (as submitted or as the worker would find them), valid.
async fn conta_righe(
    store: &Store,
    richiesta_id: i64,
) -> Result<Vec<(TipoIdentificativo, ConteggioRighe)>, ErroreWorker> {
    let mut per_tipo: BTreeMap<&'static str, (TipoIdentificativo, ConteggioRighe)> =
        BTreeMap::new();
    let mut dopo = 0;
    loop {
        let righe = store.righe(richiesta_id, dopo, 1_000).await?;
        let Some(ultima) = righe.last() else { break };
        dopo = ultima.numero;
        for g in &righe {
            let c = &mut per_tipo
                .entry(g.tipo.as_str())
                .or_insert((g.tipo, ConteggioRighe::default()))
                .1;
            if g.duplicato_di.is_some() {
                c.duplicate += 1;
            } else if g.esito == Some(Esito::NonValido)
                || normalizza(g.tipo, g.identificativo.as_deref()).is_err()
            {
                c.non_valide += 1;
            } else {
                c.valide += 1;
            }
        }
    }
    Ok(per_tipo.into_values().collect())
}

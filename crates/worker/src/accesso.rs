//! A Comune's PDND client, built from the onboarding TOML and the key files stored encrypted in
//! the database, with the database as its operation-id archive and quota counter.

use crate::ErroreWorker;
use crate::adattatori::{ArchivioStore, QuotaStore};
use anpr::client::{OpzioniClient, PdndClient, PoliticaRitentativi};
use anpr::config::AnprConfig;
use anpr::security::{Orologio, OrologioSistema};
use anpr::ws::client::{OpzioniWs, WsClient};
use anpr::ws::config::WsConfig;
use sha2::{Digest as _, Sha256};
use std::path::{Component, Path};
use std::sync::Arc;
use store::anagrafiche::AccessoAnpr;
use store::{ChiaveMaestra, Store};

/// How the engine builds clients.
#[derive(Clone)]
pub struct OpzioniAccesso {
    /// The engine's clock: quota days and operation ids. The client's own clock (signatures,
    /// vouchers) is always the system clock, as the gateway checks it.
    pub orologio: Arc<dyn Orologio>,
    pub politica: PoliticaRitentativi,
    /// The engine's mode: it forgets operation ids itself, after storing the rows' outcomes;
    /// it draws a chunk's ids together and takes quota slots in blocks, giving back the
    /// unused ones after each chunk.
    pub completa_dopo_registrazione: bool,
}

impl Default for OpzioniAccesso {
    fn default() -> Self {
        OpzioniAccesso {
            orologio: Arc::new(OrologioSistema),
            politica: PoliticaRitentativi::default(),
            completa_dopo_registrazione: false,
        }
    }
}

/// The PDND client of `comune_id`, with production defaults.
pub async fn client_per_comune(
    store: &Store,
    chiave: &ChiaveMaestra,
    comune_id: i64,
) -> Result<PdndClient, ErroreWorker> {
    Ok(
        client_con(store, chiave, comune_id, &OpzioniAccesso::default())
            .await?
            .1,
    )
}

/// The PDND client and a fingerprint of the access it was built from: a changed fingerprint
/// means the TOP fixed or replaced the configuration, and cached clients must be rebuilt.
/// A Comune configured with its own channel only has no PDND client: `PdndNonConfigurato`.
pub async fn client_con(
    store: &Store,
    chiave: &ChiaveMaestra,
    comune_id: i64,
    opzioni: &OpzioniAccesso,
) -> Result<(String, PdndClient), ErroreWorker> {
    let (impronta, accesso) = leggi_accesso(store, chiave, comune_id).await?;
    let c = costruisci(store, comune_id, &accesso, opzioni).await?;
    let client = c
        .client
        .ok_or(ErroreWorker::PdndNonConfigurato { comune_id })?;
    Ok((impronta, client))
}

/// The Comune's own channel (3002) of `comune_id`, with production defaults; `None` when its
/// access has no `[anpr_ws]`.
pub async fn client_ws_per_comune(
    store: &Store,
    chiave: &ChiaveMaestra,
    comune_id: i64,
) -> Result<Option<WsClient>, ErroreWorker> {
    let (_, accesso) = leggi_accesso(store, chiave, comune_id).await?;
    Ok(
        costruisci(store, comune_id, &accesso, &OpzioniAccesso::default())
            .await?
            .ws,
    )
}

/// The stored access, decrypted, with its fingerprint.
pub(crate) async fn leggi_accesso(
    store: &Store,
    chiave: &ChiaveMaestra,
    comune_id: i64,
) -> Result<(String, AccessoAnpr), ErroreWorker> {
    let accesso = store
        .accesso_anpr(comune_id, chiave)
        .await?
        .ok_or(ErroreWorker::AccessoMancante { comune_id })?;
    let mut h = Sha256::new();
    h.update(accesso.toml.as_bytes());
    for (nome, contenuto) in &accesso.file {
        h.update([0]);
        h.update(nome.as_bytes());
        h.update([0]);
        h.update(contenuto.esponi());
    }
    Ok((hex::encode(h.finalize()), accesso))
}

/// A client with its database adapters, which the engine drives directly (ids drawn for a
/// whole chunk, quota slots given back after it).
pub(crate) struct Costruito {
    /// `None` when the access has no `[anpr]` (the Comune's channel only).
    pub client: Option<PdndClient>,
    /// `None` when the access has no `[anpr_ws]`.
    pub ws: Option<WsClient>,
    pub archivio: Arc<ArchivioStore>,
    pub quota: Arc<QuotaStore>,
}

pub(crate) async fn costruisci(
    store: &Store,
    comune_id: i64,
    accesso: &AccessoAnpr,
    opzioni: &OpzioniAccesso,
) -> Result<Costruito, ErroreWorker> {
    let comune = store.comune(comune_id).await?;
    // The key files exist on disk only while the configuration reads them, in a private
    // temporary folder (0700) that is removed right after.
    let cartella = tempfile::tempdir().map_err(ErroreWorker::io(
        "creazione della cartella temporanea",
        Path::new(""),
    ))?;
    for (nome, contenuto) in &accesso.file {
        let percorso =
            percorso_sicuro(cartella.path(), nome).ok_or_else(|| ErroreWorker::FileAccesso {
                comune_id,
                nome: nome.clone(),
                motivo: "nome non ammesso (solo percorsi relativi, senza ..)".into(),
            })?;
        if let Some(p) = percorso.parent() {
            std::fs::create_dir_all(p).map_err(ErroreWorker::io("creazione", p))?;
        }
        std::fs::write(&percorso, contenuto.esponi())
            .map_err(ErroreWorker::io("scrittura", &percorso))?;
    }
    let configurazione = |fonte| ErroreWorker::Configurazione { comune_id, fonte };
    let config = AnprConfig::opzionale(&accesso.toml, cartella.path()).map_err(configurazione)?;
    let config_ws = WsConfig::opzionale(&accesso.toml, cartella.path()).map_err(configurazione)?;
    drop(cartella);
    if config.is_none() && config_ws.is_none() {
        return Err(ErroreWorker::NessunCanale { comune_id });
    }
    let mut o = OpzioniClient::new(comune.belfiore.clone());
    o.politica = opzioni.politica;
    let orologio = opzioni.orologio.clone();
    let (archivio, quota) = if opzioni.completa_dopo_registrazione {
        (
            ArchivioStore::per_motore(store.clone(), orologio.clone()),
            QuotaStore::per_motore(store.clone(), comune_id, orologio),
        )
    } else {
        (
            ArchivioStore::new(store.clone(), orologio.clone()),
            QuotaStore::new(store.clone(), comune_id, orologio),
        )
    };
    let (archivio, quota) = (Arc::new(archivio), Arc::new(quota));
    o.quota = quota.clone();
    let client = config
        .map(|c| PdndClient::new(c, archivio.clone(), o))
        .transpose()?;
    let ws = config_ws
        .map(|c| {
            let o = OpzioniWs {
                politica: opzioni.politica,
                completa_dopo_registrazione: opzioni.completa_dopo_registrazione,
            };
            // The system clock, like the PDND client's signatures: ANPR checks the
            // Timestamp and the assertion's times against its own.
            WsClient::new(c, archivio.clone(), Arc::new(OrologioSistema))
                .map(|w| w.con_opzioni(o))
                .map_err(anpr::client::ErroreAnpr::from)
        })
        .transpose()?;
    Ok(Costruito {
        client,
        ws,
        archivio,
        quota,
    })
}

fn percorso_sicuro(base: &Path, nome: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(nome);
    let normale = p.components().all(|c| matches!(c, Component::Normal(_)));
    (normale && p.components().next().is_some()).then(|| base.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solo_percorsi_relativi() {
        let b = Path::new("/tmp/x");
        assert_eq!(
            percorso_sicuro(b, "chiavi/client.key"),
            Some(b.join("chiavi/client.key"))
        );
        assert_eq!(percorso_sicuro(b, "../client.key"), None);
        assert_eq!(percorso_sicuro(b, "/etc/passwd"), None);
        assert_eq!(percorso_sicuro(b, ""), None);
    }
}

//! The minimal client: for each C030 call only what the protocol requires (NOTES §3) — the
//! body, its `Digest`, one fresh RS256 `Agid-JWT-Signature`, a reqwest POST and the JSON
//! answer parsed. The voucher and its tracking evidence are got once beforehand and reused,
//! as PDND allows until the voucher expires; no operation id is stored, no quota counted, no
//! answer classified. `bench e2e` divides its own calls/s by this client's.

use anpr::client::{ContestoChiamata, PdndClient};
use anpr::config::AnprConfig;
use anpr::security::{Firmatario, digest_header};
use anpr::servizi::Servizio;
use anpr::types::{RichiestaE002, TipoCriteriRicercaE002, TipoDatiRichiestaE002};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What the minimal client did.
#[derive(Debug, Clone, Copy)]
pub struct Misura {
    pub chiamate: u64,
    pub errori: u64,
    pub secondi: f64,
}

impl Misura {
    pub fn al_secondo(&self) -> f64 {
        self.chiamate as f64 / self.secondi
    }
}

/// `cf.len()` C030 calls, `concorrenza` at a time, with `config`'s client.
pub async fn misura(
    config: AnprConfig,
    cf: Vec<String>,
    concorrenza: usize,
) -> anyhow::Result<Misura> {
    let base = PdndClient::new(
        config.clone(),
        Arc::new(anpr::archivio::ArchivioMemoria::new(Arc::new(
            anpr::security::OrologioSistema,
        ))),
        anpr::client::OpzioniClient::new("bench-minimo"),
    )?;
    let coppia = base
        .coppia_voucher(Servizio::C030, &ContestoChiamata::da_config(&config))
        .await?;
    let endpoint = config.endpoint(Servizio::C030);
    let comune = Arc::new(Comune {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(concorrenza)
            .build()?,
        firmatario: Firmatario::da_config(&config),
        url: endpoint.endpoint_url(&config.base_url),
        aud: endpoint.audience(&config.audience_base),
        voucher: coppia.voucher.segreto().to_string(),
        evidenza: coppia.tracking_evidence.clone(),
        oggi: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        prossimo_id: AtomicU64::new(1),
    });
    let coda = Arc::new(std::sync::Mutex::new(cf));
    let inizio = Instant::now();
    let mut compiti = tokio::task::JoinSet::new();
    for _ in 0..concorrenza.max(1) {
        let comune = comune.clone();
        let coda = coda.clone();
        compiti.spawn(async move {
            let (mut fatte, mut errori) = (0u64, 0u64);
            loop {
                let cf = coda.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(cf) = cf else { break };
                fatte += 1;
                if comune.chiama(cf).await.is_err() {
                    errori += 1;
                }
            }
            (fatte, errori)
        });
    }
    let (mut chiamate, mut errori) = (0, 0);
    while let Some(r) = compiti.join_next().await {
        let (f, e) = r?;
        chiamate += f;
        errori += e;
    }
    Ok(Misura {
        chiamate,
        errori,
        secondi: inizio.elapsed().as_secs_f64(),
    })
}

/// What every call shares.
struct Comune {
    http: reqwest::Client,
    firmatario: Firmatario,
    url: String,
    aud: String,
    voucher: String,
    evidenza: String,
    oggi: String,
    prossimo_id: AtomicU64,
}

impl Comune {
    async fn chiama(&self, cf: String) -> anyhow::Result<()> {
        let corpo = serde_json::to_vec(&RichiestaE002 {
            id_operazione_client: self.prossimo_id.fetch_add(1, Ordering::Relaxed).to_string(),
            criteri_ricerca: TipoCriteriRicercaE002::per_codice_fiscale(cf),
            verifica: None,
            dati_richiesta: TipoDatiRichiestaE002 {
                data_riferimento_richiesta: self.oggi.clone(),
                motivo_richiesta: "BENCH".into(),
                caso_uso: Servizio::C030.caso_uso().to_string(),
            },
        })?;
        let digest = digest_header(&corpo);
        let adesso = chrono::Utc::now().timestamp();
        let firma =
            self.firmatario
                .agid_signature(&self.aud, &digest, "application/json", adesso)?;
        let risposta = self
            .http
            .post(&self.url)
            .bearer_auth(&self.voucher)
            .header("Content-Type", "application/json")
            .header("Digest", &digest)
            .header("Agid-JWT-Signature", firma)
            .header("Agid-JWT-TrackingEvidence", &self.evidenza)
            .body(corpo)
            .send()
            .await?;
        // An answer is a 200 with its subjects or ANPR's own refusal (`listaErrori`, e.g.
        // EN122 "not found" for the few synthetic people C030 does not know): both parsed.
        let stato = risposta.status();
        let json: serde_json::Value = serde_json::from_slice(&risposta.bytes().await?)?;
        let risposta_anpr =
            json.get("listaSoggetti").is_some() || json.get("listaErrori").is_some();
        anyhow::ensure!(risposta_anpr, "risposta inattesa: HTTP {stato}");
        Ok(())
    }
}

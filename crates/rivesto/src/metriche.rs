//! `--metrics-listen ADDR`: Prometheus metrics on a listener of their own (`GET /metrics`).
//!
//! Two sources. The counters and histograms that the libraries record through the `metrics`
//! facade (web latency, ANPR calls, rows processed) live in this process's global recorder.
//! The gauges about the shared state (requests by state, queue, quotas, expiries) are read
//! from the database at every scrape into a fresh recorder, so a series that is gone from the
//! database is gone from the output too; every process on the same database exposes the same
//! values for them. The names are documented in docs/configuration.md ("Metriche").

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use store::{ChiaveMaestra, Store};

/// Upper bounds (seconds) of the latency histograms' buckets: from a fast page to ANPR's
/// 30-second timeout.
const BUCKET_SECONDI: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Conventions that ended less than this long ago stay in the output, with a negative value.
const CONVENZIONI_FINITE_MS: i64 = 30 * 86_400_000;
/// The database gauges of one scrape must not hold it past a typical scrape timeout.
const ATTESA_DATABASE: Duration = Duration::from_secs(8);

/// The process's recorder, installed once: the global recorder can be set only once.
static GESTORE: OnceLock<PrometheusHandle> = OnceLock::new();

fn costruttore() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_secondi".into()), BUCKET_SECONDI)
        .unwrap_or_else(|_| PrometheusBuilder::new())
}

fn gestore() -> PrometheusHandle {
    GESTORE
        .get_or_init(|| {
            let recorder = costruttore().build_recorder();
            let handle = recorder.handle();
            if let Err(e) = metrics::set_global_recorder(recorder) {
                tracing::warn!(errore = %e, "registro delle metriche già installato");
            }
            descrivi_processo();
            handle
        })
        .clone()
}

struct Sorgente {
    handle: PrometheusHandle,
    store: Store,
    chiave: ChiaveMaestra,
}

/// Binds `indirizzo`, prints `Metriche su http://ADDR/metrics` and serves until the process
/// ends; `None` when the flag is absent.
pub async fn avvia(
    indirizzo: Option<SocketAddr>,
    store: &Store,
    chiave: ChiaveMaestra,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(indirizzo) = indirizzo else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(indirizzo)
        .await
        .with_context(|| format!("--metrics-listen {indirizzo}"))?;
    println!("Metriche su http://{}/metrics", listener.local_addr()?);
    let sorgente = Arc::new(Sorgente {
        handle: gestore(),
        store: store.clone(),
        chiave,
    });
    let router = Router::new()
        .route("/metrics", get(metriche))
        .with_state(sorgente.clone());
    Ok(Some(tokio::spawn(async move {
        // Drains the histograms now and then even when nobody scrapes.
        let manutenzione = {
            let h = sorgente.handle.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    h.run_upkeep();
                }
            })
        };
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(errore = %e, "listener delle metriche fermato");
        }
        manutenzione.abort();
    })))
}

async fn metriche(State(s): State<Arc<Sorgente>>) -> impl IntoResponse {
    let mut testo = s.handle.render();
    let dal_database =
        tokio::time::timeout(ATTESA_DATABASE, dal_database(&s.store, &s.chiave)).await;
    let foto = match dal_database {
        Ok(Ok(f)) => Some(f),
        Ok(Err(e)) => {
            tracing::warn!(errore = %e, "metriche: database non letto");
            None
        }
        Err(_) => {
            tracing::warn!("metriche: il database non risponde");
            None
        }
    };
    testo.push_str(&rendi_database(foto.as_ref()));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        testo,
    )
}

/// What one scrape reads from the database.
struct Fotografia {
    ora_ms: i64,
    richieste: Vec<(String, i64)>,
    righe_in_attesa: i64,
    job_scaduti: i64,
    /// (Comune's ISTAT code, service, daily share, calls left today)
    quote: Vec<(String, &'static str, u64, u64)>,
    certificati: Vec<(String, anpr::scadenze::CertificatoAccesso)>,
    convenzioni: Vec<(String, store::operativo::FineConvenzione)>,
}

async fn dal_database(
    store: &Store,
    chiave: &ChiaveMaestra,
) -> Result<Fotografia, store::ErroreStore> {
    let ora_ms = store.adesso_ms();
    let comuni = store.elenco_comuni().await?;
    let istat = |id: i64| {
        comuni
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| id.to_string(), |c| c.codice_istat.clone())
    };
    let usate = store
        .chiamate_del_giorno(&store::giorno_roma(ora_ms), None)
        .await?;
    let mut quote = Vec::new();
    let mut certificati = Vec::new();
    for c in comuni.iter().filter(|c| c.ha_accesso_anpr) {
        let Some(accesso) = store.accesso_anpr(c.id, chiave).await? else {
            continue;
        };
        let file = |n: &str| accesso.file.get(n).map(|s| s.esponi());
        for cert in anpr::scadenze::certificati_accesso(&accesso.toml, file) {
            certificati.push((c.codice_istat.clone(), cert));
        }
        for (servizio, quota) in anpr::scadenze::quote_giornaliere(&accesso.toml) {
            let n = usate
                .iter()
                .find(|(id, s, _)| *id == c.id && s == servizio.codice())
                .map_or(0, |(_, _, n)| u64::try_from(*n).unwrap_or(0));
            let residua = quota.saturating_sub(n);
            quote.push((c.codice_istat.clone(), servizio.codice(), quota, residua));
        }
    }
    let convenzioni = store
        .fini_convenzioni(ora_ms - CONVENZIONI_FINITE_MS, None)
        .await?
        .into_iter()
        .map(|f| (istat(f.comune_id), f))
        .collect();
    Ok(Fotografia {
        ora_ms,
        richieste: store.richieste_per_stato().await?,
        righe_in_attesa: store.righe_in_attesa(ora_ms).await?,
        job_scaduti: store.job_scaduti(ora_ms).await?,
        quote,
        certificati,
        convenzioni,
    })
}

const STATI: [&str; 8] = [
    store::richieste::stato::BOZZA,
    store::richieste::stato::IN_ATTESA_CONVALIDA,
    store::richieste::stato::CONVALIDATA,
    store::richieste::stato::IN_ELABORAZIONE,
    store::richieste::stato::COMPLETATA,
    store::richieste::stato::RESPINTA,
    store::richieste::stato::ANNULLATA,
    store::richieste::stato::FALLITA,
];

/// The database gauges in the exposition format, through a recorder made for this scrape.
/// `None` (the database did not answer) gives only `rivesto_database_raggiungibile 0`.
fn rendi_database(foto: Option<&Fotografia>) -> String {
    let recorder = costruttore().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        descrivi_database();
        metrics::gauge!("rivesto_database_raggiungibile").set(if foto.is_some() {
            1.0
        } else {
            0.0
        });
        let Some(f) = foto else { return };
        for stato in STATI {
            let n = f
                .richieste
                .iter()
                .find(|(s, _)| s == stato)
                .map_or(0, |r| r.1);
            metrics::gauge!("rivesto_richieste", "stato" => stato).set(n as f64);
        }
        metrics::gauge!("rivesto_righe_in_attesa").set(f.righe_in_attesa as f64);
        metrics::gauge!("rivesto_job_scaduti").set(f.job_scaduti as f64);
        for (comune, servizio, quota, residua) in &f.quote {
            let etichette = [
                ("comune", comune.clone()),
                ("servizio", servizio.to_string()),
            ];
            metrics::gauge!("rivesto_quota_giornaliera", &etichette).set(*quota as f64);
            metrics::gauge!("rivesto_quota_residua", &etichette).set(*residua as f64);
        }
        for (comune, c) in &f.certificati {
            metrics::gauge!(
                "rivesto_certificato_scadenza_secondi",
                "comune" => comune.clone(),
                "chiave" => c.chiave.clone(),
                "file" => c.file.clone(),
                "soggetto" => c.soggetto.clone()
            )
            .set(secondi(c.scadenza_ms - f.ora_ms));
        }
        for (comune, c) in &f.convenzioni {
            metrics::gauge!(
                "rivesto_convenzione_scadenza_secondi",
                "comune" => comune.clone(),
                "convenzione" => c.convenzione_id.to_string(),
                "nome" => c.nome.clone()
            )
            .set(secondi(c.valida_al_ms - f.ora_ms));
        }
    });
    handle.render()
}

fn secondi(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn descrivi_processo() {
    use metrics::{describe_counter, describe_histogram};
    describe_histogram!(
        web::metriche::DURATA_HTTP,
        "Durata delle risposte HTTP del listener principale, per rotta, metodo e classe di stato"
    );
    describe_counter!(
        worker::metriche::CHIAMATE,
        "Chiamate ANPR per servizio ed esito (trovato, non_trovato, ambiguo, errore)"
    );
    describe_counter!(
        worker::metriche::ERRORI,
        "Chiamate ANPR fallite per servizio e codice (errore ANPR, HTTP_nnn o tipo)"
    );
    describe_histogram!(
        worker::metriche::DURATA,
        "Durata delle chiamate ANPR per servizio, ritentativi compresi"
    );
    describe_counter!(
        worker::metriche::RIGHE,
        "Righe con esito registrato da questo processo, per esito"
    );
}

fn descrivi_database() {
    use metrics::describe_gauge;
    describe_gauge!(
        "rivesto_database_raggiungibile",
        "1 se il database ha risposto a questa lettura"
    );
    describe_gauge!("rivesto_richieste", "Richieste per stato (dal database)");
    describe_gauge!(
        "rivesto_righe_in_attesa",
        "Righe pronte per una chiamata ANPR (dal database)"
    );
    describe_gauge!(
        "rivesto_job_scaduti",
        "Job dovuti e non ancora presi (dal database)"
    );
    describe_gauge!(
        "rivesto_quota_giornaliera",
        "Quota giornaliera di chiamate per Comune e servizio"
    );
    describe_gauge!(
        "rivesto_quota_residua",
        "Chiamate ancora disponibili oggi (Europe/Rome) per Comune e servizio"
    );
    describe_gauge!(
        "rivesto_certificato_scadenza_secondi",
        "Secondi alla scadenza di ogni certificato dell'accesso ANPR (negativo: scaduto)"
    );
    describe_gauge!(
        "rivesto_convenzione_scadenza_secondi",
        "Secondi alla fine di ogni convenzione con data di fine (negativo: terminata)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senza_database_solo_il_segnale_di_errore() {
        let t = rendi_database(None);
        assert!(t.contains("rivesto_database_raggiungibile 0"), "{t}");
        assert!(!t.contains("rivesto_richieste"), "{t}");
    }

    #[test]
    fn ogni_stato_ha_la_sua_serie_e_le_scadenze_in_secondi() {
        let foto = Fotografia {
            ora_ms: 1_000_000,
            richieste: vec![("COMPLETATA".into(), 3)],
            righe_in_attesa: 42,
            job_scaduti: 1,
            quote: vec![("058091".into(), "C030", 100, 7)],
            certificati: vec![(
                "058091".into(),
                anpr::scadenze::CertificatoAccesso {
                    chiave: "anpr.client_cert_file".into(),
                    file: "client.pem".into(),
                    soggetto: "client".into(),
                    scadenza_ms: 1_000_000 + 86_400_000,
                },
            )],
            convenzioni: vec![],
        };
        let t = rendi_database(Some(&foto));
        assert!(
            t.contains("rivesto_richieste{stato=\"COMPLETATA\"} 3"),
            "{t}"
        );
        assert!(t.contains("rivesto_richieste{stato=\"BOZZA\"} 0"), "{t}");
        assert!(t.contains("rivesto_righe_in_attesa 42"), "{t}");
        assert!(
            t.contains("rivesto_quota_residua{comune=\"058091\",servizio=\"C030\"} 7"),
            "{t}"
        );
        assert!(
            t.contains(
                "rivesto_certificato_scadenza_secondi{comune=\"058091\",chiave=\"anpr.client_cert_file\",file=\"client.pem\",soggetto=\"client\"} 86400"
            ),
            "{t}"
        );
    }
}

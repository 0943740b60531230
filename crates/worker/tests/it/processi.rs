//! Two `rivesto worker` processes share one request (issue 4): silent consent fires once, no
//! row is looked up twice, and the audit chain stays one valid chain. On PostgreSQL this is the
//! scale setup (`FOR UPDATE SKIP LOCKED`); on SQLite two processes share one file.

use crate::banca::*;
use crate::crash::{avvia, binario};
use crate::su_entrambi;
use anpr::servizi::Servizio;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo::Cf;
use std::time::{Duration, Instant};
use store::richieste::stato;

su_entrambi!(due_processi_una_richiesta);

async fn due_processi_una_richiesta(db: &Db) {
    let Some(bin) = binario() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "binario rivesto non trovato: compilarlo (cargo build -p rivesto) o impostare RIVESTO_BIN"
            );
        }
        println!(
            "binario rivesto non trovato: test a due processi saltato (cargo build -p rivesto)"
        );
        return;
    };
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    sc.amb.sim.imposta_latenza(anpr_sim::Latenza {
        base_ms: 2,
        jitter_ms: 6,
    });
    let righe: Vec<_> = (0..600u32)
        .map(|i| {
            let p = sc.amb.sim.popolazione().sintetico(i).unwrap();
            riga(i64::from(i) + 2, Cf, &p.codice_fiscale)
        })
        .collect();
    // Submitted, not approved: the two processes race for the silent consent too.
    let id = sc.invia(s, &righe).await;
    let dati = tempfile::tempdir().unwrap();
    std::fs::write(dati.path().join("master.key"), MASTER_KEY).unwrap();
    let mut figli = [
        avvia(&bin, &db.url, dati.path()),
        avvia(&bin, &db.url, dati.path()),
    ];
    let inizio = Instant::now();
    while s.richiesta(id).await.unwrap().stato != stato::COMPLETATA {
        assert!(
            inizio.elapsed() < Duration::from_secs(180),
            "i worker non completano"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for f in &mut figli {
        f.kill().unwrap();
        f.wait().unwrap();
    }
    let c = s.conteggio_righe(id).await.unwrap();
    assert_eq!((c.totali, c.finali), (600, 600));
    assert_eq!(sc.amb.chiamate(Servizio::C030), 600);
    let mut cf: Vec<String> = sc
        .amb
        .sim
        .richieste_ricevute()
        .into_iter()
        .filter(|r| r.servizio.as_deref() == Some("C030"))
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.corpo).unwrap();
            v["criteriRicerca"]["codiceFiscale"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    cf.sort();
    cf.dedup();
    assert_eq!(cf.len(), 600);
    let voci = s.voci_audit(0, 100_000).await.unwrap();
    let convalide: Vec<_> = voci
        .iter()
        .filter(|v| v.azione == "RICHIESTA_CONVALIDATA")
        .collect();
    assert_eq!(convalide.len(), 1);
    assert_eq!(convalide[0].attore, "sistema");
    // Both processes worked: the chain interleaves their entries.
    let processi: std::collections::BTreeSet<String> = voci
        .iter()
        .filter(|v| v.azione == "CHIAMATE_ANPR")
        .map(|v| {
            let d: serde_json::Value = serde_json::from_str(&v.dettagli).unwrap();
            d["processo"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(processi.len(), 2, "{processi:?}");
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { .. }
    ));
    assert_eq!(s.file_risposta(id).await.unwrap().len(), 1);
}

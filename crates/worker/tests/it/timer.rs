//! Timers as jobs: silent consent after its delay (once, with two engines), d'ufficio
//! rejection of a disabled user's request, expired leases reclaimed, the retention purge.

use crate::banca::*;
use crate::su_entrambi;
use anpr::servizi::Servizio;
use domain::gruppi::GruppoCampi;
use domain::tipo::TipoIdentificativo::Cf;
use std::sync::Arc;
use store::Store;
use store::anagrafiche::Approvazione;
use store::richieste::stato;

su_entrambi!(
    silenzio_assenso_dopo_il_ritardo_una_volta,
    utente_disabilitato_respinta_dal_sistema,
    due_motori_nessuna_riga_due_volte,
    lease_scaduto_riassegnato,
    purga_alla_fine_della_conservazione,
    annullata_file_parziali,
    battito_tiene_il_lease_oltre_la_durata
);

const ORA_MS: i64 = 3_600_000;

async fn convalide(s: &Store, id: i64) -> Vec<store::VoceAudit> {
    s.voci_audit(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.azione == "RICHIESTA_CONVALIDATA" && v.oggetto == format!("richiesta:{id}"))
        .collect()
}

async fn silenzio_assenso_dopo_il_ritardo_una_volta(db: &Db) {
    let s = &db.store;
    let sc = scenario_con(
        s,
        &[GruppoCampi::IdAnpr],
        "",
        Approvazione::SilenzioAssenso { ritardo_ms: ORA_MS },
    )
    .await;
    let id = sc.invia(s, &[riga(2, Cf, "STTSGT90A01H501J")]).await;
    let orologio = OrologioTest::adesso();
    let altro = Store::connetti(&db.url).await.unwrap();
    let m1 = Arc::new(sc.motore(s, orologio.clone()));
    let m2 = Arc::new(sc.motore(&altro, orologio.clone()));
    for _ in 0..3 {
        m1.passo().await.unwrap();
        m2.passo().await.unwrap();
    }
    assert_eq!(
        s.richiesta(id).await.unwrap().stato,
        stato::IN_ATTESA_CONVALIDA
    );
    let inviata = s.richiesta(id).await.unwrap().inviata_ms.unwrap();
    orologio.imposta(inviata + ORA_MS);
    // Both engines at once, each in its own task (as in two processes: the engine blocks its
    // task's thread on the store inside the ANPR client's callbacks).
    let (a, b) = (m1.clone(), m2.clone());
    let (a, b) = tokio::join!(
        tokio::spawn(async move { a.passo().await.map(|_| ()) }),
        tokio::spawn(async move { b.passo().await.map(|_| ()) })
    );
    a.unwrap().unwrap();
    b.unwrap().unwrap();
    for _ in 0..5 {
        m1.passo().await.unwrap();
        m2.passo().await.unwrap();
    }
    assert_eq!(s.richiesta(id).await.unwrap().stato, stato::COMPLETATA);
    let v = convalide(s, id).await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].attore, "sistema");
    assert!(
        v[0].dettagli.contains("approvata per silenzio-assenso"),
        "{}",
        v[0].dettagli
    );
    altro.chiudi().await;
}

async fn utente_disabilitato_respinta_dal_sistema(db: &Db) {
    let s = &db.store;
    let sc = scenario_con(s, &[GruppoCampi::IdAnpr], "", Approvazione::Manuale).await;
    let id = sc.invia(s, &[riga(2, Cf, "STTSGT90A01H501J")]).await;
    let m = sc.motore(s, OrologioTest::adesso());
    m.passo().await.unwrap();
    assert_eq!(
        s.richiesta(id).await.unwrap().stato,
        stato::IN_ATTESA_CONVALIDA
    );
    s.imposta_utente_attivo(sc.utente_id, false, &top())
        .await
        .unwrap();
    m.passo().await.unwrap();
    let r = s.richiesta(id).await.unwrap();
    assert_eq!(r.stato, stato::RESPINTA);
    assert_eq!(
        r.nota_stato.as_deref(),
        Some("l'utente richiedente è stato disabilitato prima della convalida")
    );
    assert_eq!(sc.amb.sim.conteggi().values().sum::<u64>(), 0);
}

/// Two engines on two connections (as two processes) share one request: every row is looked
/// up once, and the audit chain stays one valid chain.
async fn due_motori_nessuna_riga_due_volte(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    let righe: Vec<_> = (0..160u32)
        .map(|i| {
            let p = sc.amb.sim.popolazione().sintetico(i).unwrap();
            riga(i64::from(i) + 2, Cf, &p.codice_fiscale)
        })
        .collect();
    let id = sc.invia(s, &righe).await;
    let altro = Store::connetti(&db.url).await.unwrap();
    let orologio = OrologioTest::adesso();
    let mut o1 = sc.opzioni(orologio.clone());
    o1.dimensione_blocco = 10;
    let mut o2 = o1.clone();
    o1.id_processo = "motore-1".into();
    o2.id_processo = "motore-2".into();
    let m1 = Arc::new(worker::Motore::new(s.clone(), chiave(), o1));
    let m2 = Arc::new(worker::Motore::new(altro.clone(), chiave(), o2));
    let (a, b) = tokio::join!(gira(m1, s.clone(), id), gira(m2, s.clone(), id));
    a.unwrap();
    b.unwrap();
    assert_eq!(s.richiesta(id).await.unwrap().stato, stato::COMPLETATA);
    assert_eq!(sc.amb.chiamate(Servizio::C030), 160);
    let mut cf_inviati: Vec<String> = sc
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
    cf_inviati.sort();
    cf_inviati.dedup();
    assert_eq!(cf_inviati.len(), 160);
    assert_eq!(convalide(s, id).await.len(), 1);
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { .. }
    ));
    altro.chiudi().await;
}

/// Runs an engine in its own task until the request completes.
fn gira(m: Arc<worker::Motore>, s: Store, id: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for _ in 0..400 {
            m.passo().await.unwrap();
            if s.richiesta(id).await.unwrap().stato == stato::COMPLETATA {
                break;
            }
        }
    })
}

async fn lease_scaduto_riassegnato(db: &Db) {
    let s = &db.store;
    let sc = scenario_con(s, &[GruppoCampi::IdAnpr], "", Approvazione::Manuale).await;
    let id = sc
        .invia(
            s,
            &[
                riga(2, Cf, "STTSGT90A01H501J"),
                riga(3, Cf, "NRECLD90R50H501G"),
            ],
        )
        .await;
    s.cambia_stato_richiesta(
        id,
        &[stato::IN_ATTESA_CONVALIDA],
        stato::CONVALIDATA,
        None,
        &top(),
    )
    .await
    .unwrap();
    // A worker that then dies holds both rows for 10 s.
    let ora = chrono::Utc::now().timestamp_millis();
    let prese = s
        .reclama_righe("morto", ora, 10_000, 10, Some(id))
        .await
        .unwrap();
    assert_eq!(prese.len(), 2);
    let orologio = OrologioTest::adesso();
    let m = sc.motore(s, orologio.clone());
    orologio.imposta(ora + 5_000);
    let l = m.passo().await.unwrap();
    assert_eq!(l.righe_finali, 0);
    assert_eq!(sc.amb.chiamate(Servizio::C030), 0);
    orologio.imposta(ora + 10_001);
    fino_a(&m, s, id, &[stato::COMPLETATA], 10).await;
    assert_eq!(sc.amb.chiamate(Servizio::C030), 2);
    // The dead worker's late outcome is refused: the rows are no longer its own.
    let tardi = s
        .registra_esiti(
            "morto",
            &[store::richieste::EsitoRiga {
                riga_id: prese[0].id,
                esito: domain::esito::Esito::Errore,
                messaggio: None,
                id_operazioni: serde_json::json!([]),
                risultato: None,
                cf_restituito: None,
                id_anpr_restituito: None,
            }],
            None,
            &chiave(),
        )
        .await
        .unwrap();
    assert!(tardi.is_empty());
}

async fn purga_alla_fine_della_conservazione(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    let id = sc.invia(s, &[riga(2, Cf, "STTSGT90A01H501J")]).await;
    let orologio = OrologioTest::adesso();
    let m = sc.motore(s, orologio.clone());
    fino_a(&m, s, id, &[stato::COMPLETATA], 10).await;
    let f = s.file_risposta(id).await.unwrap().remove(0);
    assert!(std::path::Path::new(&f.percorso).exists());
    // Six days later nothing is purged; after seven (the convention's retention) it is.
    let ora = chrono::Utc::now().timestamp_millis();
    orologio.imposta(ora + 6 * 86_400_000);
    m.passo().await.unwrap();
    assert!(std::path::Path::new(&f.percorso).exists());
    orologio.imposta(ora + 7 * 86_400_000 + 60_000);
    m.passo().await.unwrap();
    assert!(!std::path::Path::new(&f.percorso).exists());
    let g = s.righe(id, 0, 10).await.unwrap().remove(0);
    assert_eq!(g.identificativo, None);
    assert_eq!(g.esito, Some(domain::esito::Esito::Trovato));
    assert!(s.file_risposta(id).await.unwrap()[0].eliminato_ms.is_some());
    let h = s.hash_identificativi(id).await.unwrap();
    assert_eq!(h[0].1.as_ref().map(String::len), Some(32));
}

/// A TOP cancels a running request: rows done keep their outcome, the others become
/// NON_ELABORATO, and partial files are written; the result fields then leave the database.
async fn annullata_file_parziali(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr, GruppoCampi::Generalita], "").await;
    let id = sc
        .invia(
            s,
            &[
                riga(2, Cf, "STTSGT90A01H501J"),
                riga(3, Cf, "NRECLD90R50H501G"),
                riga(4, Cf, "PRVGNN90R10H501Q"),
                riga(5, Cf, "NNOSGT90A01H501I"),
            ],
        )
        .await;
    let mut o = sc.opzioni(OrologioTest::adesso());
    o.dimensione_blocco = 2;
    let m = worker::Motore::new(s.clone(), chiave(), o);
    m.passo().await.unwrap();
    assert_eq!(s.richiesta(id).await.unwrap().stato, stato::IN_ELABORAZIONE);
    s.cambia_stato_richiesta(
        id,
        &[stato::IN_ELABORAZIONE],
        stato::ANNULLATA,
        Some("pratica archiviata"),
        &top(),
    )
    .await
    .unwrap();
    m.passo().await.unwrap();
    let f = testi(s, id, true).await;
    assert_eq!(f.len(), 1);
    let linee: Vec<&str> = f[0].1.split_terminator("\r\n").collect();
    assert_eq!(
        linee[1..]
            .iter()
            .map(|l| l.split(';').nth(3).unwrap())
            .collect::<Vec<_>>(),
        vec!["TROVATO", "TROVATO", "NON_ELABORATO", "NON_ELABORATO"]
    );
    assert!(
        linee[2].ends_with(";JF28000UG;NRECLD90R50H501G;NERI;CLAUDIA;F;10/10/1990"),
        "{}",
        linee[2]
    );
    for r in s.righe(id, 0, 10).await.unwrap() {
        assert!(s.risultato_riga(r.id, &chiave()).await.unwrap().is_none());
    }
    // Nothing more happens to it.
    m.passo().await.unwrap();
    assert_eq!(s.file_risposta(id).await.unwrap().len(), 1);
    assert_eq!(sc.amb.chiamate(Servizio::C030), 2);
}

/// A chunk that takes longer than its lease keeps its rows: the heartbeat renews them, so a
/// second engine polling meanwhile never takes them over.
async fn battito_tiene_il_lease_oltre_la_durata(db: &Db) {
    let s = &db.store;
    let sc = scenario(s, &[GruppoCampi::IdAnpr], "").await;
    // Six calls one at a time at 300 ms: about 1.8 s, twice the 900 ms lease. (With 150 ms
    // and 450 ms, a heartbeat late by 300 ms on a busy CI machine lost the rows once.)
    sc.amb.sim.imposta_latenza(anpr_sim::Latenza::fissa(300));
    let righe: Vec<_> = (0..6u32)
        .map(|i| {
            let p = sc.amb.sim.popolazione().sintetico(i).unwrap();
            riga(i64::from(i) + 2, Cf, &p.codice_fiscale)
        })
        .collect();
    let id = sc.invia(s, &righe).await;
    let opzioni = |nome: &str| {
        let mut o = sc.opzioni(Arc::new(anpr::security::OrologioSistema));
        o.id_processo = nome.into();
        o.durata_lease = std::time::Duration::from_millis(900);
        o.concorrenza_per_comune = 1;
        o
    };
    let lento = Arc::new(worker::Motore::new(s.clone(), chiave(), opzioni("lento")));
    let altro = Store::connetti(&db.url).await.unwrap();
    let ladro = Arc::new(worker::Motore::new(
        altro.clone(),
        chiave(),
        opzioni("ladro"),
    ));
    // The slow engine approves and claims all six rows (about two seconds of calls); the other
    // polls all along, well past the lease's first expiry.
    let l = lento.clone();
    let primo = tokio::spawn(async move { l.passo().await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let svolto_ladro = tokio::spawn(async move {
        let mut svolto = 0;
        for _ in 0..20 {
            svolto += ladro.passo().await.unwrap().righe_finali;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        svolto
    });
    let svolto = primo.await.unwrap();
    assert_eq!(svolto.righe_finali, 6);
    assert_eq!(svolto_ladro.await.unwrap(), 0);
    assert_eq!(sc.amb.chiamate(Servizio::C030), 6);
    assert_eq!(s.richiesta(id).await.unwrap().stato, stato::COMPLETATA);
    altro.chiudi().await;
}

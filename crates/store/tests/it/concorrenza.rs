//! What several processes share through the database: operation ids, quota counters, row
//! leases. "Another process" is a second `Store` handle with its own pools.

use crate::richieste::{richiesta, riga};
use crate::supporto::{Db, base, top};
use std::collections::HashSet;
use store::Store;
use store::richieste::stato;

crate::contratto!(
    id_operazione,
    id_operazione_concorrenti,
    id_operazione_preassegnati,
    quota_mai_superata,
    quota_a_blocchi,
    righe_reclamate_una_volta,
    lease_scaduto_reclamato,
    rilascio_all_arresto,
    sospesa_una_volta
);

const ORA: i64 = 1_780_000_000_000;

async fn id_operazione(db: &Db) {
    let s = &db.store;
    let a = s.id_operazione_per("r1:C030", ORA).await.unwrap();
    // From the clock: epoch ms × 1000.
    assert_eq!(a, 1_780_000_000_000_000);
    assert_eq!(
        s.id_operazione_per("r1:C030", ORA + 5).await.unwrap(),
        a,
        "same key, same id"
    );
    let b = s.id_operazione_per("r2:C030", ORA).await.unwrap();
    assert_eq!(b, a + 1, "same millisecond: next above the mark");
    // The clock went back: still above the persisted mark.
    let c = s.id_operazione_per("r3:C030", ORA - 60_000).await.unwrap();
    assert_eq!(c, b + 1);
    assert_eq!(s.id_operazione_massimo().await.unwrap(), c);
    // A refused low id is replaced by a fresh one, which the key then keeps.
    let nuovo = s.nuovo_id_operazione("r1:C030", ORA).await.unwrap();
    assert_eq!(nuovo, c + 1);
    assert_eq!(s.id_operazione_per("r1:C030", ORA).await.unwrap(), nuovo);
    // Completed: the key is forgotten, the mark is not.
    s.completa_id_operazione("r1:C030").await.unwrap();
    assert_eq!(
        s.id_operazione_per("r1:C030", ORA).await.unwrap(),
        nuovo + 1
    );
    // A later clock wins over the mark.
    assert_eq!(
        s.id_operazione_per("r4:C030", ORA + 1_000).await.unwrap(),
        1_780_000_001_000_000
    );
}

async fn id_operazione_concorrenti(db: &Db) {
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for (n, s) in [db.store.clone(), altro.clone()].into_iter().enumerate() {
        compiti.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..40 {
                ids.push(
                    s.id_operazione_per(&format!("p{n}:{i}"), ORA)
                        .await
                        .unwrap(),
                );
            }
            ids
        }));
    }
    let mut tutti = HashSet::new();
    for c in compiti {
        for id in c.await.unwrap() {
            assert!(tutti.insert(id), "id {id} dato due volte");
        }
    }
    assert_eq!(tutti.len(), 80);
    assert_eq!(
        db.store.id_operazione_massimo().await.unwrap(),
        *tutti.iter().max().unwrap()
    );
    altro.chiudi().await;
}

async fn id_operazione_preassegnati(db: &Db) {
    let s = &db.store;
    let altro = db.altro_store().await;
    // A key that already has an id keeps it; the others get fresh ones above the mark.
    let esistente = s.id_operazione_per("9:2:C030", ORA).await.unwrap();
    let chiavi: Vec<String> = ["9:1:C030", "9:2:C030", "9:3:C030", "9:1:C030"]
        .map(String::from)
        .to_vec();
    let ids = s.prealloca_id_operazioni(&chiavi, ORA).await.unwrap();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[1], ("9:2:C030".to_string(), esistente, false));
    assert!(ids[0].2 && ids[2].2, "nuovi");
    assert_eq!(ids[0].1, esistente + 1);
    assert_eq!(ids[2].1, esistente + 2);
    assert_eq!(
        ids[3],
        ("9:1:C030".to_string(), ids[0].1, false),
        "chiave ripetuta"
    );
    assert_eq!(s.id_operazione_massimo().await.unwrap(), esistente + 2);
    // Stored before any call: another process redoing the call finds the same id.
    assert_eq!(
        altro.id_operazione_per("9:3:C030", ORA).await.unwrap(),
        ids[2].1
    );
    // Together with single draws from another process: never the same id twice.
    let lotto: Vec<String> = (0..300).map(|i| format!("10:{i}:C030")).collect();
    let (a, b) = tokio::join!(s.prealloca_id_operazioni(&lotto, ORA), async {
        let mut v = Vec::new();
        for i in 0..30 {
            v.push(
                altro
                    .id_operazione_per(&format!("11:{i}:C020"), ORA)
                    .await
                    .unwrap(),
            );
        }
        v
    });
    let mut tutti: HashSet<u128> = a.unwrap().into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(tutti.len(), 300);
    for id in b {
        assert!(tutti.insert(id), "id {id} dato due volte");
    }
    assert!(
        s.prealloca_id_operazioni(&[], ORA)
            .await
            .unwrap()
            .is_empty()
    );
    altro.chiudi().await;
}

/// Slots taken in blocks by several processes, given back when unused: the share holds, and
/// blocks shrink as it runs out.
async fn quota_a_blocchi(db: &Db) {
    let b = base(&db.store).await;
    let altro = db.altro_store().await;
    let giorno = store::giorno_roma(ORA);
    // 100 left: a quarter of it at most.
    assert_eq!(
        db.store
            .riserva_chiamate(b.comune_id, "C030", ORA, 100, 32)
            .await
            .unwrap(),
        Some((25, 25))
    );
    assert_eq!(
        altro
            .riserva_chiamate(b.comune_id, "C030", ORA, 100, 10)
            .await
            .unwrap(),
        Some((10, 35))
    );
    // 20 unused go back; never below zero.
    db.store
        .restituisci_chiamate(b.comune_id, "C030", &giorno, 20)
        .await
        .unwrap();
    assert_eq!(contate_c030(db, b.comune_id, &giorno).await, 15);
    let mut compiti = Vec::new();
    for s in [db.store.clone(), altro.clone(), db.store.clone()] {
        compiti.push(tokio::spawn(async move {
            let mut presi = 0;
            while let Some((n, _)) = s
                .riserva_chiamate(b.comune_id, "C030", ORA, 100, 32)
                .await
                .unwrap()
            {
                assert!(n >= 1);
                presi += n;
            }
            presi
        }));
    }
    let mut presi = 0;
    for c in compiti {
        presi += c.await.unwrap();
    }
    assert_eq!(presi, 85, "fino alla quota, non oltre");
    assert_eq!(contate_c030(db, b.comune_id, &giorno).await, 100);
    db.store
        .restituisci_chiamate(b.comune_id, "C030", &giorno, 500)
        .await
        .unwrap();
    assert_eq!(contate_c030(db, b.comune_id, &giorno).await, 0);
    assert_eq!(
        db.store
            .riserva_chiamate(b.comune_id, "C030", ORA, 0, 32)
            .await
            .unwrap(),
        None
    );
    altro.chiudi().await;
}

async fn quota_mai_superata(db: &Db) {
    let b = base(&db.store).await;
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for s in [
        db.store.clone(),
        altro.clone(),
        db.store.clone(),
        altro.clone(),
    ] {
        compiti.push(tokio::spawn(async move {
            let mut ok = 0;
            for _ in 0..20 {
                if s.riserva_chiamata(b.comune_id, "C030", ORA, 30)
                    .await
                    .unwrap()
                {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut concesse = 0;
    for c in compiti {
        concesse += c.await.unwrap();
    }
    assert_eq!(concesse, 30);
    let giorno = store::giorno_roma(ORA);
    assert_eq!(contate_c030(db, b.comune_id, &giorno).await, 30);
    // Another service and the next Rome day have their own counters.
    assert!(
        db.store
            .riserva_chiamata(b.comune_id, "C020", ORA, 30)
            .await
            .unwrap()
    );
    let (_, mezzanotte) = store::limiti_giorno_roma(ORA);
    assert!(
        !db.store
            .riserva_chiamata(b.comune_id, "C030", mezzanotte - 1, 30)
            .await
            .unwrap()
    );
    assert!(
        db.store
            .riserva_chiamata(b.comune_id, "C030", mezzanotte, 30)
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .riserva_chiamata(b.comune_id, "C030", mezzanotte, 0)
            .await
            .unwrap()
    );
    altro.chiudi().await;
}

async fn preparata(s: &Store, righe: i64) -> i64 {
    let b = base(s).await;
    let righe: Vec<_> = (1..=righe).map(|n| riga(n, &format!("CF{n:05}"))).collect();
    let id = richiesta(s, b.convenzione_id, b.utente_id, &righe).await;
    s.cambia_stato_richiesta(id, &[stato::BOZZA], stato::CONVALIDATA, None, &top())
        .await
        .unwrap();
    id
}

async fn righe_reclamate_una_volta(db: &Db) {
    let id = preparata(&db.store, 300).await;
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for (n, s) in [
        db.store.clone(),
        altro.clone(),
        db.store.clone(),
        altro.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        compiti.push(tokio::spawn(async move {
            let mut prese = Vec::new();
            loop {
                let blocco = s
                    .reclama_righe(&format!("w{n}"), ORA, 60_000, 7, None)
                    .await
                    .unwrap();
                if blocco.is_empty() {
                    return prese;
                }
                assert!(
                    blocco
                        .iter()
                        .all(|r| r.lease_proprietario.as_deref() == Some(format!("w{n}").as_str()))
                );
                prese.extend(blocco.into_iter().map(|r| r.id));
            }
        }));
    }
    let mut tutte = HashSet::new();
    for c in compiti {
        for id in c.await.unwrap() {
            assert!(tutte.insert(id), "riga {id} reclamata due volte");
        }
    }
    assert_eq!(tutte.len(), 300);
    assert_eq!(db.store.conteggio_righe(id).await.unwrap().in_corso, 300);
    altro.chiudi().await;
}

async fn lease_scaduto_reclamato(db: &Db) {
    let s = &db.store;
    preparata(s, 5).await;
    let prese = s
        .reclama_righe("morto", ORA, 60_000, 3, None)
        .await
        .unwrap();
    assert_eq!(prese.len(), 3);
    // The heartbeat keeps them; within the lease nobody else gets them.
    let ids: Vec<i64> = prese.iter().map(|r| r.id).collect();
    assert_eq!(
        s.rinnova_righe(&ids, "morto", ORA + 90_000).await.unwrap(),
        ids
    );
    assert_eq!(
        s.reclama_righe("vivo", ORA + 80_000, 60_000, 10, None)
            .await
            .unwrap()
            .len(),
        2
    );
    // After the renewed lease expires, the rows go to the live worker.
    let riprese = s
        .reclama_righe("vivo", ORA + 90_001, 60_000, 10, None)
        .await
        .unwrap();
    assert_eq!(riprese.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert!(
        s.rinnova_righe(&ids, "morto", ORA + 200_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.rilascia_righe(&ids, "morto").await.unwrap(), 0);
    assert_eq!(s.rilascia_righe(&ids[..1], "vivo").await.unwrap(), 1);
    let di_nuovo = s
        .reclama_righe("terzo", ORA + 90_002, 60_000, 10, None)
        .await
        .unwrap();
    assert_eq!(
        di_nuovo.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
}

/// A stopping worker gives back all it holds, and only that: rows and jobs of another owner
/// keep their leases.
async fn rilascio_all_arresto(db: &Db) {
    let s = &db.store;
    let id = preparata(s, 5).await;
    let mie = s
        .reclama_righe("uscente", ORA, 60_000, 3, None)
        .await
        .unwrap();
    let altre = s
        .reclama_righe("altro", ORA, 60_000, 10, None)
        .await
        .unwrap();
    assert_eq!((mie.len(), altre.len()), (3, 2));
    let job = store::jobs::NuovoJob {
        tipo: "assembla-file".into(),
        chiave: Some("arresto-1".into()),
        payload: serde_json::json!({"richiesta_id": id}),
        eseguire_dopo_ms: ORA,
    };
    s.accoda_job(&job).await.unwrap();
    let preso = s
        .reclama_job(&["assembla-file"], "uscente", ORA, 60_000)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(s.rilascia_lease_di("uscente").await.unwrap(), (3, 1));
    let righe = s.righe(id, 0, 10).await.unwrap();
    for r in &righe {
        if mie.iter().any(|m| m.id == r.id) {
            assert_eq!(r.stato, "DA_ELABORARE");
            assert_eq!(
                (r.lease_proprietario.as_deref(), r.lease_scadenza_ms),
                (None, None)
            );
        } else {
            assert_eq!(r.stato, "IN_CORSO");
            assert_eq!(r.lease_proprietario.as_deref(), Some("altro"));
        }
    }
    let j = s.job(preso.id).await.unwrap();
    assert_eq!((j.stato.as_str(), j.lease_proprietario), ("IN_CODA", None));
    // Released at once: claimable now, not when the lease would have expired.
    let riprese = s
        .reclama_righe("nuovo", ORA + 1, 60_000, 10, None)
        .await
        .unwrap();
    assert_eq!(riprese.len(), 3);
    assert_eq!(s.rilascia_lease_di("uscente").await.unwrap(), (0, 0));
}

/// Several workers, in two processes, meet the same exhausted quota at once: the request is
/// suspended once (one audit entry), and resumed once.
async fn sospesa_una_volta(db: &Db) {
    let b = base(&db.store).await;
    let id = richiesta(&db.store, b.convenzione_id, b.utente_id, &[riga(2, "A")]).await;
    let altro = db.altro_store().await;
    let motivo = "quota giornaliera esaurita per C030, ripresa alle 00:00";
    let mezzanotte = store::limiti_giorno_roma(ORA).1;
    let insieme = |fino: Option<i64>| {
        let mut compiti = Vec::new();
        for s in [
            db.store.clone(),
            altro.clone(),
            db.store.clone(),
            altro.clone(),
        ] {
            compiti.push(tokio::spawn(async move {
                s.sospendi_richiesta(id, fino, fino.map(|_| motivo), &store::Attore::sistema())
                    .await
                    .unwrap();
            }));
        }
        compiti
    };
    let conta = |azione: &'static str| {
        let s = db.store.clone();
        async move {
            s.voci_audit(0, 1_000)
                .await
                .unwrap()
                .iter()
                .filter(|v| v.azione == azione && v.oggetto == format!("richiesta:{id}"))
                .count()
        }
    };
    for c in insieme(Some(mezzanotte)) {
        c.await.unwrap();
    }
    assert_eq!(conta("RICHIESTA_SOSPESA").await, 1);
    let r = db.store.richiesta(id).await.unwrap();
    assert_eq!(r.sospesa_fino_a_ms, Some(mezzanotte));
    assert_eq!(r.motivo_sospensione.as_deref(), Some(motivo));
    // The next day's exhaustion is a new suspension.
    let domani = mezzanotte + 86_400_000;
    for c in insieme(Some(domani)) {
        c.await.unwrap();
    }
    assert_eq!(conta("RICHIESTA_SOSPESA").await, 2);
    for c in insieme(None) {
        c.await.unwrap();
    }
    assert_eq!(conta("RICHIESTA_RIPRESA").await, 1);
    let r = db.store.richiesta(id).await.unwrap();
    assert_eq!((r.sospesa_fino_a_ms, r.motivo_sospensione), (None, None));
    assert!(matches!(
        db.store
            .sospendi_richiesta(id + 1_000, None, None, &store::Attore::sistema())
            .await,
        Err(store::ErroreStore::NonTrovato { .. })
    ));
    altro.chiudi().await;
}

async fn contate_c030(db: &Db, comune_id: i64, giorno: &str) -> i64 {
    db.store
        .chiamate_contate(comune_id, "C030", giorno)
        .await
        .unwrap()
}

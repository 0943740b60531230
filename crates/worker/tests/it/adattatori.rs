//! The client's id archive and quota counter over the database.

use crate::banca::*;
use crate::su_entrambi;
use anpr::archivio::ArchivioIdOperazione as _;
use anpr::quota::ContatoreQuota as _;
use anpr::servizi::Servizio;
use std::sync::Arc;
use store::anagrafiche::NuovoComune;
use worker::adattatori::{ArchivioStore, BLOCCO_QUOTA_MOTORE, QuotaStore};

su_entrambi!(
    id_riusati_finche_la_riga_non_e_registrata,
    id_preassegnati_per_il_blocco,
    quota_mai_superata_in_concorrenza,
    quota_a_blocchi_del_motore
);

async fn id_riusati_finche_la_riga_non_e_registrata(db: &Db) {
    let s = &db.store;
    let orologio = OrologioTest::adesso();
    let motore = ArchivioStore::per_motore(s.clone(), orologio.clone());
    let a = motore.id_per("7:2:C030").unwrap();
    // The client says "answered": the engine's archive keeps the id until the row is stored.
    motore.completa("7:2:C030").unwrap();
    assert_eq!(motore.id_per("7:2:C030").unwrap(), a);
    let b = motore.id_per("7:3:C030").unwrap();
    assert!(b > a);
    // A low id that ANPR never answered gets a fresh one, which replaces it.
    let c = motore.nuovo_id("7:2:C030").unwrap();
    assert!(c > b);
    assert_eq!(motore.id_per("7:2:C030").unwrap(), c);
    // The plain archive forgets at once; another process's archive sees the same ids.
    let semplice = ArchivioStore::new(s.clone(), orologio.clone());
    assert_eq!(semplice.id_per("7:2:C030").unwrap(), c);
    semplice.completa("7:2:C030").unwrap();
    assert!(semplice.id_per("7:2:C030").unwrap() > c);
    // Ids come from the engine's clock: never below now × 1000.
    use anpr::security::Orologio as _;
    assert!(a.0 >= (orologio.adesso_ms() as u128) * 1000);
}

async fn quota_mai_superata_in_concorrenza(db: &Db) {
    let s = &db.store;
    let comune_id = roma(s).await;
    let orologio = OrologioTest::adesso();
    let q = Arc::new(QuotaStore::new(s.clone(), comune_id, orologio.clone()));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let q = q.clone();
        set.spawn(async move { q.prenota("H501", Servizio::C030, 0, 7).is_ok() });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += usize::from(r.unwrap());
    }
    assert_eq!(ok, 7);
    assert_eq!(q.usate("H501", Servizio::C030, 0), 7);
    let e = q.prenota("H501", Servizio::C030, 0, 7).unwrap_err();
    use anpr::security::Orologio as _;
    let (_, mezzanotte) = store::limiti_giorno_roma(orologio.adesso_ms());
    assert_eq!(e.fino_a.timestamp_millis(), mezzanotte);
    // Another service has its own counter; ANPR's LimitExceeded closes the day.
    assert!(q.prenota("H501", Servizio::C020, 0, 7).is_ok());
    q.esaurisci("H501", Servizio::C020, 0);
    assert!(q.prenota("H501", Servizio::C020, 0, 7).is_err());
    // The next Rome day starts from zero.
    orologio.imposta(mezzanotte);
    assert_eq!(q.prenota("H501", Servizio::C030, 0, 7).unwrap(), 1);
}

async fn id_preassegnati_per_il_blocco(db: &Db) {
    let s = &db.store;
    let orologio = OrologioTest::adesso();
    let motore = ArchivioStore::per_motore(s.clone(), orologio.clone());
    // A call made earlier (then a crash): its id is kept.
    let vecchio = motore.id_per("8:1:C030").unwrap();
    let chiavi: Vec<String> = ["8:1:C030", "8:1:C020", "8:2:C030", "8:2:C020"]
        .map(String::from)
        .to_vec();
    motore.prealloca(&chiavi).await.unwrap();
    let massimo = s.id_operazione_massimo().await.unwrap();
    assert_eq!(motore.id_per("8:1:C030").unwrap().0, vecchio.0);
    let c020 = motore.id_per("8:1:C020").unwrap();
    let c030 = motore.id_per("8:2:C030").unwrap();
    assert!(c020.0 > vecchio.0 && c030.0 > c020.0 && c030.0 <= massimo);
    // Handed out without drawing again: the mark did not move.
    assert_eq!(s.id_operazione_massimo().await.unwrap(), massimo);
    // The chunk ends: the one id never used and drawn here may be deleted.
    assert_eq!(motore.dimentica(&chiavi), vec!["8:2:C020".to_string()]);
    // Redone later, the used ones come back from the database.
    assert_eq!(motore.id_per("8:2:C030").unwrap(), c030);
    assert_eq!(motore.id_per("8:2:C020").unwrap().0, massimo);
}

async fn quota_a_blocchi_del_motore(db: &Db) {
    let s = &db.store;
    let comune_id = roma(s).await;
    let orologio = OrologioTest::adesso();
    let giorno = store::giorno_roma({
        use anpr::security::Orologio as _;
        orologio.adesso_ms()
    });
    // Two engines of two processes share a share of 500.
    let a = Arc::new(QuotaStore::per_motore(
        s.clone(),
        comune_id,
        orologio.clone(),
    ));
    let b = Arc::new(QuotaStore::per_motore(
        s.clone(),
        comune_id,
        orologio.clone(),
    ));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40 {
        let q = if i % 2 == 0 { a.clone() } else { b.clone() };
        set.spawn(async move {
            let mut ok = 0;
            while q.prenota("H501", Servizio::C030, 0, 500).is_ok() {
                ok += 1;
            }
            ok
        });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += r.unwrap();
    }
    assert_eq!(ok, 500, "la quota intera, non oltre");
    assert_eq!(contate(s, comune_id, "C030", &giorno).await, 500);
    // Fewer calls than a block: the database counts the block until the rest goes back.
    let c020 = QuotaStore::per_motore(s.clone(), comune_id, orologio.clone());
    for _ in 0..3 {
        c020.prenota("H501", Servizio::C020, 0, 1_000).unwrap();
    }
    assert_eq!(
        contate(s, comune_id, "C020", &giorno).await,
        BLOCCO_QUOTA_MOTORE
    );
    assert_eq!(c020.usate("H501", Servizio::C020, 0), 3);
    c020.restituisci().await;
    assert_eq!(contate(s, comune_id, "C020", &giorno).await, 3);
    c020.restituisci().await;
    assert_eq!(contate(s, comune_id, "C020", &giorno).await, 3);
    // A chunk reserves what it plans in one write, and what the chunks in flight planned is
    // kept: a second chunk tops the pool up to both.
    let c021 = QuotaStore::per_motore(s.clone(), comune_id, orologio.clone());
    let primo = [(Servizio::C021, 1_000, 10)];
    let secondo = [(Servizio::C021, 1_000, 8)];
    c021.prepara_blocco(&primo).await;
    assert_eq!(contate(s, comune_id, "C021", &giorno).await, 10);
    for _ in 0..4 {
        c021.prenota("H501", Servizio::C021, 0, 1_000).unwrap();
    }
    c021.prepara_blocco(&secondo).await;
    assert_eq!(
        contate(s, comune_id, "C021", &giorno).await,
        22,
        "6 liberi + 8 del secondo blocco, non meno"
    );
    // The first ends after 4 calls: 18 free, 8 still planned by the second, 10 go back.
    c021.fine_blocco(&primo).await;
    assert_eq!(contate(s, comune_id, "C021", &giorno).await, 12);
    for _ in 0..8 {
        c021.prenota("H501", Servizio::C021, 0, 1_000).unwrap();
    }
    assert_eq!(
        contate(s, comune_id, "C021", &giorno).await,
        12,
        "dalla scorta, senza scrivere"
    );
    c021.fine_blocco(&secondo).await;
    assert_eq!(contate(s, comune_id, "C021", &giorno).await, 12);
    // Near the end of the share a chunk gets a quarter of what is left; its calls then take
    // the rest a block at a time, and no more.
    let c001 = QuotaStore::per_motore(s.clone(), comune_id, orologio.clone());
    let grande = [(Servizio::C001, 20, 640)];
    c001.prepara_blocco(&grande).await;
    assert_eq!(contate(s, comune_id, "C001", &giorno).await, 5);
    let mut fatte = 0;
    while c001.prenota("H501", Servizio::C001, 0, 20).is_ok() {
        fatte += 1;
    }
    assert_eq!(fatte, 20);
    c001.fine_blocco(&grande).await;
    assert_eq!(contate(s, comune_id, "C001", &giorno).await, 20);
}

async fn roma(s: &store::Store) -> i64 {
    s.crea_comune(
        &NuovoComune {
            codice_istat: "058091".into(),
            belfiore: "H501".into(),
            nome: "Roma".into(),
            sigla: "RM".into(),
        },
        &top(),
    )
    .await
    .unwrap()
}

/// The day's counter of a service, as the database holds it.
async fn contate(s: &store::Store, comune_id: i64, servizio: &str, giorno: &str) -> i64 {
    s.chiamate_contate(comune_id, servizio, giorno)
        .await
        .unwrap()
}

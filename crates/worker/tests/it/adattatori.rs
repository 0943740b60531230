//! The client's id archive and quota counter over the database.

use crate::banca::*;
use crate::su_entrambi;
use anpr::archivio::ArchivioIdOperazione as _;
use anpr::quota::ContatoreQuota as _;
use anpr::servizi::Servizio;
use std::sync::Arc;
use store::anagrafiche::NuovoComune;
use worker::adattatori::{ArchivioStore, QuotaStore};

su_entrambi!(
    id_riusati_finche_la_riga_non_e_registrata,
    quota_mai_superata_in_concorrenza
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
    let comune_id = s
        .crea_comune(
            &NuovoComune {
                codice_istat: "058091".into(),
                belfiore: "H501".into(),
                nome: "Roma".into(),
                sigla: "RM".into(),
            },
            &top(),
        )
        .await
        .unwrap();
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

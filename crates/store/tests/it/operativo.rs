//! The figures of readiness and metrics, on both engines.

use crate::supporto::{Db, base, tenant_roma, top};
use store::jobs::NuovoJob;
use store::operativo::NonPronto;

crate::contratto!(pronto_e_cifre_operative);

async fn pronto_e_cifre_operative(db: &Db) {
    let s = &db.store;
    assert!(s.pronto().await.is_ok());
    let milano = base(s).await;
    let roma = tenant_roma(s, &top(), false).await;

    // Quota counters of two Comuni on two days: only the day asked for, only the Comune asked.
    let giorno_ms = 1_772_445_600_000; // 2026-03-02 11:00 in Rome
    for _ in 0..3 {
        assert!(
            s.riserva_chiamata(milano.comune_id, "C030", giorno_ms, 10)
                .await
                .unwrap()
        );
    }
    assert!(
        s.riserva_chiamata(roma.comune_id, "C020", giorno_ms, 10)
            .await
            .unwrap()
    );
    assert!(
        s.riserva_chiamata(roma.comune_id, "C020", giorno_ms + 86_400_000, 10)
            .await
            .unwrap()
    );
    let tutti = s.chiamate_del_giorno("2026-03-02", None).await.unwrap();
    let mut attesi = vec![
        (milano.comune_id, "C030".to_string(), 3),
        (roma.comune_id, "C020".to_string(), 1),
    ];
    attesi.sort();
    assert_eq!(tutti, attesi);
    assert_eq!(
        s.chiamate_del_giorno("2026-03-02", Some(roma.comune_id))
            .await
            .unwrap(),
        [(roma.comune_id, "C020".to_string(), 1)]
    );

    // Jobs: due and queued count; not yet due do not.
    for (chiave, quando) in [("a", 1_000), ("b", 2_000), ("c", 9_000)] {
        let job = NuovoJob {
            tipo: "purga".into(),
            chiave: Some(chiave.into()),
            payload: serde_json::json!({}),
            eseguire_dopo_ms: quando,
        };
        s.accoda_job(&job).await.unwrap();
    }
    assert_eq!(s.job_scaduti(5_000).await.unwrap(), 2);
    s.reclama_job(&["purga"], "p1", 5_000, 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.job_scaduti(5_000).await.unwrap(),
        1,
        "one taken under a live lease"
    );
    assert_eq!(s.job_scaduti(70_000).await.unwrap(), 3, "its lease expired");

    // No request yet: no rows waiting, no state counted.
    assert_eq!(s.righe_in_attesa(5_000).await.unwrap(), 0);
    assert!(s.richieste_per_stato().await.unwrap().is_empty());

    // Neither base convention has an end date.
    assert!(s.fini_convenzioni(0, None).await.unwrap().is_empty());
    db.sql_proprietario(&format!(
        "UPDATE convenzioni SET valida_al_ms = 50000 WHERE id = {}",
        roma.convenzione_id
    ))
    .await;
    let fini = s.fini_convenzioni(40_000, None).await.unwrap();
    assert_eq!(fini.len(), 1);
    assert_eq!(
        (fini[0].comune_id, fini[0].valida_al_ms),
        (roma.comune_id, 50_000)
    );
    assert!(s.fini_convenzioni(50_001, None).await.unwrap().is_empty());
    assert!(
        s.fini_convenzioni(0, Some(milano.comune_id))
            .await
            .unwrap()
            .is_empty()
    );

    // The last migration undone: not ready, and it says why.
    db.sql_proprietario(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
    assert!(matches!(s.pronto().await, Err(NonPronto::Migrazioni)));
}

use crate::supporto::Db;
use store::jobs::NuovoJob;

crate::contratto!(job_con_chiave_e_lease);

fn timer(chiave: &str, quando: i64) -> NuovoJob {
    NuovoJob {
        tipo: "silenzio_assenso".into(),
        chiave: Some(chiave.into()),
        payload: serde_json::json!({"richiesta": 7}),
        eseguire_dopo_ms: quando,
    }
}

async fn job_con_chiave_e_lease(db: &Db) {
    let s = &db.store;
    let altro = db.altro_store().await;
    // Two processes schedule the same timer: it exists once.
    let t = timer("silenzio:7", 1_000);
    let (a, b) = tokio::join!(s.accoda_job(&t), altro.accoda_job(&t));
    let ids: Vec<i64> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(ids.len(), 1);
    let id = ids[0];
    assert!(
        s.reclama_job(&["silenzio_assenso"], "p1", 999, 10_000)
            .await
            .unwrap()
            .is_none(),
        "not due yet"
    );
    assert!(
        s.reclama_job(&["purga"], "p1", 5_000, 10_000)
            .await
            .unwrap()
            .is_none(),
        "another type"
    );
    // Two processes race for the due job: one gets it.
    let (x, y) = tokio::join!(
        s.reclama_job(&["silenzio_assenso", "purga"], "p1", 1_000, 10_000),
        altro.reclama_job(&["silenzio_assenso"], "p2", 1_000, 10_000)
    );
    let presi: Vec<_> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(presi.len(), 1);
    let j = &presi[0];
    assert_eq!((j.id, j.tentativi, j.stato.as_str()), (id, 1, "IN_CORSO"));
    assert_eq!(j.payload["richiesta"], 7);
    let titolare = j.lease_proprietario.clone().unwrap();
    assert!(s.rinnova_job(id, &titolare, 20_000).await.unwrap());
    assert!(
        s.reclama_job(&["silenzio_assenso"], "p3", 15_000, 10_000)
            .await
            .unwrap()
            .is_none()
    );
    // Its holder died: after the lease, another process takes it over, and the old holder
    // can no longer end it.
    let ripreso = s
        .reclama_job(&["silenzio_assenso"], "p3", 20_001, 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ripreso.id, ripreso.tentativi), (id, 2));
    assert!(!s.concludi_job(id, &titolare, None, None).await.unwrap());
    assert!(s.concludi_job(id, "p3", None, None).await.unwrap());
    assert_eq!(s.job(id).await.unwrap().stato, "FATTO");
    assert!(
        s.reclama_job(&["silenzio_assenso"], "p4", 99_000, 10_000)
            .await
            .unwrap()
            .is_none()
    );
    // A job without a key may be queued many times; a failed one can be retried later.
    let senza = NuovoJob {
        chiave: None,
        ..timer("", 0)
    };
    assert!(s.accoda_job(&senza).await.unwrap().is_some());
    assert!(s.accoda_job(&senza).await.unwrap().is_some());
    let j = s
        .reclama_job(&["silenzio_assenso"], "p5", 100, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.concludi_job(j.id, "p5", Some("ANPR non raggiungibile"), Some(5_000))
            .await
            .unwrap()
    );
    let j2 = s.job(j.id).await.unwrap();
    assert_eq!(
        (j2.stato.as_str(), j2.eseguire_dopo_ms, j2.errore.as_deref()),
        ("IN_CODA", 5_000, Some("ANPR non raggiungibile"))
    );
    altro.chiudi().await;
}

use crate::supporto::{Db, url_con_database};
use store::audit_checkpoint::{
    Anomalia, Checkpoint, CheckpointEsterno, ErroreAudit, Origine, StatoCheckpoint, TipoCheckpoint,
};
use store::{Attore, Audit, ChiaveMaestra, EsitoVerifica, Store};

crate::contratto!(
    catena_valida_e_manomissione_rilevata,
    appendi_concorrenti,
    ruolo_runtime_non_altera_audit,
    manomissioni_nominate,
    troncamento_fino_al_checkpoint,
    checkpoint_con_firma_chiave_o_hash_sbagliati,
    checkpoint_periodico_una_volta_per_intervallo,
    purga_entro_conservazione_rifiutata,
    purga_lascia_una_catena_verificabile,
);

fn voce(n: usize) -> Audit {
    Audit::nuovo(&Attore::sistema(), format!("prova:{n}"), "PROVA")
        .con_dettagli(serde_json::json!({"n": n, "testo": "àèì \"virgolette\""}))
}

fn chiave() -> ChiaveMaestra {
    ChiaveMaestra::da_byte(&[7u8; 32]).unwrap()
}

/// 2026-03-02 11:00 in Rome (10:00Z): the fake "today" of the purge tests.
const OGGI_MS: i64 = 1_772_445_600_000;
/// 2023-01-01 00:00 in Rome is 2022-12-31T23:00Z.
const CAPODANNO_2023_MS: i64 = 1_672_527_600_000;
const GIORNO_MS: i64 = 86_400_000;

async fn appendi(s: &Store, quante: std::ops::RangeInclusive<usize>) {
    for n in quante {
        s.appendi_audit(&voce(n)).await.unwrap();
    }
}

async fn anomalie(s: &Store, esterni: &[CheckpointEsterno]) -> Vec<Anomalia> {
    s.verifica_audit(esterni).await.unwrap().anomalie
}

fn esterno(cp: &Checkpoint) -> CheckpointEsterno {
    CheckpointEsterno {
        nome: "cp.json".into(),
        checkpoint: cp.clone(),
    }
}

async fn catena_valida_e_manomissione_rilevata(db: &Db) {
    let s = &db.store;
    assert_eq!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida {
            voci: 0,
            ultimo_hash: store::audit::HASH_INIZIALE.into()
        }
    );
    for n in 1..=5 {
        assert_eq!(s.appendi_audit(&voce(n)).await.unwrap(), n as i64);
    }
    let voci = s.voci_audit(0, 10).await.unwrap();
    assert_eq!(voci[0].hash_precedente, store::audit::HASH_INIZIALE);
    assert_eq!(voci[1].hash_precedente, voci[0].hash);
    assert_eq!(voci[2].dettagli, r#"{"n":3,"testo":"àèì \"virgolette\""}"#);
    match s.verifica_catena().await.unwrap() {
        EsitoVerifica::Valida {
            voci: 5,
            ultimo_hash,
        } => assert_eq!(ultimo_hash, voci[4].hash),
        altro => panic!("{altro:?}"),
    }
    // Editing any stored column of entry 3 breaks the chain there.
    db.sql_proprietario("UPDATE audit_entries SET dettagli = '{\"n\":33}' WHERE id = 3")
        .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Rotta { id: 3, .. }
    ));
    db.sql_proprietario(&format!(
        "UPDATE audit_entries SET dettagli = '{}' WHERE id = 3",
        voci[2].dettagli.replace('\'', "''")
    ))
    .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { voci: 5, .. }
    ));
    db.sql_proprietario("UPDATE audit_entries SET comune = '015146' WHERE id = 4")
        .await;
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Rotta { id: 4, .. }
    ));
    // A deleted entry is a gap, named by its first missing id.
    db.sql_proprietario("UPDATE audit_entries SET comune = NULL WHERE id = 4")
        .await;
    db.sql_proprietario("DELETE FROM audit_entries WHERE id = 2")
        .await;
    match s.verifica_catena().await.unwrap() {
        EsitoVerifica::Rotta { id: 2, motivo } => {
            assert_eq!(motivo, "voci mancanti da 2 a 2 (1 voce cancellata)")
        }
        altro => panic!("{altro:?}"),
    }
}

async fn appendi_concorrenti(db: &Db) {
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for (p, s) in [
        db.store.clone(),
        altro.clone(),
        db.store.clone(),
        altro.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        compiti.push(tokio::spawn(async move {
            for n in 0..15 {
                s.appendi_audit(&voce(p * 100 + n)).await.unwrap();
            }
        }));
    }
    for c in compiti {
        c.await.unwrap();
    }
    assert!(matches!(
        db.store.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { voci: 60, .. }
    ));
    altro.chiudi().await;
}

fn url_runtime(db: &Db) -> String {
    let mut u = url::Url::parse(&db.url).unwrap();
    u.set_username(store::RUOLO_RUNTIME_PREDEFINITO).unwrap();
    u.set_password(None).unwrap();
    url_con_database(u.as_str(), u.path().trim_start_matches('/'))
}

/// PostgreSQL only (DESIGN §6): the runtime role may read and append the chain and its
/// checkpoints, never rewrite them, and cannot purge.
async fn ruolo_runtime_non_altera_audit(db: &Db) {
    use sqlx::{Connection as _, Executor as _};
    if !db.is_postgres() {
        return;
    }
    db.store.appendi_audit(&voce(1)).await.unwrap();
    let url_runtime = url_runtime(db);
    let runtime = store::Store::connetti(&url_runtime).await.unwrap();
    // What serve and worker do works as the runtime role, audit append included.
    runtime.appendi_audit(&voce(2)).await.unwrap();
    let b = crate::supporto::base(&runtime).await;
    assert!(
        runtime
            .riserva_chiamata(b.comune_id, "C030", 1_000, 5)
            .await
            .unwrap()
    );
    runtime.id_operazione_per("k", 1_000).await.unwrap();
    let k = store::ChiaveMaestra::da_byte(&[3u8; 32]).unwrap();
    runtime.chiave_hmac_identificativi(&k).await.unwrap();
    // The worker's periodic checkpoint is an INSERT: allowed.
    let cp = runtime.checkpoint_periodico(&k, 0).await.unwrap().unwrap();
    assert_eq!(cp.fino_a_id, 6);
    let mut c = sqlx::PgConnection::connect(&url_runtime).await.unwrap();
    for sql in [
        "UPDATE audit_entries SET azione = 'X' WHERE id = 1",
        "DELETE FROM audit_entries WHERE id = 1",
        "TRUNCATE audit_entries",
        "UPDATE audit_checkpoints SET hash = 'x'",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints",
    ] {
        let errore = c.execute(sql).await.expect_err(sql);
        let codice = errore
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(codice.as_deref(), Some("42501"), "{sql}: {errore}");
    }
    // The purge needs the owner, and says so before touching anything.
    let data = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    match runtime
        .purga_audit(data, 24, &k, &Attore::sistema())
        .await
        .unwrap_err()
    {
        ErroreAudit::RuoloNonProprietario { ruolo } => {
            assert_eq!(ruolo, store::RUOLO_RUNTIME_PREDEFINITO)
        }
        altro => panic!("{altro}"),
    }
    let r = db.store.verifica_audit(&[]).await.unwrap();
    assert!(r.integra(), "{:?}", r.anomalie);
    assert_eq!((r.voci, r.checkpoint_confermati), (6, 1));
    runtime.chiudi().await;
}

/// Each tampering, done directly in the database as the owner, is caught and named; the
/// expected faults are derived by hand from the chain's encoding.
async fn manomissioni_nominate(db: &Db) {
    let s = &db.store;
    appendi(s, 1..=12).await;
    let cp = s.checkpoint_audit(&chiave()).await.unwrap();
    assert_eq!((cp.fino_a_id, cp.tipo), (12, TipoCheckpoint::SuRichiesta));
    let pulita = s.verifica_audit(&[esterno(&cp)]).await.unwrap();
    assert!(pulita.integra(), "{:?}", pulita.anomalie);
    assert_eq!(
        (pulita.voci, pulita.primo_id, pulita.ultimo_id),
        (12, Some(1), Some(12))
    );
    // The file's checkpoint and the stored copy of it.
    assert_eq!(pulita.checkpoint_confermati, 2);
    assert_eq!(pulita.esterni[0].stato, StatoCheckpoint::Confermato);
    assert_eq!(
        pulita.chiave_pubblica.as_deref(),
        Some(&*cp.chiave_pubblica)
    );

    let voce_6 = s.voci_audit(5, 1).await.unwrap()[0].dettagli.clone();
    // An edited field.
    db.sql_proprietario("UPDATE audit_entries SET azione = 'ALTRO' WHERE id = 5")
        .await;
    assert_eq!(anomalie(s, &[]).await, [Anomalia::VoceAlterata { id: 5 }]);
    db.sql_proprietario("UPDATE audit_entries SET azione = 'PROVA' WHERE id = 5")
        .await;
    assert!(anomalie(s, &[]).await.is_empty());

    // SQLite lets a BLOB into a TEXT column: the entry is named, not a database error.
    if !db.is_postgres() {
        db.sql_proprietario("UPDATE audit_entries SET dettagli = X'ff00' WHERE id = 6")
            .await;
        assert_eq!(anomalie(s, &[]).await, [Anomalia::VoceAlterata { id: 6 }]);
        db.sql_proprietario(&format!(
            "UPDATE audit_entries SET dettagli = '{}' WHERE id = 6",
            voce_6.replace('\'', "''")
        ))
        .await;
        assert!(anomalie(s, &[]).await.is_empty());
    }

    // A deleted entry: the next one's link is not reported again.
    db.sql_proprietario("DELETE FROM audit_entries WHERE id = 7")
        .await;
    assert_eq!(
        anomalie(s, &[]).await,
        [Anomalia::VociMancanti { da: 7, a: 7 }]
    );
    assert_eq!(
        anomalie(s, &[]).await[0].to_string(),
        "voci mancanti da 7 a 7 (1 voce cancellata)"
    );

    // Two entries swapped: row 3 holds entry 4 (whose hash covers id 4 and links to entry 3)
    // and row 4 holds entry 3; row 5 links to entry 4, which is no longer row 4.
    db.sql_proprietario("UPDATE audit_entries SET id = -3 WHERE id = 3")
        .await;
    db.sql_proprietario("UPDATE audit_entries SET id = 3 WHERE id = 4")
        .await;
    db.sql_proprietario("UPDATE audit_entries SET id = 4 WHERE id = -3")
        .await;
    assert_eq!(
        anomalie(s, &[]).await,
        [
            Anomalia::CollegamentoRotto { id: 3 },
            Anomalia::VoceAlterata { id: 3 },
            Anomalia::CollegamentoRotto { id: 4 },
            Anomalia::VoceAlterata { id: 4 },
            Anomalia::CollegamentoRotto { id: 5 },
            Anomalia::VociMancanti { da: 7, a: 7 },
        ]
    );
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Rotta { id: 3, .. }
    ));
    // Deleting the first entries is a missing range from 1 (here it joins the gap at 7).
    db.sql_proprietario("DELETE FROM audit_entries WHERE id <= 6")
        .await;
    assert_eq!(
        anomalie(s, &[]).await,
        [Anomalia::VociMancanti { da: 1, a: 7 }]
    );
}

/// A tail cut is caught up to the latest checkpoint known, from the database or from a file;
/// without any, a cut tail is indistinguishable from a shorter chain.
async fn troncamento_fino_al_checkpoint(db: &Db) {
    let s = &db.store;
    appendi(s, 1..=10).await;
    let primo = s.checkpoint_audit(&chiave()).await.unwrap();
    appendi(s, 11..=15).await;
    let file = s.checkpoint_audit(&chiave()).await.unwrap();
    assert_eq!((primo.fino_a_id, file.fino_a_id), (10, 15));
    let salvati = s.checkpoint_audit_salvati().await.unwrap();
    assert_eq!(salvati.len(), 2);
    let id_secondo = salvati[1].0;

    db.sql_proprietario("DELETE FROM audit_entries WHERE id >= 9")
        .await;
    assert_eq!(
        anomalie(s, &[]).await,
        [
            // The first checkpoint's entry is gone too: it is in the missing range.
            Anomalia::CodaTroncata {
                da: 9,
                a: 15,
                origine: Origine::Database { id: id_secondo },
            },
        ]
    );
    // The owner also removes the stored checkpoints: the file still tells.
    db.sql_proprietario("DELETE FROM audit_checkpoints").await;
    assert!(anomalie(s, &[]).await.is_empty());
    let r = s.verifica_audit(&[esterno(&file)]).await.unwrap();
    assert_eq!(
        r.anomalie,
        [Anomalia::CodaTroncata {
            da: 9,
            a: 15,
            origine: Origine::Esterno {
                nome: "cp.json".into()
            },
        }]
    );
    assert_eq!(
        r.anomalie[0].to_string(),
        "coda della catena troncata: voci mancanti da 9 a 15 (7 voci cancellate; il \
         checkpoint del file cp.json certifica la catena fino alla voce 15)"
    );
    assert_eq!(r.esterni[0].stato, StatoCheckpoint::NonConfermato);
    // The chain rebuilt with recomputed hashes (new entries 9..15) still fails the file.
    appendi(s, 109..=115).await;
    assert_eq!(
        anomalie(s, &[esterno(&file)]).await,
        [Anomalia::HashDiverso {
            origine: Origine::Esterno {
                nome: "cp.json".into()
            },
            fino_a_id: 15,
        }]
    );
}

fn firma_con(pkcs8: &[u8], mut cp: Checkpoint) -> Checkpoint {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    let coppia = Ed25519KeyPair::from_pkcs8(pkcs8).unwrap();
    cp.chiave_pubblica = hex::encode(coppia.public_key().as_ref());
    cp.firma = hex::encode(coppia.sign(&cp.messaggio()).as_ref());
    cp
}

async fn checkpoint_con_firma_chiave_o_hash_sbagliati(db: &Db) {
    let s = &db.store;
    appendi(s, 1..=4).await;
    let cp = s.checkpoint_audit(&chiave()).await.unwrap();
    let id_db = s.checkpoint_audit_salvati().await.unwrap()[0].0;
    let file = Origine::Esterno {
        nome: "cp.json".into(),
    };
    // A file whose signature does not match its content (another entry claimed).
    let mut alterato = cp.clone();
    alterato.fino_a_id = 3;
    assert_eq!(
        anomalie(s, &[esterno(&alterato)]).await,
        [Anomalia::FirmaNonValida {
            origine: file.clone(),
            fino_a_id: 3
        }]
    );
    // A file signed by another key: the file is the reference, so the stored checkpoint is
    // the one out of place.
    let altra =
        aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .unwrap();
    let estraneo = firma_con(altra.as_ref(), cp.clone());
    assert!(estraneo.firma_valida());
    assert_eq!(
        anomalie(s, &[esterno(&estraneo)]).await,
        [Anomalia::ChiaveDiversa {
            origine: Origine::Database { id: id_db },
            fino_a_id: 4
        }]
    );
    // Signed by the installation's own key, but with another hash than entry 4's.
    let pkcs8 = s.chiave_checkpoint_audit(&chiave()).await.unwrap();
    let mut falso = cp.clone();
    falso.hash = "ab".repeat(32);
    let falso = firma_con(pkcs8.esponi(), falso);
    assert_eq!(falso.chiave_pubblica, cp.chiave_pubblica);
    assert_eq!(
        anomalie(s, &[esterno(&falso)]).await,
        [Anomalia::HashDiverso {
            origine: file.clone(),
            fino_a_id: 4
        }]
    );
    // A stored checkpoint whose signature was edited.
    db.sql_proprietario(&format!(
        "UPDATE audit_checkpoints SET istante_ms = istante_ms + 1 WHERE id = {id_db}"
    ))
    .await;
    assert_eq!(
        anomalie(s, &[]).await,
        [Anomalia::FirmaNonValida {
            origine: Origine::Database { id: id_db },
            fino_a_id: 4
        }]
    );
    // The file form reads back as it was written.
    let testo = cp.in_json().unwrap();
    assert_eq!(Checkpoint::da_json(&testo).unwrap(), cp);
    assert!(testo.contains("\"tipo\": \"SU_RICHIESTA\""), "{testo}");
    assert!(matches!(
        Checkpoint::da_json("{\"formato\": 1}"),
        Err(ErroreAudit::CheckpointIlleggibile(_))
    ));
}

async fn checkpoint_periodico_una_volta_per_intervallo(db: &Db) {
    let s = &db.store;
    let k = chiave();
    // Nothing to certify yet.
    assert!(s.checkpoint_periodico(&k, 0).await.unwrap().is_none());
    assert!(matches!(
        s.checkpoint_audit(&k).await,
        Err(ErroreAudit::CatenaVuota)
    ));
    appendi(s, 1..=3).await;
    let cp = s
        .checkpoint_periodico(&k, 3_600_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cp.fino_a_id, cp.tipo), (3, TipoCheckpoint::Periodico));
    assert!(cp.firma_valida());
    // No growth, or not an hour yet: nothing.
    assert!(s.checkpoint_periodico(&k, 0).await.unwrap().is_none());
    appendi(s, 4..=4).await;
    assert!(
        s.checkpoint_periodico(&k, 3_600_000)
            .await
            .unwrap()
            .is_none()
    );
    // Many workers at once, interval elapsed: one checkpoint.
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for s in [s.clone(), altro.clone(), s.clone(), altro.clone()] {
        compiti.push(tokio::spawn(async move {
            s.checkpoint_periodico(&chiave(), 0).await.unwrap()
        }));
    }
    let mut presi = 0;
    for c in compiti {
        if let Some(cp) = c.await.unwrap() {
            assert_eq!(cp.fino_a_id, 4);
            presi += 1;
        }
    }
    assert_eq!(presi, 1);
    assert_eq!(s.checkpoint_audit_salvati().await.unwrap().len(), 2);
    // An entry edited after the last checkpoint: the worker refuses to sign over it.
    appendi(s, 5..=6).await;
    db.sql_proprietario("UPDATE audit_entries SET oggetto = 'x' WHERE id = 5")
        .await;
    match s.checkpoint_periodico(&k, 0).await {
        Err(ErroreAudit::CatenaAlterata(motivo)) => assert!(motivo.contains("voce 5"), "{motivo}"),
        altro => panic!("{altro:?}"),
    }
    altro.chiudi().await;
}

async fn purga_entro_conservazione_rifiutata(db: &Db) {
    let s = db.store.clone().con_orologio(|| OGGI_MS);
    s.popola_audit_sintetico(5, CAPODANNO_2023_MS, GIORNO_MS)
        .await
        .unwrap();
    // Today 02/03/2026, 24 months: the latest date allowed is 02/03/2024.
    let dopo = chrono::NaiveDate::from_ymd_opt(2024, 3, 3).unwrap();
    let e = s
        .purga_audit(dopo, 24, &chiave(), &Attore::sistema())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "la data 03/03/2024 è entro il periodo di conservazione di 24 mesi: la più recente \
         ammessa è il 02/03/2024"
    );
    let e = s
        .purga_audit(
            chrono::NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            12,
            &chiave(),
            &Attore::sistema(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ErroreAudit::EntroConservazione { mesi: 12, .. }),
        "{e}"
    );
    // Nothing was written.
    let r = s.verifica_audit(&[]).await.unwrap();
    assert_eq!((r.voci, r.checkpoint_database), (5, 0));
    // The limit itself is allowed: the five entries, all of January 2023, go.
    let limite = chrono::NaiveDate::from_ymd_opt(2024, 3, 2).unwrap();
    let esito = s
        .purga_audit(limite, 24, &chiave(), &Attore::sistema())
        .await
        .unwrap();
    assert_eq!(esito.voci_rimosse, 5);
    let r = s.verifica_audit(&[]).await.unwrap();
    assert!(r.integra(), "{:?}", r.anomalie);
    assert_eq!((r.taglio, r.voci, r.primo_id), (Some(5), 1, Some(6)));
}

async fn purga_lascia_una_catena_verificabile(db: &Db) {
    let s = db.store.clone().con_orologio(|| OGGI_MS);
    // Entries 1..=50, one a day from 01/01/2023 (Rome), then three of today.
    s.popola_audit_sintetico(50, CAPODANNO_2023_MS, GIORNO_MS)
        .await
        .unwrap();
    assert!(s.verifica_audit(&[]).await.unwrap().integra());
    appendi(&s, 51..=53).await;
    let file = s.checkpoint_audit(&chiave()).await.unwrap();
    let operatore = Attore {
        nome: "admin-cli".into(),
        ruolo: None,
        comune: None,
        ente: None,
    };
    // Before 21/01/2023: entries 1..=20 (01/01 to 20/01) go, 21 (21/01 00:00) stays.
    let prima_di = chrono::NaiveDate::from_ymd_opt(2023, 1, 21).unwrap();
    let esito = s
        .purga_audit(prima_di, 24, &chiave(), &operatore)
        .await
        .unwrap();
    assert_eq!(esito.voci_rimosse, 20);
    assert_eq!(esito.intervallo, Some((1, 20)));
    assert_eq!(esito.voce_audit, Some(54));
    let taglio = esito.checkpoint.clone().unwrap();
    assert_eq!(
        (taglio.fino_a_id, taglio.tipo),
        (20, TipoCheckpoint::Taglio)
    );
    let voci = s.voci_audit(0, 100).await.unwrap();
    // Entries 21..=53 and exactly one new: the purge's own.
    assert_eq!(voci.len(), 34);
    assert_eq!((voci[0].id, voci[33].id), (21, 54));
    assert_eq!(voci[0].hash_precedente, taglio.hash);
    let ultima = &voci[33];
    assert_eq!(
        (&*ultima.attore, &*ultima.azione, &*ultima.oggetto),
        ("admin-cli", "AUDIT_PURGATO", "audit")
    );
    let dettagli: serde_json::Value = serde_json::from_str(&ultima.dettagli).unwrap();
    assert_eq!(dettagli["voci_rimosse"], 20);
    assert_eq!(dettagli["prima_di"], "2023-01-21");
    assert_eq!(dettagli["a_id"], 20);
    let r = s.verifica_audit(&[esterno(&file)]).await.unwrap();
    assert!(r.integra(), "{:?}", r.anomalie);
    assert_eq!((r.taglio, r.voci, r.primo_id), (Some(20), 34, Some(21)));
    assert_eq!(r.esterni[0].stato, StatoCheckpoint::Confermato);
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { voci: 34, .. }
    ));

    // A second purge moves the cut; the first cut's checkpoint precedes it.
    let prima_di = chrono::NaiveDate::from_ymd_opt(2023, 2, 1).unwrap();
    let esito = s
        .purga_audit(prima_di, 24, &chiave(), &operatore)
        .await
        .unwrap();
    assert_eq!(esito.intervallo, Some((21, 31)));
    let r = s.verifica_audit(&[esterno(&taglio)]).await.unwrap();
    assert!(r.integra(), "{:?}", r.anomalie);
    assert_eq!(r.taglio, Some(31));
    assert_eq!(r.esterni[0].stato, StatoCheckpoint::AnterioreAlTaglio);

    // Entries put back under the cut are named; so is the cut's first entry removed.
    db.sql_proprietario(
        "INSERT INTO audit_entries (id, istante_ms, attore, oggetto, azione, dettagli, \
         hash_precedente, hash) VALUES (3, 0, 'x', 'x', 'x', '{}', 'x', 'x')",
    )
    .await;
    db.sql_proprietario("DELETE FROM audit_entries WHERE id = 32")
        .await;
    assert_eq!(
        anomalie(&s, &[]).await,
        [
            Anomalia::VociPrimaDelTaglio {
                da: 3,
                a: 3,
                taglio: 31
            },
            Anomalia::VociMancanti { da: 32, a: 32 },
        ]
    );
    // A purge over a broken chain is refused: it would erase the evidence.
    let e = s
        .purga_audit(prima_di, 24, &chiave(), &operatore)
        .await
        .unwrap_err();
    assert!(matches!(e, ErroreAudit::CatenaAlterata(_)), "{e}");
}

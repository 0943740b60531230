use crate::supporto::{Db, base, top};
use domain::esito::Esito;
use domain::tipo::TipoIdentificativo;
use store::richieste::{
    EsitoRiga, NuovaRichiesta, NuovaRiga, NuovoFileRisposta, stato, stato_riga,
};
use store::{Attore, ChiaveMaestra, ErroreStore, EsitoVerifica, Store};

crate::contratto!(
    ciclo_di_vita_e_righe,
    annullata_fallita_e_ripresa,
    duplicati_e_file
);

pub fn riga(numero: i64, identificativo: &str) -> NuovaRiga {
    NuovaRiga {
        numero,
        tipo: TipoIdentificativo::Cf,
        identificativo: identificativo.into(),
        riferimento: Some(format!("rif-{numero}")),
        rilascio: None,
        motivo: None,
        duplicato_di: None,
        esito: None,
        messaggio: None,
    }
}

pub async fn richiesta(s: &Store, convenzione_id: i64, utente_id: i64, righe: &[NuovaRiga]) -> i64 {
    let r = NuovaRichiesta {
        convenzione_id,
        utente_id,
        motivo: "PROT-2026-123".into(),
        data_riferimento: "2026-11-26".into(),
        snapshot: serde_json::json!({"userID": "MR01", "LoA": "LoA1", "userLocation": "PL-MI-01"}),
    };
    s.crea_richiesta(&r, righe, &top()).await.unwrap()
}

async fn ciclo_di_vita_e_righe(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let mut non_valida = riga(3, "XXX");
    non_valida.esito = Some(Esito::NonValido);
    non_valida.messaggio = Some("carattere di controllo errato".into());
    let id = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[
            riga(1, "RSSMRA80A01F205X"),
            riga(2, "VRDLGI75B02F205Y"),
            non_valida,
        ],
    )
    .await;
    let r = s.richiesta(id).await.unwrap();
    assert_eq!(r.stato, stato::BOZZA);
    assert_eq!(r.snapshot["LoA"], "LoA1");
    assert_eq!(r.inviata_ms, None);
    let c = s.conteggio_righe(id).await.unwrap();
    assert_eq!((c.totali, c.da_elaborare, c.finali), (3, 2, 1));
    let righe = s.righe(id, 0, 10).await.unwrap();
    assert_eq!(
        righe.iter().map(|r| r.numero).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(righe[2].esito, Some(Esito::NonValido));
    assert_eq!(righe[0].riferimento.as_deref(), Some("rif-1"));
    assert_eq!(s.righe(id, 1, 1).await.unwrap()[0].numero, 2);
    transizioni_e_audit(db, id, b.convenzione_id).await;
}

async fn transizioni_e_audit(db: &Db, id: i64, convenzione_id: i64) {
    let s = &db.store;
    // A change from a state the request is not in is refused and changes nothing.
    let errore = s
        .cambia_stato_richiesta(
            id,
            &[stato::IN_ATTESA_CONVALIDA],
            stato::CONVALIDATA,
            None,
            &top(),
        )
        .await;
    assert!(
        matches!(errore, Err(ErroreStore::StatoNonAmmesso { .. })),
        "{errore:?}"
    );
    s.cambia_stato_richiesta(
        id,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();
    let inviata = s.richiesta(id).await.unwrap();
    assert!(inviata.inviata_ms.is_some());
    let (inizio, fine) = store::limiti_giorno_roma(inviata.inviata_ms.unwrap());
    assert_eq!(
        s.soggetti_inviati(convenzione_id, inizio, fine)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.soggetti_inviati(convenzione_id, fine, fine + 1)
            .await
            .unwrap(),
        0
    );
    s.cambia_stato_richiesta(
        id,
        &[stato::IN_ATTESA_CONVALIDA],
        stato::CONVALIDATA,
        None,
        &Attore::sistema(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.richieste_in_stato(stato::CONVALIDATA, 10).await.unwrap()[0].id,
        id
    );

    s.sospendi_richiesta(
        id,
        Some(4_000_000_000_000),
        Some("quota giornaliera esaurita per C030, ripresa alle 00:00"),
        &Attore::sistema(),
    )
    .await
    .unwrap();
    let r = s.richiesta(id).await.unwrap();
    assert_eq!(r.sospesa_fino_a_ms, Some(4_000_000_000_000));
    assert_eq!(
        r.motivo_sospensione.as_deref(),
        Some("quota giornaliera esaurita per C030, ripresa alle 00:00")
    );
    // A suspended request gives no rows to claim.
    assert!(
        s.reclama_righe("w1", 1_000, 60_000, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    s.sospendi_richiesta(id, None, None, &Attore::sistema())
        .await
        .unwrap();
    assert_eq!(
        s.reclama_righe("w1", 1_000, 60_000, 10, None)
            .await
            .unwrap()
            .len(),
        2
    );

    // Every change above is in the chain, attributed to the request's Comune and Ente.
    let voci = s.voci_audit(0, 100).await.unwrap();
    let della_richiesta: Vec<_> = voci
        .iter()
        .filter(|v| v.oggetto == format!("richiesta:{id}"))
        .collect();
    assert_eq!(
        della_richiesta
            .iter()
            .map(|v| v.azione.as_str())
            .collect::<Vec<_>>(),
        vec![
            "RICHIESTA_CREATA",
            "RICHIESTA_IN_ATTESA_CONVALIDA",
            "RICHIESTA_CONVALIDATA",
            "RICHIESTA_SOSPESA",
            "RICHIESTA_RIPRESA"
        ]
    );
    assert!(
        della_richiesta
            .iter()
            .all(|v| v.comune.as_deref() == Some("015146")
                && v.ente.as_deref() == Some("80012345678"))
    );
    assert_eq!(della_richiesta[2].attore, "sistema");
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { .. }
    ));
}

async fn annullata_fallita_e_ripresa(db: &Db) {
    let s = &db.store;
    let k = ChiaveMaestra::da_byte(&[1u8; 32]).unwrap();
    let b = base(s).await;
    let righe: Vec<_> = (1..=4).map(|n| riga(n, &format!("CF{n}"))).collect();
    let id = richiesta(s, b.convenzione_id, b.utente_id, &righe).await;
    s.cambia_stato_richiesta(id, &[stato::BOZZA], stato::CONVALIDATA, None, &top())
        .await
        .unwrap();
    let prese = s
        .reclama_righe("w1", 1_000, 60_000, 2, Some(id))
        .await
        .unwrap();
    assert_eq!(
        prese.iter().map(|r| r.numero).collect::<Vec<_>>(),
        vec![1, 2]
    );
    s.cambia_stato_richiesta(
        id,
        &[stato::CONVALIDATA],
        stato::IN_ELABORAZIONE,
        None,
        &Attore::sistema(),
    )
    .await
    .unwrap();
    let esito = EsitoRiga {
        riga_id: prese[0].id,
        esito: Esito::Trovato,
        messaggio: None,
        id_operazioni: serde_json::json!({"C030": "1700000000000000"}),
        risultato: Some(serde_json::json!({"cognome": "ROSSI"})),
        cf_restituito: None,
        id_anpr_restituito: None,
    };
    assert_eq!(
        s.registra_esiti("w1", &[esito], None, &k).await.unwrap(),
        vec![prese[0].id]
    );
    assert_eq!(
        s.risultato_riga(prese[0].id, &k).await.unwrap().unwrap()["cognome"],
        "ROSSI"
    );

    s.cambia_stato_richiesta(
        id,
        &[stato::IN_ELABORAZIONE],
        stato::FALLITA,
        Some("voucher rifiutato"),
        &Attore::sistema(),
    )
    .await
    .unwrap();
    let tutte = s.righe(id, 0, 10).await.unwrap();
    assert_eq!(tutte[0].esito, Some(Esito::Trovato));
    assert!(
        tutte[1..]
            .iter()
            .all(|r| r.esito == Some(Esito::NonElaborato) && r.stato == stato_riga::FINALE)
    );
    assert_eq!(
        s.richiesta(id).await.unwrap().nota_stato.as_deref(),
        Some("voucher rifiutato")
    );
    // The worker that held row 2 lost it: its late outcome is not written.
    let tardivo = EsitoRiga {
        riga_id: prese[1].id,
        esito: Esito::Trovato,
        messaggio: None,
        id_operazioni: serde_json::json!({}),
        risultato: None,
        cf_restituito: None,
        id_anpr_restituito: None,
    };
    assert!(
        s.registra_esiti("w1", &[tardivo], None, &k)
            .await
            .unwrap()
            .is_empty()
    );

    // Resuming redoes only the NON_ELABORATO rows.
    s.cambia_stato_richiesta(id, &[stato::FALLITA], stato::CONVALIDATA, None, &top())
        .await
        .unwrap();
    let c = s.conteggio_righe(id).await.unwrap();
    assert_eq!((c.finali, c.da_elaborare), (1, 3));
    let riprese = s
        .reclama_righe("w2", 2_000, 60_000, 10, Some(id))
        .await
        .unwrap();
    assert_eq!(
        riprese.iter().map(|r| r.numero).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );

    s.cambia_stato_richiesta(
        id,
        &[stato::CONVALIDATA],
        stato::IN_ELABORAZIONE,
        None,
        &Attore::sistema(),
    )
    .await
    .unwrap();
    s.cambia_stato_richiesta(
        id,
        &[stato::IN_ELABORAZIONE],
        stato::ANNULLATA,
        None,
        &top(),
    )
    .await
    .unwrap();
    let c = s.conteggio_righe(id).await.unwrap();
    assert_eq!((c.finali, c.in_corso, c.da_elaborare), (4, 0, 0));
}

async fn duplicati_e_file(db: &Db) {
    let s = &db.store;
    let k = ChiaveMaestra::da_byte(&[1u8; 32]).unwrap();
    let b = base(s).await;
    let mut dup = riga(2, "RSSMRA80A01F205X");
    dup.duplicato_di = Some(1);
    let id = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "RSSMRA80A01F205X"), dup],
    )
    .await;
    s.cambia_stato_richiesta(id, &[stato::BOZZA], stato::CONVALIDATA, None, &top())
        .await
        .unwrap();
    let prese = s
        .reclama_righe("w1", 1_000, 60_000, 10, None)
        .await
        .unwrap();
    assert_eq!(prese.len(), 1, "a duplicate is never sent to ANPR");
    assert_eq!(
        s.completa_duplicati(id).await.unwrap(),
        0,
        "its original is not final yet"
    );
    let esito = EsitoRiga {
        riga_id: prese[0].id,
        esito: Esito::Trovato,
        messaggio: None,
        id_operazioni: serde_json::json!({"C030": "1"}),
        risultato: Some(serde_json::json!({"nome": "MARIO"})),
        cf_restituito: None,
        id_anpr_restituito: None,
    };
    s.registra_esiti("w1", &[esito], None, &k).await.unwrap();
    assert_eq!(s.completa_duplicati(id).await.unwrap(), 1);
    let righe = s.righe(id, 0, 10).await.unwrap();
    assert_eq!(righe[1].esito, Some(Esito::Trovato));
    assert_eq!(
        righe[1].messaggio.as_deref(),
        Some("duplicato della riga 1")
    );
    assert_eq!(
        s.risultato_riga(righe[1].id, &k).await.unwrap().unwrap()["nome"],
        "MARIO"
    );

    let f = NuovoFileRisposta {
        richiesta_id: id,
        nome: "richiesta-1.csv.age".into(),
        percorso: "risposte/1/richiesta-1.csv.age".into(),
        righe: 2,
        sha256: "ab".repeat(32),
        dimensione: 321,
        parziale: false,
    };
    s.registra_file_risposta(&f, &Attore::sistema())
        .await
        .unwrap();
    let ultima = s.voci_audit(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(ultima.azione, "FILE_RISPOSTA_SCRITTO");
    assert_eq!(
        (ultima.comune.as_deref(), ultima.ente.as_deref()),
        (Some("015146"), Some("80012345678"))
    );
    assert!(ultima.dettagli.contains(&"ab".repeat(32)));
    let elenco = s.file_risposta(id).await.unwrap();
    assert_eq!(elenco.len(), 1);
    assert_eq!(
        (elenco[0].righe, elenco[0].dimensione, elenco[0].parziale),
        (2, 321, false)
    );
    assert_eq!(elenco[0].sha256, "ab".repeat(32));
}

crate::contratto!(
    a_flusso_come_in_un_blocco,
    a_flusso_interrotta_non_salva_nulla
);

fn nuova(b: &crate::supporto::Base) -> NuovaRichiesta {
    NuovaRichiesta {
        convenzione_id: b.convenzione_id,
        utente_id: b.utente_id,
        motivo: "PROT-2026-123".into(),
        data_riferimento: "2026-11-26".into(),
        snapshot: serde_json::json!({"LoA": "LoA1"}),
    }
}

/// The same rows, all at once or in pieces of every size (empty, across the store's own INSERT
/// pieces), give the same stored rows, hashes and audit detail.
async fn a_flusso_come_in_un_blocco(db: &Db) {
    use store::richieste::BloccoRighe;
    let s = db
        .store
        .clone()
        .con_chiave_hmac(store::Segreto::new(vec![7u8; 32]));
    let b = base(&s).await;
    let righe: Vec<NuovaRiga> = (1..=1_203)
        .map(|n| {
            let mut r = riga(n + 1, &format!(" rssmra80a01f{:03}x ", n % 1000));
            if n % 100 == 0 {
                r.esito = Some(Esito::NonValido);
                r.messaggio = Some("carattere di controllo errato".into());
                r.riferimento = None;
            }
            if n % 77 == 0 {
                r.duplicato_di = Some(2);
            }
            if n % 5 == 0 {
                r.tipo = TipoIdentificativo::Pds;
                r.rilascio = Some("ROMA".into());
                r.motivo = Some("ALTRO".into());
            }
            r
        })
        .collect();
    let uno = s.crea_richiesta(&nuova(&b), &righe, &top()).await.unwrap();

    let (r, chi) = (nuova(&b), top());
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let invio = async move {
        for pezzo in [&righe[..700], &[][..], &righe[700..1_202], &righe[1_202..]] {
            tx.send(BloccoRighe::Righe(pezzo.to_vec())).await.unwrap();
        }
        tx.send(BloccoRighe::Fine).await.unwrap();
    };
    let (salvata, ()) = tokio::join!(s.crea_richiesta_a_flusso(&r, rx, &chi), invio);
    let (due, n) = salvata.unwrap();
    assert_eq!(n, 1_203);
    assert_ne!(uno, due);

    let senza_id = |v: Vec<store::richieste::Riga>| -> Vec<_> {
        v.into_iter()
            .map(|r| {
                (
                    r.numero,
                    r.tipo,
                    r.identificativo,
                    r.riferimento,
                    r.rilascio,
                    r.motivo,
                    r.duplicato_di,
                    r.stato,
                    r.esito,
                    r.messaggio,
                )
            })
            .collect()
    };
    let a = senza_id(s.righe(uno, 0, 10_000).await.unwrap());
    assert_eq!(a.len(), 1_203);
    assert_eq!(a, senza_id(s.righe(due, 0, 10_000).await.unwrap()));
    assert_eq!(a[99].7, stato_riga::FINALE);
    assert_eq!(a[0].7, stato_riga::DA_ELABORARE);
    let hash = s.hash_identificativi(uno).await.unwrap();
    assert!(hash.iter().all(|(_, h)| h.is_some()));
    assert_eq!(hash, s.hash_identificativi(due).await.unwrap());
    // Each row's hash is that of its normalised identifier, as the archive computes it.
    let chiave = store::Segreto::new(vec![7u8; 32]);
    assert_eq!(
        hash[0].1.as_deref(),
        Some(
            store::conservazione::hmac_normalizzato(
                &chiave,
                TipoIdentificativo::Cf,
                " rssmra80a01f001x "
            )
            .as_str()
        )
    );

    let voci = s.voci_audit(0, 1000).await.unwrap();
    let create: Vec<_> = voci
        .iter()
        .filter(|v| v.azione == "RICHIESTA_CREATA")
        .collect();
    assert_eq!(create.len(), 2);
    assert_eq!(create[0].dettagli, create[1].dettagli);
    let dettagli: serde_json::Value = serde_json::from_str(&create[1].dettagli).unwrap();
    assert_eq!(dettagli["righe"], 1_203);
    assert_eq!(create[1].oggetto, format!("richiesta:{due}"));
}

/// A channel closed before `Fine` (the parser refused the file) stores nothing: no request,
/// no row, no audit entry.
async fn a_flusso_interrotta_non_salva_nulla(db: &Db) {
    use store::richieste::BloccoRighe;
    let s = &db.store;
    let b = base(s).await;
    let prima = s.voci_audit(0, 1000).await.unwrap().len();
    let (r, chi) = (nuova(&b), top());
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let invio = async move {
        let righe: Vec<_> = (1..=1_500).map(|n| riga(n, "RSSMRA80A01F205X")).collect();
        tx.send(BloccoRighe::Righe(righe)).await.unwrap();
    };
    let (salvata, ()) = tokio::join!(s.crea_richiesta_a_flusso(&r, rx, &chi), invio);
    assert!(salvata.is_err());
    for st in [stato::BOZZA, stato::IN_ATTESA_CONVALIDA] {
        assert!(s.richieste_in_stato(st, 10).await.unwrap().is_empty());
    }
    assert_eq!(s.voci_audit(0, 1000).await.unwrap().len(), prima);
    // The store still writes: the failed transaction left nothing behind.
    let id = s
        .crea_richiesta(&nuova(&b), &[riga(1, "RSSMRA80A01F205X")], &top())
        .await
        .unwrap();
    assert_eq!(s.conteggio_righe(id).await.unwrap().totali, 1);
}

crate::contratto!(richiesta_grande_e_purga);

async fn richiesta_grande_e_purga(db: &Db) {
    let s = &db.store;
    let k = ChiaveMaestra::da_byte(&[1u8; 32]).unwrap();
    let b = base(s).await;
    let righe: Vec<_> = (1..=2_500).map(|n| riga(n, &format!("CF{n:06}"))).collect();
    let id = richiesta(s, b.convenzione_id, b.utente_id, &righe).await;
    assert_eq!(s.conteggio_righe(id).await.unwrap().totali, 2_500);
    assert_eq!(
        s.righe(id, 2_499, 10).await.unwrap()[0]
            .identificativo
            .as_deref(),
        Some("CF002500")
    );
    s.cambia_stato_richiesta(id, &[stato::BOZZA], stato::CONVALIDATA, None, &top())
        .await
        .unwrap();
    let prese = s.reclama_righe("w", 1, 60_000, 2, Some(id)).await.unwrap();
    let esiti: Vec<_> = prese
        .iter()
        .map(|r| EsitoRiga {
            riga_id: r.id,
            esito: Esito::Trovato,
            messaggio: None,
            id_operazioni: serde_json::json!({}),
            risultato: Some(serde_json::json!({"x": 1})),
            cf_restituito: None,
            id_anpr_restituito: None,
        })
        .collect();
    let blocco = store::Audit::nuovo(
        &Attore::sistema(),
        format!("richiesta:{id}"),
        "CHIAMATE_ANPR",
    )
    .con_dettagli(
        serde_json::json!({"chiamate": [{"servizio": "C030", "id": "1", "esito": "200"}]}),
    );
    assert_eq!(
        s.registra_esiti("w", &esiti, Some(&blocco), &k)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.voci_audit(0, 1000).await.unwrap().last().unwrap().azione,
        "CHIAMATE_ANPR"
    );

    assert_eq!(
        s.elimina_risultati(id, &Attore::sistema()).await.unwrap(),
        2
    );
    assert!(s.risultato_riga(prese[0].id, &k).await.unwrap().is_none());

    let hmac = s.chiave_hmac_identificativi(&k).await.unwrap();
    assert_eq!(
        s.purga_richiesta(id, &hmac, &Attore::sistema())
            .await
            .unwrap(),
        2_500
    );
    let dopo = s.righe(id, 0, 3).await.unwrap();
    assert!(
        dopo.iter()
            .all(|r| r.identificativo.is_none() && r.riferimento.is_none())
    );
    let hash = s.hash_identificativi(id).await.unwrap();
    assert_eq!(
        hash[0],
        (
            1,
            Some(store::conservazione::hmac_identificativo(
                &hmac, "CF", "CF000001"
            ))
        )
    );
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        EsitoVerifica::Valida { .. }
    ));
}

crate::contratto!(convalida_concorrente_una_volta);

/// Silent consent fired by two processes at once: the compare-and-set lets one through, and the
/// chain records one approval.
async fn convalida_concorrente_una_volta(db: &Db) {
    let b = base(&db.store).await;
    let id = richiesta(&db.store, b.convenzione_id, b.utente_id, &[riga(1, "CF1")]).await;
    db.store
        .cambia_stato_richiesta(
            id,
            &[stato::BOZZA],
            stato::IN_ATTESA_CONVALIDA,
            None,
            &top(),
        )
        .await
        .unwrap();
    let altro = db.altro_store().await;
    let mut compiti = Vec::new();
    for s in [
        db.store.clone(),
        altro.clone(),
        db.store.clone(),
        altro.clone(),
    ] {
        compiti.push(tokio::spawn(async move {
            s.cambia_stato_richiesta(
                id,
                &[stato::IN_ATTESA_CONVALIDA],
                stato::CONVALIDATA,
                None,
                &Attore::sistema(),
            )
            .await
        }));
    }
    let mut riuscite = 0;
    for c in compiti {
        match c.await.unwrap() {
            Ok(()) => riuscite += 1,
            Err(ErroreStore::StatoNonAmmesso { attuale, .. }) => {
                assert_eq!(attuale, stato::CONVALIDATA)
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(riuscite, 1);
    let approvazioni = db
        .store
        .voci_audit(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.azione == "RICHIESTA_CONVALIDATA")
        .count();
    assert_eq!(approvazioni, 1);
    altro.chiudi().await;
}

//! Contract tests of the archive's read side (`store::registro`): the request monitoring list
//! with its filters, the activity log by scope and filters, and a request's timeline.

use crate::richieste::riga;
use crate::supporto::{Base, Db, base, tenant_roma, top};
use store::elenchi::AmbitoElenco;
use store::registro::{AmbitoRegistro, FiltroMonitoraggio, FiltroRegistro, VoceRegistro};
use store::richieste::{NuovaRichiesta, stato};
use store::{Attore, Audit, Store};

crate::contratto!(
    monitoraggio_per_ambito_e_filtri,
    registro_per_ambito,
    registro_per_filtri,
    cronologia_con_blocchi_contati
);

const GIORNO_MS: i64 = 86_400_000;

/// Mario Rossi, the STANDARD of the base world, as the archive names him.
fn mario() -> Attore {
    Attore {
        nome: "mario.rossi".into(),
        ruolo: Some("STANDARD".into()),
        comune: None,
        ente: Some("80012345678".into()),
    }
}

/// Roma's tenant as its own TOP creates it (the operator filed under Roma too).
async fn roma(s: &Store) -> Base {
    let a = Attore {
        nome: "top.roma".into(),
        ruolo: Some("TOP".into()),
        comune: Some("058091".into()),
        ente: None,
    };
    tenant_roma(s, &a, true).await
}

async fn nuova(s: &Store, b: &Base, motivo: &str, attore: &Attore) -> i64 {
    let r = NuovaRichiesta {
        convenzione_id: b.convenzione_id,
        utente_id: b.utente_id,
        motivo: motivo.into(),
        data_riferimento: "2026-03-02".into(),
        snapshot: serde_json::json!({}),
    };
    s.crea_richiesta(&r, &[riga(1, "RSSMRA80A01F205X")], attore)
        .await
        .unwrap()
}

async fn invia(s: &Store, id: i64, attore: &Attore) {
    s.cambia_stato_richiesta(
        id,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        attore,
    )
    .await
    .unwrap();
}

fn filtro(ambito: AmbitoElenco) -> FiltroMonitoraggio {
    FiltroMonitoraggio {
        ambito,
        richiedente: None,
        ente_id: None,
        convenzione_id: None,
        dal_ms: None,
        al_ms: None,
        stato: None,
        richiesta_id: None,
        limite: 100,
    }
}

async fn motivi(s: &Store, f: &FiltroMonitoraggio) -> Vec<String> {
    s.richieste_monitorate(f)
        .await
        .unwrap()
        .voci
        .into_iter()
        .map(|v| v.richiesta.motivo)
        .collect()
}

async fn monitoraggio_per_ambito_e_filtri(db: &Db) {
    let s = &db.store;
    let mi = base(s).await;
    let rm = roma(s).await;
    let attesa = nuova(s, &mi, "MI-ATTESA", &mario()).await;
    invia(s, attesa, &mario()).await;
    let completata = nuova(s, &mi, "MI-RESPINTA", &mario()).await;
    invia(s, completata, &mario()).await;
    s.cambia_stato_richiesta(
        completata,
        &[stato::IN_ATTESA_CONVALIDA],
        stato::RESPINTA,
        Some("motivo"),
        &top(),
    )
    .await
    .unwrap();
    nuova(s, &mi, "MI-BOZZA", &mario()).await;
    let roma_id = nuova(s, &rm, "RM-ATTESA", &mario()).await;
    invia(s, roma_id, &mario()).await;

    // Newest first; monitors never see drafts, the author does.
    let comune = filtro(AmbitoElenco::Comune(mi.comune_id));
    assert_eq!(motivi(s, &comune).await, ["MI-RESPINTA", "MI-ATTESA"]);
    let ente = filtro(AmbitoElenco::EnteComune(mi.ente_id, mi.comune_id));
    assert_eq!(motivi(s, &ente).await, ["MI-RESPINTA", "MI-ATTESA"]);
    // The Ente's account managed by Roma sees nothing of Milano's conventions.
    let altro = filtro(AmbitoElenco::EnteComune(mi.ente_id, rm.comune_id));
    assert!(motivi(s, &altro).await.is_empty());
    let proprie = filtro(AmbitoElenco::Utente(mi.utente_id));
    assert_eq!(
        motivi(s, &proprie).await,
        ["MI-BOZZA", "MI-RESPINTA", "MI-ATTESA"]
    );
    assert_eq!(
        motivi(s, &filtro(AmbitoElenco::Comune(rm.comune_id))).await,
        ["RM-ATTESA"]
    );

    // Each filter narrows the list.
    let con = |f: &dyn Fn(&mut FiltroMonitoraggio)| {
        let mut x = comune.clone();
        f(&mut x);
        x
    };
    let stato = con(&|f| f.stato = Some(stato::RESPINTA.into()));
    assert_eq!(motivi(s, &stato).await, ["MI-RESPINTA"]);
    let id = con(&|f| f.richiesta_id = Some(attesa));
    assert_eq!(motivi(s, &id).await, ["MI-ATTESA"]);
    // A request of another Comune is not found through the filter either.
    let fuori = con(&|f| f.richiesta_id = Some(roma_id));
    assert!(motivi(s, &fuori).await.is_empty());
    let utente = con(&|f| f.richiedente = Some("mario.rossi".into()));
    assert_eq!(motivi(s, &utente).await.len(), 2);
    let nessuno = con(&|f| f.richiedente = Some("anna.verdi".into()));
    assert!(motivi(s, &nessuno).await.is_empty());
    let conv = con(&|f| f.convenzione_id = Some(rm.convenzione_id));
    assert!(motivi(s, &conv).await.is_empty());
    let conv = con(&|f| f.convenzione_id = Some(mi.convenzione_id));
    assert_eq!(motivi(s, &conv).await.len(), 2);
    let ente = con(&|f| f.ente_id = Some(mi.ente_id));
    assert_eq!(motivi(s, &ente).await.len(), 2);
    // Dates: the requests were submitted just now (the store's clock).
    let ora = s.adesso_ms();
    let oggi = con(&|f| {
        f.dal_ms = Some(ora - GIORNO_MS);
        f.al_ms = Some(ora + GIORNO_MS);
    });
    assert_eq!(motivi(s, &oggi).await.len(), 2);
    let domani = con(&|f| f.dal_ms = Some(ora + GIORNO_MS));
    assert!(motivi(s, &domani).await.is_empty());
    let ieri = con(&|f| f.al_ms = Some(ora - GIORNO_MS));
    assert!(motivi(s, &ieri).await.is_empty());

    // Bounded: one more than the limit says "there are others".
    let uno = con(&|f| f.limite = 1);
    let l = s.richieste_monitorate(&uno).await.unwrap();
    assert_eq!((l.voci.len(), l.altre), (1, true));
    let due = con(&|f| f.limite = 2);
    let l = s.richieste_monitorate(&due).await.unwrap();
    assert_eq!((l.voci.len(), l.altre), (2, false));
}

fn registro(ambito: AmbitoRegistro) -> FiltroRegistro {
    FiltroRegistro {
        ambito,
        attore: None,
        ente: None,
        convenzione: None,
        dal_ms: None,
        al_ms: None,
        azione: None,
        richiesta_id: None,
        esito: None,
        limite: 1_000,
    }
}

async fn voci(s: &Store, f: &FiltroRegistro) -> Vec<VoceRegistro> {
    s.voci_registro(f).await.unwrap().voci
}

fn azioni(v: &[VoceRegistro]) -> Vec<(String, String)> {
    v.iter()
        .map(|v| (v.oggetto.clone(), v.azione.clone()))
        .collect()
}

/// Milano's TOP, Mario's requests (one submitted, one draft, one discarded), his sign-in, and
/// Roma's world with one submitted request of Anna.
struct Mondo {
    mi: Base,
    rm: Base,
    inviata: i64,
    bozza: i64,
    roma: i64,
}

async fn mondo(s: &Store) -> Mondo {
    let mi = base(s).await;
    let rm = roma(s).await;
    let inviata = nuova(s, &mi, "MI-INVIATA", &mario()).await;
    invia(s, inviata, &mario()).await;
    let bozza = nuova(s, &mi, "MI-BOZZA", &mario()).await;
    let scartata = nuova(s, &mi, "MI-SCARTATA", &mario()).await;
    s.elimina_bozza(scartata, &mario()).await.unwrap();
    let accesso =
        Audit::nuovo(&mario(), "utente:mario.rossi", "ACCESSO").con_comune(Some("015146".into()));
    s.appendi_audit(&accesso).await.unwrap();
    let anna = Attore {
        nome: "anna.verdi".into(),
        ruolo: Some("STANDARD".into()),
        comune: Some("058091".into()),
        ente: Some("asl_rm1".into()),
    };
    let roma = nuova(s, &rm, "RM-INVIATA", &anna).await;
    invia(s, roma, &anna).await;
    Mondo {
        mi,
        rm,
        inviata,
        bozza,
        roma,
    }
}

async fn registro_per_ambito(db: &Db) {
    let s = &db.store;
    let m = mondo(s).await;
    let r = |id: i64| format!("richiesta:{id}");

    // Milano's TOP: its Comune's entries; the draft's and the discarded draft's are not there.
    let top_mi = voci(s, &registro(AmbitoRegistro::Comune("015146".into()))).await;
    let a = azioni(&top_mi);
    assert!(a.contains(&(r(m.inviata), "RICHIESTA_IN_ATTESA_CONVALIDA".into())));
    assert!(a.contains(&(r(m.inviata), "RICHIESTA_CREATA".into())));
    assert!(a.contains(&("utente:mario.rossi".into(), "ACCESSO".into())));
    assert!(a.contains(&("comune:015146".into(), "COMUNE_CREATO".into())));
    assert!(!a.iter().any(|(o, _)| o == &r(m.bozza)), "{a:?}");
    assert!(!a.iter().any(|(_, az)| az == "RICHIESTA_SCARTATA"), "{a:?}");
    assert!(!a.iter().any(|(o, _)| o == &r(m.roma)), "{a:?}");
    assert!(top_mi.iter().all(|v| v.comune.as_deref() == Some("015146")));
    // Newest first, with the request's convention and state joined.
    assert!(top_mi.windows(2).all(|w| w[0].id > w[1].id));
    let invio = top_mi
        .iter()
        .find(|v| v.azione == "RICHIESTA_IN_ATTESA_CONVALIDA")
        .unwrap();
    assert_eq!(invio.richiesta_id, Some(m.inviata));
    assert_eq!(invio.convenzione.as_deref(), Some("PL Milano"));
    assert_eq!(
        invio.stato_richiesta.as_deref(),
        Some(stato::IN_ATTESA_CONVALIDA)
    );
    assert_eq!(invio.motivo_richiesta.as_deref(), Some("MI-INVIATA"));
    assert_eq!(invio.nome_comune.as_deref(), Some("Milano"));
    assert_eq!(invio.nome_ente.as_deref(), Some("Polizia Locale"));

    // Roma's TOP sees Roma's request and none of Milano's.
    let top_rm = voci(s, &registro(AmbitoRegistro::Comune("058091".into()))).await;
    assert!(azioni(&top_rm).contains(&(r(m.roma), "RICHIESTA_IN_ATTESA_CONVALIDA".into())));
    assert!(top_rm.iter().all(|v| v.comune.as_deref() == Some("058091")));
    // SQLite may give the discarded draft's id to Roma's request (ids are not AUTOINCREMENT):
    // the draft's entries stay Mario's, in the log and in the timeline.
    assert!(
        top_rm.iter().all(|v| v.attore != "mario.rossi"),
        "{top_rm:?}"
    );
    let c = s.cronologia_richiesta(m.roma).await.unwrap();
    assert_eq!(
        c.voci
            .iter()
            .map(|v| (v.attore.as_str(), v.azione.as_str()))
            .collect::<Vec<_>>(),
        [
            ("anna.verdi", "RICHIESTA_CREATA"),
            ("anna.verdi", "RICHIESTA_IN_ATTESA_CONVALIDA")
        ]
    );

    // The Ente's ADMIN: the Ente's entries, and only with its managing Comune when it has one.
    let ente = AmbitoRegistro::Ente {
        ente: "80012345678".into(),
        comune: None,
    };
    let admin = voci(s, &registro(ente)).await;
    assert!(azioni(&admin).contains(&(r(m.inviata), "RICHIESTA_IN_ATTESA_CONVALIDA".into())));
    assert!(
        admin
            .iter()
            .all(|v| v.ente.as_deref() == Some("80012345678"))
    );
    assert!(!azioni(&admin).iter().any(|(o, _)| o == &r(m.bozza)));
    let gestito_da_roma = AmbitoRegistro::Ente {
        ente: "80012345678".into(),
        comune: Some("058091".into()),
    };
    assert!(voci(s, &registro(gestito_da_roma)).await.is_empty());

    // Mario: his sign-in and his requests, the draft and the discarded one included; nothing
    // of Roma, and not the TOP's own entries.
    let utente = AmbitoRegistro::Utente {
        id: m.mi.utente_id,
        username: "mario.rossi".into(),
    };
    let sue = voci(s, &registro(utente)).await;
    let proprie = azioni(&sue);
    for atteso in [
        ("utente:mario.rossi".to_string(), "ACCESSO".to_string()),
        (r(m.inviata), "RICHIESTA_IN_ATTESA_CONVALIDA".into()),
        (r(m.bozza), "RICHIESTA_CREATA".into()),
    ] {
        assert!(proprie.contains(&atteso), "{atteso:?} in {proprie:?}");
    }
    assert!(proprie.iter().any(|(_, a)| a == "RICHIESTA_SCARTATA"));
    // Nothing of Anna's request, even when it took the id of Mario's discarded draft.
    assert!(sue.iter().all(|v| v.attore == "mario.rossi"), "{sue:?}");
    assert!(
        sue.iter()
            .filter(|v| v.oggetto == r(m.roma))
            .all(|v| v.motivo_richiesta.is_none())
    );
    assert!(
        !proprie
            .iter()
            .any(|(_, a)| a == "COMUNE_CREATO" || a == "UTENTE_CREATO")
    );
    // Anna sees her own request's entries and nothing of Mario's.
    let anna = AmbitoRegistro::Utente {
        id: m.rm.utente_id,
        username: "anna.verdi".into(),
    };
    let sue = azioni(&voci(s, &registro(anna)).await);
    assert!(sue.iter().all(|(o, _)| o == &r(m.roma)), "{sue:?}");
}

async fn registro_per_filtri(db: &Db) {
    let s = &db.store;
    let m = mondo(s).await;
    let base = registro(AmbitoRegistro::Comune("015146".into()));
    let con = |f: &dyn Fn(&mut FiltroRegistro)| {
        let mut x = base.clone();
        f(&mut x);
        x
    };
    let r = voci(s, &con(&|f| f.attore = Some("mario.rossi".into()))).await;
    assert!(!r.is_empty() && r.iter().all(|v| v.attore == "mario.rossi"));
    let r = voci(s, &con(&|f| f.azione = Some("ACCESSO".into()))).await;
    assert_eq!(
        azioni(&r),
        [("utente:mario.rossi".into(), "ACCESSO".into())]
    );
    let r = voci(s, &con(&|f| f.richiesta_id = Some(m.inviata))).await;
    assert_eq!(
        r.iter().map(|v| v.azione.as_str()).collect::<Vec<_>>(),
        ["RICHIESTA_IN_ATTESA_CONVALIDA", "RICHIESTA_CREATA"]
    );
    // The convention: its requests' entries and its own creation entry.
    let r = voci(
        s,
        &con(&|f| f.convenzione = Some((m.mi.convenzione_id, "PL Milano".into()))),
    )
    .await;
    let mut a: Vec<&str> = r.iter().map(|v| v.azione.as_str()).collect();
    a.sort();
    assert_eq!(
        a,
        [
            "CONVENZIONE_CREATA",
            "RICHIESTA_CREATA",
            "RICHIESTA_IN_ATTESA_CONVALIDA"
        ]
    );
    let r = voci(
        s,
        &con(&|f| f.esito = Some(stato::IN_ATTESA_CONVALIDA.into())),
    )
    .await;
    assert_eq!(r.len(), 2);
    assert!(
        voci(s, &con(&|f| f.esito = Some(stato::COMPLETATA.into())))
            .await
            .is_empty()
    );
    let r = voci(s, &con(&|f| f.ente = Some("80012345678".into()))).await;
    assert!(!r.is_empty() && r.iter().all(|v| v.ente.as_deref() == Some("80012345678")));
    // Audit entries carry the real time.
    let ora = chrono::Utc::now().timestamp_millis();
    let tutte = voci(s, &base).await.len();
    let r = voci(
        s,
        &con(&|f| {
            f.dal_ms = Some(ora - GIORNO_MS);
            f.al_ms = Some(ora + GIORNO_MS);
        }),
    )
    .await;
    assert_eq!(r.len(), tutte);
    assert!(
        voci(s, &con(&|f| f.dal_ms = Some(ora + GIORNO_MS)))
            .await
            .is_empty()
    );
    assert!(
        voci(s, &con(&|f| f.al_ms = Some(ora - GIORNO_MS)))
            .await
            .is_empty()
    );
    // Bounded, newest first.
    let l = s.voci_registro(&con(&|f| f.limite = 2)).await.unwrap();
    assert!(l.altre);
    assert_eq!(l.voci.len(), 2);
    assert_eq!(l.voci[0].id, voci(s, &base).await[0].id);
}

async fn cronologia_con_blocchi_contati(db: &Db) {
    let s = &db.store;
    let mi = base(s).await;
    let id = nuova(s, &mi, "MI-CRONO", &mario()).await;
    invia(s, id, &mario()).await;
    for n in 0..3 {
        let blocco = Audit::nuovo(
            &Attore::sistema(),
            format!("richiesta:{id}"),
            "CHIAMATE_ANPR",
        )
        .con_dettagli(serde_json::json!({"righe": n}));
        s.appendi_audit(&blocco).await.unwrap();
    }
    // Another request's entries stay out.
    let altra = nuova(s, &mi, "MI-ALTRA", &mario()).await;
    invia(s, altra, &mario()).await;
    let c = s.cronologia_richiesta(id).await.unwrap();
    assert_eq!(
        c.voci.iter().map(|v| v.azione.as_str()).collect::<Vec<_>>(),
        ["RICHIESTA_CREATA", "RICHIESTA_IN_ATTESA_CONVALIDA"]
    );
    assert_eq!(c.blocchi_anpr, 3);
    assert!(c.primo_blocco_ms.is_some() && c.primo_blocco_ms <= c.ultimo_blocco_ms);
    // The first chunk comes right after the submission.
    assert_eq!(c.primo_blocco_id, Some(c.voci[1].id + 1));
    let vuota = s.cronologia_richiesta(altra).await.unwrap();
    assert_eq!((vuota.voci.len(), vuota.blocchi_anpr), (2, 0));
    assert_eq!((vuota.primo_blocco_id, vuota.primo_blocco_ms), (None, None));
    // No entry at all (read in one statement, whose chunk summary row is always there).
    let nessuna = s.cronologia_richiesta(altra + 1_000).await.unwrap();
    assert!(nessuna.voci.is_empty());
    assert_eq!(
        (
            nessuna.blocchi_anpr,
            nessuna.primo_blocco_id,
            nessuna.ultimo_blocco_ms
        ),
        (0, None, None)
    );
    // An id used by an earlier, discarded draft: its history starts at the last creation.
    let riusato = format!("richiesta:{}", altra + 2_000);
    let mut ids = Vec::new();
    for azione in [
        "RICHIESTA_CREATA",
        "CHIAMATE_ANPR",
        "RICHIESTA_SCARTATA",
        "RICHIESTA_CREATA",
        "CHIAMATE_ANPR",
        "RICHIESTA_IN_ATTESA_CONVALIDA",
    ] {
        let a = Audit::nuovo(&mario(), riusato.clone(), azione);
        ids.push(s.appendi_audit(&a).await.unwrap());
    }
    let c = s.cronologia_richiesta(altra + 2_000).await.unwrap();
    assert_eq!(
        c.voci.iter().map(|v| v.id).collect::<Vec<_>>(),
        [ids[3], ids[5]]
    );
    assert_eq!((c.blocchi_anpr, c.primo_blocco_id), (1, Some(ids[4])));
}

//! Contract tests: notifiche (notices written with the request's state change, e-mail queue).

use crate::richieste::{richiesta, riga};
use crate::supporto::{Db, base, top};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use store::anagrafiche::{Approvazione, NuovaConvenzione, NuovoComune, NuovoUtente};
use store::notifiche::{MAX_TENTATIVI_EMAIL, NuovaNotifica, tipo};
use store::richieste::stato;
use store::{Attore, ErroreStore, Store};

crate::contratto!(
    notifiche_seguono_il_ciclo_di_vita,
    promemoria_prima_del_silenzio_assenso,
    coda_email_con_lease_e_tentativi,
    reclami_concorrenti_disgiunti
);

const ORA: i64 = 1_800_000_000_000;

async fn utente(
    s: &Store,
    username: &str,
    ruolo: &str,
    comune: Option<i64>,
    ente: Option<i64>,
) -> i64 {
    s.crea_utente(
        &NuovoUtente {
            username: username.into(),
            password: "una password lunga".into(),
            ruolo: ruolo.into(),
            comune_id: comune,
            ente_id: ente,
            codice_utente: username.chars().take(20).collect(),
        },
        &top(),
    )
    .await
    .unwrap()
}

fn adesso() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn notifiche_seguono_il_ciclo_di_vita(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let top_attivo = utente(s, "top.mi", "TOP", Some(b.comune_id), None).await;
    let top_spento = utente(s, "top.mi.2", "TOP", Some(b.comune_id), None).await;
    s.imposta_utente_attivo(top_spento, false, &top())
        .await
        .unwrap();
    let altro_comune = s
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
    let top_roma = utente(s, "top.rm", "TOP", Some(altro_comune), None).await;
    s.imposta_email(top_attivo, Some("top@comune.example.it"), &top())
        .await
        .unwrap();

    let id = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "RSSMRA80A01F205X"), riga(2, "VRDLGU75B02H501Y")],
    )
    .await;
    s.cambia_stato_richiesta(
        id,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();
    let n = s.notifiche(top_attivo, adesso(), 50).await.unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].tipo, tipo::IN_ATTESA_CONVALIDA);
    assert_eq!(n[0].richiesta_id, Some(id));
    assert!(n[0].testo.contains("(2 soggetti)"), "{}", n[0].testo);
    assert!(n[0].testo.contains("silenzio-assenso"), "{}", n[0].testo);
    assert!(!n[0].testo.contains("RSSMRA80A01F205X"));
    assert_eq!(n[0].email_stato, "DA_INVIARE");
    assert!(
        s.notifiche(top_spento, adesso(), 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.notifiche(top_roma, adesso(), 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.notifiche(b.utente_id, adesso(), 50)
            .await
            .unwrap()
            .is_empty()
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
        stato::COMPLETATA,
        None,
        &Attore::sistema(),
    )
    .await
    .unwrap();
    let n = s.notifiche(b.utente_id, adesso(), 50).await.unwrap();
    let tipi: Vec<&str> = n.iter().map(|n| n.tipo.as_str()).collect();
    assert_eq!(tipi, [tipo::COMPLETATA, tipo::CONVALIDATA], "newest first");
    assert!(n[1].testo.contains("silenzio-assenso"));
    // No address: in-app only.
    assert_eq!(n[0].email_stato, "NON_PREVISTA");
    assert_eq!(
        s.notifiche_non_lette(b.utente_id, adesso()).await.unwrap(),
        2
    );

    // Another user's notice is not found; one's own is marked once.
    let e = s
        .segna_notifica_letta(top_attivo, n[0].id, adesso())
        .await
        .unwrap_err();
    assert!(matches!(e, ErroreStore::NonTrovato { .. }), "{e}");
    s.segna_notifica_letta(b.utente_id, n[0].id, adesso())
        .await
        .unwrap();
    assert_eq!(
        s.notifiche_non_lette(b.utente_id, adesso()).await.unwrap(),
        1
    );
    assert_eq!(s.segna_tutte_lette(b.utente_id, adesso()).await.unwrap(), 1);
    assert_eq!(
        s.notifiche_non_lette(b.utente_id, adesso()).await.unwrap(),
        0
    );

    // A rejection carries its reason to the submitter.
    let id2 = richiesta(
        s,
        b.convenzione_id,
        b.utente_id,
        &[riga(1, "RSSMRA80A01F205X")],
    )
    .await;
    s.cambia_stato_richiesta(
        id2,
        &[stato::BOZZA],
        stato::IN_ATTESA_CONVALIDA,
        None,
        &top(),
    )
    .await
    .unwrap();
    s.cambia_stato_richiesta(
        id2,
        &[stato::IN_ATTESA_CONVALIDA],
        stato::RESPINTA,
        Some("protocollo mancante"),
        &top(),
    )
    .await
    .unwrap();
    let n = s.notifiche(b.utente_id, adesso(), 50).await.unwrap();
    assert_eq!(n[0].tipo, tipo::RESPINTA);
    assert_eq!(n[0].richiesta_id, Some(id2));
    assert!(
        n[0].testo.contains("Motivo: protocollo mancante"),
        "{}",
        n[0].testo
    );
}

async fn promemoria_prima_del_silenzio_assenso(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    let ore = 3_600_000;
    let conv = s
        .crea_convenzione(
            &NuovaConvenzione {
                comune_id: b.comune_id,
                ente_id: b.ente_id,
                nome: "Silenzio in tre ore".into(),
                campi: vec![GruppoCampi::Generalita],
                ambito: Ambito::Comune,
                approvazione: Approvazione::SilenzioAssenso {
                    ritardo_ms: 3 * ore,
                },
                finalita: Default::default(),
                valida_dal_ms: 0,
                valida_al_ms: None,
                max_righe_richiesta: None,
                max_soggetti_giorno: None,
                tracciato: serde_json::json!({}),
                conservazione_giorni: 7,
                ricerca_nazionale: false,
            },
            &top(),
        )
        .await
        .unwrap();
    let t = utente(s, "top.mi", "TOP", Some(b.comune_id), None).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = richiesta(s, conv, b.utente_id, &[riga(1, "RSSMRA80A01F205X")]).await;
        s.cambia_stato_richiesta(
            id,
            &[stato::BOZZA],
            stato::IN_ATTESA_CONVALIDA,
            None,
            &top(),
        )
        .await
        .unwrap();
        ids.push(id);
    }
    let inviata = s.richiesta(ids[0]).await.unwrap().inviata_ms.unwrap();
    assert_eq!(
        s.notifiche(t, inviata, 50).await.unwrap().len(),
        2,
        "reminders not yet shown"
    );
    let dopo_due_ore = inviata + 2 * ore + 60_000;
    let n = s.notifiche(t, dopo_due_ore, 50).await.unwrap();
    assert_eq!(n.len(), 4);
    assert_eq!(n[0].tipo, tipo::PROMEMORIA_SILENZIO);
    assert!(n[0].visibile_dal_ms.unwrap() >= inviata + 2 * ore);
    // Approved before the reminder is due: its reminder goes, the other stays.
    s.cambia_stato_richiesta(
        ids[0],
        &[stato::IN_ATTESA_CONVALIDA],
        stato::CONVALIDATA,
        None,
        &top(),
    )
    .await
    .unwrap();
    let n = s.notifiche(t, dopo_due_ore, 50).await.unwrap();
    let promemoria: Vec<_> = n
        .iter()
        .filter(|n| n.tipo == tipo::PROMEMORIA_SILENZIO)
        .collect();
    assert_eq!(promemoria.len(), 1);
    assert_eq!(promemoria[0].richiesta_id, Some(ids[1]));
    // A reminder is not e-mailed before its time either.
    s.imposta_email(t, Some("top@comune.example.it"), &top())
        .await
        .unwrap();
    let presi = s.reclama_email("p", inviata, 60_000, 10).await.unwrap();
    assert!(presi.iter().all(|e| e.tipo != tipo::PROMEMORIA_SILENZIO));
}

async fn coda_email_con_lease_e_tentativi(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    s.imposta_email(b.utente_id, Some("mario@ente.example.it"), &top())
        .await
        .unwrap();
    let n = |titolo: &str| NuovaNotifica {
        utente_id: b.utente_id,
        richiesta_id: None,
        tipo: tipo::COMPLETATA.into(),
        titolo: titolo.into(),
        testo: "testo".into(),
        visibile_dal_ms: None,
    };
    let a = s.crea_notifica(&n("prima"), ORA).await.unwrap();
    let presi = s.reclama_email("A", ORA, 60_000, 10).await.unwrap();
    assert_eq!(presi.len(), 1);
    assert_eq!(
        (presi[0].id, presi[0].email.as_str(), presi[0].tentativi),
        (a, "mario@ente.example.it", 1)
    );
    assert_eq!(presi[0].titolo, "prima");
    assert!(
        s.reclama_email("B", ORA + 1000, 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    // A's lease expires: B takes it over, and A's late answer changes nothing.
    let presi = s
        .reclama_email("B", ORA + 61_000, 60_000, 10)
        .await
        .unwrap();
    assert_eq!((presi.len(), presi[0].tentativi), (1, 2));
    s.concludi_email(a, "A", None, ORA + 62_000).await.unwrap();
    assert_eq!(s.stato_email_notifica(a).await.unwrap().0, "IN_INVIO");
    // Failures: retried after a pause, given up after the last attempt.
    let mut ora = ORA + 62_000;
    s.concludi_email(a, "B", Some("connessione rifiutata"), ora)
        .await
        .unwrap();
    assert_eq!(
        s.stato_email_notifica(a).await.unwrap(),
        ("DA_INVIARE".into(), 2, Some("connessione rifiutata".into()))
    );
    assert!(
        s.reclama_email("B", ora + 1000, 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "pause"
    );
    for tentativo in 3..=MAX_TENTATIVI_EMAIL {
        ora += 3_600_000;
        let presi = s.reclama_email("B", ora, 60_000, 10).await.unwrap();
        assert_eq!(presi[0].tentativi, tentativo);
        s.concludi_email(a, "B", Some("ancora"), ora).await.unwrap();
    }
    assert_eq!(s.stato_email_notifica(a).await.unwrap().0, "FALLITA");
    assert!(
        s.reclama_email("B", ora + 86_400_000, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Sent: done.
    let c = s.crea_notifica(&n("seconda"), ora).await.unwrap();
    let presi = s.reclama_email("B", ora, 60_000, 10).await.unwrap();
    assert_eq!(presi[0].id, c);
    s.concludi_email(c, "B", None, ora).await.unwrap();
    assert_eq!(
        s.stato_email_notifica(c).await.unwrap(),
        ("INVIATA".into(), 1, None)
    );
    // The address is removed before sending: closed without sending.
    let d = s.crea_notifica(&n("terza"), ora).await.unwrap();
    s.imposta_email(b.utente_id, None, &top()).await.unwrap();
    assert!(
        s.reclama_email("B", ora, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.stato_email_notifica(d).await.unwrap().0, "NON_PREVISTA");
    // Too old to be worth sending.
    s.imposta_email(b.utente_id, Some("mario@ente.example.it"), &top())
        .await
        .unwrap();
    let vecchia = s.crea_notifica(&n("vecchia"), ora).await.unwrap();
    assert!(
        s.reclama_email("B", ora + 8 * 86_400_000, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.stato_email_notifica(vecchia).await.unwrap().0, "SCADUTA");
}

async fn reclami_concorrenti_disgiunti(db: &Db) {
    let s = &db.store;
    let b = base(s).await;
    s.imposta_email(b.utente_id, Some("mario@ente.example.it"), &top())
        .await
        .unwrap();
    for i in 0..20 {
        s.crea_notifica(
            &NuovaNotifica {
                utente_id: b.utente_id,
                richiesta_id: None,
                tipo: tipo::COMPLETATA.into(),
                titolo: format!("n{i}"),
                testo: "t".into(),
                visibile_dal_ms: None,
            },
            ORA,
        )
        .await
        .unwrap();
    }
    let altro = db.altro_store().await;
    let (x, y) = tokio::join!(
        s.reclama_email("X", ORA, 60_000, 15),
        altro.reclama_email("Y", ORA, 60_000, 15)
    );
    let mut tutti: Vec<i64> = x
        .unwrap()
        .into_iter()
        .chain(y.unwrap())
        .map(|e| e.id)
        .collect();
    assert_eq!(tutti.len(), 20);
    tutti.sort();
    tutti.dedup();
    assert_eq!(tutti.len(), 20, "each notice claimed once");
}

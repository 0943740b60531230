//! Tests: notifiche (in-app list and counter, mark read, e-mail through a local SMTP sink).

use crate::aiuto::{TestApp, avvia, avvia_con};
use domain::richiesta::{Azione, EsitoTransizione, StatoRichiesta};
use std::sync::{Arc, Mutex};
use store::richieste::NuovaRichiesta;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use web::ids::Tipo;
use web::stato::ConfigSmtp;

/// What the sink received: one entry per message, with its recipients and its text.
#[derive(Debug, Clone, Default)]
struct Posta {
    destinatari: Vec<String>,
    testo: String,
}

/// A local SMTP server speaking just enough of the protocol for a client to deliver.
async fn avvia_sink() -> (std::net::SocketAddr, Arc<Mutex<Vec<Posta>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let indirizzo = listener.local_addr().unwrap();
    let ricevuti: Arc<Mutex<Vec<Posta>>> = Arc::default();
    let r = ricevuti.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(sessione_smtp(socket, r.clone()));
        }
    });
    (indirizzo, ricevuti)
}

async fn sessione_smtp(socket: tokio::net::TcpStream, ricevuti: Arc<Mutex<Vec<Posta>>>) {
    let (lettura, mut scrittura) = socket.into_split();
    let mut righe = BufReader::new(lettura).lines();
    let mut attuale = Posta::default();
    scrittura.write_all(b"220 sink ESMTP\r\n").await.unwrap();
    while let Ok(Some(riga)) = righe.next_line().await {
        let comando = riga.to_ascii_uppercase();
        let risposta: &[u8] = if comando.starts_with("EHLO") || comando.starts_with("HELO") {
            b"250 sink\r\n"
        } else if comando.starts_with("RCPT TO:") {
            let a = riga[8..].trim().trim_matches(['<', '>']).to_string();
            attuale.destinatari.push(a);
            b"250 ok\r\n"
        } else if comando == "DATA" {
            scrittura.write_all(b"354 avanti\r\n").await.unwrap();
            while let Ok(Some(l)) = righe.next_line().await {
                if l == "." {
                    break;
                }
                attuale.testo.push_str(&l);
                attuale.testo.push('\n');
            }
            ricevuti.lock().unwrap().push(std::mem::take(&mut attuale));
            b"250 consegnato\r\n"
        } else if comando == "QUIT" {
            scrittura.write_all(b"221 ciao\r\n").await.unwrap();
            return;
        } else {
            // MAIL FROM, RSET, NOOP.
            b"250 ok\r\n"
        };
        scrittura.write_all(risposta).await.unwrap();
    }
}

/// operatore.polizia submits the example under the manual convention with Roma.
async fn invia_richiesta(app: &TestApp) -> i64 {
    let seme = &app.seme;
    let conv = &seme.convenzione_manuale;
    let righe = web::demo::righe_da_testo(web::demo::RICHIESTA_ESEMPIO).unwrap();
    let ist = worker::Istantanea::componi(&app.store, conv.id, seme.standard.id, "LoA2")
        .await
        .unwrap();
    let nuova = NuovaRichiesta {
        convenzione_id: conv.id,
        utente_id: seme.standard.id,
        motivo: "PROT-2026-42".into(),
        data_riferimento: "2026-03-02".into(),
        snapshot: ist.json(),
    };
    let id = app
        .store
        .crea_richiesta(&nuova, &righe, &seme.standard.attore)
        .await
        .unwrap();
    worker::invio::invia(
        &app.store,
        id,
        &seme.standard.dominio(seme.standard.id, conv.comune_id),
        &seme.standard.attore,
        app.stato.adesso_ms(),
    )
    .await
    .unwrap();
    id
}

/// top.roma acts on request `id` (`Approva` or `Respingi`).
async fn decide(app: &TestApp, id: i64, azione: Azione, nota: Option<&str>) {
    let seme = &app.seme;
    let r = app.store.richiesta(id).await.unwrap();
    let da = StatoRichiesta::parse(&r.stato).unwrap();
    let chi = seme
        .top
        .dominio(r.utente_id, seme.convenzione_manuale.comune_id);
    let EsitoTransizione::Stato(a) = domain::richiesta::transizione(da, &azione, &chi).unwrap()
    else {
        panic!("transizione inattesa");
    };
    app.store
        .cambia_stato_richiesta(id, &[da.as_str()], a.as_str(), nota, &seme.top.attore)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifiche_al_top_e_al_richiedente() {
    let app = avvia().await;
    let top = app.connesso("top.roma").await;
    let op = app.connesso("operatore.polizia").await;
    let vuota = top.get("/notifiche").await;
    assert_eq!(vuota.stato, 200);
    assert!(vuota.corpo.contains("Non ci sono notifiche"));

    let id = invia_richiesta(&app).await;
    let r = top.get("/notifiche").await;
    assert!(
        r.corpo
            .contains(&format!("Richiesta n. {id} da convalidare")),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("Polizia Locale di Roma ha inviato"));
    assert!(r.corpo.contains("href=\"/convalida\""));
    assert!(r.corpo.contains(" contatore\""), "counter in the header");
    // Milano's TOP and the submitter have nothing yet.
    let milano = app.connesso("top.milano").await;
    assert!(
        milano
            .get("/notifiche")
            .await
            .corpo
            .contains("Non ci sono notifiche")
    );
    assert!(
        op.get("/notifiche")
            .await
            .corpo
            .contains("Non ci sono notifiche")
    );

    decide(&app, id, Azione::Approva, None).await;
    app.elabora_tutto().await;
    assert_eq!(app.store.richiesta(id).await.unwrap().stato, "COMPLETATA");
    let r = op.get("/notifiche").await;
    assert!(
        r.corpo.contains(&format!("Richiesta n. {id} approvata")),
        "{}",
        r.corpo
    );
    assert!(
        r.corpo.contains("convalidata dall&#39;Anagrafe")
            || r.corpo.contains("convalidata dall'Anagrafe"),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains(&format!("Richiesta n. {id} completata")));
    let pubblico = app.stato.ids.codifica(Tipo::Richiesta, id);
    assert!(r.corpo.contains(&format!("/richieste/{pubblico}")));
    let completata = r.corpo.find("completata").unwrap();
    let approvata = r.corpo.find("approvata").unwrap();
    assert!(completata < approvata, "newest first");

    // Rejected with a reason.
    let id2 = invia_richiesta(&app).await;
    decide(
        &app,
        id2,
        Azione::Respingi {
            motivo: "manca il numero di protocollo".into(),
        },
        Some("manca il numero di protocollo"),
    )
    .await;
    let r = op.get("/notifiche").await;
    assert!(r.corpo.contains(&format!("Richiesta n. {id2} respinta")));
    assert!(r.corpo.contains("Motivo: manca il numero di protocollo"));
    assert_eq!(
        web::notifiche::non_lette(&app.stato, app.seme.standard.id).await,
        3
    );

    // Mark one read (someone else cannot), then all.
    let mie = app
        .store
        .notifiche(app.seme.standard.id, app.stato.adesso_ms(), 10)
        .await
        .unwrap();
    let una = app.stato.ids.codifica(Tipo::Notifica, mie[0].id);
    let r = top.post_form(&format!("/notifiche/{una}/letta"), &[]).await;
    assert_eq!(r.stato, 404);
    let r = op.post_form(&format!("/notifiche/{una}/letta"), &[]).await;
    assert_eq!((r.stato, r.location()), (303, Some("/notifiche")));
    assert_eq!(
        web::notifiche::non_lette(&app.stato, app.seme.standard.id).await,
        2
    );
    let r = op.post_form_senza_csrf("/notifiche/lette", &[]).await;
    assert_eq!(r.stato, 403, "CSRF");
    let r = op.post_form("/notifiche/lette", &[]).await;
    assert_eq!(r.stato, 303);
    assert_eq!(
        web::notifiche::non_lette(&app.stato, app.seme.standard.id).await,
        0
    );
    assert!(!op.get("/notifiche").await.corpo.contains(" contatore\""));
    assert_eq!(op.post_form("/notifiche/1-abc/letta", &[]).await.stato, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_tramite_smtp() {
    let (indirizzo, ricevuti) = avvia_sink().await;
    let app = avvia_con(|cfg| {
        cfg.smtp = Some(ConfigSmtp {
            url: format!("smtp://{indirizzo}").parse().unwrap(),
            mittente: "Rivesto <rivesto@comune.example.it>".into(),
        });
        cfg.public_url = Some("https://rivesto.comune.example.it/".parse().unwrap());
    })
    .await;
    let a = web::demo::attore_demo();
    let top = app.id_utente("top.roma").await;
    app.store
        .imposta_email(top, Some("anagrafe@comune.example.it"), &a)
        .await
        .unwrap();
    app.store
        .imposta_email(app.seme.standard.id, Some("agente@pl.example.it"), &a)
        .await
        .unwrap();

    let id = invia_richiesta(&app).await;
    assert_eq!(
        web::notifiche::invia_posta_dovuta(&app.stato)
            .await
            .unwrap(),
        1
    );
    {
        let posta = ricevuti.lock().unwrap();
        assert_eq!(posta.len(), 1);
        assert_eq!(posta[0].destinatari, ["anagrafe@comune.example.it"]);
        let t = &posta[0].testo;
        assert!(
            t.contains(&format!(
                "Subject: [Rivesto] Richiesta n. {id} da convalidare"
            )),
            "{t}"
        );
        assert!(
            t.contains("https://rivesto.comune.example.it/notifiche"),
            "{t}"
        );
        // No citizen data: none of the example's identifiers.
        assert!(!t.contains("RSSMRA"), "{t}");
    }
    // Nothing left: a second pass sends nothing.
    assert_eq!(
        web::notifiche::invia_posta_dovuta(&app.stato)
            .await
            .unwrap(),
        0
    );

    // The dispatcher task delivers the rejection to the submitter.
    decide(
        &app,
        id,
        Azione::Respingi {
            motivo: "dati del cittadino nel motivo".into(),
        },
        Some("dati del cittadino nel motivo"),
    )
    .await;
    let compito = web::notifiche::avvia_posta(app.stato.clone());
    // The sink holds the message as soon as the data ends; the dispatcher records it as sent
    // only after the SMTP exchange is over. Wait for both (up to 30 s on a loaded machine)
    // before stopping the task, which would otherwise be cut off in between.
    for _ in 0..600 {
        let stato_email = app
            .store
            .notifiche(app.seme.standard.id, app.stato.adesso_ms(), 10)
            .await
            .unwrap()
            .first()
            .map(|n| n.email_stato.clone());
        if ricevuti.lock().unwrap().len() == 2 && stato_email.as_deref() == Some("INVIATA") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    compito.abort();
    let posta = ricevuti.lock().unwrap().clone();
    assert_eq!(posta.len(), 2);
    assert_eq!(posta[1].destinatari, ["agente@pl.example.it"]);
    assert!(
        posta[1]
            .testo
            .contains(&format!("Subject: [Rivesto] Richiesta n. {id} respinta"))
    );
    // The free-text reason stays behind the sign-in.
    assert!(
        !posta[1].testo.contains("dati del cittadino"),
        "{}",
        posta[1].testo
    );
    let n = app
        .store
        .notifiche(app.seme.standard.id, app.stato.adesso_ms(), 10)
        .await
        .unwrap();
    assert_eq!(n[0].email_stato, "INVIATA");
}

#[tokio::test]
async fn smtp_irraggiungibile_riprova_poi_rinuncia() {
    // A port with nobody listening.
    let chiuso = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let app = avvia_con(|cfg| {
        cfg.smtp = Some(ConfigSmtp {
            url: format!("smtp://{chiuso}").parse().unwrap(),
            mittente: "rivesto@comune.example.it".into(),
        });
    })
    .await;
    let u = app.seme.standard.id;
    app.store
        .imposta_email(u, Some("agente@pl.example.it"), &web::demo::attore_demo())
        .await
        .unwrap();
    let n = app
        .store
        .crea_notifica(
            &store::notifiche::NuovaNotifica {
                utente_id: u,
                richiesta_id: None,
                tipo: "COMPLETATA".into(),
                titolo: "Prova".into(),
                testo: "Prova".into(),
                visibile_dal_ms: None,
            },
            app.stato.adesso_ms(),
        )
        .await
        .unwrap();
    for tentativo in 1..=store::notifiche::MAX_TENTATIVI_EMAIL {
        assert_eq!(
            web::notifiche::invia_posta_dovuta(&app.stato)
                .await
                .unwrap(),
            0
        );
        let (stato, tentativi, errore) = app.store.stato_email_notifica(n).await.unwrap();
        assert_eq!(tentativi, tentativo);
        assert!(errore.is_some());
        let atteso = if tentativo == store::notifiche::MAX_TENTATIVI_EMAIL {
            "FALLITA"
        } else {
            "DA_INVIARE"
        };
        assert_eq!(stato, atteso);
        app.orologio.avanza_ms(3_600_000);
    }
}

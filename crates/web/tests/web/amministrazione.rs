//! Tests: amministrazione (TOP: ANPR access, Enti, conventions, ADMIN users; ADMIN: STANDARD
//! users and profiles; tenancy).

use crate::aiuto::{Browser, TestApp, avvia};
use domain::ambito::Ambito;
use domain::gruppi::GruppoCampi;
use web::ids::Tipo;

/// The demo's onboarding files for Roma, as `anpr-sim init` wrote them.
fn file_onboarding_roma(app: &TestApp) -> (Vec<u8>, Vec<u8>) {
    let dir = app.cartella.path().join("anpr-sim").join("058091");
    let toml = std::fs::read(dir.join("anpr.toml")).unwrap();
    let chiave = std::fs::read(dir.join("chiave-client.pem")).unwrap();
    (toml, chiave)
}

/// The Comune channel's certificates and keys that `anpr-sim init` wrote for Roma, by name.
fn file_ws_roma(app: &TestApp) -> Vec<(&'static str, Vec<u8>)> {
    let dir = app
        .cartella
        .path()
        .join("anpr-sim")
        .join("058091")
        .join("ws-058091");
    [
        anpr_sim::init::FILE_CO_CERT,
        anpr_sim::init::FILE_CO_KEY,
        anpr_sim::init::FILE_PC_CERT,
        anpr_sim::init::FILE_PC_KEY,
    ]
    .into_iter()
    .map(|n| (n, std::fs::read(dir.join(n)).unwrap()))
    .collect()
}

fn modulo_onboarding(toml: &[u8], file: &[(&str, &[u8])]) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new().part(
        "toml",
        reqwest::multipart::Part::bytes(toml.to_vec()).file_name("anpr.toml"),
    );
    for (nome, dati) in file {
        f = f.part(
            "file",
            reqwest::multipart::Part::bytes(dati.to_vec()).file_name(nome.to_string()),
        );
    }
    f
}

fn id(app: &TestApp, tipo: Tipo, n: i64) -> String {
    app.stato.ids.codifica(tipo, n)
}

async fn id_ente(app: &TestApp, codice: &str) -> i64 {
    app.store.ente_per_codice(codice).await.unwrap().unwrap().id
}

// The ANPR client's store adapters block in place: a multi-threaded runtime, as in production.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_carica_l_onboarding_e_verifica_il_collegamento() {
    let app = avvia().await;
    let top = app.connesso("top.roma").await;
    let (toml, chiave) = file_onboarding_roma(&app);
    let chiave_testo = String::from_utf8(chiave.clone()).unwrap();
    let riga_segreta = chiave_testo.lines().nth(1).unwrap().to_string();

    let pagina = top.get("/amministrazione/anpr").await;
    assert_eq!(pagina.stato, 200);
    assert!(pagina.corpo.contains("chiave-client.pem"));

    // The key is missing: refused with the name to add, nothing changes.
    let r = top
        .post_multipart("/amministrazione/anpr", modulo_onboarding(&toml, &[]))
        .await;
    assert_eq!(r.stato, 400, "{}", r.corpo);
    assert!(
        r.corpo.contains("chiave-client.pem non è stato caricato"),
        "{}",
        r.corpo
    );

    // Without the Comune channel's files: the message names the first one missing.
    let r = top
        .post_multipart(
            "/amministrazione/anpr",
            modulo_onboarding(&toml, &[("chiave-client.pem", &chiave)]),
        )
        .await;
    assert_eq!(r.stato, 400, "{}", r.corpo);
    assert!(r.corpo.contains("[anpr_ws]."), "{}", r.corpo);

    let ws = file_ws_roma(&app);
    let mut caricati: Vec<(&str, &[u8])> = vec![("chiave-client.pem", &chiave), ("note.txt", b"x")];
    caricati.extend(ws.iter().map(|(n, d)| (*n, d.as_slice())));
    let r = top
        .post_multipart("/amministrazione/anpr", modulo_onboarding(&toml, &caricati))
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(
        r.corpo.contains("Accesso ANPR aggiornato: 5 file"),
        "{}",
        r.corpo
    );
    assert!(
        r.corpo.contains(anpr_sim::init::FILE_PC_CERT),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("note.txt"));
    assert!(r.corpo.contains("chiave-client.pem"));
    assert!(
        r.corpo
            .contains(&domain::numeri::migliaia(chiave.len() as u64))
    );
    for corpo in [&r.corpo, &top.get("/amministrazione/anpr").await.corpo] {
        assert!(!corpo.contains("PRIVATE KEY"), "key content shown");
        assert!(!corpo.contains(&riga_segreta), "key content shown");
    }
    let roma = app.store.comune_per_istat("058091").await.unwrap().unwrap();
    let accesso = app
        .store
        .accesso_anpr(roma.id, &app.stato.chiave)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        accesso.file["chiave-client.pem"].esponi(),
        chiave.as_slice()
    );

    // The /status probe with the stored access, against the running simulator.
    let r = top.post_form("/amministrazione/anpr/verifica", &[]).await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("riuscita</span>"), "{}", r.corpo);
    assert!(r.corpo.contains("voucher PDND ottenuto"), "{}", r.corpo);
    assert!(r.corpo.contains("raggiungibile (HTTP 200)"), "{}", r.corpo);
    assert!(!r.corpo.contains("non riuscita"), "{}", r.corpo);

    // TestConn on the Comune's channel, with the stored certificates.
    let r = top
        .post_form("/amministrazione/anpr/verifica-ws", &[])
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(
        r.corpo.contains("Verifica del canale del Comune"),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("riuscita</span>"), "{}", r.corpo);
    assert!(
        r.corpo.contains("TestConn: risposta ricevuta"),
        "{}",
        r.corpo
    );
    assert!(!r.corpo.contains("non riuscita"), "{}", r.corpo);
    assert!(!r.corpo.contains("PRIVATE KEY"), "{}", r.corpo);
    let verifiche = app
        .store
        .ultimo_audit("comune:058091", "ANPR_VERIFICA_TESTCONN")
        .await
        .unwrap();
    assert!(verifiche.is_some());

    // A lookup needs a valid CF and a motivo; it is archived without the CF.
    let r = top
        .post_form(
            "/amministrazione/anpr/ricerca",
            &[("cf", "NONVALIDO"), ("motivo", "P-1")],
        )
        .await;
    assert_eq!(r.stato, 400);
    assert!(r.corpo.contains("codice fiscale non è valido"));
    let r = top
        .post_form(
            "/amministrazione/anpr/ricerca",
            &[("cf", "RSSMRA85T10A562S"), ("motivo", " ")],
        )
        .await;
    assert_eq!(r.stato, 400);
    let r = top
        .post_form(
            "/amministrazione/anpr/ricerca",
            &[("cf", "RSSMRA85T10A562S"), ("motivo", "PROT-2026-7")],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("Ricerca di prova (C030)"), "{}", r.corpo);
    let voci = app.store.voci_audit(0, 10_000).await.unwrap();
    let ricerca = voci
        .iter()
        .find(|v| v.azione == "ANPR_VERIFICA_RICERCA")
        .expect("lookup archived");
    assert_eq!(ricerca.attore, "top.roma");
    assert!(
        !ricerca.dettagli.contains("RSSMRA85T10A562S"),
        "{}",
        ricerca.dettagli
    );
    assert!(ricerca.dettagli.contains("cf_hmac"), "{}", ricerca.dettagli);
    assert!(ricerca.dettagli.contains("PROT-2026-7"));
    assert!(voci.iter().any(|v| v.azione == "ANPR_VERIFICA_STATUS"));

    // Not for other roles.
    let admin = app.connesso("admin.polizia").await;
    assert_eq!(admin.get("/amministrazione/anpr").await.stato, 403);
}

#[tokio::test]
async fn top_crea_ente_convenzione_e_admin() {
    let app = avvia().await;
    let top = app.connesso("top.roma").await;
    top.get("/amministrazione/enti").await;
    let r = top
        .post_form(
            "/amministrazione/enti",
            &[
                ("nome", "Comando Carabinieri"),
                ("tipo_codice", "CF"),
                ("codice", "80012345678"),
                ("codice_ufficio", "CC-ROMA-01-UFFICIO-LUNGO"),
            ],
        )
        .await;
    assert_eq!(r.stato, 400);
    assert!(r.corpo.contains("al massimo 20 caratteri"));
    let r = top
        .post_form(
            "/amministrazione/enti",
            &[
                ("nome", "Comando Carabinieri"),
                ("tipo_codice", "CF"),
                ("codice", "80012345678"),
                ("codice_ufficio", "CC-ROMA"),
            ],
        )
        .await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let ente_id = id_ente(&app, "80012345678").await;
    let pubblico = id(&app, Tipo::Ente, ente_id);
    assert_eq!(
        r.location(),
        Some(format!("/amministrazione/convenzioni/nuova?ente={pubblico}").as_str())
    );
    // Not convened yet: its page is out of scope, but the search finds it.
    assert_eq!(
        top.get(&format!("/amministrazione/enti/{pubblico}"))
            .await
            .stato,
        404
    );
    let r = top.get("/amministrazione/enti?codice=80012345678").await;
    assert!(r.corpo.contains("Comando Carabinieri"));
    let r = top
        .get(&format!(
            "/amministrazione/convenzioni/nuova?ente={pubblico}"
        ))
        .await;
    assert_eq!(r.stato, 200);
    assert!(
        r.corpo
            .contains("Nuova convenzione con Comando Carabinieri")
    );

    let ente = pubblico.as_str();
    let r = top
        .post_form(
            "/amministrazione/convenzioni",
            &[
                ("ente", ente),
                ("nome", "Carabinieri - Roma: verifiche"),
                ("campi", "generalita"),
                ("campi", "residenza"),
                ("ambito", "COMUNE"),
                ("approvazione", "SILENZIO_ASSENSO"),
                ("ritardo_ore", "2"),
                ("finalita_C030", "purpose-cc-030"),
                ("valida_dal", "2026-03-01"),
                ("max_righe_richiesta", "500"),
                ("conservazione_giorni", "10"),
            ],
        )
        .await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let roma = app.store.comune_per_istat("058091").await.unwrap().unwrap();
    let conv = app.store.convenzioni(ente_id, true).await.unwrap();
    assert_eq!(conv.len(), 1);
    let c = &conv[0];
    assert_eq!((c.comune_id, c.ambito), (roma.id, Ambito::Comune));
    assert_eq!(c.campi, [GruppoCampi::Generalita, GruppoCampi::Residenza]);
    assert_eq!(
        c.approvazione,
        store::anagrafiche::Approvazione::SilenzioAssenso {
            ritardo_ms: 7_200_000
        }
    );
    assert_eq!(c.finalita["C030"], "purpose-cc-030");
    assert_eq!(
        (c.max_righe_richiesta, c.conservazione_giorni),
        (Some(500), 10)
    );

    let pagina = top.get(&format!("/amministrazione/enti/{pubblico}")).await;
    assert_eq!(pagina.stato, 200);
    assert!(pagina.corpo.contains("Carabinieri - Roma: verifiche"));
    let r = top
        .post_form(
            &format!("/amministrazione/enti/{pubblico}/admin"),
            &[
                ("username", "admin.carabinieri"),
                ("email", "admin@cc.example.it"),
            ],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("segreto-mostrato"));
    assert_eq!(r.intestazione("cache-control"), Some("no-store"));
    let admin = app
        .store
        .utente_per_username("admin.carabinieri")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (admin.ruolo.as_str(), admin.ente_id),
        ("ADMIN", Some(ente_id))
    );
    assert_eq!(
        app.store.email_utente(admin.id).await.unwrap().as_deref(),
        Some("admin@cc.example.it")
    );
    // The same username again: refused.
    let r = top
        .post_form(
            &format!("/amministrazione/enti/{pubblico}/admin"),
            &[("username", "admin.carabinieri"), ("email", "")],
        )
        .await;
    assert_eq!(r.stato, 400);
    assert!(r.corpo.contains("già in uso"));
    // Disable, enable, reset.
    let uid = id(&app, Tipo::Utente, admin.id);
    let azione = format!("/amministrazione/enti/{pubblico}/admin/{uid}");
    let r = top
        .post_form(&format!("{azione}/attivo"), &[("attivo", "no")])
        .await;
    assert_eq!(r.stato, 303);
    assert!(!app.store.utente(admin.id).await.unwrap().attivo);
    top.post_form(&format!("{azione}/attivo"), &[("attivo", "si")])
        .await;
    assert!(app.store.utente(admin.id).await.unwrap().attivo);
    let r = top.post_form(&format!("{azione}/reset"), &[]).await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("Accesso reimpostato"));
    // The new Ente is now in the list.
    assert!(
        top.get("/amministrazione/enti")
            .await
            .corpo
            .contains("Comando Carabinieri")
    );
}

async fn scheda_utente(app: &TestApp, b: &Browser, username: &str) -> (i64, String) {
    let u = app
        .store
        .utente_per_username(username)
        .await
        .unwrap()
        .unwrap();
    let pubblico = id(app, Tipo::Utente, u.id);
    assert_eq!(
        b.get(&format!("/amministrazione/utenti/{pubblico}"))
            .await
            .stato,
        200
    );
    (u.id, pubblico)
}

#[tokio::test]
async fn admin_crea_utente_standard_con_profilo() {
    let app = avvia().await;
    let admin = app.connesso("admin.polizia").await;
    let r = admin.get("/amministrazione/utenti").await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("operatore.polizia"));
    let r = admin
        .post_form(
            "/amministrazione/utenti",
            &[
                ("username", "agente.bianchi"),
                ("email", "bianchi@pl.example.it"),
            ],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("Utenza creata: agente.bianchi"));
    let (uid, pubblico) = scheda_utente(&app, &admin, "agente.bianchi").await;
    let u = app.store.utente(uid).await.unwrap();
    let polizia = id_ente(&app, "02438750586").await;
    assert_eq!((u.ruolo.as_str(), u.ente_id), ("STANDARD", Some(polizia)));

    let conv = app
        .store
        .convenzioni(polizia, true)
        .await
        .unwrap()
        .remove(0);
    let conv_id = id(&app, Tipo::Convenzione, conv.id);
    let r = admin
        .post_form(
            &format!("/amministrazione/utenti/{pubblico}/profilo"),
            &[
                ("convenzione", &conv_id),
                ("campi", "generalita"),
                ("campi", "residenza"),
                ("ambito", "COMUNE"),
            ],
        )
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("Profilo per"));
    let p = app.store.profilo(uid, conv.id).await.unwrap().unwrap();
    assert_eq!(p.campi, [GruppoCampi::Generalita, GruppoCampi::Residenza]);
    assert_eq!(p.ambito, Ambito::Comune);
    // A group the convention does not grant: refused, profile unchanged.
    let r = admin
        .post_form(
            &format!("/amministrazione/utenti/{pubblico}/profilo"),
            &[
                ("convenzione", &conv_id),
                ("campi", "famiglia"),
                ("ambito", "COMUNE"),
            ],
        )
        .await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo.contains("non è previsto dalla convenzione"),
        "{}",
        r.corpo
    );
    assert_eq!(app.store.profilo(uid, conv.id).await.unwrap().unwrap(), p);

    // Disable and enable again.
    let r = admin
        .post_form(
            &format!("/amministrazione/utenti/{pubblico}/attivo"),
            &[("attivo", "no")],
        )
        .await;
    assert_eq!(r.stato, 303);
    assert!(!app.store.utente(uid).await.unwrap().attivo);
    assert!(
        admin
            .get("/amministrazione/utenti")
            .await
            .corpo
            .contains("disattivato")
    );
    admin
        .post_form(
            &format!("/amministrazione/utenti/{pubblico}/attivo"),
            &[("attivo", "si")],
        )
        .await;
    assert!(app.store.utente(uid).await.unwrap().attivo);
    let r = admin
        .post_form(&format!("/amministrazione/utenti/{pubblico}/reset"), &[])
        .await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("segreto-mostrato"));
}

#[tokio::test]
async fn profilo_piu_ampio_della_convenzione_rifiutato() {
    let app = avvia().await;
    // ASL's convention with Roma is limited to the Comune's residents.
    let admin = app.connesso("admin.asl").await;
    let (uid, pubblico) = scheda_utente(&app, &admin, "operatore.asl").await;
    let asl = id_ente(&app, "asl_rm1").await;
    let conv = app.store.convenzioni(asl, true).await.unwrap().remove(0);
    let prima = app.store.profilo(uid, conv.id).await.unwrap();
    let r = admin
        .post_form(
            &format!("/amministrazione/utenti/{pubblico}/profilo"),
            &[
                ("convenzione", &id(&app, Tipo::Convenzione, conv.id)),
                ("campi", "generalita"),
                ("ambito", "ITALIA"),
            ],
        )
        .await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo.contains("più ampio di quello della convenzione"),
        "{}",
        r.corpo
    );
    assert_eq!(app.store.profilo(uid, conv.id).await.unwrap(), prima);
}

#[tokio::test]
async fn fuori_ambito_risponde_404() {
    let app = avvia().await;
    let polizia = id_ente(&app, "02438750586").await;
    let ente = id(&app, Tipo::Ente, polizia);
    let admin_polizia = app.id_utente("admin.polizia").await;
    let uid_admin = id(&app, Tipo::Utente, admin_polizia);

    // Milano's TOP does not see Roma's Enti nor their ADMIN users.
    let milano = app.connesso("top.milano").await;
    assert!(
        !milano
            .get("/amministrazione/enti")
            .await
            .corpo
            .contains("Polizia Locale")
    );
    assert_eq!(
        milano
            .get(&format!("/amministrazione/enti/{ente}"))
            .await
            .stato,
        404
    );
    for azione in ["attivo", "reset"] {
        let r = milano
            .post_form(
                &format!("/amministrazione/enti/{ente}/admin/{uid_admin}/{azione}"),
                &[("attivo", "no")],
            )
            .await;
        assert_eq!(r.stato, 404, "{azione}");
        assert!(!r.corpo.contains("admin.polizia"));
    }
    let r = milano
        .post_form(
            &format!("/amministrazione/enti/{ente}/admin"),
            &[("username", "intruso"), ("email", "")],
        )
        .await;
    assert_eq!(r.stato, 404);
    assert!(
        app.store
            .utente_per_username("intruso")
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.store.utente(admin_polizia).await.unwrap().attivo);

    // Roma's TOP manages only ADMIN users: a STANDARD user through the Ente's URL is 404.
    let roma = app.connesso("top.roma").await;
    let operatore = id(&app, Tipo::Utente, app.id_utente("operatore.polizia").await);
    let r = roma
        .post_form(
            &format!("/amministrazione/enti/{ente}/admin/{operatore}/attivo"),
            &[("attivo", "no")],
        )
        .await;
    assert_eq!(r.stato, 404);
    // A forged or foreign-kind id is 404 too.
    assert_eq!(roma.get("/amministrazione/enti/1-00").await.stato, 404);
    assert_eq!(
        roma.get(&format!("/amministrazione/enti/{uid_admin}"))
            .await
            .stato,
        404
    );

    // ASL's ADMIN does not see the Polizia's users.
    let asl = app.connesso("admin.asl").await;
    assert!(
        !asl.get("/amministrazione/utenti")
            .await
            .corpo
            .contains("operatore.polizia")
    );
    assert_eq!(
        asl.get(&format!("/amministrazione/utenti/{operatore}"))
            .await
            .stato,
        404
    );
    let r = asl
        .post_form(
            &format!("/amministrazione/utenti/{operatore}/attivo"),
            &[("attivo", "no")],
        )
        .await;
    assert_eq!(r.stato, 404);
    assert!(
        app.store
            .utente(app.id_utente("operatore.polizia").await)
            .await
            .unwrap()
            .attivo
    );
    // Nor another ADMIN, even of its own kind of page.
    assert_eq!(
        asl.get(&format!("/amministrazione/utenti/{uid_admin}"))
            .await
            .stato,
        404
    );
    // A profile under another Ente's convention: 404.
    let (_, operatore_asl) = scheda_utente(&app, &asl, "operatore.asl").await;
    let conv_polizia = app
        .store
        .convenzioni(polizia, true)
        .await
        .unwrap()
        .remove(0);
    let r = asl
        .post_form(
            &format!("/amministrazione/utenti/{operatore_asl}/profilo"),
            &[
                ("convenzione", &id(&app, Tipo::Convenzione, conv_polizia.id)),
                ("campi", "generalita"),
                ("ambito", "COMUNE"),
            ],
        )
        .await;
    assert_eq!(r.stato, 404);
    // Roles: a STANDARD user gets 403 on administration pages.
    let op = app.connesso("operatore.polizia").await;
    assert_eq!(op.get("/amministrazione/utenti").await.stato, 403);
    assert_eq!(op.get("/amministrazione/enti").await.stato, 403);
}

/// Roma's onboarding (its Comune channel speaks as 058091) uploaded by Milano's TOP: refused,
/// nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l_onboarding_di_un_altro_comune_e_rifiutato() {
    let app = avvia().await;
    let top = app.connesso("top.milano").await;
    let (toml, file) = app.onboarding_roma();
    let milano = app.store.comune_per_istat("015146").await.unwrap().unwrap();
    let prima = app
        .store
        .accesso_anpr(milano.id, &app.stato.chiave)
        .await
        .unwrap()
        .unwrap();
    let caricati: Vec<(&str, &[u8])> = file
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let r = top
        .post_multipart("/amministrazione/anpr", modulo_onboarding(&toml, &caricati))
        .await;
    assert_eq!(r.stato, 400, "{}", r.corpo);
    assert!(
        r.corpo.contains("[anpr_ws].id_sede è 058091"),
        "{}",
        r.corpo
    );
    let dopo = app
        .store
        .accesso_anpr(milano.id, &app.stato.chiave)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(prima.toml, dopo.toml);
}

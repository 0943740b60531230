//! The archive's coverage (issue 6): every action of the list appends exactly one audit
//! entry, with the right actor, role, Comune and Ente; and no identifier or personal data field
//! ever reaches the audit tables.
//!
//! Scope of an entry, as the monitoring pages read it: an entry about a request carries the
//! Comune and Ente of its convention (the worker's too, whose actor is `sistema`); an entry
//! about an account carries the account's Comune and Ente; the rest carry the actor's.

use crate::aiuto::{self, Browser, Risposta, TestApp};
use std::future::Future;
use store::VoceAudit;
use store::richieste::stato;
use web::ids::Tipo;

const ROMA: &str = "058091";
const POLIZIA: &str = "02438750586";
const ASL: &str = "asl_rm1";

/// What one entry must say.
#[derive(Debug, Clone, Copy)]
struct Atteso<'a> {
    azione: &'a str,
    attore: &'a str,
    ruolo: Option<&'a str>,
    comune: Option<&'a str>,
    ente: Option<&'a str>,
}

fn atteso<'a>(
    azione: &'a str,
    attore: &'a str,
    ruolo: Option<&'a str>,
    comune: Option<&'a str>,
    ente: Option<&'a str>,
) -> Atteso<'a> {
    Atteso {
        azione,
        attore,
        ruolo,
        comune,
        ente,
    }
}

async fn ultimo_id(app: &TestApp) -> i64 {
    app.store
        .voci_audit(0, 1_000_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |v| v.id)
}

async fn nuove(app: &TestApp, dopo: i64) -> Vec<VoceAudit> {
    app.store.voci_audit(dopo, 1_000_000).await.unwrap()
}

fn controlla(v: &VoceAudit, a: Atteso) {
    assert_eq!(
        (
            v.azione.as_str(),
            v.attore.as_str(),
            v.ruolo.as_deref(),
            v.comune.as_deref(),
            v.ente.as_deref()
        ),
        (a.azione, a.attore, a.ruolo, a.comune, a.ente),
        "{v:?}"
    );
}

/// Runs `azione` and checks that it appended exactly one entry, as `a` says. Returns it.
async fn una_voce<T>(app: &TestApp, a: Atteso<'_>, azione: impl Future<Output = T>) -> VoceAudit {
    let prima = ultimo_id(app).await;
    azione.await;
    let mut v = nuove(app, prima).await;
    assert_eq!(v.len(), 1, "{}: {v:#?}", a.azione);
    let v = v.remove(0);
    controlla(&v, a);
    v
}

async fn accedi(b: &Browser, username: &str, password: &str) -> Risposta {
    b.get("/").await;
    b.post_form("/accedi", &[("username", username), ("password", password)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accessi_e_uscite() {
    let app = aiuto::avvia().await;
    let asl = Some("STANDARD");
    let b = app.browser();
    let giusta = app.password("operatore.asl");
    let ok = atteso("ACCESSO", "operatore.asl", asl, Some(ROMA), Some(ASL));
    let v = una_voce(&app, ok, async {
        assert_eq!(accedi(&b, "operatore.asl", &giusta).await.stato, 303);
    })
    .await;
    assert!(v.dettagli.contains("LoA1"), "{}", v.dettagli);
    let uscita = atteso("USCITA", "operatore.asl", asl, Some(ROMA), Some(ASL));
    una_voce(&app, uscita, async {
        b.get("/").await;
        assert_eq!(b.post_form("/esci", &[]).await.stato, 303);
    })
    .await;

    let fallito = atteso(
        "ACCESSO_FALLITO",
        "operatore.asl",
        asl,
        Some(ROMA),
        Some(ASL),
    );
    let v = una_voce(&app, fallito, async {
        let r = accedi(&app.browser(), "operatore.asl", "sbagliata-sbagliata").await;
        assert_eq!(r.stato, 401);
    })
    .await;
    assert!(!v.dettagli.contains("sbagliata"));
    let ignoto = atteso("ACCESSO_FALLITO", "sconosciuto", None, None, None);
    let v = una_voce(&app, ignoto, async {
        let r = accedi(&app.browser(), "nessuno.qui", "sbagliata-sbagliata").await;
        assert_eq!(r.stato, 401);
    })
    .await;
    assert_eq!(v.oggetto, "accesso");
    assert!(
        !v.dettagli.contains("nessuno.qui"),
        "the typed name is not kept"
    );

    // A disabled account with its right password: refused, and recorded.
    let id = app.id_utente("operatore.tribunale").await;
    app.store
        .imposta_utente_attivo(id, false, &store::Attore::sistema())
        .await
        .unwrap();
    let tribunale = atteso(
        "ACCESSO_FALLITO",
        "operatore.tribunale",
        Some("STANDARD"),
        Some("015146"),
        Some("97103880585"),
    );
    let v = una_voce(&app, tribunale, async {
        let giusta = app.password("operatore.tribunale");
        let r = accedi(&app.browser(), "operatore.tribunale", &giusta).await;
        assert_eq!(r.stato, 403);
    })
    .await;
    assert!(v.dettagli.contains("disattivato"), "{}", v.dettagli);

    // Throttled: the refused attempt is recorded once, as a block, not as a further failure.
    for _ in 0..4 {
        accedi(&app.browser(), "operatore.asl", "sbagliata-sbagliata").await;
    }
    let bloccato = atteso(
        "ACCESSO_BLOCCATO",
        "operatore.asl",
        asl,
        Some(ROMA),
        Some(ASL),
    );
    una_voce(&app, bloccato, async {
        let r = accedi(&app.browser(), "operatore.asl", &giusta).await;
        assert_eq!(r.stato, 429);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codice_sbagliato_all_iscrizione_del_secondo_fattore() {
    let app = aiuto::avvia().await;
    let b = app.browser();
    // A TOP without a TOTP enrols one at sign-in; a wrong first code is a failed sign-in.
    assert_eq!(
        accedi(&b, "top.milano", &app.password("top.milano"))
            .await
            .stato,
        303
    );
    b.get("/").await;
    let a = atteso(
        "ACCESSO_FALLITO",
        "top.milano",
        Some("TOP"),
        Some("015146"),
        None,
    );
    let v = una_voce(&app, a, async {
        let r = b
            .post_form("/accedi/totp/iscrizione", &[("codice", "12345")])
            .await;
        assert_eq!(r.stato, 400);
    })
    .await;
    assert!(v.dettagli.contains("totp-iscrizione"), "{}", v.dettagli);
}

fn id(app: &TestApp, tipo: Tipo, n: i64) -> String {
    app.stato.ids.codifica(tipo, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amministrazione_del_top() {
    let app = aiuto::avvia().await;
    let top = app.connesso("top.roma").await;
    top.get("/amministrazione/enti").await;
    const CC: &str = "80012345678";
    let ente = atteso("ENTE_CREATO", "top.roma", Some("TOP"), Some(ROMA), Some(CC));
    una_voce(&app, ente, async {
        let campi = [
            ("nome", "Comando Carabinieri"),
            ("tipo_codice", "CF"),
            ("codice", CC),
            ("codice_ufficio", "CC-ROMA"),
        ];
        assert_eq!(
            top.post_form("/amministrazione/enti", &campi).await.stato,
            303
        );
    })
    .await;
    let ente_id = app.store.ente_per_codice(CC).await.unwrap().unwrap().id;
    let pubblico = id(&app, Tipo::Ente, ente_id);
    let conv = atteso(
        "CONVENZIONE_CREATA",
        "top.roma",
        Some("TOP"),
        Some(ROMA),
        Some(CC),
    );
    una_voce(&app, conv, async {
        let campi = [
            ("ente", pubblico.as_str()),
            ("nome", "Carabinieri - Roma"),
            ("campi", "generalita"),
            ("ambito", "COMUNE"),
            ("approvazione", "MANUALE"),
            ("finalita_C030", "purpose-cc-030"),
            ("valida_dal", "2026-03-01"),
            ("conservazione_giorni", "10"),
        ];
        let r = top.post_form("/amministrazione/convenzioni", &campi).await;
        assert_eq!(r.stato, 303, "{}", r.corpo);
    })
    .await;
    // One account, its address and its first reset code: one action, one entry, with the
    // account's Ente so that the Ente's own administrators find it.
    let admin = atteso(
        "UTENTE_CREATO",
        "top.roma",
        Some("TOP"),
        Some(ROMA),
        Some(CC),
    );
    let v = una_voce(&app, admin, async {
        let campi = [("username", "admin.cc"), ("email", "admin@cc.example.it")];
        let r = top
            .post_form(&format!("/amministrazione/enti/{pubblico}/admin"), &campi)
            .await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
    assert!(!v.dettagli.contains("example.it"), "{}", v.dettagli);
    let uid = id(&app, Tipo::Utente, app.id_utente("admin.cc").await);
    let base = format!("/amministrazione/enti/{pubblico}/admin/{uid}");
    for (azione, percorso, campi) in [
        ("UTENTE_DISATTIVATO", "attivo", vec![("attivo", "no")]),
        ("UTENTE_RIATTIVATO", "attivo", vec![("attivo", "si")]),
        ("RESET_PASSWORD_EMESSO", "reset", vec![]),
    ] {
        let a = atteso(azione, "top.roma", Some("TOP"), Some(ROMA), Some(CC));
        una_voce(&app, a, async {
            let r = top.post_form(&format!("{base}/{percorso}"), &campi).await;
            assert!([200, 303].contains(&r.stato), "{azione}: {}", r.corpo);
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accesso_anpr_del_comune() {
    let app = aiuto::avvia().await;
    let top = app.connesso("top.roma").await;
    top.get("/amministrazione/anpr").await;
    let dir = app.cartella.path().join("anpr-sim").join(ROMA);
    let toml = std::fs::read(dir.join("anpr.toml")).unwrap();
    let chiave = std::fs::read(dir.join("chiave-client.pem")).unwrap();
    let a = atteso(
        "ACCESSO_ANPR_IMPOSTATO",
        "top.roma",
        Some("TOP"),
        Some(ROMA),
        None,
    );
    let v = una_voce(&app, a, async {
        let mut f = reqwest::multipart::Form::new()
            .part(
                "toml",
                reqwest::multipart::Part::bytes(toml.clone()).file_name("anpr.toml"),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(chiave.clone()).file_name("chiave-client.pem"),
            );
        // The Comune channel's certificates and keys, which the TOML names too.
        for (nome, dati) in app.onboarding_roma().1.into_iter().skip(1) {
            f = f.part(
                "file",
                reqwest::multipart::Part::bytes(dati).file_name(nome),
            );
        }
        let r = top.post_multipart("/amministrazione/anpr", f).await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
    // The file's name, never its content.
    assert!(v.dettagli.contains("chiave-client.pem"));
    assert!(!v.dettagli.contains("PRIVATE"), "{}", v.dettagli);
    let a = atteso(
        "ANPR_VERIFICA_STATUS",
        "top.roma",
        Some("TOP"),
        Some(ROMA),
        None,
    );
    una_voce(&app, a, async {
        let r = top.post_form("/amministrazione/anpr/verifica", &[]).await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utenti_e_profili_dell_admin_e_del_profilo() {
    let app = aiuto::avvia().await;
    let admin = app.connesso("admin.polizia").await;
    admin.get("/amministrazione/utenti").await;
    fn adm(azione: &str) -> Atteso<'_> {
        atteso(
            azione,
            "admin.polizia",
            Some("ADMIN"),
            Some(ROMA),
            Some(POLIZIA),
        )
    }
    una_voce(&app, adm("UTENTE_CREATO"), async {
        let campi = [("username", "agente.bianchi"), ("email", "")];
        let r = admin.post_form("/amministrazione/utenti", &campi).await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
    let uid = id(&app, Tipo::Utente, app.id_utente("agente.bianchi").await);
    let polizia = app.store.ente_per_codice(POLIZIA).await.unwrap().unwrap();
    let conv = app.store.convenzioni(polizia.id, true).await.unwrap()[0].id;
    let conv = id(&app, Tipo::Convenzione, conv);
    let base = format!("/amministrazione/utenti/{uid}");
    let profilo = vec![
        ("convenzione", conv.as_str()),
        ("campi", "generalita"),
        ("ambito", "COMUNE"),
    ];
    for (azione, percorso, campi) in [
        ("PROFILO_IMPOSTATO", "profilo", profilo),
        ("UTENTE_DISATTIVATO", "attivo", vec![("attivo", "no")]),
        ("RESET_PASSWORD_EMESSO", "reset", vec![]),
    ] {
        una_voce(&app, adm(azione), async {
            let r = admin.post_form(&format!("{base}/{percorso}"), &campi).await;
            assert!([200, 303].contains(&r.stato), "{azione}: {}", r.corpo);
        })
        .await;
    }

    // The user's own changes.
    let op = app.connesso("operatore.asl").await;
    op.get("/profilo").await;
    fn io(azione: &str) -> Atteso<'_> {
        atteso(
            azione,
            "operatore.asl",
            Some("STANDARD"),
            Some(ROMA),
            Some(ASL),
        )
    }
    una_voce(&app, io("PASSWORD_CAMBIATA"), async {
        let attuale = app.password("operatore.asl");
        let nuova = "cavallo batteria graffetta";
        let campi = [
            ("attuale", attuale.as_str()),
            ("nuova", nuova),
            ("conferma", nuova),
        ];
        let r = op.post_form("/profilo/password", &campi).await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
    op.get("/profilo/token").await;
    una_voce(&app, io("TOKEN_API_CREATO"), async {
        let r = op
            .post_form("/profilo/token", &[("nome", "gestionale")])
            .await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
    let token = app
        .store
        .token_api_utente(app.id_utente("operatore.asl").await);
    let token = id(&app, Tipo::Token, token.await.unwrap()[0].id);
    una_voce(&app, io("TOKEN_API_REVOCATO"), async {
        let r = op
            .post_form(&format!("/profilo/token/{token}/revoca"), &[])
            .await;
        assert_eq!(r.stato, 303, "{}", r.corpo);
    })
    .await;
}

// --- Requests ------------------------------------------------------------------------------

/// Two valid CFs, one with a wrong check character, a repeat of the first: 4 rows.
pub(crate) const TESTO: &str =
    "STTSGT90A01H501J\nSGGTTV60A01H501T\nSTTSGT90A01H501X\nSTTSGT90A01H501J\n";

pub(crate) async fn convenzione(b: &Browser) -> String {
    let r = b.get("/richieste/nuova").await;
    let segno = "<option value=\"";
    let i = r.corpo.find(segno).expect("nessuna convenzione") + segno.len();
    r.corpo[i..].split('"').next().unwrap().to_string()
}

/// A BOZZA by text; its detail URL.
pub(crate) async fn bozza(b: &Browser, motivo: &str, testo: &str) -> String {
    let token = b.csrf.lock().unwrap().clone();
    let f = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("convenzione", convenzione(b).await)
        .text("motivo", motivo.to_string())
        .text("data_riferimento", "")
        .text("testo", testo.to_string());
    let r = b.post_multipart("/richieste/nuova", f).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    r.location().unwrap().to_string()
}

pub(crate) fn numero(app: &TestApp, url: &str) -> i64 {
    let pubblico = url.trim_start_matches("/richieste/");
    app.stato.ids.decodifica(Tipo::Richiesta, pubblico).unwrap()
}

pub(crate) async fn posta(b: &Browser, url: &str, azione: &str, campi: &[(&str, &str)]) {
    b.get(url).await;
    let r = b.post_form(&format!("{url}/{azione}"), campi).await;
    assert_eq!(r.stato, 303, "{azione}: {}", r.corpo);
}

/// The submitter's entries on a Polizia request, and the TOP's.
fn op<'a>(azione: &'a str) -> Atteso<'a> {
    atteso(
        azione,
        "operatore.polizia",
        Some("STANDARD"),
        Some(ROMA),
        Some(POLIZIA),
    )
}

fn top<'a>(azione: &'a str) -> Atteso<'a> {
    atteso(azione, "top.roma", Some("TOP"), Some(ROMA), Some(POLIZIA))
}

fn sistema<'a>(azione: &'a str, ente: &'a str) -> Atteso<'a> {
    atteso(azione, "sistema", None, Some(ROMA), Some(ente))
}

/// The entries about request `id`: the worker's passes may run other timers too.
fn della_richiesta(voci: Vec<VoceAudit>, id: i64) -> Vec<VoceAudit> {
    let oggetto = format!("richiesta:{id}");
    voci.into_iter().filter(|v| v.oggetto == oggetto).collect()
}

/// How many of `voci` have this action.
fn quante(voci: &[VoceAudit], azione: &str) -> usize {
    voci.iter().filter(|v| v.azione == azione).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ciclo_di_vita_di_una_richiesta() {
    let app = aiuto::avvia().await;
    let o = app.connesso("operatore.polizia").await;
    let t = app.connesso("top.roma").await;
    let mut url = String::new();
    let v = una_voce(&app, op("RICHIESTA_CREATA"), async {
        url = bozza(&o, "PROT-COPERTURA", TESTO).await;
    })
    .await;
    let id = numero(&app, &url);
    assert_eq!(v.oggetto, format!("richiesta:{id}"));
    una_voce(
        &app,
        op("RICHIESTA_IN_ATTESA_CONVALIDA"),
        posta(&o, &url, "invia", &[]),
    )
    .await;
    let v = una_voce(
        &app,
        top("RICHIESTA_CONVALIDATA"),
        posta(&t, &url, "approva", &[]),
    )
    .await;
    assert!(v.dettagli.contains("IN_ATTESA_CONVALIDA"), "{}", v.dettagli);

    // The worker: processing starts and ends once, every ANPR call is in exactly one chunk
    // entry, each file once; all as `sistema` with the request's Comune and Ente.
    let prima = ultimo_id(&app).await;
    app.elabora_tutto().await;
    let voci = della_richiesta(nuove(&app, prima).await, id);
    for v in &voci {
        controlla(v, sistema(&v.azione, POLIZIA));
    }
    assert_eq!(quante(&voci, "RICHIESTA_IN_ELABORAZIONE"), 1, "{voci:#?}");
    assert_eq!(quante(&voci, "RICHIESTA_COMPLETATA"), 1);
    let file = app.store.file_risposta(id).await.unwrap();
    assert_eq!(quante(&voci, "FILE_RISPOSTA_SCRITTO"), file.len());
    assert!(quante(&voci, "CHIAMATE_ANPR") >= 1);
    chiamate_tutte_registrate(&app, id, &voci).await;

    // The download, by the submitter.
    let pagina = o.get(&url).await;
    let i = pagina.corpo.find("/file/").expect("link di download");
    let inizio = pagina.corpo[..i].rfind('"').unwrap() + 1;
    let link = pagina.corpo[inizio..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let v = una_voce(&app, op("FILE_RISPOSTA_SCARICATO"), async {
        assert_eq!(o.scarica(&link).await.0, 200);
    })
    .await;
    assert!(v.dettagli.contains(&file[0].sha256));

    // The retention purge, 7 days later: once, by `sistema`.
    app.orologio.avanza_ms(8 * 86_400_000);
    let prima = ultimo_id(&app).await;
    app.elabora_tutto().await;
    let voci = della_richiesta(nuove(&app, prima).await, id);
    assert_eq!(voci.len(), 1, "{voci:#?}");
    controlla(&voci[0], sistema("RICHIESTA_PURGATA", POLIZIA));
}

/// The calls in the chunk entries are exactly the calls stored with the rows (duplicates copy
/// their original's, so they are left out).
async fn chiamate_tutte_registrate(app: &TestApp, id: i64, voci: &[VoceAudit]) {
    let mut nei_blocchi: Vec<String> = voci
        .iter()
        .filter(|v| v.azione == "CHIAMATE_ANPR")
        .flat_map(|v| {
            let d: serde_json::Value = serde_json::from_str(&v.dettagli).unwrap();
            d["chiamate"].as_array().unwrap().clone()
        })
        .map(|c| c["id_operazione_client"].to_string())
        .collect();
    let mut nelle_righe: Vec<String> = app
        .store
        .righe(id, 0, 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.duplicato_di.is_none())
        .filter_map(|r| r.id_operazioni)
        .flat_map(|o| o.as_array().cloned().unwrap_or_default())
        .map(|c| c["id_operazione_client"].to_string())
        .collect();
    nei_blocchi.sort();
    nelle_righe.sort();
    assert!(!nelle_righe.is_empty());
    assert_eq!(nei_blocchi, nelle_righe);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respinta_annullata_scartata_ripresa() {
    let app = aiuto::avvia().await;
    let o = app.connesso("operatore.polizia").await;
    let t = app.connesso("top.roma").await;

    let url = bozza(&o, "PROT-RESPINTA", TESTO).await;
    posta(&o, &url, "invia", &[]).await;
    let v = una_voce(
        &app,
        top("RICHIESTA_RESPINTA"),
        posta(&t, &url, "respingi", &[("motivo", "manca il protocollo")]),
    )
    .await;
    assert!(v.dettagli.contains("manca il protocollo"));

    let url = bozza(&o, "PROT-ANNULLATA", TESTO).await;
    posta(&o, &url, "invia", &[]).await;
    una_voce(
        &app,
        op("RICHIESTA_ANNULLATA"),
        posta(&o, &url, "annulla", &[]),
    )
    .await;

    let url = bozza(&o, "PROT-SCARTATA", TESTO).await;
    let v = una_voce(&app, op("RICHIESTA_SCARTATA"), async {
        o.get(&url).await;
        let r = o.post_form(&format!("{url}/scarta"), &[]).await;
        assert_eq!(r.stato, 303, "{}", r.corpo);
    })
    .await;
    assert_eq!(v.oggetto, format!("richiesta:{}", numero(&app, &url)));

    // A request that failed (its access was wrong) is resumed by the TOP.
    let url = bozza(&o, "PROT-RIPRESA", TESTO).await;
    posta(&o, &url, "invia", &[]).await;
    posta(&t, &url, "approva", &[]).await;
    let id = numero(&app, &url);
    for (da, a) in [
        (stato::CONVALIDATA, stato::IN_ELABORAZIONE),
        (stato::IN_ELABORAZIONE, stato::FALLITA),
    ] {
        app.store
            .cambia_stato_richiesta(
                id,
                &[da],
                a,
                Some("accesso errato"),
                &store::Attore::sistema(),
            )
            .await
            .unwrap();
    }
    let v = una_voce(
        &app,
        top("RICHIESTA_RIAVVIATA"),
        posta(&t, &url, "riprendi", &[]),
    )
    .await;
    assert!(v.dettagli.contains("\"da\":\"FALLITA\""), "{}", v.dettagli);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silenzio_assenso_del_sistema() {
    let app = aiuto::avvia().await;
    let o = app.connesso("operatore.asl").await;
    let url = bozza(&o, "PROT-SILENZIO", TESTO).await;
    posta(&o, &url, "invia", &[]).await;
    let prima = ultimo_id(&app).await;
    app.elabora_tutto().await;
    let voci = della_richiesta(nuove(&app, prima).await, numero(&app, &url));
    let approvazioni: Vec<&VoceAudit> = voci
        .iter()
        .filter(|v| v.azione == "RICHIESTA_CONVALIDATA")
        .collect();
    assert_eq!(approvazioni.len(), 1, "{voci:#?}");
    controlla(approvazioni[0], sistema("RICHIESTA_CONVALIDATA", ASL));
    assert!(approvazioni[0].dettagli.contains("silenzio-assenso"));
}

/// The "chi ha consultato" search is itself archived, once per search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ricerca_chi_ha_consultato() {
    let app = aiuto::avvia().await;
    let t = app.connesso("top.roma").await;
    t.get("/archivio/consultazioni").await;
    let a = atteso(
        "CONSULTAZIONE_SOGGETTO",
        "top.roma",
        Some("TOP"),
        Some(ROMA),
        None,
    );
    let v = una_voce(&app, a, async {
        let campi = [("tipo", "CF"), ("valore", "STTSGT90A01H501J")];
        let r = t.post_form("/archivio/consultazioni", &campi).await;
        assert_eq!(r.stato, 200, "{}", r.corpo);
    })
    .await;
    assert!(!v.dettagli.contains("STTSGT90A01H501J"), "{}", v.dettagli);
}

// --- No personal data in the archive -------------------------------------------------------

/// Every column of every row of the audit tables, read straight from the SQLite file as bytes
/// (`CAST … AS BLOB`, so that nothing is decoded or skipped), with its `tabella.colonna`.
async fn celle_dell_archivio(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    use sqlx::{Connection as _, Row as _};
    let url = format!(
        "sqlite://{}",
        app.cartella.path().join("rivesto.db").display()
    );
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mut celle = Vec::new();
    for tabella in ["audit_entries", "audit_checkpoints"] {
        let sql = format!("SELECT name FROM pragma_table_info('{tabella}')");
        let colonne: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if colonne.is_empty() {
            continue; // the table does not exist (yet)
        }
        let lista: Vec<String> = colonne
            .iter()
            .map(|n| format!("CAST(\"{n}\" AS BLOB)"))
            .collect();
        let sql = format!("SELECT {} FROM {tabella}", lista.join(", "));
        for r in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut c)
            .await
            .unwrap()
        {
            for (i, n) in colonne.iter().enumerate() {
                if let Some(b) = r.get::<Option<Vec<u8>>, _>(i) {
                    celle.push((format!("{tabella}.{n}"), b));
                }
            }
        }
    }
    celle
}

/// The output columns (by their header label) that identify a person. The others are left out
/// on purpose: `riferimento` is the caller's own key; `tipo`, `esito`, `messaggio` are codes and
/// fixed texts; `id_operazione_anpr` is ANPR's operation id, which the archive keeps by design
/// (DESIGN §2); sex, citizenship, "in vita", the address kind, the house number, CAP, comune,
/// provincia and stato of birth or residence are shared by many people and short enough to
/// match unrelated text (a Comune's name in the archive, a number).
const COLONNE_IDENTIFICANTI: [&str; 15] = [
    "identificativo",
    "ID ANPR",
    "Codice fiscale",
    "Cognome",
    "Nome",
    "Data di nascita",
    "Località estera di nascita",
    "Indirizzo di residenza",
    "Indirizzo estero",
    "Domicilio digitale",
    "Data di decesso",
    "Codice fiscale del coniuge",
    "Cognome del coniuge",
    "Nome del coniuge",
    "Componenti della famiglia",
];

/// The identifying values of a downloaded CSV (`;`, BOM, CRLF, header), by column name.
fn valori_personali(csv: &str) -> Vec<(String, String)> {
    let mut righe = csv.trim_start_matches('\u{feff}').split("\r\n");
    let intestazione: Vec<&str> = righe.next().unwrap().split(';').collect();
    let mut v = Vec::new();
    for riga in righe.filter(|r| !r.is_empty()) {
        for (colonna, cella) in intestazione.iter().zip(riga.split(';')) {
            let cella = cella.trim_matches('"').trim();
            // Shorter values (a house number, "M") would match unrelated bytes.
            if COLONNE_IDENTIFICANTI.contains(colonna) && cella.chars().count() >= 5 {
                v.push((colonna.to_string(), cella.to_string()));
            }
        }
    }
    v
}

fn contiene(pagliaio: &[u8], ago: &[u8]) -> bool {
    pagliaio.windows(ago.len()).any(|w| w == ago)
}

/// `ago` as a whole word of `pagliaio`: not inside a longer run of letters, digits or `_`. The
/// archive's own codes are such runs (`CONSULTAZIONE_SOGGETTO`), and the simulator's synthetic
/// people are named with ordinary words ("SOGGETTO SETTIMO").
fn contiene_parola(pagliaio: &[u8], ago: &[u8]) -> bool {
    let parola = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    (0..pagliaio.len().saturating_sub(ago.len() - 1)).any(|i| {
        pagliaio[i..].starts_with(ago)
            && (i == 0 || !parola(pagliaio[i - 1]))
            && pagliaio.get(i + ago.len()).is_none_or(|b| !parola(*b))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nessun_dato_personale_nelle_tabelle_dell_archivio() {
    let app = aiuto::avvia().await;
    let o = app.connesso("operatore.polizia").await;
    let t = app.connesso("top.roma").await;
    // By CF and by ID ANPR (the example file has both, an invalid row and a duplicate).
    let esempio = include_str!("../../../../examples/richiesta-esempio.csv");
    let url = bozza(&o, "PROT-RISERVATO", esempio).await;
    posta(&o, &url, "invia", &[]).await;
    posta(&t, &url, "approva", &[]).await;
    app.elabora_tutto().await;
    let id = numero(&app, &url);
    assert_eq!(
        app.store.richiesta(id).await.unwrap().stato,
        stato::COMPLETATA
    );

    // Every file, downloaded; the pages that read the archive, visited.
    let pagina = o.get(&url).await;
    let mut personali = Vec::new();
    for pezzo in pagina.corpo.split("href=\"").skip(1) {
        let link = pezzo.split('"').next().unwrap();
        if link.contains("/file/") {
            let (stato_http, _, byte) = o.scarica(link).await;
            assert_eq!(stato_http, 200);
            personali.extend(valori_personali(&String::from_utf8(byte).unwrap()));
        }
    }
    for p in [
        "/archivio",
        "/archivio?formato=csv",
        "/monitoraggio?formato=csv",
    ] {
        t.get(p).await;
    }
    // The TOP's test lookup on ANPR and a "chi ha consultato" search, both with a CF.
    t.get("/amministrazione/anpr").await;
    let ricerca = [("cf", "STTSGT90A01H501J"), ("motivo", "PROT-VERIFICA-7")];
    t.post_form("/amministrazione/anpr/ricerca", &ricerca).await;
    t.get("/archivio/consultazioni").await;
    let cerca = [("tipo", "IDANPR"), ("valore", "EV45959WW")];
    t.post_form("/archivio/consultazioni", &cerca).await;

    // What must never be there: every identifier submitted, every identifying value returned.
    let mut aghi: Vec<(String, String)> = esempio
        .lines()
        .skip(1)
        .filter_map(|l| l.split(';').nth(1))
        .map(|i| ("inviato".to_string(), i.to_string()))
        .collect();
    aghi.extend(personali);
    for colonna in [
        "Cognome",
        "Nome",
        "Data di nascita",
        "Indirizzo di residenza",
        "ID ANPR",
    ] {
        assert!(
            aghi.iter().any(|(c, _)| c == colonna),
            "nessun valore di «{colonna}» nei file: il controllo non proverebbe nulla ({aghi:?})"
        );
    }
    assert!(contiene_parola(b"{\"cf\":\"X1\"}", b"X1") && !contiene_parola(b"A_X1", b"X1"));
    let celle = celle_dell_archivio(&app).await;
    // The reading works: the archive holds the submitter's name and the file hashes.
    assert!(celle.iter().any(|(_, b)| contiene(b, b"operatore.polizia")));
    let sha = &app.store.file_risposta(id).await.unwrap()[0].sha256;
    assert!(celle.iter().any(|(_, b)| contiene(b, sha.as_bytes())));
    for (colonna, ago) in &aghi {
        for (dove, b) in &celle {
            assert!(
                !contiene_parola(b, ago.as_bytes()),
                "{dove} contiene il valore di «{colonna}» ({ago})"
            );
        }
    }
}

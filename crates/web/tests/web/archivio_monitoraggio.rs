//! The monitoring pages over HTTP: the request list `/monitoraggio` and the activity log
//! `/archivio`, with their filters, scope (TOP its Comune, ADMIN its Ente, STANDARD its own),
//! 404 for ids outside it, the CSV exports, the "affina i filtri" bound, the timeline on a
//! request's page, and snapshots of the filter form.

use crate::aiuto::{self, Browser, TestApp};
use crate::archivio_copertura::{TESTO, bozza, numero, posta};
use chrono::TimeZone as _;
use store::{Attore, Audit};
use web::ids::Tipo;

/// Roma's Polizia Locale (manual approval), Roma's ASL and Milano's Tribunale (silent consent).
struct Mondo {
    app: TestApp,
    /// Polizia: approved by the TOP, processed, its file downloaded.
    a: String,
    /// Polizia: waiting for approval.
    b: String,
    /// Polizia: a draft.
    bozza: String,
    /// ASL: approved by silent consent, processed.
    asl: String,
    /// Milano's Tribunale, processed.
    milano: String,
}

async fn mondo() -> Mondo {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let top = app.connesso("top.roma").await;
    let a = bozza(&op, "PROT-MON-A", TESTO).await;
    posta(&op, &a, "invia", &[]).await;
    posta(&top, &a, "approva", &[]).await;
    let o_asl = app.connesso("operatore.asl").await;
    let asl = bozza(&o_asl, "PROT-MON-ASL", TESTO).await;
    posta(&o_asl, &asl, "invia", &[]).await;
    let o_mi = app.connesso("operatore.tribunale").await;
    let milano = bozza(&o_mi, "PROT-MON-MILANO", TESTO).await;
    posta(&o_mi, &milano, "invia", &[]).await;
    app.elabora_tutto().await;
    let b = bozza(&op, "PROT-MON-B", TESTO).await;
    posta(&op, &b, "invia", &[]).await;
    let bozza = bozza(&op, "PROT-MON-BOZZA", TESTO).await;
    // The submitter downloads A's file.
    let pagina = op.get(&a).await;
    let i = pagina.corpo.find("/file/").expect("link di download");
    let inizio = pagina.corpo[..i].rfind('"').unwrap() + 1;
    let link = pagina.corpo[inizio..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(op.scarica(&link).await.0, 200);
    Mondo {
        app,
        a,
        b,
        bozza,
        asl,
        milano,
    }
}

impl Mondo {
    async fn b(&self, utente: &str) -> Browser {
        self.app.connesso(utente).await
    }

    fn id(&self, tipo: Tipo, n: i64) -> String {
        self.app.stato.ids.codifica(tipo, n)
    }

    /// The opaque id of a request from its page's URL.
    fn richiesta(url: &str) -> &str {
        url.trim_start_matches("/richieste/")
    }

    async fn ente(&self, codice: &str) -> String {
        let e = self
            .app
            .store
            .ente_per_codice(codice)
            .await
            .unwrap()
            .unwrap();
        self.id(Tipo::Ente, e.id)
    }

    /// The opaque id of the convention of a request.
    async fn convenzione(&self, url: &str) -> String {
        let r = self
            .app
            .store
            .richiesta(numero(&self.app, url))
            .await
            .unwrap();
        self.id(Tipo::Convenzione, r.convenzione_id)
    }
}

/// The rows of the page's results table, as text without tags.
fn righe(corpo: &str) -> Vec<String> {
    let Some(i) = corpo.find("<tbody>") else {
        return Vec::new();
    };
    let fine = i + corpo[i..].find("</tbody>").unwrap();
    corpo[i..fine]
        .split("<tr>")
        .skip(1)
        .map(|r| {
            let mut testo = String::new();
            let mut in_tag = false;
            for c in r.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        testo.push(' ');
                    }
                    c if !in_tag => testo.push(c),
                    _ => {}
                }
            }
            testo.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// Which of the motivos appear in the page's rows.
fn motivi(corpo: &str) -> Vec<&'static str> {
    let righe = righe(corpo);
    [
        "PROT-MON-A",
        "PROT-MON-B",
        "PROT-MON-BOZZA",
        "PROT-MON-ASL",
        "PROT-MON-MILANO",
    ]
    .into_iter()
    .filter(|m| {
        righe
            .iter()
            .any(|r| r.contains(&format!("«{m}»")) || r.contains(&format!(" {m} ")))
    })
    .collect()
}

async fn stato_e_motivi(b: &Browser, percorso: &str) -> (u16, Vec<&'static str>) {
    let r = b.get(percorso).await;
    (r.stato, motivi(&r.corpo))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elenco_delle_richieste_per_ambito_e_filtri() {
    let m = mondo().await;
    let top = m.b("top.roma").await;
    let tutte = ["PROT-MON-A", "PROT-MON-B", "PROT-MON-ASL"];
    let mut attese = tutte.to_vec();
    attese.sort();
    let (s, mut v) = stato_e_motivi(&top, "/monitoraggio").await;
    v.sort();
    assert_eq!((s, v), (200, attese));

    let polizia = m.ente("02438750586").await;
    let q = format!("/monitoraggio?ente={polizia}");
    assert_eq!(
        stato_e_motivi(&top, &q).await,
        (200, vec!["PROT-MON-A", "PROT-MON-B"])
    );
    let conv_asl = m.convenzione(&m.asl).await;
    let q = format!("/monitoraggio?convenzione={conv_asl}");
    assert_eq!(stato_e_motivi(&top, &q).await, (200, vec!["PROT-MON-ASL"]));
    let q = "/monitoraggio?stato=COMPLETATA";
    assert_eq!(
        stato_e_motivi(&top, q).await,
        (200, vec!["PROT-MON-A", "PROT-MON-ASL"])
    );
    let q = "/monitoraggio?utente=operatore.asl";
    assert_eq!(stato_e_motivi(&top, q).await, (200, vec!["PROT-MON-ASL"]));
    let q = format!("/monitoraggio?richiesta={}", Mondo::richiesta(&m.a));
    assert_eq!(stato_e_motivi(&top, &q).await, (200, vec!["PROT-MON-A"]));
    // The whole page address is accepted too.
    let q = format!("/monitoraggio?richiesta=http://x{}", m.a);
    assert_eq!(stato_e_motivi(&top, &q).await, (200, vec!["PROT-MON-A"]));
    // Submitted on the fake clock's day, 02/03/2026 in Rome.
    let q = "/monitoraggio?dal=2026-03-02&al=02%2F03%2F2026";
    assert_eq!(stato_e_motivi(&top, q).await.1.len(), 3);
    let r = top.get("/monitoraggio?dal=2026-03-03").await;
    assert_eq!(motivi(&r.corpo), Vec::<&str>::new());
    assert!(
        r.corpo.contains("Nessuna richiesta corrisponde ai filtri"),
        "{}",
        r.corpo
    );
    let r = top.get("/monitoraggio?dal=31%2F02%2F2026").await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo.contains("La data «31/02/2026» non è valida"),
        "{}",
        r.corpo
    );

    // Out of scope: another Comune's request, convention and Ente, a draft, a forged id.
    let tribunale = m.ente("97103880585").await;
    let conv_mi = m.convenzione(&m.milano).await;
    for q in [
        format!("richiesta={}", Mondo::richiesta(&m.milano)),
        format!("richiesta={}", Mondo::richiesta(&m.bozza)),
        format!("convenzione={conv_mi}"),
        format!("ente={tribunale}"),
        "richiesta=1-000000000000000000000000".to_string(),
    ] {
        assert_eq!(
            top.get(&format!("/monitoraggio?{q}")).await.stato,
            404,
            "{q}"
        );
    }

    // The Ente's ADMIN: its Ente's requests only; another Ente is 404 there too.
    let admin = m.b("admin.polizia").await;
    assert_eq!(
        stato_e_motivi(&admin, "/monitoraggio").await,
        (200, vec!["PROT-MON-A", "PROT-MON-B"])
    );
    let asl = m.ente("asl_rm1").await;
    assert_eq!(
        admin.get(&format!("/monitoraggio?ente={asl}")).await.stato,
        404
    );
    let q = format!("/monitoraggio?richiesta={}", Mondo::richiesta(&m.asl));
    assert_eq!(admin.get(&q).await.stato, 404);
    let admin_asl = m.b("admin.asl").await;
    assert_eq!(
        stato_e_motivi(&admin_asl, "/monitoraggio").await,
        (200, vec!["PROT-MON-ASL"])
    );
    let milano = m.b("top.milano").await;
    assert_eq!(
        stato_e_motivi(&milano, "/monitoraggio").await,
        (200, vec!["PROT-MON-MILANO"])
    );
    // A STANDARD has its own list ("Le mie richieste") and the activity log.
    assert_eq!(
        m.b("operatore.polizia")
            .await
            .get("/monitoraggio")
            .await
            .stato,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esportazione_csv_delle_richieste() {
    let m = mondo().await;
    let top = m.b("top.roma").await;
    let polizia = m.ente("02438750586").await;
    let r = top
        .get(&format!("/monitoraggio?ente={polizia}&formato=csv"))
        .await;
    assert_eq!(r.stato, 200);
    assert_eq!(
        r.intestazione("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        r.intestazione("content-disposition"),
        Some("attachment; filename=\"richieste-2026-03-02.csv\"")
    );
    assert_eq!(r.intestazione("cache-control"), Some("no-store"));
    // Newest first. The fake clock stands at 2026-03-02 10:00 UTC, 11:00 in Rome. TESTO has 4
    // rows, the invalid one final from the start; A is complete.
    let b = Mondo::richiesta(&m.b);
    let a = Mondo::richiesta(&m.a);
    let conv = "Polizia Locale - Roma: verifiche anagrafiche";
    let atteso = format!(
        "\u{feff}richiesta;inviata;creata;motivo;convenzione;comune;ente;richiedente;stato;righe;righe_completate\r\n\
         {b};02/03/2026 11:00;02/03/2026 11:00;PROT-MON-B;{conv};Roma;Polizia Locale di Roma;operatore.polizia;In attesa di convalida;4;1\r\n\
         {a};02/03/2026 11:00;02/03/2026 11:00;PROT-MON-A;{conv};Roma;Polizia Locale di Roma;operatore.polizia;Completata;4;4\r\n"
    );
    assert_eq!(r.corpo, atteso);
    // The page links to the same view's export.
    let pagina = top.get(&format!("/monitoraggio?ente={polizia}")).await;
    assert!(
        pagina.corpo.contains(
            &format!("href=\"/monitoraggio?ente={polizia}&amp;formato=csv\"")
                .replace("&amp;", "&#38;")
        ),
        "{}",
        pagina.corpo
    );
}

/// Today's date in Europe/Rome by the real clock (audit entries carry the real time).
fn oggi_reale(giorni: i64) -> String {
    let ora = chrono::Utc::now() + chrono::Duration::days(giorni);
    chrono_tz::Europe::Rome
        .from_utc_datetime(&ora.naive_utc())
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registro_per_ambito() {
    let m = mondo().await;
    let vede = |corpo: &str| {
        let mut v = motivi(corpo);
        v.sort();
        v
    };
    let r = m.b("top.roma").await.get("/archivio").await;
    assert_eq!(r.stato, 200);
    assert_eq!(vede(&r.corpo), ["PROT-MON-A", "PROT-MON-ASL", "PROT-MON-B"]);
    assert!(r.corpo.contains("Registro attività"), "navigation link");
    let r = m.b("top.milano").await.get("/archivio").await;
    assert_eq!(vede(&r.corpo), ["PROT-MON-MILANO"]);
    assert!(!r.corpo.contains("Polizia Locale"), "{}", r.corpo);
    let r = m.b("admin.polizia").await.get("/archivio").await;
    assert_eq!(vede(&r.corpo), ["PROT-MON-A", "PROT-MON-B"]);
    assert!(!r.corpo.contains("ASL Roma 1"));
    let r = m.b("admin.asl").await.get("/archivio").await;
    assert_eq!(vede(&r.corpo), ["PROT-MON-ASL"]);
    // The STANDARD: its requests (its draft too) and its own sign-ins, nothing else.
    let op = m.b("operatore.polizia").await;
    aiuto_accesso(&m.app, "operatore.polizia").await;
    let r = op.get("/archivio").await;
    assert_eq!(r.stato, 200);
    assert_eq!(
        vede(&r.corpo),
        ["PROT-MON-A", "PROT-MON-B", "PROT-MON-BOZZA"]
    );
    let righe = righe(&r.corpo);
    assert!(
        righe
            .iter()
            .any(|r| r.contains("Accesso utente operatore.polizia")),
        "{righe:#?}"
    );
    assert!(!r.corpo.contains("Comune creato") && !r.corpo.contains("Utente creato"));
    let r = m.b("operatore.asl").await.get("/archivio").await;
    assert_eq!(vede(&r.corpo), ["PROT-MON-ASL"]);
    // A STANDARD may not ask for another user's request, nor a monitor for another Comune's.
    let q = format!("/archivio?richiesta={}", Mondo::richiesta(&m.asl));
    assert_eq!(op.get(&q).await.stato, 404);
    let q = format!("/archivio?richiesta={}", Mondo::richiesta(&m.milano));
    assert_eq!(m.b("top.roma").await.get(&q).await.stato, 404);
}

/// A real sign-in of `utente` (the test sessions are written straight into the store).
async fn aiuto_accesso(app: &TestApp, utente: &str) {
    let b = app.browser();
    b.get("/").await;
    let password = app.password(utente);
    let r = b
        .post_form("/accedi", &[("username", utente), ("password", &password)])
        .await;
    assert_eq!(r.stato, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registro_per_filtri() {
    let m = mondo().await;
    let top = m.b("top.roma").await;
    let righe_di = |q: String| {
        let top = &top;
        async move {
            let r = top.get(&q).await;
            assert_eq!(r.stato, 200, "{q}: {}", r.corpo);
            righe(&r.corpo)
        }
    };
    // Approvals: A by the TOP, ASL's by silent consent.
    let v = righe_di("/archivio?azione=RICHIESTA_CONVALIDATA".into()).await;
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(
        v[0].contains("sistema") && v[0].contains("PROT-MON-ASL"),
        "{v:#?}"
    );
    assert!(v[1].contains("top.roma (TOP)") && v[1].contains("PROT-MON-A"));
    let v = righe_di("/archivio?azione=RICHIESTA_CONVALIDATA&utente=sistema".into()).await;
    assert_eq!(v.len(), 1);
    let a = Mondo::richiesta(&m.a);
    let v = righe_di(format!(
        "/archivio?richiesta={a}&azione=FILE_RISPOSTA_SCARICATO"
    ))
    .await;
    assert_eq!(v.len(), 1, "{v:#?}");
    assert!(v[0].contains("operatore.polizia (STANDARD)"), "{v:#?}");
    // The state the request is in now: B waits, with its creation and submission.
    let v = righe_di("/archivio?esito=IN_ATTESA_CONVALIDA".into()).await;
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v.iter().all(|r| r.contains("PROT-MON-B")));
    // The ASL convention: its requests' entries and its creation.
    let conv = m.convenzione(&m.asl).await;
    let v = righe_di(format!("/archivio?convenzione={conv}")).await;
    assert!(v.iter().any(|r| r.contains("Convenzione creata")), "{v:#?}");
    assert!(v.iter().all(|r| !r.contains("«PROT-MON-A»")));
    let asl = m.ente("asl_rm1").await;
    let v = righe_di(format!("/archivio?ente={asl}")).await;
    assert!(
        !v.is_empty() && v.iter().all(|r| r.contains("ASL Roma 1")),
        "{v:#?}"
    );
    // Dates in Europe/Rome by the real clock, which stamps the archive.
    let (oggi, domani) = (oggi_reale(0), oggi_reale(1));
    let tutte = righe_di("/archivio".into()).await.len();
    let v = righe_di(format!("/archivio?dal={}&al={oggi}", oggi_reale(-1))).await;
    assert_eq!(v.len(), tutte);
    let r = top.get(&format!("/archivio?dal={domani}")).await;
    assert!(righe(&r.corpo).is_empty());
    assert!(r.corpo.contains("Nessuna voce corrisponde ai filtri"));
    // Out of scope: 404.
    for q in [
        format!("convenzione={}", m.convenzione(&m.milano).await),
        format!("ente={}", m.ente("97103880585").await),
        format!("richiesta={}", Mondo::richiesta(&m.bozza)),
    ] {
        assert_eq!(top.get(&format!("/archivio?{q}")).await.stato, 404, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esportazione_csv_del_registro() {
    let m = mondo().await;
    let top = m.b("top.roma").await;
    let a = Mondo::richiesta(&m.a);
    let r = top
        .get(&format!(
            "/archivio?richiesta={a}&azione=RICHIESTA_CONVALIDATA&formato=csv"
        ))
        .await;
    assert_eq!(r.stato, 200);
    assert_eq!(
        r.intestazione("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let disp = r.intestazione("content-disposition").unwrap();
    assert_eq!(
        disp,
        "attachment; filename=\"registro-attivita-2026-03-02.csv\""
    );
    let righe: Vec<&str> = r.corpo.split("\r\n").collect();
    assert_eq!(
        righe[0],
        "\u{feff}data_ora;utente;ruolo;ambito;codice_azione;azione;oggetto;richiesta;dettagli"
    );
    assert_eq!((righe.len(), righe[2]), (3, ""), "{righe:?}");
    let celle: Vec<&str> = righe[1].split(';').collect();
    // dd/mm/yyyy HH:MM, Europe/Rome.
    let data = celle[0].as_bytes();
    assert!(
        data.len() == 16
            && data.iter().enumerate().all(|(i, b)| match i {
                2 | 5 => *b == b'/',
                10 => *b == b' ',
                13 => *b == b':',
                _ => b.is_ascii_digit(),
            }),
        "{}",
        celle[0]
    );
    assert!(celle[0].starts_with(&{
        let o = oggi_reale(0);
        format!("{}/{}/{}", &o[8..10], &o[5..7], &o[..4])
    }));
    assert_eq!(
        celle[1..],
        [
            "top.roma",
            "TOP",
            "Polizia Locale di Roma, Comune di Roma",
            "RICHIESTA_CONVALIDATA",
            "Richiesta approvata",
            "richiesta «PROT-MON-A»",
            a,
            "da «In attesa di convalida» a «Convalidata»",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oltre_il_limite_si_affinano_i_filtri() {
    let app = aiuto::avvia().await;
    let chi = Attore {
        nome: "top.roma".into(),
        ruolo: Some("TOP".into()),
        comune: Some("058091".into()),
        ente: None,
    };
    for _ in 0..201 {
        let v = Audit::nuovo(&chi, "utente:top.roma", "ACCESSO");
        app.store.appendi_audit(&v).await.unwrap();
    }
    let r = app.connesso("top.roma").await.get("/archivio").await;
    assert_eq!(righe(&r.corpo).len(), 200);
    assert!(
        r.corpo
            .contains("Sono mostrate le 200 voci più recenti, ma ce ne sono altre")
    );
    assert!(r.corpo.contains("affini i filtri"));
    // The export holds them all.
    let r = app
        .connesso("top.roma")
        .await
        .get("/archivio?formato=csv")
        .await;
    let n = r
        .corpo
        .split("\r\n")
        .filter(|l| l.contains(";ACCESSO;"))
        .count();
    assert_eq!(n, 201);
    // Narrowed, the note goes.
    let r = app
        .connesso("top.roma")
        .await
        .get("/archivio?azione=COMUNE_CREATO")
        .await;
    assert_eq!(righe(&r.corpo).len(), 1);
    assert!(!r.corpo.contains("ce ne sono altre"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronologia_nella_pagina_della_richiesta() {
    let m = mondo().await;
    let id = numero(&m.app, &m.a);
    let sha = m.app.store.file_risposta(id).await.unwrap()[0]
        .sha256
        .clone();
    let blocchi = m
        .app
        .store
        .voci_audit(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.oggetto == format!("richiesta:{id}") && v.azione == "CHIAMATE_ANPR")
        .count();
    let blocchi = match blocchi {
        1 => "1 blocco di chiamate registrato".to_string(),
        n => format!("{n} blocchi di chiamate registrati"),
    };
    for utente in ["operatore.polizia", "top.roma", "admin.polizia"] {
        let r = m.b(utente).await.get(&m.a).await;
        assert_eq!(r.stato, 200);
        let i = r
            .corpo
            .find("<h2 id=\"titolo-cronologia\">")
            .expect("cronologia");
        let c = &r.corpo[i..];
        let passi = [
            "Bozza creata da operatore.polizia (STANDARD) (4 righe)",
            "Inviata per la convalida da operatore.polizia (STANDARD)",
            "Approvata da top.roma (TOP)",
            "Elaborazione avviata (sistema)",
            &format!("Chiamate ad ANPR (sistema): {blocchi}"),
            &format!("scritto: 4 righe, SHA-256 {sha}"),
            "Elaborazione conclusa: completata (sistema)",
            "scaricato da operatore.polizia (STANDARD)",
        ];
        // In this order.
        let mut da = 0;
        for p in passi {
            let j = c[da..]
                .find(p)
                .unwrap_or_else(|| panic!("{utente}: «{p}» in {c}"));
            da += j + p.len();
        }
        // Who downloaded the file, next to it.
        assert!(
            r.corpo.contains("operatore.polizia (STANDARD), "),
            "{}",
            r.corpo
        );
        assert!(c.contains(&format!("/archivio?richiesta={}", Mondo::richiesta(&m.a))));
    }
    let r = m.b("top.roma").await.get(&m.asl).await;
    assert!(
        r.corpo.contains("Approvata per silenzio-assenso (sistema)"),
        "{}",
        r.corpo
    );
    // Another Comune: the page, and so the timeline, is 404.
    assert_eq!(m.b("top.milano").await.get(&m.a).await.stato, 404);
}

// --- Snapshots of the filter form ----------------------------------------------------------

/// The filter form of a page, with opaque ids replaced by `[id]`.
fn modulo_filtri(corpo: &str) -> String {
    let i = corpo
        .find("<form id=\"filtri\"")
        .expect("nessun modulo dei filtri");
    let fine = i + corpo[i..].find("</form>").unwrap() + "</form>".len();
    let testo = &corpo[i..fine];
    let b = testo.as_bytes();
    let mut fuori = String::new();
    let mut k = 0;
    while k < b.len() {
        let cifre = b[k..].iter().take_while(|c| c.is_ascii_digit()).count();
        let hex = b.get(k + cifre + 1..).map_or(0, |r| {
            r.iter().take_while(|c| c.is_ascii_hexdigit()).count()
        });
        let prima = k > 0 && b[k - 1].is_ascii_alphanumeric();
        if !prima && cifre > 0 && b.get(k + cifre) == Some(&b'-') && hex == 24 {
            fuori.push_str("[id]");
            k += cifre + 25;
        } else {
            let c = testo[k..].chars().next().unwrap();
            fuori.push(c);
            k += c.len_utf8();
        }
    }
    fuori
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modulo_dei_filtri_del_registro_per_il_top() {
    let app = aiuto::avvia().await;
    let r = app
        .connesso("top.roma")
        .await
        .get("/archivio?azione=ACCESSO&dal=2026-03-01&al=02%2F03%2F2026&esito=COMPLETATA")
        .await;
    assert_eq!(r.stato, 200);
    insta::assert_snapshot!("filtri_registro_top", modulo_filtri(&r.corpo));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modulo_dei_filtri_delle_richieste_per_l_admin() {
    let app = aiuto::avvia().await;
    let r = app
        .connesso("admin.polizia")
        .await
        .get("/monitoraggio?utente=operatore.polizia&stato=IN_ATTESA_CONVALIDA")
        .await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("Nessuna richiesta corrisponde ai filtri"));
    insta::assert_snapshot!("filtri_monitoraggio_admin", modulo_filtri(&r.corpo));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modulo_dei_filtri_del_registro_per_lo_standard() {
    let app = aiuto::avvia().await;
    let r = app.connesso("operatore.asl").await.get("/archivio").await;
    assert_eq!(r.stato, 200);
    assert!(
        r.corpo
            .contains("Nessuna attività registrata nel suo ambito")
    );
    insta::assert_snapshot!("filtri_registro_standard", modulo_filtri(&r.corpo));
}

//! "Chi ha consultato questo soggetto?" over HTTP (issue 6): requests processed by the
//! in-process simulator, then searched by the TOP by the other identifier; tenancy, roles, the
//! one audit entry per search without the value, the CSV export and the print page.

use crate::aiuto::{self, Browser, Risposta, TestApp};

/// A demo population's idANPR and CF (examples/richiesta-esempio.csv, lines 2 and 1).
const ID_ANPR_ESEMPIO: &str = "EV45959WW";
const CF_ESEMPIO: &str = "STTSGT90A01H501J";

/// The opaque id of the first convention offered in the new-request form.
async fn convenzione(b: &Browser) -> String {
    let r = b.get("/richieste/nuova").await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    let segno = "<option value=\"";
    let i = r.corpo.find(segno).expect("nessuna convenzione nel modulo") + segno.len();
    r.corpo[i..].split('"').next().unwrap().to_string()
}

/// `op` submits `testo` with `motivo` under the first convention offered, the TOP of Roma
/// approves, the engine processes it. Returns the request's page URL.
async fn richiesta_elaborata(app: &TestApp, op: &Browser, motivo: &str, testo: &str) -> String {
    let conv = convenzione(op).await;
    app.richiesta_elaborata(op, &conv, motivo, testo).await
}

/// The result CSV's first data line, as `column -> value`, downloaded by the submitter.
async fn prima_riga_csv(op: &Browser, url: &str) -> std::collections::BTreeMap<String, String> {
    let pagina = op.get(url).await;
    let i = pagina
        .corpo
        .find("/file/")
        .expect("nessun file di risposta");
    let inizio = pagina.corpo[..i].rfind('"').unwrap() + 1;
    let fine = i + pagina.corpo[i..].find('"').unwrap();
    let (stato, _, byte) = op.scarica(&pagina.corpo[inizio..fine]).await;
    assert_eq!(stato, 200);
    let testo = String::from_utf8(byte).unwrap();
    let mut righe = testo.trim_start_matches('\u{feff}').split("\r\n");
    let intestazione: Vec<&str> = righe.next().unwrap().split(';').collect();
    let valori: Vec<&str> = righe.next().unwrap().split(';').collect();
    intestazione
        .into_iter()
        .zip(valori)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn cerca(b: &Browser, tipo: &str, valore: &str) -> Risposta {
    b.get("/archivio/consultazioni").await;
    b.post_form(
        "/archivio/consultazioni",
        &[("tipo", tipo), ("valore", valore)],
    )
    .await
}

async fn voci_consultazione(app: &TestApp) -> Vec<store::VoceAudit> {
    app.store
        .voci_audit(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.azione == "CONSULTAZIONE_SOGGETTO")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chiesto_per_id_anpr_trovato_per_il_cf_restituito() {
    let log_prima = aiuto::log_catturati().len();
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = richiesta_elaborata(
        &app,
        &op,
        "PROT-2026/501",
        &format!("tipo;identificativo;riferimento\nIDANPR;{ID_ANPR_ESEMPIO};pratica-1\n"),
    )
    .await;
    // The CF is the one ANPR returned, as the submitter's result file shows it.
    let riga = prima_riga_csv(&op, &url).await;
    assert_eq!(
        riga.get("esito").map(String::as_str),
        Some("TROVATO"),
        "{riga:?}"
    );
    assert_eq!(
        riga.get("ID ANPR").map(String::as_str),
        Some(ID_ANPR_ESEMPIO),
        "{riga:?}"
    );
    let cf = riga["Codice fiscale"].clone();
    assert_eq!(cf.len(), 16, "{riga:?}");

    let top = app.connesso("top.roma").await;
    let r = top.get("/archivio/consultazioni").await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("Chi ha consultato questo soggetto?"));
    // Typed in lower case with spaces: the parser's normalisation applies.
    let r = cerca(&top, "CF", &format!(" {} ", cf.to_lowercase())).await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("1 richiesta, 1 riga"), "{}", r.corpo);
    assert!(r.corpo.contains("PROT-2026/501"));
    assert!(r.corpo.contains("operatore.polizia"));
    assert!(r.corpo.contains(&format!("href=\"{url}\"")), "{}", r.corpo);
    assert!(r.corpo.contains("Trovato"));
    assert!(r.corpo.contains("Completata"));
    // Whichever identifier: the idANPR asked finds the same row.
    let r = cerca(&top, "IDANPR", ID_ANPR_ESEMPIO).await;
    assert!(r.corpo.contains("1 richiesta, 1 riga"), "{}", r.corpo);

    // Another Comune's TOP: its own conventions only, so nothing, with the empty state.
    let milano = app.connesso("top.milano").await;
    let r = cerca(&milano, "CF", &cf).await;
    assert_eq!(r.stato, 200);
    assert!(!r.corpo.contains("PROT-2026/501"));
    assert!(
        r.corpo
            .contains("Nessuna richiesta presentata sotto le convenzioni del Comune di Milano"),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("Cosa fare:"));

    // Three searches, three entries: the searcher, its Comune, the kind and the hash; never
    // the value, in any case, anywhere in the archive.
    let voci = voci_consultazione(&app).await;
    assert_eq!(voci.len(), 3);
    assert_eq!(
        (voci[0].attore.as_str(), voci[0].ruolo.as_deref()),
        ("top.roma", Some("TOP"))
    );
    assert_eq!(voci[0].comune.as_deref(), Some("058091"));
    assert_eq!(voci[2].attore, "top.milano");
    assert_eq!(voci[2].comune.as_deref(), Some("015146"));
    let d: serde_json::Value = serde_json::from_str(&voci[0].dettagli).unwrap();
    assert_eq!(d["tipo"], "CF");
    assert_eq!(d["righe"], 1);
    assert_eq!(d["formato"], "pagina");
    assert_eq!(d["hmac"].as_str().unwrap().len(), 32);
    let d2: serde_json::Value = serde_json::from_str(&voci[2].dettagli).unwrap();
    assert_eq!(
        (d2["hmac"].clone(), d2["righe"].clone()),
        (d["hmac"].clone(), 0.into())
    );
    for v in app.store.voci_audit(0, 100_000).await.unwrap() {
        for valore in [cf.as_str(), &cf.to_lowercase(), ID_ANPR_ESEMPIO] {
            assert!(!v.dettagli.contains(valore), "{} {}", v.azione, v.dettagli);
            assert!(!v.oggetto.contains(valore), "{}", v.oggetto);
        }
    }
    let log = aiuto::log_catturati();
    assert!(!log[log_prima..].contains(&cf), "CF nei log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chiesto_per_cf_trovato_per_id_anpr() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = richiesta_elaborata(&app, &op, "PROT-2026/502", &format!("{CF_ESEMPIO}\n")).await;
    let riga = prima_riga_csv(&op, &url).await;
    assert_eq!(riga["Codice fiscale"], CF_ESEMPIO, "{riga:?}");
    let id_anpr = riga["ID ANPR"].clone();
    assert_eq!(id_anpr.len(), 9, "{riga:?}");

    let top = app.connesso("top.roma").await;
    let r = cerca(&top, "IDANPR", &id_anpr).await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("PROT-2026/502"), "{}", r.corpo);
    assert!(r.corpo.contains("1 richiesta, 1 riga"), "{}", r.corpo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_il_top() {
    let app = aiuto::avvia().await;
    for utente in ["admin.polizia", "operatore.polizia", "admin.asl"] {
        let b = app.connesso(utente).await;
        assert_eq!(
            b.get("/archivio/consultazioni").await.stato,
            403,
            "{utente}"
        );
        // The CSRF token of the user's session comes from any page with a form.
        b.get("/profilo").await;
        for azione in ["", "/csv", "/stampa"] {
            let r = b
                .post_form(
                    &format!("/archivio/consultazioni{azione}"),
                    &[("tipo", "CF"), ("valore", CF_ESEMPIO)],
                )
                .await;
            assert_eq!(r.stato, 403, "{utente} {azione}");
        }
    }
    assert!(voci_consultazione(&app).await.is_empty());
    // The menu offers the page to the TOP only.
    let top = app.connesso("top.roma").await;
    assert!(
        top.get("/")
            .await
            .corpo
            .contains("href=\"/archivio/consultazioni\"")
    );
    let op = app.connesso("operatore.polizia").await;
    assert!(!op.get("/").await.corpo.contains("/archivio/consultazioni"));
    // Without the CSRF token nothing is searched.
    let r = top
        .post_form_senza_csrf(
            "/archivio/consultazioni",
            &[("tipo", "CF"), ("valore", CF_ESEMPIO)],
        )
        .await;
    assert_eq!(r.stato, 403);
    assert!(voci_consultazione(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identificativo_non_valido_non_scrive_nulla() {
    let app = aiuto::avvia().await;
    let top = app.connesso("top.roma").await;
    let prima = app.store.voci_audit(0, 100_000).await.unwrap().len();
    // Line 4 of the request tests: a wrong check character.
    let r = cerca(&top, "CF", "STTSGT90A01H501X").await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo
            .contains("Il codice fiscale non è valido: carattere di controllo errato"),
        "{}",
        r.corpo
    );
    // The message is tied to the field for screen readers, and the value is kept to fix.
    assert!(r.corpo.contains("id=\"errore-valore\""), "{}", r.corpo);
    assert!(
        r.corpo
            .contains("aria-describedby=\"aiuto-valore errore-valore\" aria-invalid=\"true\""),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("value=\"STTSGT90A01H501X\""));
    let r = cerca(&top, "IDANPR", "1234").await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo
            .contains("L&#39;ID ANPR non è valido: lunghezza errata"),
        "{}",
        r.corpo
    );
    let r = cerca(&top, "PASS", "YA1234567").await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo.contains("Scelga il tipo di identificativo"),
        "{}",
        r.corpo
    );
    assert_eq!(app.store.voci_audit(0, 100_000).await.unwrap().len(), prima);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esportazione_csv_e_pagina_da_stampare() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    // The same person on lines 1 and 3 (a duplicate), another on line 2.
    richiesta_elaborata(
        &app,
        &op,
        "PROT-2026/503",
        &format!("{CF_ESEMPIO}\nSGGTTV60A01H501T\n{CF_ESEMPIO}\n"),
    )
    .await;
    let top = app.connesso("top.roma").await;
    let r = cerca(&top, "CF", CF_ESEMPIO).await;
    assert!(r.corpo.contains("1 richiesta, 2 righe"), "{}", r.corpo);

    let token = top.csrf.lock().unwrap().clone();
    let risposta = top
        .client
        .post(format!("{}/archivio/consultazioni/csv", top.base))
        .form(&[("tipo", "CF"), ("valore", CF_ESEMPIO), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(risposta.status(), 200);
    let h = risposta.headers().clone();
    assert_eq!(h["content-type"], "text/csv; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    // The file name has the day (Rome), never the identifier.
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"consultazioni-soggetto-20260302.csv\""
    );
    let csv = risposta.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(!csv.contains(CF_ESEMPIO));
    insta::assert_snapshot!(csv.trim_start_matches('\u{feff}').replace("\r\n", "⏎\n"));

    let r = top
        .post_form(
            "/archivio/consultazioni/stampa",
            &[("tipo", "CF"), ("valore", CF_ESEMPIO)],
        )
        .await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("Consultazioni del soggetto"));
    assert!(
        r.corpo
            .contains("02/03/2026 11:00 (ora italiana), da top.roma"),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("PROT-2026/503"));
    assert!(r.corpo.contains("class=\"non-stampare"));
    assert!(!r.corpo.contains("style="), "the CSP forbids inline styles");
    let css = top.get("/static/rivesto.css").await.corpo;
    assert!(css.contains("@media print") && css.contains(".non-stampare"));

    // Page, CSV and print page: three searches, three entries, each with its format.
    let formati: Vec<String> = voci_consultazione(&app)
        .await
        .iter()
        .map(|v| {
            let d: serde_json::Value = serde_json::from_str(&v.dettagli).unwrap();
            format!("{}:{}", d["formato"].as_str().unwrap(), d["righe"])
        })
        .collect();
    assert_eq!(formati, ["pagina:2", "csv:2", "stampa:2"]);
}

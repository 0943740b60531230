//! Requests through the pages, over HTTP: a STANDARD creates (text and upload), sees the
//! preview and submits; the TOP sees the impact estimate and approves, rejects, cancels; the
//! worker processes; the submitter downloads. Monitors see metadata only; other tenants get 404.

use crate::aiuto::{self, Browser, Risposta, TestApp};
use reqwest::multipart::{Form, Part};
use store::elenchi::AmbitoElenco;

/// Three valid CFs of the demo's population (from examples/richiesta-esempio.csv), then one
/// with a wrong check character (line 4) and a repeat of line 1 (line 5).
const TESTO: &str =
    "STTSGT90A01H501J\nSGGTTV60A01H501T\nSGGNNA90R50F839T\nSTTSGT90A01H501X\nSTTSGT90A01H501J\n";
const ESEMPIO: &str = include_str!("../../../../examples/richiesta-esempio.csv");

/// The opaque id of the first convention offered in the new-request form.
async fn convenzione(b: &Browser) -> String {
    let r = b.get("/richieste/nuova").await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    let segno = "<option value=\"";
    let i = r.corpo.find(segno).expect("nessuna convenzione nel modulo") + segno.len();
    r.corpo[i..].split('"').next().unwrap().to_string()
}

async fn modulo(b: &Browser, motivo: &str) -> Form {
    let token = b.csrf.lock().unwrap().clone();
    Form::new()
        .text("_csrf", token)
        .text("convenzione", convenzione(b).await)
        .text("motivo", motivo.to_string())
        .text("data_riferimento", "")
}

async fn crea_da_testo(b: &Browser, motivo: &str, testo: &str) -> Risposta {
    let f = modulo(b, motivo).await.text("testo", testo.to_string());
    b.post_multipart("/richieste/nuova", f).await
}

/// The detail URL a successful creation redirects to.
fn dettaglio(r: &Risposta) -> String {
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let l = r.location().unwrap().to_string();
    assert!(l.starts_with("/richieste/"), "{l}");
    l
}

async fn crea_e_invia(b: &Browser, motivo: &str, testo: &str) -> String {
    let url = dettaglio(&crea_da_testo(b, motivo, testo).await);
    b.get(&url).await;
    let r = b.post_form(&format!("{url}/invia"), &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    assert_eq!(r.location(), Some(format!("{url}?avviso=inviata").as_str()));
    url
}

fn numero(url: &str, app: &TestApp) -> i64 {
    let pubblico = url.trim_start_matches("/richieste/");
    app.stato
        .ids
        .decodifica(web::ids::Tipo::Richiesta, pubblico)
        .unwrap()
}

async fn stato_di(app: &TestApp, url: &str) -> String {
    app.store.richiesta(numero(url, app)).await.unwrap().stato
}

/// The href of the first download link on a detail page.
fn link_file(corpo: &str) -> Option<String> {
    let i = corpo.find("/file/")?;
    let inizio = corpo[..i].rfind('"')? + 1;
    let fine = i + corpo[i..].find('"')?;
    Some(corpo[inizio..fine].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percorso_completo_dal_testo_al_download() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = dettaglio(&crea_da_testo(&op, "PROT-2026/77", TESTO).await);

    // The preview lists the problem rows before anything is submitted.
    let r = op.get(&url).await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("Anteprima di validazione"), "{}", r.corpo);
    assert!(
        r.corpo.contains("5 righe: 1 non valide, 1 duplicate"),
        "{}",
        r.corpo
    );
    // The problem table: line number (row header), field, problem.
    assert!(
        r.corpo.contains("<tr><th scope=\"row\">4</th><td>"),
        "{}",
        r.corpo
    );
    assert!(
        r.corpo.contains(
            "<tr><th scope=\"row\">5</th><td>identificativo</td><td>duplicato della riga 1</td></tr>"
        ),
        "{}",
        r.corpo
    );
    assert!(r.corpo.contains("Invia per la convalida"));
    assert_eq!(stato_di(&app, &url).await, "BOZZA");
    // A draft is its author's alone: the TOP does not see it yet.
    let top = app.connesso("top.roma").await;
    assert_eq!(top.get(&url).await.stato, 404);

    let r = op.post_form(&format!("{url}/invia"), &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    assert!(
        op.get(r.location().unwrap())
            .await
            .corpo
            .contains("Richiesta inviata per la convalida.")
    );
    assert_eq!(stato_di(&app, &url).await, "IN_ATTESA_CONVALIDA");

    // The TOP's queue, with the impact estimate: 3 valid rows, 1 invalid, 1 duplicate.
    let coda = top.get("/convalida").await;
    assert_eq!(coda.stato, 200);
    assert!(coda.corpo.contains("PROT-2026/77"), "{}", coda.corpo);
    assert!(
        coda.corpo
            .contains("Righe: 3 valide, 1 non valide, 1 duplicate."),
        "{}",
        coda.corpo
    );
    assert!(
        coda.corpo.contains("Completamento previsto"),
        "{}",
        coda.corpo
    );
    let r = top.post_form(&format!("{url}/approva"), &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    assert_eq!(r.location(), Some("/convalida?avviso=approvata"));
    assert_eq!(stato_di(&app, &url).await, "CONVALIDATA");

    app.elabora_tutto().await;
    assert_eq!(stato_di(&app, &url).await, "COMPLETATA");
    let elenco = op.get("/richieste").await;
    assert!(
        elenco.corpo.contains("stato-COMPLETATA"),
        "{}",
        elenco.corpo
    );
    assert!(elenco.corpo.contains("5 di 5 righe"), "{}", elenco.corpo);
    // Nothing changes by itself any more: the list stops polling.
    assert!(!elenco.corpo.contains("hx-trigger=\"every 5s\""));

    let pagina = op.get(&url).await;
    let link = link_file(&pagina.corpo).expect("link di download");
    let (stato, h, byte) = op.scarica(&link).await;
    assert_eq!(stato, 200);
    assert_eq!(h.get("cache-control").unwrap(), "no-store");
    let disp = h.get("content-disposition").unwrap().to_str().unwrap();
    assert!(
        disp.starts_with("attachment; filename=\"richiesta-") && disp.ends_with(".csv\""),
        "{disp}"
    );
    let testo = String::from_utf8(byte).unwrap();
    let testo = testo.trim_start_matches('\u{feff}');
    let righe: Vec<&str> = testo.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        righe[0].starts_with("riferimento;tipo;identificativo;esito;messaggio;id_operazione_anpr"),
        "{}",
        righe[0]
    );
    assert_eq!(righe.len(), 1 + 5, "header and one line per input row");

    // Monitors see the request and its files' metadata, never the content.
    let r = top.get(&url).await;
    assert_eq!(r.stato, 200);
    assert!(r.corpo.contains("File di risposta"));
    assert!(
        link_file(&r.corpo).is_none(),
        "no download link for the TOP"
    );
    assert_eq!(top.scarica(&link).await.0, 403);
    let admin = app.connesso("admin.polizia").await;
    assert_eq!(admin.get(&url).await.stato, 200);
    assert_eq!(admin.scarica(&link).await.0, 403);
    // Other tenants: 404, like an id that does not exist.
    for altro in [
        "top.milano",
        "admin.asl",
        "operatore.asl",
        "operatore.tribunale",
    ] {
        let b = app.connesso(altro).await;
        assert_eq!(b.get(&url).await.stato, 404, "{altro}");
        assert_eq!(b.scarica(&link).await.0, 404, "{altro}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caricamento_di_un_file_con_anteprima() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let file = Part::bytes(ESEMPIO.as_bytes().to_vec())
        .file_name("elenco.csv")
        .mime_str("text/csv")
        .unwrap();
    let f = modulo(&op, "PROT-FILE-1")
        .await
        .text("testo", "")
        .part("file", file);
    let url = dettaglio(&op.post_multipart("/richieste/nuova", f).await);
    let r = op.get(&url).await;
    // examples/richiesta-esempio.csv: line 12 has a wrong check character, line 13 repeats 2.
    assert!(
        r.corpo.contains("12 righe: 1 non valide, 1 duplicate"),
        "{}",
        r.corpo
    );
    assert!(
        r.corpo.contains("<tr><th scope=\"row\">12</th><td>"),
        "{}",
        r.corpo
    );
    assert!(
        r.corpo.contains(
            "<tr><th scope=\"row\">13</th><td>identificativo</td><td>duplicato della riga 2</td></tr>"
        ),
        "{}",
        r.corpo
    );
    let conteggio = app.store.conteggio_righe(numero(&url, &app)).await.unwrap();
    assert_eq!(conteggio.totali, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dati_mancanti_ripresentano_il_modulo() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let r = crea_da_testo(&op, "  ", TESTO).await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo
            .contains("Il motivo (numero di pratica o di protocollo) è obbligatorio.")
    );
    assert!(
        r.corpo.contains("STTSGT90A01H501J"),
        "the typed rows are kept"
    );
    let r = crea_da_testo(&op, "PROT-1", "").await;
    assert_eq!(r.stato, 400);
    assert!(r.corpo.contains("Inserire gli identificativi"));
    let id = app.id_utente("operatore.polizia").await;
    let n = app
        .store
        .conta_richieste(AmbitoElenco::Utente(id), None)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limite_di_righe_dell_input_non_salva_nulla() {
    let app = aiuto::avvia_con(|c| c.limiti_input.max_righe = 5).await;
    let op = app.connesso("operatore.polizia").await;
    let id = app.id_utente("operatore.polizia").await;
    let prima = app
        .store
        .conta_richieste(AmbitoElenco::Utente(id), None)
        .await
        .unwrap();
    let f = modulo(&op, "PROT-LIMITE").await.text("testo", "").part(
        "file",
        Part::bytes(ESEMPIO.as_bytes().to_vec()).file_name("elenco.csv"),
    );
    let r = op.post_multipart("/richieste/nuova", f).await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo
            .contains("File rifiutato: il file supera il limite di 5 righe."),
        "{}",
        r.corpo
    );
    let dopo = app
        .store
        .conta_richieste(AmbitoElenco::Utente(id), None)
        .await
        .unwrap();
    assert_eq!(prima, dopo);
    // Five rows fit.
    dettaglio(&crea_da_testo(&op, "PROT-LIMITE", TESTO).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tetto_di_righe_della_convenzione_all_invio() {
    let app = aiuto::avvia().await;
    // A convention of the Polizia Locale with Roma capped at 3 rows per request.
    let base = app.seme.convenzione_manuale.clone();
    let nuova = store::anagrafiche::NuovaConvenzione {
        comune_id: base.comune_id,
        ente_id: base.ente_id,
        nome: "Polizia Locale - Roma: piccole verifiche".into(),
        campi: base.campi.clone(),
        ambito: base.ambito,
        approvazione: base.approvazione,
        finalita: base.finalita.clone(),
        valida_dal_ms: 0,
        valida_al_ms: None,
        max_righe_richiesta: Some(3),
        max_soggetti_giorno: None,
        tracciato: base.tracciato.clone(),
        conservazione_giorni: 7,
        ricerca_nazionale: false,
    };
    let attore = web::demo::attore_demo();
    let conv = app.store.crea_convenzione(&nuova, &attore).await.unwrap();
    let id = app.id_utente("operatore.polizia").await;
    app.store
        .imposta_profilo(id, conv, &base.campi, base.ambito, &attore)
        .await
        .unwrap();

    let op = app.connesso("operatore.polizia").await;
    let token = op.csrf.lock().unwrap().clone();
    let f = Form::new()
        .text("_csrf", token)
        .text(
            "convenzione",
            app.stato.ids.codifica(web::ids::Tipo::Convenzione, conv),
        )
        .text("motivo", "PROT-TETTO")
        .text("testo", TESTO);
    let url = dettaglio(&op.post_multipart("/richieste/nuova", f).await);
    op.get(&url).await;
    let r = op.post_form(&format!("{url}/invia"), &[]).await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo.contains(
            "La richiesta contiene 5 righe, oltre il massimo di 3 per richiesta previsto dalla convenzione"
        ),
        "{}",
        r.corpo
    );
    assert_eq!(stato_di(&app, &url).await, "BOZZA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respinta_con_motivo() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = crea_e_invia(&op, "PROT-RESPINGI", TESTO).await;
    let top = app.connesso("top.roma").await;
    top.get("/convalida").await;
    let r = top
        .post_form(&format!("{url}/respingi"), &[("motivo", " ")])
        .await;
    assert_eq!(r.stato, 400);
    assert!(r.corpo.contains("Il motivo è obbligatorio"), "{}", r.corpo);
    // Only the Comune's TOP may reject; the submitter may not.
    let r = op
        .post_form(&format!("{url}/respingi"), &[("motivo", "no")])
        .await;
    assert_eq!(r.stato, 403);
    let r = top
        .post_form(
            &format!("{url}/respingi"),
            &[("motivo", "protocollo non pertinente")],
        )
        .await;
    assert_eq!(r.stato, 303);
    assert_eq!(r.location(), Some("/convalida?avviso=respinta"));
    assert_eq!(stato_di(&app, &url).await, "RESPINTA");
    let r = op.get(&url).await;
    assert!(
        r.corpo.contains("Motivazione: protocollo non pertinente"),
        "{}",
        r.corpo
    );
    // Another Comune's TOP cannot act on it: 404.
    let milano = app.connesso("top.milano").await;
    milano.get("/convalida").await;
    assert_eq!(
        milano.post_form(&format!("{url}/approva"), &[]).await.stato,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annullata_in_attesa_e_in_elaborazione() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    // The submitter cancels while it waits, from "Le mie richieste".
    let url = crea_e_invia(&op, "PROT-ANNULLA-1", TESTO).await;
    let elenco = op.get("/richieste").await;
    assert!(
        elenco.corpo.contains(&format!("{url}/annulla")),
        "{}",
        elenco.corpo
    );
    assert!(
        elenco.corpo.contains("hx-get=\"/richieste/elenco\""),
        "polling while waiting"
    );
    let r = op.post_form(&format!("{url}/annulla"), &[]).await;
    assert_eq!(r.stato, 303);
    assert_eq!(stato_di(&app, &url).await, "ANNULLATA");

    // A running request: only the TOP may cancel it; the rows not done become NON_ELABORATO
    // and the submitter gets a partial file.
    let url = crea_e_invia(&op, "PROT-ANNULLA-2", TESTO).await;
    let top = app.connesso("top.roma").await;
    top.get("/convalida").await;
    assert_eq!(
        top.post_form(&format!("{url}/approva"), &[]).await.stato,
        303
    );
    let id = numero(&url, &app);
    app.store
        .cambia_stato_richiesta(
            id,
            &["CONVALIDATA"],
            "IN_ELABORAZIONE",
            None,
            &store::Attore::sistema(),
        )
        .await
        .unwrap();
    op.get(&url).await;
    assert_eq!(
        op.post_form(&format!("{url}/annulla"), &[]).await.stato,
        403
    );
    let r = top.get(&url).await;
    assert!(r.corpo.contains("Annulla la richiesta"), "{}", r.corpo);
    assert_eq!(
        top.post_form(&format!("{url}/annulla"), &[]).await.stato,
        303
    );
    assert_eq!(stato_di(&app, &url).await, "ANNULLATA");
    app.elabora_tutto().await;
    let file = app.store.file_risposta(id).await.unwrap();
    assert!(
        !file.is_empty() && file.iter().all(|f| f.parziale),
        "{file:?}"
    );
    let link = link_file(&op.get(&url).await.corpo).expect("link al file parziale");
    let (stato, _, byte) = op.scarica(&link).await;
    assert_eq!(stato, 200);
    assert!(String::from_utf8(byte).unwrap().contains("NON_ELABORATO"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bozza_scartata_sparisce() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = dettaglio(&crea_da_testo(&op, "PROT-SCARTA", TESTO).await);
    op.get(&url).await;
    let r = op.post_form(&format!("{url}/scarta"), &[]).await;
    assert_eq!(r.stato, 303);
    assert_eq!(r.location(), Some("/richieste?avviso=scartata"));
    assert_eq!(op.get(&url).await.stato, 404);
    assert!(app.store.richiesta(numero(&url, &app)).await.is_err());
    // A submitted request cannot be discarded.
    let url = crea_e_invia(&op, "PROT-SCARTA-2", TESTO).await;
    assert_eq!(op.post_form(&format!("{url}/scarta"), &[]).await.stato, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silenzio_assenso_approva_il_sistema() {
    let app = aiuto::avvia().await;
    for (utente, top) in [
        ("operatore.asl", "top.roma"),
        ("operatore.tribunale", "top.milano"),
    ] {
        let op = app.connesso(utente).await;
        let url = crea_e_invia(&op, "PROT-SILENZIO", TESTO).await;
        app.elabora_tutto().await;
        let op = app.connesso(utente).await;
        assert_eq!(stato_di(&app, &url).await, "COMPLETATA", "{utente}");
        let id = numero(&url, &app).to_string();
        let voci = app.store.voci_audit(0, 10_000).await.unwrap();
        let approvata = voci
            .iter()
            .find(|v| v.oggetto == format!("richiesta:{id}") && v.azione == "RICHIESTA_CONVALIDATA")
            .expect("approvazione registrata");
        assert_eq!(approvata.attore, "sistema");
        let r = op.get(&url).await;
        assert!(r.corpo.contains("stato-COMPLETATA"), "{}", r.corpo);
        assert!(link_file(&r.corpo).is_some());
        // The Comune's TOP monitors it.
        let t = app.connesso(top).await;
        let m = t.get("/monitoraggio?stato=COMPLETATA").await;
        assert!(m.corpo.contains(&url), "{}", m.corpo);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoraggio_e_home_per_ruolo() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = crea_e_invia(&op, "PROT-MONITOR", TESTO).await;
    let bozza = dettaglio(&crea_da_testo(&op, "PROT-BOZZA", TESTO).await);

    let home = op.get("/").await;
    assert_eq!(home.stato, 200);
    assert!(
        home.corpo
            .contains("Polizia Locale - Roma: verifiche anagrafiche")
    );
    assert!(home.corpo.contains("/richieste/nuova?convenzione="));
    assert!(home.corpo.contains("PROT-MONITOR"));

    let top = app.connesso("top.roma").await;
    let home = top.get("/").await;
    assert!(
        home.corpo.contains("<strong>1</strong> richiesta attende"),
        "{}",
        home.corpo
    );
    let m = top.get("/monitoraggio").await;
    assert!(m.corpo.contains(&url));
    assert!(!m.corpo.contains(&bozza), "drafts are not monitored");
    assert!(
        !top.get("/monitoraggio?stato=COMPLETATA")
            .await
            .corpo
            .contains(&url)
    );

    let admin = app.connesso("admin.polizia").await;
    assert!(admin.get("/monitoraggio").await.corpo.contains(&url));
    assert!(
        admin
            .get("/")
            .await
            .corpo
            .contains("/amministrazione/utenti")
    );
    for altro in ["admin.asl", "top.milano"] {
        let b = app.connesso(altro).await;
        assert!(
            !b.get("/monitoraggio").await.corpo.contains("PROT-MONITOR"),
            "{altro}"
        );
    }
    // Role checks: pages of another role answer 403.
    assert_eq!(op.get("/convalida").await.stato, 403);
    assert_eq!(op.get("/monitoraggio").await.stato, 403);
    assert_eq!(top.get("/richieste/nuova").await.stato, 403);
    assert_eq!(admin.get("/convalida").await.stato, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sospesa_mostra_motivo_e_avanzamento() {
    let app = aiuto::avvia().await;
    let op = app.connesso("operatore.polizia").await;
    let url = crea_e_invia(&op, "PROT-SOSPESA", TESTO).await;
    let top = app.connesso("top.roma").await;
    top.get("/convalida").await;
    assert_eq!(
        top.post_form(&format!("{url}/approva"), &[]).await.stato,
        303
    );
    // As the worker leaves it when C030's daily share is used up.
    let id = numero(&url, &app);
    let sistema = store::Attore::sistema();
    app.store
        .cambia_stato_richiesta(id, &["CONVALIDATA"], "IN_ELABORAZIONE", None, &sistema)
        .await
        .unwrap();
    let motivo = "quota giornaliera esaurita per C030, ripresa alle 00:00";
    app.store
        .sospendi_richiesta(
            id,
            Some(app.stato.adesso_ms() + 3_600_000),
            Some(motivo),
            &sistema,
        )
        .await
        .unwrap();
    let elenco = op.get("/richieste").await;
    assert!(
        elenco.corpo.contains(&format!("Sospesa: {motivo}")),
        "{}",
        elenco.corpo
    );
    // The invalid row is final from the start: 1 of 5 done.
    assert!(
        elenco.corpo.contains("aria-valuenow=\"20\"")
            && elenco.corpo.contains("1 di 5 righe (20%)"),
        "{}",
        elenco.corpo
    );
    assert!(elenco.corpo.contains("hx-get=\"/richieste/elenco\""));
    let frammento = op.get("/richieste/elenco").await;
    assert_eq!(frammento.stato, 200);
    assert!(
        frammento.corpo.starts_with("<div id=\"elenco-richieste\""),
        "{}",
        frammento.corpo
    );
    assert!(frammento.corpo.contains(motivo));
    assert!(!frammento.corpo.contains("<html"), "a fragment, not a page");
    let r = op.get(&url).await;
    assert!(
        r.corpo.contains(&format!("Sospesa: {motivo}")),
        "{}",
        r.corpo
    );
}

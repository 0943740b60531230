//! The statistics pages over a seeded history on the fake clock: figures checked by hand, the
//! SVG charts by snapshot, the CSV line by line, the XLSX read back; tenancy (a TOP sees its
//! Comune, an ADMIN its Ente, a STANDARD nothing).
//!
//! History (the clock starts on Monday 2 March 2026, 11:00 in Rome; CET = UTC+1):
//!
//! - A, operatore.polizia, "Polizia Locale - Roma" (manual approval, scope ITALIA, fields ID
//!   ANPR, generalità, residenza, esistenza in vita, data decesso), submitted 02/03 11:00,
//!   approved by top.roma at 11:20, processed and completed at 12:00. Rows:
//!   STTSGT90A01H501J → TROVATO; PRVCCL60B50G393U (cancelled from ANPR, EN122) → NON_TROVATO;
//!   STTSGT90A01H501X (wrong check character) → NON_VALIDO, never sent.
//!   Calls (DESIGN §4 planning): a CF row starts with C030; the smallest cover of generalità,
//!   residenza, esistenza in vita and data decesso is C020 (generalità, residenza, decesso) +
//!   C019 (esistenza): 3 calls for the found row; the EN122 answer to C030 stops the other: 1.
//! - B, operatore.asl, "ASL Roma 1 - Roma" (silent consent after 0 ms, scope COMUNE, fields
//!   generalità, residenza, esistenza in vita), submitted 02/03 12:00; the timers run at 12:05:
//!   approved by `sistema`, processed and completed at 12:05. Rows: SGGNNA90R50F839T (resident
//!   in Roma) → TROVATO with C030, C020 (the residence call of a restricted scope), C019: 3
//!   calls; TTVSGT90A01H501H (AIRE, living in Berlin) → FUORI_AMBITO after C030, C020: 2 calls.
//! - C, operatore.polizia, submitted 03/03 09:00, waiting for approval: 1 row.
//! - A draft of operatore.polizia, never submitted: never counted.
//! - D, operatore.tribunale (Milano), submitted and processed on 02/03: Milano's, not Roma's.

use crate::aiuto::{self, Browser, TestApp};
use reqwest::multipart::Form;

const MIN: i64 = 60_000;
const ORA: i64 = 60 * MIN;

async fn convenzione(b: &Browser) -> String {
    let r = b.get("/richieste/nuova").await;
    let segno = "<option value=\"";
    let i = r.corpo.find(segno).expect("nessuna convenzione") + segno.len();
    r.corpo[i..].split('"').next().unwrap().to_string()
}

/// Creates a request from text; submits it unless `bozza`. Returns its detail URL.
async fn richiesta(b: &Browser, motivo: &str, testo: &str, bozza: bool) -> String {
    let token = b.csrf.lock().unwrap().clone();
    let form = Form::new()
        .text("_csrf", token)
        .text("convenzione", convenzione(b).await)
        .text("motivo", motivo.to_string())
        .text("data_riferimento", "")
        .text("testo", testo.to_string());
    let r = b.post_multipart("/richieste/nuova", form).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    let url = r.location().unwrap().to_string();
    if !bozza {
        b.get(&url).await;
        let r = b.post_form(&format!("{url}/invia"), &[]).await;
        assert_eq!(r.stato, 303, "{}", r.corpo);
    }
    url
}

async fn stato_di(app: &TestApp, url: &str) -> String {
    let pubblico = url.trim_start_matches("/richieste/");
    let id = app
        .stato
        .ids
        .decodifica(web::ids::Tipo::Richiesta, pubblico)
        .unwrap();
    app.store.richiesta(id).await.unwrap().stato
}

/// The history in the module docs.
async fn storia(app: &TestApp) {
    let op = app.connesso("operatore.polizia").await;
    let a = richiesta(
        &op,
        "PROT-A",
        "STTSGT90A01H501J\nPRVCCL60B50G393U\nSTTSGT90A01H501X\n",
        false,
    )
    .await;
    richiesta(&op, "PROT-BOZZA", "STTSGT90A01H501J\n", true).await;
    let trib = app.connesso("operatore.tribunale").await;
    let d = richiesta(&trib, "PROT-D", "STTSGT90A01H501J\n", false).await;
    app.orologio.avanza_ms(20 * MIN);
    let top = app.connesso("top.roma").await;
    top.get("/convalida").await;
    let r = top.post_form(&format!("{a}/approva"), &[]).await;
    assert_eq!(r.stato, 303, "{}", r.corpo);
    app.orologio.avanza_ms(40 * MIN);
    app.elabora_tutto().await;
    assert_eq!(stato_di(app, &a).await, "COMPLETATA");
    assert_eq!(stato_di(app, &d).await, "COMPLETATA");

    let asl = app.connesso("operatore.asl").await;
    let b = richiesta(
        &asl,
        "PROT-B",
        "SGGNNA90R50F839T\nTTVSGT90A01H501H\n",
        false,
    )
    .await;
    app.orologio.avanza_ms(5 * MIN);
    app.elabora_tutto().await;
    assert_eq!(stato_di(app, &b).await, "COMPLETATA");

    // 03/03 09:00: 21 h 55 min after 12:05 (sessions expire: sign in again).
    app.orologio.avanza_ms(21 * ORA + 55 * MIN);
    let op = app.connesso("operatore.polizia").await;
    let c = richiesta(&op, "PROT-C", "SGGTTV60A01H501T\n", false).await;
    assert_eq!(stato_di(app, &c).await, "IN_ATTESA_CONVALIDA");
}

/// The outcomes the history expects (DESIGN §3), before any statistics are read.
async fn esiti_attesi(app: &TestApp) {
    let mut esiti = Vec::new();
    for r in app
        .store
        .richieste_in_stato("COMPLETATA", 100)
        .await
        .unwrap()
    {
        for g in app.store.righe(r.id, 0, 100).await.unwrap() {
            esiti.push((r.motivo.clone(), g.esito.map(|e| e.as_str())));
        }
    }
    esiti.sort();
    let atteso = |m: &str, e: &'static str| (m.to_string(), Some(e));
    assert_eq!(
        esiti,
        [
            atteso("PROT-A", "NON_TROVATO"),
            atteso("PROT-A", "NON_VALIDO"),
            atteso("PROT-A", "TROVATO"),
            atteso("PROT-B", "FUORI_AMBITO"),
            atteso("PROT-B", "TROVATO"),
            atteso("PROT-D", "TROVATO"),
        ]
    );
}

const VISTA: &str = "periodo=giorno&dal=2026-03-02&al=2026-03-03&ripartizione=totale";

/// The `<svg>…</svg>` elements of a page, one per line.
fn svg(corpo: &str) -> String {
    let mut out = Vec::new();
    let mut resto = corpo;
    // The charts only, not the icons of the page (`<svg class="icon">`).
    while let Some(i) = resto.find("<svg xmlns=") {
        let fine = i + resto[i..].find("</svg>").expect("svg chiuso") + "</svg>".len();
        out.push(&resto[i..fine]);
        resto = &resto[fine..];
    }
    out.join("\n")
}

/// Text as written in HTML, back to plain (askama escapes `<`, `>`, `&`, quotes).
fn testo_html(s: &str) -> String {
    s.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The cells of the table whose caption starts with `didascalia`, line by line (the row
/// header first).
fn tabella(corpo: &str, didascalia: &str) -> Vec<Vec<String>> {
    let i = corpo
        .find(&format!("<caption>{didascalia}"))
        .unwrap_or_else(|| panic!("nessuna tabella «{didascalia}»"));
    let fine = i + corpo[i..].find("</table>").unwrap();
    let tbody = &corpo[i..fine];
    let tbody = &tbody[tbody.find("<tbody>").unwrap()..];
    // `<th scope="row">a</th><td>b</td>` split at `</t`: each piece but the last ends with a
    // cell's text, after its opening tag.
    tbody
        .split("<tr>")
        .skip(1)
        .map(|riga| {
            let riga = &riga[..riga.find("</tr>").unwrap()];
            let pezzi: Vec<&str> = riga.split("</t").collect();
            pezzi[..pezzi.len() - 1]
                .iter()
                .map(|p| testo_html(p.rsplit('>').next().unwrap()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistiche_di_una_storia() {
    let app = aiuto::avvia().await;
    storia(&app).await;
    esiti_attesi(&app).await;
    let top = app.connesso("top.roma").await;
    let r = top.get(&format!("/statistiche?{VISTA}")).await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert!(r.corpo.contains("href=\"/statistiche\""), "menu link");

    // 02/03: A and B (the draft is not submitted, D is Milano's): 3 + 2 = 5 rows, all
    // concluded: 2 TROVATO (40 %), 1 NON_TROVATO (20 %), 1 FUORI_AMBITO (20 %), 0 AMBIGUO.
    // Calls: A 3 + 1, B 3 + 2 = 9. Waits: B 5 min, A 20 min → median (rank ⌈2·0.5⌉ = 1)
    // 5 min, 90th (rank ⌈1.8⌉ = 2) 20 min. Processing: B 0 (approved and done at 12:05), A
    // 40 min → median "meno di un secondo", 90th 40 min. 03/03: C, 1 row, not concluded.
    let riepilogo = tabella(&r.corpo, "Riepilogo");
    assert_eq!(
        riepilogo,
        [[
            "Totale",
            "3",
            "6",
            "5",
            "40,0 %",
            "20,0 %",
            "20,0 %",
            "0,0 %",
            "9",
            "5 minuti",
            "20 minuti",
            "meno di un secondo",
            "40 minuti"
        ]]
    );
    assert_eq!(
        tabella(&r.corpo, "Richieste inviate"),
        [["02/03/2026", "2"], ["03/03/2026", "1"]]
    );
    assert_eq!(
        tabella(&r.corpo, "Esiti delle righe concluse"),
        [
            ["02/03/2026", "5", "40,0 %", "20,0 %", "20,0 %", "0,0 %"],
            ["03/03/2026", "0", "—", "—", "—", "—"],
        ]
    );
    assert_eq!(
        tabella(&r.corpo, "Chiamate ANPR"),
        [["02/03/2026", "9"], ["03/03/2026", "0"]]
    );
    // Roma's quota counters on 02/03 against 5.000 calls a day per service (the simulator's
    // onboarding file): C019 A 1 + B 1 = 2 → 0,04 %, under what one decimal shows; C020 A 1 +
    // B 2 = 3 → 0,06 % ≈ 0,1 %; C030 A 2 + B 2 = 4 → 0,08 % ≈ 0,1 %.
    assert_eq!(
        tabella(&r.corpo, "Uso della quota giornaliera"),
        [
            ["02/03/2026", "C019", "2", "5.000", "5.000", "< 0,1 %"],
            ["02/03/2026", "C020", "3", "5.000", "5.000", "0,1 %"],
            ["02/03/2026", "C030", "4", "5.000", "5.000", "0,1 %"],
        ]
    );
    assert!(r.corpo.contains("contatore di quota del Comune"));
    for g in ["grafico-richieste", "grafico-esiti", "grafico-quota"] {
        assert!(
            r.corpo
                .contains(&format!("aria-labelledby=\"{g}-titolo {g}-desc\"")),
            "{g}"
        );
        assert!(
            r.corpo.contains(&format!("<title id=\"{g}-titolo\">")),
            "{g}"
        );
    }
    assert!(r.corpo.contains("<th scope=\"row\">02/03/2026</th>"));
    assert!(!r.corpo.contains("style="), "the CSP forbids inline styles");
    insta::assert_snapshot!("grafici_per_giorno", svg(&r.corpo));
    esportazioni(&top).await;
    per_utente_e_per_esito(&top).await;
    ambiti(&app).await;
}

async fn esportazioni(top: &Browser) {
    let (stato, h, byte) = top
        .scarica(&format!("/statistiche/export.csv?{VISTA}"))
        .await;
    assert_eq!(stato, 200);
    assert_eq!(h["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"statistiche-20260302-20260303-giorno.csv\""
    );
    assert_eq!(h["cache-control"], "no-store");
    let testo = String::from_utf8(byte).unwrap();
    let testo = testo.strip_prefix('\u{feff}').expect("UTF-8 con BOM");
    let linee: Vec<&str> = testo.split_terminator("\r\n").collect();
    // The figures of the page; durations in seconds (5 min = 300, 20 min = 1.200, 40 min =
    // 2.400); shares as percentages with a decimal comma; blanks where there is nothing.
    assert_eq!(
        linee,
        [
            "Periodo;Dal;Al;Richieste inviate;Soggetti (righe);Righe concluse;Trovati;% trovati;\
             Non trovati;% non trovati;Fuori ambito;% fuori ambito;Ambigui;% ambigui;Chiamate ANPR;\
             Dall'invio alla convalida: mediana (secondi);\
             Dall'invio alla convalida: 90° percentile (secondi);\
             Dalla convalida al completamento: mediana (secondi);\
             Dalla convalida al completamento: 90° percentile (secondi)",
            "02/03/2026;02/03/2026;02/03/2026;2;5;5;2;40,0;1;20,0;1;20,0;0;0,0;9;300;1200;0;2400",
            "03/03/2026;03/03/2026;03/03/2026;1;1;0;0;;0;;0;;0;;0;;;;",
            "Intero intervallo;02/03/2026;03/03/2026;3;6;5;2;40,0;1;20,0;1;20,0;0;0,0;9;300;1200;0;2400",
        ]
    );
    let (stato, _, byte) = top
        .scarica(&format!("/statistiche/export.csv?{VISTA}&tabella=quota"))
        .await;
    assert_eq!(stato, 200);
    let testo = String::from_utf8(byte).unwrap();
    assert!(
        testo.contains("02/03/2026;02/03/2026;02/03/2026;Roma;C030;4;5000;5000;0,1\r\n"),
        "{testo}"
    );
    xlsx(top).await;
}

async fn xlsx(top: &Browser) {
    use calamine::{Data, Reader, Xlsx};
    let url = format!("/statistiche/export.xlsx?{VISTA}");
    let (stato, h, byte) = top.scarica(&url).await;
    assert_eq!(stato, 200);
    assert_eq!(
        h["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"statistiche-20260302-20260303-giorno.xlsx\""
    );
    // Deterministic: the same view gives the same bytes.
    assert_eq!(top.scarica(&url).await.2, byte);
    let mut libro: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(byte)).unwrap();
    assert_eq!(libro.sheet_names(), ["Statistiche", "Quota"]);
    let foglio = libro.worksheet_range("Statistiche").unwrap();
    assert_eq!(
        foglio.get_value((0, 3)),
        Some(&Data::String("Richieste inviate".into()))
    );
    // Line 1 (02/03): 2 requests, 5 rows, 40 % found (a number formatted as a percentage),
    // median wait 300 s.
    assert_eq!(foglio.get_value((1, 3)), Some(&Data::Float(2.0)));
    assert_eq!(foglio.get_value((1, 4)), Some(&Data::Float(5.0)));
    assert_eq!(foglio.get_value((1, 7)), Some(&Data::Float(0.4)));
    assert_eq!(foglio.get_value((1, 15)), Some(&Data::Float(300.0)));
    assert_eq!(foglio.height(), 4);
    let quota = libro.worksheet_range("Quota").unwrap();
    assert_eq!(quota.get_value((3, 4)), Some(&Data::String("C030".into())));
    assert_eq!(quota.get_value((3, 5)), Some(&Data::Float(4.0)));
}

async fn per_utente_e_per_esito(top: &Browser) {
    // By user, per week (W10 = 2–8 March): operatore.asl B (2 rows, 5 calls);
    // operatore.polizia A + C (3 + 1 rows, 4 calls).
    let r = top
        .get("/statistiche?periodo=settimana&dal=02/03/2026&al=08/03/2026&ripartizione=utente")
        .await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert_eq!(
        tabella(&r.corpo, "Soggetti (righe)"),
        [
            ["settimana 10 del 2026", "operatore.asl", "2", "2"],
            ["settimana 10 del 2026", "operatore.polizia", "4", "3"],
        ]
    );
    assert_eq!(
        tabella(&r.corpo, "Chiamate ANPR"),
        [
            ["settimana 10 del 2026", "operatore.asl", "5"],
            ["settimana 10 del 2026", "operatore.polizia", "4"],
        ]
    );
    // By outcome, per month: 5 concluded rows; 1 still waiting (C).
    let r = top
        .get("/statistiche?periodo=mese&dal=2026-03-01&al=2026-03-31&ripartizione=esito")
        .await;
    assert_eq!(
        tabella(&r.corpo, "Soggetti (righe)"),
        [
            ["marzo 2026", "Trovato", "2", "40,0 %"],
            ["marzo 2026", "Non trovato", "1", "20,0 %"],
            ["marzo 2026", "Fuori ambito", "1", "20,0 %"],
            ["marzo 2026", "Non valido", "1", "20,0 %"],
            ["marzo 2026", "In attesa o in elaborazione", "1", "—"],
        ]
    );
    assert!(
        !r.corpo.contains("grafico-attesa"),
        "no durations by outcome"
    );
    // By service: C019 2, C020 3, C030 4.
    let r = top
        .get("/statistiche?periodo=mese&dal=2026-03-01&al=2026-03-31&ripartizione=servizio")
        .await;
    assert_eq!(
        tabella(&r.corpo, "Chiamate ANPR"),
        [
            ["marzo 2026", "C019", "2"],
            ["marzo 2026", "C020", "3"],
            ["marzo 2026", "C030", "4"],
        ]
    );
    // A wrong date: the form again, with what to fix.
    let r = top.get("/statistiche?dal=31/02/2026").await;
    assert_eq!(r.stato, 400);
    assert!(
        r.corpo
            .contains("La data iniziale «31/02/2026» non è valida"),
        "{}",
        r.corpo
    );
    assert!(
        r.corpo
            .contains("<form method=\"get\" action=\"/statistiche\"")
    );
    assert_eq!(
        top.scarica("/statistiche/export.csv?dal=2026-03-05&al=2026-03-01")
            .await
            .0,
        400
    );
}

async fn ambiti(app: &TestApp) {
    // The Polizia Locale's ADMIN: A and C only; its calls are its share of the quota.
    let admin = app.connesso("admin.polizia").await;
    let r = admin.get(&format!("/statistiche?{VISTA}")).await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    assert_eq!(
        tabella(&r.corpo, "Richieste inviate"),
        [["02/03/2026", "1"], ["03/03/2026", "1"]]
    );
    assert_eq!(
        tabella(&r.corpo, "Chiamate ANPR"),
        [["02/03/2026", "4"], ["03/03/2026", "0"]]
    );
    assert!(r.corpo.contains("la sua parte della quota giornaliera"));
    assert!(!r.corpo.contains("operatore.asl"));
    // ASL's ADMIN: B only.
    let admin = app.connesso("admin.asl").await;
    let r = admin
        .get(&format!(
            "/statistiche?{}",
            VISTA.replace("totale", "utente")
        ))
        .await;
    assert_eq!(
        tabella(&r.corpo, "Richieste inviate"),
        [["02/03/2026", "operatore.asl", "1"]]
    );
    assert!(!r.corpo.contains("operatore.polizia"));
    // Milano's TOP: D only (1 row, found with C030 + C020: Generalita and Residenza are both
    // in C020), nothing of Roma's.
    let milano = app.connesso("top.milano").await;
    let r = milano
        .get(&format!(
            "/statistiche?{}",
            VISTA.replace("totale", "utente")
        ))
        .await;
    assert_eq!(
        tabella(&r.corpo, "Chiamate ANPR"),
        [["02/03/2026", "operatore.tribunale", "2"]]
    );
    assert!(!r.corpo.contains("operatore.polizia") && !r.corpo.contains("operatore.asl"));
    let (_, _, csv) = milano
        .scarica(&format!("/statistiche/export.csv?{VISTA}&tabella=quota"))
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(!csv.contains("Roma"), "{csv}");
    // STANDARD users: refused, page and exports.
    let op = app.connesso("operatore.polizia").await;
    assert_eq!(op.get("/statistiche").await.stato, 403);
    assert_eq!(op.scarica("/statistiche/export.csv").await.0, 403);
    assert_eq!(op.scarica("/statistiche/export.xlsx").await.0, 403);
    assert!(!op.get("/").await.corpo.contains("href=\"/statistiche\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senza_dati_dice_cosa_fare() {
    let app = aiuto::avvia().await;
    let top = app.connesso("top.roma").await;
    let r = top.get("/statistiche").await;
    assert_eq!(r.stato, 200, "{}", r.corpo);
    // Defaults: the last 30 days up to today (02/03/2026), by day: 2 March is day 61 of the
    // year (31 + 28 + 2), 61 − 29 = 32 is 1 February.
    assert!(r.corpo.contains("value=\"2026-02-01\""), "{}", r.corpo);
    assert!(r.corpo.contains("value=\"2026-03-02\""));
    assert!(
        r.corpo
            .contains("Nessun dato dal 01/02/2026 al 02/03/2026, per giorno")
    );
    assert!(r.corpo.contains("Allarghi l'intervallo di date"));
    assert!(!r.corpo.contains("class=\"grafico\""), "no chart");
    // Labels for every field of the form.
    for campo in ["periodo", "dal", "al", "ripartizione"] {
        assert!(
            r.corpo.contains(&format!("<label for=\"{campo}\">")),
            "{campo}"
        );
    }
}

//! A request from start to end in the browser: the STANDARD user uploads the messy example
//! file, reads the per-row problems, discards the draft and uploads the fixed file, submits;
//! the TOP reads the impact estimate and approves; the progress bar moves (one row at a time,
//! the engine paused and stepped by the test, then the page updating itself through htmx) to
//! completion; the TOP looks at the statistics' charts; the user downloads the CSV, compares it
//! with the expected rows and reads the request's Cronologia; both sign out.

use super::Prova;
use serde_json::Value;
use std::time::{Duration, Instant};

const DISORDINATO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/disordinato.csv"
);

/// The messy file with its problem rows removed, as an office would fix it: same encoding
/// (Windows-1252), delimiter and header; the rows with an invalid CF, the repeat of row 2, the
/// permesso without questura and the unknown kind are dropped.
fn corretto(originale: &[u8]) -> Vec<u8> {
    let righe: Vec<&[u8]> = originale.split(|b| *b == b'\n').collect();
    let tieni = |r: &[u8]| {
        let t = String::from_utf8_lossy(r).to_ascii_uppercase();
        t.starts_with("TIPO,")
            || t.contains("PRATICA 1,")
            || t.contains("PRATICA 3,")
            || t.contains("PRATICA 7,")
    };
    let mut out = Vec::new();
    for r in righe.into_iter().filter(|r| tieni(r)) {
        out.extend_from_slice(r);
        out.push(b'\n');
    }
    out
}

/// The progress shown on the request page: (value, max) of the `<progress>` or ARIA
/// progressbar inside `#stato-richiesta`.
async fn avanzamento(p: &Prova) -> Option<(f64, f64)> {
    let v: Value = p
        .js(r#"
const c = document.getElementById('stato-richiesta') || document;
const b = c.querySelector('progress, [role="progressbar"]');
if (!b) return null;
const num = a => (a === null || a === undefined || a === '') ? null : Number(a);
const valore = num(b.getAttribute('aria-valuenow')) ?? num(b.getAttribute('value'));
const massimo = num(b.getAttribute('aria-valuemax')) ?? num(b.getAttribute('max'));
return [valore, massimo];
"#)
        .await;
    let a = v.as_array()?;
    Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
}

/// The visible text of the request's state block.
async fn stato(p: &Prova) -> String {
    p.js("const e = document.getElementById('stato-richiesta'); return e ? e.innerText : '';")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The file the browser finished downloading into its folder.
async fn file_scaricato(p: &Prova) -> (String, Vec<u8>) {
    let inizio = Instant::now();
    loop {
        let finiti: Vec<_> = std::fs::read_dir(p.cartella_download.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                !n.ends_with(".crdownload") && !n.starts_with('.')
            })
            .collect();
        if let Some(e) = finiti.first() {
            let byte = std::fs::read(e.path()).unwrap();
            if !byte.is_empty() {
                return (e.file_name().to_string_lossy().to_string(), byte);
            }
        }
        assert!(
            inizio.elapsed() < Duration::from_secs(30),
            "nessun file scaricato in {}",
            p.cartella_download.path().display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn richiesta_dal_file_disordinato_al_download() {
    let nome = "richiesta_dal_file_disordinato_al_download";
    let Some(mut p) = Prova::avvia(nome).await else {
        return;
    };
    // The engine waits until the test lets it go, to show the bar moving.
    p.motore.pausa().await;
    let cartella = tempfile::tempdir().unwrap();
    let originale = std::fs::read(DISORDINATO).unwrap();
    let file_corretto = cartella.path().join("disordinato-corretto.csv");
    std::fs::write(&file_corretto, corretto(&originale)).unwrap();

    // --- The STANDARD user: the messy file and its problems.
    let password_op = p.app.password("operatore.polizia");
    p.accedi("operatore.polizia", &password_op, None).await;
    p.clic_testo("Nuova richiesta").await;
    assert_eq!(p.percorso().await, "/richieste/nuova");
    let f = "form[action=\"/richieste/nuova\"]";
    p.scrivi(f, "motivo", "PROT-2026/BROWSER").await;
    let campo = p.trova(&format!("{f} input[name=\"file\"]")).await;
    let percorso = std::fs::canonicalize(DISORDINATO).unwrap();
    campo.send_keys(percorso.to_str().unwrap()).await.unwrap();
    p.schermata(&format!("{nome}-nuova")).await;
    p.invia("/richieste/nuova").await;
    let bozza = p.percorso().await;
    assert!(bozza.starts_with("/richieste/"), "{bozza}");
    let testo = p.testo_principale().await;
    println!("anteprima del file disordinato:\n{testo}");
    assert!(testo.contains("Anteprima di validazione"), "{testo}");
    assert!(testo.contains("3 non valide, 1 duplicate"), "{testo}");
    assert!(testo.contains("duplicato della riga"), "{testo}");
    assert!(testo.contains("Invia per la convalida"), "{testo}");

    // Fixing: the draft is discarded and the corrected file uploaded.
    p.clic_testo("Scarta").await;
    assert!(p.percorso().await.starts_with("/richieste"));
    p.clic_testo("Nuova richiesta").await;
    p.scrivi(f, "motivo", "PROT-2026/BROWSER").await;
    let campo = p.trova(&format!("{f} input[name=\"file\"]")).await;
    campo
        .send_keys(file_corretto.to_str().unwrap())
        .await
        .unwrap();
    p.invia("/richieste/nuova").await;
    let url = p.percorso().await;
    assert!(url.starts_with("/richieste/") && url != bozza, "{url}");
    let testo = p.testo_principale().await;
    assert!(testo.contains("0 non valide, 0 duplicate"), "{testo}");
    p.invia(&format!("{url}/invia")).await;
    assert!(
        p.testo_principale()
            .await
            .contains("Richiesta inviata per la convalida."),
        "{}",
        p.testo_principale().await
    );
    p.esci().await;

    // --- The TOP: the impact estimate, then the approval.
    let password_top = p.app.password("top.roma");
    p.accedi("top.roma", &password_top, None).await;
    p.clic_testo("Da convalidare").await;
    let testo = p.testo_principale().await;
    assert!(testo.contains("PROT-2026/BROWSER"), "{testo}");
    assert!(testo.contains("Stima dell'impatto"), "{testo}");
    assert!(
        testo.contains("Righe: 3 valide, 0 non valide, 0 duplicate."),
        "{testo}"
    );
    assert!(testo.contains("Completamento previsto"), "{testo}");
    p.invia(&format!("{url}/approva")).await;
    assert!(p.percorso().await.starts_with("/convalida"));

    // --- The progress bar: nothing done yet, then one row, then all.
    p.vai(&url).await;
    let (v0, max) = avanzamento(&p).await.expect("barra di avanzamento");
    println!("avanzamento: {v0} di {max}");
    assert!(v0 < max, "{v0} di {max}");
    assert!(p.motore.una_riga().await, "nessuna riga elaborata");
    // The page refreshes its state block by itself (htmx, every 5 s).
    p.aspetta_per(
        "l'avanzamento dopo la prima riga",
        Duration::from_secs(30),
        || async { matches!(avanzamento(&p).await, Some((v, m)) if v > v0 && v < m) },
    )
    .await;
    let (v1, _) = avanzamento(&p).await.unwrap();
    println!("avanzamento: {v1} di {max}");
    p.controlla_axe().await;
    p.motore.riprendi();
    p.aspetta_per(
        "il completamento della richiesta",
        Duration::from_secs(120),
        || async { stato(&p).await.contains("Completata") },
    )
    .await;
    let (v2, m2) = avanzamento(&p).await.expect("barra a fine elaborazione");
    println!("avanzamento: {v2} di {m2}");
    assert_eq!(v2, m2, "{}", stato(&p).await);
    p.controlla_axe().await;
    assert!(p.testo_principale().await.contains("File di risposta"));

    // --- The statistics' charts.
    p.clic_testo("Statistiche").await;
    let grafici = p
        .js("return document.querySelectorAll('main svg[role=\"img\"]').length")
        .await;
    assert!(grafici.as_u64().unwrap_or(0) >= 1, "nessun grafico");
    let titoli = p
        .js("return Array.from(document.querySelectorAll('main svg[role=\"img\"] title')).map(t => t.textContent).join(' | ')")
        .await;
    println!("grafici: {titoli}");
    p.esci().await;

    // --- The user downloads the result and reads the Cronologia.
    p.accedi("operatore.polizia", &password_op, None).await;
    p.clic_testo("Le mie richieste").await;
    p.vai(&url).await;
    assert!(stato(&p).await.contains("Completata"));
    let link = p.trova("main a[href*=\"/file/\"]").await;
    p.clic(&link).await;
    let (nome_file, byte) = file_scaricato(&p).await;
    assert!(
        nome_file.starts_with("richiesta-") && nome_file.ends_with(".csv"),
        "{nome_file}"
    );
    let testo = String::from_utf8(byte).unwrap();
    let testo = testo.trim_start_matches('\u{feff}');
    let righe: Vec<&str> = testo.split("\r\n").filter(|l| !l.is_empty()).collect();
    println!("CSV scaricato:\n{}", righe.join("\n"));
    assert!(
        righe[0].starts_with("riferimento;tipo;identificativo;esito;"),
        "{}",
        righe[0]
    );
    let prime: Vec<String> = righe[1..]
        .iter()
        .map(|r| r.split(';').take(4).collect::<Vec<_>>().join(";"))
        .collect();
    assert_eq!(
        prime,
        [
            "pratica 1;CF;STTSGT90A01H501J;TROVATO",
            "pratica 3;IDANPR;EV45959WW;TROVATO",
            "pratica 7;CF;SGGTTV60A01H501T;TROVATO",
        ],
        "{testo}"
    );

    // The Cronologia, with the download just made.
    p.vai(&url).await;
    let testo = p.testo_principale().await;
    let cronologia = testo
        .split("Cronologia")
        .nth(1)
        .unwrap_or_else(|| panic!("Cronologia assente:\n{testo}"));
    for atteso in [
        "Bozza creata da operatore.polizia",
        "Inviata per la convalida da operatore.polizia",
        "Approvata da top.roma",
        "Elaborazione conclusa: completata",
        "scritto: 3 righe",
        "scaricato da operatore.polizia",
    ] {
        assert!(cronologia.contains(atteso), "{atteso}:\n{cronologia}");
    }
    p.schermata(&format!("{nome}-richiesta")).await;
    p.esci().await;
    p.fine().await;
}

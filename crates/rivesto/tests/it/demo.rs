//! `rivesto demo` from an empty folder, as a new user runs it: it serves the app (first line
//! `Rivesto in ascolto su http://ADDR`), prints the accounts, runs the example request, and the
//! STANDARD operator signs in through the real pages and downloads the CSV.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Demo {
    figlio: Child,
    righe: Vec<String>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.figlio.kill();
        let _ = self.figlio.wait();
    }
}

/// Starts the demo on a free port and reads its output until it says it is ready.
fn avvia(cartella: &std::path::Path) -> Demo {
    let mut figlio = crate::rivesto(cartella)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = figlio.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for riga in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(riga).is_err() {
                break;
            }
        }
    });
    let mut righe = Vec::new();
    let inizio = Instant::now();
    while !righe.iter().any(|r: &String| r.starts_with("Pronto")) {
        let resto = Duration::from_secs(180).saturating_sub(inizio.elapsed());
        match rx.recv_timeout(resto) {
            Ok(r) => righe.push(r),
            Err(_) => panic!("la demo non è pronta:\n{}", righe.join("\n")),
        }
    }
    Demo { figlio, righe }
}

fn riga_con<'a>(righe: &'a [String], chiave: &str) -> &'a str {
    righe
        .iter()
        .find(|l| l.contains(chiave))
        .unwrap_or_else(|| panic!("nessuna riga con {chiave}:\n{}", righe.join("\n")))
}

fn valore_campo(html: &str, nome: &str) -> String {
    let segno = format!("name=\"{nome}\" value=\"");
    let i = html
        .find(&segno)
        .unwrap_or_else(|| panic!("{nome} assente:\n{html}"))
        + segno.len();
    html[i..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn demo_in_una_cartella_vuota() {
    let dir = tempfile::tempdir().unwrap();
    let demo = avvia(dir.path());
    let prima = &demo.righe[0];
    let indirizzo = prima
        .strip_prefix("Rivesto in ascolto su ")
        .unwrap_or_else(|| panic!("prima riga: {prima}"));
    assert!(indirizzo.starts_with("http://127.0.0.1:"), "{prima}");
    for (utente, ruolo) in [
        ("top.roma", "TOP"),
        ("top.milano", "TOP"),
        ("admin.polizia", "ADMIN"),
        ("operatore.polizia", "STANDARD"),
        ("operatore.tribunale", "STANDARD"),
    ] {
        assert!(riga_con(&demo.righe, utente).contains(ruolo));
    }
    let password = riga_con(&demo.righe, "operatore.polizia ")
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    assert!(riga_con(&demo.righe, "COMPLETATA:").contains("richiesta-1-parte-001.csv"));

    // The operator signs in through the real form and downloads the result.
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let accesso = c.get(indirizzo).send().await.unwrap().text().await.unwrap();
    assert!(accesso.contains("Ambiente dimostrativo"), "{accesso}");
    let csrf = valore_campo(&accesso, "_csrf");
    let home = c
        .post(format!("{indirizzo}/accedi"))
        .form(&[
            ("username", "operatore.polizia"),
            ("password", password.as_str()),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let elenco = c
        .get(format!("{indirizzo}/richieste"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(elenco.contains("COMPLETATA"), "{elenco}");
    // Request links carry opaque ids: `N-<hex tag>`; the demo's two examples are 1 and 2.
    let scarica = async |numero: &str| {
        let dettaglio = elenco
            .split("href=\"/richieste/")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|s| s.split_once('-').is_some_and(|(n, _)| n == numero))
            .unwrap_or_else(|| panic!("nessun link alla richiesta {numero}:\n{elenco}"));
        let pagina = c
            .get(format!("{indirizzo}/richieste/{dettaglio}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let file = pagina
            .split("href=\"/richieste/")
            .filter_map(|s| s.split('"').next())
            .find(|s| s.contains("/file/"))
            .unwrap_or_else(|| panic!("nessun file da scaricare:\n{pagina}"));
        let r = c
            .get(format!("{indirizzo}/richieste/{file}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        r.text().await.unwrap()
    };
    // The second example, through the Comune's channel (3002): every kind found by document,
    // with the document's number in its column; a card nobody holds is not found.
    let documenti = scarica("2").await;
    for inizio in [
        "pratica-101;CI;CA00003ZA;TROVATO;",
        "pratica-102;CI;AZ1020304;TROVATO;",
        "pratica-103;PDS;IZ0000012;TROVATO;",
        "pratica-104;PASS;YA0000018;TROVATO;",
        "pratica-105;CF;STTSGT90A01H501J;TROVATO;",
        "pratica-106;IDANPR;JF28000UG;TROVATO;",
        "pratica-107;CI;CA99999ZZ;NON_TROVATO;",
    ] {
        assert!(documenti.contains(inizio), "{inizio}\n{documenti}");
    }
    assert!(documenti.contains(";CA00001ZA;"), "{documenti}");
    let csv = scarica("1").await;
    // ANPR's published test subjects: SETTIMO SOGGETTO by CF (resolved to its ID ANPR), the
    // wrong check character never sent, the repeated CF looked up once.
    assert!(
        csv.contains("pratica-001;CF;STTSGT90A01H501J;TROVATO;;"),
        "{csv}"
    );
    assert!(
        csv.contains(";AF41450AS;STTSGT90A01H501J;SETTIMO;SOGGETTO;M;01/01/1990;ROMA;"),
        "{csv}"
    );
    assert!(
        csv.contains("pratica-011;CF;RSSMRA85T10A562X;NON_VALIDO;"),
        "{csv}"
    );
    assert!(csv.contains("duplicato della riga 2"), "{csv}");

    // The database is under rivesto-data/demo of the folder it ran in, encrypted files only.
    let cifrato = dir
        .path()
        .join("rivesto-data/demo/risultati/richiesta-1/richiesta-1-parte-001.csv.age");
    let byte = std::fs::read(&cifrato).unwrap();
    assert!(byte.starts_with(b"age-encryption.org/v1"));
    assert!(!String::from_utf8_lossy(&byte).contains("SETTIMO"));
}

//! `rivesto bench e2e` with tiny sizes: the figure lines are printed and every row ends final.
//! No timing is checked.

use crate::{rivesto, testo};

fn riga<'a>(out: &'a str, inizio: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(inizio))
        .unwrap_or_else(|| panic!("manca la riga «{inizio}…» in:\n{out}"))
}

fn controlla_scenario(out: &str, latenza: u64, soggetti: u32) {
    let p = format!("[latenza {latenza} ms]");
    assert!(riga(out, &format!("{p} caricamento: {soggetti} righe")).contains("righe/s"));
    assert_eq!(
        riga(out, &format!("{p} righe finali:")),
        format!("{p} righe finali: {soggetti} su {soggetti}")
    );
    // The bench profile is C030, then C020 for the people C030 found (DESIGN §4): between
    // one and two calls per subject, never more.
    let e = riga(out, &format!("{p} elaborazione: {soggetti} soggetti"));
    assert!(
        e.contains("soggetti/s") && e.contains("chiamate ANPR/s"),
        "{e}"
    );
    let per_soggetto: f64 = e
        .strip_suffix(" chiamate/soggetto")
        .and_then(|r| r.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("chiamate per soggetto in «{e}»"));
    assert!((1.0..=2.0).contains(&per_soggetto), "{e}");
    assert!(riga(out, &format!("{p} latenza per riga")).contains("p99"));
    assert!(riga(out, &format!("{p} picco di memoria")).contains("MiB"));
    assert!(riga(out, &format!("{p} client minimo: 20 chiamate C030")).contains("(0 errori)"));
}

#[test]
fn e2e_in_piccolo() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path())
        .args(["bench", "e2e", "--subjects", "50", "--concurrency", "4"])
        .args([
            "--latency-ms",
            "20",
            "--chunk-size",
            "16",
            "--minimal-calls",
            "20",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", testo(&o));
    assert!(
        riga(&out, "firme RS256/s")
            .chars()
            .any(|c| c.is_ascii_digit())
    );
    controlla_scenario(&out, 0, 50);
    controlla_scenario(&out, 20, 50);
    assert!(riga(&out, "rapporto a latenza 0:").contains("obiettivo ≥ 60%"));
    assert!(riga(&out, "rapporto a latenza 20 ms:").contains("obiettivo ≥ 90%"));
    assert!(riga(&out, "richiesta piccola: 10 righe").contains("obiettivo ≤ 1040 ms"));
}

#[test]
fn e2e_con_simulatore_separato() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path())
        .args(["bench", "e2e", "--subjects", "30", "--concurrency", "4"])
        .args([
            "--latency-ms",
            "0",
            "--separate-sim",
            "--minimal-calls",
            "20",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", testo(&o));
    controlla_scenario(&out, 0, 30);
    assert!(!out.contains("simulatore compreso"), "{out}");
}

#[test]
fn web_in_piccolo() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path())
        .args(["bench", "web", "--subjects", "3000", "--clients", "3"])
        .args([
            "--seconds",
            "2",
            "--latency-ms",
            "100",
            "--concurrency",
            "4",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", testo(&o));
    assert!(riga(&out, "richiesta 1 alla fine della misura: IN_ELABORAZIONE").contains("su 3000"));
    assert_eq!(
        riga(&out, "risposte non riuscite"),
        "risposte non riuscite (contate anche nei tempi): 0"
    );
    for endpoint in ["elenco richieste", "pagina della richiesta", "API stato"] {
        let r = riga(&out, endpoint);
        assert!(
            r.contains("p50") && r.contains("p99") && r.contains("max"),
            "{r}"
        );
    }
}

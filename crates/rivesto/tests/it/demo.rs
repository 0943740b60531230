//! `rivesto demo` runs from an empty folder: it seeds the database, submits the example request,
//! approves it, processes it against the in-process simulator and shows the result file.

use crate::{rivesto, testo};

fn riga_con<'a>(out: &'a str, chiave: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(chiave))
        .unwrap_or_else(|| panic!("nessuna riga con {chiave}:\n{out}"))
}

#[tokio::test]
async fn demo_in_una_cartella_vuota() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path()).arg("demo").output().unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.starts_with("Simulatore ANPR in ascolto su http://127.0.0.1:"),
        "{}",
        testo(&o)
    );
    // Users of every role, with their generated passwords.
    for (utente, ruolo) in [
        ("top.roma", "TOP"),
        ("top.milano", "TOP"),
        ("admin.polizia", "ADMIN"),
        ("operatore.polizia", "STANDARD"),
        ("operatore.tribunale", "STANDARD"),
    ] {
        assert!(riga_con(&out, utente).contains(ruolo), "{out}");
    }
    let password_top = riga_con(&out, "top.roma ")
        .split_whitespace()
        .last()
        .unwrap();
    assert!(out.contains("approvata da top.roma (TOP)"), "{out}");
    assert!(out.contains("elaborata dal worker: COMPLETATA"), "{out}");

    // Outcomes: ANPR's published test subjects are found, by CF and by ID ANPR; the subject
    // cancelled from ANPR is not; the wrong check character never reaches ANPR; the repeated
    // CF is looked up once.
    assert!(
        riga_con(&out, "riga   2 ").contains("STTSGT90A01H501J TROVATO"),
        "{out}"
    );
    assert!(riga_con(&out, "EV45959WW").contains("TROVATO"), "{out}");
    assert!(
        riga_con(&out, "PRVCCL60B50G393U").contains("NON_TROVATO"),
        "{out}"
    );
    let invalida = riga_con(&out, "RSSMRA85T10A562X");
    assert!(invalida.contains("NON_VALIDO"), "{invalida}");
    assert!(invalida.contains("atteso S, trovato X"), "{invalida}");
    assert!(
        riga_con(&out, "riga  13 ").contains("duplicato della riga 2"),
        "{out}"
    );
    // 11 valid rows, one duplicate: 7 distinct CFs resolved with C030, none of the ID ANPR.
    assert!(out.contains("C030 7"), "{out}");

    let demo = dir.path().join("rivesto-data/demo");
    let cifrato = demo.join("risultati/richiesta-1/richiesta-1-parte-001.csv.age");
    assert!(
        out.contains("richiesta-1-parte-001.csv.age (12 righe"),
        "{out}"
    );
    let byte = std::fs::read(&cifrato).unwrap();
    assert!(byte.starts_with(b"age-encryption.org/v1"));
    assert!(!String::from_utf8_lossy(&byte).contains("SETTIMO"));
    let csv = std::fs::read_to_string(demo.join("richiesta-1-parte-001.csv")).unwrap();
    assert!(
        csv.contains("pratica-001;CF;STTSGT90A01H501J;TROVATO;;"),
        "{csv}"
    );
    assert!(
        csv.contains(";AF41450AS;STTSGT90A01H501J;SETTIMO;SOGGETTO;M;01/01/1990;ROMA;"),
        "{csv}"
    );
    // OTTAVO SOGGETTO (by ID ANPR or CF) is AIRE-registered: resident in Germany.
    assert!(riga_con(&csv, "pratica-006;").contains("GERMANIA"), "{csv}");
    // SOGGETTO OTTAVO died on 2021-11-13 (ANPR's test cases): not alive, with the date.
    let deceduto = riga_con(&csv, "pratica-004;").trim_end_matches('\r');
    assert!(deceduto.ends_with(";N;13/11/2021"), "{deceduto}");
    assert!(
        riga_con(&csv, "pratica-012;").contains("duplicato della riga 2"),
        "{csv}"
    );

    // The database behind it: the printed password is the real one, the chain is intact and
    // records the TOP's approval.
    let url = format!("sqlite://{}", demo.join("rivesto.db").display());
    let s = store::Store::connetti(&url).await.unwrap();
    assert!(
        s.verifica_password("top.roma", password_top)
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        s.verifica_catena().await.unwrap(),
        store::EsitoVerifica::Valida { .. }
    ));
    let voci = s.voci_audit(0, 1000).await.unwrap();
    assert!(
        voci.iter()
            .any(|v| v.azione == "RICHIESTA_CONVALIDATA" && v.attore == "top.roma")
    );
    s.chiudi().await;

    // Fresh each run: a second run in the same folder starts over.
    let o = rivesto(dir.path()).arg("demo").output().unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("== Richiesta 1:"));
}

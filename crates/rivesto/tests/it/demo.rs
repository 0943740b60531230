//! `rivesto demo` runs from an empty folder and writes its sample result file.

use crate::{rivesto, testo};

#[test]
fn demo_in_una_cartella_vuota() {
    let dir = tempfile::tempdir().unwrap();
    let o = rivesto(dir.path()).arg("demo").output().unwrap();
    assert!(o.status.success(), "{}", testo(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("Simulatore ANPR in ascolto su http://127.0.0.1:"),
        "{}",
        testo(&o)
    );
    // SETTIMO SOGGETTO (published test subject) is found; the cancelled subject is not; the
    // wrong check character never reaches ANPR.
    assert!(out.contains("STTSGT90A01H501J TROVATO"), "{}", testo(&o));
    assert!(
        out.contains("PRVCCL60B50G393U NON_TROVATO"),
        "{}",
        testo(&o)
    );
    assert!(out.contains("RSSMRA85T10A562X NON_VALIDO"), "{}", testo(&o));
    let csv: Vec<_> = std::fs::read_dir(dir.path().join("rivesto-data/demo"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with("-parte-001.csv"))
        .collect();
    assert_eq!(csv.len(), 1);
    let contenuto = std::fs::read_to_string(csv[0].path()).unwrap();
    assert!(contenuto.contains("esempio-1;CF;STTSGT90A01H501J;TROVATO;;"));
    assert!(contenuto.contains(";AF41450AS;STTSGT90A01H501J;SETTIMO;SOGGETTO;M;01/01/1990;"));
    // OTTAVO SOGGETTO died on 2021-11-13 (ANPR's test cases): not alive, with the date.
    let deceduto = contenuto
        .lines()
        .find(|l| l.contains(";SGGTTV60A01H501T;"))
        .expect("riga del deceduto");
    assert!(
        deceduto.ends_with(";N;13/11/2021\r") || deceduto.ends_with(";N;13/11/2021"),
        "{deceduto}"
    );
}

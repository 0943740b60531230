//! `rivesto input check`: the report and the exit codes of DESIGN §5.

use crate::{rivesto, testo};

#[test]
fn codici_di_uscita() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("buono.csv"),
        "tipo;identificativo\nCF;RSSMRA85T10A562S\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("errato.csv"),
        "tipo;identificativo\nCF;RSSMRA85T10A562X\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("vuoto.csv"), "").unwrap();

    let o = rivesto(dir.path())
        .args(["input", "check", "buono.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", testo(&o));

    let o = rivesto(dir.path())
        .args(["input", "check", "errato.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "riga 2: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X"
        ),
        "{}",
        testo(&o)
    );

    let o = rivesto(dir.path())
        .args(["input", "check", "vuoto.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", testo(&o));

    let o = rivesto(dir.path())
        .args(["input", "check", "--json", "errato.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", testo(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON valido");
    assert!(v.is_object(), "{}", testo(&o));
}

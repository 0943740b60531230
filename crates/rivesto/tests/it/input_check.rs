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

/// The files in `examples/` are what examples/README.md says they are.
#[test]
fn file_di_esempio() {
    let esempi = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let dir = tempfile::tempdir().unwrap();
    for (file, codice, atteso) in [
        ("pulito.csv", 0, "righe: 6; valide: 6"),
        ("disordinato.csv", 1, "codifica Windows-1252, separatore ,"),
        ("tutti-i-tipi.csv", 0, "PASS: 1 righe, 1 valide"),
        (
            "richiesta-esempio.csv",
            1,
            "riga 12: codice fiscale non valido",
        ),
    ] {
        let o = rivesto(dir.path())
            .args(["input", "check"])
            .arg(esempi.join(file))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(codice), "{file}: {}", testo(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(atteso),
            "{file}: {}",
            testo(&o)
        );
    }
    let o = rivesto(dir.path())
        .args(["input", "check"])
        .arg(esempi.join("disordinato.csv"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    for problema in [
        "riga 4: codice fiscale non valido",
        "riga 6: duplicato della riga 2",
        "riga 8: questura di rilascio mancante",
        "riga 9: tipo sconosciuto",
    ] {
        assert!(out.contains(problema), "{problema}: {out}");
    }
}

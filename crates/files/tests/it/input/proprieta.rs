//! Whatever arrives, the parser does not panic and its report adds up.

use std::collections::HashMap;
use std::io::Cursor;

use files::input::{
    EsitoRiga, Limiti, Rapporto, RifiutoFile, RigaAnalizzata, analizza, analizza_ripetibile,
};
use proptest::prelude::*;

use super::opzioni;

/// Physical lines as DESIGN §5 counts them: CR, LF and CRLF each end one.
fn righe_fisiche(byte: &[u8]) -> u64 {
    let mut n = 1;
    let mut dopo_cr = false;
    for &b in byte {
        match b {
            b'\r' => {
                n += 1;
                dopo_cr = true;
            }
            b'\n' if dopo_cr => dopo_cr = false,
            b'\n' => n += 1,
            _ => dopo_cr = false,
        }
    }
    n
}

fn esegui(byte: &[u8], limiti: Limiti) -> (Result<Rapporto, RifiutoFile>, Vec<RigaAnalizzata>) {
    let mut righe = Vec::new();
    let esito = analizza_ripetibile(Cursor::new(byte), None, limiti, opzioni(), |r| {
        righe.push(r)
    });
    (esito, righe)
}

fn invarianti(
    byte: &[u8],
    limiti: Limiti,
    esito: &Result<Rapporto, RifiutoFile>,
    righe: &[RigaAnalizzata],
) {
    let Ok(r) = esito else {
        return;
    };
    let linee = righe_fisiche(byte);
    let t = &r.totali;
    assert_eq!(t.righe, righe.len() as u64);
    assert!(t.righe >= 1 && t.righe <= limiti.max_righe);
    assert_eq!(t.righe, t.valide + t.non_valide);
    let per_tipo: u64 = t.per_tipo.iter().map(|x| x.righe).sum();
    assert_eq!(per_tipo + t.senza_tipo, t.righe);
    for x in &t.per_tipo {
        assert_eq!(x.righe, x.valide + x.non_valide);
        assert!(x.duplicate <= x.valide);
    }
    assert_eq!(
        t.duplicate,
        t.per_tipo.iter().map(|x| x.duplicate).sum::<u64>()
    );
    assert!(r.problemi_totali >= r.problemi.len() as u64);
    for p in &r.problemi {
        assert!(p.riga >= 1 && p.riga <= linee, "riga {} of {linee}", p.riga);
    }
    let mut valide: HashMap<u64, &RigaAnalizzata> = HashMap::new();
    let mut precedente = r.intestazione.unwrap_or(0);
    for riga in righe {
        assert!(riga.riga > precedente && riga.riga <= linee);
        precedente = riga.riga;
        match &riga.esito {
            EsitoRiga::Valida => {
                valide.insert(riga.riga, riga);
            }
            EsitoRiga::Duplicata { di } => {
                let primo = valide
                    .get(di)
                    .expect("a duplicate points at an earlier valid row");
                assert_eq!(
                    (
                        primo.tipo,
                        &primo.identificativo,
                        &primo.rilascio,
                        &primo.motivo
                    ),
                    (
                        riga.tipo,
                        &riga.identificativo,
                        &riga.rilascio,
                        &riga.motivo
                    )
                );
            }
            EsitoRiga::NonValida(_) => assert!(riga.avvisi.is_empty()),
        }
    }
    assert_eq!(r.exit_code(), i32::from(t.non_valide > 0));
    let _ = (r.testo(), r.json());
}

fn pezzo() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("CF".to_owned()),
        Just("IDANPR".to_owned()),
        Just("ci".to_owned()),
        Just("PDS".to_owned()),
        Just("tipo".to_owned()),
        Just("identificativo".to_owned()),
        Just("rilascio".to_owned()),
        Just("RSSMRA85T10A562S".to_owned()),
        Just("RSSMRA85T10A56NH".to_owned()),
        Just("01234567897".to_owned()),
        Just("CA00000AA".to_owned()),
        Just("Roma".to_owned()),
        Just("Samone".to_owned()),
        Just(";".to_owned()),
        Just(",".to_owned()),
        Just("\t".to_owned()),
        Just("\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("città €".to_owned()),
        "[A-Za-z0-9 =+@-]{0,24}",
    ]
}

fn limiti_piccoli() -> Limiti {
    Limiti {
        max_byte: 4096,
        max_righe: 6,
        max_campo: 12,
        ..Limiti::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(byte in proptest::collection::vec(any::<u8>(), 0..600)) {
        for limiti in [Limiti::default(), limiti_piccoli()] {
            let (esito, righe) = esegui(&byte, limiti);
            invarianti(&byte, limiti, &esito, &righe);
        }
    }

    #[test]
    fn csv_like_text_keeps_its_invariants(pezzi in proptest::collection::vec(pezzo(), 0..80)) {
        let testo = pezzi.concat();
        for limiti in [Limiti::default(), limiti_piccoli()] {
            let (esito, righe) = esegui(testo.as_bytes(), limiti);
            invarianti(testo.as_bytes(), limiti, &esito, &righe);
        }
    }

    #[test]
    fn windows_1252_text_keeps_its_invariants(pezzi in proptest::collection::vec(pezzo(), 0..40)) {
        let testo = pezzi.concat();
        let (byte, _, _) = encoding_rs::WINDOWS_1252.encode(&testo);
        let (esito, righe) = esegui(&byte, Limiti::default());
        invarianti(&byte, Limiti::default(), &esito, &righe);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The stream path (copied to a temporary file) gives the same answer as the seekable one.
    #[test]
    fn streamed_and_seekable_reads_agree(pezzi in proptest::collection::vec(pezzo(), 0..60)) {
        let testo = pezzi.concat();
        let (atteso, righe_attese) = esegui(testo.as_bytes(), Limiti::default());
        let mut righe = Vec::new();
        let esito = analizza(testo.as_bytes(), None, Limiti::default(), opzioni(), |r| righe.push(r));
        prop_assert_eq!(esito, atteso);
        prop_assert_eq!(righe, righe_attese);
    }
}

#[test]
fn generated_benchmark_file_parses_as_designed() {
    let mut file = Vec::new();
    files::input::genera_file_prova(5_000, 7, &mut file).expect("in memory");
    let mut ancora = Vec::new();
    files::input::genera_file_prova(5_000, 7, &mut ancora).expect("in memory");
    assert_eq!(file, ancora, "same seed, same file");
    let (esito, righe) = esegui(&file, Limiti::default());
    invarianti(&file, Limiti::default(), &esito, &righe);
    let r = esito.expect("accepted");
    let t = &r.totali;
    assert_eq!(t.righe, 5_000);
    // About 4% invalid CFs and 3% duplicates by construction; wide bounds keep this robust.
    assert!(
        (100..=300).contains(&t.non_valide),
        "{} non valide",
        t.non_valide
    );
    assert!(
        (75..=300).contains(&t.duplicate),
        "{} duplicate",
        t.duplicate
    );
    for x in &t.per_tipo {
        assert!(x.righe > 0, "{:?} missing", x.tipo);
    }
    assert!(r.problemi.iter().all(|p| {
        p.problema.starts_with("duplicato della riga")
            || p.problema
                .starts_with("codice fiscale non valido: carattere di controllo errato")
    }));
}

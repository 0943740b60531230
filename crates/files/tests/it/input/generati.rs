//! Binary corner cases, generated here rather than committed: Windows-1252, UTF-16, junk,
//! XLSX. Each file is written to a temporary folder under the name an operator might give it.

use std::path::PathBuf;

use files::input::{
    Formato, Limiti, Rapporto, RifiutoFile, RigaAnalizzata, Rilascio, analizza_testo,
    controlla_file,
};
use rust_xlsxwriter::Workbook;

use super::{Atteso, controlla, leggi_file, opzioni};

/// A cell of a generated sheet.
enum Cella {
    T(&'static str),
    N(f64),
}

fn scrivi(cartella: &tempfile::TempDir, nome: &str, byte: &[u8]) -> PathBuf {
    let percorso = cartella.path().join(nome);
    std::fs::write(&percorso, byte).expect("write");
    percorso
}

fn xlsx(righe: &[&[Cella]]) -> Vec<u8> {
    let mut libro = Workbook::new();
    let foglio = libro.add_worksheet();
    for (r, celle) in righe.iter().enumerate() {
        for (c, cella) in celle.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cella {
                Cella::T("") => {}
                Cella::T(t) => {
                    foglio.write_string(r, c, *t).expect("cell");
                }
                Cella::N(n) => {
                    foglio.write_number(r, c, *n).expect("cell");
                }
            }
        }
    }
    libro.save_to_buffer().expect("xlsx")
}

fn leggi(
    nome: &str,
    byte: &[u8],
    limiti: Limiti,
) -> (Result<Rapporto, RifiutoFile>, Vec<RigaAnalizzata>) {
    let cartella = tempfile::tempdir().expect("tempdir");
    let percorso = scrivi(&cartella, nome, byte);
    leggi_file(&percorso, limiti)
}

fn accettato(nome: &str, byte: &[u8]) -> (Rapporto, Vec<RigaAnalizzata>) {
    let (esito, righe) = leggi(nome, byte, Limiti::default());
    (
        esito.unwrap_or_else(|e| panic!("{nome} rifiutato: {e}")),
        righe,
    )
}

fn rifiutato(nome: &str, byte: &[u8], limiti: Limiti) -> RifiutoFile {
    leggi(nome, byte, limiti).0.expect_err("must be refused")
}

fn riga(righe: &[RigaAnalizzata], n: u64) -> &RigaAnalizzata {
    righe.iter().find(|r| r.riga == n).expect("row present")
}

#[test]
fn windows_1252_accents() {
    let byte = b"tipo;identificativo;riferimento;rilascio\r\n\
        CI;CA12345BB;Nicol\xF2 Bianch\xEC;Forl\xEC\r\n\
        CF;BNCLCU90E45F205U;Perch\xE9 s\xEC \x80 10\r\n";
    let (r, righe) = accettato("02_windows1252.csv", byte);
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[],
            totali: [2, 2, 0, 0, 0],
            per_tipo: &[("CF", [1, 1, 0, 0]), ("CI", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.codifica, Some("Windows-1252"));
    assert_eq!(
        riga(&righe, 2).riferimento.as_deref(),
        Some("Nicolò Bianchì")
    );
    assert_eq!(
        riga(&righe, 2).rilascio,
        Some(Rilascio::Comune {
            istat: "040012".into(),
            nome: "Forlì".into()
        })
    );
    assert_eq!(
        riga(&righe, 3).riferimento.as_deref(),
        Some("Perché sì € 10")
    );
}

#[test]
fn byte_undefined_in_windows_1252_is_refused() {
    let byte = b"tipo;identificativo;riferimento\r\nCF;RSSMRA85T10A562S;caf\xE8\x81\r\n";
    let e = rifiutato("03_indefinito.csv", byte, Limiti::default());
    assert_eq!(
        e.to_string(),
        "codifica non riconosciuta: il file non è UTF-8 valido e alla riga 2 contiene il byte 0x81, \
         che Windows-1252 non definisce; sono accettati UTF-8 e Windows-1252"
    );
}

#[test]
fn utf16_is_refused_with_a_hint() {
    let testo = "tipo;identificativo\r\nCF;RSSMRA85T10A562S\r\n";
    let mut byte = vec![0xFF, 0xFE];
    byte.extend(testo.encode_utf16().flat_map(u16::to_le_bytes));
    let e = rifiutato("04_testo_unicode.txt", &byte, Limiti::default());
    assert_eq!(e, RifiutoFile::Utf16);
    assert!(e.to_string().contains("salvarlo come \"CSV UTF-8\""));
}

#[test]
fn binary_junk_is_refused() {
    let nul = b"\xde\xad\xbe\xef\r\n\x13\x37\n\x00\xff";
    assert_eq!(
        rifiutato("15_spazzatura.bin", nul, Limiti::default()),
        RifiutoFile::ByteNul { riga: 3 }
    );
    let elf = b"\x7fELF\x02\x01\x01\x00\x00";
    assert_eq!(
        rifiutato("15_programma.csv", elf, Limiti::default()),
        RifiutoFile::ByteNul { riga: 1 }
    );
    let senza_nul = b"\xc3\x28\x9d\xa0\xa1";
    assert_eq!(
        rifiutato("15_rumore.csv", senza_nul, Limiti::default()),
        RifiutoFile::Codifica {
            dettaglio: "non è UTF-8 valido e alla riga 1 contiene il byte 0x9D, che Windows-1252 non definisce".into()
        }
    );
    let xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00";
    assert_eq!(
        rifiutato("37_vecchio.xls", xls, Limiti::default()),
        RifiutoFile::TipoNonSupportato {
            descrizione: "XLS (Excel 97-2003): salvarlo come XLSX o CSV".into()
        }
    );
}

#[test]
fn bom_followed_by_invalid_utf8_is_refused() {
    let byte = b"\xEF\xBB\xBFtipo;identificativo\r\nCF;caff\xE8\r\n";
    assert_eq!(
        rifiutato("36_bom_falso.csv", byte, Limiti::default()),
        RifiutoFile::Codifica {
            dettaglio: "inizia con il BOM UTF-8 ma alla riga 2 contiene byte non validi in UTF-8"
                .into()
        }
    );
}

#[test]
fn xlsx_renamed_csv_is_read_as_xlsx_with_a_warning() {
    use Cella::T;
    let byte = xlsx(&[
        &[T("tipo"), T("identificativo"), T("riferimento")],
        &[T("CF"), T("RSSMRA85T10A562S"), T("x")],
        &[],
        &[T("IDANPR"), T("AB12345C1")],
        &[T("CF"), T("RSSMRA85T10A562X"), T("y")],
    ]);
    let (r, righe) = accettato("elenco.csv", &byte);
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 5: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X",
            ],
            totali: [3, 2, 1, 0, 0],
            per_tipo: &[("CF", [2, 1, 1, 0]), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.formato, Formato::Xlsx);
    assert_eq!(r.intestazione, Some(1));
    assert_eq!(
        r.avvisi_file,
        ["il file si chiama \"elenco.csv\" ma il contenuto è un XLSX: letto come XLSX"]
    );
    assert_eq!(riga(&righe, 2).riferimento.as_deref(), Some("x"));
}

#[test]
fn xlsx_numeric_cf_cells_get_their_zeros_back() {
    use Cella::{N, T};
    let byte = xlsx(&[
        &[T("tipo"), T("identificativo"), T("riferimento")],
        &[T("CF"), N(1_234_567_897.0), T("a")],
        &[T("CF"), N(80_123_456_784.0), T("b")],
        &[T("CF"), N(1_234_567_890.0), T("c")],
        &[T("CI"), N(12_345_678.0)],
        &[T("CF"), T("RSSMRA85T10A562S")],
        &[T("CF"), T("1234567897")],
    ]);
    let (r, righe) = accettato("17_numeri.xlsx", &byte);
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: codice fiscale non valido: carattere di controllo errato: atteso 7, trovato 0",
                "riga 7: codice fiscale non valido: lunghezza errata: 10 caratteri, attesi 16 (o 11 cifre per il codice provvisorio)",
            ],
            totali: [6, 4, 2, 0, 0],
            per_tipo: &[("CF", [5, 3, 2, 0]), ("CI", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert!(r.avvisi_file.is_empty());
    assert_eq!(riga(&righe, 2).identificativo, "01234567897");
    assert_eq!(riga(&righe, 3).identificativo, "80123456784");
    // Only a CF gets zeros back: an old numeric card number is what it says.
    assert_eq!(riga(&righe, 5).identificativo, "12345678");
}

#[test]
fn xlsx_single_column_without_header() {
    use Cella::{N, T};
    let byte = xlsx(&[
        &[N(1_234_567_897.0)],
        &[T("CA00000AA")],
        &[N(12_345.0)],
        &[],
        &[N(12_344.0)],
    ]);
    let (r, righe) = accettato("18_colonna.xlsx", &byte);
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 2: avviso: CA00000AA ha sia il formato dell'ID ANPR sia quello della CIE: letto come ID ANPR; per un elenco di carte d'identità indicare il tipo (intestazione \"ci\" o colonna tipo)",
                "riga 3: codice fiscale non valido: carattere di controllo errato: atteso 4, trovato 5",
            ],
            totali: [4, 3, 1, 0, 1],
            per_tipo: &[("CF", [3, 2, 1, 0]), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(riga(&righe, 5).identificativo, "00000012344");
}

#[test]
fn xlsx_over_the_decompressed_limit_is_refused() {
    use Cella::T;
    let byte = xlsx(&[&[T("CF"), T("RSSMRA85T10A562S")]]);
    let limiti = Limiti {
        max_decompresso: 1000,
        ..Limiti::default()
    };
    let e = rifiutato("39_grande.xlsx", &byte, limiti);
    assert_eq!(e, RifiutoFile::XlsxTroppoGrande { limite: 1000 });
    assert_eq!(
        e.to_string(),
        "il file XLSX, decompresso, supera il limite di 1.000 byte"
    );
}

#[test]
fn csv_named_xlsx_is_read_as_csv_with_a_warning() {
    let (r, _) = accettato("elenco.xlsx", b"RSSMRA85T10A562S\r\n");
    assert_eq!(r.formato, Formato::Csv);
    assert_eq!(
        r.avvisi_file,
        ["il file si chiama \"elenco.xlsx\" ma il contenuto è testo CSV: letto come CSV"]
    );
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn manual_entry_uses_the_same_parser() {
    let mut righe = Vec::new();
    let r = analizza_testo(
        "RSSMRA85T10A562S\n\nAB12345C1\nRSSMRA85T10A562X\n",
        Limiti::default(),
        opzioni(),
        |r| righe.push(r),
    )
    .expect("accepted");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X",
            ],
            totali: [3, 2, 1, 0, 0],
            per_tipo: &[("CF", [2, 1, 1, 0]), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.file, None);
    assert_eq!(
        analizza_testo("  \n", Limiti::default(), opzioni(), |_| {}),
        Err(RifiutoFile::Vuoto)
    );
}

#[test]
fn input_check_prints_the_report_and_returns_the_exit_code() {
    let cartella = tempfile::tempdir().expect("tempdir");
    let percorso = scrivi(
        &cartella,
        "lista.csv",
        b"RSSMRA85T10A562S\nRSSMRA85T10A562S\n",
    );
    let mut out = Vec::new();
    assert_eq!(
        controlla_file(&percorso, Limiti::default(), false, &mut out),
        0
    );
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "file: lista.csv\n\
         formato: CSV, codifica UTF-8, senza intestazione\n\
         riga 2: duplicato della riga 1\n\
         righe: 2; valide: 2 (di cui duplicate: 1, con avvisi: 0); non valide: 0\n\
         CF: 2 righe, 2 valide, 0 non valide, 1 duplicate\n"
    );

    let mut out = Vec::new();
    assert_eq!(
        controlla_file(&percorso, Limiti::default(), true, &mut out),
        0
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["totali"]["righe"], 2);
    assert_eq!(v["totali"]["duplicate"], 1);
    assert_eq!(v["problemi"][0]["riga"], 2);
    assert_eq!(v["problemi"][0]["problema"], "duplicato della riga 1");

    let vuoto = scrivi(&cartella, "vuoto.csv", b"");
    let mut out = Vec::new();
    assert_eq!(controlla_file(&vuoto, Limiti::default(), true, &mut out), 2);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["rifiutato"], true);
    assert_eq!(v["motivo"], "il file è vuoto: nessuna riga da elaborare");
    let mut out = Vec::new();
    assert_eq!(
        controlla_file(&vuoto, Limiti::default(), false, &mut out),
        2
    );
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "file rifiutato: il file è vuoto: nessuna riga da elaborare\n"
    );

    let invalido = scrivi(&cartella, "x.csv", b"CF;RSSMRA85T10A562X\n");
    assert_eq!(
        controlla_file(&invalido, Limiti::default(), false, &mut Vec::new()),
        1
    );
}

#[test]
fn problems_past_the_first_thousand_are_only_counted() {
    let testo = "ciao\n".repeat(1005);
    let r = analizza_testo(&testo, Limiti::default(), opzioni(), |_| {}).expect("accepted");
    assert_eq!(r.problemi.len(), 1000);
    assert_eq!(r.problemi_totali, 1005);
    assert_eq!(r.problemi[999].riga, 1000);
    assert!(r.testo().contains("… e altri 5 problemi non elencati\n"));
}

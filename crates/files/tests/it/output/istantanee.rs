//! Snapshots of every format and encoding. They guard the format against accidental change;
//! correctness comes from the hand-written expectations in `esatti.rs`.

use std::io::Read;
use std::path::Path;

use domain::esito::Esito;
use files::output::{
    CodiceCampo, Codifica, Formato, Layout, ModoFamiglia, Resoconto, RigaRisultato,
};

use super::{leggi, riga, scrivi_tutto};

const CAMPI: [CodiceCampo; 6] = [
    CodiceCampo::Cognome,
    CodiceCampo::Nome,
    CodiceCampo::DataNascita,
    CodiceCampo::ResidenzaComune,
    CodiceCampo::StatoCivile,
    CodiceCampo::FamigliaComponenti,
];

fn righe() -> Vec<RigaRisultato> {
    let mut prima = riga(
        "pratica 1",
        Esito::Trovato,
        "",
        &["1766578458", "1766578459"],
        &[
            "D’ANNUNZIO",
            "NICOLÒ",
            "01/01/1990",
            "ROMA",
            "Coniugato/a",
            "2",
        ],
    );
    prima.componenti_famiglia = vec![
        [
            "1",
            "AA11111AA",
            "STTSGT90A01H501J",
            "D’ANNUNZIO",
            "NICOLÒ",
            "M",
            "01/01/1990",
            "Intestatario scheda",
            "",
        ]
        .map(String::from)
        .to_vec(),
        [
            "2",
            "AB12345CD",
            "WLSLKS85M10Z127K",
            "WAŁĘSA",
            "ŁUKASZ",
            "M",
            "10/08/1985",
            "Marito/Moglie",
            "03/02/2015",
        ]
        .map(String::from)
        .to_vec(),
    ];
    vec![
        prima,
        riga(
            "@rif",
            Esito::NonValido,
            "carattere di controllo errato: atteso K, trovato X",
            &[],
            &[""; 6],
        ),
        riga(
            "3",
            Esito::Trovato,
            "",
            &["42ef9ba3-de25-11ef-af04-005056ae21f8"],
            &["ȘTEFĂNESCU", "Иван", "1975", "", "", ""],
        ),
    ]
}

fn layout(formato: Formato, codifica: Codifica) -> Layout {
    let mut l = Layout::new(CAMPI.to_vec());
    l.formato = formato;
    l.codifica = codifica;
    l.famiglia = ModoFamiglia::FilePerComponente;
    l
}

fn scrivi(dir: &Path, formato: Formato, codifica: Codifica) -> Resoconto {
    scrivi_tutto(dir, "1001", layout(formato, codifica), &righe())
}

/// Bytes as readable text: CR and LF shown, a BOM and non-ASCII Windows-1252 bytes escaped.
fn visibile(byte: &[u8], utf8: bool) -> String {
    let testo: String = if utf8 {
        String::from_utf8(byte.to_vec())
            .unwrap()
            .replace('\u{FEFF}', "\\u{FEFF}")
    } else {
        byte.iter()
            .map(|&b| {
                if b.is_ascii() {
                    (b as char).to_string()
                } else {
                    format!("\\x{b:02X}")
                }
            })
            .collect()
    };
    testo.replace('\r', "\\r").replace('\n', "\\n\n")
}

#[test]
fn csv_utf8_bom() {
    let dir = tempfile::tempdir().unwrap();
    let r = scrivi(dir.path(), Formato::Csv, Codifica::Utf8Bom);
    insta::assert_snapshot!("csv_utf8_bom", visibile(&leggi(&r.file[0]), true));
    insta::assert_snapshot!("csv_utf8_bom_famiglie", visibile(&leggi(&r.file[1]), true));
}

#[test]
fn csv_windows_1252() {
    let dir = tempfile::tempdir().unwrap();
    let r = scrivi(dir.path(), Formato::Csv, Codifica::Windows1252);
    insta::assert_snapshot!("csv_windows_1252", visibile(&leggi(&r.file[0]), false));
    insta::assert_snapshot!(
        "csv_windows_1252_famiglie",
        visibile(&leggi(&r.file[1]), false)
    );
    assert_eq!((r.caratteri_traslitterati, r.caratteri_sostituiti), (5, 4));
}

#[test]
fn json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let r = scrivi(dir.path(), Formato::JsonLines, Codifica::Utf8Bom);
    assert_eq!(r.file.len(), 1);
    insta::assert_snapshot!("jsonl", String::from_utf8(leggi(&r.file[0])).unwrap());
}

fn voce_zip(percorso: &Path, nome: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(percorso).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(nome).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn xlsx_sheets_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let r = scrivi(dir.path(), Formato::Xlsx, Codifica::Utf8Bom);
    let (principale, famiglie) = (&r.file[0].percorso, &r.file[1].percorso);
    insta::assert_snapshot!(
        "xlsx_sheet1",
        voce_zip(principale, "xl/worksheets/sheet1.xml")
    );
    insta::assert_snapshot!(
        "xlsx_famiglie_sheet1",
        voce_zip(famiglie, "xl/worksheets/sheet1.xml")
    );
    insta::assert_snapshot!("xlsx_core", voce_zip(principale, "docProps/core.xml"));
    let impronte: Vec<_> = r
        .file
        .iter()
        .map(|f| format!("{} {} {}", f.nome, f.byte, f.sha256_hex))
        .collect();
    insta::assert_snapshot!("xlsx_sha256", impronte.join("\n"));
}

#[test]
fn parts_of_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = layout(Formato::Csv, Codifica::Utf8Bom);
    l.righe_per_parte = 1;
    let r = scrivi_tutto(dir.path(), "1002", l, &righe());
    let elenco: Vec<_> = r
        .file
        .iter()
        .map(|f| serde_json::json!({ "nome": f.nome, "righe": f.righe, "byte": f.byte, "sha256": f.sha256_hex }))
        .collect();
    insta::assert_json_snapshot!("parti", elenco);
}

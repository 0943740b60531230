//! Expected bytes written by hand from DESIGN §5 "Output".

use domain::esito::Esito;
use files::output::{
    CodiceCampo, Codifica, ErroreOutput, Formato, Layout, ModoFamiglia, RigaRisultato,
    ScrittoreRisultati,
};
use sha2::{Digest, Sha256};

use super::{contenuto_cartella, leggi, riga, scrivi_tutto};

fn due_righe() -> Vec<RigaRisultato> {
    vec![
        riga(
            "R1",
            Esito::Trovato,
            "",
            &["1766578458", "42ef9ba3-de25-11ef-af04-005056ae21f8"],
            &["SOGGETTO", "01/01/1990"],
        ),
        riga(
            "=HYPERLINK(\"x\")",
            Esito::NonValido,
            "carattere di controllo errato: atteso K, trovato X; riga 3",
            &[],
            &["", ""],
        ),
    ]
}

#[test]
fn two_row_csv_utf8_bom_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(vec![CodiceCampo::Cognome, CodiceCampo::DataNascita]);
    let r = scrivi_tutto(dir.path(), "42", layout, &due_righe());
    let atteso = concat!(
        "\u{FEFF}riferimento;tipo;identificativo;esito;messaggio;id_operazione_anpr;Cognome;Data di nascita\r\n",
        "R1;CF;STTSGT90A01H501J;TROVATO;;1766578458|42ef9ba3-de25-11ef-af04-005056ae21f8;SOGGETTO;01/01/1990\r\n",
        "\"'=HYPERLINK(\"\"x\"\")\";CF;STTSGT90A01H501J;NON_VALIDO;",
        "\"carattere di controllo errato: atteso K, trovato X; riga 3\";;;\r\n",
    );
    assert_eq!(r.file.len(), 1);
    let f = &r.file[0];
    assert_eq!(f.nome, "richiesta-42-parte-001.csv");
    assert_eq!(String::from_utf8(leggi(f)).unwrap(), atteso);
    assert_eq!(f.righe, 2);
    assert_eq!(f.byte, atteso.len() as u64);
    assert_eq!(f.sha256_hex, hex::encode(Sha256::digest(atteso.as_bytes())));
    assert_eq!(
        contenuto_cartella(dir.path()),
        ["richiesta-42-parte-001.csv"]
    );
    assert_eq!(
        (r.righe, r.caratteri_traslitterati, r.caratteri_sostituiti),
        (2, 0, 0)
    );
}

#[test]
fn windows_1252_keeps_transliterates_replaces_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(vec![CodiceCampo::Cognome, CodiceCampo::Nome]);
    layout.codifica = Codifica::Windows1252;
    let righe = [riga(
        "€1",
        Esito::Trovato,
        "",
        &["7"],
        &["NICOLÒ", "Łukasz Иван"],
    )];
    let r = scrivi_tutto(dir.path(), "7", layout, &righe);
    let mut atteso: Vec<u8> =
        b"riferimento;tipo;identificativo;esito;messaggio;id_operazione_anpr;Cognome;Nome\r\n"
            .to_vec();
    atteso.extend_from_slice(b"\x801;CF;STTSGT90A01H501J;TROVATO;;7;NICOL\xD2;Lukasz ????\r\n");
    assert_eq!(leggi(&r.file[0]), atteso);
    assert_eq!((r.caratteri_traslitterati, r.caratteri_sostituiti), (1, 4));
}

#[test]
fn minus_sign_transliterated_to_hyphen_is_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(vec![CodiceCampo::Cognome]);
    layout.codifica = Codifica::Windows1252;
    let r = scrivi_tutto(
        dir.path(),
        "8",
        layout,
        &[riga("a", Esito::Trovato, "", &[], &["\u{2212}1"])],
    );
    let testo = leggi(&r.file[0]);
    assert!(
        testo.ends_with(b";TROVATO;;;'-1\r\n"),
        "{:?}",
        String::from_utf8_lossy(&testo)
    );
}

#[test]
fn parts_of_at_most_n_rows_each_with_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(vec![CodiceCampo::Nome]);
    layout.righe_per_parte = 2;
    let righe: Vec<_> = (1..=5)
        .map(|i| riga(&format!("R{i}"), Esito::Trovato, "", &[], &["X"]))
        .collect();
    let r = scrivi_tutto(dir.path(), "9", layout, &righe);
    let nomi: Vec<_> = r.file.iter().map(|f| (f.nome.as_str(), f.righe)).collect();
    assert_eq!(
        nomi,
        [
            ("richiesta-9-parte-001.csv", 2),
            ("richiesta-9-parte-002.csv", 2),
            ("richiesta-9-parte-003.csv", 1)
        ]
    );
    let intestazione =
        "\u{FEFF}riferimento;tipo;identificativo;esito;messaggio;id_operazione_anpr;Nome\r\n";
    let terza = String::from_utf8(leggi(&r.file[2])).unwrap();
    assert_eq!(
        terza,
        format!("{intestazione}R5;CF;STTSGT90A01H501J;TROVATO;;;X\r\n")
    );
    assert_eq!(r.righe, 5);
    assert_eq!(contenuto_cartella(dir.path()).len(), 3);
}

fn con_famiglia() -> RigaRisultato {
    let mut r = riga("F1", Esito::Trovato, "", &["55"], &["2"]);
    r.componenti_famiglia = vec![
        [
            "1",
            "AA11111AA",
            "RSSMRA70A01H501X",
            "ROSSI",
            "MARIO",
            "M",
            "01/01/1970",
            "Intestatario scheda",
            "",
        ]
        .map(String::from)
        .to_vec(),
        [
            "2",
            "AB12345CD",
            "RSSNNA80E50H501Y",
            "ROSSI",
            "ANNA",
            "F",
            "10/05/1980",
            "Marito/Moglie",
            "01/06/2005",
        ]
        .map(String::from)
        .to_vec(),
    ];
    r
}

#[test]
fn family_file_one_row_per_member() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(vec![CodiceCampo::FamigliaComponenti]);
    layout.famiglia = ModoFamiglia::FilePerComponente;
    let r = scrivi_tutto(
        dir.path(),
        "3",
        layout,
        &[con_famiglia(), riga("N", Esito::NonTrovato, "", &[], &[""])],
    );
    assert_eq!(r.file[1].nome, "richiesta-3-famiglie-parte-001.csv");
    let atteso = concat!(
        "\u{FEFF}riferimento;tipo;identificativo;Progressivo componente;ID ANPR;Codice fiscale;Cognome;Nome;",
        "Sesso;Data di nascita;Relazione con l'intestatario;Decorrenza del legame\r\n",
        "F1;CF;STTSGT90A01H501J;1;AA11111AA;RSSMRA70A01H501X;ROSSI;MARIO;M;01/01/1970;Intestatario scheda;\r\n",
        "F1;CF;STTSGT90A01H501J;2;AB12345CD;RSSNNA80E50H501Y;ROSSI;ANNA;F;10/05/1980;Marito/Moglie;01/06/2005\r\n",
    );
    assert_eq!(String::from_utf8(leggi(&r.file[1])).unwrap(), atteso);
    assert_eq!((r.righe, r.righe_famiglie, r.file[1].righe), (2, 2, 2));
}

#[test]
fn json_lines_keys_in_layout_order_with_nested_family() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(vec![CodiceCampo::FamigliaComponenti]);
    layout.formato = Formato::JsonLines;
    layout.famiglia = ModoFamiglia::FilePerComponente;
    let mut prima = con_famiglia();
    prima.componenti_famiglia.truncate(1);
    let seconda = riga("=x", Esito::Errore, "EN460 \"testo\"", &[], &[""]);
    let r = scrivi_tutto(dir.path(), "4", layout, &[prima, seconda]);
    assert_eq!(r.file.len(), 1);
    assert_eq!(r.file[0].nome, "richiesta-4-parte-001.jsonl");
    let atteso = concat!(
        r#"{"riferimento":"F1","tipo":"CF","identificativo":"STTSGT90A01H501J","esito":"TROVATO","messaggio":"","id_operazione_anpr":["55"],"famiglia_componenti":"2","componenti_famiglia":[{"famiglia_progressivo":"1","id_anpr":"AA11111AA","codice_fiscale":"RSSMRA70A01H501X","cognome":"ROSSI","nome":"MARIO","sesso":"M","data_nascita":"01/01/1970","famiglia_legame_intestatario":"Intestatario scheda","famiglia_decorrenza_legame":""}]}"#,
        "\n",
        r#"{"riferimento":"=x","tipo":"CF","identificativo":"STTSGT90A01H501J","esito":"ERRORE","messaggio":"EN460 \"testo\"","id_operazione_anpr":[],"famiglia_componenti":"","componenti_famiglia":[]}"#,
        "\n",
    );
    assert_eq!(String::from_utf8(leggi(&r.file[0])).unwrap(), atteso);
}

#[test]
fn xlsx_reads_back_the_original_text_and_is_reproducible() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let scrivi = |dir: &std::path::Path| {
        let mut layout = Layout::new(vec![CodiceCampo::Cognome, CodiceCampo::DataNascita]);
        layout.formato = Formato::Xlsx;
        scrivi_tutto(dir, "42", layout, &due_righe())
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ra, rb) = (scrivi(a.path()), scrivi(b.path()));
    assert_eq!(ra.file[0].nome, "richiesta-42-parte-001.xlsx");
    assert_eq!(leggi(&ra.file[0]), leggi(&rb.file[0]));
    assert_eq!(
        ra.file[0].sha256_hex,
        hex::encode(Sha256::digest(leggi(&ra.file[0])))
    );
    let mut wb: Xlsx<_> = open_workbook(&ra.file[0].percorso).unwrap();
    let foglio = wb.worksheet_range("Risultati").unwrap();
    let cella = |r: u32, c: u32| match foglio.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        altro => panic!("{altro:?}"),
    };
    assert_eq!(cella(0, 7), "Data di nascita");
    assert_eq!(
        cella(1, 5),
        "1766578458|42ef9ba3-de25-11ef-af04-005056ae21f8"
    );
    // The formula text stays text: Excel's quote prefix, not an apostrophe in the value.
    assert_eq!(cella(2, 0), "=HYPERLINK(\"x\")");
    assert_eq!(cella(2, 3), "NON_VALIDO");
    assert_eq!(
        contenuto_cartella(a.path()),
        ["richiesta-42-parte-001.xlsx"]
    );
    let voce = |nome: &str| {
        let mut z =
            zip::ZipArchive::new(std::fs::File::open(&ra.file[0].percorso).unwrap()).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name(nome).unwrap(), &mut s).unwrap();
        s
    };
    assert!(voce("xl/worksheets/sheet1.xml").contains(r#"<c r="A3" s="1" t="inlineStr">"#));
    assert!(voce("xl/styles.xml").contains(r#"quotePrefix="1""#));
    assert!(voce("docProps/core.xml").contains("2000-01-01T00:00:00Z"));
}

#[test]
fn errors_name_the_problem_and_leave_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(vec![CodiceCampo::Nome]);
    let e = ScrittoreRisultati::nuovo(dir.path(), "../x", layout.clone())
        .err()
        .unwrap();
    assert!(matches!(e, ErroreOutput::IdRichiesta(_)));
    let mut w = ScrittoreRisultati::nuovo(dir.path(), "5", layout).unwrap();
    w.scrivi(&riga("a", Esito::Trovato, "", &[], &["X"]))
        .unwrap();
    let e = w
        .scrivi(&riga("b", Esito::Trovato, "", &[], &["X", "Y"]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "riga 2: il tracciato ha 1 campi ma la riga ha 2 valori"
    );
    assert_eq!(
        contenuto_cartella(dir.path()),
        [".richiesta-5-parte-001.csv.tmp"]
    );
    drop(w);
    assert!(contenuto_cartella(dir.path()).is_empty());
    let mut zero = Layout::new(vec![]);
    zero.righe_per_parte = 0;
    assert!(matches!(
        ScrittoreRisultati::nuovo(dir.path(), "6", zero)
            .err()
            .unwrap(),
        ErroreOutput::RighePerParte(0)
    ));
}

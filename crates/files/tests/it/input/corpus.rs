//! The text files of tests/corpus, each with its report written by hand.

use files::input::{EsitoRiga, Limiti, Rapporto, RifiutoFile, RigaAnalizzata, Rilascio};

use super::{Atteso, cartella_corpus, controlla, leggi_file};

fn leggi(nome: &str) -> (Rapporto, Vec<RigaAnalizzata>) {
    leggi_con(nome, Limiti::default())
}

fn leggi_con(nome: &str, limiti: Limiti) -> (Rapporto, Vec<RigaAnalizzata>) {
    let (esito, righe) = leggi_file(&cartella_corpus().join(nome), limiti);
    (
        esito.unwrap_or_else(|e| panic!("{nome} rifiutato: {e}")),
        righe,
    )
}

fn rifiuto(nome: &str, limiti: Limiti) -> RifiutoFile {
    leggi_file(&cartella_corpus().join(nome), limiti)
        .0
        .expect_err("the file must be refused")
}

fn riga(righe: &[RigaAnalizzata], n: u64) -> &RigaAnalizzata {
    righe.iter().find(|r| r.riga == n).expect("row present")
}

const CF_1: [u64; 4] = [1, 1, 0, 0];

#[test]
fn bom_is_skipped_and_accents_survive() {
    let (r, righe) = leggi("01_bom_utf8.csv");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[],
            totali: [2, 2, 0, 0, 0],
            per_tipo: &[("CF", [2, 2, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.codifica, Some("UTF-8 con BOM"));
    assert_eq!(r.intestazione, Some(1));
    assert_eq!(
        riga(&righe, 2).riferimento.as_deref(),
        Some("Città di Forlì")
    );
}

#[test]
fn mixed_delimiters_and_quotes_inside_fields() {
    let (r, righe) = leggi("05_separatori_misti.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 3: la riga usa \",\" come separatore, ma il file usa \";\"",
                "riga 5: la riga usa il tabulatore come separatore, ma il file usa \";\"",
            ],
            totali: [6, 4, 2, 0, 0],
            per_tipo: &[("CF", [4, 4, 0, 0])],
            senza_tipo: 2,
        },
    );
    assert_eq!(r.separatore, Some(";"));
    assert_eq!(riga(&righe, 2).riferimento.as_deref(), Some("Rossi; Mario"));
    assert_eq!(
        riga(&righe, 4).riferimento.as_deref(),
        Some("detto \"il Biondo\"")
    );
    assert_eq!(
        riga(&righe, 6).riferimento.as_deref(),
        Some("Bianchi, Luca")
    );
    assert_eq!(riga(&righe, 6).motivo.as_deref(), Some("verifica, urgente"));
    // A quote inside an unquoted field is kept as it is.
    assert_eq!(riga(&righe, 7).riferimento.as_deref(), Some("a\"b"));
    assert_eq!(riga(&righe, 7).identificativo, "RSSMRA85T10A56NH");
}

#[test]
fn comma_delimited_with_quoted_commas() {
    let (r, righe) = leggi("06_virgola.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 3: codice fiscale non valido: lunghezza errata: 18 caratteri, attesi 16 (o 11 cifre per il codice provvisorio)",
            ],
            totali: [2, 1, 1, 0, 0],
            per_tipo: &[("CF", [2, 1, 1, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.separatore, Some(","));
    assert_eq!(riga(&righe, 2).riferimento.as_deref(), Some("Rossi, Mario"));
}

#[test]
fn tab_delimited_without_header() {
    let (r, righe) = leggi("07_tab.tsv");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[],
            totali: [2, 2, 0, 0, 0],
            per_tipo: &[("CF", CF_1), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.separatore, Some("tab"));
    assert_eq!(r.intestazione, None);
    assert_eq!(riga(&righe, 2).riferimento.as_deref(), Some("rif2"));
}

#[test]
fn embedded_newlines_move_the_line_numbers() {
    let (r, righe) = leggi("08_a_capo_nei_campi.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: codice fiscale non valido: carattere di controllo errato: atteso U, trovato X",
                "riga 8: ID ANPR non valido: lunghezza errata: 6 caratteri, attesi 9 per l'ID ANPR (2 lettere, 5 cifre, 2 lettere o cifre)",
            ],
            totali: [4, 2, 2, 0, 0],
            per_tipo: &[("CF", [3, 2, 1, 0]), ("IDANPR", [1, 0, 1, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(
        riga(&righe, 2).riferimento.as_deref(),
        Some("prima riga\r\nseconda riga")
    );
    assert_eq!(riga(&righe, 5).riferimento.as_deref(), Some("a\nb\nc"));
}

#[test]
fn empty_file_is_refused() {
    assert_eq!(
        rifiuto("09_vuoto.csv", Limiti::default()),
        RifiutoFile::Vuoto
    );
}

#[test]
fn blank_lines_only_is_an_empty_file() {
    assert_eq!(
        rifiuto("10_solo_righe_vuote.csv", Limiti::default()),
        RifiutoFile::Vuoto
    );
}

#[test]
fn header_alone_is_refused_with_its_line() {
    let e = rifiuto("11_solo_intestazione.csv", Limiti::default());
    assert_eq!(e, RifiutoFile::SoloIntestazione { riga: 2 });
    assert_eq!(
        e.to_string(),
        "il file contiene solo l'intestazione (riga 2): nessuna riga da elaborare"
    );
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn over_long_fields_are_row_errors() {
    let (r, _) = leggi("12_campi_lunghi.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 2: riferimento troppo lungo: 70 caratteri, al massimo 64",
                "riga 3: campo motivo troppo lungo: più di 256 caratteri",
                "riga 4: campo identificativo troppo lungo: più di 256 caratteri",
                "riga 6: nome della questura troppo lungo: 51 caratteri, al massimo 50",
            ],
            totali: [5, 1, 4, 0, 0],
            per_tipo: &[("CF", [4, 1, 3, 0]), ("PDS", [1, 0, 1, 0])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn row_limit_exactly_is_accepted() {
    let limiti = Limiti {
        max_righe: 3,
        ..Limiti::default()
    };
    let (r, _) = leggi_con("13_limite_righe_esatto.csv", limiti);
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[],
            totali: [3, 3, 0, 0, 0],
            per_tipo: &[("CF", [3, 3, 0, 0])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn row_limit_plus_one_is_refused() {
    let limiti = Limiti {
        max_righe: 3,
        ..Limiti::default()
    };
    let e = rifiuto("14_limite_righe_piu_uno.csv", limiti);
    assert_eq!(e, RifiutoFile::TroppeRighe { limite: 3 });
    assert_eq!(e.to_string(), "il file supera il limite di 3 righe");
}

#[test]
fn duplicates_and_omocodic_near_duplicates() {
    let (r, righe) = leggi("19_duplicati.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 3: duplicato della riga 2",
                "riga 7: duplicato della riga 6",
                "riga 8: duplicato della riga 4",
                "riga 10: duplicato della riga 9",
                "riga 13: duplicato della riga 12",
                "riga 14: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X",
                "riga 15: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X",
            ],
            totali: [15, 13, 2, 5, 0],
            per_tipo: &[
                ("CF", [9, 7, 2, 3]),
                ("IDANPR", [1, 1, 0, 0]),
                ("CI", [3, 3, 0, 1]),
                ("PDS", [2, 2, 0, 1]),
            ],
            senza_tipo: 0,
        },
    );
    // The omocodic variants are different people: valid rows of their own.
    assert_eq!(riga(&righe, 4).esito, EsitoRiga::Valida);
    assert_eq!(riga(&righe, 5).esito, EsitoRiga::Valida);
    assert_eq!(
        riga(&righe, 9).rilascio,
        Some(Rilascio::Comune {
            istat: "058091".into(),
            nome: "Roma".into()
        })
    );
    assert_eq!(
        riga(&righe, 13).rilascio,
        Some(Rilascio::Questura("ROMA".into()))
    );
}

#[test]
fn duplicates_alone_do_not_change_the_exit_code() {
    let (r, _) = leggi("20_duplicati_validi.txt");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &["riga 2: duplicato della riga 1"],
            totali: [2, 2, 0, 1, 0],
            per_tipo: &[("CF", [2, 2, 0, 1])],
            senza_tipo: 0,
        },
    );
}

const AVVISO_CIE: &str = "ha sia il formato dell'ID ANPR sia quello della CIE: letto come ID ANPR; per un elenco di carte d'identità indicare il tipo (intestazione \"ci\" o colonna tipo)";

#[test]
fn cie_list_without_header_is_read_as_id_anpr_with_warnings() {
    let (r, righe) = leggi("21_cie_senza_intestazione.csv");
    let avviso = format!("riga 1: avviso: CA00000AA {AVVISO_CIE}");
    let problemi = [
        avviso.as_str(),
        "riga 2: \"ca 12345 bb\" non è un codice fiscale né un ID ANPR: aggiungere la colonna tipo per indicare che cosa è",
    ];
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &problemi,
            totali: [3, 2, 1, 0, 1],
            per_tipo: &[("IDANPR", [2, 2, 0, 0])],
            senza_tipo: 1,
        },
    );
    // A paper card number fits the ID ANPR format but not the CIE one: no warning (DESIGN §5).
    assert!(riga(&righe, 3).avvisi.is_empty());
}

#[test]
fn cie_list_with_header_is_read_as_ci() {
    let (r, righe) = leggi("22_cie_con_intestazione.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 6: avviso: formato insolito per il numero della carta d'identità (formati noti: CIE come CA00000AA, cartacea come AA1234567, solo cifre); il numero è accettato",
                "riga 7: avviso: il numero della carta d'identità non contiene cifre; il numero è accettato",
                "riga 8: carattere non ammesso in posizione 3 del numero della carta d'identità: '#' (ammessi lettere, cifre e spazi)",
            ],
            totali: [7, 6, 1, 0, 2],
            per_tipo: &[("CI", [7, 6, 1, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(r.intestazione, Some(1));
    assert_eq!(riga(&righe, 3).identificativo, "CA12345BB");
}

#[test]
fn codice_fiscale_valid_and_invalid() {
    let (r, righe) = leggi("23_tutti_cf.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 2: codice fiscale non valido: lunghezza errata: 15 caratteri, attesi 16 (o 11 cifre per il codice provvisorio)",
                "riga 3: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X",
                "riga 4: codice fiscale non valido: carattere non ammesso in posizione 9: 'Z' (atteso il mese: A B C D E H L M P R S T)",
                "riga 5: codice fiscale non valido: giorno di nascita non ammesso: 35 (atteso da 01 a 31 per i maschi, da 41 a 71 per le femmine)",
                "riga 7: codice fiscale non valido: carattere di controllo errato: atteso 7, trovato 0",
                "riga 8: avviso: data di nascita impossibile: 31/02/85 (il codice è accettato, ANPR ne è l'autorità)",
                "riga 9: avviso: codice del luogo di nascita sconosciuto: A000 (né un comune né uno stato estero noti; il codice è accettato)",
                "riga 11: identificativo mancante",
                "riga 12: tipo mancante: indicare CF, IDANPR, CI, PDS o PASS",
                "riga 13: tipo sconosciuto \"XX\": indicare CF, IDANPR, CI, PDS o PASS",
            ],
            totali: [13, 5, 8, 0, 2],
            per_tipo: &[("CF", [11, 5, 6, 0])],
            senza_tipo: 2,
        },
    );
    assert_eq!(riga(&righe, 10).identificativo, "BNCLCU90E45F205U");
}

#[test]
fn id_anpr_valid_and_invalid() {
    let (r, righe) = leggi("24_tutti_idanpr.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: ID ANPR non valido: carattere non ammesso in posizione 7 dell'ID ANPR: 'Z' (atteso una cifra)",
                "riga 5: ID ANPR non valido: lunghezza errata: 10 caratteri, attesi 9 per l'ID ANPR (2 lettere, 5 cifre, 2 lettere o cifre)",
                "riga 6: ID ANPR non valido: carattere non ammesso in posizione 2 dell'ID ANPR: '-' (atteso una lettera)",
            ],
            totali: [5, 2, 3, 0, 0],
            per_tipo: &[("IDANPR", [5, 2, 3, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(riga(&righe, 3).identificativo, "AF41450AS");
}

#[test]
fn passports_valid_unusual_and_invalid() {
    let (r, _) = leggi("25_tutti_pass.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 3: duplicato della riga 2",
                "riga 4: avviso: formato insolito per il numero del passaporto (formati noti: passaporto italiano come YA1234567; un passaporto estero può differire); il numero è accettato",
                "riga 5: numero del passaporto troppo lungo: 31 caratteri, al massimo 30",
                "riga 6: duplicato della riga 2",
                "riga 6: avviso: rilascio ignorato: vale solo per CI e PDS, non per PASS",
                "riga 7: carattere non ammesso in posizione 3 del numero del passaporto: '_' (ammessi lettere, cifre e spazi)",
            ],
            totali: [6, 4, 2, 2, 2],
            per_tipo: &[("PASS", [6, 4, 2, 2])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn permesso_without_questura_is_invalid() {
    let (r, righe) = leggi("26_pds_senza_questura.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: questura di rilascio mancante: per il permesso di soggiorno è obbligatoria",
                "riga 5: questura di rilascio mancante: per il permesso di soggiorno è obbligatoria",
                "riga 6: avviso: il numero del permesso di soggiorno non contiene cifre; il numero è accettato",
                "riga 7: carattere non ammesso in posizione 4 del numero del permesso di soggiorno: '#' (ammessi lettere, cifre, spazi e - . /)",
                "riga 9: carattere non ammesso in posizione 5 del nome della questura: '!' (ammessi lettere, cifre, spazi e ' - . ( ))",
            ],
            totali: [8, 4, 4, 0, 1],
            per_tipo: &[("PDS", [8, 4, 4, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(
        riga(&righe, 2).rilascio,
        Some(Rilascio::Questura("ROMA".into()))
    );
    assert_eq!(
        riga(&righe, 8).rilascio,
        Some(Rilascio::Questura("REGGIO NELL'EMILIA".into()))
    );
}

#[test]
fn ambiguous_comune_name_is_a_row_error() {
    let (r, righe) = leggi("27_comune_ambiguo.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 2: comune di rilascio ambiguo: \"Samone\" può essere Samone (TO) o Samone (TN); indicare il codice ISTAT o la provincia tra parentesi",
                "riga 4: comune di rilascio ambiguo: \"Castro\" può essere Castro (BG) o Castro (LE); indicare il codice ISTAT o la provincia tra parentesi",
                "riga 7: comune di rilascio sconosciuto: \"Atlantide\"",
                "riga 8: comune di rilascio sconosciuto: \"999999\"",
                "riga 10: avviso: rilascio ignorato: vale solo per CI e PDS, non per CF",
            ],
            totali: [9, 5, 4, 0, 1],
            per_tipo: &[("CF", CF_1), ("CI", [8, 4, 4, 0])],
            senza_tipo: 0,
        },
    );
    let comune = |n| match &riga(&righe, n).rilascio {
        Some(Rilascio::Comune { istat, nome }) => (istat.clone(), nome.clone()),
        altro => panic!("riga {n}: {altro:?}"),
    };
    assert_eq!(comune(3), ("022165".into(), "Samone".into()));
    assert_eq!(comune(5), ("058091".into(), "Roma".into()));
    assert_eq!(comune(6), ("001001".into(), "Agliè".into()));
    assert_eq!(comune(9), ("040012".into(), "Forlì".into()));
}

#[test]
fn formula_strings_are_kept_verbatim_or_rejected_as_identifiers() {
    let (r, righe) = leggi("28_formule.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 5: tipo sconosciuto \"=CF\": indicare CF, IDANPR, CI, PDS o PASS",
                "riga 6: codice fiscale non valido: lunghezza errata: 4 caratteri, attesi 16 (o 11 cifre per il codice provvisorio)",
                "riga 7: codice fiscale non valido: carattere non ammesso in posizione 1: '=' (atteso una lettera)",
            ],
            totali: [6, 3, 3, 0, 0],
            per_tipo: &[("CF", [5, 3, 2, 0])],
            senza_tipo: 1,
        },
    );
    // Neutralising is the output writer's job; input keeps the caller's text exactly.
    assert_eq!(
        riga(&righe, 2).riferimento.as_deref(),
        Some("=HYPERLINK(\"http://x.example\";\"clic\")")
    );
    assert_eq!(riga(&righe, 4).motivo.as_deref(), Some("@SUM(A1:A2)"));
}

#[test]
fn unknown_columns_are_ignored_with_a_warning() {
    let (r, righe) = leggi("29_colonne_sconosciute.csv");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[
                "riga 1: avviso: colonna \"NOTE\" sconosciuta: ignorata",
                "riga 1: avviso: colonna \"Data nascita\" sconosciuta: ignorata",
            ],
            totali: [2, 2, 0, 0, 0],
            per_tipo: &[("CF", CF_1), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
    assert_eq!(riga(&righe, 2).riferimento.as_deref(), Some("r1"));
}

#[test]
fn extra_columns_without_header_warn_once() {
    let (r, _) = leggi("30_colonne_extra_senza_intestazione.csv");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &["riga 1: avviso: colonne oltre la quinta (motivo) sconosciute: ignorate"],
            totali: [2, 2, 0, 0, 0],
            per_tipo: &[("CF", [2, 2, 0, 0])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn cr_lf_and_crlf_each_end_a_line() {
    let (r, _) = leggi("31_fine_riga_cr.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: codice fiscale non valido: carattere di controllo errato: atteso S, trovato X",
                "riga 7: codice fiscale non valido: carattere di controllo errato: atteso U, trovato Z",
            ],
            totali: [4, 2, 2, 0, 0],
            per_tipo: &[("CF", [4, 2, 2, 0])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn unclosed_quote_swallows_the_rest() {
    let (r, _) = leggi("32_virgolette_aperte.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 3: virgolette aperte e mai chiuse: il campo prosegue fino alla fine del file",
            ],
            totali: [2, 1, 1, 0, 0],
            per_tipo: &[("CF", [2, 1, 1, 0])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn single_column_inference() {
    let (r, righe) = leggi("33_colonna_singola_inferenza.csv");
    controlla(
        &r,
        &Atteso {
            exit: 1,
            problemi: &[
                "riga 4: \"ciao\" non è un codice fiscale né un ID ANPR: aggiungere la colonna tipo per indicare che cosa è",
                "riga 5: codice fiscale non valido: carattere non ammesso in posizione 16: '!' (atteso una lettera, il carattere di controllo)",
                "riga 6: \"12345\" non è un codice fiscale né un ID ANPR: aggiungere la colonna tipo per indicare che cosa è",
                "riga 7: duplicato della riga 1",
            ],
            totali: [7, 4, 3, 1, 0],
            per_tipo: &[("CF", [4, 3, 1, 1]), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 2,
        },
    );
    assert_eq!(r.separatore, None);
    assert_eq!(riga(&righe, 7).identificativo, "RSSMRA85T10A562S");
}

#[test]
fn header_without_tipo_infers_the_kind() {
    let (r, _) = leggi("34_intestazione_senza_tipo.csv");
    let avviso = format!("riga 3: avviso: CA00000AA {AVVISO_CIE}");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[&avviso],
            totali: [2, 2, 0, 0, 1],
            per_tipo: &[("CF", CF_1), ("IDANPR", [1, 1, 0, 0])],
            senza_tipo: 0,
        },
    );
}

#[test]
fn header_names_and_kind_aliases_ignore_case() {
    let (r, _) = leggi("35_alias_tipo.csv");
    controlla(
        &r,
        &Atteso {
            exit: 0,
            problemi: &[],
            totali: [6, 6, 0, 0, 0],
            per_tipo: &[
                ("CF", CF_1),
                ("IDANPR", [1, 1, 0, 0]),
                ("CI", [2, 2, 0, 0]),
                ("PDS", [1, 1, 0, 0]),
                ("PASS", [1, 1, 0, 0]),
            ],
            senza_tipo: 0,
        },
    );
}

#[test]
fn size_limit_is_a_refusal() {
    // The file is 120 bytes: a header of 20 and five rows of 20.
    let limiti = Limiti {
        max_byte: 119,
        ..Limiti::default()
    };
    assert_eq!(
        rifiuto("38_troppo_grande.csv", limiti),
        RifiutoFile::TroppoGrande { limite: 119 }
    );
    let limiti = Limiti {
        max_byte: 120,
        ..Limiti::default()
    };
    let (r, _) = leggi_con("38_troppo_grande.csv", limiti);
    assert_eq!(r.totali.duplicate, 4);
}

#[test]
fn content_decides_the_type_not_the_name() {
    assert_eq!(
        rifiuto("40_pdf.pdf.csv", Limiti::default()),
        RifiutoFile::TipoNonSupportato {
            descrizione: "PDF".into()
        }
    );
}

#[test]
fn the_corpus_has_at_least_thirty_files() {
    let n = std::fs::read_dir(cartella_corpus())
        .expect("corpus folder")
        .count();
    // Plus the generated binary cases in `generati`.
    assert!(n >= 30, "{n} files");
}

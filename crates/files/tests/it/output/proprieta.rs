//! Property: a CSV written then read back gives each cell exactly, except for the neutralisation
//! (and, in Windows-1252, the transliteration) that DESIGN §5 asks for.

use domain::esito::Esito;
use files::output::{CodiceCampo, Codifica, Layout, RigaRisultato};
use proptest::prelude::*;

use super::scrivi_tutto;

/// Characters chosen to hit every rule: CSV syntax, formula triggers, Latin-1 and Windows-1252
/// extras, letters with a transliteration, and letters with none.
const ALFABETO: &[char] = &[
    'a',
    'Z',
    '0',
    ' ',
    ';',
    ',',
    '"',
    '\'',
    '\r',
    '\n',
    '\t',
    '=',
    '+',
    '-',
    '@',
    '#',
    'à',
    'È',
    'ñ',
    'ß',
    '€',
    '“',
    '”',
    'Š',
    'Ł',
    'ő',
    'ș',
    'ț',
    '\u{2212}',
    '\u{300}',
    'Ж',
    '王',
    '\u{1F600}',
];

/// The standard transliterations of the non-Windows-1252 characters above, written by hand.
fn atteso_cp1252(c: char) -> Option<&'static str> {
    match c {
        'Ł' => Some("L"),
        'ő' => Some("o"),
        'ș' => Some("s"),
        'ț' => Some("t"),
        '\u{2212}' => Some("-"),
        '\u{300}' => Some(""),
        'Ж' | '王' | '\u{1F600}' => Some("?"),
        _ => None,
    }
}

fn neutralizzata(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn cella() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(ALFABETO), 0..12)
        .prop_map(|v| v.into_iter().collect())
}

fn leggi_csv(byte: &[u8], codifica: Codifica) -> Vec<Vec<String>> {
    let testo = match codifica {
        Codifica::Utf8Bom => {
            assert!(byte.starts_with(b"\xEF\xBB\xBF"));
            String::from_utf8(byte[3..].to_vec()).unwrap()
        }
        Codifica::Windows1252 => {
            let (t, _, errori) = encoding_rs::WINDOWS_1252.decode(byte);
            assert!(!errori);
            t.into_owned()
        }
    };
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .from_reader(testo.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn righe_da(celle: &[Vec<String>]) -> Vec<RigaRisultato> {
    celle
        .iter()
        .map(|c| RigaRisultato {
            riferimento: c[0].clone(),
            tipo: "CF".into(),
            identificativo: c[1].clone(),
            esito: Esito::Trovato,
            messaggio: c[2].clone(),
            id_operazione_anpr: vec![c[3].clone()],
            valori: c[4..].to_vec(),
            componenti_famiglia: Vec::new(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn csv_round_trip(
        celle in proptest::collection::vec(proptest::collection::vec(cella(), 7), 1..5),
        cp1252 in any::<bool>(),
    ) {
        let codifica = if cp1252 { Codifica::Windows1252 } else { Codifica::Utf8Bom };
        let mut layout = Layout::new(vec![CodiceCampo::Cognome, CodiceCampo::Nome, CodiceCampo::Sesso]);
        layout.codifica = codifica;
        let dir = tempfile::tempdir().unwrap();
        let r = scrivi_tutto(dir.path(), "1", layout, &righe_da(&celle));
        let letto = leggi_csv(&std::fs::read(&r.file[0].percorso).unwrap(), codifica);
        prop_assert_eq!(letto.len(), celle.len());
        let (mut traslitterati, mut sostituiti) = (0u64, 0u64);
        for (scritta, letta) in celle.iter().zip(&letto) {
            // Columns 1 (tipo) and 3 (esito) are the writer's own.
            let dati: Vec<&String> = letta.iter().enumerate()
                .filter(|(i, _)| *i != 1 && *i != 3).map(|(_, c)| c).collect();
            for (originale, riletta) in scritta.iter().zip(dati) {
                let mut adattata = String::new();
                for c in originale.chars() {
                    match atteso_cp1252(c).filter(|_| cp1252) {
                        Some("?") => { sostituiti += 1; adattata.push('?') }
                        Some(t) => { traslitterati += 1; adattata.push_str(t) }
                        None => adattata.push(c),
                    }
                }
                prop_assert_eq!(riletta, &neutralizzata(&adattata));
                if !cp1252 && !originale.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    prop_assert_eq!(riletta, originale);
                }
            }
        }
        prop_assert_eq!((r.caratteri_traslitterati, r.caratteri_sostituiti), (traslitterati, sostituiti));
    }
}

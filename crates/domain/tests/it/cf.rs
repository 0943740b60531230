//! Property tests of the codice fiscale (issue 3, Acceptance).

use chrono::{Days, NaiveDate};
use domain::cf::{self, CodiceFiscale, Sesso};
use domain::luoghi;
use proptest::prelude::*;

const ALFANUMERICI: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A synthetic person, as the simulator makes them, with a reference date from which the birth
/// year's century can be told (less than 100 years after the birth).
#[derive(Debug, Clone)]
struct Persona {
    cognome: String,
    nome: String,
    sesso: Sesso,
    nascita: NaiveDate,
    belfiore: &'static str,
    riferimento: NaiveDate,
}

fn belfiore() -> impl Strategy<Value = &'static str> {
    let comuni = luoghi::comuni_attuali().len();
    let luoghi_noti = comuni + luoghi::stati_esteri().len() + luoghi::comuni_storici().len();
    (0..luoghi_noti).prop_map(move |i| {
        if i < comuni {
            luoghi::comuni_attuali()[i].belfiore
        } else if i - comuni < luoghi::stati_esteri().len() {
            luoghi::stati_esteri()[i - comuni].belfiore
        } else {
            luoghi::comuni_storici()[i - comuni - luoghi::stati_esteri().len()].belfiore
        }
    })
}

fn persona() -> impl Strategy<Value = Persona> {
    let inizio = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let giorni = (NaiveDate::from_ymd_opt(2025, 12, 31).unwrap() - inizio).num_days() as u64;
    (
        "[A-Za-zÀÈÉÌÒÙàèéìòù' ]{0,24}",
        "[A-Za-zÀÈÉÌÒÙàèéìòù' ]{0,24}",
        prop_oneof![Just(Sesso::M), Just(Sesso::F)],
        0..=giorni,
        belfiore(),
        // Less than a century later: 100 years are at least 36,524 days.
        0u64..36_524,
    )
        .prop_map(move |(cognome, nome, sesso, g, belfiore, dopo)| {
            let nascita = inizio + Days::new(g);
            Persona {
                cognome,
                nome,
                sesso,
                nascita,
                belfiore,
                riferimento: nascita + Days::new(dopo),
            }
        })
}

fn codice(p: &Persona) -> CodiceFiscale {
    cf::calcola(&p.cognome, &p.nome, p.sesso, p.nascita, p.belfiore)
}

/// A valid personal code: a generated person's, or one of its omocodic variants.
fn cf_valido() -> impl Strategy<Value = CodiceFiscale> {
    (persona(), 0u8..=7).prop_map(|(p, livello)| {
        let base = codice(&p);
        if livello == 0 {
            base
        } else {
            base.variante_omocodica(livello).unwrap()
        }
    })
}

proptest! {
    #[test]
    fn generated_people_decode_back_for_every_variant(p in persona()) {
        let base = codice(&p);
        let mut visti = vec![base.clone()];
        for livello in 0..=7u8 {
            let c = if livello == 0 { base.clone() } else { base.variante_omocodica(livello).unwrap() };
            let letto = CodiceFiscale::parse(c.as_str()).unwrap();
            prop_assert_eq!(&letto, &c);
            prop_assert_eq!(letto.sesso(), Some(p.sesso));
            prop_assert_eq!(letto.data_nascita(p.riferimento), Some(p.nascita));
            prop_assert_eq!(letto.belfiore(), Some(p.belfiore.to_string()));
            prop_assert!(letto.avvisi(p.riferimento).is_empty(), "{:?}", letto.avvisi(p.riferimento));
            prop_assert_eq!(letto.is_omocodico(), livello > 0);
            prop_assert_eq!(letto.base(), base.clone());
            if livello > 0 {
                // Each variant is a different person from the base and from the other variants.
                prop_assert!(!visti.contains(&letto));
                visti.push(letto);
            }
        }
    }

    #[test]
    fn every_single_character_change_is_rejected(c in cf_valido()) {
        let originale = c.as_str().as_bytes().to_vec();
        for posizione in 0..originale.len() {
            for &altro in ALFANUMERICI.iter().filter(|&&a| a != originale[posizione]) {
                let mut cambiato = originale.clone();
                cambiato[posizione] = altro;
                let s = String::from_utf8(cambiato).unwrap();
                prop_assert!(CodiceFiscale::parse(&s).is_err(), "{} accettato (da {})", s, c);
            }
        }
    }

    #[test]
    fn exactly_one_check_character_fits(c in cf_valido()) {
        let primi15 = &c.as_str()[..15];
        let accettati: Vec<char> = ('A'..='Z')
            .filter(|k| CodiceFiscale::parse(&format!("{primi15}{k}")).is_ok())
            .collect();
        prop_assert_eq!(accettati, vec![cf::carattere_controllo(primi15)]);
    }

    #[test]
    fn temporary_codes_have_one_check_digit_and_reject_every_change(dieci in "[0-9]{10}") {
        let validi: Vec<String> = (0..10)
            .map(|k| format!("{dieci}{k}"))
            .filter(|s| CodiceFiscale::parse(s).is_ok())
            .collect();
        prop_assert_eq!(validi.len(), 1);
        let originale = validi[0].as_bytes().to_vec();
        for posizione in 0..originale.len() {
            for &altro in ALFANUMERICI.iter().filter(|&&a| a != originale[posizione]) {
                let mut cambiato = originale.clone();
                cambiato[posizione] = altro;
                let s = String::from_utf8(cambiato).unwrap();
                prop_assert!(CodiceFiscale::parse(&s).is_err(), "{} accettato", s);
            }
        }
    }

    #[test]
    fn parse_never_panics_and_is_idempotent(s in any::<String>()) {
        if let Ok(c) = CodiceFiscale::parse(&s) {
            prop_assert_eq!(CodiceFiscale::parse(c.as_str()), Ok(c));
        }
    }

    #[test]
    fn plausible_strings_never_panic(s in "[A-Za-z0-9 ]{0,20}") {
        if let Ok(c) = CodiceFiscale::parse(&s) {
            let rif = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
            let _ = (c.sesso(), c.data_nascita(rif), c.belfiore(), c.avvisi(rif), c.base());
        }
    }

    #[test]
    fn lower_case_and_spaces_are_normalised(c in cf_valido(), spazi in proptest::collection::vec(0usize..16, 0..4)) {
        let mut s = c.as_str().to_lowercase();
        for i in spazi {
            s.insert(i, ' ');
        }
        prop_assert_eq!(CodiceFiscale::parse(&s), Ok(c));
    }
}

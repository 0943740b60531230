//! Documents: loose validation, never a panic, never a rejection of a schema-valid number.

use domain::documenti::{CartaIdentita, Passaporto, PermessoSoggiorno, Questura};
use proptest::prelude::*;

proptest! {
    #[test]
    fn parse_never_panics_and_is_idempotent(s in any::<String>()) {
        if let Ok(ci) = CartaIdentita::parse(&s) {
            prop_assert_eq!(CartaIdentita::parse(ci.as_str()), Ok(ci.clone()));
            let _ = (ci.formato(), ci.avvisi());
        }
        if let Ok(p) = Passaporto::parse(&s) {
            prop_assert_eq!(Passaporto::parse(p.as_str()), Ok(p.clone()));
            let _ = p.avvisi();
        }
        if let Ok(p) = PermessoSoggiorno::parse(&s) {
            prop_assert_eq!(PermessoSoggiorno::parse(p.as_str()), Ok(p.clone()));
            let _ = p.avvisi();
        }
        if let Ok(q) = Questura::parse(&s) {
            prop_assert_eq!(Questura::parse(q.as_str()), Ok(q.clone()));
        }
    }

    #[test]
    fn schema_valid_numbers_are_accepted(s in "[A-Za-z0-9][A-Za-z0-9 ]{0,18}[A-Za-z0-9]") {
        // The XSD (tipoNumeroCartaIdentita) allows letters, digits and spaces, up to 20.
        prop_assert!(CartaIdentita::parse(&s).is_ok());
        prop_assert!(Passaporto::parse(&s).is_ok());
        prop_assert!(PermessoSoggiorno::parse(&s).is_ok());
    }

    #[test]
    fn cie_numbers_are_recognised_without_warnings(s in "[A-Z]{2}[0-9]{5}[A-Z]{2}") {
        let ci = CartaIdentita::parse(&s.to_lowercase()).unwrap();
        prop_assert_eq!(ci.as_str(), s.as_str());
        prop_assert!(ci.avvisi().is_empty());
    }
}

//! ID ANPR: format only, never a panic.

use domain::IdAnpr;
use proptest::prelude::*;

proptest! {
    #[test]
    fn parse_never_panics_and_is_idempotent(s in any::<String>()) {
        if let Ok(id) = IdAnpr::parse(&s) {
            prop_assert_eq!(IdAnpr::parse(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(id.as_str().len(), 9);
        }
    }

    #[test]
    fn every_value_of_the_format_is_accepted(s in "[A-Za-z]{2}[0-9]{5}[A-Za-z0-9]{2}", pre in "[ \t]{0,3}", post in "[ \t]{0,3}") {
        let id = IdAnpr::parse(&format!("{pre}{s}{post}")).unwrap();
        prop_assert_eq!(id.as_str(), s.to_uppercase());
    }

    #[test]
    fn other_lengths_are_rejected(s in "[A-Z0-9]{0,8}|[A-Z0-9]{10,20}") {
        prop_assert!(IdAnpr::parse(&s).is_err());
    }
}

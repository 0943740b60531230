//! The tables of places answer consistently for every entry.

use domain::luoghi;

#[test]
fn every_current_comune_is_found_by_each_key() {
    for c in luoghi::comuni_attuali() {
        assert_eq!(luoghi::comune_per_belfiore(c.belfiore), Some(c));
        assert_eq!(luoghi::comune_per_istat(c.codice_istat.unwrap()), Some(c));
        assert!(luoghi::comuni_per_nome(c.nome).contains(&c), "{}", c.nome);
        let con_sigla = format!("{} ({})", c.nome, c.sigla_provincia);
        assert_eq!(luoghi::comuni_per_nome(&con_sigla), [c], "{con_sigla}");
        assert!(luoghi::belfiore_noto(c.belfiore));
    }
}

#[test]
fn historical_comuni_do_not_shadow_current_ones() {
    for c in luoghi::comuni_storici() {
        assert!(!c.attuale && c.codice_istat.is_none());
        assert_eq!(luoghi::comune_per_belfiore(c.belfiore), Some(c));
    }
}

#[test]
fn states_are_found_by_code() {
    for s in luoghi::stati_esteri() {
        assert_eq!(luoghi::stato_per_belfiore(s.belfiore), Some(s));
        assert!(luoghi::comune_per_belfiore(s.belfiore).is_none());
    }
}

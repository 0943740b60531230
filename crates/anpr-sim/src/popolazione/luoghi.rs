//! Places used by the simulated registry, resolved through `domain::luoghi` (real Belfiore and
//! ISTAT codes). The few facts the domain tables lack (ISTAT state codes, generic CAPs of the
//! provincial capitals) are listed here for the handful of places the simulator uses.

use domain::luoghi;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LuogoNascita {
    Comune {
        belfiore: String,
        istat: String,
        nome: String,
        sigla: String,
    },
    Estero {
        belfiore: String,
        codice_stato: String,
        stato: String,
    },
    /// Born on a ship, aircraft…: ANPR's `luogoEccezionale`.
    Eccezionale { descrizione: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LuogoResidenza {
    Italia {
        istat: String,
        comune: String,
        sigla: String,
        cap: String,
        /// Tabella 04 code and name of the specie (VIA 213, …).
        cod_specie: String,
        specie: String,
        denominazione: String,
        civico: String,
    },
    Estero {
        codice_stato: String,
        stato: String,
        localita: String,
        indirizzo: String,
        civico: String,
        consolato: String,
    },
}

/// ISTAT 3-digit codes of the foreign states the simulator uses (ISTAT "codici degli stati
/// esteri"; domain's table has only Belfiore codes). Belfiore → (ISTAT, city for residences).
pub const STATI: &[(&str, &str, &str)] = &[
    ("Z110", "215", "PARIGI"),
    ("Z112", "216", "BERLINO"),
    ("Z114", "219", "LONDRA"),
    ("Z133", "241", "ZURIGO"),
    ("Z131", "239", "MADRID"),
    ("Z103", "206", "BRUXELLES"),
    ("Z404", "536", "NEW YORK"),
    ("Z600", "602", "BUENOS AIRES"),
    ("Z602", "605", "SAN PAOLO"),
    ("Z222", "330", "NUOVA DELHI"),
    ("Z329", "450", "BAMAKO"),
    ("Z509", "523", "CITTA' DEL GUATEMALA"),
    ("Z611", "615", "LIMA"),
    ("Z100", "201", "TIRANA"),
    ("Z129", "235", "BUCAREST"),
    ("Z330", "436", "CASABLANCA"),
];

/// Residence comuni (Belfiore) with the generic CAP of the city.
pub const COMUNI_RESIDENZA: &[(&str, &str)] = &[
    ("H501", "00100"),
    ("F205", "20100"),
    ("F839", "80100"),
    ("L219", "10100"),
    ("A944", "40100"),
    ("D612", "50100"),
    ("A662", "70100"),
    ("G273", "90100"),
    ("G224", "35100"),
    ("L424", "34100"),
    ("A952", "39100"),
    ("G393", "41026"),
    ("D969", "16100"),
    ("L736", "30100"),
    ("B354", "09100"),
];

/// Birth comuni of the synthetic population (real Belfiore codes across the regions).
pub const COMUNI_NASCITA: &[&str] = &[
    "H501", "F205", "F839", "L219", "A944", "D612", "A662", "G273", "G224", "L424", "A952", "G393",
    "D969", "L736", "B354", "C351", "E506", "F158", "H294", "L781", "B157", "E463", "D643", "A271",
    "L049", "I452", "E715", "G478", "C933", "H703", "G702", "A345", "L840", "D086", "F052", "L378",
    "B963", "E625", "H769", "F979",
];

/// Foreign birth states of the synthetic population.
pub const STATI_NASCITA: &[&str] = &[
    "Z110", "Z112", "Z114", "Z133", "Z600", "Z602", "Z100", "Z129", "Z330",
];

/// The questura of each province the simulator's residences are in: sigla → upper-case name
/// of the provincial capital, as a permesso di soggiorno names it.
pub const QUESTURE: &[(&str, &str)] = &[
    ("RM", "ROMA"),
    ("MI", "MILANO"),
    ("NA", "NAPOLI"),
    ("TO", "TORINO"),
    ("BO", "BOLOGNA"),
    ("FI", "FIRENZE"),
    ("BA", "BARI"),
    ("PA", "PALERMO"),
    ("PD", "PADOVA"),
    ("TS", "TRIESTE"),
    ("BZ", "BOLZANO"),
    ("MO", "MODENA"),
    ("GE", "GENOVA"),
    ("VE", "VENEZIA"),
    ("CA", "CAGLIARI"),
];

pub fn questura(sigla: &str) -> Option<&'static str> {
    QUESTURE.iter().find(|(s, _)| *s == sigla).map(|(_, q)| *q)
}

/// A consulate's code for a state (ISTAT 3-digit code): ANPR's list of consulate codes is not
/// public, so the simulator uses the state code followed by `0001` (7 digits, as
/// `tipoCodiceConsolatoRilascio` allows), one consulate per state, as its residences abroad do.
pub fn codice_consolato(codice_stato: &str) -> String {
    format!("{codice_stato}0001")
}

/// Tabella 04 species (NOTES §5) and street names.
pub const SPECIE: &[(&str, &str)] = &[
    ("213", "VIA"),
    ("230", "VIALE"),
    ("125", "PIAZZA"),
    ("42", "CORSO"),
];
pub const VIE: &[&str] = &[
    "ROMA",
    "GARIBALDI",
    "MAZZINI",
    "DANTE ALIGHIERI",
    "GIUSEPPE VERDI",
    "CAVOUR",
    "MATTEOTTI",
    "XX SETTEMBRE",
    "VITTORIO EMANUELE II",
    "DELLA REPUBBLICA",
    "DEI MILLE",
    "MARCONI",
];

pub fn nascita_da_belfiore(belfiore: &str) -> Option<LuogoNascita> {
    if let Some(c) = luoghi::comune_per_belfiore(belfiore) {
        return Some(LuogoNascita::Comune {
            belfiore: c.belfiore.to_owned(),
            istat: c.codice_istat.unwrap_or_default().to_owned(),
            nome: c.nome.to_uppercase(),
            sigla: c.sigla_provincia.to_owned(),
        });
    }
    let s = luoghi::stato_per_belfiore(belfiore)?;
    Some(LuogoNascita::Estero {
        belfiore: s.belfiore.to_owned(),
        codice_stato: codice_stato(belfiore).unwrap_or_default().to_owned(),
        stato: s.nome.to_uppercase(),
    })
}

pub fn codice_stato(belfiore: &str) -> Option<&'static str> {
    STATI
        .iter()
        .find(|(b, _, _)| *b == belfiore)
        .map(|(_, c, _)| *c)
}

/// Belfiore of a state given its ISTAT code or its name.
pub fn belfiore_stato(codice_istat: Option<&str>, nome: Option<&str>) -> Option<String> {
    if let Some(c) = codice_istat
        && let Some((b, _, _)) = STATI.iter().find(|(_, i, _)| *i == c)
    {
        return Some((*b).to_owned());
    }
    let nome = nome?.trim();
    luoghi::stati_esteri()
        .iter()
        .find(|s| s.nome.eq_ignore_ascii_case(nome))
        .map(|s| s.belfiore.to_owned())
}

/// Belfiore of a comune given its ISTAT code, or its name and (optionally) its sigla.
pub fn belfiore_comune(
    istat: Option<&str>,
    nome: Option<&str>,
    sigla: Option<&str>,
) -> Option<String> {
    if let Some(c) = istat.and_then(luoghi::comune_per_istat) {
        return Some(c.belfiore.to_owned());
    }
    let candidati = luoghi::comuni_per_nome(nome?);
    let scelto = candidati
        .iter()
        .find(|c| sigla.is_none_or(|s| c.sigla_provincia.eq_ignore_ascii_case(s)))?;
    Some(scelto.belfiore.to_owned())
}

/// A resolved residence comune: (Belfiore, ISTAT, name, sigla, CAP).
pub type ComuneResidenza = (String, String, String, String, String);

pub static RESIDENZE: LazyLock<Vec<ComuneResidenza>> = LazyLock::new(|| {
    COMUNI_RESIDENZA
        .iter()
        .filter_map(|(b, cap)| {
            let c = luoghi::comune_per_belfiore(b)?;
            Some((
                c.belfiore.to_owned(),
                c.codice_istat?.to_owned(),
                c.nome.to_uppercase(),
                c.sigla_provincia.to_owned(),
                (*cap).to_owned(),
            ))
        })
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutti_i_luoghi_usati_esistono_nelle_tabelle() {
        for b in COMUNI_NASCITA.iter().chain(STATI_NASCITA) {
            assert!(nascita_da_belfiore(b).is_some(), "{b} sconosciuto");
        }
        assert_eq!(RESIDENZE.len(), COMUNI_RESIDENZA.len());
        for (b, _, _) in STATI {
            assert!(luoghi::stato_per_belfiore(b).is_some(), "{b} sconosciuto");
            let consolato = codice_consolato(codice_stato(b).unwrap());
            assert!(consolato.len() <= 7 && consolato.bytes().all(|c| c.is_ascii_digit()));
        }
        for (_, _, nome, sigla, _) in RESIDENZE.iter() {
            assert!(
                questura(sigla).is_some(),
                "nessuna questura per {nome} ({sigla})"
            );
        }
        // Each questura is the capital of its province, a real comune with that sigla.
        for (sigla, nome) in QUESTURE {
            assert!(
                luoghi::comuni_per_nome(nome)
                    .iter()
                    .any(|c| c.sigla_provincia == *sigla),
                "{nome} ({sigla})"
            );
        }
    }

    #[test]
    fn roma_e_roma() {
        let LuogoNascita::Comune {
            istat, nome, sigla, ..
        } = nascita_da_belfiore("H501").unwrap()
        else {
            panic!("H501 è un comune");
        };
        assert_eq!(
            (istat.as_str(), nome.as_str(), sigla.as_str()),
            ("058091", "ROMA", "RM")
        );
        assert_eq!(
            belfiore_comune(None, Some("Roma"), Some("RM")).as_deref(),
            Some("H501")
        );
        assert_eq!(
            belfiore_comune(Some("063049"), None, None).as_deref(),
            Some("F839")
        );
        assert_eq!(belfiore_stato(None, Some("india")).as_deref(), Some("Z222"));
    }
}

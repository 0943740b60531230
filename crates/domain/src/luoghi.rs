//! Tables of places: the current comuni (ISTAT), the historical comuni and the foreign states,
//! with their Belfiore (cadastral) codes. Sources and licences: `crates/domain/data/README.md`.
//!
//! The tables are embedded in the binary and parsed once, on first use.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::testo::chiave_nome;

const COMUNI_ATTUALI: &str = include_str!("../data/comuni-attuali.tsv");
const COMUNI_STORICI: &str = include_str!("../data/comuni-storici.tsv");
const STATI_ESTERI: &str = include_str!("../data/stati-esteri.tsv");

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comune {
    /// The 6-digit ISTAT code (`058091` for Roma). `None` for a comune that no longer exists.
    pub codice_istat: Option<&'static str>,
    /// The cadastral code used in the codice fiscale (`H501`).
    pub belfiore: &'static str,
    /// The Italian name, as ISTAT writes it.
    pub nome: &'static str,
    /// The name in the other official language (`Bozen`), where there is one.
    pub nome_altra_lingua: Option<&'static str>,
    /// The province's sigla (`RM`); for historical comuni, as of their suppression.
    pub sigla_provincia: &'static str,
    /// True when the comune is in the current ISTAT list.
    pub attuale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatoEstero {
    /// The `Z` code used in the codice fiscale of people born there (`Z509`).
    pub belfiore: &'static str,
    pub nome: &'static str,
    /// ISTAT's 3-digit state code, when the source has it (the current source does not).
    pub codice_istat: Option<&'static str>,
    /// False for states that no longer exist (`Cecoslovacchia`): people born there keep the code.
    pub attuale: bool,
}

struct Tabelle {
    attuali: Vec<Comune>,
    storici: Vec<Comune>,
    stati: Vec<StatoEstero>,
    /// Belfiore code → index in `attuali`.
    per_belfiore: HashMap<&'static str, usize>,
    /// Belfiore code → index in `storici`.
    storici_per_belfiore: HashMap<&'static str, usize>,
    per_istat: HashMap<&'static str, usize>,
    /// Normalised name (either language) → indexes in `attuali`.
    per_nome: HashMap<String, Vec<usize>>,
    stati_per_belfiore: HashMap<&'static str, usize>,
}

static TABELLE: LazyLock<Tabelle> = LazyLock::new(Tabelle::carica);

fn opzionale(s: &'static str) -> Option<&'static str> {
    (!s.is_empty()).then_some(s)
}

/// The fields of each non-empty line. The files are written by our conversion script, so a
/// malformed line is a build defect: the unit tests load every table.
fn righe(testo: &'static str, campi: usize) -> impl Iterator<Item = Vec<&'static str>> {
    testo.lines().filter(|l| !l.is_empty()).map(move |l| {
        let v: Vec<&'static str> = l.split('\t').collect();
        assert_eq!(
            v.len(),
            campi,
            "riga malformata nella tabella dei luoghi: {l:?}"
        );
        v
    })
}

impl Tabelle {
    fn carica() -> Tabelle {
        let attuali: Vec<Comune> = righe(COMUNI_ATTUALI, 5)
            .map(|c| Comune {
                codice_istat: Some(c[0]),
                belfiore: c[1],
                nome: c[2],
                sigla_provincia: c[3],
                nome_altra_lingua: opzionale(c[4]),
                attuale: true,
            })
            .collect();
        let storici: Vec<Comune> = righe(COMUNI_STORICI, 3)
            .map(|c| Comune {
                codice_istat: None,
                belfiore: c[0],
                nome: c[1],
                sigla_provincia: c[2],
                nome_altra_lingua: None,
                attuale: false,
            })
            .collect();
        let stati: Vec<StatoEstero> = righe(STATI_ESTERI, 4)
            .map(|s| StatoEstero {
                belfiore: s[0],
                nome: s[1],
                codice_istat: opzionale(s[2]),
                attuale: s[3] == "1",
            })
            .collect();
        let mut per_nome: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in attuali.iter().enumerate() {
            for nome in std::iter::once(c.nome).chain(c.nome_altra_lingua) {
                let voce = per_nome.entry(chiave_nome(nome)).or_default();
                if !voce.contains(&i) {
                    voce.push(i);
                }
            }
        }
        Tabelle {
            per_belfiore: indice(&attuali, |c| c.belfiore),
            storici_per_belfiore: indice(&storici, |c| c.belfiore),
            per_istat: indice(&attuali, |c| c.codice_istat.unwrap_or_default()),
            stati_per_belfiore: indice(&stati, |s| s.belfiore),
            per_nome,
            attuali,
            storici,
            stati,
        }
    }
}

fn indice<T>(v: &[T], chiave: impl Fn(&T) -> &'static str) -> HashMap<&'static str, usize> {
    v.iter().enumerate().map(|(i, t)| (chiave(t), i)).collect()
}

/// The comune with this Belfiore code: the current one when the code is in use, otherwise the
/// last comune that had it.
pub fn comune_per_belfiore(codice: &str) -> Option<&'static Comune> {
    let t = &*TABELLE;
    let codice = codice.trim().to_ascii_uppercase();
    t.per_belfiore
        .get(codice.as_str())
        .map(|&i| &t.attuali[i])
        .or_else(|| {
            t.storici_per_belfiore
                .get(codice.as_str())
                .map(|&i| &t.storici[i])
        })
}

/// The current comune with this 6-digit ISTAT code.
pub fn comune_per_istat(codice: &str) -> Option<&'static Comune> {
    let t = &*TABELLE;
    t.per_istat.get(codice.trim()).map(|&i| &t.attuali[i])
}

/// The current comuni with this name, in Italian or in the other official language, ignoring
/// case, accents and punctuation (`Agliè` = `aglie`). A name may end with the province's sigla
/// in brackets (`Castro (BG)`) to choose among homonyms. More than one result means the name is
/// ambiguous: the caller must say so, not pick one.
pub fn comuni_per_nome(nome: &str) -> Vec<&'static Comune> {
    let t = &*TABELLE;
    let (nome, sigla) = separa_sigla(nome);
    t.per_nome
        .get(&chiave_nome(nome))
        .into_iter()
        .flatten()
        .map(|&i| &t.attuali[i])
        .filter(|c| sigla.as_deref().is_none_or(|s| c.sigla_provincia == s))
        .collect()
}

/// Splits `Castro (BG)` into the name and the upper-cased sigla.
fn separa_sigla(nome: &str) -> (&str, Option<String>) {
    let nome = nome.trim();
    if let Some(resto) = nome.strip_suffix(')')
        && let Some((prima, sigla)) = resto.rsplit_once('(')
    {
        let sigla = sigla.trim();
        if sigla.len() == 2 && sigla.chars().all(|c| c.is_ascii_alphabetic()) {
            return (prima, Some(sigla.to_ascii_uppercase()));
        }
    }
    (nome, None)
}

/// The foreign state with this `Z` code, current or former.
pub fn stato_per_belfiore(codice: &str) -> Option<&'static StatoEstero> {
    let t = &*TABELLE;
    let codice = codice.trim().to_ascii_uppercase();
    t.stati_per_belfiore
        .get(codice.as_str())
        .map(|&i| &t.stati[i])
}

/// True when the code names a comune (current or historical) or a foreign state.
pub fn belfiore_noto(codice: &str) -> bool {
    comune_per_belfiore(codice).is_some() || stato_per_belfiore(codice).is_some()
}

/// The comuni in the current ISTAT list, ordered by ISTAT code.
pub fn comuni_attuali() -> &'static [Comune] {
    &TABELLE.attuali
}

/// The comuni that no longer exist, one per Belfiore code not in use today, ordered by code.
pub fn comuni_storici() -> &'static [Comune] {
    &TABELLE.storici
}

/// Every foreign state with a Belfiore code, current and former, ordered by code.
pub fn stati_esteri() -> &'static [StatoEstero] {
    &TABELLE.stati
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_with_plausible_sizes() {
        // ISTAT's list had 7,896 comuni at the end of 2024.
        assert_eq!(comuni_attuali().len(), 7896);
        assert!(comuni_storici().len() > 1000);
        assert!(stati_esteri().len() > 200);
        assert!(comuni_attuali().iter().all(|c| c.belfiore.len() == 4
            && c.codice_istat.is_some_and(|i| i.len() == 6)
            && c.sigla_provincia.len() == 2));
        assert!(stati_esteri().iter().all(|s| s.belfiore.starts_with('Z')));
        // Every code can stand in a codice fiscale: a letter and three digits (the source once
        // had "ND" for Senale).
        let formato = |b: &str| {
            let b = b.as_bytes();
            b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
        };
        for c in comuni_attuali().iter().chain(comuni_storici()) {
            assert!(formato(c.belfiore), "{}: {:?}", c.nome, c.belfiore);
        }
        assert!(stati_esteri().iter().all(|s| formato(s.belfiore)));
    }

    #[test]
    fn lookups_by_code() {
        let roma = comune_per_belfiore("h501").unwrap();
        assert_eq!(
            (
                roma.nome,
                roma.codice_istat,
                roma.sigla_provincia,
                roma.attuale
            ),
            ("Roma", Some("058091"), "RM", true)
        );
        assert_eq!(comune_per_istat("063049").unwrap().nome, "Napoli");
        assert_eq!(comune_per_istat("063049").unwrap().belfiore, "F839");
        assert_eq!(
            comune_per_belfiore("A562").unwrap().nome,
            "San Giuliano Terme"
        );
        assert_eq!(stato_per_belfiore("Z509").unwrap().nome, "Guatemala");
        assert_eq!(stato_per_belfiore("Z329").unwrap().nome, "Mali");
        assert!(comune_per_belfiore("Z509").is_none());
        assert!(stato_per_belfiore("H501").is_none());
    }

    #[test]
    fn historical_comuni_and_states_are_known() {
        // Abbadia Alpina (TO) was merged into Pinerolo in 1928.
        let storico = comune_per_belfiore("A003").unwrap();
        assert_eq!((storico.nome, storico.attuale), ("Abbadia Alpina", false));
        assert_eq!(storico.codice_istat, None);
        let cecoslovacchia = stato_per_belfiore("Z105").unwrap();
        assert_eq!(cecoslovacchia.nome, "Cecoslovacchia");
        assert!(!cecoslovacchia.attuale);
        assert!(belfiore_noto("A003"));
        assert!(belfiore_noto("Z105"));
        assert!(!belfiore_noto("Z999"));
        assert!(!belfiore_noto("H50"));
    }

    #[test]
    fn names_ignore_case_accents_and_other_language() {
        let aglie = comuni_per_nome("AGLIE'");
        assert_eq!(aglie.len(), 1);
        assert_eq!(aglie[0].nome, "Agliè");
        assert_eq!(comuni_per_nome("bozen")[0].nome, "Bolzano");
        assert_eq!(comuni_per_nome("Bolzano").len(), 1);
        assert!(comuni_per_nome("Atlantide").is_empty());
    }

    #[test]
    fn homonyms_are_ambiguous_unless_the_sigla_says() {
        // Castro exists in the provinces of Bergamo and Lecce.
        let castro = comuni_per_nome("Castro");
        let mut sigle: Vec<_> = castro.iter().map(|c| c.sigla_provincia).collect();
        sigle.sort_unstable();
        assert_eq!(sigle, ["BG", "LE"]);
        let bg = comuni_per_nome("castro (bg)");
        assert_eq!(bg.len(), 1);
        assert_eq!(bg[0].sigla_provincia, "BG");
        assert!(comuni_per_nome("Castro (RM)").is_empty());
    }
}

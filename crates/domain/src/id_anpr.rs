//! The ID ANPR (identificativo unico nazionale), the key ANPR wants for every consultation
//! since 2024.
//!
//! Only the format is checked: 2 letters, 5 digits, 2 letters or digits (`AF41450AS`,
//! `RE03592S1`). No check-character rule has been published, and a guessed one would reject real
//! people.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::testo::mostra;

const LUNGHEZZA: usize = 9;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreIdAnpr {
    #[error("ID ANPR vuoto")]
    Vuoto,
    #[error(
        "lunghezza errata: {trovati} caratteri, attesi 9 per l'ID ANPR (2 lettere, 5 cifre, 2 lettere o cifre)"
    )]
    Lunghezza { trovati: usize },
    #[error("carattere non ammesso in posizione {posizione} dell'ID ANPR: '{}' (atteso {atteso})", mostra(*.trovato))]
    CarattereNonAmmesso {
        posizione: usize,
        trovato: char,
        atteso: &'static str,
    },
}

/// An ID ANPR, trimmed and upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdAnpr(String);

impl IdAnpr {
    pub fn parse(s: &str) -> Result<IdAnpr, ErroreIdAnpr> {
        let id: String = s.trim().chars().flat_map(char::to_uppercase).collect();
        match id.chars().count() {
            0 => return Err(ErroreIdAnpr::Vuoto),
            LUNGHEZZA => {}
            trovati => return Err(ErroreIdAnpr::Lunghezza { trovati }),
        }
        for (i, c) in id.chars().enumerate() {
            let (ammesso, atteso) = match i {
                0..=1 => (c.is_ascii_uppercase(), "una lettera"),
                2..=6 => (c.is_ascii_digit(), "una cifra"),
                _ => (
                    c.is_ascii_uppercase() || c.is_ascii_digit(),
                    "una lettera o una cifra",
                ),
            };
            if !ammesso {
                return Err(ErroreIdAnpr::CarattereNonAmmesso {
                    posizione: i + 1,
                    trovato: c,
                    atteso,
                });
            }
        }
        Ok(IdAnpr(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the value also fits the CIE number format (2 letters, 5 digits, 2 letters): in
    /// a list without a `tipo` column such a value is ambiguous (DESIGN §5).
    pub fn ha_formato_cie(&self) -> bool {
        self.0.as_bytes()[7..].iter().all(u8::is_ascii_uppercase)
    }
}

impl fmt::Display for IdAnpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for IdAnpr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for IdAnpr {
    type Err = ErroreIdAnpr;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdAnpr::parse(s)
    }
}

impl Serialize for IdAnpr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdAnpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IdAnpr::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_ids_parse() {
        // NOTES §2.7: ids of the ANPR "casi di test" subjects.
        for id in [
            "UK79569LF",
            "JF28000UG",
            "AF41450AS",
            "RE03592S1",
            "DU58740Y1",
            "TU31249ZV",
        ] {
            assert_eq!(IdAnpr::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn trims_and_upper_cases() {
        assert_eq!(
            IdAnpr::parse("  af41450as\t").unwrap().as_str(),
            "AF41450AS"
        );
    }

    #[test]
    fn rejects_each_broken_part_with_its_position() {
        assert_eq!(IdAnpr::parse("   "), Err(ErroreIdAnpr::Vuoto));
        assert_eq!(
            IdAnpr::parse("AF41450A").unwrap_err().to_string(),
            "lunghezza errata: 8 caratteri, attesi 9 per l'ID ANPR (2 lettere, 5 cifre, 2 lettere o cifre)"
        );
        assert_eq!(
            IdAnpr::parse("A141450AS").unwrap_err().to_string(),
            "carattere non ammesso in posizione 2 dell'ID ANPR: '1' (atteso una lettera)"
        );
        assert_eq!(
            IdAnpr::parse("AF4145OAS").unwrap_err().to_string(),
            "carattere non ammesso in posizione 7 dell'ID ANPR: 'O' (atteso una cifra)"
        );
        assert_eq!(
            IdAnpr::parse("AF41450A-").unwrap_err().to_string(),
            "carattere non ammesso in posizione 9 dell'ID ANPR: '-' (atteso una lettera o una cifra)"
        );
        // An internal space is not trimmed away: it is a wrong character.
        assert_eq!(
            IdAnpr::parse("AF 41450A"),
            Err(ErroreIdAnpr::CarattereNonAmmesso {
                posizione: 3,
                trovato: ' ',
                atteso: "una cifra"
            })
        );
    }

    #[test]
    fn no_check_character_rule_is_applied() {
        // Any suffix of the right shape is accepted: no rule has been published.
        for id in ["AF41450AA", "AF41450ZZ", "AF4145099", "ZZ00000A0"] {
            assert!(IdAnpr::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn cie_lookalikes_are_flagged() {
        assert!(IdAnpr::parse("CA00000AA").unwrap().ha_formato_cie());
        assert!(!IdAnpr::parse("RE03592S1").unwrap().ha_formato_cie());
        assert!(!IdAnpr::parse("DU58740Y1").unwrap().ha_formato_cie());
    }
}

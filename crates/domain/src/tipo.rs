//! The kind of identifier an input row carries (DESIGN §5).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TipoIdentificativo {
    /// Codice fiscale (16 characters, or the 11-digit temporary code).
    Cf,
    IdAnpr,
    /// Carta d'identità, electronic or paper.
    Ci,
    /// Permesso di soggiorno (questura and number).
    Pds,
    Pass,
}

impl TipoIdentificativo {
    pub const ALL: [TipoIdentificativo; 5] = [
        TipoIdentificativo::Cf,
        TipoIdentificativo::IdAnpr,
        TipoIdentificativo::Ci,
        TipoIdentificativo::Pds,
        TipoIdentificativo::Pass,
    ];

    /// The code used in the `tipo` column of input and output files.
    pub fn as_str(self) -> &'static str {
        match self {
            TipoIdentificativo::Cf => "CF",
            TipoIdentificativo::IdAnpr => "IDANPR",
            TipoIdentificativo::Ci => "CI",
            TipoIdentificativo::Pds => "PDS",
            TipoIdentificativo::Pass => "PASS",
        }
    }

    /// Reads a `tipo` cell or a single-column header, aliases included, case-insensitively.
    pub fn parse(s: &str) -> Option<TipoIdentificativo> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CF" => Some(TipoIdentificativo::Cf),
            "IDANPR" | "ID_ANPR" => Some(TipoIdentificativo::IdAnpr),
            "CI" | "CIE" => Some(TipoIdentificativo::Ci),
            "PDS" | "PERMESSO" => Some(TipoIdentificativo::Pds),
            "PASS" | "PASSAPORTO" => Some(TipoIdentificativo::Pass),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_from_design() {
        assert_eq!(
            TipoIdentificativo::parse("id_anpr"),
            Some(TipoIdentificativo::IdAnpr)
        );
        assert_eq!(
            TipoIdentificativo::parse("Cie"),
            Some(TipoIdentificativo::Ci)
        );
        assert_eq!(
            TipoIdentificativo::parse("permesso"),
            Some(TipoIdentificativo::Pds)
        );
        assert_eq!(
            TipoIdentificativo::parse("PASSAPORTO"),
            Some(TipoIdentificativo::Pass)
        );
        assert_eq!(TipoIdentificativo::parse("codice"), None);
        for t in TipoIdentificativo::ALL {
            assert_eq!(TipoIdentificativo::parse(t.as_str()), Some(t));
        }
    }
}

//! Per-row outcomes (DESIGN §3).

use serde::{Deserialize, Serialize};

/// The outcome of one input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Esito {
    Trovato,
    NonTrovato,
    FuoriAmbito,
    Ambiguo,
    NonValido,
    NonSupportato,
    Errore,
    NonElaborato,
}

impl Esito {
    pub const ALL: [Esito; 8] = [
        Esito::Trovato,
        Esito::NonTrovato,
        Esito::FuoriAmbito,
        Esito::Ambiguo,
        Esito::NonValido,
        Esito::NonSupportato,
        Esito::Errore,
        Esito::NonElaborato,
    ];

    /// The code written in result files and stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Esito::Trovato => "TROVATO",
            Esito::NonTrovato => "NON_TROVATO",
            Esito::FuoriAmbito => "FUORI_AMBITO",
            Esito::Ambiguo => "AMBIGUO",
            Esito::NonValido => "NON_VALIDO",
            Esito::NonSupportato => "NON_SUPPORTATO",
            Esito::Errore => "ERRORE",
            Esito::NonElaborato => "NON_ELABORATO",
        }
    }

    pub fn parse(s: &str) -> Option<Esito> {
        Esito::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl std::fmt::Display for Esito {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for e in Esito::ALL {
            assert_eq!(Esito::parse(e.as_str()), Some(e));
        }
        assert_eq!(Esito::FuoriAmbito.as_str(), "FUORI_AMBITO");
        assert_eq!(Esito::parse("trovato"), None);
    }
}

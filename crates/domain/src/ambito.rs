//! Territorial scope of a convention or profile (DESIGN §4).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ambito {
    /// Residents of the convention's Comune.
    Comune,
    /// Residents of any Comune the Ente has a convention with.
    ComuniConvenzionati,
    /// Anyone registered in ANPR.
    Italia,
}

impl Ambito {
    /// A restricted scope needs the residence to decide FUORI_AMBITO.
    pub fn is_restricted(self) -> bool {
        !matches!(self, Ambito::Italia)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ambito::Comune => "COMUNE",
            Ambito::ComuniConvenzionati => "COMUNI_CONVENZIONATI",
            Ambito::Italia => "ITALIA",
        }
    }
}

//! Groups of output fields, the unit the ANPR call planner works with (DESIGN §4).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GruppoCampi {
    IdAnpr,
    /// CF, cognome, nome, sesso, nascita, AIRE.
    Generalita,
    StatoCivile,
    Residenza,
    Cittadinanza,
    DataDecesso,
    EsistenzaInVita,
    /// Family members and their relationship (C021).
    Famiglia,
    DomicilioDigitale,
    Matrimonio,
    /// Carta d'identità and permesso di soggiorno: only the Comune channel (3002) has them.
    Documenti,
}

impl GruppoCampi {
    pub const ALL: [GruppoCampi; 11] = [
        GruppoCampi::IdAnpr,
        GruppoCampi::Generalita,
        GruppoCampi::StatoCivile,
        GruppoCampi::Residenza,
        GruppoCampi::Cittadinanza,
        GruppoCampi::DataDecesso,
        GruppoCampi::EsistenzaInVita,
        GruppoCampi::Famiglia,
        GruppoCampi::DomicilioDigitale,
        GruppoCampi::Matrimonio,
        GruppoCampi::Documenti,
    ];
}
